//! Distinct: one best hit per value of an attribute (product variants shown once). A collector
//! keeps each group's best document by the same key the top hits are ranked by; products without
//! the attribute are groups of their own, and the total counts groups.

use std::collections::HashMap;

use searchd_catalog::attributes::AttributeType;
use searchd_catalog::{Error as CatalogError, SearchRequest};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::sort::SortKey;
use crate::columns::TypedColumns;
use crate::settings::Served;
use crate::{ProductIndex, Result};

impl ProductIndex {
    /// The fast column of the request's `distinct` attribute, when it asks for one: a declared
    /// keyword attribute that is filterable or facetable; the error names `distinct`.
    pub(super) fn distinct_column(&self, request: &SearchRequest, served: &Served) -> Result<Option<String>> {
        let Some(name) = request.distinct.as_deref() else { return Ok(None) };
        let attributes = &served.settings.attributes;
        match attributes.get(name) {
            Some(a) if a.kind == AttributeType::Keyword && (a.filterable || a.facetable) => {
                Ok(Some(crate::schema::attr_column(served.generation, name)))
            }
            _ => {
                let known =
                    attributes.names(|a| a.kind == AttributeType::Keyword && (a.filterable || a.facetable)).join(", ");
                Err(CatalogError::invalid(
                    "distinct",
                    format!("`{name}` is not a filterable keyword attribute; those are: {known}"),
                )
                .into())
            }
        }
    }
}

/// The key a document ranks by, per segment.
pub(super) type KeyFn = Box<dyn Fn(DocId, Score) -> SortKey + Send>;

/// Keeps the best document of each group; `key_fn` opens a segment's ranking key.
pub(super) struct Distinct<F> {
    pub column: String,
    pub key_fn: F,
}

pub(super) struct DistinctSegment {
    ord: SegmentOrdinal,
    values: Option<StrColumn>,
    key: KeyFn,
    best: HashMap<u64, (SortKey, DocId)>,
    alone: Vec<(SortKey, DocId)>,
}

/// Each group's best document: its value (`None`: a product without one, a group of its own).
type Named = Vec<(Option<String>, SortKey, DocAddress)>;

/// Every group's best document, best first.
pub(super) type Groups = Vec<(SortKey, DocAddress)>;

impl<F> Collector for Distinct<F>
where
    F: Fn(&SegmentReader) -> KeyFn + Send + Sync + 'static,
{
    type Fruit = Groups;
    type Child = DistinctSegment;

    fn for_segment(&self, ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<DistinctSegment> {
        let values = TypedColumns::open(segment, &self.column)?.strs;
        Ok(DistinctSegment { ord, values, key: (self.key_fn)(segment), best: HashMap::new(), alone: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Named>) -> tantivy::Result<Groups> {
        Ok(best_per_group(fruits.into_iter().flatten()))
    }
}

impl SegmentCollector for DistinctSegment {
    type Fruit = Named;

    fn collect(&mut self, doc: DocId, score: Score) {
        let key = (self.key)(doc, score);
        // A list's first value in term order names its group.
        match self.values.as_ref().and_then(|c| c.term_ords(doc).min()) {
            Some(ord) => match self.best.get(&ord) {
                Some((best, _)) if *best >= key => {}
                _ => {
                    self.best.insert(ord, (key, doc));
                }
            },
            None => self.alone.push((key, doc)),
        }
    }

    fn harvest(self) -> Named {
        let ord = self.ord;
        let mut out: Named = Vec::with_capacity(self.best.len() + self.alone.len());
        for (value, (key, doc)) in self.best {
            let mut text = String::new();
            let named = self.values.as_ref().is_some_and(|c| c.ord_to_str(value, &mut text).unwrap_or(false));
            out.push((named.then_some(text), key, DocAddress::new(ord, doc)));
        }
        out.extend(self.alone.into_iter().map(|(key, doc)| (None, key, DocAddress::new(ord, doc))));
        out
    }
}

/// The best document per value, and every document without one; best first (ties by address,
/// as the top hits break them).
fn best_per_group(groups: impl Iterator<Item = (Option<String>, SortKey, DocAddress)>) -> Groups {
    let mut best: HashMap<String, (SortKey, DocAddress)> = HashMap::new();
    let mut out = Vec::new();
    for (value, key, address) in groups {
        match value {
            None => out.push((key, address)),
            Some(v) => match best.get(&v) {
                Some((k, a)) if *k > key || (*k == key && *a < address) => {}
                _ => {
                    best.insert(v, (key, address));
                }
            },
        }
    }
    out.extend(best.into_values());
    out.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1)));
    out
}
