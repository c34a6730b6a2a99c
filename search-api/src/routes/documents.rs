//! One document-CRUD path for products, vendors and offers: get, put (upsert), delete and bulk,
//! each written once over [`Document`]; `products.rs`, `vendors.rs` and `offers.rs` give the typed handlers (and
//! their OpenAPI descriptions) that call it.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request};
use searchd_catalog::WriteOutcome;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Code};
use crate::extractors::{Body, JsonKind, json_kind, parse_json};
use crate::state::AppState;

/// A kind of document the CRUD routes serve, and how it is read, checked and written.
pub(crate) trait Document: Sized + Send + 'static {
    /// A document checked and ready to write.
    type Prepared: Send + 'static;
    /// `product` or `vendor`, in messages.
    const NAME: &'static str;
    /// `products` or `vendors`, in messages.
    const PLURAL: &'static str;
    /// The error code of a bad id in the path.
    fn invalid_id() -> Code;
    /// The document from JSON, naming the field at fault.
    fn from_value(value: Value) -> ApiResult<Self>;
    /// Checks the document (the values, as every writer does).
    fn prepare(state: &AppState, doc: Self) -> ApiResult<Self::Prepared>;
    /// The id of a prepared document.
    fn id_of(prepared: &Self::Prepared) -> String;
    /// Writes prepared documents in order; one outcome each.
    fn write(state: &AppState, docs: Vec<Self::Prepared>) -> ApiResult<Vec<WriteOutcome>>;
    /// The stored document.
    fn get(state: &AppState, id: &str) -> ApiResult<Self>;
    /// Deletes unless `version` is not above the stored one; not found when `version` is 0
    /// and the document does not exist.
    fn delete(state: &AppState, id: &str, version: u64) -> ApiResult<WriteOutcome>;
    /// Commits pending writes of this kind.
    fn commit(state: &AppState) -> ApiResult<()>;
}

/// The path's id, checked as every id is.
pub(crate) fn document_id<D: Document>(path: Result<Path<String>, PathRejection>) -> ApiResult<String> {
    let Path(id) =
        path.map_err(|e| ApiError::new(D::invalid_id(), format!("invalid {} id: {}", D::NAME, e.body_text())))?;
    searchd_catalog::validate_id(&id).map_err(|e| ApiError::new(D::invalid_id(), e.to_string()))?;
    Ok(id)
}

/// `GET /v1/{kind}/{id}`.
pub(crate) async fn get<D: Document>(state: AppState, path: Result<Path<String>, PathRejection>) -> ApiResult<D> {
    let id = document_id::<D>(path)?;
    tokio::task::spawn_blocking(move || D::get(&state, &id)).await.map_err(ApiError::internal)?
}

/// `PUT /v1/{kind}/{id}[?refresh=true]`: an upsert.
pub(crate) async fn put<D: Document>(
    state: AppState,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<WriteResponse> {
    let id = document_id::<D>(path)?;
    let params = write_params(req.uri().query(), false)?;
    let value = document_body(req, &id, D::NAME).await?;
    let doc = D::from_value(value)?;
    let outcome = tokio::task::spawn_blocking(move || -> ApiResult<WriteOutcome> {
        let prepared = D::prepare(&state, doc)?;
        let outcome = D::write(&state, vec![prepared])?
            .pop()
            .ok_or_else(|| ApiError::internal(format!("a write of one {} returned no outcome", D::NAME)))?;
        if params.refresh {
            D::commit(&state)?;
        }
        Ok(outcome)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(WriteResponse { id, outcome })
}

/// `DELETE /v1/{kind}/{id}[?refresh=true&version=N]`.
pub(crate) async fn delete<D: Document>(
    state: AppState,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<WriteResponse> {
    let id = document_id::<D>(path)?;
    let params = write_params(req.uri().query(), true)?;
    tokio::task::spawn_blocking(move || -> ApiResult<WriteResponse> {
        let outcome = D::delete(&state, &id, params.version)?;
        if params.refresh {
            D::commit(&state)?;
        }
        Ok(WriteResponse { id, outcome })
    })
    .await
    .map_err(ApiError::internal)?
}

/// `POST /v1/{kind}/bulk[?refresh=true]`: a JSON array or NDJSON; one result per item, and bad
/// items never stop good ones.
pub(crate) async fn bulk<D: Document>(state: AppState, req: Request) -> ApiResult<BulkResponse> {
    let (params, items) = read_bulk(req, D::PLURAL).await?;
    tokio::task::spawn_blocking(move || {
        let prepared = items
            .into_iter()
            .map(|item| {
                let (id, value) = item?;
                let doc = D::from_value(value).map_err(|e| (id.clone(), e))?;
                D::prepare(&state, doc).map_err(|e| (id, e))
            })
            .collect();
        let response = bulk_write(prepared, D::id_of, |good| D::write(&state, good))?;
        if params.refresh {
            D::commit(&state)?;
        }
        Ok::<_, ApiError>(response)
    })
    .await
    .map_err(ApiError::internal)?
}

/// `refresh` and `version` of write routes.
#[derive(Debug, Default)]
pub(crate) struct WriteParams {
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

/// One result per item, in request order.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkResponse {
    /// Whether any item failed.
    errors: bool,
    applied: usize,
    unchanged: usize,
    stale: usize,
    failed: usize,
    #[schema(value_type = Vec<BulkItemResult>)]
    items: Vec<Value>,
}

/// A bulk item as read: its id when it has one, and the JSON value, or why it is unreadable.
pub(crate) type BulkItem = Result<(Option<String>, Value), (Option<String>, ApiError)>;

/// Reads a bulk body: a JSON array (`application/json`) or NDJSON, one document per item.
pub(crate) async fn read_bulk(req: Request, what: &str) -> ApiResult<(WriteParams, Vec<BulkItem>)> {
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
pub(crate) fn bulk_write<T>(
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
#[expect(dead_code, reason = "describes the parameter write_params reads")]
pub struct RefreshParam {
    /// Commit before answering, so the write is searchable at once (otherwise within
    /// `index.commit_interval_ms`).
    refresh: Option<bool>,
}

/// `refresh` and `version` of the delete routes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters write_params reads")]
pub struct DeleteParams {
    refresh: Option<bool>,
    /// Delete only if this version is above the stored one (ordered writes).
    #[param(minimum = 1)]
    version: Option<u64>,
}

/// A bulk item's result: `result` and `version` (or `current` when stale) when written,
/// `error` when rejected.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes JSON built in bulk_write")]
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

/// Why one item of a batch was rejected.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes JSON built per item")]
pub struct ItemError {
    code: String,
    message: String,
    /// The field at fault, as a dotted path.
    field: Option<String>,
}
