//! `searchd crawl`: the crawler's product events into the local index or onto a Kafka topic, and
//! the crawled pages' retention (run by `searchd crawl --retention` and daily by `serve`).
//!
//! Into the index, events take the same path as bulk files and Kafka messages (prepare, apply by
//! version, commit); onto Kafka, they are the same `CatalogEvent` JSON `searchd publish` sends,
//! keyed by product id, for every node's ingester to apply.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use searchd_catalog::CatalogEvent;
use searchd_crawler::{CrawlSummary, Crawler, PageStore, RetentionSummary, SystemClock};
use searchd_indexer::ProductIndex;
use serde::Serialize;
use tokio::sync::mpsc;

use searchd_api::Config;
use searchd_kafka::EventProducer;

/// Events applied to the index per batch.
const INDEX_BATCH: usize = 256;

/// Takes the crawl's events until the channel closes, and says what became of them.
type Sink = Box<dyn FnOnce(mpsc::Receiver<CatalogEvent>) -> anyhow::Result<Published> + Send>;

/// Where crawled products go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrawlTarget {
    /// The data dir's index (no server may hold it open).
    Index,
    /// A Kafka topic that serving nodes consume.
    Kafka { topic: String, partitions: i32, properties: Vec<(String, String)> },
}

/// A crawl's summary and what became of its products.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlReport {
    #[serde(flatten)]
    pub crawl: CrawlSummary,
    /// `index` or `kafka:<topic>`.
    pub published_to: String,
    /// Products applied to the index, or delivered to Kafka.
    pub published: u64,
    /// Products the index refused or Kafka did not take.
    pub publish_failed: u64,
    /// The index's document count after an indexing crawl.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_documents: Option<u64>,
}

#[derive(Debug, Default)]
struct Published {
    ok: u64,
    failed: u64,
    documents: Option<u64>,
}

/// Crawls from `seeds` with `[crawler]`'s settings (`max_pages` overriding), sending products to
/// `target`, with a progress line on a terminal.
pub fn crawl(
    config: &Config,
    seeds: &[String],
    max_pages: Option<u64>,
    target: CrawlTarget,
) -> anyhow::Result<CrawlReport> {
    let mut crawl_config = config.crawler.clone();
    if max_pages.is_some() {
        crawl_config.max_pages = max_pages;
    }
    let store = PageStore::open(&config.engine().crawl_dir())?;
    let crawler = Crawler::new(crawl_config, Some(Arc::new(store)), Arc::new(SystemClock))?;
    // Opened before the crawl so a held index or an unreachable broker fails fast.
    let (published_to, sink): (String, Sink) = match target {
        CrawlTarget::Index => {
            let index = ProductIndex::open(&config.engine().index_dir(), config.index.clone())
                .context("cannot open the index (is `searchd serve` running on this data dir? use --publish kafka)")?;
            ("index".to_string(), Box::new(move |rx| index_events(&index, rx)))
        }
        CrawlTarget::Kafka { topic, partitions, properties } => {
            let producer = EventProducer::new(&config.kafka, &topic, partitions, &properties)?;
            (format!("kafka:{topic}"), Box::new(move |rx| produce_events(producer, rx)))
        }
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let (tx, rx) = mpsc::channel(1024);
        let sink = tokio::task::spawn_blocking(move || sink(rx));
        let progress = crawler.progress();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let ticker = bar.clone().map(|bar| {
            tokio::spawn(async move {
                loop {
                    bar.set_message(format!(
                        "{} requests, {} pages, {} products, {} errors, {} queued",
                        progress.requests.load(Ordering::Relaxed),
                        progress.pages.load(Ordering::Relaxed),
                        progress.products.load(Ordering::Relaxed),
                        progress.errors.load(Ordering::Relaxed),
                        progress.queued.load(Ordering::Relaxed),
                    ));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        });
        let summary = crawler.run(seeds, tx).await;
        if let Some(ticker) = ticker {
            ticker.abort();
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let published = sink.await.context("the publishing task failed")??;
        let summary = summary?;
        Ok(CrawlReport {
            crawl: summary,
            published_to,
            published: published.ok,
            publish_failed: published.failed,
            index_documents: published.documents,
        })
    })
}

fn index_events(index: &ProductIndex, mut rx: mpsc::Receiver<CatalogEvent>) -> anyhow::Result<Published> {
    let mut published = Published::default();
    while let Some(first) = rx.blocking_recv() {
        let mut events = vec![first];
        while events.len() < INDEX_BATCH {
            match rx.try_recv() {
                Ok(event) => events.push(event),
                Err(_) => break,
            }
        }
        let mut batch = Vec::with_capacity(events.len());
        for event in events {
            let CatalogEvent::Upsert { product } = event else { continue };
            let id = product.id.clone();
            match index.prepare(product) {
                Ok(prepared) => batch.push(prepared),
                Err(e) => {
                    tracing::warn!(%id, error = %e, "crawled product refused");
                    published.failed += 1;
                }
            }
        }
        published.ok += index.apply_prepared(batch)?.len() as u64;
        index.commit_if_due()?;
    }
    index.commit()?;
    published.documents = Some(index.num_docs());
    Ok(published)
}

fn produce_events(mut producer: EventProducer, mut rx: mpsc::Receiver<CatalogEvent>) -> anyhow::Result<Published> {
    while let Some(event) = rx.blocking_recv() {
        let CatalogEvent::Upsert { product } = &event else { continue };
        let key = product.id.clone();
        producer.send(Some(&key), &serde_json::to_string(&event)?)?;
    }
    let delivered = producer.finish()?;
    Ok(Published { ok: delivered.delivered, failed: delivered.failed, documents: None })
}

/// Archives crawled pages older than `[crawler] retention_days`.
pub fn apply_retention(config: &Config) -> anyhow::Result<RetentionSummary> {
    let store = PageStore::open(&config.engine().crawl_dir())?;
    Ok(store.apply_retention(time::OffsetDateTime::now_utc(), config.crawler.retention())?)
}
