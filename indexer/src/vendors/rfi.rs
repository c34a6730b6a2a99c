//! Vendor matching for another service's request for information (RFI): candidates by text,
//! category and distance, ranked by the documented blend of [`MatchBreakdown`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use searchd_catalog::geo::{GeoRect, cover, haversine_km};
use searchd_catalog::zones::Reach;
use searchd_catalog::{GeoPoint, MatchBreakdown, MatchFit, MatchHit, MatchResponse, OfferFit, Rfi, bayesian_average};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Facet, Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, Term};

use crate::Result;
use crate::any_term::AnyTermQuery;

use super::coverage::{self, SegmentCoverage};
use super::{MAX_COVER_CELLS, VendorIndex};

impl VendorIndex {
    /// The vendor documents of `supply`'s vendors, with what each can supply.
    fn supplied(
        &self,
        searcher: &tantivy::Searcher,
        supply: &HashMap<String, OfferFit>,
    ) -> Result<HashMap<DocAddress, OfferFit>> {
        let mut out = HashMap::with_capacity(supply.len());
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let index = segment.inverted_index(self.fields.id)?;
            let alive = segment.alive_bitset();
            for (id, fit) in supply {
                let term = Term::from_field_text(self.fields.id, id);
                let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? else { continue };
                while postings.doc() != tantivy::TERMINATED {
                    if !alive.is_some_and(|a| a.is_deleted(postings.doc())) {
                        out.insert(DocAddress::new(ord as u32, postings.doc()), *fit);
                    }
                    postings.advance();
                }
            }
        }
        Ok(out)
    }
}

/// Half the Earth's circumference: no limit.
const ANY_DISTANCE_KM: f64 = 20_016.0;

impl VendorIndex {
    /// Ranks vendors for a request for information; see [`MatchBreakdown`] for the blend. A
    /// vendor is a candidate when it matches the description's text or the request's top-level
    /// category, its nearest branch is within `max_distance_km`, and it serves the request's
    /// location (its own radius, a branch's, or a delivery zone). Every candidate is scored from fast fields and postings inside the collector;
    /// only the returned vendors are loaded.
    pub fn match_rfi(&self, rfi: &Rfi) -> Result<MatchResponse> {
        self.match_rfi_with(rfi, None)
    }

