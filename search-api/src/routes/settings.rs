//! `/v1/settings` and `/v1/tasks`: the index's settings, changed at runtime by a background task.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use searchd_catalog::Settings;
use searchd_catalog::rules::{Rule, RuleStatus};
use searchd_catalog::settings::Task;
use searchd_engine::settings::SettingsError;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::extractors::{Body, JsonKind, json_kind, parse_json};
use crate::state::AppState;

/// `GET /v1/settings`: the settings searches see now (the declared attributes, their types and
/// uses), with their version.
#[utoipa::path(get, path = "/v1/settings", tag = "settings", responses(
    (status = 200, description = "The served settings", body = Settings,
     example = json!({"version": 2, "attributes": {"colour": {"type": "keyword", "filterable": true, "facetable": true, "sortable": false}}}))))]
pub async fn get_settings(State(state): State<AppState>) -> Json<Settings> {
    Json(state.index.settings().settings.clone())
}

/// `PATCH /v1/settings` (scope `admin`): a JSON merge patch of the settings (`{"attributes":
/// {"colour": {"type": "keyword", "filterable": true}, "old": null}}`). Answers 202 with the task
/// that applies it; searches go on with the served settings until it succeeds. A change that
/// holds attributes differently writes every document again; one of flags only applies at once.
#[utoipa::path(patch, path = "/v1/settings", tag = "settings",
    request_body(description = "A JSON merge patch of the settings", content(
        (Object = "application/json", example = json!({"attributes": {"colour": {"type": "keyword", "filterable": true, "facetable": true}}})))),
    responses(
        (status = 202, description = "Accepted: the task applying it", body = Task),
        (status = 400, description = "`invalid_settings`: the change is malformed or declares something invalid; the message names the key", body = ErrorBody),
        (status = 409, description = "`settings_task_running`: another change is being applied; `preview_required`: `require_preview` is on and this change was not previewed", body = ErrorBody),
        (status = 413, description = "Body over `http.max_body_bytes`", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody)))]
pub async fn patch_settings(State(state): State<AppState>, req: Request) -> ApiResult<(StatusCode, Json<Task>)> {
    if json_kind(req.headers())? != JsonKind::Json {
        return Err(ApiError::new(Code::InvalidContentType, "settings are one JSON object: send application/json"));
    }
    let Body(bytes) = Body::from_request(req, &()).await?;
    let patch: Value = parse_json(&bytes).map_err(|e| e.into_api_error(Code::InvalidSettings))?;
    let task = tokio::task::spawn_blocking(move || state.settings.update(&state.index, &state.vendors, &patch))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            SettingsError::Invalid(message) => {
                let field = message.split_once(": ").map_or("body", |(f, _)| f);
                let named = [
                    "attributes",
                    "vendors",
                    "synonyms",
                    "stop_words",
                    "weights",
                    "signals",
                    "rules",
                    "require_preview",
                ]
                .iter()
                .any(|key| field.starts_with(key));
                let field = if named { field.to_string() } else { "body".to_string() };
                ApiError::new(Code::InvalidSettings, message).with_field(field)
            }
            SettingsError::Busy(_) => ApiError::new(Code::SettingsTaskRunning, e.to_string()),
            SettingsError::PreviewRequired(_) => ApiError::new(Code::PreviewRequired, e.to_string()),
            SettingsError::Io(e) => ApiError::internal(e),
        })?;
    Ok((StatusCode::ACCEPTED, Json(task)))
}

/// `GET /v1/tasks/{id}` (scope `admin`): a settings task's status, progress (documents done of
/// total) and errors.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "settings",
    params(("id" = u64, Path, description = "The task's id (the version of the settings it applies)")),
    responses(
        (status = 200, description = "The task", body = Task),
        (status = 400, description = "`invalid_task_id`", body = ErrorBody),
        (status = 404, description = "`task_not_found`", body = ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Task>> {
    let Path(raw) = path.map_err(|e| ApiError::new(Code::InvalidTaskId, e.body_text()))?;
    let id: u64 = raw
        .parse()
        .map_err(|_| ApiError::new(Code::InvalidTaskId, format!("task id `{raw}` is not a whole number")))?;
    state.settings.task(id).map(Json).ok_or_else(|| {
        ApiError::new(Code::TaskNotFound, format!("no task {id} (tasks are remembered until a restart)"))
    })
}

/// `GET /v1/rules`: the served rules with where each stands now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleList {
    /// The version of the settings the rules belong to.
    pub version: u64,
    /// The rules, in the order they apply.
    pub rules: Vec<ListedRule>,
}

/// A rule and its status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListedRule {
    /// `active`, `scheduled`, `expired` or `disabled`, now.
    pub status: RuleStatus,
    /// The rule as declared.
    #[serde(flatten)]
    pub rule: Rule,
}

/// `GET /v1/rules`: the merchandising rules of the served settings, in the order they apply,
/// each with its status now (`active`, `scheduled` before its window, `expired` after it,
/// `disabled`). They change with `PATCH /v1/settings` (`{"rules": [...]}`).
#[utoipa::path(get, path = "/v1/rules", tag = "settings", responses(
    (status = 200, description = "The served rules", body = RuleList, example = json!({"version": 4, "rules": [
        {"status": "active", "id": "black-friday", "conditions": {"query": {"contains": "tv"}, "until": "2026-12-01T00:00:00Z"},
         "actions": {"pin": [{"id": "tv-55", "position": 1}], "bury": [{"filter": "in_stock = false"}]}}]}))))]
pub async fn list_rules(State(state): State<AppState>) -> Json<RuleList> {
    let served = state.index.settings();
    let now = state.index.clock_now();
    let rules = served.settings.rules.iter().map(|r| ListedRule { status: r.status(now), rule: r.clone() }).collect();
    Json(RuleList { version: served.settings.version, rules })
}

/// `GET /v1/tasks`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskList {
    /// Newest first.
    pub tasks: Vec<Task>,
}

/// `GET /v1/tasks` (scope `admin`): the tasks since the node started, newest first.
#[utoipa::path(get, path = "/v1/tasks", tag = "settings", responses(
    (status = 200, description = "Tasks, newest first", body = TaskList)))]
pub async fn list_tasks(State(state): State<AppState>) -> Json<TaskList> {
    Json(TaskList { tasks: state.settings.tasks() })
}
