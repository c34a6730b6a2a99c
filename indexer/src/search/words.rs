//! Phase 1's words in one pass. A query word is the best of its matches over the text fields (a
//! DisMax of a dozen terms and the prefix and typo matches), and the query is the sum of its
//! words, the title's product type, expansions and joined words, with the catalog's common
//! words only scoring what the others find. Built from Tantivy's queries, that is a union of
//! unions: each word's own buffered union, boxed behind the outer one, with a 48 KiB score
//! buffer allocated per word and search and two virtual calls per matched document and word.
//! [`WordsQuery`] computes the same scores (the same operations in the same order, so the same
//! floats) in one buffered window: each term's postings are read directly and scored with
//! Tantivy's own BM25 weight, each word's best is folded into the window's sums once per window,
//! and the collector is called from the window without a virtual call per document.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{Bm25Weight, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

/// Documents in one window (as Tantivy's buffered union).
const HORIZON: usize = 4096;
/// 64-bit words of a window's bit set.
const WORDS: usize = HORIZON / 64;

/// One way a clause matches.
#[derive(Debug)]
pub(crate) enum Part {
    /// A term scored by BM25 times a boost, as `BoostQuery(TermQuery(term, WithFreqs), boost)`.
    Term(Term, Score),
    /// A term's documents at a constant score, as `ConstScoreQuery(TermQuery(term), score)`.
    Const(Term, Score),
    /// Any other query (prefix and typo matches).
    Other(Box<dyn Query>),
}

impl Clone for Part {
    fn clone(&self) -> Self {
        match self {
            Part::Term(term, boost) => Part::Term(term.clone(), *boost),
            Part::Const(term, score) => Part::Const(term.clone(), *score),
            Part::Other(query) => Part::Other(query.box_clone()),
        }
    }
}

#[derive(Clone, Debug)]
struct Clause {
    parts: Vec<Part>,
    /// The parts combine as a DisMax with this tie breaker; `None`: one part, its own score.
    tie: Option<Score>,
    /// Only scores the documents the other clauses find.
    optional: bool,
}

/// The sum of its clauses' scores over the documents its required clauses match; see the
/// module's documentation. Equivalent to `BooleanQuery` of `Should` clauses (each a
/// `DisjunctionMaxQuery` or one part), wrapped with the optional clauses as
/// `BooleanQuery([Must(required), Should(optional)…])` when there are any.
#[derive(Clone, Debug, Default)]
pub(crate) struct WordsQuery {
    clauses: Vec<Clause>,
}

impl WordsQuery {
    /// Adds the best of `parts` (a DisMax with `tie`).
    pub(crate) fn best(&mut self, parts: Vec<Part>, tie: Score, optional: bool) {
        self.clauses.push(Clause { parts, tie: Some(tie), optional });
    }

    /// Adds one part.
    pub(crate) fn single(&mut self, part: Part, optional: bool) {
        self.clauses.push(Clause { parts: vec![part], tie: None, optional });
    }
}

impl Query for WordsQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let statistics = match enable_scoring {
            EnableScoring::Enabled { statistics_provider, .. } => Some(statistics_provider),
            EnableScoring::Disabled { .. } => None,
        };
        // Required clauses first: the window knows its documents before the optional ones score.
        let ordered = self.clauses.iter().filter(|c| !c.optional).chain(self.clauses.iter().filter(|c| c.optional));
        let mut clauses = Vec::with_capacity(self.clauses.len());
        for clause in ordered {
            let mut parts = Vec::with_capacity(clause.parts.len());
            for part in &clause.parts {
                parts.push(match (part, statistics) {
                    (Part::Term(term, boost), Some(statistics)) => PartWeight::Term {
                        term: term.clone(),
                        // As `TermQuery` computes it.
                        bm25: Bm25Weight::for_terms(statistics, std::slice::from_ref(term))?,
                        boost: *boost,
                    },
                    // Without scoring only the documents count.
                    (Part::Term(term, _), None) => PartWeight::Const(term.clone(), 1.0),
                    (Part::Const(term, score), _) => PartWeight::Const(term.clone(), *score),
                    (Part::Other(query), _) => PartWeight::Other(query.weight(enable_scoring)?),
                });
            }
            clauses.push(ClauseWeight { parts, tie: clause.tie, optional: clause.optional });
        }
        Ok(Box::new(WordsWeight { clauses }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for part in self.clauses.iter().flat_map(|c| &c.parts) {
            match part {
                Part::Term(term, _) | Part::Const(term, _) => visitor(term, false),
                Part::Other(query) => query.query_terms(visitor),
            }
        }
    }
}

