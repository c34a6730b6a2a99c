use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use searchd_catalog::{
    Expansions, Explanation, FacetCount, FacetField, FeatureVector, FirstPhaseScorer, Highlight, Phase1Explanation,
    Phase2Explanation, RankFeatures, Ranker, RankingMode, SearchHit, SearchRequest, SearchResponse, SecondPhase,
    SortBy, escape_html_into, fold, tokenize,
};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::index::SegmentId;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery, FuzzyTermQuery, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::{DocAddress, Score, Searcher, SegmentReader, Term};

use crate::analysis::{Language, QueryTerm, bounded_distance};
use crate::schema;
use crate::{ProductIndex, Result};

/// Query words beyond this many are ignored (each costs a clause, typo ones an automaton).
const MAX_QUERY_TERMS: usize = 12;
/// Words found (as such, by stem, or as a brand) in at least this many products are not
/// expanded to typos.
const TYPO_MAX_DOC_FREQ: u64 = 3;
/// Facet values returned per facet.
const FACET_VALUES: usize = 20;
/// Characters of description shown around the first match.
const SNIPPET_CHARS: usize = 160;

/// Field weights and match-kind weights of the default ranking.
mod weights {
    pub const TITLE: f32 = 3.0;
    pub const BRAND: f32 = 2.0;
    pub const CATEGORY: f32 = 1.5;
    pub const DESCRIPTION: f32 = 1.0;
    /// A stemmed-only match counts this share of an exact one.
    pub const STEMMED: f32 = 0.95;
    /// A typo match (title or brand) scores this constant. Only rare words are expanded, and a
    /// rare word's exact match earns about 3 × its IDF (≈ 10 for one product in 50k), so exact
    /// stays well above typo while a corrected word still counts like a real match. Tuned on
    /// the Home Depot dev judgments: 1.2 → 0.730, 4 → 0.738, 9 → 0.740 nDCG@10 condensed.
    pub const TYPO: f32 = 9.0;
    /// Two adjacent query words found joined as one title word. Measured on the Home Depot dev
    /// judgments (phase 1, nDCG@10 condensed): none 0.7408, 2 → 0.7451, 3 → 0.7454, 4 → 0.7438,
    /// 6 → 0.7378 (a joined match then outweighs matching the words themselves).
    pub const JOINED: f32 = 3.0;
    /// A word found in the title's product type (its head), on top of its own match: a constant,
    /// so a one-word head does not outscore a longer one, nor a stemmed match an exact one.
    /// Measured on the Home Depot dev judgments (phase 1, nDCG@10 condensed): none 0.7454,
    /// 0.5 → 0.7465, 1 → 0.7471, 2 → 0.7479, 3 → 0.7477.
    pub const HEAD: f32 = 2.0;
    /// A learned expansion of a query word found in the title, times the expansion's weight
    /// (0–1). 5-fold cross-validation (learned ranking, nDCG@10 condensed): 0.3 → 0.7599,
    /// 1 → 0.7639, 2 → 0.7610.
    pub const EXPANSION: f32 = 1.0;
    /// DisMax tie breaker: 0 scores each word by its best match only (exact, stemmed, typo or
    /// another field), so one word matched three ways does not outrank two words matched once.
    pub const TIE: f32 = 0.0;
}

/// Ids of one segment's documents: `terms[ords[doc]]`.
#[derive(Debug)]
pub(crate) struct IdTable {
    terms: Vec<Box<str>>,
    ords: Vec<u32>,
}

impl IdTable {
    pub(crate) fn get(&self, doc: tantivy::DocId) -> Option<&str> {
        let ord = *self.ords.get(doc as usize)?;
        self.terms.get(ord as usize).map(|t| &**t)
    }
}

/// What [`ProductIndex::retrieve`] found.
struct Retrieved {
    searcher: Searcher,
    language: Language,
    terms: Vec<QueryTerm>,
    /// The requested page, in final order.
    top: Vec<Ranked>,
    total: u64,
    facets: BTreeMap<String, Vec<FacetCount>>,
    /// The model that re-ranked the window, when one did.
    second: Option<Arc<dyn SecondPhase>>,
    /// The phase-1 scorer the search used.
    first: Arc<dyn FirstPhaseScorer>,
    engagement: Option<Arc<EngagementColumns>>,
}

/// A search ready to collect.
struct Planned {
    searcher: Searcher,
    language: Language,
    terms: Vec<QueryTerm>,
    query: Box<dyn Query>,
    engagement: Option<Arc<EngagementColumns>>,
}

