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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    #[schema(
        max_length = 512,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    /// Unique within the catalog: no control characters, at most 512 bytes.
    pub id: String,
    #[serde(default)]
    /// Orders writes to the same id: a version not above the one held changes nothing; 0 lets the
    /// indexer assign the next one.
    pub version: u64,
    #[schema(pattern = "\\S")]
    /// What the product is called; searched with the highest weight.
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    /// Free text, searched and highlighted.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Searched, and counted by the `brand` facet.
    pub brand: Option<String>,
    /// Category path from the root, e.g. `["Tools", "Power Tools", "Drills"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    /// Price in `currency`, ≥ 0.
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// ISO 4217 code (`EUR`, `USD`): three letters, held in capitals.
    pub currency: Option<String>,
    /// Average rating, 0 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 5)]
    pub rating: Option<f64>,
    #[serde(default)]
    /// Reviews behind `rating`; the Bayesian average of the rating weighs them.
    pub review_count: u64,
    /// A non-negative popularity signal (sales, views); ranking uses its logarithm.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub popularity: f64,
    #[serde(default = "default_true")]
    /// Out-of-stock products rank lower (`ranking.out_of_stock`); `true` when absent.
    pub in_stock: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object, example = json!({"colour": ["red", "blue"], "size": "M", "specs": {"voltage": 18}}))]
    /// Other attributes: strings, numbers, booleans, nulls, lists of them, and one level of
    /// nested objects (`specs.voltage`). Declared ones (settings) are held in their type and can
    /// be filtered, faceted and sorted on; the rest are stored and returned as given.
    pub attributes: crate::attributes::Attributes,
    /// ISO 639-1 code (`en`, `de`); detected from the text when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    /// When the product last changed (RFC 3339); freshness reads it.
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
        if let Some(currency) = &self.currency {
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(Error::document("currency", "must be a three-letter ISO 4217 code such as `EUR`"));
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
        crate::attributes::validate(&self.attributes)
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    #[schema(minimum = -90, maximum = 90, example = 52.52)]
    /// Latitude, -90 to 90.
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180, example = 13.405)]
    /// Longitude, -180 to 180.
    pub lon: f64,
}

impl GeoPoint {
    /// Checks the ranges; the error names `lat` or `lon`.
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

/// A supplier of the marketplace: what it makes or does, where it is and how far it serves.
/// Other services match requests for information against vendors by these fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    #[schema(
        max_length = 512,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    /// Unique among vendors: no control characters, at most 512 bytes.
    pub id: String,
    /// Orders writes to the same id, as for products; 0 lets the indexer assign the next one.
    #[serde(default)]
    pub version: u64,
    #[schema(pattern = "\\S")]
    /// The vendor's name; searched.
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    /// Free text, searched.
    pub description: String,
    /// Category paths the vendor supplies, `/`-separated (`Tools/Power Tools`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// What the vendor can do, in its own words ("CNC milling of aluminium up to 2 m").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub capabilities: String,
    /// Short capability tags (`cnc`, `iso-9001`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Where the vendor is; distances are measured from here.
    pub location: GeoPoint,
    /// How far from its location (and from a branch without its own radius) the vendor
    /// delivers or works, kilometres.
    #[schema(exclusive_minimum = 0)]
    pub service_radius_km: f64,
    /// Other branches, each with its own service radius or the vendor's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<crate::zones::Branch>,
    /// Delivery zones: GeoJSON `Polygon` or `MultiPolygon` geometries (`[lon, lat]` positions;
    /// a zone may cross the antimeridian, an edge going the short way round).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>, example = json!([{"type": "Polygon", "coordinates": [[[170.0, -10.0], [-170.0, -10.0], [-170.0, 10.0], [170.0, 10.0], [170.0, -10.0]]]}]))]
    pub service_areas: Vec<geojson::Geometry>,
    /// Average rating, 0 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 5)]
    pub rating: Option<f64>,
    #[serde(default)]
    /// Reviews behind `rating`.
    pub review_count: u64,
    /// Typical time to answer a request, hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub response_time_hours: Option<f64>,
    /// Whether the vendor takes new work now (capacity left).
    #[serde(default = "default_true")]
    pub available: bool,
    /// Languages the vendor works in (ISO 639-1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    /// When the vendor last changed (RFC 3339).
    pub updated_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object, example = json!({"certifications": ["iso-9001"], "payment_terms": "net-30", "min_order": 500}))]
    /// Other attributes, shaped as a product's: declared ones (the settings' `vendors` section)
    /// are held in their type and can be filtered on in vendor search and matching.
    pub attributes: crate::attributes::Attributes,
}

