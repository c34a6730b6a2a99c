//! The OpenAPI 3.1 description of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! attributes and the types' `ToSchema` derives, served at `GET /openapi.json`.
//!
//! Errors every protected route may answer (401, 403, 429) and every route may answer (414,
//! 500, 503) are added to each operation here, so that the handlers list only their own.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::routes::documents::{BulkItemResult, ItemError};
use crate::routes::events::EventItemResult;
use crate::routes::{
    admin, autocomplete, events, facets, health, offers, preview, products, recommendations, rfis, settings, vendors,
};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "searchd",
        description = "Search, ranking and recommendations for marketplaces: products (typo-tolerant full-text \
search with facets, filters and learned ranking), autocomplete, vendors (geo search and matching of requests for \
information), offers of products by vendors, requests for information (searched, and matched to vendors in reverse), behaviour events, similar products, and administration.\n\n\
Every route but /healthz, /readyz, /metrics and /openapi.json needs an API key (`X-Api-Key` or \
`Authorization: Bearer sd_…`) or a JWT bearer token with the route's scope: `search` for reads and events, \
`write` for writes, `admin` for /v1/admin.",
        license(name = "Apache-2.0")
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        openapi_json,
        products::search_get,
        products::search_post,
        autocomplete::autocomplete,
        facets::facet_search,
        products::get_product,
        products::put_product,
        products::delete_product,
        products::bulk_products,
        recommendations::similar,
        recommendations::bought_together_route,
        events::post_events,
        vendors::search_vendors,
        vendors::match_vendors,
        vendors::get_vendor,
        vendors::put_vendor,
        vendors::delete_vendor,
        vendors::bulk_vendors,
        offers::get_offer,
        offers::put_offer,
        offers::delete_offer,
        offers::bulk_offers,
        offers::product_offers,
        rfis::get_rfi,
        rfis::put_rfi,
        rfis::delete_rfi,
        rfis::bulk_rfis,
        rfis::search_rfis,
        rfis::vendor_rfis,
        admin::ranker_status,
        admin::ingest_status,
        admin::refresh_route,
        admin::create_snapshot,
        admin::list_snapshots,
        settings::get_settings,
        settings::patch_settings,
        settings::get_task,
        settings::list_tasks,
        settings::list_rules,
        preview::preview_settings,
    ),
    components(schemas(ErrorBody, BulkItemResult, EventItemResult, ItemError)),
    modifiers(&Security, &CommonErrors),
    tags(
        (name = "products", description = "Product search and writes"),
        (name = "autocomplete", description = "Suggestions as the user types"),
        (name = "recommendations", description = "Similar products and bought together"),
        (name = "events", description = "Behaviour events (views, clicks, carts, purchases) for ranking"),
        (name = "vendors", description = "Vendor writes, geo search and matching"),
        (name = "offers", description = "Vendors' offers of products, which product search near a shopper reads"),
        (name = "rfis", description = "Customers' requests for information: writes, search, and the open ones a vendor can serve"),
        (name = "settings", description = "Declared attributes and their uses, changed at runtime by background tasks"),
        (name = "admin", description = "Models, ingest and snapshots"),
        (name = "health", description = "Liveness, readiness, metrics and this description"),
    )
)]
/// The OpenAPI description, generated from the handlers and types.
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
