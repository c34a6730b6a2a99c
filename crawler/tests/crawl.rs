use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use searchd_catalog::{CatalogEvent, Product};
use searchd_crawler::{CrawlConfig, CrawlSummary, Crawler, PageStore, SystemClock};
use searchd_testkit::shop::{Markup, Shop, ShopSpec, out_of_stock, review_count};
use tokio::sync::mpsc;

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Crawls `seeds`, returning the summary and the products sent, by id.
pub async fn crawl(crawler: &Crawler, seeds: &[String]) -> (CrawlSummary, HashMap<String, Product>) {
    let (tx, mut rx) = mpsc::channel(256);
    let collect = tokio::spawn(async move {
        let mut products = HashMap::new();
        while let Some(event) = rx.recv().await {
            let CatalogEvent::Upsert { product } = event else { panic!("the crawler only upserts") };
            assert!(products.insert(product.id.clone(), product).is_none(), "a product sent twice in one crawl");
        }
        products
    });
    let summary = crawler.run(seeds, tx).await.expect("crawl");
    (summary, collect.await.expect("collector"))
}

pub fn test_config() -> CrawlConfig {
    CrawlConfig { delay_ms: 0, timeout_ms: 1_000, backoff_ms: 100, concurrency: 8, ..CrawlConfig::default() }
}

fn product_id(shop: &Shop, sku: &str) -> String {
    format!("{}:{sku}", shop.base().trim_start_matches("http://"))
}

