//! `searchd eval`: relevance (nDCG@k condensed and strict, Recall@100) and in-process latency
//! over graded judgments, with the protocol of the Home Depot data set's README.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use searchd_catalog::{FacetField, PrefixMode, Ranker, RankingMode, SearchRequest};
use searchd_indexer::{Preview, ProductIndex, ScoredId};
use serde::Serialize;

mod logged;
mod misspell;
mod relevance;

pub use logged::{LogChange, compare_logged};
pub use misspell::{MisspellReport, misspell, run_misspelt};
pub use relevance::{Judgments, QueryMetrics, RelevanceReport, evaluate_query};

/// Results retrieved per query (Recall@100, and the list nDCG is condensed from).
pub const RETRIEVED: usize = 100;

#[derive(Debug, Clone)]
/// How `searchd eval` runs.
pub struct EvalOptions {
    /// Cut-off of nDCG.
    pub k: usize,
    /// Which ranking to evaluate.
    pub ranking: RankingMode,
    /// Also count brand and category facets for every query (their cost shows in the latency).
    pub facets: bool,
    /// Whether the last word also matches as a prefix (a judged query is a finished one: this
    /// measures what search-as-you-type costs it).
    pub prefix: PrefixMode,
    /// Whether a misspelt query is searched corrected ("did you mean"), as the API does by
    /// default.
    pub correct: bool,
}

/// The last line `searchd eval` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalSummary {
    /// Queries run.
    pub queries: usize,
    /// Mean nDCG@k over the judged results only (unjudged ones dropped).
    pub ndcg10_condensed: f64,
    /// Mean nDCG@k counting unjudged results as not relevant.
    pub ndcg10_strict: f64,
    /// Share of pairs with relevance ≥ 2.5 found in the top 100.
    pub recall100: f64,
    /// Median search latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile search latency, milliseconds.
    pub p99_ms: f64,
}

#[derive(Debug, Clone)]
/// Everything one run measured.
pub struct EvalRun {
    /// The relevance means.
    pub report: RelevanceReport,
    /// The line `searchd eval` prints last.
    pub summary: EvalSummary,
    /// Slowest search, milliseconds.
    pub max_ms: f64,
    /// Mean search latency, milliseconds.
    pub mean_ms: f64,
    /// The queries with the lowest condensed nDCG, for a look.
    pub worst: Vec<(String, f64)>,
    /// Every query's metrics and where its judged products ranked, in judgment order.
    pub queries: Vec<QueryReport>,
}

/// One query of a run, as `searchd eval --per-query FILE` writes it (one JSON object a line).
#[derive(Debug, Clone, Serialize)]
pub struct QueryReport {
    /// The query text.
    pub query: String,
    #[serde(flatten)]
    /// Its metrics.
    pub metrics: QueryMetrics,
    /// The judged products, best grade first, with their 1-based rank in the top 100 (`null`
    /// when not retrieved).
    pub judged: Vec<JudgedRank>,
    /// The ids of its top k, in order (not written).
    #[serde(skip)]
    pub top: Vec<String>,
}

/// A query whose top k differs between two runs of the same judgments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    /// The query text.
    pub query: String,
    /// Products in the candidate's top k that the live top k does not have.
    pub entered: usize,
    /// Positions of the top k holding another product.
    pub moved: usize,
    /// Condensed nDCG@k live, then with the candidate (`None`: nothing judged retrieved).
    pub ndcg_live: Option<f64>,
    /// With the candidate settings.
    pub ndcg_candidate: Option<f64>,
}

/// The queries whose top k differs between `live` and `candidate` (runs of the same
/// judgments), most changed first: by products entering the top k, then positions changed.
pub fn changed(live: &EvalRun, candidate: &EvalRun) -> Vec<Changed> {
    let mut out: Vec<Changed> = live
        .queries
        .iter()
        .zip(&candidate.queries)
        .filter(|(a, b)| a.query == b.query && a.top != b.top)
        .map(|(a, b)| Changed {
            query: a.query.clone(),
            entered: b.top.iter().filter(|id| !a.top.contains(id)).count(),
            moved: (0..a.top.len().max(b.top.len())).filter(|&i| a.top.get(i) != b.top.get(i)).count(),
            ndcg_live: a.metrics.ndcg_condensed,
            ndcg_candidate: b.metrics.ndcg_condensed,
        })
        .collect();
    out.sort_by(|a, b| b.entered.cmp(&a.entered).then(b.moved.cmp(&a.moved)).then_with(|| a.query.cmp(&b.query)));
    out
}

