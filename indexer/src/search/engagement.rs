//! The per-segment id tables and engagement columns, built on demand and cached by segment.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::Searcher;

use crate::columns::{EngagementColumns, IdTable, SegmentSignals, SignalColumns, signal_clock};
use crate::writer::entry_digest;
use crate::{ProductIndex, Result, schema};

impl ProductIndex {
    /// The doc → id table of a segment, built once (segments are immutable) from the id
    /// column's dictionary in one sequential pass. Looking ids up one by one in the dictionary
    /// decodes a block per hit, which cost more than the search itself.
    pub(crate) fn id_table(&self, searcher: &Searcher, segment_ord: u32) -> Result<Arc<IdTable>> {
        let segment = searcher.segment_reader(segment_ord);
        let key = segment.segment_id();
        let mut tables = self.id_tables.lock().map_err(|_| crate::Error::Internal("id table lock poisoned".into()))?;
        if let Some(table) = tables.get(&key) {
            return Ok(table.clone());
        }
        let column = segment
            .fast_fields()
            .str(schema::ID)?
            .ok_or_else(|| crate::Error::Internal("id is not a fast field".into()))?;
        let mut terms: Vec<Box<str>> = Vec::with_capacity(column.dictionary().num_terms());
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            terms.push(String::from_utf8_lossy(stream.key()).into());
        }
        let ords = (0..segment.max_doc())
            .map(|doc| column.term_ords(doc).next().map_or(u32::MAX, |o| u32::try_from(o).unwrap_or(u32::MAX)))
            .collect();
        let table = Arc::new(IdTable::new(terms, ords));
        keep_live(searcher, &mut tables);
        tables.insert(key, table.clone());
        Ok(table)
    }

    /// The signals of one segment of `searcher`, with the given engagement columns.
    pub(crate) fn segment_signals_with(
        &self,
        searcher: &Searcher,
        segment_ord: u32,
        columns: Option<&Arc<EngagementColumns>>,
    ) -> Result<SegmentSignals> {
        let segment = searcher.segment_reader(segment_ord);
        let id = segment.segment_id();
        let column = columns.and_then(|c| c.get(&id).cloned());
        // Opening five fast fields per segment and search cost more than phase 2 read from them.
        let mut kept =
            self.signal_columns.lock().map_err(|_| crate::Error::Internal("signal columns lock poisoned".into()))?;
        let opened = match kept.get(&id) {
            Some(opened) => opened.clone(),
            None => {
                let opened = Arc::new(SignalColumns::open(segment, true));
                keep_live(searcher, &mut kept);
                kept.insert(id, opened.clone());
                opened
            }
        };
        Ok(SegmentSignals::with_columns(opened, column, signal_clock()))
    }

    /// Replaces the engagement (time-decayed event popularity) of every product: products absent
    /// from `values` get 0. Tantivy segments are immutable, so this is not written into them:
    /// each segment gets a column aligned with its doc ids, built from its id column on the
    /// next search (segments the index adds later get theirs when first searched). Phase 1 and
    /// phase 2 read it like a fast field; no document is re-indexed and no version changes.
    pub fn set_engagement(&self, values: HashMap<String, f32>) -> Result<()> {
        let mut state =
            self.engagement.lock().map_err(|_| crate::Error::Internal("engagement lock poisoned".into()))?;
        let digest = values.iter().fold(0, |d, (id, v)| d ^ entry_digest(id, u64::from(v.to_bits())));
        state.values = Arc::new(values);
        state.columns = Arc::new(HashMap::new());
        // After the values: a search that read the new digest sees the new values.
        self.set_engagement_digest(digest);
        Ok(())
    }

    /// The engagement columns of the searcher's segments, building the missing ones; `None`
    /// when no product has engagement.
    pub(crate) fn engagement_columns(&self, searcher: &Searcher) -> Result<Option<Arc<EngagementColumns>>> {
        let mut state =
            self.engagement.lock().map_err(|_| crate::Error::Internal("engagement lock poisoned".into()))?;
        if state.values.is_empty() {
            return Ok(None);
        }
        let readers = searcher.segment_readers();
        if readers.iter().all(|s| state.columns.contains_key(&s.segment_id())) {
            return Ok(Some(state.columns.clone()));
        }
        let mut columns: EngagementColumns = HashMap::with_capacity(readers.len());
        for (ord, segment) in readers.iter().enumerate() {
            let key = segment.segment_id();
            if let Some(column) = state.columns.get(&key) {
                columns.insert(key, column.clone());
                continue;
            }
            let table = self.id_table(searcher, ord as u32)?;
            let by_ord: Vec<f32> =
                table.terms.iter().map(|id| state.values.get(&**id).copied().unwrap_or(0.0)).collect();
            let column: Arc<[f32]> =
                table.ords.iter().map(|&o| by_ord.get(o as usize).copied().unwrap_or(0.0)).collect();
            columns.insert(key, column);
        }
        state.columns = Arc::new(columns);
        Ok(Some(state.columns.clone()))
    }
}

/// Drops what a per-segment cache holds for segments `searcher` no longer has (merged away).
pub(crate) fn keep_live<V>(searcher: &Searcher, kept: &mut HashMap<tantivy::index::SegmentId, V>) {
    let live: std::collections::HashSet<_> = searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
    kept.retain(|id, _| live.contains(id));
}
