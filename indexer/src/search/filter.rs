//! The filter language compiled to Tantivy queries: keywords and paths as terms (a facet's root
//! term is there whenever the field has a value), numbers and dates as range queries on their
//! fast fields, `NOT` as "everything but". Declared attributes live in one JSON field: keywords
//! and booleans as terms under the attribute's path, numbers and dates (as `f64` seconds) as
//! ranges over its fast column, presence, `null` and emptiness as `attr_state` terms.

use std::ops::Bound;

use searchd_catalog::filter::{Builtin, Field, Resolved, Value};
use tantivy::Term;
use tantivy::query::{AllQuery, BooleanQuery, EmptyQuery, ExistsQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Facet, IndexRecordOption};

use crate::ProductIndex;
use crate::schema::{Fields, attr_marker};

impl ProductIndex {
    /// The query matching exactly the products `filter` holds for.
    /// Declared attributes are read under settings generation `generation`.
    pub(super) fn filter_query(&self, filter: &Resolved, generation: u64) -> Box<dyn Query> {
        let f = &self.fields;
        compile(&Compiler { builtins: Some(f), attrs: f.attrs, attr_state: f.attr_state, generation }, filter)
    }
}

/// The query matching exactly the documents `filter` (on declared attributes only) holds for,
/// over an index with an attributes JSON field and its `attr_state` field: what vendor search
/// shares with products.
pub(crate) fn attribute_filter(
    attrs: tantivy::schema::Field,
    attr_state: tantivy::schema::Field,
    filter: &Resolved,
    generation: u64,
) -> Box<dyn Query> {
    compile(&Compiler { builtins: None, attrs, attr_state, generation }, filter)
}

struct Compiler<'a> {
    /// The product fields, for the built-in ones; `None` where there are none (vendors).
    builtins: Option<&'a Fields>,
    attrs: tantivy::schema::Field,
    attr_state: tantivy::schema::Field,
    generation: u64,
}

fn compile(c: &Compiler<'_>, filter: &Resolved) -> Box<dyn Query> {
    match filter {
        Resolved::And(parts) => {
            // `a AND NOT b` excludes b's matches from a's; only an AND of negations alone
            // starts from every document.
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = parts
                .iter()
                .map(|p| match p {
                    Resolved::Not(inner) => (Occur::MustNot, compile(c, inner)),
                    p => (Occur::Must, compile(c, p)),
                })
                .collect();
            if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            Box::new(BooleanQuery::new(clauses))
        }
        Resolved::Or(parts) if parts.is_empty() => Box::new(EmptyQuery),
        Resolved::Or(parts) => {
            Box::new(BooleanQuery::new(parts.iter().map(|p| (Occur::Should, compile(c, p))).collect()))
        }
        Resolved::Not(part) => {
            Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, compile(c, part))]))
        }
        Resolved::AnyOf(field, values) => {
            let terms: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .filter_map(|v| match field {
                    Field::Builtin(b) => term(c.builtins?, *b, v),
                    Field::Attribute(name, _) => Some(attribute_term(c, name, v)),
                })
                .map(|t| (Occur::Should, t))
                .collect();
            if terms.is_empty() { Box::new(EmptyQuery) } else { Box::new(BooleanQuery::new(terms)) }
        }
        Resolved::Range(Field::Builtin(b), lower, upper) => match c.builtins {
            Some(f) => range(f, *b, *lower, *upper),
            None => Box::new(EmptyQuery),
        },
        Resolved::Range(Field::Attribute(name, _), lower, upper) => {
            let term = |v: f64| {
                let mut term = Term::from_field_json_path(c.attrs, &attr_marker(c.generation, name), false);
                term.append_type_and_fast_value(v);
                term
            };
            Box::new(RangeQuery::new(lower.map(term), upper.map(term)))
        }
        Resolved::Exists(Field::Builtin(b)) => match c.builtins {
            Some(f) => exists(f, *b),
            None => Box::new(EmptyQuery),
        },
        Resolved::Exists(Field::Attribute(name, _)) => state(c, attr_marker(c.generation, name)),
        Resolved::IsNull(field) => {
            state(c, format!("{}{}", attr_marker(c.generation, field.name()), crate::schema::NULL))
        }
        Resolved::IsEmpty(field) => {
            state(c, format!("{}{}", attr_marker(c.generation, field.name()), crate::schema::EMPTY))
        }
    }
}

