//! Offers: the document routes (`PUT/GET/DELETE /v1/offers/{id}`, `POST /v1/offers/bulk`).
//! An offer names a product and a vendor that must exist when it is written; product search
//! near a shopper (`near=lat,lon`) reads them.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use searchd_catalog::near::{OfferSort, ProductOffers};
use searchd_catalog::{Offer, WriteOutcome};
use serde_json::Value;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::routes::documents::{self, BulkResponse, DeleteParams, Document, IdPath, RefreshParam, WriteResponse};
use crate::state::AppState;

impl Document for Offer {
    type Prepared = Offer;
    const NAME: &'static str = "offer";
    const PLURAL: &'static str = "offers";

    fn invalid_id() -> Code {
        Code::InvalidOfferId
    }

    fn from_value(value: Value) -> ApiResult<Self> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let message = e.inner().to_string();
            let field = super::vendors::field_at_fault(&e.path().to_string(), &message, "");
            ApiError::new(Code::InvalidDocument, format!("`{field}`: {message}")).with_field(field)
        })
    }

    fn prepare(state: &AppState, mut doc: Self) -> ApiResult<Self::Prepared> {
        doc.validate()?;
        if let Some((field, reason)) = unknown_reference(state, &doc) {
            return Err(ApiError::new(Code::InvalidDocument, reason).with_field(field));
        }
        Ok(doc)
    }

    fn id_of(prepared: &Self::Prepared) -> String {
        prepared.id.clone()
    }

    fn write(state: &AppState, docs: Vec<Self::Prepared>) -> ApiResult<Vec<WriteOutcome>> {
        Ok(state.offers.upsert(docs)?)
    }

    fn get(state: &AppState, id: &str) -> ApiResult<Self> {
        Ok(state.offers.get(id)?)
    }

    fn delete(state: &AppState, id: &str, version: u64) -> ApiResult<WriteOutcome> {
        if version == 0 && !state.offers.is_live(id) {
            return Err(searchd_indexer::Error::OfferNotFound(id.to_string()).into());
        }
        Ok(state.offers.delete(id, version)?)
    }

    fn commit(state: &AppState) -> ApiResult<()> {
        Ok(state.offers.commit()?)
    }
}

/// The field naming a product or vendor that does not exist (written, even if not yet
/// committed), and why.
pub(crate) fn unknown_reference(state: &AppState, offer: &Offer) -> Option<(&'static str, String)> {
    if !state.index.is_live(&offer.product_id) {
        return Some(("product_id", format!("`product_id`: product `{}` does not exist", offer.product_id)));
    }
    if !state.vendors.is_live(&offer.vendor_id) {
        return Some(("vendor_id", format!("`vendor_id`: vendor `{}` does not exist", offer.vendor_id)));
    }
    None
}

/// One offer by id.
#[utoipa::path(get, path = "/v1/offers/{id}", tag = "offers",
    params(IdPath),
    responses(
        (status = 200, description = "The offer as stored", body = Offer),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 404, description = "No such offer", body = ErrorBody)))]
pub async fn get_offer(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Offer>> {
    documents::get(state, path).await.map(Json)
}

/// Creates or replaces an offer; its product and vendor must exist.
#[utoipa::path(put, path = "/v1/offers/{id}", tag = "offers",
    params(IdPath, RefreshParam),
    request_body(content = Offer, example = json!({
        "product_id": "sku-1", "vendor_id": "v-1", "price": 89.9, "currency": "EUR", "stock": 12,
        "condition": "new", "lead_time_days": 2})),
    responses(
        (status = 200, description = "Written (or unchanged, or stale)", body = WriteResponse),
        (status = 400, description = "Malformed JSON or a bad parameter", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "The offer is invalid, or its product or vendor does not exist (the field is named)",
            body = ErrorBody)))]
pub async fn put_offer(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::put::<Offer>(state, path, req).await.map(Json)
}

/// Deletes an offer; with `version`, only if that version is newer than the stored one.
#[utoipa::path(delete, path = "/v1/offers/{id}", tag = "offers",
    params(IdPath, DeleteParams),
    responses(
        (status = 200, description = "Deleted (or stale)", body = WriteResponse),
        (status = 400, description = "Bad id or parameter", body = ErrorBody),
        (status = 404, description = "No such offer", body = ErrorBody)))]
