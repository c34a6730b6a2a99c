//! Product search near a shopper over a generated marketplace: BigBasket's products, 20,000
//! vendors at GeoNames cities (population weighted; a tenth with more branches, a twentieth with
//! delivery zones) and 1,000,000 offers (`searchd_testkit::offers`).
//!
//! Shoppers stand at cities drawn by population, jittered by up to about 30 km. Every search is
//! timed alone, from the point to the page of 20 hits with their best offers loaded (the vendors
//! serving the point, their offers, the product search), and the distribution printed:
//! - browsing near me, cheapest first (`q` empty, `sort=price:asc`);
//! - a word near me (a product type, by relevance);
//! - the word with offer conditions (`offer.price < 200 AND offer.lead_time_days <= 3`).
//!
//! - browsing with the sellers and price facets (`facets=vendor,price`).
//!
//! Then an offer's new price, from its upsert to the first search that sees it (one commit), the
//! process's resident memory with the three indexes in memory, and reverse matching: 20,000
//! requests for information at cities, and the open ones 200 vendors can serve, each scored by
//! vendor matching (`RfiIndex::for_vendor`).

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use searchd_benches::{summary, timed};
use searchd_catalog::filter::Filter;
use searchd_catalog::geo::normalize_lon;
use searchd_catalog::{GeoPoint, Offer, Product, Ranker, SearchRequest, TextOnlyScorer};
use searchd_indexer::{IndexConfig, OfferIndex, ProductIndex, VendorIndex};
use searchd_testkit::vendors::{categories, cities, generate, spread};

const VENDORS: usize = 20_000;
const OFFERS: usize = 1_000_000;
const QUERIES: usize = 2_000;
const RFIS: usize = 20_000;

/// Resident memory of this process, MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().split(' ').next()?.parse().ok());
    kib.map_or(f64::NAN, |k: f64| k / 1024.0)
}

fn search(
    products: &ProductIndex,
    vendors: &VendorIndex,
    offers: &OfferIndex,
    ranker: &Ranker,
    request: &SearchRequest,
) -> searchd_catalog::SearchResponse {
    let near = offers
        .near(
            vendors,
            products,
            request.near.expect("near"),
            &request.offer_conditions().expect("conditions"),
            request.offer_sort,
        )
        .expect("offers near");
    products.search_near(request, ranker, &near).expect("search")
}

