//! Prefix and typo matches, kept per segment. The word being typed matches the title and brand
//! words it starts, and a rare word the words a typo away; Tantivy finds them by walking the
//! term dictionary with a Levenshtein automaton and reading every matching word's postings, on
//! every search: a fifth of phase 1 on the Home Depot queries. The same words come back all the
//! time (each keystroke of a search box, every query ending in "drill"), and segments never
//! change, so the documents each (segment, field, word, typos, prefix) matches are kept, in a
//! cache bounded by the doc ids it holds.

use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::{ConstScorer, EnableScoring, Explanation, FuzzyTermQuery, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// Doc ids the cache holds at most, across its entries (4 bytes each).
const MAX_KEPT_DOCS: usize = 16 << 20;
/// A match of more documents than this is computed each time, not kept.
const MAX_ENTRY_DOCS: usize = MAX_KEPT_DOCS / 16;

type Key = (SegmentId, Term, u8, bool);
/// The entries, and how many doc ids they hold together.
type Entries = (lru::LruCache<Key, Arc<[DocId]>>, usize);

/// The documents kept per (segment, term, typos, prefix), least recently used out first.
#[derive(Debug)]
pub(crate) struct KeptMatches {
    entries: Mutex<Entries>,
}

impl Default for KeptMatches {
    fn default() -> Self {
        Self { entries: Mutex::new((lru::LruCache::unbounded(), 0)) }
    }
}

impl KeptMatches {
    fn get(&self, key: &Key) -> Option<Arc<[DocId]>> {
        self.entries.lock().ok()?.0.get(key).cloned()
    }

    fn put(&self, key: Key, docs: Arc<[DocId]>) {
        if docs.len() > MAX_ENTRY_DOCS {
            return;
        }
        let Ok(mut guard) = self.entries.lock() else { return };
        let (entries, held) = &mut *guard;
        *held += docs.len();
        if let Some(old) = entries.put(key, docs) {
            *held -= old.len();
        }
        while *held > MAX_KEPT_DOCS {
            let Some((_, out)) = entries.pop_lru() else { break };
            *held -= out.len();
        }
    }
}

/// The documents `term` matches in one segment with up to `distance` typos (a transposition
/// counts one), as a whole word or, with `prefix`, as the start of a word; scored as a
/// constant like Tantivy's [`FuzzyTermQuery`], which computes it on a miss.
#[derive(Debug, Clone)]
pub(crate) struct KeptFuzzyQuery {
    term: Term,
    distance: u8,
    prefix: bool,
    kept: Arc<KeptMatches>,
}

impl KeptFuzzyQuery {
    pub(crate) fn new(term: Term, distance: u8, prefix: bool, kept: Arc<KeptMatches>) -> Self {
        Self { term, distance, prefix, kept }
    }

    /// The matching documents of `segment`, in order.
    fn docs(&self, segment: &SegmentReader) -> tantivy::Result<Arc<[DocId]>> {
        let key = (segment.segment_id(), self.term.clone(), self.distance, self.prefix);
        if let Some(docs) = self.kept.get(&key) {
            return Ok(docs);
        }
        let query = if self.prefix {
            FuzzyTermQuery::new_prefix(self.term.clone(), self.distance, true)
        } else {
            FuzzyTermQuery::new(self.term.clone(), self.distance, true)
        };
        let mut scorer = query.weight(EnableScoring::disabled_from_schema(segment.schema()))?.scorer(segment, 1.0)?;
        let mut docs = Vec::with_capacity(scorer.size_hint() as usize);
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            docs.push(doc);
            doc = scorer.advance();
        }
        let docs: Arc<[DocId]> = docs.into();
        self.kept.put(key, docs.clone());
        Ok(docs)
    }
}

impl Query for KeptFuzzyQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.term, false);
    }
}

impl Weight for KeptFuzzyQuery {
    fn scorer(&self, segment: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ConstScorer::new(KeptDocs { docs: self.docs(segment)?, at: 0 }, boost)))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(segment)?.binary_search(&doc).is_ok() {
            Ok(Explanation::new("KeptFuzzyQuery", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match")))
        }
    }
}

