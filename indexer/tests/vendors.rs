//! Vendor geo search and matching against brute force over 100,000 generated vendors (real
//! cities, population weighted; some with more branches, some with delivery zones) plus uniform
//! points that put vendors at the poles and on both sides of the antimeridian (with zones that
//! cross it); and vendor text, category and version behaviour.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use proptest::prelude::*;
use rand::SeedableRng;
use searchd_catalog::geo::{GeoRect, haversine_km, normalize_lon};
use searchd_catalog::zones::Coverage;
use searchd_catalog::{GeoPoint, MatchBreakdown, PrefixMode, Vendor, VendorSearchRequest, VendorSort, WriteOutcome};
use searchd_indexer::{IndexConfig, VendorIndex};
use searchd_testkit::vendors::{categories, cities, generate, spread, zone_around};

fn config() -> IndexConfig {
    IndexConfig::small()
}

struct World {
    index: VendorIndex,
    vendors: Vec<Vendor>,
    /// Each vendor's branches and zones, as the brute force reads them.
    coverage: Vec<Coverage>,
    cities: Vec<GeoPoint>,
}

static WORLD: LazyLock<Option<World>> = LazyLock::new(|| {
    let (cities, categories) = (cities()?, categories()?);
    let mut vendors = generate(&cities, &categories, 100_000, 7);
    spread(&mut vendors, 0.1, 0.05, 7);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // A uniform sprinkle, denser near the antimeridian and the poles.
    for i in 0..3_000u32 {
        let u = f64::from(i);
        let lat = match i % 3 {
            0 => -90.0 + (u * 7.919) % 180.0,
            1 => 80.0 + (u * 0.6180) % 10.0,
            _ => -90.0 + (u * 0.3819) % 10.0,
        };
        let lon = if i % 2 == 0 { normalize_lon(175.0 + (u * 0.7133) % 10.0) } else { -180.0 + (u * 13.37) % 360.0 };
        let mut outpost = Vendor::new(format!("u{i}"), format!("Outpost {i}"), GeoPoint { lat, lon }, 50.0);
        // Zones across the antimeridian: every other outpost by it, away from the poles.
        if i % 4 == 0 && lat.abs() < 70.0 {
            outpost.service_areas.push(zone_around(outpost.location, 30.0, 400.0, 7, &mut rng));
        }
        vendors.push(outpost);
    }
    let index = VendorIndex::in_memory(&config()).unwrap();
    for chunk in vendors.chunks(10_000) {
        index.upsert(chunk.to_vec()).unwrap();
    }
    index.commit().unwrap();
    index.merge_segments().unwrap();
    assert_eq!(index.num_docs(), vendors.len() as u64);
    let coverage: Vec<Coverage> = vendors.iter().map(|v| v.coverage().unwrap()).collect();
    let across =
        coverage.iter().flat_map(|c| &c.zones).flat_map(|z| z.bounds()).filter(|b| b.min_lon > b.max_lon).count();
    assert!(across >= 50, "only {across} zones cross the antimeridian");
    Some(World { index, vendors, coverage, cities: cities.iter().map(|c| c.location).collect() })
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

    /// The radius (or distance band) result set equals a brute-force haversine scan over every
    /// branch exactly, the distances are the nearest branch's, and distance order is monotone.
    #[test]
    fn radius_search_equals_brute_force((city, lat, lon) in center(), radius in prop_oneof![0.5f64..50.0, 50.0f64..3000.0], band in prop::option::of(0.0f64..0.9)) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let near = if city == usize::MAX { GeoPoint { lat, lon } } else { world.cities[city % world.cities.len()] };
        let min_km = band.map(|b| b * radius);
        let request = VendorSearchRequest { near: Some(near), radius_km: Some(radius), min_km, sort: VendorSort::Distance, ..Default::default() };
        let (total, hits) = world.index.search_ids(&request, world.vendors.len()).unwrap();
        let nearest: HashMap<&str, (GeoPoint, f64)> = world.vendors.iter().zip(&world.coverage)
            .map(|(v, c)| (v.id.as_str(), c.nearest_branch(near).unwrap()))
            .filter(|(_, (_, d))| *d <= radius && min_km.is_none_or(|m| *d >= m))
            .collect();
        let want: BTreeSet<&str> = nearest.keys().copied().collect();
        let got: BTreeSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        prop_assert_eq!(total as usize, want.len());
        prop_assert_eq!(got, want, "near {:?} radius {} min {:?}", near, radius, min_km);
        for h in &hits {
            let (branch, d) = nearest[h.id.as_str()];
            prop_assert!((h.distance_km.unwrap() - d).abs() < 1e-9, "{:?}: brute force {}", h, d);
            // Stored coordinates read back within a unit in the last place.
            prop_assert!(haversine_km(h.nearest_branch.unwrap(), branch) < 1e-6, "{:?}: brute force {:?}", h, branch);
        }
        let distances: Vec<f64> = hits.iter().map(|h| h.distance_km.unwrap()).collect();
        prop_assert!(distances.windows(2).all(|w| w[0] <= w[1]), "not sorted by distance");
    }

    /// "Who serves this point" returns exactly the vendors one of whose branches' radii or zones
    /// holds it (the brute force reads every vendor's coverage), nearest branch first.
    #[test]
    fn serving_vendors_equal_brute_force((city, lat, lon) in center()) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let p = if city == usize::MAX { GeoPoint { lat, lon } } else { world.cities[city % world.cities.len()] };
        let request = VendorSearchRequest { serves: Some(p), near: Some(p), sort: VendorSort::Distance, ..Default::default() };
        let (total, hits) = world.index.search_ids(&request, world.vendors.len()).unwrap();
        let want: BTreeSet<&str> =
            world.vendors.iter().zip(&world.coverage).filter(|(_, c)| c.serves(p)).map(|(v, _)| v.id.as_str()).collect();
        let got: BTreeSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        prop_assert_eq!(total as usize, want.len());
        prop_assert_eq!(got, want, "serves {:?}", p);
        let distances: Vec<f64> = hits.iter().map(|h| h.distance_km.unwrap()).collect();
        prop_assert!(distances.windows(2).all(|w| w[0] <= w[1]), "not sorted by distance");
    }

    /// A box, across the antimeridian or not, returns exactly the vendors with a branch inside it.
    #[test]
    fn box_search_equals_brute_force(lat in -90.0f64..80.0, lat_span in 0.1f64..20.0, lon in -180.0f64..180.0, lon_span in 0.1f64..40.0) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let bbox = GeoRect { min_lat: lat, max_lat: (lat + lat_span).min(90.0), min_lon: lon, max_lon: normalize_lon(lon + lon_span) };
        let request = VendorSearchRequest { bbox: Some(bbox), ..Default::default() };
        let (total, hits) = world.index.search_ids(&request, world.vendors.len()).unwrap();
        let want: BTreeSet<&str> = world.vendors.iter().zip(&world.coverage)
            .filter(|(_, c)| c.branches.iter().any(|(b, _)| bbox.contains(*b)))
            .map(|(v, _)| v.id.as_str())
            .collect();
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

