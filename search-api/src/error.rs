//! The one table from error code to HTTP status, and the JSON error body
//! `{"code":"invalid_search_sort","type":"invalid_request","message":"…"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Error classes, as Meilisearch's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequest,
    /// 401 and 403: who is calling, and what they may do.
    Auth,
    Internal,
}

/// Every error code the API answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// `invalid_search_<param>`: a search parameter's value is bad.
    InvalidSearchParam(String),
    /// `unknown_search_parameter`: a search parameter the API does not know.
    UnknownSearchParameter,
    /// `unknown_filter_field`: a filter the API does not know.
    UnknownFilterField,
    /// `invalid_facet_search_<param>`: a facet value search parameter (or the facet) is bad.
    InvalidFacetSearchParam(String),
    /// `unknown_facet_search_parameter`.
    UnknownFacetSearchParameter,
    /// `invalid_autocomplete_<param>`: an autocomplete parameter's value is bad.
    InvalidAutocompleteParam(String),
    /// `unknown_autocomplete_parameter`.
    UnknownAutocompleteParameter,
    /// `malformed_json`: the body is not the JSON the route takes.
    MalformedJson,
    /// `missing_content_type`: a body without `Content-Type`.
    MissingContentType,
    /// `invalid_content_type`: a `Content-Type` the route does not take (415).
    InvalidContentType,
    /// `payload_too_large`: the body is over the route's limit (413).
    PayloadTooLarge,
    /// `invalid_document`: a product or vendor is not acceptable (422); `field` names why.
    InvalidDocument,
    /// `id_mismatch`: the body's id differs from the path's.
    IdMismatch,
    /// `invalid_product_id`.
    InvalidProductId,
    /// `product_not_found` (404).
    ProductNotFound,
    /// `invalid_vendor_id`.
    InvalidVendorId,
    /// `vendor_not_found` (404).
    VendorNotFound,
    /// `invalid_offer_id`.
    InvalidOfferId,
    /// `offer_not_found` (404).
    OfferNotFound,
    /// `invalid_rfi_id`.
    InvalidRfiId,
    /// `rfi_not_found` (404).
    RfiNotFound,
    /// `invalid_rfi_search_<param>`: a parameter of the request search or of a vendor's
    /// requests is bad.
    InvalidRfiSearchParam(String),
    /// `unknown_rfi_search_parameter`.
    UnknownRfiSearchParameter,
    /// `invalid_vendor_search_<param>`: a vendor search parameter's value is bad.
    InvalidVendorSearchParam(String),
    /// `unknown_vendor_search_parameter`.
    UnknownVendorSearchParameter,
    /// `invalid_match_<field>`: a field of a match request (top-level name) is missing or bad;
    /// the error's `field` gives the full path (`location.lat`).
    InvalidMatchField(String),
    /// A behaviour event is malformed or refers to an unknown product; `field` names what.
    InvalidEvent,
    /// `invalid_recommendations_<param>`: a `/similar` or `/bought-together` parameter is bad.
    InvalidRecommendationsParam(String),
    /// `unknown_recommendations_parameter`.
    UnknownRecommendationsParameter,
    /// No similar-products model is trained yet.
    ModelNotReady,
    /// `route_not_found` (404).
    RouteNotFound,
    /// `method_not_allowed` (405).
    MethodNotAllowed,
    /// `uri_too_long`: the query string is over `http.max_query_bytes` (414).
    UriTooLong,
    /// `request_timeout`: not answered within `http.request_timeout_ms` (503).
    RequestTimeout,
    /// No API key or token came with a request that needs one.
    MissingApiKey,
    /// The API key is unknown or revoked.
    InvalidApiKey,
    /// The bearer token (JWT) failed verification; the message says why.
    InvalidToken,
    /// The key or token is valid but lacks the scope the route needs.
    InsufficientScope,
    /// `key_filter_invalid`: the caller's tenant filter does not apply to the settings (403).
    KeyFilterInvalid,
    /// Over a rate limit; `Retry-After` says when to come back.
    RateLimited,
    /// A snapshot of this tag was taken this very second.
    SnapshotExists,
    /// `invalid_settings`: a settings change is malformed or declares something invalid.
    InvalidSettings,
    /// `settings_task_running`: another settings change is being applied (409).
    SettingsTaskRunning,
    /// `require_preview` is on and the change was not previewed.
    PreviewRequired,
    /// `invalid_task_id`.
    InvalidTaskId,
    /// `task_not_found` (404).
    TaskNotFound,
    /// `index_unavailable`: another process holds the index (503).
    IndexUnavailable,
    /// `internal` (500); the detail is logged, not answered.
    Internal,
}

