//! Counting facets in one pass: per segment, keyword values and facet paths by ordinal (each
//! value's ordinal once per document), booleans, and numbers' stats and ranges; ordinals are
//! turned back into text only for the values a facet keeps.

use std::collections::{BTreeMap, HashMap};

use searchd_catalog::{FacetCount, FacetOrder, FacetRange, FacetStats, RangeCount, SearchRequest};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, SegmentReader};

use super::{FacetResults, Spec};
use crate::columns::{FacetColumn, FacetColumns, for_each_value, is_list};

/// Counts a list of facets in one pass.
pub(in crate::search) struct FacetsCollector {
    /// Every facet asked for, with whether it is numeric.
    asked: Vec<(String, bool)>,
    columns: Vec<Spec>,
    /// The segments' columns, opened once.
    held: std::sync::Arc<FacetColumns>,
}

impl FacetsCollector {
    /// A collector for `specs`, reading the columns `held` keeps.
    pub(in crate::search) fn new(specs: &[Spec], held: &std::sync::Arc<FacetColumns>) -> Self {
        let asked = specs.iter().map(|s| (s.name().to_string(), matches!(s, Spec::Numeric { .. }))).collect();
        Self { asked, columns: specs.to_vec(), held: held.clone() }
    }

    /// Turns the fruit into values and stats, every facet asked for present (empty when
    /// nothing matched).
    pub(in crate::search) fn finish(&self, fruit: FacetsFruit, request: &SearchRequest, results: &mut FacetResults) {
        let FacetsFruit { columns } = fruit;
        let keep = |mut values: Vec<FacetCount>| {
            match request.facet_order {
                FacetOrder::Count => values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value))),
                FacetOrder::Value => values.sort_by(|a, b| a.value.cmp(&b.value)),
            }
            values.truncate(request.max_values_per_facet);
            values
        };
        for (spec, counted) in self.columns.iter().zip(columns) {
            match counted {
                Counted::Ords { column, counts, truth } => {
                    let values = top_values(&column, counts, truth, request);
                    results.values.insert(spec.name().to_string(), keep(values));
                }
                Counted::Values(counts) => {
                    let values = counts
                        .into_iter()
                        .map(|(value, count)| FacetCount { value, count, path: None, children: Vec::new() })
                        .collect();
                    results.values.insert(spec.name().to_string(), keep(values));
                }
                Counted::Numeric(acc, groups) => {
                    let Spec::Numeric { ranges, .. } = spec else { continue };
                    results.stats.insert(spec.name().to_string(), acc.stats(ranges));
                    for (value, acc) in groups {
                        results.grouped.entry(value).or_default().insert(spec.name().to_string(), acc.stats(ranges));
                    }
                }
                Counted::Paths(paths) => {
                    let values = match spec {
                        Spec::Tree { root, depth } => category_tree(&paths, root, *depth, &keep),
                        // One level: the values as such, without their paths.
                        Spec::Category(root) => category_tree(&paths, root, 1, &keep)
                            .into_iter()
                            .map(|v| FacetCount { path: None, ..v })
                            .collect(),
                        _ => continue,
                    };
                    results.values.insert(spec.name().to_string(), values);
                }
            }
        }
        for (name, numeric) in &self.asked {
            if !numeric {
                results.values.entry(name.clone()).or_default();
            }
        }
    }
}

/// The category tree `depth` levels below `root`, from the products per whole path (encoded,
/// `\0` between segments): each level ordered and cut as `keep` does, each value with its path
/// and children. A product has one path, so a node counts the products of the paths below it.
fn category_tree(
    paths: &HashMap<String, u64>,
    root: &Facet,
    depth: usize,
    keep: &dyn Fn(Vec<FacetCount>) -> Vec<FacetCount>,
) -> Vec<FacetCount> {
    let base: Vec<&str> = if root.is_root() { Vec::new() } else { root.to_path() };
    let mut nodes: BTreeMap<Vec<&str>, u64> = BTreeMap::new();
    for (path, count) in paths {
        if path.is_empty() {
            continue;
        }
        let segments: Vec<&str> = path.split('\0').collect();
        if segments.len() <= base.len() || segments[..base.len()] != base[..] {
            continue;
        }
        for level in base.len() + 1..=segments.len().min(base.len() + depth) {
            *nodes.entry(segments[..level].to_vec()).or_default() += count;
        }
    }
    /// The children of `parent` (a contiguous run of the ordered nodes), kept, each with its own.
    fn level(
        nodes: &BTreeMap<Vec<&str>, u64>,
        parent: &[&str],
        keep: &dyn Fn(Vec<FacetCount>) -> Vec<FacetCount>,
    ) -> Vec<FacetCount> {
        let mut children: HashMap<&str, &[&str]> = HashMap::new();
        let values = nodes
            .range(parent.to_vec()..)
            .take_while(|(path, _)| path.starts_with(parent))
            .filter(|(path, _)| path.len() == parent.len() + 1)
            .map(|(path, count)| {
                let value = path[parent.len()];
                children.insert(value, path);
                FacetCount { value: value.to_string(), count: *count, path: Some(path.join("/")), children: Vec::new() }
            })
            .collect();
        keep(values)
            .into_iter()
            .map(|mut v| {
                if let Some(path) = children.get(v.value.as_str()) {
                    v.children = level(nodes, path, keep);
                }
                v
            })
            .collect()
    }
    level(&nodes, &base, keep)
}

