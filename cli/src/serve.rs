//! `searchd serve`: the HTTP API with every background job of a node (commits, ranking and
//! recommendation refreshes, suggestions, snapshots, page retention, the Kafka ingester).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use anyhow::Context;
use searchd_api::{AppState, Config, router};
use searchd_engine::{demo, spawn_autocomplete_refresher, spawn_commit_loop, spawn_recommendation_tasks};
use searchd_ranking::spawn_ranking_tasks;

use crate::crawl::spawn_page_retention;

/// `searchd serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Demo mode: load the built-in demo catalog when the index is empty (done by default
    /// when the data dir holds no index at all) and switch API keys off (`[auth] enabled`).
    #[arg(long)]
    demo: bool,
}

/// Serves until Ctrl-C or SIGTERM.
pub fn run(mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        config.http.listen = listen;
    }
    serve(config, args.demo)
}

fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    if demo {
        config.auth.enabled = false;
    }
    let engine = config.engine();
    let fresh = !engine.index_dir().join("meta.json").exists();
    // A fresh data dir that will show the demo declares the demo's attributes (the settings of
    // its first start), unless the configuration declares its own.
    if fresh && !config.kafka.enabled && config.index.attributes.0.is_empty() {
        config.index.attributes = demo::attributes();
    }
    if fresh && !config.kafka.enabled && config.index.vendor_attributes.0.is_empty() {
        config.index.vendor_attributes = demo::vendor_attributes();
    }
    let state = AppState::open(&config)?;
    // A fresh data dir shows the demo catalog, unless a Kafka topic is about to fill it.
    let fresh = fresh && !config.kafka.enabled;
    let load_demo = state.index.num_docs() == 0 && (demo || fresh);
    let load_demo_vendors = state.vendors.num_docs() == 0 && (demo || fresh);
    let load_demo_offers = load_demo && load_demo_vendors && state.offers.num_docs() == 0;
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.http.listen))?;
        // Ready means complete: the index, its settings and the ranker are open; the suggestions
        // kept with this catalog version are served at once, else they are built now rather than
        // at the refresher's turn (which waits for ready); the saved recommendations model is
        // loaded. The first keystrokes and similar-product calls get complete answers.
        state.ready.store(false, Ordering::Release);
        {
            let (index, vendors, ready) = (state.index.clone(), state.vendors.clone(), state.ready.clone());
            let offers = state.offers.clone();
            let (autocomplete, recommendations) = (state.autocomplete.clone(), state.recommendations.clone());
            let started = std::time::Instant::now();
            tokio::task::spawn_blocking(move || {
                let loaded = (|| -> anyhow::Result<(usize, usize)> {
                    let products = if load_demo { demo::load(&index)? } else { 0 };
                    let vendors = if load_demo_vendors { demo::load_vendors(&vendors)? } else { 0 };
                    let offers = if load_demo_offers { demo::load_offers(&offers)? } else { 0 };
                    if load_demo || load_demo_vendors {
                        tracing::info!(products, vendors, offers, "demo catalog loaded");
                    }
                    // A fresh demo's log starts with the demo store's popular searches.
                    if load_demo && autocomplete.log().is_empty() {
                        demo::seed_queries(&index, autocomplete.log())?;
                    }
                    // The suggestions and the saved similar-products model (when there is one; a
                    // first one is trained after ready) load side by side: each takes seconds
                    // for a million products.
                    std::thread::scope(|scope| {
                        let similar = scope.spawn(|| {
                            if let Err(e) = recommendations.load_current(&index) {
                                tracing::error!(error = %e, "cannot load the recommendations model; a new one is trained");
                            }
                        });
                        let suggestions = if load_demo || !autocomplete.restore(&index) {
                            autocomplete.refresh_now(&index, true).map(drop)
                        } else {
                            Ok(())
                        };
                        if similar.join().is_err() {
                            anyhow::bail!("loading the recommendations model panicked");
                        }
                        suggestions
                    })?;
                    Ok((products, vendors))
                })();
                match loaded {
                    Ok(_) => {
                        ready.store(true, Ordering::Release);
                        tracing::info!(ms = started.elapsed().as_secs_f64() * 1e3, "ready");
                    }
                    Err(e) => tracing::error!(error = %e, "cannot start serving: not ready"),
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
        let key_reloader = searchd_api::middleware::auth::spawn_key_reloader(state.auth.clone());
        let snapshot_tasks = searchd_engine::snapshot::spawn_snapshot_schedules(
            &state,
            &engine,
            std::sync::Arc::new(searchd_engine::schedule::SystemClock),
            std::time::Duration::from_secs(1),
        )?;
        let committer = spawn_commit_loop(&state);
        let ranking_tasks = spawn_ranking_tasks(state.ranking.clone(), state.index.clone(), &engine.ranking_setup());
        let recommendation_tasks = spawn_recommendation_tasks(&state, &config.recommendations)?;
        let refresher = spawn_autocomplete_refresher(state.engine.clone())?;
        let retention = spawn_page_retention(&config)?;
        let (stop_ingest, stopped) = tokio::sync::watch::channel(false);
        let ingester = if config.kafka.enabled {
            let indexes = searchd_kafka::Indexes {
                products: state.index.clone(),
                vendors: state.vendors.clone(),
                offers: state.offers.clone(),
                rfis: state.rfis.clone(),
            };
            let (handle, task) = searchd_kafka::spawn(config.kafka.clone(), indexes, stopped)
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
            index.commit()?;
            // The suggestions follow the last commit and are kept with it: the next start
            // serves them at once.
            autocomplete.refresh_now(&index, false)?;
            autocomplete.keep_serving()
        })
        .await??;
        anyhow::Ok(())
    });
    // A recommendations refresh still training on the blocking pool is abandoned, not waited
    // for (minutes in a catalog of millions): its model is saved by an atomic rename, and the
    // next start trains one again when none was saved.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    served
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
