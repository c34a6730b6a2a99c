//! Attributes: what a product carries beyond the built-in fields, and the settings that declare
//! them.
//!
//! A product's `attributes` is an object of values: strings, numbers, booleans, `null`, arrays of
//! strings or numbers, and one level of nested objects, addressed with a dot (`specs.voltage`).
//! Undeclared attributes are stored and returned as given. A declared attribute has a type
//! ([`AttributeType`]) and says what it is for (filterable, facetable, sortable); the index
//! holds its values in that type, and a product whose value contradicts the type is refused with
//! an error naming the attribute, the value and the type.
//!
//! ```
//! use searchd_catalog::attributes::{AttributeType, Attributes, Typed};
//!
//! let attributes: Attributes = serde_json::from_str(
//!     r#"{"colour": ["red", "blue"], "specs": {"voltage": "18"}}"#,
//! ).unwrap();
//! let voltage = searchd_catalog::attributes::lookup(&attributes, "specs.voltage").unwrap();
//! // CSV cells are text: a number attribute takes text that reads as a number.
//! assert_eq!(AttributeType::Number.values("specs.voltage", voltage).unwrap(), [Typed::Number(18.0)]);
//! let error = AttributeType::Boolean.values("colour", &attributes["colour"]).unwrap_err();
//! assert_eq!(error.to_string(), r#"invalid document field `attributes.colour`: "red" is not a boolean"#);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// A product's attributes, as given.
pub type Attributes = BTreeMap<String, Value>;

/// Longest attribute name (a dotted path), in bytes.
pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 128;
/// Longest keyword value, in bytes.
pub const MAX_KEYWORD_BYTES: usize = 1024;
/// Most values one attribute may hold.
pub const MAX_VALUES: usize = 1024;
/// Longest text value, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Highest weight a searchable attribute may have (the title's is 3, the description's 1).
pub const MAX_WEIGHT: f32 = 10.0;

/// The type a declared attribute's values are held in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// Exact text (`red`, `XL`); numbers and booleans are taken as their text.
    Keyword,
    /// A number; text that reads as a number is taken (CSV cells are text).
    Number,
    /// `true` or `false` (also as text, in any case).
    Boolean,
    /// A date: RFC 3339 text, or Unix seconds.
    Date,
    /// Free text, searched by its words (stemmed in the product's language): `searchable` only.
    Text,
}

/// One value of a declared attribute, in its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// A keyword.
    Keyword(String),
    /// A number (finite).
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A date, in Unix seconds.
    Date(i64),
    /// Free text.
    Text(String),
}

impl AttributeType {
    /// The type's name in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Text => "text",
        }
    }

    /// Whether values of this type have an order (ranges, stats, sort).
    pub fn is_ordered(self) -> bool {
        matches!(self, Self::Number | Self::Date)
    }

    /// The values `value` holds in this type: none for `null`, an empty string or an empty
    /// array; the error names the attribute, the value and the type.
    pub fn values(self, name: &str, value: &Value) -> Result<Vec<Typed>> {
        let items: &[Value] = match value {
            Value::Array(items) => items,
            Value::Object(_) => {
                return Err(Error::document(
                    format!("attributes.{name}"),
                    format!("an object is not a {}", self.as_str()),
                ));
            }
            one => std::slice::from_ref(one),
        };
        if items.len() > MAX_VALUES {
            return Err(Error::document(format!("attributes.{name}"), format!("holds more than {MAX_VALUES} values")));
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(typed) = self.value(name, item)? {
                out.push(typed);
            }
        }
        Ok(out)
    }

    fn value(self, name: &str, value: &Value) -> Result<Option<Typed>> {
        let refuse = || Error::document(format!("attributes.{name}"), format!("{value} is not a {}", self.as_str()));
        let text = match value {
            Value::Null => return Ok(None),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => s.trim(),
            Value::Array(_) | Value::Object(_) => {
                return Err(Error::document(
                    format!("attributes.{name}"),
                    format!("a nested list or object is not a {}", self.as_str()),
                ));
            }
            _ => "",
        };
        Ok(Some(match self {
            Self::Keyword | Self::Text => {
                let keyword = match value {
                    Value::String(_) => text.to_string(),
                    other => other.to_string(),
                };
                let most = if self == Self::Keyword { MAX_KEYWORD_BYTES } else { MAX_TEXT_BYTES };
                if keyword.len() > most {
                    return Err(Error::document(
                        format!("attributes.{name}"),
                        format!("a {} is at most {most} bytes", self.as_str()),
                    ));
                }
                if self == Self::Text { Typed::Text(keyword) } else { Typed::Keyword(keyword) }
            }
            Self::Number => {
                let n = match value {
                    Value::Number(n) => n.as_f64(),
                    Value::String(_) => text.parse::<f64>().ok(),
                    _ => None,
                };
                Typed::Number(n.filter(|n| n.is_finite()).ok_or_else(refuse)?)
            }
            Self::Boolean => match value {
                Value::Bool(b) => Typed::Bool(*b),
                Value::String(_) if text.eq_ignore_ascii_case("true") => Typed::Bool(true),
                Value::String(_) if text.eq_ignore_ascii_case("false") => Typed::Bool(false),
                _ => return Err(refuse()),
            },
            Self::Date => match value {
                Value::Number(n) => Typed::Date(n.as_i64().ok_or_else(refuse)?),
                Value::String(_) => Typed::Date(
                    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                        .map(|t| t.unix_timestamp())
                        .or_else(|_| text.parse::<i64>())
                        .map_err(|_| refuse())?,
                ),
                _ => return Err(refuse()),
            },
        }))
    }
}

