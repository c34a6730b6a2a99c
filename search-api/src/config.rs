//! The configuration file of a serving node: the engine's sections ([`EngineConfig`]), the HTTP
//! layer's (`[http]`, `[auth]`, `[cache]`, `[rate_limit]`, `[web]`), the crawler's and the log's.
//! The binary loads it (defaults < TOML file < environment `SEARCHD_…` < command line).

use std::net::SocketAddr;
use std::path::PathBuf;

use searchd_engine::snapshot::SnapshotsConfig;
use searchd_engine::{AutocompleteConfig, EngineConfig, RecommendationsConfig};
use searchd_indexer::IndexConfig;
use searchd_kafka::KafkaConfig;
use searchd_ranking::{EventsConfig, RankerConfig, RankingConfig};
use serde::{Deserialize, Serialize};

/// The whole configuration. Every section rejects unknown keys, naming them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the index (and later models and snapshots) live.
    pub data_dir: PathBuf,
    /// `[http]`: the listener and its limits.
    pub http: HttpConfig,
    /// `[index]`: the writers and the commit policy.
    pub index: IndexConfig,
    /// `[ranking]`: phase 1's weights.
    pub ranking: RankingConfig,
    /// `[ranker]`: the learned phase 2.
    pub ranker: RankerConfig,
    /// `[events]`: behaviour events.
    pub events: EventsConfig,
    /// `[autocomplete]`: the query log and the suggestions' refresh.
    pub autocomplete: AutocompleteConfig,
    /// The Kafka ingester (off by default).
    pub kafka: KafkaConfig,
    /// Similar products and bought together.
    pub recommendations: RecommendationsConfig,
    /// `searchd crawl` and page retention.
    pub crawler: searchd_crawler::CrawlConfig,
    /// Search and autocomplete answers cached in process, and in Redis when set.
    pub cache: crate::middleware::cache::CacheConfig,
    /// API keys and JWT bearer tokens.
    pub auth: crate::middleware::auth::AuthConfig,
    /// Token buckets per caller and per client IP, by route class.
    pub rate_limit: crate::middleware::limits::RateLimitConfig,
    /// Scheduled snapshots and their retention.
    pub snapshots: SnapshotsConfig,
    /// The storefront page at `/`.
    pub web: WebConfig,
    /// `[log]`: format and level.
    pub log: LogConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            http: HttpConfig::default(),
            index: IndexConfig::default(),
            ranking: RankingConfig::default(),
            ranker: RankerConfig::default(),
            events: EventsConfig::default(),
            autocomplete: AutocompleteConfig::default(),
            kafka: KafkaConfig::default(),
            recommendations: Default::default(),
            crawler: Default::default(),
            cache: Default::default(),
            auth: Default::default(),
            rate_limit: Default::default(),
            snapshots: Default::default(),
            web: Default::default(),
            log: LogConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
/// `[http]`.
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body for single-document routes and searches (bytes).
    pub max_body_bytes: usize,
    /// Largest request body for bulk routes (bytes).
    pub max_bulk_body_bytes: usize,
    /// Longest query string (bytes); longer gets 414 `uri_too_long`.
    pub max_query_bytes: usize,
    /// A request not answered within this gets 503 `request_timeout`.
    pub request_timeout_ms: u64,
    /// Origins browsers may call the API from (`https://shop.example`), or `["*"]`; empty: none.
    pub cors_origins: Vec<String>,
    /// gzip / brotli responses for clients that accept them.
    pub compression: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            max_body_bytes: 1 << 20,
            max_bulk_body_bytes: 100 << 20,
            max_query_bytes: 8 << 10,
            request_timeout_ms: 10_000,
            cors_origins: Vec::new(),
            compression: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// How logs are written.
pub enum LogFormat {
    #[default]
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
/// `[log]`.
pub struct LogConfig {
    /// Pretty or JSON.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `searchd=debug,tower_http=info`; `RUST_LOG` wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Pretty, level: "info".into() }
    }
}

impl Config {
    /// The engine's sections.
    pub fn engine(&self) -> EngineConfig {
        EngineConfig {
            data_dir: self.data_dir.clone(),
            index: self.index.clone(),
            ranking: self.ranking.clone(),
            ranker: self.ranker.clone(),
            events: self.events.clone(),
            autocomplete: self.autocomplete.clone(),
            kafka: self.kafka.clone(),
            recommendations: self.recommendations.clone(),
            snapshots: self.snapshots.clone(),
        }
    }

    /// Checks every section; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        self.engine().validate()?;
        self.cache.validate()?;
        self.auth.validate()?;
        self.rate_limit.validate()?;
        match self.crawler.validate() {
            Err(searchd_crawler::Error::Config(why)) => return Err(format!("crawler.{why}")),
            Err(e) => return Err(e.to_string()),
            Ok(()) => {}
        }
        if let Err(e) = <cron::Schedule as std::str::FromStr>::from_str(&self.crawler.retention_schedule) {
            return Err(format!("crawler.retention_schedule: {e}"));
        }
        if self.http.max_query_bytes < 256 {
            return Err("http.max_query_bytes must be ≥ 256".into());
        }
        if self.http.request_timeout_ms == 0 {
            return Err("http.request_timeout_ms must be ≥ 1".into());
        }
        if let Some(bad) = self.http.cors_origins.iter().find(|o| {
            o.as_str() != "*" && !(o.starts_with("http://") || o.starts_with("https://"))
                || axum::http::HeaderValue::from_str(o).is_err()
                || o.ends_with('/')
        }) {
            return Err(format!("http.cors_origins: `{bad}` is not an origin (scheme://host[:port], or \"*\")"));
        }
        if self.http.max_body_bytes < 1024 || self.http.max_bulk_body_bytes < self.http.max_body_bytes {
            return Err("http.max_body_bytes must be ≥ 1024 and ≤ http.max_bulk_body_bytes".into());
        }
        Ok(())
    }
}

/// `[web]`: the storefront page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Serve the page at `/`.
    pub enabled: bool,
    /// The API key the page sends: give it the `search` scope only (it is visible to every
    /// visitor). Empty: no key (enough with `serve --demo`, where auth is off).
    pub search_key: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self { enabled: true, search_key: String::new() }
    }
}
