//! `[crawler]`: how politely, how far and how long to keep pages.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
/// `[crawler]`: politeness, timeouts, limits and retention.
pub struct CrawlConfig {
    /// Sent as `User-Agent`; its first word (before `/`) is the robots.txt agent name.
    pub user_agent: String,
    /// Requests in flight across all sites.
    pub concurrency: usize,
    /// Requests in flight per origin (scheme, host, port).
    pub per_host_connections: usize,
    /// Pause between the end of one response and the next request to the same origin; a
    /// robots.txt `Crawl-delay` that is longer wins (up to `max_crawl_delay_ms`).
    pub delay_ms: u64,
    /// The longest robots.txt `Crawl-delay` honoured; longer ones are capped here.
    pub max_crawl_delay_ms: u64,
    /// Whole-request timeout (headers and body).
    pub timeout_ms: u64,
    /// Connection timeout.
    pub connect_timeout_ms: u64,
    /// Larger pages are abandoned (`body_too_large`).
    pub max_body_bytes: u64,
    /// Redirect hops followed from one URL; each hop passes robots.txt and scope again.
    pub max_redirects: u32,
    /// Retries of a URL answered 429, 500, 502, 503, 504 or refused at connect.
    pub max_retries: u32,
    /// First backoff when the server gives no `Retry-After`; doubles on each retry.
    pub backoff_ms: u64,
    /// `Retry-After` longer than this is capped.
    pub max_retry_after_ms: u64,
    /// Link hops from a seed (sitemap entries count as one).
    pub max_depth: u32,
    /// Pages fetched per crawl (robots.txt and sitemaps not counted); none: no limit.
    pub max_pages: Option<u64>,
    /// Follow links to other sites (another host than the seeds', `www.` aside).
    pub follow_other_sites: bool,
    /// Read the sitemaps robots.txt lists.
    pub sitemaps: bool,
    /// Raw pages older than this are archived by retention.
    pub retention_days: u32,
    /// When `searchd serve` runs retention (cron, UTC, with seconds).
    pub retention_schedule: String,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            user_agent: format!("searchd-crawler/{}", env!("CARGO_PKG_VERSION")),
            concurrency: 16,
            per_host_connections: 1,
            delay_ms: 1000,
            max_crawl_delay_ms: 30_000,
            timeout_ms: 20_000,
            connect_timeout_ms: 5_000,
            max_body_bytes: 5 << 20,
            max_redirects: 5,
            max_retries: 3,
            backoff_ms: 2_000,
            max_retry_after_ms: 120_000,
            max_depth: 16,
            max_pages: None,
            follow_other_sites: false,
            sitemaps: true,
            retention_days: 60,
            retention_schedule: "0 30 3 * * *".to_string(),
        }
    }
}

impl CrawlConfig {
    /// Checks the ranges and the user agent; the error names the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: &str| Err(Error::Config(format!("{field} {why}")));
        if self.user_agent.trim().is_empty() {
            return bad("user_agent", "must not be empty");
        }
        if self.concurrency == 0 {
            return bad("concurrency", "must be at least 1");
        }
        if self.per_host_connections == 0 {
            return bad("per_host_connections", "must be at least 1");
        }
        if self.timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return bad("timeout_ms and connect_timeout_ms", "must be at least 1");
        }
        if self.max_body_bytes == 0 {
            return bad("max_body_bytes", "must be at least 1");
        }
        if self.retention_days == 0 {
            return bad("retention_days", "must be at least 1");
        }
        Ok(())
    }

    /// The robots.txt agent name: the user agent's first word, before any `/`.
    pub fn robots_agent(&self) -> &str {
        self.user_agent.split(['/', ' ']).next().unwrap_or("searchd-crawler")
    }

    /// `delay_ms` as a duration.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms)
    }

    /// `retention_days` as a duration.
    pub fn retention(&self) -> time::Duration {
        time::Duration::days(i64::from(self.retention_days))
    }
}
