//! The offers serving a shopper's point: the vendors serving it come from the vendor index's
//! service cells ([`VendorIndex::serving`]); their offers from each vendor's postings in the
//! offer index. Each offer in stock and meeting the filter's offer conditions is a candidate,
//! and each product keeps its best by the request's [`OfferSort`] and the count of candidates.

use std::cmp::Ordering;
use std::collections::HashMap;

use searchd_catalog::near::{NearOffer, OfferConditions, OfferKey, OfferRow, OfferSort};
use searchd_catalog::{GeoPoint, SearchHit};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, Term};

use super::{OfferIndex, column, condition_of};
use crate::{Error, Result, VendorIndex};

/// A product's best serving offer and how many serve.
#[derive(Debug, Clone)]
pub(crate) struct Best {
    address: DocAddress,
    /// The offer's id (read only to break ties, and for the hit).
    id: Option<String>,
    pub(crate) key: OfferKey,
    /// Index of the vendor in [`NearOffers::vendors`].
    vendor: usize,
    pub(crate) count: u64,
}

/// The offers serving a point, best per product (see the module documentation).
pub struct NearOffers {
    searcher: Searcher,
    point: GeoPoint,
    vendors: Vec<crate::GeoHitId>,
    pub(crate) best: HashMap<String, Best>,
}

impl std::fmt::Debug for NearOffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NearOffers").field("products", &self.best.len()).finish_non_exhaustive()
    }
}

impl NearOffers {
    /// How many products have a serving offer.
    pub fn len(&self) -> usize {
        self.best.len()
    }

    /// Whether no product has one.
    pub fn is_empty(&self) -> bool {
        self.best.is_empty()
    }

    /// The hit's offer for product `id`, loaded.
    pub fn offer(&self, id: &str) -> Result<Option<NearOffer>> {
        let Some(best) = self.best.get(id) else { return Ok(None) };
        let vendor = &self.vendors[best.vendor];
        let doc: tantivy::TantivyDocument = self.searcher.doc(best.address)?;
        let source = self.searcher.schema().get_field("source")?;
        Ok(Some(NearOffer {
            offer: crate::writer::parse_source(&doc, source)?,
            distance_km: best.key.distance_km,
            nearest_branch: vendor.nearest_branch.unwrap_or(self.point),
            serving_offers: best.count,
        }))
    }

    /// Fills each hit's `offer`.
    pub fn attach(&self, hits: &mut [SearchHit]) -> Result<()> {
        for hit in hits {
            hit.offer = self.offer(&hit.product.id)?;
        }
        Ok(())
    }
}

impl OfferIndex {
    /// The offers serving `point` (see the module documentation): from the available vendors
    /// that serve it, in stock, meeting `conditions`, the best per product by `sort`.
    pub fn near(
        &self,
        vendors: &VendorIndex,
        point: GeoPoint,
        conditions: &OfferConditions,
        sort: OfferSort,
    ) -> Result<NearOffers> {
        let serving = vendors.serving(point)?;
        let searcher = self.reader.searcher();
        let mut best: HashMap<String, Best> = HashMap::new();
        let internal = |what: &str| Error::Internal(format!("offer column `{what}` is missing"));
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let ff = segment.fast_fields();
            let products = ff.str(column::PRODUCT)?.ok_or_else(|| internal(column::PRODUCT))?;
            let ids = ff.str(crate::schema::ID)?.ok_or_else(|| internal(crate::schema::ID))?;
            let currencies = ff.str(column::CURRENCY)?;
            let (price, stock) = (ff.f64(column::PRICE)?, ff.u64(column::STOCK)?);
            let (lead, condition) = (ff.u64(column::LEAD_TIME)?, ff.u64(column::CONDITION)?);
            let postings_of = segment.inverted_index(self.fields.vendor)?;
            let alive = segment.alive_bitset();
            // Per product ordinal of this segment: its best candidate.
            let mut local: HashMap<u64, Best> = HashMap::new();
            let mut currency = String::new();
            let id_of = |address: DocAddress| -> Result<String> {
                let mut id = String::new();
                if let Some(o) = ids.term_ords(address.doc_id).next() {
                    ids.ord_to_str(o, &mut id)?;
                }
                Ok(id)
            };
            for (v, vendor) in serving.iter().enumerate() {
                let term = Term::from_field_text(self.fields.vendor, &vendor.id);
                let Some(mut postings) = postings_of.read_postings(&term, IndexRecordOption::Basic)? else { continue };
                while postings.doc() != TERMINATED {
                    let doc = postings.doc();
                    postings.advance();
                    if alive.is_some_and(|a| a.is_deleted(doc)) {
                        continue;
                    }
                    let units = stock.first(doc).unwrap_or(0);
                    if units == 0 {
                        continue;
                    }
                    let key = OfferKey {
                        price: price.first(doc).unwrap_or(f64::INFINITY),
                        lead_time_days: u32::try_from(lead.first(doc).unwrap_or(0)).unwrap_or(u32::MAX),
                        distance_km: vendor.distance_km.unwrap_or(0.0),
                    };
                    let mut has_currency = false;
                    if conditions.reads_currency()
                        && let Some(c) = &currencies
                        && let Some(o) = c.term_ords(doc).next()
                    {
                        currency.clear();
                        c.ord_to_str(o, &mut currency)?;
                        has_currency = true;
                    }
                    let row = OfferRow {
                        price: key.price,
                        stock: units,
                        lead_time_days: key.lead_time_days,
                        condition: condition_of(condition.first(doc).unwrap_or(0)),
                        currency: has_currency.then_some(currency.as_str()),
                        vendor_id: &vendor.id,
                    };
                    if !conditions.holds(&row) {
                        continue;
                    }
                    let Some(product) = products.term_ords(doc).next() else { continue };
                    let candidate =
                        Best { address: DocAddress::new(ord as u32, doc), id: None, key, vendor: v, count: 1 };
                    match local.entry(product) {
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(candidate);
                        }
                        std::collections::hash_map::Entry::Occupied(mut e) => {
                            keep_better(e.get_mut(), candidate, sort, &id_of)?;
                        }
                    }
                }
            }
            let (ords, candidates): (Vec<u64>, Vec<Best>) = local.into_iter().unzip();
            for (product, candidate) in crate::writer::terms_of(&products, &ords)?.into_iter().zip(candidates) {
                match best.get_mut(product.as_str()) {
                    None => {
                        best.insert(product, candidate);
                    }
                    Some(held) => {
                        let id_of =
                            |address: DocAddress| -> Result<String> { crate::writer::id_at(&searcher, address) };
                        keep_better(held, candidate, sort, &id_of)?;
                    }
                }
            }
        }
        Ok(NearOffers { searcher, point, vendors: serving, best })
    }
}

/// Keeps in `held` the better of it and `other` by `sort` (ties by offer id), counting both.
fn keep_better(
    held: &mut Best,
    mut other: Best,
    sort: OfferSort,
    id_of: &dyn Fn(DocAddress) -> Result<String>,
) -> Result<()> {
    let count = held.count + other.count;
    let by_keys = sort.compare((&other.key, ""), (&held.key, ""));
    let better = match by_keys {
        Ordering::Equal => {
            if held.id.is_none() {
                held.id = Some(id_of(held.address)?);
            }
            if other.id.is_none() {
                other.id = Some(id_of(other.address)?);
            }
            other.id < held.id
        }
        order => order.is_lt(),
    };
    if better {
        *held = other;
    }
    held.count = count;
    Ok(())
}
