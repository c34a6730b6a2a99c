//! `searchd`: serve the search API, bulk-index files, evaluate relevance.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use searchd_api::crawl::CrawlTarget;
use searchd_api::eval::{self, EvalOptions};
use searchd_api::publish::{PublishKind, PublishOptions};
use searchd_api::recommend::spawn_recommendation_tasks;
use searchd_api::{
    AppState, Config, LogFormat, Ranking, demo, router, spawn_autocomplete_refresher, spawn_commit_loop,
    spawn_ranking_tasks,
};
use searchd_catalog::RankingMode;
use searchd_indexer::{FieldMap, IngestOptions, IngestProgress, InputFormat, ProductIndex, RowError, VendorIndex};
use tracing_subscriber::EnvFilter;

#[derive(Parser, Debug)]
#[command(name = "searchd", version, about = "Search, ranking and recommendation engine for marketplaces")]
struct Cli {
    /// Folder holding the index.
    #[arg(long, global = true, env = "SEARCHD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file (environment `SEARCHD_*` and flags override it).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Demo mode: load the built-in demo catalog when the index is empty (done by default
        /// when the data dir holds no index at all) and switch API keys off (`[auth] enabled`).
        #[arg(long)]
        demo: bool,
    },
    /// Snapshots of the data dir: create one (no server may hold the index; with one running,
    /// `POST /v1/admin/snapshots`), list them, or restore one into a new data dir.
    Snapshot {
        #[command(subcommand)]
        action: SnapshotAction,
    },
    /// Manage API keys: stored hashed in the data dir (`keys.json`); a running server picks
    /// changes up within `auth.reload_interval_ms`.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Bulk-index a CSV or JSONL file of products or vendors (gzip detected automatically).
    Index {
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// What the file holds.
        #[arg(long, default_value = "products", value_parser = ["products", "vendors"])]
        kind: String,
        /// Input format; guessed from the file name when absent.
        #[arg(long, value_parser = ["csv", "jsonl"])]
        format: Option<String>,
        /// Column mapping, e.g. `id=product_uid,title=title,category=cat+subcat` (vendors:
        /// `name=company,lat=latitude,lon=longitude,service_radius_km=radius,categories=a+b`).
        #[arg(long, default_value = "")]
        map: String,
        /// Language (ISO 639-1) of rows without a `language` column value, as a feed declares
        /// its locale; skips per-row detection. Absent: each row's language is detected.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Evaluate relevance and latency on graded judgments (`query,product_uid,relevance` CSV).
    Eval {
        #[arg(long, value_name = "FILE")]
        judgments: PathBuf,
        /// Cut-off of nDCG.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// `default`: phase 1 and the trained model from the data dir when there is one;
        /// `phase1`: without the model; `bm25`: plain BM25 on the text fields only.
        #[arg(long, default_value = "default", value_parser = ["default", "phase1", "bm25"])]
        ranking: String,
        /// Also count brand and category facets for every query.
        #[arg(long)]
        facets: bool,
        /// Write every query's metrics and the ranks of its judged products to FILE, one JSON
        /// object a line.
        #[arg(long, value_name = "FILE")]
        per_query: Option<PathBuf>,
    },
    /// Train the recommendations (similar products, bought together) now, as the nightly
    /// schedule does, and save them as the next model version (a running server picks it up).
    /// Needs the index to itself; with a server running, `POST /v1/admin/recommendations/refresh`.
    Train,
    /// Manage the saved recommendation models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
    /// Publish a file's rows as catalog events on a Kafka topic (`[kafka] brokers`): product or
    /// vendor rows become upserts keyed by id; `events` sends JSONL events line by line as they are.
    Publish(PublishArgs),
    /// Crawl web shops for product pages (robots.txt, per-site politeness, schema.org
    /// extraction) and index their products or publish them to Kafka; `--retention` instead
    /// archives crawled pages older than `[crawler] retention_days`.
    Crawl(CrawlArgs),
    /// Train the phase-2 ranker from graded judgments (and click-derived labels with
    /// `--events`), save it as the data dir's next model version (a running server loads it
    /// within `ranker.poll_interval_ms`); with `--folds`, cross-validate by query first.
    TrainRanker {
        /// `query,product_uid,relevance` CSV (gzip or plain).
        #[arg(long, value_name = "FILE")]
        judgments: Option<PathBuf>,
        /// Also learn from the data dir's click events (position-bias corrected click-through).
        #[arg(long)]
        events: bool,
        /// Cross-validate by query with this many folds and print each fold before training
        /// the model on everything.
        #[arg(long)]
        folds: Option<usize>,
        /// Cross-validate only; save nothing.
        #[arg(long)]
        no_save: bool,
        /// L2 penalty of the logistic regression.
        #[arg(long, default_value_t = 1.0)]
        alpha: f64,
        /// Cut-off of the cross-validation's nDCG.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Also train on candidates nobody graded, with this grade (1 = not relevant); `none`
        /// trains on graded candidates only.
        #[arg(long, default_value = "1", value_name = "GRADE|none")]
        unjudged_label: String,
        /// Unjudged candidates per query at most (spread evenly over the window).
        #[arg(long, default_value_t = 48)]
        unjudged_per_query: usize,
        /// Do not learn query expansions (title words that come with a query word in relevant
        /// results) for phase 1 to search.
        #[arg(long)]
        no_expansions: bool,
    },
}

