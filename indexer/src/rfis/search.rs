//! Searching the stored requests: words (BM25 over titles and descriptions, as written and
//! stemmed), category (the path or below), area (the cells covering the circle, then the exact
//! distance), dates and state, checked on fast columns inside the collector.

use std::cmp::Ordering;
use std::time::Instant;

use searchd_catalog::geo::{GeoRect, cover, haversine_km};
use searchd_catalog::{GeoPoint, RfiHit, RfiSearchRequest, RfiSearchResponse, RfiSort, RfiState};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, Term};

use super::{RfiIndex, column};
use crate::Result;
use crate::any_term::AnyTermQuery;
use crate::vendors::MAX_COVER_CELLS;

/// Words of a query that count; the rest are ignored.
const MAX_QUERY_WORDS: usize = 32;

/// One request found, before it is loaded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    pub(super) address: DocAddress,
    score: Score,
    distance_km: Option<f64>,
    needed_by: i64,
    created: i64,
}

/// What every found request must hold, checked on its columns.
#[derive(Debug, Clone, Copy)]
pub(super) struct Conditions {
    pub(super) state: RfiState,
    pub(super) now: i64,
    pub(super) near: Option<GeoPoint>,
    pub(super) radius_km: Option<f64>,
    pub(super) needed_after: Option<i64>,
    pub(super) needed_before: Option<i64>,
}

impl RfiIndex {
    /// Runs a request search at `now` (Unix seconds: what is open) and loads the page's requests.
    pub fn search(&self, request: &RfiSearchRequest, now: i64) -> Result<RfiSearchResponse> {
        request.validate()?;
        let started = Instant::now();
        let f = self.fields;
        let searcher = self.store.reader.searcher();
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let q = request.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if let Some(q) = q {
            let mut words = self.analyzer.query_terms(q, self.query_language(q));
            words.truncate(MAX_QUERY_WORDS);
            let term = |field, text: &str| -> Box<dyn Query> {
                Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
            };
            let clauses = words
                .iter()
                .flat_map(|w| {
                    [term(f.body_exact, &w.exact), Box::new(BoostQuery::new(term(f.body_stem, &w.stem), 0.9))]
                })
                .map(|q| (Occur::Should, q))
                .collect::<Vec<_>>();
            must.push((Occur::Must, Box::new(BooleanQuery::new(clauses))));
        }
        if let Some(category) = &request.category {
            let facet = Facet::from_path(searchd_catalog::path_segments(category));
            let term = TermQuery::new(Term::from_facet(f.category, &facet), IndexRecordOption::Basic);
            must.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(term), 0.0))));
        }
        if let (Some(near), Some(radius)) = (request.near, request.radius_km) {
            let cells = cover(&GeoRect::around(near, radius), MAX_COVER_CELLS);
            let cells = AnyTermQuery::new(cells.into_iter().map(|c| Term::from_field_u64(f.cells, c)));
            must.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(cells), 0.0))));
        }
        if request.status == RfiState::Open {
            let open = TermQuery::new(Term::from_field_bool(f.open, true), IndexRecordOption::Basic);
            must.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(open), 0.0))));
        }
        let query: Box<dyn Query> =
            if must.is_empty() { Box::new(AllQuery) } else { Box::new(BooleanQuery::new(must)) };
        let conditions = Conditions {
            state: request.status,
            now,
            near: request.near,
            radius_km: request.radius_km,
            needed_after: request.needed_after,
            needed_before: request.needed_before,
        };
        let mut found = searcher.search(&query, &Finder { conditions, scoring: q.is_some() })?;
        let order = |a: &Found, b: &Found| -> Ordering {
            let nearer = a.distance_km.unwrap_or(0.0).total_cmp(&b.distance_km.unwrap_or(0.0));
            let sooner = a.needed_by.cmp(&b.needed_by);
            match request.sort {
                RfiSort::Relevance => b.score.total_cmp(&a.score).then(nearer).then(sooner),
                RfiSort::Distance => nearer.then(b.score.total_cmp(&a.score)),
                RfiSort::NeededBy => sooner.then(nearer),
                RfiSort::Newest => b.created.cmp(&a.created).then(nearer),
            }
            .then(a.address.cmp(&b.address))
        };
        found.sort_unstable_by(order);
        let total = found.len() as u64;
        let hits = found
            .into_iter()
            .skip((request.page - 1) * request.per_page)
            .take(request.per_page)
            .map(|h| {
                let rfi = crate::writer::parse_source(&searcher.doc(h.address)?, f.source)?;
                Ok(RfiHit { rfi, distance_km: h.distance_km, score: h.score })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RfiSearchResponse {
            total_hits: total,
            page: request.page,
            per_page: request.per_page,
            hits,
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }
}

/// Collects every request that holds [`Conditions`].
pub(super) struct Finder {
    pub(super) conditions: Conditions,
    pub(super) scoring: bool,
}

pub(super) struct FinderSegment {
    segment: SegmentOrdinal,
    conditions: Conditions,
    lat: Column<f64>,
    lon: Column<f64>,
    open: Column<bool>,
    open_until: Column<i64>,
    needed_by: Column<i64>,
    created: Column<i64>,
    found: Vec<Found>,
}

impl Collector for Finder {
    type Fruit = Vec<Found>;
    type Child = FinderSegment;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<FinderSegment> {
        let ff = reader.fast_fields();
        Ok(FinderSegment {
            segment,
            conditions: self.conditions,
            lat: ff.f64(column::LAT)?,
            lon: ff.f64(column::LON)?,
            open: ff.bool(column::OPEN)?,
            open_until: ff.i64(column::OPEN_UNTIL)?,
            needed_by: ff.i64(column::NEEDED_BY)?,
            created: ff.i64(column::CREATED)?,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Found>>) -> tantivy::Result<Vec<Found>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for FinderSegment {
    type Fruit = Vec<Found>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let c = self.conditions;
        let open = self.open.first(doc).unwrap_or(false) && c.now < self.open_until.first(doc).unwrap_or(i64::MAX);
        let wanted = match c.state {
            RfiState::Open => open,
            RfiState::Closed => !open,
            RfiState::Any => true,
        };
        let needed_by = self.needed_by.first(doc).unwrap_or(i64::MAX);
        // A request with no date is needed at no particular time: date bounds leave it out.
        let dated = needed_by != i64::MAX;
        if !wanted
            || c.needed_after.is_some_and(|after| !dated || needed_by < after)
            || c.needed_before.is_some_and(|before| !dated || needed_by > before)
        {
            return;
        }
        let distance_km = match (c.near, self.lat.first(doc), self.lon.first(doc)) {
            (Some(near), Some(lat), Some(lon)) => Some(haversine_km(near, GeoPoint { lat, lon })),
            _ => None,
        };
        if c.radius_km.is_some_and(|r| distance_km.is_none_or(|d| d > r)) {
            return;
        }
        self.found.push(Found {
            address: DocAddress::new(self.segment, doc),
            score,
            distance_km,
            needed_by,
            created: self.created.first(doc).unwrap_or(i64::MIN),
        });
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}