/// One hit of the page: its final score (phase 2's inside the re-rank window, phase 1's beyond
/// it), its phase-1 score, and its phase-2 features when it was re-ranked.
struct Ranked {
    score: Score,
    phase1: Score,
    address: DocAddress,
    features: Option<FeatureVector>,
}

/// A phase-1 hit with its phase-2 features.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub phase1: f32,
    pub features: FeatureVector,
}

/// A hit without its document: what evaluation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredId {
    pub id: String,
    pub score: f32,
}

impl ProductIndex {
    /// Runs a validated search: retrieval, phase-1 scoring in the collector, facets, page of hits.
    pub fn search(&self, request: &SearchRequest, ranker: &Ranker) -> Result<SearchResponse> {
        let started = Instant::now();
        let Retrieved { searcher, language, terms, top, total, facets, second, first, engagement } =
            self.retrieve(request, ranker)?;

        let mut hits = Vec::with_capacity(top.len());
        let mut signals: Option<(u32, SegmentSignals)> = None;
        for hit in top {
            let product = self.load(&searcher, hit.address)?;
            let highlight = request.highlight.then(|| self.highlight(&product, &terms));
            let explain = if request.explain {
                let segment = hit.address.segment_ord;
                let seg = match &signals {
                    Some((ord, s)) if *ord == segment => s,
                    _ => {
                        let opened = self.segment_signals_with(&searcher, segment, true, engagement.as_ref())?;
                        &signals.insert((segment, opened)).1
                    }
                };
                let features = seg.rank_features(hit.address.doc_id, text_of(&*first, hit.phase1, seg, hit.address));
                Some(Explanation {
                    phase1: Phase1Explanation { score: hit.phase1, components: first.explain(&features) },
                    phase2: second.as_ref().zip(hit.features.as_ref()).map(|(model, f)| Phase2Explanation {
                        model_version: model.version().to_string(),
                        score: hit.score,
                        features: model.contributions(f),
                    }),
                })
            } else {
                None
            };
            hits.push(SearchHit { score: hit.score, product, highlight, explain });
        }
        let total_pages = usize::try_from(total).unwrap_or(usize::MAX).div_ceil(request.per_page);
        Ok(SearchResponse {
            query: request.q.clone(),
            query_language: language.code().to_string(),
            total_hits: total,
            page: request.page,
            per_page: request.per_page,
            total_pages,
            hits,
            facets,
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// The ids of the top hits only, read from the id fast field: the retrieval and ranking cost
    /// without document loading (what `searchd eval` measures).
    pub fn search_ids(&self, request: &SearchRequest, ranker: &Ranker) -> Result<Vec<ScoredId>> {
        let Retrieved { searcher, top, .. } = self.retrieve(request, ranker)?;
        let ids = self.ids(&searcher, top.iter().map(|hit| hit.address))?;
        Ok(top.iter().zip(ids).filter_map(|(hit, id)| Some(ScoredId { id: id?, score: hit.score })).collect())
    }

    /// Each address's id, reading each segment's id table once.
    fn ids(&self, searcher: &Searcher, addresses: impl Iterator<Item = DocAddress>) -> Result<Vec<Option<String>>> {
        let mut tables: HashMap<u32, Arc<IdTable>> = HashMap::new();
        addresses
            .map(|address| {
                let table = match tables.entry(address.segment_ord) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(self.id_table(searcher, address.segment_ord)?)
                    }
                };
                Ok(table.get(address.doc_id).map(str::to_string))
            })
            .collect()
    }

    /// The phase-1 top `ranker.window` of a search with each hit's phase-2 features: what the
    /// re-ranker sees, for training it. Phase 1 searches `expansions` too when given (those of
    /// the model being trained; the ranker's own model is not used).
    pub fn candidates(
        &self,
        request: &SearchRequest,
        ranker: &Ranker,
        expansions: Option<&Expansions>,
    ) -> Result<Vec<Candidate>> {
        let Planned { searcher, terms, query, engagement, .. } = self.plan(request, expansions)?;
        let (top, _, _) =
            self.collect(&searcher, request, query.as_ref(), &ranker.first, 0, ranker.window, engagement.clone())?;
        let features = self.features(&searcher, &request.q, &terms, &top, ranker, expansions, engagement.as_ref())?;
        let ids = self.ids(&searcher, top.iter().map(|(_, address)| *address))?;
        Ok(top
            .into_iter()
            .zip(features)
            .zip(ids)
            .filter_map(|(((phase1, _), features), id)| Some(Candidate { id: id?, phase1, features }))
            .collect())
    }

    /// The doc → id table of a segment, built once (segments are immutable) from the id
    /// column's dictionary in one sequential pass. Looking ids up one by one in the dictionary
    /// decodes a block per hit, which cost more than the search itself.
    pub(crate) fn id_table(&self, searcher: &Searcher, segment_ord: u32) -> Result<Arc<IdTable>> {
        let segment = searcher.segment_reader(segment_ord);
        let key = segment.segment_id();
        let mut tables = self.id_tables.lock().map_err(|_| crate::Error::Internal("id table lock poisoned".into()))?;
        if let Some(table) = tables.get(&key) {
            return Ok(table.clone());
        }
        let column = segment
            .fast_fields()
            .str(schema::ID)?
            .ok_or_else(|| crate::Error::Internal("id is not a fast field".into()))?;
        let mut terms: Vec<Box<str>> = Vec::with_capacity(column.dictionary().num_terms());
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            terms.push(String::from_utf8_lossy(stream.key()).into());
        }
        let ords = (0..segment.max_doc())
            .map(|doc| column.term_ords(doc).next().map_or(u32::MAX, |o| u32::try_from(o).unwrap_or(u32::MAX)))
            .collect();
        let table = Arc::new(IdTable { terms, ords });
        let live: std::collections::HashSet<_> = searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
        tables.retain(|id, _| live.contains(id));
        tables.insert(key, table.clone());
        Ok(table)
    }

