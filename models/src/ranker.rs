//! The phase-2 ranker: `score = Σ wᵢ · (xᵢ − meanᵢ) / scaleᵢ` over the rank features.
//!
//! Why this model: judgments grade a handful of products per query on a query-relative scale,
//! and phase 2 only has to order one query's top K, so the objective is pairwise (RankNet /
//! RankSVM style): for two products of one query with different grades, the probability that the
//! better one scores higher is `σ(w · (x_better − x_worse))`, fitted by L2-regularized logistic
//! regression (linfa-logistic, L-BFGS) on the feature differences, without intercept. The result
//! is linear: scoring K = 100 candidates is 100 dot products of 27 numbers (microseconds, far
//! inside the 1 ms budget), every score splits exactly into per-feature contributions for
//! `explain=true`, and with ~10⁵ pairs it trains in seconds and does not overfit 27 weights.
//! Non-linear effects are given to it as features (shares, indicators, logs) rather than learned.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use searchd_catalog::{Expansions, FEATURE_NAMES, FeatureContribution, FeatureVector, NUM_FEATURES, SecondPhase};
use serde::{Deserialize, Serialize};

use crate::store::{Artifact, ArtifactStore};
use crate::{Error, Result};

/// Artifact format written by this build.
const FORMAT: u32 = 1;

/// One candidate of a training query: its features (as phase 2 computes them at query time)
/// and its graded label (higher is better; Home Depot grades 1–3).
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledCandidate {
    /// Its phase-2 features.
    pub features: FeatureVector,
    /// Its grade.
    pub label: f32,
}

#[derive(Debug, Clone, PartialEq)]
/// One query's candidates, as training reads them.
pub struct TrainingQuery {
    /// The query text.
    pub query: String,
    /// Its phase-1 candidates with their labels.
    pub candidates: Vec<LabeledCandidate>,
}

#[derive(Debug, Clone, PartialEq)]
/// How [`train_ranker`] trains.
pub struct TrainOptions {
    /// L2 penalty of the logistic regression.
    pub alpha: f64,
    /// Two candidates form a pair only when their labels differ by at least this much (one
    /// rater's step on Home Depot's three-rater mean is 1/3).
    pub min_label_gap: f32,
    /// Pairs taken per query at most, so queries with many judged products do not dominate.
    pub max_pairs_per_query: usize,
    /// Iterations of the solver at most.
    pub max_iterations: u64,
    /// The label of a candidate nobody graded, when unjudged candidates train too (the pooling
    /// assumption of TREC: what the judges were not shown is not relevant); `None` leaves them out.
    pub unjudged_label: Option<f32>,
    /// Unjudged candidates kept per query at most, spread evenly over the window.
    pub max_unjudged_per_query: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            min_label_gap: 0.3,
            max_pairs_per_query: 64,
            max_iterations: 200,
            unjudged_label: Some(1.0),
            max_unjudged_per_query: 48,
        }
    }
}

/// What a model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Queries with at least one pair.
    pub queries: usize,
    /// Candidates of those queries.
    pub candidates: usize,
    /// Pairs trained on.
    pub pairs: usize,
    /// Where the labels came from, e.g. `judgments-dev.csv.gz` and `events`.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The L2 penalty used.
    pub alpha: f64,
}

/// A trained ranker, as saved in the data dir.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankerModel {
    /// The artifact's format; a build loads only its own.
    pub format: u32,
    /// `v000001`, …; set by [`RankerStore::save`].
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    /// When it was trained (RFC 3339).
    pub created_at: time::OffsetDateTime,
    /// The feature names at training time; a model is only loaded by a build with the same.
    pub features: Vec<String>,
    /// Each feature's mean over the training pairs (standardization).
    pub mean: Vec<f32>,
    /// Each feature's standard deviation (1 when constant).
    pub scale: Vec<f32>,
    /// Each standardized feature's weight.
    pub weights: Vec<f32>,
    /// What it was trained on.
    pub training: TrainingInfo,
    /// Learned query expansions ([`learn_expansions`]); phase 1 searches them too.
    #[serde(default, skip_serializing_if = "Expansions::is_empty")]
    pub expansions: Expansions,
}

