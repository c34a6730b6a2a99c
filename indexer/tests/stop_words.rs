//! Stop words from the settings, at query time: they only score what the other words find,
//! never widen a search, still count for a title holding them, and are searched when a query has
//! nothing else; per language, edited over the defaults, applied and dropped at once.

use searchd_catalog::stop_words::{StopWordList, StopWords};
use searchd_catalog::{Product, Settings};

use crate::{ids, index_of};

fn products() -> Vec<Product> {
    vec![
        Product::new("bnb", "Bed and breakfast sign"),
        Product::new("bed", "Oak bed frame"),
        Product::new("and", "Salt and pepper mills"),
        Product::new("the", "The garden gnome"),
    ]
}

fn with(version: u64, lists: &[(&str, StopWordList)]) -> Settings {
    let stop_words: StopWords = lists.iter().map(|(l, s)| (l.to_string(), s.clone())).collect();
    Settings { version, stop_words, ..Default::default() }
}

#[test]
fn stop_words_only_score_what_the_other_words_find() {
    let index = index_of(products());
    // Without stop words "and" finds every product holding it.
    assert_eq!(ids(&index, "bed and breakfast"), ["bnb", "bed", "and"]);
    let applied = index.apply_settings(with(1, &[("en", StopWordList::default())]), &|_, _| {}).unwrap();
    assert_eq!(applied.rewritten, 0, "stop words apply at query time");
    // "and" no longer widens the search, but the title holding the query as typed still ranks first.
    assert_eq!(ids(&index, "bed and breakfast"), ["bnb", "bed"]);
    // A query of stop words only searches them.
    assert_eq!(ids(&index, "the"), ["the"]);
    // Edited over the defaults: "and" removed, "oak" added.
    let edited = StopWordList { add: vec!["Oak".into()], remove: vec!["and".into()], ..Default::default() };
    index.apply_settings(with(2, &[("en", edited)]), &|_, _| {}).unwrap();
    assert_eq!(ids(&index, "bed and breakfast"), ["bnb", "bed", "and"]);
    assert_eq!(ids(&index, "oak gnome"), ["the"]);
    // Dropped at once.
    index.apply_settings(with(3, &[]), &|_, _| {}).unwrap();
    let mut both = ids(&index, "oak gnome");
    both.sort();
    assert_eq!(both, ["bed", "the"]);
}

#[test]
fn bad_stop_words_are_refused_with_the_entry_named() {
    let index = index_of(products());
    let two = StopWordList { add: vec!["two words".into()], ..Default::default() };
    let error = index.apply_settings(with(1, &[("en", two)]), &|_, _| {}).unwrap_err();
    assert!(error.to_string().contains("stop_words.en.add[0]: `two words` is not one word"), "{error}");
    let error = index.apply_settings(with(1, &[("zz", StopWordList::default())]), &|_, _| {}).unwrap_err();
    assert!(error.to_string().contains("stop_words.zz: unknown language"), "{error}");
    let patched = Settings::default().patched(&serde_json::json!({"stop_words": {"en": {"remove": ["not"]}}}), &[]);
    assert_eq!(patched.unwrap().stop_words["en"].remove, ["not"]);
    let error = Settings::default().patched(&serde_json::json!({"stop_words": {"en": {"drop": []}}}), &[]).unwrap_err();
    assert!(error.starts_with("stop_words.en: unknown field `drop`"), "{error}");
}
