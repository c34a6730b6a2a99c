//! Phase 1 on the Home Depot catalog and its dev queries with a heavy merchandising setup —
//! 1,000 synonym sets pairing title words at random (words of 5 to 500 titles) and 500 rules (query conditions over frequent words and dev queries, with pins, hides,
//! buries, filters and time windows) — against none: each query timed alone, the two setups
//! alternating pass by pass (the budget: p99 within 1.2× of none), then Criterion means.
//!
//! The setup runs as a preview over the served index, so both share the same segments.
//! `BENCH_ONLY=synonyms` or `BENCH_ONLY=rules` measures one part alone. `BENCH_TAIL=1` lists the
//! 25 queries the setup costs most, and `BENCH_TAIL_LOOP=N` then runs them N times more (for a
//! profiler).

use std::collections::HashMap;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use searchd_benches::{homedepot_products, index_products, percentile, timed};
use searchd_catalog::{Ranker, RankingMode, SearchRequest, Settings};
use searchd_ranking::{DefaultScorer, RankingConfig, eval};
use serde_json::{Value, json};

/// 1,000 synonym sets and 500 rules over the catalog's titles and the dev queries.
fn heavy(products: &[searchd_catalog::Product], queries: &[String]) -> Value {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut counts: HashMap<String, usize> = HashMap::new();
    for p in products {
        for w in p.title.to_lowercase().split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 3) {
            *counts.entry(w.to_string()).or_default() += 1;
        }
    }
    // Words of 5 to 500 titles, as a shop's own synonyms mostly are (`fridge`, `sheetrock`):
    // neither typos nor the catalog's commonest words.
    let mut words: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| (5..=500).contains(n)).collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut words: Vec<String> = words.into_iter().map(|(w, _)| w).collect();
    words.shuffle(&mut rng);
    let mut synonyms = Vec::new();
    let mut i = 0;
    while synonyms.len() < 1_000 {
        let (a, b) = (&words[i], &words[i + 1]);
        i += 2;
        if synonyms.len() % 5 == 0 {
            synonyms.push(json!({"synonyms": [a, format!("{b} {}", words[i])]}));
            i += 1;
        } else if synonyms.len() % 7 == 0 {
            synonyms.push(json!({"input": a, "synonyms": [b]}));
        } else {
            synonyms.push(json!({"synonyms": [a, b]}));
        }
    }
    let id = |rng: &mut rand::rngs::StdRng| products[rng.random_range(0..products.len())].id.clone();
    let mut rules = Vec::new();
    for k in 0..500 {
        let rule = match k % 5 {
            0 | 1 => json!({"id": format!("contains-{k}"), "conditions": {"query": {"contains": words[k]}},
                "actions": {"pin": [{"id": id(&mut rng), "position": 1}, {"id": id(&mut rng), "position": 3}],
                            "hide": [id(&mut rng)]}}),
            2 => json!({"id": format!("is-{k}"), "conditions": {"query": {"is": queries[(k * 17) % queries.len()]}},
                "actions": {"bury": [{"filter": "in_stock = false"}], "boost": [{"filter": "rating >= 4"}]}}),
            3 => json!({"id": format!("window-{k}"), "conditions": {"query": {"contains": words[k + 500]},
                    "from": if k % 2 == 0 { "2020-01-01T00:00:00Z" } else { "2999-01-01T00:00:00Z" }},
                "actions": {"add_filter": "review_count >= 0", "redirect": "/sale"}}),
            _ => json!({"id": format!("filter-{k}"), "conditions": {"filter": format!("brand = b{k}")},
                "actions": {"hide": [id(&mut rng)]}}),
        };
        rules.push(rule);
    }
    match std::env::var("BENCH_ONLY").as_deref() {
        Ok("synonyms") => json!({"synonyms": synonyms}),
        Ok("rules") => json!({"rules": rules}),
        _ => json!({"synonyms": synonyms, "rules": rules}),
    }
}

