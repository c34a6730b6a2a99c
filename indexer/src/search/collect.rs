//! Collection: the top hits by phase 1 (the scorer runs inside Tantivy's collector over fast
//! fields) or by a sort key, the total, and the brand and category facets.

use std::collections::BTreeMap;
use std::sync::Arc;

use searchd_catalog::{FacetCount, FacetField, FirstPhaseScorer, SearchRequest, SortBy};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::Query;
use tantivy::schema::Facet;
use tantivy::{DocAddress, Score, Searcher, SegmentReader};

use crate::columns::{EngagementColumns, SegmentSignals};
use crate::{ProductIndex, Result};

/// Facet values returned per facet.
const FACET_VALUES: usize = 20;

impl ProductIndex {
    #[expect(clippy::type_complexity, reason = "private plumbing of collector fruits")]
    #[expect(clippy::too_many_arguments, reason = "private plumbing")]
    pub(super) fn collect(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        query: &dyn Query,
        scorer: &Arc<dyn FirstPhaseScorer>,
        offset: usize,
        limit: usize,
        engagement: Option<Arc<EngagementColumns>>,
    ) -> Result<(Vec<(Score, DocAddress)>, u64, BTreeMap<String, Vec<FacetCount>>)> {
        let scorer = scorer.clone();
        let sort = request.sort;
        let top = TopDocs::with_limit(limit).and_offset(offset).tweak_score(move |segment: &SegmentReader| {
            let column = engagement.as_ref().and_then(|e| e.get(&segment.segment_id()).cloned());
            sort_key_fn(segment, sort, scorer.clone(), column)
        });

        // A facet whose field holds no value in any segment counts to an empty list: skip its
        // collector, which would otherwise visit every matching document.
        let has_values = |field: tantivy::schema::Field| {
            searcher
                .segment_readers()
                .iter()
                .any(|s| s.inverted_index(field).is_ok_and(|index| index.terms().num_terms() > 0))
        };
        let category_root = request.filters.category_segments().map_or_else(Facet::root, Facet::from_path);
        let facet_collector = |field: FacetField| -> Option<FacetCollector> {
            if !request.facets.contains(&field) {
                return None;
            }
            let indexed = match field {
                FacetField::Brand => self.fields.brand,
                FacetField::Category => self.fields.category,
            };
            if !has_values(indexed) {
                return None;
            }
            let (name, root) = match field {
                FacetField::Brand => ("brand", Facet::root()),
                FacetField::Category => ("category", category_root.clone()),
            };
            let mut collector = FacetCollector::for_field(name);
            collector.add_facet(root);
            Some(collector)
        };
        let brand = facet_collector(FacetField::Brand);
        let category = facet_collector(FacetField::Category);
        let (top, total, brand, category) = searcher.search(query, &(top, Count, brand, category))?;

        let mut facets = BTreeMap::new();
        for field in &request.facets {
            facets.insert(field.as_str().to_string(), Vec::new());
        }
        if let Some(counts) = brand {
            facets.insert("brand".to_string(), facet_values(&counts, &Facet::root()));
        }
        if let Some(counts) = category {
            facets.insert("category".to_string(), facet_values(&counts, &category_root));
        }
        let top = top.into_iter().map(|((_, score), address)| (score, address)).collect();
        Ok((top, total as u64, facets))
    }
}

/// Sort key per document: (primary, relevance). Tantivy keeps the largest keys.
fn sort_key_fn(
    segment: &SegmentReader,
    sort: SortBy,
    scorer: Arc<dyn FirstPhaseScorer>,
    engagement: Option<Arc<[f32]>>,
) -> impl Fn(tantivy::DocId, Score) -> (f64, Score) + 'static + use<> {
    let uses_signals = scorer.uses_signals();
    let signals = SegmentSignals::open(segment, uses_signals || sort != SortBy::Relevance, engagement);
    move |doc, text| {
        let score = if uses_signals { scorer.score(&signals.rank_features(doc, text)) } else { text };
        let primary = match sort {
            SortBy::Relevance => f64::from(score),
            // Missing values sort last in both directions.
            SortBy::PriceAsc => signals.price.get(doc).map_or(f64::NEG_INFINITY, |p| -p),
            SortBy::PriceDesc => signals.price.get(doc).unwrap_or(f64::NEG_INFINITY),
            SortBy::Rating => signals.rating.get(doc).unwrap_or(f64::NEG_INFINITY),
            SortBy::Newest => signals.updated.get(doc).map_or(f64::NEG_INFINITY, |t| t as f64),
        };
        (primary, score)
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

fn facet_values(counts: &tantivy::collector::FacetCounts, root: &Facet) -> Vec<FacetCount> {
    let mut values: Vec<FacetCount> = counts
        .get(root.clone())
        .map(|(facet, count)| FacetCount {
            value: facet.to_path().last().map(|s| (*s).to_string()).unwrap_or_default(),
            count,
        })
        .collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(FACET_VALUES);
    values
}
