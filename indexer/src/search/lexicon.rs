//! One search's term look-ups, each made once. A query word is looked up in the term dictionary
//! of every text field many times over: whether it is common, whether it is rare enough for
//! typos, its document frequency for each BM25 weight, its postings in phase 1, the same
//! frequencies and postings again for phase 2's features. Each look-up walks a segment's FST.
//! [`Lexicon`] keeps each term's per-segment [`TermInfo`] for the search that made it, so the
//! postings are opened from the kept info and the frequency is their sum, as
//! [`Searcher::doc_freq`] computes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::postings::{SegmentPostings, TermInfo};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, SegmentReader, Term};

/// A term in each segment of the searcher, and its documents over all of them.
#[derive(Debug)]
struct Looked {
    /// By segment ordinal; `None` where the segment does not have the term.
    infos: Box<[Option<TermInfo>]>,
    doc_freq: u64,
}

/// The term look-ups of one searcher, kept for one search.
#[derive(Debug)]
pub(crate) struct Lexicon {
    searcher: Searcher,
    segments: Box<[SegmentId]>,
    seen: Mutex<HashMap<Term, Arc<Looked>>>,
}

impl Lexicon {
    /// Nothing looked up yet in `searcher`'s segments.
    pub(crate) fn new(searcher: &Searcher) -> Arc<Self> {
        Arc::new(Self {
            searcher: searcher.clone(),
            segments: searcher.segment_readers().iter().map(SegmentReader::segment_id).collect(),
            seen: Mutex::new(HashMap::with_capacity(64)),
        })
    }

    /// Whether `searcher` reads the same segments (so this lexicon's look-ups hold for it).
    pub(crate) fn serves(&self, searcher: &Searcher) -> bool {
        let readers = searcher.segment_readers();
        readers.len() == self.segments.len() && readers.iter().zip(&*self.segments).all(|(r, id)| r.segment_id() == *id)
    }

    fn looked(&self, term: &Term) -> tantivy::Result<Arc<Looked>> {
        if let Some(looked) = self.seen.lock().ok().and_then(|seen| seen.get(term).cloned()) {
            return Ok(looked);
        }
        let mut doc_freq = 0;
        let infos = self
            .searcher
            .segment_readers()
            .iter()
            .map(|segment| {
                let info = segment.inverted_index(term.field())?.get_term_info(term)?;
                doc_freq += info.as_ref().map_or(0, |i| u64::from(i.doc_freq));
                Ok(info)
            })
            .collect::<tantivy::Result<_>>()?;
        let looked = Arc::new(Looked { infos, doc_freq });
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(term.clone(), looked.clone());
        }
        Ok(looked)
    }

    /// The searcher's documents, deleted ones left out.
    pub(crate) fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// The documents holding `term` in all segments, as [`Searcher::doc_freq`] counts them.
    pub(crate) fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(self.looked(term)?.doc_freq)
    }

    /// `term`'s postings in `segment`, as [`tantivy::InvertedIndexReader::read_postings`] reads
    /// them (a segment of another searcher is looked up directly).
    pub(crate) fn postings(
        &self,
        segment: &SegmentReader,
        term: &Term,
        option: IndexRecordOption,
    ) -> tantivy::Result<Option<SegmentPostings>> {
        let index = segment.inverted_index(term.field())?;
        let Some(ord) = self.segments.iter().position(|id| *id == segment.segment_id()) else {
            return Ok(index.read_postings(term, option)?);
        };
        let looked = self.looked(term)?;
        match &looked.infos[ord] {
            Some(info) => Ok(Some(index.read_postings_from_terminfo(info, option)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::postings::Postings;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{DocSet, Index, IndexWriter, TERMINATED, TantivyDocument};

    use super::*;

    fn docs_of(mut postings: SegmentPostings) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        while postings.doc() != TERMINATED {
            out.push((postings.doc(), postings.term_freq()));
            postings.advance();
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Frequencies and postings as the searcher and the segments give them, asked once or
        /// twice, in every segment; a searcher over other segments is not served.
        #[test]
        fn look_ups_are_the_searchers(
            docs in proptest::collection::vec(proptest::collection::vec("[abc]{1,2}", 1..6), 1..80),
            probes in proptest::collection::vec("[abcd]{1,2}", 1..10),
        ) {
            let mut schema = Schema::builder();
            let field = schema.add_text_field("w", TEXT);
            let index = Index::create_in_ram(schema.build());
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            for (i, words) in docs.iter().enumerate() {
                writer.add_document(tantivy::doc!(field => words.join(" "))).unwrap();
                if i % 25 == 24 {
                    writer.commit().unwrap(); // several segments
                }
            }
            writer.commit().unwrap();
            let reader = index.reader().unwrap();
            let searcher = reader.searcher();
            let lexicon = Lexicon::new(&searcher);
            prop_assert!(lexicon.serves(&searcher));
            for _ in 0..2 {
                for probe in &probes {
                    let term = Term::from_field_text(field, probe);
                    prop_assert_eq!(lexicon.doc_freq(&term).unwrap(), searcher.doc_freq(&term).unwrap());
                    for segment in searcher.segment_readers() {
                        let ours = lexicon.postings(segment, &term, IndexRecordOption::WithFreqs).unwrap();
                        let theirs = segment.inverted_index(field).unwrap().read_postings(&term, IndexRecordOption::WithFreqs).unwrap();
                        prop_assert_eq!(ours.map(docs_of), theirs.map(docs_of));
                    }
                }
            }
            writer.add_document(TantivyDocument::default()).unwrap();
            writer.commit().unwrap();
            reader.reload().unwrap();
            prop_assert!(!lexicon.serves(&reader.searcher()), "a new segment is not served");
        }
    }
}
