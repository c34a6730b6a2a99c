//! The `searchd` HTTP API (axum) and the pieces of the `searchd` binary: configuration,
//! routes, extractors, errors, the demo catalog and relevance evaluation. This crate is the
//! composition root: it wires the indexer, the ranking and (later) the other crates together.
//!
//! Tests call [`router`] with `tower::ServiceExt::oneshot`, no socket needed:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use searchd_api::{AppState, Config, router};
//! let config = Config::default();
//! let state = AppState::open(&config)?;
//! let app = router(state, &config.http);
//! let listener = tokio::net::TcpListener::bind(config.http.listen).await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

pub mod auth;
mod autocomplete;
pub mod cache;
mod config;
mod error;
mod events;
mod extract;
pub mod guard;
mod hygiene;
mod metrics;
pub mod openapi;
mod recommend;
mod routes;
mod vendors;
pub mod web;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post, put};
use searchd_engine::Engine;
use searchd_indexer::ProductIndex;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use auth::{AuthConfig, JwtConfig, KeyStore, Scope};
pub use autocomplete::{AUTOCOMPLETE_PARAMS, AutocompleteQuery, AutocompleteResponse, parse_autocomplete_query};
pub use cache::CacheConfig;
pub use config::{Config, HttpConfig, LogConfig, LogFormat};
pub use error::{ApiError, Code};
pub use extract::{SEARCH_PARAMS, parse_search_query};
pub use guard::{ClassLimits, Limit, RateLimitConfig};
pub use vendors::{VENDOR_SEARCH_PARAMS, parse_vendor_query};

/// What every handler shares: the engine, and what HTTP adds to it. It dereferences to the
/// [`Engine`], so handlers read `state.index`, `state.ranking`, ….
#[derive(Clone, Debug)]
pub struct AppState {
    /// The served indexes, ranking, suggestions and recommendations.
    pub engine: Engine,
    /// What `GET /metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
    /// Search and autocomplete answers.
    pub cache: Arc<cache::ResponseCache>,
    /// API keys and bearer tokens.
    pub auth: Arc<auth::Authenticator>,
    /// Token buckets per caller and per client IP.
    pub limiter: Arc<guard::RateLimiter>,
    /// The storefront page's settings.
    pub web: Arc<web::WebConfig>,
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
        let metrics: Arc<metrics::Metrics> = Arc::default();
        // What answers depend on besides the content: nodes differing here never share them.
        let fingerprint =
            cache::settings_fingerprint(&(&config.index, &config.ranking, &config.ranker, &config.autocomplete));
        Ok(Self {
            cache: Arc::new(cache::ResponseCache::new(&config.cache, &fingerprint, metrics.clone())),
            auth: Arc::new(auth::Authenticator::open(&config.auth, &config.data_dir)?),
            limiter: Arc::new(guard::RateLimiter::new(&config.rate_limit)),
            web: Arc::new(config.web.clone()),
            metrics,
            engine,
        })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: a per-process random prefix and a counter.
#[derive(Clone, Debug)]
struct Counter {
    prefix: u32,
    next: Arc<AtomicU64>,
}

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}-{n}", self.prefix).parse().ok().map(RequestId::new)
    }
}

/// The whole HTTP application.
pub fn router(state: AppState, http: &HttpConfig) -> Router {
    let prefix = std::process::id()
        ^ (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()));
    let bulk = Router::new()
        .route("/v1/products/bulk", post(routes::bulk_products))
        .route("/v1/vendors/bulk", post(vendors::bulk_vendors))
        .route("/v1/events", post(events::post_events))
        .layer(DefaultBodyLimit::max(http.max_bulk_body_bytes));
    let app = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/v1/products/search", get(routes::search_get).post(routes::search_post))
        .route("/v1/autocomplete", get(autocomplete::autocomplete))
        .route("/v1/admin/ranker", get(events::ranker_status))
        .route("/v1/admin/ingest", get(routes::ingest_status))
        .route("/v1/admin/recommendations/refresh", post(recommend::refresh_route))
        .route("/v1/admin/snapshots", post(routes::create_snapshot).get(routes::list_snapshots))
        .route("/v1/products/{id}/similar", get(recommend::similar))
        .route("/v1/products/{id}/bought-together", get(recommend::bought_together_route))
        .route("/v1/products/{id}", put(routes::put_product).get(routes::get_product).delete(routes::delete_product))
        .route("/v1/vendors/search", get(vendors::search_vendors))
        .route("/v1/vendors/match", post(vendors::match_vendors))
        .route("/v1/vendors/{id}", put(vendors::put_vendor).get(vendors::get_vendor).delete(vendors::delete_vendor))
        .layer(DefaultBodyLimit::max(http.max_body_bytes))
        .merge(bulk)
        .merge(web::routes(&state))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::gate))
        .layer(axum::middleware::from_fn_with_state(hygiene::Limits::from_config(http), hygiene::limits))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, Counter { prefix, next: Arc::default() }));
    hygiene::wrap(app, http)
}
