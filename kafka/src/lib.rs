//! The Kafka topic contract of `searchd`, in one place: the `[kafka]` settings, the consumer
//! that indexes catalog events (commit after the durable index commit, dead letters), and the
//! producer that `searchd publish` and `searchd crawl` write with.
//!
//! Messages are JSON [`CatalogEvent`](searchd_catalog::CatalogEvent)s on product topics and
//! [`VendorEvent`](searchd_catalog::VendorEvent)s on vendor topics, keyed by id, with a version;
//! what cannot be applied goes to `<topic><dlq_suffix>` with the [`dlq_headers`] saying why.
//!
//! ```
//! use searchd_kafka::KafkaConfig;
//!
//! // Off unless switched on; a node's consumer group is its own unless one is given.
//! assert!(!KafkaConfig::default().enabled);
//! let config = KafkaConfig { enabled: true, group_id: "replica-7".into(), ..KafkaConfig::default() };
//! config.validate().unwrap();
//! assert_eq!(config.group(), "replica-7");
//! ```

#![warn(missing_docs)]

mod config;
mod consumer;
mod parse;
mod producer;

pub use config::{KafkaConfig, StartFrom};
pub use consumer::{Indexes, IngestHandle, IngestStatus, PartitionStatus, dlq_headers, ensure_topics, spawn};
pub use parse::DeadLetter;
pub use producer::{Delivered, EventProducer, PublishKind, PublishOptions, PublishSummary, publish};

/// Errors of the ingester and the producer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `[kafka]` settings are not usable.
    #[error("kafka configuration: {0}")]
    Config(String),
    /// The broker or librdkafka refused or failed.
    #[error("kafka: {0}")]
    Kafka(String),
    /// Writing to the index failed.
    #[error(transparent)]
    Index(#[from] searchd_indexer::Error),
    /// A blocking task of the ingester died.
    #[error("{0}")]
    Task(String),
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
