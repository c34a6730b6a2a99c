//! Per-segment columns the collector and the phase-2 features read besides postings: the
//! doc → id table, the business signals from fast fields, and the engagement columns built from
//! behaviour events, and the facet columns opened once per segment. Nothing here knows the
//! index; `search/` fills and reads them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use searchd_catalog::RankFeatures;
use tantivy::index::SegmentId;
use tantivy::{Score, Searcher, SegmentReader};

use crate::schema;

/// Ids of one segment's documents: `terms[ords[doc]]`.
#[derive(Debug)]
pub(crate) struct IdTable {
    /// The segment's ids, sorted (the id column's dictionary).
    pub(crate) terms: Vec<Box<str>>,
    /// Per document, its id's ordinal in `terms` (`u32::MAX`: none).
    pub(crate) ords: Vec<u32>,
    /// Per ordinal, the last document holding it (a later write of an id in the same segment
    /// comes after the one it replaced).
    pub(crate) docs: Vec<u32>,
}

impl IdTable {
    /// The table of `ords` over `terms`.
    pub(crate) fn new(terms: Vec<Box<str>>, ords: Vec<u32>) -> Self {
        let mut docs = vec![u32::MAX; terms.len()];
        for (doc, ord) in ords.iter().enumerate() {
            if let Some(slot) = docs.get_mut(*ord as usize) {
                *slot = doc as u32;
            }
        }
        Self { terms, ords, docs }
    }

    pub(crate) fn get(&self, doc: tantivy::DocId) -> Option<&str> {
        let ord = *self.ords.get(doc as usize)?;
        self.terms.get(ord as usize).map(|t| &**t)
    }
}

/// Engagement (event popularity) per segment, aligned with doc ids.
pub(crate) type EngagementColumns = HashMap<SegmentId, Arc<[f32]>>;

/// The fast fields of one segment's business signals, opened once and kept per segment.
pub(crate) struct SignalColumns {
    popularity: Signal<f64>,
    rating: Signal<f64>,
    reviews: Signal<u64>,
    in_stock: Signal<bool>,
    updated: Signal<i64>,
}

impl SignalColumns {
    /// With `read` false, every signal reads as absent (text-only ranking skips the columns).
    pub(crate) fn open(segment: &SegmentReader, read: bool) -> Self {
        let ff = segment.fast_fields();
        let f64_col = |name: &str| Signal::of(if read { ff.f64(name).ok() } else { None });
        Self {
            popularity: f64_col(schema::POPULARITY),
            rating: f64_col(schema::RATING),
            reviews: Signal::of(if read { ff.u64(schema::REVIEW_COUNT).ok() } else { None }),
            in_stock: Signal::of(if read { ff.bool(schema::IN_STOCK).ok() } else { None }),
            updated: Signal::of(if read { ff.i64(schema::UPDATED_AT).ok() } else { None }),
        }
    }
}

/// The business signals of one segment as phase 1 and phase 2 read them from fast fields.
pub(crate) struct SegmentSignals {
    columns: Arc<SignalColumns>,
    engagement: Option<Arc<[f32]>>,
    now: i64,
}

impl SegmentSignals {
    /// With `read` false, every signal reads as absent (text-only ranking skips the columns).
    pub(crate) fn open(segment: &SegmentReader, read: bool, engagement: Option<Arc<[f32]>>) -> Self {
        Self::open_at(segment, read, engagement, signal_clock())
    }

    /// [`open`](Self::open) with the freshness clock at `now` (Unix seconds).
    pub(crate) fn open_at(segment: &SegmentReader, read: bool, engagement: Option<Arc<[f32]>>, now: i64) -> Self {
        Self::with_columns(Arc::new(SignalColumns::open(segment, read)), engagement, now)
    }

    /// The signals of columns opened before.
    pub(crate) fn with_columns(columns: Arc<SignalColumns>, engagement: Option<Arc<[f32]>>, now: i64) -> Self {
        Self { columns, engagement, now }
    }

    #[inline]
    pub(crate) fn rank_features(&self, doc: tantivy::DocId, text: Score) -> RankFeatures {
        let c = &self.columns;
        RankFeatures {
            text,
            popularity: c.popularity.get(doc).unwrap_or(0.0),
            engagement: self.engagement.as_ref().and_then(|e| e.get(doc as usize)).map_or(0.0, |v| f64::from(*v)),
            rating: c.rating.get(doc),
            review_count: c.reviews.get(doc).unwrap_or(0),
            in_stock: c.in_stock.get(doc).unwrap_or(true),
            age_days: c.updated.get(doc).map(|t| (self.now - t).max(0) as f64 / 86_400.0),
        }
    }
}

/// The clock the freshness signal reads: the start of the current UTC day. Phase 1 keeps each
/// segment's signal factors for a day (see `search::factors`), and explain and phase 2 read the
/// same clock, so a product's age is the same wherever it is computed.
pub(crate) fn signal_clock() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    now - now.rem_euclid(86_400)
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
#[derive(Default, Clone)]
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

