//! Product search near a shopper: the best serving offer per product ([`NearOffers`], from the
//! offer index) resolved to this searcher's documents. The search keeps only those documents
//! (a query clause, so facets count them alone too), and the sort keys `price` and `distance`
//! read the best offer's.

use std::collections::HashMap;
use std::sync::Arc;

use searchd_catalog::near::OfferKey;
use tantivy::index::SegmentId;
use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED, TantivyError, Term};

use crate::any_term::DocList;
use crate::{NearOffers, Result};

/// One segment's products with a serving offer, by document, with that offer's key.
#[derive(Debug, Default)]
pub(crate) struct SegmentNear {
    docs: Vec<DocId>,
    keys: Vec<OfferKey>,
}

impl SegmentNear {
    /// The best serving offer's key of `doc`, when it has one.
    pub(crate) fn key(&self, doc: DocId) -> Option<&OfferKey> {
        self.docs.binary_search(&doc).ok().map(|i| &self.keys[i])
    }
}

/// [`SegmentNear`] per segment of one searcher.
#[derive(Debug, Default)]
pub(crate) struct NearDocs {
    segments: HashMap<SegmentId, Arc<SegmentNear>>,
}

impl NearDocs {
    /// The live documents of `searcher` holding the products of `offers` (by `id_field`).
    pub(crate) fn resolve(searcher: &Searcher, id_field: tantivy::schema::Field, offers: &NearOffers) -> Result<Self> {
        let mut segments = HashMap::with_capacity(searcher.segment_readers().len());
        for segment in searcher.segment_readers() {
            let index = segment.inverted_index(id_field)?;
            let alive = segment.alive_bitset();
            let mut found: Vec<(DocId, OfferKey)> = Vec::new();
            for (id, best) in &offers.best {
                let term = Term::from_field_text(id_field, id);
                let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? else { continue };
                while postings.doc() != TERMINATED {
                    if !alive.is_some_and(|a| a.is_deleted(postings.doc())) {
                        found.push((postings.doc(), best.key));
                    }
                    postings.advance();
                }
            }
            found.sort_unstable_by_key(|(doc, _)| *doc);
            let (docs, keys) = found.into_iter().unzip();
            segments.insert(segment.segment_id(), Arc::new(SegmentNear { docs, keys }));
        }
        Ok(Self { segments })
    }

    /// The segment's table.
    pub(crate) fn segment(&self, id: SegmentId) -> Option<&Arc<SegmentNear>> {
        self.segments.get(&id)
    }
}

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
        DocList::new(self.0.segment(reader.segment_id()).map(|s| s.docs.clone()).unwrap_or_default())
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
