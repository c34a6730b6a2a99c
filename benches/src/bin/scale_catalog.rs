//! Writes a generated catalog of N products as JSON lines, for the scale bench
//! (`benches/scale/run.sh`): `scale_catalog N SEED > products.jsonl`.
//!
//! Every product starts from a real one of Home Depot, BigBasket or Myntra (drawn in proportion
//! to their sizes) and keeps its brand, category path and currency. About a third of its title's
//! words after the first are replaced by words of the same catalog's titles, drawn in proportion
//! to how often they occur, so titles recombine the real vocabulary with its real frequencies and
//! the Home Depot dev queries find what they find in the real catalog, in every size. Prices are
//! the source's moved by up to ±25% (Home Depot has none: log-normal around 33 USD); Myntra rows
//! keep their descriptions; ratings, reviews, popularity, stock, a colour and a weight are drawn.
//! The same N and SEED always give the same file.

use std::io::{BufWriter, Write};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use searchd_catalog::Product;
use serde_json::json;

struct Source {
    products: Vec<Product>,
    /// Every title word of the catalog, repeated as often as it occurs.
    words: Vec<String>,
    currency: &'static str,
    /// The top of the category path (Home Depot and Myntra paths get one).
    root: Option<&'static str>,
}

impl Source {
    fn new(mut products: Vec<Product>, currency: &'static str, root: Option<&'static str>) -> Self {
        products.retain(|p| !p.title.trim().is_empty());
        let words = products.iter().flat_map(|p| p.title.split_whitespace().skip(1).map(str::to_string)).collect();
        Self { products, words, currency, root }
    }
}

const COLOURS: [&str; 12] =
    ["black", "white", "grey", "silver", "red", "blue", "green", "brown", "beige", "yellow", "pink", "orange"];

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(seed)) =
        (args.get(1).and_then(|a| a.parse::<u64>().ok()), args.get(2).and_then(|a| a.parse::<u64>().ok()))
    else {
        eprintln!("usage: scale_catalog N SEED > products.jsonl");
        return std::process::ExitCode::FAILURE;
    };
    let (Some(hd), Some(bb), Some(myntra)) = (
        searchd_testkit::homedepot_products(),
        searchd_testkit::bigbasket_products(),
        searchd_testkit::myntra_products(),
    ) else {
        eprintln!("the shared data is missing: the generator recombines its catalogs");
        return std::process::ExitCode::FAILURE;
    };
    let sources = [
        Source::new(hd, "USD", Some("Home Improvement")),
        Source::new(bb, "INR", None),
        Source::new(myntra, "INR", Some("Fashion")),
    ];
    let total: usize = sources.iter().map(|s| s.products.len()).sum();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    for i in 0..n {
        let mut pick = rng.random_range(0..total);
        let source = sources
            .iter()
            .find(|s| {
                let here = pick < s.products.len();
                if !here {
                    pick -= s.products.len();
                }
                here
            })
            .expect("pick < total");
        let line = product(&mut rng, source, &source.products[pick], i);
        if serde_json::to_writer(&mut out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .is_err()
        {
            // The reader went away (`| head`): stop quietly.
            return std::process::ExitCode::SUCCESS;
        }
    }
    if out.flush().is_err() {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

fn product(rng: &mut StdRng, source: &Source, real: &Product, i: u64) -> serde_json::Value {
    let title: Vec<&str> = real
        .title
        .split_whitespace()
        .enumerate()
        .map(|(at, word)| {
            if at > 0 && rng.random_bool(0.35) {
                source.words[rng.random_range(0..source.words.len())].as_str()
            } else {
                word
            }
        })
        .collect();
    let brand = real.brand.clone().or_else(|| real.title.split_whitespace().next().map(str::to_string));
    let mut category: Vec<String> = source.root.map(str::to_string).into_iter().collect();
    category.extend(real.category.iter().filter(|c| !c.is_empty()).cloned());
    if category.len() == 1 {
        // Home Depot has no categories: the title's last word of letters stands for one.
        let word = real.title.split_whitespace().rev().find(|w| w.len() > 2 && w.chars().all(char::is_alphabetic));
        category.extend(word.map(str::to_string));
    }
    let price = match real.price {
        Some(price) => price * rng.random_range(0.75..1.25),
        None => (3.5 + 1.0 * normal(rng)).exp(),
    };
    let review_count: u64 = if rng.random_bool(0.3) { 0 } else { (rng.random_range(0.0f64..8.0)).exp() as u64 };
    json!({
        "id": format!("p{i:09}"),
        "title": title.join(" "),
        "description": real.description.chars().take(600).collect::<String>(),
        "brand": brand,
        "category": category,
        "price": (price * 100.0).round() / 100.0,
        "currency": source.currency,
        "rating": real.rating.unwrap_or_else(|| (rng.random_range(2.0f64..5.0) * 10.0).round() / 10.0),
        "review_count": review_count,
        "popularity": (rng.random_range(0.0f64..10.0)).exp().round(),
        "in_stock": rng.random_bool(0.9),
        "attributes": {
            "colour": COLOURS[rng.random_range(0..COLOURS.len())],
            "weight_kg": (rng.random_range(0.05f64..25.0) * 100.0).round() / 100.0,
        },
    })
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let (u, v): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random_range(0.0..1.0));
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}
