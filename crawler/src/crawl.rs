//! The crawl: one coordinator owns the frontier and every origin's politeness state; fetches
//! (and the HTML analysis of what they bring) run as tasks, at most `concurrency` at a time and
//! `per_host_connections` per origin.
//!
//! Per origin, robots.txt is fetched first and nothing else is requested until it is known; it
//! is cached for the crawl. A request to an origin starts no sooner than `delay` (the larger of
//! `delay_ms` and robots.txt's `Crawl-delay`) after the previous response from it *ended*, so
//! the server sees at least that gap between requests. 429 and 5xx answers push the whole
//! origin back (`Retry-After`, else exponential backoff) and the URL is retried. Redirects are
//! not followed by the HTTP client: each target goes back through normalization, scope, dedup
//! and robots.txt like any link, with the hop count and loop detection carried along.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{self};
use searchd_catalog::CatalogEvent;
use serde::Serialize;
use texting_robots::Robot;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use crate::fetch::{Clock, Entry, FetchError, Fetched, Kind, fetch, fetch_robots, parse_retry_after, unix_ms};
use crate::sitemap::{self, Sitemap};
use crate::store::{BodyState, PageRecord, PageStore};
use crate::urls::{looks_like_sitemap, normalize, origin, site};
use crate::{CrawlConfig, Error, Result};

/// robots.txt files larger than this are read up to it (RFC 9309 asks for at least 500 KiB).
/// Records written to the page store per transaction.
const STORE_BATCH: usize = 256;

/// Live counters, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// HTTP requests made.
    pub requests: AtomicU64,
    /// Pages that got a response.
    pub pages: AtomicU64,
    /// Products extracted.
    pub products: AtomicU64,
    /// Requests that failed.
    pub errors: AtomicU64,
    /// URLs waiting in the frontier.
    pub queued: AtomicU64,
}

/// What a crawl did. Every fetched page is counted once: in `extracted`, under a reason in
/// `skipped`, or under a kind in `errors`; each URL's own outcome is in the page store.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrawlSummary {
    /// HTTP requests made, robots.txt and sitemaps included.
    pub requests: u64,
    /// Page URLs that got a response.
    pub fetched: u64,
    /// Pages that yielded at least one product.
    pub extracted: u64,
    /// Product events sent.
    pub products: u64,
    /// Sitemaps read.
    pub sitemaps: u64,
    /// Redirects followed.
    pub redirects: u64,
    /// Pages without products, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Failed requests, by kind.
    pub errors: BTreeMap<String, u64>,
    /// URLs still queued when a page limit stopped the crawl.
    pub frontier_left: u64,
    /// Wall time of the crawl.
    pub seconds: f64,
    /// `fetched / seconds`.
    pub pages_per_second: f64,
}

impl CrawlSummary {
    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }

    fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }
}

#[derive(Debug)]
enum RobotsState {
    Unknown,
    Fetching,
    Ready(Option<Arc<Robot>>),
    Unavailable,
}

#[derive(Debug)]
struct Host {
    robots: RobotsState,
    queue: VecDeque<Entry>,
    active: usize,
    next_at: Instant,
    delay: Duration,
}

#[derive(Debug)]
enum Done {
    Robots { origin: String, result: std::result::Result<(u16, Vec<u8>), FetchError> },
    Fetch { origin: String, entry: Entry, result: std::result::Result<Box<Fetched>, FetchError> },
}

/// A crawler: configuration, HTTP clients, the page store and a clock.
#[derive(Debug)]
pub struct Crawler {
    config: CrawlConfig,
    client: reqwest::Client,
    robots_client: reqwest::Client,
    store: Option<Arc<PageStore>>,
    clock: Arc<dyn Clock>,
    progress: Arc<Progress>,
}

