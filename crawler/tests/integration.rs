//! Crawler tests against generated shops on loopback HTTP servers (see `searchd_testkit::shop`).

mod crawl;
mod retention;
