//! Vendor geo search against brute force over 100,000 generated vendors (real cities, population
//! weighted) plus uniform points that put vendors at the poles and on both sides of the
//! antimeridian; and vendor text, category and version behaviour.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use proptest::prelude::*;
use searchd_catalog::geo::{GeoRect, haversine_km, normalize_lon};
use searchd_catalog::{GeoPoint, PrefixMode, Vendor, VendorSearchRequest, VendorSort, WriteOutcome};
use searchd_indexer::{IndexConfig, VendorIndex};
use searchd_testkit::vendors::{categories, cities, generate};

fn config() -> IndexConfig {
    IndexConfig::small()
}

struct World {
    index: VendorIndex,
    vendors: Vec<Vendor>,
    cities: Vec<GeoPoint>,
}

static WORLD: LazyLock<Option<World>> = LazyLock::new(|| {
    let (cities, categories) = (cities()?, categories()?);
    let mut vendors = generate(&cities, &categories, 100_000, 7);
    // A uniform sprinkle, denser near the antimeridian and the poles.
    for i in 0..3_000u32 {
        let u = f64::from(i);
        let lat = match i % 3 {
            0 => -90.0 + (u * 7.919) % 180.0,
            1 => 80.0 + (u * 0.6180) % 10.0,
            _ => -90.0 + (u * 0.3819) % 10.0,
        };
        let lon = if i % 2 == 0 { normalize_lon(175.0 + (u * 0.7133) % 10.0) } else { -180.0 + (u * 13.37) % 360.0 };
        vendors.push(Vendor::new(format!("u{i}"), format!("Outpost {i}"), GeoPoint { lat, lon }, 50.0));
    }
    let index = VendorIndex::in_memory(&config()).unwrap();
    for chunk in vendors.chunks(10_000) {
        index.upsert(chunk.to_vec()).unwrap();
    }
    index.commit().unwrap();
    index.merge_segments().unwrap();
    assert_eq!(index.num_docs(), vendors.len() as u64);
    Some(World { index, vendors, cities: cities.iter().map(|c| c.location).collect() })
});

fn center() -> impl Strategy<Value = (usize, f64, f64)> {
    prop_oneof![
        (0usize..1_000_000, Just(f64::NAN), Just(f64::NAN)),
        (Just(usize::MAX), -90.0f64..=90.0, -180.0f64..180.0),
        (Just(usize::MAX), -70.0f64..=70.0, prop_oneof![170.0f64..180.0, -180.0f64..-170.0]),
        (Just(usize::MAX), prop_oneof![80.0f64..=90.0, -90.0f64..=-80.0], -180.0f64..180.0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The radius result set equals a brute-force haversine scan exactly, the distances are the
    /// haversine distances, and distance order is monotone.
    #[test]
    fn radius_search_equals_brute_force((city, lat, lon) in center(), radius in prop_oneof![0.5f64..50.0, 50.0f64..3000.0]) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let near = if city == usize::MAX { GeoPoint { lat, lon } } else { world.cities[city % world.cities.len()] };
        let request = VendorSearchRequest { near: Some(near), radius_km: Some(radius), sort: VendorSort::Distance, ..Default::default() };
        let (total, hits) = world.index.search_ids(&request, world.vendors.len()).unwrap();
        let want: BTreeSet<&str> =
            world.vendors.iter().filter(|v| haversine_km(near, v.location) <= radius).map(|v| v.id.as_str()).collect();
        let got: BTreeSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        prop_assert_eq!(total as usize, want.len());
        prop_assert_eq!(got, want, "near {:?} radius {}", near, radius);
        let distances: Vec<f64> = hits.iter().map(|h| h.distance_km.unwrap()).collect();
        prop_assert!(distances.windows(2).all(|w| w[0] <= w[1]), "not sorted by distance");
        prop_assert!(distances.iter().all(|d| *d <= radius));
    }

    /// A box, across the antimeridian or not, returns exactly the vendors inside it.
    #[test]
    fn box_search_equals_brute_force(lat in -90.0f64..80.0, lat_span in 0.1f64..20.0, lon in -180.0f64..180.0, lon_span in 0.1f64..40.0) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let bbox = GeoRect { min_lat: lat, max_lat: (lat + lat_span).min(90.0), min_lon: lon, max_lon: normalize_lon(lon + lon_span) };
        let request = VendorSearchRequest { bbox: Some(bbox), ..Default::default() };
        let (total, hits) = world.index.search_ids(&request, world.vendors.len()).unwrap();
        let want: BTreeSet<&str> = world.vendors.iter().filter(|v| bbox.contains(v.location)).map(|v| v.id.as_str()).collect();
        let got: BTreeSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        prop_assert_eq!(total as usize, want.len());
        prop_assert_eq!(got, want, "bbox {:?}", bbox);
    }
}

