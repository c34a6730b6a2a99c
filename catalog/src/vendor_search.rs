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
    /// Text matched against names, capabilities, descriptions and tags; empty matches all.
    pub q: String,
    /// The point distances are measured from (and sorted by).
    pub near: Option<GeoPoint>,
    /// Only vendors within this many kilometres of `near` (their nearest branch).
    pub radius_km: Option<f64>,
    /// Only vendors at least this many kilometres from `near` (their nearest branch): with
    /// `radius_km`, a distance band.
    pub min_km: Option<f64>,
    /// Only vendors that serve this point: it lies within a branch's radius (their `location`
    /// with `service_radius_km` included) or in one of their delivery zones.
    pub serves: Option<GeoPoint>,
    /// Only vendors inside this box (`min_lon > max_lon` crosses the antimeridian).
    pub bbox: Option<GeoRect>,
    /// Only vendors supplying this category path or one below it (`Tools`, `Tools/Drills`).
    pub category: Option<String>,
    /// A filter expression on the vendors' declared attributes (the products' syntax).
    pub filter: Option<crate::filter::Filter>,
    /// Result order.
    pub sort: VendorSort,
    /// 1-based page number.
    pub page: usize,
    /// Hits per page (at most 100).
    pub per_page: usize,
    /// Whether the last word of `q` also matches as the start of longer words (as product
    /// search's `prefix`).
    pub prefix: crate::PrefixMode,
}

impl Default for VendorSearchRequest {
    fn default() -> Self {
        Self {
            q: String::new(),
            near: None,
            radius_km: None,
            min_km: None,
            serves: None,
            bbox: None,
            category: None,
            filter: None,
            sort: VendorSort::Relevance,
            page: 1,
            per_page: 20,
            prefix: crate::PrefixMode::Last,
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
        if let Some(p) = self.serves {
            p.validate().map_err(|e| Error::invalid("serves", e.to_string()))?;
        }
        if let Some(min) = self.min_km {
            if !min.is_finite() || min < 0.0 {
                return Err(Error::invalid("min_km", "must be a number ≥ 0"));
            }
            if self.near.is_none() {
                return Err(Error::invalid("min_km", "needs `near`, the point distances are from"));
            }
            if self.radius_km.is_some_and(|r| min >= r) {
                return Err(Error::invalid("min_km", "must be below radius_km"));
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
        if self.page.saturating_mul(self.per_page) > MAX_RESULT_WINDOW {
            return Err(Error::invalid("page", format!("page × per_page must be at most {MAX_RESULT_WINDOW}")));
        }
        Ok(())
    }
}

/// One vendor found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct VendorHit {
    /// The vendor as stored.
    pub vendor: Vendor,
    /// Great-circle distance from `near` to the vendor's nearest branch, kilometres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// The vendor's branch nearest to `near` (its `location` when it has no other).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest_branch: Option<GeoPoint>,
    /// Text relevance (0 without a query).
    pub score: f32,
}

/// A page of vendors.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct VendorSearchResponse {
    /// Vendors matching the query, area and category.
    pub total_hits: u64,
    /// This page's number, 1-based.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
    /// This page's vendors.
    pub hits: Vec<VendorHit>,
    /// Time the search took in the index, milliseconds.
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
        assert_eq!(bad(VendorSearchRequest { min_km: Some(5.0), ..Default::default() }), "min_km");
        assert_eq!(bad(VendorSearchRequest { near: at, min_km: Some(-1.0), ..Default::default() }), "min_km");
        let band = VendorSearchRequest { near: at, min_km: Some(10.0), radius_km: Some(10.0), ..Default::default() };
        assert_eq!(bad(band.clone()), "min_km");
        VendorSearchRequest { radius_km: Some(20.0), ..band }.validate().unwrap();
        assert_eq!(
            bad(VendorSearchRequest { near: Some(GeoPoint { lat: 95.0, lon: 0.0 }), ..Default::default() }),
            "near"
        );
        // Found by fuzzing: a page number whose product with per_page overflows.
        assert_eq!(bad(VendorSearchRequest { page: usize::MAX / 4, ..Default::default() }), "page");
        let flipped = GeoRect { min_lat: 5.0, min_lon: 0.0, max_lat: 1.0, max_lon: 1.0 };
        assert_eq!(bad(VendorSearchRequest { bbox: Some(flipped), ..Default::default() }), "bbox");
        VendorSearchRequest { near: at, radius_km: Some(10.0), sort: VendorSort::Distance, ..Default::default() }
            .validate()
            .unwrap();
    }
}

