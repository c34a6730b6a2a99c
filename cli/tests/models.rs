//! `searchd models rollback` against a server's served recommendations.

use searchd_api::{AppState, Config};
use searchd_engine::demo;
use searchd_indexer::{IndexConfig, ProductIndex};

fn state(dir: &std::path::Path) -> (AppState, Config) {
    let mut config = Config { data_dir: dir.to_path_buf(), ..Config::default() };
    config.auth.enabled = false;
    let index = ProductIndex::in_memory(IndexConfig::small()).unwrap();
    demo::load(&index).unwrap();
    (AppState::with_index(index, &config).unwrap(), config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_keeps_the_model_and_rollback_restores_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let (state, _) = state(dir.path());
    let recs = state.recommendations.clone();
    let events = state.ranking.events.clone();
    assert_eq!(recs.refresh(&state.index, &events).unwrap().version, "v000001");
    assert_eq!(recs.refresh(&state.index, &events).unwrap().version, "v000002");
    // An empty catalog cannot be trained on: the refresh fails, v2 keeps serving.
    let mut ids = Vec::new();
    state.index.for_each_product(|p| ids.push(p.id)).unwrap();
    for id in &ids {
        state.index.delete(id, 0).unwrap();
    }
    state.index.commit().unwrap();
    assert!(recs.refresh(&state.index, &events).is_err());
    assert_eq!(recs.version().as_deref(), Some("v000002"));
    assert_eq!(recs.store().current_name().unwrap().as_deref(), Some("similar-000002.json"));
    // Rollback (what `searchd models rollback` does) points CURRENT at v1; the server loads it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchd"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "models", "rollback"])
        .env_remove("SEARCHD_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("v000001"));
    assert!(recs.load_current(&state.index).unwrap());
    assert_eq!(recs.version().as_deref(), Some("v000001"));
    // Nothing older than v1: a second rollback is refused.
    assert!(recs.store().rollback().is_err());
}
