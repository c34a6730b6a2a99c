//! `searchd`: serve the search API, bulk-index files, evaluate and train relevance, manage keys,
//! models and snapshots, publish to Kafka, crawl shops.
//!
//! This file only parses the command line, loads the configuration and dispatches; each command
//! group has its own module.

mod config;
mod crawl;
mod eval;
mod index;
mod keys;
mod models;
mod publish;
mod serve;
mod snapshot;
mod train_ranker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use searchd_api::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// mimalloc: a search allocates many small short-lived buffers (postings, term lists, the
/// answer's JSON), which it serves faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Serve(serve::ServeArgs),
    /// Snapshots of the data dir: create one (no server may hold the index; with one running,
    /// `POST /v1/admin/snapshots`), list them, or restore one into a new data dir.
    Snapshot {
        #[command(subcommand)]
        action: snapshot::SnapshotAction,
    },
    /// Manage API keys: stored hashed in the data dir (`keys.json`); a running server picks
    /// changes up within `auth.reload_interval_ms`.
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// Bulk-index a CSV or JSONL file of products or vendors (gzip detected automatically).
    Index(index::IndexArgs),
    /// Evaluate relevance and latency on graded judgments (`query,product_uid,relevance` CSV).
    Eval(eval::EvalArgs),
    /// Train the recommendations (similar products, bought together) now, as the nightly
    /// schedule does, and save them as the next model version (a running server picks it up).
    /// Needs the index to itself; with a server running, `POST /v1/admin/recommendations/refresh`.
    Train,
    /// Manage the saved recommendation models.
    Models {
        #[command(subcommand)]
        action: models::ModelsAction,
    },
    /// Publish a file's rows as catalog events on a Kafka topic (`[kafka] brokers`): product or
    /// vendor rows become upserts keyed by id; `events` sends JSONL events line by line as they are.
    Publish(publish::PublishArgs),
    /// Crawl web shops for product pages (robots.txt, per-site politeness, schema.org
    /// extraction) and index their products or publish them to Kafka; `--retention` instead
    /// archives crawled pages older than `[crawler] retention_days`.
    Crawl(crawl::CrawlArgs),
    /// Train the phase-2 ranker from graded judgments (and click-derived labels with
    /// `--events`), save it as the data dir's next model version (a running server loads it
    /// within `ranker.poll_interval_ms`); with `--folds`, cross-validate by query first.
    TrainRanker(train_ranker::TrainRankerArgs),
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
    let mut config = config::load(cli.config.as_deref()).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    init_logging(&config);
    match cli.command {
        Command::Serve(args) => serve::run(config, args),
        Command::Keys { action } => keys::run(&config, action),
        Command::Snapshot { action } => snapshot::run(&config, action),
        Command::Index(args) => index::run(&config, args),
        Command::Eval(args) => eval::run(&config, args),
        Command::Train => models::train(&config),
        Command::Models { action } => models::run(&config, action),
        Command::Publish(mut args) => {
            args.producer.apply(&mut config.kafka);
            publish::run(&config, args)
        }
        Command::Crawl(mut args) => {
            args.producer.apply(&mut config.kafka);
            crawl::run(&config, args)
        }
        Command::TrainRanker(args) => train_ranker::run(&config, args),
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
