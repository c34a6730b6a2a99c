//! Versioned model artifacts in one folder: `<prefix>-000001.json`, … and `CURRENT` naming the
//! one in service. Writes go to a temporary file renamed into place, so a reader never sees a
//! half-written artifact; the last `keep` artifacts are kept; `rollback` points `CURRENT` at the
//! version before it.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

const CURRENT: &str = "CURRENT";

/// A model saved by an [`ArtifactStore`].
pub trait Artifact: Serialize + DeserializeOwned {
    /// File names are `<PREFIX>-NNNNNN.json`.
    const PREFIX: &'static str;
    /// Records the version name (`vNNNNNN`) it is saved under.
    fn set_version(&mut self, version: String);
    /// Checks a loaded artifact before it is served.
    fn check(&self) -> std::result::Result<(), String>;
    /// The artifact as this build reads it, when an older build wrote it (features added
    /// since, say); unchanged by default.
    fn upgraded(self) -> Self
    where
        Self: Sized,
    {
        self
    }
}

#[derive(Debug)]
/// Versioned artifacts of one kind in a folder: `<kind>-NNNNNN.json`, `CURRENT` naming the one
/// served, the last `keep` kept.
pub struct ArtifactStore<T> {
    dir: PathBuf,
    keep: usize,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for ArtifactStore<T> {
    fn clone(&self) -> Self {
        Self { dir: self.dir.clone(), keep: self.keep, kind: PhantomData }
    }
}

impl<T: Artifact> ArtifactStore<T> {
    /// The store in `dir`, keeping the last `keep` versions (at least 1).
    pub fn new(dir: impl Into<PathBuf>, keep: usize) -> Self {
        Self { dir: dir.into(), keep: keep.max(1), kind: PhantomData }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Saved versions, oldest first.
    pub fn versions(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        let prefix = format!("{}-", T::PREFIX);
        for entry in entries {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name.strip_prefix(&prefix).and_then(|s| s.strip_suffix(".json")) {
                if let Ok(n) = n.parse() {
                    out.push(n);
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    fn name(version: u64) -> String {
        format!("{}-{version:06}.json", T::PREFIX)
    }

    fn file(&self, version: u64) -> PathBuf {
        self.dir.join(Self::name(version))
    }

    /// Saves `model` as the next version and makes it current; returns it with its version.
    pub fn save(&self, mut model: T) -> Result<T> {
        std::fs::create_dir_all(&self.dir)?;
        let next = self.versions()?.last().copied().unwrap_or(0) + 1;
        model.set_version(format!("v{next:06}"));
        let json = serde_json::to_vec(&model)
            .map_err(|e| Error::Artifact { path: self.file(next).display().to_string(), message: e.to_string() })?;
        write_atomically(&self.file(next), &json)?;
        self.set_current(next)?;
        let versions = self.versions()?;
        for old in &versions[..versions.len().saturating_sub(self.keep)] {
            std::fs::remove_file(self.file(*old))?;
        }
        Ok(model)
    }

    fn set_current(&self, version: u64) -> Result<()> {
        write_atomically(&self.dir.join(CURRENT), format!("{}\n", Self::name(version)).as_bytes())
    }

    /// What `CURRENT` names, as an identity to poll cheaply: `None` without a model.
    pub fn current_name(&self) -> Result<Option<String>> {
        match std::fs::read_to_string(self.dir.join(CURRENT)) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn current_version(&self) -> Result<Option<u64>> {
        let prefix = format!("{}-", T::PREFIX);
        Ok(self
            .current_name()?
            .and_then(|n| n.strip_prefix(&prefix).and_then(|s| s.strip_suffix(".json")).and_then(|v| v.parse().ok())))
    }

    /// Loads and checks the current model; `None` when none was saved.
    pub fn load_current(&self) -> Result<Option<T>> {
        let Some(name) = self.current_name()? else { return Ok(None) };
        if name.contains('/') || name.contains('\\') {
            return Err(Error::Artifact { path: name, message: "CURRENT must name a file of the folder".into() });
        }
        self.load(&self.dir.join(name)).map(Some)
    }

    /// Reads and checks the artifact at `path`.
    pub fn load(&self, path: &Path) -> Result<T> {
        let artifact = |message: String| Error::Artifact { path: path.display().to_string(), message };
        let bytes = std::fs::read(path).map_err(|e| artifact(e.to_string()))?;
        let model = serde_json::from_slice::<T>(&bytes).map_err(|e| artifact(e.to_string()))?.upgraded();
        model.check().map_err(artifact)?;
        Ok(model)
    }

    /// Points `CURRENT` at the newest kept version older than the current one (which stays on
    /// disk, so a later save still gets a higher number); returns that version's name.
    pub fn rollback(&self) -> Result<String> {
        let current = self.current_version()?.ok_or_else(|| Error::Training("no model to roll back".into()))?;
        let previous =
            self.versions()?.into_iter().rfind(|&v| v < current).ok_or_else(|| {
                Error::Training(format!("no version older than v{current:06} is kept to roll back to"))
            })?;
        // Check it loads before it is served.
        self.load(&self.file(previous))?;
        self.set_current(previous)?;
        Ok(format!("v{previous:06}"))
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
