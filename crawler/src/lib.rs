//! Polite product-page crawler for `searchd`: it fetches vendors' web shops and turns their
//! product pages into [`CatalogEvent`](searchd_catalog::CatalogEvent)s.
//!
//! - [`crawl`]: the frontier (seeds, sitemaps, links; normalized and deduplicated; depth, page
//!   and same-site limits), robots.txt (`texting_robots`, cached per origin), per-origin
//!   politeness (one connection, a delay, `Crawl-delay`, backoff on 429/503 with `Retry-After`),
//!   a global concurrency limit, timeouts, body-size and redirect limits, conditional recrawl
//!   (`ETag` / `Last-Modified`) and content hashes to skip unchanged pages;
//! - [`extract`]: products from schema.org JSON-LD, microdata, then OpenGraph; the page's
//!   declared language; the reason a page yields no product;
//! - [`store`]: each URL's record and its raw page (compressed), archived after
//!   `retention_days`;
//! - [`sitemap`], [`urls`]: sitemap parsing and URL normalization.
//!
//! The crate knows no index and no Kafka: it sends events into a channel, and `searchd crawl`
//! decides where they go.
//!
//! ```
//! use searchd_crawler::CrawlConfig;
//!
//! let config = CrawlConfig::default();
//! config.validate()?;
//! // robots.txt groups are matched by the user agent's first word.
//! assert_eq!(config.robots_agent(), config.user_agent.split(['/', ' ']).next().unwrap());
//! # Ok::<(), searchd_crawler::Error>(())
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod crawl;
pub mod extract;
mod fetch;
pub mod sitemap;
pub mod store;
pub mod urls;

pub use config::CrawlConfig;
pub use crawl::{CrawlSummary, Crawler, Progress};
pub use fetch::{Clock, SystemClock};
pub use store::{PageRecord, PageStore, RetentionSummary};

#[derive(Debug, thiserror::Error)]
/// Errors of the crawler.
pub enum Error {
    #[error("invalid crawler configuration: {0}")]
    /// `[crawler]` is not usable; names the key.
    Config(String),
    #[error("page store: {0}")]
    /// The page store failed.
    Store(String),
    #[error("invalid seed `{0}`: {1}")]
    /// A seed URL is not usable: the seed and why.
    Seed(String, String),
    #[error("the event receiver is gone")]
    /// Whoever received the product events stopped listening.
    Closed,
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;
