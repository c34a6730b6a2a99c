//! Product retrieval, one step a module: [`query`] builds the Tantivy query (weighted fields,
//! typos, joined words, expansions, filters), [`collect`] runs phase 1 inside the collector and
//! counts facets, [`rerank`] applies the learned phase 2 to the window with the [`features`] it
//! reads from postings, and [`highlight`] marks the matches; [`engagement`] keeps the
//! per-segment id tables and engagement columns they share; [`factors`] keeps phase 1's signal
//! factor per product and [`automata`] the prefix and typo matches per segment; [`words`] is the
//! words' query, scored in one pass. This file strings them together.

mod automata;
pub(crate) use automata::KeptMatches;
pub(crate) use synonyms::KeptSynonyms;
pub(crate) use words::KeptWeights;
mod collect;
mod correct;
pub use correct::QueryCounts;
mod distinct;
mod engagement;
pub(crate) use engagement::keep_live;
mod factors;
pub(crate) use factors::KeptFactors;
mod facets;
mod features;
pub(crate) mod filter;
mod gate;
mod highlight;
mod lexicon;
mod near;
mod preview;
pub use preview::Preview;
use preview::Under;
mod query;
mod rerank;
mod rules;
pub(crate) use rules::{KeptBoostSets, KeptRules};
mod signals;
mod sort;
mod stop_words;
pub(crate) use stop_words::KeptStopWords;
mod synonyms;
mod tenant;
mod words;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use searchd_catalog::filter::Resolved;
use searchd_catalog::{
    Expansions, Explanation, FeatureVector, FirstPhaseScorer, Phase1Explanation, Phase2Explanation, Ranker,
    RankingMode, SearchHit, SearchRequest, SearchResponse, SecondPhase, TextWeights,
};
use tantivy::query::Query;
use tantivy::{DocAddress, Searcher};

use crate::analysis::{Language, QueryTerm};
use crate::columns::{EngagementColumns, IdTable, SegmentSignals};
use crate::settings::Served;
use crate::{ProductIndex, Result};
use collect::text_of;
use lexicon::Lexicon;
use rerank::Ranked;
use synonyms::Alternative;

/// What [`ProductIndex::retrieve`] found.
struct Retrieved {
    searcher: Searcher,
    language: Language,
    terms: Vec<QueryTerm>,
    /// The requested page, in final order.
    top: Vec<Ranked>,
    total: u64,
    facets: facets::FacetResults,
    /// The model that re-ranked the window, when one did.
    second: Option<Arc<dyn SecondPhase>>,
    /// The phase-1 scorer the search used.
    first: Arc<dyn FirstPhaseScorer>,
    engagement: Option<Arc<EngagementColumns>>,
    /// The query words' declared synonyms.
    alternatives: Vec<Alternative>,
    /// The settings' custom signals, when phase 1 used them.
    custom: Option<signals::CustomSignals>,
    /// What the merchandising rules did.
    effects: rules::Effects,
    /// The rules' boosts and buries.
    boosts: Option<Arc<rules::Boosts>>,
    /// Per hit of `top`: the position and rule that pinned it.
    pins: Vec<Option<(usize, String)>>,
}

/// A search ready to collect.
struct Planned {
    searcher: Searcher,
    language: Language,
    terms: Vec<QueryTerm>,
    /// The words' query with the tenant's filter, without the request's filters.
    text: Box<dyn Query>,
    /// The filters, every one of which must hold.
    clauses: Vec<Resolved>,
    /// The words' query with the filters.
    query: Box<dyn Query>,
    engagement: Option<Arc<EngagementColumns>>,
    /// The settings the searcher's commit is complete for.
    served: Arc<Served>,
    /// The search's term look-ups.
    lexicon: Arc<Lexicon>,
    /// The query words' declared synonyms.
    alternatives: Vec<Alternative>,
    /// The tenant's filter.
    tenant: Option<Resolved>,
    /// What the merchandising rules holding for the search do.
    effects: rules::Effects,
    /// The documents with a serving offer (with `near`).
    near: Option<Arc<crate::offers::near::NearDocs>>,
}

