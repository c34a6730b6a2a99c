//! Searching the demo catalog over HTTP: ranked hits, facets, highlights, languages, filters.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::{app, get, send_json};

fn titles(json: &Value) -> Vec<String> {
    json["hits"].as_array().unwrap().iter().map(|h| h["product"]["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn demo_search_has_ranked_hits_facets_and_highlights() {
    let app = app(true);
    let reply = get(&app, "/v1/products/search?q=cordless+drill&facets=brand,category&highlight=true").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    let first = &hits[0];
    assert!(first["product"]["title"].as_str().unwrap().contains("Cordless Drill"), "{first}");
    assert!(first["highlight"]["title"].as_str().unwrap().contains("<em>Cordless</em> <em>Drill</em>"), "{first}");
    assert!(first["highlight"]["description"].as_str().unwrap().contains("<em>"), "{first}");
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let brands = reply.json["facets"]["brand"].as_array().unwrap();
    assert!(brands.iter().any(|b| b["value"] == "Bosch"));
    let categories = reply.json["facets"]["category"].as_array().unwrap();
    assert!(categories.iter().any(|c| c["value"] == "Tools"), "{categories:?}");
}

#[tokio::test]
async fn each_language_finds_its_products_by_stem() {
    let app = app(true);
    // German plural "Kopfhörer"/"Bohrschraubern", French "machines", Spanish "sartenes".
    for (q, lang, expect) in [
        ("Bohrschraubern", "de", "Akku-Bohrschrauber"),
        ("machines expresso", "fr", "Machine à café expresso"),
        ("sartenes", "es", "Sartén antiadherente"),
        ("tents", "en", "Camping Tent"),
    ] {
        let reply = get(&app, &format!("/v1/products/search?q={}&lang={lang}", q.replace(' ', "+"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let titles = titles(&reply.json);
        assert!(!titles.is_empty() && titles[0].contains(expect), "{q}: {titles:?}");
        assert_eq!(reply.json["query_language"], lang);
    }
}

#[tokio::test]
async fn diacritics_are_folded_and_typos_tolerated() {
    let app = app(true);
    let reply = get(&app, "/v1/products/search?q=fjallraven").await;
    assert!(titles(&reply.json).iter().any(|t| t.contains("Fjällräven")), "{}", reply.json);
    let reply = get(&app, "/v1/products/search?q=headphnoes").await;
    assert!(titles(&reply.json)[0].contains("Headphones"), "{}", reply.json);
}

#[tokio::test]
async fn filters_sort_and_pagination() {
    let app = app(true);
    let reply = get(&app, "/v1/products/search?category=Kitchen&price_max=100&sort=price_asc&per_page=5&page=2").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5);
    let prices: Vec<f64> = hits.iter().map(|h| h["product"]["price"].as_f64().unwrap()).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]) && prices.iter().all(|p| *p <= 100.0), "{prices:?}");
    assert!(hits.iter().all(|h| h["product"]["category"][0] == "Kitchen"));
    assert_eq!(reply.json["page"], 2);
    assert!(reply.json["total_pages"].as_u64().unwrap() >= 2);

    let body = r#"{"q": "", "filters": {"brand": ["Sony"], "in_stock": true, "min_rating": 3.0}, "sort": "rating", "facets": ["category"]}"#;
    let reply = send_json(&app, Method::POST, "/v1/products/search", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["product"]["brand"] == "Sony" && h["product"]["in_stock"] == true));
    let ratings: Vec<f64> = hits.iter().map(|h| h["product"]["rating"].as_f64().unwrap()).collect();
    assert!(ratings.windows(2).all(|w| w[0] >= w[1]), "{ratings:?}");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = app(true);
    assert_eq!(get(&app, "/healthz").await.json["status"], "ok");
    let ready = get(&app, "/readyz").await;
    assert_eq!(ready.json["status"], "ready");
    assert!(ready.json["documents"].as_u64().unwrap() >= 300);
}
