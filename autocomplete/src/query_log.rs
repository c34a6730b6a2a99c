//! The query log: how often each normalized query was searched, persisted so popular queries
//! survive a restart.
//!
//! Counts live in memory behind a mutex (one short critical section per search) and are written
//! to a JSON-lines file by [`QueryLog::flush`]: to a temporary file, synced, then renamed over the
//! old one, so a crash leaves either the previous or the new file, never a torn one. A crash
//! loses the counts recorded since the last flush.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::key::key_of;
use crate::suggester::MAX_INPUT_CHARS;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Stat {
    count: u64,
    /// Hits of the latest search: queries that found nothing are not suggested.
    hits: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    q: String,
    count: u64,
    hits: u64,
}

#[derive(Debug, Default)]
struct State {
    counts: HashMap<String, Stat>,
    /// Records since the log was opened: a cheap "did anything change" check.
    changes: u64,
    flushed_changes: u64,
}

/// See the module documentation.
#[derive(Debug)]
pub struct QueryLog {
    path: Option<PathBuf>,
    max_queries: usize,
    state: Mutex<State>,
}

impl QueryLog {
    /// A log that is never written to disk.
    pub fn in_memory(max_queries: usize) -> Self {
        Self { path: None, max_queries: max_queries.max(1), state: Mutex::default() }
    }

    /// Opens the log at `path`, loading its counts when the file exists.
    pub fn open(path: &Path, max_queries: usize) -> std::io::Result<Self> {
        let mut counts = HashMap::new();
        match std::fs::File::open(path) {
            Ok(file) => {
                for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
                    let line = line?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let line: Line = serde_json::from_str(&line).map_err(|e| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("{} line {}: {e}", path.display(), n + 1),
                        )
                    })?;
                    counts.insert(line.q, Stat { count: line.count, hits: line.hits });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            max_queries: max_queries.max(1),
            state: Mutex::new(State { counts, changes: 0, flushed_changes: 0 }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Counts stay usable after a panic elsewhere: the worst case is one lost increment.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one executed search of `query` that found `hits` documents. Empty and over-long
    /// queries are not counted.
    pub fn record(&self, query: &str, hits: u64) {
        if query.chars().count() > MAX_INPUT_CHARS {
            return;
        }
        let key = key_of(query);
        if key.is_empty() {
            return;
        }
        let mut state = self.lock();
        let stat = state.counts.entry(key).or_default();
        stat.count += 1;
        stat.hits = hits;
        state.changes += 1;
        if state.counts.len() > self.max_queries + self.max_queries / 4 {
            prune(&mut state.counts, self.max_queries);
        }
    }

    /// Changes recorded since the log was opened.
    pub fn changes(&self) -> u64 {
        self.lock().changes
    }

    /// Distinct queries held.
    pub fn len(&self) -> usize {
        self.lock().counts.len()
    }

    /// Whether no query was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Searches counted for a query (normalized like the log does).
    pub fn count(&self, query: &str) -> u64 {
        self.lock().counts.get(&key_of(query)).map_or(0, |s| s.count)
    }

    /// Searches counted for a query whose latest search found something; 0 otherwise ("did you
    /// mean" prefers spellings searched with results).
    pub fn found(&self, query: &str) -> u64 {
        self.lock().counts.get(&key_of(query)).filter(|s| s.hits > 0).map_or(0, |s| s.count)
    }

    /// Queries searched at least `min_count` times whose latest search found something.
    pub fn popular(&self, min_count: u64) -> Vec<(String, u64)> {
        let state = self.lock();
        state
            .counts
            .iter()
            .filter(|(_, s)| s.count >= min_count && s.hits > 0)
            .map(|(q, s)| (q.clone(), s.count))
            .collect()
    }

    /// Writes the counts when they changed since the last flush; returns whether it wrote.
    pub fn flush(&self) -> std::io::Result<bool> {
        let Some(path) = &self.path else { return Ok(false) };
        let (lines, changes) = {
            let state = self.lock();
            if state.changes == state.flushed_changes {
                return Ok(false);
            }
            let lines: Vec<Line> =
                state.counts.iter().map(|(q, s)| Line { q: q.clone(), count: s.count, hits: s.hits }).collect();
            (lines, state.changes)
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("jsonl.tmp");
        {
            let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
            for line in &lines {
                serde_json::to_writer(&mut out, line)?;
                out.write_all(b"\n")?;
            }
            out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        let mut state = self.lock();
        state.flushed_changes = state.flushed_changes.max(changes);
        Ok(true)
    }
}

/// Keeps the `keep` most searched queries.
fn prune(counts: &mut HashMap<String, Stat>, keep: usize) {
    let mut all: Vec<u64> = counts.values().map(|s| s.count).collect();
    let at = all.len() - keep;
    let (_, threshold, _) = all.select_nth_unstable(at);
    let threshold = *threshold;
    let mut over = counts.len() - keep;
    // Drop the least searched first; ties at the threshold go until the size fits.
    counts.retain(|_, s| {
        if s.count < threshold {
            over = over.saturating_sub(1);
            false
        } else {
            true
        }
    });
    if over > 0 {
        counts.retain(|_, s| {
            if over > 0 && s.count == threshold {
                over -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_normalized_queries_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queries.jsonl");
        let log = QueryLog::open(&path, 100).unwrap();
        log.record("Cordless  Drill", 10);
        log.record("cordless drill", 12);
        log.record("Café", 0);
        log.record("   ", 5);
        assert_eq!(log.count("CORDLESS drill"), 2);
        assert_eq!(log.popular(1), vec![("cordless drill".to_string(), 2)]);
        assert!(log.flush().unwrap());
        assert!(!log.flush().unwrap(), "nothing changed since");
        let reopened = QueryLog::open(&path, 100).unwrap();
        assert_eq!(reopened.count("cordless drill"), 2);
        assert_eq!(reopened.count("cafe"), 1);
        assert_eq!(reopened.len(), 2);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queries.jsonl");
        std::fs::write(&path, "{\"q\":\"a\",\"count\":1,\"hits\":1}\nnot json\n").unwrap();
        let err = QueryLog::open(&path, 10).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn prunes_the_least_searched() {
        let log = QueryLog::in_memory(4);
        // Most searched first, so pruning on the way drops the least searched.
        for (i, q) in ["a", "b", "c", "d", "e", "f"].iter().enumerate().rev() {
            for _ in 0..=i {
                log.record(q, 1);
            }
        }
        log.record("g", 1);
        assert!(log.len() <= 5);
        assert_eq!(log.count("f"), 6);
        assert_eq!(log.count("a"), 0);
    }
}
