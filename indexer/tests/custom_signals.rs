//! Text weights and custom ranking signals on BigBasket. A brand weight set at runtime moves
//! the queried brand's products up for "brand type" queries. Custom signals: a discount signal (`market_price - price`) multiplies
//! each product's phase-1 score by exactly the factor a plain computation gives from the row,
//! moves discounted products up without costing the category fit of the top 10, shows in
//! explain and in phase 2's `custom_signals` feature, and goes away with the settings.

use std::collections::{BTreeSet, HashMap};

use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_catalog::signals::Signal;
use searchd_catalog::{Product, RankingMode, SearchRequest, Settings, feature_index};
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::json;

use crate::scorer;

/// BigBasket with `market_price` declared (sortable) and each row's `type`.
fn catalog() -> Option<(Vec<Product>, HashMap<String, String>)> {
    let mut products = searchd_testkit::bigbasket_products()?;
    let rows = searchd_testkit::csv_records("bigbasket_products/bigbasket_products_no_description.csv.gz")?;
    let mut types = HashMap::new();
    for (p, r) in products.iter_mut().zip(&rows) {
        if let Ok(market) = r[6].trim().parse::<f64>() {
            p.attributes.insert("market_price".into(), json!(market));
        }
        types.insert(p.id.clone(), r[7].trim().to_lowercase());
    }
    products.retain(|p| p.validate().is_ok());
    Some((products, types))
}

fn discount_signal(weight: f64) -> Signal {
    serde_json::from_value(json!({
        "name": "discount", "value": "market_price - price", "shape": "log", "max": 1000, "weight": weight
    }))
    .unwrap()
}

fn top(index: &ProductIndex, q: &str) -> Vec<(String, f32)> {
    let request = SearchRequest { q: q.into(), per_page: 10, ranking: RankingMode::Phase1, ..Default::default() };
    index.search_ids(&request, &scorer()).unwrap().into_iter().map(|h| (h.id, h.score)).collect()
}

