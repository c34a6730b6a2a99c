//! Snapshots of a data dir while it serves: `POST /v1/admin/snapshots`, `searchd snapshot
//! create|list|restore`, and schedules with retention (`[snapshots]`).
//!
//! A snapshot holds the product and vendor indexes as of their last commits (copied consistently
//! while searches and writes go on, see `searchd_indexer::snapshot`), the models, the behaviour
//! events (whole lines up to the moment of the copy), the query log and the API keys. It is one
//! `snapshot-<UTC time>-<tag>.tar.gz` with a `MANIFEST.json` inside (every file's size and
//! SHA-256, and the product index's content version) and a `.sha256` file beside it (the
//! archive's SHA-256, as `sha256sum` writes it). Restoring checks the archive's checksum first,
//! then every extracted file against the manifest, into a data dir that must be new.
//!
//! Each schedule has a tag and keeps its own last `keep` snapshots; manual ones (`manual`) are
//! kept until deleted by hand.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::schedule::{Clock, spawn_schedule};
use crate::{Engine, EngineConfig};

/// `[snapshots]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotsConfig {
    /// Where snapshots go; empty: `data_dir/snapshots`.
    pub dir: String,
    /// Run the schedules in `serve`.
    pub enabled: bool,
    /// When snapshots are taken and how many each keeps.
    pub schedules: Vec<SnapshotSchedule>,
}

/// One schedule: a cron expression (UTC, with seconds) and how many of its snapshots to keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSchedule {
    /// Names its snapshots (`snapshot-<time>-<tag>.tar.gz`); letters, digits and `-`.
    pub tag: String,
    /// When, as a cron expression in UTC with seconds.
    pub cron: String,
    /// Snapshots of this tag kept; older ones are removed.
    pub keep: usize,
}

impl Default for SnapshotsConfig {
    fn default() -> Self {
        Self {
            dir: String::new(),
            enabled: true,
            schedules: vec![
                // Every 3 hours from 10:30: 10:30, 13:30, … 07:30.
                SnapshotSchedule { tag: "3-hourly".into(), cron: "0 30 1/3 * * *".into(), keep: 8 },
                SnapshotSchedule { tag: "daily".into(), cron: "0 0 21 * * *".into(), keep: 30 },
            ],
        }
    }
}

impl SnapshotsConfig {
    /// Checks the tags and the cron expressions; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        for s in &self.schedules {
            if !valid_tag(&s.tag) || s.tag == MANUAL {
                return Err(format!(
                    "snapshots.schedules: tag `{}` must be letters, digits and `-` (not `manual`)",
                    s.tag
                ));
            }
            cron::Schedule::from_str(&s.cron).map_err(|e| format!("snapshots.schedules `{}`: cron: {e}", s.tag))?;
            if s.keep == 0 {
                return Err(format!("snapshots.schedules `{}`: keep must be ≥ 1", s.tag));
            }
        }
        Ok(())
    }
}

/// The tag of snapshots made on request.
pub const MANUAL: &str = "manual";

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty() && tag.len() <= 32 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// One file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileEntry {
    /// Its path inside the snapshot.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// `MANIFEST.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Manifest {
    /// `snapshot-<UTC time>-<tag>`.
    pub name: String,
    /// The schedule's tag, or `manual`.
    pub tag: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The version of `searchd` that took it.
    pub searchd_version: String,
    /// Products in the product index.
    pub products: u64,
    /// Vendors in the vendor index.
    pub vendors: u64,
    /// Offers in the offer index (0 in snapshots taken before offers existed).
    #[serde(default)]
    pub offers: u64,
    /// Requests for information in the RFI index (0 in snapshots taken before RFIs existed).
    #[serde(default)]
    pub rfis: u64,
    /// The product index's content version (hex), as caches key on.
    pub content_version: String,
    /// Every file, with its size and checksum.
    pub files: Vec<FileEntry>,
}

/// A snapshot on disk, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SnapshotInfo {
    /// `snapshot-<UTC time>-<tag>`.
    pub name: String,
    /// The schedule's tag, or `manual`.
    pub tag: String,
    /// When it was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The archive's size.
    pub bytes: u64,
    /// The archive's SHA-256, hex.
    pub sha256: String,
}

