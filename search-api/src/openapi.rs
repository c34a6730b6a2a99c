//! The OpenAPI 3.1 description of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! attributes and the types' `ToSchema` derives, served at `GET /openapi.json`.
//!
//! Errors every protected route may answer (401, 403, 429) and every route may answer (414,
//! 500, 503) are added to each operation here, so that the handlers list only their own.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::error::ErrorBody;
use searchd_engine::snapshot::SnapshotInfo;

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "searchd",
        description = "Search, ranking and recommendations for marketplaces: products (typo-tolerant full-text \
search with facets, filters and learned ranking), autocomplete, vendors (geo search and matching of requests for \
information), behaviour events, similar products, and administration.\n\n\
Every route but /healthz, /readyz, /metrics and /openapi.json needs an API key (`X-Api-Key` or \
`Authorization: Bearer sd_…`) or a JWT bearer token with the route's scope: `search` for reads and events, \
`write` for writes, `admin` for /v1/admin.",
        license(name = "Apache-2.0")
    ),
    paths(
        crate::routes::healthz,
        crate::routes::readyz,
        crate::metrics::metrics,
        openapi_json,
        crate::routes::search_get,
        crate::routes::search_post,
        crate::autocomplete::autocomplete,
        crate::routes::get_product,
        crate::routes::put_product,
        crate::routes::delete_product,
        crate::routes::bulk_products,
        crate::recommend::similar,
        crate::recommend::bought_together_route,
        crate::events::post_events,
        crate::vendors::search_vendors,
        crate::vendors::match_vendors,
        crate::vendors::get_vendor,
        crate::vendors::put_vendor,
        crate::vendors::delete_vendor,
        crate::vendors::bulk_vendors,
        crate::events::ranker_status,
        crate::routes::ingest_status,
        crate::recommend::refresh_route,
        crate::routes::create_snapshot,
        crate::routes::list_snapshots,
    ),
    components(schemas(ErrorBody, BulkItemResult, EventItemResult, ItemError)),
    modifiers(&Security, &CommonErrors),
    tags(
        (name = "products", description = "Product search and writes"),
        (name = "autocomplete", description = "Suggestions as the user types"),
        (name = "recommendations", description = "Similar products and bought together"),
        (name = "events", description = "Behaviour events (views, clicks, carts, purchases) for ranking"),
        (name = "vendors", description = "Vendor writes, geo search and matching"),
        (name = "admin", description = "Models, ingest and snapshots"),
        (name = "health", description = "Liveness, readiness, metrics and this description"),
    )
)]
pub struct ApiDoc;

/// The description, rendered once.
static SPEC: LazyLock<Bytes> =
    LazyLock::new(|| Bytes::from(ApiDoc::openapi().to_pretty_json().expect("the OpenAPI description serializes")));

/// This description.
#[utoipa::path(get, path = "/openapi.json", tag = "health", security(()), responses(
    (status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json",
     body = Object)))]
pub async fn openapi_json() -> Response {
    let mut response = SPEC.clone().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// API keys (header or bearer) and JWT bearer tokens, required everywhere unless an operation
/// says `security: [{}]`.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "An API key made by `searchd keys create`",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A JWT (HS256 or RS256) with `scope`, or an API key"))
                    .build(),
            ),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("api_key", Vec::<String>::new()),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
    }
}

/// Adds the errors any route may answer to every operation that does not list them itself:
/// each described once under `components.responses` and referenced from the operations.
struct CommonErrors;

/// (status, response name, description); the last three only where a key is needed.
const COMMON_ERRORS: [(&str, &str, &str); 6] = [
    ("414", "UriTooLong", "The query string is over `http.max_query_bytes`"),
    ("500", "Internal", "An internal error; the server log has the details"),
    ("503", "Unavailable", "The request took longer than `http.request_timeout_ms`, or the index is unavailable"),
    ("401", "Unauthorized", "No API key or token, or an unknown, revoked or invalid one"),
    ("403", "Forbidden", "The key or token lacks the route's scope"),
    ("429", "RateLimited", "Over a rate limit; `Retry-After` says when to come back"),
];

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let body = Content::new(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))));
        for (_, name, description) in COMMON_ERRORS {
            let response = ResponseBuilder::new().description(description).content("application/json", body.clone());
            components.responses.insert(name.to_string(), RefOr::T(response.build()));
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let open =
                    operation.security.as_ref().is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
                let errors = if open { &COMMON_ERRORS[..3] } else { &COMMON_ERRORS[..] };
                for (status, name, _) in errors {
                    operation
                        .responses
                        .responses
                        .entry((*status).to_string())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
                }
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head]
        .into_iter()
        .filter_map(Option::as_mut)
}