/// Every field the shop's page shows came out of it.
fn check_product(shop: &Shop, i: usize, got: &Product, lang: Option<&str>) {
    let page = &shop.pages()[i];
    let want = &page.product;
    let ctx = format!("{} ({:?}, broken: {})", page.path, page.markup, page.broken_html);
    assert_eq!(got.title, normalize_space(&want.title), "{ctx}");
    assert_eq!(got.brand, want.brand.clone().filter(|b| !b.is_empty()), "{ctx}");
    assert_eq!(got.category, want.category, "{ctx}");
    assert_eq!(got.description, normalize_space(&want.description), "{ctx}");
    assert_eq!(got.price, want.price, "{ctx}");
    assert_eq!(got.currency.as_deref(), Some("INR"), "{ctx}");
    assert_eq!(got.in_stock, !out_of_stock(i), "{ctx}");
    assert_eq!(got.language.as_deref(), lang, "{ctx}");
    assert_eq!(got.attributes["url"], format!("{}{}", shop.base(), page.path), "{ctx}");
    assert_eq!(got.attributes["sku"], want.id, "{ctx}");
    let source = match page.markup {
        Markup::JsonLd => "json_ld",
        Markup::Microdata => "microdata",
        Markup::OpenGraph => "open_graph",
    };
    assert_eq!(got.attributes["source"], source, "{ctx}");
    if page.markup == Markup::OpenGraph {
        assert_eq!(got.rating, None, "{ctx}: OpenGraph has no rating");
    } else {
        match want.rating {
            Some(r) => {
                assert!((got.rating.expect("rating") - r).abs() < 1e-9, "{ctx}");
                assert_eq!(got.review_count, review_count(i), "{ctx}");
            }
            None => assert_eq!(got.rating, None, "{ctx}"),
        }
    }
    assert!(got.version > 0 && got.updated_at.is_some(), "{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shops_politely_every_allowed_product_extracted() {
    let (Some(myntra), Some(bigbasket)) = (searchd_testkit::myntra_products(), searchd_testkit::bigbasket_products())
    else {
        return;
    };
    let crawl_delay = 0.02;
    let a = Shop::start(ShopSpec {
        products: myntra[..1_020].to_vec(),
        disallowed: 20,
        crawl_delay: Some(crawl_delay),
        lang: Some("en-IN".into()),
        traps: true,
        slow: Duration::from_secs(3),
    })
    .await;
    let b = Shop::start(ShopSpec { disallowed: 20, ..ShopSpec::plain(&bigbasket[..2_020]) }).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(PageStore::open(&dir.path().join("pages")).unwrap());
    let crawler = Crawler::new(test_config(), Some(store.clone()), Arc::new(SystemClock)).unwrap();
    // Shop A from its home page (links, and the sitemap robots.txt names); shop B from its sitemap.
    let seeds = vec![format!("{}/", a.base()), format!("{}/sitemap.xml", b.base())];
    let (summary, products) = crawl(&crawler, &seeds).await;
    println!("first crawl: {}", serde_json::to_string(&summary).unwrap());

    // Politeness, from the servers' own logs.
    for (name, shop) in [("A", &a), ("B", &b)] {
        let hits = shop.hits();
        let forbidden: Vec<_> =
            hits.iter().filter(|h| h.target.starts_with("/outlet/") || h.target.starts_with("/cart")).collect();
        assert!(forbidden.is_empty(), "shop {name}: disallowed URLs requested: {forbidden:?}");
        assert_eq!(hits[0].target, "/robots.txt", "shop {name}: robots.txt comes first");
        assert_eq!(shop.max_in_flight(), 1, "shop {name}: one request at a time");
        let mut per_target: HashMap<&str, usize> = HashMap::new();
        for hit in &hits {
            *per_target.entry(&hit.target).or_default() += 1;
        }
        let twice: Vec<_> = per_target.iter().filter(|(t, n)| **n > 1 && **t != "/busy").collect();
        assert!(twice.is_empty(), "shop {name}: requested more than once: {twice:?}");
    }
    let hits = a.hits();
    let min_gap = hits.windows(2).map(|w| w[1].at - w[0].at).min().unwrap();
    assert!(
        min_gap >= Duration::from_secs_f64(crawl_delay),
        "shop A: {min_gap:?} between two requests, Crawl-delay is {crawl_delay} s"
    );
    println!("shop A: {} requests, smallest gap {min_gap:?} (Crawl-delay {crawl_delay} s)", hits.len());
    let retry = hits.iter().filter(|h| h.target == "/busy").map(|h| h.at).collect::<Vec<_>>();
    assert_eq!(retry.len(), 2, "/busy is retried once after its 503");
    assert!(retry[1] - retry[0] >= Duration::from_secs(1), "Retry-After: 1 is honoured");

    // Every allowed product page, extracted with its fields; nothing else.
    let mut expected = 0;
    for (shop, lang) in [(&a, Some("en")), (&b, None)] {
        for (i, page) in shop.pages().iter().enumerate() {
            let id = product_id(shop, &page.product.id);
            if page.disallowed {
                assert!(!products.contains_key(&id), "{} is disallowed", page.path);
                continue;
            }
            expected += 1;
            let got = products.get(&id).unwrap_or_else(|| panic!("{} ({:?}) not extracted", page.path, page.markup));
            check_product(shop, i, got, lang);
        }
    }
    assert_eq!(products.len(), expected);
    assert_eq!(summary.products, expected as u64);
    assert_eq!(summary.extracted, expected as u64);
    assert_eq!(summary.errors.get("http_404"), Some(&2), "{:?}", summary.errors);
    assert_eq!(summary.errors.get("redirect_loop"), Some(&1), "{:?}", summary.errors);
    assert_eq!(summary.errors.get("timeout"), Some(&1), "{:?}", summary.errors);
    assert_eq!(summary.skipped.get("invalid_json_ld"), Some(&1), "{:?}", summary.skipped);
    // 20 outlet pages per shop, and each shop's two `/cart` links.
    assert_eq!(summary.skipped.get("robots_disallowed"), Some(&44), "{:?}", summary.skipped);
    assert_eq!(summary.skipped.get("retried"), Some(&1), "{:?}", summary.skipped);
    assert_eq!(summary.errors.values().sum::<u64>(), 4, "{:?}", summary.errors);

    // Every page the shops served has its outcome recorded.
    let records: HashMap<String, _> = store.records().unwrap().into_iter().map(|r| (r.url.clone(), r)).collect();
    for (shop, hits) in [(&a, a.hits()), (&b, b.hits())] {
        for hit in hits.iter().filter(|h| h.target != "/robots.txt" && !h.target.contains("sitemap")) {
            let url = format!("{}{}", shop.base(), hit.target);
            let record = records.get(&url).unwrap_or_else(|| panic!("no record for {url}"));
            assert!(!record.outcome.is_empty());
        }
    }
    assert_eq!(records[&format!("{}/slow", a.base())].outcome, "timeout");
    assert_eq!(records[&format!("{}/loop/a", a.base())].outcome, "redirect");
    assert_eq!(records[&format!("{}/loop/b", a.base())].outcome, "redirect_loop");

    // A second crawl asks with the stored validators: every product page answers 304, and
    // nothing is sent again.
    let (again, resent) = crawl(&crawler, &seeds).await;
    println!("second crawl: {}", serde_json::to_string(&again).unwrap());
    assert!(resent.is_empty(), "{} products sent again", resent.len());
    assert_eq!(again.skipped.get("not_modified"), Some(&(expected as u64)), "{:?}", again.skipped);
}

/// A server answering every path with `status` (robots.txt with `robots_status`), logging paths.
async fn fixed_server(robots_status: u16, status: u16) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::http::StatusCode;
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = log.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(uri.path().to_string());
            let code = if uri.path() == "/robots.txt" { robots_status } else { status };
            (StatusCode::from_u16(code).unwrap(), [("retry-after", "0")], "<html><a href=\"/next\">next</a></html>")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, log)
}

