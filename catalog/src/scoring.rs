use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The values phase 1 sees for one matching document: its text relevance and the business
/// signals read from fast fields (no stored-document load).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RankFeatures {
    /// Text relevance from retrieval (weighted BM25 over exact, stemmed and typo matches).
    pub text: f32,
    /// Popularity the catalog feed declares.
    pub popularity: f64,
    /// Time-decayed popularity learned from behaviour events (views, clicks, carts, purchases).
    pub engagement: f64,
    /// Average rating, or `None` when the product has none.
    pub rating: Option<f64>,
    /// Reviews behind `rating`.
    pub review_count: u64,
    /// Whether the product can be bought now.
    pub in_stock: bool,
    /// Age of the last update in days, or `None` when unknown.
    pub age_days: Option<f64>,
}

/// One named part of a phase-1 score, for `explain=true`: the signal's input and the factor it
/// multiplied the score by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreComponent {
    /// `text` or the signal's name.
    pub name: String,
    /// The signal's input (0 when absent).
    pub value: f64,
    /// What it multiplied the score by.
    pub factor: f64,
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

    /// The phase-1 score of one matching product.
    fn score(&self, features: &RankFeatures) -> f32;

    /// When the score is [`with_factor`]`(text, factor)` with a factor of the business signals
    /// alone: that factor. Phase 1 then computes it once per product and keeps it per segment
    /// (segments never change), so a search reads one number per match instead of five columns.
    /// `None` (the default) scores every match through [`score`](Self::score).
    fn signal_factor(&self, _features: &RankFeatures) -> Option<f32> {
        None
    }

    /// The factors behind [`score`](Self::score), in the order they apply.
    fn explain(&self, features: &RankFeatures) -> Vec<ScoreComponent> {
        vec![ScoreComponent { name: "text".into(), value: f64::from(features.text), factor: 1.0 }]
    }

    /// How the text score that [`score`](Self::score) receives is built: field and match-kind
    /// weights of the query.
    fn text_weights(&self) -> TextWeights {
        TextWeights::default()
    }
}

/// Phase 1's text weights: how much a match in each field, and each kind of match, counts.
/// The defaults were measured on the Home Depot dev judgments (nDCG@10 condensed); they are set
/// in `[ranking.text]` and reach the query builder through [`FirstPhaseScorer::text_weights`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TextWeights {
    /// A word in the title.
    pub title: f32,
    /// A word in the brand.
    pub brand: f32,
    /// A word in the category path (by stem).
    pub category: f32,
    /// A word in the description.
    pub description: f32,
    /// A stemmed-only match counts this share of an exact one.
    pub stemmed: f32,
    /// A typo match (title or brand) scores this constant. Only rare words are expanded, and a
    /// rare word's exact match earns about 3 × its IDF (≈ 10 for one product in 50k), so exact
    /// stays well above typo while a corrected word still counts like a real match. Measured:
    /// 1.2 → 0.730, 4 → 0.738, 9 → 0.740.
    pub typo: f32,
    /// Two adjacent query words found joined as one title word. Measured (phase 1): none
    /// 0.7408, 2 → 0.7451, 3 → 0.7454, 4 → 0.7438, 6 → 0.7378 (a joined match then outweighs
    /// matching the words themselves).
    pub joined: f32,
    /// A word found in the title's product type (its head), on top of its own match: a
    /// constant, so a one-word head does not outscore a longer one, nor a stemmed match an exact
    /// one. Measured (phase 1): none 0.7454, 0.5 → 0.7465, 1 → 0.7471, 2 → 0.7479, 3 → 0.7477.
    pub head: f32,
    /// A learned expansion of a query word found in the title, times the expansion's weight
    /// (0–1). 5-fold cross-validation (learned ranking): 0.3 → 0.7599, 1 → 0.7639, 2 → 0.7610.
    pub expansion: f32,
    /// DisMax tie breaker: 0 scores each word by its best match only (exact, stemmed, typo or
    /// another field), so one word matched three ways does not outrank two words matched once.
    pub tie: f32,
    /// The last word matched as the start of a title or brand word (`prefix=last`): a
    /// constant, below what a whole word earns, so whole-word matches rank first. Measured
    /// (phase 1, the dev judgments' finished queries): prefix off 0.7472, 1 → 0.7475, 2 →
    /// 0.7476, 4 → 0.7478, 8 → 0.7481; 2 keeps a whole match of a common word (BM25 × title
    /// weight, about 3 and up) above a prefix-only one.
    pub prefix: f32,
    /// A declared synonym of a query word (settings' `synonyms`) counts this share of the word
    /// itself, field by field: the word as typed ranks first.
    pub synonym: f32,
}