#[test]
fn a_discount_signal_moves_discounted_products_up_by_the_factor_the_rows_give() {
    let Some((products, types)) = catalog() else { return };
    let discount: HashMap<String, Option<f64>> = products
        .iter()
        .map(|p| {
            let market = p.attributes.get("market_price").and_then(|v| v.as_f64());
            (p.id.clone(), market.zip(p.price).map(|(m, s)| m - s))
        })
        .collect();
    let index = ProductIndex::in_memory(IndexConfig { commit_every_docs: 10_000, ..IndexConfig::small() }).unwrap();
    let schema =
        AttributeSchema([("market_price".to_string(), AttributeSettings::filterable(AttributeType::Number))].into());
    index
        .apply_settings(Settings { version: 1, attributes: schema.clone(), ..Default::default() }, &|_, _| {})
        .unwrap();
    let prepared = products.iter().cloned().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();

    // The queries: the catalog's product types, as a shopper would type them.
    let queries: Vec<String> = types.values().cloned().collect::<BTreeSet<_>>().into_iter().step_by(3).collect();
    let before: Vec<Vec<(String, f32)>> = queries.iter().map(|q| top(&index, q)).collect();

    let weight = 0.5;
    let signal = discount_signal(weight);
    let compiled = signal.compiled().unwrap();
    let applied = index
        .apply_settings(
            Settings { version: 2, attributes: schema.clone(), signals: vec![signal], ..Default::default() },
            &|_, _| {},
        )
        .unwrap();
    assert_eq!(applied.rewritten, 0, "signals apply at once");
    let after: Vec<Vec<(String, f32)>> = queries.iter().map(|q| top(&index, q)).collect();

    // Each product's score is its score before times the factor of its row's discount.
    let mut compared = 0;
    for (b, a) in before.iter().zip(&after) {
        let old: HashMap<&str, f32> = b.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        for (id, score) in a {
            if let Some(old) = old.get(id.as_str()) {
                let factor = compiled.factor(discount[id]) as f32;
                assert!((score / old - factor).abs() <= 1e-4 * factor, "{id}: {old} → {score}, factor {factor}");
                compared += 1;
            }
        }
    }
    assert!(compared > 500, "{compared} hits compared");

    // Measured over the queries' top 10: discounted products up, the category fit kept.
    let measure = |tops: &[Vec<(String, f32)>]| {
        let (mut hits, mut discounted, mut fit, mut share) = (0f64, 0f64, 0f64, 0f64);
        for (q, top) in queries.iter().zip(tops) {
            for (id, _) in top {
                hits += 1.0;
                let d = discount[id].unwrap_or(0.0);
                discounted += f64::from(u8::from(d > 0.0));
                fit += f64::from(u8::from(&types[id] == q));
                let price = products.iter().find(|p| &p.id == id).and_then(|p| p.price).unwrap_or(0.0);
                share += if price + d > 0.0 { d / (price + d) } else { 0.0 };
            }
        }
        (discounted / hits, share / hits, fit / hits)
    };
    let (d0, s0, f0) = measure(&before);
    let (d1, s1, f1) = measure(&after);
    println!(
        "BigBasket, {} type queries, phase 1 top 10: discounted {:.3} → {:.3}, mean discount {:.3} → {:.3}, \
         same type {:.3} → {:.3}",
        queries.len(),
        d0,
        d1,
        s0,
        s1,
        f0,
        f1
    );
    assert!(d1 > d0 + 0.03 && s1 > s0, "discounted products move up");
    assert!(f1 >= f0 - 0.02, "the category fit of the top 10 is kept: {f0} → {f1}");

    // Explain names the signal with its value and factor; phase 2 reads its logarithm.
    let q = &queries[0];
    let request = SearchRequest { q: q.clone(), per_page: 3, explain: true, ..Default::default() };
    let response = index.search(&request, &scorer()).unwrap();
    for hit in &response.hits {
        let parts = &hit.explain.as_ref().unwrap().phase1.components;
        let part = parts.iter().find(|c| c.name == "discount").unwrap_or_else(|| panic!("{parts:?}"));
        let d = discount[&hit.product.id];
        assert_eq!(part.factor, compiled.factor(d));
        assert_eq!(part.value, d.unwrap_or(0.0));
        let product: f64 = parts.iter().map(|c| if c.name == "text" { c.value } else { c.factor }).product();
        assert!((product as f32 - hit.score).abs() <= 1e-3 * hit.score, "{parts:?} vs {}", hit.score);
    }
    let slot = feature_index("custom_signals").unwrap();
    let candidates = index.candidates(&SearchRequest { q: q.clone(), ..Default::default() }, &scorer(), None).unwrap();
    assert!(!candidates.is_empty());
    for c in &candidates {
        let expected = compiled.factor(discount[&c.id]).ln() as f32;
        assert!((c.features[slot] - expected).abs() < 1e-5, "{}: {} vs {expected}", c.id, c.features[slot]);
    }

    // Without the signal, the scores are the ones before.
    index.apply_settings(Settings { version: 3, attributes: schema, ..Default::default() }, &|_, _| {}).unwrap();
    assert_eq!(top(&index, &queries[0]), before[0]);
}

