//! The ranking a node serves with: the phase-1 scorer from config, the learned phase-2 model
//! loaded from the data dir and hot-swapped when a newer one is trained, and the behaviour
//! events whose click-through phase 2 reads and whose engagement is folded into the index.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use searchd_catalog::{ClickSignals, FirstPhaseScorer, Ranker, SecondPhase};
use searchd_indexer::ProductIndex;
use searchd_models::{RankerModel, RankerStore};
use serde::{Deserialize, Serialize};

use crate::{DefaultScorer, EventStore, EventsConfig, RankingConfig};

/// `[ranker]`: the learned second phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankerConfig {
    /// Phase-1 hits the model re-ranks (0 switches phase 2 off).
    pub window: usize,
    /// How often the server checks the data dir for a newly trained model (milliseconds).
    pub poll_interval_ms: u64,
    /// Model artifacts kept in the data dir.
    pub keep: usize,
}

impl Default for RankerConfig {
    fn default() -> Self {
        Self { window: searchd_catalog::DEFAULT_RERANK_WINDOW, poll_interval_ms: 2000, keep: 5 }
    }
}

impl RankerConfig {
    /// Checks the ranges; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.window > searchd_catalog::MAX_RESULT_WINDOW {
            return Err(format!("ranker.window must be at most {}", searchd_catalog::MAX_RESULT_WINDOW));
        }
        if self.poll_interval_ms < 10 || self.keep == 0 {
            return Err("ranker.poll_interval_ms must be ≥ 10 and ranker.keep ≥ 1".into());
        }
        Ok(())
    }
}

/// What the served ranking is built from: the `[ranking]`, `[ranker]` and `[events]` sections
/// and where the data dir keeps the learned models and the event log.
#[derive(Debug, Clone, Default)]
pub struct RankingSetup {
    /// Phase 1's weights.
    pub ranking: RankingConfig,
    /// The learned phase 2.
    pub ranker: RankerConfig,
    /// Behaviour events.
    pub events: EventsConfig,
    /// The learned rankers' folder.
    pub ranker_dir: PathBuf,
    /// The event log's folder.
    pub events_dir: PathBuf,
}

/// The served ranking. Searches take a snapshot ([`Ranking::ranker`]); a model swap replaces the
/// snapshot atomically, so a search in flight finishes with the model it started with.
#[derive(Debug)]
pub struct Ranking {
    current: ArcSwap<Ranker>,
    store: RankerStore,
    /// The artifact `CURRENT` named when the served model was loaded.
    loaded: Mutex<Option<String>>,
    /// The behaviour events: their log, aggregates and click-through.
    pub events: Arc<EventStore>,
}

impl Ranking {
    /// Phase 1 from the config, the current model from the data dir (when one was trained) and
    /// the events replayed from their log.
    pub fn open(config: &RankingSetup) -> anyhow::Result<Self> {
        let (events, skipped) = EventStore::open(&config.events_dir, config.events.clone())
            .map_err(|e| anyhow::anyhow!("cannot read the event log in {}: {e}", config.events_dir.display()))?;
        if skipped > 0 {
            tracing::warn!(skipped, "event log: skipped unreadable lines (a torn write from a crash)");
        }
        Self::with_events(config, Arc::new(events))
    }

    /// As [`Ranking::open`], over events already opened (in memory for tests and benches).
    pub fn with_events(config: &RankingSetup, events: Arc<EventStore>) -> anyhow::Result<Self> {
        let first: Arc<dyn FirstPhaseScorer> = Arc::new(DefaultScorer::new(config.ranking.clone()));
        let clicks: Arc<dyn ClickSignals> = events.clone();
        let base = Ranker { clicks: Some(clicks), window: config.ranker.window, ..Ranker::first_phase(first) };
        let ranking = Self {
            current: ArcSwap::from_pointee(base),
            store: RankerStore::new(config.ranker_dir.clone(), config.ranker.keep),
            loaded: Mutex::new(None),
            events,
        };
        ranking.reload()?;
        Ok(ranking)
    }

    /// The ranking to search with now.
    pub fn ranker(&self) -> Arc<Ranker> {
        self.current.load_full()
    }

    /// Where the learned models are saved.
    pub fn store(&self) -> &RankerStore {
        &self.store
    }

    /// The served model's version, if any.
    pub fn model_version(&self) -> Option<String> {
        self.current.load().second.as_ref().map(|m| m.version().to_string())
    }

    /// Loads the model `CURRENT` names when it is not the one served; returns its version when
    /// it swapped. A model that fails to load leaves the served one in place.
    pub fn reload(&self) -> anyhow::Result<Option<String>> {
        let name = self.store.current_name()?;
        let mut loaded = self.loaded.lock().map_err(|_| anyhow::anyhow!("ranker lock poisoned"))?;
        if name.is_none() || *loaded == name {
            return Ok(None);
        }
        let model: RankerModel = match self.store.load_current()? {
            Some(model) => model,
            None => return Ok(None),
        };
        let version = model.version.clone();
        self.swap(Some(Arc::new(model)));
        *loaded = name;
        Ok(Some(version))
    }

    /// Serves `model` from now on (`None`: phase 1 only).
    pub fn swap(&self, model: Option<Arc<dyn SecondPhase>>) {
        let next = Ranker::clone(&self.current.load()).with_second(model);
        self.current.store(Arc::new(next));
    }

    /// Folds the events' engagement into the index's signal columns.
    pub fn fold_engagement(&self, index: &ProductIndex) -> anyhow::Result<usize> {
        let now = time::OffsetDateTime::now_utc();
        let values: HashMap<String, f32> =
            self.events.read(|a| a.all_popularity(now).map(|(id, v)| (id.to_string(), v as f32)).collect());
        let n = values.len();
        index.set_engagement(values)?;
        Ok(n)
    }
}

/// Checks for a newly trained model every `poll_interval_ms` and folds engagement every
/// `events.fold_interval_ms`, off the async executor.
pub fn spawn_ranking_tasks(
    ranking: Arc<Ranking>,
    index: Arc<ProductIndex>,
    config: &RankingSetup,
) -> tokio::task::JoinHandle<()> {
    let poll = Duration::from_millis(config.ranker.poll_interval_ms);
    let fold = Duration::from_millis(config.events.fold_interval_ms);
    tokio::spawn(async move {
        let mut poll_tick = tokio::time::interval(poll);
        let mut fold_tick = tokio::time::interval(fold);
        for tick in [&mut poll_tick, &mut fold_tick] {
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        loop {
            let folding = tokio::select! {
                _ = poll_tick.tick() => false,
                _ = fold_tick.tick() => true,
            };
            let (ranking, index) = (ranking.clone(), index.clone());
            let work = move || -> anyhow::Result<()> {
                if folding {
                    ranking.fold_engagement(&index)?;
                } else if let Some(version) = ranking.reload()? {
                    tracing::info!(%version, "ranker model loaded");
                }
                Ok(())
            };
            match tokio::task::spawn_blocking(work).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "ranking task failed"),
                Err(e) => tracing::error!(error = %e, "ranking task panicked"),
            }
        }
    })
}