impl RankerModel {
    fn standardized<'a>(&'a self, features: &'a FeatureVector) -> impl Iterator<Item = f32> + 'a {
        features.iter().zip(self.mean.iter().zip(&self.scale)).map(|(x, (m, s))| (x - m) / s)
    }

    /// Checks that the model fits this build's features and holds finite numbers.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format {} (this build reads {FORMAT})", self.format));
        }
        if self.features != FEATURE_NAMES {
            return Err("trained on other features than this build computes; retrain it".into());
        }
        for (name, v) in [("mean", &self.mean), ("scale", &self.scale), ("weights", &self.weights)] {
            if v.len() != NUM_FEATURES || !v.iter().all(|x| x.is_finite()) {
                return Err(format!("`{name}` must hold {NUM_FEATURES} finite numbers"));
            }
        }
        if self.scale.iter().any(|s| *s <= 0.0) {
            return Err("`scale` must be positive".into());
        }
        Ok(())
    }
}

impl SecondPhase for RankerModel {
    fn version(&self) -> &str {
        &self.version
    }

    #[inline]
    fn score(&self, features: &FeatureVector) -> f32 {
        self.standardized(features).zip(&self.weights).map(|(z, w)| z * w).sum()
    }

    fn contributions(&self, features: &FeatureVector) -> Vec<FeatureContribution> {
        let mut out: Vec<FeatureContribution> = self
            .standardized(features)
            .zip(&self.weights)
            .zip(features)
            .zip(FEATURE_NAMES)
            .map(|(((z, w), x), name)| FeatureContribution { name: name.to_string(), value: *x, contribution: z * w })
            .collect();
        out.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        out
    }

    fn expansions(&self) -> Option<&Expansions> {
        (!self.expansions.is_empty()).then_some(&self.expansions)
    }
}

/// What [`learn_expansions`] keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionOptions {
    /// Queries with the word whose relevant products carry the title word, at least.
    pub min_queries: usize,
    /// …and as a share of the queries with the word, at least.
    pub min_share: f32,
    /// How much likelier the title word is among those products than in the catalog, at least.
    pub min_lift: f64,
    /// Expansions per word at most, strongest first.
    pub max_per_word: usize,
}

impl Default for ExpansionOptions {
    fn default() -> Self {
        Self { min_queries: 2, min_share: 0.2, min_lift: 20.0, max_per_word: 5 }
    }
}

/// One labeled query for [`learn_expansions`]: its stemmed words and the stemmed title words of
/// each product graded relevant for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionExample {
    /// The query's stemmed words.
    pub words: Vec<String>,
    /// The stemmed title words of each relevant product.
    pub relevant_titles: Vec<Vec<String>>,
}

