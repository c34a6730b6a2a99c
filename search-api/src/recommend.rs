//! Recommendations as served: the current similar-products model and its index of product
//! vectors (kept current with the product index's change feed, so new products have
//! neighbours at once), the refresh job (train, save a new version, swap), the cron scheduler
//! that runs it, and the `/similar` and `/bought-together` routes.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use chrono::{DateTime, Utc};
use searchd_indexer::ProductIndex;
use searchd_models::{SimilarIndex, SimilarModel, SimilarStore, bought_together, train_similar};
use searchd_ranking::EventStore;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Code, ErrorBody};

/// `[recommendations]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecommendationsConfig {
    /// When the refresh runs, as a cron expression in UTC with seconds:
    /// `sec min hour day-of-month month day-of-week`.
    pub schedule: String,
    /// Model versions kept (for `searchd models rollback`).
    pub keep: usize,
    /// Clusters searched per request.
    pub probes: usize,
    /// Co-purchased products remembered per product.
    pub bought_together_per_product: usize,
    /// How often a model saved by another process (`searchd train`, a rollback) is looked for.
    pub poll_interval_ms: u64,
}

impl Default for RecommendationsConfig {
    fn default() -> Self {
        Self {
            schedule: "0 0 2 * * *".into(),
            keep: 5,
            probes: searchd_models::similar::DEFAULT_PROBES,
            bought_together_per_product: 50,
            poll_interval_ms: 2_000,
        }
    }
}