    /// Validation, query language and words, query building and collection: what every search
    /// does before it turns hits into results.
    fn retrieve(&self, request: &SearchRequest, ranker: &Ranker) -> Result<Retrieved> {
        let expansions = expansions_of(request, ranker);
        let Planned { searcher, language, terms, query, engagement } = self.plan(request, expansions)?;
        let first = match request.ranking {
            RankingMode::Default | RankingMode::Phase1 => ranker.first.clone(),
            RankingMode::Bm25 => Arc::new(searchd_catalog::TextOnlyScorer) as Arc<dyn FirstPhaseScorer>,
        };
        let second = match (request.ranking, request.sort) {
            (RankingMode::Default, SortBy::Relevance) if ranker.window > 0 => ranker.second.clone(),
            _ => None,
        };
        let (offset, limit) = match &second {
            Some(_) => (0, ranker.window.max(request.offset() + request.per_page)),
            None => (request.offset(), request.per_page),
        };
        let (top, total, facets) =
            self.collect(&searcher, request, query.as_ref(), &first, offset, limit, engagement.clone())?;
        let top = match &second {
            None => top
                .into_iter()
                .map(|(score, address)| Ranked { score, phase1: score, address, features: None })
                .collect(),
            Some(model) => {
                let window = ranker.window.min(top.len());
                let features = self.features(
                    &searcher,
                    &request.q,
                    &terms,
                    &top[..window],
                    ranker,
                    expansions,
                    engagement.as_ref(),
                )?;
                let mut ranked: Vec<Ranked> = top[..window]
                    .iter()
                    .zip(features)
                    .map(|(&(phase1, address), f)| Ranked {
                        score: model.score(&f),
                        phase1,
                        address,
                        features: Some(f),
                    })
                    .collect();
                // Stable: equal model scores keep their phase-1 order.
                ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
                ranked.extend(top[window..].iter().map(|&(score, address)| Ranked {
                    score,
                    phase1: score,
                    address,
                    features: None,
                }));
                ranked.into_iter().skip(request.offset()).take(request.per_page).collect()
            }
        };
        Ok(Retrieved { searcher, language, terms, top, total, facets, second, first, engagement })
    }

    /// What every search does before collecting: validation, the query's language and words,
    /// the Tantivy query (with the learned `expansions`, when given), and the engagement columns
    /// of this searcher's segments.
    fn plan(&self, request: &SearchRequest, expansions: Option<&Expansions>) -> Result<Planned> {
        request.validate()?;
        if let Some(code) = request.lang.as_deref() {
            if Language::from_code(code).is_none() {
                return Err(searchd_catalog::Error::invalid("lang", format!("unknown language `{code}`")).into());
            }
        }
        let language = self.analyzer.query_language(request.lang.as_deref(), &request.q);
        let terms = self.analyzer.query_terms(&request.q, language);
        let searcher = self.searcher();
        let query = self.build_query(&searcher, request, &terms, expansions);
        let engagement = self.engagement_columns(&searcher)?;
        Ok(Planned { searcher, language, terms, query, engagement })
    }