/// What one pass counted.
pub(in crate::search) struct FacetsFruit {
    columns: Vec<Counted>,
}

enum Counted {
    /// One segment's counts by term ordinal (and of booleans), read back when finishing: only
    /// the values kept are turned into text.
    Ords { column: std::sync::Arc<FacetColumn>, counts: OrdCounts, truth: [u64; 2] },
    /// Counts by value (a brand's value is its one-segment path).
    Values(HashMap<String, u64>),
    /// Stats over all, and per value of the `stats_by` column.
    Numeric(NumericAcc, HashMap<String, NumericAcc>),
    /// Products per whole facet path, encoded (`Tools\0Drills`, `Bosch`).
    Paths(HashMap<String, u64>),
}

/// Running stats of a numeric facet.
#[derive(Debug, Clone, Default)]
struct NumericAcc {
    count: u64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    ranges: Vec<u64>,
}

impl NumericAcc {
    fn new(ranges: usize) -> Self {
        NumericAcc { ranges: vec![0; ranges], ..NumericAcc::default() }
    }

    /// Adds a document's values, to `group` too (its `stats_by` value's stats) when given;
    /// the document counts once per range, however many of its values lie in it. The column
    /// is read once.
    #[inline]
    fn add(&mut self, mut group: Option<&mut NumericAcc>, numbers: &Column<f64>, ranges: &[FacetRange], doc: DocId) {
        let mut in_range = 0u128;
        for_each_value(numbers, doc, |v: f64| {
            self.take(v);
            if let Some(group) = group.as_deref_mut() {
                group.take(v);
            }
            for (i, r) in ranges.iter().enumerate() {
                if r.contains(v) {
                    in_range |= 1 << i;
                }
            }
        });
        while in_range != 0 {
            let i = in_range.trailing_zeros() as usize;
            self.ranges[i] += 1;
            if let Some(group) = group.as_deref_mut() {
                group.ranges[i] += 1;
            }
            in_range &= in_range - 1;
        }
    }

    #[inline]
    fn take(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
    }

    fn merge(&mut self, other: NumericAcc) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = [self.min, other.min].into_iter().flatten().reduce(f64::min);
        self.max = [self.max, other.max].into_iter().flatten().reduce(f64::max);
        if self.ranges.len() < other.ranges.len() {
            self.ranges.resize(other.ranges.len(), 0);
        }
        for (mine, theirs) in self.ranges.iter_mut().zip(other.ranges) {
            *mine += theirs;
        }
    }

    fn stats(self, ranges: &[FacetRange]) -> FacetStats {
        FacetStats {
            count: self.count,
            min: self.min,
            max: self.max,
            sum: self.sum,
            avg: (self.count > 0).then(|| self.sum / self.count as f64),
            ranges: ranges
                .iter()
                .enumerate()
                .map(|(i, r)| RangeCount { range: r.to_string(), count: self.ranges.get(i).copied().unwrap_or(0) })
                .collect(),
        }
    }
}

impl Collector for FacetsCollector {
    type Fruit = FacetsFruit;
    type Child = FacetsSegment;

