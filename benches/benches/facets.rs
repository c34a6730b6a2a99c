//! Any catalog on BigBasket: the settings change that declares its attributes (a background
//! re-index of every product), then a search with a filter expression and three facets — brand,
//! the sub-category counted disjunctively (its own clause ignored, a second counting pass) and
//! the market price with stats and ranges — against the same search without them. Each query is
//! timed alone for p50 / p99 (printed), and Criterion reports the means.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use searchd_benches::bench_config;
use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_catalog::filter::Filter;
use searchd_catalog::{FacetField, FacetRange, Ranker, SearchRequest, Settings};
use searchd_indexer::{FieldMap, IngestOptions, InputFormat, NoProgress, ProductIndex};
use searchd_ranking::{DefaultScorer, RankingConfig};

const QUERIES: [&str; 8] = ["oil", "rice", "organic", "shampoo", "green tea", "biscuits", "soap", "masala"];

/// BigBasket through the bulk CSV path, its columns mapped to attributes, none declared yet.
fn index() -> Option<ProductIndex> {
    let path = searchd_testkit::shared_data("bigbasket_products/bigbasket_products_no_description.csv.gz")?;
    let index = ProductIndex::in_memory(bench_config()).expect("index");
    let map: FieldMap = "id=index,title=product,category=category+sub_category,brand=brand,price=sale_price,\
                         rating=rating,attr.type=type,attr.sub_category=sub_category,attr.market_price=market_price"
        .parse()
        .expect("map");
    let file = std::fs::File::open(path).expect("data file");
    let options = IngestOptions { map, language: Some("en".into()) };
    searchd_indexer::ingest(&index, file, InputFormat::Csv, &options, &mut NoProgress).expect("ingest");
    Some(index)
}

/// The three attributes declared; an even version leaves `type` out (so that each version holds
/// attributes differently and is a re-index).
fn declared(version: u64) -> Settings {
    let keyword = AttributeSettings::filterable(AttributeType::Keyword);
    let number = AttributeSettings::filterable(AttributeType::Number);
    let attributes = AttributeSchema(
        [("type", keyword.clone()), ("sub_category", keyword), ("market_price", number)]
            .into_iter()
            .filter(|(n, _)| version % 2 == 1 || *n != "type")
            .map(|(n, s)| (n.to_string(), s))
            .collect(),
    );
    Settings { version, attributes, ..Default::default() }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn facets(c: &mut Criterion) {
    let Some(index) = index() else { return };
    // The settings change, three times (each holding attributes differently, so each writes every
    // product again); the last declares all three.
    let mut times = Vec::new();
    for version in 1..=3 {
        let started = Instant::now();
        let applied = index.apply_settings(declared(version), &|_, _| {}).expect("settings");
        times.push(started.elapsed().as_secs_f64());
        assert_eq!(applied.rewritten, index.num_docs());
    }
    println!(
        "settings re-index of BigBasket ({} products): {}",
        index.num_docs(),
        times.iter().map(|t| format!("{t:.2} s")).collect::<Vec<_>>().join(", ")
    );
    index.merge_segments().expect("merge");

    let ranker = Ranker::first_phase(Arc::new(DefaultScorer::new(RankingConfig::default())));
    let plain: Vec<SearchRequest> =
        QUERIES.iter().map(|q| SearchRequest { q: (*q).to_string(), ..SearchRequest::default() }).collect();
    // Each query ticks its two most frequent sub-categories, as a shopper's checkboxes would.
    let full: Vec<SearchRequest> = plain
        .iter()
        .map(|request| {
            let top = SearchRequest {
                facets: vec!["sub_category".parse().unwrap()],
                max_values_per_facet: 2,
                ..request.clone()
            };
            let ticked: Vec<String> = index.search(&top, &ranker).expect("search").facets["sub_category"]
                .iter()
                .map(|v| format!("{:?}", v.value))
                .collect();
            let filter =
                format!("sub_category IN [{}] AND market_price < 500 AND type != \"Other\"", ticked.join(", "));
            SearchRequest {
                filter: Some(Filter::parse(&filter).expect("filter")),
                facets: vec![FacetField::Brand, "market_price".parse().unwrap()],
                disjunctive: vec!["sub_category".parse().unwrap()],
                facet_ranges: [(
                    "market_price".to_string(),
                    ["0-100", "100-250", "250-"].iter().map(|r| r.parse::<FacetRange>().unwrap()).collect(),
                )]
                .into_iter()
                .collect(),
                ..request.clone()
            }
        })
        .collect();
    for request in &full {
        let response = index.search(request, &ranker).expect("search");
        assert!(response.facet_stats.contains_key("market_price") && response.facets.contains_key("sub_category"));
    }

    // Each query alone, interleaved, 300 rounds.
    let mut timed = [Vec::new(), Vec::new()];
    for _ in 0..300 {
        for (kind, requests) in [&plain, &full].into_iter().enumerate() {
            for request in requests {
                let started = Instant::now();
                std::hint::black_box(index.search(request, &ranker).expect("search").total_hits);
                timed[kind].push(started.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let [mut alone, mut with] = timed;
    alone.sort_by(f64::total_cmp);
    with.sort_by(f64::total_cmp);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "BigBasket, top 20 with documents, each query alone ({} each): without filter and facets p50 {:.3} ms, \
         p99 {:.3} ms, mean {:.3} ms; with the filter expression and three facets (one disjunctive, one numeric \
         with stats and ranges) p50 {:.3} ms, p99 {:.3} ms, mean {:.3} ms; ratio of p99 {:.2}, of means {:.2}",
        alone.len(),
        percentile(&alone, 0.5),
        percentile(&alone, 0.99),
        mean(&alone),
        percentile(&with, 0.5),
        percentile(&with, 0.99),
        mean(&with),
        percentile(&with, 0.99) / percentile(&alone, 0.99),
        mean(&with) / mean(&alone)
    );

    let mut group = c.benchmark_group("facets");
    for (name, requests) in [("bigbasket_plain", &plain), ("bigbasket_filter_three_facets", &full)] {
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % requests.len();
                index.search(&requests[i], &ranker).expect("search").total_hits
            })
        });
    }
    group.finish();
}

criterion_group!(benches, facets);
criterion_main!(benches);
