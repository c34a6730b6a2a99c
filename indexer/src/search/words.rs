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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{Bm25Weight, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

use super::lexicon::Lexicon;

/// Documents in one window (as Tantivy's buffered union).
const HORIZON: usize = 4096;
/// 64-bit words of a window's bit set.
const WORDS: usize = HORIZON / 64;

/// BM25 weights kept at most (each holds its own 1 KiB table: 9 MiB at most).
const MAX_KEPT_WEIGHTS: usize = 1 << 13;

/// (field, the term's document frequency, documents, the field's tokens): what a BM25 weight
/// is computed from.
type WeightKey = (Field, u64, u64, u64);

/// BM25 weights kept by what they are computed from: computing one fills a 256-entry table of
/// length normalisations, a microsecond per term and field, a dozen times per query word.
/// The statistics are in the key, so a weight is never used for other statistics.
pub(crate) struct KeptWeights {
    entries: Mutex<lru::LruCache<WeightKey, Bm25Weight>>,
}

impl Default for KeptWeights {
    fn default() -> Self {
        Self { entries: Mutex::new(lru::LruCache::unbounded()) }
    }
}

impl std::fmt::Debug for KeptWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("KeptWeights").field("kept", &kept).finish()
    }
}

impl KeptWeights {
    /// The weight `TermQuery` computes for a term of `field` in `doc_freq` of `docs` documents
    /// (the same floats), with `tokens` the total tokens of the field.
    pub(crate) fn weight(&self, field: Field, doc_freq: u64, docs: u64, tokens: u64) -> Bm25Weight {
        let key = (field, doc_freq, docs, tokens);
        if let Some(weight) = self.entries.lock().ok().and_then(|mut e| e.get(&key).cloned()) {
            return weight;
        }
        // As `Bm25Weight::for_terms` computes it for one term, without the explanation.
        let weight = Bm25Weight::for_one_term_without_explain(key.1, docs, tokens as Score / docs as Score);
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(key, weight.clone());
            if entries.len() > MAX_KEPT_WEIGHTS {
                entries.pop_lru();
            }
        }
        weight
    }
}

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
#[derive(Clone, Debug)]
pub(crate) struct WordsQuery {
    clauses: Vec<Clause>,
    /// Documents holding any of these terms never match (as a `MustNot` clause).
    excluded: Vec<Term>,
    weights: Arc<KeptWeights>,
    lexicon: Arc<Lexicon>,
}

impl WordsQuery {
    /// No clauses yet; BM25 weights from and into `weights`, terms looked up through `lexicon`.
    pub(crate) fn new(weights: Arc<KeptWeights>, lexicon: Arc<Lexicon>) -> Self {
        Self { clauses: Vec::new(), excluded: Vec::new(), weights, lexicon }
    }

    /// Leaves out the documents holding any of `terms` (hidden products), as
    /// `BooleanQuery([Must(self), MustNot(terms…)])` does, without leaving the one pass.
    pub(crate) fn exclude(&mut self, terms: impl IntoIterator<Item = Term>) {
        self.excluded.extend(terms);
    }

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
        let (statistics, kept) = match enable_scoring {
            // The searcher's own statistics are the lexicon's when it reads the same segments.
            EnableScoring::Enabled { searcher, statistics_provider } => (
                Some(statistics_provider),
                std::ptr::addr_eq(statistics_provider, searcher) && self.lexicon.serves(searcher),
            ),
            EnableScoring::Disabled { .. } => (None, false),
        };
        // Required clauses first: the window knows its documents before the optional ones score.
        let ordered = self.clauses.iter().filter(|c| !c.optional).chain(self.clauses.iter().filter(|c| c.optional));
        let docs = match statistics {
            Some(statistics) => statistics.total_num_docs()?,
            None => 0,
        };
        let mut tokens: HashMap<Field, u64> = HashMap::new();
        let mut clauses = Vec::with_capacity(self.clauses.len());
        for clause in ordered {
            let mut parts = Vec::with_capacity(clause.parts.len());
            for part in &clause.parts {
                parts.push(match (part, statistics) {
                    (Part::Term(term, boost), Some(statistics)) => {
                        let field = term.field();
                        let tokens = match tokens.entry(field) {
                            Entry::Occupied(e) => *e.get(),
                            Entry::Vacant(e) => *e.insert(statistics.total_num_tokens(field)?),
                        };
                        let doc_freq = if kept { self.lexicon.doc_freq(term)? } else { statistics.doc_freq(term)? };
                        let bm25 = self.weights.weight(field, doc_freq, docs, tokens);
                        PartWeight::Term { term: term.clone(), bm25, boost: *boost }
                    }
                    // Without scoring only the documents count.
                    (Part::Term(term, _), None) => PartWeight::Const(term.clone(), 1.0),
                    (Part::Const(term, score), _) => PartWeight::Const(term.clone(), *score),
                    (Part::Other(query), _) => PartWeight::Other(query.weight(enable_scoring)?),
                });
            }
            clauses.push(ClauseWeight { parts, tie: clause.tie, optional: clause.optional });
        }
        Ok(Box::new(WordsWeight { clauses, excluded: self.excluded.clone(), lexicon: self.lexicon.clone() }))
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
    excluded: Vec<Term>,
    lexicon: Arc<Lexicon>,
}

