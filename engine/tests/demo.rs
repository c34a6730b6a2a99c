//! The demo catalog as a newcomer meets it: clean texts (no list holding a value twice, no
//! sentence repeated, no stray fragment ending a description), snippets that end at a word,
//! popular searches that find something, vendor matching that lists only vendors that fit, and
//! offers of the demo's own products and vendors that serve a shopper.

use std::collections::HashSet;
use std::sync::Arc;

use searchd_autocomplete::QueryLog;
use searchd_catalog::{MatchFit, Ranker, Rfi, SearchRequest};
use searchd_engine::demo;
use searchd_indexer::{IndexConfig, ProductIndex, VendorIndex};
use searchd_ranking::{DefaultScorer, RankingConfig};

fn demo_index() -> ProductIndex {
    let config = IndexConfig { attributes: demo::attributes(), ..IndexConfig::default() };
    let index = ProductIndex::in_memory(config).unwrap();
    demo::load(&index).unwrap();
    index
}

fn ranker() -> Ranker {
    Ranker::first_phase(Arc::new(DefaultScorer::new(RankingConfig::default())))
}

/// The sentences of a text: cut after a full stop and a space, except after a unit written
/// short (`16 oz. for framing`, `12 in. with Lid`), which does not end a sentence.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(". ") {
        let word = text[start..i].rsplit(' ').next().unwrap_or("");
        let unit = word.len() <= 3 && word.chars().all(|c| c.is_ascii_lowercase());
        if !unit {
            out.push(&text[start..=i]);
            start = i + 2;
        }
    }
    out.push(&text[start..]);
    out
}

#[test]
fn every_demo_text_is_clean() {
    let products = demo::products().unwrap();
    assert!(products.len() > 300, "{}", products.len());
    for p in &products {
        let said = sentences(&p.description);
        for sentence in &said {
            let first = sentence.chars().next().unwrap_or(' ');
            assert!(first.is_uppercase() || first.is_ascii_digit(), "{}: stray fragment `{sentence}`", p.id);
        }
        assert!(!p.description.contains(".."), "{}: {}", p.id, p.description);
        assert_eq!(said.iter().collect::<HashSet<_>>().len(), said.len(), "{}: a sentence twice", p.id);
    }
    let vendors = demo::vendors().unwrap();
    assert!(vendors.len() > 100, "{}", vendors.len());
    for v in &vendors {
        for (what, list) in [("categories", &v.categories), ("tags", &v.tags), ("languages", &v.languages)] {
            assert_eq!(list.iter().collect::<HashSet<_>>().len(), list.len(), "{}: {what} {list:?}", v.id);
        }
        let clauses: Vec<String> =
            v.capabilities.split([';', ',']).map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()).collect();
        assert_eq!(clauses.iter().collect::<HashSet<_>>().len(), clauses.len(), "{}: {}", v.id, v.capabilities);
        let parts: Vec<&str> = v.description.split(", also ").collect();
        assert_eq!(parts.iter().collect::<HashSet<_>>().len(), parts.len(), "{}: {}", v.id, v.description);
    }
}

/// A description snippet is a piece of the description that starts and ends at whole words.
#[test]
fn description_snippets_end_at_a_word() {
    let index = demo_index();
    let products: std::collections::HashMap<String, String> =
        demo::products().unwrap().into_iter().map(|p| (p.id, p.description)).collect();
    let mut cut = 0;
    for q in ["light", "batteries", "removable", "handle", "waterproof", "usb", "bars", "carpentry", "Bezügen"] {
        let request = SearchRequest { q: q.into(), per_page: 50, highlight: true, ..SearchRequest::default() };
        for hit in index.search(&request, &ranker()).unwrap().hits {
            let Some(snippet) = hit.highlight.and_then(|h| h.description) else { continue };
            let plain = snippet
                .replace("<em>", "")
                .replace("</em>", "")
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'");
            let text = &products[&hit.product.id];
            let inner = plain.trim_start_matches('…').trim_end_matches('…');
            let at = text.find(inner).unwrap_or_else(|| panic!("{}: `{inner}` is not in `{text}`", hit.product.id));
            let end = at + inner.len();
            if plain.ends_with('…') {
                cut += 1;
                assert!(text[end..].starts_with(char::is_whitespace), "{}: cut mid-word: `{plain}`", hit.product.id);
            } else {
                assert_eq!(end, text.len(), "{}: `{plain}`", hit.product.id);
            }
            if plain.starts_with('…') {
                assert!(text[..at].ends_with(char::is_whitespace), "{}: starts mid-word: `{plain}`", hit.product.id);
            }
        }
    }
    println!("demo snippets: {cut} cut short, each at a word");
}

