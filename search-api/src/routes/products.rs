//! Products: search (`GET` and `POST /v1/products/search`, with its parameters) and the
//! document routes (`GET/PUT/DELETE /v1/products/{id}`, `POST /v1/products/bulk`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::response::Response;
use searchd_catalog::filter::Filter;
use searchd_catalog::{FacetField, Filters, Product, SearchRequest, SearchResponse, WriteOutcome};
use serde_json::Value;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::extractors::{Body, json_kind, parse_json};
use crate::middleware::auth::Tenant;
use crate::middleware::cache::{Kind, Outcome, decode_search, encode_search, json_body};
use crate::routes::documents::{self, BulkResponse, DeleteParams, Document, IdPath, RefreshParam, WriteResponse};
use crate::state::AppState;

/// Full-text product search with filters, facets, sort and paging, as query parameters.
#[utoipa::path(get, path = "/v1/products/search", tag = "products",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of ranked products", body = SearchResponse,
         headers(("x-cache" = String, description = "`hit`, `miss` or `bypass`"))),
        (status = 400, description = "A parameter is unknown or its value is bad; `field` names it", body = ErrorBody)))]
pub async fn search_get(
    State(state): State<AppState>,
    tenant: Tenant,
    SearchQuery(request): SearchQuery,
) -> ApiResult<Response> {
    run_search(state, request, tenant).await
}

/// The same search as a JSON body (filters nested under `filters`).
#[utoipa::path(post, path = "/v1/products/search", tag = "products",
    request_body(content = SearchRequest, example = json!({
        "q": "cordless drill", "filters": {"brand": ["DeWalt"], "price_max": 200, "in_stock": true},
        "facets": ["brand", "category"], "sort": "relevance", "page": 1, "per_page": 10, "highlight": true})),
    responses(
        (status = 200, description = "A page of ranked products", body = SearchResponse,
         headers(("x-cache" = String, description = "`hit`, `miss` or `bypass`"))),
        (status = 400, description = "Malformed JSON, or a field is unknown or bad", body = ErrorBody),
        (status = 413, description = "Body over `http.max_body_bytes`", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody)))]
pub async fn search_post(State(state): State<AppState>, tenant: Tenant, req: Request) -> ApiResult<Response> {
    json_kind(req.headers())?;
    let Body(bytes) = Body::from_request(req, &()).await?;
    // serde also accepts an array for a struct (fields by position): only an object is a search.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        return Err(ApiError::new(Code::InvalidSearchParam("body".into()), "the search body must be a JSON object"));
    }
    let request: SearchRequest = parse_json(&bytes).map_err(|e| {
        if e.syntax {
            return e.into_api_error(Code::MalformedJson);
        }
        let last = e.path.rsplit('.').next().unwrap_or("").to_string();
        let code = if e.message.starts_with("unknown field") {
            if e.path.starts_with("filters") { Code::UnknownFilterField } else { Code::UnknownSearchParameter }
        } else if last.is_empty() || last == "?" {
            Code::InvalidSearchParam("body".into())
        } else {
            Code::InvalidSearchParam(
                last.trim_end_matches(|c: char| c == ']' || c.is_ascii_digit() || c == '[').to_string(),
            )
        };
        e.into_api_error(code)
    })?;
    run_search(state, request, tenant).await
}

