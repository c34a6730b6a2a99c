//! Health and operations: liveness, readiness, Prometheus metrics, and the answers to unknown
//! routes and methods.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (health), `ready` or `loading` (readiness).
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Products searchable now (readiness, once ready).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<u64>,
    /// Vendors searchable now (readiness, once ready).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendors: Option<u64>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "The process is up", body = Health, example = json!({"status": "ok"}))))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", documents: None, vendors: None })
}

/// Readiness: 200 once the start is complete (index, settings, ranker, suggestions and the saved
/// recommendations model served), 503 until then.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses(
    (status = 200, description = "Serving", body = Health,
     example = json!({"status": "ready", "documents": 312, "vendors": 128})),
    (status = 503, description = "Still starting: the catalog, the suggestions or the recommendations model are loading", body = Health, example = json!({"status": "loading"}))))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if state.ready.load(std::sync::atomic::Ordering::Acquire) {
        let (documents, vendors) = (Some(state.index.num_docs()), Some(state.vendors.num_docs()));
        (StatusCode::OK, Json(Health { status: "ready", documents, vendors }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "loading", documents: None, vendors: None }))
    }
}

/// Prometheus / OpenMetrics text: requests and latency by route and status, index, cache, rate
/// limits, Kafka ingest and models.
#[utoipa::path(get, path = "/metrics", tag = "health", security(()), responses(
    (status = 200, description = "OpenMetrics text exposition",
     content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let text =
        state.metrics.render(&state.engine).map_err(|e| ApiError::internal(format!("cannot encode metrics: {e}")))?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

/// Any route not served.
pub async fn not_found() -> ApiError {
    ApiError::new(Code::RouteNotFound, "no such route; see the README for the API")
}

/// A served route with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(Code::MethodNotAllowed, "this route does not accept that method")
}
