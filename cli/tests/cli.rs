//! The `searchd` binary end to end: `index`, `eval`, configuration errors, and `serve` loading
//! the demo catalog on an empty data dir.

use std::io::{Read, Write};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn searchd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_searchd")).args(args).env_remove("SEARCHD_DATA_DIR").output().expect("run searchd")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn index_then_eval_prints_the_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let products = dir.path().join("products.csv");
    std::fs::write(
        &products,
        "sku,name\n1,Cordless Drill 18V\n2,Hammer Drill\n3,Claw Hammer\n4,Garden Hose 50 ft\n5,Hose Reel\n6,\n",
    )
    .unwrap();
    let judgments = dir.path().join("judgments.csv");
    std::fs::write(
        &judgments,
        "query,product_uid,relevance\ndrill,1,3\ndrill,2,2.33\ndrill,3,1\nhose,4,3\nhose,5,2\nhammer,3,3\n",
    )
    .unwrap();

    let data = data.to_str().unwrap();
    let out = searchd(&[
        "--data-dir",
        data,
        "index",
        "--input",
        products.to_str().unwrap(),
        "--map",
        "id=sku,title=name",
        "--lang",
        "en",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("indexed 5 of 6 rows"), "{stdout}");
    assert!(stdout.contains("skipped 1: title"), "{stdout}");
    assert!(text(&out.stderr).contains("line 7: skipped: title: missing"), "{}", text(&out.stderr));

    for ranking in ["default", "bm25"] {
        let out =
            searchd(&["--data-dir", data, "eval", "--judgments", judgments.to_str().unwrap(), "--ranking", ranking]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let last = stdout.lines().last().unwrap();
        let json: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
        assert_eq!(json["queries"], 3);
        for key in ["ndcg10_condensed", "ndcg10_strict", "recall100", "p50_ms", "p99_ms"] {
            assert!(json[key].is_number(), "{key} in {last}");
        }
        assert_eq!(json["recall100"], 1.0, "every product with relevance ≥ 2.5 is retrieved: {last}");
        for key in ["ndcg10_condensed", "ndcg10_strict"] {
            let v = json[key].as_f64().unwrap();
            assert!(v > 0.0 && v <= 1.0, "{key} in {last}");
        }
        assert!(stdout.contains("nDCG@10 condensed"), "the human table comes first");
    }

    // eval --settings: candidate synonyms measured against the served settings, not served.
    let sprinkler = dir.path().join("sprinkler.csv");
    std::fs::write(&sprinkler, "query,product_uid,relevance\nsprinkler,4,3\nsprinkler,5,2\ndrill,1,3\n").unwrap();
    let candidate = dir.path().join("candidate.json");
    std::fs::write(&candidate, r#"{"synonyms": [{"input": "sprinkler", "synonyms": ["garden hose"]}]}"#).unwrap();
    let (j, c) = (sprinkler.to_str().unwrap(), candidate.to_str().unwrap());
    // The query log's most searched queries are replayed too.
    std::fs::write(
        std::path::Path::new(data).join("queries.jsonl"),
        "{\"q\": \"sprinkler\", \"count\": 7, \"hits\": 2}\n{\"q\": \"drill\", \"count\": 3, \"hits\": 1}\n",
    )
    .unwrap();
    for _ in 0..2 {
        let out = searchd(&["--data-dir", data, "eval", "--judgments", j, "--settings", c]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let json: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(json["live"]["recall100"], 0.5, "{stdout}");
        assert_eq!(json["candidate"]["recall100"], 1.0, "{stdout}");
        assert_eq!(json["changed"], 1, "{stdout}");
        assert_eq!((json["log_queries"].as_u64(), json["log_changed"].as_u64()), (Some(2), Some(1)), "{stdout}");
        assert!(stdout.contains("1 of its 2 most searched queries"), "{stdout}");
        assert!(stdout.contains("sprinkler") && stdout.contains("queries whose top 10 changed: 1 of 2"), "{stdout}");
    }
    let held = dir.path().join("held.json");
    std::fs::write(&held, r#"{"attributes": {"colour": {"type": "keyword", "filterable": true}}}"#).unwrap();
    let out = searchd(&["--data-dir", data, "eval", "--judgments", j, "--settings", held.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot be previewed"), "{}", text(&out.stderr));

    // train-ranker: cross-validation by query, then a saved model that eval then uses.
    let training = dir.path().join("training.csv");
    std::fs::write(
        &training,
        "query,product_uid,relevance\ndrill,1,3\ndrill,2,2.33\ndrill,3,1\nhose,4,3\nhose,5,2\nhammer,3,3\nhammer,2,2\n\
         cordless drill,1,3\ncordless drill,2,1.67\ngarden hose,4,3\ngarden hose,5,1.33\nhose reel,5,3\nhose reel,4,1.67\n\
         hammer drill,2,3\nhammer drill,3,1.33\nclaw hammer,3,3\nclaw hammer,2,1\n",
    )
    .unwrap();
    let j = training.to_str().unwrap();
    let out = searchd(&["--data-dir", data, "train-ranker", "--judgments", j, "--folds", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("2-fold cross-validation"), "{stdout}");
    assert!(stdout.contains("saved ranker v000001"), "{stdout}");
    assert!(std::path::Path::new(data).join("models/ranker/ranker-000001.json").is_file());
    let out = searchd(&["--data-dir", data, "eval", "--judgments", j]);
    assert!(text(&out.stdout).starts_with("model: v000001"), "{}", text(&out.stdout));
    let out = searchd(&["--data-dir", data, "train-ranker"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--judgments FILE, --events"), "{}", text(&out.stderr));
}

#[test]
fn index_vendors_from_csv() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("vendors.csv");
    std::fs::write(
        &csv,
        "id,company,latitude,longitude,radius,categories\n\
         v1,Acme Drills,48.85,2.35,30,Tools/Power Tools\n\
         v2,Bad Place,48.85,270,30,Tools\n\
         v3,Fiji Fish,-17.7,179.9,250,Food|Fish\n",
    )
    .unwrap();
    let index_vendors = |extra: &[&str]| {
        let base =
            ["--data-dir", data.to_str().unwrap(), "index", "--kind", "vendors", "--input", csv.to_str().unwrap()];
        searchd(&[&base[..], extra].concat())
    };
    let out = index_vendors(&["--map", "name=company,lat=latitude,lon=longitude,service_radius_km=radius"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("indexed 2 of 3 rows") && stdout.contains("index holds 2 vendors"), "{stdout}");
    assert!(
        text(&out.stderr).contains("line 3: skipped: invalid document field `location.lon`"),
        "{}",
        text(&out.stderr)
    );
    let out = index_vendors(&[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no column for `name`"), "{}", text(&out.stderr));

    // Offers of those vendors, checked against the products and vendors of the data dir.
    let products = dir.path().join("products.jsonl");
    std::fs::write(&products, "{\"id\":\"p1\",\"title\":\"Cordless drill\"}\n").unwrap();
    let d = data.to_str().unwrap();
    let out = searchd(&["--data-dir", d, "index", "--input", products.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let offers = dir.path().join("offers.csv");
    std::fs::write(&offers, "id,sku,vendor_id,price,stock\no1,p1,v1,99.5,3\no2,p1,v2,90,1\no3,p9,v1,10,1\n").unwrap();
    let out = searchd(&[
        "--data-dir",
        d,
        "index",
        "--kind",
        "offers",
        "--input",
        offers.to_str().unwrap(),
        "--map",
        "product_id=sku",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("indexed 1 of 3 rows") && stdout.contains("index holds 1 offers"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 3: skipped: vendor_id: vendor `v2` does not exist"), "{stderr}");
    assert!(stderr.contains("line 4: skipped: product_id: product `p9` does not exist"), "{stderr}");
}

#[test]
fn bad_configuration_fails_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("searchd.toml");
    std::fs::write(&config, "[index]\ncommit_every = 3\n").unwrap();
    let out = searchd(&[
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
        "eval",
        "--judgments",
        "x.csv",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("commit_every"), "{}", text(&out.stderr));

    let out = Command::new(env!("CARGO_BIN_EXE_searchd"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "eval", "--judgments", "x.csv"])
        .env("SEARCHD_INDEX__WRITER_MEMORY_MB", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).to_lowercase().contains("writer_memory_mb"), "{}", text(&out.stderr));
}

/// A plain HTTP/1.1 GET on loopback; returns the body of a 200.
pub(crate) fn http_get(port: u16, path: &str) -> Option<String> {
    http_request(port, path, None).filter(|(status, _)| *status == 200).map(|(_, body)| body)
}

/// A plain HTTP/1.1 GET on loopback with an optional API key; returns status and body.
pub(crate) fn http_request(port: u16, path: &str, key: Option<&str>) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Without `--demo`, API keys are on: the routes answer 401 without a key, and a key made by
/// `searchd keys create` opens them (health stays open).
#[test]
fn serve_loads_the_demo_catalog_on_an_empty_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let created = searchd(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "keys",
        "create",
        "--scopes",
        "search",
        "--name",
        "cli-test",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let key = text(&created.stdout).trim().to_string();
    assert!(key.starts_with("sd_"), "{key}");
    let listed = searchd(&["--data-dir", dir.path().to_str().unwrap(), "keys", "list"]);
    assert!(
        text(&listed.stdout).contains("cli-test") && !text(&listed.stdout).contains(&key),
        "{}",
        text(&listed.stdout)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_searchd"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("SEARCHD_DATA_DIR")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ready = None;
    while Instant::now() < deadline {
        if let Some(body) = http_get(port, "/readyz") {
            ready = Some(body);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Ready means suggesting too: the first keystroke right after readiness gets suggestions.
    let suggestions = http_request(port, "/v1/autocomplete?q=cordl", Some(&key));
    let unauthenticated = http_request(port, "/v1/products/search?q=tent", None);
    let wrong = http_request(port, "/v1/products/search?q=tent", Some("sd_000000000000_nope"));
    let admin = http_request(port, "/v1/admin/ranker", Some(&key));
    let search = http_request(port, "/v1/products/search?q=tent&facets=brand&highlight=true", Some(&key))
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body);
    let vendors = http_request(port, "/v1/vendors/search?near=48.85,2.35&radius_km=50&sort=distance", Some(&key))
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body);
    let revoked = searchd(&["--data-dir", dir.path().to_str().unwrap(), "keys", "revoke", "cli-test"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    // The server re-reads the key file within its reload interval (1 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after_revoke = None;
    while Instant::now() < deadline {
        after_revoke = http_request(port, "/v1/products/search?q=tent", Some(&key)).map(|(status, _)| status);
        if after_revoke == Some(401) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let ready = ready.expect("searchd became ready within 60 s");
    let (status, body) = unauthenticated.unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("missing_api_key"), "{body}");
    assert_eq!(wrong.map(|(s, _)| s), Some(401));
    let (status, body) = admin.unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("insufficient_scope") && body.contains("admin"), "{body}");
    assert_eq!(after_revoke, Some(401), "a revoked key must be refused");
    assert!(ready.contains("\"documents\":312") && ready.contains("\"vendors\":128"), "{ready}");
    let (status, body) = suggestions.expect("autocomplete answered");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<em>Cordl</em>"), "suggestions right after readiness: {body}");
    let vendors: serde_json::Value = serde_json::from_str(vendors.expect("vendor search answered 200").trim()).unwrap();
    assert_eq!(vendors["total_hits"], 4, "the demo's Paris vendors: {vendors}");
    let search = search.expect("search answered 200");
    let json: serde_json::Value = serde_json::from_str(search.trim()).unwrap_or_else(|e| panic!("{e}: {search}"));
    assert!(json["total_hits"].as_u64().unwrap() > 0, "{json}");
    assert!(json["hits"][0]["highlight"]["title"].as_str().unwrap().contains("<em>"), "{json}");
    assert!(!json["facets"]["brand"].as_array().unwrap().is_empty(), "{json}");
}
