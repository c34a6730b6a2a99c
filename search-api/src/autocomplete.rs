//! Autocomplete in the API: the live [`Suggester`] (swapped whole, so a keystroke never waits
//! for a rebuild), the query log searches feed, the background refresh, and `GET /v1/autocomplete`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::extract::{RawQuery, State};
use searchd_autocomplete::{
    CatalogBuilder, CatalogDelta, DEFAULT_LIMIT, Kind, Kinds, MAX_INPUT_CHARS, MAX_LIMIT, QueryLog, Suggester,
    Suggestion, query_completions,
};
use searchd_catalog::Product;
use searchd_indexer::ProductIndex;
use serde::Serialize;

use axum::body::Bytes;
use axum::response::Response;

use crate::AppState;
use crate::cache::{self, Outcome};
use crate::config::AutocompleteConfig;
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::routes::json_body;

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

    pub fn suggest(&self, text: &str, limit: usize, kinds: Kinds) -> Vec<Suggestion> {
        self.suggester.load().suggest(text, limit, kinds)
    }

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
        let Ok(mut built) = self.built.try_lock() else { return Ok(false) };
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

pub fn spawn_autocomplete_refresher(state: AppState) -> std::io::Result<Refresher> {
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

/// Parameters `GET /v1/autocomplete` accepts.
pub const AUTOCOMPLETE_PARAMS: [&str; 3] = ["q", "limit", "types"];

/// A parsed `GET /v1/autocomplete` query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutocompleteQuery {
    pub q: String,
    pub limit: usize,
    pub kinds: Kinds,
}

/// Parses `q`, `limit` (default 8, capped at 20) and `types` (comma-separated kinds); anything
/// else, a repeated parameter, an over-long `q` or a bad value is a 400 naming it.
pub fn parse_autocomplete_query(raw: &str) -> Result<AutocompleteQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| {
        ApiError::new(Code::UnknownAutocompleteParameter, format!("the query string is malformed: {e}"))
    })?;
    let invalid = |param: &str, reason: String| {
        ApiError::new(Code::InvalidAutocompleteParam(param.into()), format!("invalid `{param}`: {reason}"))
    };
    let mut query = AutocompleteQuery { q: String::new(), limit: DEFAULT_LIMIT, kinds: Kinds::ALL };
    let mut seen = Vec::new();
    for (key, value) in &pairs {
        let Some(&param) = AUTOCOMPLETE_PARAMS.iter().find(|p| **p == key) else {
            return Err(ApiError::new(
                Code::UnknownAutocompleteParameter,
                format!("unknown parameter `{key}`, expected one of: {}", AUTOCOMPLETE_PARAMS.join(", ")),
            ));
        };
        if seen.contains(&param) {
            return Err(invalid(param, "given more than once".into()));
        }
        seen.push(param);
        match param {
            "q" => {
                let chars = value.chars().count();
                if chars > MAX_INPUT_CHARS {
                    return Err(invalid("q", format!("{chars} characters, at most {MAX_INPUT_CHARS} are accepted")));
                }
                query.q = value.clone();
            }
            "limit" => {
                let n: usize = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| invalid("limit", format!("`{value}` is not a whole number ≥ 1")))?;
                query.limit = n.min(MAX_LIMIT);
            }
            _ => {
                let mut kinds = Kinds::NONE;
                for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let kind = Kind::parse(name).ok_or_else(|| {
                        invalid("types", format!("unknown type `{name}`, expected query, product, brand or category"))
                    })?;
                    kinds = kinds.with(kind);
                }
                if kinds.is_empty() {
                    return Err(invalid("types", "name at least one of query, product, brand, category".into()));
                }
                query.kinds = kinds;
            }
        }
    }
    Ok(query)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AutocompleteResponse {
    pub q: String,
    pub suggestions: Vec<Suggestion>,
    pub took_ms: f64,
}

/// `GET /v1/autocomplete`: answered on the async worker, no blocking pool hop — a keystroke
/// costs microseconds and reads an immutable snapshot.
#[utoipa::path(get, path = "/v1/autocomplete", tag = "autocomplete", params(crate::openapi::AutocompleteParams),
    responses(
        (status = 200, description = "Suggestions, best first", body = AutocompleteResponse,
         headers(("x-cache" = String, description = "`hit`, `miss` or `bypass`")),
         example = json!({"q": "cordl", "took_ms": 0.21, "suggestions": [
            {"type": "query", "text": "cordless drill", "highlight": "<em>cordl</em>ess drill", "typos": 0,
             "score": 3.2, "count": 41},
            {"type": "product", "text": "20V MAX Cordless Drill", "highlight": "20V MAX <em>Cordl</em>ess Drill",
             "typos": 0, "score": 2.7, "id": "sku-1"}]})),
        (status = 400, description = "A parameter is unknown or bad; the code names it", body = ErrorBody)))]
pub async fn autocomplete(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let started = Instant::now();
    let query = parse_autocomplete_query(raw.as_deref().unwrap_or(""))?;
    // The version before suggesting (see `Autocomplete::version`).
    let key = state.cache.enabled().then(|| {
        let normalized = format!("{}\u{0}{}\u{0}{:?}", query.q, query.limit, query.kinds);
        state.cache.key(cache::Kind::Autocomplete, &format!("{:016x}", state.autocomplete.version()), &normalized)
    });
    if let Some(key) = &key
        && let Some(body) = state.cache.get(cache::Kind::Autocomplete, key).await
    {
        return Ok(json_body(body, Outcome::Hit));
    }
    let suggestions = state.autocomplete.suggest(&query.q, query.limit, query.kinds);
    let response = AutocompleteResponse { q: query.q, suggestions, took_ms: started.elapsed().as_secs_f64() * 1e3 };
    let body = Bytes::from(serde_json::to_vec(&response).map_err(ApiError::internal)?);
    let Some(key) = key else { return Ok(json_body(body, Outcome::Bypass)) };
    state.cache.put(key, body.clone()).await;
    Ok(json_body(body, Outcome::Miss))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_parameters() {
        let q = parse_autocomplete_query("q=cordless+dri&limit=50&types=query,product").unwrap();
        assert_eq!(q.q, "cordless dri");
        assert_eq!(q.limit, MAX_LIMIT);
        assert!(q.kinds.contains(Kind::Product) && !q.kinds.contains(Kind::Brand));
        assert_eq!(parse_autocomplete_query("").unwrap().limit, DEFAULT_LIMIT);
        let code = |raw: &str| parse_autocomplete_query(raw).unwrap_err().code().name();
        assert_eq!(code("q=a&size=3"), "unknown_autocomplete_parameter");
        assert_eq!(code("limit=0"), "invalid_autocomplete_limit");
        assert_eq!(code("limit=abc"), "invalid_autocomplete_limit");
        assert_eq!(code("types=query,vendor"), "invalid_autocomplete_types");
        assert_eq!(code("types=,"), "invalid_autocomplete_types");
        assert_eq!(code("q=a&q=b"), "invalid_autocomplete_q");
        assert_eq!(code(&format!("q={}", "é".repeat(201))), "invalid_autocomplete_q");
        assert!(parse_autocomplete_query(&format!("q={}", "é".repeat(200))).is_ok());
    }
}
