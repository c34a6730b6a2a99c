//! Facet counts and filters on the real BigBasket catalog, against a brute-force count over the
//! parsed CSV rows.

use std::collections::BTreeMap;
use std::io::Read;

use searchd_catalog::{FacetField, FacetOrder, Filters, SearchRequest};
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
    // Over several segments (counts merged by value), then over one (the values kept are
    // chosen by ordinal before any is read back): by count, and by value.
    for merged in [false, true] {
        if merged {
            index.merge_segments().unwrap();
        }
        for filters in &cases {
            for (order, most) in [(FacetOrder::Count, 20), (FacetOrder::Value, 5)] {
                let request = SearchRequest {
                    filters: filters.clone(),
                    facets: vec![FacetField::Brand, FacetField::Category],
                    per_page: 10,
                    facet_order: order,
                    max_values_per_facet: most,
                    ..SearchRequest::default()
                };
                let response = index.search(&request, &scorer()).unwrap();
                let (total, brands, categories) = brute(&rows, filters);
                assert!(total > 0, "case {filters:?} matches nothing: a useless case");
                assert_eq!(response.total_hits, total, "total for {filters:?}");
                let got = |name: &str| -> Vec<(String, u64)> {
                    response.facets[name].iter().map(|f| (f.value.clone(), f.count)).collect()
                };
                let expect = |counts: BTreeMap<String, u64>| match order {
                    FacetOrder::Count => top(counts, most),
                    FacetOrder::Value => counts.into_iter().take(most).collect(),
                };
                assert_eq!(got("brand"), expect(brands), "brand facet for {filters:?}, {order:?}, merged {merged}");
                assert_eq!(got("category"), expect(categories), "category facet for {filters:?}, {order:?}");
            }
        }
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

/// Myntra loaded as `searchd index --map` loads it, its gender, primary colour and image count
/// mapped to declared attributes (`attr.gender=Gender,attr.colour=PrimaryColor,
/// attr.images=NumImages`): random filters over them return exactly the rows a plain reading of
/// the CSV returns, and the colour, gender and image facets equal a plain count.
#[test]
fn myntra_attributes_mapped_from_csv_filter_and_facet_as_brute_force() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
    use searchd_catalog::filter::Filter;

    let Some(path) = searchd_testkit::shared_data("myntra_products/myntra_products_catalog.csv.gz") else { return };
    let mut attributes = AttributeSchema::default();
    for (name, kind) in
        [("gender", AttributeType::Keyword), ("colour", AttributeType::Keyword), ("images", AttributeType::Number)]
    {
        attributes.0.insert(name.into(), AttributeSettings::filterable(kind));
    }
    let index = ProductIndex::in_memory(IndexConfig { attributes, ..IndexConfig::small() }).unwrap();
    let map: FieldMap = "id=ProductID,title=ProductName,brand=ProductBrand,price=Price,\
                         attr.gender=Gender,attr.colour=PrimaryColor,attr.images=NumImages"
        .parse()
        .unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let summary = searchd_indexer::ingest(
        &index,
        file,
        InputFormat::Csv,
        &IngestOptions { map, language: None },
        &mut NoProgress,
    )
    .unwrap();
    // The rows as the CSV has them: (id, gender, colour, images).
    let rows: Vec<(String, String, String, f64)> =
        searchd_testkit::csv_records("myntra_products/myntra_products_catalog.csv.gz")
            .unwrap()
            .iter()
            .map(|r| (r[0].to_string(), r[3].trim().to_string(), r[7].trim().to_string(), r[5].trim().parse().unwrap()))
            .collect();
    assert_eq!(summary.indexed, rows.len() as u64, "{:?}", summary.errors);

    let genders = ["Men", "Women", "Unisex", "Boys", "Girls", "Unisex Kids", "Nobody"];
    let colours = ["Black", "Blue", "White", "Red", "Navy Blue", "Pink", "Green", "Mauve", "Ochre"];
    #[derive(Debug, Clone)]
    enum Cond {
        Gender(Vec<&'static str>, bool),
        Colour(Vec<&'static str>, bool),
        ColourMissing(bool),
        Images(f64, f64),
    }
    let cond = prop_oneof![
        (prop::collection::vec(prop::sample::select(genders.to_vec()), 1..3), any::<bool>())
            .prop_map(|(v, not)| Cond::Gender(v, not)),
        (prop::collection::vec(prop::sample::select(colours.to_vec()), 1..4), any::<bool>())
            .prop_map(|(v, not)| Cond::Colour(v, not)),
        any::<bool>().prop_map(Cond::ColourMissing),
        (0.0..10.0f64, 0.0..10.0f64).prop_map(|(a, b)| Cond::Images(a.min(b).floor(), a.max(b).ceil())),
    ];
    let text = |c: &Cond| -> String {
        let list = |v: &[&str]| v.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
        match c {
            Cond::Gender(v, not) => format!("gender {}IN [{}]", if *not { "NOT " } else { "" }, list(v)),
            Cond::Colour(v, not) => format!("colour {}IN [{}]", if *not { "NOT " } else { "" }, list(v)),
            // An empty CSV cell leaves the attribute out.
            Cond::ColourMissing(not) => format!("colour {}EXISTS", if *not { "" } else { "NOT " }),
            Cond::Images(a, b) => format!("images {a} TO {b}"),
        }
    };
    let holds = |c: &Cond, row: &(String, String, String, f64)| match c {
        Cond::Gender(v, not) => v.contains(&row.1.as_str()) != *not,
        Cond::Colour(v, not) => v.contains(&row.2.as_str()) != *not,
        Cond::ColourMissing(not) => row.2.is_empty() != *not,
        Cond::Images(a, b) => (*a..=*b).contains(&row.3),
    };
    let strategy = (prop::collection::vec(cond, 1..4), any::<bool>());
    let mut runner = TestRunner::new(Config { cases: 150, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |(conds, any)| {
            let joiner = if any { " OR " } else { " AND " };
            let filter = conds.iter().map(|c| format!("({})", text(c))).collect::<Vec<_>>().join(joiner);
            let matched: Vec<&(String, String, String, f64)> = rows
                .iter()
                .filter(|r| if any { conds.iter().any(|c| holds(c, r)) } else { conds.iter().all(|c| holds(c, r)) })
                .collect();
            let request = SearchRequest {
                filter: Some(Filter::parse(&filter).unwrap()),
                facets: ["gender", "colour", "images"].iter().map(|f| f.parse().unwrap()).collect(),
                max_values_per_facet: 1_000,
                per_page: 1,
                ..SearchRequest::default()
            };
            let response = index.search(&request, &scorer()).unwrap();
            prop_assert_eq!(response.total_hits, matched.len() as u64, "{}", filter);
            for (facet, value) in [("gender", 1usize), ("colour", 2)] {
                let mut counts: BTreeMap<String, u64> = BTreeMap::new();
                for r in &matched {
                    let v = if value == 1 { &r.1 } else { &r.2 };
                    if !v.is_empty() {
                        *counts.entry(v.clone()).or_default() += 1;
                    }
                }
                let got: Vec<(String, u64)> =
                    response.facets[facet].iter().map(|f| (f.value.clone(), f.count)).collect();
                prop_assert_eq!(got, top(counts, 1_000), "{} under {}", facet, filter);
            }
            let images = &response.facet_stats["images"];
            prop_assert_eq!(images.count, matched.len() as u64, "{}", filter);
            prop_assert_eq!(images.sum, matched.iter().map(|r| r.3).sum::<f64>(), "{}", filter);
            Ok(())
        })
        .unwrap();
}