/// The brute force's match of `vendor` for a request in `category` at `at` within `max` km when
/// no description word is known: `None` when it is not a candidate, else its score.
fn brute_match(vendor: &Vendor, coverage: &Coverage, category: &str, at: GeoPoint, max: f64) -> Option<f64> {
    let (_, distance) = coverage.nearest_branch(at)?;
    let closeness = coverage
        .branches
        .iter()
        .map(|(b, r)| (haversine_km(*b, at), r))
        .filter(|(d, r)| d <= *r)
        .map(|(d, r)| 1.0 - d / r)
        .fold(None, |best: Option<f64>, c| Some(best.map_or(c, |b| b.max(c))))
        .or_else(|| coverage.zones.iter().any(|z| z.contains(at)).then_some(MatchBreakdown::IN_ZONE))?;
    if distance > max {
        return None;
    }
    let top = |c: &str| c.split('/').next().unwrap_or(c).to_string();
    let fit = if vendor.categories.iter().any(|c| c == category || c.starts_with(&format!("{category}/"))) {
        1.0
    } else if vendor.categories.iter().any(|c| top(c) == top(category)) {
        0.5
    } else {
        return None;
    };
    let (prior, weight) = (MatchBreakdown::RATING_PRIOR, MatchBreakdown::RATING_PRIOR_REVIEWS);
    let reviews = if vendor.rating.is_some() { vendor.review_count as f64 } else { 0.0 };
    let rating = searchd_catalog::bayesian_average(vendor.rating.unwrap_or(prior), reviews, prior, weight) / 5.0;
    Some(
        MatchBreakdown::CATEGORY * fit
            + MatchBreakdown::DISTANCE * closeness
            + MatchBreakdown::RATING * rating
            + if vendor.available { MatchBreakdown::AVAILABILITY } else { 0.0 },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Over the generated world (branches, zones, zones across the antimeridian): the candidates
    /// of a request whose description no vendor shares are exactly the brute force's (in the
    /// category's top level, serving the location by a branch's radius or a zone, nearest branch
    /// within the maximum distance), and the best hits' scores are the brute force's best.
    #[test]
    fn matches_over_generated_vendors_equal_brute_force((city, lat, lon) in center(), max in prop_oneof![20.0f64..2000.0, Just(30_000.0)], pick in 0usize..10_000) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let at = if city == usize::MAX { GeoPoint { lat, lon } } else { world.cities[city % world.cities.len()] };
        let sample = &world.vendors[pick % 100_000];
        let mut request = rfi(at);
        request.category = sample.categories[0].clone();
        request.description = "qzxvw".into();
        request.max_distance_km = (max < 30_000.0).then_some(max);
        request.limit = 100;
        let response = world.index.match_rfi(&request).unwrap();
        let mut want: Vec<(f64, usize)> = world.vendors.iter().zip(&world.coverage).enumerate()
            .filter_map(|(i, (v, c))| Some((brute_match(v, c, &request.category, at, max)?, i)))
            .collect();
        want.sort_by(|a, b| b.0.total_cmp(&a.0));
        prop_assert_eq!(response.candidates as usize, want.len(), "at {:?} max {}", at, max);
        prop_assert_eq!(response.hits.len(), want.len().min(100));
        for (h, (score, _)) in response.hits.iter().zip(&want) {
            prop_assert!((h.score - score).abs() < 1e-9, "{} scored {} where the brute force's next is {}", h.vendor.id, h.score, score);
            prop_assert!((h.breakdown.total() - h.score).abs() < 1e-12);
            let i = want.iter().find(|w| world.vendors[w.1].id == h.vendor.id).expect("a brute-force candidate").1;
            let c = &world.coverage[i];
            prop_assert!(c.serves(at));
            prop_assert!((c.nearest_branch(at).unwrap().1 - h.distance_km).abs() < 1e-9);
            prop_assert!(h.distance_km <= max);
        }
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