/// How a declared attribute is held and used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeSettings {
    /// The type its values are held in.
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// Usable in `filter`.
    #[serde(default)]
    pub filterable: bool,
    /// Countable in `facets`.
    #[serde(default)]
    pub facetable: bool,
    /// Usable in `sort`.
    #[serde(default)]
    pub sortable: bool,
    /// Its words are matched by `q` (keyword and text attributes).
    #[serde(default)]
    pub searchable: bool,
    /// How much a word matched in it counts, as the built-in fields' weights do (title 3, brand
    /// 2, category 1.5, description 1); 1 when not given. Changing it applies at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10)]
    pub weight: Option<f32>,
}

impl AttributeSettings {
    /// A filterable and facetable attribute of type `kind`, sortable unless a keyword.
    pub fn filterable(kind: AttributeType) -> Self {
        Self {
            kind,
            filterable: true,
            facetable: true,
            sortable: kind != AttributeType::Keyword,
            searchable: false,
            weight: None,
        }
    }

    /// A searchable attribute of type `kind` (keyword or text) with `weight`, for nothing else.
    pub fn searchable(kind: AttributeType, weight: f32) -> Self {
        Self { kind, filterable: false, facetable: false, sortable: false, searchable: true, weight: Some(weight) }
    }

    /// Whether the index holds its values (it is used for anything).
    pub fn is_indexed(&self) -> bool {
        self.filterable || self.facetable || self.sortable || self.searchable
    }

    /// Whether the index holds its values as terms and columns (filters, facets, sort).
    pub fn is_held_as_values(&self) -> bool {
        self.filterable || self.facetable || self.sortable
    }

    /// The weight of a word matched in it.
    pub fn weight(&self) -> f32 {
        self.weight.unwrap_or(1.0)
    }
}

/// The declared attributes of one kind of document, by name (a dotted path for a nested one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct AttributeSchema(pub BTreeMap<String, AttributeSettings>);

impl AttributeSchema {
    /// The settings of `name`, when it is declared.
    pub fn get(&self, name: &str) -> Option<&AttributeSettings> {
        self.0.get(name)
    }

    /// Declared attributes, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttributeSettings)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Names of the declared attributes for which `what` holds.
    pub fn names(&self, what: impl Fn(&AttributeSettings) -> bool) -> Vec<&str> {
        self.iter().filter(|(_, s)| what(s)).map(|(n, _)| n).collect()
    }

