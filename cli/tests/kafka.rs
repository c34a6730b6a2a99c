//! The Kafka ingester against a real broker (tansu on loopback): crash recovery with `kill -9`,
//! dead letters, one replica per consumer group, rebalance commits, freshness and throughput.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use searchd_catalog::{CatalogEvent, Product};
use searchd_indexer::{IndexConfig, InputFormat, OfferIndex, ProductIndex, RfiIndex, VendorIndex};
use searchd_kafka::{self as kafka, IngestHandle, IngestStatus, KafkaConfig, dlq_headers};
use searchd_kafka::{PublishKind, PublishOptions, publish};
use searchd_testkit::kafka::{Broker, ONE_RECORD_PER_BATCH};
use serde_json::{Value, json};

use crate::cli::http_get;

fn small() -> IndexConfig {
    IndexConfig::small()
}

fn kafka_config(broker: &Broker, group: &str, products: &str, vendors: Option<&str>) -> KafkaConfig {
    KafkaConfig {
        enabled: true,
        brokers: broker.bootstrap(),
        product_topics: vec![products.into()],
        vendor_topics: vendors.into_iter().map(str::to_string).collect(),
        offer_topics: Vec::new(),
        rfi_topics: Vec::new(),
        group_id: group.into(),
        commit_interval_ms: 200,
        ..KafkaConfig::default()
    }
}

