//! [`WordsQuery`] against the Tantivy queries it stands for.

use proptest::prelude::*;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, TermQuery};
use tantivy::schema::{Field, STRING, Schema, TEXT};
use tantivy::{Index, IndexWriter, Searcher, TantivyDocument};

use super::*;

/// (kind, field or word choice, word, boost) of a part: 0 a BM25 term in `x`, 1 in `y`,
/// 2 a constant term of `z`, 3 another query (a boosted term of `y`).
type PartSpec = (u8, u8, f32);
/// (optional, DisMax tie or one part, parts).
type ClauseSpec = (bool, Option<f32>, Vec<PartSpec>);

struct Fields {
    x: Field,
    y: Field,
    z: Field,
}

const WORDS_OF: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

/// An index of `n` documents of a few random words each, in `segments` segments.
fn index(n: usize, seed: u64, segments: usize) -> (Searcher, Fields) {
    let mut schema = Schema::builder();
    let fields = Fields {
        x: schema.add_text_field("x", TEXT),
        y: schema.add_text_field("y", TEXT),
        z: schema.add_text_field("z", STRING),
    };
    let index = Index::create_in_ram(schema.build());
    let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    let mut state = seed | 1;
    let mut next = |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    for i in 0..n {
        let mut doc = TantivyDocument::new();
        for field in [fields.x, fields.y] {
            // Skewed: "a" in most documents, "f" in few.
            let words: Vec<&str> = (0..next(4)).map(|_| WORDS_OF[next(6).min(next(6)) as usize]).collect();
            doc.add_text(field, words.join(" "));
        }
        if next(3) == 0 {
            doc.add_text(fields.z, WORDS_OF[next(3) as usize]);
        }
        writer.add_document(doc).unwrap();
        if segments > 1 && (i + 1) % n.div_ceil(segments) == 0 {
            writer.commit().unwrap();
        }
    }
    writer.commit().unwrap();
    (index.reader().unwrap().searcher(), fields)
}

fn term(field: Field, word: u8) -> Term {
    Term::from_field_text(field, WORDS_OF[word as usize % WORDS_OF.len()])
}

/// The part and the Tantivy query it stands for.
fn part(f: &Fields, &(kind, word, boost): &PartSpec) -> (Part, Box<dyn Query>) {
    let field = if kind == 0 { f.x } else { f.y };
    let scored = |t: Term| -> Box<dyn Query> {
        Box::new(BoostQuery::new(Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)), boost))
    };
    match kind {
        0 | 1 => (Part::Term(term(field, word), boost), scored(term(field, word))),
        2 => (
            Part::Const(term(f.z, word), boost),
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(term(f.z, word), IndexRecordOption::WithFreqs)),
                boost,
            )),
        ),
        _ => (Part::Other(scored(term(f.y, word))), scored(term(f.y, word))),
    }
}

/// The query (its terms looked up through `lexicon`) and the Tantivy queries it replaces.
fn queries(f: &Fields, specs: &[ClauseSpec], lexicon: Arc<Lexicon>) -> (WordsQuery, Box<dyn Query>) {
    let mut words = WordsQuery::new(Arc::default(), lexicon);
    let (mut required, mut optional) = (Vec::new(), Vec::new());
    for (is_optional, tie, parts) in specs {
        let (ours, theirs): (Vec<Part>, Vec<Box<dyn Query>>) = parts.iter().map(|p| part(f, p)).unzip();
        let theirs: Box<dyn Query> = match tie {
            Some(tie) => {
                words.best(ours, *tie, *is_optional);
                Box::new(DisjunctionMaxQuery::with_tie_breaker(theirs, *tie))
            }
            None => {
                words.single(ours.into_iter().next().unwrap(), *is_optional);
                theirs.into_iter().next().unwrap()
            }
        };
        if *is_optional { &mut optional } else { &mut required }.push((Occur::Should, theirs));
    }
    let mut reference: Box<dyn Query> = Box::new(BooleanQuery::new(required));
    if !optional.is_empty() {
        optional.insert(0, (Occur::Must, reference));
        reference = Box::new(BooleanQuery::new(optional));
    }
    (words, reference)
}

