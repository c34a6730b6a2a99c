//! The currency and language built-ins on the demo catalog: filters, facets and the price stats
//! per currency (`stats_by`), each against a plain count over the same rows.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use searchd_catalog::filter::Filter;
use searchd_catalog::{FacetField, Product, SearchRequest};
use searchd_indexer::{IndexConfig, ProductIndex};

use crate::scorer;

const RANGES: [&str; 3] = ["0-50", "50-200", "200-"];

/// The demo catalog's products, varied: some without a currency, some with it in lower case,
/// some without a price; in two segments.
fn demo() -> (ProductIndex, Vec<Product>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/demo/products.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let mut products: Vec<Product> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (i, p) in products.iter_mut().enumerate() {
        p.attributes.clear();
        if i % 7 == 3 {
            p.currency = None;
        } else if i % 5 == 1 {
            p.currency = p.currency.as_ref().map(|c| c.to_ascii_lowercase());
        }
        if i % 11 == 5 {
            p.price = None;
        }
    }
    let index = ProductIndex::in_memory(IndexConfig::small()).unwrap();
    for half in products.chunks(products.len() / 2 + 1) {
        let prepared = half.iter().map(|p| index.prepare(p.clone()).unwrap()).collect();
        index.apply_prepared(prepared).unwrap();
        index.commit().unwrap();
    }
    (index, products)
}

#[derive(Debug, Default, PartialEq)]
struct Stats {
    count: u64,
    min: Option<f64>,
    max: Option<f64>,
    sum: f64,
    ranges: Vec<u64>,
}

fn stats<'a>(products: impl Iterator<Item = &'a Product>) -> Stats {
    let mut s = Stats { ranges: vec![0; RANGES.len()], ..Stats::default() };
    for price in products.filter_map(|p| p.price) {
        s.count += 1;
        s.sum += price;
        s.min = Some(s.min.map_or(price, |m| m.min(price)));
        s.max = Some(s.max.map_or(price, |m| m.max(price)));
        for (i, r) in RANGES.iter().enumerate() {
            let (from, to) = r.split_once('-').unwrap();
            let from: f64 = from.parse().unwrap();
            if price >= from && (to.is_empty() || to.parse::<f64>().is_ok_and(|to| price < to)) {
                s.ranges[i] += 1;
            }
        }
    }
    s
}

fn engine_stats(s: &searchd_catalog::FacetStats) -> Stats {
    Stats { count: s.count, min: s.min, max: s.max, sum: s.sum, ranges: s.ranges.iter().map(|r| r.count).collect() }
}

fn close(a: &Stats, b: &Stats) -> bool {
    a.count == b.count && a.min == b.min && a.max == b.max && a.ranges == b.ranges && (a.sum - b.sum).abs() < 1e-6
}

