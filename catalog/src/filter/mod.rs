//! The filter language, with Meilisearch's syntax so users can bring their filters along:
//! `=`, `!=`, `>`, `>=`, `<`, `<=`, `a TO b`, `IN [..]`, `NOT IN [..]`, `EXISTS`, `NOT EXISTS`,
//! `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `AND`, `OR`, `NOT`, parentheses, and
//! single- or double-quoted strings with backslash escapes. Keywords are matched in any case; a
//! value that is a keyword must be quoted. The array form of a JSON body
//! (`[["colour = red", "colour = blue"], "price < 50"]`) is OR inside, AND across.
//!
//! This module parses and prints; what a condition means for an attribute (its type, whether it
//! is filterable) is decided where the filter is compiled against the settings.
//!
//! ```
//! use searchd_catalog::filter::{Filter, Op};
//!
//! let filter = Filter::parse("colour IN [red, 'dark blue'] AND NOT price > 50")?;
//! let Filter::And(parts) = &filter else { panic!("an AND") };
//! assert_eq!(parts.len(), 2);
//! // Printing gives a canonical text that parses back to the same filter.
//! assert_eq!(Filter::parse(&filter.to_string())?, filter);
//!
//! let error = Filter::parse("price >").unwrap_err();
//! assert_eq!(error.to_string(), "at column 8: expected a value after `>`");
//! # Ok::<(), searchd_catalog::filter::FilterError>(())
//! ```

mod builtin;
mod parse;

pub use builtin::{Builtin, Field, Kind, Resolved, Value};

use std::fmt;

/// The longest filter accepted, in characters.
pub const MAX_FILTER_CHARS: usize = 4096;
/// The deepest nesting of parentheses accepted.
pub const MAX_FILTER_DEPTH: usize = 20;

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every part holds (two or more parts).
    And(Vec<Filter>),
    /// Any part holds (two or more parts).
    Or(Vec<Filter>),
    /// The part does not hold (documents without the attribute included).
    Not(Box<Filter>),
    /// One condition on one attribute.
    Condition(Condition),
}

/// `attribute OPERATOR value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The attribute, as written (`price`, `specs.voltage`).
    pub field: Token,
    /// What is asked of it.
    pub op: Op,
}

/// The operator of a [`Condition`] with its values.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `=`: equal (for a list attribute: any of its values is).
    Equal(Token),
    /// `!=`: not equal (documents without the attribute included).
    NotEqual(Token),
    /// `>`.
    Greater(Token),
    /// `>=`.
    GreaterOrEqual(Token),
    /// `<`.
    Less(Token),
    /// `<=`.
    LessOrEqual(Token),
    /// `from TO to`: between, both ends included.
    Between {
        /// The lower end.
        from: Token,
        /// The upper end.
        to: Token,
    },
    /// `IN [a, b]`: equal to any.
    In(Vec<Token>),
    /// `NOT IN [a, b]`: equal to none.
    NotIn(Vec<Token>),
    /// `EXISTS`: the document has the attribute (null and empty included).
    Exists,
    /// `NOT EXISTS`.
    NotExists,
    /// `IS NULL`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
    /// `IS EMPTY`: an empty string, list or object.
    IsEmpty,
    /// `IS NOT EMPTY`.
    IsNotEmpty,
}

/// A word or a quoted string of a filter, unescaped, and the 1-based column (in characters)
/// where it starts. Two tokens are equal when their texts are: where they stood does not count.
#[derive(Debug, Clone)]
pub struct Token {
    /// The text, unescaped.
    pub text: String,
    /// Where it starts, 1-based, in characters.
    pub column: usize,
}

impl Token {
    /// A token at column 0 (built, not parsed).
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), column: 0 }
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Why a filter was refused: where and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based column, in characters, of the filter text.
    pub column: usize,
    /// What was wrong there ("expected a value after `=`").
    pub message: String,
    /// Where the text sits in an array-form filter (`filter[1][0]`), empty for a plain string.
    pub path: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FilterError {}