    #[expect(clippy::type_complexity, reason = "private plumbing of collector fruits")]
    #[expect(clippy::too_many_arguments, reason = "private plumbing")]
    fn collect(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        query: &dyn Query,
        scorer: &Arc<dyn FirstPhaseScorer>,
        offset: usize,
        limit: usize,
        engagement: Option<Arc<EngagementColumns>>,
    ) -> Result<(Vec<(Score, DocAddress)>, u64, BTreeMap<String, Vec<FacetCount>>)> {
        let scorer = scorer.clone();
        let sort = request.sort;
        let top = TopDocs::with_limit(limit).and_offset(offset).tweak_score(move |segment: &SegmentReader| {
            let column = engagement.as_ref().and_then(|e| e.get(&segment.segment_id()).cloned());
            sort_key_fn(segment, sort, scorer.clone(), column)
        });

        // A facet whose field holds no value in any segment counts to an empty list: skip its
        // collector, which would otherwise visit every matching document.
        let has_values = |field: tantivy::schema::Field| {
            searcher
                .segment_readers()
                .iter()
                .any(|s| s.inverted_index(field).is_ok_and(|index| index.terms().num_terms() > 0))
        };
        let category_root = request.filters.category_segments().map_or_else(Facet::root, Facet::from_path);
        let facet_collector = |field: FacetField| -> Option<FacetCollector> {
            if !request.facets.contains(&field) {
                return None;
            }
            let indexed = match field {
                FacetField::Brand => self.fields.brand,
                FacetField::Category => self.fields.category,
            };
            if !has_values(indexed) {
                return None;
            }
            let (name, root) = match field {
                FacetField::Brand => ("brand", Facet::root()),
                FacetField::Category => ("category", category_root.clone()),
            };
            let mut collector = FacetCollector::for_field(name);
            collector.add_facet(root);
            Some(collector)
        };
        let brand = facet_collector(FacetField::Brand);
        let category = facet_collector(FacetField::Category);
        let (top, total, brand, category) = searcher.search(query, &(top, Count, brand, category))?;

        let mut facets = BTreeMap::new();
        for field in &request.facets {
            facets.insert(field.as_str().to_string(), Vec::new());
        }
        if let Some(counts) = brand {
            facets.insert("brand".to_string(), facet_values(&counts, &Facet::root()));
        }
        if let Some(counts) = category {
            facets.insert("category".to_string(), facet_values(&counts, &category_root));
        }
        let top = top.into_iter().map(|((_, score), address)| (score, address)).collect();
        Ok((top, total as u64, facets))
    }

