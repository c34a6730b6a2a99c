//! `searchd crawl` end to end: a generated shop on loopback crawled into the index and then
//! served; and crawled onto Kafka, where a serving node's ingester picks it up.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use searchd_catalog::Product;
use searchd_testkit::kafka::{Broker, ONE_RECORD_PER_BATCH};
use searchd_testkit::shop::{Shop, ShopSpec};
use serde_json::Value;

use crate::cli::http_get;
use crate::kafka::spawn_serve;

fn spec(products: &[Product], disallowed: usize, traps: bool) -> ShopSpec {
    ShopSpec { disallowed, lang: Some("en".into()), traps, slow: Duration::from_secs(3), ..ShopSpec::plain(products) }
}

/// A config file: the data dir, a quick crawler, and `extra` sections.
fn write_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let path = dir.join("searchd.toml");
    let data = dir.join("data");
    std::fs::write(
        &path,
        format!(
            "data_dir = {data:?}\n[http]\nlisten = \"127.0.0.1:{port}\"\n\
             [crawler]\ndelay_ms = 0\ntimeout_ms = 1000\nbackoff_ms = 100\n{extra}"
        ),
    )
    .unwrap();
    path
}

async fn searchd(config: &Path, args: &[String]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_searchd"));
    command.arg("--config").arg(config).args(args).env_remove("SEARCHD_DATA_DIR").env("RUST_LOG", "warn");
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

/// The JSON report `searchd crawl` prints last.
fn report(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until the child's `/readyz` reports `documents`.
async fn wait_documents(child: &mut Child, port: u16, documents: u64, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "searchd serve exited early");
        let ready = tokio::task::spawn_blocking(move || http_get(port, "/readyz")).await.unwrap();
        if let Some(n) =
            ready.and_then(|b| serde_json::from_str::<Value>(b.trim()).ok()).and_then(|v| v["documents"].as_u64())
        {
            if n == documents {
                return;
            }
            assert!(Instant::now() < deadline, "{n} documents, not {documents}, after {secs} s");
        }
        assert!(Instant::now() < deadline, "searchd serve not ready within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each product is found by its own title, with the shop's brand and price.
async fn assert_searchable(port: u16, shop: &Shop, products: &[Product]) {
    for product in products {
        let id = format!("{}:{}", shop.base().trim_start_matches("http://"), product.id);
        let query = serde_urlencoded::to_string([("q", product.title.as_str()), ("limit", "10")]).unwrap();
        let body = tokio::task::spawn_blocking(move || http_get(port, &format!("/v1/products/search?{query}")))
            .await
            .unwrap()
            .expect("search answers 200");
        let json: Value = serde_json::from_str(body.trim()).unwrap();
        let hit = json["hits"].as_array().unwrap().iter().find(|h| h["product"]["id"] == id.as_str());
        let hit = hit.unwrap_or_else(|| panic!("{id} ({}) not in the top 10: {json}", product.title));
        assert_eq!(hit["product"]["brand"].as_str(), product.brand.as_deref(), "{hit}");
        assert_eq!(hit["product"]["price"].as_f64(), product.price, "{hit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_into_the_index_then_serve_it() {
    let Some(myntra) = searchd_testkit::myntra_products() else { return };
    let products = &myntra[2_000..2_300];
    let shop = Shop::start(spec(products, 10, true)).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, "");

    let seeds =
        vec!["crawl".to_string(), "--seeds".into(), format!("{}/", shop.base()), "--publish".into(), "index".into()];
    let out = searchd(&config, &seeds).await;
    let report = report(&out);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(report["published_to"], "index");
    assert_eq!(report["published"], 290, "{report}");
    assert_eq!(report["extracted"], 290, "{report}");
    assert_eq!(report["index_documents"], 290, "{report}");
    assert_eq!(report["errors"], serde_json::json!({"http_404": 2, "redirect_loop": 1, "timeout": 1}), "{report}");
    assert_eq!(report["skipped"]["robots_disallowed"], 12, "10 outlet pages and 2 cart links: {report}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("errors: http_404 2, redirect_loop 1, timeout 1"));
    assert!(shop.hits().iter().all(|h| !h.target.starts_with("/outlet/") && !h.target.starts_with("/cart")));

    // Retention on demand: nothing is 60 days old yet.
    let out = searchd(&config, &["crawl".into(), "--retention".into()]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.starts_with("nothing older than 60 days;"), "{stdout}");

    // A second crawl finds every product page unchanged (304) and publishes nothing.
    let report = crate::crawl::report(&searchd(&config, &seeds).await);
    assert_eq!(report["published"], 0, "{report}");
    assert_eq!(report["skipped"]["not_modified"], 290, "{report}");

    let mut child = spawn_serve(&config);
    wait_documents(&mut child, port, 290, 60).await;
    let allowed = &products[..290];
    assert_searchable(port, &shop, &allowed[..allowed.len().min(40)]).await;
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_onto_kafka_then_a_node_serves_it() {
    let Some(myntra) = searchd_testkit::myntra_products() else { return };
    let Some(broker) = Broker::start() else { return };
    let products = &myntra[2_300..2_500];
    let shop = Shop::start(spec(products, 0, false)).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let kafka = format!(
        "[kafka]\nenabled = true\nbrokers = \"{}\"\nproduct_topics = [\"crawl.products\"]\nvendor_topics = []\noffer_topics = []\n\
         group_id = \"crawl-test\"\ncommit_interval_ms = 200\n",
        broker.bootstrap()
    );
    let config = write_config(dir.path(), port, &kafka);
    let mut args = vec!["crawl".to_string(), "--seeds".into(), format!("{}/sitemap.xml", shop.base())];
    for (k, v) in ONE_RECORD_PER_BATCH {
        args.extend(["-X".to_string(), format!("{k}={v}")]);
    }
    // `[kafka] enabled`: products go to the first product topic by default.
    let report = report(&searchd(&config, &args).await);
    assert_eq!(report["published_to"], "kafka:crawl.products", "{report}");
    assert_eq!((report["published"].as_u64(), report["publish_failed"].as_u64()), (Some(200), Some(0)), "{report}");

    let mut child = spawn_serve(&config);
    wait_documents(&mut child, port, 200, 90).await;
    assert_searchable(port, &shop, &products[..40]).await;
    let _ = child.kill();
    let _ = child.wait();
}
