//! Events, engagement in ranking, explain, and the learned ranker's hot swap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use searchd_api::{AppState, Config, router};
use searchd_catalog::{NUM_FEATURES, Product, Ranker, RankingMode, SearchRequest};
use searchd_engine::demo;
use searchd_models::{TrainOptions, train_ranker};
use searchd_ranking::{EventsConfig, Judgments};
use searchd_ranking::{RankerConfig, train};
use serde_json::{Value, json};

use crate::{get, send_json};

fn config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        ranker: RankerConfig { poll_interval_ms: 20, ..RankerConfig::default() },
        events: EventsConfig { fold_interval_ms: 50, ..EventsConfig::default() },
        ..crate::config()
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap()
}

fn ids(reply: &Value) -> Vec<String> {
    reply["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().to_string()).collect()
}

/// Two products equal for the query but for their id; purchases of the second lift it above
/// the first once engagement is folded in.
#[tokio::test]
async fn popularity_from_events_changes_the_rank() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let state = AppState::open(&config).unwrap();
    for id in ["a", "b", "c"] {
        state
            .index
            .apply(searchd_catalog::CatalogEvent::Upsert { product: Product::new(id, "Garden hose reel") })
            .unwrap();
    }
    state.index.commit().unwrap();
    let app = router(state.clone(), &config.http);
    let before = ids(&get(&app, "/v1/products/search?q=hose+reel").await.json);
    let last = before.last().unwrap().clone();
    let events: Vec<Value> = (0..20)
        .map(|i| json!({"type": if i % 2 == 0 { "purchase" } else { "add_to_cart" }, "product_id": last, "timestamp": now()}))
        .collect();
    let reply = send_json(&app, Method::POST, "/v1/events?refresh=true", &Value::Array(events).to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["accepted"], 20);
    let after = get(&app, "/v1/products/search?q=hose+reel&explain=true").await.json;
    assert_eq!(ids(&after)[0], last, "before: {before:?}, after: {:?}", ids(&after));
    let components = after["hits"][0]["explain"]["phase1"]["components"].as_array().unwrap();
    let engagement = components.iter().find(|c| c["name"] == "engagement").unwrap();
    assert!(engagement["value"].as_f64().unwrap() > 100.0, "{engagement}");
    assert!(engagement["factor"].as_f64().unwrap() > 1.0, "{engagement}");
    // The scheduled fold does the same without `refresh`: events for another product.
    let second = before[0].clone();
    let events: Vec<Value> =
        (0..60).map(|_| json!({"type": "purchase", "product_id": second, "timestamp": now()})).collect();
    send_json(&app, Method::POST, "/v1/events", &Value::Array(events).to_string()).await;
    let tasks = searchd_ranking::spawn_ranking_tasks(
        state.ranking.clone(),
        state.index.clone(),
        &config.engine().ranking_setup(),
    );
    let mut moved = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if ids(&get(&app, "/v1/products/search?q=hose+reel").await.json)[0] == second {
            moved = true;
            break;
        }
    }
    tasks.abort();
    assert!(moved, "the scheduled fold never lifted {second}");
}

