//! The filter language and facets against brute force: random filter expressions over the
//! built-in fields and declared attributes of the real BigBasket catalog (brand, the category
//! path, price, rating, and the attributes `sub_category`, `type`, `pricing.market` (the market
//! price) and `pricing.discounted`; stock, review counts, update times, a tag list and a release
//! date added per row, with nulls, empty values and missing ones), printed, parsed back, resolved
//! and searched, return exactly the products a plain evaluation of the same expression over the
//! rows returns; the facets of those searches (keyword and boolean counts, numeric stats and
//! ranges, conjunctive and disjunctive) equal a plain count.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::RangeBounds;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_catalog::filter::{Builtin, Condition, Field, Filter, Op, Resolved, Token, Value};
use searchd_catalog::{FacetField, FacetOrder, FacetRange, Product, SearchRequest, SearchResponse, Settings};
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::{Value as Json, json};

use crate::scorer;

/// The declared attributes and their types.
const DECLARED: [(&str, AttributeType); 6] = [
    ("sub_category", AttributeType::Keyword),
    ("type", AttributeType::Keyword),
    ("tags", AttributeType::Keyword),
    ("pricing.market", AttributeType::Number),
    ("pricing.discounted", AttributeType::Boolean),
    ("released", AttributeType::Date),
];

fn schema() -> AttributeSchema {
    let mut schema = AttributeSchema::default();
    for (name, kind) in DECLARED {
        schema.0.insert(name.to_string(), AttributeSettings::filterable(kind));
    }
    schema
}

/// A product with its declared attributes read once, plainly.
struct Row {
    p: Product,
    values: HashMap<&'static str, Vec<Value>>,
    numbers: HashMap<&'static str, Vec<f64>>,
}

fn rows(products: &[Product]) -> Vec<Row> {
    products
        .iter()
        .map(|p| Row {
            p: p.clone(),
            values: DECLARED.iter().map(|(name, kind)| (*name, attribute_values(p, name, *kind))).collect(),
            numbers: DECLARED.iter().map(|(name, kind)| (*name, attribute_numbers(p, name, *kind))).collect(),
        })
        .collect()
}

/// BigBasket's rows with the fields it lacks filled in from the row number.
fn catalog() -> Option<Vec<Product>> {
    let mut products = searchd_testkit::bigbasket_products()?;
    let rows = searchd_testkit::csv_records("bigbasket_products/bigbasket_products_no_description.csv.gz")?;
    assert_eq!(rows.len(), products.len());
    for (i, (p, r)) in products.iter_mut().zip(&rows).enumerate() {
        // As the CSV has them: text, which the declared types read.
        p.attributes.insert("sub_category".into(), json!(r[3]));
        p.attributes.insert("type".into(), json!(r[7]));
        let market = match i % 11 {
            0 => Json::Null,
            1 => json!(""),
            _ => json!(r[6]),
        };
        let discounted = match (r[5].trim().parse::<f64>(), r[6].trim().parse::<f64>()) {
            (Ok(sale), Ok(market)) => json!(sale < market),
            _ => Json::Null,
        };
        if i % 13 != 0 {
            p.attributes.insert("pricing".into(), json!({"market": market, "discounted": discounted}));
        }
        let tags = match i % 9 {
            0 => None,
            1 => Some(Json::Null),
            2 => Some(json!([])),
            3 => Some(json!("solo")),
            _ => Some(json!([format!("t{}", i % 4), format!("u{}", i % 6), "  "])),
        };
        if let Some(tags) = tags {
            p.attributes.insert("tags".into(), tags);
        }
        if i % 3 != 0 {
            let day = time::OffsetDateTime::from_unix_timestamp(1_600_000_000 + (i as i64 % 700) * 86_400).unwrap();
            let text = day.format(&time::format_description::well_known::Rfc3339).unwrap();
            p.attributes.insert("released".into(), if i % 2 == 0 { json!(text) } else { json!(day.unix_timestamp()) });
        }
    }
    // A few rows have no title: the index refuses them, as `searchd index` skips them.
    products.retain(|p| p.validate().is_ok());
    for (i, p) in products.iter_mut().enumerate() {
        p.in_stock = i % 7 != 0;
        p.review_count = (i % 53) as u64;
        p.updated_at = (i % 5 != 0)
            .then(|| time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + (i as i64 % 1000) * 86_400).unwrap());
    }
    Some(products)
}