/// Publishes JSONL event lines with `searchd publish`'s library function, one record per batch
/// (off the async executor: it blocks).
async fn publish_lines(broker: &Broker, topic: &str, partitions: i32, lines: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let config = KafkaConfig { brokers: broker.bootstrap(), ..KafkaConfig::default() };
    let options = PublishOptions {
        topic: topic.into(),
        kind: PublishKind::Events,
        format: InputFormat::Jsonl,
        map: Default::default(),
        partitions,
        properties: ONE_RECORD_PER_BATCH.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    let summary = tokio::task::spawn_blocking(move || publish(&config, &path, &options)).await.unwrap().unwrap();
    assert_eq!((summary.delivered, summary.failed), (lines.len() as u64, 0), "{summary:?}");
}

fn upsert(product: &Product) -> String {
    serde_json::to_string(&CatalogEvent::Upsert { product: product.clone() }).unwrap()
}

struct Node {
    products: Arc<ProductIndex>,
    vendors: Arc<VendorIndex>,
    offers: Arc<OfferIndex>,
    rfis: Arc<RfiIndex>,
    handle: IngestHandle,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<searchd_kafka::Result<()>>,
}

impl Node {
    async fn start(config: KafkaConfig) -> Node {
        let products = Arc::new(ProductIndex::in_memory(small()).unwrap());
        let vendors = Arc::new(VendorIndex::in_memory(&small()).unwrap());
        let offers = Arc::new(OfferIndex::in_memory(&small()).unwrap());
        let rfis = Arc::new(RfiIndex::in_memory(&small()).unwrap());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let indexes = kafka::Indexes {
            products: products.clone(),
            vendors: vendors.clone(),
            offers: offers.clone(),
            rfis: rfis.clone(),
        };
        let (handle, task) = kafka::spawn(config, indexes, stopped).await.unwrap();
        Node { products, vendors, offers, rfis, handle, stop, task }
    }

    /// Waits until `done` holds of the status (or fails after `secs`).
    async fn wait(&self, secs: u64, what: &str, done: impl Fn(&IngestStatus) -> bool) -> IngestStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let status = self.handle.status();
            assert_ne!(status.state, "failed", "{status:?}");
            if done(&status) {
                return status;
            }
            assert!(Instant::now() < deadline, "{what}: not within {secs} s: {status:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) -> IngestStatus {
        self.stop.send(true).unwrap();
        self.task.await.unwrap().unwrap();
        self.handle.status()
    }

    fn ids(&self) -> BTreeMap<String, (u64, String)> {
        let mut ids = BTreeMap::new();
        self.products
            .for_each_product(|p| {
                assert!(ids.insert(p.id.clone(), (p.version, p.title)).is_none(), "duplicate {}", p.id);
            })
            .unwrap();
        ids
    }
}

fn committed(status: &IngestStatus) -> i64 {
    status.partitions.iter().filter_map(|p| p.committed_offset).sum()
}

/// Dead letters are delivered with their reasons and origin while the valid events around them
/// are indexed; product events on the vendor topic are the wrong schema there, and an offer of
/// an unknown product is refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_go_to_the_dead_letter_topic_and_the_rest_is_indexed() {
    let Some(broker) = Broker::start() else { return };
    let Some(catalog) = searchd_testkit::homedepot_products() else { return };
    let poison = [
        ("invalid_json", "{\"op\":\"upsert\",\"product\":{\"id\":\"x1\",".to_string()),
        ("invalid_event", json!({"op": "upsert", "item": {"id": "x2", "title": "t", "version": 1}}).to_string()),
        ("invalid_event", json!({"op": "upsert", "product": {"title": "no id", "version": 1}}).to_string()),
        ("invalid_document", json!({"op": "upsert", "product": {"id": "x4", "title": " ", "version": 1}}).to_string()),
        ("missing_version", json!({"op": "upsert", "product": {"id": "x5", "title": "Drill"}}).to_string()),
        ("invalid_json", "[1, 2".to_string()),
    ];
    let mut lines = Vec::new();
    let mut valid = BTreeSet::new();
    for (i, product) in catalog.iter().take(300).enumerate() {
        let mut product = product.clone();
        product.version = 1;
        valid.insert(product.id.clone());
        lines.push(upsert(&product));
        if i % 50 == 25 {
            lines.push(poison[i / 50].1.clone());
        }
    }
    publish_lines(&broker, "poison.products", 2, &lines).await;
    let vendor = json!({"op": "upsert", "vendor": {"id": "v1", "version": 1, "name": "Acme Tools",
        "location": {"lat": 48.85, "lon": 2.35}, "service_radius_km": 20}});
    publish_lines(&broker, "poison.vendors", 1, &[vendor.to_string(), lines[0].clone()]).await;

    let offers_topic = KafkaConfig { brokers: broker.bootstrap(), ..KafkaConfig::default() };
    kafka::ensure_topics(&offers_topic, &["poison.offers".to_string()], 1).await.unwrap();
    // Requests for information: one to write, one whose location is off the globe.
    let rfi = |id: &str, lat: f64| {
        json!({"op": "upsert", "rfi": {"id": id, "version": 1, "category": "Tools/Drills",
            "description": "cordless drills", "location": {"lat": lat, "lon": 2.35}}})
        .to_string()
    };
    publish_lines(&broker, "poison.rfis", 1, &[rfi("r1", 48.85), rfi("r2", 91.0)]).await;
    let config = kafka_config(&broker, "poison", "poison.products", Some("poison.vendors"));
    let config =
        KafkaConfig { offer_topics: vec!["poison.offers".into()], rfi_topics: vec!["poison.rfis".into()], ..config };
    let node = Node::start(config).await;
    let total = lines.len() as u64 + 4;
    node.wait(60, "products, vendors and requests read and committed", |s| {
        s.messages == total && committed(s) == total as i64
    })
    .await;
    // Offers once their products and vendors are in: one of a known product, one of none.
    let offer = |id: &str, product: &str| {
        json!({"op": "upsert", "offer": {"id": id, "version": 1, "product_id": product, "vendor_id": "v1", "price": 9.5}})
            .to_string()
    };
    let first_id = catalog[0].id.clone();
    publish_lines(&broker, "poison.offers", 1, &[offer("o1", &first_id), offer("o2", "nope")]).await;
    let total = total + 2;
    let status =
        node.wait(60, "all messages read and committed", |s| s.messages == total && committed(s) == total as i64).await;
    assert_eq!(status.dead_lettered, 9, "{status:#?}");
    assert_eq!(status.dead_letters["unknown_reference"], 1);
    assert_eq!(node.offers.get("o1").unwrap().product_id, first_id);
    assert!(node.offers.get("o2").is_err());
    assert_eq!(status.dead_letters["invalid_json"], 2);
    assert_eq!(status.dead_letters["invalid_event"], 3, "two on products, one product event on the vendor topic");
    assert_eq!(status.dead_letters["invalid_document"], 2, "one product, one request");
    assert_eq!(node.rfis.get("r1").unwrap().description, "cordless drills");
    assert!(node.rfis.get("r2").is_err());
    assert_eq!(status.dead_letters["missing_version"], 1);
    assert_eq!(node.ids().keys().cloned().collect::<BTreeSet<_>>(), valid);
    assert_eq!(node.vendors.get("v1").unwrap().name, "Acme Tools");

    // Each dead letter carries the original key and value, the reason and where it came from.
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    list.add_partition_offset("poison.products.dlq", 0, Offset::Beginning).unwrap();
    list.add_partition_offset("poison.vendors.dlq", 0, Offset::Beginning).unwrap();
    list.add_partition_offset("poison.offers.dlq", 0, Offset::Beginning).unwrap();
    list.add_partition_offset("poison.rfis.dlq", 0, Offset::Beginning).unwrap();
    reader.assign(&list).unwrap();
    let mut letters = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while letters.len() < 9 && Instant::now() < deadline {
        if let Some(m) = reader.poll(Duration::from_millis(200)) {
            let m = m.unwrap();
            let headers: BTreeMap<String, String> = m
                .headers()
                .unwrap()
                .iter()
                .map(|h| (h.key.to_string(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned()))
                .collect();
            letters.push((String::from_utf8_lossy(m.payload().unwrap()).into_owned(), headers));
        }
    }
    assert_eq!(letters.len(), 9, "{letters:#?}");
    for (payload, headers) in &letters {
        let code = &headers[dlq_headers::ERROR_CODE];
        assert!(!headers[dlq_headers::ERROR_REASON].is_empty());
        let source = &headers[dlq_headers::SOURCE_TOPIC];
        if source == "poison.offers" {
            assert_eq!((code.as_str(), payload), ("unknown_reference", &offer("o2", "nope")));
            assert!(headers[dlq_headers::ERROR_REASON].contains("product `nope` does not exist"), "{headers:?}");
            continue;
        }
        if source == "poison.rfis" {
            assert_eq!((code.as_str(), payload), ("invalid_document", &rfi("r2", 91.0)));
            assert!(headers[dlq_headers::ERROR_REASON].contains("location.lat"), "{headers:?}");
            continue;
        }
        if source == "poison.vendors" {
            assert_eq!((code.as_str(), payload), ("invalid_event", &lines[0]));
            assert!(headers[dlq_headers::ERROR_REASON].contains("vendor"), "{headers:?}");
            continue;
        }
        assert_eq!(source, "poison.products");
        assert!(poison.iter().any(|(c, p)| c == code && p == payload), "{code}: {payload}");
        // The origin headers point at the very message.
        let partition: i32 = headers[dlq_headers::SOURCE_PARTITION].parse().unwrap();
        let offset: i64 = headers[dlq_headers::SOURCE_OFFSET].parse().unwrap();
        assert_eq!(read_one(&broker, "poison.products", partition, offset), *payload);
    }
    let status = node.stop().await;
    assert_eq!(status.state, "stopped");
}

fn read_one(broker: &Broker, topic: &str, partition: i32, offset: i64) -> String {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "one-reader")
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, Offset::Offset(offset)).unwrap();
    reader.assign(&list).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(m) = reader.poll(Duration::from_millis(200)) {
            let m = m.unwrap();
            assert_eq!(m.offset(), offset);
            return String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
        }
    }
    panic!("{topic}/{partition}@{offset} not read");
}

