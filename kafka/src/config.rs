//! `[kafka]`: brokers, topics, the consumer group and how it starts, batching, dead letters.

use std::collections::{BTreeMap, BTreeSet};

use rdkafka::config::ClientConfig;
use serde::{Deserialize, Serialize};

/// Where a new consumer group starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    /// From the oldest message kept (a new node indexes the whole topic).
    Earliest,
    /// From new messages only.
    Latest,
}

/// `[kafka]` settings. Off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Start the ingester with `serve`.
    pub enabled: bool,
    /// `host:port[,host:port...]`.
    pub brokers: String,
    /// Topics of `CatalogEvent` messages.
    pub product_topics: Vec<String>,
    /// Topics of `VendorEvent` messages.
    pub vendor_topics: Vec<String>,
    /// Topics of `OfferEvent` messages.
    pub offer_topics: Vec<String>,
    /// Topics of `RfiEvent` messages (requests for information).
    pub rfi_topics: Vec<String>,
    /// The consumer group. Every node needs its own, so that each holds the whole catalog;
    /// empty: `searchd-<hostname>`.
    pub group_id: String,
    /// Static group membership (`group.instance.id`): a restarted node takes its partitions back
    /// at once instead of waiting for the broker's session timeout. Empty: the group id (one
    /// member per group). Members of one group need distinct ids.
    pub instance_id: String,
    /// Commit the index and the offsets after this many messages...
    pub batch_size: usize,
    /// ...or this long after the last commit, whichever comes first.
    pub commit_interval_ms: u64,
    /// Where a group without committed offsets starts.
    pub start_from: StartFrom,
    /// Dead letters of topic `t` go to `t` + this.
    pub dlq_suffix: String,
    /// More librdkafka settings (security, timeouts), passed as they are.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            brokers: "127.0.0.1:9092".into(),
            product_topics: vec!["catalog.products".into()],
            vendor_topics: vec!["catalog.vendors".into()],
            offer_topics: vec!["catalog.offers".into()],
            rfi_topics: vec!["catalog.rfis".into()],
            group_id: String::new(),
            instance_id: String::new(),
            batch_size: 5_000,
            commit_interval_ms: 500,
            start_from: StartFrom::Earliest,
            dlq_suffix: ".dlq".into(),
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// Checks brokers, topics and ranges when enabled; the message names the key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.brokers.trim().is_empty() {
            return Err("kafka.brokers must not be empty".into());
        }
        let topics = self.topics();
        if topics.is_empty() {
            return Err("kafka: set product_topics, vendor_topics, offer_topics or rfi_topics".into());
        }
        if let Some(t) = topics.iter().find(|t| t.trim().is_empty() || t.ends_with(&self.dlq_suffix)) {
            return Err(format!("kafka: topic `{t}` is empty or is itself a dead-letter topic"));
        }
        if topics.iter().collect::<BTreeSet<_>>().len() != topics.len() {
            return Err("kafka: a topic is listed twice".into());
        }
        if self.batch_size == 0 || self.commit_interval_ms == 0 {
            return Err("kafka.batch_size and kafka.commit_interval_ms must be at least 1".into());
        }
        if self.dlq_suffix.is_empty() {
            return Err("kafka.dlq_suffix must not be empty".into());
        }
        Ok(())
    }

    /// Every topic read: products', vendors', offers', RFIs'.
    pub fn topics(&self) -> Vec<&String> {
        let documents = self.vendor_topics.iter().chain(&self.offer_topics).chain(&self.rfi_topics);
        self.product_topics.iter().chain(documents).collect()
    }

    /// The configured group, or `searchd-<hostname>`.
    pub fn group(&self) -> String {
        if !self.group_id.is_empty() {
            return self.group_id.clone();
        }
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".into());
        format!("searchd-{host}")
    }

    /// The configured static member id, or the group.
    pub fn instance(&self) -> String {
        if self.instance_id.is_empty() { self.group() } else { self.instance_id.clone() }
    }

    /// Client settings for the consumer, the dead-letter producer and `searchd publish`: the
    /// brokers, then `defaults`, then `properties` (so a configured property wins).
    pub fn client_config(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (k, v) in defaults.iter().copied().chain(self.properties.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            config.set(k, v);
        }
        config
    }
}