    fn build_query(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        terms: &[QueryTerm],
        expansions: Option<&Expansions>,
    ) -> Box<dyn Query> {
        let f = &self.fields;
        let terms = &terms[..terms.len().min(MAX_QUERY_TERMS)];
        let text: Box<dyn Query> = if terms.is_empty() {
            if request.q.trim().is_empty() { Box::new(AllQuery) } else { Box::new(EmptyQuery) }
        } else {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .map(|t| match request.ranking {
                    RankingMode::Bm25 => (Occur::Should, self.bm25_term_query(t)),
                    RankingMode::Default | RankingMode::Phase1 => (Occur::Should, self.term_query(searcher, t)),
                })
                .collect();
            // A word naming the product's type ("tubs" → "… Soaking Tub in White") counts on top
            // of its title match: the product is what was asked for, not an accessory of it.
            if request.ranking != RankingMode::Bm25 {
                for t in terms {
                    clauses.push((
                        Occur::Should,
                        Box::new(ConstScoreQuery::new(term(self.fields.title_head, &t.stem), weights::HEAD)),
                    ));
                }
            }
            // Title words the model learned for a query word ("fridge" → "refrigerator"), each
            // weighted by how reliably it came with the word.
            if let Some(expansions) = expansions {
                for (_, stem, weight) in expanded(terms, expansions) {
                    clauses.push((
                        Occur::Should,
                        boosted(term(self.fields.title_stem, stem), weights::EXPANSION * weight),
                    ));
                }
            }
            // Two adjacent words may be one word in titles ("eco stone" → "EcoStone", "screw
            // driver" → "Screwdriver"), as Meilisearch's query graph tries word concatenations.
            if request.ranking != RankingMode::Bm25 {
                for pair in terms.windows(2) {
                    let joined = format!("{}{}", pair[0].exact, pair[1].exact);
                    clauses.push((Occur::Should, boosted(term(self.fields.title_exact, &joined), weights::JOINED)));
                }
            }
            Box::new(BooleanQuery::new(clauses))
        };

        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        let fl = &request.filters;
        if !fl.brand.is_empty() {
            let any =
                fl.brand.iter().map(|b| (Occur::Should, facet_term(f.brand, Facet::from_path([b.trim()])))).collect();
            filters.push(Box::new(BooleanQuery::new(any)));
        }
        if let Some(segments) = fl.category_segments() {
            filters.push(facet_term(f.category, Facet::from_path(segments)));
        }
        if fl.price_min.is_some() || fl.price_max.is_some() {
            let bound =
                |v: Option<f64>| v.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_f64(f.price, v)));
            filters.push(Box::new(RangeQuery::new(bound(fl.price_min), bound(fl.price_max))));
        }
        if let Some(min) = fl.min_rating {
            filters.push(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_f64(f.rating, min)),
                Bound::Unbounded,
            )));
        }
        if let Some(in_stock) = fl.in_stock {
            filters
                .push(Box::new(TermQuery::new(Term::from_field_bool(f.in_stock, in_stock), IndexRecordOption::Basic)));
        }
        if filters.is_empty() {
            return text;
        }
        let mut clauses = vec![(Occur::Must, text)];
        clauses.extend(
            filters.into_iter().map(|q| (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>)),
        );
        Box::new(BooleanQuery::new(clauses))
    }

    /// One query word in the default ranking: the best of its exact, stemmed and typo matches
    /// over the weighted fields (DisMax), so an exact match outranks a stemmed one, which
    /// outranks a typo.
    fn term_query(&self, searcher: &Searcher, t: &QueryTerm) -> Box<dyn Query> {
        use weights::*;
        let f = &self.fields;
        let mut parts: Vec<Box<dyn Query>> = vec![
            boosted(term(f.title_exact, &t.exact), TITLE),
            boosted(term(f.title_stem, &t.stem), TITLE * STEMMED),
            boosted(term(f.brand_text, &t.exact), BRAND),
            boosted(term(f.category_stem, &t.stem), CATEGORY),
            boosted(term(f.description_exact, &t.exact), DESCRIPTION),
            boosted(term(f.description_stem, &t.stem), DESCRIPTION * STEMMED),
        ];
        let typos = t.allowed_typos();
        if typos > 0 && self.is_rare(searcher, t) {
            let fuzzy = FuzzyTermQuery::new(Term::from_field_text(f.title_exact, &t.exact), typos, true);
            parts.push(boosted(Box::new(fuzzy), TYPO));
            let fuzzy = FuzzyTermQuery::new(Term::from_field_text(f.brand_text, &t.exact), typos, true);
            parts.push(boosted(Box::new(fuzzy), TYPO));
        }
        Box::new(DisjunctionMaxQuery::with_tie_breaker(parts, TIE))
    }

    /// Whether a word is rare enough in titles and brands to be a likely typo. Only such words
    /// are expanded to their typo neighbours, as Typesense expands typos only while exact results
    /// are scarce: a word found in many products is what the user meant, and expanding it costs a
    /// walk of the term dictionary and adds noise ("drill" → "frill").
    pub(crate) fn is_rare(&self, searcher: &Searcher, t: &QueryTerm) -> bool {
        let f = &self.fields;
        let df = |field, text: &str| searcher.doc_freq(&Term::from_field_text(field, text)).unwrap_or(0);
        let known = df(f.title_exact, &t.exact).max(df(f.title_stem, &t.stem)).max(df(f.brand_text, &t.exact));
        known < TYPO_MAX_DOC_FREQ
    }

    /// One query word in plain BM25: its stem in each text field, summed, no weights.
    fn bm25_term_query(&self, t: &QueryTerm) -> Box<dyn Query> {
        let f = &self.fields;
        let parts = [f.title_stem, f.description_stem, f.category_stem]
            .into_iter()
            .map(|field| (Occur::Should, term(field, &t.stem)))
            .chain(std::iter::once((Occur::Should, term(f.brand_text, &t.exact))))
            .collect();
        Box::new(BooleanQuery::new(parts))
    }

    /// Marks the words of title and description that match a query word exactly, by stem (in
    /// the product's language) or within its typo budget. Output is HTML-escaped.
    pub(crate) fn highlight(&self, product: &searchd_catalog::Product, terms: &[QueryTerm]) -> Highlight {
        let language =
            product.language.as_deref().and_then(Language::from_code).unwrap_or(self.analyzer.default_language());
        let is_match = |word: &str| {
            let exact = fold(word);
            let stem = language.stemmed_form(word);
            terms.iter().any(|t| {
                t.exact == exact
                    || t.stem == stem
                    || (t.allowed_typos() > 0 && bounded_distance(&t.exact, &exact, t.allowed_typos()).is_some())
            })
        };
        let title = mark(&product.title, &is_match, None);
        let description = (!product.description.is_empty())
            .then(|| {
                let first = tokenize(&product.description).find(|t| is_match(t.text))?;
                Some(mark(&product.description, &is_match, Some(first.start)))
            })
            .flatten();
        Highlight { title, description }
    }
}