enum PartWeight {
    Term { term: Term, bm25: Bm25Weight, boost: Score },
    Const(Term, Score),
    Other(Box<dyn Weight>),
}

struct ClauseWeight {
    parts: Vec<PartWeight>,
    tie: Option<Score>,
    optional: bool,
}

struct WordsWeight {
    /// Required clauses first.
    clauses: Vec<ClauseWeight>,
}

impl WordsWeight {
    fn words_scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<WordsScorer> {
        let mut leaves = Vec::new();
        let mut kinds = Vec::with_capacity(self.clauses.len());
        for (c, clause) in self.clauses.iter().enumerate() {
            kinds.push((clause.tie, clause.optional));
            for part in &clause.parts {
                let docs = match part {
                    PartWeight::Term { term, bm25, boost: own } => {
                        let index = reader.inverted_index(term.field())?;
                        let Some(postings) = index.read_postings(term, IndexRecordOption::WithFreqs)? else { continue };
                        let norms = match reader.fieldnorms_readers().get_field(term.field())? {
                            Some(norms) => norms,
                            None => FieldNormReader::constant(reader.max_doc(), 1),
                        };
                        // As `BoostWeight` passes its boost to `TermWeight`.
                        Docs::Term { postings, norms, bm25: bm25.boost_by(boost * own) }
                    }
                    PartWeight::Const(term, score) => {
                        let index = reader.inverted_index(term.field())?;
                        let Some(postings) = index.read_postings(term, IndexRecordOption::Basic)? else { continue };
                        Docs::Const { postings, score: boost * score }
                    }
                    PartWeight::Other(weight) => Docs::Other(weight.scorer(reader, boost)?),
                };
                if docs.doc() != TERMINATED {
                    leaves.push(Leaf { docs, clause: c });
                }
            }
        }
        Ok(WordsScorer::new(leaves, kinds, reader.max_doc()))
    }
}

impl Weight for WordsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(self.words_scorer(reader, boost)?))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.words_scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("Document #({doc}) does not match")));
        }
        Ok(Explanation::new("sum of the words' best matches", scorer.score))
    }

    fn for_each(&self, reader: &SegmentReader, callback: &mut dyn FnMut(DocId, Score)) -> tantivy::Result<()> {
        let mut scorer = self.words_scorer(reader, 1.0)?;
        while scorer.doc != TERMINATED {
            callback(scorer.doc, scorer.score);
            scorer.advance();
        }
        Ok(())
    }
}

/// A part's documents in one segment.
enum Docs {
    Term { postings: SegmentPostings, norms: FieldNormReader, bm25: Bm25Weight },
    Const { postings: SegmentPostings, score: Score },
    Other(Box<dyn Scorer>),
}

impl Docs {
    #[inline]
    fn doc(&self) -> DocId {
        match self {
            Docs::Term { postings, .. } | Docs::Const { postings, .. } => postings.doc(),
            Docs::Other(scorer) => scorer.doc(),
        }
    }

    #[inline]
    fn advance(&mut self) -> DocId {
        match self {
            Docs::Term { postings, .. } | Docs::Const { postings, .. } => postings.advance(),
            Docs::Other(scorer) => scorer.advance(),
        }
    }

    fn seek(&mut self, target: DocId) -> DocId {
        match self {
            Docs::Term { postings, .. } | Docs::Const { postings, .. } => postings.seek(target),
            Docs::Other(scorer) => scorer.seek(target),
        }
    }

