//! `GET /v1/products/{id}/similar` and `/bought-together`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde::Serialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::middleware::auth::Tenant;
use crate::routes::documents::IdPath;
use crate::state::AppState;

/// `limit` (1..=100, default 10) and nothing else.
fn parse_limit(query: Option<&str>) -> Result<usize, ApiError> {
    let mut limit = 10;
    for (key, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or("")).map_err(|e| {
        ApiError::new(Code::InvalidRecommendationsParam("query".into()), format!("malformed query string: {e}"))
    })? {
        match key.as_str() {
            "limit" => {
                limit = value.parse().ok().filter(|l| (1..=100).contains(l)).ok_or_else(|| {
                    ApiError::new(
                        Code::InvalidRecommendationsParam("limit".into()),
                        format!("limit `{value}`: must be a whole number from 1 to 100"),
                    )
                    .with_field("limit")
                })?
            }
            other => {
                return Err(ApiError::new(
                    Code::UnknownRecommendationsParameter,
                    format!("unknown parameter `{other}`; accepted: limit"),
                )
                .with_field(other));
            }
        }
    }
    Ok(limit)
}

/// `GET /v1/products/{id}/similar` and `/bought-together`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Neighbours {
    /// The product asked about.
    id: String,
    /// The similar-products model that answered.
    model_version: String,
    /// Nearest first.
    hits: Vec<Neighbour>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Neighbour {
    score: f32,
    product: searchd_catalog::Product,
}

/// A tenant reads neighbours among its own products only, of a product of its own.
async fn neighbours(
    state: AppState,
    id: String,
    query: Option<String>,
    together: bool,
    tenant: Tenant,
) -> ApiResult<Json<Neighbours>> {
    let limit = parse_limit(query.as_deref())?;
    let filter = tenant.checked(&state.index.settings().settings)?;
    let asked = if filter.is_some() { (limit * 5).min(500) } else { limit };
    tokio::task::spawn_blocking(move || {
        let hidden = match &filter {
            Some(filter) => state.index.visible(filter, &[id.as_str()])?.is_empty(),
            None => false,
        };
        if hidden || !state.index.is_live(&id) {
            return Err(ApiError::from(searchd_indexer::Error::NotFound(id.clone())));
        }
        let (version, found) =
            state
                .recommendations
                .lookup(asked, |model, index, limit| {
                    if together { index.bought_together(model, &id, limit) } else { index.similar(&id, limit) }
                })
                .ok_or_else(|| {
                    ApiError::new(
                        Code::ModelNotReady,
                        "no similar-products model yet: it is being trained (or run `searchd train`)",
                    )
                })?;
        // Committed but not yet followed: no neighbours for a moment, not an error.
        let mut found = found.unwrap_or_default();
        if let Some(filter) = &filter {
            let visible = state.index.visible(filter, &found.iter().map(|n| n.id.as_str()).collect::<Vec<_>>())?;
            found.retain(|n| visible.contains(&n.id));
        }
        found.truncate(limit);
        let scores: HashMap<&str, f32> = found.iter().map(|n| (n.id.as_str(), n.score)).collect();
        // In the neighbours' order; one just deleted is left out.
        let hits =
            state.index.get_many(found.iter().map(|n| n.id.as_str()))?.into_iter().map(|p| (scores[p.id.as_str()], p));
        let hits = hits.map(|(score, product)| Neighbour { score, product }).collect();
        Ok(Json(Neighbours { id, model_version: version, hits }))
    })
    .await
    .map_err(|e| ApiError::internal(format!("similar task: {e}")))?
}

/// Products like this one (same cluster, nearest by content and behaviour).
#[utoipa::path(get, path = "/v1/products/{id}/similar", tag = "recommendations",
    params(IdPath, LimitParam),
    responses(
        (status = 200, description = "Nearest first", body = Neighbours),
        (status = 400, description = "Bad or unknown parameter", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 503, description = "No similar-products model trained yet", body = ErrorBody)))]
pub async fn similar(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Neighbours>> {
    neighbours(state, id, q, false, tenant).await
}

/// Products bought in the same sessions as this one.
#[utoipa::path(get, path = "/v1/products/{id}/bought-together", tag = "recommendations",
    params(IdPath, LimitParam),
    responses(
        (status = 200, description = "Most often bought together first", body = Neighbours),
        (status = 400, description = "Bad or unknown parameter", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 503, description = "No similar-products model trained yet", body = ErrorBody)))]
pub async fn bought_together_route(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Neighbours>> {
    neighbours(state, id, q, true, tenant).await
}

/// `limit` of the recommendation routes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameter parse_limit reads")]
pub struct LimitParam {
    /// Products to return (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}
