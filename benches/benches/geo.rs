//! Vendor geo search and matching over 1,000,000 generated vendors (GeoNames cities, population
//! weighted, BigBasket categories; `searchd_testkit::vendors`).
//!
//! Queries are centred on cities drawn by population as the vendors are (customers live where
//! people live, so these are the dense, expensive places), jittered by up to about 30 km. Every
//! query is timed alone and the distribution printed (p50 / p99 / max) besides Criterion's mean:
//! - radius 10, 50 and 200 km, sorted by distance, first page of 20 (vendors loaded);
//! - a bounding box of about 100 km by 100 km;
//! - `POST /v1/vendors/match`'s ranking (`VendorIndex::match_rfi`), max distance 100 km, and
//!   without a maximum distance.

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use searchd_benches::{summary, timed};
use searchd_catalog::geo::{GeoRect, normalize_lon};
use searchd_catalog::{GeoPoint, Rfi, VendorSearchRequest, VendorSort};
use searchd_indexer::{IndexConfig, VendorIndex};
use searchd_testkit::vendors::{categories, cities, generate};

const VENDORS: usize = 1_000_000;
const QUERIES: usize = 2_000;

fn geo(c: &mut Criterion) {
    let (Some(cities), Some(categories)) = (cities(), categories()) else { return };
    let started = Instant::now();
    let vendors = generate(&cities, &categories, VENDORS, 42);
    let generated = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let index = VendorIndex::in_memory(&IndexConfig {
        writer_memory_mb: 512,
        commit_every_docs: usize::MAX,
        ..IndexConfig::default()
    })
    .expect("index");
    for chunk in vendors.chunks(50_000) {
        index.upsert(chunk.to_vec()).expect("upsert");
    }
    index.commit().expect("commit");
    let indexed = started.elapsed().as_secs_f64();
    let started = Instant::now();
    index.merge_segments().expect("merge");
    println!(
        "geo: {VENDORS} vendors generated in {generated:.1} s, indexed in {indexed:.1} s ({:.0} vendors/s), merged in {:.1} s",
        VENDORS as f64 / indexed,
        started.elapsed().as_secs_f64()
    );
    drop(vendors);

    let mut rng = StdRng::seed_from_u64(7);
    let weights = WeightedIndex::new(cities.iter().map(|c| c.population.max(1) as f64)).expect("cities");
    let centers: Vec<GeoPoint> = (0..QUERIES)
        .map(|_| {
            let city = &cities[weights.sample(&mut rng)];
            GeoPoint {
                lat: (city.location.lat + rng.random_range(-0.27..0.27)).clamp(-90.0, 90.0),
                lon: normalize_lon(city.location.lon + rng.random_range(-0.27..0.27)),
            }
        })
        .collect();
    let radius_request = |center: GeoPoint, radius: f64| VendorSearchRequest {
        near: Some(center),
        radius_km: Some(radius),
        sort: VendorSort::Distance,
        ..VendorSearchRequest::default()
    };
    for radius in [10.0, 50.0, 200.0] {
        let (mut samples, hits) =
            timed(&centers, |&center| index.search(&radius_request(center, radius)).expect("search").total_hits);
        summary(&format!("geo radius {radius} km, by distance, page of 20"), &mut samples, hits, "matching vendors");
    }
    let (mut samples, hits) =
        timed(&centers, |&center| index.search_ids(&radius_request(center, 50.0), 20).expect("search").0);
    summary("geo radius 50 km, by distance, top 20 ids (no document loads)", &mut samples, hits, "matching vendors");
    let boxed =
        |c: GeoPoint| VendorSearchRequest { bbox: Some(GeoRect::around(c, 50.0)), ..VendorSearchRequest::default() };
    let (mut samples, hits) = timed(&centers, |&center| index.search(&boxed(center)).expect("search").total_hits);
    summary("geo box 100 x 100 km, page of 20", &mut samples, hits, "matching vendors");

    let rfis: Vec<Rfi> = centers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let category = &categories[i % categories.len()];
            let sub = category.rsplit('/').next().unwrap_or(category).to_lowercase();
            Rfi {
                category: category.clone(),
                description: format!("bulk order of {sub}, delivery needed"),
                location: *c,
                max_distance_km: Some(100.0),
                quantity: Some(50),
                budget: None,
                needed_by: None,
                language: None,
                filter: None,
                limit: 10,
            }
        })
        .collect();
    let (mut samples, hits) = timed(&rfis, |rfi| index.match_rfi(rfi).expect("match").candidates);
    summary("vendor match, 100 km, top 10", &mut samples, hits, "candidates");
    // Without a maximum distance: every vendor that serves the location is a candidate.
    let anywhere: Vec<Rfi> = rfis.iter().map(|r| Rfi { max_distance_km: None, ..r.clone() }).collect();
    let (mut samples, hits) = timed(&anywhere, |rfi| index.match_rfi(rfi).expect("match").candidates);
    summary("vendor match, any distance, top 10", &mut samples, hits, "candidates");

    let mut group = c.benchmark_group("geo");
    group.sample_size(20);
    let mut i = 0;
    group.bench_function("radius_50km_by_distance_1M", |b| {
        b.iter(|| {
            i = (i + 1) % centers.len();
            index.search(&radius_request(centers[i], 50.0)).expect("search").hits.len()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("vendor_match");
    group.sample_size(20);
    group.bench_function("match_100km_top10_1M", |b| {
        b.iter(|| {
            i = (i + 1) % rfis.len();
            index.match_rfi(&rfis[i]).expect("match").hits.len()
        })
    });
    group.finish();
}

criterion_group!(benches, geo);
criterion_main!(benches);
