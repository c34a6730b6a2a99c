//! `GET /v1/autocomplete`, the query log searches feed, and the background refresh.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use searchd_api::{AppState, Config, router};
use searchd_engine::{demo, spawn_autocomplete_refresher};
use searchd_indexer::ProductIndex;
use serde_json::Value;

use crate::{get, send_json};

fn index() -> ProductIndex {
    crate::common::small_index(false)
}

fn texts(reply: &Value) -> Vec<String> {
    reply["suggestions"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn completes_the_demo_catalog_with_types_highlights_and_typos() {
    let index = index();
    demo::load(&index).unwrap();
    let config = crate::config();
    let state = AppState::with_index(index, &config).unwrap();
    state.autocomplete.refresh(&state.index, true).unwrap();
    let app = router(state, &config.http);

    let reply = get(&app, "/v1/autocomplete?q=cordless+dri").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let suggestions = reply.json["suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 8, "default limit: {:?}", reply.json);
    for s in suggestions {
        assert_eq!(s["type"], "product");
        assert_eq!(s["typos"], 0);
        assert!(s["highlight"].as_str().unwrap().contains("<em>Cordless Dri</em>ll"), "{s}");
        assert!(s["id"].is_string());
    }

    // Brands and categories from the catalog; a typo in a brand.
    let reply = get(&app, "/v1/autocomplete?q=makiat&types=brand").await;
    assert_eq!(texts(&reply.json), ["Makita"]);
    assert_eq!(reply.json["suggestions"][0]["typos"], 1);
    let reply = get(&app, "/v1/autocomplete?q=too&types=category&limit=3").await;
    let categories = texts(&reply.json);
    assert_eq!(categories[0], "Tools", "names starting with the input first");
    assert!(categories.contains(&"Power Tools".to_string()) && categories.contains(&"Hand Tools".to_string()));
    assert_eq!(reply.json["suggestions"][0]["path"], "Tools");
    // Diacritics fold both ways: the demo catalog has French and German titles.
    let reply = get(&app, "/v1/autocomplete?q=cafe&types=product&limit=20").await;
    assert!(texts(&reply.json).iter().any(|t| t.contains("café")), "{:?}", reply.json);
    assert!(reply.json["suggestions"][0]["highlight"].as_str().unwrap().contains("<em>café</em>"));
    // Limits are capped.
    let reply = get(&app, "/v1/autocomplete?q=s&limit=500").await;
    assert_eq!(reply.json["suggestions"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn bad_parameters_are_400s_naming_them() {
    let config = crate::config();
    let app = router(AppState::with_index(index(), &config).unwrap(), &config.http);
    let long = "a".repeat(201);
    for (uri, code) in [
        (format!("/v1/autocomplete?q={long}"), "invalid_autocomplete_q"),
        ("/v1/autocomplete?q=a&limit=-1".into(), "invalid_autocomplete_limit"),
        ("/v1/autocomplete?q=a&types=vendor".into(), "invalid_autocomplete_types"),
        ("/v1/autocomplete?q=a&page=2".into(), "unknown_autocomplete_parameter"),
    ] {
        let reply = get(&app, &uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(reply.json["code"], code, "{uri}: {:?}", reply.json);
        assert_eq!(reply.json["type"], "invalid_request");
    }
    // An empty index answers with nothing, not an error.
    let reply = get(&app, "/v1/autocomplete?q=drill").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["suggestions"], serde_json::json!([]));
}

/// Searches feed popular queries; counts survive a restart through the query log file.
#[tokio::test]
async fn executed_searches_become_popular_queries_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config { data_dir: dir.path().to_path_buf(), ..crate::config() };
    {
        let state = AppState::open(&config).unwrap();
        demo::load(&state.index).unwrap();
        let app = router(state.clone(), &config.http);
        for q in
            ["cordless drill", "Cordless  DRILL", "cordless drill", "drill", "drill", "zzzz nothing", "zzzz nothing"]
        {
            let reply = get(&app, &format!("/v1/products/search?q={}", q.replace(' ', "+"))).await;
            assert_eq!(reply.status, StatusCode::OK);
        }
        // Later pages are not new searches; a query searched once stays private.
        get(&app, "/v1/products/search?q=drill&page=2").await;
        get(&app, "/v1/products/search?q=hammer").await;
        assert_eq!(state.autocomplete.log().count("cordless drill"), 3);
        assert_eq!(state.autocomplete.log().count("drill"), 2);
        assert!(state.autocomplete.flush().unwrap());
    }
    let state = AppState::open(&config).unwrap();
    assert_eq!(state.autocomplete.log().count("cordless drill"), 3, "counts survive a restart");
    state.autocomplete.refresh(&state.index, true).unwrap();
    let app = router(state, &config.http);
    let reply = get(&app, "/v1/autocomplete?q=").await;
    // Most searched first; queries that found nothing and one-off queries are not suggested.
    assert_eq!(texts(&reply.json), ["cordless drill", "drill"], "{:?}", reply.json);
    assert_eq!(reply.json["suggestions"][0]["count"], 3);
    let reply = get(&app, "/v1/autocomplete?q=cordl&types=query").await;
    assert_eq!(texts(&reply.json), ["cordless drill"]);
}

/// The background task picks up committed writes by itself, and deleted products go away.
#[tokio::test]
async fn the_refresh_loop_follows_commits() {
    let config = Config {
        autocomplete: searchd_engine::AutocompleteConfig { refresh_interval_ms: 20, ..Default::default() },
        ..crate::config()
    };
    let state = AppState::with_index(index(), &config).unwrap();
    let refresher = spawn_autocomplete_refresher(state.engine.clone()).unwrap();
    let app = router(state, &config.http);

    async fn wait_for(app: &axum::Router, uri: &str, want: bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = !get(app, uri).await.json["suggestions"].as_array().unwrap().is_empty();
            if found == want {
                return;
            }
            assert!(Instant::now() < deadline, "{uri}: suggestions never became {want}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let reply = send_json(
        &app,
        Method::PUT,
        "/v1/products/p1?refresh=true",
        r#"{"id":"p1","title":"Fjällräven Kånken Backpack","brand":"Fjällräven"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    wait_for(&app, "/v1/autocomplete?q=fjalr&types=product", true).await;
    let reply = get(&app, "/v1/autocomplete?q=fjalr&types=product").await;
    assert_eq!(reply.json["suggestions"][0]["highlight"], "<em>Fjällr</em>även Kånken Backpack");
    assert_eq!(reply.json["suggestions"][0]["typos"], 1);

    let reply = call_delete(&app, "/v1/products/p1?refresh=true").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    wait_for(&app, "/v1/autocomplete?q=fjal", false).await;
    refresher.stop();
}

async fn call_delete(app: &axum::Router, uri: &str) -> crate::Reply {
    crate::call(app, Method::DELETE, uri, None).await
}

/// Small changes become a delta over the base completions; a large batch folds into a rebuild.
#[tokio::test]
async fn commits_become_a_delta_until_a_large_batch_rebuilds_the_base() {
    let index = index();
    demo::load(&index).unwrap();
    let config = crate::config();
    let state = AppState::with_index(index, &config).unwrap();
    let app = router(state.clone(), &config.http);
    assert!(state.autocomplete.refresh(&state.index, false).unwrap());
    assert!(!state.autocomplete.refresh(&state.index, false).unwrap(), "nothing changed");
    let base_products = state.autocomplete.suggester().catalog().products.len();

    let reply = send_json(
        &app,
        Method::PUT,
        "/v1/products/demo-0006?refresh=true",
        r#"{"id":"demo-0006","title":"Makita Zephyr Impact Wrench"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert!(state.autocomplete.refresh(&state.index, false).unwrap());
    let suggester = state.autocomplete.suggester();
    assert_eq!(suggester.delta().changed(), 1);
    assert_eq!(suggester.catalog().products.len(), base_products, "the base was not rebuilt");
    let reply = get(&app, "/v1/autocomplete?q=makita+zep").await;
    assert_eq!(texts(&reply.json), ["Makita Zephyr Impact Wrench"]);
    let reply = get(&app, "/v1/autocomplete?q=makita+x24&types=product").await;
    assert!(texts(&reply.json).iter().all(|t| !t.starts_with("Makita X24")), "the old title is gone: {:?}", reply.json);

    let bulk: String = (0..1_001).map(|i| format!("{{\"id\":\"n{i}\",\"title\":\"Quokka Lamp {i}\"}}\n")).collect();
    let reply =
        crate::call(&app, Method::POST, "/v1/products/bulk?refresh=true", Some(("application/x-ndjson", &bulk))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert!(state.autocomplete.refresh(&state.index, false).unwrap());
    let suggester = state.autocomplete.suggester();
    assert_eq!(suggester.delta().changed(), 0, "folded into a full rebuild");
    assert_eq!(suggester.catalog().products.len(), base_products + 1_001);
    let reply = get(&app, "/v1/autocomplete?q=quokka+lamp+100&types=product&limit=20").await;
    let exact: Vec<&Value> = reply.json["suggestions"].as_array().unwrap().iter().filter(|s| s["typos"] == 0).collect();
    assert_eq!(exact.len(), 2, "100 and 1000: {:?}", reply.json);
    let reply = get(&app, "/v1/autocomplete?q=makita+zep").await;
    assert_eq!(texts(&reply.json), ["Makita Zephyr Impact Wrench"]);
}
