//! Facets: which fields a search counts, and how. Brand and category are Tantivy facet fields,
//! keyword and boolean attributes fast columns of text and booleans: all are counted by term
//! ordinal per segment, and only the ordinals some match holds are turned back into text (in one
//! sorted pass over the segment's dictionary); numeric fields and attributes give stats and range counts from
//! theirs. A disjunctive facet is counted in a pass of its own over the query without the
//! clauses on that facet; the others are counted in the pass that collects the hits.

use std::collections::{BTreeMap, HashMap};

use searchd_catalog::attributes::AttributeType;
use searchd_catalog::filter::{Builtin, Resolved};
use searchd_catalog::{
    Error as CatalogError, FacetCount, FacetField, FacetOrder, FacetRange, FacetStats, RangeCount, SearchRequest,
};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Query;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, Searcher, SegmentReader};

use crate::columns::{FacetColumn, FacetColumns};
use crate::settings::Served;
use crate::{ProductIndex, Result};

/// How one facet is counted.
#[derive(Debug, Clone)]
pub(super) enum Spec {
    /// The brand facet field.
    Brand,
    /// The category facet field, one level below `root`.
    Category(Facet),
    /// The category facet as a tree, `depth` levels below `root`.
    Tree { root: Facet, depth: usize },
    /// Values of a fast column (`attrs.colour`): keywords, or booleans as `true` / `false`.
    Values { name: String, column: String },
    /// Stats and range counts of a numeric fast column.
    Numeric { name: String, column: String, ranges: Vec<FacetRange> },
}

impl Spec {
    /// The fast column counted.
    fn column(&self) -> &str {
        match self {
            Spec::Brand => "brand",
            Spec::Category(_) | Spec::Tree { .. } => "category",
            Spec::Values { column, .. } | Spec::Numeric { column, .. } => column,
        }
    }

    fn name(&self) -> &str {
        match self {
            Spec::Brand => "brand",
            Spec::Category(_) | Spec::Tree { .. } => "category",
            Spec::Values { name, .. } | Spec::Numeric { name, .. } => name,
        }
    }
}

/// The facets a search counts: with the hits, or disjunctively each in a pass of its own.
#[derive(Debug, Default)]
pub(super) struct FacetPlan {
    /// Counted over the search's own matches.
    pub with_hits: Vec<Spec>,
    /// Counted over the matches of the search without the clauses (by index) on the facet.
    pub disjunctive: Vec<(Spec, Vec<usize>)>,
    /// The settings generation the clauses read attributes under.
    pub generation: u64,
}

/// What counting gave: keyword facets' values and numeric facets' stats, by facet name.
#[derive(Debug, Default)]
pub(super) struct FacetResults {
    pub values: BTreeMap<String, Vec<FacetCount>>,
    pub stats: BTreeMap<String, FacetStats>,
}

