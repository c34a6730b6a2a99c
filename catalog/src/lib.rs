//! Domain types shared by every `searchd` crate.
//!
//! `catalog` is the bottom of the dependency graph: products, vendors, catalog events (versioned
//! upserts and deletes), search requests and responses, the phase-1 scoring trait and the text
//! normalization used on both the indexing and the query side. It has no heavy dependencies.
//!
//! ```
//! use searchd_catalog::{fold, tokenize, Product, SearchRequest};
//!
//! let product: Product = serde_json::from_str(
//!     r#"{"id":"p1","title":"Café crème","category":["Food","Coffee"],"price":4.5}"#,
//! ).unwrap();
//! assert_eq!(product.category_path(), "Food/Coffee");
//! assert_eq!(fold("Café"), "cafe");
//! let words: Vec<_> = tokenize("Wood-Screws, 3.5 mm").map(|t| t.text).collect();
//! assert_eq!(words, ["Wood", "Screws", "3", "5", "mm"]);
//!
//! let request = SearchRequest { q: "drill".into(), ..SearchRequest::default() };
//! request.validate(&Default::default()).unwrap();
//! ```

#![warn(missing_docs)]

pub mod attributes;
mod error;
mod facets;
pub mod filter;
pub mod geo;
pub mod near;
mod offer;
mod product;
mod rfis;
pub mod rules;
mod scoring;
mod search;
pub mod settings;
pub mod signals;
pub mod stop_words;
pub mod synonyms;
mod text;
pub mod typo;
mod vendor_search;
mod writes;
pub mod zones;

pub use error::{Error, Result};
pub use facets::{FacetCount, FacetField, FacetOrder, FacetRange, FacetStats, RangeCount};
pub use offer::{MAX_LEAD_TIME_DAYS, Offer, OfferCondition};
pub use product::{GeoPoint, MAX_ID_BYTES, Product, Vendor, validate_id};
pub use rfis::{
    MAX_RFI_TITLE_CHARS, RfiDocument, RfiHit, RfiMatchHit, RfiSearchRequest, RfiSearchResponse, RfiSort, RfiState,
    RfiStatus, VendorRfisResponse,
};
pub use scoring::{
    ClickSignals, DEFAULT_RERANK_WINDOW, Expansions, Explanation, FEATURE_NAMES, FeatureContribution, FeatureVector,
    FirstPhaseScorer, MatchKind, NUM_FEATURES, Phase1Explanation, Phase2Explanation, RankFeatures, Ranker, RuleEffect,
    ScoreComponent, SecondPhase, TextOnlyScorer, TextWeights, WordMatch, bayesian_average, feature_index, with_factor,
};
pub use search::{
    DEFAULT_FACET_VALUES, DidYouMean, Filters, Highlight, MAX_CATEGORY_DEPTH, MAX_FACET_RANGES, MAX_FACET_VALUES,
    MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_RESULT_WINDOW, MAX_SORT_KEYS, PrefixMode, RELEVANCE_KEY, RankingMode, SearchHit,
    SearchRequest, SearchResponse, SortBy, SortKey, path_segments,
};
pub use settings::Settings;
pub use text::{Token, escape_html_into, fold, fold_into, tokenize};
pub use vendor_search::{
    MatchBreakdown, MatchFit, MatchHit, MatchResponse, OfferFit, Rfi, VendorHit, VendorSearchRequest,
    VendorSearchResponse, VendorSort,
};
pub use writes::{CatalogEvent, OfferEvent, RfiEvent, VendorEvent, WriteOutcome};
