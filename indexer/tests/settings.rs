//! Settings changed while the index serves: a change that declares attributes writes every
//! document again in the background while searches and writes go on; searches never fail and
//! keep the served settings until the change is complete; writes sent meanwhile are not lost;
//! the new attributes then filter exactly as brute force says. A change of flags applies at
//! once; one that documents contradict changes nothing; the served settings survive a reopen.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_catalog::filter::Filter;
use searchd_catalog::{CatalogEvent, Product, SearchRequest, Settings};
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::json;

use crate::scorer;

fn declare(names: &[(&str, AttributeType)]) -> AttributeSchema {
    AttributeSchema(names.iter().map(|(n, k)| (n.to_string(), AttributeSettings::filterable(*k))).collect())
}

fn filtered(index: &ProductIndex, filter: &str) -> searchd_indexer::Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    for page in 1.. {
        let request =
            SearchRequest { filter: Some(Filter::parse(filter).unwrap()), page, per_page: 100, ..Default::default() };
        let hits = index.search_ids(&request, &scorer())?;
        let last = hits.len() < 100;
        ids.extend(hits.into_iter().map(|h| h.id));
        if last || page == 10 {
            break;
        }
    }
    Ok(ids)
}

/// The BigBasket rows with `sub_category` and `type` as attributes, as the CSV has them.
fn catalog() -> Option<Vec<Product>> {
    let mut products = searchd_testkit::bigbasket_products()?;
    let rows = searchd_testkit::csv_records("bigbasket_products/bigbasket_products_no_description.csv.gz")?;
    for (p, r) in products.iter_mut().zip(&rows) {
        p.attributes.insert("sub_category".into(), json!(r[3]));
        p.attributes.insert("type".into(), json!(r[7]));
    }
    products.retain(|p| p.validate().is_ok());
    Some(products)
}