    /// As `TermScorer`, `ConstScorer` and the other scorer compute it.
    #[inline]
    fn score(&mut self) -> Score {
        match self {
            Docs::Term { postings, norms, bm25 } => {
                bm25.score(norms.fieldnorm_id(postings.doc()), postings.term_freq())
            }
            Docs::Const { score, .. } => *score,
            Docs::Other(scorer) => scorer.score(),
        }
    }

    fn size_hint(&self) -> u32 {
        match self {
            Docs::Term { postings, .. } | Docs::Const { postings, .. } => postings.size_hint(),
            Docs::Other(scorer) => scorer.size_hint(),
        }
    }
}

struct Leaf {
    docs: Docs,
    /// Index of its clause.
    clause: usize,
}

/// A zeroed window-sized buffer.
fn window<T: Copy + Default>() -> Box<[T; HORIZON]> {
    vec![T::default(); HORIZON].into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("sized by HORIZON"))
}

/// The matches of one segment, a window of [`HORIZON`] documents at a time.
struct WordsScorer {
    /// Required clauses' leaves first, each clause's leaves together, in clause order.
    leaves: Vec<Leaf>,
    /// Per clause: the DisMax tie breaker (`None`: one part) and whether it is optional.
    kinds: Vec<(Option<Score>, bool)>,
    /// The window's documents the required clauses match, not yet returned.
    bits: Box<[u64; WORDS]>,
    /// The window's documents the clause being read matches.
    part: Box<[u64; WORDS]>,
    /// Per document of the window: the required clauses' sum, the optional clauses' sum, and
    /// the clause being read's best part and sum of parts.
    total: Box<[Score; HORIZON]>,
    extra: Box<[Score; HORIZON]>,
    best: Box<[Score; HORIZON]>,
    sum: Box<[Score; HORIZON]>,
    start: DocId,
    bucket: usize,
    doc: DocId,
    score: Score,
    max_doc: u32,
}

impl WordsScorer {
    fn new(leaves: Vec<Leaf>, kinds: Vec<(Option<Score>, bool)>, max_doc: u32) -> Self {
        let mut scorer = WordsScorer {
            leaves,
            kinds,
            bits: Box::new([0; WORDS]),
            part: Box::new([0; WORDS]),
            total: window(),
            extra: window(),
            best: window(),
            sum: window(),
            start: 0,
            bucket: WORDS,
            doc: 0,
            score: 0.0,
            max_doc,
        };
        if scorer.refill() {
            scorer.advance();
        } else {
            scorer.doc = TERMINATED;
        }
        scorer
    }

    /// Reads every leaf up to the next window's end, starting the window at the required
    /// leaves' first document; false when they have none left.
    fn refill(&mut self) -> bool {
        let kinds = &self.kinds;
        let Some(start) = self.leaves.iter().filter(|l| !kinds[l.clause].1).map(|l| l.docs.doc()).min() else {
            return false;
        };
        if start == TERMINATED {
            return false;
        }
        self.start = start;
        self.bucket = 0;
        let horizon = start.saturating_add(HORIZON as DocId);
        let mut i = 0;
        while i < self.leaves.len() {
            let clause = self.leaves[i].clause;
            let end = i + self.leaves[i..].iter().take_while(|l| l.clause == clause).count();
            let (tie, optional) = kinds[clause];
            for leaf in &mut self.leaves[i..end] {
                let docs = &mut leaf.docs;
                if optional && docs.doc() < start {
                    docs.seek(start);
                }
                loop {
                    let doc = docs.doc();
                    if doc >= horizon {
                        break;
                    }
                    let delta = (doc - start) as usize;
                    let (word, bit) = (delta / 64, 1u64 << (delta % 64));
                    match tie {
                        // An optional clause scores only the required clauses' documents.
                        _ if optional && self.bits[word] & bit == 0 => {}
                        Some(_) => {
                            // As Tantivy's `DisjunctionMaxCombiner`.
                            let score = docs.score();
                            self.part[word] |= bit;
                            self.best[delta] = Score::max(score, self.best[delta]);
                            self.sum[delta] += score;
                        }
                        None if !optional => {
                            self.bits[word] |= bit;
                            self.total[delta] += docs.score();
                        }
                        None => self.extra[delta] += docs.score(),
                    }
                    docs.advance();
                }
            }
            if let Some(tie) = tie {
                for word in 0..WORDS {
                    let mut set = std::mem::take(&mut self.part[word]);
                    while set != 0 {
                        let at = set.trailing_zeros() as usize;
                        set &= set - 1;
                        let delta = word * 64 + at;
                        let (best, sum) = (self.best[delta], self.sum[delta]);
                        self.best[delta] = 0.0;
                        self.sum[delta] = 0.0;
                        let score = best + (sum - best) * tie;
                        if !optional {
                            self.bits[word] |= 1 << at;
                            self.total[delta] += score;
                        } else if self.bits[word] & (1 << at) != 0 {
                            self.extra[delta] += score;
                        }
                    }
                }
            }
            i = end;
        }
        self.leaves.retain(|l| l.docs.doc() != TERMINATED);
        true
    }

