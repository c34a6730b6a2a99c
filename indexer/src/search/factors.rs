//! Phase 1's signal factors, kept per segment. The default scorer multiplies the text score by
//! a factor of the product's business signals alone (popularity, engagement, rating, stock,
//! freshness). Reading five fast fields and taking logs and powers for every match was a third
//! of phase 1 on a million products; segments never change, so each product's factor is
//! computed once and kept while the scorer, the engagement column and the day (the freshness
//! clock) stay the same. The settings' custom signals (see [`super::signals`]) multiply in; for
//! a scorer that does not separate its signals, the kept factor is theirs alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use searchd_catalog::{FirstPhaseScorer, RankFeatures};
use tantivy::Searcher;
use tantivy::index::SegmentId;

use super::signals::CustomSignals;
use crate::columns::{EngagementColumns, SegmentSignals, signal_clock};
use crate::{ProductIndex, Result};

/// The factor of every document of each segment, by doc id.
pub(crate) type SegmentFactors = HashMap<SegmentId, Arc<[f32]>>;

/// The factors kept per segment, with what they were computed from.
pub(crate) type KeptFactors = Mutex<HashMap<SegmentId, Kept>>;

pub(crate) struct Kept {
    /// A weak reference holds the scorer's allocation, so no other scorer can take its address.
    scorer: Weak<dyn FirstPhaseScorer>,
    engagement: Option<Arc<[f32]>>,
    day: i64,
    custom: Option<CustomSignals>,
    values: Arc<[f32]>,
}

impl ProductIndex {
    /// The signal factor of every product in `searcher`'s segments under `scorer`, these
    /// engagement columns and the custom signals, computing the segments not kept yet; `None`
    /// when the scorer reads no signals, or does not separate them from the text score and
    /// there are no custom signals (with them, the factor is theirs alone: see [`separable`]).
    pub(super) fn signal_factors(
        &self,
        searcher: &Searcher,
        scorer: &Arc<dyn FirstPhaseScorer>,
        engagement: Option<&Arc<EngagementColumns>>,
        custom: Option<&CustomSignals>,
    ) -> Result<Option<Arc<SegmentFactors>>> {
        if !scorer.uses_signals() || (!separable(&**scorer) && custom.is_none()) {
            return Ok(None);
        }
        let separable = separable(&**scorer);
        let day = signal_clock();
        let weak = Arc::downgrade(scorer);
        let lock = || self.factors.lock().map_err(|_| crate::Error::Internal("factor cache lock poisoned".into()));
        let readers = searcher.segment_readers();
        let mut out = SegmentFactors::with_capacity(readers.len());
        for segment in readers {
            let id = segment.segment_id();
            let column = engagement.and_then(|c| c.get(&id).cloned());
            let kept = lock()?
                .get(&id)
                .filter(|k| {
                    k.day == day
                        && Weak::ptr_eq(&k.scorer, &weak)
                        && same(&k.engagement, &column)
                        && k.custom.as_ref() == custom
                })
                .map(|k| k.values.clone());
            let values = match kept {
                Some(values) => values,
                None => {
                    // Computed outside the lock: other searches go on meanwhile.
                    let signals = SegmentSignals::open_at(segment, true, column.clone(), day);
                    let own = custom.map(|c| c.open(segment));
                    let values: Arc<[f32]> = (0..segment.max_doc())
                        .map(|doc| {
                            let builtin = match separable {
                                true => scorer.signal_factor(&signals.rank_features(doc, 1.0)).unwrap_or(1.0),
                                false => 1.0,
                            };
                            builtin * own.as_ref().map_or(1.0, |c| c.factor(doc) as f32)
                        })
                        .collect();
                    let custom = custom.cloned();
                    let kept = Kept { scorer: weak.clone(), engagement: column, day, custom, values: values.clone() };
                    lock()?.insert(id, kept);
                    values
                }
            };
            out.insert(id, values);
        }
        let mut kept = lock()?;
        if kept.len() > out.len() {
            kept.retain(|id, _| out.contains_key(id));
        }
        Ok(Some(Arc::new(out)))
    }
}

/// Whether `scorer`'s score is its text score times a factor of its signals alone.
pub(super) fn separable(scorer: &dyn FirstPhaseScorer) -> bool {
    scorer.signal_factor(&RankFeatures::default()).is_some()
}

fn same(a: &Option<Arc<[f32]>>, b: &Option<Arc<[f32]>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}