impl Default for TextWeights {
    fn default() -> Self {
        Self {
            title: 3.0,
            brand: 2.0,
            category: 1.5,
            description: 1.0,
            stemmed: 0.95,
            typo: 9.0,
            joined: 3.0,
            head: 2.0,
            expansion: 1.0,
            tie: 0.0,
            prefix: 2.0,
            synonym: 0.9,
        }
    }
}

impl TextWeights {
    /// These weights with `overrides` (by name, as in `[ranking.text]`) in their place, checked;
    /// the error names the key (`weights.titel: …`).
    pub fn with_overrides(&self, overrides: &std::collections::BTreeMap<String, f32>) -> Result<Self, String> {
        let mut out = *self;
        for (name, &value) in overrides {
            let slot = match name.as_str() {
                "title" => &mut out.title,
                "brand" => &mut out.brand,
                "category" => &mut out.category,
                "description" => &mut out.description,
                "stemmed" => &mut out.stemmed,
                "typo" => &mut out.typo,
                "joined" => &mut out.joined,
                "head" => &mut out.head,
                "expansion" => &mut out.expansion,
                "tie" => &mut out.tie,
                "prefix" => &mut out.prefix,
                "synonym" => &mut out.synonym,
                _ => {
                    return Err(format!(
                        "weights.{name}: not a text weight (title, brand, category, description, stemmed, typo, joined, head, expansion, tie, prefix, synonym)"
                    ));
                }
            };
            *slot = value;
            out.validate().map_err(|e| format!("weights.{name}: {}", e.replace("ranking.text.", "")))?;
        }
        Ok(out)
    }

    /// Every weight finite and ≥ 0, the stemmed share and the tie breaker at most 1; the message
    /// names the key.
    pub fn validate(&self) -> Result<(), String> {
        let all = [
            ("title", self.title),
            ("brand", self.brand),
            ("category", self.category),
            ("description", self.description),
            ("stemmed", self.stemmed),
            ("typo", self.typo),
            ("joined", self.joined),
            ("head", self.head),
            ("expansion", self.expansion),
            ("tie", self.tie),
            ("prefix", self.prefix),
            ("synonym", self.synonym),
        ];
        if let Some((name, _)) = all.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
            return Err(format!("ranking.text.{name} must be a finite number ≥ 0"));
        }
        if self.stemmed > 1.0 || self.tie > 1.0 || self.synonym > 1.0 {
            return Err("ranking.text.stemmed, ranking.text.tie and ranking.text.synonym must be at most 1".into());
        }
        Ok(())
    }
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

/// A separable scorer's score (see [`FirstPhaseScorer::signal_factor`]): the text relevance,
/// taken as 1 when nothing matched by text (an empty query lists everything by its signals),
/// times the signals' factor.
#[inline]
pub fn with_factor(text: f32, factor: f32) -> f32 {
    (if text > 0.0 { text } else { 1.0 }) * factor
}

