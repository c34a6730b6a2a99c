//! Merchandising rules on BigBasket: pins at positions 1 and 3 (whether or not the words find
//! the product, never past the request's filters), hidden products gone from hits and totals,
//! buries and boosts multiplying exactly the phase-1 scores of the products their filter
//! selects, time windows on an injected clock, filters added and replaced, redirects, and each
//! effect named in explain.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use searchd_catalog::filter::Filter;
use searchd_catalog::rules::Rule;
use searchd_catalog::{Product, RankingMode, SearchRequest, SearchResponse, Settings};
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::json;

use crate::scorer;

fn index() -> Option<(ProductIndex, Vec<Product>)> {
    let products: Vec<Product> =
        searchd_testkit::bigbasket_products()?.into_iter().filter(|p| p.validate().is_ok()).collect();
    let index = ProductIndex::in_memory(IndexConfig { commit_every_docs: 10_000, ..IndexConfig::small() }).unwrap();
    let prepared = products.iter().cloned().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();
    Some((index, products))
}

fn search(index: &ProductIndex, q: &str, filter: Option<&str>, page: usize, per_page: usize) -> SearchResponse {
    let request = SearchRequest {
        q: q.into(),
        filter: filter.map(|f| Filter::parse(f).unwrap()),
        page,
        per_page,
        ranking: RankingMode::Phase1,
        explain: true,
        ..Default::default()
    };
    index.search(&request, &scorer()).unwrap()
}

fn ids(response: &SearchResponse) -> Vec<String> {
    response.hits.iter().map(|h| h.product.id.clone()).collect()
}

fn rules(version: u64, rules: serde_json::Value) -> Settings {
    let rules: Vec<Rule> = serde_json::from_value(rules).unwrap();
    Settings { version, rules, ..Default::default() }
}

#[test]
fn pins_hides_and_buries_move_exactly_what_they_name() {
    let Some((index, products)) = index() else { return };
    let brand: HashMap<&str, String> =
        products.iter().map(|p| (p.id.as_str(), p.brand.clone().unwrap_or_default())).collect();
    let before = search(&index, "butter", None, 1, 50);
    assert!(before.total_hits > 50, "{}", before.total_hits);
    let ranked = ids(&before);
    // Pin a product the words do not find first, and the 20th third; hide the first; bury the
    // brand with most products in the top 50.
    let stranger = products.iter().find(|p| !p.title.to_lowercase().contains("butter")).unwrap().id.clone();
    let (hidden, twentieth) = (ranked[0].clone(), ranked[19].clone());
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &ranked {
        *counts.entry(brand[id.as_str()].as_str()).or_default() += 1;
    }
    let buried_brand = counts.iter().max_by_key(|(b, n)| (**n, std::cmp::Reverse(**b))).unwrap().0.to_string();
    let before_only = search(&index, "butter", Some(&format!("brand = {buried_brand:?}")), 1, 50);
    let applied = index
        .apply_settings(
            rules(
                1,
                json!([{
                    "id": "butter-week",
                    "conditions": {"query": {"contains": "butter"}},
                    "actions": {
                        "pin": [{"id": stranger, "position": 1}, {"id": twentieth, "position": 3}],
                        "hide": [hidden],
                        "bury": [{"filter": format!("brand = {buried_brand:?}"), "factor": 0.5}],
                        "redirect": "/butter-week"
                    }
                }]),
            ),
            &|_, _| {},
        )
        .unwrap();
    assert_eq!(applied.rewritten, 0, "rules apply at once");
    let after = search(&index, "Butter", None, 1, 100);
    let got = ids(&after);
    assert_eq!(after.rules, ["butter-week"]);
    assert_eq!(after.redirect.as_deref(), Some("/butter-week"));
    assert_eq!(got[0], stranger);
    assert_eq!(got[2], twentieth);
    assert!(!got.contains(&hidden));
    // Hidden: one fewer; the stranger pinned: one more.
    assert_eq!(after.total_hits, before.total_hits);
    // The rest: the scores before, buried ones times 0.5, in that order.
    let old: HashMap<&str, f32> = before.hits.iter().map(|h| (h.product.id.as_str(), h.score)).collect();
    let rest: Vec<&searchd_catalog::SearchHit> =
        after.hits.iter().filter(|h| h.product.id != stranger && h.product.id != twentieth).collect();
    for hit in &rest {
        if let Some(old) = old.get(hit.product.id.as_str()) {
            let factor = if brand[hit.product.id.as_str()] == buried_brand { 0.5 } else { 1.0 };
            assert!((hit.score - old * factor).abs() <= 1e-4 * old, "{}: {old} → {}", hit.product.id, hit.score);
        }
    }
    assert!(rest.windows(2).all(|w| w[0].score >= w[1].score), "ranked by score");
    // Buried: the brand's products, searched alone, score half what they did.
    let only = format!("brand = {buried_brand:?}");
    let was: HashMap<String, f32> = before_only.hits.iter().map(|h| (h.product.id.clone(), h.score)).collect();
    let buried = search(&index, "butter", Some(&only), 1, 50);
    assert_eq!(buried.hits.len(), was.len());
    for hit in &buried.hits {
        let old = was[&hit.product.id];
        assert!((hit.score - old * 0.5).abs() <= 1e-4 * old, "{}: {old} → {}", hit.product.id, hit.score);
    }
    // Explain names each effect.
    let effects = |i: usize| after.hits[i].explain.as_ref().unwrap().rules.clone();
    assert_eq!((effects(0)[0].action.as_str(), effects(0)[0].position), ("pin", Some(1)));
    assert_eq!((effects(2)[0].action.as_str(), effects(2)[0].position), ("pin", Some(3)));
    let explained = buried.hits[0].explain.as_ref().unwrap();
    assert_eq!(explained.rules[0].action, "bury");
    assert_eq!(explained.rules[0].factor, Some(0.5));
    assert!(explained.phase1.components.iter().any(|c| c.name == "rule:butter-week"));

    // Pages are cut after the pins are placed.
    let page2 = search(&index, "butter", None, 2, 2);
    assert_eq!(ids(&page2), got[2..4]);
    // A pinned product never passes the request's filters.
    let bread_only = format!("brand != {:?}", brand[stranger.as_str()]);
    let filtered = search(&index, "butter", Some(&bread_only), 1, 10);
    assert!(!ids(&filtered).contains(&stranger));
    // Other queries are untouched.
    assert!(search(&index, "jam", None, 1, 5).rules.is_empty());
}

