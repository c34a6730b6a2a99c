//! Zones against the `geo` crate's point-in-polygon, on polygons the test draws in their own
//! unwrapped frame (so the reference never sees this module's unwrapping) and hands over as
//! GeoJSON with longitudes wrapped into ±180, as a client would send them.

use geo::Contains;
use proptest::prelude::*;

use super::*;

/// A star-shaped ring around `(lon, lat)`: `n` vertices at evenly spaced angles (jittered) and
/// the given radii in degrees, in the unwrapped frame, closed.
fn star(lon: f64, lat: f64, radii: &[f64], jitter: &[f64]) -> Vec<(f64, f64)> {
    let n = radii.len();
    let mut ring: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let angle = (i as f64 + jitter[i] * 0.4) * std::f64::consts::TAU / n as f64;
            (lon + radii[i] * angle.cos(), lat + radii[i] * angle.sin())
        })
        .collect();
    ring.push(ring[0]);
    ring
}

fn wrap(lon: f64) -> f64 {
    crate::geo::normalize_lon(lon)
}

fn geojson(rings: &[Vec<(f64, f64)>]) -> Vec<Vec<geojson::Position>> {
    rings.iter().map(|r| r.iter().map(|&(x, y)| geojson::Position::from([wrap(x), y])).collect()).collect()
}

fn reference(rings: &[Vec<(f64, f64)>]) -> geo::Polygon<f64> {
    let line = |r: &Vec<(f64, f64)>| geo::LineString::from(r.clone());
    geo::Polygon::new(line(&rings[0]), rings[1..].iter().map(line).collect())
}

/// Whether the reference polygon holds the point at its longitude or a turn either side.
fn held(polygons: &[geo::Polygon<f64>], p: GeoPoint) -> bool {
    polygons.iter().any(|polygon| {
        [p.lon, p.lon + 360.0, p.lon - 360.0].into_iter().any(|x| polygon.contains(&geo::Point::new(x, p.lat)))
    })
}

/// (centre lon, centre lat, radii, jitter, hole?) of one polygon; centres often near ±180.
fn polygon_spec() -> impl Strategy<Value = (f64, f64, Vec<f64>, Vec<f64>, bool)> {
    let lon = prop_oneof![-180.0..180.0f64, 170.0..190.0f64, -190.0..-170.0f64];
    (lon, -60.0..60.0f64, 5usize..12, any::<bool>()).prop_flat_map(|(lon, lat, n, hole)| {
        (
            Just(lon),
            Just(lat),
            proptest::collection::vec(2.0..25.0f64, n),
            proptest::collection::vec(-1.0..1.0f64, n),
            Just(hole),
        )
    })
}

fn point() -> impl Strategy<Value = GeoPoint> {
    prop_oneof![
        (-90.0..=90.0f64, -180.0..180.0f64),
        // The antimeridian band and the polar caps.
        (-80.0..80.0f64, prop_oneof![170.0..180.0f64, -180.0..-170.0f64]),
        (prop_oneof![80.0..=90.0f64, -90.0..-80.0f64], -180.0..180.0f64),
    ]
    .prop_map(|(lat, lon)| GeoPoint { lat, lon })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Polygons and multipolygons, with holes, across the antimeridian or not: the same points
    /// in as the `geo` crate finds, points near the zone and anywhere.
    #[test]
    fn zones_hold_the_points_geo_holds(
        specs in proptest::collection::vec(polygon_spec(), 1..4),
        near in proptest::collection::vec((0usize..4, -1.5..1.5f64, -1.5..1.5f64), 0..60),
        anywhere in proptest::collection::vec(point(), 0..60),
    ) {
        let mut drawn = Vec::new();
        for (lon, lat, radii, jitter, hole) in &specs {
            let mut rings = vec![star(*lon, *lat, radii, jitter)];
            if *hole {
                let inner = radii.iter().copied().fold(f64::INFINITY, f64::min) * 0.3;
                let hole_radii = vec![inner; 6];
                let mut ring = star(*lon, *lat, &hole_radii, &[0.0; 6]);
                ring.reverse();
                rings.push(ring);
            }
            drawn.push(rings);
        }
        let geometry = if drawn.len() == 1 {
            Geometry::new(GeometryValue::Polygon { coordinates: geojson(&drawn[0]) })
        } else {
            Geometry::new(GeometryValue::MultiPolygon { coordinates: drawn.iter().map(|r| geojson(r)).collect() })
        };
        let zone = Zone::from_geometry(&geometry, "service_areas[0]").unwrap();
        let polygons: Vec<geo::Polygon<f64>> = drawn.iter().map(|r| reference(r)).collect();
        let mut points = anywhere.clone();
        for (which, dx, dy) in &near {
            let (lon, lat, radii, ..) = &specs[which % specs.len()];
            let r = radii.iter().copied().fold(0.0, f64::max);
            points.push(GeoPoint { lat: (lat + dy * r).clamp(-90.0, 90.0), lon: wrap(lon + dx * r) });
        }
        for p in points {
            prop_assert_eq!(zone.contains(p), held(&polygons, p), "{:?}", p);
        }
        // The bounds hold the zone.
        for p in [GeoPoint { lat: specs[0].1, lon: wrap(specs[0].0) }] {
            if zone.contains(p) {
                prop_assert!(zone.bounds().iter().any(|b| b.contains(p)));
            }
        }
    }
}

