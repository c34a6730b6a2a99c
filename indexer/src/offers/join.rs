//! Offers' products as product documents without a string at query time: for each pair of an
//! offer segment and a product segment, the product segment's id ordinal of each product
//! ordinal of the offer segment, computed once and kept while both segments live. A search near
//! a shopper then goes from an offer to its product's document through two array reads.
//!
//! A pair is joined from the smaller side: the few terms of a new small segment are looked up
//! in the other's sorted terms; two large segments are merged in one pass over both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use crate::columns::IdTable;
use crate::{Error, ProductIndex, Result};

/// Per product ordinal of an offer segment: the ordinal of that product in a product segment's
/// [`IdTable`], or `u32::MAX` when the segment does not hold it.
pub(crate) struct Join(Vec<u32>);

impl Join {
    /// The product segment's ordinal of the offer segment's product ordinal `ord`.
    pub(crate) fn get(&self, ord: u64) -> Option<u32> {
        self.0.get(usize::try_from(ord).ok()?).copied().filter(|o| *o != u32::MAX)
    }
}

/// Joins by (offer segment, product segment).
type Pairs = HashMap<(SegmentId, SegmentId), Arc<Join>>;

/// Joins per (offer segment, product segment).
#[derive(Default)]
pub(crate) struct KeptJoins {
    pairs: Mutex<Pairs>,
}

impl KeptJoins {
    /// The join of an offer segment's products (`column`) with a product segment's ids.
    pub(crate) fn get(&self, pair: (SegmentId, SegmentId), column: &StrColumn, table: &IdTable) -> Result<Arc<Join>> {
        if let Some(join) = self.lock()?.get(&pair) {
            return Ok(join.clone());
        }
        let join = Arc::new(build(column, table)?);
        self.lock()?.insert(pair, join.clone());
        Ok(join)
    }

    /// Forgets the pairs of segments that neither searcher holds any more.
    pub(crate) fn keep_live(&self, offers: &Searcher, products: &Searcher) -> Result<()> {
        let live = |s: &Searcher| s.segment_readers().iter().map(|r| r.segment_id()).collect::<Vec<_>>();
        let (offers, products) = (live(offers), live(products));
        self.lock()?.retain(|(o, p), _| offers.contains(o) && products.contains(p));
        Ok(())
    }

    /// One query's way from `offers`' products to `products`' documents (forgetting the pairs
    /// of segments no longer searched).
    pub(crate) fn open<'a>(
        &'a self,
        offers: &Searcher,
        index: &ProductIndex,
        products: &'a Searcher,
    ) -> Result<Joined<'a>> {
        let tables = (0..products.segment_readers().len() as u32)
            .map(|ord| index.id_table(products, ord))
            .collect::<Result<Vec<_>>>()?;
        self.keep_live(offers, products)?;
        Ok(Joined { kept: self, products: products.segment_readers(), tables })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Pairs>> {
        self.pairs.lock().map_err(|_| Error::Internal("offer join lock poisoned".into()))
    }
}

/// One query's joins: the product segments and their id tables.
pub(crate) struct Joined<'a> {
    kept: &'a KeptJoins,
    products: &'a [SegmentReader],
    tables: Vec<Arc<IdTable>>,
}

impl Joined<'_> {
    /// The joins of one offer segment (its products in `offered`) with every product segment.
    pub(crate) fn segment(&self, offers: &SegmentReader, offered: &StrColumn) -> Result<SegmentJoins<'_>> {
        let joins = self
            .products
            .iter()
            .zip(&self.tables)
            .map(|(p, table)| self.kept.get((offers.segment_id(), p.segment_id()), offered, table))
            .collect::<Result<Vec<_>>>()?;
        Ok(SegmentJoins { joined: self, joins })
    }
}

/// An offer segment's joins with every product segment of the query.
pub(crate) struct SegmentJoins<'a> {
    joined: &'a Joined<'a>,
    joins: Vec<Arc<Join>>,
}

impl SegmentJoins<'_> {
    /// The live product document of the offer segment's product ordinal `product`: (product
    /// segment ordinal, document), in whichever segment holds it.
    pub(crate) fn document(&self, product: u64) -> Option<(usize, DocId)> {
        self.joins.iter().enumerate().find_map(|(p, join)| {
            let doc = *self.joined.tables[p].docs.get(join.get(product)? as usize)?;
            let live = self.joined.products[p].alive_bitset().is_none_or(|a| a.is_alive(doc));
            (doc != u32::MAX && live).then_some((p, doc))
        })
    }
}

fn build(column: &StrColumn, table: &IdTable) -> Result<Join> {
    let dictionary = column.dictionary();
    let (n, m) = (dictionary.num_terms(), table.terms.len());
    let mut map = vec![u32::MAX; n];
    let at = |j: usize| u32::try_from(j).unwrap_or(u32::MAX);
    if n.min(m).saturating_mul(16) > n.max(m) {
        // Both large: one merge pass over the two sorted lists.
        let mut stream = dictionary.stream()?;
        let (mut ord, mut j) = (0, 0);
        while stream.advance() {
            let key = stream.key();
            while j < m && table.terms[j].as_bytes() < key {
                j += 1;
            }
            if j < m && table.terms[j].as_bytes() == key {
                map[ord] = at(j);
            }
            ord += 1;
        }
    } else if n <= m {
        // A few offered products: each found in the product segment's sorted ids.
        let mut stream = dictionary.stream()?;
        let mut ord = 0;
        while stream.advance() {
            let key = stream.key();
            if let Ok(j) = table.terms.binary_search_by(|t| t.as_bytes().cmp(key)) {
                map[ord] = at(j);
            }
            ord += 1;
        }
    } else {
        // A few products: each found in the offer segment's dictionary.
        for (j, term) in table.terms.iter().enumerate() {
            if let Some(ord) = dictionary.term_ord(term.as_bytes())? {
                if let Some(slot) = usize::try_from(ord).ok().and_then(|o| map.get_mut(o)) {
                    *slot = at(j);
                }
            }
        }
    }
    Ok(Join(map))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::schema::{FAST, STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Whichever way a pair is joined (merged, or looked up from either side), each offered
        /// product maps to the product segment's ordinal of the same id, and to none when absent.
        #[test]
        fn joins_match_ids_exactly(
            offered in prop::collection::btree_set(0u32..3_000, 1..400),
            held in prop::collection::btree_set(0u32..3_000, 1..2_000),
        ) {
            let mut builder = Schema::builder();
            let product = builder.add_text_field("product_id", STRING | FAST);
            let index = Index::create_in_ram(builder.build());
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            for p in &offered {
                let mut doc = TantivyDocument::default();
                doc.add_text(product, format!("p{p}"));
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
            let searcher = index.reader().unwrap().searcher();
            let column = searcher.segment_reader(0).fast_fields().str("product_id").unwrap().unwrap();
            let mut terms: Vec<Box<str>> = held.iter().map(|p| format!("p{p}").into()).collect();
            terms.sort();
            let table = IdTable::new(terms.clone(), (0..terms.len() as u32).collect());
            let join = build(&column, &table).unwrap();
            let mut stream = column.dictionary().stream().unwrap();
            let mut ord = 0u64;
            while stream.advance() {
                let key = std::str::from_utf8(stream.key()).unwrap();
                let want = terms.iter().position(|t| &**t == key).map(|j| j as u32);
                prop_assert_eq!(join.get(ord), want, "{}", key);
                ord += 1;
            }
        }
    }
}
