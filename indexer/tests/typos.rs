//! Typo tolerance like Meilisearch's: none under 5 letters, one from 5, two from 9; exact
//! matches above stemmed ones above typo ones. The word being typed matches as a prefix.

use searchd_catalog::{MatchKind, PrefixMode, Product, SearchRequest};

use crate::{ids, index_of, scorer};

/// Ids for `q`, the last word a prefix or not.
fn ids_with(index: &searchd_indexer::ProductIndex, q: &str, prefix: PrefixMode) -> Vec<String> {
    let request = SearchRequest { q: q.into(), per_page: 100, prefix, ..SearchRequest::default() };
    index.search(&request, &scorer()).unwrap().hits.into_iter().map(|h| h.product.id).collect()
}

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
    assert!(ids_with(&index, "dril", PrefixMode::None).is_empty(), "4 letters: exact only");
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

#[test]
fn the_word_being_typed_matches_as_a_prefix_below_whole_words() {
    let index = index_of([
        Product::new("drill", "Cordless Drill"),
        Product::new("drills", "Drills for Masonry"),
        Product::new("drillmaster", "Drillmaster Bit Set"),
        Product::new("sofa", "Sofa Table"),
        Product::new("corded", "Corded Jigsaw"),
    ]);
    // Mid-word: what a search box holds while typing; the words the letters start come before
    // those they start give or take a typo ("corded").
    assert_eq!(ids(&index, "cordl"), ["drill", "corded"]);
    assert!(ids_with(&index, "cordl", PrefixMode::None).is_empty());
    assert_eq!(ids(&index, "masonry dril")[0], "drills", "both words");
    // A finished word: whole and stemmed matches first, prefix-only after them.
    assert_eq!(ids(&index, "drill"), ["drill", "drills", "drillmaster"]);
    assert_eq!(ids_with(&index, "drill", PrefixMode::None), ["drill", "drills"]);
    // A space after the word: it is finished; two letters start too many words.
    assert!(ids(&index, "cordl ").is_empty());
    assert!(ids(&index, "co").is_empty());
    // Typo-tolerant as autocomplete is: one edit in a rare prefix of 5 letters.
    assert_eq!(ids(&index, "cprdl"), ["drill"]);
    // `explain` says how each word matched.
    let request = SearchRequest { q: "sofa drillm".into(), explain: true, ..SearchRequest::default() };
    let hits = index.search(&request, &scorer()).unwrap().hits;
    let kinds = |id: &str| -> Vec<(String, MatchKind)> {
        let hit = hits.iter().find(|h| h.product.id == id).unwrap();
        hit.explain.as_ref().unwrap().words.iter().map(|w| (w.word.clone(), w.kind)).collect()
    };
    assert_eq!(
        kinds("drillmaster"),
        [("sofa".to_string(), MatchKind::None), ("drillm".to_string(), MatchKind::Prefix)]
    );
    assert_eq!(kinds("sofa"), [("sofa".to_string(), MatchKind::Exact), ("drillm".to_string(), MatchKind::None)]);
}

/// 2,000 products: every one "for" the garden, 20 of them drills.
fn common_words_catalog() -> searchd_indexer::ProductIndex {
    index_of((0..2000).map(|i| {
        let kind = if i % 100 == 0 { "Drill" } else { "Hose" };
        Product::new(format!("p{i}"), format!("{kind} for the Garden {i}"))
    }))
}

#[test]
fn a_word_in_most_products_only_scores_what_the_other_words_find() {
    let index = common_words_catalog();
    let request = |q: &str| SearchRequest { q: q.into(), per_page: 10, ..SearchRequest::default() };
    let total = |q: &str| index.search(&request(q), &scorer()).unwrap().total_hits;
    // "for" and "garden" are in every product: only the drills are found, and "for" still scores.
    assert_eq!(total("drill for garden"), 20);
    assert_eq!(total("drill"), 20);
    // Words that are all common find what they find.
    assert_eq!(total("for garden"), 2000);
    // Another word unknown to the catalog: the common words' products stay found.
    assert_eq!(total("garden qqqqzzzz"), 2000);
}
