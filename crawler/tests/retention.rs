use std::sync::{Arc, Mutex};

use searchd_crawler::store::{BodyState, read_archive};
use searchd_crawler::{Clock, Crawler, PageStore};
use searchd_testkit::shop::{Shop, ShopSpec};
use time::OffsetDateTime;

use crate::crawl::{crawl, test_config};

#[derive(Debug)]
struct ManualClock(Mutex<OffsetDateTime>);

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_older_than_sixty_days_are_archived_and_dropped() {
    let Some(myntra) = searchd_testkit::myntra_products() else { return };
    let old_shop = Shop::start(ShopSpec::plain(&myntra[..40])).await;
    let new_shop = Shop::start(ShopSpec::plain(&myntra[40..70])).await;
    let t0 = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    let clock = Arc::new(ManualClock(Mutex::new(t0)));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(PageStore::open(dir.path()).unwrap());
    let crawler = Crawler::new(test_config(), Some(store.clone()), clock.clone()).unwrap();

    let (_, old_products) = crawl(&crawler, &[format!("{}/", old_shop.base())]).await;
    assert_eq!(old_products.len(), 40);
    *clock.0.lock().unwrap() = t0 + time::Duration::days(30);
    let (_, new_products) = crawl(&crawler, &[format!("{}/", new_shop.base())]).await;
    assert_eq!(new_products.len(), 30);
    let stored = |shop: &Shop| {
        store
            .records()
            .unwrap()
            .into_iter()
            .filter(|r| r.url.starts_with(shop.base()) && r.body != BodyState::None)
            .count()
    };
    let (old_pages, new_pages) = (stored(&old_shop), stored(&new_shop));
    assert_eq!(old_pages, 40 + 1 + 1, "40 product pages, the home page and one listing");
    assert_eq!(store.hot_pages().unwrap() as usize, old_pages + new_pages);

    // Day 59 after the first crawl: nothing is old enough.
    let summary = store.apply_retention(t0 + time::Duration::days(59), time::Duration::days(60)).unwrap();
    assert_eq!((summary.archived, summary.archive.is_none()), (0, true));

    // Day 61: the first shop's pages (61 days old) go, the second's (31 days) stay.
    let now = t0 + time::Duration::days(61);
    let summary = store.apply_retention(now, time::Duration::days(60)).unwrap();
    assert_eq!(summary.archived as usize, old_pages);
    assert_eq!(summary.kept as usize, new_pages);
    assert_eq!(store.hot_pages().unwrap() as usize, new_pages);
    for record in store.records().unwrap() {
        let hot = store.page(&record.url).unwrap().is_some();
        if record.url.starts_with(old_shop.base()) && record.status == 200 {
            assert_eq!(record.body, BodyState::Archived, "{}", record.url);
            assert!(!hot && record.etag.is_none(), "{}", record.url);
        } else if record.url.starts_with(new_shop.base()) && record.status == 200 {
            assert_eq!(record.body, BodyState::Hot, "{}", record.url);
            assert!(hot, "{}", record.url);
        }
    }
    let archive = read_archive(summary.archive.as_ref().unwrap()).unwrap();
    assert_eq!(archive.len(), old_pages);
    for page in old_shop.pages() {
        let url = format!("{}{}", old_shop.base(), page.path);
        let (record, body) = archive.iter().find(|(r, _)| r.url == url).expect("archived page");
        assert_eq!(record.fetched_at, t0.unix_timestamp() * 1000);
        let body = String::from_utf8(body.clone()).unwrap();
        assert!(body.contains(&page.product.id) && body.starts_with("<!DOCTYPE html>"), "{url}");
    }
    // Idempotent: a second run the same day finds nothing more.
    assert_eq!(store.apply_retention(now, time::Duration::days(60)).unwrap().archived, 0);

    // An archived page has no validators left: the next crawl downloads it whole (200, not 304)
    // and keeps it hot again; its content is the same, so nothing is sent again.
    *clock.0.lock().unwrap() = now;
    let (summary, again) = crawl(&crawler, &[format!("{}/", old_shop.base())]).await;
    assert!(again.is_empty(), "{summary:?}");
    assert_eq!(summary.skipped.get("unchanged"), Some(&(old_pages as u64)), "{summary:?}");
    let refetched = old_shop.hits().iter().rev().take(old_pages).filter(|h| h.status == 200).count();
    assert_eq!(refetched, old_pages);
    assert_eq!(store.hot_pages().unwrap() as usize, old_pages + new_pages);
}
