//! Recommendations as served: the current similar-products model and its index of product
//! vectors (kept current with the product index's change feed, so new products have
//! neighbours at once) and the refresh job (train, save a new version, swap) that the
//! scheduler runs.

use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use searchd_indexer::ProductIndex;
use searchd_models::{SimilarIndex, SimilarModel, SimilarStore, bought_together, train_similar};
use searchd_ranking::EventStore;
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::schedule::{SystemClock, spawn_schedule};

/// Products read at a time when a saved model is loaded.
const LOAD_CHUNK: usize = 65_536;

/// `[recommendations]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecommendationsConfig {
    /// When the refresh runs, as a cron expression in UTC with seconds:
    /// `sec min hour day-of-month month day-of-week`.
    pub schedule: String,
    /// Model versions kept (for `searchd models rollback`).
    pub keep: usize,
    /// Co-purchased products remembered per product.
    pub bought_together_per_product: usize,
    /// How often a model saved by another process (`searchd train`, a rollback) is looked for.
    pub poll_interval_ms: u64,
}

impl Default for RecommendationsConfig {
    fn default() -> Self {
        Self { schedule: "0 0 2 * * *".into(), keep: 5, bought_together_per_product: 50, poll_interval_ms: 2_000 }
    }
}

impl RecommendationsConfig {
    /// Checks the schedule and the ranges; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        cron::Schedule::from_str(&self.schedule)
            .map_err(|e| format!("recommendations.schedule `{}`: {e}", self.schedule))?;
        if self.keep == 0 || self.poll_interval_ms == 0 {
            return Err("recommendations.keep and poll_interval_ms must be at least 1".into());
        }
        Ok(())
    }
}

/// A model and the vectors of the products it serves.
#[derive(Debug)]
struct Served {
    model: SimilarModel,
    index: RwLock<SimilarIndex>,
}

/// The served recommendations.
#[derive(Debug)]
pub struct Recommendations {
    store: SimilarStore,
    served: ArcSwapOption<Served>,
    config: RecommendationsConfig,
    /// The change-feed position the vectors are current with.
    position: Mutex<u64>,
    /// One refresh at a time.
    refreshing: Mutex<()>,
}

/// What a refresh did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefreshReport {
    /// The model version saved and served (`v000001`, …).
    pub version: String,
    /// Products trained on.
    pub products: usize,
    /// Distinct features of the model (words, brands, categories, price bands) with an idf.
    pub features: usize,
    /// Products with bought-together neighbours.
    pub bought_together: usize,
    /// Time the refresh took.
    pub seconds: f64,
}

impl Recommendations {
    /// Nothing served yet; `store` holds the saved versions.
    pub fn new(store: SimilarStore, config: RecommendationsConfig) -> Self {
        Self { store, served: ArcSwapOption::empty(), config, position: Mutex::new(0), refreshing: Mutex::new(()) }
    }

    /// The `[recommendations]` settings served with.
    pub fn config(&self) -> &RecommendationsConfig {
        &self.config
    }

    /// Where the model versions are saved.
    pub fn store(&self) -> &SimilarStore {
        &self.store
    }

    /// The artifact file the served model came from (as `CURRENT` names it).
    pub fn served_name(&self) -> Option<String> {
        self.version().and_then(|v| Some(format!("similar-{}.json", v.strip_prefix('v')?)))
    }

    /// The served model's version.
    pub fn version(&self) -> Option<String> {
        self.served.load().as_ref().map(|s| s.model.version.clone())
    }

    /// Serves the saved current model (vectors from the index's products); false when none is
    /// saved.
    pub fn load_current(&self, index: &ProductIndex) -> anyhow::Result<bool> {
        let Some(model) = self.store.load_current()? else { return Ok(false) };
        let position = index.change_position();
        // In chunks: ten million products held at once took more than 10 GiB.
        let mut vectors = SimilarIndex::default();
        let mut chunk = Vec::with_capacity(LOAD_CHUNK);
        index.for_each_product(|p| {
            chunk.push(p);
            if chunk.len() == LOAD_CHUNK {
                vectors.extend(&model, std::mem::replace(&mut chunk, Vec::with_capacity(LOAD_CHUNK)));
            }
        })?;
        vectors.extend(&model, chunk);
        tracing::info!(version = %model.version, products = vectors.len(), "similar-products model loaded");
        self.swap(model, vectors, position);
        Ok(true)
    }

    fn swap(&self, model: SimilarModel, index: SimilarIndex, position: u64) {
        *self.position.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = position;
        self.served.store(Some(Arc::new(Served { model, index: RwLock::new(index) })));
    }

