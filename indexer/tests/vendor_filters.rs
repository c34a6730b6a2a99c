//! Vendor attributes: declared in the vendors' own settings, filtered in vendor search and
//! matching with the products' filter language. Random filter expressions over 20,000 generated
//! vendors (real cities and categories) return exactly what a plain reading of each vendor's
//! attributes says; a change re-indexes, a contradicted one changes nothing, a write that
//! contradicts the declared type is refused, and the settings survive a reopen.

use std::collections::BTreeSet;
use std::ops::RangeBounds;
use std::sync::LazyLock;

use proptest::prelude::*;
use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_catalog::filter::{Condition, Field, Filter, Op, Resolved, Token, Value};
use searchd_catalog::settings::VendorSettings;
use searchd_catalog::{Vendor, VendorSearchRequest};
use searchd_indexer::{IndexConfig, VendorIndex};
use serde_json::{Value as Json, json};

const DECLARED: [(&str, AttributeType); 5] = [
    ("certifications", AttributeType::Keyword),
    ("payment_terms", AttributeType::Keyword),
    ("min_order", AttributeType::Number),
    ("verified", AttributeType::Boolean),
    ("terms.currency", AttributeType::Keyword),
];
const CERTIFICATIONS: [&str; 5] = ["iso-9001", "iso-14001", "fsc", "ce", "halal"];
const PAYMENT_TERMS: [&str; 4] = ["net-30", "net-60", "prepaid", "Net 30 days"];

/// A vendor attribute: filterable, for nothing else.
fn only(kind: AttributeType) -> AttributeSettings {
    AttributeSettings { facetable: false, sortable: false, ..AttributeSettings::filterable(kind) }
}

fn declared() -> VendorSettings {
    let attributes = DECLARED.iter().map(|(n, k)| (n.to_string(), only(*k))).collect();
    VendorSettings { attributes: AttributeSchema(attributes) }
}

/// Attributes as vendors send them: lists, text numbers and booleans (as CSV cells are), nulls,
/// empty values, a nested object, and absences.
fn attributes(i: usize) -> serde_json::Map<String, Json> {
    let mut a = serde_json::Map::new();
    match i % 7 {
        0 => {}
        1 => drop(a.insert("certifications".into(), json!([]))),
        2 => drop(a.insert("certifications".into(), Json::Null)),
        _ => {
            let picked: Vec<&str> =
                CERTIFICATIONS.iter().enumerate().filter(|(b, _)| i >> b & 1 == 1).map(|(_, c)| *c).collect();
            a.insert("certifications".into(), json!(picked));
        }
    }
    if i % 5 != 0 {
        a.insert("payment_terms".into(), json!(PAYMENT_TERMS[i % PAYMENT_TERMS.len()]));
    }
    match i % 4 {
        0 => drop(a.insert("min_order".into(), json!(format!("{}", (i % 40) * 25)))),
        1 | 2 => drop(a.insert("min_order".into(), json!((i % 57) as f64 * 12.5))),
        _ => {}
    }
    match i % 6 {
        0 => drop(a.insert("verified".into(), json!("TRUE"))),
        1 | 2 => drop(a.insert("verified".into(), json!(i % 3 == 0))),
        3 => drop(a.insert("verified".into(), Json::Null)),
        _ => {}
    }
    if i % 3 != 1 {
        let currency = ["EUR", "USD", "CHF"][i % 3];
        a.insert("terms".into(), json!({ "currency": currency }));
    }
    a
}

struct World {
    index: VendorIndex,
    vendors: Vec<Vendor>,
}

static WORLD: LazyLock<Option<World>> = LazyLock::new(|| {
    use searchd_testkit::vendors::{categories, cities, generate};
    let mut vendors = generate(&cities()?, &categories()?, 20_000, 11);
    for (i, v) in vendors.iter_mut().enumerate() {
        v.attributes = attributes(i).into_iter().collect();
    }
    let index = VendorIndex::in_memory(&IndexConfig::small()).unwrap();
    index.upsert(vendors.clone()).unwrap();
    index.commit().unwrap();
    let applied = index.apply_settings(1, declared()).unwrap();
    assert_eq!(applied.rewritten, vendors.len() as u64);
    Some(World { index, vendors })
});

