//! The producer side of the topic contract: a file's rows as catalog events on a Kafka topic
//! (`searchd publish`, `searchd crawl --publish kafka`, loading, tests).
//!
//! Product or vendor rows (CSV or JSONL, through the same field map as `searchd index`) become
//! upserts keyed by id; rows without a version get the publish's start time in milliseconds, so
//! a later publish of the same file supersedes this one. `events` files are JSONL catalog or
//! vendor events sent line by line as they are — valid or not, which is how the dead-letter
//! path is exercised — keyed by the id they name when one can be read.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use searchd_catalog::{CatalogEvent, VendorEvent};
use searchd_indexer::{FieldMap, InputFormat, RowError, Rows, decompressed};
use serde::Serialize;

use crate::KafkaConfig;

/// What the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishKind {
    /// Product rows, sent as upserts keyed by id.
    Products,
    /// Vendor rows, sent as upserts keyed by id.
    Vendors,
    /// JSONL events, sent verbatim.
    Events,
}

#[derive(Debug, Clone)]
/// What [`publish`] sends where.
pub struct PublishOptions {
    /// The topic (created when missing).
    pub topic: String,
    /// What the file holds.
    pub kind: PublishKind,
    /// How product and vendor rows are written.
    pub format: InputFormat,
    /// Which columns fill which fields.
    pub map: FieldMap,
    /// Partitions of the topic when it does not exist yet (it is created).
    pub partitions: i32,
    /// Producer settings on top of `[kafka]`'s (`-X key=value`).
    pub properties: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, Serialize)]
/// What [`publish`] did.
pub struct PublishSummary {
    /// Rows read.
    pub rows: u64,
    /// Messages handed to the producer.
    pub sent: u64,
    /// Messages the broker acknowledged.
    pub delivered: u64,
    /// Messages that could not be delivered.
    pub failed: u64,
    /// Rows not sent because they cannot be read as documents (products and vendors only).
    pub skipped: u64,
    /// The first unreadable rows, with line numbers.
    pub errors: Vec<RowError>,
    /// Wall time, delivery included.
    pub seconds: f64,
    /// `delivered / seconds`.
    pub events_per_second: f64,
}

#[derive(Default)]
struct Deliveries {
    delivered: AtomicU64,
    failed: AtomicU64,
}

struct Context(Arc<Deliveries>);

impl ClientContext for Context {}

impl ProducerContext for Context {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.0.delivered.fetch_add(1, Ordering::Relaxed),
            Err((e, _)) => {
                tracing::warn!(error = %e, "delivery failed");
                self.0.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// A producer of catalog events onto one topic (created when missing), counting deliveries.
pub struct EventProducer {
    producer: BaseProducer<Context>,
    deliveries: Arc<Deliveries>,
    topic: String,
    sent: u64,
}

impl std::fmt::Debug for EventProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventProducer").field("topic", &self.topic).field("sent", &self.sent).finish()
    }
}

/// What an [`EventProducer`] got delivered.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivered {
    /// Messages handed to the producer.
    pub sent: u64,
    /// Messages the broker acknowledged.
    pub delivered: u64,
    /// Messages that could not be delivered.
    pub failed: u64,
}

impl EventProducer {
    /// Creates `topic` with `partitions` when it does not exist, then the producer (`[kafka]`'s
    /// settings, then `properties`). Call it outside any Tokio runtime.
    pub fn new(
        kafka: &KafkaConfig,
        topic: &str,
        partitions: i32,
        properties: &[(String, String)],
    ) -> anyhow::Result<Self> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(crate::ensure_topics(kafka, &[topic.to_string()], partitions))
            .with_context(|| format!("cannot create the topic {topic}"))?;
        let deliveries = Arc::new(Deliveries::default());
        let mut client = kafka.client_config(&[]);
        for (k, v) in properties {
            client.set(k, v);
        }
        let producer: BaseProducer<Context> =
            client.create_with_context(Context(deliveries.clone())).context("cannot create the Kafka producer")?;
        Ok(Self { producer, deliveries, topic: topic.to_string(), sent: 0 })
    }

    /// The topic it produces to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Queues one message, waiting while the producer's queue is full.
    pub fn send(&mut self, key: Option<&str>, value: &str) -> anyhow::Result<()> {
        let mut record: BaseRecord<'_, str, str> = BaseRecord::to(&self.topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.producer.poll(Duration::from_millis(50));
                }
                Err((e, _)) => return Err(e).context("cannot send"),
            }
        }
        self.producer.poll(Duration::ZERO);
        self.sent += 1;
        Ok(())
    }

    /// Waits (up to 120 s) until every message is delivered or failed.
    pub fn finish(self) -> anyhow::Result<Delivered> {
        self.producer.flush(Duration::from_secs(120)).context("not every message was delivered within 120 s")?;
        Ok(Delivered {
            sent: self.sent,
            delivered: self.deliveries.delivered.load(Ordering::Relaxed),
            failed: self.deliveries.failed.load(Ordering::Relaxed),
        })
    }
}

