//! Searchable attributes: `q` matches the words of keyword and text attributes declared
//! `searchable` (folded and stemmed, nested ones too), each weighted as declared; a weight change
//! applies at once, a change of what is searchable re-indexes; settings refuse what cannot work.

use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_catalog::{Product, SearchRequest, Settings};
use serde_json::json;

use crate::{ids, index_of, scorer};

fn products() -> Vec<Product> {
    let mut shirt = Product::new("shirt", "Summer shirt");
    shirt.attributes.insert("material".into(), json!("Washed Linen blend"));
    shirt.attributes.insert("specs".into(), json!({"care": ["Hand wash", "Line dry"]}));
    let mut towel = Product::new("towel", "Kitchen towel");
    towel.description = "A towel of linen, woven in Portugal.".into();
    towel.attributes.insert("material".into(), json!("Cotton"));
    let mut mug = Product::new("mug", "Coffee mug");
    mug.attributes.insert("colour".into(), json!(["Ochre", "Navy"]));
    vec![shirt, towel, mug]
}

fn settings(version: u64, material_weight: f32) -> Settings {
    let mut colour = AttributeSettings::filterable(AttributeType::Keyword);
    colour.searchable = true;
    let attributes = [
        ("material", AttributeSettings::searchable(AttributeType::Text, material_weight)),
        ("specs.care", AttributeSettings::searchable(AttributeType::Text, 1.0)),
        ("colour", colour),
    ];
    Settings {
        version,
        attributes: AttributeSchema(attributes.map(|(n, s)| (n.to_string(), s)).into()),
        ..Default::default()
    }
}

#[test]
fn searchable_attributes_are_matched_by_their_words_with_their_weights() {
    let index = index_of(products());
    // Undeclared attributes are stored, not searched.
    assert_eq!(ids(&index, "ochre"), Vec::<String>::new());
    assert_eq!(ids(&index, "linen"), ["towel"]);

    let applied = index.apply_settings(settings(1, 5.0), &|_, _| {}).unwrap();
    assert_eq!(applied.rewritten, 3, "declaring searchable attributes writes every product again");
    // A keyword attribute both filterable and searchable, folded ("OCHRE"); a nested text one.
    assert_eq!(ids(&index, "OCHRE"), ["mug"]);
    assert_eq!(ids(&index, "wash"), ["shirt"]);
    // Stemmed: "washing" finds "wash", "linens" finds "Linen".
    assert_eq!(ids(&index, "washing"), ["shirt"]);
    // The material's weight (5) outranks the towel's description (1)…
    assert_eq!(ids(&index, "linens"), ["shirt", "towel"]);
    assert_eq!(ids(&index, "linen"), ["shirt", "towel"]);
    // …and a weight below the description's puts it behind; weights apply without a re-index.
    let applied = index.apply_settings(settings(2, 0.2), &|_, _| {}).unwrap();
    assert_eq!(applied.rewritten, 0);
    assert_eq!(ids(&index, "linen"), ["towel", "shirt"]);
    // The keyword stays a keyword for filters: the whole value, as given.
    let request = SearchRequest {
        filter: Some(searchd_catalog::filter::Filter::parse("colour = Ochre").unwrap()),
        ..SearchRequest::default()
    };
    let hits = index.search(&request, &scorer()).unwrap().hits;
    assert_eq!(hits.iter().map(|h| h.product.id.as_str()).collect::<Vec<_>>(), ["mug"]);

    // No longer searchable: a re-index, and the words are gone from search.
    let mut next = settings(3, 1.0);
    next.attributes.0.remove("material");
    assert!(index.apply_settings(next, &|_, _| {}).unwrap().rewritten > 0);
    assert_eq!(ids(&index, "linen"), ["towel"]);
    assert_eq!(ids(&index, "navy"), ["mug"]);
}

#[test]
fn settings_refuse_searchable_numbers_filterable_text_and_bad_weights() {
    let live = Settings::default();
    let refused =
        |attribute: serde_json::Value| live.patched(&json!({"attributes": {"x": attribute}}), &["brand"]).unwrap_err();
    let e = refused(json!({"type": "text", "searchable": true, "filterable": true}));
    assert!(e.contains("`x`") && e.contains("text attribute is searchable only"), "{e}");
    let e = refused(json!({"type": "number", "searchable": true}));
    assert!(e.contains("searchable applies to keyword and text"), "{e}");
    for weight in [0.0, -1.0, 11.0] {
        let e = refused(json!({"type": "text", "searchable": true, "weight": weight}));
        assert!(e.contains("weight is a number above 0 and at most 10"), "{e}");
    }
    let next = live.patched(&json!({"attributes": {"x": {"type": "text", "searchable": true}}}), &[]).unwrap();
    assert!(next.needs_reindex(&live));
    let heavier = next.patched(&json!({"attributes": {"x": {"weight": 4}}}), &[]).unwrap();
    assert!(!heavier.needs_reindex(&next), "a weight applies at once");
    assert_eq!(heavier.attributes.get("x").unwrap().weight(), 4.0);
}

#[test]
fn text_weights_change_at_runtime_and_bad_ones_are_refused() {
    let mut sign = Product::new("sign", "Welcome sign");
    sign.brand = Some("Oak Lane".into());
    let mut table = Product::new("table", "Oak table");
    table.brand = Some("Acme".into());
    let index = index_of([sign, table]);
    // The configured weights: a word in the title (3, and the product type's 2) outranks one in
    // the brand (2).
    assert_eq!(ids(&index, "oak"), ["table", "sign"]);
    let settings = |version: u64, weights: &[(&str, f32)]| Settings {
        version,
        weights: weights.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..Default::default()
    };
    let applied = index.apply_settings(settings(1, &[("brand", 10.0)]), &|_, _| {}).unwrap();
    assert_eq!(applied.rewritten, 0, "weights apply at query time");
    assert_eq!(ids(&index, "oak"), ["sign", "table"]);
    // A preview of other weights answers with them, the served ones stay.
    let preview = index.preview(settings(2, &[])).unwrap();
    let request = SearchRequest { q: "oak".into(), ..SearchRequest::default() };
    let found: Vec<String> = preview.search_ids(&request, &scorer()).unwrap().into_iter().map(|h| h.id).collect();
    assert_eq!(found, ["table", "sign"]);
    assert_eq!(ids(&index, "oak"), ["sign", "table"]);
    for (bad, want) in [
        (("titel", 1.0), "weights.titel: not a text weight"),
        (("stemmed", 2.0), "weights.stemmed:"),
        (("brand", -1.0), "weights.brand:"),
    ] {
        let error = index.apply_settings(settings(2, &[bad]), &|_, _| {}).unwrap_err();
        assert!(error.to_string().contains(want), "{error}");
    }
    let patch = serde_json::json!({"weights": {"title": "heavy"}});
    assert!(Settings::default().patched(&patch, &[]).unwrap_err().starts_with("weights.title: a number"));
    let patch = serde_json::json!({"weights": {"title": 4, "brand": null}});
    let next = index.settings().settings.patched(&patch, &[]).unwrap();
    assert_eq!(next.weights.into_iter().collect::<Vec<_>>(), [("title".to_string(), 4.0)]);
}
