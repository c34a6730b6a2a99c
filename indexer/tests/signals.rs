//! Phase 1 keeps each product's signal factor per segment: the scores it gives are the ones the
//! scorer gives reading every match's signals, before and after engagement changes.

use std::sync::Arc;

use proptest::prelude::*;
use searchd_catalog::{FirstPhaseScorer, Product, RankFeatures, Ranker, ScoreComponent, SearchRequest, TextWeights};
use searchd_indexer::{IndexConfig, ProductIndex};
use searchd_ranking::{DefaultScorer, RankingConfig};

/// The default scorer without its factor: phase 1 reads each match's signals.
#[derive(Debug)]
struct PerMatch(DefaultScorer);

impl FirstPhaseScorer for PerMatch {
    fn score(&self, features: &RankFeatures) -> f32 {
        self.0.score(features)
    }

    fn explain(&self, features: &RankFeatures) -> Vec<ScoreComponent> {
        self.0.explain(features)
    }

    fn text_weights(&self) -> TextWeights {
        self.0.text_weights()
    }
}

fn hits(index: &ProductIndex, ranker: &Ranker, q: &str) -> Vec<(String, f32)> {
    let request = SearchRequest { q: q.into(), per_page: 100, ..SearchRequest::default() };
    index.search(&request, ranker).unwrap().hits.into_iter().map(|h| (h.product.id, h.score)).collect()
}

fn product() -> impl Strategy<Value = (u8, f64, Option<f64>, u64, bool, Option<i64>)> {
    (
        0u8..4,
        0.0f64..1e4,
        proptest::option::of(0.0f64..=5.0),
        0u64..500,
        any::<bool>(),
        proptest::option::of(0i64..2_000),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn kept_factors_score_as_the_scorer_does(
        products in proptest::collection::vec(product(), 1..40),
        engagement in proptest::collection::vec(0.0f32..500.0, 40),
    ) {
        let words = ["cordless drill", "drill bit", "hammer drill", "garden hose"];
        let index = ProductIndex::in_memory(IndexConfig::small()).unwrap();
        let now = time::OffsetDateTime::now_utc();
        for (i, (w, popularity, rating, reviews, in_stock, age)) in products.iter().enumerate() {
            let mut p = Product::new(format!("p{i}"), words[*w as usize]);
            p.popularity = *popularity;
            p.rating = *rating;
            p.review_count = *reviews;
            p.in_stock = *in_stock;
            p.updated_at = age.map(|days| now - time::Duration::days(days));
            index.apply_prepared(vec![index.prepare(p).unwrap()]).unwrap();
            if i % 7 == 6 {
                index.commit().unwrap(); // several segments
            }
        }
        index.commit().unwrap();
        let scorer = DefaultScorer::new(RankingConfig::default());
        let kept = Ranker::first_phase(Arc::new(scorer.clone()));
        let per_match = Ranker::first_phase(Arc::new(PerMatch(scorer)));
        for round in 0..3 {
            if round > 0 {
                // New engagement: the kept factors are computed again.
                let values = (0..products.len()).map(|i| (format!("p{i}"), engagement[(i + round) % 40])).collect();
                index.set_engagement(values).unwrap();
            }
            for q in ["drill", "hose", ""] {
                prop_assert_eq!(hits(&index, &kept, q), hits(&index, &per_match, q), "{:?} in round {}", q, round);
            }
        }
    }
}
