//! Shared set-up of the Criterion benches: loading the real catalogs and query sets from
//! `../shared/data` into in-memory indexes. Each bench group is a file of `benches/`; `cargo
//! bench` at the workspace root runs them all.
//!
//! ```
//! // `None` where `../shared/data` is absent (a user's own clone): the benches then skip.
//! if let Some(queries) = searchd_benches::homedepot_queries() {
//!     assert!(queries.len() > 1_000);
//! }
//! ```

#![warn(missing_docs)]

use searchd_catalog::Product;
use searchd_indexer::{FieldMap, IndexConfig, IngestOptions, InputFormat, NoProgress, ProductIndex};

pub use searchd_testkit::{gunzip, homedepot_products, myntra_products};

/// Distinct queries of the Home Depot dev judgments.
pub fn homedepot_queries() -> Option<Vec<String>> {
    let path = searchd_testkit::shared_data("homedepot/judgments-dev.csv.gz")?;
    let text = gunzip(&path);
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let mut seen = std::collections::BTreeSet::new();
    Some(csv.records().map(|r| r.expect("csv row")[0].trim().to_string()).filter(|q| seen.insert(q.clone())).collect())
}

/// The index settings of the benches: the default threads with a 256 MiB heap.
pub fn bench_config() -> IndexConfig {
    IndexConfig { writer_memory_mb: 256, ..IndexConfig::default() }
}

/// An in-memory index of the given products, bulk-loaded and merged as `searchd index` does.
pub fn index_products(products: Vec<Product>) -> ProductIndex {
    let index = ProductIndex::in_memory(bench_config()).expect("index");
    let prepared: Vec<_> = products.into_iter().map(|p| index.prepare(p).expect("valid product")).collect();
    index.apply_prepared_bulk(prepared).expect("write");
    index.commit().expect("commit");
    index.merge_segments().expect("merge");
    index
}

/// The BigBasket catalog through the bulk CSV path (brands, two-level categories, prices).
pub fn bigbasket_index() -> Option<ProductIndex> {
    let path = searchd_testkit::shared_data("bigbasket_products/bigbasket_products_no_description.csv.gz")?;
    let index = ProductIndex::in_memory(bench_config()).expect("index");
    let map: FieldMap =
        "id=index,title=product,category=category+sub_category,brand=brand,price=sale_price,rating=rating"
            .parse()
            .expect("map");
    let file = std::fs::File::open(path).expect("data file");
    searchd_indexer::ingest(
        &index,
        file,
        InputFormat::Csv,
        &IngestOptions { map, language: Some("en".into()) },
        &mut NoProgress,
    )
    .expect("ingest");
    Some(index)
}

/// A deterministic typo: two adjacent letters of the longest word swapped (seeded by position).
pub fn with_typo(q: &str, seed: usize) -> Option<String> {
    let words: Vec<&str> = q.split_whitespace().collect();
    let (i, word) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().count() >= 5 && w.chars().all(char::is_alphabetic))
        .max_by_key(|(_, w)| w.len())?;
    let mut chars: Vec<char> = word.chars().collect();
    let at = 1 + seed % (chars.len() - 2);
    chars.swap(at, at + 1);
    if chars.iter().collect::<String>() == *word {
        return None;
    }
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_string()).collect();
    out[i] = chars.into_iter().collect();
    Some(out.join(" "))
}

/// Each Home Depot dev query with its judged pairs: a stand-in for how often it is searched.
pub fn homedepot_query_counts() -> Option<Vec<(String, u64)>> {
    let path = searchd_testkit::shared_data("homedepot/judgments-dev.csv.gz")?;
    let text = gunzip(&path);
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for r in csv.records() {
        *counts.entry(r.expect("csv row")[0].trim().to_string()).or_default() += 1;
    }
    Some(counts.into_iter().collect())
}

/// The 480 WANDS queries (Wayfair), a tab-separated file despite its name.
pub fn wands_queries() -> Option<Vec<String>> {
    let path = searchd_testkit::shared_data("wands_queries_only/query.csv")?;
    let text = std::fs::read_to_string(path).expect("wands queries");
    Some(text.lines().skip(1).filter_map(|l| l.split('\t').nth(1)).map(|q| q.trim().to_string()).collect())
}

/// Every keystroke of typing each query: its non-empty prefixes, character by character.
pub fn keystrokes(queries: &[String]) -> Vec<String> {
    queries.iter().flat_map(|q| q.char_indices().skip(1).map(|(i, _)| q[..i].to_string()).chain([q.clone()])).collect()
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints the distribution of per-call samples (ms) and the mean count of `what` per call.
pub fn summary(name: &str, samples: &mut [f64], mean: f64, what: &str) {
    samples.sort_by(f64::total_cmp);
    println!(
        "{name}: {} calls, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms; {mean:.0} {what} on average",
        samples.len(),
        percentile(samples, 50.0),
        percentile(samples, 90.0),
        percentile(samples, 99.0),
        samples.last().copied().unwrap_or(f64::NAN),
    );
}

/// Times `run` once per input, each call alone (after an untimed pass over the first 200);
/// returns the samples in ms and the mean of what `run` returned. Criterion gives means; these
/// give the tail.
pub fn timed<T>(inputs: &[T], mut run: impl FnMut(&T) -> u64) -> (Vec<f64>, f64) {
    for input in inputs.iter().take(200) {
        std::hint::black_box(run(input));
    }
    let mut samples = Vec::with_capacity(inputs.len());
    let mut total = 0u64;
    for input in inputs {
        let t = std::time::Instant::now();
        total += std::hint::black_box(run(input));
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (samples, total as f64 / inputs.len().max(1) as f64)
}
