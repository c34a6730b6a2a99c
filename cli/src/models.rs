//! `searchd train` and `searchd models list|rollback`: the recommendations (similar products,
//! bought together) and their saved versions.

use searchd_api::Config;
use searchd_engine::Engine;

/// What to do with the saved recommendation models.
#[derive(clap::Subcommand, Debug)]
pub enum ModelsAction {
    /// List the saved similar-products versions and which one is current.
    List,
    /// Serve the version before the current one again (a running server loads it within
    /// `recommendations.poll_interval_ms`).
    Rollback,
}

/// Trains the recommendations now, as the nightly schedule does, and saves the next version.
pub fn train(config: &Config) -> anyhow::Result<()> {
    let state = Engine::open(&config.engine())?;
    let report = state.recommendations.refresh(&state.index, &state.ranking.events)?;
    println!(
        "trained recommendations {}: {} products, {} features, bought-together for {} products in {:.2} s",
        report.version, report.products, report.features, report.bought_together, report.seconds
    );
    Ok(())
}

/// Lists the saved versions or rolls back to the one before the current.
pub fn run(config: &Config, action: ModelsAction) -> anyhow::Result<()> {
    let store = searchd_models::SimilarStore::new(config.engine().similar_dir(), config.recommendations.keep);
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
