//! One kind of completions (products, brands, categories or queries): an FST of word suffixes,
//! their postings in key order, and a range-minimum tree over the postings' ranks, so the best
//! postings under any prefix come out in rank order without visiting the others.
//!
//! Every entry is inserted once per word it contains: the key from that word to the end of the
//! entry (cut at [`MAX_SUFFIX_BYTES`]). The FST maps each distinct suffix key to its rank in key
//! order, so the keys under a prefix node are a contiguous rank range, and so are their postings.
//! A top-k query is then a best-first search over ranges: take the range's best posting (one
//! range-minimum query), emit it, split the range around it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::OnceLock;

use fst::raw::{CompiledAddr, Node};
use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};

use crate::Error;
use crate::key::{Input, MAX_SUFFIX_BYTES, cut, word_starts};

/// A completion: what is shown, its key, and what ranks it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    pub text: Box<str>,
    pub key: Box<str>,
    pub score: f32,
    /// Product id, category path: what the client acts on.
    pub target: Option<Box<str>>,
    /// Documents (brands, categories) or searches (queries) behind the entry.
    pub count: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Posting {
    pub entry: u32,
    /// Byte offset in the entry's key where this suffix starts.
    pub offset: u16,
}

/// Completions of one kind. Immutable once built; cheap to share behind an `Arc`.
pub struct Completions {
    pub(crate) entries: Vec<Entry>,
    pub(crate) fst: fst::Map<Vec<u8>>,
    /// Per key rank: its first posting; one more element at the end.
    pub(crate) key_start: Vec<u32>,
    pub(crate) postings: Vec<Posting>,
    /// Rank → posting (ranks order postings best first).
    pub(crate) by_rank: Vec<u32>,
    /// Iterative segment tree over posting positions holding the minimum rank.
    pub(crate) tree: Vec<u32>,
    /// Posting score multiplier for suffixes that start after the first word.
    pub(crate) mid_factor: f32,
}

impl std::fmt::Debug for Completions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completions")
            .field("entries", &self.entries.len())
            .field("keys", &self.fst.len())
            .field("postings", &self.postings.len())
            .finish_non_exhaustive()
    }
}

impl Completions {
    /// Builds from entries; entries with the same key collapse into the best-scored one.
    pub(crate) fn build(mut entries: Vec<Entry>, mid_factor: f32) -> Result<Self, Error> {
        entries.retain(|e| !e.key.is_empty());
        entries.sort_unstable_by(|a, b| a.key.cmp(&b.key).then(b.score.total_cmp(&a.score)).then(a.text.cmp(&b.text)));
        entries.dedup_by(|later, kept| later.key == kept.key);
        if entries.len() > u32::MAX as usize {
            return Err(Error::TooLarge(entries.len()));
        }

        let mut postings = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            for offset in word_starts(&e.key) {
                let Ok(offset) = u16::try_from(offset) else { break };
                postings.push(Posting { entry: i as u32, offset });
            }
        }
        let suffix =
            |p: &Posting| cut(&entries[p.entry as usize].key.as_bytes()[p.offset as usize..], MAX_SUFFIX_BYTES);
        postings.sort_unstable_by(|a, b| suffix(a).cmp(suffix(b)).then(a.entry.cmp(&b.entry)));
        if postings.len() >= u32::MAX as usize {
            return Err(Error::TooLarge(postings.len()));
        }

        let mut builder = fst::MapBuilder::memory();
        let mut key_start = Vec::new();
        let mut previous: Option<&[u8]> = None;
        for (i, p) in postings.iter().enumerate() {
            let key = suffix(p);
            if previous != Some(key) {
                builder.insert(key, key_start.len() as u64)?;
                key_start.push(i as u32);
                previous = Some(key);
            }
        }
        key_start.push(postings.len() as u32);
        let fst = builder.into_map();