/// The products indexed without declared attributes, then declared by a settings change (the
/// background re-index): what the brute-force checks see is what a re-index wrote.
fn index_of(products: Vec<Product>) -> ProductIndex {
    let index = ProductIndex::in_memory(IndexConfig::small()).unwrap();
    let prepared = products.into_iter().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared(prepared).unwrap();
    index.commit().unwrap();
    let applied =
        index.apply_settings(Settings { version: 1, attributes: schema(), ..Default::default() }, &|_, _| {}).unwrap();
    assert_eq!(applied.rewritten, index.num_docs());
    index
}

/// The raw value of an attribute: `object.key` one level down.
fn raw<'a>(p: &'a Product, name: &str) -> Option<&'a Json> {
    match name.split_once('.') {
        None => p.attributes.get(name),
        Some((object, key)) => p.attributes.get(object)?.get(key),
    }
}

/// An attribute's values read plainly: every item of a list, text trimmed, blanks and nulls
/// left out, text read as the declared type.
fn attribute_values(p: &Product, name: &str, kind: AttributeType) -> Vec<Value> {
    let Some(value) = raw(p, name) else { return Vec::new() };
    let items: Vec<&Json> = match value {
        Json::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .filter_map(|item| {
            let text = match item {
                Json::String(s) if s.trim().is_empty() => return None,
                Json::String(s) => s.trim().to_string(),
                Json::Null => return None,
                other => other.to_string(),
            };
            Some(match kind {
                AttributeType::Keyword | AttributeType::Text => Value::Text(text),
                AttributeType::Boolean => Value::Bool(text.eq_ignore_ascii_case("true")),
                AttributeType::Number => Value::Text(text.parse::<f64>().unwrap().to_string()),
                AttributeType::Date => Value::Text(
                    text.parse::<i64>()
                        .unwrap_or_else(|_| {
                            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                                .unwrap()
                                .unix_timestamp()
                        })
                        .to_string(),
                ),
            })
        })
        .collect()
}

fn attribute_numbers(p: &Product, name: &str, kind: AttributeType) -> Vec<f64> {
    attribute_values(p, name, kind)
        .into_iter()
        .filter_map(|v| match v {
            Value::Text(t) => t.parse().ok(),
            Value::Bool(_) => None,
        })
        .collect()
}

/// The obviously correct reading of a resolved filter for one product.
fn holds(filter: &Resolved, row: &Row) -> bool {
    let p = &row.p;
    let segments = |path: &str| path.trim_matches('/').split('/').map(|s| s.trim().to_string()).collect::<Vec<_>>();
    let number = |field: Builtin| -> Option<f64> {
        match field {
            Builtin::Price => p.price,
            Builtin::Rating => p.rating,
            Builtin::ReviewCount => Some(p.review_count as f64),
            Builtin::Popularity => Some(p.popularity),
            Builtin::UpdatedAt => p.updated_at.map(|t| t.unix_timestamp() as f64),
            _ => None,
        }
    };
    let brand = p.brand.as_deref().map(str::trim).filter(|b| !b.is_empty());
    match filter {
        Resolved::And(parts) => parts.iter().all(|f| holds(f, row)),
        Resolved::Or(parts) => parts.iter().any(|f| holds(f, row)),
        Resolved::Not(part) => !holds(part, row),
        Resolved::AnyOf(Field::Attribute(name, _), values) => {
            let have = &row.values[name.as_str()];
            values.iter().any(|v| have.contains(v))
        }
        Resolved::AnyOf(Field::Builtin(field), values) => values.iter().any(|v| match (field, v) {
            (Builtin::Brand, Value::Text(b)) => !b.trim().is_empty() && brand == Some(b.trim()),
            (Builtin::Category, Value::Text(path)) => {
                let want = segments(path);
                let have: Vec<String> = p.category.iter().map(|c| c.trim().to_string()).collect();
                !want.iter().any(String::is_empty) && have.len() >= want.len() && have[..want.len()] == want[..]
            }
            (Builtin::InStock, Value::Bool(b)) => p.in_stock == *b,
            _ => false,
        }),
        Resolved::Range(Field::Attribute(name, _), lower, upper) => {
            row.numbers[name.as_str()].iter().any(|v| (*lower, *upper).contains(v))
        }
        Resolved::Range(Field::Builtin(field), lower, upper) => {
            number(*field).is_some_and(|v| (*lower, *upper).contains(&v))
        }
        Resolved::Exists(Field::Attribute(name, _)) => raw(p, name).is_some(),
        Resolved::Exists(Field::Builtin(field)) => match field {
            Builtin::Brand => brand.is_some(),
            Builtin::Category => !p.category.is_empty(),
            other => number(*other).is_some() || matches!(other, Builtin::InStock | Builtin::Language),
        },
        Resolved::IsNull(field) => raw(p, field.name()).is_some_and(Json::is_null),
        Resolved::IsEmpty(field) => match raw(p, field.name()) {
            Some(Json::String(s)) => s.trim().is_empty(),
            Some(Json::Array(a)) => a.is_empty(),
            Some(Json::Object(o)) => o.is_empty(),
            _ => false,
        },
    }
}

/// Every id the engine returns for `filter`, when there are at most 1,000, else the count and
/// the first page.
fn engine(index: &ProductIndex, filter: &Filter, total: u64) -> (u64, BTreeSet<String>) {
    let request =
        |page: usize| SearchRequest { filter: Some(filter.clone()), page, per_page: 100, ..SearchRequest::default() };
    let pages = if total <= 1_000 { total.div_ceil(100) as usize } else { 1 };
    let mut ids = BTreeSet::new();
    for page in 1..=pages {
        ids.extend(index.search_ids(&request(page), &scorer()).unwrap().into_iter().map(|h| h.id));
    }
    (total, ids)
}

fn token(text: impl Into<String>) -> Token {
    Token::new(text)
}

/// A numeric field and a value for it: prices and ratings around the catalog's, review counts
/// below and above the range held, dates as RFC 3339.
fn numeric() -> impl Strategy<Value = (&'static str, String)> + Clone {
    let price = prop_oneof![Just(0.0), 10.0..2000.0f64].prop_map(|v| format!("{v:.2}"));
    let rating = (0u32..=50).prop_map(|v| format!("{}", f64::from(v) / 10.0));
    let reviews = (-3i32..60).prop_map(|v| v.to_string());
    let day = (1_699_000_000i64..1_790_000_000).prop_map(|v| {
        time::OffsetDateTime::from_unix_timestamp(v)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    });
    let released = (1_599_000_000i64..1_662_000_000).prop_map(|v| v.to_string());
    prop_oneof![
        (Just("price"), price.clone()),
        (Just("rating"), rating),
        (Just("review_count"), reviews),
        (Just("updated_at"), day),
        (Just("pricing.market"), price),
        (Just("released"), released),
    ]
}

/// Conditions on the built-in fields, with values drawn from the catalog (so they match
/// something) or made up (so some do not).
fn condition(brands: Vec<String>, paths: Vec<String>, keywords: Keywords) -> impl Strategy<Value = Filter> {
    let brand = prop::sample::select(brands);
    let path = prop::sample::select(paths);
    let attribute = (0..3usize, prop::collection::vec(any::<prop::sample::Index>(), 1..4), 0..10usize).prop_map(
        move |(which, picks, op)| {
            let (field, values) =
                [("sub_category", &keywords.sub_categories), ("type", &keywords.types), ("tags", &keywords.tags)]
                    [which];
            let values: Vec<Token> = picks.iter().map(|i| token(i.get(values).clone())).collect();
            let op = match op {
                0 | 1 => Op::Equal(values[0].clone()),
                2 => Op::NotEqual(values[0].clone()),
                3 | 4 => Op::In(values),
                5 => Op::NotIn(values),
                _ => [Op::Exists, Op::NotExists, Op::IsNull, Op::IsNotNull, Op::IsEmpty, Op::IsNotEmpty]
                    [(op + values.len()) % 6]
                    .clone(),
            };
            Filter::Condition(Condition { field: token(field), op })
        },
    );
    let discounted = (any::<bool>(), 0..3usize).prop_map(|(b, op)| {
        let op = match op {
            0 => Op::Equal(token(b.to_string())),
            1 => Op::NotEqual(token(b.to_string())),
            _ => Op::IsNull,
        };
        Filter::Condition(Condition { field: token("pricing.discounted"), op })
    });
    let compare = (numeric(), 0..7usize).prop_map(|((field, v), op)| {
        let v = token(v);
        let op = match op {
            0 => Op::Equal(v),
            1 => Op::NotEqual(v),
            2 => Op::Greater(v),
            3 => Op::GreaterOrEqual(v),
            4 => Op::Less(v),
            5 => Op::LessOrEqual(v),
            _ => Op::Exists,
        };
        Filter::Condition(Condition { field: token(field), op })
    });
    let between = (numeric(), numeric()).prop_filter_map("same field", |((f1, a), (f2, b))| {
        (f1 == f2).then(|| {
            Filter::Condition(Condition { field: token(f1), op: Op::Between { from: token(a), to: token(b) } })
        })
    });
    let keyword = (prop_oneof![Just("brand"), Just("category")], prop::collection::vec((brand, path), 1..4), 0..5usize)
        .prop_map(|(field, values, op)| {
            let values: Vec<Token> =
                values.into_iter().map(|(b, c)| token(if field == "brand" { b } else { c })).collect();
            let op = match op {
                0 => Op::Equal(values[0].clone()),
                1 => Op::NotEqual(values[0].clone()),
                2 => Op::In(values),
                3 => Op::NotIn(values),
                _ => [Op::Exists, Op::NotExists, Op::IsNull, Op::IsEmpty, Op::IsNotEmpty][values.len() % 5].clone(),
            };
            Filter::Condition(Condition { field: token(field), op })
        });
    let stock = any::<bool>()
        .prop_map(|b| Filter::Condition(Condition { field: token("in_stock"), op: Op::Equal(token(b.to_string())) }));
    prop_oneof![4 => compare, 1 => between, 3 => keyword, 1 => stock, 4 => attribute, 1 => discounted]
}

/// Keyword attributes' values to draw from: the catalog's own and a few it does not hold.
#[derive(Debug, Clone)]
struct Keywords {
    sub_categories: Vec<String>,
    types: Vec<String>,
    tags: Vec<String>,
}

fn expression(brands: Vec<String>, paths: Vec<String>, keywords: Keywords) -> impl Strategy<Value = Filter> {
    condition(brands, paths, keywords).prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

/// The facets every case counts: keyword, boolean, and numeric with ranges.
const FACETS: [&str; 7] = ["type", "tags", "pricing.discounted", "price", "pricing.market", "released", "category"];
/// Facets a case may count disjunctively, with a condition on it ANDed to its filter.
const DISJUNCTIVE: [&str; 4] = ["brand", "type", "tags", "sub_category"];

fn ranges() -> BTreeMap<String, Vec<FacetRange>> {
    let parse = |list: &[&str]| list.iter().map(|r| r.parse().unwrap()).collect();
    BTreeMap::from([
        ("price".to_string(), parse(&["-50", "50-100", "100-250.5", "250.5-"])),
        ("pricing.market".to_string(), parse(&["0-100", "75-300", "1000-"])),
        ("released".to_string(), parse(&["-1620000000", "1620000000-1640000000"])),
    ])
}

/// A facet's values over `products`, as the engine orders them (count desc, then value), the
/// first 1,000.
fn brute_values(rows: &[&Row], facet: &str) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for row in rows {
        let p = &row.p;
        let values: BTreeSet<String> = match facet {
            "brand" => p.brand.iter().map(|b| b.trim().to_string()).filter(|b| !b.is_empty()).collect(),
            "category" => p.category.first().map(|c| c.trim().to_string()).into_iter().collect(),
            _ => row.values[facet]
                .iter()
                .map(|v| match v {
                    Value::Text(t) => t.clone(),
                    Value::Bool(b) => b.to_string(),
                })
                .collect(),
        };
        for v in values {
            *counts.entry(v).or_default() += 1;
        }
    }
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(1_000);
    v
}

/// A numeric facet's (count, min, max, sum, range counts) over `products`.
fn brute_stats(rows: &[&Row], facet: &str) -> (u64, Option<f64>, Option<f64>, f64, Vec<u64>) {
    let ranges = ranges().get(facet).cloned().unwrap_or_default();
    let (mut count, mut min, mut max, mut sum) = (0u64, None::<f64>, None::<f64>, 0.0);
    let mut in_ranges = vec![0u64; ranges.len()];
    for row in rows {
        let values: Vec<f64> = match facet {
            "price" => row.p.price.into_iter().collect(),
            _ => row.numbers[facet].clone(),
        };
        for &v in &values {
            count += 1;
            sum += v;
            min = Some(min.map_or(v, |m| m.min(v)));
            max = Some(max.map_or(v, |m| m.max(v)));
        }
        for (i, r) in ranges.iter().enumerate() {
            in_ranges[i] += u64::from(values.iter().any(|v| r.contains(*v)));
        }
    }
    (count, min, max, sum, in_ranges)
}

/// Checks every facet of `response` against a plain count over the products the request's
/// clauses (all of them, or for a disjunctive facet those not on it) hold for.
fn check_facets(
    products: &[Row],
    request: &SearchRequest,
    response: &SearchResponse,
    matched: &BTreeSet<String>,
) -> Result<(), TestCaseError> {
    let clauses = request.validated_clauses(&schema()).unwrap();
    let context = request.filter.as_ref().map(ToString::to_string).unwrap_or_default();
    let matching: Vec<&Row> = products.iter().filter(|r| matched.contains(&r.p.id)).collect();
    let facets = request.facets.iter().chain(&request.disjunctive);
    for facet in facets {
        let name = facet.as_str();
        let over: Vec<&Row> = if request.disjunctive.contains(facet) {
            let on = |c: &Resolved| c.fields().iter().all(|f| f.name() == name);
            let kept: Vec<&Resolved> = clauses.iter().filter(|c| !on(c)).collect();
            products.iter().filter(|p| kept.iter().all(|c| holds(c, p))).collect()
        } else {
            matching.clone()
        };
        if let Some(stats) = response.facet_stats.get(name) {
            let (count, min, max, sum, in_ranges) = brute_stats(&over, name);
            prop_assert_eq!(stats.count, count, "{} count under {}", name, context);
            prop_assert_eq!(stats.min, min, "{} min under {}", name, context);
            prop_assert_eq!(stats.max, max, "{} max under {}", name, context);
            prop_assert!((stats.sum - sum).abs() <= 1e-6 * sum.abs().max(1.0), "{} sum {} vs {}", name, stats.sum, sum);
            let got: Vec<u64> = stats.ranges.iter().map(|r| r.count).collect();
            prop_assert_eq!(got, in_ranges, "{} ranges under {}", name, context);
        } else if name == "category" && request.category_depth > 1 {
            fn walk(values: &[searchd_catalog::FacetCount], out: &mut Vec<(String, u64)>) {
                for v in values {
                    out.push((v.path.clone().unwrap_or_default(), v.count));
                    walk(&v.children, out);
                }
            }
            let mut got = Vec::new();
            walk(&response.facets[name], &mut got);
            prop_assert_eq!(got, brute_tree(&over, request.category_depth), "category tree under {}", context);
        } else {
            let got: Vec<(String, u64)> = response.facets[name].iter().map(|f| (f.value.clone(), f.count)).collect();
            prop_assert_eq!(got, brute_values(&over, name), "{} values under {}", name, context);
        }
    }
    Ok(())
}

/// The category tree `depth` levels deep, plainly: products per path prefix, each level by
/// count (most first, ties by name), walked depth first as `(path, count)`.
fn brute_tree(rows: &[&Row], depth: usize) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for row in rows {
        let path: Vec<String> = row.p.category.iter().map(|c| c.trim().to_string()).collect();
        for level in 1..=path.len().min(depth) {
            *counts.entry(path[..level].to_vec()).or_default() += 1;
        }
    }
    fn walk(counts: &BTreeMap<Vec<String>, u64>, parent: &[String], out: &mut Vec<(String, u64)>) {
        let mut level: Vec<(&Vec<String>, u64)> = counts
            .iter()
            .filter(|(p, _)| p.len() == parent.len() + 1 && p.starts_with(parent))
            .map(|(p, c)| (p, *c))
            .collect();
        level.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.last().cmp(&b.0.last())));
        for (path, count) in level {
            out.push((path.join("/"), count));
            walk(counts, path, out);
        }
    }
    let mut out = Vec::new();
    walk(&counts, &[], &mut out);
    out
}

