//! `/v1/settings` and `/v1/tasks`: a settings change on a 100,000-product index (the three real
//! catalogs, topped up with bundles of Home Depot products) applied by a background task while
//! searches and writes go on over HTTP; and the errors of a bad change.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use searchd_api::{AppState, router};
use searchd_catalog::Product;
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::{Value, json};

use crate::{app, get, send_json};

const PRODUCTS: usize = 100_000;

/// The three catalogs with a `catalog` attribute naming each (stored, not declared), topped up
/// to [`PRODUCTS`] with bundles of Home Depot products.
fn catalog() -> Option<Vec<Product>> {
    let (home, bigbasket, myntra) = (
        searchd_testkit::homedepot_products()?,
        searchd_testkit::bigbasket_products()?,
        searchd_testkit::myntra_products()?,
    );
    let bundles: Vec<Product> = home
        .iter()
        .take(PRODUCTS)
        .map(|p| {
            let mut b = p.clone();
            b.id = format!("bundle-{}", p.id);
            b.title = format!("{} (2-pack)", p.title);
            b
        })
        .collect();
    let mut all = Vec::with_capacity(PRODUCTS);
    for (name, products) in [("homedepot", home), ("bigbasket", bigbasket), ("myntra", myntra), ("bundle", bundles)] {
        for mut p in products {
            if all.len() == PRODUCTS {
                break;
            }
            if !p.id.starts_with("bundle-") {
                p.id = format!("{name}-{}", p.id);
            }
            p.language = Some("en".into());
            p.attributes.insert("catalog".into(), json!(name));
            if let Some(price) = p.price {
                p.attributes.insert("list_price".into(), json!(price));
            }
            if p.validate().is_ok() {
                all.push(p);
            }
        }
    }
    Some(all)
}

