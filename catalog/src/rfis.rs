//! Requests for information as documents: customers' open requests, written like products and
//! offers, searchable (`GET /v1/rfis/search`) and matched in reverse: the open RFIs a vendor can
//! serve, ranked with the same [`MatchBreakdown`] as vendor matching ranks vendors.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::vendor_search::default_match_limit;
use crate::{Error, GeoPoint, MAX_PER_PAGE, MAX_RESULT_WINDOW, MatchBreakdown, Offer, Result, Rfi, validate_id};

/// Whether a request still wants answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RfiStatus {
    /// Wants answers until it expires.
    #[default]
    Open,
    /// Closed by the customer: no longer matched.
    Closed,
}

/// The longest title a request may have, in characters.
pub const MAX_RFI_TITLE_CHARS: usize = 512;

/// A customer's request for information, stored and matched to vendors in reverse.
///
/// It asks what an [`Rfi`] asks (category, description, location, quantity, budget, date), and
/// is open until it is closed, `expires_at` passes or `needed_by` passes, whichever is first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RfiDocument {
    /// Unique among RFIs: no control characters, at most 512 bytes. Optional in the body of
    /// `PUT /v1/rfis/{id}`, which takes the path's.
    #[serde(default)]
    #[schema(
        max_length = 512,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub id: String,
    /// Orders writes to the same id, as a product's does; 0 lets the indexer assign the next one.
    #[serde(default)]
    pub version: u64,
    /// A short title, searched with the description: at most 512 characters, no control
    /// characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(max_length = 512, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub title: String,
    /// Category path needed (`Industrial/Machining`).
    #[schema(pattern = "^[^/]*\\S[^/]*(/[^/]*\\S[^/]*)*$", example = "Industrial/Machining")]
    pub category: String,
    /// What is needed, in words.
    #[schema(pattern = "\\S")]
    pub description: String,
    /// Where the work or goods are needed.
    pub location: GeoPoint,
    /// Farthest acceptable vendor (kilometres, to its nearest branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0)]
    pub max_distance_km: Option<f64>,
    /// Units needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub quantity: Option<u64>,
    /// Budget for the whole order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub budget: Option<f64>,
    /// RFC 3339 date-time the work is needed by; the request expires then.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub needed_by: Option<OffsetDateTime>,
    /// ISO 639-1 language of the description (selects the stemmer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z]{2}$")]
    pub language: Option<String>,
    /// `open` (the default) or `closed`.
    #[serde(default)]
    pub status: RfiStatus,
    /// RFC 3339 date-time after which the request is no longer matched.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<OffsetDateTime>,
    /// When the customer made the request (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<OffsetDateTime>,
}

impl RfiDocument {
    /// An open request with no limits, date or title.
    pub fn new(
        id: impl Into<String>,
        category: impl Into<String>,
        description: impl Into<String>,
        location: GeoPoint,
    ) -> Self {
        Self {
            id: id.into(),
            version: 0,
            title: String::new(),
            category: category.into(),
            description: description.into(),
            location,
            max_distance_km: None,
            quantity: None,
            budget: None,
            needed_by: None,
            language: None,
            status: RfiStatus::Open,
            expires_at: None,
            created_at: None,
        }
    }

    /// What vendor matching is asked for this request, returning `limit` vendors.
    pub fn request(&self, limit: usize) -> Rfi {
        Rfi {
            category: self.category.clone(),
            description: self.description.clone(),
            location: self.location,
            max_distance_km: self.max_distance_km,
            quantity: self.quantity,
            budget: self.budget,
            needed_by: self.needed_by,
            language: self.language.clone(),
            filter: None,
            limit,
        }
    }

    /// Checks what the type system cannot, naming the field at fault (`location.lat`). A
    /// `needed_by` or `expires_at` in the past is allowed: the request is stored, closed by time.
    pub fn validate(&self) -> Result<()> {
        validate_id(&self.id)?;
        if self.title.chars().count() > MAX_RFI_TITLE_CHARS || self.title.chars().any(char::is_control) {
            return Err(Error::document("title", format!("at most {MAX_RFI_TITLE_CHARS} characters, none a control")));
        }
        self.request(default_match_limit()).validate().map_err(|e| Error::document(e.param(), e.to_string()))
    }

