//! Crawl throughput against a generated shop on a loopback server (`searchd_testkit::shop`):
//! 2,000 BigBasket product pages (JSON-LD, microdata, OpenGraph; a tenth with broken HTML)
//! found through a gzip sitemap, with politeness off (no delay) — fetch, analysis, extraction
//! and the page store (a fresh one per crawl, so every page is downloaded, hashed, compressed
//! and written). With one connection per origin (the default) and with eight.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use searchd_crawler::{CrawlConfig, Crawler, PageStore, SystemClock};
use searchd_testkit::shop::{Shop, ShopSpec};

const PAGES: usize = 2_000;

fn crawl(c: &mut Criterion) {
    let Some(products) = searchd_testkit::bigbasket_products() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let shop = runtime.block_on(Shop::start(ShopSpec::plain(&products[..PAGES])));
    let seeds = vec![format!("{}/sitemap.xml", shop.base())];
    let mut group = c.benchmark_group("crawl");
    group.sample_size(10);
    for connections in [1, 8] {
        let config =
            CrawlConfig { delay_ms: 0, per_host_connections: connections, concurrency: 16, ..CrawlConfig::default() };
        let run = || {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(PageStore::open(dir.path()).unwrap());
            let crawler = Crawler::new(config.clone(), Some(store), Arc::new(SystemClock)).unwrap();
            let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
            runtime.block_on(async {
                let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                let summary = crawler.run(&seeds, tx).await.unwrap();
                drain.await.unwrap();
                assert_eq!(summary.products, PAGES as u64);
                summary
            })
        };
        let summary = run();
        println!(
            "crawl, {connections} connection(s) per origin: {} pages in {:.2} s = {:.0} pages/s",
            summary.fetched, summary.seconds, summary.pages_per_second
        );
        // Throughput in pages fetched: the products, the home page and the listings it links.
        group.throughput(Throughput::Elements(summary.fetched));
        group.bench_function(format!("{PAGES} products, {connections} connection(s) per origin"), |b| b.iter(run));
    }
    group.finish();
}

criterion_group!(benches, crawl);
criterion_main!(benches);
