//! The settings' stop words at query time (see [`searchd_catalog::stop_words`]): each declared
//! language's list over the default lists the engine holds (NLTK's, from the `stop-words`
//! crate), kept for the settings version that declared them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use searchd_catalog::stop_words::{StopWords, effective};

use crate::analysis::{Language, QueryTerm};

/// One settings version's stop words by language code.
#[derive(Debug)]
pub(crate) struct StopWordTable {
    version: u64,
    by_language: HashMap<String, HashSet<String>>,
}

impl StopWordTable {
    fn new(version: u64, lists: &StopWords) -> Self {
        let by_language = lists
            .iter()
            .filter_map(|(code, list)| {
                let language = Language::from_code(code)?;
                let defaults = stop_words::lookup(language.code()).unwrap_or(&[]);
                Some((language.code().to_string(), effective(list, defaults)))
            })
            .collect();
        Self { version, by_language }
    }

    /// Which of `terms` (a query in `language`) are stop words; none when all are.
    pub(crate) fn flags(&self, terms: &[QueryTerm], language: Language) -> Vec<bool> {
        let Some(words) = self.by_language.get(language.code()) else {
            return vec![false; terms.len()];
        };
        let flags: Vec<bool> = terms.iter().map(|t| words.contains(&t.exact)).collect();
        if flags.iter().all(|&f| f) { vec![false; terms.len()] } else { flags }
    }
}

/// The stop words of the served settings, compiled again when the settings change.
#[derive(Debug, Default)]
pub(crate) struct KeptStopWords {
    table: Mutex<Option<Arc<StopWordTable>>>,
}

impl KeptStopWords {
    /// The table of settings `version` declaring `lists` (`None` without any).
    pub(crate) fn table(&self, version: u64, lists: &StopWords) -> Option<Arc<StopWordTable>> {
        if lists.is_empty() {
            return None;
        }
        let mut kept = self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*kept {
            Some(table) if table.version == version => Some(table.clone()),
            _ => {
                let table = Arc::new(StopWordTable::new(version, lists));
                *kept = Some(table.clone());
                Some(table)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use searchd_catalog::stop_words::StopWordList;

    use super::*;
    use crate::analysis::Analyzer;

    #[test]
    fn a_querys_stop_words_unless_it_has_nothing_else() {
        let mut lists = StopWords::new();
        lists.insert("en".into(), StopWordList { remove: vec!["not".into()], ..Default::default() });
        let table = StopWordTable::new(1, &lists);
        let analyzer = Analyzer::new(Language::ENGLISH);
        let flags = |q: &str, language| table.flags(&analyzer.query_terms(q, language), language);
        assert_eq!(flags("drill for the wood", Language::ENGLISH), [false, true, true, false]);
        assert_eq!(flags("not for kids", Language::ENGLISH), [false, true, false]);
        assert_eq!(flags("to be or", Language::ENGLISH), [false, false, false], "only stop words: all searched");
        let german = Language::from_code("de").unwrap();
        assert_eq!(flags("drill for", german), [false, false], "no German list declared");
    }
}