#[derive(Subcommand, Debug)]
enum SnapshotAction {
    /// Take a snapshot now (tag `manual`).
    Create,
    /// List the snapshots: name, tag, time, size, SHA-256.
    List,
    /// Check a snapshot's checksums and extract it into a new data dir.
    Restore {
        /// The snapshot's name (`snapshot-20261122T103000Z-3-hourly`).
        name: String,
        /// The data dir to create (must not exist or be empty).
        #[arg(long, value_name = "DIR")]
        into: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum KeysAction {
    /// Create a key and print it; the key itself is shown this once only.
    Create {
        /// `search` (safe in a storefront page), `write`, `admin` (implies both), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// A label to recognize it by (`searchd keys list`, `revoke`).
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List the keys: id, name, scopes, creation and revocation times (never the secrets).
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key, by id or by name.
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
enum ModelsAction {
    /// List the saved similar-products versions and which one is current.
    List,
    /// Serve the version before the current one again (a running server loads it within
    /// `recommendations.poll_interval_ms`).
    Rollback,
}

#[derive(clap::Args, Debug)]
struct CrawlArgs {
    /// Start URLs: shop pages, or sitemaps (by file name: `.xml`, `.xml.gz`).
    #[arg(long, num_args = 1.., required_unless_present = "retention")]
    seeds: Vec<String>,
    /// Stop after fetching this many pages (overrides `[crawler] max_pages`).
    #[arg(long)]
    max_pages: Option<u64>,
    /// Where products go: `index` (this data dir's index; no server may be running on it) or
    /// `kafka` (the topic serving nodes consume). Default: kafka when `[kafka] enabled`, else index.
    #[arg(long, value_parser = ["index", "kafka"])]
    publish: Option<String>,
    /// Kafka topic (default: the first of `[kafka] product_topics`).
    #[arg(long)]
    topic: Option<String>,
    #[command(flatten)]
    producer: ProducerArgs,
    /// Archive crawled pages older than `[crawler] retention_days`, then exit.
    #[arg(long, conflicts_with = "seeds")]
    retention: bool,
}

#[derive(clap::Args, Debug)]
struct PublishArgs {
    /// The topic to produce to (created when missing).
    #[arg(long)]
    topic: String,
    /// CSV or JSONL file, gzip or plain.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// `products` and `vendors`: rows become upserts; `events`: JSONL catalog or vendor events,
    /// sent line by line as they are.
    #[arg(long, default_value = "products", value_parser = ["products", "vendors", "events"])]
    kind: String,
    /// Input format of product and vendor rows; guessed from the file name when absent.
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: Option<String>,
    /// Column mapping, as for `searchd index`.
    #[arg(long, default_value = "")]
    map: String,
    #[command(flatten)]
    producer: ProducerArgs,
}

/// How `publish` and `crawl` produce to Kafka.
#[derive(clap::Args, Debug)]
struct ProducerArgs {
    /// Brokers (`host:port,...`); default `kafka.brokers`.
    #[arg(long)]
    brokers: Option<String>,
    /// Partitions of the topic when it does not exist yet (it is created).
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// A librdkafka producer setting, repeatable: `-X linger.ms=0`.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE")]
    properties: Vec<String>,
}

impl ProducerArgs {
    /// `--brokers` over `[kafka] brokers`.
    fn apply(&mut self, kafka: &mut searchd_indexer::kafka::KafkaConfig) {
        if let Some(brokers) = self.brokers.take() {
            kafka.brokers = brokers;
        }
    }

    /// The `-X` settings as pairs.
    fn properties(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.properties
            .iter()
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .with_context(|| format!("-X {p}: expected KEY=VALUE"))
            })
            .collect()
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref()).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    init_logging(&config);
    match cli.command {
        Command::Serve { listen, demo } => {
            if let Some(listen) = listen {
                config.http.listen = listen;
            }
            serve(config, demo)
        }
        Command::Keys { action } => keys(&config, action),
        Command::Snapshot { action } => snapshot(&config, action),
        Command::Index { input, kind, format, map, lang } => {
            index(&config, &input, &kind, format.as_deref(), &map, lang)
        }
        Command::Eval { judgments, k, ranking, facets, per_query } => {
            let ranking: RankingMode = ranking.parse()?;
            evaluate(&config, &judgments, EvalOptions { k, ranking, facets }, per_query.as_deref())
        }
        Command::Train => {
            let state = AppState::open(&config)?;
            let report = state.recommendations.refresh(&state.index, &state.ranking.events)?;
            println!(
                "trained recommendations {}: {} products, {} clusters, bought-together for {} products in {:.2} s",
                report.version, report.products, report.clusters, report.bought_together, report.seconds
            );
            Ok(())
        }
        Command::Models { action } => {
            let store = searchd_models::SimilarStore::new(config.similar_dir(), config.recommendations.keep);
            match action {
                ModelsAction::List => {
                    let current = store.current_name()?;
                    for v in store.versions()? {
                        let name = format!("similar-{v:06}.json");
                        let mark = if current.as_deref() == Some(name.as_str()) { " (current)" } else { "" };
                        println!("v{v:06}{mark}");
                    }
                }
                ModelsAction::Rollback => println!("current similar-products model: {}", store.rollback()?),
            }
            Ok(())
        }
        Command::Publish(mut args) => {
            args.producer.apply(&mut config.kafka);
            publish(&config, args)
        }
        Command::Crawl(mut args) => {
            args.producer.apply(&mut config.kafka);
            crawl(&config, args)
        }
        Command::TrainRanker {
            judgments,
            events,
            folds,
            no_save,
            alpha,
            k,
            unjudged_label,
            unjudged_per_query,
            no_expansions,
        } => {
            let unjudged_label = match unjudged_label.as_str() {
                "none" => None,
                grade => Some(
                    grade
                        .parse::<f32>()
                        .ok()
                        .filter(|g| g.is_finite())
                        .with_context(|| format!("--unjudged-label: `{grade}` is neither a grade nor `none`"))?,
                ),
            };
            let options = searchd_models::TrainOptions {
                alpha,
                unjudged_label,
                max_unjudged_per_query: unjudged_per_query,
                ..Default::default()
            };
            let expansion = (!no_expansions).then(searchd_models::ExpansionOptions::default);
            train_ranker(&config, judgments.as_deref(), events, folds, no_save, options, expansion.as_ref(), k)
        }
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

fn snapshot(config: &Config, action: SnapshotAction) -> anyhow::Result<()> {
    let snapshots = searchd_api::snapshot::Snapshots::new(config);
    match action {
        SnapshotAction::Create => {
            let state = AppState::open(config).map_err(|e| {
                anyhow::anyhow!("{e:#}; with a server running, use POST /v1/admin/snapshots (admin key) instead")
            })?;
            let manifest = snapshots.create(&state, searchd_api::snapshot::MANUAL, chrono::Utc::now())?;
            println!(
                "{} ({} products, {} files) in {}",
                manifest.name,
                manifest.products,
                manifest.files.len(),
                snapshots.dir().display()
            );
        }
        SnapshotAction::List => {
            for s in snapshots.list()? {
                println!("{}  {:<10} {}  {:>12} bytes  sha256 {}", s.name, s.tag, s.created_at, s.bytes, s.sha256);
            }
        }
        SnapshotAction::Restore { name, into } => {
            let manifest = snapshots.restore(&name, &into)?;
            println!(
                "restored {} into {}: {} products, {} vendors, {} files verified (SHA-256); serve it with --data-dir {}",
                manifest.name,
                into.display(),
                manifest.products,
                manifest.vendors,
                manifest.files.len(),
                into.display()
            );
        }
    }
    Ok(())
}

fn keys(config: &Config, action: KeysAction) -> anyhow::Result<()> {
    let store = searchd_api::KeyStore::new(&config.data_dir);
    match action {
        KeysAction::Create { scopes, name } => {
            let scopes = scopes
                .iter()
                .map(|s| {
                    searchd_api::Scope::parse(s.trim())
                        .ok_or_else(|| anyhow::anyhow!("unknown scope `{s}` (search, write, admin)"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (stored, key) = store.create(&name, &scopes)?;
            let scopes: Vec<&str> = stored.scopes.iter().map(|s| s.name()).collect();
            eprintln!(
                "created key {} ({}) with scopes {}; it is shown only now:",
                stored.id,
                stored.name,
                scopes.join(",")
            );
            println!("{key}");
        }
        KeysAction::List { json } => {
            for key in store.list()? {
                if json {
                    let mut value = serde_json::to_value(&key)?;
                    if let Some(object) = value.as_object_mut() {
                        object.remove("hash");
                    }
                    println!("{value}");
                } else {
                    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.name()).collect();
                    let state = key.revoked_at.as_deref().map_or("active".to_string(), |at| format!("revoked {at}"));
                    println!(
                        "{}  {:<20} {:<20} created {}  {state}",
                        key.id,
                        key.name,
                        scopes.join(","),
                        key.created_at
                    );
                }
            }
        }
        KeysAction::Revoke { id } => {
            let key = store.revoke(&id)?;
            println!("revoked key {} ({}); running servers refuse it within their reload interval", key.id, key.name);
        }
    }
    Ok(())
}

fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    if demo {
        config.auth.enabled = false;
    }
    let fresh = !config.index_dir().join("meta.json").exists();
    let state = AppState::open(&config)?;
    // A fresh data dir shows the demo catalog, unless a Kafka topic is about to fill it.
    let fresh = fresh && !config.kafka.enabled;
    let load_demo = state.index.num_docs() == 0 && (demo || fresh);
    let load_demo_vendors = state.vendors.num_docs() == 0 && (demo || fresh);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.http.listen))?;
        if load_demo || load_demo_vendors {
            state.ready.store(false, Ordering::Release);
            let (index, vendors, ready) = (state.index.clone(), state.vendors.clone(), state.ready.clone());
            let autocomplete = state.autocomplete.clone();
            tokio::task::spawn_blocking(move || {
                let loaded = (|| -> anyhow::Result<(usize, usize)> {
                    let products = if load_demo { demo::load(&index)? } else { 0 };
                    let vendors = if load_demo_vendors { demo::load_vendors(&vendors)? } else { 0 };
                    // Ready means searchable and suggesting: build the suggestions now rather than
                    // at the refresher's next turn, so the first keystrokes already get some.
                    autocomplete.refresh(&index, false)?;
                    Ok((products, vendors))
                })();
                match loaded {
                    Ok((products, vendors)) => {
                        tracing::info!(products, vendors, "demo catalog loaded");
                        ready.store(true, Ordering::Release);
                    }
                    Err(e) => tracing::error!(error = %e, "cannot load the demo catalog"),
                }
            });
        }
        tracing::info!(addr = %config.http.listen, docs = state.index.num_docs(), data_dir = %config.data_dir.display(), "searchd listening");
        if !state.auth.enabled() {
            tracing::warn!("API keys are off (--demo or [auth] enabled = false): every route is open");
        } else if state.auth.live_keys() == 0 {
            tracing::warn!(
                "API keys are on and none exists: every route but health and metrics answers 401; \
                 create one with `searchd keys create --scopes admin`"
            );
        }
        let key_reloader = searchd_api::auth::spawn_key_reloader(state.auth.clone());
        let snapshot_tasks = searchd_api::snapshot::spawn_snapshot_schedules(
            &state,
            &config,
            std::sync::Arc::new(searchd_api::recommend::SystemClock),
            std::time::Duration::from_secs(1),
        )?;
        let committer = spawn_commit_loop(&state);
        let ranking_tasks = spawn_ranking_tasks(state.ranking.clone(), state.index.clone(), &config);
        let recommendation_tasks = spawn_recommendation_tasks(&state, &config.recommendations)?;
        let refresher = spawn_autocomplete_refresher(state.clone())?;
        let retention = spawn_page_retention(&config)?;
        let (stop_ingest, stopped) = tokio::sync::watch::channel(false);
        let ingester = if config.kafka.enabled {
            let (handle, task) = searchd_indexer::kafka::spawn(
                config.kafka.clone(),
                state.index.clone(),
                state.vendors.clone(),
                stopped,
            )
            .await
            .context("cannot start the Kafka ingester")?;
            let _ = state.ingest.set(handle);
            tracing::info!(brokers = %config.kafka.brokers, group = %config.kafka.group(), "kafka ingester started");
            Some(task)
        } else {
            None
        };
        let (index, vendors, autocomplete) = (state.index.clone(), state.vendors.clone(), state.autocomplete.clone());
        axum::serve(listener, router(state, &config.http).into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        committer.abort();
        key_reloader.abort();
        snapshot_tasks.iter().for_each(tokio::task::JoinHandle::abort);
        ranking_tasks.abort();
        recommendation_tasks.iter().for_each(tokio::task::JoinHandle::abort);
        retention.abort();
        if let Some(task) = ingester {
            // The ingester commits the index, then its offsets, before it returns.
            let _ = stop_ingest.send(true);
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "kafka ingester failed"),
                Err(e) => tracing::error!(error = %e, "kafka ingester panicked"),
            }
        }
        tokio::task::spawn_blocking(move || {
            refresher.stop();
            autocomplete.flush()?;
            vendors.commit()?;
            index.commit()
        })
        .await??;
        anyhow::Ok(())
    })
}

/// Ctrl-C or SIGTERM: stop accepting, finish in-flight requests, then commit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests, then committing");
}