/// Every node consumes with its own group, so each holds the whole catalog (the scale-out path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_with_their_own_groups_each_hold_the_full_catalog() {
    let Some(broker) = Broker::start() else { return };
    let Some(catalog) = searchd_testkit::homedepot_products() else { return };
    let mut lines = Vec::new();
    for product in catalog.iter().skip(1000).take(2000) {
        let mut product = product.clone();
        product.version = 1;
        lines.push(upsert(&product));
    }
    // A few updates and deletes too: both nodes must end identical.
    for product in catalog.iter().skip(1000).take(100) {
        let mut product = product.clone();
        product.version = 2;
        product.title.push_str(" (updated)");
        lines.push(upsert(&product));
    }
    for product in catalog.iter().skip(1100).take(50) {
        lines.push(json!({"op": "delete", "id": product.id, "version": 2}).to_string());
    }
    publish_lines(&broker, "replicas.products", 3, &lines).await;
    let vendors: Vec<String> = (0..20)
        .map(|i| {
            json!({"op": "upsert", "vendor": {"id": format!("v{i}"), "version": 1, "name": format!("Vendor {i}"),
                "location": {"lat": 40.0 + f64::from(i) / 10.0, "lon": -3.7}, "service_radius_km": 15}})
            .to_string()
        })
        .collect();
    publish_lines(&broker, "replicas.vendors", 2, &vendors).await;
    let total = (lines.len() + vendors.len()) as u64;
    let a = Node::start(kafka_config(&broker, "node-a", "replicas.products", Some("replicas.vendors"))).await;
    let b = Node::start(kafka_config(&broker, "node-b", "replicas.products", Some("replicas.vendors"))).await;
    for node in [&a, &b] {
        node.wait(90, "full catalog", |s| s.messages == total && committed(s) == total as i64).await;
    }
    let (ids_a, ids_b) = (a.ids(), b.ids());
    assert_eq!(ids_a.len(), 1950);
    assert_eq!(ids_a, ids_b);
    assert_eq!(ids_a.values().filter(|(v, t)| *v == 2 && t.ends_with("(updated)")).count(), 100);
    for node in [&a, &b] {
        assert_eq!(node.vendors.num_docs(), 20);
        let status = node.handle.status();
        assert_eq!(status.partitions.len(), 5, "{status:#?}");
        assert!(status.partitions.iter().all(|p| p.assigned && p.last_commit.is_some()));
    }
    a.stop().await;
    b.stop().await;
}

