//! Ranking phase 2 on the Home Depot catalog with its 9,947 judged dev queries: the learned
//! re-ranker (`searchd train-ranker`'s pairwise logistic regression and learned expansions,
//! trained here on every judged query's phase-1 window) against phase 1 alone, top 20 with
//! documents loaded, as served.
//!
//! - each query timed alone, phase 1 and phase 1 + 2 in turn, so their p99s can be compared
//!   (the budget: phase 2 adds at most 1 ms to p99);
//! - Criterion means for both, and for phase 2 by itself: scoring the 100 feature vectors of one
//!   query's window and sorting them.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use searchd_benches::{homedepot_products, index_products, summary, timed};
use searchd_catalog::{Ranker, RankingMode, SearchRequest, SecondPhase};
use searchd_models::{ExpansionOptions, TrainOptions};
use searchd_ranking::{DefaultScorer, RankingConfig};
use searchd_ranking::{eval, train};

fn ranking(c: &mut Criterion) {
    let (Some(products), Some(path)) =
        (homedepot_products(), searchd_testkit::shared_data("homedepot/judgments-dev.csv.gz"))
    else {
        return;
    };
    let index = index_products(products);
    let judgments = eval::load_judgments(&path).expect("judgments");
    let base = Ranker::first_phase(Arc::new(DefaultScorer::new(RankingConfig::default())));
    let queries: Vec<String> = judgments.queries().map(|(q, _)| q.to_string()).collect();
    let started = Instant::now();
    let model = train::train(
        &index,
        &base,
        &judgments,
        &TrainOptions::default(),
        Some(&ExpansionOptions::default()),
        Vec::new(),
    )
    .expect("train");
    println!(
        "ranking: expansions, phase-1 top {} of {} queries with features, and the ranker trained ({} queries, {} pairs) in {:.1} s",
        base.window,
        queries.len(),
        model.training.queries,
        model.training.pairs,
        started.elapsed().as_secs_f64()
    );
    let all = train::candidates(&index, &base, Some(&model.expansions), queries.iter().map(String::as_str))
        .expect("candidates");
    let model: Arc<dyn SecondPhase> = Arc::new(model);
    let learned = base.clone().with_second(Some(model.clone()));
    let request = |q: &String, ranking| SearchRequest { q: q.clone(), ranking, ..SearchRequest::default() };
    let phase1: Vec<_> = queries.iter().map(|q| request(q, RankingMode::Phase1)).collect();
    let both: Vec<_> = queries.iter().map(|q| request(q, RankingMode::Default)).collect();

    let search = |ranker: &Ranker, r: &SearchRequest| index.search(r, ranker).expect("search").hits.len() as u64;
    for pass in 1..=2 {
        let (mut samples, hits) = timed(&phase1, |r| search(&base, r));
        summary(&format!("ranking pass {pass}: phase 1, top 20 with documents"), &mut samples, hits, "hits");
        let (mut samples, hits) = timed(&both, |r| search(&learned, r));
        summary(&format!("ranking pass {pass}: phase 1 + phase 2 over the top 200"), &mut samples, hits, "hits");
    }

    let mut group = c.benchmark_group("ranking");
    let mut i = 0;
    group.bench_function("phase1_top20", |b| {
        b.iter(|| {
            i = (i + 1) % phase1.len();
            search(&base, &phase1[i])
        })
    });
    group.bench_function("phase1_phase2_top20", |b| {
        b.iter(|| {
            i = (i + 1) % both.len();
            search(&learned, &both[i])
        })
    });
    let windows: Vec<_> = all.iter().filter(|q| q.candidates.len() == base.window).collect();
    group.bench_function("phase2_alone_window_200", |b| {
        b.iter(|| {
            i = (i + 1) % windows.len();
            let mut scored: Vec<(f32, &str)> =
                windows[i].candidates.iter().map(|c| (model.score(&c.features), c.id.as_str())).collect();
            scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
            scored[0].0
        })
    });
    group.finish();
}

criterion_group!(benches, ranking);
criterion_main!(benches);