struct Bar {
    bar: Option<ProgressBar>,
    errors: u64,
}

impl IngestProgress for Bar {
    fn progress(&mut self, _rows: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
        }
    }

    fn row_error(&mut self, error: &RowError) {
        self.errors += 1;
        if self.errors <= 20 {
            let line = format!("line {}: skipped: {}", error.line, error.reason);
            match &self.bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
    }
}

/// `--format`, or the format the file name says.
fn input_format(format: Option<&str>, input: &Path) -> anyhow::Result<InputFormat> {
    match format {
        Some(f) => Ok(f.parse::<InputFormat>()?),
        None => InputFormat::from_file_name(&input.to_string_lossy())
            .with_context(|| format!("cannot tell the format of {}; pass --format csv|jsonl", input.display())),
    }
}

fn publish(config: &Config, args: PublishArgs) -> anyhow::Result<()> {
    let properties = args.producer.properties()?;
    let partitions = args.producer.partitions;
    let PublishArgs { topic, input, kind, format, map, .. } = args;
    let input = input.as_path();
    let kind = match kind.as_str() {
        "vendors" => PublishKind::Vendors,
        "events" => PublishKind::Events,
        _ => PublishKind::Products,
    };
    let format = match format.as_deref() {
        None if kind == PublishKind::Events => InputFormat::Jsonl,
        format => input_format(format, input)?,
    };
    let map: FieldMap = if kind == PublishKind::Vendors { FieldMap::for_vendors(&map)? } else { map.parse()? };
    let options = PublishOptions { topic, kind, format, map, partitions, properties };
    let summary = searchd_api::publish::publish(&config.kafka, input, &options)?;
    for error in &summary.errors {
        eprintln!("line {}: skipped: {}", error.line, error.reason);
    }
    println!(
        "published {} of {} rows to {} in {:.2} s ({:.0} events/s); {} failed, {} skipped",
        summary.delivered,
        summary.rows,
        options.topic,
        summary.seconds,
        summary.events_per_second,
        summary.failed,
        summary.skipped
    );
    if summary.failed > 0 {
        bail!("{} messages were not delivered", summary.failed);
    }
    Ok(())
}