impl ProductIndex {
    /// Resolves the facets a request asks for against the built-in fields and the facetable
    /// attributes; the error names `facets`, `disjunctive` or `facet_ranges`.
    pub(super) fn facet_plan(
        &self,
        request: &SearchRequest,
        clauses: &[Resolved],
        served: &Served,
    ) -> Result<FacetPlan> {
        let attributes = &served.settings.attributes;
        let column = |name: &str| crate::schema::attr_column(served.generation, name);
        let mut plan = FacetPlan { generation: served.generation, ..FacetPlan::default() };
        let mut seen: Vec<&str> = Vec::new();
        let asked =
            request.facets.iter().map(|f| (f, "facets")).chain(request.disjunctive.iter().map(|f| (f, "disjunctive")));
        for (facet, param) in asked {
            let name = facet.as_str();
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            let ranges = request.facet_ranges.get(name).cloned().unwrap_or_default();
            let numeric = |column: String| Spec::Numeric { name: name.to_string(), column, ranges: ranges.clone() };
            let spec = match facet {
                FacetField::Brand => Spec::Brand,
                FacetField::Category => {
                    let root = request.filters.category_segments().map_or_else(Facet::root, Facet::from_path);
                    if request.category_depth > 1 {
                        Spec::Tree { root, depth: request.category_depth }
                    } else {
                        Spec::Category(root)
                    }
                }
                FacetField::Named(name) => match (Builtin::of(name), attributes.get(name)) {
                    (Some(Builtin::Price | Builtin::Rating | Builtin::ReviewCount | Builtin::Popularity), _) => {
                        numeric(name.clone())
                    }
                    (None, Some(a)) if a.facetable => match a.kind {
                        // Settings refuse a facetable text attribute: it would count nothing.
                        AttributeType::Keyword | AttributeType::Boolean | AttributeType::Text => {
                            Spec::Values { name: name.clone(), column: column(name) }
                        }
                        AttributeType::Number | AttributeType::Date => numeric(column(name)),
                    },
                    _ => {
                        let mut known = vec!["brand", "category", "popularity", "price", "rating", "review_count"];
                        known.extend(attributes.names(|a| a.facetable));
                        known.sort_unstable();
                        return Err(CatalogError::invalid(
                            param,
                            format!("`{name}` is not facetable; facetable: {}", known.join(", ")),
                        )
                        .into());
                    }
                },
            };
            if !ranges.is_empty() && !matches!(spec, Spec::Numeric { .. }) {
                return Err(CatalogError::invalid(
                    "facet_ranges",
                    format!("`{name}` is not a numeric facet: ranges apply to numbers and dates"),
                )
                .into());
            }
            let own: Vec<usize> = clauses.iter().enumerate().filter(|(_, c)| is_on(c, name)).map(|(i, _)| i).collect();
            if request.disjunctive.contains(facet) && !own.is_empty() {
                let others = (0..clauses.len()).filter(|i| !own.contains(i)).collect();
                plan.disjunctive.push((spec, others));
            } else {
                plan.with_hits.push(spec);
            }
        }
        if let Some(name) = request.facet_ranges.keys().find(|k| !seen.contains(&k.as_str())) {
            return Err(
                CatalogError::invalid("facet_ranges", format!("`{name}` is not among the facets asked for")).into()
            );
        }
        Ok(plan)
    }

    /// Counts the disjunctive facets of `plan`, each over `text` and the clauses it keeps.
    pub(super) fn count_disjunctive(
        &self,
        searcher: &Searcher,
        text: &dyn Query,
        clauses: &[Resolved],
        plan: &FacetPlan,
        request: &SearchRequest,
        results: &mut FacetResults,
    ) -> Result<()> {
        for (spec, kept) in &plan.disjunctive {
            let query = self.filtered(text.box_clone(), kept.iter().map(|&i| &clauses[i]), plan.generation);
            let collector = self.facets_collector(searcher, std::slice::from_ref(spec));
            let fruit = searcher.search(query.as_ref(), &collector)?;
            collector.finish(fruit, request, results);
        }
        Ok(())
    }
}

impl ProductIndex {
    /// Facet value search: every value of the one keyword, boolean, brand or category facet
    /// `request.facets` names, counted under the request's query and filters (disjunctively
    /// when `request.disjunctive` names it too), that `matches` keeps (the number of typos it
    /// took), fewest typos first, then most frequent; at most `limit`.
    pub fn facet_values(
        &self,
        request: &SearchRequest,
        matches: &dyn Fn(&str) -> Option<u8>,
        limit: usize,
    ) -> Result<Vec<(FacetCount, u8)>> {
        let [facet] = request.facets.as_slice() else {
            return Err(CatalogError::invalid("facets", "name one facet to search the values of").into());
        };
        let planned = self.plan(request, None, &searchd_catalog::TextWeights::default())?;
        let plan = self.facet_plan(request, &planned.clauses, &planned.served)?;
        if plan
            .with_hits
            .iter()
            .chain(plan.disjunctive.iter().map(|(s, _)| s))
            .any(|s| matches!(s, Spec::Numeric { .. }))
        {
            return Err(CatalogError::invalid(
                "facets",
                format!(
                    "`{}` is numeric: its values are counted in ranges (facet_ranges), not searched",
                    facet.as_str()
                ),
            )
            .into());
        }
        // Every value counted, then searched: truncation comes last.
        let all = SearchRequest { max_values_per_facet: usize::MAX, facet_order: FacetOrder::Count, ..request.clone() };
        let mut results = FacetResults::default();
        if !plan.with_hits.is_empty() {
            let collector = self.facets_collector(&planned.searcher, &plan.with_hits);
            let fruit = planned.searcher.search(planned.query.as_ref(), &collector)?;
            collector.finish(fruit, &all, &mut results);
        }
        self.count_disjunctive(&planned.searcher, planned.text.as_ref(), &planned.clauses, &plan, &all, &mut results)?;
        let mut found: Vec<(FacetCount, u8)> = results
            .values
            .remove(facet.as_str())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| matches(&v.value).map(|typos| (v, typos)))
            .collect();
        found.sort_by(|(a, ta), (b, tb)| ta.cmp(tb).then(b.count.cmp(&a.count)).then_with(|| a.value.cmp(&b.value)));
        found.truncate(limit);
        Ok(found)
    }
}

