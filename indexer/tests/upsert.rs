//! Idempotent upserts by id and version; stale writes never win; tombstones survive restarts.

use std::collections::BTreeMap;

use proptest::prelude::*;
use searchd_catalog::{CatalogEvent, Product, WriteOutcome};
use searchd_indexer::{IndexConfig, ProductIndex};

#[derive(Debug, Clone)]
enum Op {
    Upsert { id: u8, version: u64 },
    Delete { id: u8, version: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..6, 1u64..12).prop_map(|(id, version)| Op::Upsert { id, version }),
        1 => (0u8..6, 1u64..12).prop_map(|(id, version)| Op::Delete { id, version }),
    ]
}

fn event(op: &Op) -> CatalogEvent {
    match *op {
        Op::Upsert { id, version } => {
            let mut p = Product::new(format!("p{id}"), format!("product {id} version {version}"));
            p.version = version;
            CatalogEvent::Upsert { product: p }
        }
        Op::Delete { id, version } => CatalogEvent::Delete { id: format!("p{id}"), version },
    }
}

/// The reference: id → (highest version seen, live?, title of that version).
fn model(ops: &[Op]) -> BTreeMap<String, (u64, bool, String)> {
    let mut m: BTreeMap<String, (u64, bool, String)> = BTreeMap::new();
    for op in ops {
        let (id, version, live) = match *op {
            Op::Upsert { id, version } => (id, version, true),
            Op::Delete { id, version } => (id, version, false),
        };
        let key = format!("p{id}");
        if m.get(&key).is_none_or(|(v, _, _)| version > *v) {
            m.insert(key, (version, live, format!("product {id} version {version}")));
        }
    }
    m
}

fn live_state(index: &ProductIndex) -> BTreeMap<String, (u64, String)> {
    (0..6).filter_map(|i| index.get(&format!("p{i}")).ok()).map(|p| (p.id, (p.version, p.title))).collect()
}

fn config() -> IndexConfig {
    IndexConfig::small()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any sequence of versioned writes ends in the state of "highest version wins", and
    /// replaying the whole sequence (at-least-once delivery) changes nothing.
    #[test]
    fn upserts_are_idempotent_and_stale_versions_lose(ops in proptest::collection::vec(op(), 1..40)) {
        let index = ProductIndex::in_memory(config()).unwrap();
        for op in &ops {
            index.apply(event(op)).unwrap();
        }
        index.commit().unwrap();
        let expected: BTreeMap<String, (u64, String)> = model(&ops)
            .into_iter()
            .filter(|(_, (_, live, _))| *live)
            .map(|(id, (v, _, title))| (id, (v, title)))
            .collect();
        prop_assert_eq!(live_state(&index), expected.clone());
        prop_assert_eq!(index.num_docs(), expected.len() as u64);

        // The content version depends on the final state only: an index given just the live
        // products at their versions, in reverse order, agrees; so does an empty one when
        // nothing is live.
        let direct = ProductIndex::in_memory(config()).unwrap();
        for (id, (version, title)) in expected.iter().rev() {
            let mut p = Product::new(id.clone(), title.clone());
            p.version = *version;
            direct.apply(CatalogEvent::Upsert { product: p }).unwrap();
        }
        direct.commit().unwrap();
        prop_assert_eq!(index.content_version(), direct.content_version());
        let before = index.content_version();

        for op in &ops {
            let outcome = index.apply(event(op)).unwrap();
            prop_assert!(!matches!(outcome, WriteOutcome::Applied { .. }), "replay of {:?} changed the index", op);
        }
        index.commit().unwrap();
        prop_assert_eq!(live_state(&index), expected);
        prop_assert_eq!(index.content_version(), before, "a replay changed the content version");
    }
}

/// The content version caches key on: changed by every commit that changes a product, not by
/// writes until they are committed, not by merges or restarts, and the same in two indexes
/// holding the same products.
#[test]
fn the_content_version_follows_committed_content_only() {
    let dir = tempfile::tempdir().unwrap();
    let put = |index: &ProductIndex, id: &str, version: u64| {
        let mut p = Product::new(id, format!("{id} at {version}"));
        p.version = version;
        index.apply(CatalogEvent::Upsert { product: p }).unwrap();
    };
    let (empty, one, two, after_delete);
    {
        let index = ProductIndex::open(dir.path(), config()).unwrap();
        empty = index.content_version();
        put(&index, "a", 1);
        assert_eq!(index.content_version(), empty, "uncommitted writes must not change it");
        index.commit().unwrap();
        one = index.content_version();
        assert_ne!(one, empty);
        put(&index, "b", 1);
        index.commit().unwrap();
        two = index.content_version();
        assert_ne!(two, one);
        put(&index, "a", 2);
        index.commit().unwrap();
        assert_ne!(index.content_version(), two, "a new version of a product changes it");
        index.delete("a", 3).unwrap();
        index.commit().unwrap();
        after_delete = index.content_version();
        index.merge_segments().unwrap();
        assert_eq!(index.content_version(), after_delete, "a merge changes no content");
        index.commit().unwrap();
        assert_eq!(index.content_version(), after_delete, "an empty commit changes no content");
    }
    let reopened = ProductIndex::open(dir.path(), config()).unwrap();
    assert_eq!(reopened.content_version(), after_delete);
    // Another index with only b@1 holds what this one holds.
    let other = ProductIndex::in_memory(config()).unwrap();
    put(&other, "b", 1);
    other.commit().unwrap();
    assert_eq!(other.content_version(), after_delete);
    assert_ne!(other.content_version(), one);
    // Engagement changes ranking, so it changes the version too.
    other.set_engagement([("b".to_string(), 3.0)].into()).unwrap();
    assert_ne!(other.content_version(), after_delete);
    other.set_engagement(Default::default()).unwrap();
    assert_eq!(other.content_version(), after_delete);
}