/// A request for information: what another service's customer needs, and where.
/// `POST /v1/vendors/match` answers it with vendors ranked by [`MatchBreakdown`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rfi {
    /// Category path needed (`Industrial/Machining`).
    #[schema(pattern = "^[^/]*\\S[^/]*(/[^/]*\\S[^/]*)*$", example = "Industrial/Machining")]
    pub category: String,
    /// What is needed, in words; matched against vendors' capabilities and descriptions.
    #[schema(pattern = "\\S")]
    pub description: String,
    /// Where the work is needed.
    pub location: GeoPoint,
    /// Farthest acceptable vendor (kilometres, to its nearest branch); vendors must also serve
    /// the location themselves (a branch's radius or a delivery zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0)]
    pub max_distance_km: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    /// Units needed: a vendor's offer fits when its stock covers them.
    pub quantity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    /// Budget for the whole order in the marketplace's currency: an offer fits when its price
    /// times `quantity` (1 when absent) is within it.
    pub budget: Option<f64>,
    /// RFC 3339 date-time the work is needed by (in the future): an offer fits when its lead
    /// time ends by then.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub needed_by: Option<time::OffsetDateTime>,
    /// ISO 639-1 language of the description; vendors working in it get no bonus yet, it only
    /// selects the stemmer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z]{2}$")]
    pub language: Option<String>,
    /// Only vendors this filter holds for: an expression on the vendors' declared attributes,
    /// in the products' syntax (also the array form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "certifications IN [iso-9001] AND min_order <= 500")]
    pub filter: Option<crate::filter::Filter>,
    /// Vendors to return (default 10, at most 100).
    #[serde(default = "default_match_limit")]
    #[schema(minimum = 1, maximum = 100)]
    pub limit: usize,
}

pub(crate) fn default_match_limit() -> usize {
    10
}

impl Rfi {
    /// Checks every field; the error names it (`location.lat`).
    pub fn validate(&self) -> Result<()> {
        if self.category.trim().is_empty() || self.category.split('/').any(|s| s.trim().is_empty()) {
            return Err(Error::invalid("category", "must be a non-empty category path"));
        }
        if self.description.trim().is_empty() {
            return Err(Error::invalid("description", "must not be empty"));
        }
        self.location.validate().map_err(|e| Error::invalid(format!("location.{}", e.param()), e.to_string()))?;
        if self.max_distance_km.is_some_and(|d| !d.is_finite() || d <= 0.0) {
            return Err(Error::invalid("max_distance_km", "must be a number > 0"));
        }
        if self.budget.is_some_and(|b| !b.is_finite() || b < 0.0) {
            return Err(Error::invalid("budget", "must be a number ≥ 0"));
        }
        if self.quantity == Some(0) {
            return Err(Error::invalid("quantity", "must be ≥ 1"));
        }
        if self.language.as_deref().is_some_and(|l| l.len() != 2 || !l.bytes().all(|b| b.is_ascii_lowercase())) {
            return Err(Error::invalid("language", "must be an ISO 639-1 code such as `en`"));
        }
        if self.limit == 0 || self.limit > MAX_PER_PAGE {
            return Err(Error::invalid("limit", format!("must be between 1 and {MAX_PER_PAGE}")));
        }
        Ok(())
    }

    /// [`validate`](Self::validate), and `needed_by` after `now` (Unix seconds).
    pub fn validate_at(&self, now: i64) -> Result<()> {
        self.validate()?;
        if self.needed_by.is_some_and(|by| by.unix_timestamp() <= now) {
            return Err(Error::invalid("needed_by", "must be in the future"));
        }
        Ok(())
    }
}

/// Why a vendor matched: each component is already weighted, and they sum to the score.
///
/// - `text`: 0.35 × the vendor's text relevance to the description, relative to the best candidate;
/// - `category`: 0.25 × 1 for the category or one below it, 0.5 for the same top-level category;
/// - `distance`: 0.20 × (1 − distance / radius) of the vendor's branch that serves the location
///   best (its own location with `service_radius_km`, or a branch with its radius), so 0 at the
///   edge of its area; a location only a delivery zone serves counts as half way
///   ([`MatchBreakdown::IN_ZONE`]);
/// - `rating`: 0.10 × the Bayesian-averaged rating / 5 (prior 3.5 over 10 reviews);
/// - `availability`: 0.10 when the vendor takes new work;
/// - `supply`: 0.25 × the share of the request's asks (`quantity`, `budget`, `needed_by`) that the
///   vendor's best in-stock offer of a product in the requested category meets (`offer_fit` says
///   which), or 0.25 for having such an offer when the request asks none of them; 0 without one.
///
/// Only vendors that fit are listed (`fit`): in the request's category, below it or under the
/// same top level, selling products in it, or, failing that, with a text relevance of at least
/// [`MatchBreakdown::MIN_TEXT_FIT`] of the best candidate's. A request no vendor fits gets no hits
/// rather than filler.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MatchBreakdown {
    /// Why the vendor is listed.
    pub fit: MatchFit,
    /// `TEXT` × text relevance relative to the best candidate.
    pub text: f64,
    /// `CATEGORY` × 1 (the category or below) or 0.5 (the same top level).
    pub category: f64,
    /// `DISTANCE` × (1 − distance / radius) of the best serving branch, or × `IN_ZONE` when
    /// only a delivery zone serves the location.
    pub distance: f64,
    /// `RATING` × the Bayesian-averaged rating / 5.
    pub rating: f64,
    /// `AVAILABILITY` when the vendor takes new work.
    pub availability: f64,
    /// `SUPPLY` × the share of the request's asks the vendor's best offer meets.
    pub supply: f64,
    /// Which asks that offer meets, when the vendor has one in the category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_fit: Option<OfferFit>,
}