impl Vendor {
    /// A vendor with an id, a name, a location and a service radius; every other field at its
    /// default.
    pub fn new(id: impl Into<String>, name: impl Into<String>, location: GeoPoint, service_radius_km: f64) -> Self {
        Self {
            id: id.into(),
            version: 0,
            name: name.into(),
            description: String::new(),
            categories: Vec::new(),
            capabilities: String::new(),
            tags: Vec::new(),
            location,
            service_radius_km,
            locations: Vec::new(),
            service_areas: Vec::new(),
            rating: None,
            review_count: 0,
            response_time_hours: None,
            available: true,
            languages: Vec::new(),
            updated_at: None,
            attributes: BTreeMap::new(),
        }
    }

    /// Makes the lists sets, as they mean: each category path (compared with its segments
    /// trimmed), tag and language (compared ignoring case and surrounding spaces) once, where it
    /// first appears. A vendor listed twice under a category would otherwise count twice in
    /// matching's category fit and its text twice in search.
    pub fn normalize(&mut self) {
        fn once(list: &mut Vec<String>, key: impl Fn(&str) -> String) {
            let mut seen = std::collections::HashSet::new();
            list.retain(|item| seen.insert(key(item)));
        }
        once(&mut self.categories, |c| c.split('/').map(str::trim).collect::<Vec<_>>().join("/"));
        once(&mut self.tags, |t| t.trim().to_lowercase());
        once(&mut self.languages, |l| l.trim().to_lowercase());
    }

