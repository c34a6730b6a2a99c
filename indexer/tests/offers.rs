//! Product search near a shopper against brute force, over a generated marketplace on real
//! data: BigBasket's products, 20,000 vendors at GeoNames cities (some with more branches, some
//! with delivery zones) plus outposts at the poles and on both sides of the antimeridian (with
//! zones that cross it), and 150,000 offers. For points at cities, uniform, in the antimeridian
//! band and the polar caps, with random product filters, offer conditions and offer orders: the
//! products found, each one's best serving offer, how many offers serve, and the order by price
//! equal a computation over every vendor and offer, whose point-in-zone is the `geo` crate's.
//!
//! `SEARCHD_NEAR_OFFERS` sets the number of offers (150,000 by default; the acceptance run by
//! hand uses 1,000,000).

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use proptest::prelude::*;
use rand::SeedableRng;
use searchd_catalog::filter::Filter;
use searchd_catalog::geo::normalize_lon;
use searchd_catalog::near::{OfferKey, OfferRow, OfferSort};
use searchd_catalog::zones::Coverage;
use searchd_catalog::{FacetField, GeoPoint, Offer, OfferCondition, Product, SearchRequest, SortBy, Vendor};
use searchd_indexer::{IndexConfig, OfferIndex, ProductIndex, VendorIndex};
use searchd_testkit::vendors::{categories, cities, generate, spread, zone_around};

struct Market {
    products: ProductIndex,
    vendors: VendorIndex,
    offers: OfferIndex,
    catalog: Vec<Product>,
    vendor_rows: Vec<(Vendor, Coverage, Vec<geo::Polygon<f64>>)>,
    offer_rows: Vec<Offer>,
    cities: Vec<GeoPoint>,
}

static MARKET: LazyLock<Option<Market>> = LazyLock::new(|| {
    let (cities, categories) = (cities()?, categories()?);
    let catalog: Vec<Product> =
        searchd_testkit::bigbasket_products()?.into_iter().filter(|p| p.validate().is_ok()).collect();
    let mut vendors = generate(&cities, &categories, 20_000, 11);
    spread(&mut vendors, 0.1, 0.05, 11);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for i in 0..1_500u32 {
        let u = f64::from(i);
        let lat = match i % 3 {
            0 => -70.0 + (u * 7.919) % 140.0,
            1 => 80.0 + (u * 0.6180) % 10.0,
            _ => -90.0 + (u * 0.3819) % 10.0,
        };
        let lon = normalize_lon(172.0 + (u * 0.7133) % 16.0);
        let mut outpost = Vendor::new(format!("u{i}"), format!("Outpost {i}"), GeoPoint { lat, lon }, 300.0);
        if i % 3 == 0 {
            outpost.service_areas.push(zone_around(outpost.location, 100.0, 900.0, 7, &mut rng));
        }
        vendors.push(outpost);
    }
    let n = std::env::var("SEARCHD_NEAR_OFFERS").ok().and_then(|n| n.parse().ok()).unwrap_or(150_000);
    let offers = searchd_testkit::offers::generate(&catalog, &vendors, n, 11);

    let config = IndexConfig::small();
    let products = super::index_of(catalog.clone());
    let vendor_index = VendorIndex::in_memory(&config).unwrap();
    vendor_index.upsert(vendors.clone()).unwrap();
    vendor_index.commit().unwrap();
    let offer_index = OfferIndex::in_memory(&config).unwrap();
    for chunk in offers.chunks(50_000) {
        offer_index.upsert(chunk.to_vec()).unwrap();
        offer_index.commit().unwrap();
    }
    assert_eq!(offer_index.num_docs(), offers.len() as u64);
    let vendor_rows = vendors
        .into_iter()
        .map(|v| (v.coverage().unwrap(), reference_zones(&v), v))
        .map(|(c, z, v)| (v, c, z))
        .collect();
    Some(Market {
        products,
        vendors: vendor_index,
        offers: offer_index,
        catalog,
        vendor_rows,
        offer_rows: offers,
        cities: cities.iter().map(|c| c.location).collect(),
    })
});