/// A mean pulled towards a prior by how much evidence backs it: `prior` counts as
/// `prior_weight` observations beside the `count` observed ones (a Bayesian average, as rating
/// sites rank items with few reviews).
pub fn bayesian_average(mean: f64, count: f64, prior: f64, prior_weight: f64) -> f64 {
    (prior * prior_weight + mean * count) / (prior_weight + count).max(f64::EPSILON)
}

/// The features phase 2 sees for one (query, product) pair, in this order. The indexer computes
/// them from postings, field norms and fast fields (no stored-document load); `models` learns
/// weights for them. Shares are over the query's words; BM25 values are Tantivy's, per field.
pub const FEATURE_NAMES: [&str; NUM_FEATURES] = [
    "phase1_score",
    "phase1_rank",
    "bm25_title",
    "bm25_title_stem",
    "bm25_brand",
    "bm25_category",
    "bm25_description",
    "bm25_description_stem",
    "exact_share",
    "stemmed_only_share",
    "typo_only_share",
    "coverage",
    "idf_coverage",
    "title_coverage",
    "all_words_matched",
    "last_word_in_title",
    "title_proximity",
    "title_starts_with_query",
    "title_length",
    "title_precision",
    "bm25_head",
    "head_coverage",
    "last_word_in_head",
    "expansion_coverage",
    "popularity",
    "rating",
    "reviews",
    "in_stock",
    "freshness",
    "engagement",
    "click_through",
    "custom_signals",
    "offer_nearness",
];
/// How many features phase 2 reads.
pub const NUM_FEATURES: usize = 33;

/// A (query, product) pair's phase-2 features, ordered as [`FEATURE_NAMES`].
pub type FeatureVector = [f32; NUM_FEATURES];

/// The position of a feature in [`FeatureVector`].
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURE_NAMES.iter().position(|n| *n == name)
}

/// One feature's part in a phase-2 score, for `explain=true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeatureContribution {
    /// The feature's name, one of [`FEATURE_NAMES`].
    pub name: String,
    /// Its value for this hit.
    pub value: f32,
    /// Its share of the model's score.
    pub contribution: f32,
}

/// The learned second phase: scores the top K of phase 1 from their feature vectors.
pub trait SecondPhase: Send + Sync + std::fmt::Debug {
    /// The model's version, shown by `explain=true` and the admin status.
    fn version(&self) -> &str;

    /// The model's score of one hit.
    fn score(&self, features: &FeatureVector) -> f32;

    /// Each feature's share of [`score`](Self::score), largest magnitude first.
    fn contributions(&self, features: &FeatureVector) -> Vec<FeatureContribution>;

    /// Title words the model learned to look for besides a query's own (searched by phase 1
    /// and counted by the `expansion_coverage` feature); none by default.
    fn expansions(&self) -> Option<&Expansions> {
        None
    }
}

/// Learned query expansions: for a query word (stemmed), title words (stemmed) that products
/// graded relevant for queries with that word carry far more often than the catalog does
/// ("fridge" → "refrigerator", "pvc" → "vinyl"), each with the share of such queries (0–1].
/// What search-log "behavioural synonyms" are, learned from graded or clicked results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expansions {
    /// Query word stem → (title word stem, weight), strongest first.
    pub words: std::collections::BTreeMap<String, Vec<(String, f32)>>,
}

impl Expansions {
    /// The expansions of one stemmed query word, strongest first.
    pub fn get(&self, stem: &str) -> &[(String, f32)] {
        self.words.get(stem).map_or(&[], Vec::as_slice)
    }

    /// Whether no word has an expansion.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Per-(query, product) behaviour that phase 2 reads: the position-bias corrected click-through.
pub trait ClickSignals: Send + Sync + std::fmt::Debug {
    /// The click-through of `product_id` for `query`, corrected for position bias; 0 when unknown.
    fn click_through(&self, query: &str, product_id: &str) -> f64;