#[tokio::test]
async fn an_unavailable_robots_txt_means_nothing_is_fetched() {
    let (base, log) = fixed_server(503, 200).await;
    let crawler = Crawler::new(test_config(), None, Arc::new(SystemClock)).unwrap();
    let (summary, products) = crawl(&crawler, &[format!("{base}/"), format!("{base}/a")]).await;
    assert!(products.is_empty());
    assert_eq!(*log.lock().unwrap(), ["/robots.txt"]);
    assert_eq!(summary.errors.get("robots_unavailable"), Some(&1), "{summary:?}");
    assert_eq!(summary.skipped.get("robots_unavailable"), Some(&2), "{summary:?}");
}

#[tokio::test]
async fn a_page_always_answering_429_is_retried_then_given_up() {
    let (base, log) = fixed_server(404, 429).await;
    let crawler = Crawler::new(test_config(), None, Arc::new(SystemClock)).unwrap();
    let (summary, _) = crawl(&crawler, &[format!("{base}/")]).await;
    // A 404 robots.txt means no rules; the page is asked 1 + max_retries times.
    assert_eq!(*log.lock().unwrap(), ["/robots.txt", "/", "/", "/", "/"]);
    assert_eq!(summary.errors.get("http_429"), Some(&1), "{summary:?}");
    assert_eq!(summary.skipped.get("retried"), Some(&3), "{summary:?}");
    assert_eq!(summary.fetched, 1);
}

#[tokio::test]
async fn max_pages_stops_the_crawl() {
    let Some(myntra) = searchd_testkit::myntra_products() else { return };
    let shop = Shop::start(ShopSpec::plain(&myntra[..120])).await;
    let config = CrawlConfig { max_pages: Some(25), ..test_config() };
    let crawler = Crawler::new(config, None, Arc::new(SystemClock)).unwrap();
    let (summary, products) = crawl(&crawler, &[format!("{}/sitemap.xml", shop.base())]).await;
    assert_eq!(summary.fetched, 25, "{summary:?}");
    assert_eq!(products.len(), 25);
    // The 95 other product pages and the home page they link.
    assert_eq!(summary.frontier_left, 96, "{summary:?}");
    let pages = shop.hits().iter().filter(|h| h.target.starts_with("/p/")).count();
    assert_eq!(pages, 25);
}