fn square(coordinates: &[[f64; 2]]) -> Geometry {
    let ring = coordinates.iter().map(|c| geojson::Position::from(*c)).collect();
    Geometry::new(GeometryValue::Polygon { coordinates: vec![ring] })
}

#[test]
fn a_zone_across_the_antimeridian_goes_the_short_way() {
    let zone = square(&[[170.0, -10.0], [-170.0, -10.0], [-170.0, 10.0], [170.0, 10.0], [170.0, -10.0]]);
    let zone = Zone::from_geometry(&zone, "service_areas[0]").unwrap();
    for (lon, inside) in [(179.5, true), (-179.5, true), (-180.0, true), (175.0, true), (0.0, false), (160.0, false)] {
        assert_eq!(zone.contains(GeoPoint { lat: 0.0, lon }), inside, "{lon}");
    }
    let bounds = zone.bounds();
    assert_eq!((bounds[0].min_lon, bounds[0].max_lon), (170.0, -170.0));
}

#[test]
fn bad_zones_are_refused_naming_the_position() {
    let error = |g: &Geometry| Zone::from_geometry(g, "service_areas[2]").unwrap_err().to_string();
    let open = square(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
    assert!(error(&open).contains("service_areas[2].coordinates[0]"), "{}", error(&open));
    assert!(error(&open).contains("end where it starts"), "{}", error(&open));
    let far = square(&[[0.0, 0.0], [181.0, 0.0], [1.0, 1.0], [0.0, 0.0]]);
    assert!(error(&far).contains("service_areas[2].coordinates[0][1]"), "{}", error(&far));
    let pole = square(&[[0.0, 80.0], [90.0, 80.0], [180.0, 80.0], [-90.0, 80.0], [0.0, 80.0]]);
    assert!(error(&pole).contains("round a pole"), "{}", error(&pole));
    let line = Geometry::new(GeometryValue::LineString {
        coordinates: vec![geojson::Position::from([0.0, 0.0]), geojson::Position::from([1.0, 1.0])],
    });
    assert!(error(&line).contains("service_areas[2].type"), "{}", error(&line));
    assert!(error(&line).contains("not a LineString"), "{}", error(&line));
}

#[test]
fn a_coverage_serves_within_a_branch_radius_or_a_zone() {
    let zone = square(&[[10.0, 50.0], [11.0, 50.0], [11.0, 51.0], [10.0, 51.0], [10.0, 50.0]]);
    let coverage = Coverage {
        branches: vec![(GeoPoint { lat: 52.52, lon: 13.405 }, 10.0), (GeoPoint { lat: 48.14, lon: 11.58 }, 50.0)],
        zones: vec![Zone::from_geometry(&zone, "z").unwrap()],
    };
    assert!(coverage.serves(GeoPoint { lat: 52.55, lon: 13.4 }));
    assert!(!coverage.serves(GeoPoint { lat: 52.8, lon: 13.4 }));
    assert!(coverage.serves(GeoPoint { lat: 48.5, lon: 11.58 }));
    assert!(coverage.serves(GeoPoint { lat: 50.5, lon: 10.5 }));
    let (nearest, km) = coverage.nearest_branch(GeoPoint { lat: 50.5, lon: 10.5 }).unwrap();
    assert_eq!(nearest.lat, 48.14);
    assert!((km - haversine_km(nearest, GeoPoint { lat: 50.5, lon: 10.5 })).abs() < 1e-9);
}
