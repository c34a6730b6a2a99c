use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use searchd_catalog::{CatalogEvent, Product, WriteOutcome};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analysis::{Analyzer, FieldTokenizer, Language, tagged, title_head};
use crate::schema::Fields;
use crate::{Error, Result};

/// Indexer settings. Plain data: the binary loads it from TOML and the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Language for texts whose language is neither declared nor reliably detected (ISO 639-1).
    pub default_language: String,
    /// Languages the catalog may contain (ISO 639-1); detection chooses only among them, which
    /// is faster and more accurate. Empty: every language whatlang knows.
    pub languages: Vec<String>,
    /// Commit once this many writes are pending.
    pub commit_every_docs: usize,
    /// Commit pending writes at least this often (milliseconds), driven by the caller's timer.
    pub commit_interval_ms: u64,
    /// Memory budget of the Tantivy writer, shared by its threads (MiB).
    pub writer_memory_mb: usize,
    /// Indexing threads; 0 means one per core (at most 8).
    pub writer_threads: usize,
    /// Committed writes the change feed remembers (see `ProductIndex::changes_since`); a
    /// follower further behind than this rebuilds from a full scan.
    pub change_feed_capacity: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            default_language: "en".into(),
            languages: Vec::new(),
            commit_every_docs: 10_000,
            commit_interval_ms: 1_000,
            writer_memory_mb: 256,
            writer_threads: 0,
            change_feed_capacity: 200_000,
        }
    }
}

impl IndexConfig {
    pub fn validate(&self) -> std::result::Result<(), String> {
        match Language::from_code(&self.default_language) {
            Some(l) if l.has_stemmer() => {}
            Some(_) => return Err(format!("default_language `{}` has no stemmer", self.default_language)),
            None => return Err(format!("default_language `{}` is not a known language code", self.default_language)),
        }
        if let Some(bad) = self.languages.iter().find(|l| Language::from_code(l).is_none()) {
            return Err(format!("languages: `{bad}` is not a known language code"));
        }
        if self.commit_every_docs == 0 {
            return Err("commit_every_docs must be at least 1".into());
        }
        if self.writer_memory_mb < 16 {
            return Err("writer_memory_mb must be at least 16".into());
        }
        Ok(())
    }

    pub(crate) fn threads(&self) -> usize {
        match self.writer_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()).min(8),
            n => n,
        }
    }
}

/// What the commit payload carries: versions of deleted ids, so a replayed older upsert cannot
/// resurrect a deleted product after a restart.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CommitPayload {
    #[serde(default)]
    tombstones: HashMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionEntry {
    pub(crate) version: u64,
    pub(crate) live: bool,
}

struct WriterState {
    writer: VersionedWriter,
    /// Ids written since the last commit, for the change feed.
    changed: Vec<String>,
}

/// Ids written by commits, in commit order: position `start` is the first id held.
#[derive(Debug, Default)]
struct ChangeFeed {
    start: u64,
    ids: std::collections::VecDeque<String>,
}

/// What changed after a position of the change feed (see [`ProductIndex::changes_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The position to ask from next time.
    pub position: u64,
    /// Ids upserted or deleted by commits after the position asked about (an id may repeat);
    /// `None` when the feed no longer reaches back that far.
    pub ids: Option<Vec<String>>,
}

/// A document analyzed and ready to be written: built outside the writer lock, in parallel.
#[derive(Debug)]
pub struct PreparedProduct {
    product: Product,
    doc: TantivyDocument,
}

impl PreparedProduct {
    pub fn id(&self) -> &str {
        &self.product.id
    }
}

