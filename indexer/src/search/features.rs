//! Phase-2 features: per (query, product) pair of the top K, read from postings (term
//! frequencies and title positions), field norms and fast fields — no stored-document load.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use searchd_catalog::{Expansions, FEATURE_NAMES, FeatureVector, NUM_FEATURES, RankFeatures, Ranker};
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::Postings;
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, TERMINATED, Term};

use super::automata::KeptFuzzyQuery;
use super::lexicon::Lexicon;
use super::query::expanded;
use super::signals::{CustomSignals, SegmentCustom};
use super::synonyms::Alternative;
use crate::analysis::QueryTerm;
use crate::columns::{EngagementColumns, IdTable, SegmentSignals};
use crate::{ProductIndex, Result};

/// The text fields with a BM25 feature each, in [`FEATURE_NAMES`](searchd_catalog::FEATURE_NAMES)
/// order, and whether the field holds the exact (`true`) or the stemmed form.
const BM25_FEATURES: [(&str, bool); 7] = [
    ("bm25_title", true),
    ("bm25_title_stem", false),
    ("bm25_brand", true),
    ("bm25_category", false),
    ("bm25_description", true),
    ("bm25_description_stem", false),
    ("bm25_head", false),
];
/// The slot of [`BM25_FEATURES`] that is the title's product type.
const HEAD_SLOT: usize = 6;

/// What the postings tell about one candidate.
#[derive(Debug, Default, Clone)]
struct Matches {
    bm25: [f32; 7],
    /// Bit `i`: query word `i` matched so (at most 12 words).
    exact: u16,
    stem: u16,
    title: u16,
    /// In the title's product type.
    head: u16,
    /// Through a learned expansion in the title.
    expanded: u16,
    typo: u16,
    /// Occurrences of query words in the title (exact form).
    title_hits: u32,
    /// (query word, position) of each query word's occurrences in the title (exact form); a
    /// candidate without any allocates nothing.
    title_positions: Vec<(usize, u32)>,
}

/// What the features read from one segment besides postings.
struct SegmentState<'a> {
    signals: SegmentSignals,
    /// The custom signals' columns, when the settings declare some.
    custom: Option<SegmentCustom<'a>>,
    ids: Arc<IdTable>,
    title_norms: FieldNormReader,
}

/// One word's per-field scorer inputs, shared by every segment.
struct WordField {
    field: Field,
    term: Term,
    weight: Bm25Weight,
    /// Index of the query word.
    word: usize,
    slot: usize,
    exact: bool,
    title: bool,
}

/// Calls `hit(i)` for each candidate `(doc, i)` of `docs` (in doc order) that `docset` holds,
/// walking it forward once.
fn for_each_match(docset: &mut (impl DocSet + ?Sized), docs: &[(DocId, usize)], mut hit: impl FnMut(usize)) {
    for &(doc, i) in docs {
        if docset.doc() == TERMINATED {
            break;
        }
        if docset.doc() < doc {
            docset.seek(doc);
        }
        if docset.doc() == doc {
            hit(i);
        }
    }
}