/// A keyword or boolean value of a declared attribute.
fn attribute_term(c: &Compiler<'_>, name: &str, value: &Value) -> Box<dyn Query> {
    let mut term = Term::from_field_json_path(c.attrs, &attr_marker(c.generation, name), false);
    match value {
        Value::Text(text) => term.append_type_and_str(text),
        Value::Bool(b) => term.append_type_and_fast_value(*b),
    }
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// Documents whose `attr_state` holds `token`.
fn state(c: &Compiler<'_>, token: String) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(c.attr_state, &token), IndexRecordOption::Basic))
}

/// The term of one value: a facet path for brand and category, the code for language and
/// currency (in capitals), the boolean for stock. `None` for a value no product can hold (an empty path).
fn term(f: &Fields, field: Builtin, value: &Value) -> Option<Box<dyn Query>> {
    let term = match (field, value) {
        (Builtin::Brand, Value::Text(brand)) => {
            let brand = brand.trim();
            (!brand.is_empty()).then(|| Term::from_facet(f.brand, &Facet::from_path([brand])))?
        }
        (Builtin::Category, Value::Text(path)) => {
            let segments = searchd_catalog::path_segments(path);
            if segments.iter().any(|s| s.is_empty()) {
                return None;
            }
            Term::from_facet(f.category, &Facet::from_path(segments))
        }
        (Builtin::Language, Value::Text(code)) => Term::from_field_text(f.language, code),
        (Builtin::Currency, Value::Text(code)) => Term::from_field_text(f.currency, &code.trim().to_ascii_uppercase()),
        (Builtin::InStock, Value::Bool(b)) => Term::from_field_bool(f.in_stock, *b),
        _ => return None,
    };
    Some(Box::new(TermQuery::new(term, IndexRecordOption::Basic)))
}

/// A range over a numeric fast field; whole-number fields get their bounds rounded inwards.
fn range(f: &Fields, field: Builtin, lower: Bound<f64>, upper: Bound<f64>) -> Box<dyn Query> {
    let float = |field| {
        let term = |v: f64| Term::from_field_f64(field, v);
        Box::new(RangeQuery::new(lower.map(term), upper.map(term))) as Box<dyn Query>
    };
    match field {
        Builtin::Price => float(f.price),
        Builtin::Rating => float(f.rating),
        Builtin::Popularity => float(f.popularity),
        Builtin::ReviewCount => {
            // Counts are ≥ 0: a range wholly below 0 matches nothing, one reaching below starts at 0.
            let (Some(low), Some(high)) = (whole_lower(lower), whole_upper(upper)) else {
                return Box::new(EmptyQuery);
            };
            let low = low.max(0);
            if high < low {
                return Box::new(EmptyQuery);
            }
            let term = |v: i64| Term::from_field_u64(f.review_count, v as u64);
            Box::new(RangeQuery::new(Bound::Included(term(low)), high_bound(high, term)))
        }
        Builtin::UpdatedAt => {
            let (Some(low), Some(high)) = (whole_lower(lower), whole_upper(upper)) else {
                return Box::new(EmptyQuery);
            };
            if high < low {
                return Box::new(EmptyQuery);
            }
            let term = |v: i64| Term::from_field_i64(f.updated_at, v);
            let low = if low == i64::MIN { Bound::Unbounded } else { Bound::Included(term(low)) };
            Box::new(RangeQuery::new(low, high_bound(high, term)))
        }
        // Not ordered: refused when the filter was resolved.
        _ => Box::new(EmptyQuery),
    }
}

fn high_bound(high: i64, term: impl Fn(i64) -> Term) -> Bound<Term> {
    if high == i64::MAX { Bound::Unbounded } else { Bound::Included(term(high)) }
}

/// The smallest whole number in the range's lower bound (`i64::MIN` for none); `None` when no
/// whole number can be.
fn whole_lower(b: Bound<f64>) -> Option<i64> {
    let v = match b {
        Bound::Unbounded => return Some(i64::MIN),
        Bound::Included(v) => v.ceil(),
        Bound::Excluded(v) => v.floor() + 1.0,
    };
    if v > i64::MAX as f64 { None } else { Some(v.max(i64::MIN as f64) as i64) }
}

/// The largest whole number in the range's upper bound (`i64::MAX` for none).
fn whole_upper(b: Bound<f64>) -> Option<i64> {
    let v = match b {
        Bound::Unbounded => return Some(i64::MAX),
        Bound::Included(v) => v.floor(),
        Bound::Excluded(v) => v.ceil() - 1.0,
    };
    if v < i64::MIN as f64 { None } else { Some(v.min(i64::MAX as f64) as i64) }
}

/// Products that have the field.
fn exists(f: &Fields, field: Builtin) -> Box<dyn Query> {
    match field {
        Builtin::Brand => Box::new(TermQuery::new(Term::from_facet(f.brand, &Facet::root()), IndexRecordOption::Basic)),
        Builtin::Category => {
            Box::new(TermQuery::new(Term::from_facet(f.category, &Facet::root()), IndexRecordOption::Basic))
        }
        Builtin::Price => Box::new(ExistsQuery::new(crate::schema::PRICE.into(), false)),
        Builtin::Rating => Box::new(ExistsQuery::new(crate::schema::RATING.into(), false)),
        Builtin::UpdatedAt => Box::new(ExistsQuery::new(crate::schema::UPDATED_AT.into(), false)),
        Builtin::Currency => Box::new(ExistsQuery::new(crate::schema::CURRENCY.into(), false)),
        // Every product has these.
        Builtin::ReviewCount | Builtin::Popularity | Builtin::InStock | Builtin::Language => Box::new(AllQuery),
    }
}
