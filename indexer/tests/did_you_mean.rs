//! "Did you mean" on BigBasket: the catalog's product types typed with one word misspelt the way
//! people do are mostly corrected back, the types as written are left alone, a correction is
//! searched by default and only suggested with `correct=false`, and a word being typed or a
//! declared synonym is never "corrected".

use std::collections::BTreeSet;

use searchd_catalog::synonyms::SynonymSet;
use searchd_catalog::{PrefixMode, Product, SearchRequest, Settings, fold, tokenize};
use searchd_indexer::{IndexConfig, ProductIndex};
use searchd_ranking::eval::misspell;

use crate::scorer;

fn folded(q: &str) -> String {
    tokenize(&fold(q)).map(|t| t.text.to_string()).collect::<Vec<_>>().join(" ")
}

#[test]
fn misspelt_product_types_are_corrected_back_and_right_ones_left_alone() {
    let Some(products) = searchd_testkit::bigbasket_products() else { return };
    let products: Vec<Product> = products.into_iter().filter(|p| p.validate().is_ok()).collect();
    let index = ProductIndex::in_memory(IndexConfig { commit_every_docs: 10_000, ..IndexConfig::small() }).unwrap();
    let prepared = products.iter().cloned().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();
    let types: BTreeSet<String> =
        products.iter().filter_map(|p| p.category.get(2)).map(|t| folded(t)).filter(|t| !t.is_empty()).collect();
    let ask = |q: &str| SearchRequest { q: q.to_string(), prefix: PrefixMode::None, ..Default::default() };

    let (mut misspelt, mut back, mut left_alone) = (0, 0, 0);
    for (i, q) in types.iter().enumerate() {
        if index.did_you_mean(&ask(q)).unwrap().is_none() {
            left_alone += 1;
        }
        let Some(typed) = misspell(q, i as u64) else { continue };
        misspelt += 1;
        if index.did_you_mean(&ask(&typed)).unwrap().as_deref() == Some(q.as_str()) {
            back += 1;
        }
    }
    let (back_share, alone_share) = (back as f64 / misspelt as f64, left_alone as f64 / types.len() as f64);
    println!(
        "BigBasket, {} product types: {misspelt} misspelt, {back} corrected back ({back_share:.3}); \
         {left_alone} of the types as written left alone ({alone_share:.3})",
        types.len()
    );
    assert!(misspelt > 200, "{misspelt}");
    assert!(back_share >= 0.6, "corrected back: {back_share}");
    assert!(alone_share >= 0.97, "left alone: {alone_share}");

    // Searched corrected by default; suggested only with `correct: false`.
    let corrected = index.search(&ask("chocolatte cookies"), &scorer()).unwrap();
    let dym = corrected.did_you_mean.clone().expect("a correction");
    assert_eq!((dym.query.as_str(), dym.applied), ("chocolate cookies", true));
    assert_eq!(corrected.query, "chocolatte cookies");
    let direct = index.search(&ask("chocolate cookies"), &scorer()).unwrap();
    let ids = |r: &searchd_catalog::SearchResponse| r.hits.iter().map(|h| h.product.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&corrected), ids(&direct));
    let as_typed = index.search(&SearchRequest { correct: false, ..ask("chocolatte cookies") }, &scorer()).unwrap();
    assert_eq!(as_typed.did_you_mean.map(|d| d.applied), Some(false));

    // A word being typed is not misspelt yet; a declared synonym is a word on purpose.
    let typing = SearchRequest { q: "chocolate cooki".into(), ..Default::default() };
    assert_eq!(index.did_you_mean(&typing).unwrap(), None);
    assert!(index.did_you_mean(&ask("biscuts")).unwrap().is_some());
    let synonyms = vec![SynonymSet::multi_way(&["biscuts", "cookies"])];
    index.apply_settings(Settings { version: 1, synonyms, ..Default::default() }, &|_, _| {}).unwrap();
    assert_eq!(index.did_you_mean(&ask("biscuts")).unwrap(), None);
}