#[derive(Debug, Clone, Serialize)]
/// A judged product and where the run ranked it.
pub struct JudgedRank {
    /// The product's id.
    pub id: String,
    /// Its grade.
    pub relevance: f64,
    /// Its 1-based rank in the top 100; `None` when not retrieved.
    pub rank: Option<usize>,
}

/// Reads `query,product_uid,relevance` CSV, gzip or plain.
pub fn load_judgments(path: &Path) -> anyhow::Result<Judgments> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut csv = csv::Reader::from_reader(searchd_indexer::decompressed(file)?);
    let headers = csv.headers()?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h.trim() == name).with_context(|| format!("{}: no `{name}` column", path.display()))
    };
    let (q, id, rel) = (col("query")?, col("product_uid")?, col("relevance")?);
    let mut judgments = Judgments::default();
    for (i, record) in csv.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let relevance: f64 =
            record[rel].trim().parse().with_context(|| format!("{}: row {}: bad relevance", path.display(), i + 2))?;
        judgments.insert(record[q].trim(), record[id].trim(), relevance);
    }
    anyhow::ensure!(judgments.num_queries() > 0, "{}: no judgments", path.display());
    Ok(judgments)
}

/// Runs every judged query once to warm caches, then once timed, and scores the rankings.
pub fn run(
    index: &ProductIndex,
    ranker: &Ranker,
    judgments: &Judgments,
    options: &EvalOptions,
) -> anyhow::Result<EvalRun> {
    run_on(&|request| Ok(index.search_ids(request, ranker)?), judgments, options)
}

/// [`run`] with candidate settings (`searchd eval --settings`), without serving them.
pub fn run_preview(
    preview: &Preview<'_>,
    ranker: &Ranker,
    judgments: &Judgments,
    options: &EvalOptions,
) -> anyhow::Result<EvalRun> {
    run_on(&|request| Ok(preview.search_ids(request, ranker)?), judgments, options)
}

type Search<'a> = dyn Fn(&SearchRequest) -> anyhow::Result<Vec<ScoredId>> + 'a;

