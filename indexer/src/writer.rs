//! What every searchd index shares: opening a Tantivy index with our tokenizers, the
//! versioned writer (idempotent upserts and deletes by id and version, tombstones in the commit
//! payload, the commit policy's state), and reading a document back by id.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use searchd_catalog::WriteOutcome;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analysis::{FieldTokenizer, Language};
use crate::config::IndexConfig;
use crate::{Error, Result};

/// What the commit payload carries: versions of deleted ids, so a replayed older upsert cannot
/// resurrect a deleted product after a restart.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CommitPayload {
    #[serde(default)]
    tombstones: HashMap<String, u64>,
    /// The settings the committed documents are complete for (an index's own business).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settings: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionEntry {
    pub(crate) version: u64,
    pub(crate) live: bool,
}

/// The version a write gets, or why it changes nothing: `requested` 0 means "the next version";
/// a version equal to the held one (live or deleted) is a replay, a lower one is stale.
fn next_version(requested: u64, current: Option<VersionEntry>) -> std::result::Result<u64, WriteOutcome> {
    match (requested, current) {
        (0, None) => Ok(1),
        (0, Some(c)) => Ok(c.version + 1),
        (v, Some(c)) if v == c.version => Err(WriteOutcome::Unchanged { version: v }),
        (v, Some(c)) if v < c.version => Err(WriteOutcome::Stale { current: c.version }),
        (v, _) => Ok(v),
    }
}

/// Id → version of every live document, read from fast fields (no stored-document loads).
fn live_versions(searcher: &Searcher) -> Result<HashMap<String, VersionEntry>> {
    let mut versions = HashMap::with_capacity(usize::try_from(searcher.num_docs()).unwrap_or(0));
    for segment in searcher.segment_readers() {
        let ff = segment.fast_fields();
        let ids = ff.str(crate::schema::ID)?.ok_or_else(|| Error::Internal("id is not a fast field".into()))?;
        let vers = ff.u64(crate::schema::VERSION)?;
        // Each live id's version by its term ordinal, then the ids read in one pass over the
        // dictionary: looking each id up by ordinal took seconds for a million products.
        let mut by_ord = vec![None; ids.num_terms()];
        for doc in segment.doc_ids_alive() {
            let Some(ord) = ids.term_ords(doc).next() else { continue };
            if let Some(slot) = usize::try_from(ord).ok().and_then(|o| by_ord.get_mut(o)) {
                *slot = Some(vers.first(doc).unwrap_or(0));
            }
        }
        let mut terms = ids.dictionary().stream()?;
        let mut ord = 0;
        while terms.advance() {
            if let Some(version) = by_ord.get(ord).copied().flatten() {
                let id = std::str::from_utf8(terms.key())
                    .map_err(|_| Error::Internal("an id in the index is not UTF-8".into()))?;
                versions.insert(id.to_string(), VersionEntry { version, live: true });
            }
            ord += 1;
        }
    }
    Ok(versions)
}

/// Opens (or creates) a Tantivy index of `schema` in `dir`.
/// Opens the index in `dir`, or creates it there with these settings (an existing index keeps
/// the settings it was created with).
pub(crate) fn open_dir(dir: &Path, schema: tantivy::schema::Schema, settings: tantivy::IndexSettings) -> Result<Index> {
    std::fs::create_dir_all(dir)?;
    let directory = tantivy::directory::MmapDirectory::open(dir)?;
    Index::builder().schema(schema).settings(settings).open_or_create(directory).map_err(|e| {
        let hint = match &e {
            tantivy::TantivyError::SchemaError(_) => {
                "; it was built by another version of searchd (its fields differ): index into a new data dir"
            }
            _ => "",
        };
        Error::Internal(format!("cannot open the index in {}: {e}{hint}", dir.display()))
    })
}

/// What every searchd index is made of once opened: our tokenizers registered, the writer, a
/// manually reloaded reader, and the id → version map (live ids from the fast fields, deleted
/// ones from the tombstones of the last commit's payload).
pub(crate) struct Opened {
    pub writer: VersionedWriter,
    pub reader: IndexReader,
    pub default_language: Language,
}

