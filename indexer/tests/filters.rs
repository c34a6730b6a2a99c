//! The filter language against brute force: random filter expressions over the built-in fields
//! of the real BigBasket catalog (brand, the category path, price, rating; stock, review counts
//! and update times added per row), printed, parsed back, resolved and searched, return exactly
//! the products a plain evaluation of the same expression over the rows returns.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::ops::RangeBounds;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use searchd_catalog::filter::{Builtin, Condition, Filter, Op, Resolved, Token, Value};
use searchd_catalog::{Product, SearchRequest};
use searchd_indexer::ProductIndex;

use crate::{index_of, scorer};

/// BigBasket's rows with the fields it lacks filled in from the row number.
fn catalog() -> Option<Vec<Product>> {
    let mut products = searchd_testkit::bigbasket_products()?;
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

/// The obviously correct reading of a resolved filter for one product.
fn holds(filter: &Resolved, p: &Product) -> bool {
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
        Resolved::And(parts) => parts.iter().all(|f| holds(f, p)),
        Resolved::Or(parts) => parts.iter().any(|f| holds(f, p)),
        Resolved::Not(part) => !holds(part, p),
        Resolved::AnyOf(field, values) => values.iter().any(|v| match (field, v) {
            (Builtin::Brand, Value::Text(b)) => !b.trim().is_empty() && brand == Some(b.trim()),
            (Builtin::Category, Value::Text(path)) => {
                let want = segments(path);
                let have: Vec<String> = p.category.iter().map(|c| c.trim().to_string()).collect();
                !want.iter().any(String::is_empty) && have.len() >= want.len() && have[..want.len()] == want[..]
            }
            (Builtin::InStock, Value::Bool(b)) => p.in_stock == *b,
            _ => false,
        }),
        Resolved::Range(field, lower, upper) => number(*field).is_some_and(|v| (*lower, *upper).contains(&v)),
        Resolved::Exists(field) => match field {
            Builtin::Brand => brand.is_some(),
            Builtin::Category => !p.category.is_empty(),
            other => number(*other).is_some() || matches!(other, Builtin::InStock | Builtin::Language),
        },
    }
}

/// Every id the engine returns for `filter`, when there are at most 1,000, else the count and
/// the first page.
fn engine(index: &ProductIndex, filter: &Filter) -> (u64, BTreeSet<String>) {
    let request =
        |page: usize| SearchRequest { filter: Some(filter.clone()), page, per_page: 100, ..SearchRequest::default() };
    let total = index.search(&SearchRequest { per_page: 1, ..request(1) }, &scorer()).unwrap().total_hits;
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
    prop_oneof![
        (Just("price"), price),
        (Just("rating"), rating),
        (Just("review_count"), reviews),
        (Just("updated_at"), day),
    ]
}

/// Conditions on the built-in fields, with values drawn from the catalog (so they match
/// something) or made up (so some do not).
fn condition(brands: Vec<String>, paths: Vec<String>) -> impl Strategy<Value = Filter> {
    let brand = prop::sample::select(brands);
    let path = prop::sample::select(paths);
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
    prop_oneof![4 => compare, 1 => between, 4 => keyword, 1 => stock]
}

fn expression(brands: Vec<String>, paths: Vec<String>) -> impl Strategy<Value = Filter> {
    condition(brands, paths).prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

#[test]
fn random_filters_return_exactly_what_brute_force_returns() {
    let Some(products) = catalog() else { return };
    let index = index_of(products.clone());
    let brands: Vec<String> = products
        .iter()
        .filter_map(|p| p.brand.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .chain(["No Such Brand".into(), "Ben's \"Best\"".into()])
        .collect();
    let mut paths: BTreeSet<String> = BTreeSet::new();
    for p in &products {
        for depth in 1..=p.category.len() {
            paths.insert(p.category[..depth].join("/"));
        }
    }
    paths.insert("Nowhere/Else".into());
    let paths: Vec<String> = paths.into_iter().collect();
    let cases = std::env::var("SEARCHD_FILTER_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let (exact, nonempty) = (Cell::new(0u32), Cell::new(0u32));
    runner
        .run(&expression(brands, paths), |filter| {
            // What a client sends: the text, parsed back.
            let text = filter.to_string();
            let parsed = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            let resolved = parsed.resolve().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            let expected: BTreeSet<String> =
                products.iter().filter(|p| holds(&resolved, p)).map(|p| p.id.clone()).collect();
            let (total, ids) = engine(&index, &parsed);
            prop_assert_eq!(total, expected.len() as u64, "{}", text);
            if total <= 1_000 {
                exact.set(exact.get() + 1);
                prop_assert_eq!(&ids, &expected, "{}", text);
            } else {
                prop_assert!(ids.is_subset(&expected), "{}", text);
            }
            nonempty.set(nonempty.get() + u32::from(total > 0));
            Ok(())
        })
        .unwrap();
    println!(
        "filters: {cases} random expressions over {} products; {} compared id by id, {} non-empty",
        products.len(),
        exact.get(),
        nonempty.get()
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
    let ids = |text: &str| engine(&index, &Filter::parse(text).unwrap()).1.into_iter().collect::<Vec<_>>();
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
        let resolved = Filter::parse(text).unwrap().resolve().unwrap();
        let brute: Vec<String> = products.iter().filter(|p| holds(&resolved, p)).map(|p| p.id.clone()).collect();
        assert_eq!(brute, ids(text), "{text}");
    }
}