/// Archives crawled pages past `[crawler] retention_days` on `[crawler] retention_schedule`,
/// when this data dir has a page store. A crawl running at that moment holds the store: the
/// run is skipped (logged) and the next one catches up.
fn spawn_page_retention(config: &Config) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let config = config.clone();
    let schedule = config.crawler.retention_schedule.clone();
    searchd_api::recommend::spawn_schedule(
        "page retention",
        &schedule,
        std::sync::Arc::new(searchd_api::recommend::SystemClock),
        std::time::Duration::from_secs(30),
        move || {
            if !config.crawl_dir().exists() {
                return Ok(());
            }
            let summary = searchd_api::crawl::apply_retention(&config)?;
            tracing::info!(archived = summary.archived, kept = summary.kept, archive = ?summary.archive, "page retention");
            Ok(())
        },
    )
}

fn crawl(config: &Config, args: CrawlArgs) -> anyhow::Result<()> {
    if args.retention {
        let summary = searchd_api::crawl::apply_retention(config)?;
        match &summary.archive {
            Some(path) => println!("archived {} pages to {}; {} stay", summary.archived, path.display(), summary.kept),
            None => println!("nothing older than {} days; {} pages stay", config.crawler.retention_days, summary.kept),
        }
        return Ok(());
    }
    let to_kafka = match args.publish.as_deref() {
        Some(target) => target == "kafka",
        None => config.kafka.enabled,
    };
    let target = if to_kafka {
        let topic = match args.topic {
            Some(topic) => topic,
            None => {
                config.kafka.product_topics.first().cloned().context("[kafka] product_topics is empty; pass --topic")?
            }
        };
        CrawlTarget::Kafka { topic, partitions: args.producer.partitions, properties: args.producer.properties()? }
    } else {
        CrawlTarget::Index
    };
    let report = searchd_api::crawl::crawl(config, &args.seeds, args.max_pages, target)?;
    let c = &report.crawl;
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        }
    };
    println!(
        "crawled {} pages ({} requests) in {:.2} s ({:.1} pages/s): {} with products, {} products to {} ({} failed)",
        c.fetched,
        c.requests,
        c.seconds,
        c.pages_per_second,
        c.extracted,
        report.published,
        report.published_to,
        report.publish_failed
    );
    println!("skipped: {}", list(&c.skipped));
    println!("errors: {}", list(&c.errors));
    if c.frontier_left > 0 {
        println!("{} URLs left in the frontier (page limit)", c.frontier_left);
    }
    println!("{}", serde_json::to_string(&report)?);
    if report.publish_failed > 0 && report.published == 0 {
        bail!("no product could be published");
    }
    Ok(())
}

