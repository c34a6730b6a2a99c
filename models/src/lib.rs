//! Learned models for `searchd` (planned; not built yet).
//!
//! This crate will be the only one that knows linfa and ndarray:
//!
//! - product vectors (hashed TF-IDF of title, description, brand and category path, plus price
//!   band), clustered with linfa-clustering (KMeans) for "similar products", with nearest
//!   neighbours by cosine inside the item's cluster and its nearest clusters;
//! - regression for the second-phase ranking weights, trained from graded judgments and
//!   click-derived labels;
//! - versioned on-disk artifacts, hot-swapped, refreshed nightly and on demand.
//!
//! Nothing here is implemented yet; `ranking` already depends on this crate so the learned
//! re-ranker can plug in without changing the dependency graph.