/// The brute force: per product, its best serving offer (id, key), how many serve, and their
/// vendors.
fn brute_force(
    market: &Market,
    p: GeoPoint,
    request: &SearchRequest,
    keep_product: &dyn Fn(&Product) -> bool,
) -> HashMap<String, (String, OfferKey, u64, BTreeSet<String>)> {
    let conditions = request.offer_conditions().unwrap();
    let serving: HashMap<&str, f64> = market
        .vendor_rows
        .iter()
        .filter(|(v, c, zones)| v.available && serves(c, zones, p))
        .map(|(v, c, _)| (v.id.as_str(), c.nearest_branch(p).unwrap().1))
        .collect();
    let kept: std::collections::HashSet<&str> =
        market.catalog.iter().filter(|product| keep_product(product)).map(|product| product.id.as_str()).collect();
    let mut best: HashMap<String, (String, OfferKey, u64, BTreeSet<String>)> = HashMap::new();
    for offer in &market.offer_rows {
        let Some(&distance_km) = serving.get(offer.vendor_id.as_str()) else { continue };
        let row = OfferRow {
            price: offer.price,
            stock: offer.stock,
            lead_time_days: offer.lead_time_days,
            condition: offer.condition,
            currency: offer.currency.as_deref(),
            vendor_id: &offer.vendor_id,
        };
        if offer.stock == 0 || !conditions.holds(&row) || !kept.contains(offer.product_id.as_str()) {
            continue;
        }
        let key = OfferKey { price: offer.price, lead_time_days: offer.lead_time_days, distance_km };
        let entry = best.entry(offer.product_id.clone()).or_insert_with(|| (offer.id.clone(), key, 0, BTreeSet::new()));
        entry.2 += 1;
        entry.3.insert(offer.vendor_id.clone());
        if request.offer_sort.compare((&key, &offer.id), (&entry.1, &entry.0)).is_lt() {
            (entry.0, entry.1) = (offer.id.clone(), key);
        }
    }
    best
}

/// A vendor's zones as `geo` polygons, each ring's longitudes taken within half a turn of the
/// vendor's location (the generated zones lie around it), so a zone across the antimeridian runs
/// past ±180 as one piece.
fn reference_zones(vendor: &Vendor) -> Vec<geo::Polygon<f64>> {
    let near = |lon: f64| {
        [lon, lon + 360.0, lon - 360.0]
            .into_iter()
            .min_by(|a, b| (a - vendor.location.lon).abs().total_cmp(&(b - vendor.location.lon).abs()))
            .unwrap()
    };
    let ring = |positions: &Vec<geojson::Position>| {
        geo::LineString::from(positions.iter().map(|p| (near(p[0]), p[1])).collect::<Vec<_>>())
    };
    let polygon =
        |rings: &Vec<Vec<geojson::Position>>| geo::Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect());
    vendor
        .service_areas
        .iter()
        .flat_map(|zone| match &zone.value {
            geojson::GeometryValue::Polygon { coordinates } => vec![polygon(coordinates)],
            geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().map(polygon).collect(),
            other => panic!("not a zone: {other:?}"),
        })
        .collect()
}

/// Whether a branch's circle holds `p` (the vendor index's distance) or a zone does (`geo`'s
/// point-in-polygon, at the point's longitude or a turn either side).
fn serves(coverage: &Coverage, zones: &[geo::Polygon<f64>], p: GeoPoint) -> bool {
    use geo::Contains;
    coverage.branches.iter().any(|(b, r)| searchd_catalog::geo::haversine_km(*b, p) <= *r)
        || zones
            .iter()
            .any(|z| [p.lon, p.lon + 360.0, p.lon - 360.0].into_iter().any(|x| z.contains(&geo::Point::new(x, p.lat))))
}

fn point() -> impl Strategy<Value = (usize, f64, f64)> {
    prop_oneof![
        3 => (0usize..1_000_000, Just(f64::NAN), Just(f64::NAN)),
        1 => (Just(usize::MAX), -90.0f64..=90.0, -180.0f64..180.0),
        1 => (Just(usize::MAX), -70.0f64..=70.0, prop_oneof![170.0f64..180.0, -180.0f64..-170.0]),
        1 => (Just(usize::MAX), prop_oneof![80.0f64..=90.0, -90.0f64..=-80.0], -180.0f64..180.0),
    ]
}