/// Where a data dir's snapshots live, and what to copy from it.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
    config: EngineConfig,
    /// One snapshot at a time (names are by the second; two at once would share a staging dir).
    creating: Arc<Mutex<()>>,
}

/// A snapshot of this tag was already taken this second.
#[derive(Debug, thiserror::Error)]
#[error("snapshot {0} exists already (one per tag per second); try again in a second")]
pub struct SnapshotExists(pub String);

impl Snapshots {
    /// Snapshots of the data dir `config` names, in `[snapshots] dir`.
    pub fn new(config: &EngineConfig) -> Self {
        let dir = if config.snapshots.dir.is_empty() {
            config.data_dir.join("snapshots")
        } else {
            PathBuf::from(&config.snapshots.dir)
        };
        Self { dir, config: config.clone(), creating: Arc::default() }
    }

    /// Where the snapshots are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes a snapshot of the serving state, named by `now` and `tag`. Blocking.
    pub fn create(&self, state: &Engine, tag: &str, now: DateTime<Utc>) -> anyhow::Result<Manifest> {
        anyhow::ensure!(valid_tag(tag), "snapshot tag `{tag}` must be letters, digits and `-`");
        let started = Instant::now();
        let name = format!("snapshot-{}-{tag}", now.format("%Y%m%dT%H%M%SZ"));
        let archive = self.dir.join(format!("{name}.tar.gz"));
        let _one = self.creating.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if archive.exists() {
            return Err(SnapshotExists(name).into());
        }
        std::fs::create_dir_all(&self.dir)?;
        let staging = self.dir.join(format!(".staging-{name}"));
        let _cleanup = RemoveOnDrop(staging.clone());
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;

        // The content version first: the copy is of this commit or a later one.
        let content_version = format!("{:016x}", state.index.content_version());
        let copied = state.index.snapshot(&self.config.index_dir(), &staging.join("index"))?;
        let vendors = state.vendors.snapshot(&self.config.vendor_index_dir(), &staging.join("vendors"))?;
        let offers = state.offers.snapshot(&self.config.offer_index_dir(), &staging.join("offers"))?;
        let rfis = state.rfis.snapshot(&self.config.rfi_index_dir(), &staging.join("rfis"))?;
        let data = &self.config.data_dir;
        copy_tree(&data.join("models"), &staging.join("models"))?;
        copy_lines(&self.config.events_dir(), &staging.join("events"))?;
        if let Err(e) = state.autocomplete.flush() {
            tracing::warn!(error = %e, "cannot flush the query log before the snapshot; its last file is copied");
        }
        copy_file_if_exists(&self.config.query_log_path(), &staging.join("queries.jsonl"))?;
        copy_file_if_exists(&data.join("keys.json"), &staging.join("keys.json"))?;

        let mut files = Vec::new();
        for path in walk(&staging)? {
            let relative = path.strip_prefix(&staging)?.to_string_lossy().replace('\\', "/");
            let (bytes, sha256) = hash_file(&path)?;
            files.push(FileEntry { path: relative, bytes, sha256 });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        // The manifest names the copied index's own version: read it from the copy.
        let copy = searchd_indexer::ProductIndex::open(
            &staging.join("index"),
            searchd_indexer::IndexConfig { writer_memory_mb: 16, writer_threads: 1, ..self.config.index.clone() },
        )?;
        let (products, restored_version) = (copy.num_docs(), format!("{:016x}", copy.content_version()));
        drop(copy);
        remove_lock_files(&staging.join("index"));
        if restored_version != content_version {
            tracing::debug!(%content_version, %restored_version, "a commit landed between reading the version and the copy");
        }
        let manifest = Manifest {
            name: name.clone(),
            tag: tag.to_string(),
            created_at: now.to_rfc3339(),
            searchd_version: env!("CARGO_PKG_VERSION").into(),
            products,
            vendors: state.vendors.num_docs(),
            offers: state.offers.num_docs(),
            rfis: state.rfis.num_docs(),
            content_version: restored_version,
            files,
        };
        std::fs::write(staging.join("MANIFEST.json"), serde_json::to_vec_pretty(&manifest)?)?;

        let tmp = self.dir.join(format!(".{name}.tar.gz.tmp"));
        {
            let file = std::fs::File::create(&tmp)?;
            let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::default());
            let mut tar = tar::Builder::new(gz);
            tar.mode(tar::HeaderMode::Deterministic);
            tar.append_path_with_name(staging.join("MANIFEST.json"), "MANIFEST.json")?;
            for entry in &manifest.files {
                tar.append_path_with_name(staging.join(&entry.path), &entry.path)?;
            }
            let gz = tar.into_inner()?;
            let mut writer = gz.finish()?;
            writer.flush()?;
            writer.get_ref().sync_all()?;
        }
        let (bytes, sha256) = hash_file(&tmp)?;
        std::fs::rename(&tmp, &archive)?;
        let mut sum = std::fs::File::create(self.dir.join(format!("{name}.tar.gz.sha256")))?;
        writeln!(sum, "{sha256}  {name}.tar.gz")?;
        sum.sync_all()?;
        tracing::info!(
            snapshot = %name,
            products,
            files = manifest.files.len(),
            mib = bytes as f64 / f64::from(1 << 20),
            index_copy_attempts = copied.attempts,
            vendor_copy_attempts = vendors.attempts,
            offer_copy_attempts = offers.attempts,
            rfi_copy_attempts = rfis.attempts,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "snapshot written"
        );
        Ok(manifest)
    }

