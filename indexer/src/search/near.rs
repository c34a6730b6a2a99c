//! Product search near a shopper: the documents [`NearOffers`](crate::NearOffers) found, per
//! product segment. The search keeps only them (a query clause, so facets count them alone
//! too), the sort keys `price` and `distance` read their best offer's, and each hit shows it.

use std::sync::Arc;

use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError};

use crate::any_term::DocList;
use crate::offers::near::NearDocs;

/// The documents of a [`NearDocs`], at a constant score.
#[derive(Debug, Clone)]
pub(crate) struct NearQuery(pub(crate) Arc<NearDocs>);

impl Query for NearQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(NearWeight(self.0.clone())))
    }
}

struct NearWeight(Arc<NearDocs>);

impl NearWeight {
    fn docs(&self, reader: &SegmentReader) -> DocList {
        DocList::new(self.0.get(&reader.segment_id()).map(|s| s.docs.clone()).unwrap_or_default())
    }
}

impl Weight for NearWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ConstScorer::new(self.docs(reader), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(reader).seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("Document #({doc}) has no serving offer")));
        }
        Ok(Explanation::new("NearQuery", 1.0))
    }
}