#[test]
fn a_deleted_product_stays_deleted_after_restart_when_an_older_upsert_replays() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = ProductIndex::open(dir.path(), config()).unwrap();
        let mut p = Product::new("a", "first");
        p.version = 5;
        index.apply(CatalogEvent::Upsert { product: p }).unwrap();
        index.apply(CatalogEvent::Delete { id: "a".into(), version: 6 }).unwrap();
        index.commit().unwrap();
    }
    let index = ProductIndex::open(dir.path(), config()).unwrap();
    let mut old = Product::new("a", "replayed");
    old.version = 5;
    assert_eq!(index.apply(CatalogEvent::Upsert { product: old }).unwrap(), WriteOutcome::Stale { current: 6 });
    let mut newer = Product::new("a", "back again");
    newer.version = 7;
    assert_eq!(index.apply(CatalogEvent::Upsert { product: newer }).unwrap(), WriteOutcome::Applied { version: 7 });
    index.commit().unwrap();
    assert_eq!(index.get("a").unwrap().title, "back again");
}

#[test]
fn unversioned_writes_take_the_next_version() {
    let index = ProductIndex::in_memory(config()).unwrap();
    let put = |title: &str| index.apply(CatalogEvent::Upsert { product: Product::new("x", title) }).unwrap();
    assert_eq!(put("one"), WriteOutcome::Applied { version: 1 });
    assert_eq!(put("two"), WriteOutcome::Applied { version: 2 });
    index.commit().unwrap();
    let p = index.get("x").unwrap();
    assert_eq!((p.version, p.title.as_str()), (2, "two"));
    assert_eq!(index.num_docs(), 1);
}

#[test]
fn invalid_products_are_rejected_naming_the_field() {
    let index = ProductIndex::in_memory(config()).unwrap();
    let mut p = Product::new("x", "t");
    p.rating = Some(9.0);
    let err = index.apply(CatalogEvent::Upsert { product: p }).unwrap_err().to_string();
    assert!(err.contains("rating"), "{err}");
}

/// `for_each_product` sees exactly the live documents of the last commit, at their latest
/// versions, and every commit bumps the generation.
#[test]
fn every_live_product_is_listed_once_per_commit() {
    let index = ProductIndex::in_memory(config()).unwrap();
    let g0 = index.generation();
    for op in [
        Op::Upsert { id: 1, version: 1 },
        Op::Upsert { id: 2, version: 1 },
        Op::Upsert { id: 1, version: 3 },
        Op::Upsert { id: 3, version: 1 },
        Op::Delete { id: 2, version: 2 },
    ] {
        index.apply(event(&op)).unwrap();
    }
    let listed = |index: &ProductIndex| {
        let mut all = Vec::new();
        let generation = index.for_each_product(|p| all.push((p.id, p.version))).unwrap();
        all.sort();
        (generation, all)
    };
    assert_eq!(listed(&index), (g0, vec![]), "nothing is visible before a commit");
    index.commit().unwrap();
    let (g1, all) = listed(&index);
    assert!(g1 > g0);
    assert_eq!(all, [("p1".to_string(), 3), ("p3".to_string(), 1)]);
    index.apply(event(&Op::Delete { id: 1, version: 4 })).unwrap();
    index.commit().unwrap();
    let (g2, all) = listed(&index);
    assert!(g2 > g1);
    assert_eq!(all, [("p3".to_string(), 1)]);
}

/// The change feed lists committed writes after a position, and says when it no longer reaches
/// back that far.
#[test]
fn the_change_feed_lists_committed_writes() {
    let index = ProductIndex::in_memory(IndexConfig { change_feed_capacity: 3, ..config() }).unwrap();
    let start = index.change_position();
    index.apply(event(&Op::Upsert { id: 1, version: 1 })).unwrap();
    index.apply(event(&Op::Upsert { id: 2, version: 1 })).unwrap();
    let changes = index.changes_since(start);
    assert_eq!(changes.ids, Some(vec![]), "uncommitted writes are not in the feed");
    index.commit().unwrap();
    let changes = index.changes_since(start);
    assert_eq!(changes.ids, Some(vec!["p1".to_string(), "p2".to_string()]));
    let position = changes.position;
    // A stale write changes nothing and is not a change; a delete is.
    index.apply(event(&Op::Upsert { id: 1, version: 1 })).unwrap();
    index.apply(event(&Op::Delete { id: 2, version: 2 })).unwrap();
    index.commit().unwrap();
    assert_eq!(index.changes_since(position).ids, Some(vec!["p2".to_string()]));
    // Two more writes overflow a capacity of 3: the start of the feed is gone.
    index.apply(event(&Op::Upsert { id: 3, version: 1 })).unwrap();
    index.apply(event(&Op::Upsert { id: 4, version: 1 })).unwrap();
    index.commit().unwrap();
    assert_eq!(index.changes_since(start).ids, None);
    assert_eq!(index.changes_since(position).ids, Some(vec!["p2".into(), "p3".into(), "p4".into()]));
    assert_eq!(index.changes_since(index.change_position()).ids, Some(vec![]));
}
