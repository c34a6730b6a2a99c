//! `POST /v1/events`: behaviour events, one result per item.

use axum::Json;
use axum::extract::{Request, State};
use searchd_ranking::Event;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::routes::documents::{ItemError, RefreshParam, read_bulk};
use crate::state::AppState;

/// One result per event, in request order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventsResponse {
    /// Whether any item was rejected.
    errors: bool,
    accepted: usize,
    rejected: usize,
    /// One result per item, in request order: `{"index", "status": "accepted"}` or
    /// `{"index", "status": "rejected", "error": {"code", "field", "message"}}`.
    #[schema(value_type = Vec<EventItemResult>)]
    items: Vec<Value>,
}

/// An event from JSON, naming the field at fault (`type` for an unknown kind).
fn event_from_value(value: Value) -> Result<Event, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // A missing field is reported at the parent; name it from serde's message.
        let field = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
            .map(str::to_string)
            .unwrap_or_else(|| if path == "." { "body".to_string() } else { path });
        ApiError::new(Code::InvalidEvent, format!("`{field}`: {message}")).with_field(field)
    })
}

/// `POST /v1/events[?refresh=true]`: a JSON array of events, or NDJSON. Valid events are logged
/// durably (fsync) before the answer, then aggregated; each invalid one is rejected with the
/// field at fault, without disturbing the others. `refresh` folds engagement into the index
/// before answering (otherwise the scheduled fold does it within `events.fold_interval_ms`).
#[utoipa::path(post, path = "/v1/events", tag = "events", params(RefreshParam),
    request_body(description = "Events as a JSON array or NDJSON", content(
        (Vec<Event> = "application/json", example = json!([
            {"type": "click", "product_id": "sku-1", "query": "drill", "position": 2, "session_id": "s-81",
             "timestamp": "2026-11-22T10:15:00Z"},
            {"type": "purchase", "product_id": "sku-1", "session_id": "s-81", "timestamp": "2026-11-22T10:19:30Z"}])),
        (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "Per-item results; valid events are durable when this answers",
         body = EventsResponse, example = json!({"errors": true, "accepted": 1, "rejected": 1, "items": [
            {"index": 0, "status": "accepted"},
            {"index": 1, "status": "rejected", "error": {"code": "invalid_event", "field": "type",
             "message": "`type`: unknown variant `like`, expected one of `view`, `click`, `add_to_cart`, `purchase`"}}]})),
        (status = 400, description = "The body is not a JSON array / NDJSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is neither JSON nor NDJSON", body = ErrorBody)))]
pub async fn post_events(State(state): State<AppState>, req: Request) -> ApiResult<Json<EventsResponse>> {
    let (params, items) = read_bulk(req, "events").await?;
    let response = tokio::task::spawn_blocking(move || {
        let now = time::OffsetDateTime::now_utc();
        let mut results: Vec<Value> = Vec::with_capacity(items.len());
        let mut good = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let checked = item.map_err(|(_, e)| e).and_then(|(_, value)| {
                let event = event_from_value(value)?;
                event.validate(now).map_err(|e| {
                    let field = e.param().to_string();
                    ApiError::new(Code::InvalidEvent, e.to_string()).with_field(field)
                })?;
                if !state.index.is_live(&event.product_id) {
                    return Err(ApiError::new(
                        Code::InvalidEvent,
                        format!("no product `{}` in the index", event.product_id),
                    )
                    .with_field("product_id"));
                }
                Ok(event)
            });
            match checked {
                Ok(event) => {
                    good.push(event);
                    results.push(json!({ "index": i, "status": "accepted" }));
                }
                Err(e) => {
                    let mut error = json!({ "code": e.code.name(), "message": e.message });
                    if let Some(field) = e.field {
                        error["field"] = json!(field);
                    }
                    results.push(json!({ "index": i, "status": "rejected", "error": error }));
                }
            }
        }
        let accepted = good.len();
        state.ranking.events.record(&good).map_err(ApiError::internal)?;
        if params.refresh {
            state.ranking.fold_engagement(&state.index).map_err(ApiError::internal)?;
        }
        let rejected = results.len() - accepted;
        Ok::<_, ApiError>(EventsResponse { errors: rejected > 0, accepted, rejected, items: results })
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(response))
}

/// An event's result.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes JSON built in post_events")]
pub struct EventItemResult {
    index: usize,
    /// `accepted` or `rejected`.
    status: String,
    error: Option<ItemError>,
}