    /// Checks the names: `reserved` (the built-in fields) cannot be declared, a name is one or
    /// two segments of letters, digits, `_` and `-`, and no attribute is both a value and the
    /// object of another one (`specs` and `specs.voltage`).
    pub fn validate(&self, reserved: &[&str]) -> std::result::Result<(), String> {
        for name in self.0.keys() {
            if reserved.contains(&name.as_str()) {
                return Err(format!("`{name}` is a built-in field; attributes need names of their own"));
            }
            let segments: Vec<&str> = name.split('.').collect();
            let good = |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
            if name.len() > MAX_ATTRIBUTE_NAME_BYTES || segments.len() > 2 || !segments.iter().all(good) {
                return Err(format!(
                    "`{name}` is not an attribute name: one or two `.`-separated parts of letters, digits, `_` and `-`, \
                     at most {MAX_ATTRIBUTE_NAME_BYTES} bytes"
                ));
            }
            let settings = &self.0[name];
            if settings.sortable && settings.kind == AttributeType::Keyword {
                return Err(format!("`{name}`: sortable applies to number, date and boolean attributes"));
            }
            if settings.kind == AttributeType::Text && settings.is_held_as_values() {
                return Err(format!(
                    "`{name}`: a text attribute is searchable only; declare a keyword to filter or facet on it"
                ));
            }
            if settings.searchable && !matches!(settings.kind, AttributeType::Keyword | AttributeType::Text) {
                return Err(format!("`{name}`: searchable applies to keyword and text attributes"));
            }
            if settings.weight.is_some_and(|w| !(w > 0.0 && w <= MAX_WEIGHT)) {
                return Err(format!("`{name}`: weight is a number above 0 and at most {MAX_WEIGHT}"));
            }
            if segments.len() == 2 && self.0.contains_key(segments[0]) {
                return Err(format!("`{}` cannot be both an attribute and the object holding `{name}`", segments[0]));
            }
        }
        Ok(())
    }

    /// The declared attributes' values in `attributes`, in their types, with the names they
    /// are declared under; the error names the first attribute that contradicts its type.
    pub fn typed(&self, attributes: &Attributes) -> Result<Vec<TypedAttribute>> {
        let mut out = Vec::new();
        for (name, settings) in self.iter().filter(|(_, s)| s.is_indexed()) {
            let Some(value) = lookup(attributes, name) else { continue };
            let state = match value {
                Value::Null => State::Null,
                Value::String(s) if s.trim().is_empty() => State::Empty,
                Value::Array(a) if a.is_empty() => State::Empty,
                Value::Object(o) if o.is_empty() => State::Empty,
                _ => State::Values,
            };
            let values = if state == State::Values { settings.kind.values(name, value)? } else { Vec::new() };
            out.push(TypedAttribute { name: name.to_string(), state, values });
        }
        Ok(out)
    }
}

/// Whether a present attribute holds values, `null`, or is empty (`""`, `[]`, `{}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// It holds values (possibly only `null`s and empty strings inside an array).
    Values,
    /// It is `null`.
    Null,
    /// It is an empty string, list or object.
    Empty,
}

/// A declared attribute present in a product, and its values in the declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedAttribute {
    /// The declared name (`specs.voltage`).
    pub name: String,
    /// Null, empty or with values.
    pub state: State,
    /// The values, in the declared type.
    pub values: Vec<Typed>,
}

/// The value at `name`: a top-level attribute, or `object.key` one level down.
pub fn lookup<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a Value> {
    match name.split_once('.') {
        None => attributes.get(name),
        Some((object, key)) => attributes.get(object)?.as_object()?.get(key),
    }
}

/// Sets the value at `name` (`object.key` one level down, creating the object), as a bulk
/// file's `--map attr.specs.voltage=Volts` does.
pub fn insert(attributes: &mut Attributes, name: &str, value: Value) {
    match name.split_once('.') {
        None => {
            attributes.insert(name.to_string(), value);
        }
        Some((object, key)) => {
            let entry = attributes.entry(object.to_string()).or_insert_with(|| Value::Object(Default::default()));
            if !entry.is_object() {
                *entry = Value::Object(Default::default());
            }
            if let Value::Object(map) = entry {
                map.insert(key.to_string(), value);
            }
        }
    }
}