#[test]
fn text_category_and_versions() {
    let index = VendorIndex::in_memory(&config()).unwrap();
    let berlin = GeoPoint { lat: 52.52, lon: 13.405 };
    let potsdam = GeoPoint { lat: 52.39, lon: 13.065 };
    let mut a = Vendor::new("a", "Spree CNC Fräserei", berlin, 100.0);
    a.capabilities = "CNC milling of aluminium parts".into();
    a.categories = vec!["Industrial/Machining".into()];
    let mut b = Vendor::new("b", "Havel Bakery", potsdam, 30.0);
    b.description = "Sourdough breads and cakes".into();
    b.categories = vec!["Food/Bakery".into()];
    assert_eq!(index.upsert(vec![a.clone(), b]).unwrap(), [WriteOutcome::Applied { version: 1 }; 2]);
    index.commit().unwrap();
    let ids = |request: VendorSearchRequest| -> Vec<String> {
        index.search(&request).unwrap().hits.into_iter().map(|h| h.vendor.id).collect()
    };
    // Stemmed and folded text: "milled" finds "milling", "fraserei" finds "Fräserei".
    assert_eq!(ids(VendorSearchRequest { q: "milled aluminium".into(), ..Default::default() }), ["a"]);
    assert_eq!(ids(VendorSearchRequest { q: "frAserei".into(), ..Default::default() }), ["a"]);
    // `q` is plain words: query syntax is text, never a field name or an error.
    for q in ["\0:*", "name:bakery", "body_stem:*", "bakery AND (", "\"bakery", "*"] {
        let found = index.search(&VendorSearchRequest { q: q.into(), ..Default::default() });
        let expected: &[&str] = if q.contains("bakery") { &["b"] } else { &[] };
        assert_eq!(found.unwrap().hits.into_iter().map(|h| h.vendor.id).collect::<Vec<_>>(), expected, "{q:?}");
    }
    // The word being typed matches the words it starts; a space finishes it.
    assert_eq!(ids(VendorSearchRequest { q: "bak".into(), ..Default::default() }), ["b"]);
    assert_eq!(ids(VendorSearchRequest { q: "cnc alumin".into(), ..Default::default() }), ["a"]);
    assert!(ids(VendorSearchRequest { q: "bak ".into(), ..Default::default() }).is_empty());
    let whole = VendorSearchRequest { q: "bak".into(), prefix: PrefixMode::None, ..Default::default() };
    assert!(ids(whole).is_empty());
    // A category path matches itself and everything below it.
    assert_eq!(ids(VendorSearchRequest { category: Some("Food".into()), ..Default::default() }), ["b"]);
    assert_eq!(ids(VendorSearchRequest { category: Some("Food/Bakery".into()), ..Default::default() }), ["b"]);
    assert!(ids(VendorSearchRequest { category: Some("Food/Dairy".into()), ..Default::default() }).is_empty());
    // Distance sort from Potsdam, with distances in the hits.
    let response = index
        .search(&VendorSearchRequest { near: Some(potsdam), sort: VendorSort::Distance, ..Default::default() })
        .unwrap();
    assert_eq!(response.hits[0].vendor.id, "b");
    assert!((response.hits[1].distance_km.unwrap() - haversine_km(potsdam, berlin)).abs() < 1e-9);
    // Versions: a stale write is ignored, a delete hides the vendor.
    a.version = 1;
    a.name = "stale".into();
    assert_eq!(index.upsert(vec![a]).unwrap(), [WriteOutcome::Unchanged { version: 1 }]);
    assert_eq!(index.delete("b", 0).unwrap(), WriteOutcome::Applied { version: 2 });
    index.commit().unwrap();
    assert_eq!(index.num_docs(), 1);
    assert_eq!(index.get("a").unwrap().name, "Spree CNC Fräserei");
    // Invalid vendors are rejected naming the field, and nothing of the batch is written.
    let bad = Vendor::new("c", "x", GeoPoint { lat: 0.0, lon: 0.0 }, -1.0);
    let err = index.upsert(vec![bad]).unwrap_err();
    assert!(err.to_string().contains("service_radius_km"), "{err}");
}

fn rfi(at: GeoPoint) -> searchd_catalog::Rfi {
    serde_json::from_value(serde_json::json!({
        "category": "Industrial/Machining",
        "description": "CNC milling of aluminium housings",
        "location": { "lat": at.lat, "lon": at.lon },
    }))
    .unwrap()
}

