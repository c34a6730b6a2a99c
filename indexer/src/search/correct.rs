//! "Did you mean": a query word the catalog does not know (in no more than [`KNOWN_DOC_FREQ`]
//! products' titles, brands, categories or descriptions, and not a declared synonym) is misspelt when title words within
//! its typo budget are in many more products. The correction replaces each such word by one of
//! one of its nearest, most frequent candidates, choosing the combination by how many products'
//! titles hold all its words together (so the words correct each other: "garge doors" is
//! "garage doors", not "gauge doors"), the candidates' distance and frequency, and how often the
//! whole corrected query was searched with results (the query log, when the engine gives it;
//! see [`ProductIndex::set_query_counts`]).

use std::collections::HashMap;

use searchd_catalog::typo::bounded_distance;
use searchd_catalog::{PrefixMode, SearchRequest, fold, tokenize};
use tantivy::collector::Count;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

use super::lexicon::Lexicon;
use super::synonyms::SynonymTable;
use crate::ProductIndex;

/// A word in at most this many products is unknown enough to be corrected.
const KNOWN_DOC_FREQ: u64 = 2;
/// A candidate must be in this many times more products than the word as typed.
const MIN_GAIN: u64 = 20;
/// Candidates kept per misspelt word, by how many words of the query are misspelt: the
/// combinations, each counted in the index, stay few.
const CANDIDATES: [usize; 4] = [8, 6, 3, 2];
/// Dictionary words looked at per word and segment, at most.
const MAX_SCANNED: usize = 4_096;
/// What an edit costs a candidate, against the logarithm of its frequency: one edit fewer is
/// worth about 400 times the products.
const EDIT_COST: f64 = 6.0;

/// Counts of past queries with results, by query text.
pub type QueryCounts = std::sync::Arc<dyn Fn(&str) -> u64 + Send + Sync>;

impl ProductIndex {
    /// Gives "did you mean" how often each query was searched with results (the engine passes
    /// its query log's counts).
    pub fn set_query_counts(&self, counts: Option<QueryCounts>) {
        *self.query_counts.write().unwrap_or_else(std::sync::PoisonError::into_inner) = counts;
    }

