//! The Kafka ingest source (as Quickwit's): a consumer group member that indexes catalog events.
//!
//! Messages are `CatalogEvent` (product topics), `VendorEvent` (vendor topics) or `OfferEvent`
//! (offer topics) JSON values, keyed by id. The loop applies each message to the writer as it arrives (analysis runs in
//! parallel per chunk), commits the Tantivy index once `batch_size` messages or
//! `commit_interval_ms` have passed, and only then commits the Kafka offsets: at-least-once.
//! A crash between the two replays messages whose versions the index already holds, which
//! change nothing (see `CatalogEvent`). On a rebalance the index is committed and the offsets
//! of revoked partitions are committed before they go to another member.
//!
//! A message that cannot be applied (not JSON, the wrong schema, no id, an invalid document, a
//! key that is not its id, no version, an offer of an unknown product or vendor) goes to `<topic><dlq_suffix>` with headers saying why and
//! where it came from; it is delivered there before its offset is committed, so nothing is
//! lost, and the messages around it are indexed as usual.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::{Offset, TopicPartitionList};
use searchd_catalog::WriteOutcome;
use serde::Serialize;
use time::OffsetDateTime;

use searchd_indexer::{OfferIndex, ProductIndex, RfiIndex, VendorIndex};

use crate::parse::{DeadLetter, Parsed, TopicKind, parse, unknown_reference};
use crate::{Error, KafkaConfig, Result, StartFrom};

/// Messages analyzed together (in parallel) before they are written in order.
const CHUNK: usize = 512;
/// How long a delivery to the dead-letter topic may take before the ingester stops (and
/// leaves the offset uncommitted, so the message comes back after a restart).
const DLQ_TIMEOUT: Duration = Duration::from_secs(30);

/// Header names on dead-letter messages.
pub mod dlq_headers {
    /// Why the message was refused (a code).
    pub const ERROR_CODE: &str = "searchd.error.code";
    /// Why, in words.
    pub const ERROR_REASON: &str = "searchd.error.reason";
    /// The topic it was read from.
    pub const SOURCE_TOPIC: &str = "searchd.source.topic";
    /// The partition it was read from.
    pub const SOURCE_PARTITION: &str = "searchd.source.partition";
    /// Its offset there.
    pub const SOURCE_OFFSET: &str = "searchd.source.offset";
}
/// One partition as `GET /v1/admin/ingest` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionStatus {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The next offset this node will read after a restart (committed to the group).
    pub committed_offset: Option<i64>,
    /// The partition's end, as last seen.
    pub high_watermark: Option<i64>,
    /// `high_watermark - committed_offset`: messages not yet durably indexed.
    pub lag: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    /// This node's last commit of the partition's offset.
    pub last_commit: Option<OffsetDateTime>,
    /// Whether the partition is assigned to this node now.
    pub assigned: bool,
}

/// What the ingester has done since it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestStatus {
    /// `starting`, `running`, `stopped` or `failed`.
    pub state: String,
    /// Why the ingester stopped, when `failed`.
    pub error: Option<String>,
    /// The last error librdkafka reported while consuming (it retries by itself).
    pub last_consume_error: Option<String>,
    /// The consumer group.
    pub group_id: String,
    /// The topics consumed.
    pub topics: Vec<String>,
    /// Each partition seen.
    pub partitions: Vec<PartitionStatus>,
    /// Messages read (each counted once, when it is applied or dead-lettered).
    pub messages: u64,
    /// Messages that changed the index.
    pub applied: u64,
    /// Replays and stale versions: valid, nothing to change.
    pub unchanged: u64,
    /// Messages sent to a dead-letter topic, by reason code.
    pub dead_letters: BTreeMap<String, u64>,
    /// Their sum.
    pub dead_lettered: u64,
    /// Index-then-offsets commits.
    pub commits: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    /// When the last commit happened.
    pub last_commit: Option<OffsetDateTime>,
}

type Partition = (String, i32);