impl WordsWeight {
    fn words_scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<WordsScorer> {
        // A leaf holds its postings' decoded block (a kilobyte): never moved by growing.
        let mut leaves = Vec::with_capacity(self.clauses.iter().map(|c| c.parts.len()).sum());
        let mut kinds = Vec::with_capacity(self.clauses.len());
        for (c, clause) in self.clauses.iter().enumerate() {
            kinds.push((clause.tie, clause.optional));
            for part in &clause.parts {
                let docs = match part {
                    PartWeight::Term { term, bm25, boost: own } => {
                        let Some(postings) = self.lexicon.postings(reader, term, IndexRecordOption::WithFreqs)? else {
                            continue;
                        };
                        let norms = match reader.fieldnorms_readers().get_field(term.field())? {
                            Some(norms) => norms,
                            None => FieldNormReader::constant(reader.max_doc(), 1),
                        };
                        // As `BoostWeight` passes its boost to `TermWeight`.
                        Docs::Term { postings, norms, bm25: bm25.boost_by(boost * own) }
                    }
                    PartWeight::Const(term, score) => {
                        let Some(postings) = self.lexicon.postings(reader, term, IndexRecordOption::Basic)? else {
                            continue;
                        };
                        Docs::Const { postings, score: boost * score }
                    }
                    PartWeight::Other(weight) => Docs::Other(weight.scorer(reader, boost)?),
                };
                if docs.doc() != TERMINATED {
                    leaves.push(Leaf { docs, clause: c });
                }
            }
        }
        let mut excluded = Vec::new();
        for term in &self.excluded {
            if let Some(mut postings) = self.lexicon.postings(reader, term, IndexRecordOption::Basic)? {
                while postings.doc() != TERMINATED {
                    excluded.push(postings.doc());
                    postings.advance();
                }
            }
        }
        excluded.sort_unstable();
        excluded.dedup();
        Ok(WordsScorer::new(leaves, kinds, excluded, reader.max_doc()))
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
    /// Documents never returned, sorted.
    excluded: Vec<DocId>,
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
    fn new(leaves: Vec<Leaf>, kinds: Vec<(Option<Score>, bool)>, excluded: Vec<DocId>, max_doc: u32) -> Self {
        let mut scorer = WordsScorer {
            leaves,
            kinds,
            excluded,
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
                        Some(tie) => {
                            // As Tantivy's `DisjunctionMaxCombiner`; without a tie breaker the
                            // sum does not count (`best + (sum - best) * 0` is `best`).
                            let score = docs.score();
                            self.part[word] |= bit;
                            self.best[delta] = Score::max(score, self.best[delta]);
                            if tie != 0.0 {
                                self.sum[delta] += score;
                            }
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
                        let best = std::mem::take(&mut self.best[delta]);
                        let score =
                            if tie == 0.0 { best } else { best + (std::mem::take(&mut self.sum[delta]) - best) * tie };
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
        let from = self.excluded.partition_point(|&d| d < start);
        for &doc in self.excluded[from..].iter().take_while(|&&d| d < horizon) {
            let delta = (doc - start) as usize;
            self.bits[delta / 64] &= !(1u64 << (delta % 64));
            self.total[delta] = 0.0;
            self.extra[delta] = 0.0;
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
mod tests;
