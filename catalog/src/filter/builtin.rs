//! A filter resolved against the built-in product fields and the declared attributes: every
//! attribute known and filterable, every value of the type its field holds, the negative
//! operators turned into `NOT`. What the indexer compiles and what a brute-force evaluator reads.

use std::ops::Bound;

use super::{Filter, FilterError, Op, Token};
use crate::attributes::{AttributeSchema, AttributeType};

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
    /// `currency`: the ISO 4217 code of the price (`EUR`), compared in capitals; optional.
    Currency,
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
    pub const ALL: [Builtin; 10] = [
        Builtin::Brand,
        Builtin::Category,
        Builtin::Currency,
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
            Builtin::Currency => "currency",
        }
    }

    /// The field named `name`.
    pub fn of(name: &str) -> Option<Builtin> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// What the field holds.
    pub fn kind(self) -> Kind {
        match self {
            Builtin::Brand | Builtin::Language | Builtin::Currency => Kind::Keyword,
            Builtin::Category => Kind::Path,
            Builtin::Price | Builtin::Rating | Builtin::ReviewCount | Builtin::Popularity => Kind::Number,
            Builtin::InStock => Kind::Boolean,
            Builtin::UpdatedAt => Kind::Date,
        }
    }
}

/// A field a filter can name: a built-in one or a declared attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A built-in product field.
    Builtin(Builtin),
    /// A declared attribute (its dotted name) and its type.
    Attribute(String, AttributeType),
}

impl Field {
    /// The field's name in filters.
    pub fn name(&self) -> &str {
        match self {
            Field::Builtin(b) => b.name(),
            Field::Attribute(name, _) => name,
        }
    }

    /// What the field holds.
    pub fn kind(&self) -> Kind {
        match self {
            Field::Builtin(b) => b.kind(),
            // A text attribute is never filterable (settings refuse it); its words are keywords.
            Field::Attribute(_, AttributeType::Keyword | AttributeType::Text) => Kind::Keyword,
            Field::Attribute(_, AttributeType::Number) => Kind::Number,
            Field::Attribute(_, AttributeType::Boolean) => Kind::Boolean,
            Field::Attribute(_, AttributeType::Date) => Kind::Date,
        }
    }
}

/// A value of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A keyword or a path.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
}

/// A filter over the built-in fields and the declared attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// Every part holds.
    And(Vec<Resolved>),
    /// Any part holds.
    Or(Vec<Resolved>),
    /// The part does not hold (documents without the field included).
    Not(Box<Resolved>),
    /// The field equals one of the values (a path: is the value or below it; a list: any of
    /// its values does).
    AnyOf(Field, Vec<Value>),
    /// The field's number (a date: Unix seconds) lies in the range.
    Range(Field, Bound<f64>, Bound<f64>),
    /// The document has the field (for an attribute: present, even `null` or empty).
    Exists(Field),
    /// The attribute is present and `null`.
    IsNull(Field),
    /// The attribute is present and empty (`""`, `[]`, `{}`).
    IsEmpty(Field),
}

impl Resolved {
    /// Every field the filter names.
    pub fn fields(&self) -> Vec<&Field> {
        let mut out = Vec::new();
        self.visit(&mut |f| out.push(f));
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Field)) {
        match self {
            Resolved::And(parts) | Resolved::Or(parts) => parts.iter().for_each(|p| p.visit(f)),
            Resolved::Not(part) => part.visit(f),
            Resolved::AnyOf(field, _)
            | Resolved::Range(field, ..)
            | Resolved::Exists(field)
            | Resolved::IsNull(field)
            | Resolved::IsEmpty(field) => f(field),
        }
    }
}

impl Filter {
    /// Resolves every condition against the built-in fields and the filterable attributes of
    /// `attributes`; the error names the column of the attribute or value at fault and what was
    /// expected there.
    pub fn resolve(&self, attributes: &AttributeSchema) -> Result<Resolved, FilterError> {
        self.resolve_in(attributes, true)
    }

    /// Resolves every condition against the filterable attributes of `attributes` only (a
    /// vendor filter: products' built-in fields are not vendors').
    pub fn resolve_attributes(&self, attributes: &AttributeSchema) -> Result<Resolved, FilterError> {
        self.resolve_in(attributes, false)
    }

