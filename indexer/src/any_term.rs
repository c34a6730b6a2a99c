//! The documents holding any of a set of terms (product ids, geo cells), each at a constant
//! score. Tantivy's `TermSetQuery` compiles its terms into an FST on every search, and the FST
//! builder allocates and fills a registry of 20,000 cells (about a megabyte) however few the
//! terms are: a search with a rule hiding one product paid that three times. Here each term's
//! postings are read directly and their documents merged into a sorted list.

use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

/// The documents holding any of its terms (of any fields), scored by the boost alone, as
/// `ConstScoreQuery(TermSetQuery)` with a score of 1 is.
#[derive(Clone, Debug)]
pub(crate) struct AnyTermQuery {
    terms: Vec<Term>,
}

impl AnyTermQuery {
    /// The documents holding any of `terms`.
    pub(crate) fn new(terms: impl IntoIterator<Item = Term>) -> Self {
        let mut terms: Vec<Term> = terms.into_iter().collect();
        terms.sort_unstable();
        terms.dedup();
        Self { terms }
    }
}

impl Query for AnyTermQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AnyTermWeight { terms: self.terms.clone() }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in &self.terms {
            visitor(term, false);
        }
    }
}

struct AnyTermWeight {
    terms: Vec<Term>,
}

impl AnyTermWeight {
    fn docs(&self, reader: &SegmentReader) -> tantivy::Result<DocList> {
        let mut docs = Vec::new();
        for term in &self.terms {
            let index = reader.inverted_index(term.field())?;
            if let Some(mut postings) = index.read_postings(term, IndexRecordOption::Basic)? {
                while postings.doc() != TERMINATED {
                    docs.push(postings.doc());
                    postings.advance();
                }
            }
        }
        docs.sort_unstable();
        docs.dedup();
        Ok(DocList { docs, at: 0 })
    }
}

impl Weight for AnyTermWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ConstScorer::new(self.docs(reader)?, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(reader)?.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("Document #({doc}) does not match")));
        }
        Ok(Explanation::new("AnyTermQuery", 1.0))
    }
}

/// A sorted list of documents as a doc set.
pub(crate) struct DocList {
    docs: Vec<DocId>,
    at: usize,
}

impl DocList {
    /// The documents of a sorted, deduplicated list.
    pub(crate) fn new(docs: Vec<DocId>) -> Self {
        Self { docs, at: 0 }
    }
}

impl DocSet for DocList {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.at += self.docs[self.at..].partition_point(|&d| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at) as u32
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::collector::DocSetCollector;
    use tantivy::query::TermSetQuery;
    use tantivy::schema::{INDEXED, STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// The same documents as Tantivy's `TermSetQuery`, over several segments and two fields.
        #[test]
        fn finds_what_the_term_set_query_finds(
            docs in prop::collection::vec((0u64..40, 0usize..12), 1..300),
            asked in prop::collection::vec((any::<bool>(), 0u64..50), 0..12),
            per_segment in 1usize..100,
        ) {
            let mut builder = Schema::builder();
            let cell = builder.add_u64_field("cell", INDEXED);
            let id = builder.add_text_field("id", STRING);
            let index = Index::create_in_ram(builder.build());
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            for (i, (c, k)) in docs.iter().enumerate() {
                let mut doc = TantivyDocument::default();
                doc.add_u64(cell, *c);
                doc.add_text(id, format!("p{k}"));
                writer.add_document(doc).unwrap();
                if (i + 1) % per_segment == 0 {
                    writer.commit().unwrap();
                }
            }
            writer.commit().unwrap();
            let searcher = index.reader().unwrap().searcher();
            let terms: Vec<Term> = asked
                .iter()
                .map(|(by_cell, n)| {
                    if *by_cell { Term::from_field_u64(cell, *n) } else { Term::from_field_text(id, &format!("p{n}")) }
                })
                .collect();
            let ours = searcher.search(&AnyTermQuery::new(terms.clone()), &DocSetCollector).unwrap();
            let theirs = searcher.search(&TermSetQuery::new(terms), &DocSetCollector).unwrap();
            prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn seeks_and_advances_over_a_sorted_list() {
        let mut list = DocList { docs: vec![2, 5, 9], at: 0 };
        assert_eq!(list.doc(), 2);
        assert_eq!(list.seek(3), 5);
        assert_eq!(list.seek(5), 5);
        assert_eq!(list.advance(), 9);
        assert_eq!(list.seek(10), TERMINATED);
        assert_eq!(list.advance(), TERMINATED);
        assert_eq!(list.size_hint(), 0);
    }
}