    /// Where the vendor serves: its location and branches with their radii, and its zones;
    /// the error names the branch or zone at fault.
    pub fn coverage(&self) -> Result<crate::zones::Coverage> {
        use crate::zones::{MAX_BRANCHES, MAX_SERVICE_AREAS, MAX_ZONE_VERTICES, Zone};
        if self.locations.len() > MAX_BRANCHES {
            return Err(Error::document("locations", format!("at most {MAX_BRANCHES} branches")));
        }
        if self.service_areas.len() > MAX_SERVICE_AREAS {
            return Err(Error::document("service_areas", format!("at most {MAX_SERVICE_AREAS} zones")));
        }
        let mut branches = vec![(self.location, self.service_radius_km)];
        for (i, branch) in self.locations.iter().enumerate() {
            branch.validate(&format!("locations[{i}]"))?;
            branches.push((branch.point(), branch.radius_km.unwrap_or(self.service_radius_km)));
        }
        let zones = self
            .service_areas
            .iter()
            .enumerate()
            .map(|(i, area)| Zone::from_geometry(area, &format!("service_areas[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        if zones.iter().map(Zone::vertices).sum::<usize>() > MAX_ZONE_VERTICES {
            return Err(Error::document("service_areas", format!("at most {MAX_ZONE_VERTICES} vertices in all")));
        }
        Ok(crate::zones::Coverage { branches, zones })
    }

    /// Checks what the type system cannot, naming the field at fault.
    pub fn validate(&self) -> Result<()> {
        validate_id(&self.id)?;
        if self.name.trim().is_empty() {
            return Err(Error::document("name", "must not be empty"));
        }
        self.location.validate().map_err(|e| Error::document(format!("location.{}", e.param()), e.to_string()))?;
        if !self.service_radius_km.is_finite() || self.service_radius_km <= 0.0 {
            return Err(Error::document("service_radius_km", "must be a finite number > 0"));
        }
        self.coverage()?;
        if self.rating.is_some_and(|r| !(0.0..=5.0).contains(&r)) {
            return Err(Error::document("rating", "must be between 0 and 5"));
        }
        if self.response_time_hours.is_some_and(|h| !h.is_finite() || h < 0.0) {
            return Err(Error::document("response_time_hours", "must be a finite number ≥ 0"));
        }
        if self.categories.iter().any(|c| c.split('/').any(|s| s.trim().is_empty())) {
            return Err(Error::document("categories", "paths must not have empty segments"));
        }
        if let Some(bad) = self.languages.iter().find(|l| l.len() != 2 || !l.bytes().all(|b| b.is_ascii_lowercase())) {
            return Err(Error::document("languages", format!("`{bad}` is not an ISO 639-1 code")));
        }
        crate::attributes::validate(&self.attributes)
    }
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
    fn vendor_lists_are_sets_in_first_seen_order() {
        let at = GeoPoint { lat: 45.76, lon: 4.84 };
        let mut v = Vendor::new("v", "Lyon Espresso", at, 15.0);
        v.categories =
            vec!["Kitchen/Coffee".into(), "Kitchen / Coffee".into(), "Home/Lighting".into(), "Kitchen/Coffee".into()];
        v.tags = vec!["barista".into(), "Barista ".into(), "service".into()];
        v.languages = vec!["en".into(), "fr".into(), "en".into()];
        v.normalize();
        assert_eq!(v.categories, ["Kitchen/Coffee", "Home/Lighting"]);
        assert_eq!(v.tags, ["barista", "service"]);
        assert_eq!(v.languages, ["en", "fr"]);
    }

    #[test]
    fn vendors_validate_naming_the_field() {
        let at = GeoPoint { lat: 52.52, lon: 13.40 };
        let v: Vendor = serde_json::from_str(
            r#"{"id":"v1","name":"Berlin CNC","location":{"lat":52.52,"lon":13.4},"service_radius_km":50,
                "categories":["Industrial/Machining"],"tags":["cnc"],"languages":["de","en"]}"#,
        )
        .unwrap();
        assert!(v.available, "available by default");
        v.validate().unwrap();
        let field = |v: Vendor| v.validate().unwrap_err().param().to_string();
        assert_eq!(field(Vendor::new("v", " ", at, 5.0)), "name");
        assert_eq!(field(Vendor::new("v", "x", at, 0.0)), "service_radius_km");
        assert_eq!(field(Vendor::new("v", "x", at, f64::NAN)), "service_radius_km");
        assert_eq!(field(Vendor::new("v", "x", GeoPoint { lat: 91.0, lon: 0.0 }, 5.0)), "location.lat");
        assert_eq!(field(Vendor::new("v", "x", GeoPoint { lat: 0.0, lon: -181.0 }, 5.0)), "location.lon");
        let mut v = Vendor::new("v", "x", at, 5.0);
        v.languages = vec!["deu".into()];
        assert_eq!(field(v), "languages");
        let err = serde_json::from_str::<Vendor>(r#"{"id":"v","name":"x","service_radius_km":5}"#).unwrap_err();
        assert!(err.to_string().contains("location"), "{err}");
    }

    #[test]
    fn updated_at_round_trips_as_rfc3339() {
        let p: Product = serde_json::from_str(r#"{"id":"1","title":"x","updated_at":"2024-05-01T10:00:00Z"}"#).unwrap();
        assert_eq!(p.updated_at.unwrap().unix_timestamp(), 1_714_557_600);
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("2024-05-01T10:00:00Z"), "{json}");
    }
}
