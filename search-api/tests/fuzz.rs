//! Property-based fuzzing of everything a caller can send: query strings (product search with its
//! filter syntax, autocomplete, vendor search with its `near` and `bbox` syntax), run through the
//! parsers and then the real indexes; and JSON bodies (searches, products, vendors, requests for
//! information, events, bulk arrays and NDJSON), random or mutated from valid documents, through
//! the whole router. Nothing may panic; every refusal is a 4xx JSON error with a code.
//!
//! CI runs a few thousand cases per target. The bench-style run reported in the README:
//! `SEARCHD_FUZZ_CASES=1000000 cargo test --release -p searchd-api --test integration fuzz -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use searchd_api::{
    AUTOCOMPLETE_PARAMS, AppState, SEARCH_PARAMS, VENDOR_SEARCH_PARAMS, parse_autocomplete_query, parse_search_query,
    parse_vendor_query, router,
};
use searchd_engine::demo;
use serde_json::Value;
use utoipa::OpenApi;

fn cases() -> u32 {
    std::env::var("SEARCHD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        // Inputs are cheap; a rejected one is generated again.
        max_global_rejects: cases.saturating_mul(2),
        ..ProptestConfig::default()
    })
}

fn state() -> AppState {
    let mut config = crate::config();
    config.rate_limit.enabled = false;
    let state = crate::common::demo_state(&config);
    demo::load_vendors(&state.vendors).unwrap();
    state
}

/// Names no parser knows (or written wrong); each parser's own come from the API.
const JUNK_KEYS: [&str; 11] = ["", "Q", "q[]", "filters.brand", "price", "size", "%", "a=b", "&", "sort ", "types"];

/// Values that stress number, boolean, list, path and coordinate parsing, and free text.
fn value() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        "",
        " ",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "infinity",
        "-0",
        "0",
        "1",
        "-1",
        "1.5",
        "1e309",
        "-1e309",
        "1e-400",
        "18446744073709551616",
        "99999999999999999999999",
        "0x10",
        "٣",
        "true",
        "false",
        "TRUE",
        "yes",
        "null",
        "relevance",
        "price_asc",
        "distance",
        "rating:desc",
        "bm25",
        "phase1",
        "brand,category",
        "brand,,",
        ",",
        "query,product,brand,category",
        "en",
        "zz",
        "EN",
        "english",
        "/",
        "//",
        "a//b",
        "Tools/Power Tools",
        "/Tools/",
        "52.5,13.4",
        "91,0",
        "0,181",
        "1,2,3",
        "1,2,3,4",
        "10,170,-10,-170",
        "-90,-180,90,180",
        ",,,",
        "1;2",
        "\u{0}",
        "\u{7f}",
        "\u{202e}",
        "é\u{301}",
        "ǅ",
        "ﬀ",
        "İ",
        "ß",
        "🦀",
        "<em>",
        "\"",
        "'",
        "\\",
        "%00",
        "%ZZ",
    ])
    .prop_map(String::from);
    prop_oneof![
        3 => special,
        2 => "\\PC{0,24}",
        1 => ".{0,24}",
        1 => prop::collection::vec(any::<u8>(), 0..24).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => any::<f64>().prop_map(|f| f.to_string()),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => (any::<f64>(), any::<f64>()).prop_map(|(a, b)| format!("{a},{b}")),
        1 => prop::collection::vec("[A-Za-zÄäß ]{0,6}", 0..4).prop_map(|v| v.join("/")),
        1 => "\\PC{200,600}",
    ]
}