/// Validation happens in the index, where every caller (HTTP, eval, benches) passes.
/// Page-one searches with text are counted in the query log (popular-query suggestions), cache
/// hits included.
///
/// The cache key's version is read before searching: a commit landing in between files the
/// newer answer under the older version, never the reverse.
///
/// A tenant's filter is part of the request (and so of the cache key); a tenant's searches are
/// not counted in the query log, which every caller's suggestions come from.
async fn run_search(state: AppState, mut request: SearchRequest, tenant: Tenant) -> ApiResult<Response> {
    request.tenant = tenant.checked(&state.index.settings().settings)?;
    let counted = request.page == 1 && !request.q.trim().is_empty() && request.tenant.is_none();
    // The merchandising rules holding now: counted, and part of the cache key, so an answer
    // cached before a rule's window opened is not served after.
    let rules = state.index.rules_for(&request);
    for rule in &rules {
        state.metrics.rule_applied(rule);
    }
    // Near a shopper, the answer depends on the vendor and offer indexes too, which the cache's
    // version does not follow: not cached.
    let key = (state.cache.enabled() && request.near.is_none()).then(|| {
        let model = state.ranking.model_version().unwrap_or_default();
        let version = format!("{:016x}.{model}.{}", state.index.content_version(), rules.join(","));
        state.cache.key(Kind::Search, &version, &serde_json::to_string(&request).unwrap_or_default())
    });
    if let Some(key) = &key
        && let Some((total_hits, body)) = state.cache.get(Kind::Search, key).await.as_ref().and_then(decode_search)
    {
        if counted {
            state.autocomplete.record(&request.q, total_hits);
        }
        return Ok(json_body(body, Outcome::Hit));
    }
    let (index, ranking, autocomplete) = (state.index.clone(), state.ranking.clone(), state.autocomplete.clone());
    let (vendors, offers) = (state.vendors.clone(), state.offers.clone());
    let response = state
        .placement
        .run(move || {
            let response = match request.near {
                None => index.search(&request, &ranking.ranker())?,
                Some(point) => {
                    let settings = index.settings();
                    // Checked first, so a bad filter is named before any offer is read.
                    request.validate(&settings.settings.attributes)?;
                    let conditions = request.offer_conditions()?;
                    let near = offers.near(&vendors, &index, point, &conditions, request.offer_sort)?;
                    index.search_near(&request, &ranking.ranker(), &near)?
                }
            };
            if counted {
                autocomplete.record(&request.q, response.total_hits);
            }
            Ok::<_, ApiError>(response)
        })
        .await
        .map_err(ApiError::internal)??;
    let body = Bytes::from(serde_json::to_vec(&response).map_err(ApiError::internal)?);
    let Some(key) = key else { return Ok(json_body(body, Outcome::Bypass)) };
    state.cache.put(key, encode_search(response.total_hits, &body)).await;
    Ok(json_body(body, Outcome::Miss))
}

impl Document for Product {
    type Prepared = searchd_indexer::PreparedProduct;
    const NAME: &'static str = "product";
    const PLURAL: &'static str = "products";

    fn invalid_id() -> Code {
        Code::InvalidProductId
    }

    /// `ProductIndex::prepare` validates the values.
    fn from_value(value: Value) -> ApiResult<Self> {
        serde_path_to_error::deserialize(value)
            .map_err(|e| ApiError::new(Code::InvalidDocument, format!("`{}`: {}", e.path(), e.inner())))
    }

    fn prepare(state: &AppState, doc: Self) -> ApiResult<Self::Prepared> {
        Ok(state.index.prepare(doc)?)
    }

    fn id_of(prepared: &Self::Prepared) -> String {
        prepared.id().to_string()
    }

    fn write(state: &AppState, docs: Vec<Self::Prepared>) -> ApiResult<Vec<WriteOutcome>> {
        Ok(state.index.apply_prepared(docs)?)
    }

    fn get(state: &AppState, id: &str) -> ApiResult<Self> {
        Ok(state.index.get(id)?)
    }

    fn delete(state: &AppState, id: &str, version: u64) -> ApiResult<WriteOutcome> {
        if version == 0 && !state.index.is_live(id) {
            return Err(searchd_indexer::Error::NotFound(id.to_string()).into());
        }
        Ok(state.index.delete(id, version)?)
    }

    fn commit(state: &AppState) -> ApiResult<()> {
        Ok(state.index.commit()?)
    }
}

/// One product by id.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products",
    params(IdPath),
    responses(
        (status = 200, description = "The product as stored", body = Product),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody)))]
pub async fn get_product(
    State(state): State<AppState>,
    tenant: Tenant,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Product>> {
    let filter = tenant.checked(&state.index.settings().settings)?;
    let index = state.index.clone();
    let product: Product = documents::get(state, path).await?;
    if let Some(filter) = filter {
        let id = product.id.clone();
        let visible = tokio::task::spawn_blocking(move || index.visible(&filter, &[id.as_str()]))
            .await
            .map_err(ApiError::internal)??;
        if visible.is_empty() {
            // As for a product that does not exist: a tenant learns nothing of others' ids.
            return Err(searchd_indexer::Error::NotFound(product.id).into());
        }
    }
    Ok(Json(product))
}

/// Creates or replaces a product (upsert); searchable after the next commit, or at once with
/// `refresh=true`.
#[utoipa::path(put, path = "/v1/products/{id}", tag = "products",
    params(IdPath, RefreshParam),
    request_body(content = Product, example = json!({
        "title": "20V MAX Cordless Drill", "brand": "DeWalt", "category": ["Tools", "Power Tools", "Drills"],
        "price": 129.0, "currency": "USD", "rating": 4.6, "review_count": 812, "in_stock": true})),
    responses(
        (status = 200, description = "Written (or unchanged, or stale)", body = WriteResponse),
        (status = 400, description = "Malformed JSON or a bad parameter", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "The product is invalid (the field is named) or its id differs from the path's",
         body = ErrorBody)))]