    /// [`click_through`](Self::click_through) of each product: phase 2 asks for its whole
    /// window at once.
    fn click_throughs(&self, query: &str, product_ids: &[&str]) -> Vec<f64> {
        product_ids.iter().map(|id| self.click_through(query, id)).collect()
    }

    /// The click-through every product has for `query` when none was ever shown for it (the
    /// prior), so the window's products need not be looked up; `None` when some were.
    fn unshown(&self, _query: &str) -> Option<f64> {
        None
    }
}

/// How many phase-1 hits phase 2 re-ranks by default (Vespa's `rerank-count`).
pub const DEFAULT_RERANK_WINDOW: usize = 200;

/// Everything a search ranks with: the phase-1 function, the optional learned phase 2 with its
/// window, and click signals for its features.
#[derive(Debug, Clone)]
pub struct Ranker {
    /// Phase 1, run inside the collector.
    pub first: Arc<dyn FirstPhaseScorer>,
    /// The learned phase 2, when a model is loaded.
    pub second: Option<Arc<dyn SecondPhase>>,
    /// Click-through for phase 2's features.
    pub clicks: Option<Arc<dyn ClickSignals>>,
    /// Phase-1 hits phase 2 re-orders; hits beyond it keep their phase-1 order below.
    pub window: usize,
}

impl Ranker {
    /// Phase 1 only.
    pub fn first_phase(first: Arc<dyn FirstPhaseScorer>) -> Self {
        Self { first, second: None, clicks: None, window: DEFAULT_RERANK_WINDOW }
    }

    /// The same ranking with another phase 2 (`None`: phase 1 only).
    pub fn with_second(mut self, second: Option<Arc<dyn SecondPhase>>) -> Self {
        self.second = second;
        self
    }
}

/// Why a hit scored what it did (`explain=true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Explanation {
    /// How phase 1 scored the hit.
    pub phase1: Phase1Explanation,
    /// Absent when no learned model ranked this hit (none loaded, phase 2 off, or the hit lies
    /// beyond the re-rank window).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phase2: Option<Phase2Explanation>,
    /// How each query word matched the hit's title, brand, category or description.
    #[serde(default)]
    pub words: Vec<WordMatch>,
    /// The merchandising rules that moved the hit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleEffect>,
}

/// What a merchandising rule did to a hit, for `explain=true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleEffect {
    /// The rule's id.
    pub rule: String,
    /// `pin`, `boost` or `bury`.
    pub action: String,
    /// Where a pin put it (1 for the first hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// What a boost or bury multiplied its score by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

/// How one query word matched a hit: the best of its matches in the hit's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WordMatch {
    /// The word, folded as it was searched.
    pub word: String,
    /// Its best match.
    #[serde(rename = "match")]
    pub kind: MatchKind,
    /// With a `synonym` match: the synonym found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synonym: Option<String>,
}

/// Kinds of word match, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The word itself.
    Exact,
    /// A word of the same stem.
    Stem,
    /// A word within the typo budget.
    Typo,
    /// Only the start of a longer word (the last word, with `prefix=last`).
    Prefix,
    /// A declared synonym of the word (see the match's `synonym`).
    Synonym,
    /// Not in the hit's text (it matched elsewhere, or the hit came for other words).
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
/// Phase 1's part of an [`Explanation`].
pub struct Phase1Explanation {
    /// The phase-1 score.
    pub score: f32,
    /// Text relevance, then each signal's factor; their product is the score.
    pub components: Vec<ScoreComponent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
/// Phase 2's part of an [`Explanation`].
pub struct Phase2Explanation {
    /// The model that scored the hit.
    pub model_version: String,
    /// The model's score.
    pub score: f32,
    /// Standardized-feature × weight per feature; they sum to the score.
    pub features: Vec<FeatureContribution>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_are_unique_and_counted() {
        let mut names = FEATURE_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), NUM_FEATURES);
        assert_eq!(feature_index("offer_nearness"), Some(NUM_FEATURES - 1));
    }
}
