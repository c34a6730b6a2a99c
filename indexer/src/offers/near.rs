//! The offers serving a shopper's point: the vendors serving it come from the vendor index's
//! service cells ([`VendorIndex::serving`]); their offers from each vendor's postings in the
//! offer index. Each offer in stock and meeting the filter's offer conditions is a candidate for
//! its product, found as a product document through the kept [`join`](super::join) (no string
//! is read per offer); each product keeps its best candidate by the request's [`OfferSort`] and
//! the count of candidates. The product search then keeps those documents only.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use searchd_catalog::GeoPoint;
use searchd_catalog::near::{NearOffer, OfferConditions, OfferKey, OfferRow, OfferSort};
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED, Term};

use super::{OfferIndex, column, condition_of};
use crate::{Error, ProductIndex, Result, VendorIndex};

/// A product's best serving offer and how many serve.
#[derive(Debug, Clone)]
pub(crate) struct Best {
    address: DocAddress,
    /// The offer's id (read only to break ties).
    id: Option<String>,
    pub(crate) key: OfferKey,
    /// Index of the vendor in [`NearOffers::vendors`].
    vendor: usize,
    count: u64,
    /// The vendors of the product's other candidates (maybe repeated, maybe `vendor` again).
    others: Vec<u32>,
}

impl Best {
    /// The vendors (indexes in [`NearOffers::vendor_id`]) with a candidate offer of the product,
    /// each once.
    pub(crate) fn sellers(&self) -> Vec<u32> {
        let mut all: Vec<u32> = std::iter::once(self.vendor as u32).chain(self.others.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// One product segment's documents with a serving offer, sorted, with their best offers.
#[derive(Debug, Default)]
pub(crate) struct SegmentNear {
    pub(crate) docs: Vec<DocId>,
    best: Vec<Best>,
}

impl SegmentNear {
    /// The best serving offer of `doc`, when it has one.
    pub(crate) fn best(&self, doc: DocId) -> Option<&Best> {
        self.docs.binary_search(&doc).ok().map(|i| &self.best[i])
    }
}

/// [`SegmentNear`] per product segment.
pub(crate) type NearDocs = HashMap<SegmentId, Arc<SegmentNear>>;

/// The offers serving a point, best per product document (see the module documentation).
pub struct NearOffers {
    searcher: Searcher,
    point: GeoPoint,
    vendors: Vec<crate::GeoHitId>,
    docs: Arc<NearDocs>,
    products: usize,
    /// Whether each product's sellers were kept ([`OfferConditions::keeps_sellers`]).
    sellers: bool,
}

impl std::fmt::Debug for NearOffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NearOffers").field("products", &self.products).finish_non_exhaustive()
    }
}

impl NearOffers {
    /// How many products have a serving offer.
    pub fn len(&self) -> usize {
        self.products
    }

    /// Whether no product has one.
    pub fn is_empty(&self) -> bool {
        self.products == 0
    }

    /// The distance to the best offer of the product document `doc` of segment `segment`.
    pub(crate) fn distance_at(&self, segment: SegmentId, doc: DocId) -> Option<f64> {
        self.docs.get(&segment).and_then(|s| s.best(doc)).map(|best| best.key.distance_km)
    }

    /// Whether each product's sellers were kept (what the `vendor` facet counts).
    pub(crate) fn keeps_sellers(&self) -> bool {
        self.sellers
    }

    /// The id of a serving vendor, by its index in [`Best::sellers`].
    pub(crate) fn vendor_id(&self, index: u32) -> &str {
        self.vendors.get(index as usize).map_or("", |v| v.id.as_str())
    }

    /// The products' documents, per product segment.
    pub(crate) fn docs(&self) -> Arc<NearDocs> {
        self.docs.clone()
    }