/// Offer conditions: none, a price cap, a lead time, both (on one offer), a condition or currency.
fn conditions() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => (5.0f64..500.0).prop_map(|p| Some(format!("offer.price < {p:.2}"))),
        1 => (0u32..7).prop_map(|d| Some(format!("offer.lead_time_days <= {d}"))),
        2 => (5.0f64..500.0, 0u32..7).prop_map(|(p, d)| Some(format!("offer.price < {p:.2} AND offer.lead_time_days <= {d}"))),
        1 => Just(Some("offer.condition IN [used, refurbished] OR offer.currency = usd".to_string())),
        1 => (10.0f64..300.0).prop_map(|p| Some(format!("price <= {p:.2} AND offer.stock >= 5"))),
    ]
}

fn offer_sort() -> impl Strategy<Value = OfferSort> {
    prop_oneof![Just(OfferSort::Price), Just(OfferSort::LeadTime), Just(OfferSort::Distance)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn near_search_equals_brute_force(
        (city, lat, lon) in point(),
        brand_of in prop::option::weighted(0.2, 0usize..30_000),
        offer_filter in conditions(),
        offer_sort in offer_sort(),
        by_price in any::<bool>(),
    ) {
        let Some(market) = MARKET.as_ref() else { return Ok(()) };
        let p = if city == usize::MAX { GeoPoint { lat, lon } } else { market.cities[city % market.cities.len()] };
        let brand = brand_of.and_then(|i| market.catalog[i % market.catalog.len()].brand.clone());
        let product_filter = brand.as_ref().map(|b| format!("brand = \"{}\"", b.replace('"', "\\\"")));
        let text: Vec<String> = product_filter.into_iter().chain(offer_filter.map(|f| format!("({f})"))).collect();
        let filter = (!text.is_empty()).then(|| Filter::parse(&text.join(" AND ")).unwrap());
        let sort: SortBy = if by_price { "price:asc".parse().unwrap() } else { SortBy::relevance() };
        let facets = vec![FacetField::Named("vendor".into()), FacetField::Named("price".into())];
        let (max_values_per_facet, facet_ranges) = (1_000, [("price".to_string(), vec!["-100".parse().unwrap(), "100-".parse().unwrap()])].into());
        let request = SearchRequest { near: Some(p), filter, offer_sort, sort, per_page: 100, facets, max_values_per_facet, facet_ranges, ..SearchRequest::default() };
        let want = brute_force(market, p, &request, &|product| brand.is_none() || product.brand == brand);

        let near = market.offers.near(&market.vendors, &market.products, p, &request.offer_conditions().unwrap(), offer_sort).unwrap();
        let ranker = super::scorer();
        let response = market.products.search_near(&request, &ranker, &near).unwrap();
        prop_assert_eq!(response.total_hits as usize, want.len(), "at {:?} with {:?}", p, request.filter.as_ref().map(|f| f.to_string()));
        for hit in &response.hits {
            let (id, key, count, _) = &want[&hit.product.id];
            let offer = hit.offer.as_ref().unwrap();
            prop_assert_eq!(&offer.offer.id, id, "best offer of {}", hit.product.id);
            prop_assert_eq!(offer.serving_offers, *count);
            prop_assert!((offer.distance_km - key.distance_km).abs() < 1e-6, "{} vs {}", offer.distance_km, key.distance_km);
        }
        prop_assert_eq!(response.hits.len(), want.len().min(100));
        // Facets from the offers: products per seller, and the best offers' price stats.
        let mut sellers: HashMap<&str, u64> = HashMap::new();
        for vendor in want.values().flat_map(|w| &w.3) {
            *sellers.entry(vendor.as_str()).or_default() += 1;
        }
        let mut sellers: Vec<(String, u64)> = sellers.into_iter().map(|(v, n)| (v.to_string(), n)).collect();
        sellers.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let got: Vec<(String, u64)> = response.facets["vendor"].iter().map(|f| (f.value.clone(), f.count)).collect();
        prop_assert_eq!(got, sellers);
        let stats = &response.facet_stats["price"];
        prop_assert_eq!(stats.count as usize, want.len());
        let cheap = want.values().filter(|w| w.1.price < 100.0).count() as u64;
        prop_assert_eq!((stats.ranges[0].count, stats.ranges[1].count), (cheap, want.len() as u64 - cheap));
        if let Some(min) = want.values().map(|w| w.1.price).reduce(f64::min) {
            prop_assert_eq!(stats.min, Some(min));
        }
        if by_price {
            let mut prices: Vec<f64> = want.values().map(|(_, k, _, _)| k.price).collect();
            prices.sort_by(f64::total_cmp);
            let got: Vec<f64> = response.hits.iter().map(|h| h.offer.as_ref().unwrap().offer.price).collect();
            prop_assert_eq!(&got[..], &prices[..got.len()]);
        }
    }
}

/// `offer.price < X AND offer.lead_time_days <= Y` holds for one and the same offer: a product
/// with a cheap slow offer and a dear fast one does not match, though each condition alone does.
#[test]
fn offer_conditions_hold_for_one_offer() {
    let config = IndexConfig::small();
    let products = super::index_of([Product::new("drill", "Cordless drill"), Product::new("saw", "Circular saw")]);
    let vendors = VendorIndex::in_memory(&config).unwrap();
    let here = GeoPoint { lat: 48.86, lon: 2.34 };
    vendors.upsert(vec![Vendor::new("v1", "Near", here, 50.0), Vendor::new("v2", "Also near", here, 50.0)]).unwrap();
    vendors.commit().unwrap();
    let offers = OfferIndex::in_memory(&config).unwrap();
    let offer = |id: &str, product: &str, vendor: &str, price: f64, lead_time_days: u32| Offer {
        stock: 3,
        lead_time_days,
        condition: OfferCondition::New,
        ..Offer::new(id, product, vendor, price)
    };
    offers
        .upsert(vec![
            offer("cheap-slow", "drill", "v1", 40.0, 9),
            offer("dear-fast", "drill", "v2", 90.0, 1),
            offer("saw-both", "saw", "v1", 45.0, 1),
        ])
        .unwrap();
    offers.commit().unwrap();
    let found = |filter: &str| -> Vec<String> {
        let request = SearchRequest {
            near: Some(here),
            filter: Some(Filter::parse(filter).unwrap()),
            ..SearchRequest::default()
        };
        let near =
            offers.near(&vendors, &products, here, &request.offer_conditions().unwrap(), request.offer_sort).unwrap();
        let mut ids: Vec<String> = products
            .search_near(&request, &super::scorer(), &near)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.product.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(found("offer.price < 50"), ["drill", "saw"]);
    assert_eq!(found("offer.lead_time_days <= 2"), ["drill", "saw"]);
    assert_eq!(found("offer.price < 50 AND offer.lead_time_days <= 2"), ["saw"]);
    // Out of stock offers never serve, and a deleted vendor's offers go with it.
    offers.upsert(vec![Offer { stock: 0, ..offer("saw-both", "saw", "v1", 45.0, 1) }]).unwrap();
    offers.commit().unwrap();
    assert_eq!(found("offer.lead_time_days <= 2"), ["drill"]);
    vendors.delete("v2", 0).unwrap();
    vendors.commit().unwrap();
    assert_eq!(found("offer.lead_time_days <= 2"), Vec::<String>::new());
    assert_eq!(found("offer.price < 50"), ["drill"]);
    // A product written again is in a new segment, where its offers find it; a deleted
    // product's offers find nothing.
    let drill = Product::new("drill", "Cordless drill, new model");
    products.apply(searchd_catalog::CatalogEvent::Upsert { product: drill }).unwrap();
    products.commit().unwrap();
    assert_eq!(found("offer.price < 50"), ["drill"]);
    products.apply(searchd_catalog::CatalogEvent::Delete { id: "drill".into(), version: 0 }).unwrap();
    products.commit().unwrap();
    assert_eq!(found("offer.price < 50"), Vec::<String>::new());
}

/// Matching with offers: of two vendors equal but for their offers, the one whose offer covers
/// the request's quantity, budget and date ranks first, and each breakdown says which asks its
/// best offer meets; a vendor outside the category that sells products in it is listed for its
/// offers; a vendor without offers gets no supply.
#[test]
fn matching_ranks_vendors_whose_offers_meet_the_request_first() {
    let config = IndexConfig::small();
    let mut drill = Product::new("drill", "Cordless drill");
    drill.category = vec!["Tools".into(), "Drills".into()];
    let mut saw = Product::new("saw", "Circular saw");
    saw.category = vec!["Tools".into(), "Saws".into()];
    let products = super::index_of([drill, saw]);
    let here = GeoPoint { lat: 48.86, lon: 2.34 };
    let vendor = |id: &str, category: &str| {
        let mut v = Vendor::new(id, format!("Vendor {id}"), here, 50.0);
        v.categories = vec![category.into()];
        v.description = "power tools for trade customers".into();
        v
    };
    let vendors = VendorIndex::in_memory(&config).unwrap();
    // "short" first: with equal scores, document order would put it first.
    let all = [
        vendor("short", "Tools/Drills"),
        vendor("plain", "Tools/Drills"),
        vendor("able", "Tools/Drills"),
        vendor("garden", "Garden/Hoses"),
    ];
    vendors.upsert(all.to_vec()).unwrap();
    vendors.commit().unwrap();
    let offers = OfferIndex::in_memory(&config).unwrap();
    let offer = |id: &str, product: &str, vendor: &str, price: f64, stock: u64, lead_time_days: u32| Offer {
        stock,
        lead_time_days,
        ..Offer::new(id, product, vendor, price)
    };
    offers
        .upsert(vec![
            offer("a1", "drill", "able", 8.0, 100, 2),
            offer("s1", "drill", "short", 60.0, 3, 30),
            offer("g1", "drill", "garden", 9.0, 80, 1),
            offer("a-saw", "saw", "able", 1.0, 1_000, 0),
        ])
        .unwrap();
    offers.commit().unwrap();
    let now = 1_800_000_000;
    let rfi = |asks: bool| searchd_catalog::Rfi {
        category: "Tools/Drills".into(),
        description: "cordless drills for a building site".into(),
        location: here,
        max_distance_km: Some(100.0),
        quantity: asks.then_some(50),
        budget: asks.then_some(500.0),
        needed_by: asks.then(|| time::OffsetDateTime::from_unix_timestamp(now + 7 * 86_400).unwrap()),
        language: None,
        filter: None,
        limit: 10,
    };
    let matched = |rfi: &searchd_catalog::Rfi| {
        rfi.validate_at(now).unwrap();
        let supply = offers.supply(&vendors, &products, rfi, now).unwrap();
        let mut response = vendors.match_rfi_with(rfi, Some(&supply.fits())).unwrap();
        supply.attach(&mut response.hits).unwrap();
        response
    };
    let response = matched(&rfi(true));
    let order: Vec<&str> = response.hits.iter().map(|h| h.vendor.id.as_str()).collect();
    assert_eq!(order[0], "able", "{order:?}");
    let by_id = |id: &str| response.hits.iter().find(|h| h.vendor.id == id).unwrap();
    let (able, short, plain) = (by_id("able"), by_id("short"), by_id("plain"));
    let fit = |q, b, t| searchd_catalog::OfferFit { quantity: Some(q), budget: Some(b), on_time: Some(t) };
    assert_eq!(able.breakdown.offer_fit, Some(fit(true, true, true)));
    assert_eq!(able.offer.as_ref().unwrap().id, "a1", "the saw is not in the category");
    assert!((able.breakdown.supply - searchd_catalog::MatchBreakdown::SUPPLY).abs() < 1e-12);
    assert_eq!(short.breakdown.offer_fit, Some(fit(false, false, false)));
    assert_eq!(short.breakdown.supply, 0.0);
    assert!(able.score > short.score && able.score > plain.score);
    assert_eq!((plain.breakdown.offer_fit, plain.offer.as_ref()), (None, None));
    let garden = by_id("garden");
    assert_eq!(garden.breakdown.fit, searchd_catalog::MatchFit::Offers);
    assert!(
        (garden.score
            - garden.breakdown.supply
            - garden.breakdown.text
            - garden.breakdown.category
            - garden.breakdown.distance
            - garden.breakdown.rating
            - garden.breakdown.availability)
            .abs()
            < 1e-12
    );
    // Asking nothing: any offer in the category is worth the whole supply weight.
    let response = matched(&rfi(false));
    let short = response.hits.iter().find(|h| h.vendor.id == "short").unwrap();
    assert_eq!(short.breakdown.offer_fit, Some(searchd_catalog::OfferFit::default()));
    assert!((short.breakdown.supply - searchd_catalog::MatchBreakdown::SUPPLY).abs() < 1e-12);
    // A date that has passed is refused, naming the field.
    let mut late = rfi(true);
    late.needed_by = Some(time::OffsetDateTime::from_unix_timestamp(now - 1).unwrap());
    assert_eq!(late.validate_at(now).unwrap_err().param(), "needed_by");
}

/// Phase 2 as a test reads it: the `offer_nearness` feature alone.
#[derive(Debug)]
struct ByNearness;

impl searchd_catalog::SecondPhase for ByNearness {
    fn version(&self) -> &str {
        "by-nearness"
    }

    fn score(&self, features: &searchd_catalog::FeatureVector) -> f32 {
        features[searchd_catalog::feature_index("offer_nearness").unwrap()]
    }

    fn contributions(&self, features: &searchd_catalog::FeatureVector) -> Vec<searchd_catalog::FeatureContribution> {
        vec![searchd_catalog::FeatureContribution {
            name: "offer_nearness".into(),
            value: features[searchd_catalog::feature_index("offer_nearness").unwrap()],
            contribution: self.score(features),
        }]
    }
}

/// Near a shopper, the best offer's distance is a phase-1 factor (shown by explain) and the
/// phase-2 feature `offer_nearness`: of two products the words match alike, the one sold near
/// ranks first; without `near` neither counts.
#[test]
fn distance_counts_in_both_phases_near_a_shopper() {
    use searchd_catalog::near::{near_factor, nearness};
    let config = IndexConfig::small();
    let products = super::index_of([Product::new("far", "Cordless drill"), Product::new("near", "Cordless drill")]);
    let here = GeoPoint { lat: 48.86, lon: 2.34 };
    let at = |km: f64| searchd_catalog::geo::destination(here, 90.0, km);
    let vendors = VendorIndex::in_memory(&config).unwrap();
    vendors
        .upsert(vec![Vendor::new("v-near", "Near", at(2.0), 50.0), Vendor::new("v-far", "Far", at(40.0), 50.0)])
        .unwrap();
    vendors.commit().unwrap();
    let offers = OfferIndex::in_memory(&config).unwrap();
    let offer = |id: &str, product: &str, vendor: &str| Offer { stock: 1, ..Offer::new(id, product, vendor, 10.0) };
    offers.upsert(vec![offer("o-far", "far", "v-far"), offer("o-near", "near", "v-near")]).unwrap();
    offers.commit().unwrap();
    let request = SearchRequest { q: "drill".into(), near: Some(here), explain: true, ..SearchRequest::default() };
    let near =
        offers.near(&vendors, &products, here, &request.offer_conditions().unwrap(), request.offer_sort).unwrap();
    let first = super::scorer();
    let response = products.search_near(&request, &first, &near).unwrap();
    let order: Vec<&str> = response.hits.iter().map(|h| h.product.id.as_str()).collect();
    assert_eq!(order, ["near", "far"]);
    let (a, b) = (&response.hits[0], &response.hits[1]);
    let ratio = a.score / b.score;
    let (d_near, d_far) = (a.offer.as_ref().unwrap().distance_km, b.offer.as_ref().unwrap().distance_km);
    assert!((f64::from(ratio) - near_factor(d_near) / near_factor(d_far)).abs() < 1e-4, "{ratio} {d_near} {d_far}");
    let distance = a.explain.as_ref().unwrap().phase1.components.iter().find(|c| c.name == "distance").unwrap();
    assert!((distance.value - d_near).abs() < 1e-9 && (distance.factor - near_factor(d_near)).abs() < 1e-9);
    // Phase 2 reads the feature: its score is the nearness of each hit's best offer.
    let second = super::scorer().with_second(Some(std::sync::Arc::new(ByNearness)));
    let response = products.search_near(&request, &second, &near).unwrap();
    for hit in &response.hits {
        let d = hit.offer.as_ref().unwrap().distance_km;
        assert!((f64::from(hit.score) - nearness(d)).abs() < 1e-6, "{} {d}", hit.score);
    }
    assert_eq!(response.hits[0].product.id, "near");
    // Without `near`, the two score alike.
    let plain = products.search(&SearchRequest { q: "drill".into(), ..SearchRequest::default() }, &first).unwrap();
    assert_eq!(plain.hits[0].score, plain.hits[1].score);
}
