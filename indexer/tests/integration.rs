//! Integration tests of the indexer: one binary, submodules by area.

mod currency;
mod custom_signals;
mod did_you_mean;
mod facets;
mod filters;
mod language;
mod offers;
mod rfis;
mod rules;
mod searchable;
mod settings;
mod signals;
mod stop_words;
mod synonyms;
mod typos;
mod upsert;
mod vendor_filters;
mod vendors;

use std::sync::Arc;

use searchd_catalog::{Product, Ranker, SearchRequest};
use searchd_indexer::{IndexConfig, ProductIndex};
use searchd_ranking::{DefaultScorer, RankingConfig};

pub fn scorer() -> Ranker {
    Ranker::first_phase(Arc::new(DefaultScorer::new(RankingConfig::default())))
}

pub fn index_of(products: impl IntoIterator<Item = Product>) -> ProductIndex {
    let index = ProductIndex::in_memory(IndexConfig::small()).unwrap();
    let prepared = products.into_iter().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared(prepared).unwrap();
    index.commit().unwrap();
    index
}

pub fn ids(index: &ProductIndex, q: &str) -> Vec<String> {
    let request = SearchRequest { q: q.into(), per_page: 100, ..SearchRequest::default() };
    index.search(&request, &scorer()).unwrap().hits.into_iter().map(|h| h.product.id).collect()
}