    /// [`Self::match_rfi`] with what vendors can supply from their offers (by vendor id: what
    /// its best offer in the category meets, see `OfferIndex::supply`): such a vendor is a
    /// candidate too, and `supply` in its breakdown scores that fit. The hits' `offer` is the
    /// caller's to fill.
    pub fn match_rfi_with(&self, rfi: &Rfi, supply: Option<&HashMap<String, OfferFit>>) -> Result<MatchResponse> {
        rfi.validate()?;
        let started = Instant::now();
        let (searcher, scored) = self.ranked(rfi, supply)?;
        let fitting = scored.len() as u64;
        let hits = scored
            .into_iter()
            .take(rfi.limit)
            .map(|(breakdown, c)| {
                Ok(MatchHit {
                    vendor: self.load(&searcher, c.address)?,
                    distance_km: c.distance_km,
                    nearest_branch: c.branch,
                    score: breakdown.total(),
                    breakdown,
                    offer: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MatchResponse { candidates: fitting, hits, took_ms: started.elapsed().as_secs_f64() * 1e3 })
    }

    /// How [`Self::match_rfi_with`] scores the vendor `id` for a (valid) request, or `None`
    /// when that vendor is not among its candidates: what reverse matching lists.
    pub(crate) fn fit_for(
        &self,
        rfi: &Rfi,
        supply: Option<&HashMap<String, OfferFit>>,
        id: &str,
    ) -> Result<Option<VendorFit>> {
        let (searcher, scored) = self.ranked(rfi, supply)?;
        let address = match crate::writer::find_id(&searcher, self.fields.id, id) {
            Ok(address) => address,
            Err(crate::Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(scored.into_iter().find(|(_, c)| c.address == address).map(|(breakdown, c)| VendorFit {
            breakdown,
            distance_km: c.distance_km,
            branch: c.branch,
        }))
    }

    /// Every vendor that fits the request, best first, with its breakdown.
    fn ranked(
        &self,
        rfi: &Rfi,
        supply: Option<&HashMap<String, OfferFit>>,
    ) -> Result<(tantivy::Searcher, Vec<(MatchBreakdown, Candidate)>)> {
        let f = self.fields;
        let (searcher, served) = self.view();
        let filter = self.filter_query(rfi.filter.as_ref(), &served)?;
        let max_distance = rfi.max_distance_km.unwrap_or(ANY_DISTANCE_KM);
        let wanted = rfi.category.split('/').map(str::trim).collect::<Vec<_>>();
        let exact = Facet::from_path(wanted.iter().copied());
        let top_level = Facet::from_path(wanted.iter().copied().take(1));
        let category = TermQuery::new(Term::from_facet(f.category, &top_level), IndexRecordOption::Basic);
        let mut relevant: Vec<(Occur, Box<dyn Query>)> = self.description_terms(&searcher, rfi)?;
        relevant.push((Occur::Should, Box::new(ConstScoreQuery::new(Box::new(category), 0.0))));
        // Vendors selling products in the category, by id.
        let supplied = match supply {
            Some(supply) => self.supplied(&searcher, supply)?,
            None => HashMap::new(),
        };
        if let Some(supply) = supply.filter(|s| !s.is_empty()) {
            let ids = supply.keys().map(|id| Term::from_field_text(f.id, id));
            relevant.push((Occur::Should, Box::new(ConstScoreQuery::new(Box::new(AnyTermQuery::new(ids)), 0.0))));
        }
        let relevant = BooleanQuery::new(relevant);
        // Candidates: with a maximum distance, the vendors with a branch in the cells around the
        // location; without, those whose service cells hold it (when every vendor has them). One
        // prefilter: a second costs more than it saves (measured on the geo bench).
        let cells: Vec<u64> = if rfi.max_distance_km.is_none() && self.service_cells_complete(&searcher)? {
            coverage::cells_serving(rfi.location).collect()
        } else {
            cover(&GeoRect::around(rfi.location, max_distance), MAX_COVER_CELLS)
        };
        let near = AnyTermQuery::new(cells.into_iter().map(|c| Term::from_field_u64(f.cells, c)));
        let mut query = vec![
            (Occur::Must, Box::new(relevant) as Box<dyn Query>),
            (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(near), 0.0))),
        ];
        query.extend(filter.map(|f| (Occur::Must, f)));
        let query = BooleanQuery::new(query);
        let coverage = self.coverage(&searcher)?;
        let collector = MatchCollector {
            coverage: &coverage,
            center: rfi.location,
            max_distance_km: max_distance,
            category: f.category,
            exact: Term::from_facet(f.category, &exact),
            top_level: Term::from_facet(f.category, &top_level),
        };
        let candidates = searcher.search(&query, &collector)?;
        let best_text = candidates.iter().map(|c| f64::from(c.text)).fold(0.0, f64::max);
        // Only the vendors that fit: no filler after the real matches.
        let mut scored: Vec<(MatchBreakdown, Candidate)> = candidates
            .into_iter()
            .filter_map(|c| Some((c.breakdown(best_text, supplied.get(&c.address))?, c)))
            .collect();
        scored.sort_by(|(a, ca), (b, cb)| {
            b.total()
                .total_cmp(&a.total())
                .then(ca.distance_km.total_cmp(&cb.distance_km))
                .then(ca.address.cmp(&cb.address))
        });
        Ok((searcher, scored))
    }
}

/// How vendor matching scores one vendor for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VendorFit {
    pub(crate) breakdown: MatchBreakdown,
    /// The distance to the vendor's nearest branch, and that branch.
    pub(crate) distance_km: f64,
    pub(crate) branch: GeoPoint,
}

/// A description word found in more than this share of the vendors is dropped from the match
/// query: its BM25 weight is nearly nil (the IDF of a word in half the documents is ln 2 of
/// the rarest's ln N), yet scoring it costs a postings lookup per candidate. Applies from
/// [`COMMON_WORDS_MIN_DOCS`] vendors on, as Lucene's common-terms cut-off.
pub const COMMON_WORD_SHARE: f64 = 0.5;
/// Below this many vendors, every description word is kept.
pub const COMMON_WORDS_MIN_DOCS: u64 = 1_000;

impl VendorIndex {
    /// The description's words as BM25 term queries on the stemmed body (capabilities,
    /// description, tags, categories), in the request's language (given, else detected, else
    /// the default), leaving out the words most vendors have.
    fn description_terms(&self, searcher: &tantivy::Searcher, rfi: &Rfi) -> Result<Vec<(Occur, Box<dyn Query>)>> {
        let language = self.analyzer.query_language(rfi.language.as_deref(), &rfi.description);
        let docs = searcher.num_docs();
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in self.analyzer.query_terms(&rfi.description, language) {
            let term = Term::from_field_text(self.fields.body_stem, &term.stem);
            if docs >= COMMON_WORDS_MIN_DOCS && searcher.doc_freq(&term)? as f64 > COMMON_WORD_SHARE * docs as f64 {
                continue;
            }
            out.push((Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))));
        }
        Ok(out)
    }
}

/// What a match candidate is scored on, read inside the collector.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    address: DocAddress,
    /// The nearest branch and its distance.
    branch: GeoPoint,
    distance_km: f64,
    text: Score,
    /// 1 for the category or one below it, 0.5 for the same top-level category, else 0.
    category: f64,
    /// How well the vendor serves the location: see [`Reach::closeness`].
    closeness: f64,
    rating: Option<f64>,
    reviews: u64,
    available: bool,
}