        let effective = |p: &Posting| posting_score(&entries[p.entry as usize], *p, mid_factor);
        let mut by_rank: Vec<u32> = (0..postings.len() as u32).collect();
        by_rank.sort_unstable_by(|&x, &y| {
            let (px, py) = (&postings[x as usize], &postings[y as usize]);
            let (ex, ey) = (&entries[px.entry as usize], &entries[py.entry as usize]);
            effective(py)
                .total_cmp(&effective(px))
                .then(ex.key.len().cmp(&ey.key.len()))
                .then(ex.key.cmp(&ey.key))
                .then(px.offset.cmp(&py.offset))
        });
        let n = postings.len();
        let mut tree = vec![u32::MAX; 2 * n];
        for (rank, &p) in by_rank.iter().enumerate() {
            tree[n + p as usize] = rank as u32;
        }
        for i in (1..n).rev() {
            tree[i] = tree[2 * i].min(tree[2 * i + 1]);
        }
        Ok(Self { entries, fst, key_start, postings, by_rank, tree, mid_factor })
    }

    pub(crate) fn empty() -> Self {
        Self::build(Vec::new(), 1.0).unwrap_or_else(|_| unreachable!("an empty build cannot fail"))
    }

    /// Distinct entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Suffix keys (one per word start, shared between entries).
    pub fn keys(&self) -> usize {
        self.fst.len()
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.fst.as_fst().as_bytes().len()
            + self.key_start.len() * 4
            + self.postings.len() * std::mem::size_of::<Posting>()
            + self.by_rank.len() * 4
            + self.tree.len() * 4
            + self
                .entries
                .iter()
                .map(|e| e.text.len() + e.key.len() + e.target.as_ref().map_or(0, |t| t.len()))
                .sum::<usize>()
            + self.entries.len() * std::mem::size_of::<Entry>()
    }

    pub(crate) fn entry(&self, i: u32) -> &Entry {
        &self.entries[i as usize]
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.entries.iter().enumerate().map(|(i, e)| (i as u32, e))
    }

    fn score(&self, p: Posting) -> f32 {
        posting_score(&self.entries[p.entry as usize], p, self.mid_factor)
    }

    /// Minimum rank over postings `lo..hi` (non-empty).
    fn min_rank(&self, lo: usize, hi: usize) -> u32 {
        let n = self.postings.len();
        let (mut l, mut r) = (lo + n, hi + n);
        let mut best = u32::MAX;
        while l < r {
            if l & 1 == 1 {
                best = best.min(self.tree[l]);
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                best = best.min(self.tree[r]);
            }
            l >>= 1;
            r >>= 1;
        }
        best
    }

    /// The posting range under an FST node reached with accumulated output `acc`: from the rank
    /// of its first key to the end of its last key's postings.
    fn range(&self, node: Node<'_>, acc: u64) -> (usize, usize) {
        let fst = self.fst.as_fst();
        let (mut first, mut at) = (node, acc);
        let lo = loop {
            if first.is_final() {
                break at + first.final_output().value();
            }
            let t = first.transition(0);
            at += t.out.value();
            first = fst.node(t.addr);
        };
        let (mut last, mut at) = (node, acc);
        let hi = loop {
            if last.is_empty() {
                break at + last.final_output().value();
            }
            let t = last.transition(last.len() - 1);
            at += t.out.value();
            last = fst.node(t.addr);
        };
        // Ranks read from a stored FST are checked here rather than all at load: out of range
        // (a damaged file) is an empty range, never a panic.
        let start = |rank: u64| usize::try_from(rank).ok().and_then(|r| self.key_start.get(r)).map(|&p| p as usize);
        match (start(lo), start(hi.saturating_add(1))) {
            (Some(from), Some(to)) if from <= to && to <= self.postings.len() => (from, to),
            _ => (0, 0),
        }
    }

    /// The node reached by `key` from the root, with its accumulated output.
    fn walk(&self, key: &[u8]) -> Option<(CompiledAddr, u64)> {
        let fst = self.fst.as_fst();
        let mut node = fst.root();
        let mut acc = 0;
        for &b in key {
            let t = node.transition(node.find_input(b)?);
            acc += t.out.value();
            node = fst.node(t.addr);
        }
        Some((node.addr(), acc))
    }

    /// A lazy, best-first stream of the entries completing `input`: exact prefix matches by rank,
    /// then (once those run out and the caller allows it) fuzzy ones by typos, then rank.
    /// Entries in `mask` are skipped (products written since these completions were built).
    pub(crate) fn stream<'a>(&'a self, input: &'a Input, mask: Option<&'a HashSet<u32>>) -> Stream<'a> {
        let mut stream =
            Stream { dict: self, input, heap: BinaryHeap::new(), seen: HashSet::new(), mask, expanded: false };
        if !self.postings.is_empty()
            && let Some((addr, acc)) = self.walk(input.key.as_bytes())
        {
            let (lo, hi) = self.range(self.fst.as_fst().node(addr), acc);
            stream.push(lo, hi, 0, input.key.len());
        }
        stream
    }

    /// Roots of the fuzzy matches: the highest FST nodes whose path is within the input's typo
    /// budget of the input as a prefix (Levenshtein, a transposition costing one), skipping the
    /// exact path. The first character must match, as in Elasticsearch's default `prefix_length`
    /// of 1: typos there are rare and allowing them multiplies the nodes visited.
    fn fuzzy_roots(&self, input: &Input, dfa: &DFA, out: &mut Vec<(usize, usize, u8, usize)>) {
        let Some(first) = input.key.chars().next() else { return };
        if input.budget == 0 || self.postings.is_empty() {
            return;
        }
        let fst = self.fst.as_fst();
        let mut node = fst.root();
        let mut acc = 0;
        let mut state = dfa.initial_state();
        for &b in &input.key.as_bytes()[..first.len_utf8()] {
            let Some(i) = node.find_input(b) else { return };
            let t = node.transition(i);
            acc += t.out.value();
            node = fst.node(t.addr);
            state = dfa.transition(state, b);
        }
        let max_chars = input.key.chars().count() + usize::from(input.budget);
        // (node, accumulated output, automaton state, characters, bytes, best distance above)
        let mut stack = vec![(node.addr(), acc, state, 1usize, first.len_utf8(), u8::MAX)];
        while let Some((addr, acc, state, chars, depth, best)) = stack.pop() {
            let node = fst.node(addr);
            for t in node.transitions() {
                let next = dfa.transition(state, t.inp);
                if next == SINK_STATE {
                    continue;
                }
                let chars = chars + usize::from(t.inp & 0xC0 != 0x80);
                if chars > max_chars {
                    continue;
                }
                let acc = acc + t.out.value();
                let mut best = best;
                match dfa.distance(next) {
                    // The exact path: the exact stream covers this subtree.
                    Distance::Exact(0) => continue,
                    Distance::Exact(d) if d < best => {
                        let (lo, hi) = self.range(fst.node(t.addr), acc);
                        out.push((lo, hi, d, depth + 1));
                        best = d;
                    }
                    _ => {}
                }
                // Below a one-typo root only exact paths could do better, and those are covered.
                if best > 1 {
                    stack.push((t.addr, acc, next, chars, depth + 1, best));
                }
            }
        }
    }
}

