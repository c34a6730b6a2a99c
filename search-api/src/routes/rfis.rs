//! Requests for information: the document routes (`PUT/GET/DELETE /v1/rfis/{id}`,
//! `POST /v1/rfis/bulk`), their search (`GET /v1/rfis/search`) and reverse matching
//! (`GET /v1/vendors/{id}/rfis`: the open requests a vendor can serve).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use searchd_catalog::{RfiDocument, RfiSearchRequest, RfiSearchResponse, VendorRfisResponse, WriteOutcome};
use searchd_indexer::Market;
use serde_json::Value;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::routes::documents::{self, BulkResponse, DeleteParams, Document, IdPath, RefreshParam, WriteResponse};
use crate::state::AppState;

impl Document for RfiDocument {
    type Prepared = RfiDocument;
    const NAME: &'static str = "rfi";
    const PLURAL: &'static str = "rfis";

    fn invalid_id() -> Code {
        Code::InvalidRfiId
    }

    fn from_value(value: Value) -> ApiResult<Self> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let message = e.inner().to_string();
            let field = super::vendors::field_at_fault(&e.path().to_string(), &message, "");
            ApiError::new(Code::InvalidDocument, format!("`{field}`: {message}")).with_field(field)
        })
    }

    fn prepare(_state: &AppState, doc: Self) -> ApiResult<Self::Prepared> {
        doc.validate()?;
        Ok(doc)
    }

    fn id_of(prepared: &Self::Prepared) -> String {
        prepared.id.clone()
    }

    fn write(state: &AppState, docs: Vec<Self::Prepared>) -> ApiResult<Vec<WriteOutcome>> {
        Ok(state.rfis.upsert(docs)?)
    }

    fn get(state: &AppState, id: &str) -> ApiResult<Self> {
        Ok(state.rfis.get(id)?)
    }

    fn delete(state: &AppState, id: &str, version: u64) -> ApiResult<WriteOutcome> {
        if version == 0 && !state.rfis.is_live(id) {
            return Err(searchd_indexer::Error::RfiNotFound(id.to_string()).into());
        }
        Ok(state.rfis.delete(id, version)?)
    }

    fn commit(state: &AppState) -> ApiResult<()> {
        Ok(state.rfis.commit()?)
    }
}

/// One request by id.
#[utoipa::path(get, path = "/v1/rfis/{id}", tag = "rfis",
    params(IdPath),
    responses(
        (status = 200, description = "The request as stored", body = RfiDocument),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody)))]
pub async fn get_rfi(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<RfiDocument>> {
    documents::get(state, path).await.map(Json)
}

/// Creates or replaces a request for information.
#[utoipa::path(put, path = "/v1/rfis/{id}", tag = "rfis",
    params(IdPath, RefreshParam),
    request_body(content = RfiDocument, example = json!({
        "title": "Aluminium brackets", "category": "Industrial/Machining",
        "description": "500 anodised aluminium brackets, CNC milled", "location": {"lat": 48.2082, "lon": 16.3738},
        "max_distance_km": 400, "quantity": 500, "budget": 6000, "needed_by": "2027-06-30T00:00:00Z"})),
    responses(
        (status = 200, description = "Written (or unchanged, or stale)", body = WriteResponse),
        (status = 400, description = "Malformed JSON or a bad parameter", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "The request is invalid (the field is named)", body = ErrorBody)))]
pub async fn put_rfi(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::put::<RfiDocument>(state, path, req).await.map(Json)
}

/// Deletes a request; with `version`, only if that version is newer than the stored one.
#[utoipa::path(delete, path = "/v1/rfis/{id}", tag = "rfis",
    params(IdPath, DeleteParams),
    responses(
        (status = 200, description = "Deleted (or stale)", body = WriteResponse),
        (status = 400, description = "Bad id or parameter", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody)))]
pub async fn delete_rfi(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::delete::<RfiDocument>(state, path, req).await.map(Json)
}

