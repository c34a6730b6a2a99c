use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use searchd_catalog::{CatalogEvent, Product, SearchRequest, SearchResponse, WriteOutcome};
use serde::Serialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::cache::{Kind, Outcome, decode_search, encode_search};
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::extract::{Body, JsonKind, SearchQuery, json_kind, parse_json};

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (health), `ready` or `loading` (readiness).
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Products searchable now (readiness, once ready).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<u64>,
    /// Vendors searchable now (readiness, once ready).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendors: Option<u64>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "The process is up", body = Health, example = json!({"status": "ok"}))))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", documents: None, vendors: None })
}

/// The Kafka ingester's progress: per partition committed offset, high watermark and lag, last
/// commit, dead letters. `{"state": "disabled"}` when `[kafka]` is off.
#[utoipa::path(get, path = "/v1/admin/ingest", tag = "admin", responses(
    (status = 200, description = "Per-partition offsets, lag and dead letters, or `{\"state\": \"disabled\"}`",
     body = Object, example = json!({"state": "disabled"}))))]
pub async fn ingest_status(State(state): State<AppState>) -> Json<Value> {
    match state.ingest.get() {
        Some(handle) => Json(json!(handle.status())),
        None => Json(json!({ "state": "disabled" })),
    }
}

/// Readiness: 200 once the catalog is loaded, 503 while it loads.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses(
    (status = 200, description = "Serving", body = Health,
     example = json!({"status": "ready", "documents": 312, "vendors": 128})),
    (status = 503, description = "Still loading the catalog", body = Health, example = json!({"status": "loading"}))))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if state.ready.load(std::sync::atomic::Ordering::Acquire) {
        let (documents, vendors) = (Some(state.index.num_docs()), Some(state.vendors.num_docs()));
        (StatusCode::OK, Json(Health { status: "ready", documents, vendors }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "loading", documents: None, vendors: None }))
    }
}

/// Full-text product search with filters, facets, sort and paging, as query parameters.
#[utoipa::path(get, path = "/v1/products/search", tag = "products",
    params(crate::openapi::SearchParams),
    responses(
        (status = 200, description = "A page of ranked products", body = SearchResponse,
         headers(("x-cache" = String, description = "`hit`, `miss` or `bypass`"))),
        (status = 400, description = "A parameter is unknown or its value is bad; `field` names it", body = ErrorBody)))]
pub async fn search_get(State(state): State<AppState>, SearchQuery(request): SearchQuery) -> ApiResult<Response> {
    run_search(state, request).await
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
pub async fn search_post(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
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
    run_search(state, request).await
}

/// A JSON answer with its `x-cache` header.
pub(crate) fn json_body(body: Bytes, outcome: Outcome) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("x-cache", HeaderValue::from_static(outcome.header()));
    response
}

/// Validation happens in the index, where every caller (HTTP, eval, benches) passes.
/// Page-one searches with text are counted in the query log (popular-query suggestions), cache
/// hits included.
///
/// The cache key's version is read before searching: a commit landing in between files the
/// newer answer under the older version, never the reverse.
async fn run_search(state: AppState, request: SearchRequest) -> ApiResult<Response> {
    let counted = request.page == 1 && !request.q.trim().is_empty();
    let key = state.cache.enabled().then(|| {
        let model = state.ranking.model_version().unwrap_or_default();
        let version = format!("{:016x}.{model}", state.index.content_version());
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
    let response = tokio::task::spawn_blocking(move || {
        let response = index.search(&request, &ranking.ranker())?;
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

fn product_id(path: Result<Path<String>, PathRejection>) -> ApiResult<String> {
    let Path(id) =
        path.map_err(|e| ApiError::new(Code::InvalidProductId, format!("invalid product id: {}", e.body_text())))?;
    searchd_catalog::validate_id(&id).map_err(|e| ApiError::new(Code::InvalidProductId, e.to_string()))?;
    Ok(id)
}

/// One product by id.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products",
    params(crate::openapi::IdPath),
    responses(
        (status = 200, description = "The product as stored", body = Product),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody)))]
pub async fn get_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Product>> {
    let id = product_id(path)?;
    let product = tokio::task::spawn_blocking(move || state.index.get(&id)).await.map_err(ApiError::internal)??;
    Ok(Json(product))
}

/// `refresh` and `version` of write routes.
#[derive(Debug, Default)]
pub struct WriteParams {
    pub(crate) refresh: bool,
    pub(crate) version: u64,
}

pub(crate) fn write_params(query: Option<&str>, allow_version: bool) -> ApiResult<WriteParams> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::new(Code::UnknownSearchParameter, format!("the query string is malformed: {e}")))?;
    let mut params = WriteParams::default();
    for (key, value) in pairs {
        let invalid =
            |reason: &str| ApiError::new(Code::InvalidSearchParam(key.clone()), format!("invalid `{key}`: {reason}"));
        match key.as_str() {
            "refresh" => {
                params.refresh = match value.as_str() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    _ => return Err(invalid("must be true or false")),
                }
            }
            "version" if allow_version => {
                params.version = value.parse().map_err(|_| invalid("must be a whole number ≥ 1"))?
            }
            _ => {
                let expected = if allow_version { "refresh, version" } else { "refresh" };
                return Err(ApiError::new(
                    Code::UnknownSearchParameter,
                    format!("unknown parameter `{key}`, expected one of: {expected}"),
                ));
            }
        }
    }
    Ok(params)
}