/// The catalog, its index and its rows.
type Shared = (Vec<Product>, ProductIndex, Vec<Row>);

/// [`Shared`], built once for the tests that share it.
fn shared() -> Option<&'static Shared> {
    static SHARED: std::sync::OnceLock<Option<Shared>> = std::sync::OnceLock::new();
    SHARED
        .get_or_init(|| {
            let products = catalog()?;
            let index = index_of(products.clone());
            let table = rows(&products);
            Some((products, index, table))
        })
        .as_ref()
}

/// A product's sort key as the engine defines it, read plainly: per key the smallest value
/// ascending (negated, so larger is first) or the largest descending, missing values last.
fn brute_key(row: &Row, sort: &[(String, bool)]) -> Vec<f64> {
    sort.iter()
        .map(|(field, descending)| {
            let p = &row.p;
            let values: Vec<f64> = match field.as_str() {
                "price" => p.price.into_iter().collect(),
                "rating" => p.rating.into_iter().collect(),
                "review_count" => vec![p.review_count as f64],
                "popularity" => vec![p.popularity],
                "updated_at" => p.updated_at.map(|t| t.unix_timestamp() as f64).into_iter().collect(),
                "pricing.discounted" => {
                    row.values[field.as_str()].iter().map(|v| if *v == Value::Bool(true) { 1.0 } else { 0.0 }).collect()
                }
                other => row.numbers[other].clone(),
            };
            let pick = if *descending {
                values.iter().copied().reduce(f64::max)
            } else {
                values.iter().copied().reduce(f64::min)
            };
            match pick {
                Some(v) if *descending => v,
                Some(v) => -v,
                None => f64::NEG_INFINITY,
            }
        })
        .collect()
}