pub async fn delete_offer(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<WriteResponse>> {
    documents::delete::<Offer>(state, path, req).await.map(Json)
}

/// `POST /v1/offers/bulk`: a JSON array of offers or NDJSON; one result per item.
#[utoipa::path(post, path = "/v1/offers/bulk", tag = "offers", params(RefreshParam),
    request_body(description = "Offers as a JSON array or NDJSON", content(
        (Vec<Offer> = "application/json", example = json!([
            {"id": "o-1", "product_id": "sku-1", "vendor_id": "v-1", "price": 89.9, "stock": 12},
            {"id": "o-2", "product_id": "sku-1", "vendor_id": "v-2", "price": 84.5, "stock": 3, "lead_time_days": 5}])),
        (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "One result per item; bad items (unknown products or vendors too) never stop good ones",
            body = BulkResponse),
        (status = 400, description = "The body is not a JSON array / NDJSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Content-Type is neither JSON nor NDJSON", body = ErrorBody)))]
pub async fn bulk_offers(State(state): State<AppState>, req: Request) -> ApiResult<Json<BulkResponse>> {
    documents::bulk::<Offer>(state, req).await.map(Json)
}

/// Query parameters of `GET /v1/products/{id}/offers`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters product_offers reads")]
pub struct ProductOffersParams {
    /// `lat,lon` of the shopper: only offers from vendors serving it, with their distance.
    #[param(example = "40.71,-74.01")]
    near: Option<String>,
    /// `price` (the default), `lead_time` or `distance` (with `near`).
    #[param(pattern = "^(price|lead_time|distance)$")]
    offer_sort: Option<String>,
    /// Offers to return (default 10, at most 100).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// A product's offers in stock from available vendors (serving `near`, when given), best first:
/// what a product page lists.
#[utoipa::path(get, path = "/v1/products/{id}/offers", tag = "offers", params(IdPath, ProductOffersParams),
    responses(
        (status = 200, description = "The product's offers, best first", body = ProductOffers),
        (status = 400, description = "A bad id or parameter; the code names it", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody)))]
pub async fn product_offers(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Json<ProductOffers>> {
    let id = documents::document_id::<searchd_catalog::Product>(path)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.uri().query().unwrap_or(""))
        .map_err(|e| ApiError::new(Code::UnknownSearchParameter, format!("the query string is malformed: {e}")))?;
    let invalid = |param: &str, reason: String| {
        ApiError::new(Code::InvalidSearchParam(param.to_string()), format!("invalid `{param}`: {reason}"))
            .with_field(param)
    };
    let (mut near, mut sort, mut limit) = (None, OfferSort::Price, 10);
    for (key, value) in &pairs {
        let value = value.trim();
        match key.as_str() {
            "near" => near = Some(crate::extractors::lat_lon(value).map_err(|e| invalid("near", e))?),
            "offer_sort" => {
                sort = value.parse().map_err(|e: searchd_catalog::Error| invalid("offer_sort", e.to_string()))?
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=searchd_catalog::MAX_PER_PAGE).contains(l))
                    .ok_or_else(|| invalid("limit", format!("`{value}` is not a whole number from 1 to 100")))?;
            }
            other => {
                return Err(ApiError::new(
                    Code::UnknownSearchParameter,
                    format!("unknown parameter `{other}`, expected one of: near, offer_sort, limit"),
                )
                .with_field(other));
            }
        }
    }
    if sort == OfferSort::Distance && near.is_none() {
        return Err(invalid("offer_sort", "ordering by distance needs `near`".into()));
    }
    let listed = move || -> ApiResult<ProductOffers> {
        if !state.index.is_live(&id) {
            return Err(searchd_indexer::Error::NotFound(id).into());
        }
        Ok(state.offers.of_product(&state.vendors, &id, near, sort, limit)?)
    };
    tokio::task::spawn_blocking(listed).await.map_err(ApiError::internal)?.map(Json)
}
