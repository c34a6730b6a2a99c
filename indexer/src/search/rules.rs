//! Merchandising rules at search time (see [`searchd_catalog::rules`]): the served settings'
//! rules compiled once per version, matched per search, and their effects on the search —
//! filters added or replaced and products hidden (in the query, so totals and facets agree),
//! boosts and buries (phase 1's score times the factor; phase 2's score plus its logarithm, the
//! same change in the odds of the pairwise model), and pins placed after ranking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use searchd_catalog::filter::Resolved;
use searchd_catalog::rules::{Matched, RuleSet};
use searchd_catalog::{RuleEffect, SearchRequest};
use tantivy::BitSet;
use tantivy::collector::DocSetCollector;
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED, Term};

use super::rerank::Ranked;
use crate::any_term::AnyTermQuery;
use crate::settings::Served;
use crate::{ProductIndex, Result};

/// The served settings' rules, compiled, with the version they belong to.
#[derive(Debug, Default)]
pub(crate) struct KeptRules {
    kept: Mutex<Option<(u64, Arc<RuleSet>)>>,
}

impl KeptRules {
    /// The rules of `served` (compiled once per settings version; settings are checked before
    /// they are served, so rules that do not compile are none).
    pub(crate) fn of(&self, served: &Served) -> Arc<RuleSet> {
        let version = served.settings.version;
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*kept {
            Some((v, rules)) if *v == version => rules.clone(),
            _ => {
                let rules = Arc::new(RuleSet::compile(&served.settings).unwrap_or_default());
                *kept = Some((version, rules.clone()));
                rules
            }
        }
    }
}

/// Segments' documents a boost's filter selects, kept by (segment, settings generation,
/// filter): a segment never changes, so a rule's boost costs one pass over the catalog per
/// segment, not one per search.
#[derive(Debug)]
pub(crate) struct KeptBoostSets {
    /// The sets, least recently used first out, and their bytes.
    sets: Mutex<(lru::LruCache<BoostKey, Arc<BitSet>>, usize)>,
}

type BoostKey = (SegmentId, u64, String);

/// Bytes of boost sets kept at most (a bit per product each: 50 filters over 10M products).
const MAX_KEPT_BOOST_BYTES: usize = 64 << 20;

impl Default for KeptBoostSets {
    fn default() -> Self {
        Self { sets: Mutex::new((lru::LruCache::unbounded(), 0)) }
    }
}

impl KeptBoostSets {
    fn get(&self, key: &BoostKey) -> Option<Arc<BitSet>> {
        self.sets.lock().ok().and_then(|mut sets| sets.0.get(key).cloned())
    }

    fn put(&self, key: BoostKey, set: Arc<BitSet>) {
        let Ok(mut sets) = self.sets.lock() else { return };
        let (kept, bytes) = &mut *sets;
        *bytes += set.max_value() as usize / 8;
        if let Some(old) = kept.put(key, set) {
            *bytes -= old.max_value() as usize / 8;
        }
        while *bytes > MAX_KEPT_BOOST_BYTES && kept.len() > 1 {
            if let Some((_, old)) = kept.pop_lru() {
                *bytes -= old.max_value() as usize / 8;
            }
        }
    }
}

/// What the rules holding for one search do to it.
#[derive(Debug, Default)]
pub(super) struct Effects {
    /// The rules that hold, in order.
    pub(super) rules: Vec<String>,
    /// `(product, position from 1, rule)`, by position.
    pub(super) pins: Vec<(String, usize, String)>,
    /// The hidden products.
    pub(super) hide: Vec<String>,
    /// `(products, factor, rule)`.
    pub(super) boosts: Vec<(Resolved, f64, String)>,
    /// The redirect.
    pub(super) redirect: Option<String>,
}

impl Effects {
    /// The effects of `matched`, and the request with the filter the rules give it (`None`:
    /// unchanged).
    pub(super) fn of(matched: &Matched<'_>, request: &SearchRequest) -> (Self, Option<SearchRequest>) {
        let effects = Self {
            rules: matched.rules.iter().map(|r| r.to_string()).collect(),
            pins: matched.pins.iter().map(|(p, at, r)| (p.to_string(), *at, r.to_string())).collect(),
            hide: matched.hide.iter().map(|(p, _)| p.to_string()).collect(),
            boosts: matched.boosts.iter().map(|(f, x, r)| ((*f).clone(), *x, r.to_string())).collect(),
            redirect: matched.redirect.map(|(url, _)| url.to_string()),
        };
        if matched.replace_filter.is_none() && matched.add_filters.is_empty() {
            return (effects, None);
        }
        let mut rewritten = request.clone();
        let base = matched.replace_filter.cloned().or_else(|| request.filter.clone());
        let parts = base.into_iter().chain(matched.add_filters.iter().map(|f| (*f).clone())).collect();
        rewritten.filter = searchd_catalog::filter::Filter::all(parts);
        (effects, Some(rewritten))
    }
}

/// Each segment's products boosted or buried: per boost, the documents its filter selects.
#[derive(Default)]
pub(super) struct Boosts {
    factors: Vec<(f32, String)>,
    segments: HashMap<SegmentId, Vec<Arc<BitSet>>>,
}

/// One segment's boosts: each filter's documents with its factor.
pub(super) struct SegmentBoosts(Vec<(Arc<BitSet>, f32)>);

impl SegmentBoosts {
    /// The product of the factors on `doc`.
    #[inline]
    pub(super) fn factor(&self, doc: DocId) -> f32 {
        self.0.iter().filter(|(set, _)| set.contains(doc)).map(|(_, f)| *f).product()
    }
}

