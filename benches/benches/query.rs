//! In-process query latency by query type. Text queries run on the Home Depot catalog with its
//! real dev queries; filters and facets run on BigBasket, the real catalog that has brands,
//! categories and prices (Home Depot has titles only). Each iteration is one query, cycling
//! through the set, top 20 with documents loaded (the HTTP path minus JSON).

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use searchd_benches::{bigbasket_index, homedepot_products, homedepot_queries, index_products, with_typo};
use searchd_catalog::{FacetField, Filters, Ranker, SearchRequest};
use searchd_indexer::ProductIndex;
use searchd_ranking::{DefaultScorer, RankingConfig};

fn run(c: &mut Criterion, name: &str, index: &ProductIndex, requests: &[SearchRequest]) {
    let scorer = Ranker::first_phase(Arc::new(DefaultScorer::new(RankingConfig::default())));
    let mut i = 0;
    c.benchmark_group("query").bench_function(name, |b| {
        b.iter(|| {
            i = (i + 1) % requests.len();
            index.search(&requests[i], &scorer).expect("search").total_hits
        })
    });
}

fn text(q: &str) -> SearchRequest {
    SearchRequest { q: q.to_string(), ..SearchRequest::default() }
}

fn query(c: &mut Criterion) {
    if let (Some(products), Some(queries)) = (homedepot_products(), homedepot_queries()) {
        let index = index_products(products);
        let words = |q: &String| q.split_whitespace().count();
        let one: Vec<_> = queries.iter().filter(|q| words(q) == 1).map(|q| text(q)).collect();
        let several: Vec<_> = queries.iter().filter(|q| words(q) >= 3).map(|q| text(q)).collect();
        let typo: Vec<_> = queries.iter().enumerate().filter_map(|(i, q)| with_typo(q, i)).map(|q| text(&q)).collect();
        run(c, "homedepot_one_word", &index, &one);
        run(c, "homedepot_several_words", &index, &several);
        run(c, "homedepot_typo", &index, &typo);
    }
    if let Some(index) = bigbasket_index() {
        let facets = vec![FacetField::Brand, FacetField::Category];
        let requests: Vec<SearchRequest> =
            ["oil", "rice", "organic", "shampoo", "green tea", "biscuits", "soap", "masala"]
                .iter()
                .enumerate()
                .map(|(i, q)| SearchRequest {
                    q: (*q).to_string(),
                    facets: facets.clone(),
                    filters: Filters {
                        price_max: Some(100.0 + 50.0 * i as f64),
                        min_rating: (i % 2 == 0).then_some(3.5),
                        ..Filters::default()
                    },
                    ..SearchRequest::default()
                })
                .collect();
        run(c, "bigbasket_filters_facets", &index, &requests);
    }
}

criterion_group!(benches, query);
criterion_main!(benches);
