//! Query building: each query word's exact, stemmed and typo matches over the weighted fields
//! (DisMax), the title's product type, learned expansions, joined words, and the filters.

use std::sync::Arc;

use searchd_catalog::filter::Resolved;
use searchd_catalog::{Expansions, RankingMode, SearchRequest, TextWeights};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery, Occur, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;

use super::automata::KeptFuzzyQuery;
use super::lexicon::Lexicon;
use super::synonyms::Alternative;
use super::words::{Part, WordsQuery};
use crate::ProductIndex;
use crate::analysis::QueryTerm;
use crate::schema::attr_marker;
use crate::settings::Served;

pub(super) const MAX_QUERY_TERMS: usize = 12;
/// Words found (as such, by stem, or as a brand) in at least this many products are not
/// expanded to typos.
const TYPO_MAX_DOC_FREQ: u64 = 3;
/// A word in this share of the products only scores the products other words find.
const COMMON_SHARE: f64 = 0.1;
/// Below this many products every word finds products (a small catalog's counts say little).
const COMMON_MIN_PRODUCTS: u64 = 1_000;

/// A query's words and what the settings say of them.
pub(super) struct QueryWords<'a> {
    pub(super) terms: &'a [QueryTerm],
    /// Their declared synonyms.
    pub(super) alternatives: &'a [Alternative],
    /// Per word: a declared stop word (never all of them).
    pub(super) stop: &'a [bool],
    /// The products the rules hide.
    pub(super) hide: &'a [String],
}

impl ProductIndex {
    /// The text part of a search's query: the words (weighted by `weights`), everything when
    /// there are none; never the hidden products.
    pub(super) fn text_query(
        &self,
        lexicon: &Arc<Lexicon>,
        request: &SearchRequest,
        words: &QueryWords<'_>,
        expansions: Option<&Expansions>,
        weights: &TextWeights,
        served: &Served,
    ) -> Box<dyn Query> {
        let QueryWords { terms, alternatives, stop, hide } = *words;
        let prefix = prefix_word(request, terms);
        let terms = &terms[..terms.len().min(MAX_QUERY_TERMS)];
        // The searchable attributes' paths under the served generation, with their weights.
        let attributes: Vec<(String, f32)> = served
            .settings
            .attributes
            .iter()
            .filter(|(_, a)| a.searchable)
            .map(|(name, a)| (attr_marker(served.generation, name), a.weight()))
            .collect();
        if terms.is_empty() {
            let everything: Box<dyn Query> =
                if request.q.trim().is_empty() { Box::new(AllQuery) } else { Box::new(EmptyQuery) };
            return self.without_hidden(everything, hide);
        }
        if request.ranking == RankingMode::Bm25 {
            let clauses = terms.iter().map(|t| (Occur::Should, self.bm25_term_query(t, &attributes))).collect();
            return self.without_hidden(Box::new(BooleanQuery::new(clauses)), hide);
        }
        // Words in a large share of the catalog ("for", "in", "white") only score the products
        // the other words find, as Lucene's common-terms query does: walking their postings
        // would cost a share of the whole catalog on every search.
        let mut common = self.common_words(lexicon, terms);
        // Declared stop words too, while another word is searched.
        let optional: Vec<bool> = common.iter().zip(stop).map(|(&c, &s)| c || s).collect();
        if optional.iter().any(|&o| !o) {
            common = optional;
        }
        let f = &self.fields;
        let mut words = WordsQuery::new(self.weights.clone(), lexicon.clone());
        words.exclude(hide.iter().map(|id| Term::from_field_text(f.id, id)));
        for (i, t) in terms.iter().enumerate() {
            let mut parts = self.term_parts(lexicon, t, weights, &attributes, prefix == Some(i));
            // Declared synonyms are other ways to match the word, each counting `synonym` of it;
            // one standing for several words, or of several words, counts once over them all.
            for alternative in alternatives.iter().filter(|a| a.span.contains(&i)) {
                let share = alternative.span.len().max(alternative.words.len()) as f32;
                parts.extend(self.synonym_parts(&alternative.words, weights.synonym / share, weights, &attributes));
            }
            words.best(parts, weights.tie, common[i]);
            // A word naming the product's type ("tubs" → "… Soaking Tub in White") counts on
            // top of its title match: the product is what was asked for, not an accessory.
            words.single(Part::Const(Term::from_field_text(f.title_head, &t.stem), weights.head), common[i]);
        }
        // Title words the model learned for a query word ("fridge" → "refrigerator"), each
        // weighted by how reliably it came with the word.
        if let Some(expansions) = expansions {
            for (_, stem, weight) in expanded(terms, expansions) {
                let term = Term::from_field_text(f.title_stem, stem);
                words.single(Part::Term(term, weights.expansion * weight), false);
            }
        }
        // Two adjacent words may be one word in titles ("eco stone" → "EcoStone", "screw
        // driver" → "Screwdriver"), as Meilisearch's query graph tries word concatenations.
        for pair in terms.windows(2) {
            let joined = Term::from_field_text(f.title_exact, &format!("{}{}", pair[0].exact, pair[1].exact));
            words.single(Part::Term(joined, weights.joined), false);
        }
        Box::new(words)
    }