/// What a write did: `result` is `applied` or `unchanged` (with the `version` now held) or
/// `stale` (with the newer `current` version).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "sku-1", "result": "applied", "version": 3}))]
pub struct WriteResponse {
    pub(crate) id: String,
    #[serde(flatten)]
    pub(crate) outcome: WriteOutcome,
}

/// Creates or replaces a product (upsert); searchable after the next commit, or at once with
/// `refresh=true`.
#[utoipa::path(put, path = "/v1/products/{id}", tag = "products",
    params(crate::openapi::IdPath, crate::openapi::RefreshParam),
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
) -> ApiResult<impl IntoResponse> {
    let id = product_id(path)?;
    let params = write_params(req.uri().query(), false)?;
    let value = document_body(req, &id, "product").await?;
    let product = product_from_value(value)?;
    let outcome = tokio::task::spawn_blocking(move || -> searchd_indexer::Result<WriteOutcome> {
        let outcome = state.index.apply(CatalogEvent::Upsert { product })?;
        if params.refresh {
            state.index.commit()?;
        }
        Ok(outcome)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok((StatusCode::OK, Json(WriteResponse { id, outcome })))
}

/// The body of a single-document write: a JSON object whose `id`, when present, must be the
/// path's (it is filled in from the path when absent).
pub(crate) async fn document_body(req: Request, id: &str, what: &str) -> ApiResult<Value> {
    json_kind(req.headers())?;
    let Body(bytes) = Body::from_request(req, &()).await?;
    let mut value: Value = parse_json(&bytes).map_err(|e| e.into_api_error(Code::MalformedJson))?;
    let Value::Object(object) = &mut value else {
        return Err(ApiError::new(Code::InvalidDocument, format!("a {what} must be a JSON object")));
    };
    match object.get("id") {
        None => {
            object.insert("id".into(), Value::String(id.to_string()));
        }
        Some(Value::String(body_id)) if body_id == id => {}
        Some(other) => {
            return Err(ApiError::new(
                Code::IdMismatch,
                format!("the body's id {other} differs from the path's `{id}`"),
            ));
        }
    }
    Ok(value)
}

/// A product from JSON, naming the field at fault; `ProductIndex::prepare` validates its values.
fn product_from_value(value: Value) -> ApiResult<Product> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| ApiError::new(Code::InvalidDocument, format!("`{}`: {}", e.path(), e.inner())))
}

/// Deletes a product; with `version`, only if that version is newer than the stored one.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "products",
    params(crate::openapi::IdPath, crate::openapi::DeleteParams),
    responses(
        (status = 200, description = "Deleted (or stale)", body = WriteResponse),
        (status = 400, description = "Bad id or parameter", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody)))]
pub async fn delete_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<impl IntoResponse> {
    let id = product_id(path)?;
    let params = write_params(req.uri().query(), true)?;
    let outcome = tokio::task::spawn_blocking(move || -> searchd_indexer::Result<(String, WriteOutcome)> {
        if params.version == 0 && !state.index.is_live(&id) {
            return Err(searchd_indexer::Error::NotFound(id));
        }
        let outcome = state.index.delete(&id, params.version)?;
        if params.refresh {
            state.index.commit()?;
        }
        Ok((id, outcome))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(WriteResponse { id: outcome.0, outcome: outcome.1 }))
}

/// One result per item, in request order.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkResponse {
    /// Whether any item failed.
    errors: bool,
    applied: usize,
    unchanged: usize,
    stale: usize,
    failed: usize,
    #[schema(value_type = Vec<crate::openapi::BulkItemResult>)]
    items: Vec<Value>,
}

/// `POST /v1/products/bulk`: a JSON array of products, or NDJSON (one product per line).
/// Every item gets its own result; bad items never stop good ones.
#[utoipa::path(post, path = "/v1/products/bulk", tag = "products", params(crate::openapi::RefreshParam),
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
    let (params, items) = read_bulk(req, "products").await?;
    let response = tokio::task::spawn_blocking(move || {
        let prepared = items
            .into_iter()
            .map(|item| {
                let (id, value) = item?;
                let product = product_from_value(value).map_err(|e| (id.clone(), e))?;
                state.index.prepare(product).map_err(|e| (id, ApiError::from(e)))
            })
            .collect();
        let response = bulk_write(prepared, |p| p.id().to_string(), |good| Ok(state.index.apply_prepared(good)?))?;
        if params.refresh {
            state.index.commit()?;
        }
        Ok::<_, ApiError>(response)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(response))
}