/// A member that has applied messages but not committed them yet commits its revoked
/// partitions when another member joins: the newcomer starts where it left off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_partitions_are_committed_on_rebalance() {
    let Some(broker) = Broker::start() else { return };
    let Some(catalog) = searchd_testkit::homedepot_products() else { return };
    let lines: Vec<String> = catalog
        .iter()
        .skip(5000)
        .take(600)
        .map(|p| {
            let mut p = p.clone();
            p.version = 1;
            upsert(&p)
        })
        .collect();
    publish_lines(&broker, "rebalance.products", 4, &lines).await;
    let lazy = KafkaConfig {
        batch_size: 1_000_000,
        commit_interval_ms: 3_600_000,
        ..kafka_config(&broker, "shared-group", "rebalance.products", None)
    };
    let first = Node::start(KafkaConfig { instance_id: "member-1".into(), ..lazy.clone() }).await;
    let status = first.wait(60, "all read", |s| s.messages == 600).await;
    assert_eq!(status.commits, 0, "nothing committed before the rebalance: {status:#?}");
    let second = Node::start(KafkaConfig { instance_id: "member-2".into(), ..lazy }).await;
    second.wait(60, "partitions assigned to the newcomer", |s| s.partitions.iter().any(|p| p.assigned)).await;
    first
        .wait(30, "revoked partitions committed, some assigned again", |s| {
            s.commits >= 1 && s.partitions.iter().any(|p| p.assigned)
        })
        .await;
    // The group's committed offsets are the ends of the revoked partitions: the newcomer reads
    // nothing again.
    let group: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "shared-group")
        .create()
        .unwrap();
    let revoked: Vec<i32> =
        second.handle.status().partitions.iter().filter(|p| p.assigned).map(|p| p.partition).collect();
    let mut list = TopicPartitionList::new();
    for &p in &revoked {
        list.add_partition("rebalance.products", p);
    }
    let committed_offsets = group.committed_offsets(list, Duration::from_secs(10)).unwrap();
    for e in committed_offsets.elements() {
        let (_, high) = group.fetch_watermarks("rebalance.products", e.partition(), Duration::from_secs(10)).unwrap();
        assert_eq!(e.offset(), Offset::Offset(high), "partition {} committed at its end", e.partition());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(second.handle.status().messages, 0, "the newcomer replayed nothing");
    first.stop().await;
    second.stop().await;
}

