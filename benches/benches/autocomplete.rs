//! Autocomplete on the Home Depot catalog (54,667 titles) with its dev queries as the query log
//! (each query counted once per judged pair), replaying the 480 WANDS queries typed character
//! by character: one suggestion request (limit 8, every kind) per keystroke.
//!
//! Besides Criterion's mean per keystroke, it times every keystroke of the replay on its own and
//! prints the distribution (p50 / p99 / max), and prints how long building the completions takes.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use searchd_autocomplete::{CatalogCompletions, Kinds, Suggester, Weights, query_completions};
use searchd_benches::{homedepot_products, homedepot_query_counts, keystrokes, percentile, wands_queries};

fn autocomplete(c: &mut Criterion) {
    let (Some(products), Some(counts), Some(wands)) = (homedepot_products(), homedepot_query_counts(), wands_queries())
    else {
        return;
    };
    let weights = Weights::default();
    let started = Instant::now();
    let catalog = CatalogCompletions::from_products(&products, &weights).expect("catalog completions");
    let catalog_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let queries = query_completions(counts.clone(), &weights).expect("query completions");
    let queries_s = started.elapsed().as_secs_f64();
    let mib = (catalog.products.heap_bytes() + queries.heap_bytes()) as f64 / f64::from(1 << 20);
    println!(
        "autocomplete build: {} titles ({} suffix keys) in {catalog_s:.3} s, {} queries in {queries_s:.3} s, {mib:.1} MiB",
        catalog.products.len(),
        catalog.products.keys(),
        queries.len(),
    );
    let suggester = Suggester::new(Arc::new(catalog), Arc::new(queries));

    let typed = keystrokes(&wands);
    // Each keystroke timed alone, over three passes (the first warms caches).
    let mut samples = Vec::with_capacity(typed.len() * 3);
    let mut empty = 0;
    for pass in 0..3 {
        for k in &typed {
            let t = Instant::now();
            let n = std::hint::black_box(suggester.suggest(k, 8, Kinds::ALL)).len();
            samples.push(t.elapsed().as_secs_f64() * 1e6);
            if pass == 0 && n == 0 {
                empty += 1;
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "autocomplete WANDS replay: {} keystrokes x 3, p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs; {empty} keystrokes with no suggestion",
        typed.len(),
        percentile(&samples, 50.0),
        percentile(&samples, 90.0),
        percentile(&samples, 99.0),
        samples.last().copied().unwrap_or(f64::NAN),
    );

    let mut group = c.benchmark_group("autocomplete");
    group.throughput(Throughput::Elements(typed.len() as u64));
    group.sample_size(20);
    group.bench_function("wands_replay_homedepot", |b| {
        b.iter(|| typed.iter().map(|k| suggester.suggest(k, 8, Kinds::ALL).len()).sum::<usize>())
    });
    group.finish();

    let mut group = c.benchmark_group("autocomplete_build");
    group.sample_size(10);
    group.bench_function("homedepot_catalog", |b| {
        b.iter(|| CatalogCompletions::from_products(&products, &weights).expect("build").products.len())
    });
    group.finish();
}

criterion_group!(benches, autocomplete);
criterion_main!(benches);
