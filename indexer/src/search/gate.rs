//! Disjunctive facets in the pass that collects the hits. The query runs without the filter
//! clauses on disjunctive facets (the *gates*); each matching document is checked against every
//! gate (their doc sets are advanced in step with the documents, which come in order), and goes
//! to the hits, the total and the other facets when it passes them all, to a disjunctive facet
//! when it passes every gate but that facet's own. One evaluation of the words' query instead of
//! one per disjunctive facet; the counts are those of a pass of its own per facet. A gate on a
//! keyword attribute (`colour IN [red, blue]`) reads the document's values from the attribute's
//! fast column (a few ordinals compared) rather than seeking the values' postings, which refills
//! a window of the union at each sparse seek. A range on a number (`price < 50`) becomes a gate
//! too, which every count needs: its column is read for the documents the words match, without
//! a doc set of its own in the query's intersection.

use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use searchd_catalog::attributes::AttributeType;
use searchd_catalog::filter::{Builtin, Field, Resolved, Value};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{EnableScoring, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED};

use super::facets::{FacetsCollector, FacetsFruit, Spec};
use crate::Result;
use crate::columns::{FacetColumn, FacetColumns, for_each_value};

/// Most gates one search may have: a bit each.
pub(super) const MAX_GATES: usize = 64;

/// A clause on a disjunctive facet.
pub(super) enum Gate {
    /// The clause's query: its doc set is advanced in step with the documents.
    Query(Box<dyn Query>),
    /// The values of a keyword attribute (its fast column) one of which a document holds.
    Keyword { column: String, values: Vec<String> },
    /// A range a value of a numeric fast column lies in.
    Range { column: String, range: (Bound<f64>, Bound<f64>) },
}

/// A gate ready for the segments.
enum GateWeight {
    Weight(Box<dyn Weight>),
    Keyword { column: String, values: Vec<String> },
    Range { column: String, range: (Bound<f64>, Bound<f64>) },
}

/// A gate over one segment.
enum SegmentGate {
    Scorer(Box<dyn Scorer>),
    /// The column, and per ordinal whether it is one of the values.
    Keyword {
        column: Arc<FacetColumn>,
        wanted: Vec<bool>,
    },
    Range {
        numbers: Option<Column<f64>>,
        range: (Bound<f64>, Bound<f64>),
    },
}

impl SegmentGate {
    /// Whether `doc` passes; documents come in order.
    #[inline]
    fn passes(&mut self, doc: DocId) -> bool {
        match self {
            SegmentGate::Scorer(gate) => {
                if gate.doc() < doc {
                    gate.seek(doc);
                }
                gate.doc() == doc && doc != TERMINATED
            }
            SegmentGate::Keyword { column, wanted } => column.columns.strs.as_ref().is_some_and(|strs| {
                let mut hit = false;
                for_each_value(strs.ords(), doc, |o| hit |= wanted[o as usize]);
                hit
            }),
            SegmentGate::Range { numbers, range } => numbers.as_ref().is_some_and(|numbers| {
                let mut hit = false;
                for_each_value(numbers, doc, |v| hit |= range.contains(&v));
                hit
            }),
        }
    }
}

/// The gates and the disjunctive facets around an inner collector.
pub(super) struct Gated<C> {
    pub inner: C,
    gates: Vec<GateWeight>,
    held: Arc<FacetColumns>,
    /// Each disjunctive facet with the bits of the gates on it.
    facets: Vec<(FacetsCollector, u64)>,
}