impl Code {
    /// The code as answered (`invalid_search_sort`).
    pub fn name(&self) -> String {
        match self {
            Code::InvalidSearchParam(param) => format!("invalid_search_{param}"),
            Code::UnknownSearchParameter => "unknown_search_parameter".into(),
            Code::UnknownFilterField => "unknown_filter_field".into(),
            Code::InvalidFacetSearchParam(param) => format!("invalid_facet_search_{param}"),
            Code::UnknownFacetSearchParameter => "unknown_facet_search_parameter".into(),
            Code::InvalidAutocompleteParam(param) => format!("invalid_autocomplete_{param}"),
            Code::UnknownAutocompleteParameter => "unknown_autocomplete_parameter".into(),
            Code::MalformedJson => "malformed_json".into(),
            Code::MissingContentType => "missing_content_type".into(),
            Code::InvalidContentType => "invalid_content_type".into(),
            Code::PayloadTooLarge => "payload_too_large".into(),
            Code::InvalidDocument => "invalid_document".into(),
            Code::IdMismatch => "id_mismatch".into(),
            Code::InvalidProductId => "invalid_product_id".into(),
            Code::ProductNotFound => "product_not_found".into(),
            Code::InvalidVendorId => "invalid_vendor_id".into(),
            Code::VendorNotFound => "vendor_not_found".into(),
            Code::InvalidOfferId => "invalid_offer_id".into(),
            Code::OfferNotFound => "offer_not_found".into(),
            Code::InvalidRfiId => "invalid_rfi_id".into(),
            Code::RfiNotFound => "rfi_not_found".into(),
            Code::InvalidRfiSearchParam(param) => format!("invalid_rfi_search_{param}"),
            Code::UnknownRfiSearchParameter => "unknown_rfi_search_parameter".into(),
            Code::InvalidVendorSearchParam(param) => format!("invalid_vendor_search_{param}"),
            Code::UnknownVendorSearchParameter => "unknown_vendor_search_parameter".into(),
            Code::InvalidMatchField(field) => format!("invalid_match_{field}"),
            Code::InvalidEvent => "invalid_event".into(),
            Code::InvalidRecommendationsParam(param) => format!("invalid_recommendations_{param}"),
            Code::UnknownRecommendationsParameter => "unknown_recommendations_parameter".into(),
            Code::ModelNotReady => "model_not_ready".into(),
            Code::RouteNotFound => "route_not_found".into(),
            Code::MethodNotAllowed => "method_not_allowed".into(),
            Code::UriTooLong => "uri_too_long".into(),
            Code::RequestTimeout => "request_timeout".into(),
            Code::MissingApiKey => "missing_api_key".into(),
            Code::InvalidApiKey => "invalid_api_key".into(),
            Code::InvalidToken => "invalid_token".into(),
            Code::InsufficientScope => "insufficient_scope".into(),
            Code::KeyFilterInvalid => "key_filter_invalid".into(),
            Code::RateLimited => "rate_limited".into(),
            Code::SnapshotExists => "snapshot_exists".into(),
            Code::InvalidSettings => "invalid_settings".into(),
            Code::SettingsTaskRunning => "settings_task_running".into(),
            Code::PreviewRequired => "preview_required".into(),
            Code::InvalidTaskId => "invalid_task_id".into(),
            Code::TaskNotFound => "task_not_found".into(),
            Code::IndexUnavailable => "index_unavailable".into(),
            Code::Internal => "internal".into(),
        }
    }

