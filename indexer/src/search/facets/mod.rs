//! Facets: which fields a search counts, and how. Brand and category are Tantivy facet fields,
//! keyword and boolean attributes fast columns of text and booleans, numeric fields and
//! attributes fast columns of numbers; [`count`] counts them in one pass. A disjunctive facet is
//! counted over the query without the clauses on that facet: behind gates in the pass of the
//! hits (see `gate`), or in a pass of its own (with `distinct`); the others in the pass that
//! collects the hits.

mod count;

use searchd_catalog::attributes::AttributeType;
use searchd_catalog::filter::{Builtin, Resolved};
use searchd_catalog::{
    Error as CatalogError, FacetCount, FacetField, FacetOrder, FacetRange, FacetStats, SearchRequest,
};
use std::collections::BTreeMap;
use tantivy::Searcher;
use tantivy::query::Query;
use tantivy::schema::Facet;

use crate::settings::Served;
use crate::{ProductIndex, Result};
pub(super) use count::{FacetsCollector, FacetsFruit};

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
    /// Stats and range counts of a numeric fast column, also per value of the keyword column
    /// `by` (`stats_by`).
    Numeric { name: String, column: String, ranges: Vec<FacetRange>, by: Option<String> },
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

/// What counting gave: keyword facets' values and numeric facets' stats, by facet name; the
/// stats per value of `stats_by`.
#[derive(Debug, Default)]
pub(super) struct FacetResults {
    pub values: BTreeMap<String, Vec<FacetCount>>,
    pub stats: BTreeMap<String, FacetStats>,
    pub grouped: BTreeMap<String, BTreeMap<String, FacetStats>>,
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
        let by = request.stats_by.as_deref().map(|name| stats_column(name, served)).transpose()?;
        let asked =
            request.facets.iter().map(|f| (f, "facets")).chain(request.disjunctive.iter().map(|f| (f, "disjunctive")));
        for (facet, param) in asked {
            let name = facet.as_str();
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            let ranges = request.facet_ranges.get(name).cloned().unwrap_or_default();
            let numeric = |column: String| Spec::Numeric {
                name: name.to_string(),
                column,
                ranges: ranges.clone(),
                by: by.clone(),
            };
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
                    (Some(Builtin::Currency | Builtin::Language), _) => {
                        Spec::Values { name: name.clone(), column: name.clone() }
                    }
                    (None, Some(a)) if a.facetable => match a.kind {
                        // Settings refuse a facetable text attribute: it would count nothing.
                        AttributeType::Keyword | AttributeType::Boolean | AttributeType::Text => {
                            Spec::Values { name: name.clone(), column: column(name) }
                        }
                        AttributeType::Number | AttributeType::Date => numeric(column(name)),
                    },
                    _ if name == searchd_catalog::near::SELLERS_FACET => {
                        let reason = "`vendor` counts the sellers near a shopper: give `near`";
                        return Err(CatalogError::invalid(param, reason).into());
                    }
                    _ => {
                        let mut known = vec![
                            "brand",
                            "category",
                            "currency",
                            "language",
                            "popularity",
                            "price",
                            "rating",
                            "review_count",
                        ];
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
        if let Some(name) = &request.stats_by {
            let numeric = |s: &Spec| matches!(s, Spec::Numeric { .. });
            if !plan.with_hits.iter().any(numeric) && !plan.disjunctive.iter().any(|(s, _)| numeric(s)) {
                return Err(CatalogError::invalid(
                    "stats_by",
                    format!("`{name}` groups the stats of numeric facets; ask for one too (facets=price)"),
                )
                .into());
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
        let planned = self.plan(request, None, &searchd_catalog::TextWeights::default(), super::Scope::default())?;
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

/// The keyword column `stats_by` names: the currency or language, or a facetable keyword
/// attribute's; the error names `stats_by`.
fn stats_column(name: &str, served: &Served) -> Result<String> {
    match (Builtin::of(name), served.settings.attributes.get(name)) {
        (Some(Builtin::Currency | Builtin::Language), _) => Ok(name.to_string()),
        (None, Some(a)) if a.facetable && a.kind == AttributeType::Keyword => {
            Ok(crate::schema::attr_column(served.generation, name))
        }
        _ => {
            let mut known = vec!["currency", "language"];
            known.extend(served.settings.attributes.names(|a| a.facetable && a.kind == AttributeType::Keyword));
            Err(CatalogError::invalid(
                "stats_by",
                format!("`{name}` is not a keyword facet to group stats by; give one of: {}", known.join(", ")),
            )
            .into())
        }
    }
}

/// Whether every field of the clause is the facet `name`.
fn is_on(clause: &Resolved, name: &str) -> bool {
    let fields = clause.fields();
    !fields.is_empty() && fields.iter().all(|f| f.name() == name)
}