/// An attribute's values read plainly: list items, text trimmed, blanks and nulls left out.
fn values(v: &Vendor, name: &str) -> Vec<String> {
    let raw = match name.split_once('.') {
        None => v.attributes.get(name),
        Some((object, key)) => v.attributes.get(object).and_then(|o| o.get(key)),
    };
    let items: Vec<&Json> = match raw {
        Some(Json::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Json::String(s) if s.trim().is_empty() => None,
            Json::String(s) => Some(s.trim().to_string()),
            Json::Null => None,
            other => Some(other.to_string()),
        })
        .collect()
}

fn raw<'a>(v: &'a Vendor, name: &str) -> Option<&'a Json> {
    match name.split_once('.') {
        None => v.attributes.get(name),
        Some((object, key)) => v.attributes.get(object)?.get(key),
    }
}

/// The obviously correct reading of a resolved vendor filter.
fn holds(filter: &Resolved, v: &Vendor) -> bool {
    match filter {
        Resolved::And(parts) => parts.iter().all(|f| holds(f, v)),
        Resolved::Or(parts) => parts.iter().any(|f| holds(f, v)),
        Resolved::Not(part) => !holds(part, v),
        Resolved::AnyOf(Field::Attribute(name, kind), wanted) => {
            let have = values(v, name);
            wanted.iter().any(|w| match (kind, w) {
                (AttributeType::Boolean, Value::Bool(b)) => have.iter().any(|h| h.eq_ignore_ascii_case(&b.to_string())),
                (_, Value::Text(t)) => have.contains(t),
                _ => false,
            })
        }
        Resolved::Range(Field::Attribute(name, _), lower, upper) => {
            values(v, name).iter().filter_map(|h| h.parse::<f64>().ok()).any(|n| (*lower, *upper).contains(&n))
        }
        Resolved::Exists(Field::Attribute(name, _)) => raw(v, name).is_some(),
        Resolved::IsNull(field) => raw(v, field.name()).is_some_and(Json::is_null),
        Resolved::IsEmpty(field) => match raw(v, field.name()) {
            Some(Json::String(s)) => s.trim().is_empty(),
            Some(Json::Array(a)) => a.is_empty(),
            _ => false,
        },
        other => panic!("a vendor filter resolved to a built-in field: {other:?}"),
    }
}

fn token(text: impl Into<String>) -> Token {
    Token::new(text)
}

fn condition() -> impl Strategy<Value = Filter> {
    let keyword = (0..3usize, prop::collection::vec(0..6usize, 1..4), 0..10usize).prop_map(|(which, picks, op)| {
        let (field, pool): (&str, Vec<&str>) = match which {
            0 => ("certifications", CERTIFICATIONS.into_iter().chain(["none"]).collect()),
            1 => ("payment_terms", PAYMENT_TERMS.into_iter().chain(["net-90", "NET-30"]).collect()),
            _ => ("terms.currency", vec!["EUR", "USD", "CHF", "GBP", "eur", "USD "]),
        };
        let values: Vec<Token> = picks.iter().map(|i| token(pool[i % pool.len()])).collect();
        let op = match op {
            0 | 1 => Op::Equal(values[0].clone()),
            2 => Op::NotEqual(values[0].clone()),
            3 | 4 => Op::In(values),
            5 => Op::NotIn(values),
            _ => [Op::Exists, Op::NotExists, Op::IsNull, Op::IsNotNull, Op::IsEmpty, Op::IsNotEmpty]
                [(op + values.len()) % 6]
                .clone(),
        };
        Filter::Condition(Condition { field: token(field), op })
    });
    let number = (-50i32..1_000, 0..8usize).prop_map(|(n, op)| {
        let v = token(format!("{}", f64::from(n) / 2.0));
        let op = match op {
            0 => Op::Equal(v),
            1 => Op::NotEqual(v),
            2 => Op::Greater(v),
            3 => Op::GreaterOrEqual(v),
            4 => Op::Less(v),
            5 => Op::LessOrEqual(v),
            6 => Op::Between { from: v, to: token("600") },
            _ => Op::IsNull,
        };
        Filter::Condition(Condition { field: token("min_order"), op })
    });
    let verified = (any::<bool>(), 0..4usize).prop_map(|(b, op)| {
        let op = match op {
            0 => Op::Equal(token(b.to_string())),
            1 => Op::NotEqual(token(b.to_string())),
            2 => Op::IsNull,
            _ => Op::NotExists,
        };
        Filter::Condition(Condition { field: token("verified"), op })
    });
    prop_oneof![3 => keyword, 2 => number, 1 => verified]
}

