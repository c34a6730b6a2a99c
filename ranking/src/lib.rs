//! The relevance pipeline of `searchd`, without Tantivy: the phase-1 scoring function the
//! indexer's collector calls for every matching product (text relevance, weighted by its
//! [`TextWeights`](searchd_catalog::TextWeights), × business signals), the [`Ranking`] a node
//! serves (phase 1 and the hot-swapped learned phase 2), ranker [`train`]ing with k-fold
//! cross-validation, offline [`eval`]uation (`searchd eval`: nDCG@10 condensed and strict,
//! Recall@100), and behaviour events.
//!
//! ```
//! use searchd_catalog::{FirstPhaseScorer, RankFeatures};
//! use searchd_ranking::{DefaultScorer, RankingConfig};
//!
//! let scorer = DefaultScorer::new(RankingConfig::default());
//! let plain = RankFeatures { text: 2.0, in_stock: true, ..RankFeatures::default() };
//! let popular = RankFeatures { popularity: 500.0, ..plain };
//! assert!(scorer.score(&popular) > scorer.score(&plain));
//! // Without any signal the text score passes through unchanged.
//! assert_eq!(scorer.score(&plain), 2.0);
//! ```

#![warn(missing_docs)]

pub mod eval;
mod events;
mod scorer;
mod served;
pub mod train;

pub use eval::{Judgments, QueryMetrics, RelevanceReport, evaluate_query};
pub use events::{
    Aggregates, ClickRow, Event, EventKind, EventLog, EventStore, EventsConfig, MAX_CLOCK_SKEW, MAX_EVENT_QUERY_CHARS,
    normalize_query,
};
pub use scorer::{DefaultScorer, RankingConfig};
pub use served::{RankerConfig, Ranking, RankingSetup, spawn_ranking_tasks};
