//! Suggestions as served: the live [`Suggester`] (swapped whole, so a keystroke never waits
//! for a rebuild), the query log searches feed, the background refresh, and the built
//! suggestions kept on disk with the catalog version they belong to, so a start serves them at
//! once instead of rebuilding them from a scan of the catalog.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
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
    /// The catalog version the base completions were built at (names their kept file).
    base_version: u64,
    /// A digest of the popular queries the query completions were built from.
    queries_digest: u64,
    /// When the suggestions were last kept on disk.
    kept_at: Option<Instant>,
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
    /// Where the built suggestions are kept (`None`: in memory only).
    store: Option<PathBuf>,
}

/// What names the kept suggestions: the versions of the base catalog completions and of the
/// query completions (which name their files), the catalog version they serve, and the ids
/// written since the base was built (read again from the index at a start).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Kept {
    format: u32,
    /// The index's catalog version the suggestions reflect: a start uses them only when the
    /// index is still at that version.
    catalog_version: u64,
    base_version: u64,
    queries_digest: u64,
    changed: Vec<String>,
    weights: searchd_autocomplete::Weights,
    /// `autocomplete.max_products` they were built with (absent in older files: rebuilt).
    #[serde(default)]
    max_products: usize,
}

/// The kept base catalog completions built at catalog version `base`.
fn catalog_file(base: u64) -> String {
    format!("catalog-{base:016x}.cbor")
}

/// The kept query completions built from the popular queries of digest `digest`.
fn queries_file(digest: u64) -> String {
    format!("queries-{digest:016x}.cbor")
}