pub async fn put_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::put::<Product>(state, path, req).await.map(Json)
}

/// Deletes a product; with `version`, only if that version is newer than the stored one.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "products",
    params(IdPath, DeleteParams),
    responses(
        (status = 200, description = "Deleted (or stale)", body = WriteResponse),
        (status = 400, description = "Bad id or parameter", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody)))]
pub async fn delete_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::delete::<Product>(state, path, req).await.map(Json)
}

/// `POST /v1/products/bulk`: a JSON array of products, or NDJSON (one product per line).
/// Every item gets its own result; bad items never stop good ones.
#[utoipa::path(post, path = "/v1/products/bulk", tag = "products", params(RefreshParam),
    request_body(description = "Products as a JSON array or NDJSON", content(
        (Vec<Product> = "application/json", example = json!([{"id": "sku-1", "title": "Claw hammer", "price": 19.9},
                                                             {"id": "sku-2", "title": "Tape measure 5 m"}])),
        (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "One result per item; bad items never stop good ones", body = BulkResponse,
         example = json!({"errors": true, "applied": 1, "unchanged": 0, "stale": 0, "failed": 1, "items": [
            {"index": 0, "id": "sku-1", "result": "applied", "version": 1},
            {"index": 1, "id": "sku-2", "error": {"code": "invalid_document", "field": "price",
             "message": "invalid document field `price`: must be a finite number ≥ 0"}}]})),
        (status = 400, description = "The body is not a JSON array / NDJSON", body = ErrorBody),
        (status = 413, description = "Body over `http.max_bulk_body_bytes`", body = ErrorBody),
        (status = 415, description = "Content-Type is neither JSON nor NDJSON", body = ErrorBody)))]
pub async fn bulk_products(State(state): State<AppState>, req: Request) -> ApiResult<Json<BulkResponse>> {
    documents::bulk::<Product>(state, req).await.map(Json)
}

/// The search parameters of `GET /v1/products/search`, parsed by hand so every error names
/// its parameter (`price_min=abc` → `invalid_search_price_min`).
pub struct SearchQuery(pub SearchRequest);

/// Parameters `GET /v1/products/search` accepts.
pub const SEARCH_PARAMS: [&str; 29] = [
    "q",
    "filter",
    "brand",
    "category",
    "price_min",
    "price_max",
    "min_rating",
    "in_stock",
    "facets",
    "disjunctive",
    "max_values_per_facet",
    "category_depth",
    "facet_order",
    "facet_ranges",
    "stats_by",
    "distinct",
    "sort",
    "page",
    "per_page",
    "lang",
    "highlight",
    "ranking",
    "explain",
    "prefix",
    "correct",
    "limit",
    "offset",
    "near",
    "offer_sort",
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
            "filter" => {
                request.filter =
                    Some(Filter::parse(value).map_err(|e| invalid(param, e.to_string()).with_field(param))?)
            }
            "brand" => request.filters.brand.push(value.clone()),
            "category" => request.filters.category = Some(value.clone()),
            "price_min" => request.filters.price_min = Some(number(value)?),
            "price_max" => request.filters.price_max = Some(number(value)?),
            "min_rating" => request.filters.min_rating = Some(number(value)?),
            "in_stock" => request.filters.in_stock = Some(boolean(value)?),
            "facets" | "disjunctive" => {
                let names = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<FacetField>().map_err(|e| invalid(param, e.to_string())))
                    .collect::<Result<_, _>>()?;
                if param == "facets" { request.facets = names } else { request.disjunctive = names }
            }
            "max_values_per_facet" => request.max_values_per_facet = count(value)?,
            "category_depth" => request.category_depth = count(value)?,
            "distinct" => request.distinct = Some(value.trim().to_string()),
            "stats_by" => request.stats_by = Some(value.trim().to_string()),
            "facet_order" => request.facet_order = value.trim().parse()?,
            // `price:0-50,50-100,100-`; several facets separated by `;`.
            "facet_ranges" => {
                for part in value.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    let (name, ranges) = part
                        .split_once(':')
                        .ok_or_else(|| invalid(param, format!("`{part}` is not of the form name:from-to,from-to")))?;
                    let ranges = ranges
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|r| r.parse::<searchd_catalog::FacetRange>())
                        .collect::<Result<Vec<_>, _>>()?;
                    request.facet_ranges.insert(name.trim().to_string(), ranges);
                }
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
            "prefix" => request.prefix = value.trim().parse()?,
            "correct" => request.correct = boolean(value)?,
            "near" => {
                let point = crate::extractors::lat_lon(value).map_err(|e| invalid(param, e).with_field(param))?;
                request.near = Some(point);
            }
            "offer_sort" => request.offer_sort = value.trim().parse()?,
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