/// `GET /v1/admin/snapshots`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotList {
    /// Oldest first.
    pub snapshots: Vec<SnapshotInfo>,
}

/// A bulk item's result: `result` and `version` (or `current` when stale) when written,
/// `error` when rejected.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes JSON built in routes::bulk_write")]
pub struct BulkItemResult {
    /// Position in the request.
    index: usize,
    /// The item's id, `null` when it had none or was unreadable.
    id: Option<String>,
    /// `applied`, `unchanged` or `stale`.
    result: Option<String>,
    version: Option<u64>,
    /// The newer version held (`stale`).
    current: Option<u64>,
    error: Option<ItemError>,
}

/// An event's result.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes JSON built in events::post_events")]
pub struct EventItemResult {
    index: usize,
    /// `accepted` or `rejected`.
    status: String,
    error: Option<ItemError>,
}

/// Why one item of a batch was rejected.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes JSON built per item")]
pub struct ItemError {
    code: String,
    message: String,
    /// The field at fault, as a dotted path.
    field: Option<String>,
}

/// Query parameters of `GET /v1/products/search`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters extract::parse_search_query reads")]
pub struct SearchParams {
    /// The query text (at most 512 characters); empty lists everything.
    #[param(example = "cordless drill")]
    q: Option<String>,
    /// Brand filter; repeat for any of several brands.
    brand: Option<Vec<String>>,
    /// Category path prefix, `/`-separated (`Tools/Power Tools`).
    #[param(pattern = "^/?[^/]*\\S[^/]*(/[^/]*\\S[^/]*)*/?$")]
    category: Option<String>,
    #[param(minimum = 0)]
    price_min: Option<f64>,
    #[param(minimum = 0)]
    price_max: Option<f64>,
    #[param(minimum = 0, maximum = 5)]
    min_rating: Option<f64>,
    in_stock: Option<bool>,
    /// Facets to count, comma-separated: `brand`, `category`.
    #[param(example = "brand,category")]
    facets: Option<String>,
    #[param(value_type = Option<searchd_catalog::SortBy>)]
    sort: Option<String>,
    /// 1-based page (page × per_page ≤ 1000).
    #[param(minimum = 1)]
    page: Option<usize>,
    /// Hits per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<usize>,
    /// Two-letter ISO 639-1 code of the query's language; detected when absent.
    #[param(example = "en")]
    lang: Option<String>,
    /// Wrap matched terms in `<em>`.
    highlight: Option<bool>,
    #[param(value_type = Option<searchd_catalog::RankingMode>)]
    ranking: Option<String>,
    /// Per-hit phase-1 components and phase-2 feature contributions.
    explain: Option<bool>,
}

/// Query parameters of `GET /v1/autocomplete`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters autocomplete::parse_autocomplete_query reads")]
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

/// Query parameters of `GET /v1/vendors/search`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters vendors::parse_vendor_query reads")]
pub struct VendorSearchParams {
    /// Text matched against names, capabilities, descriptions and tags.
    #[param(example = "cnc milling")]
    q: Option<String>,
    /// `lat,lon` the distances are measured from.
    #[param(example = "50.0755,14.4378")]
    near: Option<String>,
    /// Only vendors within this many kilometres of `near` (needs `near`).
    #[param(example = 150)]
    radius_km: Option<f64>,
    /// `min_lat,min_lon,max_lat,max_lon`.
    #[param(example = "48.5,12.0,51.1,18.9")]
    bbox: Option<String>,
    /// Category path, `/`-separated.
    #[param(pattern = "^/?[^/]*\\S[^/]*(/[^/]*\\S[^/]*)*/?$")]
    category: Option<String>,
    /// `relevance` or `distance` (needs `near`).
    #[param(pattern = "^(relevance|distance)$")]
    sort: Option<String>,
    #[param(minimum = 1)]
    page: Option<usize>,
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<usize>,
}

/// The `{id}` of the product and vendor routes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "describes the path parameter the handlers read")]
pub struct IdPath {
    /// The product's or vendor's id: no control characters, at most 512 bytes.
    #[param(
        max_length = 512,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    id: String,
}

/// `refresh` of the write routes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameter routes::write_params reads")]
pub struct RefreshParam {
    /// Commit before answering, so the write is searchable at once (otherwise within
    /// `index.commit_interval_ms`).
    refresh: Option<bool>,
}

/// `refresh` and `version` of the delete routes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters routes::write_params reads")]
pub struct DeleteParams {
    refresh: Option<bool>,
    /// Delete only if this version is above the stored one (ordered writes).
    #[param(minimum = 1)]
    version: Option<u64>,
}

/// `limit` of the recommendation routes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameter recommend::parse_limit reads")]
pub struct LimitParam {
    /// Products to return (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}