fn index(
    config: &Config,
    input: &Path,
    kind: &str,
    format: Option<&str>,
    map: &str,
    lang: Option<String>,
) -> anyhow::Result<()> {
    let format = input_format(format, input)?;
    let vendors = kind == "vendors";
    if vendors && lang.is_some() {
        bail!("--lang applies to products only");
    }
    let map: FieldMap = if vendors { FieldMap::for_vendors(map)? } else { map.parse()? };
    let file = std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let size = file.metadata()?.len();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut progress = Bar { bar, errors: 0 };
    let (summary, docs) = if vendors {
        let index = VendorIndex::open(&config.vendor_index_dir(), &config.index)?;
        let summary = searchd_indexer::ingest_vendors(&index, file, format, &map, &mut progress)?;
        (summary, index.num_docs())
    } else {
        let index = ProductIndex::open(&config.index_dir(), config.index.clone())?;
        let options = IngestOptions { map, language: lang };
        let summary = searchd_indexer::ingest(&index, file, format, &options, &mut progress)?;
        (summary, index.num_docs())
    };
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    if progress.errors > 20 {
        eprintln!("… and {} more skipped rows", progress.errors - 20);
    }
    println!(
        "indexed {} of {} rows in {:.2} s ({:.0} docs/s), merged segments in {:.2} s ({:.2} s in all); {} skipped; index holds {} {kind}",
        summary.indexed,
        summary.rows,
        summary.seconds,
        summary.docs_per_second,
        summary.merge_seconds,
        summary.seconds + summary.merge_seconds,
        summary.skipped_total(),
        docs
    );
    for (reason, count) in &summary.skipped {
        println!("  skipped {count}: {reason}");
    }
    Ok(())
}

