//! Candidate settings on the query log: the most searched queries replayed live and under a
//! preview, their top k compared (`searchd eval --settings` and `POST /v1/settings/preview`).

use searchd_catalog::{PrefixMode, Ranker, SearchRequest};
use searchd_indexer::{Preview, ProductIndex};
use serde::Serialize;

/// A logged query whose top k changes with the candidate settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogChange {
    /// The query.
    pub query: String,
    /// How often it was searched with results.
    pub searches: u64,
    /// Its top k ids, live.
    pub live: Vec<String>,
    /// With the candidate settings.
    pub candidate: Vec<String>,
}

/// Replays `queries` (with their search counts) live and under `preview`, the top `k` ids of
/// each; the queries whose top k differs, in the order given (most searched first, as the log
/// lists them).
pub fn compare_logged(
    index: &ProductIndex,
    preview: &Preview<'_>,
    ranker: &Ranker,
    queries: &[(String, u64)],
    k: usize,
) -> anyhow::Result<Vec<LogChange>> {
    let mut changes = Vec::new();
    for (query, searches) in queries {
        let ask = SearchRequest { q: query.clone(), per_page: k, prefix: PrefixMode::None, ..Default::default() };
        let live: Vec<String> = index.search_ids(&ask, ranker)?.into_iter().map(|h| h.id).collect();
        let candidate: Vec<String> = preview.search_ids(&ask, ranker)?.into_iter().map(|h| h.id).collect();
        if live != candidate {
            changes.push(LogChange { query: query.clone(), searches: *searches, live, candidate });
        }
    }
    Ok(changes)
}