/// Each bad item is rejected naming its field; the good ones around it are accepted and count.
#[tokio::test]
async fn malformed_events_are_rejected_per_item() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let state = AppState::open(&config).unwrap();
    demo::load(&state.index).unwrap();
    let app = router(state.clone(), &config.http);
    let id = demo::products().unwrap()[0].id.clone();
    let t = now();
    let body = json!([
        {"type": "click", "product_id": id, "query": "drill", "position": 2, "timestamp": t},
        {"type": "like", "product_id": id, "timestamp": t},
        {"type": "view", "timestamp": t},
        {"type": "view", "product_id": id, "timestamp": "2999-01-01T00:00:00Z"},
        {"type": "view", "product_id": "no-such-product", "timestamp": t},
        {"type": "view", "product_id": id, "position": 3, "timestamp": t},
        {"type": "view", "product_id": id, "timestamp": "yesterday"},
        {"type": "purchase", "product_id": id, "session_id": "s1", "timestamp": t},
        "not an event"
    ]);
    let reply = send_json(&app, Method::POST, "/v1/events", &body.to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!((reply.json["accepted"].as_u64(), reply.json["rejected"].as_u64()), (Some(2), Some(7)));
    assert_eq!(reply.json["errors"], true);
    let items = reply.json["items"].as_array().unwrap();
    let fields: Vec<Option<&str>> = items.iter().map(|i| i["error"]["field"].as_str()).collect();
    assert_eq!(
        fields,
        [
            None,
            Some("type"),
            Some("product_id"),
            Some("timestamp"),
            Some("product_id"),
            Some("position"),
            Some("timestamp"),
            None,
            Some("body")
        ],
        "{}",
        reply.json
    );
    assert!(items.iter().filter(|i| i["status"] == "rejected").all(|i| i["error"]["code"] == "invalid_event"));
    assert!(items[1]["error"]["message"].as_str().unwrap().contains("like"), "{}", items[1]);
    assert!(items[4]["error"]["message"].as_str().unwrap().contains("no-such-product"));
    assert_eq!(get(&app, "/v1/admin/ranker").await.json["events"], 2);
    // A body that is not JSON at all is one 400.
    let reply = send_json(&app, Method::POST, "/v1/events", "[{\"type\":").await;
    assert_eq!((reply.status, reply.json["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")));
}

/// 100,000 events in ten batches are all accepted, aggregated, logged, and replayed on restart.
#[tokio::test]
async fn a_burst_of_100k_events_is_accepted_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let products: Vec<String> = demo::products().unwrap().into_iter().map(|p| p.id).collect();
    let before: std::collections::HashMap<String, f64>;
    {
        let state = AppState::open(&config).unwrap();
        demo::load(&state.index).unwrap();
        let app = router(state.clone(), &config.http);
        let t = now();
        let kinds = ["view", "view", "view", "click", "add_to_cart", "purchase"];
        for batch in 0..10 {
            let mut ndjson = String::new();
            for i in 0..10_000usize {
                let n = batch * 10_000 + i;
                // Product k gets about 1/(k+1) of the traffic, as real catalogs do.
                let product = &products[(n * 7919 % 100_000) * products.len() / 100_000 % products.len()];
                let event = json!({"type": kinds[n % kinds.len()], "product_id": product, "query": "drill",
                    "position": 1 + n % 20, "session_id": format!("s{}", n / 5), "timestamp": t});
                ndjson.push_str(&event.to_string());
                ndjson.push('\n');
            }
            let reply =
                crate::call(&app, Method::POST, "/v1/events", Some(("application/x-ndjson", ndjson.as_str()))).await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.json["accepted"], 10_000, "{}", reply.json["items"][0]);
        }
        assert_eq!(get(&app, "/v1/admin/ranker").await.json["events"], 100_000);
        let now = time::OffsetDateTime::now_utc();
        before = state.ranking.events.read(|a| a.all_popularity(now).map(|(id, v)| (id.to_string(), v)).collect());
        state.ranking.events.read(|a| {
            let total: f64 = a.all_popularity(now).map(|(_, v)| v).sum();
            // 50,001 views (×1), 16,667 clicks (×3), 16,666 carts (×6) and 16,666 purchases (×10),
            // decayed by seconds of a 14-day half-life.
            assert!((total - 366_658.0).abs() < 10.0, "{total}");
        });
    }
    let state = AppState::open(&config).unwrap();
    assert_eq!(state.ranking.events.read(|a| a.events()), 100_000, "replayed from the log");
    let now = time::OffsetDateTime::now_utc();
    let after: std::collections::HashMap<String, f64> =
        state.ranking.events.read(|a| a.all_popularity(now).map(|(id, v)| (id.to_string(), v)).collect());
    assert_eq!(after.len(), before.len());
    for (id, v) in &before {
        assert!((after[id] / v - 1.0).abs() < 1e-4, "{id}: {v} before, {} after", after[id]);
    }
}

