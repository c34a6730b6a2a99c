//! `[index]`: the writers' threads and memory, the commit policy, languages, the declared
//! attributes.

use searchd_catalog::attributes::AttributeSchema;
use searchd_catalog::filter::Builtin;
use serde::{Deserialize, Serialize};

use crate::analysis::Language;

/// Indexer settings. Plain data: the binary loads it from TOML and the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Language for texts whose language is neither declared nor reliably detected (ISO 639-1).
    pub default_language: String,
    /// Languages the catalog may contain (ISO 639-1); detection chooses only among them, which
    /// is faster and more accurate. Empty: among the languages the catalog is learned to hold
    /// (see the `detect` module).
    pub languages: Vec<String>,
    /// Commit once this many writes are pending.
    pub commit_every_docs: usize,
    /// Commit pending writes at least this often (milliseconds), driven by the caller's timer.
    pub commit_interval_ms: u64,
    /// Memory budget of the Tantivy writer, shared by its threads (MiB).
    pub writer_memory_mb: usize,
    /// Indexing threads; 0 means one per core (at most 8).
    pub writer_threads: usize,
    /// Decompressed blocks of stored documents (16 KiB each) kept per segment: a page of hits
    /// reads its products from them. Tantivy's 100 kept a tenth of Home Depot's and a search
    /// spent about an eighth of its time decompressing the rest again.
    pub doc_store_cache_blocks: usize,
    /// Committed writes the change feed remembers (see `ProductIndex::changes_since`); a
    /// follower further behind than this rebuilds from a full scan.
    pub change_feed_capacity: usize,
    /// The declared attributes (`[index.attributes.colour] type = "keyword"`, `filterable`,
    /// `facetable`, `sortable`): held in their types, usable in filters, facets and sorts.
    pub attributes: AttributeSchema,
    /// The declared vendor attributes (`[index.vendor_attributes.certifications] type =
    /// "keyword"`, `filterable`): the settings' `vendors` section of a first start.
    pub vendor_attributes: AttributeSchema,
}

/// Names an attribute cannot be declared under: the built-in fields and the product's own.
pub fn reserved_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
    names.extend(["id", "title", "description", "version", "attributes", "_relevance"]);
    names
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
            doc_store_cache_blocks: 1_024,
            change_feed_capacity: 200_000,
            attributes: AttributeSchema::default(),
            vendor_attributes: AttributeSchema::default(),
        }
    }
}

impl IndexConfig {
    /// One writer thread with a 32 MiB heap: tests, examples and tiny catalogs.
    pub fn small() -> Self {
        Self { writer_memory_mb: 32, writer_threads: 1, ..Self::default() }
    }

    /// Checks the ranges and the language codes; the message names the key.
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
        self.attributes.validate(&reserved_names()).map_err(|e| format!("attributes: {e}"))?;
        let vendors = searchd_catalog::settings::VendorSettings { attributes: self.vendor_attributes.clone() };
        vendors.validate().map_err(|e| format!("vendor_{e}"))
    }

    pub(crate) fn threads(&self) -> usize {
        match self.writer_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()).min(8),
            n => n,
        }
    }
}
