//! Suggestions as served: the live [`Suggester`] (swapped whole, so a keystroke never waits
//! for a rebuild), the query log searches feed, and the background refresh.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use searchd_autocomplete::{CatalogBuilder, CatalogDelta, Kinds, QueryLog, Suggester, Suggestion, query_completions};
use searchd_catalog::Product;
use searchd_indexer::ProductIndex;

use crate::{AutocompleteConfig, Engine};

/// What the last refresh built from.
#[derive(Debug, Default)]
struct Built {
    generation: Option<u64>,
    /// The index change-feed position the catalog completions (base + delta) reflect.
    position: Option<u64>,
    /// Products written since the base was built, as last read (`None`: deleted): the delta.
    changed: HashMap<String, Option<Product>>,
    log_changes: Option<u64>,
    queries_at: Option<Instant>,
    /// The index's catalog version the catalog completions were built at.
    catalog_version: u64,
    /// A digest of the popular queries the query completions were built from.
    queries_digest: u64,
}

/// The delta is folded into a full rebuild once it holds this many products, or 5% of the base.
const DELTA_MIN: usize = 1_000;

/// The live suggester and what keeps it fresh.
#[derive(Debug)]
pub struct Autocomplete {
    suggester: ArcSwap<Suggester>,
    log: QueryLog,
    config: AutocompleteConfig,
    built: Mutex<Built>,
    /// What the serving suggester was built from, as a number caches key on (see
    /// [`Self::version`]).
    version: AtomicU64,
}

impl Autocomplete {
    /// Empty suggestions over `log`; [`Autocomplete::refresh`] builds them.
    pub fn new(log: QueryLog, config: AutocompleteConfig) -> Self {
        Self {
            suggester: ArcSwap::from_pointee(Suggester::default()),
            log,
            config,
            built: Mutex::default(),
            version: AtomicU64::default(),
        }
    }

    /// The serving suggester's inputs as one number: the catalog version its completions were
    /// built at and a digest of the popular queries (0 before the first build). Equal inputs give
    /// equal suggestions, on any node. Read it *before* suggesting: it is stored after the
    /// suggester, so a reader never files older suggestions under a newer version.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The suggester serving now.
    pub fn suggester(&self) -> Arc<Suggester> {
        self.suggester.load_full()
    }

    /// Up to `limit` suggestions of `kinds` for what was typed.
    pub fn suggest(&self, text: &str, limit: usize, kinds: Kinds) -> Vec<Suggestion> {
        self.suggester.load().suggest(text, limit, kinds)
    }

    /// The query log searches feed.
    pub fn log(&self) -> &QueryLog {
        &self.log
    }

    /// Counts an executed search for the popular queries.
    pub fn record(&self, query: &str, hits: u64) {
        self.log.record(query, hits);
    }

    /// Rebuilds what is stale and swaps the result in. After index commits, the products
    /// written since the base completions were built (the index's change feed) become a delta
    /// — work in proportion to what changed; once the delta passes 1,000 products or 5% of the
    /// base, or when the feed no longer reaches back, the base is rebuilt from a full scan. The
    /// query completions are rebuilt when the log changed (at most every `query_refresh_secs`
    /// unless `force`). Blocking; returns whether anything was rebuilt. A refresh already
    /// running makes this call return at once instead of queueing.
    pub fn refresh(&self, index: &ProductIndex, force: bool) -> anyhow::Result<bool> {
        let Ok(built) = self.built.try_lock() else { return Ok(false) };
        self.refresh_holding(built, index, force)
    }

    /// As [`refresh`](Self::refresh), but a refresh already running is waited for, then this
    /// one runs: what a start calls before it says ready, so that the suggestions served then
    /// are built (the periodic refresher may have started a build of its own meanwhile).
    pub fn refresh_now(&self, index: &ProductIndex, force: bool) -> anyhow::Result<bool> {
        let built = self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.refresh_holding(built, index, force)
    }

