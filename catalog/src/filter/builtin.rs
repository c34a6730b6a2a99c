//! A filter resolved against the built-in product fields: every attribute known, every value of
//! the type its field holds, the negative operators turned into `NOT`. What the indexer compiles
//! and what a brute-force evaluator reads.

use std::ops::Bound;

use super::{Filter, FilterError, Op, Token};

/// The product fields the filter language addresses by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `brand`: a keyword, optional.
    Brand,
    /// `category`: a path; `category = "Tools/Drills"` matches that node and below.
    Category,
    /// `price`: a number, optional.
    Price,
    /// `rating`: a number, optional.
    Rating,
    /// `review_count`: a whole number, 0 when unknown.
    ReviewCount,
    /// `popularity`: a number, 0 when unknown.
    Popularity,
    /// `in_stock`: `true` or `false`.
    InStock,
    /// `updated_at`: a date (RFC 3339, or Unix seconds), optional.
    UpdatedAt,
    /// `language`: the ISO 639-1 code the product was analyzed in (declared or detected).
    Language,
}

/// What a built-in field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exact text.
    Keyword,
    /// A `/`-separated path matched at any depth.
    Path,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A date, compared as Unix seconds.
    Date,
}

impl Builtin {
    /// Every built-in field.
    pub const ALL: [Builtin; 9] = [
        Builtin::Brand,
        Builtin::Category,
        Builtin::InStock,
        Builtin::Language,
        Builtin::Popularity,
        Builtin::Price,
        Builtin::Rating,
        Builtin::ReviewCount,
        Builtin::UpdatedAt,
    ];

    /// The field's name in filters.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Brand => "brand",
            Builtin::Category => "category",
            Builtin::Price => "price",
            Builtin::Rating => "rating",
            Builtin::ReviewCount => "review_count",
            Builtin::Popularity => "popularity",
            Builtin::InStock => "in_stock",
            Builtin::UpdatedAt => "updated_at",
            Builtin::Language => "language",
        }
    }

    /// The field named `name`.
    pub fn of(name: &str) -> Option<Builtin> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// What the field holds.
    pub fn kind(self) -> Kind {
        match self {
            Builtin::Brand | Builtin::Language => Kind::Keyword,
            Builtin::Category => Kind::Path,
            Builtin::Price | Builtin::Rating | Builtin::ReviewCount | Builtin::Popularity => Kind::Number,
            Builtin::InStock => Kind::Boolean,
            Builtin::UpdatedAt => Kind::Date,
        }
    }
}

/// A value of a built-in field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A keyword or a path.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
}

/// A filter over the built-in fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// Every part holds.
    And(Vec<Resolved>),
    /// Any part holds.
    Or(Vec<Resolved>),
    /// The part does not hold (documents without the field included).
    Not(Box<Resolved>),
    /// The field equals one of the values (a path: is the value or below it).
    AnyOf(Builtin, Vec<Value>),
    /// The field's number (a date: Unix seconds) lies in the range.
    Range(Builtin, Bound<f64>, Bound<f64>),
    /// The document has the field.
    Exists(Builtin),
}

impl Filter {
    /// Resolves every condition against the built-in fields; the error names the column of the
    /// attribute or value at fault and what was expected there.
    pub fn resolve(&self) -> Result<Resolved, FilterError> {
        Ok(match self {
            Filter::And(parts) => Resolved::And(parts.iter().map(Filter::resolve).collect::<Result<_, _>>()?),
            Filter::Or(parts) => Resolved::Or(parts.iter().map(Filter::resolve).collect::<Result<_, _>>()?),
            Filter::Not(part) => Resolved::Not(Box::new(part.resolve()?)),
            Filter::Condition(c) => {
                let field = Builtin::of(&c.field.text).ok_or_else(|| {
                    let known: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
                    error(
                        &c.field,
                        format!("`{}` is not filterable; filterable attributes: {}", c.field.text, known.join(", ")),
                    )
                })?;
                condition(field, &c.field, &c.op)?
            }
        })
    }
}

fn error(at: &Token, message: String) -> FilterError {
    FilterError { column: at.column.max(1), message, path: String::new() }
}

