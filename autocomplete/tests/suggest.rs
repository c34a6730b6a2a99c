//! Behaviour of the suggester on small hand-made catalogs.

use std::sync::Arc;

use searchd_autocomplete::{
    CatalogBuilder, CatalogCompletions, Kind, Kinds, QueryLog, Suggester, Suggestion, Weights, query_completions,
};
use searchd_catalog::Product;

fn product(id: &str, title: &str, brand: &str, category: &[&str], popularity: f64) -> Product {
    let mut p = Product::new(id, title);
    p.brand = (!brand.is_empty()).then(|| brand.to_string());
    p.category = category.iter().map(|c| c.to_string()).collect();
    p.popularity = popularity;
    p
}

fn catalog() -> Vec<Product> {
    vec![
        product("1", "Makita 18V Cordless Drill", "Makita", &["Tools", "Power Tools", "Drills"], 50.0),
        product("2", "DeWalt Cordless Drill Battery Pack", "DeWalt", &["Tools", "Power Tools", "Batteries"], 20.0),
        product("3", "Bosch Drill Bit Set", "Bosch", &["Tools", "Accessories"], 5.0),
        product("4", "Café Crème Coffee Beans", "Lavazza", &["Food", "Coffee"], 8.0),
        product("5", "Fjällräven Kånken Backpack", "Fjällräven", &["Bags", "Backpacks"], 30.0),
        product("6", "DEWALT 20V Max Impact Driver", "DEWALT", &["Tools", "Power Tools", "Drivers"], 40.0),
        product("7", "Tom & Jerry <Mug>", "", &["Kitchen"], 1.0),
        product("8", "DeWalt Masonry Bits", "DeWalt", &["Tools", "Accessories"], 0.0),
    ]
}

fn suggester(queries: &[(&str, u64)]) -> Suggester {
    let weights = Weights::default();
    let products = catalog();
    let catalog = CatalogCompletions::from_products(&products, &weights).unwrap();
    let queries = query_completions(queries.iter().map(|(q, n)| (q.to_string(), *n)), &weights).unwrap();
    Suggester::new(Arc::new(catalog), Arc::new(queries))
}

fn texts(hits: &[Suggestion]) -> Vec<&str> {
    hits.iter().map(|h| h.text.as_str()).collect()
}

#[test]
fn earlier_words_complete_and_the_last_is_a_prefix() {
    let s = suggester(&[("cordless drill", 40), ("cordless drill battery", 12), ("cordless saw", 3)]);
    let hits = s.suggest("cordless dri", 8, Kinds::ALL);
    let t = texts(&hits);
    assert_eq!(&t[..2], ["cordless drill", "cordless drill battery"], "{t:?}");
    assert!(t.contains(&"Makita 18V Cordless Drill"), "{t:?}");
    assert!(t.contains(&"DeWalt Cordless Drill Battery Pack"), "{t:?}");
    assert!(!t.contains(&"cordless saw"), "{t:?}");
    assert!(hits.iter().all(|h| h.typos == 0));
    let makita = hits.iter().find(|h| h.kind == Kind::Product && h.id.as_deref() == Some("1")).unwrap();
    assert_eq!(makita.highlight, "Makita 18V <em>Cordless Dri</em>ll");
    // A trailing space means the word is complete.
    assert!(texts(&s.suggest("cordless ", 8, Kinds::ALL)).contains(&"cordless saw"));
    assert!(s.suggest("cordles ", 8, Kinds::ALL).iter().all(|h| h.typos > 0));
}

#[test]
fn folds_diacritics_both_ways() {
    let s = suggester(&[]);
    let hits = s.suggest("cafe cr", 8, Kinds::ALL);
    assert_eq!(texts(&hits), ["Café Crème Coffee Beans"]);
    assert_eq!(hits[0].highlight, "<em>Café Cr</em>ème Coffee Beans");
    assert_eq!(texts(&s.suggest("CAFÉ", 8, Kinds::NONE.with(Kind::Product))), ["Café Crème Coffee Beans"]);
}

