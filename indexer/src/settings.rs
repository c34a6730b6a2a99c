//! An index's settings at runtime: which settings searches see, and changing them while the
//! index serves.
//!
//! Declared attributes are held in the `attrs` JSON field under a *generation*: the version of
//! the settings that last re-indexed them (`g7.colour`). A change that holds attributes
//! differently (a new attribute, another type) writes every live document again with its values
//! under both the served generation and the new one, while searches go on with the served
//! settings; writes arriving meanwhile are written under both too. When every document holds
//! the new generation, one commit makes the new settings the served ones: the commit's payload
//! names them, so a restart serves what the committed documents are complete for. Searches pair
//! each searcher with the settings its commit is complete for. A change of flags only
//! (filterable → facetable) applies with one commit.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use searchd_catalog::{Product, Settings};
use serde::{Deserialize, Serialize};
use tantivy::{Searcher, TantivyDocument};

use crate::config::reserved_names;
use crate::writer::parse_source;
use crate::{Error, ProductIndex, Result};

/// Most refusals a settings change keeps to report (all are counted).
const MAX_REPORTED: usize = 20;
/// Documents written again per writer-lock hold during a re-index.
const BATCH: usize = 512;

/// Settings as an index serves them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Served {
    /// The settings.
    pub settings: Settings,
    /// The version of the settings whose re-index wrote the attribute values searches read.
    pub generation: u64,
}

/// What applying settings did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// Documents written again (0 when only flags changed).
    pub rewritten: u64,
    /// Seconds it took.
    pub seconds: f64,
}

/// A re-index under way: the settings it writes, and the documents that contradict them.
#[derive(Debug)]
pub(crate) struct Pending {
    pub served: Arc<Served>,
    refusals: Mutex<(u64, Vec<String>)>,
}

impl Pending {
    pub(crate) fn refuse(&self, id: &str, reason: &Error) {
        let mut refusals = self.refusals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        refusals.0 += 1;
        if refusals.1.len() < MAX_REPORTED {
            refusals.1.push(format!("product `{id}`: {reason}"));
        }
    }
}

/// What writes hold attributes under right now.
#[derive(Debug, Clone)]
pub(crate) struct Indexing {
    /// Bumped whenever the set changes: a document prepared under another epoch is prepared again.
    pub epoch: u64,
    pub served: Arc<Served>,
    pub pending: Option<Arc<Pending>>,
}

/// `(first searcher generation, settings)`: the settings each commit is complete for, the last
/// few of them (a searcher older than those kept pairs with the oldest).
#[derive(Debug)]
pub(crate) struct Views<T>(RwLock<Vec<(u64, Arc<T>)>>);

impl<T: Default> Views<T> {
    pub(crate) fn new(first: Arc<T>) -> Self {
        Self(RwLock::new(vec![(0, first)]))
    }

    /// The settings the searcher of this generation is complete for.
    pub(crate) fn for_searcher(&self, generation: u64) -> Arc<T> {
        let views = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let found = views.iter().rev().find(|(from, _)| *from <= generation).or(views.first());
        found.map(|(_, s)| s.clone()).unwrap_or_default()
    }

    /// `served` from the searcher of generation `from` on.
    pub(crate) fn push(&self, from: u64, served: Arc<T>) {
        let mut views = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        views.push((from, served));
        let over = views.len().saturating_sub(4);
        views.drain(..over);
    }
}

/// Checks settings as the engine serves them: the attributes against the built-in fields, the
/// synonyms' and stop words' languages among those analysed, the text weights; the error names
/// the key at fault.
pub fn check_settings(next: &Settings) -> std::result::Result<(), String> {
    next.attributes.validate(&reserved_names()).map_err(|e| format!("attributes: {e}"))?;
    let known = |code: &str| crate::Language::from_code(code).is_some();
    searchd_catalog::synonyms::validate(&next.synonyms, &known)?;
    searchd_catalog::stop_words::validate(&next.stop_words, &known)?;
    searchd_catalog::TextWeights::default().with_overrides(&next.weights)?;
    searchd_catalog::signals::validate(&next.signals, &|name| next.signal_number(name))?;
    searchd_catalog::rules::RuleSet::compile(next)?;
    Ok(())
}

/// The settings side of a [`ProductIndex`].
#[derive(Debug)]
pub(crate) struct SettingsState {
    views: Views<Served>,
    indexing: RwLock<Indexing>,
    /// One change at a time.
    changing: Mutex<()>,
}

impl SettingsState {
    /// Serving `served` from the first searcher on.
    pub(crate) fn new(served: Served) -> Self {
        let served = Arc::new(served);
        Self {
            views: Views::new(served.clone()),
            indexing: RwLock::new(Indexing { epoch: 0, served, pending: None }),
            changing: Mutex::new(()),
        }
    }

