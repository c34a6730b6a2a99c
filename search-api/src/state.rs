//! What every handler shares: the engine, and what HTTP adds to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use searchd_engine::Engine;
use searchd_indexer::ProductIndex;

use crate::config::{Config, WebConfig};
use crate::middleware::auth::Authenticator;
use crate::middleware::cache::{ResponseCache, settings_fingerprint};
use crate::middleware::limits::RateLimiter;
use crate::middleware::metrics::Metrics;

/// What every handler shares: the engine, and what HTTP adds to it. It dereferences to the
/// [`Engine`], so handlers read `state.index`, `state.ranking`, ….
#[derive(Clone, Debug)]
pub struct AppState {
    /// The served indexes, ranking, suggestions and recommendations.
    pub engine: Engine,
    /// What `GET /metrics` reports.
    pub metrics: Arc<Metrics>,
    /// Search and autocomplete answers.
    pub cache: Arc<ResponseCache>,
    /// API keys and bearer tokens.
    pub auth: Arc<Authenticator>,
    /// Token buckets per caller and per client IP.
    pub limiter: Arc<RateLimiter>,
    /// The storefront page's settings.
    pub web: Arc<WebConfig>,
    /// Where searches run: on the worker that took the request or on the blocking pool.
    pub placement: Arc<Placement>,
}

impl std::ops::Deref for AppState {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl AppState {
    /// Opens the engine on the configured data dir, with the HTTP layer's parts.
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        Self::new(Engine::open(&config.engine())?, config)
    }

    /// A product index with an empty in-memory vendor index, and a query log and events kept
    /// in memory only (tests, benches); models are read from the configured data dir.
    pub fn with_index(index: ProductIndex, config: &Config) -> anyhow::Result<Self> {
        Self::new(Engine::with_index(index, &config.engine())?, config)
    }

    /// The HTTP layer's parts around `engine`.
    pub fn new(engine: Engine, config: &Config) -> anyhow::Result<Self> {
        let metrics: Arc<Metrics> = Arc::default();
        // What answers depend on besides the content: nodes differing here never share them.
        let fingerprint = settings_fingerprint(&(&config.index, &config.ranking, &config.ranker, &config.autocomplete));
        Ok(Self {
            cache: Arc::new(ResponseCache::new(&config.cache, &fingerprint, metrics.clone())),
            auth: Arc::new(Authenticator::open(&config.auth, &config.data_dir)?),
            limiter: Arc::new(RateLimiter::new(&config.rate_limit)),
            web: Arc::new(config.web.clone()),
            placement: Arc::default(),
            metrics,
            engine,
        })
    }
}

/// Where a search runs. While searches are quick (a mean under [`Placement::INLINE_BELOW`]) they
/// run on the async worker that took the request: on the Home Depot catalog the hop to the
/// blocking pool and back (two thread wake-ups) cost a fifth of a request's CPU and doubled its
/// p99 at 4 connections. Once they are slower (a large catalog, heavy facets) they move to the
/// blocking pool, so the workers keep answering health checks, cache hits and quick routes
/// meanwhile. The mean is a moving average of the last searches, wherever they ran.
#[derive(Debug, Default)]
pub struct Placement {
    /// Moving average of search time, µs.
    mean_us: AtomicU64,
}

impl Placement {
    /// Searches averaging less than this run on the async worker.
    pub const INLINE_BELOW: Duration = Duration::from_millis(3);

    /// Runs `work` on the async worker or on the blocking pool, timing it.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        if self.inline() {
            return Ok(self.timed(work));
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.timed(work)).await
    }

    /// Whether the next search runs on the async worker.
    pub fn inline(&self) -> bool {
        self.mean_us.load(Ordering::Relaxed) < Self::INLINE_BELOW.as_micros() as u64
    }

    fn timed<T>(&self, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = work();
        self.record(started.elapsed());
        out
    }

    /// Folds one search's time into the mean (weight 1/8).
    pub fn record(&self, took: Duration) {
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        // Lost updates between racing searches only drop a sample.
        let mean = self.mean_us.load(Ordering::Relaxed);
        let next = if sample >= mean { mean + (sample - mean) / 8 } else { mean - (mean - sample) / 8 };
        self.mean_us.store(next, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_searches_move_to_the_blocking_pool_and_quick_ones_come_back() {
        let placement = Placement::default();
        assert!(placement.inline(), "nothing measured yet");
        for _ in 0..8 {
            placement.record(Duration::from_micros(400));
        }
        assert!(placement.inline());
        for _ in 0..4 {
            placement.record(Duration::from_millis(20));
        }
        assert!(!placement.inline(), "a run of slow searches moves them off the workers");
        for _ in 0..40 {
            placement.record(Duration::from_micros(300));
        }
        assert!(placement.inline(), "quick again: back on the workers");
    }
}
