//! Synonyms from the settings, at query time: multi-way and one-way, one word or a phrase, by
//! stem and within a misspelt word's typo budget, per language; the word as typed first; shown
//! in explain; applied and dropped at once, without writing a product again; refused with the
//! entry named.

use searchd_catalog::synonyms::SynonymSet;
use searchd_catalog::{MatchKind, Product, RankingMode, SearchRequest, Settings};

use crate::{ids, index_of, scorer};

fn products() -> Vec<Product> {
    let mut sofa = Product::new("sofa", "Three seat sofa");
    sofa.description = "Grey fabric, oak legs.".into();
    let couch = Product::new("couch", "Leather couch with recliner");
    let tv = Product::new("tv", "55 in. 4K television set");
    let cable = Product::new("cable", "Braided type c charging cable");
    let lamp = Product::new("lamp", "Reading lamp");
    vec![sofa, couch, tv, cable, lamp]
}

fn set(input: Option<&str>, synonyms: &[&str], lang: Option<&str>) -> SynonymSet {
    let set = input.map_or_else(|| SynonymSet::multi_way(synonyms), |i| SynonymSet::one_way(i, synonyms));
    lang.map_or(set.clone(), |l| set.in_language(l))
}

fn with(version: u64, synonyms: Vec<SynonymSet>) -> Settings {
    Settings { version, synonyms, ..Default::default() }
}

#[test]
fn synonyms_find_what_their_words_find_and_rank_the_word_as_typed_first() {
    let index = index_of(products());
    assert_eq!(ids(&index, "couch"), ["couch"]);
    let applied = index
        .apply_settings(
            with(
                1,
                vec![
                    set(None, &["sofa", "couch", "settee"], None),
                    set(Some("tv"), &["television"], Some("en")),
                    set(Some("usb c"), &["type c"], None),
                    set(Some("lamp"), &["reading lamp"], Some("de")),
                ],
            ),
            &|_, _| {},
        )
        .unwrap();
    assert_eq!(applied.rewritten, 0, "synonyms apply at query time");
    // Multi-way: each finds the others; the word as typed ranks first.
    assert_eq!(ids(&index, "couch"), ["couch", "sofa"]);
    assert_eq!(ids(&index, "sofa"), ["sofa", "couch"]);
    let mut settee = ids(&index, "settee");
    settee.sort();
    assert_eq!(settee, ["couch", "sofa"]);
    // By stem, and a misspelt rare word within its budget.
    assert_eq!(ids(&index, "couches"), ["couch", "sofa"]);
    assert_eq!(ids(&index, "couhc"), ["couch", "sofa"]);
    // One-way: "tv" finds televisions, "television" does not find "tv".
    assert_eq!(ids(&index, "tv"), ["tv"]);
    assert_eq!(ids(&index, "television"), ["tv"]);
    // A run of words ("usb c") finds a phrase, all of whose words must be there.
    assert_eq!(ids(&index, "usb c cable"), ["cable"]);
    assert_eq!(ids(&index, "usb c"), ["cable"]);
    // A German synonym does not apply to an English query.
    assert_eq!(ids(&index, "lamp"), ["lamp"]);
    // Plain BM25 is without synonyms.
    let bm25 = SearchRequest { q: "couch".into(), ranking: RankingMode::Bm25, ..SearchRequest::default() };
    let hits = index.search(&bm25, &scorer()).unwrap().hits;
    assert_eq!(hits.iter().map(|h| h.product.id.as_str()).collect::<Vec<_>>(), ["couch"]);

    // Explain names the synonym a hit matched through.
    let request = SearchRequest { q: "leather sofa".into(), explain: true, ..SearchRequest::default() };
    let hits = index.search(&request, &scorer()).unwrap().hits;
    let couch = hits.iter().find(|h| h.product.id == "couch").unwrap();
    let words = &couch.explain.as_ref().unwrap().words;
    assert_eq!(words[0].kind, MatchKind::Exact);
    assert_eq!((words[1].kind, words[1].synonym.as_deref()), (MatchKind::Synonym, Some("couch")));
    let sofa = hits.iter().find(|h| h.product.id == "sofa").unwrap();
    assert_eq!(sofa.explain.as_ref().unwrap().words[1].synonym, None);

    // Dropped at once.
    index.apply_settings(with(2, Vec::new()), &|_, _| {}).unwrap();
    assert_eq!(ids(&index, "couch"), ["couch"]);
}

#[test]
fn bad_synonyms_are_refused_with_the_entry_named_and_change_nothing() {
    let index = index_of(products());
    index.apply_settings(with(1, vec![set(None, &["sofa", "couch"], None)]), &|_, _| {}).unwrap();
    let error = index
        .apply_settings(with(2, vec![set(None, &["tv", "television"], None), set(None, &["sofa"], None)]), &|_, _| {})
        .unwrap_err();
    assert!(error.to_string().contains("synonyms[1].synonyms"), "{error}");
    let error = index.apply_settings(with(2, vec![set(None, &["a", "b"], Some("zz"))]), &|_, _| {}).unwrap_err();
    assert!(error.to_string().contains("synonyms[0].lang: unknown language `zz`"), "{error}");
    // The settings served before still are.
    assert_eq!(index.settings().settings.version, 1);
    assert_eq!(ids(&index, "couch"), ["couch", "sofa"]);
    // A patch names what is wrong too.
    let patch = serde_json::json!({"synonyms": [{"synonyms": ["a", "b"], "input": "x", "extra": 1}]});
    let error = index.settings().settings.patched(&patch, &[]).unwrap_err();
    assert!(error.starts_with("synonyms[0]: unknown field `extra`"), "{error}");
    let error = index.settings().settings.patched(&serde_json::json!({"synonyms": {"a": "b"}}), &[]).unwrap_err();
    assert!(error.starts_with("synonyms: a list"), "{error}");
}

#[test]
fn a_preview_answers_under_candidate_settings_without_serving_them() {
    let index = index_of(products());
    let preview = index.preview(with(1, vec![set(None, &["sofa", "couch"], None)])).unwrap();
    let request = SearchRequest { q: "couch".into(), ..SearchRequest::default() };
    let found: Vec<String> = preview.search_ids(&request, &scorer()).unwrap().into_iter().map(|hit| hit.id).collect();
    assert_eq!(found, ["couch", "sofa"]);
    let hits = preview.search(&request, &scorer()).unwrap().hits;
    assert_eq!(hits.len(), 2);
    // The served settings are untouched.
    assert_eq!(ids(&index, "couch"), ["couch"]);
    assert_eq!(index.settings().settings.version, 0);
    // A change that writes every product again is not previewed; bad synonyms are refused.
    let mut declared = with(1, Vec::new());
    declared.attributes.0.insert(
        "colour".into(),
        searchd_catalog::attributes::AttributeSettings::filterable(searchd_catalog::attributes::AttributeType::Keyword),
    );
    let error = index.preview(declared).unwrap_err();
    assert!(error.to_string().contains("cannot be previewed"), "{error}");
    let error = index.preview(with(1, vec![set(None, &["sofa"], None)])).unwrap_err();
    assert!(error.to_string().contains("synonyms[0].synonyms"), "{error}");
}
