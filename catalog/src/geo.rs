//! Geometry on the sphere for geo search: great-circle distance, the bounding box of a radius
//! (correct across the antimeridian and around the poles), and a grid of cells at several levels
//! whose ids the index stores as terms, so a radius or box query first selects candidate cells
//! (a term prefilter) and then checks the exact distance.

use crate::{Error, GeoPoint, Result};

/// Mean Earth radius (IUGG), kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in kilometres (haversine; accurate to about 0.5% against the ellipsoid,
/// exact for the sphere it assumes, which is what every part of the engine uses consistently).
pub fn haversine_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The point `distance_km` away from `from` along the initial `bearing_deg` (0 = north).
pub fn destination(from: GeoPoint, bearing_deg: f64, distance_km: f64) -> GeoPoint {
    let d = distance_km / EARTH_RADIUS_KM;
    let (lat1, lon1, b) = (from.lat.to_radians(), from.lon.to_radians(), bearing_deg.to_radians());
    let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * b.cos()).clamp(-1.0, 1.0).asin();
    let lon2 = lon1 + (b.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
    GeoPoint { lat: lat2.to_degrees(), lon: normalize_lon(lon2.to_degrees()) }
}

/// Longitude into [-180, 180).
pub fn normalize_lon(lon: f64) -> f64 {
    let l = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if l.is_finite() { l } else { 0.0 }
}

/// A latitude/longitude box. `min_lon > max_lon` means it crosses the antimeridian
/// (170 → -170 is a 20° wide box).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoRect {
    /// Southern edge, degrees.
    pub min_lat: f64,
    /// Western edge, degrees.
    pub min_lon: f64,
    /// Northern edge, degrees.
    pub max_lat: f64,
    /// Eastern edge, degrees (below `min_lon` when the box crosses the antimeridian).
    pub max_lon: f64,
}

impl GeoRect {
    /// Every point on Earth.
    pub const WORLD: GeoRect = GeoRect { min_lat: -90.0, min_lon: -180.0, max_lat: 90.0, max_lon: 180.0 };

    /// Checks a box given by a caller (`bbox=minLat,minLon,maxLat,maxLon`).
    pub fn validate(&self, param: &str) -> Result<()> {
        let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
        let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
        if !(lat_ok(self.min_lat) && lat_ok(self.max_lat) && lon_ok(self.min_lon) && lon_ok(self.max_lon)) {
            return Err(Error::invalid(param, "latitudes must be within ±90 and longitudes within ±180"));
        }
        if self.min_lat > self.max_lat {
            return Err(Error::invalid(param, "the minimum latitude is above the maximum"));
        }
        Ok(())
    }

    /// The longitude intervals the box covers: one, or two when it crosses the antimeridian.
    pub fn lon_ranges(&self) -> impl Iterator<Item = (f64, f64)> {
        let split = self.min_lon > self.max_lon;
        let (first, second) = if split {
            ((self.min_lon, 180.0), Some((-180.0, self.max_lon)))
        } else {
            ((self.min_lon, self.max_lon), None)
        };
        std::iter::once(first).chain(second)
    }

    /// Whether `p` lies in the box, edges included.
    pub fn contains(&self, p: GeoPoint) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && self.lon_ranges().any(|(a, b)| (a..=b).contains(&p.lon) || (b == 180.0 && p.lon == -180.0))
    }

    /// The smallest box holding every point within `radius_km` of `center` (Matuschek's
    /// method): the poles widen it to every longitude, the antimeridian splits it.
    pub fn around(center: GeoPoint, radius_km: f64) -> GeoRect {
        let d = radius_km / EARTH_RADIUS_KM;
        let lat = center.lat.to_radians();
        let (min_lat, max_lat) = (lat - d, lat + d);
        let half_pi = std::f64::consts::FRAC_PI_2;
        if min_lat <= -half_pi || max_lat >= half_pi || d >= half_pi {
            return GeoRect {
                min_lat: min_lat.max(-half_pi).to_degrees(),
                min_lon: -180.0,
                max_lat: max_lat.min(half_pi).to_degrees(),
                max_lon: 180.0,
            };
        }
        let ratio = d.sin() / lat.cos();
        if ratio >= 1.0 {
            return GeoRect {
                min_lat: min_lat.to_degrees(),
                min_lon: -180.0,
                max_lat: max_lat.to_degrees(),
                max_lon: 180.0,
            };
        }
        let dlon = ratio.asin().to_degrees();
        // A hair of slack keeps points on the circle inside despite rounding.
        let slack = 1e-9;
        let (mut min_lon, mut max_lon) = (center.lon - dlon - slack, center.lon + dlon + slack);
        if max_lon - min_lon >= 360.0 {
            (min_lon, max_lon) = (-180.0, 180.0);
        } else {
            if min_lon < -180.0 {
                min_lon += 360.0;
            }
            if max_lon > 180.0 {
                max_lon -= 360.0;
            }
        }
        GeoRect {
            min_lat: (min_lat.to_degrees() - slack).max(-90.0),
            min_lon,
            max_lat: (max_lat.to_degrees() + slack).min(90.0),
            max_lon,
        }
    }
}