/// The product index: one Tantivy index, its writer and its reader.
pub struct ProductIndex {
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) analyzer: Analyzer,
    state: Mutex<WriterState>,
    config: IndexConfig,
    feed: Mutex<ChangeFeed>,
    pub(crate) id_tables: Mutex<HashMap<tantivy::index::SegmentId, std::sync::Arc<crate::search::IdTable>>>,
    pub(crate) engagement: Mutex<crate::search::Engagement>,
    /// When searches last started seeing new writes (Unix ms); the open time until a commit.
    committed_at: std::sync::atomic::AtomicI64,
    /// [`VersionedWriter::digest`] as of the last commit searches see.
    committed_digest: std::sync::atomic::AtomicU64,
    /// A digest of the engagement values folded in last (0: none).
    engagement_digest: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for ProductIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductIndex").field("config", &self.config).finish_non_exhaustive()
    }
}

impl ProductIndex {
    /// Opens the index in `dir`, creating it when the folder holds none.
    pub fn open(dir: &Path, config: IndexConfig) -> Result<Self> {
        let (schema, fields) = Fields::schema();
        Self::with_index(
            open_dir(dir, schema, tantivy::IndexSettings::default())?,
            fields,
            config,
            &dir.display().to_string(),
        )
    }

    /// A throw-away index in memory, for tests and benches.
    pub fn in_memory(config: IndexConfig) -> Result<Self> {
        let (schema, fields) = Fields::schema();
        Self::with_index(Index::create_in_ram(schema), fields, config, "memory")
    }

    fn with_index(index: Index, fields: Fields, config: IndexConfig, location: &str) -> Result<Self> {
        let Opened { writer, reader, default_language: default } = open_parts(&index, &config, location, fields.id)?;
        let digest = writer.digest;
        Ok(Self {
            reader,
            fields,
            analyzer: Analyzer::with_languages(
                default,
                &config.languages.iter().filter_map(|l| Language::from_code(l)).collect::<Vec<_>>(),
            ),
            state: Mutex::new(WriterState { writer, changed: Vec::new() }),
            config,
            feed: Mutex::default(),
            id_tables: Mutex::default(),
            engagement: Mutex::default(),
            committed_at: std::sync::atomic::AtomicI64::new(unix_ms_now()),
            committed_digest: std::sync::atomic::AtomicU64::new(digest),
            engagement_digest: std::sync::atomic::AtomicU64::default(),
        })
    }

    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// Live documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// When the last commit made writes visible (Unix ms); the time the index was opened until
    /// this process commits.
    pub fn committed_at_ms(&self) -> i64 {
        self.committed_at.load(std::sync::atomic::Ordering::Acquire)
    }

    /// What searches see, as a number that is equal wherever the content is: a digest of the
    /// committed (id, version) pairs of the live products, combined with the engagement folded
    /// in. Two replicas fed the same writes (a Kafka topic) agree on it; a restart keeps it; a
    /// merge does not change it; any commit that changes a product does. Caches key on it.
    ///
    /// It is updated after the reader reloads, so a caller that reads it *before* searching
    /// never files older results under a newer version.
    pub fn content_version(&self) -> u64 {
        let catalog = self.committed_digest.load(std::sync::atomic::Ordering::Acquire);
        let engagement = self.engagement_digest.load(std::sync::atomic::Ordering::Acquire);
        catalog ^ engagement.rotate_left(17)
    }

    /// Copies the last commit's files (this index is stored in `source`) into `dest`, while
    /// searches and writes go on; see [`crate::snapshot`].
    pub fn snapshot(&self, source: &Path, dest: &Path) -> Result<crate::CopiedIndex> {
        crate::snapshot::copy_committed(self.reader.searcher().index(), source, dest)
    }