impl ProductIndex {
    /// Features of `top` (phase-1 order) for `q`, whose analyzed words are `terms`.
    #[expect(clippy::too_many_arguments, reason = "private plumbing")]
    pub(crate) fn features(
        &self,
        searcher: &Searcher,
        lexicon: &Lexicon,
        q: &str,
        terms: &[QueryTerm],
        alternatives: &[Alternative],
        top: &[(Score, DocAddress)],
        ranker: &Ranker,
        expansions: Option<&Expansions>,
        engagement: Option<&Arc<EngagementColumns>>,
        custom: Option<&CustomSignals>,
        near: Option<&crate::offers::near::NearDocs>,
    ) -> Result<Vec<FeatureVector>> {
        let f = &self.fields;
        let n = terms.len().min(16);
        let terms = &terms[..n];
        let words = self.word_fields(searcher, lexicon, terms)?;
        let mut matches: Vec<Matches> = vec![Matches::default(); top.len()];

        // Candidates by segment, in doc order, so every postings list is walked forward once.
        let mut by_segment: Vec<Vec<(DocId, usize)>> = vec![Vec::new(); searcher.segment_readers().len()];
        for (i, (_, address)) in top.iter().enumerate() {
            by_segment[address.segment_ord as usize].push((address.doc_id, i));
        }
        // Typo matches of rare words in title and brand, as phase 1 expanded them (and kept).
        let mut typo_weights: Vec<(usize, KeptFuzzyQuery)> = Vec::new();
        for (w, t) in terms.iter().enumerate() {
            let typos = t.allowed_typos();
            if typos == 0 || !self.is_rare(lexicon, t) {
                continue;
            }
            for field in [f.title_exact, f.brand_text] {
                let term = Term::from_field_text(field, &t.exact);
                typo_weights.push((w, KeptFuzzyQuery::new(term, typos, false, self.matches.clone())));
            }
        }
        let mut expansion_terms: Vec<(usize, Term)> = expansions
            .map(|e| expanded(terms, e).map(|(w, stem, _)| (w, Term::from_field_text(f.title_stem, stem))).collect())
            .unwrap_or_default();
        // A one-word synonym in the title counts as an expansion of each word it stands for.
        for alternative in alternatives.iter().filter(|a| a.words.len() == 1) {
            for w in alternative.span.clone().filter(|&w| w < n) {
                expansion_terms.push((w, Term::from_field_text(f.title_stem, &alternative.words[0].stem)));
            }
        }
        // By segment ordinal; segments without candidates are not opened.
        let mut per_segment: Vec<Option<SegmentState>> = Vec::with_capacity(by_segment.len());
        let mut positions = Vec::new();
        for (segment_ord, docs) in by_segment.iter_mut().enumerate() {
            if docs.is_empty() {
                per_segment.push(None);
                continue;
            }
            let segment_ord = segment_ord as u32;
            docs.sort_unstable();
            let segment = searcher.segment_reader(segment_ord);
            let mut norms: HashMap<Field, FieldNormReader> = HashMap::new();
            for word in &words {
                let option =
                    if word.title { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
                let Some(mut postings) = lexicon.postings(segment, &word.term, option)? else {
                    continue;
                };
                let norm = match norms.entry(word.field) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(segment.get_fieldnorms_reader(word.field)?),
                };
                for &(doc, i) in docs.iter() {
                    if postings.doc() == TERMINATED {
                        break;
                    }
                    if postings.doc() < doc {
                        postings.seek(doc);
                    }
                    if postings.doc() != doc {
                        continue;
                    }
                    let tf = postings.term_freq();
                    let m = &mut matches[i];
                    m.bm25[word.slot] += word.weight.score(norm.fieldnorm_id(doc), tf);
                    let bit = 1u16 << word.word;
                    if word.exact {
                        m.exact |= bit;
                    } else {
                        m.stem |= bit;
                    }
                    if word.slot <= 1 {
                        m.title |= bit;
                    }
                    if word.slot == HEAD_SLOT {
                        m.head |= bit;
                    }
                    if word.title {
                        m.title_hits += tf;
                        positions.clear();
                        postings.positions(&mut positions);
                        m.title_positions.extend(positions.iter().map(|&p| (word.word, p)));
                    }
                }
            }
            for (w, term) in &expansion_terms {
                let Some(mut postings) = lexicon.postings(segment, term, IndexRecordOption::Basic)? else {
                    continue;
                };
                for_each_match(&mut postings, docs, |i| matches[i].expanded |= 1 << w);
            }
            for (w, weight) in &typo_weights {
                let mut scorer = weight.scorer(segment, 1.0)?;
                for_each_match(scorer.as_mut(), docs, |i| matches[i].typo |= 1 << w);
            }
            per_segment.push(Some(SegmentState {
                signals: self.segment_signals_with(searcher, segment_ord, engagement)?,
                custom: custom.map(|c| c.open(segment)),
                ids: self.id_table(searcher, segment_ord)?,
                title_norms: segment.get_fieldnorms_reader(f.title_exact)?,
            }));
        }

        // Every candidate's segment has its state.
        let state = |address: &DocAddress| {
            per_segment[address.segment_ord as usize].as_ref().unwrap_or_else(|| unreachable!("opened above"))
        };
        let idf: Vec<f32> = terms.iter().map(|t| self.idf(lexicon, t)).collect();
        let click_through = match &ranker.clicks {
            // A query never shown: the prior for every product, without reading their ids.
            Some(clicks) => match clicks.unshown(q) {
                Some(prior) => vec![prior; top.len()],
                None => {
                    let ids: Vec<&str> =
                        top.iter().map(|(_, address)| state(address).ids.get(address.doc_id).unwrap_or("")).collect();
                    clicks.click_throughs(q, &ids)
                }
            },
            None => Vec::new(),
        };
        let idf_total: f32 = idf.iter().sum::<f32>().max(f32::EPSILON);
        let mut out = Vec::with_capacity(top.len());
        for (rank, ((score, address), m)) in top.iter().zip(&matches).enumerate() {
            let seg = state(address);
            let share = |mask: u16| mask.count_ones() as f32 / n.max(1) as f32;
            let any = m.exact | m.stem | m.typo;
            let covered: f32 = (0..n).filter(|w| any & (1 << w) != 0).map(|w| idf[w]).sum();
            let pairs = n.saturating_sub(1);
            let adjacent = (0..pairs)
                .filter(|&w| {
                    let at = &m.title_positions;
                    at.iter().any(|&(word, p)| word == w && at.contains(&(w + 1, p + 1)))
                })
                .count();
            let title_len = seg.title_norms.fieldnorm(address.doc_id);
            let r: RankFeatures = seg.signals.rank_features(address.doc_id, *score);
            // Every product has an id (the writer requires one).
            let click_through = click_through.get(rank).map_or(0.0, |&ctr| ctr as f32);
            let named: [(&str, f32); NUM_FEATURES] = [
                ("phase1_score", score.max(0.0).ln_1p()),
                ("phase1_rank", (rank as f32).ln_1p()),
                ("bm25_title", m.bm25[0]),
                ("bm25_title_stem", m.bm25[1]),
                ("bm25_brand", m.bm25[2]),
                ("bm25_category", m.bm25[3]),
                ("bm25_description", m.bm25[4]),
                ("bm25_description_stem", m.bm25[5]),
                ("exact_share", share(m.exact)),
                ("stemmed_only_share", share(m.stem & !m.exact)),
                ("typo_only_share", share(m.typo & !(m.exact | m.stem))),
                ("coverage", share(any)),
                ("idf_coverage", if n == 0 { 0.0 } else { covered / idf_total }),
                ("title_coverage", share(m.title | m.typo)),
                ("all_words_matched", f32::from(n > 0 && any.count_ones() as usize == n)),
                ("last_word_in_title", f32::from(n > 0 && (m.title | m.typo) & (1 << (n - 1)) != 0)),
                ("title_proximity", if pairs == 0 { 0.0 } else { adjacent as f32 / pairs as f32 }),
                ("title_starts_with_query", f32::from(n > 0 && m.title_positions.contains(&(0, 0)))),
                ("title_length", (title_len as f32).ln_1p()),
                (
                    "title_precision",
                    if title_len == 0 { 0.0 } else { (m.title_hits as f32 / title_len as f32).min(1.0) },
                ),
                ("bm25_head", m.bm25[HEAD_SLOT]),
                ("head_coverage", share(m.head)),
                ("last_word_in_head", f32::from(n > 0 && m.head & (1 << (n - 1)) != 0)),
                ("expansion_coverage", share(m.expanded & !any)),
                ("popularity", r.popularity.max(0.0).ln_1p() as f32),
                ("rating", r.rating.unwrap_or(0.0) as f32 / 5.0),
                ("reviews", (r.review_count as f32).ln_1p()),
                ("in_stock", f32::from(r.in_stock)),
                ("freshness", r.age_days.map_or(0.0, |a| 0.5f64.powf(a / 90.0)) as f32),
                ("engagement", r.engagement.max(0.0).ln_1p() as f32),
                ("click_through", click_through),
                ("custom_signals", seg.custom.as_ref().map_or(0.0, |c| c.factor(address.doc_id).ln() as f32)),
                ("offer_nearness", offer_nearness(searcher, near, address)),
            ];
            let mut v: FeatureVector = [0.0; NUM_FEATURES];
            for (i, (name, value)) in named.into_iter().enumerate() {
                debug_assert_eq!(name, FEATURE_NAMES[i], "features out of FEATURE_NAMES order");
                v[i] = if value.is_finite() { value } else { 0.0 };
            }
            out.push(v);
        }
        Ok(out)
    }

