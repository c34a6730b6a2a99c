//! Product search near a shopper: the documents [`NearOffers`](crate::NearOffers) found, per
//! product segment. The search keeps only them (a query clause, so facets count them alone
//! too), the sort keys `price` and `distance` read their best offer's, and each hit shows it.

use std::collections::HashMap;
use std::sync::Arc;

use searchd_catalog::near::SELLERS_FACET as SELLERS;
use searchd_catalog::{FacetCount, FacetField, FacetOrder, FacetRange, FacetStats, RangeCount, SearchRequest};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyError};

use super::facets::FacetResults;
use crate::NearOffers;
use crate::any_term::DocList;
use crate::offers::near::NearDocs;

/// The documents of a [`NearDocs`], at a constant score.
#[derive(Debug, Clone)]
pub(crate) struct NearQuery(pub(crate) Arc<NearDocs>);

impl Query for NearQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(NearWeight(self.0.clone())))
    }
}

struct NearWeight(Arc<NearDocs>);

impl NearWeight {
    fn docs(&self, reader: &SegmentReader) -> DocList {
        DocList::new(self.0.get(&reader.segment_id()).map(|s| s.docs.clone()).unwrap_or_default())
    }
}

impl Weight for NearWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ConstScorer::new(self.docs(reader), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(reader).seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("Document #({doc}) has no serving offer")));
        }
        Ok(Explanation::new("NearQuery", 1.0))
    }
}

/// The facets near a shopper counts from the offers: `vendor` (products per seller with a serving
/// offer meeting the offer conditions: what `offer.vendor_id = …` would keep) and `price` (the
/// best serving offer's, as `sort=price` reads it). Both over the search's own matches.
#[derive(Debug, Default)]
pub(super) struct NearFacets {
    sellers: bool,
    price: Option<Vec<FacetRange>>,
}

impl NearFacets {
    /// What `request` asks of the offers, and the request the rest of the facets are planned
    /// from (without `vendor`) when it differs.
    pub(super) fn split(request: &SearchRequest) -> (Self, Option<SearchRequest>) {
        let asked = |name: &str| {
            let named = |f: &FacetField| matches!(f, FacetField::Named(n) if n == name);
            request.facets.iter().any(named) || request.disjunctive.iter().any(named)
        };
        let price = asked("price").then(|| request.facet_ranges.get("price").cloned().unwrap_or_default());
        let near = Self { sellers: asked(SELLERS), price };
        if !near.sellers {
            return (near, None);
        }
        let mut rest = request.clone();
        let other = |f: &FacetField| !matches!(f, FacetField::Named(n) if n == SELLERS);
        rest.facets.retain(other);
        rest.disjunctive.retain(other);
        (near, Some(rest))
    }

    /// Counts over the matches of `query` and puts the results in `results` (the offers'
    /// `price` stats replace the products'; `stats_by` does not group them).
    pub(super) fn count(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        offers: &NearOffers,
        request: &SearchRequest,
        results: &mut FacetResults,
    ) -> crate::Result<()> {
        if !self.sellers && self.price.is_none() {
            return Ok(());
        }
        if self.sellers && !offers.keeps_sellers() {
            let reason = "the offers near the point were read without their sellers (OfferConditions::with_sellers)";
            return Err(crate::Error::Internal(reason.into()));
        }
        let ranges = self.price.clone().unwrap_or_default();
        let counter = NearCounter { docs: offers.docs() };
        let counted = searcher.search(query, &counter)?;
        if self.price.is_some() {
            let prices = &counted.prices;
            let stats = FacetStats {
                count: prices.len() as u64,
                min: prices.iter().copied().reduce(f64::min),
                max: prices.iter().copied().reduce(f64::max),
                sum: prices.iter().sum(),
                avg: (!prices.is_empty()).then(|| prices.iter().sum::<f64>() / prices.len() as f64),
                ranges: ranges
                    .iter()
                    .map(|r| RangeCount {
                        range: r.to_string(),
                        count: prices.iter().filter(|p| r.contains(**p)).count() as u64,
                    })
                    .collect(),
            };
            results.stats.insert("price".into(), stats);
            for group in results.grouped.values_mut() {
                group.remove("price");
            }
        }
        if self.sellers {
            let mut values: Vec<FacetCount> = counted
                .sellers
                .into_iter()
                .map(|(vendor, count)| FacetCount {
                    value: offers.vendor_id(vendor).to_string(),
                    count,
                    path: None,
                    children: Vec::new(),
                })
                .collect();
            match request.facet_order {
                FacetOrder::Count => values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value))),
                FacetOrder::Value => values.sort_by(|a, b| a.value.cmp(&b.value)),
            }
            values.truncate(request.max_values_per_facet);
            results.values.insert(SELLERS.into(), values);
        }
        Ok(())
    }
}

/// Reads each matching product's best offer: its price and its sellers.
struct NearCounter {
    docs: Arc<NearDocs>,
}

#[derive(Debug, Default)]
struct NearCounts {
    prices: Vec<f64>,
    sellers: HashMap<u32, u64>,
}

struct NearCounterSegment {
    near: Option<Arc<crate::offers::near::SegmentNear>>,
    counts: NearCounts,
}

impl Collector for NearCounter {
    type Fruit = NearCounts;
    type Child = NearCounterSegment;

    fn for_segment(&self, _: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<NearCounterSegment> {
        Ok(NearCounterSegment { near: self.docs.get(&reader.segment_id()).cloned(), counts: NearCounts::default() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<NearCounts>) -> tantivy::Result<NearCounts> {
        let mut all = NearCounts::default();
        for fruit in fruits {
            all.prices.extend(fruit.prices);
            for (vendor, count) in fruit.sellers {
                *all.sellers.entry(vendor).or_default() += count;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for NearCounterSegment {
    type Fruit = NearCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some(best) = self.near.as_ref().and_then(|n| n.best(doc)) else { return };
        self.counts.prices.push(best.key.price);
        for vendor in best.sellers() {
            *self.counts.sellers.entry(vendor).or_default() += 1;
        }
    }

    fn harvest(self) -> NearCounts {
        self.counts
    }
}
