//! `searchd train-ranker`: the learned phase 2 from graded judgments and click events, with
//! k-fold cross-validation by query.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use searchd_api::Config;
use searchd_ranking::{eval, train};

/// `searchd train-ranker`.
#[derive(clap::Args, Debug)]
pub struct TrainRankerArgs {
    /// `query,product_uid,relevance` CSV (gzip or plain).
    #[arg(long, value_name = "FILE")]
    judgments: Option<PathBuf>,
    /// Also learn from the data dir's click events (position-bias corrected click-through).
    #[arg(long)]
    events: bool,
    /// Cross-validate by query with this many folds and print each fold before training
    /// the model on everything.
    #[arg(long)]
    folds: Option<usize>,
    /// Cross-validate only; save nothing.
    #[arg(long)]
    no_save: bool,
    /// L2 penalty of the logistic regression.
    #[arg(long, default_value_t = 1.0)]
    alpha: f64,
    /// Cut-off of the cross-validation's nDCG.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Also train on candidates nobody graded, with this grade (1 = not relevant); `none`
    /// trains on graded candidates only.
    #[arg(long, default_value = "1", value_name = "GRADE|none")]
    unjudged_label: String,
    /// Unjudged candidates per query at most (spread evenly over the window).
    #[arg(long, default_value_t = 48)]
    unjudged_per_query: usize,
    /// Do not learn query expansions (title words that come with a query word in relevant
    /// results) for phase 1 to search.
    #[arg(long)]
    no_expansions: bool,
}

/// Cross-validates when asked, then trains on everything and saves the next model version.
pub fn run(config: &Config, args: TrainRankerArgs) -> anyhow::Result<()> {
    let unjudged_label = match args.unjudged_label.as_str() {
        "none" => None,
        grade => Some(
            grade
                .parse::<f32>()
                .ok()
                .filter(|g| g.is_finite())
                .with_context(|| format!("--unjudged-label: `{grade}` is neither a grade nor `none`"))?,
        ),
    };
    let options = searchd_models::TrainOptions {
        alpha: args.alpha,
        unjudged_label,
        max_unjudged_per_query: args.unjudged_per_query,
        ..Default::default()
    };
    let expansion = (!args.no_expansions).then(searchd_models::ExpansionOptions::default);
    train_ranker(
        config,
        args.judgments.as_deref(),
        args.events,
        args.folds,
        args.no_save,
        options,
        expansion.as_ref(),
        args.k,
    )
}

#[expect(clippy::too_many_arguments, reason = "the flags of `searchd train-ranker`")]
fn train_ranker(
    config: &Config,
    judgments: Option<&Path>,
    use_events: bool,
    folds: Option<usize>,
    no_save: bool,
    options: searchd_models::TrainOptions,
    expansion: Option<&searchd_models::ExpansionOptions>,
    k: usize,
) -> anyhow::Result<()> {
    let (index, ranking) = crate::eval::open_index_and_ranking(config)?;
    if judgments.is_none() && !use_events {
        bail!("give --judgments FILE, --events, or both");
    }
    let base = searchd_catalog::Ranker::clone(&ranking.ranker()).with_second(None);
    let human = judgments.map(eval::load_judgments).transpose()?;
    let clicks = use_events.then(|| ranking.events.read(train::click_judgments));
    let mut sources = Vec::new();
    if let Some(path) = judgments {
        sources.push(path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()));
    }
    if let Some(c) = &clicks {
        println!("click-derived labels: {} queries, {} pairs", c.num_queries(), c.num_pairs());
        sources.push("events".to_string());
    }
    // Human grades win where both exist.
    let labels = match (&human, &clicks) {
        (Some(h), Some(c)) => h.or(c),
        (Some(j), None) | (None, Some(j)) => j.clone(),
        (None, None) => unreachable!("checked above"),
    };
    if let Some(folds) = folds {
        let Some(human) = &human else { bail!("--folds evaluates on --judgments; give them") };
        println!("{folds}-fold cross-validation by query (nDCG@{k} condensed / strict, Recall@100, p99 ms):");
        println!("fold  queries(train)  pairs    learned                       phase 1                       bm25");
        let row = |s: &eval::EvalSummary| {
            format!("{:.4} / {:.4} / {:.4} {:>6.3}", s.ndcg10_condensed, s.ndcg10_strict, s.recall100, s.p99_ms)
        };
        let cv = train::cross_validate(&index, &base, &labels, human, folds, &options, expansion, k, |f| {
            println!(
                "{:>4}  {:>14}  {:>6}   {}   {}   {}",
                f.fold,
                f.train_queries,
                f.train_pairs,
                row(&f.learned),
                row(&f.phase1),
                row(&f.bm25)
            );
        })?;
        let mean = |m: &train::Means| {
            format!("{:.4} / {:.4} / {:.4} {:>6.3}", m.ndcg10_condensed, m.ndcg10_strict, m.recall100, m.p99_ms)
        };
        println!(
            "mean                          {}   {}   {}",
            mean(&cv.mean_learned),
            mean(&cv.mean_phase1),
            mean(&cv.mean_bm25)
        );
        println!(
            "learned vs bm25: {:+.1}% nDCG@{k} condensed; vs phase 1: {:+.1}%",
            100.0 * (cv.mean_learned.ndcg10_condensed / cv.mean_bm25.ndcg10_condensed - 1.0),
            100.0 * (cv.mean_learned.ndcg10_condensed / cv.mean_phase1.ndcg10_condensed - 1.0)
        );
        println!("{}", serde_json::to_string(&cv)?);
    }
    if no_save {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let model = train::train(&index, &base, &labels, &options, expansion, sources)?;
    println!(
        "trained on the top {} of {} queries in {:.1} s; {} query words with learned expansions",
        base.window,
        labels.num_queries(),
        started.elapsed().as_secs_f64(),
        model.expansions.words.len()
    );
    let model = ranking.store().save(model)?;
    println!(
        "saved ranker {} ({} queries, {} pairs) in {}",
        model.version,
        model.training.queries,
        model.training.pairs,
        ranking.store().dir().display()
    );
    let mut weights: Vec<(&str, f32)> =
        model.features.iter().map(String::as_str).zip(model.weights.iter().copied()).collect();
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    println!("largest weights (per standard deviation):");
    for (name, w) in weights.iter().take(10) {
        println!("  {w:>+8.3}  {name}");
    }
    Ok(())
}
