//! The demo catalog: a few hundred products in English, German, French and Spanish and about a
//! hundred vendors in cities around the world, written by the project
//! (`engine/demo/generate.py`) and embedded in the binary.

use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_catalog::{Offer, Product, Vendor};
use searchd_indexer::{OfferIndex, ProductIndex, VendorIndex};

/// The catalog, one product per line.
pub const DEMO_JSONL: &str = include_str!("../demo/products.jsonl");

/// The demo products.
pub fn products() -> anyhow::Result<Vec<Product>> {
    parse_lines(DEMO_JSONL, "products")
}

fn parse_lines<T: serde::de::DeserializeOwned>(jsonl: &str, what: &str) -> anyhow::Result<Vec<T>> {
    jsonl
        .lines()
        .enumerate()
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| anyhow::anyhow!("demo {what} line {}: {e}", i + 1)))
        .collect()
}

/// The attributes the demo products carry, declared: colour and material (keywords), voltage
/// and warranty in years (numbers), each filterable and facetable, the numbers sortable. A fresh
/// data dir that shows the demo declares them (unless `[index.attributes]` declares others).
pub fn attributes() -> AttributeSchema {
    let declare = |kind| AttributeSettings::filterable(kind);
    AttributeSchema(
        [
            ("colour", declare(AttributeType::Keyword)),
            ("material", declare(AttributeType::Keyword)),
            ("voltage", declare(AttributeType::Number)),
            ("warranty_years", declare(AttributeType::Number)),
        ]
        .into_iter()
        .map(|(name, settings)| (name.to_string(), settings))
        .collect(),
    )
}

/// The attributes the demo vendors carry, declared (filterable): certifications and payment
/// terms (keywords), the minimum order (a number). A fresh data dir that shows the demo declares
/// them (unless `[index.vendor_attributes]` declares others).
pub fn vendor_attributes() -> AttributeSchema {
    let filterable =
        |kind| AttributeSettings { facetable: false, sortable: false, ..AttributeSettings::filterable(kind) };
    AttributeSchema(
        [
            ("certifications", filterable(AttributeType::Keyword)),
            ("payment_terms", filterable(AttributeType::Keyword)),
            ("min_order", filterable(AttributeType::Number)),
        ]
        .into_iter()
        .map(|(name, settings)| (name.to_string(), settings))
        .collect(),
    )
}

/// Indexes the demo catalog and commits. Returns how many products were written.
pub fn load(index: &ProductIndex) -> anyhow::Result<usize> {
    let prepared = products()?.into_iter().map(|p| index.prepare(p)).collect::<Result<Vec<_>, _>>()?;
    let n = prepared.len();
    index.apply_prepared(prepared)?;
    index.commit()?;
    Ok(n)
}

/// The demo store's popular searches (`demo/queries.tsv`): a count, a tab, the query.
pub const DEMO_QUERIES_TSV: &str = include_str!("../demo/queries.tsv");

/// The demo's popular searches, with how often each was searched.
pub fn popular_queries() -> anyhow::Result<Vec<(String, u64)>> {
    DEMO_QUERIES_TSV
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty())
        .map(|(i, line)| {
            let (count, query) =
                line.split_once('\t').ok_or_else(|| anyhow::anyhow!("demo queries line {}: no tab", i + 1))?;
            let count = count.parse().map_err(|e| anyhow::anyhow!("demo queries line {}: {e}", i + 1))?;
            Ok((query.to_string(), count))
        })
        .collect()
}

/// Counts the demo's popular searches into `log`, each as often as the file says and with the
/// hits a search for it finds in `index` now (a query that finds nothing is not suggested).
/// Returns how many queries were counted.
pub fn seed_queries(index: &ProductIndex, log: &searchd_autocomplete::QueryLog) -> anyhow::Result<usize> {
    let ranker = searchd_catalog::Ranker::first_phase(std::sync::Arc::new(searchd_ranking::DefaultScorer::new(
        searchd_ranking::RankingConfig::default(),
    )));
    let queries = popular_queries()?;
    for (query, count) in &queries {
        let request = searchd_catalog::SearchRequest { q: query.clone(), per_page: 1, ..Default::default() };
        let hits = index.search(&request, &ranker)?.total_hits;
        for _ in 0..*count {
            log.record(query, hits);
        }
    }
    Ok(queries.len())
}

/// The demo vendors, one per line.
pub const DEMO_VENDORS_JSONL: &str = include_str!("../demo/vendors.jsonl");

/// The demo vendors.
pub fn vendors() -> anyhow::Result<Vec<Vendor>> {
    parse_lines(DEMO_VENDORS_JSONL, "vendors")
}

/// Indexes the demo vendors and commits. Returns how many were written.
pub fn load_vendors(index: &VendorIndex) -> anyhow::Result<usize> {
    let vendors = vendors()?;
    let n = vendors.len();
    index.upsert(vendors)?;
    index.commit()?;
    Ok(n)
}

/// The demo offers (each vendor's of products in its categories), one per line.
pub const DEMO_OFFERS_JSONL: &str = include_str!("../demo/offers.jsonl");

/// The demo offers.
pub fn offers() -> anyhow::Result<Vec<Offer>> {
    parse_lines(DEMO_OFFERS_JSONL, "offers")
}

/// Indexes the demo offers and commits (their products and vendors are the demo's). Returns
/// how many were written.
pub fn load_offers(index: &OfferIndex) -> anyhow::Result<usize> {
    let offers = offers()?;
    let n = offers.len();
    index.upsert(offers)?;
    index.commit()?;
    Ok(n)
}

/// The demo vendors' cities (`demo/generate.py` writes them), as JSON, for the storefront's
/// vendor finder.
pub const CITIES_JSON: &str = include_str!("../demo/cities.json");
