//! The RFI index: customers' requests for information as documents, in a Tantivy index of their
//! own with the versioned writes every searchd index has. A request's title and description are
//! indexed as words (as written and stemmed in its language), its category as a facet, its
//! location as one grid cell per level (as a vendor's branches are), and its state and dates as
//! fast columns: [`search`] finds requests by text, category, area and date, and [`reverse`]
//! lists the open requests a vendor can serve, scored as vendor matching scores the vendor.

use std::path::Path;

use searchd_catalog::geo::{CELL_LEVELS, cell_id};
use searchd_catalog::{RfiDocument, RfiStatus, WriteOutcome};
use tantivy::schema::{FAST, Facet, FacetOptions, Field, INDEXED, STORED, STRING, Schema};
use tantivy::{Index, TantivyDocument};

use crate::analysis::{Analyzer, FieldTokenizer, Language, tagged};
use crate::config::IndexConfig;
use crate::writer::{Opened, Store, open_dir, open_parts};
use crate::{Error, Result};

pub(crate) mod reverse;
mod search;

/// Column names of the RFI index.
mod column {
    pub(super) const LAT: &str = "lat";
    pub(super) const LON: &str = "lon";
    /// Whether the request is not closed (its status; time closes it too, see `OPEN_UNTIL`).
    pub(super) const OPEN: &str = "open";
    /// [`RfiDocument::open_until`].
    pub(super) const OPEN_UNTIL: &str = "open_until";
    /// `needed_by` in Unix seconds (`i64::MAX` without one).
    pub(super) const NEEDED_BY: &str = "needed_by";
    /// `created_at` in Unix seconds (`i64::MIN` without one).
    pub(super) const CREATED: &str = "created";
}

#[derive(Debug, Clone, Copy)]
struct RfiFields {
    id: Field,
    version: Field,
    body_exact: Field,
    body_stem: Field,
    category: Field,
    cells: Field,
    lat: Field,
    lon: Field,
    open: Field,
    open_until: Field,
    needed_by: Field,
    created: Field,
    source: Field,
}

impl RfiFields {
    fn schema() -> (Schema, Self) {
        let mut b = Schema::builder();
        let text = crate::schema::words_options;
        let fields = Self {
            id: b.add_text_field(crate::schema::ID, STRING | STORED | FAST),
            version: b.add_u64_field(crate::schema::VERSION, FAST | STORED),
            body_exact: b.add_text_field("body_exact", text(FieldTokenizer::EXACT)),
            body_stem: b.add_text_field("body_stem", text(FieldTokenizer::STEM)),
            category: b.add_facet_field("category", FacetOptions::default()),
            cells: b.add_u64_field("cells", INDEXED),
            lat: b.add_f64_field(column::LAT, FAST),
            lon: b.add_f64_field(column::LON, FAST),
            open: b.add_bool_field(column::OPEN, INDEXED | FAST),
            open_until: b.add_i64_field(column::OPEN_UNTIL, FAST),
            needed_by: b.add_i64_field(column::NEEDED_BY, FAST),
            created: b.add_i64_field(column::CREATED, FAST),
            source: b.add_text_field("source", STORED),
        };
        (b.build(), fields)
    }
}

/// See the module documentation.
pub struct RfiIndex {
    store: Store,
    analyzer: Analyzer,
    fields: RfiFields,
}

impl std::fmt::Debug for RfiIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RfiIndex").finish_non_exhaustive()
    }
}

impl RfiIndex {
    /// Opens the RFI index in `dir`, creating it when the folder holds none.
    pub fn open(dir: &Path, config: &IndexConfig) -> Result<Self> {
        let (schema, fields) = RfiFields::schema();
        let index = open_dir(dir, schema, tantivy::IndexSettings::default())?;
        Self::with_index(index, fields, config, &dir.display().to_string())
    }