/// The expected end state of a stream of upserts, updates and deletes.
#[derive(Default)]
struct Expected {
    versions: BTreeMap<String, (u64, bool, String)>,
}

impl Expected {
    fn live(&self) -> BTreeMap<String, (u64, String)> {
        self.versions.iter().filter(|(_, v)| v.1).map(|(id, v)| (id.clone(), (v.0, v.2.clone()))).collect()
    }
}

/// 100,000 events (new products, updates, deletes, re-creations) from the Home Depot catalog.
fn mixed_stream(catalog: &[Product], n: usize) -> (Vec<String>, Expected) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut expected = Expected::default();
    let mut lines = Vec::with_capacity(n);
    let pool = &catalog[..catalog.len().min(45_000)];
    for i in 0..n {
        let product = &pool[rng.random_range(0..pool.len())];
        let entry = expected.versions.get(&product.id).cloned();
        let version = entry.as_ref().map_or(1, |e| e.0 + 1);
        let line = if entry.as_ref().is_some_and(|e| e.1) && rng.random_bool(0.3) {
            expected.versions.insert(product.id.clone(), (version, false, String::new()));
            json!({"op": "delete", "id": product.id, "version": version}).to_string()
        } else {
            let mut p = product.clone();
            p.version = version;
            if version > 1 {
                p.title = format!("{} rev{version} e{i}", p.title);
            }
            expected.versions.insert(p.id.clone(), (version, true, p.title.clone()));
            upsert(&p)
        };
        lines.push(line);
    }
    (lines, expected)
}

