//! `searchd train-ranker`: assembles training data (the phase-1 top K of every judged query with
//! its phase-2 features, labeled by human grades and by click-through), trains the ranker, and
//! cross-validates it by query.

use std::sync::Arc;

use std::collections::HashMap;

use searchd_catalog::{Expansions, PrefixMode, Ranker, RankingMode, SearchRequest, SecondPhase};
use searchd_indexer::{Candidate, ProductIndex};
use searchd_models::{
    ExpansionExample, ExpansionOptions, LabeledCandidate, RankerModel, TrainOptions, TrainingQuery, learn_expansions,
    train_ranker,
};
use serde::Serialize;

use crate::Aggregates;
use crate::eval::{self, EvalOptions, EvalSummary, Judgments};

/// A query's phase-1 candidates with their features (independent of any learned model).
#[derive(Debug, Clone)]
pub struct QueryCandidates {
    /// The query text.
    pub query: String,
    /// Its phase-1 top K with their features.
    pub candidates: Vec<Candidate>,
}

/// The phase-1 top `ranker.window` of every query, with features; phase 1 searches the
/// `expansions` too when given.
pub fn candidates<'a>(
    index: &ProductIndex,
    base: &Ranker,
    expansions: Option<&Expansions>,
    queries: impl Iterator<Item = &'a str>,
) -> anyhow::Result<Vec<QueryCandidates>> {
    // Candidates come from phase 1 alone: the model being trained must not choose its own data.
    let expansions = expansions.filter(|e| !e.is_empty());
    let mut out = Vec::new();
    for query in queries {
        let request = SearchRequest {
            q: query.to_string(),
            per_page: 1,
            ranking: RankingMode::Phase1,
            ..SearchRequest::default()
        };
        let candidates = index.candidates(&request, base, expansions)?;
        out.push(QueryCandidates { query: query.to_string(), candidates });
    }
    Ok(out)
}

/// Grade from which a labeled product counts as relevant when learning expansions (two of three
/// Home Depot raters said relevant, or a click-through two thirds of the query's best).
pub const EXPANSION_MIN_GRADE: f64 = 2.33;

/// Learns query expansions from labeled queries: their stemmed words and the stemmed titles of
/// the products graded at least [`EXPANSION_MIN_GRADE`]. `None` options: no expansions.
pub fn expansions(
    index: &ProductIndex,
    labels: &Judgments,
    options: Option<&ExpansionOptions>,
) -> anyhow::Result<Expansions> {
    let Some(options) = options else { return Ok(Expansions::default()) };
    let mut titles: HashMap<String, Vec<String>> = HashMap::new();
    let mut examples = Vec::with_capacity(labels.num_queries());
    for (query, judged) in labels.queries() {
        let mut relevant_titles = Vec::new();
        for (id, _) in judged.iter().filter(|(_, grade)| **grade >= EXPANSION_MIN_GRADE) {
            // A judged product no longer in the index has no title to learn from.
            let stems = titles.entry(id.clone()).or_insert_with(|| match index.get(id) {
                Ok(p) => index.stems(&p.title, p.language.as_deref()),
                Err(_) => Vec::new(),
            });
            relevant_titles.push(stems.clone());
        }
        examples.push(ExpansionExample { words: index.stems(query, None), relevant_titles });
    }
    Ok(learn_expansions(&examples, |stem| index.title_share(stem), options))
}

/// Smallest position-weighted impressions a (query, product) needs before its click-through is
/// trusted as a label.
pub const MIN_LABEL_IMPRESSIONS: f64 = 10.0;

/// Grades derived from clicks: for every query with at least two products shown
/// [`MIN_LABEL_IMPRESSIONS`] times (position-weighted), each such product gets
/// `1 + 2 × ctr / best ctr of the query` — the same 1–3 scale as the human grades, so both
/// can train one model. The click-through is the position-bias corrected, smoothed one.
pub fn click_judgments(aggregates: &Aggregates) -> Judgments {
    let mut judgments = Judgments::default();
    for (query, rows) in aggregates.click_table() {
        let trusted: Vec<_> = rows.iter().filter(|r| r.impressions >= MIN_LABEL_IMPRESSIONS).collect();
        let best = trusted.iter().map(|r| r.click_through).fold(0.0, f64::max);
        if trusted.len() < 2 || best <= 0.0 {
            continue;
        }
        for row in trusted {
            judgments.insert(&query, &row.product_id, 1.0 + 2.0 * row.click_through / best);
        }
    }
    judgments
}

/// Labels each query's candidates: the judged ones by their grade and, when
/// `options.unjudged_label` is set, up to `options.max_unjudged_per_query` unjudged ones, spread
/// evenly over the window, with that label.
pub fn label(all: &[QueryCandidates], judgments: &Judgments, options: &TrainOptions) -> Vec<TrainingQuery> {
    all.iter()
        .map(|q| {
            let mut candidates = Vec::new();
            let mut unjudged = Vec::new();
            for c in &q.candidates {
                match judgments.get(&q.query, &c.id) {
                    Some(label) => candidates.push(LabeledCandidate { features: c.features, label: label as f32 }),
                    None => unjudged.push(c),
                }
            }
            if let (Some(label), false) = (options.unjudged_label, candidates.is_empty()) {
                let keep = options.max_unjudged_per_query.min(unjudged.len());
                candidates.extend(
                    (0..keep)
                        .map(|i| LabeledCandidate { features: unjudged[i * unjudged.len() / keep].features, label }),
                );
            }
            TrainingQuery { query: q.query.clone(), candidates }
        })
        .filter(|q| q.candidates.len() >= 2)
        .collect()
}

