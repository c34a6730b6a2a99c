//! Settings tried before they go live: searches answered as the served index would answer them
//! under candidate settings, without serving them. Only what applies at query time can be
//! previewed (synonyms, stop words, weights of searchable attributes, uses of held attributes): a change
//! that holds attributes differently needs every product written again first.

use std::sync::Arc;

use searchd_catalog::{Ranker, SearchRequest, SearchResponse, Settings};

use super::{KeptRules, KeptStopWords, KeptSynonyms};
use crate::settings::Served;
use crate::{Error, ProductIndex, Result, ScoredId};

/// Candidate settings over the served index (see the module's notes).
#[derive(Debug)]
pub struct Preview<'a> {
    index: &'a ProductIndex,
    served: Arc<Served>,
    /// The candidate's synonyms, stop words and rules compiled, apart from the served ones.
    synonyms: KeptSynonyms,
    stop_words: KeptStopWords,
    rules: KeptRules,
}

/// What a search runs under instead of the served settings.
#[derive(Clone, Copy)]
pub(super) struct Under<'a> {
    served: &'a Arc<Served>,
    pub(super) synonyms: &'a KeptSynonyms,
    pub(super) stop_words: &'a KeptStopWords,
    pub(super) rules: &'a KeptRules,
}

impl Under<'_> {
    /// The candidate settings, for a searcher whose commit is complete for `served`: the
    /// candidate's attribute values are those the served settings wrote.
    pub(super) fn served(&self, served: &Served) -> Result<Arc<Served>> {
        if served.generation != self.served.generation {
            return Err(Error::Input(
                "the index was written again under other settings since the preview began".into(),
            ));
        }
        Ok(self.served.clone())
    }
}

impl ProductIndex {
    /// A preview of `next` over this index: refused when `next` is invalid or holds attributes
    /// differently from the served settings (the error says which).
    pub fn preview(&self, next: Settings) -> Result<Preview<'_>> {
        crate::settings::check_settings(&next).map_err(Error::Input)?;
        let current = self.settings();
        if next.needs_reindex(&current.settings) {
            return Err(Error::Input(
                "attributes: the change holds attributes differently, so it writes every product again and cannot \
                 be previewed; preview what applies at query time (synonyms, weights, uses)"
                    .into(),
            ));
        }
        let served = Arc::new(Served { settings: next, generation: current.generation });
        Ok(Preview {
            index: self,
            served,
            synonyms: KeptSynonyms::default(),
            stop_words: KeptStopWords::default(),
            rules: KeptRules::default(),
        })
    }
}

impl Preview<'_> {
    /// The candidate settings.
    pub fn settings(&self) -> &Settings {
        &self.served.settings
    }

    fn under(&self) -> Under<'_> {
        Under { served: &self.served, synonyms: &self.synonyms, stop_words: &self.stop_words, rules: &self.rules }
    }

    /// [`ProductIndex::search`] under the candidate settings.
    pub fn search(&self, request: &SearchRequest, ranker: &Ranker) -> Result<SearchResponse> {
        self.index.search_under(request, ranker, super::Scope::preview(self.under()))
    }

    /// [`ProductIndex::search_ids`] under the candidate settings.
    pub fn search_ids(&self, request: &SearchRequest, ranker: &Ranker) -> Result<Vec<ScoredId>> {
        self.index.search_ids_under(request, ranker, super::Scope::preview(self.under()))
    }
}