    /// Every snapshot in the folder, oldest first.
    pub fn list(&self) -> anyhow::Result<Vec<SnapshotInfo>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let entry = entry?;
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = file.strip_suffix(".tar.gz") else { continue };
            let Some((created_at, tag)) = parse_name(name) else { continue };
            let sha256 = std::fs::read_to_string(self.dir.join(format!("{file}.sha256")))
                .ok()
                .and_then(|s| s.split_whitespace().next().map(str::to_string))
                .unwrap_or_default();
            // Pruned between the listing and now: gone.
            let bytes = match entry.metadata() {
                Ok(m) => m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            out.push(SnapshotInfo { name: name.to_string(), tag, created_at, bytes, sha256 });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes the oldest snapshots of `tag` beyond the newest `keep`; returns their names.
    pub fn prune(&self, tag: &str, keep: usize) -> anyhow::Result<Vec<String>> {
        let mine: Vec<SnapshotInfo> = self.list()?.into_iter().filter(|s| s.tag == tag).collect();
        let excess = mine.len().saturating_sub(keep);
        let mut removed = Vec::new();
        for old in mine.into_iter().take(excess) {
            std::fs::remove_file(self.dir.join(format!("{}.tar.gz", old.name)))?;
            let _ = std::fs::remove_file(self.dir.join(format!("{}.tar.gz.sha256", old.name)));
            removed.push(old.name);
        }
        Ok(removed)
    }

    /// Checks the archive `name` against its `.sha256`, extracts it into `target` (which must
    /// not exist or be empty) and checks every file against the manifest.
    pub fn restore(&self, name: &str, target: &Path) -> anyhow::Result<Manifest> {
        let name = name.trim_end_matches(".tar.gz");
        let archive = self.dir.join(format!("{name}.tar.gz"));
        anyhow::ensure!(archive.is_file(), "no snapshot {name} in {}", self.dir.display());
        let expected = std::fs::read_to_string(self.dir.join(format!("{name}.tar.gz.sha256")))
            .map_err(|e| anyhow::anyhow!("snapshot {name} has no readable .sha256 file: {e}"))?;
        let expected = expected.split_whitespace().next().unwrap_or_default().to_string();
        let (_, actual) = hash_file(&archive)?;
        anyhow::ensure!(actual == expected, "snapshot {name} is damaged: SHA-256 {actual}, expected {expected}");
        if target.exists() {
            anyhow::ensure!(
                std::fs::read_dir(target)?.next().is_none(),
                "{} is not empty: restore into a new data dir",
                target.display()
            );
        }
        std::fs::create_dir_all(target)?;
        let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(std::fs::File::open(&archive)?));
        let mut tar = tar::Archive::new(gz);
        // `unpack` refuses paths leaving the target (`..`, absolute).
        tar.unpack(target)?;
        let manifest: Manifest = serde_json::from_slice(&std::fs::read(target.join("MANIFEST.json"))?)?;
        for entry in &manifest.files {
            let path = target.join(&entry.path);
            let (bytes, sha256) = hash_file(&path).map_err(|e| anyhow::anyhow!("{}: {e}", entry.path))?;
            anyhow::ensure!(
                bytes == entry.bytes && sha256 == entry.sha256,
                "{} does not match the manifest after extraction",
                entry.path
            );
        }
        std::fs::remove_file(target.join("MANIFEST.json"))?;
        Ok(manifest)
    }
}