#[test]
fn a_brand_weight_set_at_runtime_moves_the_queried_brand_up() {
    let Some((products, types)) = catalog() else { return };
    let index = ProductIndex::in_memory(IndexConfig { commit_every_docs: 10_000, ..IndexConfig::small() }).unwrap();
    let prepared = products.iter().cloned().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();
    // "brand type" for the 80 brands with the most products, each with its most common type.
    let mut by_brand: HashMap<String, HashMap<&str, usize>> = HashMap::new();
    for p in &products {
        if let Some(brand) = &p.brand {
            *by_brand.entry(brand.to_lowercase()).or_default().entry(types[&p.id].as_str()).or_default() += 1;
        }
    }
    let mut brands: Vec<(usize, &String, &str)> = by_brand
        .iter()
        .map(|(b, t)| {
            let (ty, _) = t.iter().max_by_key(|(ty, n)| (**n, std::cmp::Reverse(**ty))).unwrap();
            (t.values().sum(), b, *ty)
        })
        .collect();
    brands.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let queries: Vec<(String, &str, &str)> =
        brands.iter().take(80).map(|(_, b, ty)| (format!("{b} {ty}"), b.as_str(), *ty)).collect();
    let brand_of: HashMap<&str, String> =
        products.iter().map(|p| (p.id.as_str(), p.brand.clone().unwrap_or_default().to_lowercase())).collect();
    let measure = || {
        let (mut hits, mut brand, mut ty) = (0f64, 0f64, 0f64);
        for (q, b, t) in &queries {
            for (id, _) in top(&index, q) {
                hits += 1.0;
                brand += f64::from(u8::from(brand_of[id.as_str()] == *b));
                ty += f64::from(u8::from(types[&id] == *t));
            }
        }
        (brand / hits, ty / hits)
    };
    let served = measure();
    let mut shares = Vec::new();
    for (version, weight) in [(1, 0.5), (2, 8.0)] {
        let weights = [("brand".to_string(), weight)].into();
        index.apply_settings(Settings { version, weights, ..Default::default() }, &|_, _| {}).unwrap();
        shares.push(measure());
    }
    println!(
        "BigBasket, {} brand + type queries, phase 1 top 10 (share of the brand, of the type): brand weight 0.5 \
         {:.3} / {:.3}, configured {:.3} / {:.3}, 8 {:.3} / {:.3}",
        queries.len(),
        shares[0].0,
        shares[0].1,
        served.0,
        served.1,
        shares[1].0,
        shares[1].1
    );
    assert!(shares[0].0 < served.0 && served.0 < shares[1].0, "the brand's share grows with its weight");
    index.apply_settings(Settings { version: 3, ..Default::default() }, &|_, _| {}).unwrap();
    assert_eq!(measure(), served, "without the override, the configured weight again");
}

fn number() -> AttributeSettings {
    AttributeSettings::filterable(AttributeType::Number)
}

#[test]
fn a_signal_on_what_is_not_a_held_number_is_refused_with_the_entry() {
    let live = Settings {
        version: 1,
        attributes: AttributeSchema(
            [
                ("colour".to_string(), AttributeSettings::filterable(AttributeType::Keyword)),
                (
                    "margin".to_string(),
                    AttributeSettings { filterable: false, facetable: false, sortable: false, ..number() },
                ),
                ("promoted".to_string(), AttributeSettings::filterable(AttributeType::Boolean)),
            ]
            .into(),
        ),
        ..Default::default()
    };
    let patch = |signals: serde_json::Value| live.patched(&json!({ "signals": signals }), &[]);
    let ok = patch(json!([{"value": "promoted", "weight": 0.2}, {"value": "- rating", "weight": 0.1}])).unwrap();
    assert_eq!(ok.signals.len(), 2);
    let cases = [
        (json!([{"value": "colour", "weight": 1}]), "signals[0].value: `colour` is a keyword attribute"),
        (
            json!([{"value": "promoted", "weight": 1}, {"value": "margin", "weight": 1}]),
            "signals[1].value: `margin` is not held",
        ),
        (json!([{"value": "size", "weight": 1}]), "signals[0].value: `size` is not a number of the products"),
        (json!([{"value": "price", "weight": 1, "shape": "log"}]), "signals[0].max:"),
        (json!([{"value": "price"}]), "signals[0]: missing field `weight`"),
    ];
    for (signals, expected) in cases {
        let error = patch(signals.clone()).unwrap_err();
        assert!(error.starts_with(expected), "{signals}: {error}");
    }
    // Removing a number a signal reads is refused too.
    let error = ok.patched(&json!({"attributes": {"promoted": null}}), &[]).unwrap_err();
    assert!(error.starts_with("signals[0].value: `promoted`"), "{error}");
    // The index checks the same before it serves settings.
    let index = ProductIndex::in_memory(IndexConfig::small()).unwrap();
    let bad = Settings { version: 1, signals: vec![discount_signal(0.5)], ..Default::default() };
    let error = index.apply_settings(bad, &|_, _| {}).unwrap_err().to_string();
    assert!(error.contains("signals[0].value: `market_price`"), "{error}");
}