/// Learns query-word → title-word expansions from labeled queries. A query "votes" for title word
/// `v` with the share of its relevant products whose title holds `v` (and not the query); `v`
/// expands query word `w` when the votes of the queries containing `w`, as a share of those
/// queries, reach `min_share`, at least `min_queries` of them voted, and that share is at least
/// `min_lift` times `doc_share(v)` (the share of products whose title holds `v`). A translation
/// table from queries to titles, as search logs give "behavioural synonyms"; the weight is that
/// share, ties broken by lift.
pub fn learn_expansions(
    examples: &[ExpansionExample],
    doc_share: impl Fn(&str) -> f64,
    options: &ExpansionOptions,
) -> Expansions {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let mut queries_with: HashMap<&str, usize> = HashMap::new();
    // (votes, voting queries) per query word and title word.
    let mut together: HashMap<&str, HashMap<&str, (f64, usize)>> = HashMap::new();
    let mut carried: HashMap<&str, usize> = HashMap::new();
    for example in examples {
        let words: BTreeSet<&str> = example.words.iter().map(String::as_str).collect();
        carried.clear();
        for title in &example.relevant_titles {
            let distinct: BTreeSet<&str> = title.iter().map(String::as_str).filter(|v| !words.contains(v)).collect();
            for v in distinct {
                *carried.entry(v).or_default() += 1;
            }
        }
        let relevant = example.relevant_titles.len().max(1) as f64;
        for &w in &words {
            *queries_with.entry(w).or_default() += 1;
            let row = together.entry(w).or_default();
            for (&v, &n) in &carried {
                let cell = row.entry(v).or_default();
                cell.0 += n as f64 / relevant;
                cell.1 += 1;
            }
        }
    }
    let mut out = BTreeMap::new();
    for (w, row) in together {
        let n = queries_with[w] as f64;
        let mut kept: Vec<(String, f32, f64)> = row
            .into_iter()
            .filter_map(|(v, (votes, voters))| {
                let share = votes / n;
                let lift = share / doc_share(v).max(f64::MIN_POSITIVE);
                (voters >= options.min_queries && share >= f64::from(options.min_share) && lift >= options.min_lift)
                    .then(|| (v.to_string(), share as f32, lift))
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        kept.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.2.total_cmp(&a.2)).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(options.max_per_word);
        out.insert(w.to_string(), kept.into_iter().map(|(v, share, _)| (v, share)).collect());
    }
    Expansions { words: out }
}

/// Learns a ranker from labeled queries (see the module documentation for the model).
pub fn train_ranker(queries: &[TrainingQuery], options: &TrainOptions) -> Result<RankerModel> {
    let rows: Vec<&FeatureVector> = queries.iter().flat_map(|q| q.candidates.iter().map(|c| &c.features)).collect();
    if rows.is_empty() {
        return Err(Error::Training("no labeled candidates".into()));
    }
    let n = rows.len() as f64;
    let mut mean = [0f64; NUM_FEATURES];
    let mut var = [0f64; NUM_FEATURES];
    for row in &rows {
        for (m, x) in mean.iter_mut().zip(row.iter()) {
            *m += f64::from(*x) / n;
        }
    }
    for row in &rows {
        for ((v, m), x) in var.iter_mut().zip(&mean).zip(row.iter()) {
            *v += (f64::from(*x) - m).powi(2) / n;
        }
    }
    // A constant feature (no events yet, say) keeps scale 1: its differences are 0 anyway.
    let scale: Vec<f32> = var.iter().map(|v| if *v > 1e-12 { v.sqrt() as f32 } else { 1.0 }).collect();
    let mean: Vec<f32> = mean.iter().map(|m| *m as f32).collect();
    let z = |x: &FeatureVector| -> Vec<f64> {
        x.iter().zip(mean.iter().zip(&scale)).map(|(x, (m, s))| f64::from((x - m) / s)).collect()
    };

    let mut records: Vec<f64> = Vec::new();
    let mut targets: Vec<bool> = Vec::new();
    let mut flip = false;
    let mut pairs_of_query: Vec<(usize, usize, u64)> = Vec::new();
    for q in queries {
        pairs_of_query.clear();
        for (i, a) in q.candidates.iter().enumerate() {
            for (j, b) in q.candidates.iter().enumerate().skip(i + 1) {
                if (a.label - b.label).abs() >= options.min_label_gap {
                    pairs_of_query.push((i, j, mix(i as u64, j as u64)));
                }
            }
        }
        // More pairs than the cap: a fixed pseudo-random subset, not the first ones in rank order.
        if pairs_of_query.len() > options.max_pairs_per_query {
            pairs_of_query.sort_unstable_by_key(|p| p.2);
            pairs_of_query.truncate(options.max_pairs_per_query);
        }
        for &(i, j, _) in &pairs_of_query {
            let (a, b) = (&q.candidates[i], &q.candidates[j]);
            let (better, worse) = if a.label > b.label { (a, b) } else { (b, a) };
            // Alternate orientations so both classes are present and balanced.
            let (first, second) = if flip { (worse, better) } else { (better, worse) };
            records.extend(z(&first.features).iter().zip(z(&second.features)).map(|(x, y)| x - y));
            targets.push(!flip);
            flip = !flip;
        }
    }
    let pairs = targets.len();
    if pairs < 2 {
        return Err(Error::Training(format!("{pairs} labeled pairs; need candidates with different grades")));
    }
    let records = Array2::from_shape_vec((pairs, NUM_FEATURES), records)
        .map_err(|e| Error::Training(format!("pair matrix: {e}")))?;
    let dataset = Dataset::new(records, Array1::from(targets));
    let fitted = LogisticRegression::default()
        .with_intercept(false)
        .alpha(options.alpha)
        .max_iterations(options.max_iterations)
        .fit(&dataset)
        .map_err(|e| Error::Training(format!("logistic regression: {e}")))?;
    // linfa picks which class is "positive"; orient the weights so that `true` (first better) is.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    let weights: Vec<f32> = fitted.params().iter().map(|w| (sign * w) as f32).collect();
    let model = RankerModel {
        format: FORMAT,
        version: String::new(),
        created_at: time::OffsetDateTime::now_utc(),
        features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
        mean,
        scale,
        weights,
        training: TrainingInfo {
            queries: queries.iter().filter(|q| !q.candidates.is_empty()).count(),
            candidates: rows.len(),
            pairs,
            sources: Vec::new(),
            alpha: options.alpha,
        },
        expansions: Expansions::default(),
    };
    model.check().map_err(Error::Training)?;
    Ok(model)
}

/// A fixed 64-bit mix of two numbers (splitmix64's finalizer), to pick pairs reproducibly.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.wrapping_add(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Versioned ranker artifacts: `ranker-000001.json`, … (see [`ArtifactStore`]).
pub type RankerStore = ArtifactStore<RankerModel>;

impl Artifact for RankerModel {
    const PREFIX: &'static str = "ranker";

    fn set_version(&mut self, version: String) {
        self.version = version;
    }

    fn check(&self) -> std::result::Result<(), String> {
        RankerModel::check(self)
    }

    /// A model trained before features were added (its names are the first of this build's)
    /// scores them with weight 0: it ranks as it did until it is trained again.
    fn upgraded(mut self) -> Self {
        let known = self.features.len();
        let same_lengths = [self.mean.len(), self.scale.len(), self.weights.len()].iter().all(|n| *n == known);
        if known < NUM_FEATURES && same_lengths && self.features.iter().zip(FEATURE_NAMES).all(|(a, b)| a == b) {
            self.features.extend(FEATURE_NAMES[known..].iter().map(|s| s.to_string()));
            self.mean.resize(NUM_FEATURES, 0.0);
            self.scale.resize(NUM_FEATURES, 1.0);
            self.weights.resize(NUM_FEATURES, 0.0);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use searchd_catalog::feature_index;

    use super::*;

    fn candidate(values: &[(&str, f32)], label: f32) -> LabeledCandidate {
        let mut features: FeatureVector = [0.0; NUM_FEATURES];
        for (name, v) in values {
            features[feature_index(name).unwrap()] = *v;
        }
        LabeledCandidate { features, label }
    }

    /// Labels driven by coverage, with BM25 as noise: the model must weigh coverage up.
    fn synthetic() -> Vec<TrainingQuery> {
        (0..200)
            .map(|q| TrainingQuery {
                query: format!("q{q}"),
                candidates: (0..6)
                    .map(|i| {
                        let coverage = ((q * 7 + i * 3) % 5) as f32 / 4.0;
                        let noise = ((q * 13 + i * 11) % 7) as f32;
                        candidate(&[("coverage", coverage), ("bm25_title", noise)], 1.0 + 2.0 * coverage)
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn learns_which_feature_orders_the_labels() {
        let model = train_ranker(&synthetic(), &TrainOptions::default()).unwrap();
        let w = |name| model.weights[feature_index(name).unwrap()];
        assert!(w("coverage") > 1.0, "{:?}", model.weights);
        assert!(w("coverage") > 10.0 * w("bm25_title").abs(), "{:?}", model.weights);
        let better = candidate(&[("coverage", 1.0)], 0.0);
        let worse = candidate(&[("coverage", 0.25), ("bm25_title", 6.0)], 0.0);
        assert!(model.score(&better.features) > model.score(&worse.features));
        let parts = model.contributions(&better.features);
        let sum: f32 = parts.iter().map(|c| c.contribution).sum();
        assert!((sum - model.score(&better.features)).abs() < 1e-4);
        assert_eq!(parts[0].name, "coverage");
    }

    #[test]
    fn expansions_are_title_words_of_relevant_products_rare_in_the_catalog() {
        let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        let example = |q: &str, titles: &[&str]| ExpansionExample {
            words: words(q),
            relevant_titles: titles.iter().map(|t| words(t)).collect(),
        };
        let examples = [
            example("fridge white", &["samsung refrigerator white", "lg refrigerator steel"]),
            example("fridge 30", &["whirlpool refrigerator 30", "lg refrigerator white"]),
            example("fridge", &["samsung refrigerator steel"]),
            example("white paint", &["behr paint white"]),
        ];
        // "white" and "steel" are in many titles; "refrigerator", "samsung", "lg" and "whirlpool" rare.
        let share = |v: &str| if matches!(v, "white" | "steel") { 0.2 } else { 0.001 };
        let e = learn_expansions(&examples, share, &ExpansionOptions::default());
        let fridge = e.get("fridge");
        assert_eq!(fridge[0], ("refrigerator".to_string(), 1.0), "{e:?}");
        assert!(fridge.iter().all(|(v, _)| v != "white" && v != "steel"), "common words: {fridge:?}");
        // "whirlpool" voted by one query only; "samsung" by two, half their products each.
        assert!(fridge.iter().all(|(v, _)| v != "whirlpool"), "{fridge:?}");
        assert!(fridge.iter().any(|(v, w)| v == "samsung" && (*w - 0.5).abs() < 1e-6), "{fridge:?}");
        assert!(e.get("paint").is_empty(), "one query is not enough: {e:?}");
    }

    #[test]
    fn no_pairs_is_an_error() {
        let same =
            vec![TrainingQuery { query: "q".into(), candidates: vec![candidate(&[], 2.0), candidate(&[], 2.0)] }];
        assert!(matches!(train_ranker(&same, &TrainOptions::default()), Err(Error::Training(_))));
    }

    #[test]
    fn the_store_versions_keeps_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let store = RankerStore::new(dir.path().join("ranker"), 2);
        assert!(store.load_current().unwrap().is_none());
        let model = train_ranker(&synthetic(), &TrainOptions::default()).unwrap();
        let first = store.save(model.clone()).unwrap();
        assert_eq!(first.version, "v000001");
        store.save(model.clone()).unwrap();
        let third = store.save(model).unwrap();
        assert_eq!(store.versions().unwrap(), [2, 3]);
        assert_eq!(store.load_current().unwrap().unwrap(), third);

        std::fs::write(store.dir().join("ranker-000003.json"), b"{\"format\":1").unwrap();
        assert!(matches!(store.load_current(), Err(Error::Artifact { .. })));
        let mut wrong = third.clone();
        wrong.features.pop();
        std::fs::write(store.dir().join("ranker-000003.json"), serde_json::to_vec(&wrong).unwrap()).unwrap();
        let err = store.load_current().unwrap_err().to_string();
        assert!(err.contains("retrain"), "{err}");
    }

    #[test]
    fn a_model_of_fewer_features_loads_with_the_new_ones_weighed_zero() {
        let dir = tempfile::tempdir().unwrap();
        let store = RankerStore::new(dir.path().join("ranker"), 2);
        let model = train_ranker(&synthetic(), &TrainOptions::default()).unwrap();
        let saved = store.save(model).unwrap();
        let mut older = saved.clone();
        for v in [&mut older.mean, &mut older.scale, &mut older.weights] {
            v.pop();
        }
        older.features.pop();
        std::fs::write(store.dir().join("ranker-000001.json"), serde_json::to_vec(&older).unwrap()).unwrap();
        let loaded = store.load_current().unwrap().unwrap();
        assert_eq!(loaded.features, FEATURE_NAMES);
        assert_eq!(loaded.weights[NUM_FEATURES - 1], 0.0);
        let mut x = candidate(&[("coverage", 0.5), ("bm25_title", 3.0)], 0.0).features;
        let before = loaded.score(&x);
        x[NUM_FEATURES - 1] = 7.0;
        assert_eq!(loaded.score(&x), before, "the new feature is weighed zero");
        // Names that are not this build's first ones are still refused.
        older.features[0] = "something_else".into();
        std::fs::write(store.dir().join("ranker-000001.json"), serde_json::to_vec(&older).unwrap()).unwrap();
        assert!(store.load_current().unwrap_err().to_string().contains("retrain"));
    }
}