#[test]
fn matching_respects_service_radius_distance_and_sums_its_breakdown() {
    let index = VendorIndex::in_memory(&config()).unwrap();
    let client = GeoPoint { lat: 48.137, lon: 11.575 }; // Munich
    let at = |km: f64| searchd_catalog::geo::destination(client, 90.0, km);
    let vendor = |id: &str, km: f64, radius: f64| {
        let mut v = Vendor::new(id, format!("Machining shop {id}"), at(km), radius);
        v.capabilities = "CNC milling of aluminium and steel".into();
        v.categories = vec!["Industrial/Machining".into()];
        v.rating = Some(4.5);
        v.review_count = 20;
        v
    };
    let mut other_category = vendor("other", 5.0, 100.0);
    other_category.categories = vec!["Industrial/Welding".into()];
    let mut unavailable = vendor("busy", 5.0, 100.0);
    unavailable.available = false;
    index
        .upsert(vec![
            vendor("near", 10.0, 100.0),
            vendor("far", 40.0, 100.0),
            vendor("out", 100.0, 50.0), // the client is outside its service radius
            vendor("wide", 100.0, 150.0),
            other_category,
            unavailable,
        ])
        .unwrap();
    index.commit().unwrap();

    let response = index.match_rfi(&rfi(client)).unwrap();
    let ids: Vec<&str> = response.hits.iter().map(|h| h.vendor.id.as_str()).collect();
    assert!(!ids.contains(&"out"), "outside its own service radius: {ids:?}");
    assert!(ids.contains(&"wide"));
    let rank = |id: &str| ids.iter().position(|i| *i == id).unwrap();
    assert!(rank("near") < rank("far"), "closer wins with everything else equal: {ids:?}");
    assert!(rank("near") < rank("busy") && rank("near") < rank("other"), "{ids:?}");
    for h in &response.hits {
        assert!((h.breakdown.total() - h.score).abs() < 1e-12, "{h:?}");
        assert!(h.distance_km <= h.vendor.service_radius_km);
    }
    let busy = &response.hits[rank("busy")];
    assert_eq!(busy.breakdown.availability, 0.0);
    let other = &response.hits[rank("other")];
    assert_eq!(other.breakdown.category, 0.5 * searchd_catalog::MatchBreakdown::CATEGORY);
    assert!(response.hits.windows(2).all(|w| w[0].score >= w[1].score));

    // A maximum distance cuts further vendors; bad requests name the field.
    let mut close = rfi(client);
    close.max_distance_km = Some(20.0);
    let ids: Vec<String> = index.match_rfi(&close).unwrap().hits.into_iter().map(|h| h.vendor.id).collect();
    assert!(ids.iter().all(|id| ["near", "other", "busy"].contains(&id.as_str())), "{ids:?}");
    let field = |r: searchd_catalog::Rfi| index.match_rfi(&r).unwrap_err().to_string();
    let mut bad = rfi(client);
    bad.description = " ".into();
    assert!(field(bad).contains("description"));
    let mut bad = rfi(client);
    bad.location.lat = 123.0;
    assert!(field(bad).contains("location.lat"));
    let mut bad = rfi(client);
    bad.max_distance_km = Some(0.0);
    assert!(field(bad).contains("max_distance_km"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Over the generated world: every match is inside its vendor's radius and the request's
    /// maximum distance, its breakdown sums to its score, and scores never increase.
    #[test]
    fn matches_over_generated_vendors_keep_their_invariants(city in 0usize..1_000_000, max in 20.0f64..2000.0, pick in 0usize..10_000) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let at = world.cities[city % world.cities.len()];
        let sample = &world.vendors[pick % 100_000];
        let mut request = rfi(at);
        request.category = sample.categories[0].clone();
        request.description = sample.capabilities.clone();
        request.max_distance_km = Some(max);
        let response = world.index.match_rfi(&request).unwrap();
        for h in &response.hits {
            prop_assert!(h.distance_km <= h.vendor.service_radius_km && h.distance_km <= max);
            prop_assert!((h.breakdown.total() - h.score).abs() < 1e-12);
            prop_assert!((haversine_km(at, h.vendor.location) - h.distance_km).abs() < 1e-9);
        }
        prop_assert!(response.hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
}

/// Commits by count start background merges; merging everything right after must wait for them
/// rather than fail on segments they already took.
#[test]
fn merging_right_after_many_commits_succeeds() {
    let config = IndexConfig { commit_every_docs: 200, ..IndexConfig::small() };
    for round in 0..3 {
        let index = VendorIndex::in_memory(&config).unwrap();
        let vendors: Vec<Vendor> = (0..8_000)
            .map(|i| {
                let at = GeoPoint { lat: f64::from(i % 170) - 85.0, lon: f64::from(i % 359) - 179.0 };
                Vendor::new(format!("m{i}"), format!("Vendor {i}"), at, 10.0)
            })
            .collect();
        for chunk in vendors.chunks(200) {
            index.upsert(chunk.to_vec()).unwrap();
        }
        index.commit().unwrap();
        index.merge_segments().unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(index.num_docs(), 8_000);
    }
}
