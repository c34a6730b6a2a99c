//! The `searchd` HTTP API, with axum, and nothing else: [`router`] serves an [`AppState`] — the
//! engine's served parts (`searchd-engine`) plus what HTTP adds (keys and tokens, rate limits,
//! the response cache, metrics). `routes/` holds the handlers by area with their parameter and
//! answer types, `middleware/` what wraps every route, `openapi` the description assembled from
//! the handlers, [`Config`] the configuration file's type (the binary loads it).
//!
//! Tests call [`router`] with `tower::ServiceExt::oneshot`, no socket needed:
//!
//! ```
//! use axum::body::Body;
//! use axum::http::Request;
//! use searchd_api::{AppState, Config, router};
//! use searchd_indexer::{IndexConfig, ProductIndex};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let dir = tempfile::tempdir()?;
//! let config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
//! let state = AppState::with_index(ProductIndex::in_memory(IndexConfig::small())?, &config)?;
//! let answer = router(state, &config.http).oneshot(Request::get("/healthz").body(Body::empty())?).await?;
//! // Health is open; every other route needs a key unless `[auth] enabled = false`.
//! assert_eq!(answer.status(), 200);
//! # Ok::<(), anyhow::Error>(()) })?;
//! # Ok::<(), anyhow::Error>(())
//! ```

#![warn(missing_docs)]

mod config;
mod error;
mod extractors;
pub mod middleware;
pub mod openapi;
mod routes;
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post, put};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use config::{Config, HttpConfig, LogConfig, LogFormat, WebConfig};
pub use error::{ApiError, Code};
pub use middleware::auth::{AuthConfig, JwtConfig, KeyStore, Scope};
pub use middleware::cache::CacheConfig;
pub use middleware::limits::{ClassLimits, Limit, RateLimitConfig};
pub use routes::autocomplete::{
    AUTOCOMPLETE_PARAMS, AutocompleteQuery, AutocompleteResponse, parse_autocomplete_query,
};
pub use routes::products::{SEARCH_PARAMS, parse_search_query};
pub use routes::vendors::{VENDOR_SEARCH_PARAMS, parse_vendor_query};
pub use state::AppState;

use middleware::{hygiene, limits, metrics};
use routes::{
    admin, autocomplete, events, facets, health, offers, preview, products, recommendations, rfis, settings,
    storefront, vendors,
};

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
    let gate =
        limits::Gate { auth: state.auth.clone(), limiter: state.limiter.clone(), metrics: state.metrics.clone() };
    let bulk = Router::new()
        .route("/v1/products/bulk", post(products::bulk_products))
        .route("/v1/vendors/bulk", post(vendors::bulk_vendors))
        .route("/v1/offers/bulk", post(offers::bulk_offers))
        .route("/v1/rfis/bulk", post(rfis::bulk_rfis))
        .route("/v1/events", post(events::post_events))
        .layer(DefaultBodyLimit::max(http.max_bulk_body_bytes));
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/v1/products/search", get(products::search_get).post(products::search_post))
        .route("/v1/autocomplete", get(autocomplete::autocomplete))
        .route("/v1/products/facets/{name}", get(facets::facet_search))
        .route("/v1/settings", get(settings::get_settings).patch(settings::patch_settings))
        .route("/v1/settings/preview", post(preview::preview_settings))
        .route("/v1/rules", get(settings::list_rules))
        .route("/v1/tasks", get(settings::list_tasks))
        .route("/v1/tasks/{id}", get(settings::get_task))
        .route("/v1/admin/ranker", get(admin::ranker_status))
        .route("/v1/admin/ingest", get(admin::ingest_status))
        .route("/v1/admin/recommendations/refresh", post(admin::refresh_route))
        .route("/v1/admin/snapshots", post(admin::create_snapshot).get(admin::list_snapshots))
        .route("/v1/products/{id}/similar", get(recommendations::similar))
        .route("/v1/products/{id}/bought-together", get(recommendations::bought_together_route))
        .route("/v1/products/{id}/offers", get(offers::product_offers))
        .route(
            "/v1/products/{id}",
            put(products::put_product).get(products::get_product).delete(products::delete_product),
        )
        .route("/v1/vendors/search", get(vendors::search_vendors))
        .route("/v1/vendors/match", post(vendors::match_vendors))
        .route("/v1/vendors/{id}", put(vendors::put_vendor).get(vendors::get_vendor).delete(vendors::delete_vendor))
        .route("/v1/offers/{id}", put(offers::put_offer).get(offers::get_offer).delete(offers::delete_offer))
        .route("/v1/rfis/search", get(rfis::search_rfis))
        .route("/v1/rfis/{id}", put(rfis::put_rfi).get(rfis::get_rfi).delete(rfis::delete_rfi))
        .route("/v1/vendors/{id}/rfis", get(rfis::vendor_rfis))
        .layer(DefaultBodyLimit::max(http.max_body_bytes))
        .merge(bulk)
        .merge(storefront::routes(&state))
        .fallback(health::not_found)
        .method_not_allowed_fallback(health::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(gate, limits::gate))
        .layer(axum::middleware::from_fn_with_state(hygiene::Limits::from_config(http), hygiene::limits))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, Counter { prefix, next: Arc::default() }));
    hygiene::wrap(app, http)
}
