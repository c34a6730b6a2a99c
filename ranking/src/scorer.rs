use searchd_catalog::{FirstPhaseScorer, RankFeatures, bayesian_average};
use serde::{Deserialize, Serialize};

/// Weights of the business signals in phase 1. Each signal multiplies the text score by a
/// bounded factor, so a product without signals keeps its text score exactly and signals reorder
/// close text matches rather than overriding relevance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Factor per unit of `ln(1 + popularity)`.
    pub popularity: f64,
    /// Weight of the Bayesian-averaged rating's distance from the prior (per star).
    pub rating: f64,
    /// Prior mean rating (stars) the average is pulled towards.
    pub rating_prior: f64,
    /// How many reviews the prior is worth.
    pub rating_prior_reviews: f64,
    /// Factor applied to out-of-stock products.
    pub out_of_stock: f64,
    /// Extra factor for a product updated today, halving every `freshness_half_life_days`.
    pub freshness: f64,
    pub freshness_half_life_days: f64,
}

impl Default for RankingConfig {
    fn default() -> Self {
        Self {
            popularity: 0.05,
            rating: 0.08,
            rating_prior: 3.5,
            rating_prior_reviews: 10.0,
            out_of_stock: 0.6,
            freshness: 0.05,
            freshness_half_life_days: 90.0,
        }
    }
}

impl RankingConfig {
    pub fn validate(&self) -> Result<(), String> {
        let non_negative = [
            ("popularity", self.popularity),
            ("rating", self.rating),
            ("rating_prior_reviews", self.rating_prior_reviews),
            ("freshness", self.freshness),
        ];
        for (name, v) in non_negative {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("ranking.{name} must be a finite number ≥ 0"));
            }
        }
        if !(0.0..=5.0).contains(&self.rating_prior) {
            return Err("ranking.rating_prior must be between 0 and 5".into());
        }
        if !(0.0..=1.0).contains(&self.out_of_stock) {
            return Err("ranking.out_of_stock must be between 0 and 1".into());
        }
        if self.freshness_half_life_days.is_nan() || self.freshness_half_life_days <= 0.0 {
            return Err("ranking.freshness_half_life_days must be > 0".into());
        }
        Ok(())
    }
}

/// The default phase-1 scorer: text relevance × popularity × rating × stock × freshness.
#[derive(Debug, Clone)]
pub struct DefaultScorer {
    config: RankingConfig,
}

impl DefaultScorer {
    pub fn new(config: RankingConfig) -> Self {
        Self { config }
    }

    /// The rating pulled towards the prior by the number of reviews.
    pub fn bayesian_rating(&self, rating: f64, reviews: u64) -> f64 {
        let c = &self.config;
        let n = reviews as f64;
        bayesian_average(rating, n, c.rating_prior, c.rating_prior_reviews)
    }

    /// The factor the business signals apply to the text score (1 without signals).
    pub fn signal_factor(&self, f: &RankFeatures) -> f64 {
        let c = &self.config;
        let mut factor = 1.0 + c.popularity * f.popularity.max(0.0).ln_1p();
        if let Some(rating) = f.rating {
            let reviews = f.review_count.max(1);
            factor *= (1.0 + c.rating * (self.bayesian_rating(rating, reviews) - c.rating_prior)).max(0.1);
        }
        if !f.in_stock {
            factor *= c.out_of_stock;
        }
        if let Some(age) = f.age_days {
            factor *= 1.0 + c.freshness * 0.5f64.powf(age.max(0.0) / c.freshness_half_life_days);
        }
        factor
    }
}

impl FirstPhaseScorer for DefaultScorer {
    fn score(&self, features: &RankFeatures) -> f32 {
        // Products matched by no text (an empty query lists everything) are ordered by signals.
        let text = if features.text > 0.0 { f64::from(features.text) } else { 1.0 };
        (text * self.signal_factor(features)) as f32
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn features() -> impl Strategy<Value = RankFeatures> {
        (
            0.01f32..50.0,
            0.0f64..1e6,
            proptest::option::of(0.0f64..=5.0),
            0u64..10_000,
            any::<bool>(),
            proptest::option::of(0.0f64..3650.0),
        )
            .prop_map(|(text, popularity, rating, review_count, in_stock, age_days)| RankFeatures {
                text,
                popularity,
                rating,
                review_count,
                in_stock,
                age_days,
            })
    }

    proptest! {
        #[test]
        fn more_text_relevance_never_ranks_lower(f in features(), extra in 0.0f32..10.0) {
            let s = DefaultScorer::new(RankingConfig::default());
            let better = RankFeatures { text: f.text + extra, ..f };
            prop_assert!(s.score(&better) >= s.score(&f));
        }

        #[test]
        fn more_popularity_never_ranks_lower(f in features(), extra in 0.0f64..1e6) {
            let s = DefaultScorer::new(RankingConfig::default());
            let better = RankFeatures { popularity: f.popularity + extra, ..f };
            prop_assert!(s.score(&better) >= s.score(&f));
        }

        #[test]
        fn in_stock_never_ranks_lower(f in features()) {
            let s = DefaultScorer::new(RankingConfig::default());
            let stocked = RankFeatures { in_stock: true, ..f };
            let out = RankFeatures { in_stock: false, ..f };
            prop_assert!(s.score(&stocked) >= s.score(&out));
            prop_assert!(s.score(&f).is_finite() && s.score(&f) > 0.0);
        }
    }

    #[test]
    fn few_reviews_are_pulled_to_the_prior() {
        let s = DefaultScorer::new(RankingConfig::default());
        assert!(s.bayesian_rating(5.0, 1) < s.bayesian_rating(4.8, 500));
        assert!((s.bayesian_rating(5.0, 0) - 3.5).abs() < 1e-9);
    }
}