#[test]
fn fuzzy_prefixes_rank_below_exact_ones() {
    let s = suggester(&[]);
    // One typo from four letters: a transposition.
    let hits = s.suggest("dewlat", 8, Kinds::ALL);
    let brand = hits.iter().find(|h| h.kind == Kind::Brand).unwrap();
    assert_eq!(brand.text, "DeWalt", "the more frequent spelling wins: {hits:?}");
    assert_eq!(brand.count, Some(3));
    assert_eq!(brand.highlight, "<em>DeWalt</em>");
    // A brand weighs its products' popularity together: it ranks above each of them.
    let exact = s.suggest("dewalt", 8, Kinds::ALL);
    assert_eq!((exact[0].kind, exact[0].text.as_str()), (Kind::Brand, "DeWalt"), "{exact:?}");
    assert!(hits.iter().all(|h| h.typos == 1), "{hits:?}");
    // "fjalr": a deletion against "fjallr…".
    let hits = s.suggest("fjalr", 8, Kinds::ALL);
    assert!(texts(&hits).contains(&"Fjällräven"), "{hits:?}");
    assert!(texts(&hits).contains(&"Fjällräven Kånken Backpack"), "{hits:?}");
    // Three letters allow no typo.
    assert!(s.suggest("dwe", 8, Kinds::ALL).is_empty());
    // Exact matches first, fuzzy after: "drills" is exact for the category, one typo from "drill".
    let hits = s.suggest("drills", 8, Kinds::ALL);
    assert_eq!(hits[0].text, "Drills");
    assert_eq!(hits[0].typos, 0);
    assert!(hits[1..].iter().all(|h| h.typos == 1), "{hits:?}");
    assert!(texts(&hits).contains(&"Makita 18V Cordless Drill"));
    // The first letter is never a typo.
    assert!(s.suggest("xewalt", 8, Kinds::ALL).is_empty());
}

#[test]
fn kinds_filter_and_carry_what_the_client_needs() {
    let s = suggester(&[("drill bits", 7)]);
    let hits = s.suggest("dri", 20, Kinds::ALL);
    let kinds: std::collections::HashSet<_> = hits.iter().map(|h| h.kind).collect();
    assert_eq!(kinds.len(), 3, "queries, products, categories: {hits:?}");
    for h in &hits {
        match h.kind {
            Kind::Product => assert!(h.id.is_some() && h.count.is_none()),
            Kind::Category => assert!(h.path.as_deref().is_some_and(|p| p.starts_with("Tools/"))),
            Kind::Brand => unreachable!("no brand starts with dri"),
            Kind::Query => assert_eq!(h.count, Some(7)),
        }
    }
    let only = s.suggest("dri", 20, Kinds::NONE.with(Kind::Category));
    assert_eq!(texts(&only), ["Drills", "Drivers"]);
    assert_eq!(only[0].path.as_deref(), Some("Tools/Power Tools/Drills"));
    assert!(s.suggest("dri", 20, Kinds::NONE).is_empty());
    assert_eq!(s.suggest("dri", 2, Kinds::ALL).len(), 2);
}

#[test]
fn empty_input_gives_popular_queries_and_duplicates_collapse() {
    let s = suggester(&[("makita", 3), ("cordless drill", 40), ("bosch", 9)]);
    let hits = s.suggest("  ", 8, Kinds::ALL);
    assert_eq!(texts(&hits), ["cordless drill", "bosch", "makita"]);
    assert!(hits.iter().all(|h| h.kind == Kind::Query));
    // "makita" is a query and a brand: shown once, as the better-ranked one.
    let hits = s.suggest("maki", 8, Kinds::ALL);
    assert_eq!(hits.iter().filter(|h| h.text.eq_ignore_ascii_case("makita")).count(), 1, "{hits:?}");
}