/// A raw query string for a parser knowing `keys`: mostly its own parameters, sometimes unknown
/// ones (encoded or raw), or free text.
fn query_string(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        19 => prop::sample::select(keys),
        1 => prop::sample::select(JUNK_KEYS.to_vec()),
    ];
    // Most values fit their parameter (so searches run); the rest are anything.
    let pair = key.prop_flat_map(|k| (Just(k), prop_oneof![1 => value(), 3 => plausible(k)], any::<bool>()));
    let pairs = prop::collection::vec(pair, 0..6).prop_map(|pairs| {
        let encoded = pairs.into_iter().map(|(k, v, encode)| {
            if encode { serde_urlencoded::to_string([(k, v.as_str())]).unwrap() } else { format!("{k}={v}") }
        });
        encoded.collect::<Vec<_>>().join("&")
    });
    prop_oneof![8 => pairs, 1 => ".{0,80}", 1 => "[=&%a-z0-9+]{0,60}"]
}

/// A value of the kind the parameter takes.
fn plausible(key: &str) -> BoxedStrategy<String> {
    let words = prop::sample::select(vec![
        "drill",
        "cordless dril",
        "tent",
        "zelt",
        "kopfhörer",
        "cafe",
        "café",
        "led lamp",
        "12v",
        "sac à dos",
        "mochila",
        "t",
        "dewalt",
        "the",
        "garden hose 50 ft",
        "zzzz",
        "\"drill\"",
        "drill -cordless",
        "a OR b",
    ]);
    match key {
        "q" => prop_oneof![words.prop_map(String::from), "[a-zäöüéñ ]{0,20}"].boxed(),
        "price_min" | "price_max" | "min_rating" | "radius_km" | "min_km" => {
            (0.0f64..600.0).prop_map(|f| f.to_string()).boxed()
        }
        "page" | "per_page" | "limit" | "offset" => (0usize..120).prop_map(|n| n.to_string()).boxed(),
        "in_stock" | "highlight" | "explain" => {
            prop::sample::select(vec!["true", "false", "1", "0", ""]).prop_map(String::from).boxed()
        }
        "brand" => prop::sample::select(vec!["DeWalt", "Bosch", "Makita", "Nope"]).prop_map(String::from).boxed(),
        "category" => prop::sample::select(vec!["Tools", "Tools/Power Tools", "Outdoor", "Nope/Nope"])
            .prop_map(String::from)
            .boxed(),
        "near" | "serves" => (-90.0f64..90.0, -180.0f64..180.0).prop_map(|(a, b)| format!("{a},{b}")).boxed(),
        "bbox" => (-90.0f64..90.0, -180.0f64..180.0, -90.0f64..90.0, -180.0f64..180.0)
            .prop_map(|(a, b, c, d)| format!("{},{},{},{}", a.min(c), b, a.max(c), d))
            .boxed(),
        "sort" => prop::sample::select(vec!["relevance", "price_asc", "price_desc", "rating", "newest", "distance"])
            .prop_map(String::from)
            .boxed(),
        "ranking" => prop::sample::select(vec!["default", "phase1", "bm25"]).prop_map(String::from).boxed(),
        "facets" => prop::sample::select(vec!["brand", "category", "brand,category"]).prop_map(String::from).boxed(),
        "types" => prop::sample::select(vec!["query", "product,brand", "category"]).prop_map(String::from).boxed(),
        "lang" => prop::sample::select(vec!["en", "de", "fr", "es"]).prop_map(String::from).boxed(),
        _ => value().boxed(),
    }
}

