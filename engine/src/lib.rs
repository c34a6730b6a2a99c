//! The engine a `searchd` node runs, without HTTP: it opens a data dir into the served parts —
//! the product, vendor and offer indexes, the ranking (phase 1, the hot-swapped learned phase 2, the
//! behaviour events), the live suggestions, the recommendations, the Kafka ingester's handle —
//! and runs their background jobs (commits, refreshes, schedules), takes and restores
//! snapshots, and loads the demo catalog.
//!
//! The HTTP layer (`searchd-api`) serves an [`Engine`]; the binary (`searchd`) composes both.
//!
//! ```
//! use searchd_engine::{Engine, EngineConfig, demo};
//! use searchd_indexer::{IndexConfig, ProductIndex};
//!
//! let dir = tempfile::tempdir()?;
//! let config = EngineConfig { data_dir: dir.path().to_path_buf(), ..EngineConfig::default() };
//! let index = ProductIndex::in_memory(IndexConfig::small())?;
//! demo::load(&index)?;
//! let engine = Engine::with_index(index, &config)?;
//! engine.autocomplete.refresh(&engine.index, true)?;
//! assert!(!engine.autocomplete.suggest("hea", 5, Default::default()).is_empty());
//! # Ok::<(), anyhow::Error>(())
//! ```

#![warn(missing_docs)]

mod config;
pub mod demo;
mod recommend;
pub mod schedule;
pub mod settings;
pub mod snapshot;
mod suggest;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use searchd_autocomplete::QueryLog;
use searchd_indexer::{IndexConfig, OfferIndex, ProductIndex, RfiIndex, VendorIndex};
use searchd_kafka::IngestHandle;
use searchd_ranking::{EventStore, Ranking};

pub use config::{AutocompleteConfig, EngineConfig};
pub use recommend::{Recommendations, RecommendationsConfig, RefreshReport, spawn_recommendation_tasks};
pub use suggest::{Autocomplete, Refresher, logged_queries, spawn_autocomplete_refresher};

/// The served parts of a node. Cloning shares them.
#[derive(Clone, Debug)]
pub struct Engine {
    /// The product index.
    pub index: Arc<ProductIndex>,
    /// The vendor index.
    pub vendors: Arc<VendorIndex>,
    /// The offer index: vendors' offers of products.
    pub offers: Arc<OfferIndex>,
    /// The RFI index: customers' requests for information.
    pub rfis: Arc<RfiIndex>,
    /// Phase 1, the learned phase 2 (hot-swapped) and the behaviour events.
    pub ranking: Arc<Ranking>,
    /// False while the demo catalog loads.
    pub ready: Arc<AtomicBool>,
    /// The live suggestions and the query log.
    pub autocomplete: Arc<Autocomplete>,
    /// Similar products and bought together.
    pub recommendations: Arc<Recommendations>,
    /// The Kafka ingester, once `serve` started it (`[kafka] enabled`).
    pub ingest: Arc<std::sync::OnceLock<IngestHandle>>,
    /// Where snapshots go and what they copy.
    pub snapshots: Arc<snapshot::Snapshots>,
    /// The settings' versions and the tasks applying them.
    pub settings: Arc<settings::SettingsTasks>,
}

impl Engine {
    /// Opens (or creates) the product, vendor, offer and RFI indexes, the query log, the events and the
    /// models in the configured data dir.
    pub fn open(config: &EngineConfig) -> anyhow::Result<Self> {
        let index = ProductIndex::open(&config.index_dir(), config.index.clone())?;
        let vendors = VendorIndex::open(&config.vendor_index_dir(), &config.index)?;
        let offers = OfferIndex::open(&config.offer_index_dir(), &config.index)?;
        let rfis = RfiIndex::open(&config.rfi_index_dir(), &config.index)?;
        let path = config.query_log_path();
        let log = QueryLog::open(&path, config.autocomplete.max_queries)
            .map_err(|e| anyhow::anyhow!("cannot read the query log {}: {e}", path.display()))?;
        let ranking = Ranking::open(&config.ranking_setup())?;
        let autocomplete = Autocomplete::new(log, config.autocomplete.clone()).kept_in(config.suggestions_dir());
        let engine = Self::with_parts(index, vendors, offers, rfis, autocomplete, ranking, config);
        if let Some(task) = engine.settings.resume(&engine.index, &engine.vendors, &config.index.attributes)? {
            tracing::info!(task = task.id, reindex = task.reindex, "applying settings in the background");
        }
        Ok(engine)
    }

