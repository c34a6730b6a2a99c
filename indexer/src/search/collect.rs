//! Collection: the top hits by phase 1 (the scorer runs inside Tantivy's collector over fast
//! fields) or by a sort key (or each group's best, with `distinct`), the total, and the facets
//! counted with the hits.

use std::sync::Arc;

use searchd_catalog::{FirstPhaseScorer, SearchRequest, with_factor};
use tantivy::collector::{Collector, TopDocs};
use tantivy::query::Query;
use tantivy::{DocAddress, Score, Searcher, SegmentReader};

use super::distinct::{Distinct, KeyFn};
use super::facets::{FacetsCollector, FacetsFruit, Spec};
use super::factors::SegmentFactors;
use super::gate::Gated;
use super::rules::{Boosts, SegmentBoosts};
use super::sort::{Keys, SegmentKeys, SortKey};
use crate::columns::{EngagementColumns, SegmentSignals};
use crate::offers::near::{NearDocs, SegmentNear};
use crate::settings::Served;
use crate::{ProductIndex, Result};

/// What one collection pass found.
pub(super) struct Collected {
    /// The top hits with their scores.
    pub(super) top: Vec<(Score, DocAddress)>,
    pub(super) total: u64,
    /// How many of the watched products are among the matches (`None` with `distinct`, which
    /// counts groups).
    pub(super) watched: Option<u64>,
    /// The facets counted with the hits.
    pub(super) counted: Option<(FacetsCollector, FacetsFruit)>,
    /// The disjunctive facets counted behind gates.
    pub(super) disjunctive: Vec<(FacetsCollector, FacetsFruit)>,
}

/// The gates on disjunctive facets and the facets each counts.
type Gates<'a> = (&'a [super::gate::Gate], &'a [(Spec, Vec<usize>)]);

impl ProductIndex {
    /// The top hits of `query` (`offset`, `limit`) by phase 1 or the sort key, the total, how
    /// many of `watched` match, and the facets `facets` counts, in one pass. With `gates` (not
    /// with `distinct`), `query` is without the clauses on disjunctive facets, which the gates
    /// check per document, and the disjunctive facets are counted in the same pass too (see
    /// [`super::gate`]).
    #[expect(clippy::too_many_arguments, reason = "private plumbing")]
    pub(super) fn collect(
        &self,
        searcher: &Searcher,
        served: &Served,
        request: &SearchRequest,
        query: &dyn Query,
        scorer: &Arc<dyn FirstPhaseScorer>,
        offset: usize,
        limit: usize,
        engagement: Option<Arc<EngagementColumns>>,
        facets: Option<FacetsCollector>,
        gates: Option<Gates<'_>>,
        boosts: Option<&Arc<Boosts>>,
        custom: Option<&super::signals::CustomSignals>,
        watched: &[DocAddress],
        near: Option<&Arc<NearDocs>>,
    ) -> Result<Collected> {
        let boosts = boosts.cloned();
        let factors = self.signal_factors(searcher, scorer, engagement.as_ref(), custom)?;
        let scorer = scorer.clone();
        let keys = Arc::new(self.sort_keys(request, served)?);
        let near = near.cloned();
        let nearness = near.clone();
        let signals = move |segment: &SegmentReader| Phase1 {
            signals: Signals::of(segment, &scorer, factors.as_deref(), &engagement),
            boosts: boosts.as_ref().and_then(|b| b.segment(segment.segment_id())),
            near: nearness.as_ref().and_then(|n| n.get(&segment.segment_id())).cloned(),
        };
        if let Some(column) = self.distinct_column(request, served)? {
            let key_fn = move |segment: &SegmentReader| -> KeyFn {
                Box::new(sort_key_fn(segment, keys.clone(), signals(segment), near.as_deref()))
            };
            let collectors = (Distinct { column, key_fn }, facets);
            let (groups, fruit) = searcher.search(query, &collectors)?;
            let total = groups.len() as u64;
            let top = groups.into_iter().skip(offset).take(limit).map(|(key, address)| (key.1, address)).collect();
            let counted = collectors.1.zip(fruit);
            return Ok(Collected { top, total, watched: None, counted, disjunctive: Vec::new() });
        }
        let page = TopDocs::with_limit(limit).and_offset(offset);
        if keys.is_empty() {
            // By relevance alone: a plain score, compared and moved for less than the keys.
            let top = page.tweak_score(move |segment: &SegmentReader| {
                let signals = signals(segment);
                move |doc, text| signals.score(doc, text)
            });
            return self.top_of(searcher, query, top, facets, gates, watched, |score| score);
        }
        let top = page.tweak_score(move |segment: &SegmentReader| {
            sort_key_fn(segment, keys.clone(), signals(segment), near.as_deref())
        });
        self.top_of(searcher, query, top, facets, gates, watched, |(_, score): SortKey| score)
    }