#[test]
fn query_strings_never_panic_and_refusals_are_client_errors() {
    let state = state();
    let ranker = state.ranking.ranker();
    let (n, started) = (cases(), Instant::now());
    let counts: BTreeMap<String, AtomicU64> = ["search", "autocomplete", "vendors"]
        .into_iter()
        .flat_map(|kind| [format!("{kind} ok"), format!("{kind} refused")])
        .map(|k| (k, AtomicU64::new(0)))
        .collect();
    // An input either gets a sane answer, or a refusal that is a client error.
    let tally = |kind: &str, raw: &str, outcome: Result<bool, searchd_api::ApiError>| -> Result<(), TestCaseError> {
        let result = match outcome {
            Ok(sane) => {
                prop_assert!(sane, "{kind} {raw:?}: the answer breaks its request's bounds");
                "ok"
            }
            Err(e) => {
                prop_assert!(e.code().status().is_client_error(), "{raw:?} → {:?}: {}", e.code(), e.message);
                "refused"
            }
        };
        counts[&format!("{kind} {result}")].fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    let input = (query_string(&SEARCH_PARAMS), query_string(&AUTOCOMPLETE_PARAMS), query_string(&VENDOR_SEARCH_PARAMS));
    let result = runner(n).run(&input, |(search, autocomplete, vendors)| {
        // Parsed requests run on the indexes, which validate too (a bad range is still a client error).
        let searched = parse_search_query(&search).and_then(|request| {
            let response = state.index.search(&request, &ranker)?;
            Ok(response.hits.len() <= request.per_page)
        });
        tally("search", &search, searched)?;
        let suggested = parse_autocomplete_query(&autocomplete)
            .map(|query| state.autocomplete.suggest(&query.q, query.limit, query.kinds).len() <= query.limit);
        tally("autocomplete", &autocomplete, suggested)?;
        let found = parse_vendor_query(&vendors).and_then(|request| {
            let response = state.vendors.search(&request)?;
            Ok(response.hits.iter().all(|h| h.distance_km.is_none_or(f64::is_finite)))
        });
        tally("vendors", &vendors, found)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let counts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {}", v.load(Ordering::Relaxed))).collect();
    eprintln!(
        "fuzz query strings: {n} inputs for each of 3 parsers, 0 panics, every refusal a 4xx ({}) in {:.1} s",
        counts.join(", "),
        started.elapsed().as_secs_f64()
    );
}

/// Field names of every schema in the API description (so random objects hit real fields of
/// every body), and two no schema has. Read once: strategies are rebuilt for every input.
static FIELDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let spec = serde_json::to_value(searchd_api::openapi::ApiDoc::openapi()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap().values();
    let mut names: BTreeSet<String> =
        schemas.filter_map(|s| s["properties"].as_object()).flat_map(|p| p.keys().cloned()).collect();
    names.extend(["junk".to_string(), String::new()]);
    names.into_iter().collect()
});

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![0.0, -0.0, 5.0, 5.000001, -1.0, 1e308, 90.0, -180.0]).prop_map(Value::from),
        value().prop_map(Value::String),
        prop::sample::select(vec![
            "2026-11-22T10:00:00Z",
            "2999-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "view",
            "click",
            "add_to_cart",
            "purchase",
            "HD-100001",
            "Industrial/Machining",
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(FIELDS.as_slice()), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Valid bodies, to be mutated byte by byte.
const SEEDS: &[&str] = &[
    r#"{"q":"cordless drill","filters":{"brand":["DeWalt"],"price_min":10,"price_max":200,"in_stock":true,"category":"Tools/Power Tools","min_rating":3.5},"facets":["brand","category"],"sort":"price_asc","page":2,"per_page":10,"highlight":true,"explain":true}"#,
    r#"{"id":"fz-1","title":"Akku-Bohrschrauber 18V","brand":"Bosch","category":["Werkzeug","Elektrowerkzeug"],"price":99.5,"rating":4.4,"review_count":12,"in_stock":true,"attributes":{"voltage":"18 V"},"language":"de","updated_at":"2026-11-01T08:00:00Z"}"#,
    r#"{"id":"fz-2","name":"Havel Machining","categories":["Industrial/Machining"],"capabilities":"CNC milling","location":{"lat":50.07,"lon":14.43},"service_radius_km":300,"rating":4.7,"available":true,"languages":["cs","en"]}"#,
    r#"{"category":"Industrial/Machining","description":"anodised aluminium brackets","location":{"lat":48.2,"lon":16.37},"max_distance_km":400,"quantity":500,"budget":6000,"needed_by":"2099-12-15T00:00:00Z","language":"en","limit":5}"#,
    r#"[{"type":"click","product_id":"HD-100001","query":"drill","position":2,"session_id":"s1","timestamp":"2026-11-22T10:00:00Z"}]"#,
    r#"[{"id":"fz-3","title":"Claw hammer","price":19.9},{"id":"fz-4","title":"Tape measure"}]"#,
];

fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
    let edit = (0..3u8, any::<prop::sample::Index>(), any::<u8>());
    (prop::sample::select(SEEDS), prop::collection::vec(edit, 1..6)).prop_map(|(seed, edits)| {
        let mut bytes = seed.as_bytes().to_vec();
        for (op, at, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            let byte = *b"{}[]\",:0-9.e \\nulltruefalse\x00\xff".get(usize::from(byte) % 31).unwrap_or(&byte);
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => {
                    bytes.remove(i);
                }
            }
        }
        bytes
    })
}

/// Routes that take bodies, and the content types they may be sent with.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/products/search"),
    ("PUT", "/v1/products/fz-1"),
    ("POST", "/v1/products/bulk"),
    ("PUT", "/v1/vendors/fz-2"),
    ("POST", "/v1/vendors/bulk"),
    ("POST", "/v1/vendors/match"),
    ("POST", "/v1/events"),
];