/// The fuzzy-prefix automaton of an input (none when it allows no typo). Building one costs
/// more than a whole exact lookup, so a request builds it once, for every kind, and only when
/// the exact matches did not fill the page.
pub(crate) fn fuzzy_automaton(input: &Input) -> Option<DFA> {
    (input.budget > 0 && !input.key.is_empty()).then(|| automaton(input.budget).build_prefix_dfa(&input.key))
}

/// A posting's score: its entry's, less for a suffix that starts after the first word.
fn posting_score(entry: &Entry, p: Posting, mid_factor: f32) -> f32 {
    entry.score * if p.offset == 0 { 1.0 } else { mid_factor }
}

/// Levenshtein automaton builders are costly to make and immutable: one per distance.
fn automaton(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static ONE: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    static TWO: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    match distance {
        1 => ONE.get_or_init(|| LevenshteinAutomatonBuilder::new(1, true)),
        _ => TWO.get_or_init(|| LevenshteinAutomatonBuilder::new(2, true)),
    }
}

/// A match coming out of a stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub entry: u32,
    /// Key offset where the matching suffix starts, and key bytes matched from there.
    pub offset: usize,
    pub matched: usize,
    pub typos: u8,
    pub score: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    typos: u8,
    rank: u32,
    lo: u32,
    hi: u32,
    matched: u32,
}

/// See [`Completions::stream`].
#[derive(Debug)]
pub(crate) struct Stream<'a> {
    dict: &'a Completions,
    input: &'a Input,
    heap: BinaryHeap<Reverse<Candidate>>,
    seen: HashSet<u32>,
    mask: Option<&'a HashSet<u32>>,
    expanded: bool,
}

impl<'a> Stream<'a> {
    pub fn dict(&self) -> &'a Completions {
        self.dict
    }

    fn push(&mut self, lo: usize, hi: usize, typos: u8, matched: usize) {
        if lo < hi {
            let rank = self.dict.min_rank(lo, hi);
            self.heap.push(Reverse(Candidate { typos, rank, lo: lo as u32, hi: hi as u32, matched: matched as u32 }));
        }
    }

    /// The next hit without consuming it; fuzzy matches only when given the input's automaton.
    pub fn peek(&mut self, fuzzy: Option<&DFA>) -> Option<Hit> {
        loop {
            if let Some(Reverse(c)) = self.heap.peek().copied() {
                let at = self.dict.by_rank[c.rank as usize] as usize;
                let posting = self.dict.postings[at];
                if self.seen.contains(&posting.entry) || self.mask.is_some_and(|m| m.contains(&posting.entry)) {
                    self.split(c, at);
                    continue;
                }
                return Some(Hit {
                    entry: posting.entry,
                    offset: usize::from(posting.offset),
                    matched: c.matched as usize,
                    typos: c.typos,
                    score: self.dict.score(posting),
                });
            }
            let dfa = fuzzy.filter(|_| !self.expanded)?;
            self.expanded = true;
            let mut roots = Vec::new();
            self.dict.fuzzy_roots(self.input, dfa, &mut roots);
            for (lo, hi, typos, matched) in roots {
                self.push(lo, hi, typos, matched);
            }
        }
    }

    /// Consumes the hit [`Stream::peek`] returned.
    pub fn advance(&mut self) {
        if let Some(Reverse(c)) = self.heap.peek().copied() {
            let at = self.dict.by_rank[c.rank as usize] as usize;
            self.seen.insert(self.dict.postings[at].entry);
            self.split(c, at);
        }
    }

    fn split(&mut self, c: Candidate, at: usize) {
        self.heap.pop();
        self.push(c.lo as usize, at, c.typos, c.matched as usize);
        self.push(at + 1, c.hi as usize, c.typos, c.matched as usize);
    }
}