/// Sort key per document: (primary, relevance). Tantivy keeps the largest keys.
fn sort_key_fn(
    segment: &SegmentReader,
    sort: SortBy,
    scorer: Arc<dyn FirstPhaseScorer>,
    engagement: Option<Arc<[f32]>>,
) -> impl Fn(tantivy::DocId, Score) -> (f64, Score) + 'static + use<> {
    let uses_signals = scorer.uses_signals();
    let signals = SegmentSignals::open(segment, uses_signals || sort != SortBy::Relevance, engagement);
    move |doc, text| {
        let score = if uses_signals { scorer.score(&signals.rank_features(doc, text)) } else { text };
        let primary = match sort {
            SortBy::Relevance => f64::from(score),
            // Missing values sort last in both directions.
            SortBy::PriceAsc => signals.price.get(doc).map_or(f64::NEG_INFINITY, |p| -p),
            SortBy::PriceDesc => signals.price.get(doc).unwrap_or(f64::NEG_INFINITY),
            SortBy::Rating => signals.rating.get(doc).unwrap_or(f64::NEG_INFINITY),
            SortBy::Newest => signals.updated.get(doc).map_or(f64::NEG_INFINITY, |t| t as f64),
        };
        (primary, score)
    }
}

/// The text relevance behind a phase-1 score: the collector does not keep it, so explain
/// inverts the scorer (text-only scorers pass it through; the default scorer multiplies it by
/// the signals' factor, or ranks by signals alone when nothing matched by text).
fn text_of(first: &dyn FirstPhaseScorer, phase1: Score, seg: &SegmentSignals, address: DocAddress) -> Score {
    if !first.uses_signals() {
        return phase1;
    }
    let unit = first.score(&seg.rank_features(address.doc_id, 1.0));
    if unit > 0.0 { phase1 / unit } else { phase1 }
}

/// Engagement (event popularity) per segment, aligned with doc ids.
pub(crate) type EngagementColumns = HashMap<SegmentId, Arc<[f32]>>;

/// The business signals of one segment as phase 1 and phase 2 read them from fast fields.
pub(crate) struct SegmentSignals {
    popularity: Signal<f64>,
    rating: Signal<f64>,
    price: Signal<f64>,
    reviews: Signal<u64>,
    in_stock: Signal<bool>,
    updated: Signal<i64>,
    engagement: Option<Arc<[f32]>>,
    now: i64,
}