    /// Forgets the window's documents in buckets `from..to`.
    fn clear(&mut self, from: usize, to: usize) {
        for word in from..to {
            let mut set = std::mem::take(&mut self.bits[word]);
            while set != 0 {
                let delta = word * 64 + set.trailing_zeros() as usize;
                set &= set - 1;
                self.total[delta] = 0.0;
                self.extra[delta] = 0.0;
            }
        }
    }
}

impl DocSet for WordsScorer {
    #[inline]
    fn advance(&mut self) -> DocId {
        loop {
            while self.bucket < WORDS {
                let set = self.bits[self.bucket];
                if set != 0 {
                    let delta = self.bucket * 64 + set.trailing_zeros() as usize;
                    self.bits[self.bucket] = set & (set - 1);
                    self.doc = self.start + delta as DocId;
                    // As `RequiredOptionalScorer` adds the optional clauses' sum.
                    self.score = self.total[delta] + self.extra[delta];
                    self.total[delta] = 0.0;
                    self.extra[delta] = 0.0;
                    return self.doc;
                }
                self.bucket += 1;
            }
            if !self.refill() {
                self.doc = TERMINATED;
                return TERMINATED;
            }
        }
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        let gap = (target - self.start) as usize;
        if gap < HORIZON {
            let to = gap / 64;
            if to > self.bucket {
                self.clear(self.bucket, to);
                self.bucket = to;
            }
            let mut doc = self.doc;
            while doc < target {
                doc = self.advance();
            }
            return doc;
        }
        self.clear(0, WORDS);
        for leaf in &mut self.leaves {
            if leaf.docs.doc() < target {
                leaf.docs.seek(target);
            }
        }
        self.leaves.retain(|l| l.docs.doc() != TERMINATED);
        if !self.refill() {
            self.doc = TERMINATED;
            return TERMINATED;
        }
        self.advance()
    }

    #[inline]
    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        let kinds = &self.kinds;
        let sum: u64 = self.leaves.iter().filter(|l| !kinds[l.clause].1).map(|l| u64::from(l.docs.size_hint())).sum();
        sum.min(u64::from(self.max_doc)) as u32
    }
}

impl Scorer for WordsScorer {
    #[inline]
    fn score(&mut self) -> Score {
        self.score
    }
}

#[cfg(test)]
mod tests {
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

    /// The query and the Tantivy queries it replaces.
    fn queries(f: &Fields, specs: &[ClauseSpec]) -> (WordsQuery, Box<dyn Query>) {
        let mut words = WordsQuery::default();
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
        (
            any::<bool>(),
            proptest::option::of(prop_oneof![Just(0.0f32), Just(0.3)]),
            proptest::collection::vec(part, 1..5),
        )
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
        ) {
            specs[0].0 = false;
            let (searcher, f) = index(n, seed, segments);
            let (words, reference) = queries(&f, &specs);
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
}
