//! Extractors whose rejections are our JSON errors, so malformed input never gets axum's
//! plain-text defaults.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use searchd_catalog::{FacetField, Filters, SearchRequest};

use crate::error::{ApiError, Code};

/// A request body read whole, with the body-size limit answered as a 413 JSON error.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(Body).map_err(body_rejection)
    }
}

fn body_rejection(e: BytesRejection) -> ApiError {
    let text = e.body_text();
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE || text.contains("length limit") {
        ApiError::new(Code::PayloadTooLarge, "the request body is larger than the limit for this route")
    } else {
        ApiError::new(Code::MalformedJson, format!("cannot read the request body: {text}"))
    }
}

/// The content type of a request, when it is JSON (`application/json`, `…+json`) or NDJSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Json,
    NdJson,
}

pub fn json_kind(parts_headers: &axum::http::HeaderMap) -> Result<JsonKind, ApiError> {
    let Some(value) = parts_headers.get(CONTENT_TYPE) else {
        return Err(ApiError::new(Code::MissingContentType, "a JSON body needs `Content-Type: application/json`"));
    };
    let mime = value.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Ok(JsonKind::Json),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Ok(JsonKind::NdJson),
        m if m.starts_with("application/") && m.ends_with("+json") => Ok(JsonKind::Json),
        other => Err(ApiError::new(
            Code::InvalidContentType,
            format!("content type `{other}` is not accepted; send application/json"),
        )),
    }
}

/// Why a JSON text could not become a `T`.
#[derive(Debug)]
pub struct JsonError {
    /// Syntax error (not JSON at all) rather than a value of the wrong shape.
    pub syntax: bool,
    /// Dotted path of the offending field, empty at the top level.
    pub path: String,
    pub message: String,
}

impl JsonError {
    /// Syntax errors are `malformed_json`; unknown fields and bad values get `shape_code`.
    pub fn into_api_error(self, shape_code: Code) -> ApiError {
        if self.syntax {
            return ApiError::new(Code::MalformedJson, format!("the body is not valid JSON: {}", self.message));
        }
        let message = if self.path.is_empty() || self.path == "." {
            self.message
        } else {
            format!("`{}`: {}", self.path, self.message)
        };
        ApiError::new(shape_code, message)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = result.map_err(|e| {
        let inner = e.inner();
        JsonError {
            syntax: matches!(inner.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof),
            path: e.path().to_string(),
            message: inner.to_string(),
        }
    })?;
    de.end().map_err(|e| JsonError { syntax: true, path: String::new(), message: e.to_string() })?;
    Ok(value)
}

/// The search parameters of `GET /v1/products/search`, parsed by hand so every error names
/// its parameter (`price_min=abc` → `invalid_search_price_min`).
pub struct SearchQuery(pub SearchRequest);

/// Parameters `GET /v1/products/search` accepts.
pub const SEARCH_PARAMS: [&str; 17] = [
    "q",
    "brand",
    "category",
    "price_min",
    "price_max",
    "min_rating",
    "in_stock",
    "facets",
    "sort",
    "page",
    "per_page",
    "lang",
    "highlight",
    "ranking",
    "explain",
    "limit",
    "offset",
];

impl<S: Send + Sync> FromRequestParts<S> for SearchQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        parse_search_query(raw).map(SearchQuery)
    }
}

/// Parses the query string; ranges and limits are checked by `SearchRequest::validate`, which
/// the index runs on every search.
pub fn parse_search_query(raw: &str) -> Result<SearchRequest, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| ApiError::new(Code::UnknownSearchParameter, format!("the query string is malformed: {e}")))?;
    let mut request = SearchRequest::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut offset: Option<usize> = None;
    let invalid = |param: &str, reason: String| {
        ApiError::new(Code::InvalidSearchParam(param.to_string()), format!("invalid `{param}`: {reason}"))
    };
    for (key, value) in &pairs {
        let Some(&param) = SEARCH_PARAMS.iter().find(|p| **p == key) else {
            let code = if Filters::NAMES.iter().any(|f| key.starts_with(f)) || key.starts_with("filter") {
                Code::UnknownFilterField
            } else {
                Code::UnknownSearchParameter
            };
            return Err(ApiError::new(
                code,
                format!("unknown parameter `{key}`, expected one of: {}", SEARCH_PARAMS.join(", ")),
            ));
        };
        if param != "brand" {
            if seen.contains(&param) {
                return Err(invalid(param, "given more than once".into()));
            }
            seen.push(param);
        }
        let number = |v: &str| -> Result<f64, ApiError> {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| invalid(param, format!("`{v}` is not a number")))
        };
        let count = |v: &str| -> Result<usize, ApiError> {
            v.trim().parse::<usize>().map_err(|_| invalid(param, format!("`{v}` is not a whole number ≥ 0")))
        };
        let boolean = |v: &str| -> Result<bool, ApiError> {
            match v.trim() {
                "true" | "1" | "" => Ok(true),
                "false" | "0" => Ok(false),
                other => Err(invalid(param, format!("`{other}` is not true or false"))),
            }
        };
        match param {
            "q" => request.q = value.clone(),
            "brand" => request.filters.brand.push(value.clone()),
            "category" => request.filters.category = Some(value.clone()),
            "price_min" => request.filters.price_min = Some(number(value)?),
            "price_max" => request.filters.price_max = Some(number(value)?),
            "min_rating" => request.filters.min_rating = Some(number(value)?),
            "in_stock" => request.filters.in_stock = Some(boolean(value)?),
            "facets" => {
                request.facets = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<FacetField>())
                    .collect::<Result<_, _>>()?;
            }
            "sort" => request.sort = value.trim().parse()?,
            "page" => request.page = count(value)?,
            "per_page" | "limit" => request.per_page = count(value)?,
            // Offset-style paging for clients that prefer it; must fall on a page boundary.
            "offset" => offset = Some(count(value)?),
            "lang" => request.lang = Some(value.trim().to_ascii_lowercase()),
            "highlight" => request.highlight = boolean(value)?,
            "ranking" => request.ranking = value.trim().parse()?,
            "explain" => request.explain = boolean(value)?,
            other => {
                return Err(ApiError::internal(format!("search parameter `{other}` is accepted but not handled")));
            }
        }
    }
    if let Some(offset) = offset {
        if seen.contains(&"page") {
            return Err(invalid("offset", "give either page or offset, not both".into()));
        }
        if offset % request.per_page.max(1) != 0 {
            return Err(invalid("offset", format!("must be a multiple of per_page ({})", request.per_page)));
        }
        request.page = offset / request.per_page.max(1) + 1;
    }
    Ok(request)
}
