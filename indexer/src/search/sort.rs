//! Sorting by keys: each key a fast column (a built-in number or date, or a sortable
//! attribute) or relevance, resolved against the settings once per search and read per document
//! inside the collector.

use searchd_catalog::attributes::AttributeType;
use searchd_catalog::filter::Builtin;
use searchd_catalog::{Error as CatalogError, MAX_SORT_KEYS, RELEVANCE_KEY, SearchRequest};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentReader};

use std::sync::Arc;

use searchd_catalog::near::OfferKey;

use crate::columns::TypedColumns;
use crate::offers::near::SegmentNear;
use crate::settings::Served;
use crate::{ProductIndex, Result};

/// Where a key's values come from.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Source {
    /// The phase-1 score.
    Relevance,
    /// A numeric or boolean fast column, by name (`price`, `attrs.weight`).
    Column(String),
    /// The best serving offer's price (`price` with `near`).
    OfferPrice,
    /// The best serving offer's distance (`distance`, with `near` only).
    OfferDistance,
}

/// A search's sort keys, resolved: `(source, descending)`, the first deciding first.
pub(super) type Keys = Vec<(Source, bool)>;

/// The key a document sorts by: the keys' values (missing ones last), then relevance.
pub(super) type SortKey = ([f64; MAX_SORT_KEYS], Score);

impl ProductIndex {
    /// Resolves the request's sort keys against the built-in fields and the sortable
    /// attributes; the error names `sort` and lists what can be sorted on.
    pub(super) fn sort_keys(&self, request: &SearchRequest, served: &Served) -> Result<Keys> {
        let attributes = &served.settings.attributes;
        let mut keys = Vec::with_capacity(request.sort.0.len());
        for key in &request.sort.0 {
            let name = key.field.as_str();
            let near = request.near.is_some();
            let source = match (Builtin::of(name), attributes.get(name)) {
                _ if name == RELEVANCE_KEY => Source::Relevance,
                (Some(Builtin::Price), _) if near => Source::OfferPrice,
                _ if name == "distance" && near => Source::OfferDistance,
                (
                    Some(
                        Builtin::Price
                        | Builtin::Rating
                        | Builtin::ReviewCount
                        | Builtin::Popularity
                        | Builtin::UpdatedAt,
                    ),
                    _,
                ) => Source::Column(name.to_string()),
                (None, Some(a)) if a.sortable && a.kind != AttributeType::Keyword => {
                    Source::Column(crate::schema::attr_column(served.generation, name))
                }
                _ => {
                    let mut known = vec![RELEVANCE_KEY, "popularity", "price", "rating", "review_count", "updated_at"];
                    known.extend(attributes.names(|a| a.sortable));
                    if near {
                        known.push("distance");
                    }
                    known.sort_unstable();
                    return Err(CatalogError::invalid(
                        "sort",
                        format!("`{name}` is not sortable; sortable: {}", known.join(", ")),
                    )
                    .into());
                }
            };
            keys.push((source, key.descending));
        }
        Ok(keys)
    }
}

/// A key's column in one segment.
enum Values {
    Relevance,
    Numbers(Column<f64>),
    Booleans(Column<bool>),
    /// A value of the best serving offer.
    Offer(Arc<SegmentNear>, fn(&OfferKey) -> f64),
    Missing,
}

/// Reads the sort key of each document of one segment.
pub(super) struct SegmentKeys {
    keys: Vec<(Values, bool)>,
}

impl SegmentKeys {
    /// Opens the keys' columns in `segment`; a column the segment lacks sorts every document
    /// of it as missing.
    pub(super) fn open(segment: &SegmentReader, keys: &Keys, near: Option<Arc<SegmentNear>>) -> Self {
        let column = |name: &str| -> Values {
            match TypedColumns::open(segment, name).unwrap_or_default() {
                TypedColumns { bools: Some(c), .. } => Values::Booleans(c),
                TypedColumns { numbers: Some(c), .. } => Values::Numbers(c),
                _ => Values::Missing,
            }
        };
        let keys = keys
            .iter()
            .map(|(source, descending)| {
                let values = match source {
                    Source::Relevance => Values::Relevance,
                    Source::Column(name) => column(name),
                    Source::OfferPrice => match &near {
                        Some(near) => Values::Offer(near.clone(), |k| k.price),
                        None => Values::Missing,
                    },
                    Source::OfferDistance => match &near {
                        Some(near) => Values::Offer(near.clone(), |k| k.distance_km),
                        None => Values::Missing,
                    },
                };
                (values, *descending)
            })
            .collect();
        Self { keys }
    }

    /// The document's key: per sort key its value (negated when ascending, so larger is
    /// always first; a list's smallest ascending, its largest descending), `-∞` when missing.
    pub(super) fn key(&self, doc: DocId, score: Score) -> SortKey {
        let mut out = [f64::NEG_INFINITY; MAX_SORT_KEYS];
        for (slot, (values, descending)) in out.iter_mut().zip(&self.keys) {
            let pick =
                |acc: Option<f64>, v: f64| Some(acc.map_or(v, |a| if *descending { a.max(v) } else { a.min(v) }));
            let value = match values {
                Values::Relevance => Some(f64::from(score)),
                Values::Numbers(c) => c.values_for_doc(doc).fold(None, pick),
                Values::Booleans(c) => c.values_for_doc(doc).map(|b| f64::from(u8::from(b))).fold(None, pick),
                Values::Offer(near, value) => near.best(doc).map(|b| value(&b.key)),
                Values::Missing => None,
            };
            *slot = match value {
                Some(v) if *descending => v,
                Some(v) => -v,
                None => f64::NEG_INFINITY,
            };
        }
        (out, score)
    }
}