/// What a search runs under besides its request: candidate settings instead of the served
/// ones, and the offers serving the shopper's point (with `near`).
#[derive(Clone, Copy, Default)]
pub(crate) struct Scope<'a> {
    preview: Option<Under<'a>>,
    near: Option<&'a crate::NearOffers>,
}

impl<'a> Scope<'a> {
    fn preview(under: Under<'a>) -> Self {
        Self { preview: Some(under), near: None }
    }
}

/// A phase-1 hit with its phase-2 features.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The product.
    pub id: String,
    /// Its phase-1 score.
    pub phase1: f32,
    /// Its phase-2 features.
    pub features: FeatureVector,
}

/// A hit without its document: what evaluation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredId {
    /// The product.
    pub id: String,
    /// Its final score.
    pub score: f32,
}

impl ProductIndex {
    /// Runs a validated search: retrieval, phase-1 scoring in the collector, facets, page of hits.
    pub fn search(&self, request: &SearchRequest, ranker: &Ranker) -> Result<SearchResponse> {
        self.search_under(request, ranker, Scope::default())
    }

    /// [`Self::search`] of a request with `near`: only the products `offers` has, with their
    /// best serving offer on each hit.
    pub fn search_near(
        &self,
        request: &SearchRequest,
        ranker: &Ranker,
        offers: &crate::NearOffers,
    ) -> Result<SearchResponse> {
        self.search_under(request, ranker, Scope { preview: None, near: Some(offers) })
    }

    /// [`Self::search_ids`] of a request with `near` (see [`Self::search_near`]).
    pub fn search_ids_near(
        &self,
        request: &SearchRequest,
        ranker: &Ranker,
        offers: &crate::NearOffers,
    ) -> Result<Vec<ScoredId>> {
        self.search_ids_under(request, ranker, Scope { preview: None, near: Some(offers) })
    }

    /// [`Self::search`] under the served settings, or those of a preview: the corrected query's
    /// when a word is misspelt (see [`correct`]).
    fn search_under(&self, request: &SearchRequest, ranker: &Ranker, scope: Scope<'_>) -> Result<SearchResponse> {
        let started = Instant::now();
        let (corrected, did_you_mean) = self.corrected(request, scope.preview)?;
        let mut response = self.search_as_asked(corrected.as_ref().unwrap_or(request), ranker, scope)?;
        response.query = request.q.clone();
        response.did_you_mean = did_you_mean;
        response.took_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(response)
    }

    /// The corrected query a search of `request` would suggest ("did you mean"), under the
    /// served settings.
    pub fn did_you_mean(&self, request: &SearchRequest) -> Result<Option<String>> {
        Ok(self.corrected(request, None)?.1.map(|d| d.query))
    }

    /// The request a search runs — with the corrected query when a word is misspelt and
    /// `correct` is on — and the correction. Plain BM25 is never corrected.
    fn corrected(
        &self,
        request: &SearchRequest,
        preview: Option<Under<'_>>,
    ) -> Result<(Option<SearchRequest>, Option<searchd_catalog::DidYouMean>)> {
        if request.ranking == RankingMode::Bm25 || request.q.trim().is_empty() {
            return Ok((None, None));
        }
        let (searcher, served) = self.view();
        let (served, synonyms) = match preview {
            None => (served, &self.synonyms),
            Some(under) => (under.served(&served)?, under.synonyms),
        };
        let table = synonyms.table(served.settings.version, &served.settings.synonyms, &self.analyzer);
        let Some(query) = self.correction(&searcher, request, table.as_deref()) else { return Ok((None, None)) };
        let applied = request.correct;
        let rewritten = applied.then(|| SearchRequest { q: query.clone(), ..request.clone() });
        Ok((rewritten, Some(searchd_catalog::DidYouMean { query, applied })))
    }

