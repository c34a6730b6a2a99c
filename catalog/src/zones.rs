//! Where a vendor serves: its branches, each within a radius, and delivery zones written as
//! GeoJSON `Polygon` or `MultiPolygon` geometries (RFC 7946: `[lon, lat]` positions, each
//! polygon's first ring its boundary and the others holes, edges straight in longitude and
//! latitude). A point is served when it lies within any branch's radius or in any zone.
//!
//! Zones may cross the antimeridian, written as they are drawn: an edge spanning more than 180°
//! of longitude goes the short way round (`[170, 10] → [-170, 10]` is 20° wide), as GeoJSON
//! clients draw it. Each ring's longitudes are unwrapped once (consecutive vertices at most 180°
//! apart, so a ring crossing the antimeridian runs past ±180), and a point is checked at its
//! longitude and one turn either side. A ring that goes round a pole does not close when
//! unwrapped; such zones are refused, with a message (a cap is a branch with a radius).

use geojson::{Geometry, GeometryValue};
use serde::{Deserialize, Serialize};

use crate::geo::{GeoRect, haversine_km};
use crate::{Error, GeoPoint, Result};

/// Zones a vendor may declare.
pub const MAX_SERVICE_AREAS: usize = 64;
/// Branches a vendor may declare.
pub const MAX_BRANCHES: usize = 1_000;
/// Vertices of all of a vendor's zones together.
pub const MAX_ZONE_VERTICES: usize = 100_000;

/// A vendor's branch: where it is and, optionally, how far from it the vendor serves (the
/// vendor's `service_radius_km` when absent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// Latitude, -90 to 90.
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// Longitude, -180 to 180.
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Service radius from this branch, kilometres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0)]
    pub radius_km: Option<f64>,
}

impl Branch {
    /// Its location.
    pub fn point(&self) -> GeoPoint {
        GeoPoint { lat: self.lat, lon: self.lon }
    }

    /// Checks the ranges; the error's field is under `field` (`locations[2]`).
    pub fn validate(&self, field: &str) -> Result<()> {
        self.point().validate().map_err(|e| Error::document(format!("{field}.{}", e.param()), e.to_string()))?;
        if self.radius_km.is_some_and(|r| !r.is_finite() || r <= 0.0) {
            return Err(Error::document(format!("{field}.radius_km"), "must be a finite number > 0"));
        }
        Ok(())
    }
}

/// A polygon ready for point checks: its rings' `(lon, lat)` vertices with longitudes unwrapped
/// (the boundary first, holes shifted to lie with it), and their bounds.
#[derive(Debug, Clone, PartialEq)]
struct Polygon {
    rings: Vec<Vec<(f64, f64)>>,
    /// West and east bounds of the boundary, unwrapped (`west` in [-180, 180]).
    west: f64,
    east: f64,
    south: f64,
    north: f64,
}

/// A delivery zone prepared for point checks (see the module's notes).
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    polygons: Vec<Polygon>,
}

impl Zone {
    /// The zone of a GeoJSON geometry; the error says what is wrong and where, under `field`
    /// (`service_areas[0].coordinates[1][3]: …`).
    pub fn from_geometry(geometry: &Geometry, field: &str) -> Result<Zone> {
        let polygons: Vec<(String, &Vec<Vec<geojson::Position>>)> = match &geometry.value {
            GeometryValue::Polygon { coordinates } => vec![(format!("{field}.coordinates"), coordinates)],
            GeometryValue::MultiPolygon { coordinates } => coordinates
                .iter()
                .enumerate()
                .map(|(i, polygon)| (format!("{field}.coordinates[{i}]"), polygon))
                .collect(),
            other => {
                return Err(Error::document(
                    format!("{field}.type"),
                    format!("a service area is a Polygon or a MultiPolygon, not a {}", other.type_name()),
                ));
            }
        };
        if polygons.is_empty() {
            return Err(Error::document(format!("{field}.coordinates"), "a MultiPolygon needs a polygon"));
        }
        let polygons = polygons.into_iter().map(|(at, rings)| polygon(rings, &at)).collect::<Result<_>>()?;
        Ok(Zone { polygons })
    }