async fn send(app: &Router, method: &str, uri: &str, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let request = Request::builder()
        .method(method.parse::<Method>().unwrap())
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    let reply = crate::common::send(app, request).await;
    (reply.status.as_u16(), reply.body)
}

#[test]
fn json_bodies_never_panic_and_refusals_are_json_errors() {
    let app = router(state(), &crate::config().http);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let body = prop_oneof![
        2 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        // Arrays of random objects for the bulk routes and events.
        1 => prop::collection::vec(json_value(), 0..4).prop_map(|v| serde_json::to_vec(&v).unwrap()),
        2 => mutated_seed(),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ];
    let content_type = prop_oneof![
        8 => Just("application/json"),
        2 => Just("application/x-ndjson"),
        1 => Just("application/json; charset=utf-8"),
        1 => prop::sample::select(vec!["text/plain", "", "application/xml", "application/json; charset=latin1"]),
    ];
    let input = (prop::sample::select(ROUTES), content_type, body);
    let (n, started) = (cases(), Instant::now());
    let statuses: BTreeMap<u16, AtomicU64> =
        [200, 201, 400, 404, 413, 415, 422].into_iter().map(|s| (s, AtomicU64::new(0))).collect();
    let result = runner(n).run(&input, |((method, uri), content_type, body)| {
        let (status, answer) = runtime.block_on(send(&app, method, uri, content_type, body.clone()));
        prop_assert!(
            status < 500,
            "{method} {uri} {content_type} {:?} → {status}: {}",
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(&answer)
        );
        let answer: Value = serde_json::from_slice(&answer)
            .map_err(|e| TestCaseError::fail(format!("{method} {uri} → {status}, not JSON: {e}")))?;
        if status >= 400 {
            prop_assert!(answer["code"].is_string() && answer["message"].is_string(), "{status}: {answer}");
        }
        if let Some(count) = statuses.get(&status) {
            count.fetch_add(1, Ordering::Relaxed);
        } else {
            return Err(TestCaseError::fail(format!("{method} {uri} → unexpected status {status}: {answer}")));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let statuses: Vec<String> = statuses
        .iter()
        .filter(|(_, v)| v.load(Ordering::Relaxed) > 0)
        .map(|(k, v)| format!("{k}: {}", v.load(Ordering::Relaxed)))
        .collect();
    eprintln!(
        "fuzz JSON bodies: {n} requests over {} routes, 0 panics, 0 server errors (statuses {}) in {:.1} s",
        ROUTES.len(),
        statuses.join(", "),
        started.elapsed().as_secs_f64()
    );
}
