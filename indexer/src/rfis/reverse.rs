//! Reverse matching: the open requests a vendor can serve, each scored exactly as vendor
//! matching (`POST /v1/vendors/match`) scores that vendor for it. The requests looked at are the
//! open ones in the cells of the vendor's service area (every branch's circle, every zone's
//! box); each is then asked of vendor matching, with what the vendors' offers supply, and kept
//! when the vendor is among its candidates. So a request is listed exactly when the vendor would
//! be matched to it, with the same breakdown.

use std::time::Instant;

use searchd_catalog::{RfiDocument, RfiMatchHit, RfiState, VendorRfisResponse};
use tantivy::Term;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use super::RfiIndex;
use super::search::{Conditions, Finder};
use crate::any_term::AnyTermQuery;
use crate::vendors::area_cells;
use crate::{Error, OfferIndex, ProductIndex, Result, VendorIndex};

/// What vendor matching needs besides the requests: the vendors, their offers and the products.
#[derive(Debug, Clone, Copy)]
pub struct Market<'a> {
    /// The vendors, one of which is asked about.
    pub vendors: &'a VendorIndex,
    /// Their offers.
    pub offers: &'a OfferIndex,
    /// The products offered.
    pub products: &'a ProductIndex,
}

impl RfiIndex {
    /// The open requests (at `now`, Unix seconds) that vendor `vendor_id` is a candidate for,
    /// best score first (then nearer, then by id), at most `limit` of them (1–100); see the
    /// module documentation.
    pub fn for_vendor(
        &self,
        market: Market<'_>,
        vendor_id: &str,
        now: i64,
        limit: usize,
    ) -> Result<VendorRfisResponse> {
        if limit == 0 || limit > searchd_catalog::MAX_PER_PAGE {
            let message = format!("must be between 1 and {}", searchd_catalog::MAX_PER_PAGE);
            return Err(Error::Invalid(searchd_catalog::Error::invalid("limit", message)));
        }
        let started = Instant::now();
        let vendor = market.vendors.get(vendor_id)?;
        let coverage = vendor.coverage()?;
        let f = self.fields;
        let searcher = self.store.reader.searcher();
        let cells = AnyTermQuery::new(area_cells(&coverage).into_iter().map(|c| Term::from_field_u64(f.cells, c)));
        let open = TermQuery::new(Term::from_field_bool(f.open, true), IndexRecordOption::Basic);
        let query =
            BooleanQuery::new(vec![(Occur::Must, Box::new(open) as Box<dyn Query>), (Occur::Must, Box::new(cells))]);
        let conditions = Conditions {
            state: RfiState::Open,
            now,
            near: None,
            radius_km: None,
            needed_after: None,
            needed_before: None,
        };
        let found = searcher.search(&query, &Finder { conditions, scoring: false })?;
        let mut hits = Vec::new();
        for found in found {
            let rfi: RfiDocument = crate::writer::parse_source(&searcher.doc(found.address)?, f.source)?;
            // The exact reach first: most requests in the cells are outside the area.
            if !coverage.serves(rfi.location) {
                continue;
            }
            let request = rfi.request(1);
            let supply = market.offers.supply(market.vendors, market.products, &request, now)?;
            let Some(fit) = market.vendors.fit_for(&request, Some(&supply.fits()), vendor_id)? else { continue };
            let offer = if fit.breakdown.offer_fit.is_some() { supply.offer(vendor_id)? } else { None };
            hits.push(RfiMatchHit {
                rfi,
                distance_km: fit.distance_km,
                nearest_branch: fit.branch,
                score: fit.breakdown.total(),
                breakdown: fit.breakdown,
                offer,
            });
        }
        hits.sort_by(|a, b| {
            b.score.total_cmp(&a.score).then(a.distance_km.total_cmp(&b.distance_km)).then(a.rfi.id.cmp(&b.rfi.id))
        });
        let candidates = hits.len() as u64;
        hits.truncate(limit);
        Ok(VendorRfisResponse {
            vendor_id: vendor_id.to_string(),
            candidates,
            hits,
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }
}