impl SegmentSignals {
    /// With `read` false, every signal reads as absent (text-only ranking skips the columns).
    fn open(segment: &SegmentReader, read: bool, engagement: Option<Arc<[f32]>>) -> Self {
        let ff = segment.fast_fields();
        let f64_col = |name: &str| Signal::of(if read { ff.f64(name).ok() } else { None });
        Self {
            popularity: f64_col(schema::POPULARITY),
            rating: f64_col(schema::RATING),
            price: f64_col(schema::PRICE),
            reviews: Signal::of(if read { ff.u64(schema::REVIEW_COUNT).ok() } else { None }),
            in_stock: Signal::of(if read { ff.bool(schema::IN_STOCK).ok() } else { None }),
            updated: Signal::of(if read { ff.i64(schema::UPDATED_AT).ok() } else { None }),
            engagement: if read { engagement } else { None },
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    #[inline]
    pub(crate) fn rank_features(&self, doc: tantivy::DocId, text: Score) -> RankFeatures {
        RankFeatures {
            text,
            popularity: self.popularity.get(doc).unwrap_or(0.0),
            engagement: self.engagement.as_ref().and_then(|e| e.get(doc as usize)).map_or(0.0, |v| f64::from(*v)),
            rating: self.rating.get(doc),
            review_count: self.reviews.get(doc).unwrap_or(0),
            in_stock: self.in_stock.get(doc).unwrap_or(true),
            age_days: self.updated.get(doc).map(|t| (self.now - t).max(0) as f64 / 86_400.0),
        }
    }
}

impl ProductIndex {
    /// The signals of one segment of `searcher`, with the given engagement columns.
    pub(crate) fn segment_signals_with(
        &self,
        searcher: &Searcher,
        segment_ord: u32,
        read: bool,
        columns: Option<&Arc<EngagementColumns>>,
    ) -> Result<SegmentSignals> {
        let segment = searcher.segment_reader(segment_ord);
        let column = columns.and_then(|c| c.get(&segment.segment_id()).cloned());
        Ok(SegmentSignals::open(segment, read, column))
    }

    /// Replaces the engagement (time-decayed event popularity) of every product: products absent
    /// from `values` get 0. Tantivy segments are immutable, so this is not written into them:
    /// each segment gets a column aligned with its doc ids, built from its id column on the
    /// next search (segments the index adds later get theirs when first searched). Phase 1 and
    /// phase 2 read it like a fast field; no document is re-indexed and no version changes.
    pub fn set_engagement(&self, values: HashMap<String, f32>) -> Result<()> {
        let mut state =
            self.engagement.lock().map_err(|_| crate::Error::Internal("engagement lock poisoned".into()))?;
        let digest = values.iter().fold(0, |d, (id, v)| d ^ crate::index::entry_digest(id, u64::from(v.to_bits())));
        state.values = Arc::new(values);
        state.columns = Arc::new(HashMap::new());
        // After the values: a search that read the new digest sees the new values.
        self.set_engagement_digest(digest);
        Ok(())
    }

    /// The engagement columns of the searcher's segments, building the missing ones; `None`
    /// when no product has engagement.
    pub(crate) fn engagement_columns(&self, searcher: &Searcher) -> Result<Option<Arc<EngagementColumns>>> {
        let mut state =
            self.engagement.lock().map_err(|_| crate::Error::Internal("engagement lock poisoned".into()))?;
        if state.values.is_empty() {
            return Ok(None);
        }
        let readers = searcher.segment_readers();
        if readers.iter().all(|s| state.columns.contains_key(&s.segment_id())) {
            return Ok(Some(state.columns.clone()));
        }
        let mut columns: EngagementColumns = HashMap::with_capacity(readers.len());
        for (ord, segment) in readers.iter().enumerate() {
            let key = segment.segment_id();
            if let Some(column) = state.columns.get(&key) {
                columns.insert(key, column.clone());
                continue;
            }
            let table = self.id_table(searcher, ord as u32)?;
            let by_ord: Vec<f32> =
                table.terms.iter().map(|id| state.values.get(&**id).copied().unwrap_or(0.0)).collect();
            let column: Arc<[f32]> =
                table.ords.iter().map(|&o| by_ord.get(o as usize).copied().unwrap_or(0.0)).collect();
            columns.insert(key, column);
        }
        state.columns = Arc::new(columns);
        Ok(Some(state.columns.clone()))
    }
}

/// Products' engagement and the columns built from it.
#[derive(Debug, Default)]
pub(crate) struct Engagement {
    values: Arc<HashMap<String, f32>>,
    columns: Arc<EngagementColumns>,
}

/// A fast field as phase 1 reads it. Columns without values, or with one value for every
/// document of the segment, are folded so no per-document read is made.
enum Signal<T> {
    Absent,
    Constant(T),
    Column(tantivy::columnar::Column<T>),
}

impl<T: Copy + PartialOrd + std::fmt::Debug + Send + Sync + 'static> Signal<T> {
    fn of(column: Option<tantivy::columnar::Column<T>>) -> Self {
        let Some(column) = column else { return Signal::Absent };
        if column.values.num_vals() == 0 {
            return Signal::Absent;
        }
        if column.get_cardinality() == tantivy::columnar::Cardinality::Full && column.min_value() == column.max_value()
        {
            return Signal::Constant(column.min_value());
        }
        Signal::Column(column)
    }

    #[inline]
    fn get(&self, doc: tantivy::DocId) -> Option<T> {
        match self {
            Signal::Absent => None,
            Signal::Constant(v) => Some(*v),
            Signal::Column(c) => c.first(doc),
        }
    }
}

/// A scored term query (term frequencies for BM25).
fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

fn facet_term(field: tantivy::schema::Field, facet: Facet) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_facet(field, &facet), IndexRecordOption::Basic))
}