#[test]
fn popularity_orders_products_and_mid_title_matches_come_after_title_starts() {
    let s = suggester(&[]);
    let hits = s.suggest("d", 20, Kinds::NONE.with(Kind::Product));
    // DeWalt titles start with d (popularity 40 and 20); "Makita … Drill" (50) matches mid-title.
    assert_eq!(texts(&hits)[..2], ["DEWALT 20V Max Impact Driver", "DeWalt Cordless Drill Battery Pack"], "{hits:?}");
    let scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn highlights_are_html_escaped() {
    let s = suggester(&[]);
    let hits = s.suggest("tom j", 8, Kinds::ALL);
    assert_eq!(hits[0].highlight, "<em>Tom &amp; J</em>erry &lt;Mug&gt;");
}

#[test]
fn the_query_log_feeds_query_completions() {
    let log = QueryLog::in_memory(100);
    for _ in 0..3 {
        log.record("Cordless Drill", 5);
    }
    log.record("cordless drill nothing", 0);
    log.record("cordless saw", 2);
    let weights = Weights::default();
    let queries = query_completions(log.popular(2), &weights).unwrap();
    let s = Suggester::new(Arc::new(CatalogCompletions::empty()), Arc::new(queries));
    assert_eq!(texts(&s.suggest("cordless", 8, Kinds::ALL)), ["cordless drill"]);
}

#[test]
fn a_delta_replaces_deletes_and_adds_products_of_the_base() {
    let weights = Weights::default();
    let products = catalog();
    let base = Arc::new(CatalogCompletions::from_products(&products, &weights).unwrap());
    let renamed =
        product("1", "Makita 18V Brushless Hammer Drill", "Makita", &["Tools", "Power Tools", "Drills"], 50.0);
    let added = product("9", "Zebra Print Rug", "Zebra", &["Home", "Rugs"], 3.0);
    let changed = [("1", Some(&renamed)), ("3", None), ("9", Some(&added))];
    let delta = searchd_autocomplete::CatalogDelta::build(&base, changed, &weights).unwrap();
    assert_eq!(delta.changed(), 3);
    let queries = Arc::new(query_completions([], &weights).unwrap());
    let s = Suggester::with_delta(base, Arc::new(delta), queries);
    let products_only = Kinds::NONE.with(Kind::Product);
    let old = s.suggest("makita 18v c", 8, products_only);
    assert!(old.iter().all(|h| h.text != "Makita 18V Cordless Drill" && h.typos > 0), "the old title is gone: {old:?}");
    assert_eq!(texts(&s.suggest("makita 18v b", 8, products_only)), ["Makita 18V Brushless Hammer Drill"]);
    let deleted = s.suggest("bosch dri", 8, products_only);
    assert!(deleted.iter().all(|h| h.text != "Bosch Drill Bit Set"), "the deleted product is gone: {deleted:?}");
    let zeb = s.suggest("zeb", 8, Kinds::ALL);
    assert_eq!(texts(&zeb), ["Zebra", "Zebra Print Rug"], "{zeb:?}");
    // Unchanged products are still served from the base.
    assert_eq!(texts(&s.suggest("dewalt mas", 8, products_only)), ["DeWalt Masonry Bits"]);
    // Only the new version of a changed product shows, once.
    assert_eq!(s.suggest("makita", 8, products_only).len(), 1);
}

#[test]
fn a_product_limit_keeps_the_most_popular_titles_and_every_brand() {
    let weights = Weights::default();
    let mut builder = CatalogBuilder::new().with_max_products(3);
    for p in catalog() {
        builder.add(&p, &weights);
    }
    let catalog = builder.build(&weights).unwrap();
    let queries = query_completions(std::iter::empty(), &weights).unwrap();
    let suggester = Suggester::new(Arc::new(catalog), Arc::new(queries));
    let products = Kinds::NONE.with(Kind::Product);
    // Popularity 50, 40 and 30 are kept; 20 and below are not.
    assert_eq!(texts(&suggester.suggest("makita", 10, products)), ["Makita 18V Cordless Drill"]);
    assert_eq!(texts(&suggester.suggest("dewalt 20v", 10, products)), ["DEWALT 20V Max Impact Driver"]);
    assert!(suggester.suggest("bosch", 10, products).is_empty());
    assert!(suggester.suggest("dewalt cordless", 10, products).is_empty());
    // Brands and categories are all kept.
    let brands = Kinds::NONE.with(Kind::Brand);
    assert_eq!(texts(&suggester.suggest("bosch", 10, brands)), ["Bosch"]);
}
