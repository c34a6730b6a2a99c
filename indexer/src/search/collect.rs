//! Collection: the top hits by phase 1 (the scorer runs inside Tantivy's collector over fast
//! fields) or by a sort key (or each group's best, with `distinct`), the total, and the facets
//! counted with the hits.

use std::sync::Arc;

use searchd_catalog::{FirstPhaseScorer, SearchRequest};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::Query;
use tantivy::{DocAddress, Score, Searcher, SegmentReader};

use super::distinct::{Distinct, KeyFn};
use super::facets::{FacetsCollector, FacetsFruit, Spec};
use super::gate::Gated;
use super::sort::{Keys, SegmentKeys, SortKey};
use crate::columns::{EngagementColumns, SegmentSignals};
use crate::settings::Served;
use crate::{ProductIndex, Result};

impl ProductIndex {
    /// The top hits of `query` (`offset`, `limit`) by phase 1 or the sort key, the total, and
    /// the facets `facets` counts in the same pass. With `gates` (not with `distinct`), `query`
    /// is without the clauses on disjunctive facets, which the gates check per document, and the
    /// disjunctive facets are counted in the same pass too (see [`super::gate`]).
    #[expect(clippy::too_many_arguments, reason = "private plumbing")]
    #[expect(clippy::type_complexity, reason = "private plumbing of collector fruits")]
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
        gates: Option<(&[super::gate::Gate], &[(Spec, Vec<usize>)])>,
    ) -> Result<(
        Vec<(Score, DocAddress)>,
        u64,
        Option<(FacetsCollector, FacetsFruit)>,
        Vec<(FacetsCollector, FacetsFruit)>,
    )> {
        let scorer = scorer.clone();
        let keys = Arc::new(self.sort_keys(request, served)?);
        if let Some(column) = self.distinct_column(request, served)? {
            let key_fn = move |segment: &SegmentReader| -> KeyFn {
                let column = engagement.as_ref().and_then(|e| e.get(&segment.segment_id()).cloned());
                Box::new(sort_key_fn(segment, keys.clone(), scorer.clone(), column))
            };
            let collectors = (Distinct { column, key_fn }, facets);
            let (groups, fruit) = searcher.search(query, &collectors)?;
            let total = groups.len() as u64;
            let top = groups.into_iter().skip(offset).take(limit).map(|(key, address)| (key.1, address)).collect();
            return Ok((top, total, collectors.1.zip(fruit), Vec::new()));
        }
        let top = TopDocs::with_limit(limit).and_offset(offset).tweak_score(move |segment: &SegmentReader| {
            let column = engagement.as_ref().and_then(|e| e.get(&segment.segment_id()).cloned());
            sort_key_fn(segment, keys.clone(), scorer.clone(), column)
        });
        let collectors = (top, Count, facets);
        let ((top, total, fruit), facets, disjunctive) = match gates {
            None => (searcher.search(query, &collectors)?, collectors.2, Vec::new()),
            Some((gates, specs)) => {
                let mut gated = Gated::new(collectors, searcher, gates, specs, &self.facet_columns)?;
                let (fruits, disjunctive) = searcher.search(query, &gated)?;
                let facets = gated.inner.2.take();
                (fruits, facets, gated.into_facets().into_iter().zip(disjunctive).collect())
            }
        };
        let top = top.into_iter().map(|((_, score), address)| (score, address)).collect();
        Ok((top, total as u64, facets.zip(fruit), disjunctive))
    }
}

/// Sort key per document: the sort keys' values, then relevance; by relevance alone when there
/// are no keys. Tantivy keeps the largest keys.
fn sort_key_fn(
    segment: &SegmentReader,
    keys: Arc<Keys>,
    scorer: Arc<dyn FirstPhaseScorer>,
    engagement: Option<Arc<[f32]>>,
) -> impl Fn(tantivy::DocId, Score) -> SortKey + 'static + use<> {
    let uses_signals = scorer.uses_signals();
    let signals = SegmentSignals::open(segment, uses_signals, engagement);
    let by_relevance = keys.is_empty();
    let keys = SegmentKeys::open(segment, &keys);
    move |doc, text| {
        let score = if uses_signals { scorer.score(&signals.rank_features(doc, text)) } else { text };
        if by_relevance {
            let mut only = [f64::NEG_INFINITY; searchd_catalog::MAX_SORT_KEYS];
            only[0] = f64::from(score);
            return (only, score);
        }
        keys.key(doc, score)
    }
}

/// The text relevance behind a phase-1 score: the collector does not keep it, so explain
/// inverts the scorer (text-only scorers pass it through; the default scorer multiplies it by
/// the signals' factor, or ranks by signals alone when nothing matched by text).
pub(super) fn text_of(first: &dyn FirstPhaseScorer, phase1: Score, seg: &SegmentSignals, address: DocAddress) -> Score {
    if !first.uses_signals() {
        return phase1;
    }
    let unit = first.score(&seg.rank_features(address.doc_id, 1.0));
    if unit > 0.0 { phase1 / unit } else { phase1 }
}
