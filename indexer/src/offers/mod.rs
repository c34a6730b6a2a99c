//! The offer index: vendors' offers of products, in a Tantivy index of their own with the
//! versioned writes every searchd index has. An offer's numbers (price, stock, lead time,
//! condition) are fast columns, and its vendor is indexed, so the offers of the vendors serving
//! a point are read from those vendors' postings alone ([`near`]). Documents are kept sorted by
//! a digest of their vendor, so a vendor's offers are neighbours: a search reads a few compact
//! runs of each column rather than a cache miss per offer.

use std::path::Path;

use searchd_catalog::{Offer, OfferCondition, WriteOutcome};
use tantivy::schema::{FAST, Field, STORED, STRING, Schema};
use tantivy::{Index, TantivyDocument};

use crate::config::IndexConfig;
use crate::writer::{Opened, Store, open_dir, open_parts};
use crate::{Error, Result};

pub(crate) mod ingest;
mod join;
mod listing;
pub(crate) mod near;
mod supply;

pub use near::NearOffers;
pub use supply::Supply;

/// Column names of the offer index.
pub(crate) mod column {
    pub(crate) const PRODUCT: &str = "product_id";
    pub(crate) const VENDOR: &str = "vendor_id";
    pub(crate) const PRICE: &str = "price";
    pub(crate) const STOCK: &str = "stock";
    pub(crate) const LEAD_TIME: &str = "lead_time_days";
    pub(crate) const CONDITION: &str = "condition";
    pub(crate) const CURRENCY: &str = "currency";
}

#[derive(Debug, Clone, Copy)]
struct OfferFields {
    id: Field,
    version: Field,
    product: Field,
    vendor: Field,
    price: Field,
    stock: Field,
    lead_time: Field,
    condition: Field,
    currency: Field,
    /// [`vendor_key`] of the vendor: the index keeps documents sorted by it.
    vendor_key: Field,
    source: Field,
}

const VENDOR_KEY: &str = "vendor_key";

/// The key offers are sorted by: a digest of their vendor's id, the same in every process.
fn vendor_key(vendor_id: &str) -> u64 {
    crate::writer::entry_digest(vendor_id, 0)
}

/// Offer documents sorted by [`vendor_key`] (in each segment and across merges).
fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        sort_by_field: Some(tantivy::IndexSortByField { field: VENDOR_KEY.into(), order: tantivy::Order::Asc }),
        ..tantivy::IndexSettings::default()
    }
}

impl OfferFields {
    fn schema() -> (Schema, Self) {
        let mut b = Schema::builder();
        let fields = Self {
            id: b.add_text_field(crate::schema::ID, STRING | STORED | FAST),
            version: b.add_u64_field(crate::schema::VERSION, FAST | STORED),
            product: b.add_text_field(column::PRODUCT, STRING | FAST),
            vendor: b.add_text_field(column::VENDOR, STRING | FAST),
            price: b.add_f64_field(column::PRICE, FAST),
            stock: b.add_u64_field(column::STOCK, FAST),
            lead_time: b.add_u64_field(column::LEAD_TIME, FAST),
            condition: b.add_u64_field(column::CONDITION, FAST),
            currency: b.add_text_field(column::CURRENCY, STRING | FAST),
            vendor_key: b.add_u64_field(VENDOR_KEY, FAST),
            source: b.add_text_field("source", STORED),
        };
        (b.build(), fields)
    }
}

/// A condition's code in the `condition` column.
pub(crate) fn condition_code(condition: OfferCondition) -> u64 {
    match condition {
        OfferCondition::New => 0,
        OfferCondition::Used => 1,
        OfferCondition::Refurbished => 2,
    }
}

/// The condition of a `condition` column code.
pub(crate) fn condition_of(code: u64) -> OfferCondition {
    match code {
        1 => OfferCondition::Used,
        2 => OfferCondition::Refurbished,
        _ => OfferCondition::New,
    }
}

/// See the module documentation.
pub struct OfferIndex {
    store: Store,
    fields: OfferFields,
    /// Offered products as product documents, per pair of segments.
    joins: join::KeptJoins,
}

impl std::fmt::Debug for OfferIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfferIndex").finish_non_exhaustive()
    }
}

impl OfferIndex {
    /// Opens the offer index in `dir`, creating it when the folder holds none.
    pub fn open(dir: &Path, config: &IndexConfig) -> Result<Self> {
        let (schema, fields) = OfferFields::schema();
        let index = open_dir(dir, schema, settings())?;
        Self::with_index(index, fields, config, &dir.display().to_string())
    }

    /// A throw-away offer index in memory, for tests and benches.
    pub fn in_memory(config: &IndexConfig) -> Result<Self> {
        let (schema, fields) = OfferFields::schema();
        let index = Index::builder().schema(schema).settings(settings()).create_in_ram()?;
        Self::with_index(index, fields, config, "memory")
    }

    fn with_index(index: Index, fields: OfferFields, config: &IndexConfig, location: &str) -> Result<Self> {
        let Opened { writer, reader, .. } = open_parts(&index, config, location, fields.id)?;
        Ok(Self { store: Store::new(config, reader, writer, "offer"), fields, joins: join::KeptJoins::default() })
    }

    /// Live offers visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.store.num_docs()
    }

    /// Writes offers (each validated first; the first invalid one fails the call before anything
    /// is written). Idempotent by id and version, as for products; visible after the next
    /// commit. Whether the product and vendor exist is the caller's check (see
    /// [`crate::ProductIndex::is_live`] and [`crate::VendorIndex::is_live`]).
    pub fn upsert(&self, mut offers: Vec<Offer>) -> Result<Vec<WriteOutcome>> {
        for offer in &mut offers {
            offer.validate()?;
        }
        let mut state = self.store.lock()?;
        let mut outcomes = Vec::with_capacity(offers.len());
        for mut offer in offers {
            let id = offer.id.clone();
            outcomes.push(state.upsert(&id, offer.version, |version| {
                offer.version = version;
                self.document(&offer)
            })?);
        }
        self.store.commit_if_full(&mut state)?;
        Ok(outcomes)
    }

    fn document(&self, offer: &Offer) -> Result<TantivyDocument> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &offer.id);
        doc.add_u64(f.version, offer.version);
        doc.add_text(f.product, &offer.product_id);
        doc.add_text(f.vendor, &offer.vendor_id);
        doc.add_f64(f.price, offer.price);
        doc.add_u64(f.stock, offer.stock);
        doc.add_u64(f.lead_time, u64::from(offer.lead_time_days));
        doc.add_u64(f.condition, condition_code(offer.condition));
        if let Some(currency) = &offer.currency {
            doc.add_text(f.currency, currency);
        }
        doc.add_u64(f.vendor_key, vendor_key(&offer.vendor_id));
        doc.add_text(f.source, serde_json::to_string(offer)?);
        Ok(doc)
    }

    /// Deletes an offer; the version is remembered so older upserts stay out.
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

    /// Merges every segment into one (after a bulk load).
    pub fn merge_segments(&self) -> Result<()> {
        self.store.merge_all()
    }

    /// The stored offer with this id, as of the last commit.
    pub fn get(&self, id: &str) -> Result<Offer> {
        self.store.get((self.fields.id, self.fields.source), id, Error::OfferNotFound)
    }

    /// Copies the last commit's files (this index is stored in `source`) into `dest`, while
    /// searches and writes go on.
    pub fn snapshot(&self, source: &Path, dest: &Path) -> Result<crate::CopiedIndex> {
        self.store.snapshot(source, dest)
    }
}