    /// A throw-away RFI index in memory, for tests and benches.
    pub fn in_memory(config: &IndexConfig) -> Result<Self> {
        let (schema, fields) = RfiFields::schema();
        Self::with_index(Index::create_in_ram(schema), fields, config, "memory")
    }

    fn with_index(index: Index, fields: RfiFields, config: &IndexConfig, location: &str) -> Result<Self> {
        let Opened { writer, reader, default_language } = open_parts(&index, config, location, fields.id)?;
        Ok(Self { store: Store::new(config, reader, writer, "rfi"), analyzer: Analyzer::new(default_language), fields })
    }

    /// Live requests visible to searches (open or not).
    pub fn num_docs(&self) -> u64 {
        self.store.num_docs()
    }

    /// Writes requests (each validated first; the first invalid one fails the call before
    /// anything is written). Idempotent by id and version, as for products; visible after the
    /// next commit.
    pub fn upsert(&self, rfis: Vec<RfiDocument>) -> Result<Vec<WriteOutcome>> {
        for rfi in &rfis {
            rfi.validate()?;
        }
        let mut state = self.store.lock()?;
        let mut outcomes = Vec::with_capacity(rfis.len());
        for mut rfi in rfis {
            let id = rfi.id.clone();
            outcomes.push(state.upsert(&id, rfi.version, |version| {
                rfi.version = version;
                self.document(&rfi)
            })?);
        }
        self.store.commit_if_full(&mut state)?;
        Ok(outcomes)
    }

    fn document(&self, rfi: &RfiDocument) -> Result<TantivyDocument> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &rfi.id);
        doc.add_u64(f.version, rfi.version);
        let body = [rfi.title.as_str(), rfi.description.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        doc.add_text(f.body_exact, &body);
        let language = self.analyzer.resolve(rfi.language.as_deref(), || body.clone());
        doc.add_text(f.body_stem, tagged(&body, language));
        doc.add_facet(f.category, Facet::from_path(rfi.category.split('/').map(str::trim)));
        for level in CELL_LEVELS {
            doc.add_u64(f.cells, cell_id(rfi.location, level));
        }
        doc.add_f64(f.lat, rfi.location.lat);
        doc.add_f64(f.lon, rfi.location.lon);
        doc.add_bool(f.open, rfi.status == RfiStatus::Open);
        doc.add_i64(f.open_until, rfi.open_until());
        doc.add_i64(f.needed_by, rfi.needed_by.map_or(i64::MAX, |t| t.unix_timestamp()));
        doc.add_i64(f.created, rfi.created_at.map_or(i64::MIN, |t| t.unix_timestamp()));
        doc.add_text(f.source, serde_json::to_string(rfi)?);
        Ok(doc)
    }

    /// Deletes a request; the version is remembered so older upserts stay out.
    pub fn delete(&self, id: &str, version: u64) -> Result<WriteOutcome> {
        self.store.delete(id, version)
    }

    /// Whether the id exists and is live in the written (maybe not yet committed) state.
    pub fn is_live(&self, id: &str) -> bool {
        self.store.is_live(id)
    }

    /// Commits when writes are pending and the commit interval has passed. Returns whether it did.
    pub fn commit_if_due(&self) -> Result<bool> {
        self.store.commit_if_due()
    }

    /// Commits pending writes and makes them visible.
    pub fn commit(&self) -> Result<()> {
        self.store.commit()
    }

    /// The stored request with this id, as of the last commit.
    pub fn get(&self, id: &str) -> Result<RfiDocument> {
        self.store.get((self.fields.id, self.fields.source), id, Error::RfiNotFound)
    }

    /// Copies the last commit's files (this index is stored in `source`) into `dest`, while
    /// searches and writes go on.
    pub fn snapshot(&self, source: &Path, dest: &Path) -> Result<crate::CopiedIndex> {
        self.store.snapshot(source, dest)
    }

    /// The language a query is stemmed in.
    fn query_language(&self, q: &str) -> Language {
        self.analyzer.query_language(None, q)
    }
}