#[derive(Debug, Default)]
struct Shared {
    status: IngestStatus,
    assigned: BTreeSet<Partition>,
    /// Next offset to read, per partition, for messages applied (or dead-lettered) but not yet
    /// committed.
    processed: BTreeMap<Partition, i64>,
    committed: BTreeMap<Partition, (i64, OffsetDateTime)>,
    /// From librdkafka statistics: (high watermark, committed offset as the broker has it).
    watermarks: BTreeMap<Partition, (i64, i64)>,
}

/// A handle on a running ingester: its status.
#[derive(Debug, Clone)]
pub struct IngestHandle {
    shared: Arc<Mutex<Shared>>,
}

impl IngestHandle {
    /// The ingester's status now.
    pub fn status(&self) -> IngestStatus {
        let shared = lock(&self.shared);
        let mut status = shared.status.clone();
        status.dead_lettered = status.dead_letters.values().sum();
        let keys: BTreeSet<&Partition> =
            shared.assigned.iter().chain(shared.committed.keys()).chain(shared.watermarks.keys()).collect();
        status.partitions = keys
            .into_iter()
            .map(|key| {
                let ours = shared.committed.get(key);
                let seen = shared.watermarks.get(key);
                let committed = ours.map(|c| c.0).or(seen.map(|s| s.1).filter(|&c| c >= 0));
                let high = seen.map(|s| s.0).filter(|&h| h >= 0);
                PartitionStatus {
                    topic: key.0.clone(),
                    partition: key.1,
                    committed_offset: committed,
                    high_watermark: high,
                    lag: high.zip(committed).map(|(h, c)| (h - c).max(0)),
                    last_commit: ours.map(|c| c.1),
                    assigned: shared.assigned.contains(key),
                }
            })
            .collect();
        status
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The consumer's context: rebalance and statistics callbacks.
struct Context {
    shared: Arc<Mutex<Shared>>,
    products: Arc<ProductIndex>,
    vendors: Arc<VendorIndex>,
    offers: Arc<OfferIndex>,
    rfis: Arc<RfiIndex>,
}

impl ClientContext for Context {
    fn stats(&self, statistics: Statistics) {
        let mut shared = lock(&self.shared);
        for (name, topic) in statistics.topics {
            for (id, p) in topic.partitions {
                if id >= 0 {
                    shared.watermarks.insert((name.clone(), id), (p.hi_offset, p.committed_offset));
                }
            }
        }
    }
}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked: BTreeSet<Partition> =
                list.elements().iter().map(|e| (e.topic().to_string(), e.partition())).collect();
            // What was applied from these partitions is committed before another member reads them.
            if let Err(e) = commit(self, consumer, Some(&revoked)) {
                tracing::error!(error = %e, "cannot commit revoked partitions; another member will replay them");
            }
            let mut shared = lock(&self.shared);
            shared.assigned.retain(|p| !revoked.contains(p));
            shared.processed.retain(|p, _| !revoked.contains(p));
            tracing::info!(partitions = revoked.len(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            let mut shared = lock(&self.shared);
            for e in list.elements() {
                shared.assigned.insert((e.topic().to_string(), e.partition()));
            }
            tracing::info!(partitions = list.count(), "partitions assigned");
        }
    }
}

/// Commits the indexes (products, vendors, offers, RFIs), then the offsets of what was applied: all
/// assigned partitions, or only `only`. Blocking.
fn commit<C: Consumer<Context>>(ctx: &Context, consumer: &C, only: Option<&BTreeSet<Partition>>) -> Result<()> {
    let offsets: Vec<(Partition, i64)> = {
        let shared = lock(&ctx.shared);
        shared
            .processed
            .iter()
            .filter(|(p, _)| shared.assigned.contains(*p) && only.is_none_or(|o| o.contains(*p)))
            .filter(|(p, next)| shared.committed.get(*p).is_none_or(|c| c.0 < **next))
            .map(|(p, next)| (p.clone(), *next))
            .collect()
    };
    if offsets.is_empty() {
        return Ok(());
    }
    ctx.products.commit()?;
    ctx.vendors.commit()?;
    ctx.offers.commit()?;
    ctx.rfis.commit()?;
    let mut list = TopicPartitionList::new();
    for ((topic, partition), next) in &offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*next)).map_err(kafka_error)?;
    }
    consumer.commit(&list, CommitMode::Sync).map_err(kafka_error)?;
    let now = OffsetDateTime::now_utc();
    let mut shared = lock(&ctx.shared);
    for (p, next) in offsets {
        shared.committed.insert(p, (next, now));
    }
    shared.status.commits += 1;
    shared.status.last_commit = Some(now);
    Ok(())
}