/// `id_field` is the index's `STRING` id field, which writes replace and delete by.
pub(crate) fn open_parts(
    index: &Index,
    config: &IndexConfig,
    location: &str,
    id_field: tantivy::schema::Field,
) -> Result<Opened> {
    config.validate().map_err(Error::Input)?;
    let default_language = Language::from_code(&config.default_language).unwrap_or(Language::ENGLISH);
    index.tokenizers().register(FieldTokenizer::EXACT, tantivy::tokenizer::TextAnalyzer::from(FieldTokenizer::exact()));
    index.tokenizers().register(
        FieldTokenizer::STEM,
        tantivy::tokenizer::TextAnalyzer::from(FieldTokenizer::stemming(default_language)),
    );
    let writer =
        index.writer_with_num_threads(config.threads(), config.writer_memory_mb << 20).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => Error::Locked(location.to_string()),
            e => Error::from(e),
        })?;
    let reader: IndexReader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .doc_store_cache_num_blocks(config.doc_store_cache_blocks)
        .try_into()?;
    let payload: CommitPayload =
        index.load_metas()?.payload.as_deref().map(serde_json::from_str).transpose()?.unwrap_or_default();
    let mut versions = live_versions(&reader.searcher())?;
    let settings = payload.settings;
    for (id, version) in payload.tombstones {
        versions.entry(id).or_insert(VersionEntry { version, live: false });
    }
    let digest = versions.iter().filter(|(_, v)| v.live).fold(0, |d, (id, v)| d ^ entry_digest(id, v.version));
    let writer =
        VersionedWriter { writer, id_field, versions, digest, pending: 0, last_commit: Instant::now(), settings };
    Ok(Opened { writer, reader, default_language })
}

/// The writing half every searchd index shares: the Tantivy writer, the id → version map that
/// makes writes idempotent (see [`next_version`]), and the commit policy's state (writes pending
/// since the last commit, and when that was).
pub(crate) struct VersionedWriter {
    writer: IndexWriter,
    id_field: tantivy::schema::Field,
    versions: HashMap<String, VersionEntry>,
    /// XOR of [`entry_digest`] over the live entries of `versions`: a set digest, updated
    /// write by write, independent of the order writes came in.
    pub(crate) digest: u64,
    pending: usize,
    last_commit: Instant,
    /// What the next commit's payload says of the settings (as the last commit's said, at open).
    pub(crate) settings: Option<serde_json::Value>,
}

/// One (key, number) pair's share of a set digest (XOR of shares): here a live (id, version)
/// pair of a content digest: the first 8 bytes of SHA-256, so
/// every process and machine computes the same.
pub fn entry_digest(id: &str, version: u64) -> u64 {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(id.as_bytes());
    hasher.update([0]);
    hasher.update(version.to_le_bytes());
    let hash = hasher.finalize();
    u64::from_le_bytes(hash[..8].try_into().unwrap_or_default())
}

impl VersionedWriter {
    /// Writes `id` at the version `requested` resolves to, replacing its live document; `doc`
    /// builds the document once that version is known. A replay or a stale version writes nothing.
    pub(crate) fn upsert(
        &mut self,
        id: &str,
        requested: u64,
        doc: impl FnOnce(u64) -> Result<TantivyDocument>,
    ) -> Result<WriteOutcome> {
        let current = self.versions.get(id).copied();
        let version = match next_version(requested, current) {
            Ok(version) => version,
            Err(outcome) => return Ok(outcome),
        };
        let doc = doc(version)?;
        if current.is_some_and(|c| c.live) {
            self.writer.delete_term(Term::from_field_text(self.id_field, id));
        }
        self.writer.add_document(doc)?;
        if let Some(c) = current.filter(|c| c.live) {
            self.digest ^= entry_digest(id, c.version);
        }
        self.digest ^= entry_digest(id, version);
        self.versions.insert(id.to_string(), VersionEntry { version, live: true });
        self.pending += 1;
        Ok(WriteOutcome::Applied { version })
    }

    /// Writes `doc` again for `id` at `version`, when that is still its live version (a newer
    /// write or a delete meanwhile wins): a re-index of what is held. Returns whether it did.
    pub(crate) fn rewrite(&mut self, id: &str, version: u64, doc: TantivyDocument) -> Result<bool> {
        if self.versions.get(id) != Some(&VersionEntry { version, live: true }) {
            return Ok(false);
        }
        self.writer.delete_term(Term::from_field_text(self.id_field, id));
        self.writer.add_document(doc)?;
        self.pending += 1;
        Ok(true)
    }