/// `snapshot-20261122T103000Z-3-hourly` → (RFC 3339 time, tag).
fn parse_name(name: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix("snapshot-")?;
    let (time, tag) = rest.split_once('-')?;
    let parsed = chrono::NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%SZ").ok()?;
    Some((parsed.and_utc().to_rfc3339(), tag.to_string()))
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, format!("{:x}", hasher.finalize())))
}

fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    Ok(out)
}

fn copy_file_if_exists(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::copy(from, to) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Copies a folder's files (models are written whole, then renamed: each file is complete).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    for path in walk(from)? {
        let Ok(relative) = path.strip_prefix(from) else { continue };
        if relative.to_string_lossy().contains(".tmp") {
            continue;
        }
        if let Some(parent) = to.join(relative).parent() {
            std::fs::create_dir_all(parent)?;
        }
        copy_file_if_exists(&path, &to.join(relative))?;
    }
    Ok(())
}

/// Copies append-only line files up to their last complete line (a line being appended during
/// the copy is left for the next snapshot).
fn copy_lines(from: &Path, to: &Path) -> std::io::Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for path in walk(from)? {
        let Ok(relative) = path.strip_prefix(from) else { continue };
        if let Some(parent) = to.join(relative).parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut reader = std::io::BufReader::new(std::fs::File::open(&path)?);
        let mut out = std::io::BufWriter::new(std::fs::File::create(to.join(relative))?);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
                break;
            }
            out.write_all(&line)?;
        }
        out.flush()?;
    }
    Ok(())
}

/// Tantivy's lock files have no place in a snapshot.
fn remove_lock_files(dir: &Path) {
    for lock in [".tantivy-writer.lock", ".tantivy-meta.lock"] {
        let _ = std::fs::remove_file(dir.join(lock));
    }
}

/// `serve`: each schedule takes a snapshot when due by `clock`, then prunes its tag.
pub fn spawn_snapshot_schedules(
    state: &Engine,
    config: &EngineConfig,
    clock: Arc<dyn Clock>,
    tick: Duration,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    if !config.snapshots.enabled {
        return Ok(Vec::new());
    }
    let snapshots = Arc::new(Snapshots::new(config));
    let mut tasks = Vec::new();
    for schedule in &config.snapshots.schedules {
        let (snapshots, state, clock_for_job) = (snapshots.clone(), state.clone(), clock.clone());
        let (tag, keep) = (schedule.tag.clone(), schedule.keep);
        tasks.push(spawn_schedule("snapshot", &schedule.cron, clock.clone(), tick, move || {
            snapshots.create(&state, &tag, clock_for_job.now())?;
            let removed = snapshots.prune(&tag, keep)?;
            if !removed.is_empty() {
                tracing::info!(tag = %tag, removed = removed.len(), "old snapshots removed");
            }
            Ok(())
        })?);
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_the_defaults_validate() {
        assert_eq!(
            parse_name("snapshot-20261122T103000Z-3-hourly"),
            Some(("2026-11-22T10:30:00+00:00".into(), "3-hourly".into()))
        );
        assert_eq!(parse_name("snapshot-nope-x"), None);
        assert!(SnapshotsConfig::default().validate().is_ok());
        let bad = SnapshotsConfig {
            schedules: vec![SnapshotSchedule { tag: "a b".into(), cron: "0 0 * * * *".into(), keep: 1 }],
            ..SnapshotsConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("a b"));
        // 10:30 and every 3 hours.
        let schedule = cron::Schedule::from_str(&SnapshotsConfig::default().schedules[0].cron).unwrap();
        let start = DateTime::parse_from_rfc3339("2026-11-22T09:00:00Z").unwrap().with_timezone(&Utc);
        let times: Vec<String> = schedule.after(&start).take(3).map(|t| t.format("%H:%M").to_string()).collect();
        assert_eq!(times, ["10:30", "13:30", "16:30"]);
    }
}
