//! A vendor generator for tests and benches: vendors placed at real cities (GeoNames, drawn in
//! proportion to population, jittered up to about 15 km), supplying real categories (BigBasket's
//! category / sub-category pairs), with plausible ratings, radii and availability. Deterministic
//! for a seed.

use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use searchd_catalog::geo::{destination, normalize_lon};
use searchd_catalog::zones::Branch;
use searchd_catalog::{GeoPoint, Vendor};

/// A city of the gazetteer.
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    /// The city's name.
    pub name: String,
    /// ISO 3166 country code.
    pub country: String,
    /// Where it is.
    pub location: GeoPoint,
    /// Its population.
    pub population: u64,
}

/// GeoNames cities with more than 15,000 inhabitants, or `None` (with a message) when the shared
/// data is absent outside CI.
pub fn cities() -> Option<Vec<City>> {
    let path = crate::shared_data("geonames_cities/cities15000.tsv.gz")?;
    let text = crate::gunzip(&path);
    Some(
        text.lines()
            .skip(1)
            .filter_map(|line| {
                let c: Vec<&str> = line.split('\t').collect();
                Some(City {
                    name: c.get(1)?.to_string(),
                    country: c.get(4)?.to_string(),
                    location: GeoPoint { lat: c.get(2)?.parse().ok()?, lon: c.get(3)?.parse().ok()? },
                    population: c.get(6)?.parse().ok()?,
                })
            })
            .collect(),
    )
}

/// BigBasket's distinct `category/sub_category` paths.
pub fn categories() -> Option<Vec<String>> {
    let path = crate::shared_data("bigbasket_products/bigbasket_products_no_description.csv.gz")?;
    let text = crate::gunzip(&path);
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let mut paths: Vec<String> = csv
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            let (c, s) = (r.get(2)?.trim(), r.get(3)?.trim());
            (!c.is_empty() && !s.is_empty()).then(|| format!("{}/{}", c.replace('/', "-"), s.replace('/', "-")))
        })
        .collect();
    paths.sort();
    paths.dedup();
    Some(paths)
}

/// `n` vendors, deterministic for `seed`.
pub fn generate(cities: &[City], categories: &[String], n: usize, seed: u64) -> Vec<Vendor> {
    let mut rng = StdRng::seed_from_u64(seed);
    let weights = WeightedIndex::new(cities.iter().map(|c| c.population.max(1) as f64)).expect("cities");
    (0..n)
        .map(|i| {
            let city = &cities[weights.sample(&mut rng)];
            // About 15 km of jitter: 0.135° of latitude.
            let lat = (city.location.lat + rng.random_range(-0.135..0.135)).clamp(-90.0, 90.0);
            let lon = normalize_lon(city.location.lon + rng.random_range(-0.135..0.135));
            let primary = &categories[rng.random_range(0..categories.len())];
            let mut vendor_categories = vec![primary.clone()];
            if rng.random_bool(0.4) {
                vendor_categories.push(categories[rng.random_range(0..categories.len())].clone());
            }
            let sub = primary.rsplit('/').next().unwrap_or(primary);
            // Service radii from 5 to 500 km, log-uniform.
            let radius = 5.0 * 100f64.powf(rng.random_range(0.0..1.0));
            let mut v = Vendor::new(
                format!("v{i}"),
                format!("{} {} Supply {i}", city.name, sub),
                GeoPoint { lat, lon },
                (radius * 10.0).round() / 10.0,
            );
            v.description = format!("Wholesale supplier of {} in {}, {}", sub.to_lowercase(), city.name, city.country);
            v.capabilities = format!("bulk orders of {}; delivery within {:.0} km", sub.to_lowercase(), radius);
            v.tags = vec![if rng.random_bool(0.3) { "organic".into() } else { "wholesale".into() }];
            v.categories = vendor_categories;
            if rng.random_bool(0.8) {
                v.rating = Some((rng.random_range(20..=50) as f64) / 10.0);
                v.review_count = rng.random_range(1..500);
            }
            v.response_time_hours = Some(f64::from(rng.random_range(1..72)));
            v.available = rng.random_bool(0.85);
            v.languages = vec!["en".into()];
            v
        })
        .collect()
}

/// A star-shaped delivery zone around `center`: `vertices` points at increasing bearings, each
/// `min_km..max_km` away, as a GeoJSON Polygon with longitudes in -180..180 (a ring across the
/// antimeridian is drawn the short way by the index).
pub fn zone_around(center: GeoPoint, min_km: f64, max_km: f64, vertices: usize, rng: &mut StdRng) -> geojson::Geometry {
    serde_json::from_value(
        serde_json::json!({ "type": "Polygon", "coordinates": [ring(center, min_km, max_km, vertices, rng)] }),
    )
    .expect("a polygon")
}

fn ring(center: GeoPoint, min_km: f64, max_km: f64, vertices: usize, rng: &mut StdRng) -> Vec<[f64; 2]> {
    let mut ring: Vec<[f64; 2]> = (0..vertices)
        .map(|i| {
            let bearing = 360.0 * i as f64 / vertices as f64;
            let p = destination(center, bearing, rng.random_range(min_km..max_km));
            [p.lon, p.lat]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

/// Gives about a `branches` share of `vendors` one to three more branches (20–400 km from their
/// location, half with a radius of their own) and about a `zones` share a delivery zone near
/// them (a star-shaped Polygon 20–600 km across, one in five a MultiPolygon of two). Vendors
/// beyond 70° of latitude keep their radius only: a zone there could hold a pole, which the
/// index refuses. Deterministic for a seed.
pub fn spread(vendors: &mut [Vendor], branches: f64, zones: f64, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for v in vendors.iter_mut().filter(|v| v.location.lat.abs() <= 70.0) {
        if rng.random_bool(branches) {
            for _ in 0..rng.random_range(1..=3) {
                let at = destination(v.location, rng.random_range(0.0..360.0), rng.random_range(20.0..400.0));
                let radius_km = rng.random_bool(0.5).then(|| (5.0 * 40f64.powf(rng.random_range(0.0..1.0))).round());
                v.locations.push(Branch { lat: at.lat, lon: at.lon, radius_km });
            }
        }
        if rng.random_bool(zones) {
            let near = destination(v.location, rng.random_range(0.0..360.0), rng.random_range(0.0..100.0));
            let size = rng.random_range(10.0..300.0);
            let vertices = rng.random_range(3..12);
            if rng.random_bool(0.2) {
                let other = destination(near, rng.random_range(0.0..360.0), rng.random_range(300.0..600.0));
                let polygons = [ring(near, size / 3.0, size, vertices, &mut rng), ring(other, 10.0, 60.0, 5, &mut rng)];
                let multi = serde_json::json!({ "type": "MultiPolygon", "coordinates": polygons.map(|r| [r]) });
                v.service_areas.push(serde_json::from_value(multi).expect("a multipolygon"));
            } else {
                v.service_areas.push(zone_around(near, size / 3.0, size, vertices, &mut rng));
            }
        }
    }
}