fn kafka_error(e: rdkafka::error::KafkaError) -> Error {
    Error::Kafka(format!("{e}"))
}

/// The indexes the ingester writes, one per kind of topic.
#[derive(Debug, Clone)]
pub struct Indexes {
    /// Written from `product_topics`.
    pub products: Arc<ProductIndex>,
    /// Written from `vendor_topics`.
    pub vendors: Arc<VendorIndex>,
    /// Written from `offer_topics`.
    pub offers: Arc<OfferIndex>,
    /// Written from `rfi_topics`.
    pub rfis: Arc<RfiIndex>,
}

/// Starts the ingester on the current Tokio runtime (multi-threaded): subscribes, creates the
/// dead-letter topics when missing, then consumes until `shutdown` turns true, committing once
/// more before it returns.
pub async fn spawn(
    config: KafkaConfig,
    indexes: Indexes,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(IngestHandle, tokio::task::JoinHandle<Result<()>>)> {
    let Indexes { products, vendors, offers, rfis } = indexes;
    config.validate().map_err(Error::Config)?;
    let shared = Arc::new(Mutex::new(Shared::default()));
    let group = config.group();
    let topics: Vec<String> = config.topics().into_iter().cloned().collect();
    {
        let mut s = lock(&shared);
        s.status.state = "starting".into();
        s.status.group_id = group.clone();
        s.status.topics = topics.clone();
    }
    let instance = config.instance();
    let reset = match config.start_from {
        StartFrom::Earliest => "earliest",
        StartFrom::Latest => "latest",
    };
    let client = config.client_config(&[
        ("group.id", &group),
        ("group.instance.id", &instance),
        ("enable.auto.commit", "false"),
        ("auto.offset.reset", reset),
        ("statistics.interval.ms", "1000"),
        ("fetch.wait.max.ms", "100"),
    ]);
    let context = Context { shared: shared.clone(), products, vendors, offers, rfis };
    let consumer: StreamConsumer<Context> = client.create_with_context(context).map_err(kafka_error)?;
    let producer: FutureProducer = config.client_config(&[("linger.ms", "5")]).create().map_err(kafka_error)?;
    ensure_dead_letter_topics(&config, &topics).await?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&names).map_err(kafka_error)?;
    lock(&shared).status.state = "running".into();
    let handle = IngestHandle { shared: shared.clone() };
    let task = tokio::spawn(async move {
        let consumer = Arc::new(consumer);
        let result = Loop { config, consumer: consumer.clone(), producer, shutdown }.run().await;
        let mut s = lock(&shared);
        match &result {
            Ok(()) => s.status.state = "stopped".into(),
            Err(e) => {
                tracing::error!(error = %e, "kafka ingester stopped");
                s.status.state = "failed".into();
                s.status.error = Some(e.to_string());
            }
        }
        result
    });
    Ok((handle, task))
}

/// Creates `<topic><suffix>` for every topic that has none yet (one partition).
async fn ensure_dead_letter_topics(config: &KafkaConfig, topics: &[String]) -> Result<()> {
    let names: Vec<String> = topics.iter().map(|t| format!("{t}{}", config.dlq_suffix)).collect();
    ensure_topics(config, &names, 1).await
}

/// Creates the topics that do not exist yet, with `partitions` partitions each (replication 1
/// when the broker decides nothing else).
pub async fn ensure_topics(config: &KafkaConfig, names: &[String], partitions: i32) -> Result<()> {
    let admin: AdminClient<_> = config.client_config(&[]).create().map_err(kafka_error)?;
    let new: Vec<NewTopic<'_>> =
        names.iter().map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&new, &options).await.map_err(kafka_error)? {
        match result {
            Ok(name) => tracing::info!(topic = %name, partitions, "topic created"),
            Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(Error::Kafka(format!("cannot create topic {name}: {code}"))),
        }
    }
    Ok(())
}

