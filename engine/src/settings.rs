//! Settings changed at runtime: every accepted change is a version of its own, written to the
//! data dir (`settings/v000003.json`) before it is applied, and applied by a background task
//! whose progress `GET /v1/tasks/{id}` reports. The product index serves the settings its
//! committed documents are complete for, so a restart resumes a change that was accepted but not
//! yet applied; a change that failed is kept as `v000003.failed.json` and not retried.
//!
//! The configuration file's `[index.attributes]` are the settings of a first start (an empty
//! index takes them); afterwards the data dir's settings rule, and a configuration that differs
//! is reported and ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use searchd_catalog::settings::{Task, TaskProgress, TaskStatus};
use searchd_catalog::{Settings, attributes::AttributeSchema};
use searchd_indexer::{ProductIndex, VendorIndex};

/// Why a change was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The change is malformed or declares something invalid; the message names the key.
    #[error("{0}")]
    Invalid(String),
    /// Another change is under way.
    #[error("settings task {0} is still running; send the change again when it has ended")]
    Busy(u64),
    /// `require_preview` is on and this change was not previewed against the served version.
    #[error(
        "settings require a preview: POST this change to /v1/settings/preview first (against version {0}, the \
         one served), then send it again"
    )]
    PreviewRequired(u64),
    /// The data dir could not be written.
    #[error("cannot keep the settings: {0}")]
    Io(#[from] std::io::Error),
}

/// The settings' versions in the data dir and the tasks applying them.
#[derive(Debug)]
pub struct SettingsTasks {
    /// `None`: kept in memory only (tests).
    dir: Option<PathBuf>,
    tasks: Mutex<BTreeMap<u64, Task>>,
    /// The changes previewed, with the served version they were previewed against, newest last.
    previewed: Mutex<std::collections::VecDeque<(u64, String)>>,
}

/// Most previews remembered.
const KEEP_PREVIEWS: usize = 64;

/// Most finished tasks remembered.
const KEEP_TASKS: usize = 100;

