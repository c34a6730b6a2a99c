//! The engine's part of the configuration: the data dir and the sections of what a node serves
//! and runs (indexes, ranking, suggestions, recommendations, Kafka, snapshots), and the data
//! dir's layout. The HTTP layer adds its own sections; the binary loads the file.

use std::path::PathBuf;

use searchd_autocomplete::Weights;
use searchd_indexer::IndexConfig;
use searchd_kafka::KafkaConfig;
use searchd_ranking::{EventsConfig, RankerConfig, RankingConfig, RankingSetup};
use serde::{Deserialize, Serialize};

use crate::recommend::RecommendationsConfig;
use crate::snapshot::SnapshotsConfig;

/// What the engine is opened with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EngineConfig {
    /// Where the indexes, models, events, query log, keys and snapshots live.
    pub data_dir: PathBuf,
    /// `[index]`.
    pub index: IndexConfig,
    /// `[ranking]`: phase 1.
    pub ranking: RankingConfig,
    /// `[ranker]`: the learned phase 2.
    pub ranker: RankerConfig,
    /// `[events]`: behaviour events.
    pub events: EventsConfig,
    /// `[autocomplete]`.
    pub autocomplete: AutocompleteConfig,
    /// `[kafka]`: the ingester (off by default).
    pub kafka: KafkaConfig,
    /// `[recommendations]`: similar products and bought together.
    pub recommendations: RecommendationsConfig,
    /// `[snapshots]`: schedules and retention.
    pub snapshots: SnapshotsConfig,
}

impl EngineConfig {
    /// Checks every section; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        self.index.validate().map_err(|e| format!("index.{e}"))?;
        self.ranking.validate()?;
        self.ranker.validate()?;
        self.events.validate()?;
        self.autocomplete.validate()?;
        self.kafka.validate()?;
        self.recommendations.validate()?;
        self.snapshots.validate()?;
        Ok(())
    }

    /// The product index's folder.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// The settings' versions (`v000003.json`).
    pub fn settings_dir(&self) -> PathBuf {
        self.data_dir.join("settings")
    }

    /// The vendor index's folder.
    pub fn vendor_index_dir(&self) -> PathBuf {
        self.data_dir.join("vendors")
    }

    /// The offer index's folder.
    pub fn offer_index_dir(&self) -> PathBuf {
        self.data_dir.join("offers")
    }

    /// The RFI index's folder.
    pub fn rfi_index_dir(&self) -> PathBuf {
        self.data_dir.join("rfis")
    }

    /// The learned rankers' folder.
    pub fn ranker_dir(&self) -> PathBuf {
        self.data_dir.join("models").join("ranker")
    }

    /// The crawler's page store (records, hot pages, archives).
    pub fn crawl_dir(&self) -> PathBuf {
        self.data_dir.join("crawl")
    }

    /// The similar-products models' folder.
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

    /// Where the built suggestions are kept between starts.
    pub fn suggestions_dir(&self) -> PathBuf {
        self.data_dir.join("suggestions")
    }

    /// What the served ranking is built from.
    pub fn ranking_setup(&self) -> RankingSetup {
        RankingSetup {
            ranking: self.ranking.clone(),
            ranker: self.ranker.clone(),
            events: self.events.clone(),
            ranker_dir: self.ranker_dir(),
            events_dir: self.events_dir(),
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
    /// Product titles suggested: the most popular this many (brands and categories are all
    /// kept). Bounds the suggestions' memory and their build and load time in a catalog of
    /// millions.
    pub max_products: usize,
    /// How often the background task checks for a new index generation and rebuilds the
    /// catalog completions (milliseconds).
    pub refresh_interval_ms: u64,
    /// Query completions are rebuilt from the log at most this often (seconds).
    pub query_refresh_secs: u64,
    /// The query log is written to disk this often when it changed (seconds); a crash loses
    /// at most this much counting.
    pub flush_interval_secs: u64,
    /// How completions are weighted.
    pub weights: Weights,
}

impl Default for AutocompleteConfig {
    fn default() -> Self {
        Self {
            min_query_count: 2,
            max_queries: 100_000,
            max_products: 1_000_000,
            refresh_interval_ms: 1000,
            query_refresh_secs: 60,
            flush_interval_secs: 10,
            weights: Weights::default(),
        }
    }
}

impl AutocompleteConfig {
    /// Checks the ranges; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        self.weights.validate()?;
        if self.min_query_count == 0 || self.max_queries == 0 || self.max_products == 0 {
            return Err(
                "autocomplete.min_query_count, autocomplete.max_queries and autocomplete.max_products must be ≥ 1"
                    .into(),
            );
        }
        if self.refresh_interval_ms < 10 || self.flush_interval_secs == 0 {
            return Err("autocomplete.refresh_interval_ms must be ≥ 10 and flush_interval_secs ≥ 1".into());
        }
        Ok(())
    }
}