/// Most values of one string column read out of its dictionary and kept with it.
const MAX_KEPT_VALUES: usize = 1 << 18;

/// A segment's fast columns under one facet's name, opened once, with every value of its
/// strings by ordinal when it has at most [`MAX_KEPT_VALUES`]: turning the few ordinals a
/// facet keeps back into text then reads no dictionary block.
pub(crate) struct FacetColumn {
    pub(crate) columns: TypedColumns,
    values: Option<Box<[Box<str>]>>,
}

impl FacetColumn {
    fn open(segment: &SegmentReader, name: &str) -> tantivy::Result<Self> {
        let columns = TypedColumns::open(segment, name)?;
        let values = match &columns.strs {
            Some(c) if c.num_terms() <= MAX_KEPT_VALUES => {
                let mut values = Vec::with_capacity(c.num_terms());
                let mut stream = c.dictionary().stream()?;
                while stream.advance() {
                    values.push(String::from_utf8_lossy(stream.key()).into());
                }
                Some(values.into_boxed_slice())
            }
            _ => None,
        };
        Ok(Self { columns, values })
    }

    /// The ordinal of `value` among the strings, if the segment holds it.
    pub(crate) fn ord_of(&self, value: &str) -> Option<u64> {
        match &self.values {
            // Ordinals follow the values' bytes.
            Some(values) => values.binary_search_by(|v| v.as_bytes().cmp(value.as_bytes())).ok().map(|o| o as u64),
            None => self.columns.strs.as_ref()?.dictionary().term_ord(value).ok().flatten(),
        }
    }

    /// Calls `found` with the value of each of `ords` (ascending) and the ordinal.
    pub(crate) fn values_of(&self, ords: &[u64], mut found: impl FnMut(&str, u64)) {
        if let Some(values) = &self.values {
            for &ord in ords {
                if let Some(value) = values.get(ord as usize) {
                    found(value, ord);
                }
            }
            return;
        }
        let Some(strs) = &self.columns.strs else { return };
        let mut next = ords.iter();
        // An unreadable dictionary counts nothing rather than failing the search.
        let _ = strs.dictionary().sorted_ords_to_term_cb(ords, |bytes| {
            if let Some(&ord) = next.next() {
                found(&String::from_utf8_lossy(bytes), ord);
            }
        });
    }
}

/// One segment's facet columns by name.
type SegmentFacets = HashMap<String, Arc<FacetColumn>>;

/// The facet columns of the segments searches see, by segment and name.
#[derive(Default)]
pub(crate) struct FacetColumns {
    /// The searcher generation the columns were last pruned for, and the columns.
    held: Mutex<(u64, HashMap<SegmentId, SegmentFacets>)>,
}

impl FacetColumns {
    /// Forgets the columns of segments `searcher` no longer holds, once per new generation.
    pub(crate) fn prune(&self, searcher: &Searcher) {
        let Ok(mut held) = self.held.lock() else { return };
        let generation = searcher.generation().generation_id();
        if held.0 != generation {
            let live: std::collections::HashSet<SegmentId> =
                searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
            held.1.retain(|segment, _| live.contains(segment));
            held.0 = generation;
        }
    }

    /// The columns named `name` in `segment`, opened on first use.
    pub(crate) fn get(&self, segment: &SegmentReader, name: &str) -> tantivy::Result<Arc<FacetColumn>> {
        let id = segment.segment_id();
        if let Some(column) = self.held.lock().ok().and_then(|held| held.1.get(&id)?.get(name).cloned()) {
            return Ok(column);
        }
        // Opened without the lock: other searches go on meanwhile.
        let column = Arc::new(FacetColumn::open(segment, name)?);
        if let Ok(mut held) = self.held.lock() {
            return Ok(held.1.entry(id).or_default().entry(name.to_string()).or_insert(column).clone());
        }
        Ok(column)
    }
}

/// Calls `f` with each of a document's values in `column`: what `values_for_doc` gives, read
/// straight from the index of a column with one value at most per document (no iterator).
#[inline]
pub(crate) fn for_each_value<T>(column: &tantivy::columnar::Column<T>, doc: tantivy::DocId, mut f: impl FnMut(T))
where
    T: PartialOrd + Copy + std::fmt::Debug + Send + Sync + 'static,
{
    use tantivy::columnar::ColumnIndex;
    use tantivy::columnar::column_index::Set;
    match &column.index {
        ColumnIndex::Full => f(column.values.get_val(doc)),
        ColumnIndex::Optional(index) => {
            if let Some(row) = index.rank_if_exists(doc) {
                f(column.values.get_val(row));
            }
        }
        ColumnIndex::Empty { .. } => {}
        ColumnIndex::Multivalued(_) => column.values_for_doc(doc).for_each(f),
    }
}

/// Whether a column may hold several values for one document.
pub(crate) fn is_list<T>(column: &tantivy::columnar::Column<T>) -> bool {
    matches!(column.index, tantivy::columnar::ColumnIndex::Multivalued(_))
}