    /// The table: code → HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Code::InvalidSearchParam(_)
            | Code::UnknownSearchParameter
            | Code::UnknownFilterField
            | Code::InvalidAutocompleteParam(_)
            | Code::InvalidFacetSearchParam(_)
            | Code::UnknownFacetSearchParameter
            | Code::UnknownAutocompleteParameter
            | Code::MalformedJson
            | Code::InvalidProductId
            | Code::InvalidVendorId
            | Code::InvalidOfferId
            | Code::InvalidRfiId
            | Code::InvalidRfiSearchParam(_)
            | Code::UnknownRfiSearchParameter
            | Code::InvalidVendorSearchParam(_)
            | Code::UnknownVendorSearchParameter
            | Code::InvalidMatchField(_)
            | Code::InvalidEvent
            | Code::InvalidRecommendationsParam(_)
            | Code::UnknownRecommendationsParameter
            | Code::InvalidSettings
            | Code::InvalidTaskId => StatusCode::BAD_REQUEST,
            Code::MissingContentType | Code::InvalidContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::InvalidDocument | Code::IdMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Code::ProductNotFound
            | Code::VendorNotFound
            | Code::OfferNotFound
            | Code::RfiNotFound
            | Code::RouteNotFound
            | Code::TaskNotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::UriTooLong => StatusCode::URI_TOO_LONG,
            Code::MissingApiKey | Code::InvalidApiKey | Code::InvalidToken => StatusCode::UNAUTHORIZED,
            Code::InsufficientScope | Code::KeyFilterInvalid => StatusCode::FORBIDDEN,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::SnapshotExists | Code::SettingsTaskRunning | Code::PreviewRequired => StatusCode::CONFLICT,
            Code::IndexUnavailable | Code::ModelNotReady | Code::RequestTimeout => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_type(&self) -> ErrorType {
        match self.status() {
            s if s.is_server_error() => ErrorType::Internal,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ErrorType::Auth,
            _ => ErrorType::InvalidRequest,
        }
    }
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// What kind of error.
    pub code: Code,
    /// What was wrong, for a person.
    pub message: String,
    /// The request field at fault, as a dotted path, when there is one.
    pub field: Option<String>,
}

/// The body of every error answer (4xx and 5xx).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "code": "invalid_search_sort",
    "type": "invalid_request",
    "message": "unknown sort `cheapest`, expected one of: relevance, price_asc, price_desc, rating, newest",
    "field": "sort"
}))]
pub struct ErrorBody {
    /// Stable machine-readable code (`invalid_search_<param>`, `product_not_found`, …).
    code: String,
    #[serde(rename = "type")]
    error_type: ErrorType,
    /// What was wrong, for people.
    message: String,
    /// The request field at fault, as a dotted path, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl ApiError {
    /// An error of `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }

    /// Names the request field at fault (`"field": "location.lat"` in the body).
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A 500: the detail goes to the log (inside the request's span), the caller gets a
    /// generic message.
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// A 500 whose `detail` is logged and never answered.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(Code::Internal, "internal error; the server log has the details")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = ErrorBody {
            code: self.code.name(),
            error_type: self.code.error_type(),
            message: self.message,
            field: self.field,
        };
        (status, Json(body)).into_response()
    }
}

impl From<searchd_catalog::Error> for ApiError {
    fn from(e: searchd_catalog::Error) -> Self {
        use searchd_catalog::Error as E;
        let code = match &e {
            E::InvalidParameter { param, .. } => Code::InvalidSearchParam(param.clone()),
            E::UnknownParameter { .. } => Code::UnknownSearchParameter,
            E::InvalidDocument { .. } => Code::InvalidDocument,
            _ => Code::InvalidDocument,
        };
        Self::new(code, e.to_string()).with_field(e.param())
    }
}

impl From<searchd_indexer::Error> for ApiError {
    fn from(e: searchd_indexer::Error) -> Self {
        use searchd_indexer::Error as E;
        match e {
            E::Invalid(e) => e.into(),
            E::NotFound(id) => Self::new(Code::ProductNotFound, format!("product `{id}` not found")),
            E::VendorNotFound(id) => Self::new(Code::VendorNotFound, format!("vendor `{id}` not found")),
            E::OfferNotFound(id) => Self::new(Code::OfferNotFound, format!("offer `{id}` not found")),
            E::RfiNotFound(id) => Self::new(Code::RfiNotFound, format!("rfi `{id}` not found")),
            E::Locked(_) => Self::new(Code::IndexUnavailable, e.to_string()),
            other => Self::internal(other),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