impl SettingsTasks {
    /// Settings kept in `dir` (`None`: in memory).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir, tasks: Mutex::default(), previewed: Mutex::default() }
    }

    /// Records that `patch` was previewed against the served settings' `version`: with
    /// `require_preview`, it may then be applied.
    pub fn previewed(&self, version: u64, patch: &serde_json::Value) {
        let mut kept = self.previewed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.push_back((version, patch.to_string()));
        while kept.len() > KEEP_PREVIEWS {
            kept.pop_front();
        }
    }

    fn was_previewed(&self, version: u64, patch: &serde_json::Value) -> bool {
        let text = patch.to_string();
        let kept = self.previewed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.iter().any(|(v, p)| *v == version && *p == text)
    }

    /// The task with this id, when it is remembered.
    pub fn task(&self, id: u64) -> Option<Task> {
        self.lock().get(&id).cloned()
    }

    /// The remembered tasks, newest first.
    pub fn tasks(&self) -> Vec<Task> {
        self.lock().values().rev().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Task>> {
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Accepts `patch` (a JSON merge patch of the served settings) and applies it in the
    /// background; the task says how it goes.
    pub fn update(
        self: &Arc<Self>,
        index: &Arc<ProductIndex>,
        vendors: &Arc<VendorIndex>,
        patch: &serde_json::Value,
    ) -> Result<Task, SettingsError> {
        let mut tasks = self.lock();
        if let Some(running) =
            tasks.values().find(|t| matches!(t.status, TaskStatus::Enqueued | TaskStatus::Processing))
        {
            return Err(SettingsError::Busy(running.id));
        }
        let served = index.settings().settings.clone();
        let mut next = served.patched(patch, &searchd_indexer::reserved_names()).map_err(SettingsError::Invalid)?;
        if served.require_preview && !self.was_previewed(served.version, patch) {
            return Err(SettingsError::PreviewRequired(served.version));
        }
        // The synonyms' and stop words' languages are ones the engine analyses.
        searchd_indexer::check_settings(&next).map_err(SettingsError::Invalid)?;
        // Versions are never reused, failed ones included.
        next.version = next.version.max(self.highest_version()? + 1).max(tasks.keys().last().map_or(0, |v| v + 1));
        Ok(self.start(&mut tasks, index, vendors, next, &served))
    }

    /// Starts applying `next` (already accepted) in a thread of its own.
    fn start(
        self: &Arc<Self>,
        tasks: &mut BTreeMap<u64, Task>,
        index: &Arc<ProductIndex>,
        vendors: &Arc<VendorIndex>,
        next: Settings,
        served: &Settings,
    ) -> Task {
        let task = Task {
            id: next.version,
            kind: "settings_update".into(),
            status: TaskStatus::Enqueued,
            reindex: next.needs_reindex(served) || next.vendors_need_reindex(served),
            progress: TaskProgress::default(),
            error: None,
            errors: Vec::new(),
            enqueued_at: now(),
            started_at: None,
            finished_at: None,
            duration_ms: None,
        };
        if let Err(e) = self.write(&next) {
            let mut failed = task;
            failed.status = TaskStatus::Failed;
            failed.error = Some(format!("cannot keep the settings: {e}"));
            tasks.insert(failed.id, failed.clone());
            return failed;
        }
        tasks.insert(task.id, task.clone());
        while tasks.len() > KEEP_TASKS {
            tasks.pop_first();
        }
        let (this, index, vendors, id) = (self.clone(), index.clone(), vendors.clone(), task.id);
        std::thread::Builder::new()
            .name(format!("settings-{id}"))
            .spawn(move || this.run(&index, &vendors, next))
            .map_err(|e| tracing::error!(error = %e, "cannot start the settings task"))
            .ok();
        task
    }

    /// Applies `next`: the vendors' part first (vendors are few, and a refusal there changes
    /// nothing), then the products'; when the products' part fails, the vendors' is undone.
    fn run(&self, index: &ProductIndex, vendors: &VendorIndex, next: Settings) {
        let id = next.version;
        let started = Instant::now();
        self.edit(id, |t| {
            t.status = TaskStatus::Processing;
            t.started_at = Some(now());
        });
        let progress = |done: u64, total: u64| self.edit(id, |t| t.progress = TaskProgress { done, total });
        let before = vendors.settings();
        let vendors_change = next.vendors != before.settings;
        let outcome = match vendors_change {
            true => vendors.apply_settings(id, next.vendors.clone()),
            false => Ok(searchd_indexer::Applied { rewritten: 0, seconds: 0.0 }),
        };
        let outcome = outcome.and_then(|_| index.apply_settings(next, &progress));
        if outcome.is_err() && vendors_change && vendors.settings().version == id {
            if let Err(e) = vendors.restore(before.as_ref().clone()) {
                tracing::error!(task = id, error = %e, "cannot return the vendors to the settings before the change");
            }
        }
        if let Err(e) = &outcome {
            if let Err(io) = self.mark_failed(id) {
                tracing::error!(error = %io, "cannot mark the failed settings version");
            }
            tracing::warn!(task = id, error = %e, "settings change failed; the settings before it are served");
        } else {
            tracing::info!(task = id, seconds = started.elapsed().as_secs_f64(), "settings applied");
        }
        self.edit(id, |t| {
            t.finished_at = Some(now());
            t.duration_ms = Some(started.elapsed().as_secs_f64() * 1e3);
            match outcome {
                Ok(applied) => {
                    t.status = TaskStatus::Succeeded;
                    t.progress.done = t.progress.done.max(applied.rewritten);
                }
                Err(searchd_indexer::Error::Refused { count, first }) => {
                    t.status = TaskStatus::Failed;
                    t.error = Some(format!("{count} document(s) contradict the new settings"));
                    t.errors = first;
                }
                Err(e) => {
                    t.status = TaskStatus::Failed;
                    t.error = Some(e.to_string());
                }
            }
        });
    }

    fn edit(&self, id: u64, f: impl FnOnce(&mut Task)) {
        if let Some(task) = self.lock().get_mut(&id) {
            f(task);
        }
    }

    /// At start: resumes a change accepted but not applied. `configured` (`[index.attributes]`)
    /// is the settings of a first start, which the index took when it was empty; an index
    /// written before settings existed (version 0) gets them applied now. Afterwards the data
    /// dir's settings rule, and a `configured` that differs is reported. Returns the task started.
    pub fn resume(
        self: &Arc<Self>,
        index: &Arc<ProductIndex>,
        vendors: &Arc<VendorIndex>,
        configured: &AttributeSchema,
    ) -> anyhow::Result<Option<Task>> {
        let served = index.settings().settings.clone();
        // The product index's settings are the record, their vendors' part included: a vendor
        // index behind them (a crash between the two parts) catches up now.
        let held = vendors.settings();
        if held.version < served.version && held.settings != served.vendors {
            vendors.apply_settings(served.version, served.vendors.clone())?;
        }
        let next = match self.latest()? {
            Some(latest) if latest.version > served.version => Some(latest),
            _ if served.version == 0 && !configured.0.is_empty() => Some(Settings {
                version: self.highest_version()?.max(served.version) + 1,
                attributes: configured.clone(),
                ..Settings::default()
            }),
            latest => {
                // A data dir restored from a snapshot, or whose versions were removed: the
                // index's own settings are the record.
                if latest.is_none() && served.version > 0 {
                    self.write(&served)?;
                }
                if &served.attributes != configured && !configured.0.is_empty() {
                    tracing::warn!(
                        version = served.version,
                        "[index.attributes] differs from the settings the data dir serves; it applies to a first \
                         start only: change settings with PATCH /v1/settings"
                    );
                }
                None
            }
        };
        let Some(next) = next else { return Ok(None) };
        let mut tasks = self.lock();
        Ok(Some(self.start(&mut tasks, index, vendors, next, &served)))
    }

    fn path(dir: &Path, version: u64, failed: bool) -> PathBuf {
        dir.join(format!("v{version:06}{}.json", if failed { ".failed" } else { "" }))
    }

    fn write(&self, settings: &Settings) -> std::io::Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        std::fs::create_dir_all(dir)?;
        let path = Self::path(dir, settings.version, false);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(settings)?)?;
        std::fs::rename(tmp, path)
    }

    fn mark_failed(&self, version: u64) -> std::io::Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        std::fs::rename(Self::path(dir, version, false), Self::path(dir, version, true))
    }

    /// `(version, failed)` of every settings file.
    fn versions(&self) -> std::io::Result<Vec<(u64, bool)>> {
        let Some(dir) = &self.dir else { return Ok(Vec::new()) };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix('v') else { continue };
            let (number, failed) = match (rest.strip_suffix(".failed.json"), rest.strip_suffix(".json")) {
                (Some(n), _) => (n, true),
                (None, Some(n)) => (n, false),
                _ => continue,
            };
            if let Ok(version) = number.parse() {
                out.push((version, failed));
            }
        }
        Ok(out)
    }

    fn highest_version(&self) -> std::io::Result<u64> {
        Ok(self.versions()?.into_iter().map(|(v, _)| v).max().unwrap_or(0))
    }

    /// The newest settings accepted and not failed.
    fn latest(&self) -> anyhow::Result<Option<Settings>> {
        let Some(version) = self.versions()?.into_iter().filter(|(_, failed)| !failed).map(|(v, _)| v).max() else {
            return Ok(None);
        };
        let Some(dir) = &self.dir else { return Ok(None) };
        let path = Self::path(dir, version, false);
        let text = std::fs::read(&path)?;
        let settings: Settings = serde_json::from_slice(&text)
            .map_err(|e| anyhow::anyhow!("cannot read the settings {}: {e}", path.display()))?;
        Ok(Some(settings))
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