/// A model trained on this catalog's candidates: "title_coverage" labels.
fn model_for(state: &AppState, queries: &[&str]) -> searchd_models::RankerModel {
    let base = Ranker::clone(&state.ranking.ranker()).with_second(None);
    let all = train::candidates(&state.index, &base, None, queries.iter().copied()).unwrap();
    let mut judgments = Judgments::default();
    for q in &all {
        for (rank, c) in q.candidates.iter().enumerate() {
            // Grade by reversed phase-1 rank: the model must learn something that is not phase 1.
            judgments.insert(&q.query, &c.id, 1.0 + 2.0 * rank as f64 / q.candidates.len().max(1) as f64);
        }
    }
    train::train(&state.index, &base, &judgments, &TrainOptions::default(), None, vec!["test".into()]).unwrap()
}

/// A saved model is loaded after a restart, explains its scores, and a newer one is swapped in
/// under a stream of concurrent searches without one failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_is_reloaded_after_restart_and_hot_swapped_without_failed_requests() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let queries = ["drill", "tent", "coffee", "shoes", "lamp", "garden", "kitchen knife", "cordless drill"];
    let first_version = {
        let state = AppState::open(&config).unwrap();
        demo::load(&state.index).unwrap();
        assert_eq!(state.ranking.model_version(), None);
        let saved = state.ranking.store().save(model_for(&state, &queries)).unwrap();
        saved.version
    };

    let state = AppState::open(&config).unwrap();
    assert_eq!(state.ranking.model_version().as_deref(), Some(first_version.as_str()), "loaded after restart");
    let app = router(state.clone(), &config.http);
    let reply = get(&app, "/v1/products/search?q=drill&explain=true").await;
    let hit = &reply.json["hits"][0];
    let phase2 = &hit["explain"]["phase2"];
    assert_eq!(phase2["model_version"], first_version.as_str());
    let features = phase2["features"].as_array().unwrap();
    assert_eq!(features.len(), NUM_FEATURES);
    let sum: f64 = features.iter().map(|f| f["contribution"].as_f64().unwrap()).sum();
    assert!((sum - hit["score"].as_f64().unwrap()).abs() < 1e-3, "{sum} vs {}", hit["score"]);
    assert!(hit["explain"]["phase1"]["components"].as_array().unwrap().len() > 1);
    // Phase 2 reorders: the model learned the reverse of phase 1 on these queries.
    let request = SearchRequest { q: "drill".into(), per_page: 10, ..SearchRequest::default() };
    let learned = state.index.search_ids(&request, &state.ranking.ranker()).unwrap();
    let phase1 = state
        .index
        .search_ids(&SearchRequest { ranking: RankingMode::Phase1, ..request.clone() }, &state.ranking.ranker())
        .unwrap();
    assert_ne!(
        learned.iter().map(|h| &h.id).collect::<Vec<_>>(),
        phase1.iter().map(|h| &h.id).collect::<Vec<_>>(),
        "phase 2 changed nothing"
    );

    // Hot swap under load.
    let tasks = searchd_ranking::spawn_ranking_tasks(
        state.ranking.clone(),
        state.index.clone(),
        &config.engine().ranking_setup(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut clients = Vec::new();
    for c in 0..4 {
        let (app, stop, ok, failed) = (app.clone(), stop.clone(), ok.clone(), failed.clone());
        clients.push(tokio::spawn(async move {
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                let q = queries[i % queries.len()].replace(' ', "+");
                let reply = get(&app, &format!("/v1/products/search?q={q}&explain=true")).await;
                if reply.status == StatusCode::OK && reply.json["hits"].is_array() {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
                // A cached answer completes without ever waiting: let the other tasks run.
                tokio::task::yield_now().await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = state.ranking.store().save(model_for(&state, &queries[..4])).unwrap().version;
    assert_ne!(second, first_version);
    let mut swapped = false;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if get(&app, "/v1/admin/ranker").await.json["model_version"] == second.as_str() {
            swapped = true;
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    tasks.abort();
    assert!(swapped, "the new model was not loaded");
    let reply = get(&app, "/v1/products/search?q=drill&explain=true").await;
    assert_eq!(reply.json["hits"][0]["explain"]["phase2"]["model_version"], second.as_str());
    assert_eq!(failed.load(Ordering::Relaxed), 0, "failed requests during the swap");
    assert!(ok.load(Ordering::Relaxed) > 20, "too few requests to tell: {}", ok.load(Ordering::Relaxed));

    // A broken artifact leaves the served model in place.
    std::fs::write(state.ranking.store().dir().join("ranker-000099.json"), b"{broken").unwrap();
    std::fs::write(state.ranking.store().dir().join("CURRENT"), b"ranker-000099.json\n").unwrap();
    assert!(state.ranking.reload().is_err());
    assert_eq!(state.ranking.model_version().as_deref(), Some(second.as_str()));
}

/// Features are finite and a model over them scores every candidate.
#[tokio::test]
async fn candidates_carry_finite_features() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let state = AppState::open(&config).unwrap();
    demo::load(&state.index).unwrap();
    let base = state.ranking.ranker();
    let all = train::candidates(&state.index, &base, None, ["cordless drill", "zelt"].into_iter()).unwrap();
    assert!(all.iter().all(|q| !q.candidates.is_empty()));
    for c in all.iter().flat_map(|q| &q.candidates) {
        assert!(c.features.iter().all(|x| x.is_finite()), "{:?}", c.features);
    }
    let first = &all[0].candidates[0].features;
    let coverage = searchd_catalog::feature_index("coverage").unwrap();
    assert_eq!(first[coverage], 1.0, "the top hit for `cordless drill` matches both words");
    let no_pairs = train_ranker(&[], &TrainOptions::default());
    assert!(no_pairs.is_err());
}

/// Expansions learned from graded queries let phase 1 find products that share no word with a
/// new query: "powerdriver" is in no product of the demo catalog, but two graded queries with
/// that word found the cordless drill drivers relevant.
#[tokio::test]
async fn learned_expansions_find_products_without_the_query_words() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let state = AppState::open(&config).unwrap();
    demo::load(&state.index).unwrap();
    let base = Ranker::clone(&state.ranking.ranker()).with_second(None);
    let search = |ranker: &Ranker, ranking| {
        let request = SearchRequest { q: "powerdriver".into(), ranking, per_page: 20, ..SearchRequest::default() };
        state.index.search(&request, ranker).unwrap().hits
    };
    assert!(search(&base, RankingMode::Default).is_empty(), "no product has the word");

    let mut judgments = Judgments::default();
    for q in ["powerdriver kit", "powerdriver 18v"] {
        for c in
            &train::candidates(&state.index, &base, None, ["cordless drill driver"].into_iter()).unwrap()[0].candidates
        {
            let title = state.index.get(&c.id).unwrap().title;
            judgments.insert(q, &c.id, if title.contains("Cordless Drill Driver") { 3.0 } else { 1.0 });
        }
    }
    let options = searchd_models::ExpansionOptions::default();
    let model =
        train::train(&state.index, &base, &judgments, &TrainOptions::default(), Some(&options), Vec::new()).unwrap();
    let word = state.index.stems("powerdriver", None).remove(0);
    let learned: Vec<&str> = model.expansions.get(&word).iter().map(|(w, _)| w.as_str()).collect();
    assert!(learned.contains(&"drill"), "{:?}", model.expansions);
    assert!(!learned.contains(&"kit") && !learned.contains(&"18v"), "query words are not expansions: {learned:?}");

    let served = base.clone().with_second(Some(Arc::new(model) as Arc<dyn searchd_catalog::SecondPhase>));
    let hits = search(&served, RankingMode::Default);
    assert!(hits.len() >= 12, "{} hits", hits.len());
    for hit in &hits[..12] {
        assert!(hit.product.title.contains("Cordless Drill Driver"), "{}", hit.product.title);
    }
    assert!(search(&served, RankingMode::Phase1).is_empty(), "phase1 is without the model and its expansions");
}