fn merchandising(c: &mut Criterion) {
    let (Some(products), Some(path)) =
        (homedepot_products(), searchd_testkit::shared_data("homedepot/judgments-dev.csv.gz"))
    else {
        return;
    };
    let judgments = eval::load_judgments(&path).expect("judgments");
    let queries: Vec<String> = judgments.queries().map(|(q, _)| q.to_string()).collect();
    let patch = heavy(&products, &queries);
    let index = index_products(products);
    let next = Settings::default().patched(&patch, &searchd_indexer::reserved_names()).expect("settings");
    let preview = index.preview(next).expect("preview");
    let ranker = Ranker::first_phase(std::sync::Arc::new(DefaultScorer::new(RankingConfig::default())));
    let requests: Vec<SearchRequest> = queries
        .iter()
        .map(|q| SearchRequest { q: q.clone(), ranking: RankingMode::Phase1, ..SearchRequest::default() })
        .collect();
    let rules_held = requests.iter().filter(|r| !preview.search(r, &ranker).expect("search").rules.is_empty()).count();
    println!(
        "merchandising: 1,000 synonym sets, 500 rules; {rules_held} of {} dev queries meet a rule",
        requests.len()
    );
    let plain = |r: &SearchRequest| index.search(r, &ranker).expect("search").hits.len() as u64;
    let heavy = |r: &SearchRequest| preview.search(r, &ranker).expect("search").hits.len() as u64;
    for pass in 1..=2 {
        let (mut none, _) = timed(&requests, plain);
        let (mut with, _) = timed(&requests, heavy);
        none.sort_by(f64::total_cmp);
        with.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&none, 50.0), percentile(&none, 99.0));
        let (h50, h99) = (percentile(&with, 50.0), percentile(&with, 99.0));
        println!(
            "merchandising pass {pass}: phase 1, top 20 with documents: none p50 {p50:.3} ms, p99 {p99:.3} ms; \
             1,000 synonyms + 500 rules p50 {h50:.3} ms, p99 {h99:.3} ms ({:.2}× the p99)",
            h99 / p99
        );
    }
    if std::env::var_os("BENCH_TAIL").is_some() {
        tail(&requests, plain, heavy, |r| {
            let answer = preview.search(r, &ranker).expect("search");
            let rules = &answer.rules;
            format!("total {}, rules {rules:?}", answer.total_hits)
        });
    }
    let mut group = c.benchmark_group("merchandising");
    let mut i = 0;
    group.bench_function("phase1_top20_none", |b| {
        b.iter(|| {
            i = (i + 1) % requests.len();
            plain(&requests[i])
        })
    });
    group.bench_function("phase1_top20_1000_synonyms_500_rules", |b| {
        b.iter(|| {
            i = (i + 1) % requests.len();
            heavy(&requests[i])
        })
    });
    group.finish();
}

criterion_group!(benches, merchandising);
criterion_main!(benches);

/// The 25 queries that cost the heavy setup the most over none (the best of three runs each),
/// with what the setup did to them: where the tail comes from.
fn tail(
    requests: &[SearchRequest],
    plain: impl Fn(&SearchRequest) -> u64,
    heavy: impl Fn(&SearchRequest) -> u64,
    what: impl Fn(&SearchRequest) -> String,
) {
    let best = |run: &dyn Fn(&SearchRequest) -> u64, r: &SearchRequest| {
        (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                std::hint::black_box(run(r));
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    };
    let mut costs: Vec<(f64, f64, &SearchRequest)> =
        requests.iter().map(|r| (best(&plain, r), best(&heavy, r), r)).collect();
    costs.sort_by(|a, b| (b.1 - b.0).total_cmp(&(a.1 - a.0)));
    for (none, with, r) in costs.iter().take(25) {
        println!("tail: {none:.3} → {with:.3} ms  {:?}  {}", r.q, what(r));
    }
    if let Some(n) = std::env::var("BENCH_TAIL_LOOP").ok().and_then(|n| n.parse::<usize>().ok()) {
        for _ in 0..n {
            for (_, _, r) in costs.iter().take(25) {
                std::hint::black_box(heavy(r));
            }
        }
    }
}
