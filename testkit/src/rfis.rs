//! A generator of requests for information for tests and benches: customers at real cities
//! (drawn as the generated vendors are, by population), asking in BigBasket's categories, with
//! random quantities, budgets, dates and distance limits; some closed, some expired by
//! `expires_at` or `needed_by` at `now`. Deterministic for a seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use searchd_catalog::{RfiDocument, RfiStatus};
use time::OffsetDateTime;

use crate::vendors::City;

/// `n` requests, made before `now` (Unix seconds), deterministic for `seed`.
pub fn generate(cities: &[City], categories: &[String], n: usize, now: i64, seed: u64) -> Vec<RfiDocument> {
    let mut rng = StdRng::seed_from_u64(seed);
    let at = |t: i64| OffsetDateTime::from_unix_timestamp(t).expect("a date");
    crate::vendors::generate(cities, categories, n, seed ^ 0x5eed)
        .into_iter()
        .enumerate()
        .map(|(i, customer)| {
            let category = customer.categories[0].clone();
            let sub = category.rsplit('/').next().unwrap_or(&category).to_lowercase();
            let city = customer.description.rsplit(" in ").next().unwrap_or_default().to_string();
            let mut rfi = RfiDocument::new(
                format!("r{i}"),
                category,
                format!("Looking for a supplier of {sub} delivering to {city}"),
                customer.location,
            );
            rfi.title = format!("{sub} wanted");
            rfi.max_distance_km = rng.random_bool(0.5).then(|| rng.random_range(20.0..800.0f64).round());
            rfi.quantity = rng.random_bool(0.6).then(|| rng.random_range(1..500));
            rfi.budget = rng.random_bool(0.5).then(|| rng.random_range(10.0..20_000.0f64).round());
            rfi.needed_by = rng.random_bool(0.7).then(|| at(now + rng.random_range(-5..60) * 86_400));
            rfi.created_at = Some(at(now - rng.random_range(1..30) * 86_400));
            rfi.language = Some("en".into());
            if rng.random_bool(0.1) {
                rfi.status = RfiStatus::Closed;
            }
            if rng.random_bool(0.1) {
                rfi.expires_at = Some(at(now - rng.random_range(1..10) * 86_400));
            }
            rfi
        })
        .collect()
}