#[test]
fn random_multi_key_sorts_equal_a_brute_force_sort() {
    let Some((_, index, table)) = shared() else { return };
    let fields = [
        "price",
        "rating",
        "review_count",
        "popularity",
        "updated_at",
        "pricing.market",
        "released",
        "pricing.discounted",
    ];
    let key = (prop::sample::select(fields.to_vec()), any::<bool>());
    let strategy = (prop::collection::vec(key, 1..4), prop::option::of(0..3usize));
    let mut runner = TestRunner::new(Config { cases: 60, failure_persistence: None, ..Config::default() });
    let text_only = searchd_catalog::Ranker::first_phase(std::sync::Arc::new(searchd_catalog::TextOnlyScorer));
    runner
        .run(&strategy, |(keys, filter)| {
            let mut sort: Vec<(String, bool)> = Vec::new();
            for (field, descending) in keys {
                if !sort.iter().any(|(f, _)| f == field) {
                    sort.push((field.to_string(), descending));
                }
            }
            let text = sort
                .iter()
                .map(|(f, d)| format!("{f}:{}", if *d { "desc" } else { "asc" }))
                .collect::<Vec<_>>()
                .join(",");
            let filter = filter.map(|i| ["pricing.market > 100", "tags EXISTS", "NOT rating >= 4"][i]);
            let parsed = filter.map(|f| Filter::parse(f).unwrap());
            let resolved = parsed.as_ref().map(|f| f.resolve(&schema()).unwrap());
            let mut expected: Vec<Vec<f64>> = table
                .iter()
                .filter(|r| resolved.as_ref().is_none_or(|f| holds(f, r)))
                .map(|r| brute_key(r, &sort))
                .collect();
            expected.sort_by(|a, b| b.partial_cmp(a).unwrap());
            expected.truncate(200);
            let by_id: HashMap<&str, &Row> = table.iter().map(|r| (r.p.id.as_str(), r)).collect();
            let mut got = Vec::new();
            for page in 1..=2 {
                let request = SearchRequest {
                    sort: text.parse().unwrap(),
                    filter: parsed.clone(),
                    page,
                    per_page: 100,
                    ..SearchRequest::default()
                };
                for hit in index.search_ids(&request, &text_only).unwrap() {
                    got.push(brute_key(by_id[hit.id.as_str()], &sort));
                }
            }
            prop_assert_eq!(got, expected, "sort={} filter={:?}", text, filter);
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_filters_and_their_facets_equal_brute_force() {
    let Some((products, index, table)) = shared() else { return };
    let (products, index, table) = (products.as_slice(), index, table.as_slice());
    let brands: Vec<String> = products
        .iter()
        .filter_map(|p| p.brand.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .chain(["No Such Brand".into(), "Ben's \"Best\"".into()])
        .collect();
    let mut paths: BTreeSet<String> = BTreeSet::new();
    for p in products {
        for depth in 1..=p.category.len() {
            paths.insert(p.category[..depth].join("/"));
        }
    }
    paths.insert("Nowhere/Else".into());
    let paths: Vec<String> = paths.into_iter().collect();
    let keyword = |name: &str| -> Vec<String> {
        let mut values: BTreeSet<String> = products
            .iter()
            .flat_map(|p| attribute_values(p, name, AttributeType::Keyword))
            .filter_map(|v| if let Value::Text(t) = v { Some(t) } else { None })
            .collect();
        values.insert("none such".into());
        values.into_iter().collect()
    };
    let keywords = Keywords { sub_categories: keyword("sub_category"), types: keyword("type"), tags: keyword("tags") };
    let disjunctive =
        (prop::sample::select(DISJUNCTIVE.to_vec()), prop::collection::vec(any::<prop::sample::Index>(), 1..3));
    let values_of = keywords.clone();
    let brand_values = brands.clone();
    let strategy = (expression(brands, paths, keywords), prop::option::weighted(0.5, disjunctive));
    let cases = std::env::var("SEARCHD_FILTER_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let (exact, nonempty, with_disjunctive) = (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    runner
        .run(&strategy, |(filter, disjunctive)| {
            // A disjunctive facet comes with a condition on itself, as a ticked checkbox does.
            let (filter, disjunctive) = match disjunctive {
                None => (filter, None),
                Some((name, picks)) => {
                    let pool = match name {
                        "brand" => &brand_values,
                        "type" => &values_of.types,
                        "tags" => &values_of.tags,
                        _ => &values_of.sub_categories,
                    };
                    let values = picks.iter().map(|i| token(i.get(pool).clone())).collect();
                    let ticked = Filter::Condition(Condition { field: token(name), op: Op::In(values) });
                    (Filter::And(vec![ticked, filter]), Some(name))
                }
            };
            // What a client sends: the text, parsed back.
            let text = filter.to_string();
            let parsed = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            let resolved = parsed.resolve(&schema()).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            let expected: BTreeSet<String> =
                table.iter().filter(|r| holds(&resolved, r)).map(|r| r.p.id.clone()).collect();
            let request = SearchRequest {
                filter: Some(parsed.clone()),
                per_page: 1,
                facets: FACETS.iter().map(|f| f.parse().unwrap()).collect(),
                disjunctive: disjunctive.iter().map(|f| f.parse::<FacetField>().unwrap()).collect(),
                max_values_per_facet: 1_000,
                facet_order: FacetOrder::Count,
                facet_ranges: ranges(),
                // The category facet as a tree of one to three levels.
                category_depth: text.len() % 3 + 1,
                ..SearchRequest::default()
            };
            let response = index.search(&request, &scorer()).unwrap();
            let (total, ids) = engine(index, &parsed, response.total_hits);
            prop_assert_eq!(total, expected.len() as u64, "{}", text);
            // The page of the search with facets holds for the filter too (disjunctive facets are
            // counted in its pass, behind gates).
            prop_assert!(response.hits.iter().all(|h| expected.contains(&h.product.id)), "{}", text);
            if total <= 1_000 {
                exact.set(exact.get() + 1);
                prop_assert_eq!(&ids, &expected, "{}", text);
            } else {
                prop_assert!(ids.is_subset(&expected), "{}", text);
            }
            check_facets(table, &request, &response, &expected)?;
            nonempty.set(nonempty.get() + u32::from(total > 0));
            with_disjunctive.set(with_disjunctive.get() + u32::from(disjunctive.is_some()));
            Ok(())
        })
        .unwrap();
    println!(
        "filters: {cases} random expressions over {} products; {} compared id by id, {} non-empty; \
         facets equal brute force in all ({} with a disjunctive facet)",
        products.len(),
        exact.get(),
        nonempty.get(),
        with_disjunctive.get()
    );
    assert!(nonempty.get() * 4 > cases, "too few filters matched anything: {} of {cases}", nonempty.get());
}

#[test]
fn range_ends_and_whole_numbers() {
    let mut products: Vec<Product> = (0..6)
        .map(|i| {
            let mut p = Product::new(format!("p{i}"), "thing");
            p.review_count = i;
            p.price = (i % 2 == 0).then_some(i as f64 * 10.0);
            p
        })
        .collect();
    products[0].brand = Some("Ben's \"Best\"".into());
    let index = index_of(products.clone());
    let ids = |text: &str| {
        let filter = Filter::parse(text).unwrap();
        let request = SearchRequest { filter: Some(filter.clone()), ..SearchRequest::default() };
        let total = index.search(&request, &scorer()).unwrap().total_hits;
        engine(&index, &filter, total).1.into_iter().collect::<Vec<_>>()
    };
    assert_eq!(ids("review_count > 2.5"), ["p3", "p4", "p5"]);
    assert_eq!(ids("review_count < -1"), Vec::<String>::new());
    assert_eq!(ids("review_count 1.5 TO 3"), ["p2", "p3"]);
    assert_eq!(ids("price = 20"), ["p2"]);
    assert_eq!(ids("price NOT EXISTS"), ["p1", "p3", "p5"]);
    assert_eq!(ids("price != 20"), ["p0", "p1", "p3", "p4", "p5"]);
    assert_eq!(ids(r#"brand = "Ben's \"Best\"""#), ["p0"]);
    assert_eq!(ids("brand EXISTS"), ["p0"]);
    assert_eq!(ids("NOT brand EXISTS AND review_count <= 1"), ["p1"]);
    // The brute force reads them the same way.
    for text in ["review_count > 2.5", "price != 20", "brand EXISTS"] {
        let resolved = Filter::parse(text).unwrap().resolve(&schema()).unwrap();
        let brute: Vec<String> =
            rows(&products).iter().filter(|r| holds(&resolved, r)).map(|r| r.p.id.clone()).collect();
        assert_eq!(brute, ids(text), "{text}");
    }
}

#[test]
fn distinct_returns_one_best_hit_per_group_and_counts_groups() {
    let Some((_, index, table)) = shared() else { return };
    let fields = ["price", "rating", "review_count", "pricing.market", "released"];
    let key = (prop::sample::select(fields.to_vec()), any::<bool>());
    let strategy = (prop::sample::select(vec!["type", "tags", "sub_category"]), prop::option::of(key), 0..4usize);
    let mut runner = TestRunner::new(Config { cases: 40, failure_persistence: None, ..Config::default() });
    let text_only = searchd_catalog::Ranker::first_phase(std::sync::Arc::new(searchd_catalog::TextOnlyScorer));
    let by_id: HashMap<&str, &Row> = table.iter().map(|r| (r.p.id.as_str(), r)).collect();
    runner
        .run(&strategy, |(distinct, key, filter)| {
            let sort: Vec<(String, bool)> = key.map(|(f, d)| (f.to_string(), d)).into_iter().collect();
            let text = sort.iter().map(|(f, d)| format!("{f}:{}", if *d { "desc" } else { "asc" })).collect::<Vec<_>>();
            let filter = ["", "pricing.market > 100", "tags EXISTS", "NOT rating >= 4"][filter];
            let parsed = (!filter.is_empty()).then(|| Filter::parse(filter).unwrap());
            let resolved = parsed.as_ref().map(|f| f.resolve(&schema()).unwrap());
            // The group of a row: its smallest value, or the row alone.
            let group = |r: &Row| -> String {
                let values = r.values[distinct]
                    .iter()
                    .filter_map(|v| if let Value::Text(t) = v { Some(t.clone()) } else { None });
                values.min().unwrap_or_else(|| format!("\u{0}{}", r.p.id))
            };
            let mut best: HashMap<String, Vec<f64>> = HashMap::new();
            for r in table.iter().filter(|r| resolved.as_ref().is_none_or(|f| holds(f, r))) {
                let k = brute_key(r, &sort);
                let entry = best.entry(group(r)).or_insert_with(|| k.clone());
                if k > *entry {
                    *entry = k;
                }
            }
            let mut expected: Vec<Vec<f64>> = best.values().cloned().collect();
            expected.sort_by(|a, b| b.partial_cmp(a).unwrap());
            expected.truncate(200);
            let (mut got, mut groups, mut total) = (Vec::new(), BTreeSet::new(), 0);
            for page in 1..=2 {
                let request = SearchRequest {
                    sort: text.join(",").parse().unwrap(),
                    filter: parsed.clone(),
                    distinct: Some(distinct.to_string()),
                    page,
                    per_page: 100,
                    ..SearchRequest::default()
                };
                total = index
                    .search(&SearchRequest { per_page: 1, page: 1, ..request.clone() }, &text_only)
                    .unwrap()
                    .total_hits;
                for hit in index.search_ids(&request, &text_only).unwrap() {
                    let row = by_id[hit.id.as_str()];
                    let g = group(row);
                    // The hit is its group's best.
                    prop_assert_eq!(&brute_key(row, &sort), &best[&g], "{} {:?}", distinct, filter);
                    prop_assert!(groups.insert(g), "a group twice: {} {:?}", distinct, filter);
                    got.push(brute_key(row, &sort));
                }
            }
            prop_assert_eq!(total, best.len() as u64, "groups of {} under {:?}", distinct, filter);
            prop_assert_eq!(got, expected, "{} {:?} {:?}", distinct, text, filter);
            Ok(())
        })
        .unwrap();
}
