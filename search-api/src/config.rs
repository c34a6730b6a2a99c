//! `searchd` configuration: defaults < TOML file < environment (`SEARCHD_…`) < command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use searchd_autocomplete::Weights;
use searchd_indexer::IndexConfig;
use searchd_indexer::kafka::KafkaConfig;
use searchd_ranking::{EventsConfig, RankingConfig};
use serde::{Deserialize, Serialize};

/// The whole configuration. Every section rejects unknown keys, naming them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the index (and later models and snapshots) live.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub index: IndexConfig,
    pub ranking: RankingConfig,
    pub ranker: RankerConfig,
    pub events: EventsConfig,
    pub autocomplete: AutocompleteConfig,
    /// The Kafka ingester (off by default).
    pub kafka: KafkaConfig,
    /// Similar products and bought together.
    pub recommendations: crate::recommend::RecommendationsConfig,
    /// `searchd crawl` and page retention.
    pub crawler: searchd_crawler::CrawlConfig,
    /// Search and autocomplete answers cached in process, and in Redis when set.
    pub cache: crate::cache::CacheConfig,
    /// API keys and JWT bearer tokens.
    pub auth: crate::auth::AuthConfig,
    /// Token buckets per caller and per client IP, by route class.
    pub rate_limit: crate::guard::RateLimitConfig,
    /// Scheduled snapshots and their retention.
    pub snapshots: crate::snapshot::SnapshotsConfig,
    /// The storefront page at `/`.
    pub web: crate::web::WebConfig,
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
pub struct HttpConfig {
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

/// `[autocomplete]`: the query log and when suggestions are rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutocompleteConfig {
    /// Searches a query needs before it is suggested to others (1 suggests every query that
    /// found something once; 2, the default, keeps one-off typing out).
    pub min_query_count: u64,
    /// Distinct queries the log keeps; the least searched go first.
    pub max_queries: usize,
    /// How often the background task checks for a new index generation and rebuilds the
    /// catalog completions (milliseconds).
    pub refresh_interval_ms: u64,
    /// Query completions are rebuilt from the log at most this often (seconds).
    pub query_refresh_secs: u64,
    /// The query log is written to disk this often when it changed (seconds); a crash loses
    /// at most this much counting.
    pub flush_interval_secs: u64,
    pub weights: Weights,
}

impl Default for AutocompleteConfig {
    fn default() -> Self {
        Self {
            min_query_count: 2,
            max_queries: 100_000,
            refresh_interval_ms: 1000,
            query_refresh_secs: 60,
            flush_interval_secs: 10,
            weights: Weights::default(),
        }
    }
}

impl AutocompleteConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.weights.validate()?;
        if self.min_query_count == 0 || self.max_queries == 0 {
            return Err("autocomplete.min_query_count and autocomplete.max_queries must be ≥ 1".into());
        }
        if self.refresh_interval_ms < 10 || self.flush_interval_secs == 0 {
            return Err("autocomplete.refresh_interval_ms must be ≥ 10 and flush_interval_secs ≥ 1".into());
        }
        Ok(())
    }
}

/// `[ranker]`: the learned second phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankerConfig {
    /// Phase-1 hits the model re-ranks (0 switches phase 2 off).
    pub window: usize,
    /// How often the server checks the data dir for a newly trained model (milliseconds).
    pub poll_interval_ms: u64,
    /// Model artifacts kept in the data dir.
    pub keep: usize,
}

impl Default for RankerConfig {
    fn default() -> Self {
        Self { window: searchd_catalog::DEFAULT_RERANK_WINDOW, poll_interval_ms: 2000, keep: 5 }
    }
}

impl RankerConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.window > searchd_catalog::MAX_RESULT_WINDOW {
            return Err(format!("ranker.window must be at most {}", searchd_catalog::MAX_RESULT_WINDOW));
        }
        if self.poll_interval_ms < 10 || self.keep == 0 {
            return Err("ranker.poll_interval_ms must be ≥ 10 and ranker.keep ≥ 1".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
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
    /// Loads defaults, then the TOML file (when given), then `SEARCHD_*` variables
    /// (`SEARCHD_INDEX__COMMIT_INTERVAL_MS=500` sets `index.commit_interval_ms`).
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        Self::load_from(file, Env::prefixed("SEARCHD_").split("__"))
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(format!("config file {} does not exist", file.display()));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(env)
            .extract()
            .map_err(|e| e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        self.index.validate().map_err(|e| format!("index.{e}"))?;
        self.ranking.validate()?;
        self.ranker.validate()?;
        self.events.validate()?;
        self.autocomplete.validate()?;
        self.kafka.validate()?;
        self.recommendations.validate()?;
        self.cache.validate()?;
        self.auth.validate()?;
        self.rate_limit.validate()?;
        self.snapshots.validate()?;
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

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// The vendor index's folder.
    pub fn vendor_index_dir(&self) -> PathBuf {
        self.data_dir.join("vendors")
    }

    /// The learned rankers' folder.
    pub fn ranker_dir(&self) -> PathBuf {
        self.data_dir.join("models").join("ranker")
    }

    /// The similar-products models' folder.
    /// The crawler's page store (records, hot pages, archives).
    pub fn crawl_dir(&self) -> PathBuf {
        self.data_dir.join("crawl")
    }

    pub fn similar_dir(&self) -> PathBuf {
        self.data_dir.join("models").join("similar")
    }

    /// The behaviour events' folder.
    pub fn events_dir(&self) -> PathBuf {
        self.data_dir.join("events")
    }

    /// The query log's file.
    pub fn query_log_path(&self) -> PathBuf {
        self.data_dir.join("queries.jsonl")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("searchd.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "[index]\ncommit_every = 5\n");
        let err = Config::load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("commit_every"), "{err}");
    }

    #[test]
    #[expect(clippy::result_large_err, reason = "figment's Jail fixes the error type")]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "data_dir = \"/srv/searchd\"\n[index]\ncommit_every_docs = 5\n");
        let config = Config::load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/srv/searchd"));
        assert_eq!(config.index.commit_every_docs, 5);
        figment::Jail::expect_with(|jail| {
            jail.set_env("SEARCHD_JAILTEST_INDEX__COMMIT_EVERY_DOCS", "7");
            let c = Config::load_from(Some(&file), Env::prefixed("SEARCHD_JAILTEST_").split("__")).unwrap();
            assert_eq!(c.index.commit_every_docs, 7);
            Ok(())
        });
    }

    #[test]
    fn invalid_values_fail_fast() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "[index]\ndefault_language = \"klingon\"\n");
        let err = Config::load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("default_language"), "{err}");
        let file = write(dir.path(), "[crawler]\nconcurrency = 0\n");
        let err = Config::load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("crawler.concurrency must be at least 1"), "{err}");
        let file = write(dir.path(), "[crawler]\nretention_schedule = \"daily\"\n");
        let err = Config::load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("crawler.retention_schedule"), "{err}");
    }

    /// The README's configuration example is the defaults, every key spelled as the code has it.
    #[test]
    fn the_readme_example_is_the_defaults() {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("## Configuration").unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), example);
        let config = Config::load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap();
        assert_eq!(config, Config::default());
    }
}