    /// Runs `top` (with the total, the watched products, the facets and the gates) and turns
    /// its keys into scores.
    #[expect(clippy::too_many_arguments, reason = "private plumbing")]
    fn top_of<K, T: Collector<Fruit = Vec<(K, DocAddress)>>>(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        top: T,
        facets: Option<FacetsCollector>,
        gates: Option<Gates<'_>>,
        watched: &[DocAddress],
        score: impl Fn(K) -> Score,
    ) -> Result<Collected> {
        let collectors = (top, Counting { watched: watched.to_vec() }, facets);
        let ((top, (total, seen), fruit), facets, disjunctive) = match gates {
            None => (searcher.search(query, &collectors)?, collectors.2, Vec::new()),
            Some((gates, specs)) => {
                let mut gated = Gated::new(collectors, searcher, gates, specs, &self.facet_columns)?;
                let (fruits, disjunctive) = searcher.search(query, &gated)?;
                let facets = gated.inner.2.take();
                (fruits, facets, gated.into_facets().into_iter().zip(disjunctive).collect())
            }
        };
        let top = top.into_iter().map(|(key, address)| (score(key), address)).collect();
        Ok(Collected { top, total, watched: Some(seen), counted: facets.zip(fruit), disjunctive })
    }
}

/// The matches counted, and how many of some products (the pinned ones) are among them: no
/// second pass to tell whether a pinned product adds to the total.
struct Counting {
    watched: Vec<DocAddress>,
}

impl Collector for Counting {
    type Fruit = (u64, u64);
    type Child = SegmentCounting;

    fn for_segment(&self, segment_ord: u32, _: &SegmentReader) -> tantivy::Result<SegmentCounting> {
        let watched = self.watched.iter().filter(|a| a.segment_ord == segment_ord).map(|a| a.doc_id).collect();
        Ok(SegmentCounting { count: 0, seen: 0, watched })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<(u64, u64)>) -> tantivy::Result<(u64, u64)> {
        Ok(fruits.into_iter().fold((0, 0), |(c, s), (count, seen)| (c + count, s + seen)))
    }
}

struct SegmentCounting {
    count: u64,
    seen: u64,
    watched: Vec<tantivy::DocId>,
}

impl tantivy::collector::SegmentCollector for SegmentCounting {
    type Fruit = (u64, u64);

    #[inline]
    fn collect(&mut self, doc: tantivy::DocId, _: Score) {
        self.count += 1;
        if !self.watched.is_empty() && self.watched.contains(&doc) {
            self.seen += 1;
        }
    }

    fn harvest(self) -> (u64, u64) {
        (self.count, self.seen)
    }
}

/// How phase 1 scores a segment's matches from their text score.
enum Signals {
    /// Text relevance alone.
    None,
    /// Times the products' kept signal factors (see [`super::factors`]).
    Kept(Arc<[f32]>),
    /// Through the scorer, reading the signals per match, times the custom signals' kept
    /// factors when there are some.
    Read(Arc<dyn FirstPhaseScorer>, Box<SegmentSignals>, Option<Arc<[f32]>>),
}