fn evaluate(config: &Config, judgments: &Path, options: EvalOptions, per_query: Option<&Path>) -> anyhow::Result<()> {
    if !config.index_dir().join("meta.json").exists() {
        bail!("no index in {}; run `searchd index` first", config.data_dir.display());
    }
    let judgments = eval::load_judgments(judgments)?;
    let index = ProductIndex::open(&config.index_dir(), config.index.clone())?;
    let ranking = Ranking::open(config)?;
    ranking.fold_engagement(&index)?;
    let ranker = ranking.ranker();
    if options.ranking == RankingMode::Default {
        match ranking.model_version() {
            Some(v) => println!("model: {v} (re-ranks the top {})", ranker.window),
            None => println!("model: none trained in {}; phase 1 only", config.ranker_dir().display()),
        }
    }
    let run = eval::run(&index, &ranker, &judgments, &options)?;
    print!("{}", eval::render_table(&run, &options, &judgments));
    if let Some(path) = per_query {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        for q in &run.queries {
            serde_json::to_writer(&mut out, q)?;
            out.write_all(b"\n")?;
        }
        out.flush().with_context(|| format!("cannot write {}", path.display()))?;
        println!("per-query report: {} ({} queries)", path.display(), run.queries.len());
    }
    println!("{}", serde_json::to_string(&run.summary)?);
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "the flags of `searchd train-ranker`")]
fn train_ranker(
    config: &Config,
    judgments: Option<&Path>,
    use_events: bool,
    folds: Option<usize>,
    no_save: bool,
    options: searchd_models::TrainOptions,
    expansion: Option<&searchd_models::ExpansionOptions>,
    k: usize,
) -> anyhow::Result<()> {
    use searchd_api::train;
    if !config.index_dir().join("meta.json").exists() {
        bail!("no index in {}; run `searchd index` first", config.data_dir.display());
    }
    if judgments.is_none() && !use_events {
        bail!("give --judgments FILE, --events, or both");
    }
    let index = ProductIndex::open(&config.index_dir(), config.index.clone())?;
    let ranking = Ranking::open(config)?;
    ranking.fold_engagement(&index)?;
    let base = searchd_catalog::Ranker::clone(&ranking.ranker()).with_second(None);
    let human = judgments.map(eval::load_judgments).transpose()?;
    let clicks = use_events.then(|| ranking.events.read(train::click_judgments));
    let mut sources = Vec::new();
    if let Some(path) = judgments {
        sources.push(path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()));
    }
    if let Some(c) = &clicks {
        println!("click-derived labels: {} queries, {} pairs", c.num_queries(), c.num_pairs());
        sources.push("events".to_string());
    }
    // Human grades win where both exist.
    let labels = match (&human, &clicks) {
        (Some(h), Some(c)) => h.or(c),
        (Some(j), None) | (None, Some(j)) => j.clone(),
        (None, None) => unreachable!("checked above"),
    };
    if let Some(folds) = folds {
        let Some(human) = &human else { bail!("--folds evaluates on --judgments; give them") };
        println!("{folds}-fold cross-validation by query (nDCG@{k} condensed / strict, Recall@100, p99 ms):");
        println!("fold  queries(train)  pairs    learned                       phase 1                       bm25");
        let row = |s: &eval::EvalSummary| {
            format!("{:.4} / {:.4} / {:.4} {:>6.3}", s.ndcg10_condensed, s.ndcg10_strict, s.recall100, s.p99_ms)
        };
        let cv = train::cross_validate(&index, &base, &labels, human, folds, &options, expansion, k, |f| {
            println!(
                "{:>4}  {:>14}  {:>6}   {}   {}   {}",
                f.fold,
                f.train_queries,
                f.train_pairs,
                row(&f.learned),
                row(&f.phase1),
                row(&f.bm25)
            );
        })?;
        let mean = |m: &train::Means| {
            format!("{:.4} / {:.4} / {:.4} {:>6.3}", m.ndcg10_condensed, m.ndcg10_strict, m.recall100, m.p99_ms)
        };
        println!(
            "mean                          {}   {}   {}",
            mean(&cv.mean_learned),
            mean(&cv.mean_phase1),
            mean(&cv.mean_bm25)
        );
        println!(
            "learned vs bm25: {:+.1}% nDCG@{k} condensed; vs phase 1: {:+.1}%",
            100.0 * (cv.mean_learned.ndcg10_condensed / cv.mean_bm25.ndcg10_condensed - 1.0),
            100.0 * (cv.mean_learned.ndcg10_condensed / cv.mean_phase1.ndcg10_condensed - 1.0)
        );
        println!("{}", serde_json::to_string(&cv)?);
    }
    if no_save {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let model = train::train(&index, &base, &labels, &options, expansion, sources)?;
    println!(
        "trained on the top {} of {} queries in {:.1} s; {} query words with learned expansions",
        base.window,
        labels.num_queries(),
        started.elapsed().as_secs_f64(),
        model.expansions.words.len()
    );
    let model = ranking.store().save(model)?;
    println!(
        "saved ranker {} ({} queries, {} pairs) in {}",
        model.version,
        model.training.queries,
        model.training.pairs,
        ranking.store().dir().display()
    );
    let mut weights: Vec<(&str, f32)> =
        model.features.iter().map(String::as_str).zip(model.weights.iter().copied()).collect();
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    println!("largest weights (per standard deviation):");
    for (name, w) in weights.iter().take(10) {
        println!("  {w:>+8.3}  {name}");
    }
    Ok(())
}
