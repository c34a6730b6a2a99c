//! `POST /v1/settings/preview`: a candidate settings change measured before it goes live, on
//! graded judgments sent with it and on the most searched queries of the query log.

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use searchd_catalog::{PrefixMode, RankingMode};
use searchd_ranking::eval::{self, Changed, EvalOptions, EvalSummary, Judgments, LogChange};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::extractors::{Body, JsonKind, json_kind, parse_json};
use crate::state::AppState;

/// Most judged pairs one preview takes.
const MAX_JUDGMENTS: usize = 100_000;
/// Most query-log queries one preview replays.
const MAX_SAMPLE: usize = 2_000;

/// What to preview.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The change, as `PATCH /v1/settings` takes it (a JSON merge patch).
    #[schema(value_type = Object)]
    pub settings: Value,
    /// Graded judgments to measure nDCG@10 and Recall@100 on, live and with the change.
    #[serde(default)]
    pub judgments: Vec<Judgment>,
    /// How many of the query log's most searched queries to replay, comparing their top 10
    /// (200 by default, at most 2,000).
    #[serde(default = "default_sample")]
    pub sample: usize,
    /// How many of the most changed queries to list (20 by default).
    #[serde(default = "default_changed")]
    pub changed: usize,
}

fn default_sample() -> usize {
    200
}

fn default_changed() -> usize {
    20
}

/// A graded (query, product) pair.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Judgment {
    /// The query.
    pub query: String,
    /// The product's id.
    pub id: String,
    /// Its grade (Home Depot's scale is 1 to 3; relevant from 2.5 for recall).
    pub relevance: f64,
}

/// What a preview measured.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewResponse {
    /// The served settings' version the change was measured against (a change previewed is
    /// accepted under `require_preview` while this version is served).
    pub live_version: u64,
    /// On the judgments, when some were sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged: Option<JudgedComparison>,
    /// On the query log's most searched queries.
    pub query_log: LogComparison,
}

/// Live and candidate on the judgments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JudgedComparison {
    /// nDCG@10 condensed and strict, Recall@100, latency, live.
    #[schema(value_type = Object)]
    pub live: EvalSummary,
    /// The same with the change.
    #[schema(value_type = Object)]
    pub candidate: EvalSummary,
    /// The queries whose top 10 changes most, most first.
    #[schema(value_type = Vec<Object>)]
    pub changed: Vec<Changed>,
    /// How many queries' top 10 changed.
    pub changed_queries: usize,
}

/// Live and candidate on the query log's most searched queries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogComparison {
    /// Queries replayed.
    pub queries: usize,
    /// Of those, how many have another top 10 with the change.
    pub changed_queries: usize,
    /// The most searched of the changed ones: the query, its searches, its top 10 ids live and
    /// with the change.
    #[schema(value_type = Vec<Object>)]
    pub changed: Vec<LogChange>,
}

/// `POST /v1/settings/preview` (scope `admin`): measures a settings change without serving it —
/// nDCG@10, Recall@100 and latency on the judgments sent, live against the change, with the
/// queries whose top 10 changes most, and the top 10 of the query log's most searched queries
/// compared. A change that re-indexes cannot be previewed. With `require_preview`, a change is
/// accepted by `PATCH /v1/settings` only once previewed against the served version.
#[utoipa::path(post, path = "/v1/settings/preview", tag = "settings",
    request_body(content = PreviewRequest, example = json!({
        "settings": {"synonyms": [{"synonyms": ["sofa", "couch"]}]},
        "judgments": [{"query": "couch", "id": "sofa-1", "relevance": 3}], "sample": 200})),
    responses(
        (status = 200, description = "What the change does", body = PreviewResponse),
        (status = 400, description = "`invalid_settings`: the change is malformed, invalid or re-indexes; `invalid_search_param`: bad judgments or limits", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody)))]
pub async fn preview_settings(State(state): State<AppState>, req: Request) -> ApiResult<Json<PreviewResponse>> {
    if json_kind(req.headers())? != JsonKind::Json {
        return Err(ApiError::new(Code::InvalidContentType, "a preview is one JSON object: send application/json"));
    }
    let Body(bytes) = Body::from_request(req, &()).await?;
    let request: PreviewRequest = parse_json(&bytes).map_err(|e| e.into_api_error(Code::InvalidSettings))?;
    let invalid = |field: &str, message: String| ApiError::new(Code::InvalidSearchParam(field.into()), message);
    if request.judgments.len() > MAX_JUDGMENTS {
        return Err(invalid("judgments", format!("at most {MAX_JUDGMENTS} pairs")));
    }
    if let Some((i, _)) =
        request.judgments.iter().enumerate().find(|(_, j)| !j.relevance.is_finite() || j.query.is_empty())
    {
        return Err(invalid("judgments", format!("judgments[{i}]: a query and a finite relevance")));
    }
    if request.sample > MAX_SAMPLE {
        return Err(invalid("sample", format!("at most {MAX_SAMPLE}")));
    }
    tokio::task::spawn_blocking(move || preview(&state, request)).await.map_err(ApiError::internal)?.map(Json)
}

fn preview(state: &AppState, request: PreviewRequest) -> ApiResult<PreviewResponse> {
    let live = state.index.settings().settings.clone();
    let settings_error = |message: String| {
        let field = message.split_once(": ").map_or("settings", |(f, _)| f).to_string();
        ApiError::new(Code::InvalidSettings, message).with_field(format!("settings.{field}"))
    };
    let next = live.patched(&request.settings, &searchd_indexer::reserved_names()).map_err(settings_error)?;
    let candidate = state.index.preview(next).map_err(|e| match e {
        searchd_indexer::Error::Input(message) => settings_error(message),
        other => other.into(),
    })?;
    let ranker = state.ranking.ranker();
    let judged = if request.judgments.is_empty() {
        None
    } else {
        let mut judgments = Judgments::default();
        for j in &request.judgments {
            judgments.insert(&j.query, &j.id, j.relevance);
        }
        let options = EvalOptions {
            k: 10,
            ranking: RankingMode::Default,
            facets: false,
            prefix: PrefixMode::None,
            correct: true,
        };
        let before = eval::run(&state.index, &ranker, &judgments, &options).map_err(ApiError::internal)?;
        let after = eval::run_preview(&candidate, &ranker, &judgments, &options).map_err(ApiError::internal)?;
        let mut changed = eval::changed(&before, &after);
        let changed_queries = changed.len();
        changed.truncate(request.changed);
        Some(JudgedComparison { live: before.summary, candidate: after.summary, changed, changed_queries })
    };
    let sample = state.autocomplete.top_queries(request.sample);
    let mut changes =
        eval::compare_logged(&state.index, &candidate, &ranker, &sample, 10).map_err(ApiError::internal)?;
    let changed_queries = changes.len();
    changes.truncate(request.changed);
    state.settings.previewed(live.version, &request.settings);
    Ok(PreviewResponse {
        live_version: live.version,
        judged,
        query_log: LogComparison { queries: sample.len(), changed_queries, changed: changes },
    })
}
