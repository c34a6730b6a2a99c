//! Learned models for `searchd`. This crate is the only one that knows linfa and ndarray.
//!
//! Built: the phase-2 ranker ([`ranker`]) — a linear scoring function over the rank features of
//! a (query, product) pair, learned by pairwise logistic regression (linfa-logistic) from graded
//! judgments and click-derived labels — and its versioned on-disk artifacts ([`RankerStore`]).
//!
//! Recommendations ([`similar`]): sparse TF-IDF product vectors, an exact cosine neighbour search
//! through their posting lists (MaxScore), and "bought together" from session co-occurrence. Every model is a versioned artifact ([`ArtifactStore`]).
//!
//! ```
//! use searchd_catalog::{FeatureVector, NUM_FEATURES, SecondPhase, feature_index};
//! use searchd_models::{LabeledCandidate, TrainOptions, TrainingQuery, train_ranker};
//!
//! // Two queries whose better product always has more title coverage.
//! let candidate = |coverage: f32, label: f32| {
//!     let mut features: FeatureVector = [0.0; NUM_FEATURES];
//!     features[feature_index("title_coverage").unwrap()] = coverage;
//!     LabeledCandidate { features, label }
//! };
//! let queries = vec![
//!     TrainingQuery { query: "drill".into(), candidates: vec![candidate(1.0, 3.0), candidate(0.5, 1.0)] },
//!     TrainingQuery { query: "saw".into(), candidates: vec![candidate(0.2, 1.0), candidate(0.9, 2.67)] },
//! ];
//! let model = train_ranker(&queries, &TrainOptions::default()).unwrap();
//! assert!(model.score(&candidate(1.0, 0.0).features) > model.score(&candidate(0.3, 0.0).features));
//! ```

#![warn(missing_docs)]

pub mod ranker;
pub mod similar;
pub mod store;

pub use ranker::{
    ExpansionExample, ExpansionOptions, LabeledCandidate, RankerModel, RankerStore, TrainOptions, TrainingInfo,
    TrainingQuery, learn_expansions, train_ranker,
};
pub use similar::{Neighbour, SimilarIndex, SimilarModel, SimilarStore, bought_together, train_similar};
pub use store::{Artifact, ArtifactStore};

/// Errors of training and of artifacts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("training: {0}")]
    /// Training could not run (no pairs, a linfa failure).
    Training(String),
    #[error("model artifact {path}: {message}")]
    /// An artifact cannot be read or is not usable.
    Artifact {
        /// The artifact's file.
        path: String,
        /// What is wrong.
        message: String,
    },
    #[error(transparent)]
    /// Reading or writing an artifact failed.
    Io(#[from] std::io::Error),
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;