fn expression() -> impl Strategy<Value = Filter> {
    condition().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Every random vendor filter returns exactly the vendors the plain reading holds for.
    #[test]
    fn random_vendor_filters_equal_brute_force(filter in expression()) {
        let Some(world) = WORLD.as_ref() else { return Ok(()) };
        // Printed and parsed again: what a caller sends is text.
        let filter = Filter::parse(&filter.to_string()).unwrap();
        let resolved = filter.resolve_attributes(&declared().attributes).unwrap();
        let want: BTreeSet<&str> = world.vendors.iter().filter(|v| holds(&resolved, v)).map(|v| v.id.as_str()).collect();
        let request = VendorSearchRequest { filter: Some(filter.clone()), ..Default::default() };
        let (total, hits) = world.index.search_ids(&request, world.vendors.len()).unwrap();
        let got: BTreeSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        prop_assert_eq!(total as usize, want.len(), "{}", filter);
        prop_assert_eq!(got, want, "{}", filter);
    }
}

#[test]
fn vendor_settings_reindex_refuse_contradictions_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let at = searchd_catalog::GeoPoint { lat: 48.2, lon: 16.37 };
    let mut a = Vendor::new("a", "Danube Metalworks", at, 200.0);
    a.categories = vec!["Industrial/Machining".into()];
    a.capabilities = "CNC milling of aluminium".into();
    a.attributes = [("certifications".into(), json!(["iso-9001"])), ("min_order".into(), json!("250"))].into();
    let mut b = Vendor::new("b", "Vienna Mills", at, 200.0);
    b.categories = vec!["Industrial/Machining".into()];
    b.capabilities = "CNC milling, turning".into();
    b.attributes = [("certifications".into(), json!("fsc")), ("min_order".into(), json!("a lot"))].into();
    let search = |index: &VendorIndex, filter: &str| -> searchd_indexer::Result<Vec<String>> {
        let request = VendorSearchRequest { filter: Some(Filter::parse(filter).unwrap()), ..Default::default() };
        Ok(index.search(&request)?.hits.into_iter().map(|h| h.vendor.id).collect())
    };
    {
        let index = VendorIndex::open(dir.path(), &IndexConfig::small()).unwrap();
        index.upsert(vec![a.clone(), b.clone()]).unwrap();
        index.commit().unwrap();
        // Nothing declared: a filter names what is missing.
        let e = search(&index, "certifications = fsc").unwrap_err().to_string();
        assert!(e.contains("`certifications` is not filterable; no attribute is declared filterable"), "{e}");

        // `min_order` as a number is contradicted by "a lot": nothing changes, the vendor is named.
        let mut settings = VendorSettings::default();
        settings.attributes.0.insert("certifications".into(), only(AttributeType::Keyword));
        settings.attributes.0.insert("min_order".into(), only(AttributeType::Number));
        match index.apply_settings(1, settings.clone()) {
            Err(searchd_indexer::Error::Refused { count: 1, first }) => {
                assert!(first[0].contains("vendor `b`") && first[0].contains("attributes.min_order"), "{first:?}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(index.settings().version, 0);

        settings.attributes.0.remove("min_order");
        assert_eq!(index.apply_settings(2, settings.clone()).unwrap().rewritten, 2);
        assert_eq!(search(&index, "certifications = fsc").unwrap(), ["b"]);
        assert_eq!(search(&index, "certifications IN [iso-9001, ce]").unwrap(), ["a"]);
        // A write contradicting a declared type is refused by name; the rest of the index stays.
        settings.attributes.0.insert("rating_internal".into(), only(AttributeType::Number));
        assert_eq!(index.apply_settings(3, settings).unwrap().rewritten, 2);
        let mut c = Vendor::new("c", "Graz Tools", at, 50.0);
        c.attributes = [("rating_internal".into(), json!("high"))].into();
        let e = index.upsert(vec![c]).unwrap_err().to_string();
        assert!(e.contains("attributes.rating_internal") && e.contains("not a number"), "{e}");
        // Matching takes the filter too.
        let mut rfi = searchd_catalog::Rfi {
            category: "Industrial/Machining".into(),
            description: "cnc milling".into(),
            location: at,
            max_distance_km: None,
            quantity: None,
            budget: None,
            needed_by: None,
            language: None,
            filter: None,
            limit: 10,
        };
        assert_eq!(index.match_rfi(&rfi).unwrap().hits.len(), 2);
        rfi.filter = Some(Filter::parse("certifications = iso-9001").unwrap());
        let hits: Vec<String> = index.match_rfi(&rfi).unwrap().hits.into_iter().map(|h| h.vendor.id).collect();
        assert_eq!(hits, ["a"]);
        rfi.filter = Some(Filter::parse("price < 3").unwrap());
        assert!(index.match_rfi(&rfi).unwrap_err().to_string().contains("`price` is not filterable"));
    }
    // Reopened: the committed settings are served.
    let index = VendorIndex::open(dir.path(), &IndexConfig::small()).unwrap();
    assert_eq!(index.settings().version, 3);
    assert_eq!(search(&index, "certifications = fsc").unwrap(), ["b"]);
}

/// A new vendor index takes `[index.vendor_attributes]` as its first settings; a configuration
/// declaring what vendors cannot have is refused by name.
#[test]
fn a_first_start_takes_the_configured_vendor_attributes() {
    let mut config = IndexConfig::small();
    config.vendor_attributes = declared().attributes;
    let index = VendorIndex::in_memory(&config).unwrap();
    assert_eq!((index.settings().version, index.settings().generation), (1, 1));
    let mut v = Vendor::new("v", "Linz Tools", searchd_catalog::GeoPoint { lat: 48.3, lon: 14.29 }, 30.0);
    v.attributes = attributes(3).into_iter().collect();
    index.upsert(vec![v]).unwrap();
    index.commit().unwrap();
    let request =
        VendorSearchRequest { filter: Some(Filter::parse("certifications = iso-9001").unwrap()), ..Default::default() };
    assert_eq!(index.search(&request).unwrap().total_hits, 1);
    config.vendor_attributes.0.get_mut("verified").unwrap().facetable = true;
    let e = VendorIndex::in_memory(&config).unwrap_err().to_string();
    assert!(e.contains("vendor_attributes.verified: vendor attributes are filterable only"), "{e}");
}

/// A change undone (its product part failed): the settings before it serve again, for the
/// vendors written meanwhile too.
#[test]
fn restoring_the_settings_before_a_change_covers_vendors_written_since() {
    let at = searchd_catalog::GeoPoint { lat: 48.3, lon: 14.29 };
    let vendor = |id: &str, certification: &str| {
        let mut v = Vendor::new(id, format!("Vendor {id}"), at, 30.0);
        v.attributes = [("certifications".into(), json!(certification)), ("min_order".into(), json!(100))].into();
        v
    };
    let index = VendorIndex::in_memory(&IndexConfig::small()).unwrap();
    index.upsert(vec![vendor("a", "fsc")]).unwrap();
    let mut before = VendorSettings::default();
    before.attributes.0.insert("certifications".into(), only(AttributeType::Keyword));
    index.apply_settings(1, before).unwrap();
    let mut next = declared();
    next.attributes.0.remove("certifications");
    let old = index.settings();
    assert_eq!(index.apply_settings(2, next).unwrap().rewritten, 1);
    index.upsert(vec![vendor("b", "fsc")]).unwrap();
    index.restore(old.as_ref().clone()).unwrap();
    assert_eq!(index.settings().as_ref(), old.as_ref());
    let request =
        VendorSearchRequest { filter: Some(Filter::parse("certifications = fsc").unwrap()), ..Default::default() };
    assert_eq!(index.search(&request).unwrap().total_hits, 2);
}
