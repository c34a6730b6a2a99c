//! What vendors can supply for a request for information: per vendor serving its location, its
//! best in-stock offer of a product in the requested category (the category or below it), judged
//! against the request's quantity, budget and date ([`OfferFit`]). The vendors come from the
//! vendor index's service cells, their offers from the offer index's vendor postings, and the
//! products in the category from the product index's category postings.

use std::collections::HashMap;

use searchd_catalog::{Offer, OfferFit, Rfi};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED, Term};

use super::{OfferIndex, column};
use crate::{Error, ProductIndex, Result, VendorIndex};

/// A vendor's best offer for a request, and what it meets.
#[derive(Debug, Clone, Copy)]
struct Supplied {
    address: DocAddress,
    fit: OfferFit,
    price: f64,
}

/// What each vendor can supply for one request (see the module documentation).
pub struct Supply {
    searcher: Searcher,
    by_vendor: HashMap<String, Supplied>,
}

impl std::fmt::Debug for Supply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supply").field("vendors", &self.by_vendor.len()).finish_non_exhaustive()
    }
}

impl Supply {
    /// How many vendors have an offer in the category.
    pub fn vendors(&self) -> usize {
        self.by_vendor.len()
    }

    /// Per vendor id, what its best offer meets (what [`crate::VendorIndex::match_rfi_with`]
    /// scores).
    pub fn fits(&self) -> HashMap<String, OfferFit> {
        self.by_vendor.iter().map(|(id, s)| (id.clone(), s.fit)).collect()
    }

    /// Fills each hit's `offer`: its vendor's best offer for the request.
    pub fn attach(&self, hits: &mut [searchd_catalog::MatchHit]) -> Result<()> {
        for hit in hits {
            hit.offer = self.offer(&hit.vendor.id)?;
        }
        Ok(())
    }

    /// The vendor's best offer, loaded.
    pub fn offer(&self, vendor: &str) -> Result<Option<Offer>> {
        let Some(supplied) = self.by_vendor.get(vendor) else { return Ok(None) };
        let doc: tantivy::TantivyDocument = self.searcher.doc(supplied.address)?;
        let source = self.searcher.schema().get_field("source")?;
        crate::writer::parse_source(&doc, source).map(Some)
    }
}

impl ProductIndex {
    /// Per segment of `searcher`, the live documents in `path` or below it, sorted.
    fn docs_in_category(&self, searcher: &Searcher, path: &str) -> Result<Vec<Vec<DocId>>> {
        let term = Term::from_facet(self.fields.category, &Facet::from_path(searchd_catalog::path_segments(path)));
        let mut out = Vec::with_capacity(searcher.segment_readers().len());
        for segment in searcher.segment_readers() {
            let mut docs = Vec::new();
            if let Some(mut postings) =
                segment.inverted_index(self.fields.category)?.read_postings(&term, IndexRecordOption::Basic)?
            {
                let alive = segment.alive_bitset();
                while postings.doc() != TERMINATED {
                    if alive.is_none_or(|a| a.is_alive(postings.doc())) {
                        docs.push(postings.doc());
                    }
                    postings.advance();
                }
            }
            out.push(docs);
        }
        Ok(out)
    }
}

impl OfferIndex {
    /// Per vendor serving `rfi`'s location (available or not: vendor matching lists both), its
    /// best in-stock offer of a product in `rfi`'s category: the one meeting most of the
    /// request's asks, then the cheapest, then the first by id; `now` is when the order would be
    /// placed (Unix seconds). Only a vendor serving the location can be matched, so only their
    /// offers are read, from each one's postings; products are reached through the kept joins
    /// (no string per offer), as near search reaches them.
    pub fn supply(&self, vendors: &VendorIndex, products: &ProductIndex, rfi: &Rfi, now: i64) -> Result<Supply> {
        let serving = vendors.serving_any(rfi.location)?;
        let searcher = self.store.reader.searcher();
        let product_searcher = products.reader.searcher();
        let in_category = products.docs_in_category(&product_searcher, &rfi.category)?;
        let joined = self.joins.open(&searcher, products, &product_searcher)?;
        let id_of = |address: DocAddress| crate::writer::id_at(&searcher, address);
        let internal = |what: &str| Error::Internal(format!("offer column `{what}` is missing"));
        // Per serving vendor (by its index in `serving`): its best offer so far.
        let mut best: HashMap<usize, Supplied> = HashMap::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let ff = segment.fast_fields();
            let offered = ff.str(column::PRODUCT)?.ok_or_else(|| internal(column::PRODUCT))?;
            let joins = joined.segment(segment, &offered)?;
            let (price, stock, lead) = (ff.f64(column::PRICE)?, ff.u64(column::STOCK)?, ff.u64(column::LEAD_TIME)?);
            let postings_of = segment.inverted_index(self.fields.vendor)?;
            let alive = segment.alive_bitset();
            for (v, vendor) in serving.iter().enumerate() {
                let term = Term::from_field_text(self.fields.vendor, vendor);
                let Some(mut postings) = postings_of.read_postings(&term, IndexRecordOption::Basic)? else { continue };
                while postings.doc() != TERMINATED {
                    let doc = postings.doc();
                    postings.advance();
                    let units = stock.first(doc).unwrap_or(0);
                    if units == 0 || alive.is_some_and(|a| a.is_deleted(doc)) {
                        continue;
                    }
                    let Some(product) = offered.term_ords(doc).next() else { continue };
                    // The live product document holding it, in the category.
                    let wanted =
                        joins.document(product).is_some_and(|(p, pdoc)| in_category[p].binary_search(&pdoc).is_ok());
                    if !wanted {
                        continue;
                    }
                    let offer_price = price.first(doc).unwrap_or(f64::INFINITY);
                    let lead_time_days = u32::try_from(lead.first(doc).unwrap_or(0)).unwrap_or(u32::MAX);
                    let fit = OfferFit::of(offer_price, units, lead_time_days, rfi, now);
                    let candidate = Supplied { address: DocAddress::new(ord as u32, doc), fit, price: offer_price };
                    keep_better(best.entry(v), candidate, &id_of)?;
                }
            }
        }
        let by_vendor = best.into_iter().map(|(v, supplied)| (serving[v].clone(), supplied)).collect();
        Ok(Supply { searcher, by_vendor })
    }
}

/// Keeps in `held` the better offer: meeting more of the asks, then the cheaper, then the first
/// by id (read only on a tie).
fn keep_better<K>(
    held: std::collections::hash_map::Entry<'_, K, Supplied>,
    candidate: Supplied,
    id_of: &dyn Fn(DocAddress) -> Result<String>,
) -> Result<()> {
    match held {
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(candidate);
        }
        std::collections::hash_map::Entry::Occupied(mut e) => {
            let held = e.get();
            let order = candidate.fit.share().total_cmp(&held.fit.share()).then(held.price.total_cmp(&candidate.price));
            let better = match order {
                std::cmp::Ordering::Equal => id_of(candidate.address)? < id_of(held.address)?,
                order => order.is_gt(),
            };
            if better {
                e.insert(candidate);
            }
        }
    }
    Ok(())
}
