//! A node restarted while shoppers search and type serves, from its first ready answer, the
//! suggestions it served before: the suggestions are kept on disk with the catalog version they
//! belong to, and `/readyz` says ready only once they are served.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::cli::{http_get, text};

/// What a shopper types, keystroke by keystroke (typos included).
const TYPED: [&str; 6] = ["dewalt drill", "dewlat", "cordless", "refrig", "toilet s", "paint"];
/// Searches made before the restart, each three times: the popular queries.
const SEARCHED: [&str; 4] = ["cordless drill", "deck paint", "refrigerator", "toilet seat"];

/// `searchd serve`; `queries_every` rebuilds the popular queries that often (seconds).
fn serve(data: &str, port: u16, log: &std::path::Path, queries_every: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_searchd"))
        .args(["--data-dir", data, "serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("SEARCHD_DATA_DIR")
        .env("RUST_LOG", "info")
        .env("SEARCHD_AUTOCOMPLETE__QUERY_REFRESH_SECS", queries_every.to_string())
        // One test client plays many shoppers: the per-IP limit would refuse it.
        .env("SEARCHD_RATE_LIMIT__ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Waits for `/readyz` to answer 200; returns how long it took.
fn ready(port: u16, child: &mut Child) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(180) {
        if http_get(port, "/readyz").is_some() {
            return started.elapsed();
        }
        assert!(child.try_wait().unwrap().is_none(), "searchd exited before it was ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("searchd was not ready within 180 s");
}

/// SIGTERM, then waits: the server commits and keeps its suggestions before it exits.
fn stop(mut child: Child) {
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "searchd did not stop within 60 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every keystroke of [`TYPED`], with its suggestions as the server answers them.
fn keystrokes(port: u16) -> Vec<(String, String)> {
    let mut answers = Vec::new();
    for word in TYPED {
        for end in (1..=word.len()).filter(|&e| word.is_char_boundary(e)) {
            let typed = &word[..end];
            let path = format!("/v1/autocomplete?q={}", typed.replace(' ', "%20"));
            let body = http_get(port, &path).unwrap_or_else(|| panic!("no answer to {path}"));
            let json: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
            // The suggestions alone: `took_ms` differs from call to call.
            answers.push((typed.to_string(), json["suggestions"].to_string()));
        }
    }
    answers
}

#[test]
fn a_restart_serves_the_suggestions_it_had_from_its_first_ready_answer() {
    let Some(products) = searchd_testkit::shared_data("homedepot/products.csv.gz") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_searchd"))
        .args(["--data-dir", data, "index", "--input", products.to_str().unwrap()])
        .args(["--map", "id=product_uid,title=title", "--lang", "en"])
        .env_remove("SEARCHD_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    // First start, which builds the suggestions: the popular queries are searched and become
    // suggestions within a second; the first recommendations model is trained and saved.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let logs: Vec<_> = (0..3).map(|i| dir.path().join(format!("serve-{i}.log"))).collect();
    let mut child = serve(data, port, &logs[0], 1);
    let built = ready(port, &mut child);
    for _ in 0..3 {
        for q in SEARCHED {
            assert!(http_get(port, &format!("/v1/products/search?q={}", q.replace(' ', "+"))).is_some());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http_get(port, "/v1/autocomplete?q=cordl").is_some_and(|b| b.contains("\"type\":\"query\"")) {
        assert!(Instant::now() < deadline, "the popular queries were not suggested within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let similar = "/v1/products/148543/similar?limit=10";
    let deadline = Instant::now() + Duration::from_secs(120);
    while http_get(port, similar).is_none() {
        assert!(Instant::now() < deadline, "no similar products within 120 s of the first start");
        std::thread::sleep(Duration::from_millis(200));
    }
    stop(child);

    // Second start, whose popular queries stay as kept for a minute: what it serves is the
    // "before" of the restart.
    let mut child = serve(data, port, &logs[1], 60);
    ready(port, &mut child);
    let before = keystrokes(port);
    let similar_before = http_get(port, similar).map(|b| hits(&b)).expect("similar products right after ready");
    let short =
        |answers: &[(String, String)]| answers.iter().map(|(t, s)| format!("{t}: {:.120}", s)).collect::<Vec<_>>();
    assert!(before.iter().any(|(typed, s)| typed == "dewlat" && s.contains("DEWALT")), "{:?}", short(&before));
    assert!(before.iter().all(|(_, s)| s != "[]"), "every keystroke has suggestions: {:?}", short(&before));
    assert!(before.iter().any(|(_, s)| s.contains("\"type\":\"query\"")), "{:?}", short(&before));

    // Shoppers keep searching and typing through the restart.
    let stopping = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let shoppers = {
        let (stopping, answered) = (stopping.clone(), answered.clone());
        std::thread::spawn(move || {
            let mut i = 0usize;
            while !stopping.load(Ordering::Relaxed) {
                let path = if i % 2 == 0 {
                    format!("/v1/products/search?q={}", SEARCHED[i / 2 % SEARCHED.len()].replace(' ', "+"))
                } else {
                    format!("/v1/autocomplete?q={}", &TYPED[i / 2 % TYPED.len()][..3])
                };
                if http_get(port, &path).is_some() {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    stop(child);
    // The popular queries as kept; rebuilt from the log a minute later, as before the restart.
    let mut child = serve(data, port, &logs[2], 60);
    let restarted = ready(port, &mut child);
    // From the first ready answer on, twice in a row, every keystroke is answered as before,
    // and similar products come from the saved model.
    let similar_after = http_get(port, similar).map(|b| hits(&b));
    let first = keystrokes(port);
    let second = keystrokes(port);
    stopping.store(true, Ordering::Relaxed);
    shoppers.join().unwrap();
    stop(child);
    for (after, pass) in [(&first, "first"), (&second, "second")] {
        for ((typed, was), (_, now)) in before.iter().zip(after.iter()) {
            assert!(
                was == now,
                "{pass} pass after the restart: `{typed}` is suggested differently:\n{was:.400}\n{now:.400}"
            );
        }
    }
    assert_eq!(similar_after.as_ref(), Some(&similar_before), "similar products right after ready");
    let log = std::fs::read_to_string(&logs[2]).unwrap();
    assert!(log.contains("suggestions restored from disk"), "the start read the kept suggestions:\n{log}");
    assert!(!log.contains("catalog completions rebuilt"), "the start rebuilt the suggestions:\n{log}");
    eprintln!(
        "restart: ready {:.0} ms after start with kept suggestions (first start, built: {:.0} ms); {} shopper \
         requests answered across the restart",
        restarted.as_secs_f64() * 1e3,
        built.as_secs_f64() * 1e3,
        answered.load(Ordering::Relaxed)
    );
}

/// The product ids of a similar-products answer.
fn hits(body: &str) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    json["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().to_string()).collect()
}