impl<C> Gated<C> {
    /// `gates` are the clauses on disjunctive facets; each facet of `facets` names the gates
    /// (by index) that are its own.
    pub(super) fn new(
        inner: C,
        searcher: &Searcher,
        gates: &[Gate],
        facets: &[(Spec, Vec<usize>)],
        held: &Arc<FacetColumns>,
    ) -> Result<Self> {
        held.prune(searcher);
        let weights = gates
            .iter()
            .map(|gate| match gate {
                Gate::Query(q) => q.weight(EnableScoring::disabled_from_searcher(searcher)).map(GateWeight::Weight),
                Gate::Keyword { column, values } => {
                    Ok(GateWeight::Keyword { column: column.clone(), values: values.clone() })
                }
                Gate::Range { column, range } => Ok(GateWeight::Range { column: column.clone(), range: *range }),
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let facets = facets
            .iter()
            .map(|(spec, own)| {
                (FacetsCollector::new(std::slice::from_ref(spec), held), own.iter().fold(0u64, |bits, i| bits | 1 << i))
            })
            .collect();
        Ok(Self { inner, gates: weights, held: held.clone(), facets })
    }

    /// The disjunctive facets' collectors, in order, for finishing their fruits.
    pub(super) fn into_facets(self) -> Vec<FacetsCollector> {
        self.facets.into_iter().map(|(c, _)| c).collect()
    }
}

impl<C: Collector> Collector for Gated<C> {
    type Fruit = (C::Fruit, Vec<FacetsFruit>);
    type Child = GatedSegment<C::Child>;

    fn for_segment(&self, ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let gates = self
            .gates
            .iter()
            .map(|gate| match gate {
                GateWeight::Weight(w) => Ok(SegmentGate::Scorer(w.scorer(segment, 1.0)?)),
                GateWeight::Keyword { column, values } => {
                    let column = self.held.get(segment, column)?;
                    let mut wanted = vec![false; column.columns.strs.as_ref().map_or(0, |c| c.num_terms())];
                    for value in values {
                        if let Some(ord) = column.ord_of(value) {
                            wanted[ord as usize] = true;
                        }
                    }
                    Ok(SegmentGate::Keyword { column, wanted })
                }
                GateWeight::Range { column, range } => Ok(SegmentGate::Range {
                    numbers: self.held.get(segment, column)?.columns.numbers.clone(),
                    range: *range,
                }),
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let facets = self
            .facets
            .iter()
            .map(|(c, own)| Ok((c.for_segment(ord, segment)?, *own)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let all = if gates.len() == 64 { u64::MAX } else { (1u64 << gates.len()) - 1 };
        Ok(GatedSegment { inner: self.inner.for_segment(ord, segment)?, gates, facets, all })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(&self, fruits: Vec<<Self::Child as SegmentCollector>::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut inner = Vec::with_capacity(fruits.len());
        let mut per_facet: Vec<Vec<FacetsFruit>> = self.facets.iter().map(|_| Vec::new()).collect();
        for (fruit, facets) in fruits {
            inner.push(fruit);
            for (into, fruit) in per_facet.iter_mut().zip(facets) {
                into.push(fruit);
            }
        }
        let facets = self
            .facets
            .iter()
            .zip(per_facet)
            .map(|((c, _), fruits)| c.merge_fruits(fruits))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok((self.inner.merge_fruits(inner)?, facets))
    }
}

/// One segment's gated collection.
pub(super) struct GatedSegment<S> {
    inner: S,
    gates: Vec<SegmentGate>,
    facets: Vec<(<FacetsCollector as Collector>::Child, u64)>,
    /// The bits of every gate.
    all: u64,
}

impl<S: SegmentCollector> SegmentCollector for GatedSegment<S> {
    type Fruit = (S::Fruit, Vec<FacetsFruit>);

    fn collect(&mut self, doc: DocId, score: Score) {
        let mut passed = 0u64;
        for (i, gate) in self.gates.iter_mut().enumerate() {
            if gate.passes(doc) {
                passed |= 1 << i;
            }
        }
        if passed == self.all {
            self.inner.collect(doc, score);
        }
        for (facet, own) in &mut self.facets {
            if passed | *own == self.all {
                facet.collect(doc, score);
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        (self.inner.harvest(), self.facets.into_iter().map(|(c, _)| c.harvest()).collect())
    }
}

/// A search's gates: the clauses on disjunctive facets as queries, and each disjunctive facet
/// with the gates (by index) that are its own.
pub(super) type Gates = (Vec<Gate>, Vec<(Spec, Vec<usize>)>);

impl crate::ProductIndex {
    /// The gates of a search whose disjunctive facets are counted with its hits, and the
    /// clauses its query keeps. `None` without disjunctive facets, with `distinct` (whose groups
    /// are counted apart), or past [`MAX_GATES`]: the facets are then counted in passes of their own.
    pub(super) fn gates<'c>(
        &self,
        plan: &super::facets::FacetPlan,
        clauses: &'c [searchd_catalog::filter::Resolved],
        request: &searchd_catalog::SearchRequest,
    ) -> Option<(Gates, Vec<&'c searchd_catalog::filter::Resolved>)> {
        if plan.disjunctive.is_empty() || request.distinct.is_some() {
            return None;
        }
        let own = |i: usize| plan.disjunctive.iter().any(|(_, kept)| !kept.contains(&i));
        // The clauses on disjunctive facets and the number ranges, each as its gate.
        let (gated, queries): (Vec<usize>, Vec<Gate>) = clauses
            .iter()
            .enumerate()
            .filter_map(|(i, clause)| {
                let gate = match number_range(clause, plan.generation) {
                    Some(range) => range,
                    None if own(i) => keyword_gate(clause, plan.generation)
                        .unwrap_or_else(|| Gate::Query(self.filter_query(clause, plan.generation))),
                    None => return None,
                };
                Some((i, gate))
            })
            .unzip();
        if gated.len() > MAX_GATES {
            return None;
        }
        let facets = plan
            .disjunctive
            .iter()
            .map(|(spec, kept)| {
                let bits = gated.iter().enumerate().filter(|(_, i)| !kept.contains(i)).map(|(bit, _)| bit).collect();
                (spec.clone(), bits)
            })
            .collect();
        let kept = (0..clauses.len()).filter(|i| !gated.contains(i)).map(|i| &clauses[i]).collect();
        Some(((queries, facets), kept))
    }
}

/// `keyword IN [..]` (or `=`) on a declared keyword attribute as a gate on its column.
fn keyword_gate(clause: &Resolved, generation: u64) -> Option<Gate> {
    let Resolved::AnyOf(Field::Attribute(name, AttributeType::Keyword), values) = clause else { return None };
    let values: Option<Vec<String>> =
        values.iter().map(|v| if let Value::Text(t) = v { Some(t.clone()) } else { None }).collect();
    Some(Gate::Keyword { column: crate::schema::attr_column(generation, name), values: values? })
}

/// A range over a column of `f64`s as a gate: declared numbers and dates (held as `f64`
/// seconds) and the built-in price, rating and popularity. Whole-number fields (review counts,
/// update times) keep their queries, which round the bounds.
fn number_range(clause: &Resolved, generation: u64) -> Option<Gate> {
    let Resolved::Range(field, lower, upper) = clause else { return None };
    let column = match field {
        Field::Attribute(name, AttributeType::Number | AttributeType::Date) => {
            crate::schema::attr_column(generation, name)
        }
        Field::Builtin(b @ (Builtin::Price | Builtin::Rating | Builtin::Popularity)) => b.name().to_string(),
        _ => return None,
    };
    Some(Gate::Range { column, range: (*lower, *upper) })
}
