//! Per-segment columns the collector and the phase-2 features read besides postings: the
//! doc → id table, the business signals from fast fields, and the engagement columns built from
//! behaviour events. Nothing here knows the index; `search/` fills and reads them.

use std::collections::HashMap;
use std::sync::Arc;

use searchd_catalog::RankFeatures;
use tantivy::index::SegmentId;
use tantivy::{Score, SegmentReader};

use crate::schema;

/// Ids of one segment's documents: `terms[ords[doc]]`.
#[derive(Debug)]
pub(crate) struct IdTable {
    pub(crate) terms: Vec<Box<str>>,
    pub(crate) ords: Vec<u32>,
}

impl IdTable {
    pub(crate) fn get(&self, doc: tantivy::DocId) -> Option<&str> {
        let ord = *self.ords.get(doc as usize)?;
        self.terms.get(ord as usize).map(|t| &**t)
    }
}

/// Engagement (event popularity) per segment, aligned with doc ids.
pub(crate) type EngagementColumns = HashMap<SegmentId, Arc<[f32]>>;

/// The business signals of one segment as phase 1 and phase 2 read them from fast fields.
pub(crate) struct SegmentSignals {
    pub(crate) popularity: Signal<f64>,
    pub(crate) rating: Signal<f64>,
    pub(crate) reviews: Signal<u64>,
    pub(crate) in_stock: Signal<bool>,
    pub(crate) updated: Signal<i64>,
    engagement: Option<Arc<[f32]>>,
    now: i64,
}

impl SegmentSignals {
    /// With `read` false, every signal reads as absent (text-only ranking skips the columns).
    pub(crate) fn open(segment: &SegmentReader, read: bool, engagement: Option<Arc<[f32]>>) -> Self {
        let ff = segment.fast_fields();
        let f64_col = |name: &str| Signal::of(if read { ff.f64(name).ok() } else { None });
        Self {
            popularity: f64_col(schema::POPULARITY),
            rating: f64_col(schema::RATING),
            reviews: Signal::of(if read { ff.u64(schema::REVIEW_COUNT).ok() } else { None }),
            in_stock: Signal::of(if read { ff.bool(schema::IN_STOCK).ok() } else { None }),
            updated: Signal::of(if read { ff.i64(schema::UPDATED_AT).ok() } else { None }),
            engagement: if read { engagement } else { None },
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    #[inline]
    pub(crate) fn rank_features(&self, doc: tantivy::DocId, text: Score) -> RankFeatures {
        RankFeatures {
            text,
            popularity: self.popularity.get(doc).unwrap_or(0.0),
            engagement: self.engagement.as_ref().and_then(|e| e.get(doc as usize)).map_or(0.0, |v| f64::from(*v)),
            rating: self.rating.get(doc),
            review_count: self.reviews.get(doc).unwrap_or(0),
            in_stock: self.in_stock.get(doc).unwrap_or(true),
            age_days: self.updated.get(doc).map(|t| (self.now - t).max(0) as f64 / 86_400.0),
        }
    }
}

/// Products' engagement and the columns built from it.
#[derive(Debug, Default)]
pub(crate) struct Engagement {
    pub(crate) values: Arc<HashMap<String, f32>>,
    pub(crate) columns: Arc<EngagementColumns>,
}

/// A fast field as phase 1 reads it. Columns without values, or with one value for every
/// document of the segment, are folded so no per-document read is made.
pub(crate) enum Signal<T> {
    Absent,
    Constant(T),
    Column(tantivy::columnar::Column<T>),
}

impl<T: Copy + PartialOrd + std::fmt::Debug + Send + Sync + 'static> Signal<T> {
    fn of(column: Option<tantivy::columnar::Column<T>>) -> Self {
        let Some(column) = column else { return Signal::Absent };
        if column.values.num_vals() == 0 {
            return Signal::Absent;
        }
        if column.get_cardinality() == tantivy::columnar::Cardinality::Full && column.min_value() == column.max_value()
        {
            return Signal::Constant(column.min_value());
        }
        Signal::Column(column)
    }

    #[inline]
    pub(crate) fn get(&self, doc: tantivy::DocId) -> Option<T> {
        match self {
            Signal::Absent => None,
            Signal::Constant(v) => Some(*v),
            Signal::Column(c) => c.first(doc),
        }
    }
}

/// The fast columns a segment holds under one name (a JSON attribute's path may have several, by
/// type): its numbers (whatever their type, as `f64`), booleans and strings.
#[derive(Default)]
pub(crate) struct TypedColumns {
    pub(crate) numbers: Option<tantivy::columnar::Column<f64>>,
    pub(crate) bools: Option<tantivy::columnar::Column<bool>>,
    pub(crate) strs: Option<tantivy::columnar::StrColumn>,
}

impl TypedColumns {
    /// Opens every column named `name` in `segment`.
    pub(crate) fn open(segment: &SegmentReader, name: &str) -> tantivy::Result<Self> {
        use tantivy::columnar::{DynamicColumn, NumericalType};
        let mut out = Self::default();
        for handle in segment.fast_fields().dynamic_column_handles(name)? {
            match handle.open()? {
                DynamicColumn::Bool(c) => out.bools = Some(c),
                DynamicColumn::Str(c) => out.strs = Some(c),
                other => {
                    if let Some(DynamicColumn::F64(c)) = other.coerce_numerical(NumericalType::F64) {
                        out.numbers.get_or_insert(c);
                    }
                }
            }
        }
        Ok(out)
    }
}