#[test]
fn currency_filters_facets_and_stats_match_a_count_over_the_rows() {
    let (index, products) = demo();
    let languages = vec!["en", "de", "fr", "es"];
    let currencies = vec!["USD", "EUR", "usd", "GBP"];
    let strategy = (
        proptest::option::of(proptest::sample::select(languages)),
        proptest::option::of(proptest::sample::select(currencies)),
        proptest::option::of(0.0f64..400.0),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config { cases: 96, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |(language, currency, below, disjunctive)| {
            let mut clauses = Vec::new();
            if let Some(l) = language {
                clauses.push(format!("language = {l}"));
            }
            if let Some(c) = currency {
                clauses.push(format!("currency = {c}"));
            }
            if let Some(b) = below {
                clauses.push(format!("price < {b}"));
            }
            let request = SearchRequest {
                filter: (!clauses.is_empty()).then(|| Filter::parse(&clauses.join(" AND ")).unwrap()),
                facets: vec![FacetField::Named("price".into()), FacetField::Named("language".into())],
                disjunctive: if disjunctive { vec![FacetField::Named("currency".into())] } else { Vec::new() },
                facet_ranges: BTreeMap::from([("price".into(), RANGES.iter().map(|r| r.parse().unwrap()).collect())]),
                stats_by: Some("currency".into()),
                per_page: 100,
                ..SearchRequest::default()
            };
            let response = index.search(&request, &scorer()).unwrap();
            let holds = |p: &&Product, with_currency: bool| {
                language.is_none_or(|l| p.language.as_deref() == Some(l))
                    && (!with_currency
                        || currency.is_none_or(|c| p.currency.as_ref().is_some_and(|h| h.eq_ignore_ascii_case(c))))
                    && below.is_none_or(|b| p.price.is_some_and(|price| price < b))
            };
            let matching: Vec<&Product> = products.iter().filter(|p| holds(p, true)).collect();
            prop_assert_eq!(response.total_hits, matching.len() as u64, "{:?}", request.filter);

            // Per currency, in capitals; products without one in no group.
            let mut by: BTreeMap<String, Vec<&Product>> = BTreeMap::new();
            for p in &matching {
                if let Some(c) = &p.currency {
                    by.entry(c.to_ascii_uppercase()).or_default().push(p);
                }
            }
            let got: BTreeMap<String, Stats> =
                response.facet_stats_by.iter().map(|(c, s)| (c.clone(), engine_stats(&s["price"]))).collect();
            prop_assert_eq!(got.keys().collect::<Vec<_>>(), by.keys().collect::<Vec<_>>());
            for (c, rows) in &by {
                let want = stats(rows.iter().copied());
                prop_assert!(close(&got[c], &want), "{c}: {:?} against {:?}", got[c], want);
            }
            prop_assert!(close(&engine_stats(&response.facet_stats["price"]), &stats(matching.iter().copied())));

            // The language facet over the matches; the currency facet without its own clause
            // when disjunctive.
            let count = |rows: &[&Product], key: &dyn Fn(&Product) -> Option<String>| {
                let mut counts: BTreeMap<String, u64> = BTreeMap::new();
                for p in rows {
                    if let Some(k) = key(p) {
                        *counts.entry(k).or_default() += 1;
                    }
                }
                counts
            };
            let got_languages: BTreeMap<String, u64> =
                response.facets["language"].iter().map(|f| (f.value.clone(), f.count)).collect();
            prop_assert_eq!(got_languages, count(&matching, &|p| p.language.clone()));
            if disjunctive {
                let without: Vec<&Product> = products.iter().filter(|p| holds(p, false)).collect();
                let got_currencies: BTreeMap<String, u64> =
                    response.facets["currency"].iter().map(|f| (f.value.clone(), f.count)).collect();
                prop_assert_eq!(
                    got_currencies,
                    count(&without, &|p| p.currency.as_ref().map(|c| c.to_ascii_uppercase()))
                );
            }
            Ok(())
        })
        .unwrap();
    // The stored product carries its currency in capitals.
    let all = index.search(&SearchRequest { per_page: 100, ..SearchRequest::default() }, &scorer()).unwrap();
    assert!(
        all.hits.iter().all(|h| h.product.currency.as_ref().is_none_or(|c| c.bytes().all(|b| b.is_ascii_uppercase())))
    );
}

#[test]
fn stats_by_and_currency_refuse_what_they_cannot_use() {
    let (index, _) = demo();
    let error = |request: SearchRequest| index.search(&request, &scorer()).unwrap_err().to_string();
    let price = vec![FacetField::Named("price".into())];
    let e = error(SearchRequest { facets: price.clone(), stats_by: Some("brand".into()), ..SearchRequest::default() });
    assert!(e.contains("stats_by") && e.contains("currency, language"), "{e}");
    let e = error(SearchRequest { stats_by: Some("currency".into()), ..SearchRequest::default() });
    assert!(e.contains("stats_by") && e.contains("numeric facets"), "{e}");
    let mut euro = Product::new("p-euro", "Euro sign");
    euro.currency = Some("€".into());
    let e = index.prepare(euro).unwrap_err().to_string();
    assert!(e.contains("currency") && e.contains("ISO 4217"), "{e}");
}
