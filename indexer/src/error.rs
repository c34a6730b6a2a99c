/// Errors of the indexer, split as milli splits them: the caller's fault, not found, I/O, internal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A document, parameter or input row the caller sent is not acceptable.
    #[error(transparent)]
    Invalid(#[from] searchd_catalog::Error),
    /// A bulk input cannot be read as asked (missing column, unknown mapped field).
    #[error("bad input: {0}")]
    Input(String),
    #[error("product `{0}` not found")]
    /// No live product has this id.
    NotFound(String),
    #[error("vendor `{0}` not found")]
    /// No live vendor has this id.
    VendorNotFound(String),
    #[error("offer `{0}` not found")]
    /// No live offer has this id.
    OfferNotFound(String),
    #[error("rfi `{0}` not found")]
    /// No live request for information has this id.
    RfiNotFound(String),
    /// Another process holds the index writer (a running `searchd serve` on the same data dir).
    #[error("the index at {0} is in use by another process")]
    Locked(String),
    #[error("i/o error: {0}")]
    /// Reading or writing files failed.
    Io(#[from] std::io::Error),
    /// A settings change that documents held contradict: nothing changed.
    #[error("{count} document(s) contradict the new settings, so they were not applied: {}", first.join("; "))]
    Refused {
        /// How many documents contradict them.
        count: u64,
        /// The first few, each naming the product, the attribute, the value and the type.
        first: Vec<String>,
    },
    /// Tantivy or data corruption: not the caller's fault.
    #[error("internal index error: {0}")]
    Internal(String),
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for Error {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