/// A bulk item as read: its id when it has one, and the JSON value, or why it is unreadable.
pub type BulkItem = Result<(Option<String>, Value), (Option<String>, ApiError)>;

/// Reads a bulk body: a JSON array (`application/json`) or NDJSON, one document per item.
pub async fn read_bulk(req: Request, what: &str) -> ApiResult<(WriteParams, Vec<BulkItem>)> {
    let params = write_params(req.uri().query(), false)?;
    let kind = json_kind(req.headers())?;
    let Body(bytes) = Body::from_request(req, &()).await?;
    let with_id = |value: Value| {
        let id = value.get("id").and_then(Value::as_str).map(str::to_string);
        Ok((id, value))
    };
    let items = match kind {
        JsonKind::Json => {
            let values: Vec<Value> = parse_json(&bytes).map_err(|e| {
                if e.syntax {
                    e.into_api_error(Code::MalformedJson)
                } else {
                    ApiError::new(
                        Code::MalformedJson,
                        format!(
                            "the body must be a JSON array of {what} (or NDJSON with Content-Type: application/x-ndjson)"
                        ),
                    )
                }
            })?;
            values.into_iter().map(with_id).collect()
        }
        JsonKind::NdJson => bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
            .map(|line| parse_json::<Value>(line).map_err(|e| (None, e.into_api_error(Code::MalformedJson))))
            .map(|item| item.and_then(with_id))
            .collect(),
    };
    Ok((params, items))
}

/// Writes the good items of a bulk request in one call and answers with one result per item,
/// in request order.
pub fn bulk_write<T>(
    items: Vec<Result<T, (Option<String>, ApiError)>>,
    id_of: impl Fn(&T) -> String,
    write: impl FnOnce(Vec<T>) -> ApiResult<Vec<WriteOutcome>>,
) -> ApiResult<BulkResponse> {
    let mut results: Vec<Value> = vec![Value::Null; items.len()];
    let (mut good, mut good_index, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    let mut failed = 0;
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Ok(doc) => {
                good_index.push(i);
                ids.push(id_of(&doc));
                good.push(doc);
            }
            Err((id, e)) => {
                failed += 1;
                let mut error = json!({ "code": e.code.name(), "message": e.message });
                if let Some(field) = e.field {
                    error["field"] = json!(field);
                }
                results[i] = json!({ "index": i, "id": id, "error": error });
            }
        }
    }
    let outcomes = write(good)?;
    let (mut applied, mut unchanged, mut stale) = (0, 0, 0);
    for ((i, id), outcome) in good_index.into_iter().zip(ids).zip(outcomes) {
        match outcome {
            WriteOutcome::Applied { .. } => applied += 1,
            WriteOutcome::Unchanged { .. } => unchanged += 1,
            WriteOutcome::Stale { .. } => stale += 1,
        }
        let mut v = serde_json::to_value(WriteResponse { id, outcome }).map_err(ApiError::internal)?;
        if let Value::Object(o) = &mut v {
            o.insert("index".into(), json!(i));
        }
        results[i] = v;
    }
    Ok(BulkResponse { errors: failed > 0, applied, unchanged, stale, failed, items: results })
}

pub async fn not_found() -> ApiError {
    ApiError::new(Code::RouteNotFound, "no such route; see the README for the API")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(Code::MethodNotAllowed, "this route does not accept that method")
}

/// `POST /v1/admin/snapshots`: a snapshot of the serving state now (tag `manual`), while
/// searches and writes go on. 201 with its manifest (files, sizes, checksums).
#[utoipa::path(post, path = "/v1/admin/snapshots", tag = "admin", responses(
    (status = 201, description = "The snapshot's manifest", body = searchd_engine::snapshot::Manifest),
    (status = 409, description = "A manual snapshot was already taken this second", body = ErrorBody)))]
pub async fn create_snapshot(
    State(state): State<AppState>,
) -> ApiResult<(StatusCode, Json<searchd_engine::snapshot::Manifest>)> {
    let manifest = tokio::task::spawn_blocking(move || {
        state.snapshots.create(&state.engine, searchd_engine::snapshot::MANUAL, chrono::Utc::now())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| match e.downcast::<searchd_engine::snapshot::SnapshotExists>() {
        Ok(exists) => ApiError::new(Code::SnapshotExists, exists.to_string()),
        Err(e) => ApiError::internal(format!("{e:#}")),
    })?;
    Ok((StatusCode::CREATED, Json(manifest)))
}

/// `GET /v1/admin/snapshots`: every snapshot, oldest first.
#[utoipa::path(get, path = "/v1/admin/snapshots", tag = "admin", responses(
    (status = 200, description = "Snapshots, oldest first", body = crate::openapi::SnapshotList)))]
pub async fn list_snapshots(State(state): State<AppState>) -> ApiResult<Json<crate::openapi::SnapshotList>> {
    let list = tokio::task::spawn_blocking(move || state.snapshots.list())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(crate::openapi::SnapshotList { snapshots: list }))
}