fn count(all: &[Product], name: &str) -> u64 {
    all.iter().filter(|p| p.attributes["catalog"] == name).count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_change_on_100k_products_runs_in_the_background_while_searches_and_writes_go_on() {
    let Some(all) = catalog() else { return };
    assert_eq!(all.len(), PRODUCTS);
    let index = ProductIndex::in_memory(IndexConfig { writer_memory_mb: 128, ..IndexConfig::default() }).unwrap();
    let prepared: Vec<_> = all.iter().cloned().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();
    index.merge_segments().unwrap();
    let config = crate::config();
    let app = router(AppState::with_index(index, &config).unwrap(), &config.http);

    let before = get(&app, "/v1/settings").await;
    assert_eq!(before.json, json!({"version": 0, "attributes": {}}));
    let refused = get(&app, "/v1/products/search?q=drill&filter=catalog%20%3D%20bundle").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // Searches all along, from two tasks: each answers 200 (a filter on `catalog` is a 400
    // until the change is served, then a 200 from that moment on).
    let done = Arc::new(AtomicBool::new(false));
    let served_at = Arc::new(AtomicU64::new(0));
    let mut searchers = Vec::new();
    for worker in 0..2 {
        let (app, done, served_at) = (app.clone(), done.clone(), served_at.clone());
        searchers.push(tokio::spawn(async move {
            let (mut n, mut slowest) = (0u64, Duration::ZERO);
            let queries = ["cordless drill", "basmati rice", "kurta", "led bulb", "shampoo", "garden hose"];
            while !done.load(Ordering::Acquire) {
                let q = queries[(n as usize + worker) % queries.len()].replace(' ', "%20");
                let started = Instant::now();
                let plain = get(&app, &format!("/v1/products/search?q={q}&facets=brand")).await;
                slowest = slowest.max(started.elapsed());
                assert_eq!(plain.status, StatusCode::OK, "{}", plain.json);
                let filtered = get(&app, &format!("/v1/products/search?q={q}&filter=catalog%20%3D%20bundle")).await;
                match filtered.status {
                    StatusCode::OK => {
                        served_at.compare_exchange(0, n + 1, Ordering::AcqRel, Ordering::Acquire).ok();
                    }
                    StatusCode::BAD_REQUEST => {
                        assert_eq!(served_at.load(Ordering::Acquire), 0, "the served settings went back");
                        assert_eq!(filtered.json["code"], "invalid_search_filter");
                    }
                    other => panic!("{other}: {}", filtered.json),
                }
                n += 1;
                // Room for the writer and the poller on the test's two threads.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (n, slowest)
        }));
    }

    let patch = json!({"attributes": {
        "catalog": {"type": "keyword", "filterable": true, "facetable": true},
        "list_price": {"type": "number", "sortable": true, "filterable": true}
    }});
    let accepted = send_json(&app, Method::PATCH, "/v1/settings", &patch.to_string()).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.json);
    assert_eq!(accepted.json["reindex"], true);
    let id = accepted.json["id"].as_u64().unwrap();
    assert_eq!(id, 1);
    let busy = send_json(&app, Method::PATCH, "/v1/settings", r#"{"attributes": {"x": null}}"#).await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{}", busy.json);
    assert_eq!(busy.json["code"], "settings_task_running");

    // Writes meanwhile: new bundles, and Myntra products becoming bundles.
    let writer = {
        let app = app.clone();
        let myntra: Vec<Product> =
            all.iter().filter(|p| p.attributes["catalog"] == "myntra").take(200).cloned().collect();
        tokio::spawn(async move {
            for (i, mut p) in myntra.into_iter().enumerate() {
                p.attributes.insert("catalog".into(), json!("bundle"));
                p.version = 0;
                let reply =
                    send_json(&app, Method::PUT, &format!("/v1/products/{}", p.id), &json!(p).to_string()).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
                let new = json!({"id": format!("late-{i}"), "title": format!("Late bundle {i}"), "attributes": {"catalog": "bundle", "list_price": -1 - i as i64}});
                let reply = send_json(&app, Method::PUT, &format!("/v1/products/late-{i}"), &new.to_string()).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
            }
        })
    };

    let started = Instant::now();
    let mut reports = Vec::new();
    let task = loop {
        let task = get(&app, &format!("/v1/tasks/{id}")).await;
        assert_eq!(task.status, StatusCode::OK);
        let status = task.json["status"].as_str().unwrap().to_string();
        reports.push((status.clone(), task.json["progress"]["done"].as_u64().unwrap()));
        if status == "succeeded" || status == "failed" {
            break task.json;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the task did not end: {}", task.json);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    writer.await.unwrap();
    done.store(true, Ordering::Release);
    let mut searches = 0;
    for s in searchers {
        let (n, slowest) = s.await.unwrap();
        searches += n;
        println!(
            "a searcher ran {n} searches during the change; the slowest took {:.1} ms",
            slowest.as_secs_f64() * 1e3
        );
    }
    let processing: Vec<u64> = reports.iter().filter(|(s, _)| s == "processing").map(|(_, d)| *d).collect();
    println!(
        "settings task {id}: {} over {} products, {} ms; {} progress reports while processing, {searches} searches",
        task["status"],
        task["progress"]["total"],
        task["duration_ms"],
        processing.len()
    );
    assert_eq!(task["status"], "succeeded", "{task}");
    assert!(processing.len() >= 2 && processing.windows(2).all(|w| w[0] <= w[1]), "{reports:?}");
    assert!(processing.iter().any(|&d| d > 0 && d < PRODUCTS as u64), "progress in between: {reports:?}");
    assert!(task["progress"]["total"].as_u64().unwrap() >= PRODUCTS as u64);
    assert!(searches > 0);

    // Served: the attribute filters, facets and sorts; nothing written meanwhile is lost.
    let settings = get(&app, "/v1/settings").await;
    assert_eq!(settings.json["version"], 1);
    assert_eq!(settings.json["attributes"]["catalog"]["facetable"], true);
    tokio::time::sleep(Duration::from_millis(1_200)).await; // the commit interval, for the last writes
    let faceted = get(&app, "/v1/products/search?facets=catalog&per_page=1").await;
    assert_eq!(faceted.status, StatusCode::OK, "{}", faceted.json);
    let counts: std::collections::HashMap<String, u64> = faceted.json["facets"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["value"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts["bundle"], count(&all, "bundle") + 200 + 200, "{counts:?}");
    assert_eq!(counts["myntra"], count(&all, "myntra") - 200, "{counts:?}");
    assert_eq!(counts["homedepot"], count(&all, "homedepot"));
    let late = get(
        &app,
        "/v1/products/search?filter=catalog%20%3D%20bundle%20AND%20list_price%20%3C%200&sort=list_price:desc",
    )
    .await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.json);
    let first: Vec<&str> =
        late.json["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap()).take(3).collect();
    assert_eq!(first, ["late-0", "late-1", "late-2"], "{}", late.json);
    assert_eq!(late.json["total_hits"], 200);
}

#[tokio::test]
async fn bad_changes_are_400s_naming_the_key_and_tasks_404() {
    let app = app(true);
    for (body, field, needle) in [
        (r#"{"attributes": {"colour": {"type": "colourful"}}}"#, "attributes.colour", "unknown variant"),
        (r#"{"attributes": {"colour": {"filterable": true}}}"#, "attributes.colour", "missing field `type`"),
        (r#"{"attributes": {"price": {"type": "number"}}}"#, "attributes", "built-in"),
        (r#"{"attributes": {"colour": {"type": "keyword", "sortable": true}}}"#, "attributes", "sortable"),
        (r#"{"colours": {}}"#, "body", "not a setting"),
        (r#"{"synonyms": {}}"#, "synonyms", "a list of synonym sets"),
        (
            r#"{"synonyms": [{"synonyms": ["tv", "television"]}, {"synonyms": ["sofa"]}]}"#,
            "synonyms[1].synonyms",
            "at least two",
        ),
        (r#"{"synonyms": [{"synonyms": ["tv", "television"], "lang": "zz"}]}"#, "synonyms[0].lang", "unknown language"),
        (r#"[1]"#, "body", "object"),
    ] {
        let reply = send_json(&app, Method::PATCH, "/v1/settings", body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.json);
        assert_eq!(reply.json["code"], "invalid_settings", "{body}");
        assert!(reply.json["message"].as_str().unwrap().contains(needle), "{body}: {}", reply.json);
        assert_eq!(reply.json["field"], field, "{}", reply.json);
    }
    let malformed = send_json(&app, Method::PATCH, "/v1/settings", "{").await;
    assert_eq!(malformed.json["code"], "malformed_json");
    let plain = crate::call(&app, Method::PATCH, "/v1/settings", Some(("text/plain", "{}"))).await;
    assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(get(&app, "/v1/tasks/7").await.json["code"], "task_not_found");
    assert_eq!(get(&app, "/v1/tasks/seven").await.json["code"], "invalid_task_id");

    // A change of flags on the demo catalog: a task that applies at once.
    let declare = r#"{"attributes": {"colour": {"type": "keyword", "filterable": true}}}"#;
    let task = send_json(&app, Method::PATCH, "/v1/settings", declare).await;
    assert_eq!(task.status, StatusCode::ACCEPTED);
    let id = task.json["id"].as_u64().unwrap();
    let status = wait(&app, id).await;
    assert_eq!(status["status"], "succeeded", "{status}");
    let flags =
        send_json(&app, Method::PATCH, "/v1/settings", r#"{"attributes": {"colour": {"facetable": true}}}"#).await;
    assert_eq!(flags.json["reindex"], false, "{}", flags.json);
    let status = wait(&app, flags.json["id"].as_u64().unwrap()).await;
    assert_eq!(status["progress"]["done"], 0);
    let listed = get(&app, "/v1/tasks").await;
    assert_eq!(listed.json["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(get(&app, "/v1/settings").await.json["attributes"]["colour"]["facetable"], true);
}

async fn wait(app: &axum::Router, id: u64) -> Value {
    for _ in 0..600 {
        let task = get(app, &format!("/v1/tasks/{id}")).await.json;
        if task["status"] == "succeeded" || task["status"] == "failed" {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("task {id} did not end");
}

/// The data dir keeps the settings: a first start takes `[index.attributes]`, later starts serve
/// the data dir's settings whatever the file says, a data dir without its versions (restored
/// from a snapshot) keeps the index's own, and a version accepted but not applied resumes.
#[test]
fn settings_survive_restarts_and_an_accepted_change_resumes() {
    use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
    use searchd_catalog::settings::TaskStatus;
    use searchd_engine::{Engine, EngineConfig};

    let dir = tempfile::tempdir().unwrap();
    let declare = |names: &[&str]| {
        AttributeSchema(
            names.iter().map(|n| (n.to_string(), AttributeSettings::filterable(AttributeType::Keyword))).collect(),
        )
    };
    let config = |attributes: AttributeSchema| {
        let mut config = EngineConfig { data_dir: dir.path().to_path_buf(), ..EngineConfig::default() };
        config.index = IndexConfig { attributes, ..IndexConfig::small() };
        config
    };
    let wait = |engine: &Engine, id: u64| {
        for _ in 0..500 {
            match engine.settings.task(id).map(|t| t.status) {
                Some(TaskStatus::Succeeded) => return,
                Some(TaskStatus::Failed) => panic!("task {id} failed: {:?}", engine.settings.task(id)),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        panic!("task {id} did not end");
    };
    let version = |engine: &Engine| engine.index.settings().settings.version;
    {
        let engine = Engine::open(&config(declare(&["colour"]))).unwrap();
        assert_eq!(version(&engine), 1, "a first start takes the configured attributes");
        let mut p = Product::new("p1", "Kettle");
        p.attributes.insert("colour".into(), json!("red"));
        p.attributes.insert("size".into(), json!("L"));
        engine.index.apply(searchd_catalog::CatalogEvent::Upsert { product: p }).unwrap();
        engine.index.commit().unwrap();
        let task = engine.settings.update(
            &engine.index,
            &engine.vendors,
            &json!({"attributes": {"size": {"type": "keyword", "filterable": true}}}),
        );
        wait(&engine, task.unwrap().id);
        assert_eq!(version(&engine), 2);
    }
    {
        let engine = Engine::open(&config(declare(&["material"]))).unwrap();
        assert_eq!(version(&engine), 2, "the data dir's settings rule after the first start");
        assert!(engine.settings.tasks().is_empty());
        assert!(engine.index.settings().settings.attributes.get("size").is_some());
    }
    // Restored without its versions: the index's own settings are kept, and written down.
    std::fs::remove_dir_all(dir.path().join("settings")).unwrap();
    {
        let engine = Engine::open(&config(declare(&["material"]))).unwrap();
        assert_eq!(version(&engine), 2);
        assert!(engine.settings.tasks().is_empty());
    }
    assert!(dir.path().join("settings/v000002.json").is_file());
    // Accepted but not applied (the node stopped first): applied at the next start.
    let pending = searchd_catalog::Settings {
        version: 3,
        attributes: declare(&["colour", "size", "material"]),
        ..Default::default()
    };
    std::fs::write(dir.path().join("settings/v000003.json"), serde_json::to_vec(&pending).unwrap()).unwrap();
    let engine = Engine::open(&config(AttributeSchema::default())).unwrap();
    let resumed = engine.settings.tasks();
    assert_eq!(resumed.len(), 1);
    wait(&engine, resumed[0].id);
    assert_eq!(version(&engine), 3);
    assert!(engine.index.settings().settings.attributes.get("material").is_some());
}

#[tokio::test]
async fn rules_change_by_patch_are_listed_applied_explained_and_counted() {
    let app = app(true);
    // A rule's filter on an attribute that is not filterable: refused, naming the entry.
    let notes = r#"{"attributes": {"notes": {"type": "text", "searchable": true}},
        "rules": [{"id": "x", "actions": {"boost": [{"filter": "notes = warm"}]}}]}"#;
    let refused = send_json(&app, Method::PATCH, "/v1/settings", notes).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.json);
    assert_eq!(refused.json["field"], "rules[0].actions.boost[0].filter", "{}", refused.json);
    assert!(refused.json["message"].as_str().unwrap().contains("`notes` is not filterable"), "{}", refused.json);
    let bad_signal = r#"{"signals": [{"value": "colour", "weight": 1}]}"#;
    let refused = send_json(&app, Method::PATCH, "/v1/settings", bad_signal).await;
    assert_eq!(refused.json["field"], "signals[0].value", "{}", refused.json);

    let all = get(&app, "/v1/products/search?q=&per_page=5").await.json;
    let ids: Vec<String> =
        all["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().into()).collect();
    let title = all["hits"][0]["product"]["title"].as_str().unwrap().to_lowercase();
    let word: String = title.split(|c: char| !c.is_alphanumeric()).find(|w| w.len() > 3).unwrap().into();
    let rules = json!({"rules": [
        {"id": "promo", "conditions": {"query": {"contains": word}},
         "actions": {"pin": [{"id": ids[4], "position": 1}], "redirect": "/promo"}},
        {"id": "later", "conditions": {"from": "2999-01-01T00:00:00Z"}, "actions": {"hide": [ids[0]]}}
    ]});
    let task = send_json(&app, Method::PATCH, "/v1/settings", &rules.to_string()).await;
    assert_eq!(task.status, StatusCode::ACCEPTED, "{}", task.json);
    assert_eq!(wait(&app, task.json["id"].as_u64().unwrap()).await["status"], "succeeded");

    let listed = get(&app, "/v1/rules").await.json;
    assert_eq!(listed["rules"][0]["id"], "promo");
    assert_eq!(listed["rules"][0]["status"], "active");
    assert_eq!(listed["rules"][1]["status"], "scheduled", "{listed}");

    for _ in 0..2 {
        let found = get(&app, &format!("/v1/products/search?q={word}&explain=true")).await.json;
        assert_eq!(found["hits"][0]["product"]["id"], ids[4].as_str(), "{found}");
        assert_eq!(found["rules"], json!(["promo"]));
        assert_eq!(found["redirect"], "/promo");
        let effect = &found["hits"][0]["explain"]["rules"][0];
        assert_eq!(
            (effect["rule"].as_str(), effect["action"].as_str(), effect["position"].as_u64()),
            (Some("promo"), Some("pin"), Some(1))
        );
    }
    let other = get(&app, "/v1/products/search?q=zzzz").await.json;
    assert!(other.get("rules").is_none() && other.get("redirect").is_none(), "{other}");
    let request = axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap();
    let metrics = String::from_utf8(crate::common::send(&app, request).await.body).unwrap();
    assert!(metrics.contains(r#"searchd_rule_applications_total{rule="promo"} 2"#), "{metrics}");
}

#[tokio::test]
async fn a_preview_measures_a_change_and_require_preview_holds_changes_until_one() {
    let app = app(true);
    let all = get(&app, "/v1/products/search?q=&per_page=3").await.json;
    let id = all["hits"][0]["product"]["id"].as_str().unwrap().to_string();
    let title = all["hits"][0]["product"]["title"].as_str().unwrap().to_lowercase();
    let word: String = title.split(|c: char| !c.is_alphanumeric()).find(|w| w.len() > 3).unwrap().into();
    let change = json!({"weights": {"title": 0.5}, "rules": [{"id": "bury-it", "actions": {"bury": [{"filter": "price > 0", "factor": 0.5}]}}]});
    let body = json!({"settings": change, "judgments": [{"query": word, "id": id, "relevance": 3}], "sample": 50});
    let measured = send_json(&app, Method::POST, "/v1/settings/preview", &body.to_string()).await;
    assert_eq!(measured.status, StatusCode::OK, "{}", measured.json);
    let judged = &measured.json["judged"];
    assert_eq!(judged["live"]["queries"], 1, "{}", measured.json);
    assert!(judged["candidate"]["ndcg10_condensed"].as_f64().is_some(), "{}", measured.json);
    assert!(measured.json["query_log"]["queries"].as_u64().is_some());
    // Nothing served changed.
    assert!(get(&app, "/v1/settings").await.json.get("weights").is_none());

    // A change that writes every product again cannot be previewed; a bad one names its key.
    let reindex = json!({"settings": {"attributes": {"colour": {"type": "keyword", "filterable": true}}}});
    let refused = send_json(&app, Method::POST, "/v1/settings/preview", &reindex.to_string()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.json);
    assert_eq!(refused.json["field"], "settings.attributes", "{}", refused.json);
    let bad = json!({"settings": {"weights": {"titel": 2}}});
    let refused = send_json(&app, Method::POST, "/v1/settings/preview", &bad.to_string()).await;
    assert_eq!(refused.json["field"], "settings.weights.titel", "{}", refused.json);

    // With require_preview, a change waits for its preview against the served version.
    let on = send_json(&app, Method::PATCH, "/v1/settings", r#"{"require_preview": true}"#).await;
    assert_eq!(wait(&app, on.json["id"].as_u64().unwrap()).await["status"], "succeeded");
    let held = send_json(&app, Method::PATCH, "/v1/settings", &change.to_string()).await;
    assert_eq!(held.status, StatusCode::CONFLICT, "{}", held.json);
    assert_eq!(held.json["code"], "preview_required");
    let previewed =
        send_json(&app, Method::POST, "/v1/settings/preview", &json!({"settings": change}).to_string()).await;
    assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.json);
    let applied = send_json(&app, Method::PATCH, "/v1/settings", &change.to_string()).await;
    assert_eq!(applied.status, StatusCode::ACCEPTED, "{}", applied.json);
    assert_eq!(wait(&app, applied.json["id"].as_u64().unwrap()).await["status"], "succeeded");
    assert_eq!(get(&app, "/v1/settings").await.json["weights"]["title"], 0.5);
    // The preview was against the version before: the same change again needs a new one.
    let again = send_json(&app, Method::PATCH, "/v1/settings", &change.to_string()).await;
    assert_eq!(again.json["code"], "preview_required");
}