fn offers(c: &mut Criterion) {
    let (Some(cities), Some(categories), Some(catalog)) =
        (cities(), categories(), searchd_testkit::bigbasket_products())
    else {
        return;
    };
    let catalog: Vec<Product> = catalog.into_iter().filter(|p| p.validate().is_ok()).collect();
    let before = rss_mib();
    let products = searchd_benches::index_products(catalog.clone());
    let mut vendor_rows = generate(&cities, &categories, VENDORS, 42);
    spread(&mut vendor_rows, 0.1, 0.05, 42);
    let config = IndexConfig { writer_memory_mb: 512, commit_every_docs: usize::MAX, ..IndexConfig::default() };
    let vendors = VendorIndex::in_memory(&config).expect("vendor index");
    vendors.upsert(vendor_rows.clone()).expect("vendors");
    vendors.commit().expect("commit");
    vendors.merge_segments().expect("merge");
    let with_catalog = rss_mib();
    let generated = searchd_testkit::offers::generate(&catalog, &vendor_rows, OFFERS, 42);
    let started = Instant::now();
    let offers = OfferIndex::in_memory(&config).expect("offer index");
    for chunk in generated.chunks(100_000) {
        offers.upsert(chunk.to_vec()).expect("offers");
    }
    offers.commit().expect("commit");
    let indexed = started.elapsed().as_secs_f64();
    let started = Instant::now();
    offers.merge_segments().expect("merge");
    let merged = started.elapsed().as_secs_f64();
    let sample = generated[..1_000].to_vec();
    drop(generated);
    let with_offers = rss_mib();
    println!(
        "offers: {} products, {VENDORS} vendors, {OFFERS} offers indexed in {indexed:.1} s ({:.0} offers/s), merged in \
         {merged:.1} s; RSS {before:.0} MiB at start, {with_catalog:.0} MiB with products and vendors, {with_offers:.0} \
         MiB with the offers too",
        products.num_docs(),
        OFFERS as f64 / indexed
    );

    let mut rng = StdRng::seed_from_u64(7);
    let weights = WeightedIndex::new(cities.iter().map(|c| c.population.max(1) as f64)).expect("cities");
    let types: Vec<String> = catalog.iter().filter_map(|p| p.category.get(2)).map(|t| t.to_lowercase()).collect();
    let requests: Vec<(SearchRequest, SearchRequest, SearchRequest)> = (0..QUERIES)
        .map(|_| {
            let city = &cities[weights.sample(&mut rng)];
            let near = GeoPoint {
                lat: (city.location.lat + rng.random_range(-0.27..0.27)).clamp(-90.0, 90.0),
                lon: normalize_lon(city.location.lon + rng.random_range(-0.27..0.27)),
            };
            let browse = SearchRequest {
                near: Some(near),
                sort: "price:asc".parse().expect("sort"),
                ..SearchRequest::default()
            };
            let word = types[rng.random_range(0..types.len())].clone();
            let text = SearchRequest { q: word, near: Some(near), ..SearchRequest::default() };
            let filter = Filter::parse("offer.price < 200 AND offer.lead_time_days <= 3").ok();
            let conditions = SearchRequest { filter, ..text.clone() };
            (browse, text, conditions)
        })
        .collect();
    let ranker = Ranker::first_phase(std::sync::Arc::new(TextOnlyScorer));
    let run = |request: &SearchRequest| search(&products, &vendors, &offers, &ranker, request).total_hits;
    let browse: Vec<SearchRequest> = requests.iter().map(|r| r.0.clone()).collect();
    let (mut samples, hits) = timed(&browse, run);
    summary("offers near me, cheapest first, page of 20", &mut samples, hits, "products");
    let text: Vec<SearchRequest> = requests.iter().map(|r| r.1.clone()).collect();
    let (mut samples, hits) = timed(&text, run);
    summary("offers near me, a word, page of 20", &mut samples, hits, "products");
    let conditioned: Vec<SearchRequest> = requests.iter().map(|r| r.2.clone()).collect();
    let (mut samples, hits) = timed(&conditioned, run);
    summary("offers near me, a word and offer conditions, page of 20", &mut samples, hits, "products");
    let faceted: Vec<SearchRequest> = browse
        .iter()
        .map(|r| SearchRequest {
            facets: vec!["vendor".parse().expect("facet"), "price".parse().expect("facet")],
            ..r.clone()
        })
        .collect();
    let (mut samples, hits) = timed(&faceted, run);
    summary("offers near me, cheapest first, facets=vendor,price", &mut samples, hits, "products");
    // Where the time of browsing goes: the vendors serving the point, then their offers (the
    // vendors again included), then the product search over the best offers.
    let points: Vec<GeoPoint> = browse.iter().filter_map(|r| r.near).collect();
    let (mut samples, count) = timed(&points, |&p| vendors.serving(p).expect("serving").len() as u64);
    summary("  stage: vendors serving the point", &mut samples, count, "vendors");
    let none = searchd_catalog::near::OfferConditions::default();
    let sort = searchd_catalog::near::OfferSort::Price;
    let (mut samples, count) =
        timed(&points, |&p| offers.near(&vendors, &products, p, &none, sort).expect("near").len() as u64);
    summary("  stage: + their offers, best per product", &mut samples, count, "products");
    let tables: Vec<(SearchRequest, searchd_indexer::NearOffers)> = browse
        .iter()
        .take(500)
        .map(|r| (r.clone(), offers.near(&vendors, &products, r.near.expect("near"), &none, sort).expect("near")))
        .collect();
    let (mut samples, count) =
        timed(&tables, |(r, near)| products.search_near(r, &ranker, near).expect("search").total_hits);
    summary("  stage: the product search over them (500 points)", &mut samples, count, "products");

    // An offer's new price: from its upsert to the first search that shows it.
    let mut latencies = Vec::new();
    for (i, offer) in sample.iter().enumerate().filter(|(_, o)| o.stock > 0).take(100) {
        let Some(vendor) = vendor_rows.iter().find(|v| v.id == offer.vendor_id && v.available) else { continue };
        let price = 0.01 * (i + 1) as f64;
        let started = Instant::now();
        offers.upsert(vec![Offer { price, version: 0, ..offer.clone() }]).expect("upsert");
        offers.commit().expect("commit");
        let request = SearchRequest {
            near: Some(vendor.location),
            filter: Filter::parse(&format!("offer.vendor_id = \"{}\"", vendor.id)).ok(),
            sort: "price:asc".parse().expect("sort"),
            ..SearchRequest::default()
        };
        let response = search(&products, &vendors, &offers, &ranker, &request);
        // The stored JSON reads a price back within a unit in the last place.
        let seen = response
            .hits
            .iter()
            .any(|h| h.offer.as_ref().is_some_and(|o| o.offer.id == offer.id && (o.offer.price - price).abs() < 1e-9));
        assert!(seen, "offer {} not visible after its commit", offer.id);
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let n = latencies.len() as f64;
    summary("offer upsert, commit, first search showing it", &mut latencies, n, "offers changed");

    // Reverse matching: the open requests a vendor can serve.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let generated = searchd_testkit::rfis::generate(&cities, &categories, RFIS, now, 42);
    let rfis = searchd_indexer::RfiIndex::in_memory(&config).expect("rfi index");
    rfis.upsert(generated).expect("rfis");
    rfis.commit().expect("commit");
    let market = searchd_indexer::Market { vendors: &vendors, offers: &offers, products: &products };
    let asked: Vec<&str> = (0..200).map(|_| vendor_rows[rng.random_range(0..vendor_rows.len())].id.as_str()).collect();
    let (mut samples, found) = timed(&asked, |id| rfis.for_vendor(market, id, now, 10).expect("reverse").candidates);
    summary(&format!("reverse matching, {RFIS} requests: a vendor's open requests"), &mut samples, found, "requests");

    let mut group = c.benchmark_group("offers");
    group.sample_size(20);
    let mut i = 0;
    group.bench_function("near_cheapest_first_1M_offers", |b| {
        b.iter(|| {
            i = (i + 1) % browse.len();
            run(&browse[i])
        })
    });
    group.finish();
}

criterion_group!(benches, offers);
criterion_main!(benches);
