//! `searchd snapshot create|list|restore`.

use std::path::PathBuf;

use searchd_api::Config;
use searchd_engine::Engine;

/// What to do with snapshots.
#[derive(clap::Subcommand, Debug)]
pub enum SnapshotAction {
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

pub fn run(config: &Config, action: SnapshotAction) -> anyhow::Result<()> {
    let snapshots = searchd_engine::snapshot::Snapshots::new(&config.engine());
    match action {
        SnapshotAction::Create => {
            let state = Engine::open(&config.engine()).map_err(|e| {
                anyhow::anyhow!("{e:#}; with a server running, use POST /v1/admin/snapshots (admin key) instead")
            })?;
            let manifest = snapshots.create(&state, searchd_engine::snapshot::MANUAL, chrono::Utc::now())?;
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
