//! Requests for information as documents: reverse matching against forward matching over a
//! generated marketplace on real data (3,000 vendors at GeoNames cities, some with more branches
//! or delivery zones; BigBasket's products and 30,000 offers; 800 requests at cities, some
//! closed or expired), and the request search's conditions.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use proptest::prelude::*;
use searchd_catalog::{
    GeoPoint, MatchBreakdown, Product, RfiDocument, RfiSearchRequest, RfiSort, RfiState, RfiStatus, Vendor,
};
use searchd_indexer::{IndexConfig, Market, OfferIndex, ProductIndex, RfiIndex, VendorIndex};
use searchd_testkit::vendors::{categories, cities, generate, spread};

/// When the requests are looked at (2027-01-15).
const NOW: i64 = 1_800_000_000;

struct World {
    products: ProductIndex,
    vendors: VendorIndex,
    offers: OfferIndex,
    rfis: RfiIndex,
    vendor_ids: Vec<String>,
    /// Per vendor: the open requests forward matching lists it for, with its breakdown.
    forward: HashMap<String, HashMap<String, MatchBreakdown>>,
}

impl World {
    fn market(&self) -> Market<'_> {
        Market { vendors: &self.vendors, offers: &self.offers, products: &self.products }
    }
}

static WORLD: LazyLock<Option<World>> = LazyLock::new(|| {
    let (cities, categories) = (cities()?, categories()?);
    let catalog: Vec<Product> =
        searchd_testkit::bigbasket_products()?.into_iter().filter(|p| p.validate().is_ok()).collect();
    let mut vendors = generate(&cities, &categories, 3_000, 23);
    spread(&mut vendors, 0.1, 0.1, 23);
    let offers = searchd_testkit::offers::generate(&catalog, &vendors, 30_000, 23);
    let rfis = searchd_testkit::rfis::generate(&cities, &categories, 800, NOW, 23);

    let config = IndexConfig::small();
    let categories_of: HashMap<String, Vec<String>> =
        catalog.iter().map(|p| (p.id.clone(), p.category.clone())).collect();
    let offer_rows = offers.clone();
    let products = super::index_of(catalog);
    let vendor_index = VendorIndex::in_memory(&config).unwrap();
    vendor_index.upsert(vendors.clone()).unwrap();
    vendor_index.commit().unwrap();
    let offer_index = OfferIndex::in_memory(&config).unwrap();
    offer_index.upsert(offers).unwrap();
    offer_index.commit().unwrap();
    let rfi_index = RfiIndex::in_memory(&config).unwrap();
    for chunk in rfis.chunks(300) {
        rfi_index.upsert(chunk.to_vec()).unwrap();
        rfi_index.commit().unwrap();
    }

    // Forward matching for every request, open or not, with the largest limit.
    let mut forward: HashMap<String, HashMap<String, MatchBreakdown>> = HashMap::new();
    let mut closed_matched = 0;
    for rfi in &rfis {
        let request = rfi.request(100);
        let supply = offer_index.supply(&vendor_index, &products, &request, NOW).unwrap();
        let response = vendor_index.match_rfi_with(&request, Some(&supply.fits())).unwrap();
        // What the vendors supply, computed over every offer (serving the location or not):
        // matching with it lists the same vendors with the same breakdowns.
        let brute = brute_supply(&request, &offer_rows, &categories_of);
        let want = vendor_index.match_rfi_with(&request, Some(&brute)).unwrap();
        let pairs = |r: &searchd_catalog::MatchResponse| -> Vec<(String, MatchBreakdown)> {
            r.hits.iter().map(|h| (h.vendor.id.clone(), h.breakdown)).collect()
        };
        assert_eq!(pairs(&response), pairs(&want), "supply for {}", rfi.id);
        assert!(response.candidates <= 100, "{} has {} candidates: all must be listed", rfi.id, response.candidates);
        if !rfi.is_open_at(NOW) {
            closed_matched += response.hits.len();
            continue;
        }
        for hit in response.hits {
            forward.entry(hit.vendor.id).or_default().insert(rfi.id.clone(), hit.breakdown);
        }
    }
    // The test can fail: requests closed by status or time would be listed if they were not
    // left out, and most vendors are asked about requests they do match.
    assert!(closed_matched > 50, "{closed_matched}");
    let open = rfis.iter().filter(|r| r.is_open_at(NOW)).count();
    assert!((500..750).contains(&open), "{open} open requests");
    assert!(forward.len() > 300, "{} vendors match some request", forward.len());
    let mut vendor_ids: Vec<String> = forward.keys().cloned().collect();
    vendor_ids.sort();
    vendor_ids.extend(vendors.iter().map(|v: &Vendor| v.id.clone()));
    Some(World { products, vendors: vendor_index, offers: offer_index, rfis: rfi_index, vendor_ids, forward })
});