    /// The corrected text of `request.q` when some of its words are misspelt, else `None`.
    /// `synonyms` are the served settings' declared synonyms.
    pub(super) fn correction(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        synonyms: Option<&SynonymTable>,
    ) -> Option<String> {
        let f = &self.fields;
        let language = self.analyzer.query_language(request.lang.as_deref(), &request.q);
        let folded: Vec<String> = tokenize(&request.q).map(|t| fold(t.text)).collect();
        if folded.is_empty() || folded.len() > 8 {
            return None;
        }
        let lexicon = Lexicon::new(searcher);
        let df = |field, text: &str| lexicon.doc_freq(&Term::from_field_text(field, text)).unwrap_or(0);
        let typing = request.prefix == PrefixMode::Last && !request.q.ends_with(char::is_whitespace);
        // Per query word: its options (the word as typed alone, when it is not misspelt).
        let mut options: Vec<Vec<(String, f64)>> = Vec::with_capacity(folded.len());
        let mut misspelt = Vec::new();
        for (i, word) in folded.iter().enumerate() {
            let terms = self.analyzer.query_terms(word, language);
            let known = terms
                .iter()
                .map(|t| {
                    df(f.title_exact, &t.exact)
                        .max(df(f.title_stem, &t.stem))
                        .max(df(f.brand_text, &t.exact))
                        .max(df(f.description_exact, &t.exact))
                        .max(df(f.category_stem, &t.stem))
                })
                .max()
                .unwrap_or(u64::MAX);
            let typos = searchd_catalog::typo::search_typo_budget(word.chars().count());
            let as_typed = vec![(word.clone(), (1.0 + known as f64).ln())];
            let last = i + 1 == folded.len();
            if known > KNOWN_DOC_FREQ
                || typos == 0
                || word.chars().any(|c| c.is_ascii_digit())
                || (last && typing && self.starts_words(searcher, word))
                || synonyms.is_some_and(|s| s.declares(word))
            {
                options.push(as_typed);
                continue;
            }
            let mut near = self.near_words(searcher, word, typos);
            near.retain(|(_, _, n)| *n > KNOWN_DOC_FREQ && *n >= MIN_GAIN * known);
            near.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
            if near.is_empty() {
                options.push(as_typed);
                continue;
            }
            misspelt.push(options.len());
            options.push(
                near.into_iter().map(|(w, d, n)| (w, (1.0 + n as f64).ln() - EDIT_COST * f64::from(d))).collect(),
            );
        }
        if misspelt.is_empty() {
            return None;
        }
        let keep = CANDIDATES[(misspelt.len() - 1).min(CANDIDATES.len() - 1)];
        for &i in &misspelt {
            options[i].truncate(keep);
        }
        let counts = self.query_counts.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let mut best: Option<(f64, Vec<&str>)> = None;
        let combinations: usize = options.iter().map(Vec::len).product();
        for k in 0..combinations.min(64) {
            let (mut rest, mut score, mut words) = (k, 0.0, Vec::with_capacity(options.len()));
            for choices in &options {
                let (word, s) = &choices[rest % choices.len()];
                rest /= choices.len();
                score += s;
                words.push(word.as_str());
            }
            score += 2.0 * (1.0 + self.together(searcher, &words, language) as f64).ln();
            if let Some(counts) = &counts {
                score += 2.0 * (1.0 + counts(&words.join(" ")) as f64).ln();
            }
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, words));
            }
        }
        let corrected = best?.1.join(" ");
        (corrected != folded.join(" ")).then_some(corrected)
    }

    /// Title words within `typos` edits of `word` (a transposition counts one), with their
    /// distance and how many products hold them.
    fn near_words(&self, searcher: &Searcher, word: &str, typos: u8) -> Vec<(String, u8, u64)> {
        let field = self.fields.title_exact;
        let query = FuzzyTermQuery::new(Term::from_field_text(field, word), typos, true);
        let mut found: HashMap<String, u64> = HashMap::new();
        for segment in searcher.segment_readers() {
            let (Ok(automaton), Ok(index)) = (query.automaton(), segment.inverted_index(field)) else { continue };
            let Ok(mut stream) = index.terms().search(automaton).into_stream() else { continue };
            let mut scanned = 0;
            while scanned < MAX_SCANNED && stream.advance() {
                scanned += 1;
                if let Ok(text) = std::str::from_utf8(stream.key()) {
                    *found.entry(text.to_string()).or_default() += u64::from(stream.value().doc_freq);
                }
            }
        }
        found
            .into_iter()
            .filter(|(w, _)| w != word)
            .filter_map(|(w, n)| Some((bounded_distance(word, &w, typos)?, w, n)))
            .map(|(d, w, n)| (w, d, n))
            .collect()
    }

    /// How many products hold all of `words` (by stem) in their titles.
    fn together(&self, searcher: &Searcher, words: &[&str], language: crate::Language) -> usize {
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .flat_map(|w| self.analyzer.query_terms(w, language))
            .map(|t| {
                let term = Term::from_field_text(self.fields.title_stem, &t.stem);
                (Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>)
            })
            .collect();
        searcher.search(&BooleanQuery::new(clauses), &Count).unwrap_or(0)
    }

    /// Whether some title word starts with `prefix` (a word being typed is not misspelt yet).
    fn starts_words(&self, searcher: &Searcher, prefix: &str) -> bool {
        searcher.segment_readers().iter().any(|segment| {
            let Ok(index) = segment.inverted_index(self.fields.title_exact) else { return false };
            let Ok(mut stream) = index.terms().range().ge(prefix.as_bytes()).into_stream() else { return false };
            stream.advance() && stream.key().starts_with(prefix.as_bytes())
        })
    }
}
