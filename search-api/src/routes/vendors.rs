//! Vendors: the document routes (`PUT/GET/DELETE /v1/vendors/{id}`, `POST /v1/vendors/bulk`),
//! geo search (`GET /v1/vendors/search`) and matching for other services
//! (`POST /v1/vendors/match`).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use searchd_catalog::filter::Filter;
use searchd_catalog::geo::GeoRect;
use searchd_catalog::{
    GeoPoint, MatchResponse, Rfi, Vendor, VendorSearchRequest, VendorSearchResponse, VendorSort, WriteOutcome,
};
use serde_json::Value;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::extractors::{Body, json_kind, parse_json};
use crate::routes::documents::{self, BulkResponse, DeleteParams, Document, IdPath, RefreshParam, WriteResponse};
use crate::state::AppState;

impl Document for Vendor {
    type Prepared = Vendor;
    const NAME: &'static str = "vendor";
    const PLURAL: &'static str = "vendors";

    fn invalid_id() -> Code {
        Code::InvalidVendorId
    }

    fn from_value(value: Value) -> ApiResult<Self> {
        vendor_from_value(value)
    }

    fn prepare(_state: &AppState, doc: Self) -> ApiResult<Self::Prepared> {
        doc.validate()?;
        Ok(doc)
    }

    fn id_of(prepared: &Self::Prepared) -> String {
        prepared.id.clone()
    }

    fn write(state: &AppState, docs: Vec<Self::Prepared>) -> ApiResult<Vec<WriteOutcome>> {
        Ok(state.vendors.upsert(docs)?)
    }

    fn get(state: &AppState, id: &str) -> ApiResult<Self> {
        Ok(state.vendors.get(id)?)
    }

    fn delete(state: &AppState, id: &str, version: u64) -> ApiResult<WriteOutcome> {
        if version == 0 && !state.vendors.is_live(id) {
            return Err(searchd_indexer::Error::VendorNotFound(id.to_string()).into());
        }
        Ok(state.vendors.delete(id, version)?)
    }

    fn commit(state: &AppState) -> ApiResult<()> {
        Ok(state.vendors.commit()?)
    }
}

/// A vendor from JSON, naming the field at fault; `Vendor::validate` (in the index) checks values.
fn vendor_from_value(value: Value) -> ApiResult<Vendor> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let message = e.inner().to_string();
        let field = field_at_fault(&e.path().to_string(), &message, "");
        ApiError::new(Code::InvalidDocument, format!("`{field}`: {message}")).with_field(field)
    })
}

/// The field a serde error is about: its path, or at the top level (a missing or unknown field)
/// the first name quoted in the message ("missing field `name`"), else `top`.
pub(crate) fn field_at_fault(path: &str, message: &str, top: &str) -> String {
    if !path.is_empty() && path != "." {
        return path.to_string();
    }
    let quoted = message.find('`').and_then(|start| {
        let rest = &message[start + 1..];
        rest.find('`').map(|len| rest[..len].to_string())
    });
    quoted.unwrap_or_else(|| top.to_string())
}

/// One vendor by id.
#[utoipa::path(get, path = "/v1/vendors/{id}", tag = "vendors",
    params(IdPath),
    responses(
        (status = 200, description = "The vendor as stored", body = Vendor),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 404, description = "No such vendor", body = ErrorBody)))]
pub async fn get_vendor(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Vendor>> {
    documents::get(state, path).await.map(Json)
}

/// Creates or replaces a vendor.
#[utoipa::path(put, path = "/v1/vendors/{id}", tag = "vendors",
    params(IdPath, RefreshParam),
    request_body(content = Vendor, example = json!({
        "name": "Havel Precision Machining", "categories": ["Industrial/Machining"],
        "capabilities": "CNC milling and turning of aluminium and steel, prototypes to 5,000 parts",
        "tags": ["cnc", "iso-9001"], "location": {"lat": 50.0755, "lon": 14.4378}, "service_radius_km": 300,
        "rating": 4.7, "review_count": 58, "response_time_hours": 12, "available": true, "languages": ["cs", "en", "de"]})),
    responses(
        (status = 200, description = "Written (or unchanged, or stale)", body = WriteResponse),
        (status = 400, description = "Malformed JSON or a bad parameter", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "The vendor is invalid (the field is named)", body = ErrorBody)))]
pub async fn put_vendor(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::put::<Vendor>(state, path, req).await.map(Json)
}

/// Deletes a vendor; with `version`, only if that version is newer than the stored one.
#[utoipa::path(delete, path = "/v1/vendors/{id}", tag = "vendors",
    params(IdPath, DeleteParams),
    responses(
        (status = 200, description = "Deleted (or stale)", body = WriteResponse),
        (status = 400, description = "Bad id or parameter", body = ErrorBody),
        (status = 404, description = "No such vendor", body = ErrorBody)))]
pub async fn delete_vendor(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::delete::<Vendor>(state, path, req).await.map(Json)
}

