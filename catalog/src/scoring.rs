/// The values phase 1 sees for one matching document: its text relevance and the business
/// signals read from fast fields (no stored-document load).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RankFeatures {
    /// Text relevance from retrieval (weighted BM25 over exact, stemmed and typo matches).
    pub text: f32,
    pub popularity: f64,
    /// Average rating, or `None` when the product has none.
    pub rating: Option<f64>,
    pub review_count: u64,
    pub in_stock: bool,
    /// Age of the last update in days, or `None` when unknown.
    pub age_days: Option<f64>,
}

/// The phase-1 scoring function the indexer's collector calls for every matching document.
///
/// Defined here so that `indexer` (which runs it inside Tantivy's collector) and `ranking`
/// (which implements it) never depend on each other.
pub trait FirstPhaseScorer: Send + Sync + std::fmt::Debug {
    /// Whether [`score`](Self::score) reads the business signals; when `false` the collector
    /// skips the fast-field reads and passes only `text`.
    fn uses_signals(&self) -> bool {
        true
    }

    fn score(&self, features: &RankFeatures) -> f32;
}

/// Text relevance only: the score is the retrieval score unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOnlyScorer;

impl FirstPhaseScorer for TextOnlyScorer {
    fn uses_signals(&self) -> bool {
        false
    }

    fn score(&self, features: &RankFeatures) -> f32 {
        features.text
    }
}

/// A mean pulled towards a prior by how much evidence backs it: `prior` counts as
/// `prior_weight` observations beside the `count` observed ones (a Bayesian average, as rating
/// sites rank items with few reviews).
pub fn bayesian_average(mean: f64, count: f64, prior: f64, prior_weight: f64) -> f64 {
    (prior * prior_weight + mean * count) / (prior_weight + count).max(f64::EPSILON)
}