#[test]
fn popular_searches_find_products_and_are_suggested_at_once() {
    let index = demo_index();
    let log = QueryLog::in_memory(1_000);
    let seeded = demo::seed_queries(&index, &log).unwrap();
    let popular = log.popular(2);
    assert_eq!(popular.len(), seeded, "every seeded search finds something: {popular:?}");
    for (query, count) in demo::popular_queries().unwrap() {
        assert_eq!(log.count(&query), count, "{query}");
    }
}

#[test]
fn a_paris_espresso_request_lists_the_paris_vendor_first_and_only_vendors_that_fit() {
    let vendors = VendorIndex::in_memory(&IndexConfig::default()).unwrap();
    demo::load_vendors(&vendors).unwrap();
    let rfi: Rfi = serde_json::from_value(serde_json::json!({
        "category": "Kitchen/Coffee",
        "description": "espresso machine descaling and barista training for our café",
        "location": {"lat": 48.8566, "lon": 2.3522},
        "limit": 20
    }))
    .unwrap();
    let answer = vendors.match_rfi(&rfi).unwrap();
    let first = &answer.hits[0];
    assert!(
        first.vendor.name.starts_with("Paris"),
        "{:?}",
        answer.hits.iter().map(|h| &h.vendor.name).collect::<Vec<_>>()
    );
    // Each vendor listed is in the category, or says in its own words that it does the work.
    let words = ["espresso", "descaling", "barista", "training", "café", "machine"];
    for hit in &answer.hits {
        let in_category = hit.vendor.categories.iter().any(|c| c.starts_with("Kitchen"));
        let text = format!("{} {} {}", hit.vendor.description, hit.vendor.capabilities, hit.vendor.tags.join(" "))
            .to_lowercase();
        match hit.breakdown.fit {
            MatchFit::Category => assert!(in_category, "{:?}", hit.vendor),
            MatchFit::Text => {
                assert!(words.iter().any(|w| text.contains(w)), "{:?}", hit.vendor);
                assert!(hit.breakdown.text >= 0.35 * 0.2 - 1e-9, "{:?}", hit.breakdown);
            }
            MatchFit::Offers => panic!("matching without offers lists no vendor for its offers: {:?}", hit.vendor),
        }
    }
    assert!(answer.hits.len() <= answer.candidates as usize);
    // Nothing in the catalog does this: no filler.
    let rfi: Rfi = serde_json::from_value(serde_json::json!({
        "category": "Aerospace/Satellites",
        "description": "orbital satellite launch insurance",
        "location": {"lat": 48.8566, "lon": 2.3522}
    }))
    .unwrap();
    let answer = vendors.match_rfi(&rfi).unwrap();
    assert!(
        answer.hits.is_empty(),
        "{:?}",
        answer.hits.iter().map(|h| (&h.vendor.name, h.breakdown)).collect::<Vec<_>>()
    );
}

#[test]
fn demo_offers_name_demo_products_and_vendors_and_serve_paris() {
    let products: HashSet<String> = demo::products().unwrap().into_iter().map(|p| p.id).collect();
    let vendors: HashSet<String> = demo::vendors().unwrap().into_iter().map(|v| v.id).collect();
    let offers = demo::offers().unwrap();
    assert!(offers.len() > 1_000, "{}", offers.len());
    for offer in &offers {
        assert!(products.contains(&offer.product_id) && vendors.contains(&offer.vendor_id), "{offer:?}");
    }
    let index = demo_index();
    let vendor_index = VendorIndex::in_memory(&IndexConfig::small()).unwrap();
    demo::load_vendors(&vendor_index).unwrap();
    let offer_index = searchd_indexer::OfferIndex::in_memory(&IndexConfig::small()).unwrap();
    assert_eq!(demo::load_offers(&offer_index).unwrap(), offers.len());
    let paris = searchd_catalog::GeoPoint { lat: 48.8566, lon: 2.3522 };
    let request = SearchRequest { q: "espresso".into(), near: Some(paris), ..SearchRequest::default() };
    let near = offer_index
        .near(&vendor_index, &index, paris, &request.offer_conditions().unwrap(), request.offer_sort)
        .unwrap();
    let response = index.search_near(&request, &ranker(), &near).unwrap();
    assert!(response.total_hits > 0, "an espresso machine is sold near Paris");
    for hit in &response.hits {
        let offer = hit.offer.as_ref().unwrap();
        assert!(offer.offer.stock > 0 && offer.serving_offers >= 1, "{offer:?}");
    }
}
