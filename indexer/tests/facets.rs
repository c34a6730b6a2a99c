//! Facet counts and filters on the real BigBasket catalog, against a brute-force count over the
//! parsed CSV rows.

use std::collections::BTreeMap;
use std::io::Read;

use searchd_catalog::{FacetField, Filters, SearchRequest};
use searchd_indexer::{FieldMap, IndexConfig, IngestOptions, InputFormat, NoProgress, ProductIndex};

use crate::scorer;

struct Row {
    title: String,
    category: String,
    sub_category: String,
    brand: String,
    price: Option<f64>,
    rating: Option<f64>,
}

fn load() -> Option<(ProductIndex, Vec<Row>)> {
    let path = searchd_testkit::shared_data("bigbasket_products/bigbasket_products_no_description.csv.gz")?;
    let index = ProductIndex::in_memory(IndexConfig::default()).unwrap();
    let map: FieldMap =
        "id=index,title=product,category=category+sub_category,brand=brand,price=sale_price,rating=rating"
            .parse()
            .unwrap();
    let summary = searchd_indexer::ingest(
        &index,
        std::fs::File::open(&path).unwrap(),
        InputFormat::Csv,
        &IngestOptions { map, language: None },
        &mut NoProgress,
    )
    .unwrap();

    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in csv.records() {
        let r = record.unwrap();
        let num = |i: usize| r.get(i).and_then(|v| v.trim().parse::<f64>().ok());
        rows.push(Row {
            title: r[1].trim().to_string(),
            category: r[2].trim().to_string(),
            sub_category: r[3].trim().to_string(),
            brand: r[4].trim().to_string(),
            price: num(5),
            rating: num(8),
        });
    }
    assert_eq!(summary.indexed + summary.skipped_total(), rows.len() as u64);
    // The catalog has rows without a title: the ingest skips and reports each of them, and the
    // brute force leaves them out too.
    let untitled = rows.iter().filter(|r| r.title.is_empty()).count() as u64;
    assert!(untitled > 0);
    assert_eq!(summary.skipped.get("title").copied(), Some(untitled), "{:?}", summary.errors);
    assert_eq!(summary.skipped_total(), untitled);
    assert!(summary.errors.iter().all(|e| e.reason == "title: missing" && e.line > 1));
    rows.retain(|r| !r.title.is_empty());
    Some((index, rows))
}

fn brute(rows: &[Row], filters: &Filters) -> (u64, BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut brands = BTreeMap::new();
    let mut categories = BTreeMap::new();
    let mut total = 0;
    let segments = filters.category_segments();
    for row in rows {
        if !filters.brand.is_empty() && !filters.brand.contains(&row.brand) {
            continue;
        }
        if let Some(seg) = &segments {
            let path = [row.category.as_str(), row.sub_category.as_str()];
            if seg.len() > 2 || path[..seg.len()] != seg[..] {
                continue;
            }
        }
        if filters.price_min.is_some_and(|m| row.price.is_none_or(|p| p < m)) {
            continue;
        }
        if filters.price_max.is_some_and(|m| row.price.is_none_or(|p| p > m)) {
            continue;
        }
        if filters.min_rating.is_some_and(|m| row.rating.is_none_or(|r| r < m)) {
            continue;
        }
        total += 1;
        if !row.brand.is_empty() {
            *brands.entry(row.brand.clone()).or_default() += 1;
        }
        let level = match segments.as_ref().map_or(0, Vec::len) {
            0 => Some(&row.category),
            1 => Some(&row.sub_category),
            _ => None,
        };
        if let Some(level) = level.filter(|l| !l.is_empty()) {
            *categories.entry(level.clone()).or_default() += 1;
        }
    }
    (total, brands, categories)
}

/// The top values with their counts, as the API returns them (count desc, then value).
fn top(counts: BTreeMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

#[test]
fn facet_counts_match_a_brute_force_count() {
    let Some((index, rows)) = load() else { return };
    let cases = [
        Filters::default(),
        Filters { category: Some("Beauty & Hygiene".into()), ..Filters::default() },
        Filters { category: Some("Beauty & Hygiene/Hair Care".into()), ..Filters::default() },
        Filters { price_min: Some(100.0), price_max: Some(250.0), ..Filters::default() },
        Filters { min_rating: Some(4.2), category: Some("Snacks & Branded Foods".into()), ..Filters::default() },
        Filters { brand: vec!["Fresho".into(), "bb Royal".into()], ..Filters::default() },
    ];
    for filters in cases {
        let request = SearchRequest {
            filters: filters.clone(),
            facets: vec![FacetField::Brand, FacetField::Category],
            per_page: 10,
            ..SearchRequest::default()
        };
        let response = index.search(&request, &scorer()).unwrap();
        let (total, brands, categories) = brute(&rows, &filters);
        assert!(total > 0, "case {filters:?} matches nothing: a useless case");
        assert_eq!(response.total_hits, total, "total for {filters:?}");
        let got = |name: &str| -> Vec<(String, u64)> {
            response.facets[name].iter().map(|f| (f.value.clone(), f.count)).collect()
        };
        assert_eq!(got("brand"), top(brands, 20), "brand facet for {filters:?}");
        assert_eq!(got("category"), top(categories, 20), "category facet for {filters:?}");
    }
}

#[test]
fn sorting_by_price_is_monotone_and_filters_hold() {
    let Some((index, _rows)) = load() else { return };
    let request = SearchRequest {
        q: "oil".into(),
        sort: "price_asc".parse().unwrap(),
        filters: Filters { price_min: Some(50.0), ..Filters::default() },
        per_page: 100,
        ..SearchRequest::default()
    };
    let hits = index.search(&request, &scorer()).unwrap().hits;
    assert!(hits.len() > 20);
    let prices: Vec<f64> = hits.iter().map(|h| h.product.price.unwrap()).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    assert!(prices.iter().all(|p| *p >= 50.0));
}