    fn resolve_in(&self, attributes: &AttributeSchema, builtins: bool) -> Result<Resolved, FilterError> {
        let all =
            |parts: &[Filter]| parts.iter().map(|p| p.resolve_in(attributes, builtins)).collect::<Result<Vec<_>, _>>();
        Ok(match self {
            Filter::And(parts) => Resolved::And(all(parts)?),
            Filter::Or(parts) => Resolved::Or(all(parts)?),
            Filter::Not(part) => Resolved::Not(Box::new(part.resolve_in(attributes, builtins)?)),
            Filter::Condition(c) => {
                let name = c.field.text.as_str();
                let field = match (Builtin::of(name).filter(|_| builtins), attributes.get(name)) {
                    (Some(b), _) => Field::Builtin(b),
                    (None, Some(a)) if a.filterable => Field::Attribute(name.to_string(), a.kind),
                    _ => {
                        let mut known: Vec<&str> =
                            if builtins { Builtin::ALL.iter().map(|b| b.name()).collect() } else { Vec::new() };
                        known.extend(attributes.names(|a| a.filterable));
                        known.sort_unstable();
                        return Err(error(
                            &c.field,
                            match known.is_empty() {
                                true => format!("`{name}` is not filterable; no attribute is declared filterable"),
                                false => {
                                    format!("`{name}` is not filterable; filterable attributes: {}", known.join(", "))
                                }
                            },
                        ));
                    }
                };
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

fn condition(field: Field, name: &Token, op: &Op) -> Result<Resolved, FilterError> {
    let kind = field.kind();
    let attribute = matches!(field, Field::Attribute(..));
    let ordered = matches!(kind, Kind::Number | Kind::Date);
    let refuse = |what: &str| {
        let kind_name = match kind {
            Kind::Keyword => "a keyword",
            Kind::Path => "a category path",
            Kind::Number => "a number",
            Kind::Boolean => "true or false",
            Kind::Date => "a date",
        };
        Err(error(name, format!("`{}` holds {kind_name}: {what} does not apply to it", name.text)))
    };
    let equal = |values: &[Token]| -> Result<Resolved, FilterError> {
        if ordered {
            let parts = values
                .iter()
                .map(|v| {
                    number(&field, v).map(|n| Resolved::Range(field.clone(), Bound::Included(n), Bound::Included(n)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Resolved::Or(parts));
        }
        let values = values.iter().map(|v| typed(&field, v)).collect::<Result<Vec<_>, _>>()?;
        Ok(Resolved::AnyOf(field.clone(), values))
    };
    let range = |lower: Bound<&Token>, upper: Bound<&Token>| -> Result<Resolved, FilterError> {
        if !ordered {
            return refuse("a range");
        }
        let bound = |b: Bound<&Token>| -> Result<Bound<f64>, FilterError> {
            Ok(match b {
                Bound::Included(t) => Bound::Included(number(&field, t)?),
                Bound::Excluded(t) => Bound::Excluded(number(&field, t)?),
                Bound::Unbounded => Bound::Unbounded,
            })
        };
        Ok(Resolved::Range(field.clone(), bound(lower)?, bound(upper)?))
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
        // An attribute may be present and null or empty, which EXISTS counts as present.
        Op::Exists => Resolved::Exists(field),
        Op::NotExists => not(Resolved::Exists(field)),
        Op::IsNull if attribute => Resolved::IsNull(field),
        Op::IsNotNull if attribute => not(Resolved::IsNull(field)),
        Op::IsEmpty if attribute => Resolved::IsEmpty(field),
        Op::IsNotEmpty if attribute => not(Resolved::IsEmpty(field)),
        // A built-in field is never null: absent is null.
        Op::IsNotNull => Resolved::Exists(field),
        Op::IsNull => not(Resolved::Exists(field)),
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

fn typed(field: &Field, v: &Token) -> Result<Value, FilterError> {
    match field.kind() {
        Kind::Boolean => match v.text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(error(v, format!("`{}` is true or false, not `{}`", field.name(), v.text))),
        },
        // Keyword attributes are held trimmed.
        Kind::Keyword if matches!(field, Field::Attribute(..)) => Ok(Value::Text(v.text.trim().to_string())),
        _ => Ok(Value::Text(v.text.clone())),
    }
}

fn number(field: &Field, v: &Token) -> Result<f64, FilterError> {
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
