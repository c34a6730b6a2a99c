//! `/v1/admin`: the Kafka ingester's progress, the served ranker, a recommendations refresh,
//! snapshots.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use searchd_engine::RefreshReport;
use searchd_engine::snapshot::SnapshotInfo;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::state::AppState;

/// The Kafka ingester's progress: per partition committed offset, high watermark and lag, last
/// commit, dead letters. `{"state": "disabled"}` when `[kafka]` is off.
#[utoipa::path(get, path = "/v1/admin/ingest", tag = "admin", responses(
    (status = 200, description = "Per-partition offsets, lag and dead letters, or `{\"state\": \"disabled\"}`",
     body = Object, example = json!({"state": "disabled"}))))]
pub async fn ingest_status(State(state): State<AppState>) -> Json<Value> {
    match state.ingest.get() {
        Some(handle) => Json(json!(handle.status())),
        None => Json(json!({ "state": "disabled" })),
    }
}

/// `GET /v1/admin/ranker`: the served model and the events behind the signals.
#[utoipa::path(get, path = "/v1/admin/ranker", tag = "admin", responses(
    (status = 200, description = "The served learned ranker", body = RankerStatus)))]
pub async fn ranker_status(State(state): State<AppState>) -> ApiResult<Json<RankerStatus>> {
    let ranker = state.ranking.ranker();
    let events = state.ranking.events.read(|a| a.events());
    Ok(Json(RankerStatus { model_version: state.ranking.model_version(), window: ranker.window, events }))
}

/// `GET /v1/admin/ranker`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RankerStatus {
    /// The learned re-ranker served, `null` when none is trained.
    model_version: Option<String>,
    /// Hits phase 2 re-ranks.
    window: usize,
    /// Behaviour events aggregated so far.
    events: u64,
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

/// `POST /v1/admin/snapshots`: a snapshot of the serving state now (tag `manual`), while
/// searches and writes go on. 201 with its manifest (files, sizes, checksums).
#[utoipa::path(post, path = "/v1/admin/snapshots", tag = "admin", responses(
    (status = 201, description = "The snapshot's manifest", body = searchd_engine::snapshot::Manifest),
    (status = 409, description = "A manual snapshot was already taken this second", body = ErrorBody)))]
pub async fn create_snapshot(
    State(state): State<AppState>,
) -> ApiResult<(StatusCode, Json<searchd_engine::snapshot::Manifest>)> {
    let manifest = tokio::task::spawn_blocking(move || {
        state.snapshots.create(&state.engine, searchd_engine::snapshot::MANUAL, chrono::Utc::now())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| match e.downcast::<searchd_engine::snapshot::SnapshotExists>() {
        Ok(exists) => ApiError::new(Code::SnapshotExists, exists.to_string()),
        Err(e) => ApiError::internal(format!("{e:#}")),
    })?;
    Ok((StatusCode::CREATED, Json(manifest)))
}

/// `GET /v1/admin/snapshots`: every snapshot, oldest first.
#[utoipa::path(get, path = "/v1/admin/snapshots", tag = "admin", responses(
    (status = 200, description = "Snapshots, oldest first", body = SnapshotList)))]
pub async fn list_snapshots(State(state): State<AppState>) -> ApiResult<Json<SnapshotList>> {
    let list = tokio::task::spawn_blocking(move || state.snapshots.list())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(SnapshotList { snapshots: list }))
}

/// `GET /v1/admin/snapshots`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotList {
    /// Oldest first.
    pub snapshots: Vec<SnapshotInfo>,
}