    /// Whether nothing is written (nor deleted) yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// Deletes `id`, remembering its version (a tombstone) so older upserts stay out.
    pub(crate) fn delete(&mut self, id: &str, requested: u64) -> WriteOutcome {
        let current = self.versions.get(id).copied();
        let version = match next_version(requested, current) {
            Ok(version) => version,
            Err(outcome) => return outcome,
        };
        if let Some(c) = current.filter(|c| c.live) {
            self.writer.delete_term(Term::from_field_text(self.id_field, id));
            self.digest ^= entry_digest(id, c.version);
        }
        self.versions.insert(id.to_string(), VersionEntry { version, live: false });
        self.pending += 1;
        WriteOutcome::Applied { version }
    }

    /// Whether the id exists and is live in the written (maybe not yet committed) state.
    pub(crate) fn is_live(&self, id: &str) -> bool {
        self.versions.get(id).is_some_and(|v| v.live)
    }

    /// Whether enough writes are pending to commit now.
    pub(crate) fn is_full(&self, config: &IndexConfig) -> bool {
        self.pending >= config.commit_every_docs
    }

    /// Whether writes are pending and the commit interval has passed.
    pub(crate) fn is_due(&self, config: &IndexConfig) -> bool {
        self.pending > 0 && self.last_commit.elapsed() >= Duration::from_millis(config.commit_interval_ms)
    }

    /// Commits with the tombstones in the payload, then reloads the reader. Returns how many
    /// writes the commit made visible.
    pub(crate) fn commit(&mut self, reader: &IndexReader) -> Result<usize> {
        let payload = CommitPayload {
            tombstones: self.versions.iter().filter(|(_, v)| !v.live).map(|(id, v)| (id.clone(), v.version)).collect(),
            settings: self.settings.clone(),
        };
        let payload = serde_json::to_string(&payload)?;
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        reader.reload()?;
        self.last_commit = Instant::now();
        Ok(std::mem::take(&mut self.pending))
    }