    /// Unix seconds from which the request is no longer open by time: the earlier of
    /// `expires_at` and `needed_by` (`i64::MAX` without either).
    pub fn open_until(&self) -> i64 {
        [self.expires_at, self.needed_by].into_iter().flatten().map(|t| t.unix_timestamp()).min().unwrap_or(i64::MAX)
    }

    /// Whether the request is open at `now` (Unix seconds): not closed, not expired.
    pub fn is_open_at(&self, now: i64) -> bool {
        self.status == RfiStatus::Open && now < self.open_until()
    }
}

/// Which requests a search lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RfiState {
    /// Open now (the default).
    #[default]
    Open,
    /// Closed, or expired by `expires_at` or `needed_by`.
    Closed,
    /// Every request.
    Any,
}

impl std::str::FromStr for RfiState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            "any" => Ok(Self::Any),
            other => Err(Error::invalid("status", format!("unknown status `{other}`, expected open, closed or any"))),
        }
    }
}

/// How requests found are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RfiSort {
    /// Text relevance, then nearer (with `near`), then the sooner `needed_by`.
    #[default]
    Relevance,
    /// Nearest to `near` first.
    Distance,
    /// The soonest `needed_by` first (requests without one last).
    NeededBy,
    /// The newest `created_at` first.
    Newest,
}

impl std::str::FromStr for RfiSort {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "relevance" => Ok(Self::Relevance),
            "distance" => Ok(Self::Distance),
            "needed_by" => Ok(Self::NeededBy),
            "newest" => Ok(Self::Newest),
            other => Err(Error::invalid(
                "sort",
                format!("unknown sort `{other}`, expected relevance, distance, needed_by or newest"),
            )),
        }
    }
}

/// A search of the stored requests: text, category, area and dates.
#[derive(Debug, Clone, PartialEq)]
pub struct RfiSearchRequest {
    /// Words matched against titles and descriptions (any word; BM25).
    pub q: Option<String>,
    /// Requests in this category or below it.
    pub category: Option<String>,
    /// The point distances are measured from.
    pub near: Option<GeoPoint>,
    /// Only requests within this many kilometres of `near`.
    pub radius_km: Option<f64>,
    /// Only requests needed at or after this time (Unix seconds).
    pub needed_after: Option<i64>,
    /// Only requests needed at or before this time (Unix seconds).
    pub needed_before: Option<i64>,
    /// Which requests, by state.
    pub status: RfiState,
    /// The order.
    pub sort: RfiSort,
    /// 1-based page.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
}

impl Default for RfiSearchRequest {
    fn default() -> Self {
        Self {
            q: None,
            category: None,
            near: None,
            radius_km: None,
            needed_after: None,
            needed_before: None,
            status: RfiState::Open,
            sort: RfiSort::Relevance,
            page: 1,
            per_page: 20,
        }
    }
}

impl RfiSearchRequest {
    /// Checks the parameters together, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        if let Some(near) = self.near {
            near.validate().map_err(|e| Error::invalid("near", e.to_string()))?;
        }
        if let Some(r) = self.radius_km {
            if self.near.is_none() {
                return Err(Error::invalid("radius_km", "needs `near`"));
            }
            if !r.is_finite() || r <= 0.0 {
                return Err(Error::invalid("radius_km", "must be a number > 0"));
            }
        }
        if self.sort == RfiSort::Distance && self.near.is_none() {
            return Err(Error::invalid("sort", "sorting by distance needs `near`"));
        }
        if let (Some(after), Some(before)) = (self.needed_after, self.needed_before) {
            if after > before {
                return Err(Error::invalid("needed_after", "must not be after `needed_before`"));
            }
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

/// One request found.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RfiHit {
    /// The request as stored.
    pub rfi: RfiDocument,
    /// Great-circle distance from `near`, kilometres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// Text relevance (0 without `q`).
    pub score: f32,
}

/// A page of requests.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RfiSearchResponse {
    /// Requests matching every condition.
    pub total_hits: u64,
    /// This page's number, 1-based.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
    /// This page's requests.
    pub hits: Vec<RfiHit>,
    /// Time the search took in the index, milliseconds.
    pub took_ms: f64,
}