    /// Which query words are common (in at least [`COMMON_SHARE`] of the products, by their
    /// title or description stem) while another word is not: those only score.
    fn common_words(&self, lexicon: &Lexicon, terms: &[QueryTerm]) -> Vec<bool> {
        let f = &self.fields;
        let total = lexicon.num_docs();
        if total < COMMON_MIN_PRODUCTS {
            return vec![false; terms.len()];
        }
        let df = |field, text: &str| lexicon.doc_freq(&Term::from_field_text(field, text)).unwrap_or(0);
        let text_df: Vec<u64> =
            terms.iter().map(|t| df(f.title_stem, &t.stem).max(df(f.description_stem, &t.stem))).collect();
        let common: Vec<bool> = text_df.iter().map(|&n| n as f64 >= COMMON_SHARE * total as f64).collect();
        if common.iter().all(|&c| !c) {
            return common;
        }
        // Only while another word is in the catalog as such: a query whose other words are all
        // unknown (misspelt beyond its typos, or foreign) keeps what its common words find.
        let known =
            terms.iter().zip(&common).zip(&text_df).any(|((t, &c), &n)| {
                !c && (n > 0 || df(f.brand_text, &t.exact) > 0 || df(f.category_stem, &t.stem) > 0)
            });
        if known { common } else { vec![false; terms.len()] }
    }

