//! `GET /v1/autocomplete`: parameters, answer, cache.

use std::time::Instant;

use axum::extract::{RawQuery, State};
use searchd_autocomplete::{DEFAULT_LIMIT, Kind, Kinds, MAX_INPUT_CHARS, MAX_LIMIT, Suggestion};
use serde::Serialize;
use utoipa::IntoParams;

use axum::body::Bytes;
use axum::response::Response;

use searchd_catalog::filter::{Condition, Filter, Op, Token};

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::middleware::auth::Tenant;
use crate::middleware::cache::{self, Outcome, json_body};
use crate::state::AppState;

/// Parameters `GET /v1/autocomplete` accepts.
pub const AUTOCOMPLETE_PARAMS: [&str; 3] = ["q", "limit", "types"];

/// A parsed `GET /v1/autocomplete` query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutocompleteQuery {
    /// What was typed.
    pub q: String,
    /// Suggestions wanted.
    pub limit: usize,
    /// Kinds wanted.
    pub kinds: Kinds,
}

/// Parses `q`, `limit` (default 8, capped at 20) and `types` (comma-separated kinds); anything
/// else, a repeated parameter, an over-long `q` or a bad value is a 400 naming it.
pub fn parse_autocomplete_query(raw: &str) -> Result<AutocompleteQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| {
        ApiError::new(Code::UnknownAutocompleteParameter, format!("the query string is malformed: {e}"))
    })?;
    let invalid = |param: &str, reason: String| {
        ApiError::new(Code::InvalidAutocompleteParam(param.into()), format!("invalid `{param}`: {reason}"))
    };
    let mut query = AutocompleteQuery { q: String::new(), limit: DEFAULT_LIMIT, kinds: Kinds::ALL };
    let mut seen = Vec::new();
    for (key, value) in &pairs {
        let Some(&param) = AUTOCOMPLETE_PARAMS.iter().find(|p| **p == key) else {
            return Err(ApiError::new(
                Code::UnknownAutocompleteParameter,
                format!("unknown parameter `{key}`, expected one of: {}", AUTOCOMPLETE_PARAMS.join(", ")),
            ));
        };
        if seen.contains(&param) {
            return Err(invalid(param, "given more than once".into()));
        }
        seen.push(param);
        match param {
            "q" => {
                let chars = value.chars().count();
                if chars > MAX_INPUT_CHARS {
                    return Err(invalid("q", format!("{chars} characters, at most {MAX_INPUT_CHARS} are accepted")));
                }
                query.q = value.clone();
            }
            "limit" => {
                let n: usize = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| invalid("limit", format!("`{value}` is not a whole number ≥ 1")))?;
                query.limit = n.min(MAX_LIMIT);
            }
            _ => {
                let mut kinds = Kinds::NONE;
                for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let kind = Kind::parse(name).ok_or_else(|| {
                        invalid("types", format!("unknown type `{name}`, expected query, product, brand or category"))
                    })?;
                    kinds = kinds.with(kind);
                }
                if kinds.is_empty() {
                    return Err(invalid("types", "name at least one of query, product, brand, category".into()));
                }
                query.kinds = kinds;
            }
        }
    }
    Ok(query)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
/// `GET /v1/autocomplete`'s answer.
pub struct AutocompleteResponse {
    /// What was typed, as received.
    pub q: String,
    /// Best first: exact matches before fuzzy ones.
    pub suggestions: Vec<Suggestion>,
    /// Time the suggestions took, milliseconds.
    pub took_ms: f64,
}

/// `GET /v1/autocomplete`: answered on the async worker, no blocking pool hop — a keystroke
/// costs microseconds and reads an immutable snapshot.
#[utoipa::path(get, path = "/v1/autocomplete", tag = "autocomplete", params(AutocompleteParams),
    responses(
        (status = 200, description = "Suggestions, best first", body = AutocompleteResponse,
         headers(("x-cache" = String, description = "`hit`, `miss` or `bypass`")),
         example = json!({"q": "cordl", "took_ms": 0.21, "suggestions": [
            {"type": "query", "text": "cordless drill", "highlight": "<em>cordl</em>ess drill", "typos": 0,
             "score": 3.2, "count": 41},
            {"type": "product", "text": "20V MAX Cordless Drill", "highlight": "20V MAX <em>Cordl</em>ess Drill",
             "typos": 0, "score": 2.7, "id": "sku-1"}]})),
        (status = 400, description = "A parameter is unknown or bad; the code names it", body = ErrorBody)))]