    /// Whether `p` lies in the zone (inside a boundary, outside its holes).
    pub fn contains(&self, p: GeoPoint) -> bool {
        self.polygons.iter().any(|polygon| {
            if !(polygon.south..=polygon.north).contains(&p.lat) {
                return false;
            }
            [p.lon, p.lon + 360.0, p.lon - 360.0].into_iter().any(|x| {
                (polygon.west..=polygon.east).contains(&x)
                    && ring_contains(&polygon.rings[0], x, p.lat)
                    && !polygon.rings[1..].iter().any(|hole| ring_contains(hole, x, p.lat))
            })
        })
    }

    /// Boxes holding the zone, one per polygon (crossing the antimeridian where it does).
    pub fn bounds(&self) -> Vec<GeoRect> {
        self.polygons
            .iter()
            .map(|p| {
                let wrap = |lon: f64| if lon > 180.0 { lon - 360.0 } else { lon };
                if p.east - p.west >= 360.0 {
                    GeoRect { min_lat: p.south, min_lon: -180.0, max_lat: p.north, max_lon: 180.0 }
                } else {
                    GeoRect { min_lat: p.south, min_lon: p.west, max_lat: p.north, max_lon: wrap(p.east) }
                }
            })
            .collect()
    }

    /// Vertices over all its rings.
    pub fn vertices(&self) -> usize {
        self.polygons.iter().flat_map(|p| &p.rings).map(Vec::len).sum()
    }
}

/// One polygon's rings checked and unwrapped; `at` names its coordinates.
fn polygon(rings: &[Vec<geojson::Position>], at: &str) -> Result<Polygon> {
    if rings.is_empty() {
        return Err(Error::document(at.to_string(), "a polygon needs a boundary ring"));
    }
    let mut unwrapped = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let at = format!("{at}[{r}]");
        if ring.len() < 4 {
            return Err(Error::document(at, "a ring needs at least 4 positions (the first repeated last)"));
        }
        let mut points = Vec::with_capacity(ring.len());
        for (v, position) in ring.iter().enumerate() {
            let at = format!("{at}[{v}]");
            let (lon, lat) = match position.as_slice() {
                [lon, lat] | [lon, lat, _] => (*lon, *lat),
                _ => return Err(Error::document(at, "a position is [longitude, latitude]")),
            };
            if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
                return Err(Error::document(at, "the longitude must be within ±180"));
            }
            if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                return Err(Error::document(at, "the latitude must be within ±90"));
            }
            points.push((lon, lat));
        }
        if points.first() != points.last() {
            return Err(Error::document(at, "a ring must end where it starts"));
        }
        // Unwrap: each vertex within 180° of longitude of the one before.
        let mut previous = points[0].0;
        for (v, point) in points.iter_mut().enumerate().skip(1) {
            let mut lon = point.0;
            while lon - previous > 180.0 {
                lon -= 360.0;
            }
            while previous - lon > 180.0 {
                lon += 360.0;
            }
            if (lon - previous).abs() == 180.0 {
                return Err(Error::document(
                    format!("{at}[{v}]"),
                    "an edge spans exactly 180° of longitude, so which way it goes is ambiguous",
                ));
            }
            point.0 = lon;
            previous = lon;
        }
        let (first, last) = (points[0], points[points.len() - 1]);
        if (first.0 - last.0).abs() > 1e-9 {
            return Err(Error::document(
                at,
                "the ring goes round a pole; zones around a pole are not supported (use a branch with a radius)",
            ));
        }
        unwrapped.push(points);
    }
    let (west, east) = lon_bounds(&unwrapped[0]);
    // A boundary reaching west of -180 is moved a turn east: its west bound in [-180, 180].
    let shift = if west < -180.0 { 360.0 } else { 0.0 };
    let centre = (west + east) / 2.0 + shift;
    for (r, ring) in unwrapped.iter_mut().enumerate() {
        let (w, e) = lon_bounds(ring);
        // The boundary by `shift`; a hole by the turns that bring it nearest the boundary.
        let by = if r == 0 { shift } else { ((centre - (w + e) / 2.0) / 360.0).round() * 360.0 };
        for point in ring.iter_mut() {
            point.0 += by;
        }
    }
    let (west, east) = lon_bounds(&unwrapped[0]);
    let south = unwrapped[0].iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let north = unwrapped[0].iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    Ok(Polygon { rings: unwrapped, west, east, south, north })
}