/// `POST /v1/vendors/bulk`: a JSON array of vendors or NDJSON; one result per item.
#[utoipa::path(post, path = "/v1/vendors/bulk", tag = "vendors", params(RefreshParam),
    request_body(description = "Vendors as a JSON array or NDJSON", content(
        (Vec<Vendor> = "application/json", example = json!([
            {"id": "v-1", "name": "Havel Precision Machining", "categories": ["Industrial/Machining"],
             "location": {"lat": 50.0755, "lon": 14.4378}, "service_radius_km": 300},
            {"id": "v-2", "name": "Brno Sheet Metal", "categories": ["Industrial/Sheet Metal"],
             "location": {"lat": 49.1951, "lon": 16.6068}, "service_radius_km": 150}])),
        (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "One result per item; bad items never stop good ones", body = BulkResponse),
        (status = 400, description = "The body is not a JSON array / NDJSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is neither JSON nor NDJSON", body = ErrorBody)))]
pub async fn bulk_vendors(State(state): State<AppState>, req: Request) -> ApiResult<Json<BulkResponse>> {
    documents::bulk::<Vendor>(state, req).await.map(Json)
}

/// Parameters `GET /v1/vendors/search` accepts.
pub const VENDOR_SEARCH_PARAMS: [&str; 13] = [
    "q",
    "near",
    "radius_km",
    "min_km",
    "serves",
    "bbox",
    "category",
    "filter",
    "sort",
    "page",
    "per_page",
    "limit",
    "prefix",
];

/// Parses the vendor search query string; every error names its parameter
/// (`near=91,0` → `invalid_vendor_search_near`).
pub fn parse_vendor_query(raw: &str) -> ApiResult<VendorSearchRequest> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| {
        ApiError::new(Code::UnknownVendorSearchParameter, format!("the query string is malformed: {e}"))
    })?;
    let mut request = VendorSearchRequest::default();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in &pairs {
        let Some(&param) = VENDOR_SEARCH_PARAMS.iter().find(|p| **p == key) else {
            return Err(ApiError::new(
                Code::UnknownVendorSearchParameter,
                format!("unknown parameter `{key}`, expected one of: {}", VENDOR_SEARCH_PARAMS.join(", ")),
            )
            .with_field(key.clone()));
        };
        let invalid = |reason: String| {
            ApiError::new(Code::InvalidVendorSearchParam(param.to_string()), format!("invalid `{param}`: {reason}"))
                .with_field(param)
        };
        if seen.contains(&param) || (param == "limit" && seen.contains(&"per_page")) {
            return Err(invalid("given more than once".into()));
        }
        seen.push(if param == "limit" { "per_page" } else { param });
        let numbers = |expected: usize, shape: &str| -> ApiResult<Vec<f64>> {
            let parts: Vec<&str> = value.split(',').map(str::trim).collect();
            let numbers: Option<Vec<f64>> =
                parts.iter().map(|p| p.parse::<f64>().ok().filter(|n| n.is_finite())).collect();
            match numbers {
                Some(n) if n.len() == expected => Ok(n),
                _ => Err(invalid(format!("`{value}` is not {shape}"))),
            }
        };
        let count = |v: &str| v.trim().parse::<usize>().map_err(|_| invalid(format!("`{v}` is not a whole number")));
        match param {
            "q" => request.q = value.clone(),
            "near" | "serves" => {
                let n = numbers(2, "`lat,lon` in degrees")?;
                let point = GeoPoint { lat: n[0], lon: n[1] };
                point.validate().map_err(|e| invalid(e.to_string()))?;
                if param == "near" {
                    request.near = Some(point);
                } else {
                    request.serves = Some(point);
                }
            }
            "radius_km" => request.radius_km = Some(numbers(1, "a number of kilometres")?[0]),
            "min_km" => request.min_km = Some(numbers(1, "a number of kilometres")?[0]),
            "bbox" => {
                let n = numbers(4, "`minLat,minLon,maxLat,maxLon` in degrees")?;
                request.bbox = Some(GeoRect { min_lat: n[0], min_lon: n[1], max_lat: n[2], max_lon: n[3] });
            }
            "category" => request.category = Some(value.trim().trim_matches('/').to_string()),
            "filter" => {
                request.filter = Some(Filter::parse(value).map_err(|e| invalid(e.to_string()))?);
            }
            "sort" => request.sort = value.trim().parse::<VendorSort>().map_err(|e| invalid(e.to_string()))?,
            "page" => request.page = count(value)?,
            "per_page" | "limit" => request.per_page = count(value)?,
            "prefix" => {
                request.prefix = value.trim().parse().map_err(|e: searchd_catalog::Error| invalid(e.to_string()))?
            }
            other => {
                return Err(ApiError::internal(format!("vendor parameter `{other}` is accepted but not handled")));
            }
        }
    }
    Ok(request)
}

/// Errors of the vendor index on a search, with their parameter.
fn search_error(e: searchd_indexer::Error) -> ApiError {
    match e {
        searchd_indexer::Error::Invalid(e) => {
            let param = e.param().to_string();
            ApiError::new(Code::InvalidVendorSearchParam(param.clone()), e.to_string()).with_field(param)
        }
        other => other.into(),
    }
}