    /// The served settings an index opens with: its last commit's, or — for an index holding
    /// nothing yet — the configured attributes at version 1; an index holding documents
    /// written without settings serves none until a change applies them.
    pub(crate) fn opening(payload: Option<&serde_json::Value>, empty: bool, configured: Settings) -> Result<Served> {
        match payload {
            Some(value) => Ok(serde_json::from_value(value.clone())?),
            None if empty => Ok(Served { generation: configured.version, settings: configured }),
            None => Ok(Served { settings: Settings::default(), generation: 0 }),
        }
    }

    pub(crate) fn indexing(&self) -> Indexing {
        self.indexing.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.indexing.read().unwrap_or_else(std::sync::PoisonError::into_inner).epoch
    }

    /// The served settings' version.
    pub(crate) fn version(&self) -> u64 {
        self.indexing.read().unwrap_or_else(std::sync::PoisonError::into_inner).served.settings.version
    }

    fn set(&self, served: Arc<Served>, pending: Option<Arc<Pending>>) {
        let mut indexing = self.indexing.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        indexing.epoch += 1;
        indexing.served = served;
        indexing.pending = pending;
    }

    /// The settings the searcher of this generation is complete for.
    pub(crate) fn for_searcher(&self, generation: u64) -> Arc<Served> {
        self.views.for_searcher(generation)
    }

    fn push_view(&self, from: u64, served: Arc<Served>) {
        self.views.push(from, served);
    }
}

impl ProductIndex {
    /// The settings searches see now.
    pub fn settings(&self) -> Arc<Served> {
        self.settings.indexing().served
    }

    /// A searcher and the settings its commit is complete for.
    pub(crate) fn view(&self) -> (Searcher, Arc<Served>) {
        let searcher = self.searcher();
        let served = self.settings.for_searcher(searcher.generation().generation_id());
        (searcher, served)
    }

    /// Serves `next` (a later version than the served one): at once when it holds attributes
    /// as the served settings do, else after writing every live document again while searches
    /// and writes go on (see the module's notes). `progress` hears `(done, total)` documents.
    /// When documents contradict `next` (a value that is not of a newly declared type), nothing
    /// changes and the error lists them. One change runs at a time; a second caller waits.
    pub fn apply_settings(&self, next: Settings, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Applied> {
        let _one = self.settings.changing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let started = Instant::now();
        check_settings(&next).map_err(Error::Input)?;
        let current = self.settings();
        if next.version <= current.settings.version {
            return Err(Error::Input(format!(
                "settings version {} is not after the served version {}",
                next.version, current.settings.version
            )));
        }
        if !next.needs_reindex(&current.settings) {
            let served = Arc::new(Served { settings: next, generation: current.generation });
            self.swap(served)?;
            progress(0, 0);
            return Ok(Applied { rewritten: 0, seconds: started.elapsed().as_secs_f64() });
        }
        let generation = next.version;
        let pending =
            Arc::new(Pending { served: Arc::new(Served { settings: next, generation }), refusals: Mutex::default() });
        {
            // From here on every write holds both generations; what was written before is
            // committed, so the pass below sees it.
            let mut state = self.lock()?;
            self.settings.set(current.clone(), Some(pending.clone()));
            self.commit_locked(&mut state)?;
        }
        let pass = self.rewrite_all(progress);
        let refusals = std::mem::take(&mut *pending.refusals.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        match pass {
            Ok(rewritten) if refusals.0 == 0 => {
                self.swap(pending.served.clone())?;
                Ok(Applied { rewritten, seconds: started.elapsed().as_secs_f64() })
            }
            outcome => {
                // The served settings stay; values written under the abandoned generation are
                // never read (a later change takes a later version).
                let _state = self.lock()?;
                self.settings.set(current, None);
                outcome?;
                Err(Error::Refused { count: refusals.0, first: refusals.1 })
            }
        }
    }

    /// Makes `served` the settings searches see, with one commit naming them.
    fn swap(&self, served: Arc<Served>) -> Result<()> {
        let mut state = self.lock()?;
        state.writer.settings = Some(serde_json::to_value(served.as_ref())?);
        self.settings.set(served.clone(), None);
        self.commit_locked(&mut state)?;
        self.settings.push_view(self.searcher().generation().generation_id(), served);
        Ok(())
    }

    /// Writes every live document of the last commit again (under the indexing set's
    /// generations), unless a newer write replaced or deleted it meanwhile.
    fn rewrite_all(&self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<u64> {
        let searcher = self.searcher();
        let total = searcher.num_docs();
        progress(0, total);
        let (mut done, mut rewritten) = (0, 0);
        let mut batch = Vec::with_capacity(BATCH);
        for segment in searcher.segment_readers() {
            let store = segment.get_store_reader(64)?;
            for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
                let product: Product = parse_source(&doc?, self.fields.source)?;
                batch.push(self.prepare(product)?);
                if batch.len() == BATCH {
                    done += batch.len() as u64;
                    rewritten += self.rewrite(std::mem::take(&mut batch))?;
                    progress(done, total);
                }
            }
        }
        done += batch.len() as u64;
        rewritten += self.rewrite(batch)?;
        progress(done, total);
        Ok(rewritten)
    }
}