    /// Trains on every product and the events' baskets, saves the model as the next version and
    /// serves it. A failure leaves the served model as it was.
    pub fn refresh(&self, index: &ProductIndex, events: &EventStore) -> anyhow::Result<RefreshReport> {
        let _one = self.refreshing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let started = std::time::Instant::now();
        let position = index.change_position();
        let mut products = Vec::new();
        index.for_each_product(|p| products.push(p))?;
        tracing::info!(products = products.len(), "recommendations refresh: training");
        let (mut model, vectors) = train_similar(products, &|step| tracing::info!("recommendations refresh: {step}"))?;
        model.bought_together = events.read(|a| bought_together(a.baskets(), self.config.bought_together_per_product));
        let model = self.store.save(model)?;
        let report = RefreshReport {
            version: model.version.clone(),
            products: vectors.len(),
            features: model.features(),
            bought_together: model.bought_together.len(),
            seconds: started.elapsed().as_secs_f64(),
        };
        self.swap(model, vectors, position);
        tracing::info!(version = %report.version, seconds = report.seconds, "recommendations refresh: done");
        Ok(report)
    }

    /// Brings the vectors up to date with the index's committed changes (new products get
    /// neighbours from the current model at once). A feed overrun reloads every product.
    pub fn follow(&self, index: &ProductIndex) -> anyhow::Result<()> {
        let Some(served) = self.served.load_full() else { return Ok(()) };
        let mut position = self.position.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let changes = index.changes_since(*position);
        let Some(ids) = changes.ids else {
            drop(position);
            self.load_current(index)?;
            return Ok(());
        };
        if ids.is_empty() {
            return Ok(());
        }
        let mut vectors = served.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in ids {
            match index.get(&id) {
                Ok(product) => vectors.upsert(&served.model, &product),
                Err(searchd_indexer::Error::NotFound(_)) => vectors.remove(&id),
                Err(e) => return Err(e.into()),
            }
        }
        *position = changes.position;
        Ok(())
    }

    /// Runs `f` on the served model and its vectors (the similar and bought-together routes, and
    /// the recommend bench); the model's version comes back with the answer. `None` while no
    /// model is served yet.
    pub fn lookup<T>(
        &self,
        limit: usize,
        f: impl FnOnce(&SimilarModel, &SimilarIndex, usize) -> T,
    ) -> Option<(String, T)> {
        let served = self.served.load_full()?;
        let index = served.index.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        Some((served.model.version.clone(), f(&served.model, &index, limit)))
    }
}

/// The recommendations' background work in `serve`: a first model when none is saved, the
/// nightly refresh, following the index's changes, and picking up models saved elsewhere.
pub fn spawn_recommendation_tasks(
    state: &Engine,
    config: &RecommendationsConfig,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let (recs, index, events) = (state.recommendations.clone(), state.index.clone(), state.ranking.events.clone());
    let start = {
        let (recs, index, events, ready) = (recs.clone(), index.clone(), events.clone(), state.ready.clone());
        tokio::task::spawn_blocking(move || {
            // The demo catalog may still be loading.
            while !ready.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(100));
            }
            // `serve` loads a saved model before it says ready.
            let loaded = if recs.served_name().is_some() { Ok(true) } else { recs.load_current(&index) };
            match loaded {
                Ok(true) => {}
                Ok(false) if index.num_docs() > 0 => {
                    if let Err(e) = recs.refresh(&index, &events) {
                        tracing::error!(error = %e, "first recommendations model failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "cannot load the recommendations model"),
            }
        })
    };
    let nightly = {
        let (recs, index, events) = (recs.clone(), index.clone(), events.clone());
        spawn_schedule("recommendations", &config.schedule, Arc::new(SystemClock), Duration::from_secs(1), move || {
            recs.refresh(&index, &events).map(|_| ())
        })?
    };
    let every = Duration::from_millis(config.poll_interval_ms);
    let follow = tokio::spawn(async move {
        let _ = start.await;
        let mut name = recs.store().current_name().ok().flatten();
        loop {
            tokio::time::sleep(every).await;
            let (recs, index) = (recs.clone(), index.clone());
            let seen = name.clone();
            let polled = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<String>> {
                let current = recs.store().current_name()?;
                // A model saved or rolled back by another process: serve it.
                if current != seen && current != recs.served_name() {
                    recs.load_current(&index)?;
                }
                recs.follow(&index)?;
                Ok(current)
            })
            .await;
            match polled {
                Ok(Ok(current)) => name = current,
                Ok(Err(e)) => tracing::warn!(error = %e, "recommendations follow failed"),
                Err(e) => tracing::warn!(error = %e, "recommendations follow panicked"),
            }
        }
    });
    Ok(vec![nightly, follow])
}
