//! What a tenant (a caller whose key carries a filter) may see besides searches: which of some
//! products it may read, and whether a suggestion finds anything for it.

use std::collections::HashSet;

use searchd_catalog::filter::Filter;
use searchd_catalog::{RankingMode, SearchRequest};
use tantivy::Term;
use tantivy::collector::{Count, DocSetCollector};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::{ProductIndex, Result};

impl ProductIndex {
    /// Of `ids`, those of live products `filter` holds for, as of the last commit; the error
    /// names `tenant` when the filter does not apply to the served settings.
    pub fn visible(&self, filter: &Filter, ids: &[&str]) -> Result<HashSet<String>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let request = SearchRequest { tenant: Some(filter.clone()), ..SearchRequest::default() };
        let (searcher, served) = self.view();
        let Some(clause) = request.tenant_clause(&served.settings.attributes)? else { return Ok(HashSet::new()) };
        let any_id: Vec<(Occur, Box<dyn Query>)> = ids
            .iter()
            .map(|id| {
                let term = Term::from_field_text(self.fields.id, id);
                (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>)
            })
            .collect();
        let query = BooleanQuery::new(vec![
            (Occur::Must, Box::new(BooleanQuery::new(any_id)) as Box<dyn Query>),
            (Occur::Must, self.filter_query(&clause, served.generation)),
        ]);
        let found = searcher.search(&query, &DocSetCollector)?;
        Ok(self.ids(&searcher, found.into_iter())?.into_iter().flatten().collect())
    }

    /// How many products a search of `q` finds under the tenant filter `filter` (and
    /// `extra`, when given), without ranking them.
    pub fn count_for(&self, q: &str, filter: &Filter, extra: Option<Filter>) -> Result<u64> {
        let request = SearchRequest {
            q: q.to_string(),
            tenant: Some(filter.clone()),
            filter: extra,
            ranking: RankingMode::Bm25,
            ..SearchRequest::default()
        };
        let planned = self.plan(&request, None, &searchd_catalog::TextWeights::default(), super::Scope::default())?;
        Ok(planned.searcher.search(planned.query.as_ref(), &Count)? as u64)
    }
}
