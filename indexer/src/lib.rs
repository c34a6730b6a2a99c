//! Everything Tantivy for `searchd`: the product schema, multilingual analysis (whatlang for
//! language detection, rust-stemmers for stemming), the writer (idempotent versioned upserts,
//! deletes with tombstones, a commit policy by count and time), retrieval (weighted fields,
//! exact > stemmed > typo matches, filters, facets, phase-1 scoring inside the collector,
//! highlighting) and bulk ingest of CSV and JSONL files. Tantivy types never leave this crate.
//!
//! ```
//! use std::sync::Arc;
//! use searchd_catalog::{CatalogEvent, Product, Ranker, SearchRequest, TextOnlyScorer};
//! use searchd_indexer::{IndexConfig, ProductIndex};
//!
//! let index = ProductIndex::in_memory(IndexConfig::default()).unwrap();
//! index.apply(CatalogEvent::Upsert { product: Product::new("1", "Cordless drill") }).unwrap();
//! index.commit().unwrap();
//! let ranker = Ranker::first_phase(Arc::new(TextOnlyScorer));
//! let request = SearchRequest { q: "drills".into(), ..SearchRequest::default() };
//! let response = index.search(&request, &ranker).unwrap();
//! assert_eq!(response.hits[0].product.id, "1");
//! ```

#![warn(missing_docs)]

mod analysis;
mod any_term;
mod columns;
mod config;
mod detect;
mod error;
mod index;
mod ingest;
mod offers;
mod rfis;
mod schema;
mod search;
mod settings;
mod snapshot;
mod vendors;
mod writer;

pub use analysis::{Analyzer, Language, QueryTerm};
pub use config::{IndexConfig, reserved_names};
pub use error::{Error, Result};
pub use index::{Changes, Clock, PreparedProduct, ProductIndex};
pub use ingest::{
    FieldMap, IngestOptions, IngestProgress, IngestSummary, InputFormat, NoProgress, RowError, Rows, TARGET_FIELDS,
    decompressed, ingest, read_products,
};
pub use offers::ingest::{OFFER_FIELDS, ReferenceCheck, ingest_offers, json_offer};
pub use offers::{NearOffers, OfferIndex, Supply};
pub use rfis::RfiIndex;
pub use rfis::reverse::Market;
pub use search::{Candidate, Preview, QueryCounts, ScoredId};
pub use settings::{Applied, Served, check_settings};
pub use snapshot::CopiedIndex;
pub use vendors::ingest::{VENDOR_FIELDS, ingest_vendors, json_vendor, read_vendors};
pub use vendors::{GeoHitId, MAX_COVER_CELLS, VendorIndex, VendorServed};
pub use writer::entry_digest;