pub(crate) fn spawn_serve(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_searchd"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_remove("SEARCHD_DATA_DIR")
        .env("SEARCHD_AUTH__ENABLED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The ingest status of a child `searchd serve`, once it answers.
fn remote_status(port: u16) -> Option<Value> {
    serde_json::from_str(http_get(port, "/v1/admin/ingest")?.trim()).ok()
}

fn remote_committed(status: &Value) -> i64 {
    status["partitions"].as_array().map_or(0, |ps| ps.iter().filter_map(|p| p["committed_offset"].as_i64()).sum())
}

/// Waits until the child's committed offsets reach `at_least`; returns them.
fn wait_committed(child: &mut Child, port: u16, at_least: i64, secs: u64) -> (i64, Value) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "searchd serve exited early");
        if let Some(status) = remote_status(port) {
            let committed = remote_committed(&status);
            if committed >= at_least {
                return (committed, status);
            }
            assert!(Instant::now() < deadline, "committed {committed} < {at_least} after {secs} s: {status:#}");
        }
        assert!(Instant::now() < deadline, "searchd serve did not answer within {secs} s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `kill -9` twice mid-stream, restart: the index ends with exactly the expected documents at
/// their latest versions — nothing lost, nothing duplicated, no delete undone.
#[test]
fn crash_mid_stream_loses_and_duplicates_nothing() {
    let Some(broker) = Broker::start() else { return };
    let Some(catalog) = searchd_testkit::homedepot_products() else { return };
    let (lines, expected) = mixed_stream(&catalog, 100_000);
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, lines.join("\n")).unwrap();
    // The binary's own publish command, one record per batch (see the broker notes).
    let mut publish = Command::new(env!("CARGO_BIN_EXE_searchd"));
    publish.args(["publish", "--brokers", &broker.bootstrap(), "--topic", "crash.products", "--partitions", "3"]);
    publish.args(["--kind", "events", "--input", events.to_str().unwrap()]);
    for (k, v) in ONE_RECORD_PER_BATCH {
        publish.args(["-X", &format!("{k}={v}")]);
    }
    let out = publish.env("RUST_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("published 100000 of 100000"));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("searchd.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n[http]\nlisten = \"127.0.0.1:{port}\"\n[index]\nwriter_memory_mb = 64\n\
             [kafka]\nenabled = true\nbrokers = \"{}\"\nproduct_topics = [\"crash.products\"]\nvendor_topics = []\noffer_topics = []\n\
             group_id = \"crash-node\"\nbatch_size = 2000\ncommit_interval_ms = 300\n",
            broker.bootstrap()
        ),
    )
    .unwrap();
    let total = lines.len() as i64;
    let started = Instant::now();
    for (round, kill_at) in [20_000, 55_000].into_iter().enumerate() {
        let mut child = spawn_serve(&config);
        let (committed, status) = wait_committed(&mut child, port, kill_at, 240);
        child.kill().unwrap(); // SIGKILL: no shutdown, no last commit.
        child.wait().unwrap();
        assert!(committed < total, "round {round}: killed mid-stream, not after the end: {status:#}");
        eprintln!(
            "round {round}: killed at {:.1} s with {committed} of {total} offsets committed, {} applied",
            started.elapsed().as_secs_f64(),
            status["applied"]
        );
    }
    let mut child = spawn_serve(&config);
    let (_, status) = wait_committed(&mut child, port, total, 240);
    eprintln!("after the restarts, at {:.1} s: {status:#}", started.elapsed().as_secs_f64());
    assert!(status["partitions"].as_array().unwrap().iter().all(|p| p["lag"] == 0 || p["lag"].is_null()));
    let ready = http_get(port, "/readyz").unwrap();
    let metrics = http_get(port, "/metrics").unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    // The same figures on /metrics: this process's messages, and every partition caught up.
    let messages = metrics.lines().find_map(|l| l.strip_prefix("searchd_kafka_messages_total "));
    assert_eq!(messages.and_then(|m| m.trim().parse::<u64>().ok()), status["messages"].as_u64(), "{metrics}");
    let lags: Vec<&str> = metrics.lines().filter(|l| l.starts_with("searchd_kafka_lag{")).collect();
    assert_eq!(lags.len(), 3, "{metrics}");
    assert!(lags.iter().all(|l| l.ends_with(" 0")), "{lags:?}");

    let live = expected.live();
    let ready: Value = serde_json::from_str(ready.trim()).unwrap();
    assert_eq!(ready["documents"].as_u64().unwrap(), live.len() as u64, "{ready}");
    let index = ProductIndex::open(&data.join("index"), small()).unwrap();
    let mut found = BTreeMap::new();
    index
        .for_each_product(|p| {
            assert!(found.insert(p.id.clone(), (p.version, p.title)).is_none(), "{} indexed twice", p.id);
        })
        .unwrap();
    let missing = live.keys().filter(|id| !found.contains_key(*id)).count();
    let extra = found.keys().filter(|id| !live.contains_key(*id)).count();
    let wrong = live.iter().filter(|(id, v)| found.get(*id).is_some_and(|f| f != *v)).count();
    assert_eq!((missing, extra, wrong), (0, 0, 0), "of {} expected live products", live.len());
    assert_eq!(found, live);
}

