//! Extractors whose rejections are our JSON errors, so malformed input never gets axum's
//! plain-text defaults.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

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

/// A `lat,lon` query parameter in degrees, checked; the error is the reason, for the caller to
/// name its parameter.
pub fn lat_lon(value: &str) -> Result<searchd_catalog::GeoPoint, String> {
    let parts: Vec<Option<f64>> =
        value.split(',').map(|p| p.trim().parse::<f64>().ok().filter(|n| n.is_finite())).collect();
    let [Some(lat), Some(lon)] = parts[..] else { return Err(format!("`{value}` is not `lat,lon` in degrees")) };
    let point = searchd_catalog::GeoPoint { lat, lon };
    point.validate().map_err(|e| e.to_string())?;
    Ok(point)
}
