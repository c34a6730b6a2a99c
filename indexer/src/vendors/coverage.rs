//! Vendors that serve from more than their location — other branches, delivery zones — are
//! marked in the index (a reserved `attr_state` term) and every branch's cells are indexed, so
//! geo prefilters find them by any branch. Their prepared coverage (branches with radii, zones
//! ready for point checks) is kept per segment, read once from the stored vendors: segments
//! never change, and most vendors have only their location, which the fast fields answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use searchd_catalog::GeoPoint;
use searchd_catalog::geo::{CELL_LEVELS, GeoRect, cell_id, cover};
use searchd_catalog::zones::Coverage;
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Searcher, TERMINATED, Term};

use super::VendorIndex;
use crate::Result;
use crate::any_term::AnyTermQuery;

/// The `attr_state` term of a vendor with branches or zones (attribute markers start with `g`).
pub(super) const COVERAGE_MARK: &str = "\u{0}coverage";

/// The `attr_state` term of every vendor whose service cells are indexed: a segment where every
/// document has it can answer "who serves this point" from the cells alone (vendors written
/// before service cells existed are checked one by one until they are written again).
pub(super) const SERVED_MARK: &str = "\u{0}served";

/// Set on a service cell's id, to tell it from a location's cell in the same field (cell ids
/// keep their level in bits 58–62).
const SERVICE_BIT: u64 = 1 << 63;

/// Cells covering each branch's circle or each zone's box: the finest level whose cover of the
/// area's box has at most this many cells.
pub const SERVICE_CELLS_PER_AREA: usize = 16;

/// The service cells of a vendor's coverage: every cell that may hold a point it serves.
pub(super) fn service_cells(coverage: &Coverage) -> Vec<u64> {
    let circles = coverage.branches.iter().map(|(b, r)| GeoRect::around(*b, *r));
    let boxes = coverage.zones.iter().flat_map(|z| z.bounds());
    let mut cells: Vec<u64> =
        circles.chain(boxes).flat_map(|area| cover(&area, SERVICE_CELLS_PER_AREA)).map(|c| c | SERVICE_BIT).collect();
    cells.sort_unstable();
    cells.dedup();
    cells
}

/// The plain cells (as a point's cells are indexed at each level) that may hold a point the
/// coverage serves: where to look for the requests a vendor can serve.
pub(crate) fn area_cells(coverage: &Coverage) -> Vec<u64> {
    service_cells(coverage).into_iter().map(|c| c & !SERVICE_BIT).collect()
}

/// The service cells that hold `p`, one per level: a vendor serving `p` has one of them.
pub(super) fn cells_serving(p: GeoPoint) -> impl Iterator<Item = u64> {
    CELL_LEVELS.into_iter().map(move |level| cell_id(p, level) | SERVICE_BIT)
}

/// One segment's sprawling vendors' coverage, by document.
pub(super) type SegmentCoverage = HashMap<DocId, Arc<Coverage>>;

/// [`SegmentCoverage`] per live segment.
#[derive(Debug, Default)]
pub(super) struct KeptCoverage {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentCoverage>>>,
}

impl VendorIndex {
    /// Whether every document of `searcher` has its service cells indexed.
    pub(super) fn service_cells_complete(&self, searcher: &Searcher) -> Result<bool> {
        let term = Term::from_field_text(self.fields.attr_state, SERVED_MARK);
        for segment in searcher.segment_readers() {
            // Deleted documents count on both sides: each was written with the mark or not.
            if segment.inverted_index(self.fields.attr_state)?.doc_freq(&term)? < segment.max_doc() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Per segment of `searcher` (by ordinal): its marked vendors' coverage.
    pub(super) fn coverage(&self, searcher: &Searcher) -> Result<Vec<Arc<SegmentCoverage>>> {
        let mut out = Vec::with_capacity(searcher.segment_readers().len());
        let mut kept = self.coverage.segments.lock().map_err(|_| crate::Error::Internal("coverage lock".into()))?;
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            if let Some(found) = kept.get(&segment.segment_id()) {
                out.push(found.clone());
                continue;
            }
            let mut found = SegmentCoverage::new();
            let term = Term::from_field_text(self.fields.attr_state, COVERAGE_MARK);
            let index = segment.inverted_index(self.fields.attr_state)?;
            if let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? {
                while postings.doc() != TERMINATED {
                    let doc = postings.doc();
                    let vendor = self.load(searcher, tantivy::DocAddress::new(ord as u32, doc))?;
                    found.insert(doc, Arc::new(vendor.coverage()?));
                    postings.advance();
                }
            }
            let found = Arc::new(found);
            kept.insert(segment.segment_id(), found.clone());
            out.push(found);
        }
        crate::search::keep_live(searcher, &mut kept);
        Ok(out)
    }

    /// The available vendors that serve `p` (a branch's radius or a zone holds it), each with
    /// its nearest branch and the distance to it, nearest first: where a shopper at `p` can buy.
    pub fn serving(&self, p: GeoPoint) -> Result<Vec<super::GeoHitId>> {
        self.serving_with(p, true)
    }

    /// The ids of every vendor that serves `p`, available or not (vendor matching lists both).
    pub(crate) fn serving_any(&self, p: GeoPoint) -> Result<Vec<String>> {
        Ok(self.serving_with(p, false)?.into_iter().map(|v| v.id).collect())
    }

    fn serving_with(&self, p: GeoPoint, only_available: bool) -> Result<Vec<super::GeoHitId>> {
        let (searcher, _) = self.view();
        let f = self.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if only_available {
            let available = TermQuery::new(Term::from_field_bool(f.available, true), IndexRecordOption::Basic);
            must.push((Occur::Must, Box::new(available)));
        }
        if self.service_cells_complete(&searcher)? {
            let cells = AnyTermQuery::new(cells_serving(p).map(|c| Term::from_field_u64(f.cells, c)));
            must.push((Occur::Must, Box::new(cells)));
        }
        if must.is_empty() {
            must.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
        }
        let coverage = self.coverage(&searcher)?;
        let spec = super::GeoSpec {
            center: Some(p),
            radius_km: None,
            min_km: None,
            serves: Some(p),
            bbox: None,
            by_distance: true,
            limit: usize::MAX,
        };
        let collector = super::GeoTop { coverage: &coverage, spec, scoring: false };
        let (_, mut top) = searcher.search(&BooleanQuery::new(must), &collector)?;
        top.sort_unstable();
        self.hit_ids(&searcher, top)
    }
}
