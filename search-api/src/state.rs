//! What every handler shares: the engine, and what HTTP adds to it.

use std::sync::Arc;

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
            metrics,
            engine,
        })
    }
}