    /// A search of the request as given.
    fn search_as_asked(&self, request: &SearchRequest, ranker: &Ranker, scope: Scope<'_>) -> Result<SearchResponse> {
        let started = Instant::now();
        let Retrieved {
            searcher,
            language,
            terms,
            top,
            total,
            facets,
            second,
            first,
            engagement,
            alternatives,
            custom,
            effects,
            boosts,
            pins,
        } = self.retrieve(request, ranker, scope)?;

        let mut hits = Vec::with_capacity(top.len());
        let mut signals: Option<(u32, SegmentSignals)> = None;
        let prefix = query::prefix_word(request, &terms);
        for (hit, pin) in top.into_iter().zip(pins) {
            let product = self.load(&searcher, hit.address)?;
            let highlight = request.highlight.then(|| self.highlight(&product, &terms));
            let explain = if request.explain {
                let segment = hit.address.segment_ord;
                let seg = match &signals {
                    Some((ord, s)) if *ord == segment => s,
                    _ => {
                        let opened = self.segment_signals_with(&searcher, segment, engagement.as_ref())?;
                        &signals.insert((segment, opened)).1
                    }
                };
                let reader = searcher.segment_reader(segment);
                let own = custom.as_ref().map(|c| c.open(reader));
                let doc = hit.address.doc_id;
                let boosted = boosts.as_ref().map_or(1.0, |b| b.factor(reader.segment_id(), doc));
                let distance = scope.near.and_then(|n| n.distance_at(reader.segment_id(), doc));
                let near = distance.map_or(1.0, searchd_catalog::near::near_factor);
                let factor = own.as_ref().map_or(1.0, |c| c.factor(doc)) * f64::from(boosted) * near;
                let features = seg.rank_features(doc, text_of(&*first, hit.phase1, seg, hit.address, factor));
                let mut components = first.explain(&features);
                components.extend(own.map(|c| c.components(doc)).unwrap_or_default());
                components.extend(distance.map(|d| searchd_catalog::ScoreComponent {
                    name: "distance".into(),
                    value: d,
                    factor: near,
                }));
                let mut moved: Vec<searchd_catalog::RuleEffect> = pin
                    .map(|(position, rule)| searchd_catalog::RuleEffect {
                        rule,
                        action: "pin".into(),
                        position: Some(position),
                        factor: None,
                    })
                    .into_iter()
                    .collect();
                if let Some(boosts) = &boosts {
                    let effects = boosts.effects(reader.segment_id(), doc);
                    components.extend(effects.iter().map(|e| searchd_catalog::ScoreComponent {
                        name: format!("rule:{}", e.rule),
                        value: 1.0,
                        factor: e.factor.unwrap_or(1.0),
                    }));
                    moved.extend(effects);
                }
                Some(Explanation {
                    phase1: Phase1Explanation { score: hit.phase1, components },
                    phase2: second.as_ref().zip(hit.features.as_ref()).map(|(model, f)| Phase2Explanation {
                        model_version: model.version().to_string(),
                        score: hit.score,
                        features: model.contributions(f),
                    }),
                    words: self.word_matches(&product, &terms, prefix, &alternatives),
                    rules: moved,
                })
            } else {
                None
            };
            let segment = searcher.segment_reader(hit.address.segment_ord).segment_id();
            let offer = scope.near.map(|n| n.offer_at(segment, hit.address.doc_id)).transpose()?.flatten();
            hits.push(SearchHit { score: hit.score, product, highlight, explain, offer });
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
            facets: facets.values,
            facet_stats: facets.stats,
            facet_stats_by: facets.grouped,
            rules: effects.rules,
            redirect: effects.redirect,
            did_you_mean: None,
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// The ids of the top hits only, read from the id fast field: the retrieval and ranking cost
    /// without document loading (what `searchd eval` measures).
    pub fn search_ids(&self, request: &SearchRequest, ranker: &Ranker) -> Result<Vec<ScoredId>> {
        self.search_ids_under(request, ranker, Scope::default())
    }

    /// [`Self::search_ids`] under the served settings, or those of a preview.
    fn search_ids_under(&self, request: &SearchRequest, ranker: &Ranker, scope: Scope<'_>) -> Result<Vec<ScoredId>> {
        let (corrected, _) = self.corrected(request, scope.preview)?;
        let Retrieved { searcher, top, .. } = self.retrieve(corrected.as_ref().unwrap_or(request), ranker, scope)?;
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
        let Planned { searcher, terms, query, engagement, served, lexicon, alternatives, .. } =
            self.plan(request, expansions, &ranker.first.text_weights(), Scope::default())?;
        // Training sees the catalog as ranked, without the rules' boosts and pins.
        let custom = signals::CustomSignals::of(&served);
        let collect::Collected { top, .. } = self.collect(
            &searcher,
            &served,
            request,
            query.as_ref(),
            &ranker.first,
            0,
            ranker.window,
            engagement.clone(),
            None,
            None,
            None,
            custom.as_ref(),
            &[],
            None,
        )?;
        let features = self.features(
            &searcher,
            &lexicon,
            &request.q,
            &terms,
            &alternatives,
            &top,
            ranker,
            expansions,
            engagement.as_ref(),
            custom.as_ref(),
            None,
        )?;
        let ids = self.ids(&searcher, top.iter().map(|(_, address)| *address))?;
        Ok(top
            .into_iter()
            .zip(features)
            .zip(ids)
            .filter_map(|(((phase1, _), features), id)| Some(Candidate { id: id?, phase1, features }))
            .collect())
    }

    /// Validation, query language and words, query building and collection: what every search
    /// does before it turns hits into results.
    fn retrieve(&self, request: &SearchRequest, ranker: &Ranker, scope: Scope<'_>) -> Result<Retrieved> {
        let expansions = expansions_of(request, ranker);
        let Planned {
            searcher,
            language,
            terms,
            text,
            clauses,
            query,
            engagement,
            served,
            lexicon,
            alternatives,
            tenant,
            effects,
            near,
        } = self.plan(request, expansions, &ranker.first.text_weights(), scope)?;
        // Near a shopper, `vendor` and `price` are counted from the offers.
        let (near_facets, rest) = scope.near.map(|_| near::NearFacets::split(request)).unwrap_or_default();
        let plan = self.facet_plan(rest.as_ref().unwrap_or(request), &clauses, &served)?;
        let first = match request.ranking {
            RankingMode::Default | RankingMode::Phase1 => ranker.first.clone(),
            RankingMode::Bm25 => Arc::new(searchd_catalog::TextOnlyScorer) as Arc<dyn FirstPhaseScorer>,
        };
        let second = match (request.ranking, &request.sort) {
            (RankingMode::Default, sort) if sort.is_relevance() && ranker.window > 0 => ranker.second.clone(),
            _ => None,
        };
        let boosts = self.boosts(&searcher, &effects, served.generation)?.map(Arc::new);
        // The custom signals, compiled once for phase 1, phase 2 and explain.
        let custom = signals::CustomSignals::of(&served).filter(|_| first.uses_signals());
        // With pins, the hits are ranked from the first, then the pins placed, then the page cut.
        let pinning = !effects.pins.is_empty();
        let page = (request.offset(), request.per_page);
        let ranked_page = if pinning { (0, page.0 + page.1) } else { page };
        let (offset, limit) = match &second {
            Some(_) => (0, ranker.window.max(page.0 + page.1)),
            None => ranked_page,
        };
        let with_hits = (!plan.with_hits.is_empty()).then(|| self.facets_collector(&searcher, &plan.with_hits));
        // Disjunctive facets counted in the pass of the hits, behind gates (see `gate`): the
        // query then leaves out the clauses on them, which the gates check.
        let gated = self.gates(&plan, &clauses, request);
        let relaxed =
            gated.as_ref().map(|(_, kept)| self.filtered(text.box_clone(), kept.iter().copied(), served.generation));
        let gates = gated.as_ref().map(|(gates, _)| (gates.0.as_slice(), gates.1.as_slice()));
        // The pinned products that pass the filters, counted in the pass when the words find them.
        let pinned = if pinning {
            self.pinned(&searcher, &effects.pins, |ids| {
                self.filtered(self.without_hidden(ids, &effects.hide), tenant.iter().chain(&clauses), served.generation)
            })?
        } else {
            Vec::new()
        };
        let watched: Vec<tantivy::DocAddress> = pinned.iter().map(|(address, ..)| *address).collect();
        let collect::Collected { top, total, watched: seen, counted, disjunctive } = self.collect(
            &searcher,
            &served,
            request,
            relaxed.as_deref().unwrap_or(query.as_ref()),
            &first,
            offset,
            limit,
            engagement.clone(),
            with_hits,
            gates,
            boosts.as_ref(),
            custom.as_ref(),
            &watched,
            near.as_ref(),
        )?;
        let mut facets = facets::FacetResults::default();
        for (collector, fruit) in counted.into_iter().chain(disjunctive) {
            collector.finish(fruit, request, &mut facets);
        }
        if gated.is_none() {
            self.count_disjunctive(&searcher, text.as_ref(), &clauses, &plan, request, &mut facets)?;
        }
        if let Some(offers) = scope.near {
            near_facets.count(&searcher, query.as_ref(), offers, request, &mut facets)?;
        }
        let top = match &second {
            None => top.into_iter().map(|(score, address)| Ranked::phase1(score, address)).collect(),
            Some(model) => {
                let cx = rerank::Context {
                    searcher: &searcher,
                    lexicon: &lexicon,
                    alternatives: &alternatives,
                    request,
                    terms: &terms,
                    ranker,
                    expansions,
                    engagement: engagement.as_ref(),
                    custom: custom.as_ref(),
                    boosts: boosts.as_deref(),
                    near: near.as_deref(),
                };
                self.rerank(&cx, model.as_ref(), &top, ranked_page)?
            }
        };
        let (top, pins, total) = if pinning {
            // Pinned products the words do not find add to the total.
            let matched = match seen {
                Some(seen) => seen,
                None => self.found(&searcher, query.as_ref(), watched.iter().copied())?,
            };
            let (top, pins) = rules::place_pins(top, &pinned, page.0, page.1);
            (top, pins, total + pinned.len() as u64 - matched.min(pinned.len() as u64))
        } else {
            let pins = vec![None; top.len()];
            (top, pins, total)
        };
        Ok(Retrieved {
            searcher,
            language,
            terms,
            top,
            total,
            facets,
            second,
            first,
            engagement,
            alternatives,
            custom,
            effects,
            boosts,
            pins,
        })
    }

    /// What every search does before collecting: validation, the query's language and words,
    /// the Tantivy query (with the learned `expansions`, when given), and the engagement columns
    /// of this searcher's segments.
    fn plan(
        &self,
        request: &SearchRequest,
        expansions: Option<&Expansions>,
        weights: &TextWeights,
        scope: Scope<'_>,
    ) -> Result<Planned> {
        let (searcher, served) = self.view();
        let (served, synonyms, stop_words, rules) = match scope.preview {
            None => (served, &self.synonyms, &self.stop_words, &self.rules),
            Some(under) => (under.served(&served)?, under.synonyms, under.stop_words, under.rules),
        };
        // The settings' text weights over the scorer's (checked when the settings were taken).
        let weights = &weights.with_overrides(&served.settings.weights).map_err(crate::Error::Input)?;
        // The merchandising rules holding for this search, and the filter they give it.
        let rules = rules.of(&served);
        let matched = rules.matching(&request.q, request.filter.as_ref(), self.now());
        let (effects, rewritten) = rules::Effects::of(&matched, request);
        let clauses = rewritten.as_ref().unwrap_or(request).validated_clauses(&served.settings.attributes)?;
        let tenant = request.tenant_clause(&served.settings.attributes)?;
        if let Some(code) = request.lang.as_deref() {
            if Language::from_code(code).is_none() {
                return Err(searchd_catalog::Error::invalid("lang", format!("unknown language `{code}`")).into());
            }
        }
        let language = self.analyzer.query_language(request.lang.as_deref(), &request.q);
        let terms = self.analyzer.query_terms(&request.q, language);
        // The tenant's clause is part of the words' query: every facet pass keeps it.
        let lexicon = Lexicon::new(&searcher);
        let alternatives = self.alternatives(request, &served, synonyms, &terms, language, &lexicon);
        // The query's stop words (none in plain BM25).
        let stop = match stop_words.table(served.settings.version, &served.settings.stop_words) {
            Some(table) if request.ranking != RankingMode::Bm25 => table.flags(&terms, language),
            _ => vec![false; terms.len()],
        };
        let query_words =
            query::QueryWords { terms: &terms, alternatives: &alternatives, stop: &stop, hide: &effects.hide };
        let words = self.text_query(&lexicon, request, &query_words, expansions, weights, &served);
        let mut text = self.filtered(words, tenant.iter(), served.generation);
        // Near a shopper, only the products with a serving offer: part of the words' query, so
        // every facet pass keeps it too.
        let near = match (request.near, scope.near) {
            (None, _) => None,
            (Some(_), None) => {
                let reason = "product search near a point needs the offer index (this search path has none)";
                return Err(searchd_catalog::Error::invalid("near", reason).into());
            }
            (Some(_), Some(offers)) => Some(offers.docs()),
        };
        if let Some(docs) = &near {
            let only = tantivy::query::ConstScoreQuery::new(Box::new(near::NearQuery(docs.clone())), 0.0);
            text = Box::new(tantivy::query::BooleanQuery::new(vec![
                (tantivy::query::Occur::Must, text),
                (tantivy::query::Occur::Must, Box::new(only)),
            ]));
        }
        let query = self.filtered(text.box_clone(), &clauses, served.generation);
        let engagement = self.engagement_columns(&searcher)?;
        Ok(Planned {
            searcher,
            language,
            terms,
            text,
            clauses,
            query,
            engagement,
            served,
            lexicon,
            alternatives,
            tenant,
            effects,
            near,
        })
    }

    /// The declared synonyms of a search's words (none in plain BM25).
    fn alternatives(
        &self,
        request: &SearchRequest,
        served: &Served,
        synonyms: &KeptSynonyms,
        terms: &[QueryTerm],
        language: Language,
        lexicon: &Lexicon,
    ) -> Vec<Alternative> {
        if request.ranking == RankingMode::Bm25 {
            return Vec::new();
        }
        let Some(table) = synonyms.table(served.settings.version, &served.settings.synonyms, &self.analyzer) else {
            return Vec::new();
        };
        let terms = &terms[..terms.len().min(query::MAX_QUERY_TERMS)];
        let rare = |i: usize| terms[i].allowed_typos() > 0 && self.is_rare(lexicon, &terms[i]);
        table.alternatives(terms, language, &self.analyzer, &rare)
    }
}

impl ProductIndex {
    /// Sets the clock the rules' time windows read (Unix seconds); `None` goes back to the
    /// system's.
    pub fn set_clock(&self, clock: Option<crate::Clock>) {
        *self.clock.write().unwrap_or_else(std::sync::PoisonError::into_inner) = clock;
    }

    /// The ids of the served rules that hold for `request` now, in order: what a search would
    /// apply (for metrics, and for caches, whose answers change when these do).
    pub fn rules_for(&self, request: &SearchRequest) -> Vec<String> {
        let served = self.settings();
        if served.settings.rules.is_empty() {
            return Vec::new();
        }
        let rules = self.rules.of(&served);
        rules.matching(&request.q, request.filter.as_ref(), self.now()).rules.iter().map(|r| r.to_string()).collect()
    }

    /// The rules' clock, in Unix seconds.
    pub fn clock_now(&self) -> i64 {
        self.now()
    }

    fn now(&self) -> i64 {
        match &*self.clock.read().unwrap_or_else(std::sync::PoisonError::into_inner) {
            Some(clock) => clock(),
            None => time::OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    /// How many of `addresses` `query` matches, each checked by seeking its segment's scorer to
    /// it (no pass over the query's other matches).
    fn found(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        addresses: impl Iterator<Item = DocAddress>,
    ) -> Result<u64> {
        use tantivy::DocSet;
        let weight = query.weight(tantivy::query::EnableScoring::enabled_from_searcher(searcher))?;
        let mut found = 0;
        for address in addresses {
            let mut scorer = weight.scorer(searcher.segment_reader(address.segment_ord), 1.0)?;
            if scorer.doc() <= address.doc_id && scorer.seek(address.doc_id) == address.doc_id {
                found += 1;
            }
        }
        Ok(found)
    }
}

/// The learned expansions a search uses: the served model's, in the default ranking only
/// (`phase1` and `bm25` are without the model).
fn expansions_of<'a>(request: &SearchRequest, ranker: &'a Ranker) -> Option<&'a Expansions> {
    match request.ranking {
        RankingMode::Default => ranker.second.as_deref().and_then(|m| m.expansions()),
        RankingMode::Phase1 | RankingMode::Bm25 => None,
    }
}