/// Which of a request's asks an offer meets; `None` where the request does not ask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OfferFit {
    /// Its stock covers `quantity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<bool>,
    /// Its price × `quantity` is within `budget`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<bool>,
    /// Its lead time ends by `needed_by`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
}

impl OfferFit {
    /// What an offer at `price`, with `stock` units and `lead_time_days`, meets of `rfi`'s
    /// asks, `now` (Unix seconds) being when the order is placed.
    pub fn of(price: f64, stock: u64, lead_time_days: u32, rfi: &Rfi, now: i64) -> Self {
        let units = rfi.quantity.unwrap_or(1);
        Self {
            quantity: rfi.quantity.map(|q| stock >= q),
            budget: rfi.budget.map(|b| price * units as f64 <= b),
            on_time: rfi.needed_by.map(|by| {
                let days = (by.unix_timestamp() - now).div_euclid(86_400);
                i64::from(lead_time_days) <= days
            }),
        }
    }

    /// The share of the asks met (1 when there are none).
    pub fn share(&self) -> f64 {
        let asks = [self.quantity, self.budget, self.on_time];
        let asked = asks.iter().flatten().count();
        if asked == 0 { 1.0 } else { asks.iter().flatten().filter(|met| **met).count() as f64 / asked as f64 }
    }
}

impl MatchBreakdown {
    /// Weight of text relevance.
    pub const TEXT: f64 = 0.35;
    /// Weight of the category match.
    pub const CATEGORY: f64 = 0.25;
    /// The least text relevance, relative to the best candidate's, that lists a vendor outside
    /// the request's category.
    pub const MIN_TEXT_FIT: f64 = 0.2;
    /// Weight of nearness within the vendor's service radius.
    pub const DISTANCE: f64 = 0.20;
    /// The nearness of a location served by a delivery zone and no branch's radius: as a
    /// branch at half its radius.
    pub const IN_ZONE: f64 = 0.5;
    /// Weight of the rating.
    pub const RATING: f64 = 0.10;
    /// Weight of availability.
    pub const AVAILABILITY: f64 = 0.10;
    /// Weight of what the vendor's offers can supply.
    pub const SUPPLY: f64 = 0.25;
    /// The prior mean rating the average is pulled towards.
    pub const RATING_PRIOR: f64 = 3.5;
    /// How many reviews the prior is worth.
    pub const RATING_PRIOR_REVIEWS: f64 = 10.0;

    /// The match score: the components' sum.
    pub fn total(&self) -> f64 {
        self.text + self.category + self.distance + self.rating + self.availability + self.supply
    }
}

/// Why a vendor is listed for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchFit {
    /// In the request's category, below it, or under the same top-level category.
    Category,
    /// Outside it, but selling products in it (its offers).
    Offers,
    /// Outside it, but its text relevance is at least [`MatchBreakdown::MIN_TEXT_FIT`] of the
    /// best candidate's.
    Text,
}

/// One matched vendor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MatchHit {
    /// The vendor as stored.
    pub vendor: Vendor,
    /// Great-circle distance from the request's location to the vendor's nearest branch,
    /// kilometres.
    pub distance_km: f64,
    /// That nearest branch (the vendor's `location` when it has no other).
    pub nearest_branch: GeoPoint,
    /// The match score, the sum of `breakdown`.
    pub score: f64,
    /// The score's components.
    pub breakdown: MatchBreakdown,
    /// The vendor's best offer of a product in the requested category, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<crate::Offer>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
/// The answer to an [`Rfi`]: the best matching vendors.
pub struct MatchResponse {
    /// Candidates that fit (near enough, and in the category or relevant enough by text: see
    /// [`MatchBreakdown`]).
    pub candidates: u64,
    /// Best match first.
    pub hits: Vec<MatchHit>,
    /// Time the match took in the index, milliseconds.
    pub took_ms: f64,
}