    /// The catalog part of [`Self::content_version`]: the committed (id, version) pairs only.
    pub fn catalog_version(&self) -> u64 {
        self.committed_digest.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn set_engagement_digest(&self, digest: u64) {
        self.engagement_digest.store(digest, std::sync::atomic::Ordering::Release);
    }

    /// Bumps whenever a commit or merge changes what searches see: caches and derived
    /// structures (autocomplete) compare it to know they are stale.
    pub fn generation(&self) -> u64 {
        self.reader.searcher().generation().generation_id()
    }

    /// Calls `f` with every live product as of the last commit, reading the document store
    /// block by block; returns the generation it read.
    pub fn for_each_product(&self, mut f: impl FnMut(Product)) -> Result<u64> {
        let searcher = self.searcher();
        for segment in searcher.segment_readers() {
            let store = segment.get_store_reader(1)?;
            for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
                f(parse_source(&doc?, self.fields.source)?);
            }
        }
        Ok(searcher.generation().generation_id())
    }

    pub(crate) fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Validates and analyzes a product (language, exact and stemmed tokens, facets, fast fields).
    /// CPU work without the writer lock: bulk ingest runs it on many threads.
    pub fn prepare(&self, mut product: Product) -> Result<PreparedProduct> {
        product.validate()?;
        let f = &self.fields;
        let language = self.analyzer.resolve(product.language.as_deref(), || detection_sample(&product));
        product.language = Some(language.code().to_string());
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &product.id);
        // Tokenized in Tantivy's indexing threads by the tokenizers registered in `with_index`.
        doc.add_text(f.title_exact, &product.title);
        doc.add_text(f.title_stem, tagged(&product.title, language));
        let head = title_head(&product.title);
        if !head.is_empty() {
            doc.add_text(f.title_head, tagged(&head, language));
        }
        if !product.description.is_empty() {
            doc.add_text(f.description_exact, &product.description);
            doc.add_text(f.description_stem, tagged(&product.description, language));
        }
        if let Some(brand) = product.brand.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            doc.add_text(f.brand_text, brand);
            doc.add_facet(f.brand, Facet::from_path([brand]));
        }
        if !product.category.is_empty() {
            let names = product.category.join(" ");
            doc.add_text(f.category_stem, tagged(&names, language));
            doc.add_facet(f.category, Facet::from_path(product.category.iter().map(|c| c.trim())));
        }
        if let Some(price) = product.price {
            doc.add_f64(f.price, price);
        }
        if let Some(rating) = product.rating {
            doc.add_f64(f.rating, rating);
        }
        doc.add_u64(f.review_count, product.review_count);
        doc.add_f64(f.popularity, product.popularity);
        doc.add_bool(f.in_stock, product.in_stock);
        if let Some(at) = product.updated_at {
            doc.add_i64(f.updated_at, at.unix_timestamp());
        }
        doc.add_text(f.language, language.code());
        Ok(PreparedProduct { product, doc })
    }

    /// Applies one catalog event; see [`apply_prepared`](Self::apply_prepared) for upserts.
    pub fn apply(&self, event: CatalogEvent) -> Result<WriteOutcome> {
        match event {
            CatalogEvent::Upsert { product } => {
                let prepared = self.prepare(product)?;
                Ok(self.apply_prepared(vec![prepared])?.remove(0))
            }
            CatalogEvent::Delete { id, version } => self.delete(&id, version),
            _ => Err(Error::Input("unsupported catalog event".into())),
        }
    }

    /// Writes prepared upserts. Idempotent by id and version: a version not above the one held
    /// (live or deleted) changes nothing. Version 0 means "the next version".
    pub fn apply_prepared(&self, batch: Vec<PreparedProduct>) -> Result<Vec<WriteOutcome>> {
        self.write_prepared(batch, true)
    }

    /// [`apply_prepared`](Self::apply_prepared) without the commit-by-count policy: bulk loads
    /// commit when they are done (Tantivy flushes segments by memory budget meanwhile).
    pub fn apply_prepared_bulk(&self, batch: Vec<PreparedProduct>) -> Result<Vec<WriteOutcome>> {
        self.write_prepared(batch, false)
    }

    fn write_prepared(&self, batch: Vec<PreparedProduct>, autocommit: bool) -> Result<Vec<WriteOutcome>> {
        let f = self.fields;
        let mut state = self.lock()?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for PreparedProduct { mut product, mut doc } in batch {
            let id = product.id.clone();
            let outcome = state.writer.upsert(&id, product.version, |version| {
                product.version = version;
                doc.add_u64(f.version, version);
                doc.add_text(f.source, serde_json::to_string(&product)?);
                Ok(doc)
            })?;
            if matches!(outcome, WriteOutcome::Applied { .. }) {
                state.changed.push(id);
            }
            outcomes.push(outcome);
        }
        if autocommit {
            self.commit_if_full(&mut state)?;
        }
        Ok(outcomes)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, WriterState>> {
        self.state.lock().map_err(|_| Error::Internal("writer lock poisoned".into()))
    }

    /// Deletes a product. The version is remembered (a tombstone), so older upserts stay out.
    /// Version 0 means "the next version".
    pub fn delete(&self, id: &str, version: u64) -> Result<WriteOutcome> {
        searchd_catalog::validate_id(id)?;
        let mut state = self.lock()?;
        let outcome = state.writer.delete(id, version);
        if matches!(outcome, WriteOutcome::Applied { .. }) {
            state.changed.push(id.to_string());
            self.commit_if_full(&mut state)?;
        }
        Ok(outcome)
    }

    /// Whether the id exists and is live in the written (maybe not yet committed) state.
    pub fn is_live(&self, id: &str) -> bool {
        self.state.lock().is_ok_and(|s| s.writer.is_live(id))
    }

    fn commit_if_full(&self, state: &mut WriterState) -> Result<()> {
        if state.writer.is_full(&self.config) {
            self.commit_locked(state)?;
        }
        Ok(())
    }

    /// Commits when writes are pending and the commit interval has passed. Returns whether it did.
    pub fn commit_if_due(&self) -> Result<bool> {
        let mut state = self.lock()?;
        let due = state.writer.is_due(&self.config);
        if due {
            self.commit_locked(&mut state)?;
        }
        Ok(due)
    }

    /// Commits pending writes and makes them visible to searches.
    pub fn commit(&self) -> Result<()> {
        let mut state = self.lock()?;
        self.commit_locked(&mut state)
    }

    fn commit_locked(&self, state: &mut WriterState) -> Result<()> {
        let started = Instant::now();
        let docs = state.writer.commit(&self.reader)?;
        self.committed_at.store(unix_ms_now(), std::sync::atomic::Ordering::Release);
        self.committed_digest.store(state.writer.digest, std::sync::atomic::Ordering::Release);
        // After the reload: whoever reads a position can already see its writes.
        self.publish_changes(std::mem::take(&mut state.changed));
        tracing::debug!(docs, ms = started.elapsed().as_secs_f64() * 1e3, "commit");
        Ok(())
    }

    fn publish_changes(&self, ids: Vec<String>) {
        let mut feed = self.feed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        feed.ids.extend(ids);
        let over = feed.ids.len().saturating_sub(self.config.change_feed_capacity);
        feed.ids.drain(..over);
        feed.start += over as u64;
    }

    /// The change feed's current end: every commit up to it is visible to searches.
    pub fn change_position(&self) -> u64 {
        let feed = self.feed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        feed.start + feed.ids.len() as u64
    }

    /// Ids written by commits after `position`, for structures derived from the index that
    /// follow it incrementally (autocomplete). The feed starts empty when the process starts
    /// and keeps the last `change_feed_capacity` ids.
    pub fn changes_since(&self, position: u64) -> Changes {
        let feed = self.feed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let end = feed.start + feed.ids.len() as u64;
        let ids = (position >= feed.start && position <= end)
            .then(|| feed.ids.iter().skip((position - feed.start) as usize).cloned().collect());
        Changes { position: end, ids }
    }

    /// Merges every segment into one (after a bulk load), so each query visits one segment:
    /// one term lookup and one typo-automaton walk per word instead of one per segment.
    pub fn merge_segments(&self) -> Result<()> {
        self.lock()?.writer.merge_all(&self.reader)
    }

    /// The distinct stemmed words of `text` as a query in language `lang` (detected when `None`)
    /// is analyzed.
    pub fn stems(&self, text: &str, lang: Option<&str>) -> Vec<String> {
        let language = self.analyzer.query_language(lang, text);
        self.analyzer.query_terms(text, language).into_iter().map(|t| t.stem).collect()
    }

    /// The share of products whose title holds this stemmed word, as of the last commit.
    pub fn title_share(&self, stem: &str) -> f64 {
        let searcher = self.searcher();
        let df = searcher.doc_freq(&Term::from_field_text(self.fields.title_stem, stem)).unwrap_or(0);
        df as f64 / searcher.num_docs().max(1) as f64
    }

    /// The stored product with this id, as of the last commit.
    pub fn get(&self, id: &str) -> Result<Product> {
        let searcher = self.searcher();
        self.load(&searcher, find_id(&searcher, self.fields.id, id)?)
    }

    /// The stored products with these ids, from one view of the last commit, in the ids' order;
    /// ids not found are left out.
    pub fn get_many<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Result<Vec<Product>> {
        let searcher = self.searcher();
        let mut out = Vec::new();
        for id in ids {
            match find_id(&searcher, self.fields.id, id) {
                Ok(address) => out.push(self.load(&searcher, address)?),
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub(crate) fn load(&self, searcher: &Searcher, address: DocAddress) -> Result<Product> {
        parse_source(&searcher.doc(address)?, self.fields.source)
    }
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

/// Title plus the start of the description: enough text for a confident detection.
fn detection_sample(p: &Product) -> String {
    let mut sample = p.title.clone();
    if !p.description.is_empty() {
        sample.push_str(". ");
        let end = p.description.char_indices().nth(400).map_or(p.description.len(), |(i, _)| i);
        sample.push_str(&p.description[..end]);
    }
    sample
}

/// Id → version of every live document, read from fast fields (no stored-document loads).
fn live_versions(searcher: &Searcher) -> Result<HashMap<String, VersionEntry>> {
    let mut versions = HashMap::with_capacity(usize::try_from(searcher.num_docs()).unwrap_or(0));
    for segment in searcher.segment_readers() {
        let ff = segment.fast_fields();
        let ids = ff.str(crate::schema::ID)?.ok_or_else(|| Error::Internal("id is not a fast field".into()))?;
        let vers = ff.u64(crate::schema::VERSION)?;
        let mut id = String::new();
        for doc in segment.doc_ids_alive() {
            let Some(ord) = ids.term_ords(doc).next() else { continue };
            id.clear();
            ids.ord_to_str(ord, &mut id)?;
            let version = vers.first(doc).unwrap_or(0);
            versions.insert(id.clone(), VersionEntry { version, live: true });
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
    let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    let payload: CommitPayload =
        index.load_metas()?.payload.as_deref().map(serde_json::from_str).transpose()?.unwrap_or_default();
    let mut versions = live_versions(&reader.searcher())?;
    for (id, version) in payload.tombstones {
        versions.entry(id).or_insert(VersionEntry { version, live: false });
    }
    let digest = versions.iter().filter(|(_, v)| v.live).fold(0, |d, (id, v)| d ^ entry_digest(id, v.version));
    let writer = VersionedWriter { writer, id_field, versions, digest, pending: 0, last_commit: Instant::now() };
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

/// The address of the live document with this id.
pub(crate) fn find_id(searcher: &Searcher, id_field: tantivy::schema::Field, id: &str) -> Result<DocAddress> {
    let query = TermQuery::new(Term::from_field_text(id_field, id), IndexRecordOption::Basic);
    let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
    top.into_iter().next().map(|(_, address)| address).ok_or_else(|| Error::NotFound(id.to_string()))
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

fn unix_ms_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