/// A sorted list of doc ids as a doc set.
struct KeptDocs {
    docs: Arc<[DocId]>,
    at: usize,
}

impl DocSet for KeptDocs {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.at..];
        self.at += rest.partition_point(|&d| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        u32::try_from(self.docs.len() - self.at).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::collector::DocSetCollector;
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    /// Words over a small alphabet: many are a typo or a prefix of another.
    fn word() -> impl Strategy<Value = String> {
        "[abc]{1,5}"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Kept or not, hit or miss, evicted or not: the same documents as Tantivy's query.
        #[test]
        fn kept_matches_are_the_fuzzy_querys(
            docs in proptest::collection::vec(proptest::collection::vec(word(), 1..4), 1..60),
            probes in proptest::collection::vec((word(), 0u8..=2, any::<bool>()), 1..12),
        ) {
            let mut schema = Schema::builder();
            let field = schema.add_text_field("w", STRING);
            let index = Index::create_in_ram(schema.build());
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            for (i, words) in docs.iter().enumerate() {
                let mut doc = TantivyDocument::new();
                for w in words {
                    doc.add_text(field, w);
                }
                writer.add_document(doc).unwrap();
                if i % 20 == 19 {
                    writer.commit().unwrap(); // several segments
                }
            }
            writer.commit().unwrap();
            let searcher = index.reader().unwrap().searcher();
            let kept = Arc::new(KeptMatches::default());
            for _ in 0..2 {
                for (w, distance, prefix) in &probes {
                    let term = Term::from_field_text(field, w);
                    let ours = KeptFuzzyQuery::new(term.clone(), *distance, *prefix, kept.clone());
                    let theirs = if *prefix {
                        FuzzyTermQuery::new_prefix(term, *distance, true)
                    } else {
                        FuzzyTermQuery::new(term, *distance, true)
                    };
                    let got = searcher.search(&ours, &DocSetCollector).unwrap();
                    let want = searcher.search(&theirs, &DocSetCollector).unwrap();
                    prop_assert_eq!(got, want, "{} ~{} prefix {}", w, distance, prefix);
                }
            }
        }

        /// Seeking lands on the first document at or after the target, as a linear scan does.
        #[test]
        fn kept_docs_seek_like_a_scan(
            mut docs in proptest::collection::vec(0u32..500, 0..80),
            targets in proptest::collection::vec(0u32..520, 1..10),
        ) {
            docs.sort_unstable();
            docs.dedup();
            let mut targets = targets;
            targets.sort_unstable();
            let mut set = KeptDocs { docs: docs.clone().into(), at: 0 };
            for target in targets {
                if target < set.doc() {
                    continue; // seek asks for a target at or after the current document
                }
                let want = docs.iter().copied().find(|&d| d >= target).unwrap_or(TERMINATED);
                prop_assert_eq!(set.seek(target), want);
            }
        }
    }

    #[test]
    fn a_full_cache_drops_the_least_recently_used() {
        let kept = KeptMatches::default();
        let id = SegmentId::generate_random();
        let mut schema = Schema::builder();
        let field = schema.add_text_field("w", STRING);
        let _ = schema.build();
        let big: Arc<[DocId]> = (0..MAX_ENTRY_DOCS as u32).collect();
        let key = |w: &str| (id, Term::from_field_text(field, w), 0, false);
        for i in 0..=MAX_KEPT_DOCS / MAX_ENTRY_DOCS {
            kept.put(key(&i.to_string()), big.clone());
            // The first stays in use, so it is not the least recent.
            assert!(kept.get(&key("0")).is_some());
        }
        assert!(kept.get(&key("1")).is_none(), "the least recently used was dropped");
        assert!(kept.entries.lock().unwrap().1 <= MAX_KEPT_DOCS);
        let too_big: Arc<[DocId]> = (0..=MAX_ENTRY_DOCS as u32).collect();
        kept.put(key("huge"), too_big);
        assert!(kept.get(&key("huge")).is_none(), "an entry over the limit is not kept");
    }
}