/// One open request a vendor can serve, scored as vendor matching would score the vendor for it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RfiMatchHit {
    /// The request as stored.
    pub rfi: RfiDocument,
    /// Great-circle distance from the request's location to the vendor's nearest branch, km.
    pub distance_km: f64,
    /// That nearest branch.
    pub nearest_branch: GeoPoint,
    /// The vendor's match score for this request, the sum of `breakdown`.
    pub score: f64,
    /// The score's components, as `POST /v1/vendors/match` gives them.
    pub breakdown: MatchBreakdown,
    /// The vendor's best offer for the request, when it has one in the category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<Offer>,
}

/// The open requests a vendor can serve (`GET /v1/vendors/{id}/rfis`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VendorRfisResponse {
    /// The vendor asked about.
    pub vendor_id: String,
    /// Open requests the vendor is a candidate for.
    pub candidates: u64,
    /// The best first.
    pub hits: Vec<RfiMatchHit>,
    /// Time the matching took, milliseconds.
    pub took_ms: f64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: serde_json::Value) -> std::result::Result<RfiDocument, String> {
        let rfi: RfiDocument = serde_json::from_value(value).map_err(|e| e.to_string())?;
        rfi.validate().map_err(|e| e.param().to_string())?;
        Ok(rfi)
    }

    #[test]
    fn requests_parse_round_trip_and_name_bad_fields() {
        let full = json!({"id": "r1", "version": 2, "title": "Brackets", "category": "Industrial/Machining",
            "description": "500 brackets", "location": {"lat": 48.2, "lon": 16.37}, "max_distance_km": 300.0,
            "quantity": 500, "budget": 6000.0, "needed_by": "2027-06-30T00:00:00Z", "language": "en",
            "status": "closed", "expires_at": "2027-05-01T00:00:00Z", "created_at": "2026-12-01T09:00:00Z"});
        let rfi = parse(full.clone()).unwrap();
        assert_eq!(serde_json::to_value(&rfi).unwrap(), full);
        assert_eq!(rfi.open_until(), rfi.expires_at.unwrap().unix_timestamp());
        assert!(!rfi.is_open_at(0), "closed");
        let open = parse(json!({"id": "r2", "category": "A", "description": "x", "location": {"lat": 1, "lon": 2}}));
        let open = open.unwrap();
        assert_eq!((open.status, open.open_until()), (RfiStatus::Open, i64::MAX));
        assert!(open.is_open_at(i64::MAX - 1));
        let base = json!({"id": "r", "category": "A", "description": "x", "location": {"lat": 1, "lon": 2}});
        let with = |key: &str, value: serde_json::Value| {
            let mut v = base.clone();
            v[key] = value;
            parse(v).unwrap_err()
        };
        assert_eq!(with("location", json!({"lat": 91, "lon": 0})), "location.lat");
        assert_eq!(with("quantity", json!(0)), "quantity");
        assert_eq!(with("budget", json!(-1)), "budget");
        assert_eq!(with("category", json!("A//B")), "category");
        assert_eq!(with("description", json!("  ")), "description");
        assert_eq!(with("title", json!("a\u{1}b")), "title");
        assert_eq!(with("id", json!("")), "id");
        assert!(with("status", json!("pending")).contains("unknown variant"));
    }

    #[test]
    fn searches_name_the_bad_parameter() {
        let at = Some(GeoPoint { lat: 1.0, lon: 2.0 });
        let bad = |r: RfiSearchRequest| r.validate().unwrap_err().param().to_string();
        assert_eq!(bad(RfiSearchRequest { radius_km: Some(5.0), ..Default::default() }), "radius_km");
        assert_eq!(bad(RfiSearchRequest { near: at, radius_km: Some(-5.0), ..Default::default() }), "radius_km");
        assert_eq!(bad(RfiSearchRequest { sort: RfiSort::Distance, ..Default::default() }), "sort");
        let dates = RfiSearchRequest { needed_after: Some(10), needed_before: Some(5), ..Default::default() };
        assert_eq!(bad(dates), "needed_after");
        assert_eq!(bad(RfiSearchRequest { page: 0, ..Default::default() }), "page");
        assert_eq!(bad(RfiSearchRequest { per_page: 101, ..Default::default() }), "per_page");
        assert_eq!("soon".parse::<RfiSort>().unwrap_err().param(), "sort");
        assert_eq!("pending".parse::<RfiState>().unwrap_err().param(), "status");
        RfiSearchRequest { near: at, radius_km: Some(10.0), sort: RfiSort::Distance, ..Default::default() }
            .validate()
            .unwrap();
    }
}
