//! Test and bench support: where the shared real data sets are.
//!
//! Tests and benches read real third-party data from `../shared/data` beside the repository
//! (never copied into it). Where it is absent, as in a user's own clone, [`shared_data`] prints a
//! visible skip message and returns `None`; under CI (`CI=true`) its absence is a failure.
//!
//! ```no_run
//! let Some(products) = searchd_testkit::shared_data("homedepot/products.csv.gz") else { return };
//! assert!(products.exists());
//! ```

#![warn(missing_docs)]

use std::path::PathBuf;

pub mod kafka;
pub mod offers;
pub mod redis;
pub mod rfis;
pub mod shop;
pub mod vendors;

/// The shared data folder: `SEARCHD_SHARED_DATA` when set, else `../shared/data` next to the
/// repository root.
pub fn shared_data_dir() -> PathBuf {
    match std::env::var_os("SEARCHD_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// A program the tests start: `$env` when set, else `name` on `PATH` or in Cargo's `bin` folder.
pub fn find_program(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin").join(name));
    on_path.chain(cargo_home).find(|p| p.is_file())
}

/// Whether this run is CI's (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reads a gzip file whole (the shared data sets are gzip-compressed text).
pub fn gunzip(path: &std::path::Path) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("data file"))
        .read_to_string(&mut text)
        .expect("gzip text");
    text
}

/// The path of a shared data file, or `None` (with a visible message) when it is absent outside
/// CI. Panics when it is absent under CI.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = shared_data_dir().join(relative);
    if path.exists() {
        return Some(path);
    }
    if in_ci() {
        panic!(
            "shared data file {relative} is missing from {} and CI=true: failing instead of skipping",
            shared_data_dir().display()
        );
    }
    eprintln!(
        "SKIPPED: shared data file {relative} not found in {}; this test needs ../shared/data",
        shared_data_dir().display()
    );
    None
}

/// The Home Depot catalog (`homedepot/products.csv.gz`: id and title, 54,667 products), or
/// `None` as [`shared_data`] says.
pub fn homedepot_products() -> Option<Vec<searchd_catalog::Product>> {
    Some(
        csv_records("homedepot/products.csv.gz")?
            .into_iter()
            .map(|r| searchd_catalog::Product::new(&r[0], &r[1]))
            .collect(),
    )
}

/// BigBasket (27,555 products): title, brand, category path `category / sub_category / type`,
/// sale price, rating; or `None` as [`shared_data`] says.
pub fn bigbasket_products() -> Option<Vec<searchd_catalog::Product>> {
    Some(
        csv_records("bigbasket_products/bigbasket_products_no_description.csv.gz")?
            .into_iter()
            .map(|r| {
                let mut p = searchd_catalog::Product::new(r[0].trim(), r[1].trim());
                p.brand = Some(r[4].trim().to_string()).filter(|b| !b.is_empty());
                p.category = [&r[2], &r[3], &r[7]].iter().map(|c| c.trim().to_string()).collect();
                p.price = r[5].trim().parse().ok();
                p.rating = r[8].trim().parse().ok();
                p
            })
            .collect(),
    )
}

/// Myntra (12,491 fashion products) with descriptions, brands and prices; its only category is
/// the gender. `None` as [`shared_data`] says.
pub fn myntra_products() -> Option<Vec<searchd_catalog::Product>> {
    Some(
        csv_records("myntra_products/myntra_products_catalog.csv.gz")?
            .into_iter()
            .map(|r| {
                let mut p = searchd_catalog::Product::new(&r[0], &r[1]);
                p.brand = Some(r[2].trim().to_string());
                p.category = vec![r[3].trim().to_string()];
                p.price = r[4].trim().parse().ok();
                p.description = r[6].to_string();
                p
            })
            .collect(),
    )
}

/// The records of a gzip CSV of the shared data (header skipped), or `None` as [`shared_data`] says.
pub fn csv_records(relative: &str) -> Option<Vec<csv::StringRecord>> {
    let text = gunzip(&shared_data(relative)?);
    Some(csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.expect("csv row")).collect())
}