/// The finest grid level. Level `k` splits latitude into 2^k rows and longitude into 2^k
/// columns: level 20 cells are about 19 m tall.
pub const MAX_CELL_LEVEL: u8 = 20;
/// The levels whose cell ids are indexed for each point.
pub const CELL_LEVELS: [u8; 10] = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20];

/// The id of the level-`level` cell holding `p`: the level in the top bits, then row and column.
pub fn cell_id(p: GeoPoint, level: u8) -> u64 {
    let (row, col) = cell_coords(p.lat, p.lon, level);
    pack(level, row, col)
}

/// Level of the grid [`morton_key`] interleaves: cells of about 2.7 m by 5.4 m at the equator.
pub const MORTON_LEVEL: u8 = 26;

/// A Z-order (Morton) key of the point: the bits of its level-[`MORTON_LEVEL`] row and column
/// interleaved, so points near each other mostly get near keys. The vendor index keeps its
/// documents in this order, so that a region's vendors sit close together on disk and in memory.
pub fn morton_key(p: GeoPoint) -> u64 {
    let (row, col) = cell_coords(p.lat, p.lon, MORTON_LEVEL);
    (0..u64::from(MORTON_LEVEL))
        .fold(0, |key, bit| key | (((row >> bit) & 1) << (2 * bit + 1)) | (((col >> bit) & 1) << (2 * bit)))
}

fn pack(level: u8, row: u64, col: u64) -> u64 {
    (u64::from(level) << 58) | (row << 29) | col
}

fn cell_coords(lat: f64, lon: f64, level: u8) -> (u64, u64) {
    let n = 1u64 << level;
    let row = (((lat + 90.0) / 180.0 * n as f64).floor() as i64).clamp(0, n as i64 - 1) as u64;
    let col = (((normalize_lon(lon) + 180.0) / 360.0 * n as f64).floor() as i64).clamp(0, n as i64 - 1) as u64;
    (row, col)
}