/// The fold (0‥folds) a query belongs to: a stable hash of its text, so folds are the same on
/// every run and machine.
pub fn fold_of(query: &str, folds: usize) -> usize {
    // FNV-1a.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in query.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % folds.max(1) as u64) as usize
}

/// One fold of a cross-validation: the model trained on the other folds, evaluated on this one
/// through the serving path, beside phase 1 alone and plain BM25 on the same queries.
#[derive(Debug, Clone, Serialize)]
pub struct FoldReport {
    /// The fold's number, from 0.
    pub fold: usize,
    /// Queries the model of this fold was trained on.
    pub train_queries: usize,
    /// Pairs it was trained on.
    pub train_pairs: usize,
    /// The learned ranking on this fold's queries.
    pub learned: EvalSummary,
    /// Phase 1 alone on them.
    pub phase1: EvalSummary,
    /// Plain BM25 on them.
    pub bm25: EvalSummary,
}

#[derive(Debug, Clone, Serialize)]
/// A k-fold cross-validation by query.
pub struct CrossValidation {
    /// Each fold.
    pub folds: Vec<FoldReport>,
    /// The learned ranking's means over folds.
    pub mean_learned: Means,
    /// Phase 1's means over folds.
    pub mean_phase1: Means,
    /// BM25's means over folds.
    pub mean_bm25: Means,
}

/// Means over folds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Means {
    /// Mean condensed nDCG@k.
    pub ndcg10_condensed: f64,
    /// Mean strict nDCG@k.
    pub ndcg10_strict: f64,
    /// Mean Recall@100.
    pub recall100: f64,
    /// Mean p99 latency, milliseconds.
    pub p99_ms: f64,
}

impl Means {
    fn of<'a>(runs: impl Iterator<Item = &'a EvalSummary> + Clone) -> Self {
        let n = runs.clone().count().max(1) as f64;
        let mean = |f: fn(&EvalSummary) -> f64| runs.clone().map(f).sum::<f64>() / n;
        Self {
            ndcg10_condensed: mean(|s| s.ndcg10_condensed),
            ndcg10_strict: mean(|s| s.ndcg10_strict),
            recall100: mean(|s| s.recall100),
            p99_ms: mean(|s| s.p99_ms),
        }
    }
}

/// Learns expansions from `labels`, draws the candidates of their queries with them, and trains
/// the ranker on those candidates.
pub fn train(
    index: &ProductIndex,
    base: &Ranker,
    labels: &Judgments,
    options: &TrainOptions,
    expansion: Option<&ExpansionOptions>,
    sources: Vec<String>,
) -> anyhow::Result<RankerModel> {
    let expansions = expansions(index, labels, expansion)?;
    let all = candidates(index, base, Some(&expansions), labels.queries().map(|(q, _)| q))?;
    let mut model = train_ranker(&label(&all, labels, options), options)?;
    model.training.sources = sources;
    model.expansions = expansions;
    Ok(model)
}

/// K-fold cross-validation by query: for each fold, trains on the other folds' `labels` (human
/// and, when given, click-derived; expansions and ranker both) and evaluates the fold's
/// `judgments` through the serving path.
#[expect(clippy::too_many_arguments, reason = "one call site, the CLI")]
pub fn cross_validate(
    index: &ProductIndex,
    base: &Ranker,
    labels: &Judgments,
    judgments: &Judgments,
    folds: usize,
    options: &TrainOptions,
    expansion: Option<&ExpansionOptions>,
    k: usize,
    mut progress: impl FnMut(&FoldReport),
) -> anyhow::Result<CrossValidation> {
    anyhow::ensure!(folds >= 2, "--folds must be at least 2");
    let mut reports = Vec::with_capacity(folds);
    for fold in 0..folds {
        let training = labels.subset(|q| fold_of(q, folds) != fold);
        let model = train(index, base, &training, options, expansion, Vec::new())?;
        let test = judgments.subset(|q| fold_of(q, folds) == fold);
        let evaluate = |ranker: &Ranker, ranking: RankingMode| -> anyhow::Result<EvalSummary> {
            Ok(eval::run(
                index,
                ranker,
                &test,
                &EvalOptions { k, ranking, facets: false, prefix: PrefixMode::default(), correct: true },
            )?
            .summary)
        };
        let learned = base.clone().with_second(Some(Arc::new(model.clone()) as Arc<dyn SecondPhase>));
        let report = FoldReport {
            fold: fold + 1,
            train_queries: model.training.queries,
            train_pairs: model.training.pairs,
            learned: evaluate(&learned, RankingMode::Default)?,
            phase1: evaluate(base, RankingMode::Phase1)?,
            bm25: evaluate(base, RankingMode::Bm25)?,
        };
        progress(&report);
        reports.push(report);
    }
    Ok(CrossValidation {
        mean_learned: Means::of(reports.iter().map(|r| &r.learned)),
        mean_phase1: Means::of(reports.iter().map(|r| &r.phase1)),
        mean_bm25: Means::of(reports.iter().map(|r| &r.bm25)),
        folds: reports,
    })
}