impl RecommendationsConfig {
    pub fn validate(&self) -> Result<(), String> {
        cron::Schedule::from_str(&self.schedule)
            .map_err(|e| format!("recommendations.schedule `{}`: {e}", self.schedule))?;
        if self.keep == 0 || self.probes == 0 || self.poll_interval_ms == 0 {
            return Err("recommendations.keep, probes and poll_interval_ms must be at least 1".into());
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
    pub version: String,
    pub products: usize,
    pub clusters: usize,
    pub bought_together: usize,
    pub seconds: f64,
}

impl Recommendations {
    pub fn new(store: SimilarStore, config: RecommendationsConfig) -> Self {
        Self { store, served: ArcSwapOption::empty(), config, position: Mutex::new(0), refreshing: Mutex::new(()) }
    }

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
        let mut products = Vec::new();
        index.for_each_product(|p| products.push(p))?;
        let vectors = SimilarIndex::build(&model, products);
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
            clusters: model.clusters,
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
    /// the recommend bench); the model's version comes back with the answer.
    pub fn lookup(
        &self,
        limit: usize,
        f: impl FnOnce(&SimilarModel, &SimilarIndex, usize) -> Option<Vec<searchd_models::Neighbour>>,
    ) -> Result<(String, Option<Vec<searchd_models::Neighbour>>), ApiError> {
        let served = self.served.load_full().ok_or_else(|| {
            ApiError::new(
                Code::ModelNotReady,
                "no similar-products model yet: it is being trained (or run `searchd train`)",
            )
        })?;
        let index = served.index.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok((served.model.version.clone(), f(&served.model, &index, limit)))
    }
}

/// A clock, injectable for the scheduler's tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Runs `job` every time the cron `schedule` (UTC) comes due by `clock`, checking every `tick`.
/// A job that fails is logged (as `name`); the next one runs at the next due time.
pub fn spawn_schedule(
    name: &'static str,
    schedule: &str,
    clock: Arc<dyn Clock>,
    tick: Duration,
    job: impl Fn() -> anyhow::Result<()> + Send + Sync + 'static,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let schedule = cron::Schedule::from_str(schedule).map_err(|e| anyhow::anyhow!("schedule `{schedule}`: {e}"))?;
    let job = Arc::new(job);
    Ok(tokio::spawn(async move {
        let mut next = schedule.after(&clock.now()).next();
        loop {
            tokio::time::sleep(tick).await;
            let Some(due) = next else { return };
            let now = clock.now();
            if now < due {
                continue;
            }
            let job = job.clone();
            match tokio::task::spawn_blocking(move || job()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(job = name, error = %e, "scheduled job failed; what it replaces stays"),
                Err(e) => tracing::error!(job = name, error = %e, "scheduled job panicked; what it replaces stays"),
            }
            next = schedule.after(&now).next();
        }
    }))
}

/// The recommendations' background work in `serve`: a first model when none is saved, the
/// nightly refresh, following the index's changes, and picking up models saved elsewhere.
pub fn spawn_recommendation_tasks(
    state: &AppState,
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
            let loaded = recs.load_current(&index);
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

/// `limit` (1..=100, default 10) and nothing else.
fn parse_limit(query: Option<&str>) -> Result<usize, ApiError> {
    let mut limit = 10;
    for (key, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or("")).map_err(|e| {
        ApiError::new(Code::InvalidRecommendationsParam("query".into()), format!("malformed query string: {e}"))
    })? {
        match key.as_str() {
            "limit" => {
                limit = value.parse().ok().filter(|l| (1..=100).contains(l)).ok_or_else(|| {
                    ApiError::new(
                        Code::InvalidRecommendationsParam("limit".into()),
                        format!("limit `{value}`: must be a whole number from 1 to 100"),
                    )
                    .with_field("limit")
                })?
            }
            other => {
                return Err(ApiError::new(
                    Code::UnknownRecommendationsParameter,
                    format!("unknown parameter `{other}`; accepted: limit"),
                )
                .with_field(other));
            }
        }
    }
    Ok(limit)
}

/// `GET /v1/products/{id}/similar` and `/bought-together`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Neighbours {
    /// The product asked about.
    id: String,
    /// The similar-products model that answered.
    model_version: String,
    /// Nearest first.
    hits: Vec<Neighbour>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Neighbour {
    score: f32,
    product: searchd_catalog::Product,
}

async fn neighbours(state: AppState, id: String, query: Option<String>, together: bool) -> ApiResult<Json<Neighbours>> {
    let limit = parse_limit(query.as_deref())?;
    let probes = state.recommendations.config.probes;
    tokio::task::spawn_blocking(move || {
        if !state.index.is_live(&id) {
            return Err(ApiError::from(searchd_indexer::Error::NotFound(id.clone())));
        }
        let (version, found) = state.recommendations.lookup(limit, |model, index, limit| {
            if together {
                index.bought_together(model, &id, limit, probes)
            } else {
                index.similar(model, &id, limit, probes)
            }
        })?;
        // Committed but not yet followed: no neighbours for a moment, not an error.
        let found = found.unwrap_or_default();
        let scores: HashMap<&str, f32> = found.iter().map(|n| (n.id.as_str(), n.score)).collect();
        // In the neighbours' order; one just deleted is left out.
        let hits =
            state.index.get_many(found.iter().map(|n| n.id.as_str()))?.into_iter().map(|p| (scores[p.id.as_str()], p));
        let hits = hits.map(|(score, product)| Neighbour { score, product }).collect();
        Ok(Json(Neighbours { id, model_version: version, hits }))
    })
    .await
    .map_err(|e| ApiError::internal(format!("similar task: {e}")))?
}

/// Products like this one (same cluster, nearest by content and behaviour).
#[utoipa::path(get, path = "/v1/products/{id}/similar", tag = "recommendations",
    params(crate::openapi::IdPath, crate::openapi::LimitParam),
    responses(
        (status = 200, description = "Nearest first", body = Neighbours),
        (status = 400, description = "Bad or unknown parameter", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 503, description = "No similar-products model trained yet", body = ErrorBody)))]
pub async fn similar(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Neighbours>> {
    neighbours(state, id, q, false).await
}

/// Products bought in the same sessions as this one.
#[utoipa::path(get, path = "/v1/products/{id}/bought-together", tag = "recommendations",
    params(crate::openapi::IdPath, crate::openapi::LimitParam),
    responses(
        (status = 200, description = "Most often bought together first", body = Neighbours),
        (status = 400, description = "Bad or unknown parameter", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 503, description = "No similar-products model trained yet", body = ErrorBody)))]
pub async fn bought_together_route(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Neighbours>> {
    neighbours(state, id, q, true).await
}

/// `POST /v1/admin/recommendations/refresh`: trains now (as `searchd train`), answers when done.
#[utoipa::path(post, path = "/v1/admin/recommendations/refresh", tag = "admin", responses(
    (status = 200, description = "The new model", body = RefreshReport)))]
pub async fn refresh_route(State(state): State<AppState>) -> ApiResult<Json<RefreshReport>> {
    tokio::task::spawn_blocking(move || state.recommendations.refresh(&state.index, &state.ranking.events))
        .await
        .map_err(|e| ApiError::internal(format!("refresh task: {e}")))?
        .map(Json)
        .map_err(|e| ApiError::internal(format!("refresh failed (the previous model keeps serving): {e:#}")))
}
