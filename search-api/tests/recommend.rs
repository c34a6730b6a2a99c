//! Recommendations: the routes, cold start, the scheduler with an injected clock, a failed
//! refresh keeping the served model, rollback, and a full refresh over the three real catalogs
//! while searches are served.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use searchd_api::{AppState, Config, router};
use searchd_catalog::{Product, SearchRequest};
use searchd_engine::schedule::{Clock, spawn_schedule};
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::{Value, json};

use crate::{get, send_json};

fn state(dir: &std::path::Path) -> (AppState, Config) {
    let config = Config { data_dir: dir.to_path_buf(), ..crate::config() };
    (crate::common::demo_state(&config), config)
}

fn ids(reply: &Value) -> Vec<String> {
    reply["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_and_bought_together_routes() {
    let dir = tempfile::tempdir().unwrap();
    let (state, config) = state(dir.path());
    let app = router(state.clone(), &config.http);
    let reply = get(&app, "/v1/products/demo-0001/similar").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.json);
    assert_eq!(reply.json["code"], "model_not_ready");

    // Two sessions put the drill and a tent in their carts.
    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap();
    let tent = state
        .index
        .search(&SearchRequest { q: "tent".into(), ..SearchRequest::default() }, &state.ranking.ranker())
        .unwrap()
        .hits[0]
        .product
        .id
        .clone();
    let events: Vec<Value> = ["s1", "s2"]
        .iter()
        .flat_map(|s| {
            ["demo-0001", tent.as_str()]
                .map(|p| json!({"type": "add_to_cart", "product_id": p, "session_id": s, "timestamp": now}))
        })
        .collect();
    let reply = send_json(&app, Method::POST, "/v1/events", &Value::Array(events).to_string()).await;
    assert_eq!(reply.json["accepted"], 4, "{}", reply.json);

    let reply = send_json(&app, Method::POST, "/v1/admin/recommendations/refresh", "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["version"], "v000001");
    assert_eq!(reply.json["products"], 312);

    let reply = get(&app, "/v1/products/demo-0001/similar?limit=5").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["model_version"], "v000001");
    let similar = &reply.json["hits"];
    assert_eq!(similar.as_array().unwrap().len(), 5);
    assert!(!ids(&reply.json).contains(&"demo-0001".to_string()));
    // A cordless drill's neighbours are drills.
    for hit in similar.as_array().unwrap() {
        assert_eq!(hit["product"]["category"][2], "Drills", "{hit}");
    }

    let reply = get(&app, "/v1/products/demo-0001/bought-together?limit=5").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(ids(&reply.json)[0], tent, "co-purchased first: {}", reply.json);

    for (uri, status, code) in [
        ("/v1/products/nope/similar", StatusCode::NOT_FOUND, "product_not_found"),
        ("/v1/products/nope/bought-together", StatusCode::NOT_FOUND, "product_not_found"),
        ("/v1/products/demo-0001/similar?limit=0", StatusCode::BAD_REQUEST, "invalid_recommendations_limit"),
        ("/v1/products/demo-0001/similar?limit=ten", StatusCode::BAD_REQUEST, "invalid_recommendations_limit"),
        ("/v1/products/demo-0001/similar?limit=101", StatusCode::BAD_REQUEST, "invalid_recommendations_limit"),
        ("/v1/products/demo-0001/similar?top=3", StatusCode::BAD_REQUEST, "unknown_recommendations_parameter"),
    ] {
        let reply = get(&app, uri).await;
        assert_eq!((reply.status, reply.json["code"].as_str().unwrap()), (status, code), "{uri}: {}", reply.json);
    }

    // Cold start: a product written after training has neighbours as soon as it is followed.
    let product = json!({"id": "new-drill", "title": "Makita cordless drill driver 18V", "category": ["Tools", "Power Tools", "Drills"]});
    let reply = send_json(&app, Method::PUT, "/v1/products/new-drill?refresh=true", &product.to_string()).await;
    assert!(reply.status.is_success(), "{}", reply.json);
    state.recommendations.follow(&state.index).unwrap();
    let reply = get(&app, "/v1/products/new-drill/similar?limit=3").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["hits"].as_array().unwrap().len(), 3);
    assert!(reply.json["hits"].as_array().unwrap().iter().all(|h| h["product"]["category"][2] == "Drills"));
}

