//! `searchd eval`: relevance and latency on graded judgments, in process.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use searchd_api::Config;
use searchd_catalog::RankingMode;
use searchd_indexer::ProductIndex;
use searchd_ranking::Ranking;
use searchd_ranking::eval::{self, EvalOptions};

/// How many of the query log's most searched queries `--settings` replays.
const LOGGED: usize = 200;

/// `searchd eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    #[arg(long, value_name = "FILE")]
    judgments: PathBuf,
    /// Cut-off of nDCG.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// `default`: phase 1 and the trained model from the data dir when there is one;
    /// `phase1`: without the model; `bm25`: plain BM25 on the text fields only.
    #[arg(long, default_value = "default", value_parser = ["default", "phase1", "bm25"])]
    ranking: String,
    /// Also count brand and category facets for every query.
    #[arg(long)]
    facets: bool,
    /// `last` (the default, as the HTTP API): the last word also matches as a prefix; `none`:
    /// whole words only.
    #[arg(long, default_value = "last", value_parser = ["last", "none"])]
    prefix: String,
    /// Write every query's metrics and the ranks of its judged products to FILE, one JSON
    /// object a line.
    #[arg(long, value_name = "FILE")]
    per_query: Option<PathBuf>,
    /// Candidate settings to measure against the served ones, without serving them: a JSON
    /// merge patch of the settings, as `PATCH /v1/settings` takes (synonyms, weights, uses of
    /// attributes). Prints both runs' figures and the queries whose top k changes most, then
    /// the top k of the query log's 200 most searched queries compared.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// With `--settings`: how many of the most changed queries to print.
    #[arg(long, default_value_t = 20)]
    changed: usize,
    /// Measure "did you mean": misspell one word of each judged query (a letter dropped,
    /// doubled or two swapped, chosen by SEED), and report the share corrected back and the
    /// nDCG of the originals, the misspelt searched as typed, and the misspelt corrected.
    #[arg(long, value_name = "SEED")]
    misspell: Option<u64>,
    /// Search misspelt queries as typed: no "did you mean" correction.
    #[arg(long)]
    no_correct: bool,
}

/// Runs every judged query and prints the table, then one JSON line.
pub fn run(config: &Config, args: EvalArgs) -> anyhow::Result<()> {
    let ranking: RankingMode = args.ranking.parse()?;
    let options = EvalOptions {
        k: args.k,
        ranking,
        facets: args.facets,
        prefix: args.prefix.parse()?,
        correct: !args.no_correct,
    };
    if let Some(seed) = args.misspell {
        let (index, ranking) = open_index_and_ranking(config)?;
        let judgments = eval::load_judgments(&args.judgments)?;
        let report = eval::run_misspelt(&index, &ranking.ranker(), &judgments, &options, seed)?;
        let share = |n: usize| n as f64 / report.misspelt.max(1) as f64;
        println!(
            "{} of {} judged queries misspelt (one word of 5 letters or more); corrected back {} ({:.1}%), \
             corrected otherwise {} ({:.1}%)",
            report.misspelt,
            judgments.num_queries(),
            report.corrected_back,
            100.0 * share(report.corrected_back),
            report.corrected_otherwise,
            100.0 * share(report.corrected_otherwise)
        );
        for (name, s) in
            [("original", &report.original), ("as typed", &report.as_typed), ("corrected", &report.corrected)]
        {
            println!(
                "{name:>10}: nDCG@{} condensed {:.4}  strict {:.4}  Recall@100 {:.4}  p50 {:.3} ms  p99 {:.3} ms",
                args.k, s.ndcg10_condensed, s.ndcg10_strict, s.recall100, s.p50_ms, s.p99_ms
            );
        }
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    match &args.settings {
        Some(settings) => compare(config, &args.judgments, options, settings, args.changed),
        None => evaluate(config, &args.judgments, options, args.per_query.as_deref()),
    }
}

/// `--settings`: the served settings and the candidate on the same judgments.
fn compare(config: &Config, judgments: &Path, options: EvalOptions, patch: &Path, shown: usize) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(patch).with_context(|| format!("cannot read {}", patch.display()))?;
    let patch: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", patch.display()))?;
    let (index, ranking) = open_index_and_ranking(config)?;
    let live = index.settings().settings.clone();
    let next = live
        .patched(&patch, &searchd_indexer::reserved_names())
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.data_dir.display()))?;
    let preview = index.preview(next)?;
    let judgments = eval::load_judgments(judgments)?;
    let ranker = ranking.ranker();
    let before = eval::run(&index, &ranker, &judgments, &options)?;
    let after = eval::run_preview(&preview, &ranker, &judgments, &options)?;
    let changed = eval::changed(&before, &after);
    print!("{}", eval::render_comparison(&before, &after, &changed, shown, options.k, live.version));
    // The most searched queries of the query log, top k compared.
    let logged = searchd_engine::logged_queries(&config.engine(), LOGGED)?;
    let log_changes = eval::compare_logged(&index, &preview, &ranker, &logged, options.k)?;
    println!(
        "query log: {} of its {} most searched queries get another top {}",
        log_changes.len(),
        logged.len(),
        options.k
    );
    for c in log_changes.iter().take(shown) {
        let entered = c.candidate.iter().filter(|id| !c.live.contains(id)).count();
        println!("  {:>6} searches  {entered} entering the top {}  {}", c.searches, options.k, c.query);
    }
    let line = serde_json::json!({
        "live": before.summary,
        "candidate": after.summary,
        "changed": changed.len(),
        "log_queries": logged.len(),
        "log_changed": log_changes.len(),
    });
    println!("{line}");
    Ok(())
}

/// The data dir's product index and its ranking, with the events' engagement folded in: what
/// `eval` and `train-ranker` measure and learn on.
pub fn open_index_and_ranking(config: &Config) -> anyhow::Result<(ProductIndex, Ranking)> {
    let engine = config.engine();
    if !engine.index_dir().join("meta.json").exists() {
        bail!("no index in {}; run `searchd index` first", config.data_dir.display());
    }
    let index = ProductIndex::open(&engine.index_dir(), config.index.clone())?;
    let ranking = Ranking::open(&engine.ranking_setup())?;
    ranking.fold_engagement(&index)?;
    Ok((index, ranking))
}

fn evaluate(config: &Config, judgments: &Path, options: EvalOptions, per_query: Option<&Path>) -> anyhow::Result<()> {
    let (index, ranking) = open_index_and_ranking(config)?;
    let judgments = eval::load_judgments(judgments)?;
    let ranker = ranking.ranker();
    if options.ranking == RankingMode::Default {
        match ranking.model_version() {
            Some(v) => println!("model: {v} (re-ranks the top {})", ranker.window),
            None => println!("model: none trained in {}; phase 1 only", ranking.store().dir().display()),
        }
    }
    let run = eval::run(&index, &ranker, &judgments, &options)?;
    print!("{}", eval::render_table(&run, &options, &judgments));
    if let Some(path) = per_query {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        for q in &run.queries {
            serde_json::to_writer(&mut out, q)?;
            out.write_all(b"\n")?;
        }
        out.flush().with_context(|| format!("cannot write {}", path.display()))?;
        println!("per-query report: {} ({} queries)", path.display(), run.queries.len());
    }
    println!("{}", serde_json::to_string(&run.summary)?);
    Ok(())
}