fn lon_bounds(ring: &[(f64, f64)]) -> (f64, f64) {
    ring.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(w, e), p| (w.min(p.0), e.max(p.0)))
}

/// Whether `(x, y)` is inside the closed ring (crossing number; points exactly on an edge may
/// fall either way).
fn ring_contains(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    for edge in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (edge[0], edge[1]);
        if (y1 > y) != (y2 > y) && x < (x2 - x1) * (y - y1) / (y2 - y1) + x1 {
            inside = !inside;
        }
    }
    inside
}

/// Where a vendor serves, prepared: its branches (its own location first) with their radii, and
/// its zones.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// `(branch, radius km)`.
    pub branches: Vec<(GeoPoint, f64)>,
    /// The delivery zones.
    pub zones: Vec<Zone>,
}

impl Coverage {
    /// Whether `p` is served: within a branch's radius or in a zone.
    pub fn serves(&self, p: GeoPoint) -> bool {
        self.branches.iter().any(|(b, r)| haversine_km(*b, p) <= *r) || self.zones.iter().any(|z| z.contains(p))
    }

    /// The nearest branch to `p` and its distance in kilometres.
    pub fn nearest_branch(&self, p: GeoPoint) -> Option<(GeoPoint, f64)> {
        self.branches.iter().map(|(b, _)| (*b, haversine_km(*b, p))).min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// How the coverage reaches `p`, in one pass over the branches (at least one: a vendor's
    /// location is its first).
    pub fn reach(&self, p: GeoPoint) -> Reach {
        let mut best = Reach { branch: self.branches[0].0, distance_km: f64::INFINITY, closeness: None };
        for (branch, radius) in &self.branches {
            let one = Reach::of_branch(*branch, *radius, haversine_km(*branch, p));
            if one.distance_km < best.distance_km {
                (best.branch, best.distance_km) = (one.branch, one.distance_km);
            }
            if let Some(c) = one.closeness {
                best.closeness = Some(best.closeness.map_or(c, |b| b.max(c)));
            }
        }
        if best.closeness.is_none() && self.zones.iter().any(|z| z.contains(p)) {
            best.closeness = Some(crate::MatchBreakdown::IN_ZONE);
        }
        best
    }
}

/// A point's fit in a vendor's area: how near the nearest branch is, and how well a branch or
/// zone serves it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    /// The nearest branch (the vendor's location included).
    pub branch: GeoPoint,
    /// Its distance from the point, kilometres.
    pub distance_km: f64,
    /// 1 − distance / radius of the best branch whose radius holds the point;
    /// [`MatchBreakdown::IN_ZONE`](crate::MatchBreakdown::IN_ZONE) when only a zone holds it;
    /// `None`: not served.
    pub closeness: Option<f64>,
}

impl Reach {
    /// One branch's reach of a point `distance_km` away.
    pub fn of_branch(branch: GeoPoint, radius_km: f64, distance_km: f64) -> Reach {
        Reach { branch, distance_km, closeness: (distance_km <= radius_km).then(|| 1.0 - distance_km / radius_km) }
    }
}

#[cfg(test)]
mod tests;