/// A clock the test sets.
#[derive(Debug)]
pub(crate) struct ManualClock(pub(crate) Mutex<DateTime<Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_fires_at_the_configured_time() {
    let clock = Arc::new(ManualClock(Mutex::new(Utc.with_ymd_and_hms(2026, 11, 22, 1, 59, 58).unwrap())));
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let task = spawn_schedule("test", "0 0 2 * * *", clock.clone(), Duration::from_millis(5), move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
    .unwrap();
    let set = |h, m, s, day| *clock.0.lock().unwrap() = Utc.with_ymd_and_hms(2026, 11, day, h, m, s).unwrap();
    let settle = || tokio::time::sleep(Duration::from_millis(100));
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    set(1, 59, 59, 22);
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 0, "not before 02:00");
    set(2, 0, 0, 22);
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "at 02:00");
    set(2, 30, 0, 22);
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "once a night");
    set(2, 0, 1, 23);
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the next night");
    task.abort();
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// All three real catalogs (≈ 94,700 products) in one index; the refresh runs while two threads
/// keep searching. Printed for the README (`cargo test --release -p searchd-api --test
/// integration recommend::full_refresh -- --nocapture`).
#[test]
fn full_refresh_over_the_three_catalogs_while_searching() {
    let (Some(home), Some(bigbasket), Some(myntra)) = (
        searchd_testkit::homedepot_products(),
        searchd_testkit::bigbasket_products(),
        searchd_testkit::myntra_products(),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = Config { data_dir: dir.path().to_path_buf(), ..crate::config() };
    let index = ProductIndex::in_memory(IndexConfig { writer_memory_mb: 128, ..IndexConfig::default() }).unwrap();
    let mut all: Vec<Product> = Vec::new();
    for (prefix, products) in [("hd", home), ("bb", bigbasket), ("my", myntra)] {
        all.extend(products.into_iter().map(|mut p| {
            p.id = format!("{prefix}-{}", p.id);
            p.language = Some("en".into());
            p
        }));
    }
    // A few rows have no title: they are not products.
    let prepared: Vec<_> = all.into_iter().filter_map(|p| index.prepare(p).ok()).collect();
    let n = prepared.len();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();
    let state = AppState::with_index(index, &config).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (searches, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let searchers: Vec<_> = (0..2)
        .map(|t| {
            let (state, stop, searches, failures) = (state.clone(), stop.clone(), searches.clone(), failures.clone());
            std::thread::spawn(move || {
                let queries = ["cordless drill", "basmati rice", "women kurta", "garden hose", "face wash", "led bulb"];
                let ranker = state.ranking.ranker();
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let request = SearchRequest { q: queries[i % queries.len()].into(), ..SearchRequest::default() };
                    match state.index.search(&request, &ranker) {
                        Ok(r) if r.total_hits > 0 => searches.fetch_add(1, Ordering::Relaxed),
                        _ => failures.fetch_add(1, Ordering::Relaxed),
                    };
                    i += 1;
                }
            })
        })
        .collect();
    let started = Instant::now();
    let report = state.recommendations.refresh(&state.index, &state.ranking.events).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    searchers.into_iter().for_each(|t| t.join().unwrap());
    eprintln!(
        "full refresh: {} products, {} features in {seconds:.1} s; peak RSS of the process {:.0} MiB; {} searches served meanwhile, {} failed",
        report.products,
        report.features,
        peak_rss_mib(),
        searches.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed)
    );
    assert_eq!(report.products, n);
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    assert!(searches.load(Ordering::Relaxed) > 0);
    let similar = state.recommendations.version();
    assert_eq!(similar.as_deref(), Some("v000001"));
}