impl ProductIndex {
    /// A collector counting `specs` over `searcher`'s segments.
    pub(super) fn facets_collector(&self, searcher: &Searcher, specs: &[Spec]) -> FacetsCollector {
        self.facet_columns.prune(searcher);
        FacetsCollector::new(specs, &self.facet_columns)
    }
}

/// Whether every field of the clause is the facet `name`.
fn is_on(clause: &Resolved, name: &str) -> bool {
    let fields = clause.fields();
    !fields.is_empty() && fields.iter().all(|f| f.name() == name)
}

/// Counts a list of facets in one pass.
pub(super) struct FacetsCollector {
    /// Every facet asked for, with whether it is numeric.
    asked: Vec<(String, bool)>,
    columns: Vec<Spec>,
    /// The segments' columns, opened once.
    held: std::sync::Arc<FacetColumns>,
}

impl FacetsCollector {
    /// A collector for `specs`, reading the columns `held` keeps.
    pub(super) fn new(specs: &[Spec], held: &std::sync::Arc<FacetColumns>) -> Self {
        let asked = specs.iter().map(|s| (s.name().to_string(), matches!(s, Spec::Numeric { .. }))).collect();
        Self { asked, columns: specs.to_vec(), held: held.clone() }
    }

    /// Turns the fruit into values and stats, every facet asked for present (empty when
    /// nothing matched).
    pub(super) fn finish(&self, fruit: FacetsFruit, request: &SearchRequest, results: &mut FacetResults) {
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
                    let values = top_values(&column, &counts, truth, request);
                    results.values.insert(spec.name().to_string(), keep(values));
                }
                Counted::Values(counts) => {
                    let values = counts
                        .into_iter()
                        .map(|(value, count)| FacetCount { value, count, path: None, children: Vec::new() })
                        .collect();
                    results.values.insert(spec.name().to_string(), keep(values));
                }
                Counted::Numeric(acc) => {
                    let Spec::Numeric { ranges, .. } = spec else { continue };
                    results.stats.insert(spec.name().to_string(), acc.stats(ranges));
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
pub(super) struct FacetsFruit {
    columns: Vec<Counted>,
}

enum Counted {
    /// One segment's counts by term ordinal (and of booleans), read back when finishing: only
    /// the values kept are turned into text.
    Ords {
        column: std::sync::Arc<FacetColumn>,
        counts: Vec<u64>,
        truth: [u64; 2],
    },
    /// Counts by value (a brand's value is its one-segment path).
    Values(HashMap<String, u64>),
    Numeric(NumericAcc),
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
                    SegmentColumn::Values { column, counts: vec![0; ords], truth: [0; 2], seen: Vec::new() }
                }
                Spec::Numeric { ranges, .. } => SegmentColumn::Numeric {
                    numbers: column.columns.numbers.clone(),
                    ranges: ranges.clone(),
                    acc: NumericAcc { ranges: vec![0; ranges.len()], ..NumericAcc::default() },
                },
                // A facet field's fast column: its paths' ordinals per document.
                Spec::Brand | Spec::Category(_) | Spec::Tree { .. } => {
                    SegmentColumn::Paths { column, counts: vec![0; ords], brand: matches!(spec, Spec::Brand) }
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
                            (Counted::Numeric(into), Counted::Numeric(from)) => into.merge(from),
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
                    Spec::Numeric { .. } => Counted::Numeric(NumericAcc::default()),
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
        counts: Vec<u64>,
        truth: [u64; 2],
        seen: Vec<u64>,
    },
    Numeric {
        numbers: Option<Column<f64>>,
        ranges: Vec<FacetRange>,
        acc: NumericAcc,
    },
    /// Products per path of a facet field (a product has one brand and one category path).
    Paths {
        column: std::sync::Arc<FacetColumn>,
        counts: Vec<u64>,
        /// The brand: its one-segment paths are its values.
        brand: bool,
    },
}

/// One segment's counting.
pub(super) struct FacetsSegment {
    columns: Vec<SegmentColumn>,
}

impl SegmentCollector for FacetsSegment {
    type Fruit = FacetsFruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for column in &mut self.columns {
            match column {
                SegmentColumn::Values { column, counts, truth, seen } => {
                    if let Some(strs) = &column.columns.strs {
                        if column.single {
                            if let Some(ord) = strs.ords().first(doc) {
                                counts[ord as usize] += 1;
                            }
                        } else {
                            // A list counts each distinct value once.
                            seen.clear();
                            seen.extend(strs.term_ords(doc));
                            seen.sort_unstable();
                            seen.dedup();
                            for &ord in seen.iter() {
                                counts[ord as usize] += 1;
                            }
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
                SegmentColumn::Numeric { numbers: Some(numbers), ranges, acc } => {
                    let mut in_range = 0u128;
                    for v in numbers.values_for_doc(doc) {
                        acc.count += 1;
                        acc.sum += v;
                        acc.min = Some(acc.min.map_or(v, |m| m.min(v)));
                        acc.max = Some(acc.max.map_or(v, |m| m.max(v)));
                        for (i, r) in ranges.iter().enumerate() {
                            if r.contains(v) {
                                in_range |= 1 << i;
                            }
                        }
                    }
                    // A product counts once per range, however many of its values lie in it.
                    while in_range != 0 {
                        let i = in_range.trailing_zeros() as usize;
                        acc.ranges[i] += 1;
                        in_range &= in_range - 1;
                    }
                }
                SegmentColumn::Numeric { numbers: None, .. } => {}
                SegmentColumn::Paths { column, counts, .. } => match &column.columns.strs {
                    Some(strs) if column.single => {
                        if let Some(ord) = strs.ords().first(doc) {
                            counts[ord as usize] += 1;
                        }
                    }
                    Some(strs) => {
                        for ord in strs.term_ords(doc) {
                            counts[ord as usize] += 1;
                        }
                    }
                    None => {}
                },
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
                SegmentColumn::Numeric { acc, .. } => Counted::Numeric(acc),
                SegmentColumn::Paths { column, counts, brand: false } => {
                    let mut paths = HashMap::new();
                    // Encoded: the segments as given, `\0` between them.
                    resolve(&column, &counts, |value, count| {
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
                resolve(&column, &counts, |value, count| {
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
            Counted::Numeric(_) | Counted::Paths(_) => HashMap::new(),
        }
    }
}

/// The values a facet keeps from one segment's counts by ordinal: ordinals are in the order
/// of the values' bytes, so the first `max_values_per_facet` by count (then value) or by value
/// are chosen before any is read back; booleans are added as they are.
fn top_values(column: &FacetColumn, counts: &[u64], truth: [u64; 2], request: &SearchRequest) -> Vec<FacetCount> {
    let mut ords: Vec<u64> = counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(ord, _)| ord as u64).collect();
    let most = request.max_values_per_facet;
    if request.facet_order == FacetOrder::Count && ords.len() > most {
        ords.select_nth_unstable_by(most, |a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
        ords.truncate(most);
        ords.sort_unstable();
    }
    ords.truncate(most);
    let mut values = Vec::with_capacity(ords.len() + 2);
    column.values_of(&ords, |value, ord| {
        values.push(FacetCount {
            value: value.to_string(),
            count: counts[ord as usize],
            path: None,
            children: Vec::new(),
        });
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
fn resolve(column: &FacetColumn, counts: &[u64], mut found: impl FnMut(&str, u64)) {
    let ords: Vec<u64> = counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(ord, _)| ord as u64).collect();
    column.values_of(&ords, |value, ord| found(value, counts[ord as usize]));
}