fn all(scorer: &mut dyn Scorer) -> Vec<(DocId, Score)> {
    let mut out = Vec::new();
    while scorer.doc() != TERMINATED {
        out.push((scorer.doc(), scorer.score()));
        scorer.advance();
    }
    out
}

fn clause() -> impl Strategy<Value = ClauseSpec> {
    let part = (0u8..4, 0u8..6, prop_oneof![Just(1.0f32), Just(0.5), Just(2.5)]);
    (any::<bool>(), proptest::option::of(prop_oneof![Just(0.0f32), Just(0.3)]), proptest::collection::vec(part, 1..5))
        .prop_map(|(optional, tie, mut parts)| {
            if tie.is_none() {
                parts.truncate(1);
            }
            (optional, tie, parts)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The same documents with the same scores (the same floats) as the Tantivy queries it
    /// stands for: walked, pushed to a collector, sought, and inside an intersection.
    #[test]
    fn words_score_as_the_queries_they_replace(
        n in 1usize..10_000,
        seed in any::<u64>(),
        segments in 1usize..3,
        mut specs in proptest::collection::vec(clause(), 1..6),
        targets in proptest::collection::vec(0u32..10_000, 0..20),
        filter in 0u8..3,
        stale in any::<bool>(),
        hidden in proptest::option::of(0u8..3),
    ) {
        specs[0].0 = false;
        let (searcher, f) = index(n, seed, segments);
        // A lexicon of other segments is not used: the searcher's statistics and postings are.
        let lexicon = if stale { Lexicon::new(&index(1, seed, 1).0) } else { Lexicon::new(&searcher) };
        prop_assert_eq!(lexicon.serves(&searcher), !stale);
        let (mut words, mut reference) = queries(&f, &specs, lexicon);
        if let Some(hidden) = hidden {
            words.exclude([term(f.z, hidden)]);
            let not: Box<dyn Query> = Box::new(TermQuery::new(term(f.z, hidden), IndexRecordOption::Basic));
            reference = Box::new(BooleanQuery::new(vec![(Occur::Must, reference), (Occur::MustNot, not)]));
        }
        let scoring = EnableScoring::enabled_from_searcher(&searcher);
        let (ours, theirs) = (words.weight(scoring).unwrap(), reference.weight(scoring).unwrap());
        for segment in searcher.segment_readers() {
            let expected = all(theirs.scorer(segment, 1.0).unwrap().as_mut());
            prop_assert_eq!(&all(ours.scorer(segment, 1.0).unwrap().as_mut()), &expected);
            let mut pushed = Vec::new();
            ours.for_each(segment, &mut |doc, score| pushed.push((doc, score))).unwrap();
            prop_assert_eq!(&pushed, &expected);
            prop_assert_eq!(ours.count(segment).unwrap() as usize, expected.len());
            let (mut a, mut b) = (ours.scorer(segment, 1.0).unwrap(), theirs.scorer(segment, 1.0).unwrap());
            let mut targets = targets.clone();
            targets.sort_unstable();
            for target in targets {
                let (da, db) = (a.seek(target.max(a.doc())), b.seek(target.max(b.doc())));
                prop_assert_eq!(da, db);
                if da != TERMINATED {
                    prop_assert_eq!(a.score(), b.score());
                }
            }
        }
        // Inside an intersection with a filter (seeks driven by the filter).
        let only = |q: Box<dyn Query>| -> BooleanQuery {
            let z: Box<dyn Query> = Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(term(f.z, filter), IndexRecordOption::Basic)),
                0.0,
            ));
            BooleanQuery::new(vec![(Occur::Must, q), (Occur::Must, z)])
        };
        let top = TopDocs::with_limit(50).order_by_score();
        let got = searcher.search(&only(Box::new(words.clone())), &top).unwrap();
        let want = searcher.search(&only(reference.box_clone()), &top).unwrap();
        prop_assert_eq!(got, want);
    }
}