/// The offers topic passes the same `kill -9` test: 30,000 offer events (new offers, price
/// changes, deletes, re-creations, and offers of unknown products, which are dead-lettered) over
/// products and vendors indexed beforehand; after two kills and a restart the offer index holds
/// exactly the expected offers at their latest versions.
#[test]
fn offers_survive_a_crash_mid_stream() {
    let Some(broker) = Broker::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let products: Vec<String> =
        (0..2_000).map(|i| json!({"id": format!("p{i}"), "title": format!("Drill {i}")}).to_string()).collect();
    let vendors: Vec<String> = (0..100)
        .map(|i| {
            json!({"id": format!("v{i}"), "name": format!("Vendor {i}"), "location": {"lat": 48.0, "lon": 2.0 + f64::from(i) / 100.0},
                "service_radius_km": 50}).to_string()
        })
        .collect();
    for (kind, lines) in [("products", &products), ("vendors", &vendors)] {
        let path = dir.path().join(format!("{kind}.jsonl"));
        std::fs::write(&path, lines.join("\n")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_searchd"))
            .args(["--data-dir", d, "index", "--kind", kind, "--input", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut rng = StdRng::seed_from_u64(11);
    let mut expected: BTreeMap<String, (u64, bool, f64)> = BTreeMap::new();
    let mut lines = Vec::with_capacity(30_000);
    for i in 0..30_000 {
        if i % 1_000 == 7 {
            let offer =
                json!({"id": format!("bad{i}"), "version": 1, "product_id": "nope", "vendor_id": "v1", "price": 1.0});
            lines.push(json!({"op": "upsert", "offer": offer}).to_string());
            continue;
        }
        let id = format!("o{}", rng.random_range(0..6_000));
        let entry = expected.get(&id).copied();
        let version = entry.map_or(1, |e| e.0 + 1);
        if entry.is_some_and(|e| e.1) && rng.random_bool(0.25) {
            expected.insert(id.clone(), (version, false, 0.0));
            lines.push(json!({"op": "delete", "id": id, "version": version}).to_string());
        } else {
            let price = f64::from(rng.random_range(100..100_000u32)) / 100.0;
            let offer = json!({"id": id, "version": version, "product_id": format!("p{}", rng.random_range(0..2_000)),
                "vendor_id": format!("v{}", rng.random_range(0..100)), "price": price, "stock": 3});
            expected.insert(id.clone(), (version, true, price));
            lines.push(json!({"op": "upsert", "offer": offer}).to_string());
        }
    }
    let events = dir.path().join("offers.jsonl");
    std::fs::write(&events, lines.join("\n")).unwrap();
    let mut publish = Command::new(env!("CARGO_BIN_EXE_searchd"));
    publish.args(["publish", "--brokers", &broker.bootstrap(), "--topic", "crash.offers", "--partitions", "3"]);
    publish.args(["--kind", "events", "--input", events.to_str().unwrap()]);
    for (k, v) in ONE_RECORD_PER_BATCH {
        publish.args(["-X", &format!("{k}={v}")]);
    }
    let out = publish.env("RUST_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("searchd.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n[http]\nlisten = \"127.0.0.1:{port}\"\n[index]\nwriter_memory_mb = 64\n\
             [kafka]\nenabled = true\nbrokers = \"{}\"\nproduct_topics = []\nvendor_topics = []\n\
             offer_topics = [\"crash.offers\"]\ngroup_id = \"crash-offers\"\nbatch_size = 1000\ncommit_interval_ms = 300\n",
            broker.bootstrap()
        ),
    )
    .unwrap();
    let total = lines.len() as i64;
    for (round, kill_at) in [6_000, 16_000].into_iter().enumerate() {
        let mut child = spawn_serve(&config);
        let (committed, status) = wait_committed(&mut child, port, kill_at, 240);
        child.kill().unwrap(); // SIGKILL: no shutdown, no last commit.
        child.wait().unwrap();
        assert!(committed < total, "round {round}: killed mid-stream, not after the end: {status:#}");
        eprintln!("offers round {round}: killed with {committed} of {total} offsets committed");
    }
    let mut child = spawn_serve(&config);
    let (_, status) = wait_committed(&mut child, port, total, 240);
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!("offers after the restarts: {status:#}");

    let offers = OfferIndex::open(&data.join("offers"), &small()).unwrap();
    let live: BTreeMap<&String, &(u64, bool, f64)> = expected.iter().filter(|(_, e)| e.1).collect();
    assert_eq!(offers.num_docs(), live.len() as u64, "live offers: nothing lost, nothing duplicated");
    for (id, (version, alive, price)) in &expected {
        match offers.get(id) {
            Ok(offer) => {
                assert!(*alive, "{id} was deleted at version {version}, yet it is held at {}", offer.version);
                assert_eq!((offer.version, offer.price), (*version, *price), "{id}");
            }
            Err(e) => assert!(!alive, "{id} v{version} is missing: {e}"),
        }
    }
    assert!(lines.iter().filter(|l| l.contains("\"bad")).count() == 30);
    assert!((0..30_000).filter(|i| i % 1_000 == 7).all(|i| offers.get(&format!("bad{i}")).is_err()));
}

/// Produce → visible in search, one product at a time, and bulk ingest throughput: printed for
/// the README (`cargo test --release ... kafka::freshness -- --nocapture`); asserted only on
/// every product becoming visible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshness_and_throughput() {
    let Some(broker) = Broker::start() else { return };
    let Some(catalog) = searchd_testkit::homedepot_products() else { return };
    let backlog: Vec<String> = catalog
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.version = 1;
            upsert(&p)
        })
        .collect();
    publish_lines(&broker, "fresh.products", 3, &backlog).await;
    let started = Instant::now();
    let node = Node::start(KafkaConfig {
        commit_interval_ms: 500,
        batch_size: 5_000,
        ..kafka_config(&broker, "fresh", "fresh.products", None)
    })
    .await;
    let n = backlog.len() as u64;
    node.wait(60, "first message", |s| s.messages > 0).await;
    let joined = started.elapsed().as_secs_f64();
    node.wait(300, "backlog indexed", |s| s.messages == n && committed(s) == n as i64).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(node.products.num_docs(), catalog.len() as u64);
    eprintln!(
        "throughput: {n} events indexed and committed in {seconds:.2} s from the start ({:.2} s to join the group \
         and read the first chunk) = {:.0} events/s after the join",
        joined,
        n as f64 / (seconds - joined)
    );

    // Probes produced at a steady 20 per second by another thread; each is timed from its
    // delivery to the broker until the index serves it.
    let bootstrap = broker.bootstrap();
    let (sent_tx, sent_rx) = std::sync::mpsc::channel::<(String, Instant)>();
    let producing = std::thread::spawn(move || {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &bootstrap);
        for (k, v) in ONE_RECORD_PER_BATCH {
            config.set(k, v);
        }
        let producer: BaseProducer = config.create().unwrap();
        for i in 0..200 {
            let id = format!("fresh-{i}");
            let product = Product { version: 1, ..Product::new(&id, format!("Freshness probe {i}")) };
            let event = serde_json::to_string(&CatalogEvent::Upsert { product }).unwrap();
            let sent = Instant::now();
            producer.send(BaseRecord::to("fresh.products").key(&id).payload(&event)).unwrap();
            producer.flush(Duration::from_secs(10)).unwrap();
            sent_tx.send((id, sent)).unwrap();
            std::thread::sleep(Duration::from_millis(50).saturating_sub(sent.elapsed()));
        }
    });
    let mut pending: Vec<(String, Instant)> = Vec::new();
    let mut latencies = Vec::new();
    while latencies.len() < 200 {
        pending.extend(sent_rx.try_iter());
        pending.retain(|(id, sent)| {
            assert!(sent.elapsed() < Duration::from_secs(30), "{id} not visible after 30 s");
            let visible = node.products.get(id).is_ok();
            if visible {
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
            }
            !visible
        });
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    producing.join().unwrap();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    eprintln!(
        "freshness over {} products: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    );
    node.stop().await;
}
