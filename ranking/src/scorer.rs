use searchd_catalog::{FirstPhaseScorer, RankFeatures, ScoreComponent, TextWeights, bayesian_average, with_factor};
use serde::{Deserialize, Serialize};

/// Weights of the business signals in phase 1. Each signal multiplies the text score by a
/// bounded factor, so a product without signals keeps its text score exactly and signals reorder
/// close text matches rather than overriding relevance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Factor per unit of `ln(1 + popularity)` (the catalog's declared popularity).
    pub popularity: f64,
    /// Factor per unit of `ln(1 + engagement)`, the time-decayed popularity from behaviour
    /// events (a purchase counts 10, an add-to-cart 6, a click 3, a view 1 by default).
    pub engagement: f64,
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
    /// The freshness bonus halves every this many days.
    pub freshness_half_life_days: f64,
    /// `[ranking.text]`: field and match-kind weights of the text score.
    pub text: TextWeights,
}

impl Default for RankingConfig {
    fn default() -> Self {
        Self {
            popularity: 0.05,
            engagement: 0.1,
            rating: 0.08,
            rating_prior: 3.5,
            rating_prior_reviews: 10.0,
            out_of_stock: 0.6,
            freshness: 0.05,
            freshness_half_life_days: 90.0,
            text: TextWeights::default(),
        }
    }
}

impl RankingConfig {
    /// Every weight finite and in range; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let non_negative = [
            ("popularity", self.popularity),
            ("engagement", self.engagement),
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
        self.text.validate()
    }
}

/// The default phase-1 scorer: text relevance × popularity × rating × stock × freshness.
#[derive(Debug, Clone)]
pub struct DefaultScorer {
    config: RankingConfig,
}

impl DefaultScorer {
    /// The scorer with these weights.
    pub fn new(config: RankingConfig) -> Self {
        Self { config }
    }

    /// The rating pulled towards the prior by the number of reviews.
    pub fn bayesian_rating(&self, rating: f64, reviews: u64) -> f64 {
        let c = &self.config;
        let n = reviews as f64;
        bayesian_average(rating, n, c.rating_prior, c.rating_prior_reviews)
    }

    /// Each business signal's factor on the text score (all 1 without signals).
    pub fn factors(&self, f: &RankFeatures) -> [(&'static str, f64, f64); 5] {
        let c = &self.config;
        let rating = f.rating.map(|rating| self.bayesian_rating(rating, f.review_count.max(1)));
        [
            ("popularity", f.popularity, 1.0 + c.popularity * f.popularity.max(0.0).ln_1p()),
            ("engagement", f.engagement, 1.0 + c.engagement * f.engagement.max(0.0).ln_1p()),
            (
                "rating",
                rating.unwrap_or(f64::NAN),
                rating.map_or(1.0, |r| (1.0 + c.rating * (r - c.rating_prior)).max(0.1)),
            ),
            ("in_stock", f64::from(u8::from(f.in_stock)), if f.in_stock { 1.0 } else { c.out_of_stock }),
            (
                "freshness",
                f.age_days.unwrap_or(f64::NAN),
                f.age_days
                    .map_or(1.0, |age| 1.0 + c.freshness * 0.5f64.powf(age.max(0.0) / c.freshness_half_life_days)),
            ),
        ]
    }

    /// The factor the business signals apply to the text score (1 without signals).
    pub fn signal_factor(&self, f: &RankFeatures) -> f64 {
        self.factors(f).iter().map(|(_, _, factor)| factor).product()
    }

    /// Products matched by no text (an empty query lists everything) are ordered by signals.
    fn text(features: &RankFeatures) -> f64 {
        if features.text > 0.0 { f64::from(features.text) } else { 1.0 }
    }
}

impl FirstPhaseScorer for DefaultScorer {
    fn text_weights(&self) -> TextWeights {
        self.config.text
    }

    fn score(&self, features: &RankFeatures) -> f32 {
        with_factor(features.text, self.signal_factor(features) as f32)
    }

    fn signal_factor(&self, features: &RankFeatures) -> Option<f32> {
        Some(DefaultScorer::signal_factor(self, features) as f32)
    }

    fn explain(&self, features: &RankFeatures) -> Vec<ScoreComponent> {
        let mut out = vec![ScoreComponent { name: "text".into(), value: Self::text(features), factor: 1.0 }];
        for (name, value, factor) in self.factors(features) {
            // Absent signals (no rating, unknown age) are reported as 0 with factor 1.
            let value = if value.is_nan() { 0.0 } else { value };
            out.push(ScoreComponent { name: name.into(), value, factor });
        }
        out
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
                engagement: popularity / 2.0,
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
        fn more_engagement_never_ranks_lower(f in features(), extra in 0.0f64..1e6) {
            let s = DefaultScorer::new(RankingConfig::default());
            let better = RankFeatures { engagement: f.engagement + extra, ..f };
            prop_assert!(s.score(&better) >= s.score(&f));
        }

        #[test]
        fn explained_factors_multiply_to_the_score(f in features()) {
            let s = DefaultScorer::new(RankingConfig::default());
            let product: f64 = s.explain(&f).iter().map(|c| if c.name == "text" { c.value } else { c.factor }).product();
            prop_assert!((product as f32 - s.score(&f)).abs() <= 1e-4 * s.score(&f).max(1.0));
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