/// `POST /v1/rfis/bulk`: a JSON array of requests or NDJSON; one result per item.
#[utoipa::path(post, path = "/v1/rfis/bulk", tag = "rfis", params(RefreshParam),
    request_body(description = "Requests as a JSON array or NDJSON", content(
        (Vec<RfiDocument> = "application/json", example = json!([
            {"id": "r-1", "category": "Industrial/Machining", "description": "CNC milled brackets",
             "location": {"lat": 48.21, "lon": 16.37}, "quantity": 500}])),
        (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "One result per item; bad items never stop good ones", body = BulkResponse),
        (status = 400, description = "The body is not a JSON array / NDJSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is neither JSON nor NDJSON", body = ErrorBody)))]
pub async fn bulk_rfis(State(state): State<AppState>, req: Request) -> ApiResult<Json<BulkResponse>> {
    documents::bulk::<RfiDocument>(state, req).await.map(Json)
}

/// Parameters `GET /v1/rfis/search` accepts.
pub const RFI_SEARCH_PARAMS: [&str; 10] =
    ["q", "category", "near", "radius_km", "needed_after", "needed_before", "status", "sort", "page", "per_page"];

/// Query parameters of `GET /v1/rfis/search`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters parse_rfi_query reads")]
pub struct RfiSearchParams {
    /// Words matched against titles and descriptions (any word, stemmed).
    #[param(example = "aluminium brackets")]
    q: Option<String>,
    /// Category path, `/`-separated: the category or below it.
    #[param(pattern = "^/?[^/]*\\S[^/]*(/[^/]*\\S[^/]*)*/?$")]
    category: Option<String>,
    /// `lat,lon` distances are measured from.
    #[param(example = "48.21,16.37")]
    near: Option<String>,
    /// Only requests within this many kilometres of `near`.
    #[param(example = 100, exclusive_minimum = 0)]
    radius_km: Option<f64>,
    /// RFC 3339: only requests needed at or after this time.
    #[param(value_type = Option<String>, format = DateTime)]
    needed_after: Option<String>,
    /// RFC 3339: only requests needed at or before this time.
    #[param(value_type = Option<String>, format = DateTime)]
    needed_before: Option<String>,
    /// `open` (the default), `closed` (closed or expired) or `any`.
    #[param(pattern = "^(open|closed|any)$")]
    status: Option<String>,
    /// `relevance` (the default), `distance` (needs `near`), `needed_by` or `newest`.
    #[param(pattern = "^(relevance|distance|needed_by|newest)$")]
    sort: Option<String>,
    #[param(minimum = 1)]
    page: Option<usize>,
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<usize>,
}

/// Parses the request search's query string; every error names its parameter
/// (`near=91,0` → `invalid_rfi_search_near`).
pub fn parse_rfi_query(raw: &str) -> ApiResult<RfiSearchRequest> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| ApiError::new(Code::UnknownRfiSearchParameter, format!("the query string is malformed: {e}")))?;
    let mut request = RfiSearchRequest::default();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in &pairs {
        let Some(&param) = RFI_SEARCH_PARAMS.iter().find(|p| **p == key) else {
            return Err(ApiError::new(
                Code::UnknownRfiSearchParameter,
                format!("unknown parameter `{key}`, expected one of: {}", RFI_SEARCH_PARAMS.join(", ")),
            )
            .with_field(key.clone()));
        };
        let invalid = |reason: String| rfi_param_error(param, format!("invalid `{param}`: {reason}"));
        if seen.contains(&param) {
            return Err(invalid("given more than once".into()));
        }
        seen.push(param);
        let value = value.trim();
        let count = |v: &str| v.parse::<usize>().map_err(|_| invalid(format!("`{v}` is not a whole number")));
        let date = |v: &str| {
            time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp())
                .map_err(|_| invalid(format!("`{v}` is not an RFC 3339 date-time")))
        };
        match param {
            "q" => request.q = Some(value.to_string()),
            "category" => request.category = Some(value.trim_matches('/').to_string()),
            "near" => request.near = Some(crate::extractors::lat_lon(value).map_err(invalid)?),
            "radius_km" => {
                let r = value.parse::<f64>().ok().filter(|r| r.is_finite());
                request.radius_km = Some(r.ok_or_else(|| invalid(format!("`{value}` is not a number of kilometres")))?);
            }
            "needed_after" => request.needed_after = Some(date(value)?),
            "needed_before" => request.needed_before = Some(date(value)?),
            "status" => request.status = value.parse().map_err(|e: searchd_catalog::Error| invalid(e.to_string()))?,
            "sort" => request.sort = value.parse().map_err(|e: searchd_catalog::Error| invalid(e.to_string()))?,
            "page" => request.page = count(value)?,
            "per_page" => request.per_page = count(value)?,
            other => return Err(ApiError::internal(format!("rfi parameter `{other}` is accepted but not handled"))),
        }
    }
    request.validate().map_err(|e| rfi_param_error(e.param(), e.to_string()))?;
    Ok(request)
}