/// A written product as the index holds it now (`None`: deleted since).
fn read_written(index: &ProductIndex, id: &str) -> anyhow::Result<Option<Product>> {
    match index.get(id) {
        Ok(p) => Ok(Some(p)),
        Err(searchd_indexer::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

const KEPT_FORMAT: u32 = 1;
const KEPT_FILE: &str = "suggestions.json";
/// Kept suggestions are written at most this often after delta rebuilds (a full rebuild or a
/// stop writes them at once).
const KEEP_EVERY: Duration = Duration::from_secs(10);

impl Autocomplete {
    /// Empty suggestions over `log`; [`Autocomplete::refresh`] builds them.
    pub fn new(log: QueryLog, config: AutocompleteConfig) -> Self {
        Self {
            suggester: ArcSwap::from_pointee(Suggester::default()),
            log,
            config,
            built: Mutex::default(),
            version: AtomicU64::default(),
            store: None,
        }
    }

    /// Keeps the built suggestions in `dir` (see [`restore`](Self::restore)).
    pub fn kept_in(mut self, dir: PathBuf) -> Self {
        self.store = Some(dir);
        self
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

    /// The `n` queries searched most with results, most first (ties by text).
    pub fn top_queries(&self, n: usize) -> Vec<(String, u64)> {
        most_searched(&self.log, n)
    }

    /// How often `query` was searched with results (see [`QueryLog::found`]).
    pub fn searched_with_results(&self, query: &str) -> u64 {
        self.log.found(query)
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
                            let product = read_written(index, &id)?;
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
                    let mut builder = CatalogBuilder::new().with_max_products(self.config.max_products);
                    let generation = index.for_each_product(|p| builder.add(&p, &self.config.weights))?;
                    catalog = Arc::new(builder.build(&self.config.weights)?);
                    delta = Arc::new(CatalogDelta::empty());
                    built.changed.clear();
                    built.position = Some(position);
                    built.generation = Some(generation);
                    built.catalog_version = catalog_version;
                    built.base_version = catalog_version;
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
            let full = !Arc::ptr_eq(&catalog, current.catalog());
            let new_queries = !Arc::ptr_eq(&queries, current.queries());
            self.serve(&built, Suggester::with_delta(catalog, delta, queries));
            let due = built.kept_at.is_none_or(|at| at.elapsed() >= KEEP_EVERY);
            if full || new_queries || due || force {
                if let Err(e) = self.keep(&mut built, full, new_queries) {
                    tracing::warn!(error = %e, "cannot keep the suggestions on disk; a start rebuilds them");
                }
            }
        }
        Ok(rebuilt)
    }

    /// Swaps `suggester` in, under the version of what `built` says it was built from.
    fn serve(&self, built: &Built, suggester: Suggester) {
        self.suggester.store(Arc::new(suggester));
        self.version.store(built.catalog_version ^ built.queries_digest.rotate_left(29), Ordering::Release);
    }

    /// Keeps the serving suggestions on disk now (a stop calls it after its last commit).
    pub fn keep_serving(&self) -> anyhow::Result<()> {
        let mut built = self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if built.generation.is_none() {
            return Ok(());
        }
        self.keep(&mut built, false, false)
    }

    /// Writes the serving suggestions to the store: the base and query completions when they
    /// are new (each file named by what it holds), then the file naming them, replaced
    /// atomically; older files go.
    fn keep(&self, built: &mut Built, full: bool, new_queries: bool) -> anyhow::Result<()> {
        let Some(dir) = &self.store else { return Ok(()) };
        let started = Instant::now();
        std::fs::create_dir_all(dir)?;
        let suggester = self.suggester.load_full();
        let (catalog_file, queries_file) = (catalog_file(built.base_version), queries_file(built.queries_digest));
        let write =
            |name: &str, fresh: bool, what: &dyn Fn(&mut std::io::BufWriter<std::fs::File>) -> anyhow::Result<()>| {
                let path = dir.join(name);
                if !fresh && path.exists() {
                    return Ok::<_, anyhow::Error>(());
                }
                let tmp = dir.join(format!("{name}.tmp"));
                let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
                what(&mut out)?;
                std::io::Write::flush(&mut out)?;
                out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                std::fs::rename(&tmp, &path)?;
                Ok(())
            };
        write(&catalog_file, full, &|out| Ok(suggester.catalog().write(out)?))?;
        write(&queries_file, new_queries, &|out| Ok(suggester.queries().write(out)?))?;
        let kept = Kept {
            format: KEPT_FORMAT,
            catalog_version: built.catalog_version,
            base_version: built.base_version,
            queries_digest: built.queries_digest,
            changed: built.changed.keys().cloned().collect(),
            weights: self.config.weights.clone(),
            max_products: self.config.max_products,
        };
        write(KEPT_FILE, true, &|out| Ok(serde_json::to_writer(out, &kept)?))?;
        for entry in std::fs::read_dir(dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".cbor") && name != catalog_file && name != queries_file {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        built.kept_at = Some(Instant::now());
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, full, "suggestions kept");
        Ok(())
    }

    /// Serves the kept suggestions when they belong to the index as it is (same catalog
    /// version, same weights): the base and query completions are read, the products written
    /// since the base are read again from the index. Returns whether it did; otherwise
    /// [`refresh_now`](Self::refresh_now) builds them. A damaged or stale store is logged and
    /// left for the next build to replace.
    pub fn restore(&self, index: &ProductIndex) -> bool {
        let Some(dir) = &self.store else { return false };
        let started = Instant::now();
        match self.read_kept(dir, index) {
            Ok(Some(products)) => {
                tracing::info!(products, ms = started.elapsed().as_secs_f64() * 1e3, "suggestions restored from disk");
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "the kept suggestions cannot be read; they are rebuilt");
                false
            }
        }
    }

    fn read_kept(&self, dir: &Path, index: &ProductIndex) -> anyhow::Result<Option<usize>> {
        let path = dir.join(KEPT_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let kept: Kept = serde_json::from_slice(&std::fs::read(&path)?)?;
        let mut built = self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Before the generation, as a refresh reads them.
        let (catalog_version, generation, position) =
            (index.catalog_version(), index.generation(), index.change_position());
        if kept.format != KEPT_FORMAT
            || kept.weights != self.config.weights
            || kept.max_products != self.config.max_products
            || kept.catalog_version != catalog_version
        {
            tracing::info!(
                kept = kept.catalog_version,
                index = catalog_version,
                "the kept suggestions are for another catalog version, weights or product limit; they are rebuilt"
            );
            return Ok(None);
        }
        let open = |name: &str| std::fs::File::open(dir.join(name)).map(std::io::BufReader::new);
        let catalog =
            Arc::new(searchd_autocomplete::CatalogCompletions::read(open(&catalog_file(kept.base_version))?)?);
        let queries = Arc::new(searchd_autocomplete::Completions::read(open(&queries_file(kept.queries_digest))?)?);
        let mut changed = HashMap::new();
        for id in kept.changed {
            let product = read_written(index, &id)?;
            changed.insert(id, product);
        }
        let delta = if changed.is_empty() {
            CatalogDelta::empty()
        } else {
            CatalogDelta::build(
                &catalog,
                changed.iter().map(|(id, p)| (id.as_str(), p.as_ref())),
                &self.config.weights,
            )?
        };
        let products = catalog.products.len();
        *built = Built {
            generation: Some(generation),
            position: Some(position),
            changed,
            // The log's searches since are counted at the next due rebuild.
            log_changes: None,
            queries_at: Some(Instant::now()),
            catalog_version,
            base_version: kept.base_version,
            queries_digest: kept.queries_digest,
            kept_at: Some(Instant::now()),
        };
        self.serve(&built, Suggester::with_delta(catalog, Arc::new(delta), queries));
        Ok(Some(products))
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
            // Until the node is ready, its start restores or builds the suggestions.
            if !state.ready.load(Ordering::Acquire) {
                if !matches!(
                    stopped.recv_timeout(Duration::from_millis(50)),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                ) {
                    break;
                }
                continue;
            }
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

/// The `n` queries of `log` searched most with results, most first (ties by text).
fn most_searched(log: &QueryLog, n: usize) -> Vec<(String, u64)> {
    let mut all = log.popular(1);
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

/// The `n` queries searched most with results in the data dir's query log, most first: what
/// `searchd eval --settings` replays (the log is read, not kept open).
pub fn logged_queries(config: &crate::EngineConfig, n: usize) -> anyhow::Result<Vec<(String, u64)>> {
    let path = config.query_log_path();
    let log = QueryLog::open(&path, config.autocomplete.max_queries)
        .map_err(|e| anyhow::anyhow!("cannot read the query log {}: {e}", path.display()))?;
    Ok(most_searched(&log, n))
}