    /// The hit's offer for the product document `doc` of segment `segment`, loaded.
    pub(crate) fn offer_at(&self, segment: SegmentId, doc: DocId) -> Result<Option<NearOffer>> {
        let Some(best) = self.docs.get(&segment).and_then(|s| s.best(doc)) else { return Ok(None) };
        let vendor = &self.vendors[best.vendor];
        let stored: tantivy::TantivyDocument = self.searcher.doc(best.address)?;
        let source = self.searcher.schema().get_field("source")?;
        Ok(Some(NearOffer {
            offer: crate::writer::parse_source(&stored, source)?,
            distance_km: best.key.distance_km,
            nearest_branch: vendor.nearest_branch.unwrap_or(self.point),
            serving_offers: best.count,
        }))
    }
}

impl OfferIndex {
    /// The offers serving `point` (see the module documentation): from the available vendors
    /// that serve it, in stock, meeting `conditions`, the best per product of `products` by
    /// `sort`.
    pub fn near(
        &self,
        vendors: &VendorIndex,
        products: &ProductIndex,
        point: GeoPoint,
        conditions: &OfferConditions,
        sort: OfferSort,
    ) -> Result<NearOffers> {
        let serving = vendors.serving(point)?;
        let searcher = self.store.reader.searcher();
        let product_searcher = products.reader.searcher();
        let product_segments = product_searcher.segment_readers();
        let joined = self.joins.open(&searcher, products, &product_searcher)?;
        let internal = |what: &str| Error::Internal(format!("offer column `{what}` is missing"));
        let id_of = |address: DocAddress| crate::writer::id_at(&searcher, address);
        let reads_currency = conditions.reads_currency();
        let sellers = conditions.keeps_sellers();
        // Per product segment and document (`segment << 32 | doc`): the best candidate so far.
        let mut found: rustc_hash::FxHashMap<u64, Best> = rustc_hash::FxHashMap::default();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let ff = segment.fast_fields();
            let offered = ff.str(column::PRODUCT)?.ok_or_else(|| internal(column::PRODUCT))?;
            let joins = joined.segment(segment, &offered)?;
            let currencies = ff.str(column::CURRENCY)?;
            let (price, stock) = (ff.f64(column::PRICE)?, ff.u64(column::STOCK)?);
            let (lead, condition) = (ff.u64(column::LEAD_TIME)?, ff.u64(column::CONDITION)?);
            let postings_of = segment.inverted_index(self.fields.vendor)?;
            let alive = segment.alive_bitset();
            let mut currency = String::new();
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
                    if reads_currency
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
                    let Some(product) = offered.term_ords(doc).next() else { continue };
                    // The live product document holding it, in whichever segment.
                    let Some((p, pdoc)) = joins.document(product) else { continue };
                    let held = ((p as u64) << 32) | u64::from(pdoc);
                    let candidate = Best {
                        address: DocAddress::new(ord as u32, doc),
                        id: None,
                        key,
                        vendor: v,
                        count: 1,
                        others: Vec::new(),
                    };
                    match found.entry(held) {
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(candidate);
                        }
                        std::collections::hash_map::Entry::Occupied(mut e) => {
                            keep_better(e.get_mut(), candidate, sort, &id_of, sellers)?;
                        }
                    }
                }
            }
        }
        let products = found.len();
        let mut per_segment: HashMap<usize, Vec<(DocId, Best)>> = HashMap::new();
        for (held, best) in found {
            per_segment.entry((held >> 32) as usize).or_default().push((held as u32, best));
        }
        let docs: NearDocs = per_segment
            .into_iter()
            .map(|(p, mut rows)| {
                rows.sort_unstable_by_key(|(doc, _)| *doc);
                let (docs, best) = rows.into_iter().unzip();
                (product_segments[p].segment_id(), Arc::new(SegmentNear { docs, best }))
            })
            .collect();
        Ok(NearOffers { searcher, point, vendors: serving, docs: Arc::new(docs), products, sellers })
    }
}

/// Keeps in `held` the better of it and `other` by `sort` (ties by offer id), counting both,
/// and with `sellers` keeping both vendors.
fn keep_better(
    held: &mut Best,
    mut other: Best,
    sort: OfferSort,
    id_of: &dyn Fn(DocAddress) -> Result<String>,
    sellers: bool,
) -> Result<()> {
    let count = held.count + other.count;
    let mut others = std::mem::take(&mut held.others);
    if sellers {
        others.extend([held.vendor as u32, other.vendor as u32]);
        others.append(&mut other.others);
    }
    let better = match sort.compare((&other.key, ""), (&held.key, "")) {
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
    held.others = others;
    Ok(())
}