pub async fn autocomplete(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let started = Instant::now();
    let query = parse_autocomplete_query(raw.as_deref().unwrap_or(""))?;
    let filter = tenant.checked(&state.index.settings().settings)?;
    // The version before suggesting (see `Autocomplete::version`); a tenant's answers are its
    // own, and depend on the index too. Nothing answered before the node is ready (suggestions
    // still being restored or built) is cached.
    let ready = state.ready.load(std::sync::atomic::Ordering::Acquire);
    let key = (ready && state.cache.enabled()).then(|| {
        let mut normalized = format!("{}\u{0}{}\u{0}{:?}", query.q, query.limit, query.kinds);
        let mut version = format!("{:016x}", state.autocomplete.version());
        if let Some(filter) = &filter {
            normalized.push_str(&format!("\u{0}{filter}"));
            version.push_str(&format!(".{:016x}", state.index.content_version()));
        }
        state.cache.key(cache::Kind::Autocomplete, &version, &normalized)
    });
    if let Some(key) = &key
        && let Some(body) = state.cache.get(cache::Kind::Autocomplete, key).await
    {
        return Ok(json_body(body, Outcome::Hit));
    }
    let suggestions = match filter {
        None => state.autocomplete.suggest(&query.q, query.limit, query.kinds),
        Some(filter) => {
            let (state, q) = (state.clone(), query.clone());
            tokio::task::spawn_blocking(move || tenant_suggestions(&state, &q, &filter))
                .await
                .map_err(ApiError::internal)??
        }
    };
    let response = AutocompleteResponse { q: query.q, suggestions, took_ms: started.elapsed().as_secs_f64() * 1e3 };
    let body = Bytes::from(serde_json::to_vec(&response).map_err(ApiError::internal)?);
    let Some(key) = key else { return Ok(json_body(body, Outcome::Bypass)) };
    state.cache.put(key, body.clone()).await;
    Ok(json_body(body, Outcome::Miss))
}

/// A tenant's suggestions: the suggester's (from the whole catalog and every caller's
/// queries), kept only where the tenant's own products back them: a product it may read, a
/// brand or category with products of its own (counted among them), a query that finds some of
/// them (without the count of searches, which is every caller's).
fn tenant_suggestions(state: &AppState, query: &AutocompleteQuery, filter: &Filter) -> ApiResult<Vec<Suggestion>> {
    let candidates = state.autocomplete.suggest(&query.q, (query.limit * 4).min(4 * MAX_LIMIT), query.kinds);
    let ids: Vec<&str> = candidates.iter().filter_map(|s| s.id.as_deref()).collect();
    let visible = state.index.visible(filter, &ids)?;
    let condition = |field: &str, value: &str| {
        Filter::Condition(Condition { field: Token::new(field), op: Op::Equal(Token::new(value)) })
    };
    let mut kept = Vec::with_capacity(query.limit);
    for mut suggestion in candidates {
        if kept.len() == query.limit {
            break;
        }
        let keep = match suggestion.kind {
            Kind::Product => suggestion.id.as_deref().is_some_and(|id| visible.contains(id)),
            Kind::Query => {
                suggestion.count = None;
                state.index.count_for(&suggestion.text, filter, None)? > 0
            }
            Kind::Brand | Kind::Category => {
                let on = match suggestion.kind {
                    Kind::Brand => condition("brand", &suggestion.text),
                    _ => condition("category", suggestion.path.as_deref().unwrap_or(&suggestion.text)),
                };
                let count = state.index.count_for("", filter, Some(on))?;
                suggestion.count = Some(count);
                count > 0
            }
        };
        if keep {
            kept.push(suggestion);
        }
    }
    Ok(kept)
}

/// Query parameters of `GET /v1/autocomplete`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters parse_autocomplete_query reads")]
pub struct AutocompleteParams {
    /// What the user typed so far (at most 200 characters).
    #[param(example = "cordl")]
    q: Option<String>,
    /// Suggestions to return (default 8; more than 20 is capped at 20).
    #[param(minimum = 1)]
    limit: Option<usize>,
    /// Kinds to suggest, comma-separated: `query`, `product`, `brand`, `category`.
    #[param(example = "query,product")]
    types: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_parameters() {
        let q = parse_autocomplete_query("q=cordless+dri&limit=50&types=query,product").unwrap();
        assert_eq!(q.q, "cordless dri");
        assert_eq!(q.limit, MAX_LIMIT);
        assert!(q.kinds.contains(Kind::Product) && !q.kinds.contains(Kind::Brand));
        assert_eq!(parse_autocomplete_query("").unwrap().limit, DEFAULT_LIMIT);
        let code = |raw: &str| parse_autocomplete_query(raw).unwrap_err().code().name();
        assert_eq!(code("q=a&size=3"), "unknown_autocomplete_parameter");
        assert_eq!(code("limit=0"), "invalid_autocomplete_limit");
        assert_eq!(code("limit=abc"), "invalid_autocomplete_limit");
        assert_eq!(code("types=query,vendor"), "invalid_autocomplete_types");
        assert_eq!(code("types=,"), "invalid_autocomplete_types");
        assert_eq!(code("q=a&q=b"), "invalid_autocomplete_q");
        assert_eq!(code(&format!("q={}", "é".repeat(201))), "invalid_autocomplete_q");
        assert!(parse_autocomplete_query(&format!("q={}", "é".repeat(200))).is_ok());
    }
}
