//! As-you-type autocomplete for `searchd` (planned; not built yet).
//!
//! This crate will own prefix completion over product titles, brands, category names and
//! popular queries, as the storefront search box calls it on every keystroke:
//!
//! - an FST (the `fst` crate) of normalized (diacritics-folded) phrases with weights: product
//!   popularity, query frequency from the API's query log, a boost for brands and categories;
//! - matching where the last word is a prefix and earlier words complete ("cordless dri" →
//!   "cordless drill"), with a fuzzy prefix (one typo from 4 letters, two from 8), exact prefixes
//!   ranked above fuzzy ones, typed and deduplicated suggestions with the matched part marked;
//! - a background rebuild after index commits, swapped atomically so reads never wait.
//!
//! Nothing here is implemented yet; the API will be a `Suggester` built from a snapshot of the
//! catalog and the query log, answering `suggest(input, limit, types)`.
