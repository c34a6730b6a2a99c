//! Polite product-page crawler for `searchd` (planned; not built yet).
//!
//! This crate will fetch vendors' web shops and turn their pages into catalog events:
//!
//! - a frontier from seeds and sitemaps, URL normalization and dedup, depth and page limits;
//! - robots.txt through a well-kept parser, per-host politeness (delay, backoff, `Retry-After`),
//!   a global concurrency limit, timeouts, body-size and redirect limits, conditional recrawl;
//! - extraction of products from schema.org JSON-LD, microdata and OpenGraph, with language
//!   from `<html lang>` or detection, and a recorded reason for every page that yields nothing;
//! - raw pages kept compressed for 60 days, then archived.
//!
//! Nothing here is implemented yet; its output will be `searchd_catalog::CatalogEvent`s.
