//! Phase 2: the learned model re-ranks the phase-1 window by its features; hits beyond the
//! window keep their phase-1 order after it.

use searchd_catalog::{Expansions, FeatureVector, Ranker, SearchRequest, SecondPhase};
use tantivy::{DocAddress, Score, Searcher};

use super::lexicon::Lexicon;
use super::synonyms::Alternative;
use crate::analysis::QueryTerm;
use crate::columns::EngagementColumns;
use crate::{ProductIndex, Result};

/// One hit of the page: its final score (phase 2's inside the re-rank window, phase 1's beyond
/// it), its phase-1 score, and its phase-2 features when it was re-ranked.
pub(super) struct Ranked {
    pub(super) score: Score,
    pub(super) phase1: Score,
    pub(super) address: DocAddress,
    pub(super) features: Option<FeatureVector>,
}

impl Ranked {
    /// A hit ranked by phase 1 only.
    pub(super) fn phase1(score: Score, address: DocAddress) -> Self {
        Self { score, phase1: score, address, features: None }
    }
}

/// What the re-rank reads besides the hits.
pub(super) struct Context<'a> {
    pub(super) searcher: &'a Searcher,
    pub(super) lexicon: &'a Lexicon,
    pub(super) alternatives: &'a [Alternative],
    pub(super) request: &'a SearchRequest,
    pub(super) terms: &'a [QueryTerm],
    pub(super) ranker: &'a Ranker,
    pub(super) expansions: Option<&'a Expansions>,
    pub(super) engagement: Option<&'a std::sync::Arc<EngagementColumns>>,
    pub(super) custom: Option<&'a super::signals::CustomSignals>,
    pub(super) boosts: Option<&'a super::rules::Boosts>,
    /// The documents with a serving offer (with `near`).
    pub(super) near: Option<&'a crate::offers::near::NearDocs>,
}

impl ProductIndex {
    /// The requested page after `model` re-ranked the phase-1 `top`'s first `ranker.window`.
    pub(super) fn rerank(
        &self,
        cx: &Context<'_>,
        model: &dyn SecondPhase,
        top: &[(Score, DocAddress)],
        (offset, limit): (usize, usize),
    ) -> Result<Vec<Ranked>> {
        let window = cx.ranker.window.min(top.len());
        let features = self.features(
            cx.searcher,
            cx.lexicon,
            &cx.request.q,
            cx.terms,
            cx.alternatives,
            &top[..window],
            cx.ranker,
            cx.expansions,
            cx.engagement,
            cx.custom,
            cx.near,
        )?;
        let mut scores: Vec<Score> = features.iter().map(|f| model.score(f)).collect();
        // A rule's boost or bury multiplies the odds the pairwise model gives: its logarithm
        // adds to the score.
        if let Some(boosts) = cx.boosts {
            for (score, (_, address)) in scores.iter_mut().zip(top) {
                let segment = cx.searcher.segment_reader(address.segment_ord).segment_id();
                *score += boosts.factor(segment, address.doc_id).ln();
            }
        }
        // Stable: equal model scores keep their phase-1 order. Indices are sorted, and only the
        // page's hits are built.
        let mut order: Vec<usize> = (0..window).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        let reranked = order.into_iter().map(|i| {
            let (phase1, address) = top[i];
            Ranked { score: scores[i], phase1, address, features: Some(features[i]) }
        });
        let rest = top[window..].iter().map(|&(score, address)| Ranked::phase1(score, address));
        Ok(reranked.chain(rest).skip(offset).take(limit).collect())
    }
}