/// Sends every row of `input`, waits for every delivery and reports.
pub fn publish(kafka: &KafkaConfig, input: &Path, options: &PublishOptions) -> anyhow::Result<PublishSummary> {
    let started = Instant::now();
    let mut producer = EventProducer::new(kafka, &options.topic, options.partitions, &options.properties)?;
    let file = std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut summary = PublishSummary::default();
    let version = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 / 1_000_000;
    match options.kind {
        PublishKind::Events => {
            for line in BufReader::new(decompressed(file)?).lines() {
                let line = line?;
                summary.rows += 1;
                if line.trim().is_empty() {
                    continue;
                }
                producer.send(event_key(&line).as_deref(), &line)?;
            }
        }
        PublishKind::Products | PublishKind::Vendors => {
            let mut on_rows = |rows: Rows<(String, String)>| -> searchd_indexer::Result<()> {
                for (line, row) in rows {
                    summary.rows += 1;
                    match row {
                        Ok((key, value)) => producer
                            .send(Some(&key), &value)
                            .map_err(|e| searchd_indexer::Error::Input(format!("{e:#}")))?,
                        Err(reason) => {
                            summary.skipped += 1;
                            if summary.errors.len() < 50 {
                                summary.errors.push(RowError { line, reason });
                            }
                        }
                    }
                }
                Ok(())
            };
            read_events(file, options, version, &mut on_rows)?;
        }
    }
    let delivered = producer.finish()?;
    summary.sent = delivered.sent;
    summary.delivered = delivered.delivered;
    summary.failed = delivered.failed;
    summary.seconds = started.elapsed().as_secs_f64();
    summary.events_per_second = summary.delivered as f64 / summary.seconds.max(1e-9);
    Ok(summary)
}

/// Rows as upsert events: (id, JSON text), versioned `version` when they carry none.
fn read_events(
    input: impl Read + Send,
    options: &PublishOptions,
    version: u64,
    on_rows: &mut dyn FnMut(Rows<(String, String)>) -> searchd_indexer::Result<()>,
) -> searchd_indexer::Result<u64> {
    let (format, map) = (options.format, &options.map);
    if options.kind == PublishKind::Vendors {
        searchd_indexer::read_vendors(input, format, map, &mut |rows| {
            on_rows(encode(rows, |mut vendor| {
                vendor.version = if vendor.version == 0 { version } else { vendor.version };
                (vendor.id.clone(), serde_json::to_string(&VendorEvent::Upsert { vendor }))
            }))
        })
    } else {
        searchd_indexer::read_products(input, format, map, &mut |rows| {
            on_rows(encode(rows, |mut product| {
                product.version = if product.version == 0 { version } else { product.version };
                (product.id.clone(), serde_json::to_string(&CatalogEvent::Upsert { product }))
            }))
        })
    }
}

/// Each readable row as its event's key and JSON text.
fn encode<T>(rows: Rows<T>, event: impl Fn(T) -> (String, serde_json::Result<String>)) -> Rows<(String, String)> {
    rows.into_iter()
        .map(|(line, row)| {
            let row = row.and_then(|doc| {
                let (key, json) = event(doc);
                json.map(|json| (key, json)).map_err(|e| format!("cannot encode: {e}"))
            });
            (line, row)
        })
        .collect()
}

/// The id an event names (`product.id`, `vendor.id`, `offer.id` or `id`), when the line is JSON.
fn event_key(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let id = value
        .pointer("/product/id")
        .or_else(|| value.pointer("/vendor/id"))
        .or_else(|| value.pointer("/offer/id"))
        .or_else(|| value.get("id"))?;
    id.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_event() {
        assert_eq!(event_key(r#"{"op":"upsert","product":{"id":"p1","title":"x"}}"#).as_deref(), Some("p1"));
        assert_eq!(event_key(r#"{"op":"upsert","vendor":{"id":"v1"}}"#).as_deref(), Some("v1"));
        assert_eq!(event_key(r#"{"op":"upsert","offer":{"id":"o1"}}"#).as_deref(), Some("o1"));
        assert_eq!(event_key(r#"{"op":"delete","id":"p2","version":3}"#).as_deref(), Some("p2"));
        assert_eq!(event_key("{broken"), None);
        assert_eq!(event_key(r#"{"op":"delete","id":7}"#), None);
    }
}
