//! Snapshots: taken while writes go on, restored into a fresh data dir with identical search
//! results; checksums catch damage; schedules keep exactly their configured counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::Method;
use chrono::{DateTime, TimeZone, Utc};
use searchd_api::{AppState, Config, router};
use searchd_catalog::{Product, SearchRequest};
use searchd_engine::demo;
use searchd_engine::snapshot::{Snapshots, spawn_snapshot_schedules};

use crate::recommend::ManualClock;
use crate::send_json;

const QUERIES: [&str; 6] = ["tent", "cordless drill", "lamp", "coffee", "backpack", "kopfhörer"];

fn results(state: &AppState) -> Vec<Vec<String>> {
    QUERIES
        .iter()
        .map(|q| {
            let request = SearchRequest { q: (*q).into(), per_page: 10, ..SearchRequest::default() };
            state.index.search_ids(&request, &state.ranking.ranker()).unwrap().into_iter().map(|h| h.id).collect()
        })
        .collect()
}

fn config_in(dir: &std::path::Path) -> Config {
    Config { data_dir: dir.to_path_buf(), ..crate::config() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_under_writes_restores_to_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let state = AppState::open(&config).unwrap();
    demo::load(&state.index).unwrap();
    demo::load_vendors(&state.vendors).unwrap();
    let app = router(state.clone(), &config.http);

    // A writer adding products and committing in small batches; after each commit it records
    // what the test queries return at that content version (only it commits, so the state it
    // searches is the state it committed).
    let seen: Arc<Mutex<HashMap<String, Vec<Vec<String>>>>> = Arc::default();
    seen.lock().unwrap().insert(format!("{:016x}", state.index.content_version()), results(&state));
    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (state, seen, stop, committed) = (state.clone(), seen.clone(), stop.clone(), committed.clone());
        std::thread::spawn(move || {
            let mut batch = 0;
            while !stop.load(Ordering::Relaxed) {
                for j in 0..25 {
                    let mut p = Product::new(format!("w-{batch}-{j}"), format!("Writer lamp {batch} {j} camping tent"));
                    p.brand = Some("Writer".into());
                    state.index.apply(searchd_catalog::CatalogEvent::Upsert { product: p }).unwrap();
                }
                state.index.commit().unwrap();
                seen.lock().unwrap().insert(format!("{:016x}", state.index.content_version()), results(&state));
                batch += 1;
                committed.store(batch, Ordering::SeqCst);
                // Some writes stay uncommitted while the snapshot runs.
                for j in 0..5 {
                    let p = Product::new(format!("pending-{batch}-{j}"), "Pending lamp");
                    state.index.apply(searchd_catalog::CatalogEvent::Upsert { product: p }).unwrap();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            batch
        })
    };
    // Progress, not wall-clock time, decides when to snapshot and when to stop (these machines
    // are shared and slow): some commits before the snapshot, more after it.
    let wait_for = |n: usize| {
        let committed = committed.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            while committed.load(Ordering::SeqCst) < n {
                assert!(Instant::now() < deadline, "the writer stalled before {n} commits");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(3).await;
    let before = committed.load(Ordering::SeqCst);
    let created = send_json(&app, Method::POST, "/v1/admin/snapshots", "").await;
    assert_eq!(created.status, 201, "{}", created.json);
    let after = committed.load(Ordering::SeqCst);
    wait_for(after + 2).await;
    stop.store(true, Ordering::Relaxed);
    let batches = writer.join().unwrap();
    let name = created.json["name"].as_str().unwrap().to_string();
    let version = created.json["content_version"].as_str().unwrap().to_string();
    assert_ne!(
        format!("{:016x}", state.index.content_version()),
        version,
        "the writer kept committing after the snapshot"
    );

    let listed = send_json(&app, Method::GET, "/v1/admin/snapshots", "").await;
    assert_eq!(listed.json["snapshots"][0]["name"], name.as_str());

    // Restore into a fresh data dir and serve from it.
    let restored_dir = tempfile::tempdir().unwrap();
    let target = restored_dir.path().join("data");
    let manifest = state.snapshots.restore(&name, &target).unwrap();
    assert_eq!(manifest.content_version, version);
    let restored = AppState::open(&config_in(&target)).unwrap();
    assert_eq!(format!("{:016x}", restored.index.content_version()), version);
    assert_eq!(restored.index.num_docs(), manifest.products);
    assert_eq!(restored.vendors.num_docs(), 128);
    let seen = seen.lock().unwrap();
    let expected = seen.get(&version).unwrap_or_else(|| panic!("the snapshot is not a committed state: {version}"));
    assert_eq!(&results(&restored), expected, "the restored index answers as the original did at that commit");
    assert!(manifest.products > 312, "the snapshot holds writes made while serving: {}", manifest.products);
    eprintln!(
        "snapshot {name}: {} products, {} files; writer committed {batches} batches ({before} before the request, {} during it)",
        manifest.products,
        manifest.files.len(),
        after - before
    );

    // Restoring again into the same (now non-empty) dir is refused; a damaged archive is caught.
    drop(restored);
    assert!(state.snapshots.restore(&name, &target).unwrap_err().to_string().contains("not empty"));
    let archive = state.snapshots.dir().join(format!("{name}.tar.gz"));
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let err = state.snapshots.restore(&name, &restored_dir.path().join("again")).unwrap_err().to_string();
    assert!(err.contains("damaged"), "{err}");
}

/// The default schedules (every 3 hours from 10:30 keeping 8, daily at 21:00 keeping 30), run by
/// an injected clock over 35 days: exactly the newest 8 and 30 remain, named by their times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_keep_exactly_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let state = AppState::open(&config).unwrap();
    for i in 0..20 {
        state
            .index
            .apply(searchd_catalog::CatalogEvent::Upsert { product: Product::new(format!("p{i}"), "Lamp") })
            .unwrap();
    }
    state.index.commit().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let clock = Arc::new(ManualClock(Mutex::new(start)));
    let tasks = spawn_snapshot_schedules(&state, &config.engine(), clock.clone(), Duration::from_millis(2)).unwrap();
    let snapshots = Snapshots::new(&config.engine());
    // The schedule tasks read the clock once when they start: let them, before it moves.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let schedules: Vec<(String, cron::Schedule, usize)> = config
        .snapshots
        .schedules
        .iter()
        .map(|s| (s.tag.clone(), s.cron.parse::<cron::Schedule>().unwrap(), s.keep))
        .collect();
    let end = start + chrono::Duration::days(35);
    let mut due: Vec<(DateTime<Utc>, String)> = schedules
        .iter()
        .flat_map(|(tag, schedule, _)| {
            schedule.after(&start).take_while(|t| *t <= end).map(|t| (t, tag.clone())).collect::<Vec<_>>()
        })
        .collect();
    due.sort();
    assert_eq!(due.len(), 35 * 8 + 35);
    let mut made: HashMap<String, Vec<String>> = HashMap::new();
    for (at, tag) in &due {
        *clock.0.lock().unwrap() = *at;
        let name = format!("snapshot-{}-{tag}", at.format("%Y%m%dT%H%M%SZ"));
        made.entry(tag.clone()).or_default().push(name.clone());
        let deadline = Instant::now() + Duration::from_secs(20);
        while !snapshots.list().unwrap().iter().any(|s| s.name == name) {
            assert!(Instant::now() < deadline, "{name} was not taken");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    // Let the last prune finish.
    tokio::time::sleep(Duration::from_millis(200)).await;
    tasks.iter().for_each(tokio::task::JoinHandle::abort);
    let listed = snapshots.list().unwrap();
    for (tag, _, keep) in &schedules {
        let kept: Vec<&str> = listed.iter().filter(|s| &s.tag == tag).map(|s| s.name.as_str()).collect();
        let newest: Vec<&str> = made[tag].iter().rev().take(*keep).rev().map(String::as_str).collect();
        assert_eq!(kept, newest, "{tag} keeps exactly its newest {keep}");
    }
    assert_eq!(listed.len(), 8 + 30);
    assert_eq!(listed.iter().filter(|s| s.tag == "3-hourly").count(), 8);
    assert!(listed.iter().all(|s| s.sha256.len() == 64));
    // The newest of each can be restored.
    let newest = listed.last().unwrap();
    let manifest = snapshots.restore(&newest.name, &dir.path().join("restored")).unwrap();
    assert_eq!(manifest.products, 20);
}
