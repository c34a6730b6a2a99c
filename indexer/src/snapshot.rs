//! Consistent copies of an index while it serves and takes writes.
//!
//! Tantivy's segment files are written once and never changed; a commit or a finished merge
//! writes a new `meta.json` naming the segments (and delete files) that make up the index, then
//! garbage-collects files no longer named. A copy is consistent when every file one `meta.json`
//! names is copied together with that `meta.json`. So: read the metas, hard-link (or copy, across
//! file systems) each file they name into the destination, then read the metas again; if they
//! changed meanwhile (a commit or merge landed, maybe deleting a file we needed), start over.
//! Hard links keep the data even if the source file is collected right after.

use std::path::{Path, PathBuf};

use tantivy::Index;

use crate::{Error, Result};

/// What a snapshot copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedIndex {
    /// Relative paths of the copied files, `meta.json` included.
    pub files: Vec<PathBuf>,
    /// Attempts needed (more than 1 when commits or merges raced the copy).
    pub attempts: usize,
}

/// Copies the last committed state of `index`, stored in `source`, into `dest` (created; must
/// not hold anything yet).
pub(crate) fn copy_committed(index: &Index, source: &Path, dest: &Path) -> Result<CopiedIndex> {
    const ATTEMPTS: usize = 50;
    for attempt in 1..=ATTEMPTS {
        let metas = index.load_metas()?;
        let before = serde_json::to_string(&metas)?;
        if dest.exists() {
            std::fs::remove_dir_all(dest)?;
        }
        std::fs::create_dir_all(dest)?;
        let mut files: Vec<PathBuf> = metas.list_segment_files().into_iter().collect();
        files.sort();
        let mut copied = Vec::with_capacity(files.len() + 1);
        for file in files {
            match link_or_copy(&source.join(&file), &dest.join(&file)) {
                Ok(()) => copied.push(file),
                // Either a component this segment does not have, or collected after a merge:
                // the second reading of the metas tells which.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let after = serde_json::to_string(&index.load_metas()?)?;
        if after != before {
            tracing::debug!(attempt, "the index changed during the snapshot copy; copying again");
            std::thread::sleep(std::time::Duration::from_millis(10 * attempt as u64));
            continue;
        }
        std::fs::write(dest.join("meta.json"), serde_json::to_string_pretty(&metas)?)?;
        copied.push(PathBuf::from("meta.json"));
        return Ok(CopiedIndex { files: copied, attempts: attempt });
    }
    Err(Error::Internal(format!(
        "the index in {} kept changing: no consistent copy after {ATTEMPTS} attempts",
        source.display()
    )))
}

fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map(|_| ())
}