#[test]
fn a_settings_change_reindexes_while_searches_and_writes_go_on() {
    let Some(mut products) = catalog() else { return };
    let late = products.split_off(products.len() - 1_500);
    let index =
        Arc::new(ProductIndex::in_memory(IndexConfig { commit_every_docs: 2_000, ..IndexConfig::small() }).unwrap());
    let prepared = products.iter().cloned().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();
    assert_eq!(index.settings().settings.version, 0);
    let total_before = index.num_docs();

    let done = Arc::new(AtomicBool::new(false));
    let brand = products[0].brand.clone().unwrap();
    // Searches all along: none fails; `sub_category` is refused until the change is served,
    // then accepted from that moment on.
    let searcher = {
        let (index, done, brand) = (index.clone(), done.clone(), brand.clone());
        std::thread::spawn(move || {
            let (mut searches, mut refused, mut accepted) = (0u64, 0u64, 0u64);
            while !done.load(Ordering::Acquire) {
                let hits = filtered(&index, &format!("brand = {:?}", brand)).expect("a built-in filter never fails");
                assert!(!hits.is_empty());
                match filtered(&index, "sub_category = \"Cookies, Rusk & Khari\"") {
                    Ok(_) => accepted += 1,
                    Err(e) => {
                        assert_eq!(accepted, 0, "served settings went back: {e}");
                        assert!(e.to_string().contains("filter"), "{e}");
                        refused += 1;
                    }
                }
                searches += 1;
            }
            (searches, refused, accepted)
        })
    };
    // Writes meanwhile: new products, changed attributes, deletes.
    let writes = AtomicU64::new(0);
    let changed: Vec<Product> = products
        .iter()
        .step_by(40)
        .map(|p| {
            let mut p = p.clone();
            p.attributes.insert("sub_category".into(), json!(format!("Changed {}", p.id)));
            p.version = 0;
            p
        })
        .collect();
    let deleted: Vec<String> = products.iter().skip(7).step_by(97).map(|p| p.id.clone()).collect();
    let progress = Mutex::new(Vec::new());
    let next =
        Settings { version: 1, attributes: declare(&[("sub_category", AttributeType::Keyword)]), ..Default::default() };
    let applied = std::thread::scope(|s| {
        s.spawn(|| {
            for (i, p) in late.iter().chain(&changed).enumerate() {
                index.apply(CatalogEvent::Upsert { product: p.clone() }).unwrap();
                if let Some(id) = deleted.get(i) {
                    index.delete(id, 0).unwrap();
                }
                if i % 100 == 0 {
                    index.commit().unwrap();
                }
                writes.fetch_add(1, Ordering::Relaxed);
            }
        });
        index.apply_settings(next, &|done, total| progress.lock().unwrap().push((done, total))).unwrap()
    });
    index.commit().unwrap();
    done.store(true, Ordering::Release);
    let (searches, refused, accepted) = searcher.join().unwrap();
    let progress = progress.into_inner().unwrap();
    println!(
        "re-indexed {} of {total_before} products in {:.2} s with {} writes meanwhile; {searches} searches ran \
         ({refused} before the swap, {accepted} after); {} progress reports",
        applied.rewritten,
        applied.seconds,
        writes.load(Ordering::Relaxed),
        progress.len()
    );
    assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows");
    let (last_done, last_total) = *progress.last().unwrap();
    assert_eq!(last_done, last_total);
    assert!(progress.len() > 10 && applied.rewritten > 0);
    assert_eq!(index.settings().settings.version, 1);

    // Nothing written meanwhile is lost, and the new attribute filters as brute force says.
    let mut expected: std::collections::HashMap<String, Product> =
        products.into_iter().chain(late).map(|p| (p.id.clone(), p)).collect();
    // Deletes ran among the first writes, the changes last (one may bring a deleted one back).
    for id in &deleted {
        expected.remove(id);
    }
    for p in changed {
        expected.insert(p.id.clone(), p);
    }
    assert_eq!(index.num_docs(), expected.len() as u64);
    let mut values: Vec<&str> = expected
        .values()
        .filter_map(|p| p.attributes["sub_category"].as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    values.retain(|v| !v.trim().is_empty() && (!v.starts_with("Changed") || v.ends_with('0')));
    for value in values.iter().step_by(7).take(60) {
        let want: BTreeSet<String> = expected
            .values()
            .filter(|p| p.attributes["sub_category"].as_str().map(str::trim) == Some(value.trim()))
            .map(|p| p.id.clone())
            .collect();
        let filter = format!("sub_category = {}", serde_json::to_string(value.trim()).unwrap());
        if want.len() <= 1_000 {
            assert_eq!(filtered(&index, &filter).unwrap(), want, "{filter}");
        } else {
            let request = SearchRequest { filter: Some(Filter::parse(&filter).unwrap()), ..Default::default() };
            assert_eq!(index.search(&request, &scorer()).unwrap().total_hits, want.len() as u64, "{filter}");
        }
    }

    // Flags only: applied at once, nothing written again.
    let mut flags =
        Settings { version: 2, attributes: declare(&[("sub_category", AttributeType::Keyword)]), ..Default::default() };
    flags.attributes.0.get_mut("sub_category").unwrap().facetable = false;
    let applied = index.apply_settings(flags, &|_, _| {}).unwrap();
    assert_eq!(applied.rewritten, 0);
    let facet = SearchRequest { facets: vec!["sub_category".parse().unwrap()], ..Default::default() };
    assert!(index.search(&facet, &scorer()).unwrap_err().to_string().contains("not facetable"));

    // Documents contradict a type: refused with their names, nothing changes.
    let contradicted = Settings {
        version: 3,
        attributes: declare(&[("sub_category", AttributeType::Keyword), ("type", AttributeType::Number)]),
        ..Default::default()
    };
    match index.apply_settings(contradicted, &|_, _| {}) {
        Err(searchd_indexer::Error::Refused { count, first }) => {
            assert!(count > 1_000, "{count}");
            assert!(first[0].contains("attributes.type") && first[0].contains("is not a number"), "{first:?}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(index.settings().settings.version, 2);
    assert!(filtered(&index, "type = 3").is_err());
    assert!(!filtered(&index, "sub_category EXISTS").unwrap().is_empty());
}

#[test]
fn served_settings_survive_a_reopen_and_a_first_start_takes_the_configured_ones() {
    let dir = tempfile::tempdir().unwrap();
    let products: Vec<Product> = (0..50)
        .map(|i| {
            let mut p = Product::new(format!("p{i}"), format!("Kettle {i}"));
            p.attributes.insert("colour".into(), json!(if i % 2 == 0 { "red" } else { "blue" }));
            p
        })
        .collect();
    {
        let index = ProductIndex::open(dir.path(), IndexConfig::small()).unwrap();
        for p in &products {
            index.apply(CatalogEvent::Upsert { product: p.clone() }).unwrap();
        }
        index.commit().unwrap();
        let next =
            Settings { version: 1, attributes: declare(&[("colour", AttributeType::Keyword)]), ..Default::default() };
        assert_eq!(index.apply_settings(next, &|_, _| {}).unwrap().rewritten, 50);
    }
    // The configuration's attributes apply to an empty index only; this one keeps its own.
    let index = ProductIndex::open(dir.path(), IndexConfig::small()).unwrap();
    assert_eq!(index.settings().settings.version, 1);
    assert_eq!(filtered(&index, "colour = red").unwrap().len(), 25);
    drop(index);

    let fresh = tempfile::tempdir().unwrap();
    let config = IndexConfig { attributes: declare(&[("colour", AttributeType::Keyword)]), ..IndexConfig::small() };
    let index = ProductIndex::open(fresh.path(), config).unwrap();
    assert_eq!(index.settings().settings.version, 1);
    for p in &products {
        index.apply(CatalogEvent::Upsert { product: p.clone() }).unwrap();
    }
    index.commit().unwrap();
    assert_eq!(filtered(&index, "colour = blue").unwrap().len(), 25);
}