fn not(r: Resolved) -> Resolved {
    Resolved::Not(Box::new(r))
}

fn condition(field: Builtin, name: &Token, op: &Op) -> Result<Resolved, FilterError> {
    let kind = field.kind();
    let ordered = matches!(kind, Kind::Number | Kind::Date);
    let refuse = |what: &str| {
        let kind_name = match kind {
            Kind::Keyword => "a keyword",
            Kind::Path => "a category path",
            Kind::Number => "a number",
            Kind::Boolean => "true or false",
            Kind::Date => "a date",
        };
        Err(error(name, format!("`{}` holds {kind_name}: {what} does not apply to it", field.name())))
    };
    let equal = |values: &[Token]| -> Result<Resolved, FilterError> {
        if ordered {
            let parts = values
                .iter()
                .map(|v| number(field, v).map(|n| Resolved::Range(field, Bound::Included(n), Bound::Included(n))))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Resolved::Or(parts));
        }
        let values = values.iter().map(|v| typed(field, v)).collect::<Result<Vec<_>, _>>()?;
        Ok(Resolved::AnyOf(field, values))
    };
    let range = |lower: Bound<&Token>, upper: Bound<&Token>| -> Result<Resolved, FilterError> {
        if !ordered {
            return refuse("a range");
        }
        let bound = |b: Bound<&Token>| -> Result<Bound<f64>, FilterError> {
            Ok(match b {
                Bound::Included(t) => Bound::Included(number(field, t)?),
                Bound::Excluded(t) => Bound::Excluded(number(field, t)?),
                Bound::Unbounded => Bound::Unbounded,
            })
        };
        Ok(Resolved::Range(field, bound(lower)?, bound(upper)?))
    };
    Ok(match op {
        Op::Equal(v) => single(equal(std::slice::from_ref(v))?),
        Op::NotEqual(v) => not(single(equal(std::slice::from_ref(v))?)),
        Op::In(values) => single(equal(values)?),
        Op::NotIn(values) => not(single(equal(values)?)),
        Op::Greater(v) => range(Bound::Excluded(v), Bound::Unbounded)?,
        Op::GreaterOrEqual(v) => range(Bound::Included(v), Bound::Unbounded)?,
        Op::Less(v) => range(Bound::Unbounded, Bound::Excluded(v))?,
        Op::LessOrEqual(v) => range(Bound::Unbounded, Bound::Included(v))?,
        Op::Between { from, to } => range(Bound::Included(from), Bound::Included(to))?,
        Op::Exists | Op::IsNotNull => Resolved::Exists(field),
        Op::NotExists | Op::IsNull => not(Resolved::Exists(field)),
        // Empty text and empty paths are not stored: empty is absent.
        Op::IsEmpty | Op::IsNotEmpty if !matches!(kind, Kind::Keyword | Kind::Path) => {
            return refuse("IS EMPTY");
        }
        Op::IsEmpty => not(Resolved::Exists(field)),
        Op::IsNotEmpty => Resolved::Exists(field),
    })
}

/// An `OR` of one part is the part.
fn single(r: Resolved) -> Resolved {
    match r {
        Resolved::Or(mut parts) if parts.len() == 1 => parts.pop().unwrap_or(Resolved::Or(Vec::new())),
        other => other,
    }
}

fn typed(field: Builtin, v: &Token) -> Result<Value, FilterError> {
    match field.kind() {
        Kind::Boolean => match v.text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(error(v, format!("`{}` is true or false, not `{}`", field.name(), v.text))),
        },
        _ => Ok(Value::Text(v.text.clone())),
    }
}

fn number(field: Builtin, v: &Token) -> Result<f64, FilterError> {
    if field.kind() == Kind::Date {
        if let Ok(seconds) = v.text.parse::<i64>() {
            return Ok(seconds as f64);
        }
        return time::OffsetDateTime::parse(&v.text, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp() as f64)
            .map_err(|_| {
                error(v, format!("`{}` takes a date (RFC 3339, or Unix seconds), not `{}`", field.name(), v.text))
            });
    }
    v.text
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| error(v, format!("`{}` takes a number, not `{}`", field.name(), v.text)))
}