struct Loop {
    config: KafkaConfig,
    consumer: Arc<StreamConsumer<Context>>,
    producer: FutureProducer,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

impl Loop {
    async fn run(mut self) -> Result<()> {
        let interval = Duration::from_millis(self.config.commit_interval_ms);
        let mut last_commit = Instant::now();
        let mut uncommitted = 0usize;
        loop {
            let mut chunk = Vec::new();
            // Wait for a message at most until the pending commit is due.
            let wait = if uncommitted > 0 { interval.saturating_sub(last_commit.elapsed()) } else { interval };
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => break,
                received = tokio::time::timeout(wait.max(Duration::from_millis(1)), self.consumer.recv()) => {
                    match received {
                        Ok(Ok(m)) => chunk.push(m.detach()),
                        Ok(Err(e)) => {
                            // Broker or transport trouble: librdkafka retries by itself; do not spin.
                            tracing::warn!(error = %e, "kafka consume error");
                            lock(&self.consumer.context().shared).status.last_consume_error = Some(e.to_string());
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Err(_) => {}
                    }
                }
            }
            // Whatever is already fetched joins the chunk, without waiting.
            while !chunk.is_empty() && chunk.len() < CHUNK {
                match tokio::time::timeout(Duration::ZERO, self.consumer.recv()).await {
                    Ok(Ok(m)) => chunk.push(m.detach()),
                    Ok(Err(e)) => tracing::warn!(error = %e, "kafka consume error"),
                    Err(_) => break,
                }
            }
            uncommitted += chunk.len();
            if !chunk.is_empty() {
                self.process(chunk).await?;
            }
            if uncommitted > 0 && (uncommitted >= self.config.batch_size || last_commit.elapsed() >= interval) {
                self.commit().await?;
                uncommitted = 0;
                last_commit = Instant::now();
            } else if uncommitted == 0 {
                last_commit = Instant::now();
            }
        }
        self.commit().await
    }

    async fn commit(&self) -> Result<()> {
        let consumer = self.consumer.clone();
        tokio::task::spawn_blocking(move || commit(consumer.context(), &*consumer, None))
            .await
            .map_err(|e| Error::Task(format!("commit task: {e}")))?
    }

    /// Applies a chunk in offset order (analysis in parallel), sends its dead letters, then
    /// records the chunk's offsets as processed.
    async fn process(&self, chunk: Vec<OwnedMessage>) -> Result<()> {
        let consumer = self.consumer.clone();
        let kinds: BTreeMap<String, TopicKind> = [
            (&self.config.vendor_topics, TopicKind::Vendors),
            (&self.config.offer_topics, TopicKind::Offers),
            (&self.config.rfi_topics, TopicKind::Rfis),
        ]
        .into_iter()
        .flat_map(|(topics, kind)| topics.iter().map(move |t| (t.clone(), kind)))
        .collect();
        let (chunk, dead) = tokio::task::spawn_blocking(move || apply(consumer.context(), &kinds, chunk))
            .await
            .map_err(|e| Error::Task(format!("ingest task: {e}")))??;
        for (message, letter) in &dead {
            self.dead_letter(message, letter).await?;
        }
        let mut shared = lock(&self.consumer.context().shared);
        for m in &chunk {
            let key = (m.topic().to_string(), m.partition());
            if shared.assigned.contains(&key) {
                let next = shared.processed.entry(key).or_insert(0);
                *next = (*next).max(m.offset() + 1);
            }
        }
        let s = &mut shared.status;
        s.messages += chunk.len() as u64;
        for (_, letter) in dead {
            *s.dead_letters.entry(letter.code.into()).or_default() += 1;
        }
        Ok(())
    }