#[test]
fn time_windows_read_the_injected_clock_and_filters_are_added_or_replaced() {
    let Some((index, products)) = index() else { return };
    let now = Arc::new(AtomicI64::new(1_795_824_000)); // 2026-11-28T00:00:00Z
    let clock = now.clone();
    index.set_clock(Some(Arc::new(move || clock.load(Ordering::SeqCst))));
    let jam_brand = products.iter().find(|p| p.title.to_lowercase().contains("jam")).unwrap().brand.clone().unwrap();
    index
        .apply_settings(
            rules(
                1,
                json!([
                    {"id": "weekend", "conditions": {"query": {"is": "jam"},
                        "from": "2026-11-28T00:00:00Z", "until": "2026-11-30T00:00:00Z"},
                     "actions": {"replace_filter": format!("brand = {jam_brand:?}")}},
                    {"id": "cheap", "conditions": {"filter": "price < 100"},
                     "actions": {"add_filter": "rating >= 4"}}
                ]),
            ),
            &|_, _| {},
        )
        .unwrap();
    let brands = |r: &SearchResponse| r.hits.iter().map(|h| h.product.brand.clone().unwrap()).collect::<Vec<_>>();
    let inside = search(&index, "jam", Some("price > 0"), 1, 20);
    assert_eq!(inside.rules, ["weekend"]);
    assert!(!inside.hits.is_empty() && brands(&inside).iter().all(|b| *b == jam_brand), "{:?}", brands(&inside));
    now.store(1_795_824_000 - 1, Ordering::SeqCst);
    let early = search(&index, "jam", None, 1, 20);
    assert!(early.rules.is_empty(), "{:?}", early.rules);
    assert!(brands(&early).iter().any(|b| *b != jam_brand), "{:?}", brands(&early));
    now.store(1_795_996_800, Ordering::SeqCst); // 2026-11-30T00:00:00Z: over
    assert!(search(&index, "jam", None, 1, 20).rules.is_empty());

    // The filter condition holds for a request holding the clause; the rule adds its own.
    let cheap = search(&index, "", Some("price < 100 AND brand EXISTS"), 1, 100);
    assert_eq!(cheap.rules, ["cheap"]);
    let expected = products
        .iter()
        .filter(|p| p.price.is_some_and(|x| x < 100.0) && p.brand.is_some() && p.rating.is_some_and(|r| r >= 4.0))
        .count();
    assert_eq!(cheap.total_hits, expected as u64);
    index.set_clock(None);
}