    /// Merges every searchable segment into one, then reloads the reader.
    ///
    /// The merge policy may be merging some of the segments in the background already (commits
    /// by count start such merges); Tantivy then refuses a merge naming them, so the segments are
    /// listed again and the merge retried until the background merge has finished (at most a
    /// minute).
    pub(crate) fn merge_all(&mut self, reader: &IndexReader) -> Result<()> {
        let started = Instant::now();
        loop {
            let ids = self.writer.index().searchable_segment_ids()?;
            if ids.len() <= 1 {
                break;
            }
            match self.writer.merge(&ids).wait() {
                Ok(_) => break,
                Err(tantivy::TantivyError::InvalidArgument(reason))
                    if reason.contains("could not be found") && started.elapsed() < Duration::from_secs(60) =>
                {
                    tracing::debug!(%reason, "a background merge holds some segments; merging again shortly");
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        }
        reader.reload()?;
        Ok(())
    }
}

/// An index's reader and versioned writer, with what every index but the products' (whose
/// writer keeps a change feed too) does with them: counts, deletes, commits by count and by
/// time, merges, snapshots, and documents read back by id.
pub(crate) struct Store {
    pub(crate) config: IndexConfig,
    pub(crate) reader: IndexReader,
    state: std::sync::Mutex<VersionedWriter>,
    /// `vendor` or `offer`, in messages.
    kind: &'static str,
}

impl Store {
    pub(crate) fn new(config: &IndexConfig, reader: IndexReader, writer: VersionedWriter, kind: &'static str) -> Self {
        Self { config: config.clone(), reader, state: std::sync::Mutex::new(writer), kind }
    }

    pub(crate) fn lock(&self) -> Result<std::sync::MutexGuard<'_, VersionedWriter>> {
        self.state.lock().map_err(|_| Error::Internal(format!("{} writer lock poisoned", self.kind)))
    }

    /// Live documents visible to searches.
    pub(crate) fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Deletes `id`, remembering its version.
    pub(crate) fn delete(&self, id: &str, version: u64) -> Result<WriteOutcome> {
        searchd_catalog::validate_id(id)?;
        let mut state = self.lock()?;
        let outcome = state.delete(id, version);
        self.commit_if_full(&mut state)?;
        Ok(outcome)
    }

    /// Whether the id exists and is live in the written (maybe not yet committed) state.
    pub(crate) fn is_live(&self, id: &str) -> bool {
        self.lock().is_ok_and(|s| s.is_live(id))
    }

    /// Commits when enough writes are pending.
    pub(crate) fn commit_if_full(&self, state: &mut VersionedWriter) -> Result<()> {
        if state.is_full(&self.config) {
            state.commit(&self.reader)?;
        }
        Ok(())
    }

    /// Commits when writes are pending and the commit interval has passed. Returns whether it did.
    pub(crate) fn commit_if_due(&self) -> Result<bool> {
        let mut state = self.lock()?;
        let due = state.is_due(&self.config);
        if due {
            state.commit(&self.reader)?;
        }
        Ok(due)
    }

    /// Commits pending writes and makes them visible.
    pub(crate) fn commit(&self) -> Result<()> {
        self.lock()?.commit(&self.reader).map(drop)
    }

    /// Merges every segment into one.
    pub(crate) fn merge_all(&self) -> Result<()> {
        self.lock()?.merge_all(&self.reader)
    }

    /// Copies the last commit's files (stored in `source`) into `dest`.
    pub(crate) fn snapshot(&self, source: &Path, dest: &Path) -> Result<crate::CopiedIndex> {
        crate::snapshot::copy_committed(self.reader.searcher().index(), source, dest)
    }

    /// The stored source of the document with this id, as of the last commit; `missing` makes
    /// the error of an unknown id.
    pub(crate) fn get<T: serde::de::DeserializeOwned>(
        &self,
        fields: (tantivy::schema::Field, tantivy::schema::Field),
        id: &str,
        missing: fn(String) -> Error,
    ) -> Result<T> {
        let searcher = self.reader.searcher();
        let address = find_id(&searcher, fields.0, id).map_err(|e| match e {
            Error::NotFound(id) => missing(id),
            other => other,
        })?;
        parse_source(&searcher.doc(address)?, fields.1)
    }
}

/// The address of the live document with this id.
pub(crate) fn find_id(searcher: &Searcher, id_field: tantivy::schema::Field, id: &str) -> Result<DocAddress> {
    let query = TermQuery::new(Term::from_field_text(id_field, id), IndexRecordOption::Basic);
    let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
    top.into_iter().next().map(|(_, address)| address).ok_or_else(|| Error::NotFound(id.to_string()))
}

/// The id of the document at `address`, from the id fast field.
pub(crate) fn id_at(searcher: &Searcher, address: DocAddress) -> Result<String> {
    let ids = searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .str(crate::schema::ID)?
        .ok_or_else(|| Error::Internal("id is not a fast field".into()))?;
    let mut id = String::new();
    if let Some(ord) = ids.term_ords(address.doc_id).next() {
        ids.ord_to_str(ord, &mut id)?;
    }
    Ok(id)
}

/// The terms of a string column's ordinals, in the order given: each dictionary block is
/// decoded once for all the ordinals in it (looking each up alone decodes its block from the
/// start every time, about 10 µs apiece in a dictionary of 30,000 ids).
pub(crate) fn terms_of(column: &tantivy::columnar::StrColumn, ords: &[u64]) -> Result<Vec<String>> {
    let mut order: Vec<usize> = (0..ords.len()).collect();
    order.sort_unstable_by_key(|&i| ords[i]);
    let sorted: Vec<u64> = order.iter().map(|&i| ords[i]).collect();
    let mut found = Vec::with_capacity(sorted.len());
    column
        .dictionary()
        .sorted_ords_to_term_cb(&sorted, |bytes| found.push(String::from_utf8_lossy(bytes).into_owned()))?;
    if found.len() != ords.len() {
        return Err(Error::Internal("a term ordinal is not in its column's dictionary".into()));
    }
    let mut out = vec![String::new(); ords.len()];
    for (i, term) in order.into_iter().zip(found) {
        out[i] = term;
    }
    Ok(out)
}

/// A document's stored JSON source, parsed.
pub(crate) fn parse_source<T: serde::de::DeserializeOwned>(
    doc: &TantivyDocument,
    source: tantivy::schema::Field,
) -> Result<T> {
    let text = doc
        .get_first(source)
        .and_then(|v| v.as_str())
        .ok_or_else(|| Error::Internal("stored document without source".into()))?;
    Ok(serde_json::from_str(text)?)
}
