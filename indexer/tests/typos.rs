//! Typo tolerance like Meilisearch's: none under 5 letters, one from 5, two from 9; exact
//! matches above stemmed ones above typo ones.

use searchd_catalog::Product;

use crate::{ids, index_of};

fn catalog() -> searchd_indexer::ProductIndex {
    index_of([
        Product::new("drill", "Cordless Drill"),
        Product::new("drills", "Drills for Masonry"),
        Product::new("frill", "Frill Curtain"),
        Product::new("generator", "Portable Generator 5000 Watt"),
        Product::new("sofa", "Sofa Table"),
        Product::new("dewalt", "DeWalt Hammer"),
    ])
}

#[test]
fn one_typo_from_five_letters() {
    let index = catalog();
    assert!(ids(&index, "drlil").contains(&"drill".to_string()), "transposition counts as one typo");
    assert!(ids(&index, "hammar").contains(&"dewalt".to_string()));
    assert!(ids(&index, "dewalr").contains(&"dewalt".to_string()));
}

#[test]
fn no_typo_under_five_letters() {
    let index = catalog();
    assert!(ids(&index, "sofs").is_empty(), "4 letters: exact only");
    assert!(ids(&index, "dril").is_empty(), "4 letters: exact only");
}

#[test]
fn two_typos_from_nine_letters() {
    let index = catalog();
    assert_eq!(ids(&index, "generatro"), ["generator"]);
    assert_eq!(ids(&index, "gneeratro"), ["generator"], "two edits at 9 letters");
    assert!(ids(&index, "gxneratxx").is_empty(), "three edits are too many");
    assert!(ids(&index, "drxxl").is_empty(), "two edits at 5 letters are too many");
}

#[test]
fn exact_beats_stemmed_beats_typo() {
    let index = catalog();
    let ranked = ids(&index, "drill");
    assert_eq!(ranked, ["drill", "drills", "frill"], "exact, then stemmed, then one typo");
}

#[test]
fn a_common_word_is_not_expanded_to_typos() {
    // "drill" is in three products: the user meant it, "frill" is noise.
    let index = index_of([
        Product::new("d1", "Cordless Drill"),
        Product::new("d2", "Hammer Drill"),
        Product::new("d3", "Drill Press"),
        Product::new("frill", "Frill Curtain"),
    ]);
    let ranked = ids(&index, "drill");
    assert_eq!(ranked.len(), 3, "{ranked:?}");
    assert!(!ranked.contains(&"frill".to_string()));
    assert_eq!(ids(&index, "drlil").len(), 3, "a rare misspelling still finds them");
}

#[test]
fn a_requested_facet_without_values_is_an_empty_list() {
    let index = catalog();
    let request = searchd_catalog::SearchRequest {
        q: "drill".into(),
        facets: vec![searchd_catalog::FacetField::Brand, searchd_catalog::FacetField::Category],
        ..searchd_catalog::SearchRequest::default()
    };
    let response = index.search(&request, &crate::scorer()).unwrap();
    assert_eq!(response.facets.get("brand"), Some(&Vec::new()));
    assert_eq!(response.facets.get("category"), Some(&Vec::new()));
}
