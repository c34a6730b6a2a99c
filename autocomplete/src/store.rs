//! Built completions on disk, so a start serves the suggestions it had instead of rebuilding them
//! from a scan of the catalog: each [`Completions`] as its parts (the FST's bytes, the postings,
//! the rank arrays), in CBOR (`ciborium`), integer arrays as little-endian bytes. Reading checks
//! that the parts fit together, so a damaged file is an error, never a panic later.

use std::collections::HashMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::dict::{Completions, Entry, Posting};
use crate::suggester::CatalogCompletions;

/// Why stored completions could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Writing failed.
    #[error("cannot write completions: {0}")]
    Write(String),
    /// The bytes are not stored completions (another format, or damaged).
    #[error("cannot read completions: {0}")]
    Read(String),
}

#[derive(Serialize, Deserialize)]
struct StoredCompletions {
    entries: Vec<Entry>,
    #[serde(with = "serde_bytes")]
    fst: Vec<u8>,
    #[serde(with = "serde_bytes")]
    key_start: Vec<u8>,
    /// Each posting's entry.
    #[serde(with = "serde_bytes")]
    posting_entries: Vec<u8>,
    /// Each posting's offset, as `u32`s.
    #[serde(with = "serde_bytes")]
    posting_offsets: Vec<u8>,
    #[serde(with = "serde_bytes")]
    by_rank: Vec<u8>,
    #[serde(with = "serde_bytes")]
    tree: Vec<u8>,
    mid_factor: f32,
}

#[derive(Serialize, Deserialize)]
struct StoredCatalog {
    products: StoredCompletions,
    brands: StoredCompletions,
    categories: StoredCompletions,
    product_entries: Vec<(String, u32)>,
}

fn bytes(values: impl ExactSizeIterator<Item = u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn numbers(bytes: &[u8], what: &str) -> Result<Vec<u32>, StoreError> {
    if bytes.len() % 4 != 0 {
        return Err(StoreError::Read(format!("{what}: {} bytes is not a whole number of u32s", bytes.len())));
    }
    Ok(bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

impl Completions {
    fn stored(&self) -> StoredCompletions {
        StoredCompletions {
            entries: self.entries.clone(),
            fst: self.fst.as_fst().as_bytes().to_vec(),
            key_start: bytes(self.key_start.iter().copied()),
            posting_entries: bytes(self.postings.iter().map(|p| p.entry)),
            posting_offsets: bytes(self.postings.iter().map(|p| u32::from(p.offset))),
            by_rank: bytes(self.by_rank.iter().copied()),
            tree: bytes(self.tree.iter().copied()),
            mid_factor: self.mid_factor,
        }
    }

    fn from_stored(s: StoredCompletions) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::Read(format!("the parts do not fit together: {what}"));
        let entries = s.entries;
        let fst = fst::Map::new(s.fst).map_err(|e| StoreError::Read(format!("the FST: {e}")))?;
        let key_start = numbers(&s.key_start, "key starts")?;
        let posting_entries = numbers(&s.posting_entries, "posting entries")?;
        let posting_offsets = numbers(&s.posting_offsets, "posting offsets")?;
        let by_rank = numbers(&s.by_rank, "ranks")?;
        let tree = numbers(&s.tree, "rank tree")?;
        let n = posting_entries.len();
        if posting_offsets.len() != n || by_rank.len() != n || tree.len() != 2 * n {
            return Err(bad("posting arrays of different lengths"));
        }
        if key_start.len() != fst.len() + 1 || key_start.last().is_some_and(|&last| last as usize != n) {
            return Err(bad("key starts"));
        }
        if key_start.windows(2).any(|w| w[0] > w[1]) || by_rank.iter().any(|&p| p as usize >= n) {
            return Err(bad("ranks or key starts out of range"));
        }
        let mut postings = Vec::with_capacity(n);
        for (&entry, &offset) in posting_entries.iter().zip(&posting_offsets) {
            let key = entries.get(entry as usize).ok_or_else(|| bad("a posting's entry"))?;
            let offset = u16::try_from(offset).map_err(|_| bad("a posting's offset"))?;
            if usize::from(offset) > key.key.len() || !key.key.is_char_boundary(usize::from(offset)) {
                return Err(bad("a posting's offset"));
            }
            postings.push(Posting { entry, offset });
        }
        // The FST's values (key ranks) are not walked here, which took seconds for millions of
        // keys: a lookup bounds-checks the ranks it reads (`Completions::range`).
        Ok(Self { entries, fst, key_start, postings, by_rank, tree, mid_factor: s.mid_factor })
    }

    /// Writes these completions (see [`read`](Self::read)).
    pub fn write(&self, out: impl Write) -> Result<(), StoreError> {
        ciborium::into_writer(&self.stored(), out).map_err(|e| StoreError::Write(e.to_string()))
    }

    /// Reads completions [`write`](Self::write) wrote: the same suggestions as before.
    pub fn read(input: impl Read) -> Result<Self, StoreError> {
        let stored: StoredCompletions = ciborium::from_reader(input).map_err(|e| StoreError::Read(e.to_string()))?;
        Self::from_stored(stored)
    }
}

impl CatalogCompletions {
    /// Writes the catalog's completions (see [`read`](Self::read)).
    pub fn write(&self, out: impl Write) -> Result<(), StoreError> {
        let stored = StoredCatalog {
            products: self.products.stored(),
            brands: self.brands.stored(),
            categories: self.categories.stored(),
            product_entries: self.product_entries.iter().map(|(id, &entry)| (id.to_string(), entry)).collect(),
        };
        ciborium::into_writer(&stored, out).map_err(|e| StoreError::Write(e.to_string()))
    }

    /// Reads what [`write`](Self::write) wrote.
    pub fn read(input: impl Read) -> Result<Self, StoreError> {
        let stored: StoredCatalog = ciborium::from_reader(input).map_err(|e| StoreError::Read(e.to_string()))?;
        let products = Completions::from_stored(stored.products)?;
        if stored.product_entries.iter().any(|(_, entry)| *entry as usize >= products.len()) {
            return Err(StoreError::Read("a product's entry is out of range".into()));
        }
        let product_entries: HashMap<Box<str>, u32> =
            stored.product_entries.into_iter().map(|(id, entry)| (id.into_boxed_str(), entry)).collect();
        Ok(Self {
            products,
            brands: Completions::from_stored(stored.brands)?,
            categories: Completions::from_stored(stored.categories)?,
            product_entries,
        })
    }
}
