use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use searchd_catalog::attributes::Typed;
use searchd_catalog::{CatalogEvent, Product, Settings, WriteOutcome};
use tantivy::schema::Facet;
use tantivy::{DocAddress, Index, IndexReader, Searcher, TantivyDocument, Term};

use crate::analysis::{Analyzer, Language, tagged, title_head};
use crate::columns::{Engagement, FacetColumns, IdTable};
use crate::config::IndexConfig;
use crate::schema::{self, Fields};
use crate::settings::{Indexing, SettingsState};
use crate::writer::{Opened, VersionedWriter, find_id, open_dir, open_parts, parse_source};
use crate::{Error, Result};

pub(crate) struct WriterState {
    pub(crate) writer: VersionedWriter,
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
    /// The settings epoch its attributes were held under (see [`crate::settings::Indexing`]).
    epoch: u64,
}

impl PreparedProduct {
    /// The product's id.
    pub fn id(&self) -> &str {
        &self.product.id
    }
}

/// A clock in Unix seconds.
pub type Clock = std::sync::Arc<dyn Fn() -> i64 + Send + Sync>;

/// The product index: one Tantivy index, its writer and its reader.
pub struct ProductIndex {
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) analyzer: Analyzer,
    state: Mutex<WriterState>,
    config: IndexConfig,
    feed: Mutex<ChangeFeed>,
    pub(crate) id_tables: Mutex<HashMap<tantivy::index::SegmentId, std::sync::Arc<IdTable>>>,
    pub(crate) engagement: Mutex<Engagement>,
    /// Phase 1's signal factors per segment.
    pub(crate) factors: crate::search::KeptFactors,
    /// The signals' fast fields per segment, opened once.
    pub(crate) signal_columns: Mutex<HashMap<tantivy::index::SegmentId, std::sync::Arc<crate::columns::SignalColumns>>>,
    /// Prefix and typo matches per segment.
    pub(crate) matches: std::sync::Arc<crate::search::KeptMatches>,
    /// Phase 1's BM25 weights by their statistics.
    pub(crate) weights: std::sync::Arc<crate::search::KeptWeights>,
    /// The served settings' synonyms, compiled.
    pub(crate) synonyms: crate::search::KeptSynonyms,
    /// The served settings' stop words, compiled.
    pub(crate) stop_words: crate::search::KeptStopWords,
    /// The served settings' rules, compiled.
    pub(crate) rules: crate::search::KeptRules,
    /// The documents rules' boosts select, per segment.
    pub(crate) boost_sets: crate::search::KeptBoostSets,
    /// How often each query was searched with results, for "did you mean".
    pub(crate) query_counts: std::sync::RwLock<Option<crate::search::QueryCounts>>,
    /// The clock rules' time windows read (Unix seconds); the system's unless set.
    pub(crate) clock: std::sync::RwLock<Option<Clock>>,
    /// The facet columns of the segments searches see, opened once.
    pub(crate) facet_columns: std::sync::Arc<FacetColumns>,
    /// The served settings, and the change under way.
    pub(crate) settings: SettingsState,
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
        let Opened { mut writer, reader, default_language: default } =
            open_parts(&index, &config, location, fields.id)?;
        let digest = writer.digest;
        let served = SettingsState::opening(
            writer.settings.as_ref(),
            writer.is_empty(),
            Settings::initial(config.attributes.clone(), config.vendor_attributes.clone()),
        )?;
        writer.settings = Some(serde_json::to_value(&served)?);
        let analyzer = Analyzer::with_languages(
            default,
            &config.languages.iter().filter_map(|l| Language::from_code(l)).collect::<Vec<_>>(),
        );
        analyzer.seed(&held_languages(&reader.searcher(), fields.language)?);
        Ok(Self {
            reader,
            fields,
            analyzer,
            state: Mutex::new(WriterState { writer, changed: Vec::new() }),
            config,
            feed: Mutex::default(),
            id_tables: Mutex::default(),
            engagement: Mutex::default(),
            factors: Mutex::default(),
            signal_columns: Mutex::default(),
            matches: std::sync::Arc::default(),
            weights: std::sync::Arc::default(),
            synonyms: crate::search::KeptSynonyms::default(),
            stop_words: crate::search::KeptStopWords::default(),
            rules: crate::search::KeptRules::default(),
            boost_sets: crate::search::KeptBoostSets::default(),
            clock: std::sync::RwLock::default(),
            query_counts: std::sync::RwLock::default(),
            facet_columns: std::sync::Arc::default(),
            settings: SettingsState::new(served),
            committed_at: std::sync::atomic::AtomicI64::new(unix_ms_now()),
            committed_digest: std::sync::atomic::AtomicU64::new(digest),
            engagement_digest: std::sync::atomic::AtomicU64::default(),
        })
    }

    /// The settings the index was opened with.
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
        // The settings' version, spread over the bits (no hash on every search's cache key).
        let settings = self.settings.version().wrapping_mul(0x9E37_79B9_7F4A_7C15);
        catalog ^ engagement.rotate_left(17) ^ settings
    }

    /// Copies the last commit's files (this index is stored in `source`) into `dest`, while
    /// searches and writes go on (Tantivy's files of one commit, hard-linked or copied).
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
        if let Some(currency) = &mut product.currency {
            currency.make_ascii_uppercase();
        }
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
        if let Some(currency) = &product.currency {
            doc.add_text(f.currency, currency);
        }
        let indexing = self.settings.indexing();
        self.add_attributes(&mut doc, &product, &indexing)?;
        Ok(PreparedProduct { product, doc, epoch: indexing.epoch })
    }

    /// The declared attributes in their types, under each generation writes hold (see
    /// [`crate::settings`]): values into the JSON field (nested objects under their object's
    /// key), presence, `null` and emptiness into `attr_state`. A value contradicting the served
    /// settings refuses the document; one contradicting only a change under way is the change's
    /// refusal.
    fn add_attributes(&self, doc: &mut TantivyDocument, product: &Product, indexing: &Indexing) -> Result<()> {
        use tantivy::schema::OwnedValue;
        let mut generations: Vec<(u64, Vec<_>)> = Vec::with_capacity(2);
        let typed = indexing.served.settings.attributes.typed(&product.attributes)?;
        generations.push((indexing.served.generation, typed));
        if let Some(pending) = &indexing.pending {
            match pending.served.settings.attributes.typed(&product.attributes) {
                Ok(typed) => generations.push((pending.served.generation, typed)),
                Err(e) => pending.refuse(&product.id, &e.into()),
            }
        }
        let language = product.language.as_deref().and_then(Language::from_code).unwrap_or(Language::ENGLISH);
        let mut root: BTreeMap<String, OwnedValue> = BTreeMap::new();
        let (mut exact, mut stem) = (BTreeMap::new(), BTreeMap::new());
        for (generation, typed) in generations {
            if typed.is_empty() {
                continue;
            }
            let settings = if generation == indexing.served.generation {
                &indexing.served.settings
            } else {
                indexing.pending.as_ref().map_or(&indexing.served.settings, |p| &p.served.settings)
            };
            let mut object: BTreeMap<String, OwnedValue> = BTreeMap::new();
            let (mut exact_words, mut stem_words) = (BTreeMap::new(), BTreeMap::new());
            for attribute in typed {
                if settings.attributes.get(&attribute.name).is_some_and(|a| a.searchable) {
                    let words = |tag: bool| {
                        let values = attribute.values.iter().filter_map(|v| match v {
                            Typed::Keyword(text) | Typed::Text(text) => {
                                Some(OwnedValue::Str(if tag { tagged(text, language) } else { text.clone() }))
                            }
                            _ => None,
                        });
                        OwnedValue::Array(values.collect())
                    };
                    schema::nest(&mut exact_words, &attribute.name, words(false));
                    schema::nest(&mut stem_words, &attribute.name, words(true));
                }
                schema::hold(doc, self.fields.attr_state, generation, attribute, &mut object);
            }
            let key = schema::generation_key(generation);
            for (into, object) in [(&mut root, object), (&mut exact, exact_words), (&mut stem, stem_words)] {
                if !object.is_empty() {
                    into.insert(key.clone(), OwnedValue::Object(object.into_iter().collect()));
                }
            }
        }
        for (field, root) in [(self.fields.attrs, root), (self.fields.attr_exact, exact), (self.fields.attr_stem, stem)]
        {
            if !root.is_empty() {
                doc.add_object(field, root);
            }
        }
        Ok(())
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
        let epoch = self.settings.epoch();
        for prepared in batch {
            let PreparedProduct { mut product, mut doc, .. } = self.current(prepared, epoch)?;
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

    /// Writes prepared documents again at the versions they carry, each only when that is still
    /// its live version (a settings change's re-index); returns how many it wrote.
    pub(crate) fn rewrite(&self, batch: Vec<PreparedProduct>) -> Result<u64> {
        let f = self.fields;
        let mut state = self.lock()?;
        let epoch = self.settings.epoch();
        let mut written = 0;
        for prepared in batch {
            let PreparedProduct { product, mut doc, .. } = self.current(prepared, epoch)?;
            doc.add_u64(f.version, product.version);
            doc.add_text(f.source, serde_json::to_string(&product)?);
            written += u64::from(state.writer.rewrite(&product.id, product.version, doc)?);
        }
        // Rewrites commit by count too, which keeps the writer's memory bounded.
        self.commit_if_full(&mut state)?;
        Ok(written)
    }

    /// `prepared` as the settings being written at `epoch` hold it: prepared again when they
    /// changed since (under the writer lock, where `epoch` was read).
    fn current(&self, prepared: PreparedProduct, epoch: u64) -> Result<PreparedProduct> {
        if prepared.epoch == epoch { Ok(prepared) } else { self.prepare(prepared.product) }
    }

    pub(crate) fn lock(&self) -> Result<std::sync::MutexGuard<'_, WriterState>> {
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

    pub(crate) fn commit_locked(&self, state: &mut WriterState) -> Result<()> {
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

/// The products an index holds per language: its `language` terms' document counts.
fn held_languages(searcher: &Searcher, field: tantivy::schema::Field) -> Result<Vec<(Language, u64)>> {
    let mut held: Vec<(Language, u64)> = Vec::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut terms = inverted.terms().stream()?;
        while terms.advance() {
            let Some(language) = std::str::from_utf8(terms.key()).ok().and_then(Language::from_code) else {
                continue;
            };
            let docs = u64::from(terms.value().doc_freq);
            match held.iter_mut().find(|(l, _)| *l == language) {
                Some((_, n)) => *n += docs,
                None => held.push((language, docs)),
            }
        }
    }
    Ok(held)
}

fn unix_ms_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