    /// A product index with empty in-memory vendor, offer and RFI indexes, and a query log and events kept
    /// in memory only (tests, benches); models are read from the configured data dir.
    pub fn with_index(index: ProductIndex, config: &EngineConfig) -> anyhow::Result<Self> {
        let small = IndexConfig { writer_memory_mb: 16, writer_threads: 1, ..config.index.clone() };
        let vendors = VendorIndex::in_memory(&small)?;
        let offers = OfferIndex::in_memory(&small)?;
        let rfis = RfiIndex::in_memory(&small)?;
        let events = Arc::new(EventStore::in_memory(config.events.clone()));
        let ranking = Ranking::with_events(&config.ranking_setup(), events)?;
        let log = QueryLog::in_memory(config.autocomplete.max_queries);
        let autocomplete = Autocomplete::new(log, config.autocomplete.clone());
        let mut engine = Self::with_parts(index, vendors, offers, rfis, autocomplete, ranking, config);
        engine.settings = Arc::new(settings::SettingsTasks::new(None));
        Ok(engine)
    }

    /// The engine over parts opened elsewhere.
    pub fn with_parts(
        index: ProductIndex,
        vendors: VendorIndex,
        offers: OfferIndex,
        rfis: RfiIndex,
        autocomplete: Autocomplete,
        ranking: Ranking,
        config: &EngineConfig,
    ) -> Self {
        let autocomplete = Arc::new(autocomplete);
        // "Did you mean" prefers the spellings shoppers searched with results.
        let log = Arc::downgrade(&autocomplete);
        index.set_query_counts(Some(Arc::new(move |q: &str| log.upgrade().map_or(0, |a| a.searched_with_results(q)))));
        Self {
            snapshots: Arc::new(snapshot::Snapshots::new(config)),
            settings: Arc::new(settings::SettingsTasks::new(Some(config.settings_dir()))),
            index: Arc::new(index),
            vendors: Arc::new(vendors),
            offers: Arc::new(offers),
            rfis: Arc::new(rfis),
            ranking: Arc::new(ranking),
            ready: Arc::new(AtomicBool::new(true)),
            autocomplete,
            ingest: Arc::default(),
            recommendations: Arc::new(Recommendations::new(
                searchd_models::SimilarStore::new(config.similar_dir(), config.recommendations.keep),
                config.recommendations.clone(),
            )),
        }
    }
}

/// Commits pending product, vendor, offer and RFI writes when the commit interval has passed, off the
/// async executor.
pub fn spawn_commit_loop(engine: &Engine) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_millis((engine.index.config().commit_interval_ms / 2).max(10));
    let (index, vendors, offers) = (engine.index.clone(), engine.vendors.clone(), engine.offers.clone());
    let rfis = engine.rfis.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (index, vendors, offers, rfis) = (index.clone(), vendors.clone(), offers.clone(), rfis.clone());
            let commit = move || -> searchd_indexer::Result<()> {
                index.commit_if_due()?;
                vendors.commit_if_due()?;
                offers.commit_if_due()?;
                rfis.commit_if_due()?;
                Ok(())
            };
            match tokio::task::spawn_blocking(commit).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "scheduled commit failed"),
                Err(e) => tracing::error!(error = %e, "scheduled commit panicked"),
            }
        }
    })
}
