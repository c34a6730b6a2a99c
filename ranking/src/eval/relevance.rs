//! Relevance metrics with the protocol of the Home Depot data set's README:
//! gain = relevance − 1; DCG = Σ gain_i / log2(i + 1), i from 1; the ideal is the query's judged
//! products sorted by gain, top 10; queries whose ideal DCG is 0 are left out of the nDCG means
//! (not of recall); Recall@100 is micro-averaged over pairs with relevance ≥ 2.5.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Graded judgments: query → product id → relevance (1 to 3 in the Home Depot set).
#[derive(Debug, Clone, Default)]
pub struct Judgments {
    by_query: BTreeMap<String, HashMap<String, f64>>,
}

impl Judgments {
    /// Grades `product_id` for `query` (a later grade replaces an earlier one).
    pub fn insert(&mut self, query: &str, product_id: &str, relevance: f64) {
        self.by_query.entry(query.to_string()).or_default().insert(product_id.to_string(), relevance);
    }

    /// Each query with its graded products.
    pub fn queries(&self) -> impl Iterator<Item = (&str, &HashMap<String, f64>)> {
        self.by_query.iter().map(|(q, j)| (q.as_str(), j))
    }

    /// Queries with at least one grade.
    pub fn num_queries(&self) -> usize {
        self.by_query.len()
    }

    /// The judgments of the queries `keep` accepts.
    pub fn subset(&self, keep: impl Fn(&str) -> bool) -> Judgments {
        Judgments {
            by_query: self.by_query.iter().filter(|(q, _)| keep(q)).map(|(q, j)| (q.clone(), j.clone())).collect(),
        }
    }

    /// These judgments, plus `fallback`'s for the queries these do not judge (human grades over
    /// click-derived ones, say).
    pub fn or(&self, fallback: &Judgments) -> Judgments {
        let mut by_query = self.by_query.clone();
        for (q, j) in &fallback.by_query {
            by_query.entry(q.clone()).or_insert_with(|| j.clone());
        }
        Judgments { by_query }
    }

    /// The relevance of one pair, when judged.
    pub fn get(&self, query: &str, product_id: &str) -> Option<f64> {
        self.by_query.get(query)?.get(product_id).copied()
    }

    /// (query, product) pairs graded.
    pub fn num_pairs(&self) -> usize {
        self.by_query.values().map(HashMap::len).sum()
    }
}

/// Metrics of one query's ranked list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QueryMetrics {
    /// `None` when the ideal DCG is 0 (every judged product has relevance 1).
    pub ndcg_condensed: Option<f64>,
    /// nDCG with unjudged results counted as not relevant; `None` as above.
    pub ndcg_strict: Option<f64>,
    /// Pairs with relevance ≥ 2.5 found in the list.
    pub recall_hits: usize,
    /// Pairs with relevance ≥ 2.5.
    pub recall_total: usize,
}

const RECALL_THRESHOLD: f64 = 2.5;

fn dcg(gains: impl Iterator<Item = f64>, k: usize) -> f64 {
    gains.take(k).enumerate().map(|(i, g)| g / ((i + 2) as f64).log2()).sum()
}

/// Scores one ranked list (best first; the engine's top 100) against the query's judgments,
/// with nDCG cut at `k` (10 in the protocol).
pub fn evaluate_query(ranked: &[String], judged: &HashMap<String, f64>, k: usize) -> QueryMetrics {
    let gain = |rel: f64| rel - 1.0;
    let mut ideal: Vec<f64> = judged.values().map(|r| gain(*r)).collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let ideal = dcg(ideal.into_iter(), k);
    let (ndcg_condensed, ndcg_strict) = if ideal > 0.0 {
        let condensed = dcg(ranked.iter().filter_map(|id| judged.get(id)).map(|r| gain(*r)), k);
        let strict = dcg(ranked.iter().map(|id| judged.get(id).map_or(0.0, |r| gain(*r))), k);
        (Some(condensed / ideal), Some(strict / ideal))
    } else {
        (None, None)
    };
    let relevant: Vec<&String> = judged.iter().filter(|(_, r)| **r >= RECALL_THRESHOLD).map(|(id, _)| id).collect();
    let recall_hits = relevant.iter().filter(|id| ranked.contains(id)).count();
    QueryMetrics { ndcg_condensed, ndcg_strict, recall_hits, recall_total: relevant.len() }
}

/// Means over all evaluated queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RelevanceReport {
    /// Queries evaluated.
    pub queries: usize,
    /// Queries that count in the nDCG means (ideal DCG > 0).
    pub ndcg_queries: usize,
    /// Mean condensed nDCG@10.
    pub ndcg10_condensed: f64,
    /// Mean strict nDCG@10.
    pub ndcg10_strict: f64,
    /// Mean Recall@100 over pairs with relevance ≥ 2.5.
    pub recall100: f64,
}

impl RelevanceReport {
    /// The means of per-query metrics.
    pub fn from_metrics(metrics: &[QueryMetrics]) -> Self {
        let condensed: Vec<f64> = metrics.iter().filter_map(|m| m.ndcg_condensed).collect();
        let strict: Vec<f64> = metrics.iter().filter_map(|m| m.ndcg_strict).collect();
        let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
        let (hits, total) = metrics.iter().fold((0, 0), |(h, t), m| (h + m.recall_hits, t + m.recall_total));
        Self {
            queries: metrics.len(),
            ndcg_queries: condensed.len(),
            ndcg10_condensed: mean(&condensed),
            ndcg10_strict: mean(&strict),
            recall100: if total == 0 { 0.0 } else { hits as f64 / total as f64 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, f64)]) -> HashMap<String, f64> {
        pairs.iter().map(|(id, r)| ((*id).to_string(), *r)).collect()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn perfect_order_scores_one_and_condensed_skips_unjudged() {
        let j = judged(&[("a", 3.0), ("b", 2.0), ("c", 1.0)]);
        let m = evaluate_query(&ids(&["a", "b", "c"]), &j, 10);
        assert!((m.ndcg_condensed.unwrap() - 1.0).abs() < 1e-12);
        let m = evaluate_query(&ids(&["x", "a", "y", "b"]), &j, 10);
        assert!((m.ndcg_condensed.unwrap() - 1.0).abs() < 1e-12);
        assert!(m.ndcg_strict.unwrap() < 0.7);
    }

    #[test]
    fn hand_computed_dcg() {
        // gains 1, 2 in that order: DCG = 1/log2(2) + 2/log2(3); ideal = 2 + 1/log2(3).
        let j = judged(&[("a", 2.0), ("b", 3.0)]);
        let m = evaluate_query(&ids(&["a", "b"]), &j, 10);
        let expected = (1.0 + 2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg_strict.unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn all_irrelevant_queries_leave_the_ndcg_mean_but_not_recall() {
        let m1 = evaluate_query(&ids(&["a"]), &judged(&[("a", 1.0)]), 10);
        assert_eq!(m1.ndcg_condensed, None);
        let m2 = evaluate_query(&ids(&["b"]), &judged(&[("b", 3.0), ("c", 2.67)]), 10);
        assert_eq!((m2.recall_hits, m2.recall_total), (1, 2));
        let r = RelevanceReport::from_metrics(&[m1, m2]);
        assert_eq!((r.queries, r.ndcg_queries), (2, 1));
        assert!((r.recall100 - 0.5).abs() < 1e-12);
    }
}