fn run_on(search: &Search<'_>, judgments: &Judgments, options: &EvalOptions) -> anyhow::Result<EvalRun> {
    let request = |q: &str| SearchRequest {
        q: q.to_string(),
        per_page: RETRIEVED,
        ranking: options.ranking,
        prefix: options.prefix,
        correct: options.correct,
        facets: if options.facets { vec![FacetField::Brand, FacetField::Category] } else { Vec::new() },
        ..SearchRequest::default()
    };
    for (q, _) in judgments.queries() {
        search(&request(q))?;
    }
    let mut latencies = Vec::with_capacity(judgments.num_queries());
    let mut reports = Vec::with_capacity(judgments.num_queries());
    for (q, judged) in judgments.queries() {
        let request = request(q);
        let started = Instant::now();
        let hits = search(&request)?;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
        let ranked: Vec<String> = hits.into_iter().map(|h| h.id).collect();
        let m = evaluate_query(&ranked, judged, options.k);
        let mut judged: Vec<JudgedRank> = judged
            .iter()
            .map(|(id, &relevance)| JudgedRank {
                id: id.clone(),
                relevance,
                rank: ranked.iter().position(|r| r == id).map(|p| p + 1),
            })
            .collect();
        judged.sort_by(|a, b| b.relevance.total_cmp(&a.relevance).then_with(|| a.id.cmp(&b.id)));
        let top = ranked.into_iter().take(options.k).collect();
        reports.push(QueryReport { query: q.to_string(), metrics: m, judged, top });
    }
    let metrics: Vec<QueryMetrics> = reports.iter().map(|r| r.metrics).collect();
    let report = RelevanceReport::from_metrics(&metrics);
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    let mut worst: Vec<(String, f64)> =
        reports.iter().filter_map(|r| Some((r.query.clone(), r.metrics.ndcg_condensed?))).collect();
    worst.sort_by(|a, b| a.1.total_cmp(&b.1));
    worst.truncate(10);
    Ok(EvalRun {
        summary: EvalSummary {
            queries: report.queries,
            ndcg10_condensed: round(report.ndcg10_condensed, 4),
            ndcg10_strict: round(report.ndcg10_strict, 4),
            recall100: round(report.recall100, 4),
            p50_ms: round(pct(0.50), 3),
            p99_ms: round(pct(0.99), 3),
        },
        max_ms: latencies.last().copied().unwrap_or(0.0),
        mean_ms: latencies.iter().sum::<f64>() / latencies.len().max(1) as f64,
        report,
        worst,
        queries: reports,
    })
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// The human table `searchd eval` prints before its JSON line.
pub fn render_table(run: &EvalRun, options: &EvalOptions, judgments: &Judgments) -> String {
    let r = &run.report;
    let s = &run.summary;
    let mode = options.ranking.as_str();
    let mut out = String::new();
    out.push_str(&format!("ranking: {mode}   judged pairs: {}   facets: {}\n", judgments.num_pairs(), options.facets));
    out.push_str("metric                      value\n");
    out.push_str("--------------------------  --------\n");
    out.push_str(&format!("queries                     {:>8}\n", r.queries));
    out.push_str(&format!("queries in nDCG means       {:>8}\n", r.ndcg_queries));
    out.push_str(&format!("nDCG@{:<2} condensed           {:>8.4}\n", options.k, r.ndcg10_condensed));
    out.push_str(&format!("nDCG@{:<2} strict              {:>8.4}\n", options.k, r.ndcg10_strict));
    out.push_str(&format!("Recall@100 (rel >= 2.5)     {:>8.4}\n", r.recall100));
    out.push_str(&format!("latency p50 (ms)            {:>8.3}\n", s.p50_ms));
    out.push_str(&format!("latency p99 (ms)            {:>8.3}\n", s.p99_ms));
    out.push_str(&format!("latency mean / max (ms)     {:>8.3} / {:.3}\n", run.mean_ms, run.max_ms));
    out.push_str("lowest condensed nDCG:\n");
    for (q, n) in &run.worst {
        // `+ 0.0` turns a negative zero into zero for printing.
        out.push_str(&format!("  {:.3}  {q}\n", n + 0.0));
    }
    out
}

/// The table `searchd eval --settings` prints: each figure live and with the candidate, then
/// the `shown` most changed queries.
pub fn render_comparison(
    live: &EvalRun,
    candidate: &EvalRun,
    changed: &[Changed],
    shown: usize,
    k: usize,
    version: u64,
) -> String {
    let (a, b) = (&live.summary, &candidate.summary);
    let mut out = format!("settings: served (version {version}) against the candidate\n");
    out.push_str("metric                        served  candidate    change\n");
    for (name, x, y) in [
        (format!("nDCG@{k} condensed"), a.ndcg10_condensed, b.ndcg10_condensed),
        (format!("nDCG@{k} strict"), a.ndcg10_strict, b.ndcg10_strict),
        ("Recall@100".to_string(), a.recall100, b.recall100),
        ("latency p50 (ms)".to_string(), a.p50_ms, b.p50_ms),
        ("latency p99 (ms)".to_string(), a.p99_ms, b.p99_ms),
    ] {
        out.push_str(&format!("{name:<28} {x:>7.4}  {y:>9.4}  {:>+8.4}\n", y - x));
    }
    out.push_str(&format!("queries whose top {k} changed: {} of {}\n", changed.len(), a.queries));
    let ndcg = |n: Option<f64>| n.map_or("-".to_string(), |n| format!("{:.3}", n + 0.0));
    for c in changed.iter().take(shown) {
        out.push_str(&format!(
            "  {} new, {} moved  nDCG {} -> {}  {}\n",
            c.entered,
            c.moved,
            ndcg(c.ndcg_live),
            ndcg(c.ndcg_candidate),
            c.query
        ));
    }
    out
}
