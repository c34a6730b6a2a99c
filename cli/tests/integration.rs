//! The `searchd` binary end to end: indexing and evaluation from the command line, serving,
//! Kafka ingest and publishing against a real broker, crawling generated shops, model rollback.

mod cli;
mod crawl;
mod kafka;
mod models;
mod restart;
