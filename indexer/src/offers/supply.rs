//! What vendors can supply for a request for information: per vendor, its best in-stock offer of
//! a product in the requested category (the category or below it), judged against the request's
//! quantity, budget and date ([`OfferFit`]). The products in the category come from the product
//! index's category postings; their offers from the offer index's product postings.

use std::collections::HashMap;

use searchd_catalog::{Offer, OfferFit, Rfi};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, Term};

use super::{OfferIndex, column};
use crate::{Error, ProductIndex, Result};

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
    /// The ids of the live products in `path` or below it.
    fn ids_in_category(&self, path: &str) -> Result<Vec<String>> {
        let searcher = self.reader.searcher();
        let term = Term::from_facet(self.fields.category, &Facet::from_path(searchd_catalog::path_segments(path)));
        let mut out = Vec::new();
        for segment in searcher.segment_readers() {
            let Some(mut postings) =
                segment.inverted_index(self.fields.category)?.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let ids =
                segment.fast_fields().str(crate::schema::ID)?.ok_or_else(|| Error::Internal("id column".into()))?;
            let alive = segment.alive_bitset();
            let mut id = String::new();
            while postings.doc() != TERMINATED {
                let doc = postings.doc();
                postings.advance();
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    continue;
                }
                if let Some(ord) = ids.term_ords(doc).next() {
                    id.clear();
                    ids.ord_to_str(ord, &mut id)?;
                    out.push(id.clone());
                }
            }
        }
        Ok(out)
    }
}

impl OfferIndex {
    /// Per vendor, its best in-stock offer of a product in `rfi`'s category: the one meeting
    /// most of the request's asks, then the cheapest, then the first by id; `now` is when the
    /// order would be placed (Unix seconds).
    pub fn supply(&self, products: &ProductIndex, rfi: &Rfi, now: i64) -> Result<Supply> {
        let searcher = self.store.reader.searcher();
        let id_of = |address: DocAddress| crate::writer::id_at(&searcher, address);
        let mut by_vendor: HashMap<String, Supplied> = HashMap::new();
        let wanted = products.ids_in_category(&rfi.category)?;
        let internal = |what: &str| Error::Internal(format!("offer column `{what}` is missing"));
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let ff = segment.fast_fields();
            let vendors = ff.str(column::VENDOR)?.ok_or_else(|| internal(column::VENDOR))?;
            let (price, stock, lead) = (ff.f64(column::PRICE)?, ff.u64(column::STOCK)?, ff.u64(column::LEAD_TIME)?);
            let index = segment.inverted_index(self.fields.product)?;
            let alive = segment.alive_bitset();
            // Per vendor ordinal of this segment: its best offer so far (no string per offer).
            let mut local: HashMap<u64, Supplied> = HashMap::new();
            for product in &wanted {
                let term = Term::from_field_text(self.fields.product, product);
                let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? else { continue };
                while postings.doc() != TERMINATED {
                    let doc = postings.doc();
                    postings.advance();
                    let units = stock.first(doc).unwrap_or(0);
                    if units == 0 || alive.is_some_and(|a| a.is_deleted(doc)) {
                        continue;
                    }
                    let Some(vendor) = vendors.term_ords(doc).next() else { continue };
                    let offer_price = price.first(doc).unwrap_or(f64::INFINITY);
                    let lead_time_days = u32::try_from(lead.first(doc).unwrap_or(0)).unwrap_or(u32::MAX);
                    let fit = OfferFit::of(offer_price, units, lead_time_days, rfi, now);
                    let candidate = Supplied { address: DocAddress::new(ord as u32, doc), fit, price: offer_price };
                    keep_better(local.entry(vendor), candidate, &id_of)?;
                }
            }
            let (ords, supplied): (Vec<u64>, Vec<Supplied>) = local.into_iter().unzip();
            for (vendor, candidate) in crate::writer::terms_of(&vendors, &ords)?.into_iter().zip(supplied) {
                keep_better(by_vendor.entry(vendor), candidate, &id_of)?;
            }
        }
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