    /// `text` restricted to the products every clause holds for (the clauses do not score).
    pub(super) fn filtered<'a>(
        &self,
        text: Box<dyn Query>,
        clauses: impl IntoIterator<Item = &'a Resolved>,
        generation: u64,
    ) -> Box<dyn Query> {
        let mut all = vec![(Occur::Must, text)];
        all.extend(clauses.into_iter().map(|c| match c {
            // Excluded from the words' matches directly: no "everything" to intersect with.
            Resolved::Not(inner) => (Occur::MustNot, self.filter_query(inner, generation)),
            c => (Occur::Must, Box::new(ConstScoreQuery::new(self.filter_query(c, generation), 0.0)) as Box<dyn Query>),
        }));
        if all.len() == 1 {
            return all.pop().map(|(_, q)| q).unwrap_or_else(|| Box::new(AllQuery));
        }
        Box::new(BooleanQuery::new(all))
    }

    /// One query word in the default ranking: the best of its exact, stemmed and typo matches
    /// over the weighted fields (DisMax), so an exact match outranks a stemmed one, which
    /// outranks a typo. Searchable attributes count with their own weights. The word being
    /// typed (`prefix`) also matches the title and brand words it starts, as a constant below
    /// a whole word's match, typo-tolerant when the word is rare.
    fn term_parts(
        &self,
        lexicon: &Lexicon,
        t: &QueryTerm,
        w: &TextWeights,
        attributes: &[(String, f32)],
        prefix: bool,
    ) -> Vec<Part> {
        let f = &self.fields;
        let mut parts: Vec<Part> =
            self.field_terms(t, w, attributes).into_iter().map(|(term, boost)| Part::Term(term, boost)).collect();
        let typos = t.allowed_typos();
        let rare = (typos > 0 || prefix) && self.is_rare(lexicon, t);
        let fuzzy = |field, distance, prefix, boost| {
            let term = Term::from_field_text(field, &t.exact);
            Part::Other(boosted(Box::new(KeptFuzzyQuery::new(term, distance, prefix, self.matches.clone())), boost))
        };
        if typos > 0 && rare {
            parts.push(fuzzy(f.title_exact, typos, false, w.typo));
            parts.push(fuzzy(f.brand_text, typos, false, w.typo));
        }
        if prefix {
            // A word the typed letters start counts more than one they start give or take a typo
            // ("cordl": "cordless" before "corded").
            for field in [f.title_exact, f.brand_text] {
                parts.push(fuzzy(field, 0, true, w.prefix));
                if typos > 0 && rare {
                    parts.push(fuzzy(field, 1, true, w.prefix / 2.0));
                }
            }
        }
        parts
    }

    /// A word's exact and stemmed terms in each weighted field and searchable attribute, with
    /// their weights.
    fn field_terms(&self, t: &QueryTerm, w: &TextWeights, attributes: &[(String, f32)]) -> Vec<(Term, f32)> {
        let f = &self.fields;
        let text = |field, text: &str| Term::from_field_text(field, text);
        let mut terms = vec![
            (text(f.title_exact, &t.exact), w.title),
            (text(f.title_stem, &t.stem), w.title * w.stemmed),
            (text(f.brand_text, &t.exact), w.brand),
            (text(f.category_stem, &t.stem), w.category),
            (text(f.description_exact, &t.exact), w.description),
            (text(f.description_stem, &t.stem), w.description * w.stemmed),
        ];
        for (path, weight) in attributes {
            terms.push((json_path_term(f.attr_exact, path, &t.exact), *weight));
            terms.push((json_path_term(f.attr_stem, path, &t.stem), weight * w.stemmed));
        }
        terms
    }

    /// A synonym's parts in a query word's DisMax, times `factor`: a word as the word's own
    /// fields, a phrase as all its words together, each the best of its fields.
    fn synonym_parts(
        &self,
        words: &[QueryTerm],
        factor: f32,
        w: &TextWeights,
        attributes: &[(String, f32)],
    ) -> Vec<Part> {
        if let [word] = words {
            return self
                .field_terms(word, w, attributes)
                .into_iter()
                .map(|(term, boost)| Part::Term(term, boost * factor))
                .collect();
        }
        let all = words
            .iter()
            .map(|word| {
                let best = self
                    .field_terms(word, w, attributes)
                    .into_iter()
                    .map(|(term, boost)| boosted(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)), boost))
                    .collect();
                (Occur::Must, Box::new(DisjunctionMaxQuery::with_tie_breaker(best, w.tie)) as Box<dyn Query>)
            })
            .collect();
        vec![Part::Other(boosted(Box::new(BooleanQuery::new(all)), factor))]
    }

    /// Whether a word is rare enough in titles and brands to be a likely typo. Only such words
    /// are expanded to their typo neighbours, as Typesense expands typos only while exact results
    /// are scarce: a word found in many products is what the user meant, and expanding it costs a
    /// walk of the term dictionary and adds noise ("drill" → "frill").
    pub(crate) fn is_rare(&self, lexicon: &Lexicon, t: &QueryTerm) -> bool {
        let f = &self.fields;
        let df = |field, text: &str| lexicon.doc_freq(&Term::from_field_text(field, text)).unwrap_or(0);
        let known = df(f.title_exact, &t.exact).max(df(f.title_stem, &t.stem)).max(df(f.brand_text, &t.exact));
        known < TYPO_MAX_DOC_FREQ
    }

    /// One query word in plain BM25: its stem in each text field (and searchable attribute),
    /// summed, no weights.
    fn bm25_term_query(&self, t: &QueryTerm, attributes: &[(String, f32)]) -> Box<dyn Query> {
        let f = &self.fields;
        let parts = [f.title_stem, f.description_stem, f.category_stem]
            .into_iter()
            .map(|field| (Occur::Should, term(field, &t.stem)))
            .chain(std::iter::once((Occur::Should, term(f.brand_text, &t.exact))))
            .chain(attributes.iter().map(|(path, _)| (Occur::Should, json_term(f.attr_stem, path, &t.stem))))
            .collect();
        Box::new(BooleanQuery::new(parts))
    }
}

/// The index of the query word matched as a prefix too: the last, with `prefix=last`, outside
/// plain BM25, when the query does not end in a space (the word is finished), the word has at
/// least `PrefixMode::MIN_CHARS` characters and is among the words searched.
pub(crate) fn prefix_word(request: &SearchRequest, terms: &[QueryTerm]) -> Option<usize> {
    let last = terms.len().checked_sub(1)?;
    let typing = request.ranking != RankingMode::Bm25
        && terms.len() <= MAX_QUERY_TERMS
        && request.prefix.typing(&request.q, &terms[last].exact);
    typing.then_some(last)
}

/// A scored term query (term frequencies for BM25).
fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

/// A scored term of a JSON text field, at `path`.
fn json_term(field: tantivy::schema::Field, path: &str, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(json_path_term(field, path, text), IndexRecordOption::WithFreqs))
}

/// The term of a JSON text field at `path`.
fn json_path_term(field: tantivy::schema::Field, path: &str, text: &str) -> Term {
    let mut term = Term::from_field_json_path(field, path, false);
    term.append_type_and_str(text);
    term
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

/// Each query word's expansions that are not query words themselves: (word index, stem, weight).
pub(crate) fn expanded<'a>(
    terms: &'a [QueryTerm],
    expansions: &'a Expansions,
) -> impl Iterator<Item = (usize, &'a str, f32)> + 'a {
    terms.iter().enumerate().flat_map(move |(w, t)| {
        expansions
            .get(&t.stem)
            .iter()
            .filter(|(stem, _)| !terms.iter().any(|o| &o.stem == stem))
            .map(move |(stem, weight)| (w, stem.as_str(), *weight))
    })
}