fn rfi_param_error(param: &str, message: String) -> ApiError {
    ApiError::new(Code::InvalidRfiSearchParam(param.to_string()), message).with_field(param)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Requests by text, category, distance, date and state.
#[utoipa::path(get, path = "/v1/rfis/search", tag = "rfis", params(RfiSearchParams),
    responses(
        (status = 200, description = "A page of requests, with distances when `near` is given", body = RfiSearchResponse),
        (status = 400, description = "A parameter is unknown or bad; the code names it", body = ErrorBody)))]
pub async fn search_rfis(State(state): State<AppState>, req: Request) -> ApiResult<Json<RfiSearchResponse>> {
    let request = parse_rfi_query(req.uri().query().unwrap_or(""))?;
    let response =
        tokio::task::spawn_blocking(move || state.rfis.search(&request, now())).await.map_err(ApiError::internal)??;
    Ok(Json(response))
}

/// Query parameters of `GET /v1/vendors/{id}/rfis`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameter vendor_rfis reads")]
pub struct VendorRfisParams {
    /// Requests to return (default 10, at most 100).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// The open requests this vendor can serve: each one for which `POST /v1/vendors/match` would
/// list the vendor, scored with the same breakdown, best first.
#[utoipa::path(get, path = "/v1/vendors/{id}/rfis", tag = "rfis", params(IdPath, VendorRfisParams),
    responses(
        (status = 200, description = "Open requests the vendor can serve, best first", body = VendorRfisResponse),
        (status = 400, description = "Bad id or `limit`", body = ErrorBody),
        (status = 404, description = "No such vendor", body = ErrorBody)))]
pub async fn vendor_rfis(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<VendorRfisResponse>> {
    let id = documents::document_id::<searchd_catalog::Vendor>(path)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.uri().query().unwrap_or(""))
        .map_err(|e| ApiError::new(Code::UnknownRfiSearchParameter, format!("the query string is malformed: {e}")))?;
    let mut limit = 10;
    for (key, value) in pairs {
        if key != "limit" {
            return Err(ApiError::new(
                Code::UnknownRfiSearchParameter,
                format!("unknown parameter `{key}`, expected limit"),
            )
            .with_field(key));
        }
        limit = value
            .trim()
            .parse::<usize>()
            .map_err(|_| rfi_param_error("limit", format!("invalid `limit`: `{value}` is not a whole number")))?;
    }
    let listed = move || {
        let market = Market { vendors: &state.vendors, offers: &state.offers, products: &state.index };
        state.rfis.for_vendor(market, &id, now(), limit)
    };
    let response = tokio::task::spawn_blocking(listed).await.map_err(ApiError::internal)?.map_err(|e| match e {
        searchd_indexer::Error::Invalid(e) => rfi_param_error(e.param(), e.to_string()),
        other => other.into(),
    })?;
    Ok(Json(response))
}