impl Signals {
    fn of(
        segment: &SegmentReader,
        scorer: &Arc<dyn FirstPhaseScorer>,
        factors: Option<&SegmentFactors>,
        engagement: &Option<Arc<EngagementColumns>>,
    ) -> Self {
        if !scorer.uses_signals() {
            return Signals::None;
        }
        let kept = factors.and_then(|f| f.get(&segment.segment_id())).cloned();
        if let Some(kept) = kept.clone().filter(|_| super::factors::separable(&**scorer)) {
            return Signals::Kept(kept);
        }
        let column = engagement.as_ref().and_then(|e| e.get(&segment.segment_id()).cloned());
        Signals::Read(scorer.clone(), Box::new(SegmentSignals::open(segment, true, column)), kept)
    }

    #[inline]
    fn score(&self, doc: tantivy::DocId, text: Score) -> Score {
        match self {
            Signals::None => text,
            Signals::Kept(factors) => with_factor(text, factors.get(doc as usize).copied().unwrap_or(1.0)),
            Signals::Read(scorer, signals, custom) => {
                let custom = custom.as_ref().and_then(|c| c.get(doc as usize)).copied().unwrap_or(1.0);
                scorer.score(&signals.rank_features(doc, text)) * custom
            }
        }
    }
}

/// Phase 1's score of a segment's matches: the signals', times the rules' boosts and buries,
/// and near a shopper times the best offer's [`near_factor`](searchd_catalog::near::near_factor).
struct Phase1 {
    signals: Signals,
    boosts: Option<SegmentBoosts>,
    near: Option<Arc<SegmentNear>>,
}

impl Phase1 {
    #[inline]
    fn score(&self, doc: tantivy::DocId, text: Score) -> Score {
        let mut score = self.signals.score(doc, text);
        if let Some(boosts) = &self.boosts {
            score *= boosts.factor(doc);
        }
        if let Some(best) = self.near.as_ref().and_then(|n| n.best(doc)) {
            score *= searchd_catalog::near::near_factor(best.key.distance_km) as f32;
        }
        score
    }
}

/// Sort key per document: the sort keys' values, then relevance; by relevance alone when there
/// are no keys. Tantivy keeps the largest keys.
fn sort_key_fn(
    segment: &SegmentReader,
    keys: Arc<Keys>,
    signals: Phase1,
    near: Option<&NearDocs>,
) -> impl Fn(tantivy::DocId, Score) -> SortKey + 'static + use<> {
    let by_relevance = keys.is_empty();
    let near = near.and_then(|n| n.get(&segment.segment_id())).cloned();
    let keys = SegmentKeys::open(segment, &keys, near);
    move |doc, text| {
        let score = signals.score(doc, text);
        if by_relevance {
            // With `distinct`: groups are ranked by their best product's score.
            let mut only = [f64::NEG_INFINITY; searchd_catalog::MAX_SORT_KEYS];
            only[0] = f64::from(score);
            return (only, score);
        }
        keys.key(doc, score)
    }
}

/// The text relevance behind a phase-1 score: the collector does not keep it, so explain
/// inverts the scorer (text-only scorers pass it through; the default scorer multiplies it by
/// the signals' factor, or ranks by signals alone when nothing matched by text); `custom` is the
/// custom signals' factor.
pub(super) fn text_of(
    first: &dyn FirstPhaseScorer,
    phase1: Score,
    seg: &SegmentSignals,
    address: DocAddress,
    custom: f64,
) -> Score {
    if !first.uses_signals() {
        return phase1;
    }
    let unit = first.score(&seg.rank_features(address.doc_id, 1.0)) * custom as f32;
    if unit > 0.0 { phase1 / unit } else { phase1 }
}
