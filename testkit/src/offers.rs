//! An offer generator for tests and benches: each offer is a vendor's of a product in one of
//! the vendor's categories when the catalog has some (BigBasket's `category / sub_category`
//! paths are the generated vendors' categories), else of any product; priced around the
//! product's price, mostly in stock, mostly new, shipping within two weeks. Deterministic for a
//! seed.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use searchd_catalog::{Offer, OfferCondition, Product, Vendor};

/// `n` offers of `products` by `vendors`, deterministic for `seed`.
pub fn generate(products: &[Product], vendors: &[Vendor], n: usize, seed: u64) -> Vec<Offer> {
    let mut rng = StdRng::seed_from_u64(seed);
    // Products by their first two category levels, as vendors' categories are written.
    let mut by_category: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in products.iter().enumerate() {
        if p.category.len() >= 2 {
            let path = format!("{}/{}", p.category[0].replace('/', "-"), p.category[1].replace('/', "-"));
            by_category.entry(path).or_default().push(i);
        }
    }
    (0..n)
        .map(|i| {
            let vendor = &vendors[rng.random_range(0..vendors.len())];
            let sold = vendor.categories.iter().filter_map(|c| by_category.get(c)).collect::<Vec<_>>();
            let product = match sold.is_empty() {
                false => {
                    let pool = sold[rng.random_range(0..sold.len())];
                    &products[pool[rng.random_range(0..pool.len())]]
                }
                true => &products[rng.random_range(0..products.len())],
            };
            let list = product.price.unwrap_or(100.0).max(1.0);
            let mut offer = Offer::new(
                format!("o{i}"),
                &product.id,
                &vendor.id,
                (list * rng.random_range(0.7..1.3) * 100.0).round() / 100.0,
            );
            offer.stock = if rng.random_bool(0.2) { 0 } else { rng.random_range(1..50) };
            offer.lead_time_days = rng.random_range(0..15);
            offer.condition = match rng.random_range(0..10) {
                0 => OfferCondition::Used,
                1 => OfferCondition::Refurbished,
                _ => OfferCondition::New,
            };
            offer.currency = Some(if rng.random_bool(0.9) { "INR" } else { "USD" }.to_string());
            offer
        })
        .collect()
}