impl Crawler {
    /// `store`: where records and raw pages go (and validators for conditional requests come
    /// from); none keeps nothing between crawls.
    pub fn new(config: CrawlConfig, store: Option<Arc<PageStore>>, clock: Arc<dyn Clock>) -> Result<Self> {
        config.validate()?;
        let builder = || {
            reqwest::Client::builder()
                .user_agent(config.user_agent.clone())
                .timeout(Duration::from_millis(config.timeout_ms))
                .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
                .pool_max_idle_per_host(config.per_host_connections)
        };
        let client = builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let robots_client = builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self { config, client, robots_client, store, clock, progress: Arc::default() })
    }

    /// The live counters of the crawl, for a progress display.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Crawls from `seeds` (pages, or sitemaps by their file name) until the frontier is empty
    /// or `max_pages` pages are fetched, sending each product found into `events`.
    pub async fn run(&self, seeds: &[String], events: mpsc::Sender<CatalogEvent>) -> Result<CrawlSummary> {
        let started = Instant::now();
        let mut run = Run {
            crawler: self,
            hosts: HashMap::new(),
            seen: HashSet::new(),
            sites: HashSet::new(),
            summary: CrawlSummary::default(),
            pages_dispatched: 0,
            tasks: JoinSet::new(),
            records: Vec::new(),
            events,
        };
        let mut parsed = Vec::new();
        for seed in seeds {
            let url = Url::parse(seed.trim()).map_err(|e| Error::Seed(seed.clone(), e.to_string()))?;
            let url = normalize(&url).ok_or_else(|| Error::Seed(seed.clone(), "not an http(s) URL".into()))?;
            run.sites.insert(site(&url));
            parsed.push(url);
        }
        for url in parsed {
            let kind = if looks_like_sitemap(&url) { Kind::Sitemap } else { Kind::Page };
            run.enqueue(Entry { url, kind, depth: 0, attempt: 0, chain: Vec::new() }, true);
        }
        run.crawl().await?;
        run.flush_records().await?;
        let mut summary = run.summary;
        summary.frontier_left = run.hosts.values().map(|h| h.queue.len() as u64).sum();
        summary.seconds = started.elapsed().as_secs_f64();
        summary.pages_per_second = summary.fetched as f64 / summary.seconds.max(1e-9);
        Ok(summary)
    }
}

struct Run<'a> {
    crawler: &'a Crawler,
    hosts: HashMap<String, Host>,
    seen: HashSet<String>,
    sites: HashSet<String>,
    summary: CrawlSummary,
    pages_dispatched: u64,
    tasks: JoinSet<Done>,
    records: Vec<(PageRecord, Option<Vec<u8>>)>,
    events: mpsc::Sender<CatalogEvent>,
}

