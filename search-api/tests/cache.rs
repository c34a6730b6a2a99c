//! The response cache: local hits, misses and invalidation by commit; two app instances sharing
//! a real `redis-server`; Redis killed mid-load and restarted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use searchd_api::{AppState, CacheConfig, Config, router};
use searchd_testkit::redis::Redis;
use serde_json::Value;

struct Answer {
    status: u16,
    cache: String,
    json: Value,
}

async fn send(app: &Router, method: Method, uri: &str, body: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let reply = crate::common::send(app, request.body(body).unwrap()).await;
    let cache = reply.headers.get("x-cache").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    Answer { status: reply.status.as_u16(), cache, json: reply.json }
}

async fn get(app: &Router, uri: &str) -> Answer {
    send(app, Method::GET, uri, None).await
}

async fn metrics(app: &Router) -> String {
    String::from_utf8(crate::common::send(app, Request::get("/metrics").body(Body::empty()).unwrap()).await.body)
        .unwrap()
}

/// Sum of the samples of `name` whose labels contain every one of `labels`.
fn total(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn instance(config: &Config) -> (AppState, Router) {
    let state = crate::common::demo_state(config);
    let app = router(state.clone(), &config.http);
    (state, app)
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.json["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().to_string()).collect()
}

const NEW_TENT: &str = r#"{"id":"cache-test-tent","title":"Cache test tent ultralight tent","brand":"Nordisk","category":["Outdoor","Tents"],"price":99.0,"in_stock":true}"#;

#[tokio::test]
async fn answers_are_cached_until_a_commit_changes_the_catalog() {
    let (state, app) = instance(&crate::config());
    let first = get(&app, "/v1/products/search?q=tent&facets=brand").await;
    assert_eq!((first.status, first.cache.as_str()), (200, "miss"));
    // The same search spelled differently (parameter order) is the same normalized request.
    let second = get(&app, "/v1/products/search?facets=brand&q=tent").await;
    assert_eq!(second.cache, "hit");
    assert_eq!(second.json, first.json);
    // POST with the same request, too.
    let post = send(&app, Method::POST, "/v1/products/search", Some(r#"{"q":"tent","facets":["brand"]}"#)).await;
    assert_eq!(post.cache, "hit");
    assert_eq!(get(&app, "/v1/products/search?q=tent&facets=brand&page=2").await.cache, "miss");
    // A write not yet committed changes nothing visible: still served from the cache.
    let put = send(&app, Method::PUT, "/v1/products/cache-test-tent", Some(NEW_TENT)).await;
    assert_eq!(put.status, 200, "{}", put.json);
    assert_eq!(get(&app, "/v1/products/search?q=tent&facets=brand").await.cache, "hit");
    // The commit makes it visible: the next answer is computed again and has the new product.
    state.index.commit().unwrap();
    let after = get(&app, "/v1/products/search?q=tent&facets=brand").await;
    assert_eq!(after.cache, "miss");
    assert!(ids(&after).contains(&"cache-test-tent".to_string()), "{:?}", ids(&after));
    assert_eq!(after.json["total_hits"].as_u64().unwrap(), first.json["total_hits"].as_u64().unwrap() + 1);
    // Cache hits still count the query for popular-query suggestions.
    let before = state.autocomplete.log().popular(1).iter().find(|(q, _)| q == "tent").map_or(0, |(_, n)| *n);
    assert_eq!(get(&app, "/v1/products/search?q=tent&facets=brand").await.cache, "hit");
    let counted = state.autocomplete.log().popular(1).iter().find(|(q, _)| q == "tent").map_or(0, |(_, n)| *n);
    assert_eq!(counted, before + 1);

    // Autocomplete: cached per suggester version; a rebuild after a commit invalidates.
    state.autocomplete.refresh(&state.index, true).unwrap();
    assert_eq!(get(&app, "/v1/autocomplete?q=cache+te").await.cache, "miss");
    let hit = get(&app, "/v1/autocomplete?q=cache+te").await;
    assert_eq!(hit.cache, "hit");
    let deleted = send(&app, Method::DELETE, "/v1/products/cache-test-tent?refresh=true", None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.json);
    state.autocomplete.refresh(&state.index, true).unwrap();
    let rebuilt = get(&app, "/v1/autocomplete?q=cache+te").await;
    assert_eq!(rebuilt.cache, "miss");
    assert_ne!(rebuilt.json["suggestions"], hit.json["suggestions"], "the deleted product is no longer suggested");

    let text = metrics(&app).await;
    assert!(total(&text, "searchd_cache_lookups_total", &["backend=\"local\"", "result=\"hit\""]) >= 5.0, "{text}");
    assert!(total(&text, "searchd_cache_lookups_total", &["kind=\"autocomplete\"", "result=\"miss\""]) >= 2.0);

    // Errors are not cached, and the cache can be switched off.
    assert_eq!(get(&app, "/v1/products/search?q=tent&per_page=0").await.status, 400);
    let off = Config { cache: CacheConfig { enabled: false, ..CacheConfig::default() }, ..crate::config() };
    let (_, app) = instance(&off);
    assert_eq!(get(&app, "/v1/products/search?q=tent").await.cache, "bypass");
}

/// Two instances holding the same catalog share answers through Redis; a commit on both moves
/// both to new keys; Redis killed under load costs no request, and once it is back the
/// instances use it again by themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_redis_and_fail_open_when_it_dies() {
    let Some(mut redis) = Redis::start() else { return };
    let config = Config {
        cache: CacheConfig { redis_url: redis.url(), redis_retry_ms: 200, ..CacheConfig::default() },
        ..crate::config()
    };
    let (state_a, a) = instance(&config);
    let (state_b, b) = instance(&config);
    assert_eq!(state_a.index.content_version(), state_b.index.content_version(), "same catalog, same version");

    assert_eq!(get(&a, "/v1/products/search?q=backpack").await.cache, "miss");
    // A's write to Redis happens after its answer: wait for it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.keys() != Some(1) {
        assert!(Instant::now() < deadline, "A's answer never reached Redis");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let from_redis = get(&b, "/v1/products/search?q=backpack").await;
    assert_eq!(from_redis.cache, "hit", "B finds A's answer in Redis");
    assert_eq!(from_redis.json, get(&a, "/v1/products/search?q=backpack").await.json);
    let text = metrics(&b).await;
    assert_eq!(total(&text, "searchd_cache_lookups_total", &["backend=\"redis\"", "result=\"hit\""]), 1.0, "{text}");

    // The same write committed on both: both leave the old keys behind.
    for (state, app) in [(&state_a, &a), (&state_b, &b)] {
        let body =
            NEW_TENT.replace("tent ultralight tent", "backpack 40 l").replace(r#""id":"#, r#""version":7,"id":"#);
        assert_eq!(send(app, Method::PUT, "/v1/products/cache-test-tent", Some(&body)).await.status, 200);
        state.index.commit().unwrap();
    }
    assert_eq!(state_a.index.content_version(), state_b.index.content_version());
    let fresh = get(&a, "/v1/products/search?q=backpack").await;
    assert_eq!(fresh.cache, "miss", "a commit changes the key");
    assert!(ids(&fresh).contains(&"cache-test-tent".to_string()));
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.keys() != Some(2) {
        assert!(Instant::now() < deadline, "A's new answer never reached Redis");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let shared = get(&b, "/v1/products/search?q=backpack").await;
    assert_eq!(shared.cache, "hit");
    assert!(ids(&shared).contains(&"cache-test-tent".to_string()), "never the answer from before the commit");

    // Load on both instances: a mix of repeated and new searches and autocompletes. Redis is
    // killed during it, then restarted.
    let failed = Arc::new(AtomicU64::new(0));
    let served = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let words = ["tent", "drill", "hose", "jacket", "lamp", "chair", "backpack", "shoe", "rice", "tea"];
    let mut workers = Vec::new();
    for (w, app) in [a.clone(), b.clone(), a.clone(), b.clone()].into_iter().enumerate() {
        let (failed, served, stop) = (failed.clone(), served.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let word = words[i % words.len()];
                // New searches (they reach Redis), repeated ones (local hits), keystrokes.
                let uri = match i % 3 {
                    0 => format!("/v1/products/search?q={word}+{w}x{i}"),
                    1 => format!("/v1/products/search?q={word}&page={}", 1 + i % 4),
                    _ => format!("/v1/autocomplete?q={}{}", &word[..2], i % 26),
                };
                let answer = get(&app, &uri).await;
                if answer.status == 200 {
                    served.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
                // A cached answer completes without ever waiting: let the other tasks run.
                tokio::task::yield_now().await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.kill();
    let killed_at = served.load(Ordering::Relaxed);
    // At least 1.5 s down and until enough requests were served to tell (slow machines).
    let down_since = Instant::now();
    while down_since.elapsed() < Duration::from_millis(1500)
        || (served.load(Ordering::Relaxed) - killed_at <= 100 && down_since.elapsed() < Duration::from_secs(60))
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let while_down = served.load(Ordering::Relaxed) - killed_at;
    assert!(redis.restart(), "redis-server restarts on its port");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request may fail because Redis did");
    assert!(while_down > 100, "requests kept being served while Redis was down: {while_down}");
    let text = metrics(&a).await + &metrics(&b).await;
    let errors = total(&text, "searchd_cache_errors_total", &["backend=\"redis\""]);
    assert!(errors >= 1.0, "the outage is counted: {text}");

    // Recovery without a restart of the instances: a new answer of A reaches the restarted
    // Redis and B reads it from there.
    let redis_hits =
        |text: String| total(&text, "searchd_cache_lookups_total", &["backend=\"redis\"", "result=\"hit\""]);
    let hits_before = redis_hits(metrics(&b).await);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut n = 0;
    loop {
        n += 1;
        // A query neither instance has seen: B can only find it in Redis.
        let uri = format!("/v1/products/search?q=tent+{n}");
        get(&a, &uri).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        if get(&b, &uri).await.cache == "hit" {
            assert_eq!(redis_hits(metrics(&b).await), hits_before + 1.0);
            break;
        }
        assert!(Instant::now() < deadline, "the instances never used the restarted Redis again");
    }
    eprintln!(
        "cache: {} requests served, {} while Redis was down, 0 failed; {errors} Redis errors counted; back after {n} tries",
        served.load(Ordering::Relaxed),
        while_down
    );
}