/// Cell ids covering `rect`: every cell that intersects it, at the finest indexed level whose
/// cover has at most `max_cells` cells (the coarsest level when none does).
pub fn cover(rect: &GeoRect, max_cells: usize) -> Vec<u64> {
    let count = |level: u8| -> u64 {
        let (r0, _) = cell_coords(rect.min_lat, 0.0, level);
        let (r1, _) = cell_coords(rect.max_lat, 0.0, level);
        let cols: u64 = rect
            .lon_ranges()
            .map(|(a, b)| {
                let (_, c0) = cell_coords(0.0, a, level);
                let (_, c1) = cell_coords(0.0, if b >= 180.0 { 179.999_999_999 } else { b }, level);
                c1.saturating_sub(c0) + 1
            })
            .sum();
        (r1 - r0 + 1) * cols
    };
    let level = CELL_LEVELS.iter().rev().copied().find(|&l| count(l) <= max_cells as u64).unwrap_or(CELL_LEVELS[0]);
    let (r0, _) = cell_coords(rect.min_lat, 0.0, level);
    let (r1, _) = cell_coords(rect.max_lat, 0.0, level);
    let mut cells = Vec::new();
    for (a, b) in rect.lon_ranges() {
        let (_, c0) = cell_coords(0.0, a, level);
        let (_, c1) = cell_coords(0.0, if b >= 180.0 { 179.999_999_999 } else { b }, level);
        for row in r0..=r1 {
            for col in c0..=c1 {
                cells.push(pack(level, row, col));
            }
            // Longitude 180 is -180: its points live in column 0.
            if b >= 180.0 {
                cells.push(pack(level, row, 0));
            }
        }
    }
    cells.sort_unstable();
    cells.dedup();
    cells
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn p(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat, lon }
    }

    #[test]
    fn morton_keys_interleave_row_and_column() {
        let (dlat, dlon) = (180.0 / f64::from(1u32 << MORTON_LEVEL), 360.0 / f64::from(1u32 << MORTON_LEVEL));
        assert_eq!(morton_key(p(-90.0, -180.0)), 0);
        assert_eq!(morton_key(p(-90.0 + 1.5 * dlat, -180.0)), 0b10);
        assert_eq!(morton_key(p(-90.0, -180.0 + 1.5 * dlon)), 0b01);
        assert_eq!(morton_key(p(-90.0 + 2.5 * dlat, -180.0 + 3.5 * dlon)), 0b1101);
        assert_eq!(morton_key(p(90.0, 180.0 - dlon / 2.0)), (1u64 << (2 * MORTON_LEVEL)) - 1);
    }

    #[test]
    fn known_distances() {
        let (paris, london) = (p(48.8566, 2.3522), p(51.5074, -0.1278));
        assert!((haversine_km(paris, london) - 343.5).abs() < 1.0, "{}", haversine_km(paris, london));
        assert_eq!(haversine_km(paris, paris), 0.0);
        // Across the antimeridian: Fiji to Samoa is about 1,150 km, not most of the way round.
        let (suva, apia) = (p(-18.1416, 178.4419), p(-13.8333, -171.7500));
        assert!((haversine_km(suva, apia) - 1151.0).abs() < 15.0, "{}", haversine_km(suva, apia));
        // Pole to pole is half a circumference.
        let half = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!((haversine_km(p(90.0, 0.0), p(-90.0, 33.0)) - half).abs() < 1e-6);
    }

    #[test]
    fn boxes_split_at_the_antimeridian_and_open_at_the_poles() {
        let r = GeoRect::around(p(0.0, 179.5), 200.0);
        assert!(r.min_lon > r.max_lon, "{r:?}");
        assert!(r.contains(p(0.0, -179.5)) && r.contains(p(0.0, 179.0)) && !r.contains(p(0.0, 0.0)));
        let r = GeoRect::around(p(89.5, 10.0), 100.0);
        assert_eq!((r.min_lon, r.max_lon, r.max_lat), (-180.0, 180.0, 90.0));
        let bad = GeoRect { min_lat: 10.0, min_lon: 0.0, max_lat: 5.0, max_lon: 1.0 };
        assert_eq!(bad.validate("bbox").unwrap_err().param(), "bbox");
    }

    fn point() -> impl Strategy<Value = GeoPoint> {
        prop_oneof![
            (-90.0f64..=90.0, -180.0f64..180.0).prop_map(|(lat, lon)| p(lat, lon)),
            // Near the antimeridian and the poles.
            (-90.0f64..=90.0, prop_oneof![175.0f64..180.0, -180.0f64..-175.0]).prop_map(|(lat, lon)| p(lat, lon)),
            (prop_oneof![85.0f64..=90.0, -90.0f64..=-85.0], -180.0f64..180.0).prop_map(|(lat, lon)| p(lat, lon)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Every point within the radius is in the box and in a covered cell.
        #[test]
        fn covers_every_point_within_the_radius(
            center in point(),
            radius in prop_oneof![0.01f64..5.0, 5.0f64..500.0, 500.0f64..5000.0],
            bearing in 0.0f64..360.0,
            share in 0.0f64..=1.0,
            max_cells in 4usize..64,
        ) {
            let q = destination(center, bearing, radius * share);
            prop_assume!(haversine_km(center, q) <= radius);
            let rect = GeoRect::around(center, radius);
            prop_assert!(rect.contains(q), "{rect:?} misses {q:?} ({} km of {radius})", haversine_km(center, q));
            let cells = cover(&rect, max_cells);
            let level = (cells[0] >> 58) as u8;
            prop_assert!(cells.contains(&cell_id(q, level)), "cell of {q:?} not covered at level {level}");
        }

        /// Points inside any box, including ones across the antimeridian, are in covered cells.
        #[test]
        fn covers_every_point_of_a_box(
            lat in -90.0f64..=90.0, lat_span in 0.0f64..40.0,
            lon in -180.0f64..180.0, lon_span in 0.0f64..60.0,
            u in 0.0f64..=1.0, v in 0.0f64..=1.0,
            max_cells in 4usize..64,
        ) {
            let rect = GeoRect {
                min_lat: lat,
                max_lat: (lat + lat_span).min(90.0),
                min_lon: lon,
                max_lon: normalize_lon(lon + lon_span),
            };
            let q = p(rect.min_lat + u * (rect.max_lat - rect.min_lat), normalize_lon(lon + v * lon_span));
            prop_assert!(rect.contains(q), "{rect:?} {q:?}");
            let cells = cover(&rect, max_cells);
            let level = (cells[0] >> 58) as u8;
            prop_assert!(cells.contains(&cell_id(q, level)));
        }
    }
}