fn facet_values(counts: &tantivy::collector::FacetCounts, root: &Facet) -> Vec<FacetCount> {
    let mut values: Vec<FacetCount> = counts
        .get(root.clone())
        .map(|(facet, count)| FacetCount {
            value: facet.to_path().last().map(|s| (*s).to_string()).unwrap_or_default(),
            count,
        })
        .collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(FACET_VALUES);
    values
}

/// Wraps matching words in `<em>`, escaping the rest; with `around`, cuts a snippet of about
/// [`SNIPPET_CHARS`] characters starting shortly before that byte offset.
fn mark(text: &str, is_match: &dyn Fn(&str) -> bool, around: Option<usize>) -> String {
    let (start, end) = match around {
        None => (0, text.len()),
        Some(at) => {
            let before = text[..at].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
            let start = text[..before]
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(before, |(i, c)| i + c.len_utf8())
                .min(at);
            let start = if at - start > 200 { before } else { start };
            let end = text[start..].char_indices().nth(SNIPPET_CHARS).map_or(text.len(), |(i, _)| start + i);
            let end = text[end..].find(char::is_whitespace).map_or(text.len(), |i| end + i);
            (start, end)
        }
    };
    let slice = &text[start..end];
    let mut out = String::with_capacity(slice.len() + 16);
    if start > 0 {
        out.push('…');
    }
    let mut last = 0;
    for token in tokenize(slice) {
        if is_match(token.text) {
            escape_html_into(&slice[last..token.start], &mut out);
            out.push_str("<em>");
            escape_html_into(token.text, &mut out);
            out.push_str("</em>");
            last = token.end;
        }
    }
    escape_html_into(&slice[last..], &mut out);
    if end < text.len() {
        out.push('…');
    }
    out
}

/// The learned expansions a search uses: the served model's, in the default ranking only
/// (`phase1` and `bm25` are without the model).
fn expansions_of<'a>(request: &SearchRequest, ranker: &'a Ranker) -> Option<&'a Expansions> {
    match request.ranking {
        RankingMode::Default => ranker.second.as_deref().and_then(|m| m.expansions()),
        RankingMode::Phase1 | RankingMode::Bm25 => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_escapes() {
        let m = mark("Drill <b>& bits</b>", &|w| w == "Drill" || w == "bits", None);
        assert_eq!(m, "<em>Drill</em> &lt;b&gt;&amp; <em>bits</em>&lt;/b&gt;");
    }

    proptest::proptest! {
        #[test]
        fn marking_never_panics_and_keeps_the_words(text in "\\PC{0,300}", pick in 0usize..50) {
            let words: Vec<_> = tokenize(&text).collect();
            let target = words.get(pick % words.len().max(1)).map(|t| t.text.to_string());
            let is_match = |w: &str| Some(w) == target.as_deref();
            let around = words.get(pick % words.len().max(1)).map(|t| t.start);
            let marked = mark(&text, &is_match, around);
            if let Some(word) = &target {
                let escaped = {
                    let mut e = String::new();
                    escape_html_into(word, &mut e);
                    e
                };
                let needle = format!("<em>{escaped}</em>");
                proptest::prop_assert!(marked.contains(&needle), "{} not in {}", needle, marked);
            }
            let _ = mark(&text, &is_match, None);
        }
    }

    /// A snippet starting after a multi-byte space (U+3000) sliced inside the character.
    #[test]
    fn snippet_start_after_ideographic_space_is_a_char_boundary() {
        let text = format!("{}needle tail", "語\u{3000}".repeat(60));
        let at = text.find("needle").unwrap();
        let m = mark(&text, &|w| w == "needle", Some(at));
        assert!(m.contains("<em>needle</em>"), "{m}");
    }

    #[test]
    fn snippet_is_cut_around_the_match() {
        let text = format!("{} needle {}", "word ".repeat(100), "tail ".repeat(100));
        let at = text.find("needle").unwrap();
        let m = mark(&text, &|w| w == "needle", Some(at));
        assert!(m.starts_with('…') && m.ends_with('…'), "{m}");
        assert!(m.contains("<em>needle</em>"));
        assert!(m.chars().count() < 260, "{}", m.chars().count());
    }
}