/// Checks a product's attributes: names without dots, at most one level of nested objects,
/// lists of plain values only.
pub fn validate(attributes: &Attributes) -> Result<()> {
    fn plain(name: &str, value: &Value) -> Result<()> {
        match value {
            Value::Array(items) => {
                if items.iter().any(|v| matches!(v, Value::Array(_) | Value::Object(_))) {
                    return Err(Error::document(
                        format!("attributes.{name}"),
                        "a list holds strings, numbers, booleans or nulls only",
                    ));
                }
                Ok(())
            }
            Value::Object(_) => {
                Err(Error::document(format!("attributes.{name}"), "objects nest one level deep at most"))
            }
            _ => Ok(()),
        }
    }
    let check_name = |name: &str, path: &str| -> Result<()> {
        if name.trim().is_empty() || name.contains('.') || name.len() > MAX_ATTRIBUTE_NAME_BYTES {
            return Err(Error::document(
                format!("attributes.{path}"),
                format!("an attribute name is non-empty, without `.`, at most {MAX_ATTRIBUTE_NAME_BYTES} bytes"),
            ));
        }
        Ok(())
    };
    for (name, value) in attributes {
        check_name(name, name)?;
        match value {
            Value::Object(object) => {
                for (key, inner) in object {
                    let path = format!("{name}.{key}");
                    check_name(key, &path)?;
                    plain(&path, inner)?;
                }
            }
            other => plain(name, other)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(json: &str) -> Attributes {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn values_take_their_declared_types_and_refusals_name_attribute_value_and_type() {
        let a = attrs(r#"{"n": [1, "2.5", " 3 "], "b": "TRUE", "d": "2026-01-02T00:00:00Z", "k": 42, "e": ""}"#);
        let n = AttributeType::Number.values("n", &a["n"]).unwrap();
        assert_eq!(n, [Typed::Number(1.0), Typed::Number(2.5), Typed::Number(3.0)]);
        assert_eq!(AttributeType::Boolean.values("b", &a["b"]).unwrap(), [Typed::Bool(true)]);
        assert_eq!(AttributeType::Date.values("d", &a["d"]).unwrap(), [Typed::Date(1_767_312_000)]);
        assert_eq!(AttributeType::Keyword.values("k", &a["k"]).unwrap(), [Typed::Keyword("42".into())]);
        assert!(AttributeType::Number.values("e", &a["e"]).unwrap().is_empty());
        let e = AttributeType::Number.values("b", &a["b"]).unwrap_err();
        assert_eq!(e.param(), "attributes.b");
        assert_eq!(e.to_string(), r#"invalid document field `attributes.b`: "TRUE" is not a number"#);
        assert!(AttributeType::Date.values("n", &a["n"]).is_err());
    }

    #[test]
    fn shapes_and_names_are_checked() {
        assert!(validate(&attrs(r#"{"specs": {"voltage": 18, "sizes": ["S", "M"]}, "tags": [1, null]}"#)).is_ok());
        let param = |json: &str| validate(&attrs(json)).unwrap_err().param().to_string();
        assert_eq!(param(r#"{"specs": {"deep": {"x": 1}}}"#), "attributes.specs.deep");
        assert_eq!(param(r#"{"tags": [[1]]}"#), "attributes.tags");
        assert_eq!(param(r#"{"a.b": 1}"#), "attributes.a.b");
        let schema = |names: &[&str]| {
            AttributeSchema(
                names.iter().map(|n| (n.to_string(), AttributeSettings::filterable(AttributeType::Keyword))).collect(),
            )
        };
        assert!(schema(&["colour", "specs.voltage"]).validate(&["brand"]).is_ok());
        assert!(schema(&["brand"]).validate(&["brand"]).unwrap_err().contains("built-in"));
        assert!(schema(&["specs", "specs.voltage"]).validate(&[]).is_err());
        assert!(schema(&["a.b.c"]).validate(&[]).is_err());
        assert!(schema(&["with space"]).validate(&[]).is_err());
    }

    #[test]
    fn typed_reports_null_empty_and_values() {
        let mut schema = BTreeMap::new();
        for name in ["a", "b", "c", "d", "o.x"] {
            schema.insert(name.to_string(), AttributeSettings::filterable(AttributeType::Keyword));
        }
        let typed = AttributeSchema(schema).typed(&attrs(r#"{"a": null, "b": [], "c": ["x", null], "o": {"x": "y"}}"#));
        let typed = typed.unwrap();
        let states: Vec<(&str, State, usize)> =
            typed.iter().map(|t| (t.name.as_str(), t.state, t.values.len())).collect();
        assert_eq!(
            states,
            [("a", State::Null, 0), ("b", State::Empty, 0), ("c", State::Values, 1), ("o.x", State::Values, 1)]
        );
    }
}