    /// Each query word in each text field, with its BM25 weight over the whole index.
    fn word_fields(&self, searcher: &Searcher, lexicon: &Lexicon, terms: &[QueryTerm]) -> Result<Vec<WordField>> {
        let f = &self.fields;
        let fields = [
            f.title_exact,
            f.title_stem,
            f.brand_text,
            f.category_stem,
            f.description_exact,
            f.description_stem,
            f.title_head,
        ];
        // As `Bm25Weight::for_terms` computes it (kept), each field's tokens read once.
        let docs = searcher.total_num_docs()?;
        let tokens = fields.iter().map(|&field| Ok(searcher.total_num_tokens(field)?)).collect::<Result<Vec<u64>>>()?;
        let mut out = Vec::with_capacity(terms.len() * fields.len());
        for (w, t) in terms.iter().enumerate() {
            for (slot, (&field, (_, exact))) in fields.iter().zip(BM25_FEATURES).enumerate() {
                let term = Term::from_field_text(field, if exact { &t.exact } else { &t.stem });
                let weight = self.weights.weight(field, lexicon.doc_freq(&term)?, docs, tokens[slot]);
                out.push(WordField { field, term, weight, word: w, slot, exact, title: slot == 0 });
            }
        }
        Ok(out)
    }

    /// Inverse document frequency of a word (its stem in titles, or in descriptions when more
    /// frequent there), as BM25 computes it.
    fn idf(&self, lexicon: &Lexicon, t: &QueryTerm) -> f32 {
        let f = &self.fields;
        let n = lexicon.num_docs() as f32;
        let df = [f.title_stem, f.description_stem, f.brand_text]
            .into_iter()
            .map(|field| {
                let text = if field == f.brand_text { &t.exact } else { &t.stem };
                lexicon.doc_freq(&Term::from_field_text(field, text)).unwrap_or(0)
            })
            .max()
            .unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }
}

/// Near a shopper, [`nearness`](searchd_catalog::near::nearness) of the product's best offer;
/// 0 otherwise.
fn offer_nearness(searcher: &Searcher, near: Option<&crate::offers::near::NearDocs>, address: &DocAddress) -> f32 {
    let segment = searcher.segment_reader(address.segment_ord).segment_id();
    near.and_then(|n| n.get(&segment))
        .and_then(|s| s.best(address.doc_id))
        .map_or(0.0, |best| searchd_catalog::near::nearness(best.key.distance_km) as f32)
}