impl Run<'_> {
    fn config(&self) -> &CrawlConfig {
        &self.crawler.config
    }

    fn page_limit_reached(&self) -> bool {
        self.config().max_pages.is_some_and(|max| self.pages_dispatched >= max)
    }

    /// Adds a URL to the frontier unless it is out of scope, too deep or already known.
    /// `any_site`: sitemaps named by seeds or by an in-scope robots.txt may live elsewhere.
    fn enqueue(&mut self, entry: Entry, any_site: bool) -> bool {
        let Some(url) = normalize(&entry.url) else {
            self.summary.skip("unsupported_url");
            return false;
        };
        if !any_site && !self.config().follow_other_sites && !self.sites.contains(&site(&url)) {
            self.summary.skip("out_of_scope");
            return false;
        }
        if entry.depth > self.config().max_depth {
            self.summary.skip("depth_limit");
            return false;
        }
        if !self.seen.insert(url.as_str().to_string()) {
            return false;
        }
        let delay = self.config().delay();
        let key = origin(&url);
        if let Some(Host { robots: RobotsState::Ready(Some(robot)), .. }) = self.hosts.get(&key) {
            // Known rules are applied at once; URLs queued before them, when dispatched.
            if !robot.allowed(url.as_str()) {
                self.summary.skip("robots_disallowed");
                return false;
            }
        }
        let host = self.hosts.entry(key).or_insert_with(|| Host {
            robots: RobotsState::Unknown,
            queue: VecDeque::new(),
            active: 0,
            next_at: Instant::now(),
            delay,
        });
        host.queue.push_back(Entry { url, ..entry });
        self.crawler.progress.queued.fetch_add(1, Ordering::Relaxed);
        true
    }

    async fn crawl(&mut self) -> Result<()> {
        loop {
            self.dispatch();
            let next_wake = self
                .hosts
                .values()
                .filter(|h| !h.queue.is_empty() && h.active < self.config().per_host_connections)
                .filter(|h| matches!(h.robots, RobotsState::Ready(_)))
                .map(|h| h.next_at)
                .min()
                // With every slot taken, only a completion can start anything.
                .filter(|_| !self.page_limit_reached() && self.tasks.len() < self.config().concurrency);
            if self.tasks.is_empty() && next_wake.is_none() {
                return Ok(());
            }
            tokio::select! {
                done = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    match done {
                        Some(Ok(done)) => self.handle(done).await?,
                        Some(Err(e)) => {
                            // A fetch task panicked: the URL is lost, counted, the crawl goes on.
                            tracing::error!(error = %e, "fetch task failed");
                            self.summary.error("internal");
                        }
                        None => {}
                    }
                }
                _ = tokio::time::sleep_until(next_wake.unwrap_or_else(Instant::now)), if next_wake.is_some() => {}
            }
        }
    }

    /// Starts every request politeness and the limits allow now.
    fn dispatch(&mut self) {
        let now = Instant::now();
        let crawler = self.crawler;
        let config = &crawler.config;
        for (key, host) in &mut self.hosts {
            if self.tasks.len() >= config.concurrency {
                return;
            }
            if host.queue.is_empty() || host.active >= config.per_host_connections || host.next_at > now {
                continue;
            }
            match &host.robots {
                RobotsState::Fetching => continue,
                RobotsState::Unknown => {
                    host.robots = RobotsState::Fetching;
                    host.active += 1;
                    let client = crawler.robots_client.clone();
                    let origin = key.clone();
                    self.tasks.spawn(async move {
                        let result = fetch_robots(&client, &origin).await;
                        Done::Robots { origin, result }
                    });
                    continue;
                }
                RobotsState::Unavailable => {
                    let dropped = host.queue.len();
                    host.queue.clear();
                    crawler.progress.queued.fetch_sub(dropped as u64, Ordering::Relaxed);
                    for _ in 0..dropped {
                        self.summary.skip("robots_unavailable");
                    }
                    continue;
                }
                RobotsState::Ready(_) => {}
            }
            while host.active < config.per_host_connections && self.tasks.len() < config.concurrency {
                let RobotsState::Ready(robot) = &host.robots else { break };
                let robot = robot.clone();
                if config.max_pages.is_some_and(|max| self.pages_dispatched >= max)
                    && host.queue.front().is_some_and(|e| e.kind == Kind::Page)
                {
                    break;
                }
                let Some(entry) = host.queue.pop_front() else { break };
                crawler.progress.queued.fetch_sub(1, Ordering::Relaxed);
                if robot.as_ref().is_some_and(|r| !r.allowed(entry.url.as_str())) {
                    self.summary.skip("robots_disallowed");
                    continue;
                }
                if entry.kind == Kind::Page {
                    self.pages_dispatched += 1;
                }
                host.active += 1;
                if !host.delay.is_zero() {
                    host.next_at = Instant::now() + host.delay;
                }
                let client = crawler.client.clone();
                let store = crawler.store.clone();
                let clock = crawler.clock.clone();
                let max_body = config.max_body_bytes;
                let origin = key.clone();
                self.tasks.spawn(async move {
                    let result = fetch(&client, store, clock, &entry, max_body).await;
                    Done::Fetch { origin, entry, result }
                });
            }
        }
    }

    async fn handle(&mut self, done: Done) -> Result<()> {
        self.summary.requests += 1;
        self.crawler.progress.requests.fetch_add(1, Ordering::Relaxed);
        let origin_key = match &done {
            Done::Robots { origin, .. } | Done::Fetch { origin, .. } => origin.clone(),
        };
        if let Some(host) = self.hosts.get_mut(&origin_key) {
            host.active -= 1;
            host.next_at = host.next_at.max(Instant::now() + host.delay);
        }
        match done {
            Done::Robots { origin, result } => self.robots_done(&origin, result),
            Done::Fetch { origin, entry, result } => self.fetch_done(&origin, entry, result).await?,
        }
        if self.records.len() >= STORE_BATCH {
            self.flush_records().await?;
        }
        Ok(())
    }

    fn robots_done(&mut self, origin: &str, result: std::result::Result<(u16, Vec<u8>), FetchError>) {
        let config = &self.crawler.config;
        let state = match result {
            Ok((status, body)) if (200..300).contains(&status) => {
                match Robot::new(config.robots_agent(), &body) {
                    Ok(robot) => RobotsState::Ready(Some(Arc::new(robot))),
                    // Unparseable rules are treated as none, as for a missing file.
                    Err(_) => RobotsState::Ready(None),
                }
            }
            // RFC 9309: a 4xx robots.txt means no rules.
            Ok((status, _)) if (400..500).contains(&status) => RobotsState::Ready(None),
            Ok(_) | Err(_) => {
                self.summary.error("robots_unavailable");
                RobotsState::Unavailable
            }
        };
        let mut sitemaps = Vec::new();
        if let Some(host) = self.hosts.get_mut(origin) {
            if let RobotsState::Ready(Some(robot)) = &state {
                if let Some(delay) = robot.delay.filter(|d| d.is_finite() && *d > 0.0) {
                    let crawl_delay =
                        Duration::from_secs_f32(delay).min(Duration::from_millis(config.max_crawl_delay_ms));
                    host.delay = host.delay.max(crawl_delay);
                    host.next_at = host.next_at.max(Instant::now() + host.delay);
                }
                if config.sitemaps {
                    sitemaps = robot.sitemaps.clone();
                }
            }
            host.robots = state;
        }
        for sitemap in sitemaps {
            if let Ok(url) = Url::parse(&sitemap) {
                self.enqueue(Entry { url, kind: Kind::Sitemap, depth: 0, attempt: 0, chain: Vec::new() }, true);
            }
        }
    }

    async fn fetch_done(
        &mut self,
        origin: &str,
        entry: Entry,
        result: std::result::Result<Box<Fetched>, FetchError>,
    ) -> Result<()> {
        let is_page = entry.kind == Kind::Page;
        let mut fetched = match result {
            Ok(fetched) => fetched,
            Err(e) => {
                if matches!(e, FetchError::Connect) && self.retry(origin, &entry, None) {
                    return Ok(());
                }
                if let FetchError::Other(why) = &e {
                    tracing::debug!(url = %entry.url, error = %why, "fetch failed");
                }
                self.summary.error(e.kind());
                self.crawler.progress.errors.fetch_add(1, Ordering::Relaxed);
                if is_page {
                    self.record(&entry.url, None, e.kind(), Vec::new(), None);
                }
                return Ok(());
            }
        };
        let status = fetched.status;
        if matches!(status, 429 | 500 | 502 | 503 | 504) {
            let retry_after =
                fetched.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
            if self.retry(origin, &entry, retry_after) {
                return Ok(());
            }
        }
        if is_page {
            self.summary.fetched += 1;
            self.crawler.progress.pages.fetch_add(1, Ordering::Relaxed);
        }
        if (300..400).contains(&status) && status != 304 {
            if let Some(location) = fetched.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
                let outcome = self.redirect(&entry, location);
                if is_page {
                    self.record(&entry.url, Some(&fetched), outcome, Vec::new(), None);
                }
                return Ok(());
            }
        }
        if !(200..300).contains(&status) && status != 304 {
            let kind = format!("http_{status}");
            self.summary.error(&kind);
            self.crawler.progress.errors.fetch_add(1, Ordering::Relaxed);
            if is_page {
                self.record(&entry.url, Some(&fetched), &kind, Vec::new(), None);
            }
            return Ok(());
        }
        if !is_page {
            self.sitemap_done(&entry, &fetched.body);
            return Ok(());
        }

        // A page: follow its links, then send its products unless nothing changed.
        for link in fetched.analysis.as_mut().map(|a| std::mem::take(&mut a.links)).unwrap_or_default() {
            self.enqueue(
                Entry { url: link, kind: Kind::Page, depth: entry.depth + 1, attempt: 0, chain: Vec::new() },
                false,
            );
        }
        let unchanged = status == 304
            || fetched.hash.is_some() && fetched.hash == fetched.previous.as_ref().and_then(|p| p.content_hash.clone());
        let (outcome, ids) = match &fetched.analysis {
            None if status == 304 => ("not_modified".to_string(), Vec::new()),
            None => ("not_html".to_string(), Vec::new()),
            Some(_) if unchanged => {
                let reason = if status == 304 { "not_modified" } else { "unchanged" };
                let ids = fetched.previous.as_ref().map(|p| p.product_ids.clone()).unwrap_or_default();
                (reason.to_string(), ids)
            }
            Some(analysis) => match analysis.no_product {
                Some(reason) => (reason.as_str().to_string(), Vec::new()),
                None => ("product".to_string(), analysis.products.iter().map(|p| p.id.clone()).collect()),
            },
        };
        if outcome == "product" {
            self.summary.extracted += 1;
            for product in fetched.analysis.as_mut().map(|a| std::mem::take(&mut a.products)).unwrap_or_default() {
                self.events.send(CatalogEvent::Upsert { product }).await.map_err(|_| Error::Closed)?;
                self.summary.products += 1;
                self.crawler.progress.products.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            self.summary.skip(&outcome);
        }
        // A page downloaded is stored (again), changed or not: its fetch time is the copy's age.
        let body = (status != 304 && fetched.analysis.is_some()).then(|| std::mem::take(&mut fetched.body));
        self.record(&entry.url, Some(&fetched), &outcome, ids, body);
        Ok(())
    }

    /// Requeues `entry` after pushing its origin back; false when its retries are used up.
    fn retry(&mut self, origin: &str, entry: &Entry, retry_after: Option<Duration>) -> bool {
        let config = &self.crawler.config;
        if entry.attempt >= config.max_retries {
            return false;
        }
        let backoff = retry_after
            .unwrap_or_else(|| Duration::from_millis(config.backoff_ms.saturating_mul(1 << entry.attempt.min(16))))
            .min(Duration::from_millis(config.max_retry_after_ms));
        let Some(host) = self.hosts.get_mut(origin) else { return false };
        host.next_at = host.next_at.max(Instant::now() + backoff);
        host.queue.push_front(Entry { attempt: entry.attempt + 1, ..entry.clone() });
        if entry.kind == Kind::Page {
            self.pages_dispatched -= 1;
        }
        self.crawler.progress.queued.fetch_add(1, Ordering::Relaxed);
        self.summary.skip("retried");
        true
    }

    /// Follows a redirect as a new frontier entry; returns the page's outcome.
    fn redirect(&mut self, entry: &Entry, location: &str) -> &'static str {
        self.summary.redirects += 1;
        let Some(target) = entry.url.join(location).ok().and_then(|u| normalize(&u)) else {
            self.summary.error("invalid_redirect");
            return "invalid_redirect";
        };
        if target == entry.url || entry.chain.contains(&target) {
            self.summary.error("redirect_loop");
            return "redirect_loop";
        }
        if entry.chain.len() as u32 >= self.config().max_redirects {
            self.summary.error("too_many_redirects");
            return "too_many_redirects";
        }
        let mut chain = entry.chain.clone();
        chain.push(entry.url.clone());
        self.enqueue(Entry { url: target, kind: entry.kind, depth: entry.depth, attempt: 0, chain }, false);
        self.summary.skip("redirect");
        "redirect"
    }

    fn sitemap_done(&mut self, entry: &Entry, body: &[u8]) {
        match sitemap::parse(body) {
            Ok(Sitemap::Index(children)) => {
                self.summary.sitemaps += 1;
                for child in children {
                    if let Ok(url) = entry.url.join(&child) {
                        self.enqueue(
                            Entry { url, kind: Kind::Sitemap, depth: entry.depth, attempt: 0, chain: Vec::new() },
                            true,
                        );
                    }
                }
            }
            Ok(Sitemap::Urls(urls)) => {
                self.summary.sitemaps += 1;
                for page in urls {
                    if let Ok(url) = entry.url.join(&page) {
                        self.enqueue(
                            Entry { url, kind: Kind::Page, depth: entry.depth + 1, attempt: 0, chain: Vec::new() },
                            false,
                        );
                    }
                }
            }
            Err(why) => {
                tracing::warn!(url = %entry.url, %why, "invalid sitemap");
                self.summary.error("invalid_sitemap");
            }
        }
    }

    /// Queues `url`'s record for the store: the response (none after a transport error), the
    /// outcome, and the page when it is to be kept (with its hash).
    fn record(
        &mut self,
        url: &Url,
        fetched: Option<&Fetched>,
        outcome: &str,
        product_ids: Vec<String>,
        page: Option<Vec<u8>>,
    ) {
        if self.crawler.store.is_none() {
            return;
        }
        let header_text = |name: header::HeaderName| {
            fetched.and_then(|f| f.headers.get(name)).and_then(|v| v.to_str().ok()).map(str::to_string)
        };
        let checked_at = unix_ms(self.crawler.clock.now());
        let record = PageRecord {
            url: url.to_string(),
            fetched_at: fetched.map_or(checked_at, |f| unix_ms(f.fetched_at)),
            checked_at,
            status: fetched.map_or(0, |f| f.status),
            content_type: header_text(header::CONTENT_TYPE),
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
            content_hash: page.as_ref().and(fetched.and_then(|f| f.hash.clone())),
            outcome: outcome.to_string(),
            product_ids,
            body: BodyState::None,
        };
        self.records.push((record, page));
    }

    async fn flush_records(&mut self) -> Result<()> {
        let Some(store) = self.crawler.store.clone() else { return Ok(()) };
        let batch = std::mem::take(&mut self.records);
        if batch.is_empty() {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || store.put(batch))
            .await
            .map_err(|e| Error::Store(format!("writer task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
