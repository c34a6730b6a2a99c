/// Errors of the domain layer: a value a caller sent is not acceptable.
///
/// `param` names the request parameter or document field at fault, so the HTTP layer can answer
/// with an error that names it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A search parameter has a bad value (`page=-1`, `sort=colour`, `price_min=abc`).
    #[error("invalid `{param}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        param: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// A parameter the API does not know (`colour=red` as a filter).
    #[error("unknown parameter `{param}`{hint}")]
    UnknownParameter {
        /// The parameter.
        param: String,
        /// The parameters known there (", expected one of: …").
        hint: String,
    },
    /// A document is not acceptable (missing id, empty title, negative price).
    #[error("invalid document field `{field}`: {reason}")]
    InvalidDocument {
        /// The field, as a dotted path.
        field: String,
        /// What is wrong with its value.
        reason: String,
    },
}

impl Error {
    /// A bad value of parameter `param`.
    pub fn invalid(param: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidParameter { param: param.into(), reason: reason.into() }
    }

    /// A parameter the API does not know; the message lists the `known` ones.
    pub fn unknown(param: impl Into<String>, known: &[&str]) -> Self {
        Self::UnknownParameter { param: param.into(), hint: format!(", expected one of: {}", known.join(", ")) }
    }

    /// A document field that is not acceptable.
    pub fn document(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidDocument { field: field.into(), reason: reason.into() }
    }

    /// The parameter or field this error is about.
    pub fn param(&self) -> &str {
        match self {
            Self::InvalidParameter { param, .. } | Self::UnknownParameter { param, .. } => param,
            Self::InvalidDocument { field, .. } => field,
        }
    }
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