/// Vendors by text, distance from a point, radius, bounding box and category.
#[utoipa::path(get, path = "/v1/vendors/search", tag = "vendors", params(VendorSearchParams),
    responses(
        (status = 200, description = "A page of vendors, with distances when `near` is given",
         body = VendorSearchResponse),
        (status = 400, description = "A parameter is unknown or bad; the code names it", body = ErrorBody)))]
pub async fn search_vendors(State(state): State<AppState>, req: Request) -> ApiResult<Json<VendorSearchResponse>> {
    let request = parse_vendor_query(req.uri().query().unwrap_or(""))?;
    let response = tokio::task::spawn_blocking(move || state.vendors.search(&request))
        .await
        .map_err(ApiError::internal)?
        .map_err(search_error)?;
    Ok(Json(response))
}

/// The match error for a field path (`location.lat` → `invalid_match_location`, field `location.lat`).
fn match_error(field: &str, message: impl Into<String>) -> ApiError {
    let top = field.split(['.', '[']).next().unwrap_or(field);
    ApiError::new(Code::InvalidMatchField(top.to_string()), message).with_field(field)
}

/// `POST /v1/vendors/match`: a request for information → vendors ranked with their breakdown.
#[utoipa::path(post, path = "/v1/vendors/match", tag = "vendors",
    request_body(content = Rfi, example = json!({
        "category": "Industrial/Machining", "description": "500 anodised aluminium brackets, CNC milled",
        "location": {"lat": 48.2082, "lon": 16.3738}, "max_distance_km": 400, "quantity": 500, "budget": 6000,
        "needed_by": "2027-06-30T00:00:00Z", "language": "en", "limit": 5})),
    responses(
        (status = 200, description = "Vendors ranked, each with its score breakdown", body = MatchResponse),
        (status = 400, description = "Malformed JSON or a bad field (`field` gives its path)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody)))]
pub async fn match_vendors(State(state): State<AppState>, req: Request) -> ApiResult<Json<MatchResponse>> {
    json_kind(req.headers())?;
    let Body(bytes) = Body::from_request(req, &()).await?;
    // serde also accepts an array for a struct (fields by position): only an object is a request.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        return Err(match_error("body", "the request for information must be a JSON object"));
    }
    let rfi: Rfi = parse_json(&bytes).map_err(|e| {
        if e.syntax {
            return e.into_api_error(Code::MalformedJson);
        }
        let field = field_at_fault(&e.path, &e.message, "body");
        match_error(&field, format!("`{field}`: {}", e.message))
    })?;
    // What each vendor's offers in the category can supply counts too (quantity, budget, date).
    let matched = move || -> searchd_indexer::Result<MatchResponse> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        rfi.validate_at(now)?;
        let supply = state.offers.supply(&state.vendors, &state.index, &rfi, now)?;
        let mut response = state.vendors.match_rfi_with(&rfi, Some(&supply.fits()))?;
        supply.attach(&mut response.hits)?;
        Ok(response)
    };
    let response = tokio::task::spawn_blocking(matched).await.map_err(ApiError::internal)?.map_err(|e| match e {
        searchd_indexer::Error::Invalid(e) => match_error(e.param(), e.to_string()),
        other => other.into(),
    })?;
    Ok(Json(response))
}

/// Query parameters of `GET /v1/vendors/search`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters parse_vendor_query reads")]
pub struct VendorSearchParams {
    /// Text matched against names, capabilities, descriptions and tags.
    #[param(example = "cnc milling")]
    q: Option<String>,
    /// `lat,lon` the distances are measured from.
    #[param(example = "50.0755,14.4378")]
    near: Option<String>,
    /// Only vendors whose nearest branch is within this many kilometres of `near` (needs `near`).
    #[param(example = 150, exclusive_minimum = 0)]
    radius_km: Option<f64>,
    /// Only vendors whose nearest branch is at least this many kilometres from `near` (needs
    /// `near`; below `radius_km`): with it, a distance band.
    #[param(example = 50, minimum = 0)]
    min_km: Option<f64>,
    /// `lat,lon`: only vendors that serve this point (a branch's radius or a delivery zone holds
    /// it): "who delivers to me".
    #[param(example = "48.86,2.34")]
    serves: Option<String>,
    /// `min_lat,min_lon,max_lat,max_lon`.
    #[param(example = "48.5,12.0,51.1,18.9")]
    bbox: Option<String>,
    /// Category path, `/`-separated.
    #[param(pattern = "^/?[^/]*\\S[^/]*(/[^/]*\\S[^/]*)*/?$")]
    category: Option<String>,
    /// A filter expression on the vendors' declared attributes (`settings.vendors`), in the
    /// products' syntax.
    #[param(example = "certifications = iso-9001 AND min_order <= 500")]
    filter: Option<String>,
    /// `relevance` or `distance` (needs `near`).
    #[param(pattern = "^(relevance|distance)$")]
    sort: Option<String>,
    #[param(minimum = 1)]
    page: Option<usize>,
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<usize>,
    /// `last` (the default): the last word of `q` also matches the words it starts; `none`:
    /// whole words only.
    #[param(value_type = Option<searchd_catalog::PrefixMode>)]
    prefix: Option<String>,
}