impl Boosts {
    /// The product of the factors on `doc` of the segment `segment`.
    pub(super) fn factor(&self, segment: SegmentId, doc: DocId) -> f32 {
        self.segment(segment).map_or(1.0, |s| s.factor(doc))
    }

    /// The boosts of the segment `segment`, looked up once for all its documents.
    pub(super) fn segment(&self, segment: SegmentId) -> Option<SegmentBoosts> {
        let sets = self.segments.get(&segment)?;
        Some(SegmentBoosts(sets.iter().zip(&self.factors).map(|(set, (f, _))| (set.clone(), *f)).collect()))
    }

    /// The boosts and buries on `doc`, as explain lists them.
    pub(super) fn effects(&self, segment: SegmentId, doc: DocId) -> Vec<RuleEffect> {
        let Some(sets) = self.segments.get(&segment) else { return Vec::new() };
        sets.iter()
            .zip(&self.factors)
            .filter(|(set, _)| set.contains(doc))
            .map(|(_, (factor, rule))| RuleEffect {
                rule: rule.clone(),
                action: if *factor > 1.0 { "boost" } else { "bury" }.into(),
                position: None,
                factor: Some(f64::from(*factor)),
            })
            .collect()
    }
}

impl ProductIndex {
    /// `query` without the hidden products.
    pub(super) fn without_hidden(&self, query: Box<dyn Query>, hide: &[String]) -> Box<dyn Query> {
        if hide.is_empty() {
            return query;
        }
        let ids = hide.iter().map(|id| Term::from_field_text(self.fields.id, id));
        Box::new(BooleanQuery::new(vec![(Occur::Must, query), (Occur::MustNot, Box::new(AnyTermQuery::new(ids)))]))
    }

    /// The documents each boost selects in each of `searcher`'s segments.
    pub(super) fn boosts(&self, searcher: &Searcher, effects: &Effects, generation: u64) -> Result<Option<Boosts>> {
        if effects.boosts.is_empty() {
            return Ok(None);
        }
        let mut out = Boosts {
            factors: effects.boosts.iter().map(|(_, f, rule)| (*f as f32, rule.clone())).collect(),
            ..Default::default()
        };
        let keys: Vec<String> = effects.boosts.iter().map(|(filter, ..)| format!("{filter:?}")).collect();
        for segment in searcher.segment_readers() {
            let mut sets = Vec::with_capacity(keys.len());
            for ((filter, ..), key) in effects.boosts.iter().zip(&keys) {
                let key = (segment.segment_id(), generation, key.clone());
                let set = match self.boost_sets.get(&key) {
                    Some(set) => set,
                    None => {
                        let scoring = EnableScoring::disabled_from_searcher(searcher);
                        let weight = self.filter_query(filter, generation).weight(scoring)?;
                        let mut set = BitSet::with_max_value(segment.max_doc());
                        let mut docs = weight.scorer(segment, 1.0)?;
                        while docs.doc() != TERMINATED {
                            set.insert(docs.doc());
                            docs.advance();
                        }
                        let set = Arc::new(set);
                        self.boost_sets.put(key, set.clone());
                        set
                    }
                };
                sets.push(set);
            }
            out.segments.insert(segment.segment_id(), sets);
        }
        Ok(Some(out))
    }

    /// The pinned products that pass `filtered` (the request's filters, the tenant's, not
    /// hidden), with their positions and rules.
    pub(super) fn pinned(
        &self,
        searcher: &Searcher,
        pins: &[(String, usize, String)],
        filtered: impl FnOnce(Box<dyn Query>) -> Box<dyn Query>,
    ) -> Result<Vec<(DocAddress, usize, String)>> {
        if pins.is_empty() {
            return Ok(Vec::new());
        }
        let ids = pins.iter().map(|(id, ..)| Term::from_field_text(self.fields.id, id));
        let found = searcher.search(filtered(Box::new(AnyTermQuery::new(ids))).as_ref(), &DocSetCollector)?;
        let mut by_id = HashMap::new();
        for address in found {
            if let Some(id) = self.id_table(searcher, address.segment_ord)?.get(address.doc_id) {
                by_id.insert(id.to_string(), address);
            }
        }
        Ok(pins.iter().filter_map(|(id, at, rule)| Some((*by_id.get(id)?, *at, rule.clone()))).collect())
    }
}

/// The ranked hits from the first with the pinned products at their positions (each taken out
/// of where it ranked), then the page `offset..offset + limit`; the pinned ones with their
/// position and rule. `score_at` gives a pinned product a score: the one above it, so scores
/// stay ordered.
pub(super) fn place_pins(
    ranked: Vec<Ranked>,
    pinned: &[(DocAddress, usize, String)],
    offset: usize,
    limit: usize,
) -> (Vec<Ranked>, Vec<Option<(usize, String)>>) {
    let mut rest: Vec<Ranked> =
        ranked.into_iter().filter(|r| !pinned.iter().any(|(address, ..)| *address == r.address)).collect();
    let mut marks: Vec<Option<(usize, String)>> = rest.iter().map(|_| None).collect();
    for (address, at, rule) in pinned {
        let i = (at - 1).min(rest.len());
        let score = if i == 0 { rest.first().map_or(1.0, |r| r.score) } else { rest[i - 1].score };
        let phase1 = if i == 0 { rest.first().map_or(1.0, |r| r.phase1) } else { rest[i - 1].phase1 };
        rest.insert(i, Ranked { score, phase1, address: *address, features: None });
        marks.insert(i, Some((*at, rule.clone())));
    }
    let page = rest.into_iter().zip(marks).skip(offset).take(limit);
    page.unzip()
}
