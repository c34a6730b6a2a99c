//! Facets: which ones a search counts ([`FacetField`]), how keyword values are ordered and
//! cut, the ranges numeric ones are counted in, and what the counting answers.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A facet to count: `brand`, `category`, a numeric built-in field (`price`, `rating`,
/// `review_count`, `popularity`), or a facetable attribute. In JSON and in a query string, its
/// name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FacetField {
    /// Counts by brand.
    Brand,
    /// Counts by top-level category, or one level below the category filter when one is set.
    Category,
    /// Counts by the values of another field or attribute, or its stats when it is numeric.
    Named(String),
}

impl FacetField {
    /// The built-in facets' names.
    pub const NAMES: [&'static str; 2] = ["brand", "category"];

    /// The facet's name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Brand => "brand",
            Self::Category => "category",
            Self::Named(name) => name,
        }
    }
}

impl FromStr for FacetField {
    type Err = Error;

    /// Any name parses; whether it can be counted is decided against the settings.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "brand" => Ok(Self::Brand),
            "category" => Ok(Self::Category),
            "" => Err(Error::invalid("facets", "a facet name must not be empty")),
            other => Ok(Self::Named(other.to_string())),
        }
    }
}

impl Serialize for FacetField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FacetField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
/// One facet value and how many matching products have it.
pub struct FacetCount {
    /// The brand, or the category path segment.
    pub value: String,
    /// Matching products with that value.
    pub count: u64,
    /// A category's whole path, as the `category` filter takes it (with `category_depth` ≥ 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A category's subcategories, counted the same way (with `category_depth` ≥ 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<FacetCount>,
}

/// How a keyword facet's values are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FacetOrder {
    /// Most frequent first, ties by value.
    #[default]
    Count,
    /// By value (byte order), the first `max_values_per_facet`.
    Value,
}

impl FromStr for FacetOrder {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "count" => Ok(Self::Count),
            "value" => Ok(Self::Value),
            other => Err(Error::invalid("facet_order", format!("unknown order `{other}`, expected count or value"))),
        }
    }
}

/// A range of a numeric facet: `from` included, `to` excluded; written `from-to`, `from-`,
/// `-to`, or with `..` instead of `-` (for negative ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FacetRange {
    /// The lowest value counted, when bounded below.
    pub from: Option<f64>,
    /// The first value above the range, when bounded above.
    pub to: Option<f64>,
}

impl FacetRange {
    /// Whether `v` lies in the range.
    pub fn contains(&self, v: f64) -> bool {
        self.from.is_none_or(|f| v >= f) && self.to.is_none_or(|t| v < t)
    }
}

impl FromStr for FacetRange {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("facet_ranges", format!("`{s}` is not a range such as `0-50`, `100-` or `-5..0`"));
        let (from, to) = match s.split_once("..") {
            Some(pair) => pair,
            None => s.split_once('-').ok_or_else(bad)?,
        };
        let end = |t: &str| -> Result<Option<f64>> {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or_else(bad)
        };
        let range = FacetRange { from: end(from)?, to: end(to)? };
        if let (Some(f), Some(t)) = (range.from, range.to) {
            if f >= t {
                return Err(Error::invalid("facet_ranges", format!("`{s}`: the start must be below the end")));
            }
        }
        Ok(range)
    }
}

impl std::fmt::Display for FacetRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        let negative = self.from.is_some_and(|v| v < 0.0) || self.to.is_some_and(|v| v < 0.0);
        write!(f, "{}{}{}", end(self.from), if negative { ".." } else { "-" }, end(self.to))
    }
}

impl Serialize for FacetRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for FacetRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Stats of a numeric facet over the matching products (a list attribute counts each value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FacetStats {
    /// Values counted.
    pub count: u64,
    /// The smallest value; absent when nothing was counted.
    pub min: Option<f64>,
    /// The largest value.
    pub max: Option<f64>,
    /// The values' sum.
    pub sum: f64,
    /// The values' mean.
    pub avg: Option<f64>,
    /// Matching products with a value in each requested range, in the order asked.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ranges: Vec<RangeCount>,
}

/// Products with a value in one range of a numeric facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RangeCount {
    /// The range as asked (`0-50`).
    pub range: String,
    /// Matching products with a value in it.
    pub count: u64,
}