    fn for_segment(&self, _ord: u32, segment: &SegmentReader) -> tantivy::Result<FacetsSegment> {
        let mut columns = Vec::with_capacity(self.columns.len());
        for spec in &self.columns {
            let column = self.held.get(segment, spec.column())?;
            let ords = column.columns.strs.as_ref().map_or(0, |c| c.num_terms());
            columns.push(match spec {
                Spec::Values { .. } => {
                    SegmentColumn::Values { column, counts: OrdCounts::new(ords), truth: [0; 2], seen: Vec::new() }
                }
                Spec::Numeric { ranges, by, .. } => SegmentColumn::Numeric {
                    numbers: column.columns.numbers.clone(),
                    ranges: ranges.clone(),
                    acc: NumericAcc::new(ranges.len()),
                    by: match by {
                        Some(by) => Some((self.held.get(segment, by)?, HashMap::new())),
                        None => None,
                    },
                },
                // A facet field's fast column: its paths' ordinals per document.
                Spec::Brand | Spec::Category(_) | Spec::Tree { .. } => {
                    SegmentColumn::Paths { column, counts: OrdCounts::new(ords), brand: matches!(spec, Spec::Brand) }
                }
            });
        }
        Ok(FacetsSegment { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetsFruit>) -> tantivy::Result<FacetsFruit> {
        let mut columns: Option<Vec<Counted>> = None;
        for fruit in fruits {
            match &mut columns {
                None => columns = Some(fruit.columns),
                Some(merged) => {
                    for (into, from) in merged.iter_mut().zip(fruit.columns) {
                        // Ordinals are a segment's own: counts of several merge by value.
                        if matches!(into, Counted::Ords { .. }) {
                            let ords = std::mem::replace(into, Counted::Values(HashMap::new()));
                            *into = Counted::Values(ords.resolved());
                        }
                        let from = match from {
                            ords @ Counted::Ords { .. } => Counted::Values(ords.resolved()),
                            other => other,
                        };
                        match (into, from) {
                            (Counted::Values(into), Counted::Values(from)) => {
                                for (value, count) in from {
                                    *into.entry(value).or_default() += count;
                                }
                            }
                            (Counted::Numeric(into, into_groups), Counted::Numeric(from, from_groups)) => {
                                into.merge(from);
                                for (value, acc) in from_groups {
                                    into_groups.entry(value).or_default().merge(acc);
                                }
                            }
                            (Counted::Paths(into), Counted::Paths(from)) => {
                                for (path, count) in from {
                                    *into.entry(path).or_default() += count;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        let columns = columns.unwrap_or_else(|| {
            self.columns
                .iter()
                .map(|s| match s {
                    Spec::Numeric { .. } => Counted::Numeric(NumericAcc::default(), HashMap::new()),
                    Spec::Values { .. } | Spec::Brand => Counted::Values(HashMap::new()),
                    Spec::Category(_) | Spec::Tree { .. } => Counted::Paths(HashMap::new()),
                })
                .collect()
        });
        Ok(FacetsFruit { columns })
    }
}

enum SegmentColumn {
    Values {
        column: std::sync::Arc<FacetColumn>,
        counts: OrdCounts,
        truth: [u64; 2],
        seen: Vec<u64>,
    },
    Numeric {
        numbers: Option<Column<f64>>,
        ranges: Vec<FacetRange>,
        acc: NumericAcc,
        /// The `stats_by` column, and the stats per its value's ordinal (a document's first).
        by: Option<(std::sync::Arc<FacetColumn>, HashMap<u64, NumericAcc>)>,
    },
    /// Products per path of a facet field (a product has one brand and one category path).
    Paths {
        column: std::sync::Arc<FacetColumn>,
        counts: OrdCounts,
        /// The brand: its one-segment paths are its values.
        brand: bool,
    },
}

/// One segment's counting.
pub(in crate::search) struct FacetsSegment {
    columns: Vec<SegmentColumn>,
}

impl SegmentCollector for FacetsSegment {
    type Fruit = FacetsFruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for column in &mut self.columns {
            match column {
                SegmentColumn::Values { column, counts, truth, seen } => {
                    if let Some(strs) = &column.columns.strs {
                        if is_list(strs.ords()) {
                            // A list counts each distinct value once.
                            seen.clear();
                            seen.extend(strs.term_ords(doc));
                            seen.sort_unstable();
                            seen.dedup();
                            for &ord in seen.iter() {
                                counts.add(ord);
                            }
                        } else {
                            for_each_value(strs.ords(), doc, |ord| counts.add(ord));
                        }
                    }
                    if let Some(bools) = &column.columns.bools {
                        let (mut t, mut f) = (false, false);
                        for b in bools.values_for_doc(doc) {
                            if b { t = true } else { f = true }
                        }
                        truth[0] += u64::from(f);
                        truth[1] += u64::from(t);
                    }
                }
                SegmentColumn::Numeric { numbers: Some(numbers), ranges, acc, by } => {
                    let group = by.as_mut().and_then(|(column, groups)| {
                        let ord = column.columns.strs.as_ref()?.term_ords(doc).next()?;
                        Some(groups.entry(ord).or_insert_with(|| NumericAcc::new(ranges.len())))
                    });
                    acc.add(group, numbers, ranges, doc);
                }
                SegmentColumn::Numeric { numbers: None, .. } => {}
                SegmentColumn::Paths { column, counts, .. } => {
                    if let Some(strs) = &column.columns.strs {
                        for_each_value(strs.ords(), doc, |ord| counts.add(ord));
                    }
                }
            }
        }
    }

    fn harvest(self) -> FacetsFruit {
        let columns = self
            .columns
            .into_iter()
            .map(|column| match column {
                SegmentColumn::Values { column, counts, truth, .. } => Counted::Ords { column, counts, truth },
                SegmentColumn::Paths { column, counts, brand: true } => Counted::Ords { column, counts, truth: [0; 2] },
                SegmentColumn::Numeric { acc, by, .. } => {
                    let mut named = HashMap::new();
                    if let Some((column, mut groups)) = by {
                        let mut ords: Vec<u64> = groups.keys().copied().collect();
                        ords.sort_unstable();
                        column.values_of(&ords, |value, ord| {
                            if let Some(acc) = groups.remove(&ord) {
                                named.insert(value.to_string(), acc);
                            }
                        });
                    }
                    Counted::Numeric(acc, named)
                }
                SegmentColumn::Paths { column, counts, brand: false } => {
                    let mut paths = HashMap::new();
                    // Encoded: the segments as given, `\0` between them.
                    resolve(&column, counts, |value, count| {
                        paths.insert(value.to_string(), count);
                    });
                    Counted::Paths(paths)
                }
            })
            .collect();
        FacetsFruit { columns }
    }
}

impl Counted {
    /// Counts by ordinal as counts by value (every value).
    fn resolved(self) -> HashMap<String, u64> {
        match self {
            Counted::Ords { column, counts, truth } => {
                let mut values = HashMap::new();
                resolve(&column, counts, |value, count| {
                    values.insert(value.to_string(), count);
                });
                for (value, count) in [("false", truth[0]), ("true", truth[1])] {
                    if count > 0 {
                        values.insert(value.to_string(), count);
                    }
                }
                values
            }
            Counted::Values(values) => values,
            Counted::Numeric(..) | Counted::Paths(_) => HashMap::new(),
        }
    }
}

/// One segment's counts by ordinal, with the ordinals counted (a search touches few of a
/// column's values: finishing reads those, not every ordinal of the column).
struct OrdCounts {
    counts: Vec<u32>,
    touched: Vec<u64>,
}

impl OrdCounts {
    fn new(ords: usize) -> Self {
        Self { counts: vec![0; ords], touched: Vec::new() }
    }

    #[inline]
    fn add(&mut self, ord: u64) {
        let count = &mut self.counts[ord as usize];
        if *count == 0 {
            self.touched.push(ord);
        }
        *count += 1;
    }

    fn get(&self, ord: u64) -> u64 {
        u64::from(self.counts[ord as usize])
    }

    /// The ordinals counted, ascending.
    fn ords(&mut self) -> Vec<u64> {
        let mut ords = std::mem::take(&mut self.touched);
        ords.sort_unstable();
        ords
    }
}

/// The values a facet keeps from one segment's counts by ordinal: ordinals are in the order
/// of the values' bytes, so the first `max_values_per_facet` by count (then value) or by value
/// are chosen before any is read back; booleans are added as they are.
fn top_values(
    column: &FacetColumn,
    mut counts: OrdCounts,
    truth: [u64; 2],
    request: &SearchRequest,
) -> Vec<FacetCount> {
    let mut ords = counts.ords();
    let most = request.max_values_per_facet;
    if request.facet_order == FacetOrder::Count && ords.len() > most {
        ords.select_nth_unstable_by(most, |a, b| counts.get(*b).cmp(&counts.get(*a)).then(a.cmp(b)));
        ords.truncate(most);
        ords.sort_unstable();
    }
    ords.truncate(most);
    let mut values = Vec::with_capacity(ords.len() + 2);
    column.values_of(&ords, |value, ord| {
        values.push(FacetCount { value: value.to_string(), count: counts.get(ord), path: None, children: Vec::new() });
    });
    for (value, count) in [("false", truth[0]), ("true", truth[1])] {
        if count > 0 {
            values.push(FacetCount { value: value.to_string(), count, path: None, children: Vec::new() });
        }
    }
    values
}

/// Calls `found` with the value and count of every ordinal counted at least once, reading just
/// those.
fn resolve(column: &FacetColumn, mut counts: OrdCounts, mut found: impl FnMut(&str, u64)) {
    let ords = counts.ords();
    column.values_of(&ords, |value, ord| found(value, counts.get(ord)));
}