impl Filter {
    /// Parses a filter string; the error names the column and what was expected there.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        parse::parse(text)
    }

    /// Parses the array form of a JSON body: a string, or an array whose items (strings, or
    /// arrays of strings ORed together) are ANDed.
    pub fn from_json(value: &serde_json::Value) -> Result<Filter, FilterError> {
        use serde_json::Value;
        let at = |path: String, message: &str| FilterError { column: 1, message: message.into(), path };
        let located = |text: &str, path: String| Filter::parse(text).map_err(|e| FilterError { path, ..e });
        match value {
            Value::String(text) => Filter::parse(text),
            Value::Array(items) => {
                let mut and = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(text) => and.push(located(text, format!("filter[{i}]"))?),
                        Value::Array(alternatives) => {
                            let mut or = Vec::with_capacity(alternatives.len());
                            for (j, alternative) in alternatives.iter().enumerate() {
                                let Value::String(text) = alternative else {
                                    return Err(at(format!("filter[{i}][{j}]"), "expected a filter string"));
                                };
                                or.push(located(text, format!("filter[{i}][{j}]"))?);
                            }
                            and.push(Filter::any(or).ok_or_else(|| at(format!("filter[{i}]"), "expected a filter"))?);
                        }
                        _ => return Err(at(format!("filter[{i}]"), "expected a filter string or an array of them")),
                    }
                }
                Filter::all(and).ok_or_else(|| at("filter".into(), "expected a filter"))
            }
            _ => Err(at("filter".into(), "expected a filter string or an array of them")),
        }
    }

    /// `AND` of the parts: the part itself when there is one, `None` when there is none.
    pub fn all(mut parts: Vec<Filter>) -> Option<Filter> {
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Filter::And(parts)),
        }
    }

    /// `OR` of the parts: the part itself when there is one, `None` when there is none.
    pub fn any(mut parts: Vec<Filter>) -> Option<Filter> {
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Filter::Or(parts)),
        }
    }

    /// Every attribute the filter names, in order of appearance.
    pub fn fields(&self) -> Vec<&Token> {
        let mut out = Vec::new();
        self.visit(&mut |c| out.push(&c.field));
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Condition)) {
        match self {
            Filter::And(parts) | Filter::Or(parts) => parts.iter().for_each(|p| p.visit(f)),
            Filter::Not(part) => part.visit(f),
            Filter::Condition(c) => f(c),
        }
    }
}

/// A word, or a double-quoted string when it is not a plain word.
fn write_text(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    if parse::is_plain_word(text) {
        return f.write_str(text);
    }
    f.write_str("\"")?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_text(f, &self.text)
    }
}

impl fmt::Display for Filter {
    /// A canonical text: parts of `AND` and `OR` that are themselves `AND` or `OR` in
    /// parentheses, so the text parses back to the same filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |f: &mut fmt::Formatter<'_>, p: &Filter| match p {
            Filter::And(_) | Filter::Or(_) => write!(f, "({p})"),
            _ => write!(f, "{p}"),
        };
        match self {
            Filter::And(parts) | Filter::Or(parts) => {
                let joiner = if matches!(self, Filter::And(_)) { " AND " } else { " OR " };
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joiner)?;
                    }
                    part(f, p)?;
                }
                Ok(())
            }
            Filter::Not(p) => {
                f.write_str("NOT ")?;
                part(f, p)
            }
            Filter::Condition(c) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, values: &[Token]| {
            f.write_str("[")?;
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            f.write_str("]")
        };
        let field = &self.field;
        match &self.op {
            Op::Equal(v) => write!(f, "{field} = {v}"),
            Op::NotEqual(v) => write!(f, "{field} != {v}"),
            Op::Greater(v) => write!(f, "{field} > {v}"),
            Op::GreaterOrEqual(v) => write!(f, "{field} >= {v}"),
            Op::Less(v) => write!(f, "{field} < {v}"),
            Op::LessOrEqual(v) => write!(f, "{field} <= {v}"),
            Op::Between { from, to } => write!(f, "{field} {from} TO {to}"),
            Op::In(values) => {
                write!(f, "{field} IN ")?;
                list(f, values)
            }
            Op::NotIn(values) => {
                write!(f, "{field} NOT IN ")?;
                list(f, values)
            }
            Op::Exists => write!(f, "{field} EXISTS"),
            Op::NotExists => write!(f, "{field} NOT EXISTS"),
            Op::IsNull => write!(f, "{field} IS NULL"),
            Op::IsNotNull => write!(f, "{field} IS NOT NULL"),
            Op::IsEmpty => write!(f, "{field} IS EMPTY"),
            Op::IsNotEmpty => write!(f, "{field} IS NOT EMPTY"),
        }
    }
}

/// In JSON a filter is its canonical text.
impl serde::Serialize for Filter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// From a string or the array form; the error names the place and the column.
impl<'de> serde::Deserialize<'de> for Filter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Filter::from_json(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