    async fn dead_letter(&self, message: &OwnedMessage, letter: &DeadLetter) -> Result<()> {
        let topic = format!("{}{}", message.topic(), self.config.dlq_suffix);
        let (partition, offset) = (message.partition().to_string(), message.offset().to_string());
        let headers = OwnedHeaders::new()
            .insert(Header { key: dlq_headers::ERROR_CODE, value: Some(letter.code) })
            .insert(Header { key: dlq_headers::ERROR_REASON, value: Some(&letter.reason) })
            .insert(Header { key: dlq_headers::SOURCE_TOPIC, value: Some(message.topic()) })
            .insert(Header { key: dlq_headers::SOURCE_PARTITION, value: Some(&partition) })
            .insert(Header { key: dlq_headers::SOURCE_OFFSET, value: Some(&offset) });
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&topic).payload(message.payload().unwrap_or_default()).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        tracing::warn!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
            code = letter.code, reason = %letter.reason, "message dead-lettered");
        match tokio::time::timeout(DLQ_TIMEOUT, self.producer.send(record, DLQ_TIMEOUT)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err((e, _))) => Err(Error::Kafka(format!("cannot dead-letter to {topic}: {e}"))),
            Err(_) => Err(Error::Kafka(format!("dead-letter delivery to {topic} timed out"))),
        }
    }
}

/// Parses and applies a chunk; returns it with the messages that must be dead-lettered.
/// Messages of partitions no longer assigned are skipped: their new owner reads them.
#[expect(clippy::type_complexity, reason = "a private pair of lists")]
fn apply(
    ctx: &Context,
    kinds: &BTreeMap<String, TopicKind>,
    chunk: Vec<OwnedMessage>,
) -> Result<(Vec<OwnedMessage>, Vec<(OwnedMessage, DeadLetter)>)> {
    let assigned = lock(&ctx.shared).assigned.clone();
    let chunk: Vec<OwnedMessage> =
        chunk.into_iter().filter(|m| assigned.contains(&(m.topic().to_string(), m.partition()))).collect();
    let parsed: Vec<std::result::Result<Parsed, DeadLetter>> = chunk
        .par_iter()
        .map(|m| {
            parse(&ctx.products, kinds.get(m.topic()).copied().unwrap_or(TopicKind::Products), m.key(), m.payload())
        })
        .collect();
    let (mut applied, mut unchanged) = (0u64, 0u64);
    let mut dead = Vec::new();
    let mut count = |outcome: WriteOutcome| match outcome {
        WriteOutcome::Applied { .. } => applied += 1,
        _ => unchanged += 1,
    };
    for (m, parsed) in chunk.iter().zip(parsed) {
        match parsed {
            Ok(Parsed::Product(p)) => ctx.products.apply_prepared(vec![*p])?.into_iter().for_each(&mut count),
            Ok(Parsed::ProductDelete(id, version)) => count(ctx.products.delete(&id, version)?),
            Ok(Parsed::Vendor(v)) => ctx.vendors.upsert(vec![*v])?.into_iter().for_each(&mut count),
            Ok(Parsed::VendorDelete(id, version)) => count(ctx.vendors.delete(&id, version)?),
            // Its product and vendor must exist as written so far, this chunk's earlier messages
            // included.
            Ok(Parsed::Offer(o)) => match unknown_reference(&o, &ctx.products, &ctx.vendors) {
                Some(letter) => dead.push((m.clone(), letter)),
                None => ctx.offers.upsert(vec![*o])?.into_iter().for_each(&mut count),
            },
            Ok(Parsed::OfferDelete(id, version)) => count(ctx.offers.delete(&id, version)?),
            Ok(Parsed::Rfi(r)) => ctx.rfis.upsert(vec![*r])?.into_iter().for_each(&mut count),
            Ok(Parsed::RfiDelete(id, version)) => count(ctx.rfis.delete(&id, version)?),
            Err(letter) => dead.push((m.clone(), letter)),
        }
    }
    let mut shared = lock(&ctx.shared);
    shared.status.applied += applied;
    shared.status.unchanged += unchanged;
    Ok((chunk, dead))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_checked_only_when_on() {
        let mut config = KafkaConfig::default();
        config.brokers.clear();
        assert!(config.validate().is_ok());
        config.enabled = true;
        assert!(config.validate().unwrap_err().contains("brokers"));
        config.brokers = "b:9092".into();
        config.vendor_topics = vec!["catalog.products".into()];
        assert!(config.validate().unwrap_err().contains("twice"));
        config.vendor_topics = vec!["catalog.products.dlq".into()];
        assert!(config.validate().unwrap_err().contains("dead-letter"));
    }
}
