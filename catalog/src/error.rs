/// Errors of the domain layer: a value a caller sent is not acceptable.
///
/// `param` names the request parameter or document field at fault, so the HTTP layer can answer
/// with an error that names it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A search parameter has a bad value (`page=-1`, `sort=colour`, `price_min=abc`).
    #[error("invalid `{param}`: {reason}")]
    InvalidParameter { param: String, reason: String },
    /// A parameter the API does not know (`colour=red` as a filter).
    #[error("unknown parameter `{param}`{hint}")]
    UnknownParameter { param: String, hint: String },
    /// A document is not acceptable (missing id, empty title, negative price).
    #[error("invalid document field `{field}`: {reason}")]
    InvalidDocument { field: String, reason: String },
}

impl Error {
    pub fn invalid(param: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidParameter { param: param.into(), reason: reason.into() }
    }

    pub fn unknown(param: impl Into<String>, known: &[&str]) -> Self {
        Self::UnknownParameter { param: param.into(), hint: format!(", expected one of: {}", known.join(", ")) }
    }

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

pub type Result<T, E = Error> = std::result::Result<T, E>;