/// Per vendor, its best in-stock offer of a product in the request's category (meeting most
/// asks, then the cheapest, then the first by id), over every offer.
fn brute_supply(
    rfi: &searchd_catalog::Rfi,
    offers: &[searchd_catalog::Offer],
    categories_of: &HashMap<String, Vec<String>>,
) -> HashMap<String, searchd_catalog::OfferFit> {
    let wanted: Vec<&str> = rfi.category.split('/').map(str::trim).collect();
    let mut best: HashMap<&str, (searchd_catalog::OfferFit, f64, &str)> = HashMap::new();
    for offer in offers.iter().filter(|o| o.stock > 0) {
        let Some(path) = categories_of.get(&offer.product_id) else { continue };
        if path.len() < wanted.len() || path.iter().zip(&wanted).any(|(a, b)| a.trim() != *b) {
            continue;
        }
        let fit = searchd_catalog::OfferFit::of(offer.price, offer.stock, offer.lead_time_days, rfi, NOW);
        let better = |held: &(searchd_catalog::OfferFit, f64, &str)| {
            fit.share()
                .total_cmp(&held.0.share())
                .then(held.1.total_cmp(&offer.price))
                .then(held.2.cmp(offer.id.as_str()))
                .is_gt()
        };
        let entry = best.entry(offer.vendor_id.as_str()).or_insert((fit, offer.price, offer.id.as_str()));
        if better(entry) {
            *entry = (fit, offer.price, offer.id.as_str());
        }
    }
    best.into_iter().map(|(vendor, (fit, ..))| (vendor.to_string(), fit)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A request is in a vendor's list exactly when forward matching lists that vendor for it,
    /// with the same breakdown; the list is ordered by score.
    #[test]
    fn reverse_matching_agrees_with_forward_matching(pick in 0usize..1_000_000, matched in prop::bool::weighted(0.7)) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        let with_requests = world.forward.len();
        let id = if matched { &world.vendor_ids[pick % with_requests] } else { &world.vendor_ids[with_requests + pick % (world.vendor_ids.len() - with_requests)] };
        let want = world.forward.get(id).cloned().unwrap_or_default();
        let got = world.rfis.for_vendor(world.market(), id, NOW, 100).unwrap();
        prop_assert_eq!(got.candidates as usize, want.len(), "vendor {}", id);
        let listed: HashSet<&str> = got.hits.iter().map(|h| h.rfi.id.as_str()).collect();
        let wanted: HashSet<&str> = want.keys().map(String::as_str).collect();
        prop_assert_eq!(&listed, &wanted, "vendor {}", id);
        for hit in &got.hits {
            prop_assert!(hit.rfi.is_open_at(NOW));
            // The stored request's location went through JSON: its last bit may differ.
            let (a, b) = (&hit.breakdown, &want[&hit.rfi.id]);
            let parts = |m: &MatchBreakdown| [m.text, m.category, m.distance, m.rating, m.availability, m.supply];
            prop_assert!(parts(a).iter().zip(parts(b)).all(|(x, y)| (x - y).abs() < 1e-9), "vendor {} for {}: {:?} vs {:?}", id, hit.rfi.id, a, b);
            prop_assert_eq!((a.fit, a.offer_fit), (b.fit, b.offer_fit));
            prop_assert_eq!(hit.offer.is_some(), hit.breakdown.offer_fit.is_some());
        }
        prop_assert!(got.hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
}

/// The request search: words, category, area, dates and state, each against the obvious answer.
#[test]
fn request_search_holds_each_condition() {
    let config = IndexConfig::small();
    let index = RfiIndex::in_memory(&config).unwrap();
    let vienna = GeoPoint { lat: 48.2082, lon: 16.3738 };
    let prague = GeoPoint { lat: 50.0755, lon: 14.4378 };
    let at = |days: i64| Some(time::OffsetDateTime::from_unix_timestamp(NOW + days * 86_400).unwrap());
    let rfi = |id: &str, category: &str, description: &str, location, needed_by| RfiDocument {
        needed_by,
        created_at: at(-10 + id.len() as i64),
        ..RfiDocument::new(id, category, description, location)
    };
    let mut closed = rfi("closed", "Industrial/Machining", "milled aluminium brackets", vienna, at(20));
    closed.status = RfiStatus::Closed;
    let mut expired = rfi("expired", "Industrial/Machining", "milled steel brackets", vienna, at(20));
    expired.expires_at = at(-1);
    index
        .upsert(vec![
            rfi("brackets", "Industrial/Machining", "500 anodised aluminium brackets, CNC milled", vienna, at(30)),
            rfi("late", "Industrial/Machining", "bracket welding", vienna, at(-2)),
            rfi("prague", "Industrial/Machining/CNC", "aluminium housings milled", prague, at(10)),
            rfi("paint", "Industrial/Coating", "powder coating of brackets", prague, None),
            closed,
            expired,
        ])
        .unwrap();
    index.commit().unwrap();
    let ids = |request: RfiSearchRequest| -> Vec<String> {
        index.search(&request, NOW).unwrap().hits.into_iter().map(|h| h.rfi.id).collect()
    };
    let q = |q: &str| RfiSearchRequest { q: Some(q.into()), ..Default::default() };
    // Stemmed words: "bracket" finds "brackets"; closed and expired ones are left out.
    let mut found = ids(q("bracket"));
    found.sort();
    assert_eq!(found, ["brackets", "paint"]);
    assert_eq!(ids(RfiSearchRequest { status: RfiState::Closed, ..q("brackets") }).len(), 3);
    assert_eq!(ids(RfiSearchRequest { status: RfiState::Any, ..q("brackets") }).len(), 5);
    // A category holds its subcategories.
    let category =
        |c: &str| RfiSearchRequest { category: Some(c.into()), sort: RfiSort::NeededBy, ..Default::default() };
    assert_eq!(ids(category("Industrial/Machining")), ["prague", "brackets"]);
    assert_eq!(ids(category("Industrial")), ["prague", "brackets", "paint"], "undated last");
    // Within 50 km of Vienna; Prague is 250 km away.
    let near = RfiSearchRequest { near: Some(vienna), radius_km: Some(50.0), ..Default::default() };
    assert_eq!(ids(near), ["brackets"]);
    let by_distance = RfiSearchRequest { near: Some(prague), sort: RfiSort::Distance, ..Default::default() };
    let response = index.search(&by_distance, NOW).unwrap();
    let distances: Vec<f64> = response.hits.iter().map(|h| h.distance_km.unwrap()).collect();
    assert_eq!(distances.len(), 3);
    assert!(distances[0] < 1.0 && (distances[2] - 251.6).abs() < 2.0, "{distances:?}");
    // Needed within two weeks; an undated request is needed at no particular time.
    let soon = RfiSearchRequest { needed_before: Some(NOW + 14 * 86_400), ..Default::default() };
    assert_eq!(ids(soon), ["prague"]);
    let newest = RfiSearchRequest { sort: RfiSort::Newest, ..Default::default() };
    assert_eq!(ids(newest), ["brackets", "prague", "paint"]);
    // Deleting one takes it out after the commit.
    index.delete("prague", 0).unwrap();
    index.commit().unwrap();
    assert_eq!(ids(category("Industrial/Machining")), ["brackets"]);
    assert_eq!(index.get("brackets").unwrap().needed_by, at(30));
}