impl Candidate {
    /// The weighted components (documented on [`MatchBreakdown`]); `None` when the vendor does
    /// not fit.
    fn breakdown(&self, best_text: f64, supplied: Option<&OfferFit>) -> Option<MatchBreakdown> {
        let (prior, weight) = (MatchBreakdown::RATING_PRIOR, MatchBreakdown::RATING_PRIOR_REVIEWS);
        let reviews = if self.rating.is_some() { self.reviews as f64 } else { 0.0 };
        let rating = bayesian_average(self.rating.unwrap_or(prior), reviews, prior, weight) / 5.0;
        let text = if best_text > 0.0 { f64::from(self.text) / best_text } else { 0.0 };
        let fit = if self.category > 0.0 {
            MatchFit::Category
        } else if supplied.is_some() {
            MatchFit::Offers
        } else if text >= MatchBreakdown::MIN_TEXT_FIT {
            MatchFit::Text
        } else {
            return None;
        };
        Some(MatchBreakdown {
            fit,
            text: MatchBreakdown::TEXT * text,
            category: MatchBreakdown::CATEGORY * self.category,
            distance: MatchBreakdown::DISTANCE * self.closeness,
            rating: MatchBreakdown::RATING * rating,
            availability: if self.available { MatchBreakdown::AVAILABILITY } else { 0.0 },
            supply: supplied.map_or(0.0, |s| MatchBreakdown::SUPPLY * s.share()),
            offer_fit: supplied.copied(),
        })
    }
}

/// Collects every vendor near enough that serves the request's location.
struct MatchCollector<'a> {
    /// Per segment: the vendors with branches or zones.
    coverage: &'a [Arc<SegmentCoverage>],
    center: GeoPoint,
    max_distance_km: f64,
    category: Field,
    exact: Term,
    top_level: Term,
}

struct MatchSegment {
    segment: SegmentOrdinal,
    coverage: Option<Arc<SegmentCoverage>>,
    center: GeoPoint,
    max_distance_km: f64,
    lat: Column<f64>,
    lon: Column<f64>,
    radius: Column<f64>,
    rating: Column<f64>,
    reviews: Column<u64>,
    available: Column<bool>,
    /// Documents in the wanted category (or below), and in its top-level category; docs
    /// arrive in increasing order, so each is a forward-only cursor.
    exact: Option<tantivy::postings::SegmentPostings>,
    top_level: Option<tantivy::postings::SegmentPostings>,
    found: Vec<Candidate>,
}

impl Collector for MatchCollector<'_> {
    type Fruit = Vec<Candidate>;
    type Child = MatchSegment;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<MatchSegment> {
        let ff = reader.fast_fields();
        let postings = reader.inverted_index(self.category)?;
        Ok(MatchSegment {
            segment,
            coverage: self.coverage.get(segment as usize).filter(|c| !c.is_empty()).cloned(),
            center: self.center,
            max_distance_km: self.max_distance_km,
            lat: ff.f64("lat")?,
            lon: ff.f64("lon")?,
            radius: ff.f64("radius")?,
            rating: ff.f64("rating")?,
            reviews: ff.u64("reviews")?,
            available: ff.bool("available")?,
            exact: postings.read_postings(&self.exact, IndexRecordOption::Basic)?,
            top_level: postings.read_postings(&self.top_level, IndexRecordOption::Basic)?,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Candidate>>) -> tantivy::Result<Vec<Candidate>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

/// Whether `doc` is in the cursor's postings (docs must be asked in increasing order).
fn holds(postings: &mut Option<tantivy::postings::SegmentPostings>, doc: DocId) -> bool {
    use tantivy::DocSet;
    postings.as_mut().is_some_and(|p| {
        if p.doc() < doc {
            p.seek(doc);
        }
        p.doc() == doc
    })
}

impl SegmentCollector for MatchSegment {
    type Fruit = Vec<Candidate>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let (Some(lat), Some(lon), Some(radius)) = (self.lat.first(doc), self.lon.first(doc), self.radius.first(doc))
        else {
            return;
        };
        let at = GeoPoint { lat, lon };
        let reach = match self.coverage.as_ref().and_then(|c| c.get(&doc)) {
            Some(coverage) => coverage.reach(self.center),
            None => Reach::of_branch(at, radius, haversine_km(self.center, at)),
        };
        let Some(closeness) = reach.closeness else { return };
        if reach.distance_km > self.max_distance_km {
            return;
        }
        let category = if holds(&mut self.exact, doc) {
            1.0
        } else if holds(&mut self.top_level, doc) {
            0.5
        } else {
            0.0
        };
        self.found.push(Candidate {
            address: DocAddress::new(self.segment, doc),
            branch: reach.branch,
            distance_km: reach.distance_km,
            text: score,
            category,
            closeness,
            rating: self.rating.first(doc),
            reviews: self.reviews.first(doc).unwrap_or(0),
            available: self.available.first(doc).unwrap_or(true),
        });
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}
