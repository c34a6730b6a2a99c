//! The storefront page in a real browser: Debian's Chromium driven by Playwright
//! (`tests/browser/storefront.mjs`) against a live server with auth on, the page holding a
//! search-scoped key. Needs node, `/usr/bin/chromium` (or `$SEARCHD_CHROMIUM`) and the npm
//! package in `tests/browser` (`npm ci` there; the test runs it when npm is present); `.ci/run`
//! installs all three. A failing step leaves a screenshot in the test's temporary folder, kept
//! and printed.

use std::path::{Path, PathBuf};
use std::process::Command;

use searchd_api::{AppState, Config, KeyStore, Scope};
use searchd_engine::demo;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// node, Chromium and playwright-core, installing the npm package when it is missing.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let missing = |what: &str| {
        assert!(!searchd_testkit::in_ci(), "{what} is required under CI=true (.ci/run installs it)");
        eprintln!("SKIPPED: {what} not found; the browser test needs node, Chromium and `npm ci` in tests/browser");
        None
    };
    let Some(node) = searchd_testkit::find_program("NODE", "node") else { return missing("node") };
    let chromium =
        std::env::var_os("SEARCHD_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.is_file() {
        return missing("Chromium (apt-get install chromium)");
    }
    let dir = browser_dir();
    if !dir.join("node_modules/playwright-core").is_dir() {
        let Some(npm) = searchd_testkit::find_program("NPM", "npm") else { return missing("npm") };
        let status = Command::new(npm).args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).status().unwrap();
        assert!(status.success(), "npm ci in {} failed", dir.display());
    }
    Some((node, chromium))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storefront() {
    let Some((node, chromium)) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().join("data"), ..Config::default() };
    // The demo's attributes, as a fresh `serve` declares them: facets of their own on the page.
    config.index.attributes = demo::attributes();
    // Auth on, as in production: the page has a search-scoped key and nothing else.
    let (_, key) = KeyStore::new(&config.data_dir).create("storefront", &[Scope::Search]).unwrap();
    config.web.search_key = key;
    let state = AppState::open(&config).unwrap();
    demo::load(&state.index).unwrap();
    demo::load_vendors(&state.vendors).unwrap();
    demo::load_offers(&state.offers).unwrap();
    // Similar products need a trained model.
    let (recommendations, index, events) =
        (state.recommendations.clone(), state.index.clone(), state.ranking.events.clone());
    tokio::task::spawn_blocking(move || recommendations.refresh(&index, &events)).await.unwrap().unwrap();
    // A popular query among the suggestions.
    state.autocomplete.record("cordless drill", 12);
    state.autocomplete.record("cordless drill", 12);
    state.autocomplete.refresh(&state.index, true).unwrap();

    let live = crate::LiveServer::start(&state, &config).await;

    let shots = dir.path().join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut command = Command::new(node);
    command
        .arg(browser_dir().join("storefront.mjs"))
        .arg(format!("http://{}", live.address))
        .arg(&shots)
        .arg(&chromium)
        .current_dir(browser_dir());
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    drop(live);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    if !output.status.success() {
        let kept = dir.keep();
        panic!("the storefront failed in the browser:\n{stdout}\n{stderr}\n(screenshots in {})", kept.display());
    }
    for step in ["load", "suggestions", "facet", "deliver to", "product", "vendors", "narrow screen", "hygiene"] {
        assert!(stdout.contains(&format!("ok {step}:")), "step {step} did not report: {stdout}");
    }
}
