//! Vendor search requests: text, distance from a point, radius, box, category.

use crate::geo::GeoRect;
use crate::{Error, GeoPoint, MAX_PER_PAGE, MAX_RESULT_WINDOW, Result, Vendor};

/// How vendor hits are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VendorSort {
    /// Text relevance (every hit scores the same without `q`), nearer first on ties.
    #[default]
    Relevance,
    /// Nearest to `near` first.
    Distance,
}

impl std::str::FromStr for VendorSort {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "relevance" => Ok(Self::Relevance),
            "distance" => Ok(Self::Distance),
            other => Err(Error::invalid("sort", format!("unknown sort `{other}`, expected relevance or distance"))),
        }
    }
}

/// `GET /v1/vendors/search`.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorSearchRequest {
    pub q: String,
    /// The point distances are measured from (and sorted by).
    pub near: Option<GeoPoint>,
    /// Only vendors within this many kilometres of `near`.
    pub radius_km: Option<f64>,
    /// Only vendors inside this box (`min_lon > max_lon` crosses the antimeridian).
    pub bbox: Option<GeoRect>,
    /// Only vendors supplying this category path or one below it (`Tools`, `Tools/Drills`).
    pub category: Option<String>,
    pub sort: VendorSort,
    pub page: usize,
    pub per_page: usize,
}

impl Default for VendorSearchRequest {
    fn default() -> Self {
        Self {
            q: String::new(),
            near: None,
            radius_km: None,
            bbox: None,
            category: None,
            sort: VendorSort::Relevance,
            page: 1,
            per_page: 20,
        }
    }
}

impl VendorSearchRequest {
    /// Checks the combination of parameters, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        if let Some(near) = self.near {
            near.validate().map_err(|e| Error::invalid("near", e.to_string()))?;
        }
        if let Some(r) = self.radius_km {
            if !r.is_finite() || r <= 0.0 {
                return Err(Error::invalid("radius_km", "must be a number > 0"));
            }
            if self.near.is_none() {
                return Err(Error::invalid("radius_km", "needs `near`, the point the radius is around"));
            }
        }
        if self.sort == VendorSort::Distance && self.near.is_none() {
            return Err(Error::invalid("sort", "sorting by distance needs `near`"));
        }
        if let Some(bbox) = &self.bbox {
            bbox.validate("bbox")?;
        }
        if self.category.as_deref().is_some_and(|c| c.split('/').any(|s| s.trim().is_empty())) {
            return Err(Error::invalid("category", "path segments must not be empty"));
        }
        if self.page == 0 {
            return Err(Error::invalid("page", "pages start at 1"));
        }
        if self.per_page == 0 || self.per_page > MAX_PER_PAGE {
            return Err(Error::invalid("per_page", format!("must be between 1 and {MAX_PER_PAGE}")));
        }
        if self.page * self.per_page > MAX_RESULT_WINDOW {
            return Err(Error::invalid("page", format!("page × per_page must be at most {MAX_RESULT_WINDOW}")));
        }
        Ok(())
    }
}

/// One vendor found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VendorHit {
    pub vendor: Vendor,
    /// Great-circle distance from `near`, kilometres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub score: f32,
}

/// A page of vendors.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VendorSearchResponse {
    pub total_hits: u64,
    pub page: usize,
    pub per_page: usize,
    pub hits: Vec<VendorHit>,
    pub took_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_bad_parameter() {
        let at = Some(GeoPoint { lat: 1.0, lon: 2.0 });
        let bad = |r: VendorSearchRequest| r.validate().unwrap_err().param().to_string();
        assert_eq!(bad(VendorSearchRequest { radius_km: Some(5.0), ..Default::default() }), "radius_km");
        assert_eq!(bad(VendorSearchRequest { near: at, radius_km: Some(0.0), ..Default::default() }), "radius_km");
        assert_eq!(bad(VendorSearchRequest { sort: VendorSort::Distance, ..Default::default() }), "sort");
        assert_eq!(
            bad(VendorSearchRequest { near: Some(GeoPoint { lat: 95.0, lon: 0.0 }), ..Default::default() }),
            "near"
        );
        let flipped = GeoRect { min_lat: 5.0, min_lon: 0.0, max_lat: 1.0, max_lon: 1.0 };
        assert_eq!(bad(VendorSearchRequest { bbox: Some(flipped), ..Default::default() }), "bbox");
        VendorSearchRequest { near: at, radius_km: Some(10.0), sort: VendorSort::Distance, ..Default::default() }
            .validate()
            .unwrap();
    }
}