    fn refresh_holding(
        &self,
        mut built: std::sync::MutexGuard<'_, Built>,
        index: &ProductIndex,
        force: bool,
    ) -> anyhow::Result<bool> {
        let current = self.suggester.load_full();
        let mut catalog = current.catalog().clone();
        let mut delta = current.delta().clone();
        let mut queries = current.queries().clone();
        let mut rebuilt = false;

        // Before the generation: a commit in between is replayed at the next refresh.
        let catalog_version = index.catalog_version();
        let generation = index.generation();
        if built.generation != Some(generation) {
            let started = Instant::now();
            // Ids committed since the last refresh, when the feed still reaches back that far.
            let feed = built.position.map(|position| index.changes_since(position));
            let feed = feed.and_then(|changes| Some((changes.position, changes.ids?)));
            let ids: HashSet<String> = feed.as_ref().map(|(_, ids)| ids.iter().cloned().collect()).unwrap_or_default();
            let distinct = built.changed.len() + ids.iter().filter(|id| !built.changed.contains_key(*id)).count();
            match feed {
                Some((position, _)) if distinct <= DELTA_MIN.max(catalog.products.len() / 20) => {
                    if !ids.is_empty() {
                        // Only the ids these commits wrote are read again.
                        for id in ids {
                            let product = match index.get(&id) {
                                Ok(p) => Some(p),
                                Err(searchd_indexer::Error::NotFound(_)) => None,
                                Err(e) => return Err(e.into()),
                            };
                            built.changed.insert(id, product);
                        }
                        let changed = built.changed.iter().map(|(id, p)| (id.as_str(), p.as_ref()));
                        delta = Arc::new(CatalogDelta::build(&catalog, changed, &self.config.weights)?);
                        rebuilt = true;
                        tracing::debug!(
                            changed = delta.changed(),
                            ms = started.elapsed().as_secs_f64() * 1e3,
                            "catalog completions delta rebuilt"
                        );
                    }
                    built.position = Some(position);
                    built.generation = Some(generation);
                    built.catalog_version = catalog_version;
                }
                _ => {
                    // The position first: writes committed during the scan are replayed later.
                    let position = index.change_position();
                    let mut builder = CatalogBuilder::new();
                    let generation = index.for_each_product(|p| builder.add(&p, &self.config.weights))?;
                    catalog = Arc::new(builder.build(&self.config.weights)?);
                    delta = Arc::new(CatalogDelta::empty());
                    built.changed.clear();
                    built.position = Some(position);
                    built.generation = Some(generation);
                    built.catalog_version = catalog_version;
                    rebuilt = true;
                    tracing::info!(
                        generation,
                        products = catalog.products.len(),
                        keys = catalog.products.keys(),
                        brands = catalog.brands.len(),
                        categories = catalog.categories.len(),
                        mib = (catalog.products.heap_bytes()
                            + catalog.brands.heap_bytes()
                            + catalog.categories.heap_bytes()) as f64
                            / f64::from(1 << 20),
                        ms = started.elapsed().as_secs_f64() * 1e3,
                        "catalog completions rebuilt"
                    );
                }
            }
        }

        let changes = self.log.changes();
        let due = force
            || built.queries_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(self.config.query_refresh_secs));
        if built.log_changes != Some(changes) && due {
            let started = Instant::now();
            let popular = self.log.popular(self.config.min_query_count);
            built.queries_digest = popular.iter().fold(0, |d, (q, n)| d ^ searchd_indexer::entry_digest(q, *n));
            queries = Arc::new(query_completions(popular, &self.config.weights)?);
            built.log_changes = Some(changes);
            built.queries_at = Some(Instant::now());
            rebuilt = true;
            tracing::debug!(
                queries = queries.len(),
                ms = started.elapsed().as_secs_f64() * 1e3,
                "query completions rebuilt"
            );
        }

        if rebuilt {
            self.suggester.store(Arc::new(Suggester::with_delta(catalog, delta, queries)));
            self.version.store(built.catalog_version ^ built.queries_digest.rotate_left(29), Ordering::Release);
        }
        Ok(rebuilt)
    }

    /// Writes the query log when it changed.
    pub fn flush(&self) -> std::io::Result<bool> {
        self.log.flush()
    }
}

/// The background refresher: a thread of its own at the lowest scheduling priority
/// (`SCHED_IDLE`), so a rebuild only takes CPU time that requests leave idle, and requests never wait for
/// it. It builds at once when started, then every `refresh_interval_ms` rebuilds what is stale;
/// every `flush_interval_secs` it writes the query log.
#[derive(Debug)]
pub struct Refresher {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Refresher {
    /// Stops the thread, waiting for a rebuild in progress to finish.
    pub fn stop(self) {
        drop(self.stop);
        if self.thread.join().is_err() {
            tracing::error!("the autocomplete refresher panicked");
        }
    }
}

/// `SCHED_IDLE` where the OS has it (the thread runs only on an otherwise idle core and is
/// preempted as soon as a request's thread wakes), else the lowest niceness.
fn lower_priority() {
    use thread_priority::{NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy};
    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    if thread_priority::set_thread_priority_and_policy(thread_priority::thread_native_id(), ThreadPriority::Min, idle)
        .is_ok()
    {
        return;
    }
    if let Err(e) = thread_priority::set_current_thread_priority(ThreadPriority::Min) {
        tracing::warn!(error = ?e, "cannot lower the autocomplete refresher's priority");
    }
}

/// Starts the refresher of `autocomplete` over `index`.
pub fn spawn_autocomplete_refresher(state: Engine) -> std::io::Result<Refresher> {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let every = Duration::from_millis(state.autocomplete.config.refresh_interval_ms);
    let flush_every = Duration::from_secs(state.autocomplete.config.flush_interval_secs);
    let thread = std::thread::Builder::new().name("autocomplete-refresh".into()).spawn(move || {
        lower_priority();
        let mut flushed = Instant::now();
        loop {
            let autocomplete = &state.autocomplete;
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| autocomplete.refresh(&state.index, false)));
            match outcome {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "autocomplete refresh failed; the previous suggestions stay"),
                Err(_) => tracing::error!("autocomplete refresh panicked; the previous suggestions stay"),
            }
            // A message or a dropped sender both mean stop.
            if !matches!(stopped.recv_timeout(every), Err(std::sync::mpsc::RecvTimeoutError::Timeout)) {
                break;
            }
            if flushed.elapsed() >= flush_every {
                flushed = Instant::now();
                if let Err(e) = autocomplete.flush() {
                    tracing::error!(error = %e, "cannot write the query log");
                }
            }
        }
    })?;
    Ok(Refresher { stop, thread })
}