/// Query parameters of `GET /v1/products/search`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters parse_search_query reads")]
pub struct SearchParams {
    /// The query text (at most 512 characters); empty lists everything.
    #[param(example = "cordless drill")]
    q: Option<String>,
    /// A filter expression, ANDed with the other filters: `=`, `!=`, `>`, `>=`, `<`, `<=`,
    /// `a TO b`, `IN [..]`, `NOT IN [..]`, `EXISTS`, `IS NULL`, `IS EMPTY`, `AND`, `OR`, `NOT`,
    /// parentheses, quoted strings, over brand, category, price, currency, rating, review_count,
    /// popularity, in_stock, updated_at, language and the filterable attributes.
    #[param(example = "price < 100 AND brand IN [Bosch, Makita]")]
    filter: Option<String>,
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
    /// Facets to count, comma-separated: `brand`, `category`, `currency`, `language`, `price`,
    /// `rating`, `review_count`, `popularity`, and facetable attributes. Keyword facets answer
    /// in `facets`, numeric ones in `facet_stats`.
    #[param(example = "brand,category,price")]
    facets: Option<String>,
    /// Facets counted disjunctively, comma-separated: their counts ignore the filter clauses on
    /// that same facet (checkboxes).
    #[param(example = "brand")]
    disjunctive: Option<String>,
    /// Values per keyword facet (default 20).
    #[param(minimum = 1, maximum = 1000)]
    max_values_per_facet: Option<usize>,
    /// Levels of the category facet (default 1): from 2, each value has its `path` and
    /// `children`.
    #[param(minimum = 1, maximum = 4)]
    category_depth: Option<usize>,
    #[param(value_type = Option<searchd_catalog::FacetOrder>)]
    facet_order: Option<String>,
    /// Ranges to count per numeric facet: `price:0-50,50-100,100-` (from included, to
    /// excluded; `a..b` for negative ends), several facets separated by `;`.
    #[param(example = "price:0-50,50-100,100-")]
    facet_ranges: Option<String>,
    /// The numeric facets' stats also per value of this keyword field (`currency`,
    /// `language`, a facetable keyword attribute), in `facet_stats_by`: prices per currency.
    #[param(example = "currency")]
    stats_by: Option<String>,
    /// One best hit per value of this filterable keyword attribute; `total_hits` counts groups.
    #[param(example = "group_id")]
    distinct: Option<String>,
    /// Result order: `relevance` (the default), sort keys `price:asc,rating:desc` over the
    /// built-in numbers and dates and the sortable attributes (relevance breaks ties unless
    /// `_relevance` is placed; missing values last), or `price_asc`, `price_desc`, `rating`,
    /// `newest`.
    #[param(example = "price:asc,rating:desc")]
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
    /// Per-hit phase-1 components and phase-2 feature contributions, and how each query word
    /// matched.
    explain: Option<bool>,
    /// `last` (the default) also matches the last word as the start of longer words ("cordl"
    /// finds "cordless"), whole words ranking first; `none`: whole words only.
    #[param(value_type = Option<searchd_catalog::PrefixMode>)]
    prefix: Option<String>,
    /// `true` (the default): a misspelt query ("cordles drill") is searched corrected and the
    /// answer's `did_you_mean` says so; `false`: searched as typed, the correction only
    /// suggested.
    correct: Option<bool>,
    /// `lat,lon` of the shopper: only products with an in-stock offer from a vendor serving this
    /// point (a branch's radius or a delivery zone), each hit with its best serving `offer`;
    /// `sort=price` then sorts by that offer's price, `sort=distance` by its vendor's distance,
    /// and the filter may hold `offer.price`, `offer.stock`, `offer.lead_time_days`,
    /// `offer.condition`, `offer.currency` and `offer.vendor_id` conditions, which one and the
    /// same offer must meet.
    #[param(example = "48.86,2.34")]
    near: Option<String>,
    /// Which serving offer is a product's best with `near`: `price` (the default), `lead_time`
    /// or `distance`.
    #[param(value_type = Option<searchd_catalog::near::OfferSort>)]
    offer_sort: Option<String>,
}
