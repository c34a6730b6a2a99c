use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Error, Result};

/// Longest accepted product id, in bytes.
pub const MAX_ID_BYTES: usize = 512;

/// A product of the marketplace catalog.
///
/// Only `id` and `title` are required. `version` orders writes to the same id: a write whose
/// version is not above the stored one is stale and ignored. `0` (the default) lets the indexer
/// assign the next version, which is what HTTP writes without a version do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    #[serde(default)]
    pub version: u64,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Category path from the root, e.g. `["Tools", "Power Tools", "Drills"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Average rating, 0 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<f64>,
    #[serde(default)]
    pub review_count: u64,
    /// A non-negative popularity signal (sales, views); ranking uses its logarithm.
    #[serde(default)]
    pub popularity: f64,
    #[serde(default = "default_true")]
    pub in_stock: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// ISO 639-1 code (`en`, `de`); detected from the text when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<OffsetDateTime>,
}

fn default_true() -> bool {
    true
}

impl Product {
    /// A product with just an id and a title; every other field at its default.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            version: 0,
            title: title.into(),
            description: String::new(),
            brand: None,
            category: Vec::new(),
            price: None,
            currency: None,
            rating: None,
            review_count: 0,
            popularity: 0.0,
            in_stock: true,
            attributes: BTreeMap::new(),
            language: None,
            updated_at: None,
        }
    }

    /// The category path joined with `/`.
    pub fn category_path(&self) -> String {
        self.category.join("/")
    }

    /// Checks what the type system cannot: non-empty id and title, sane numbers.
    pub fn validate(&self) -> Result<()> {
        validate_id(&self.id)?;
        if self.title.trim().is_empty() {
            return Err(Error::document("title", "must not be empty"));
        }
        if let Some(price) = self.price {
            if !price.is_finite() || price < 0.0 {
                return Err(Error::document("price", "must be a finite number ≥ 0"));
            }
        }
        if let Some(rating) = self.rating {
            if !(0.0..=5.0).contains(&rating) {
                return Err(Error::document("rating", "must be between 0 and 5"));
            }
        }
        if !self.popularity.is_finite() || self.popularity < 0.0 {
            return Err(Error::document("popularity", "must be a finite number ≥ 0"));
        }
        if self.category.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::document("category", "path segments must not be empty"));
        }
        Ok(())
    }
}

/// Checks an id as it appears in a document or a URL.
pub fn validate_id(id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::document("id", "must not be empty"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(Error::document("id", format!("must be at most {MAX_ID_BYTES} bytes")));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::document("id", "must not contain control characters"));
    }
    Ok(())
}

/// A point on Earth in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn validate(&self) -> Result<()> {
        if !(-90.0..=90.0).contains(&self.lat) {
            return Err(Error::invalid("lat", "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&self.lon) {
            return Err(Error::invalid("lon", "must be between -180 and 180"));
        }
        Ok(())
    }
}

/// A supplier of the marketplace. Indexed and searched by the vendors issue; minimal for now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    pub id: String,
    #[serde(default)]
    pub version: u64,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_radius_km: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_product_field_is_rejected_by_name() {
        let err = serde_json::from_str::<Product>(r#"{"id":"1","title":"x","colour":"red"}"#).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn validate_names_the_bad_field() {
        let mut p = Product::new("1", "Drill");
        p.price = Some(-1.0);
        assert_eq!(p.validate().unwrap_err().param(), "price");
        p.price = Some(10.0);
        p.rating = Some(7.0);
        assert_eq!(p.validate().unwrap_err().param(), "rating");
        assert_eq!(Product::new(" ", "x").validate().unwrap_err().param(), "id");
        assert_eq!(Product::new("1", " ").validate().unwrap_err().param(), "title");
    }

    #[test]
    fn updated_at_round_trips_as_rfc3339() {
        let p: Product = serde_json::from_str(r#"{"id":"1","title":"x","updated_at":"2024-05-01T10:00:00Z"}"#).unwrap();
        assert_eq!(p.updated_at.unwrap().unix_timestamp(), 1_714_557_600);
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("2024-05-01T10:00:00Z"), "{json}");
    }
}
