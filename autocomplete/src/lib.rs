//! As-you-type suggestions for `searchd`: what the storefront search box calls on every
//! keystroke, so the fastest path in the system.
//!
//! Four kinds of completions — popular queries (from the [`QueryLog`] the API records),
//! product titles, brands and category names — each an FST (the `fst` crate) of word suffixes
//! with weighted postings ([`Weights`]). Matching: the last word of the input is a prefix and the
//! earlier words complete ("cordless dri" → "cordless drill"), text is Unicode-folded ("cafe"
//! finds "Café"), and a fuzzy prefix allows one typo from 4 letters and two from 8 ("dewlat" →
//! "DeWalt"), ranked below every exact prefix match. Suggestions are typed, deduplicated and
//! highlighted.
//!
//! A [`Suggester`] is immutable: the API rebuilds it in the background after index commits and
//! swaps it atomically, so a keystroke never waits for a rebuild.
//!
//! ```
//! use std::sync::Arc;
//! use searchd_autocomplete::{CatalogCompletions, Kinds, Suggester, Weights, query_completions};
//! use searchd_catalog::Product;
//!
//! let weights = Weights::default();
//! let mut drill = Product::new("p1", "Makita 18V Cordless Drill");
//! drill.brand = Some("Makita".into());
//! let catalog = CatalogCompletions::from_products([&drill], &weights).unwrap();
//! let queries = query_completions([("cordless drill battery".to_string(), 3)], &weights).unwrap();
//! let suggester = Suggester::new(Arc::new(catalog), Arc::new(queries));
//!
//! let hits = suggester.suggest("cordless dri", 8, Kinds::ALL);
//! assert_eq!(hits[0].text, "cordless drill battery");
//! assert_eq!(hits[1].highlight, "Makita 18V <em>Cordless Dri</em>ll");
//! assert_eq!(suggester.suggest("makiat", 8, Kinds::ALL)[0].text, "Makita");
//! ```

#![warn(missing_docs)]

mod dict;
mod key;
mod query_log;
mod store;
mod suggester;

pub use dict::Completions;
pub use query_log::QueryLog;
pub use store::StoreError;
pub use suggester::{
    CatalogBuilder, CatalogCompletions, CatalogDelta, DEFAULT_LIMIT, Kind, Kinds, MAX_INPUT_CHARS, MAX_LIMIT,
    Suggester, Suggestion, Weights, query_completions,
};

/// Why completions could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot build the completion FST: {0}")]
    /// The FST library refused the keys.
    Fst(#[from] fst::Error),
    #[error("too many completions to index: {0}")]
    /// More entries than postings can address.
    TooLarge(usize),
}
