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
pub enum Error {
    #[error("invalid crawler configuration: {0}")]
    Config(String),
    #[error("page store: {0}")]
    Store(String),
    #[error("invalid seed `{0}`: {1}")]
    Seed(String, String),
    #[error("the event receiver is gone")]
    Closed,
}

pub type Result<T> = std::result::Result<T, Error>;
