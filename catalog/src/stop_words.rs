//! Stop words, as the settings declare them per language: a language's list is its default
//! list (NLTK's, which the engine holds) or none, plus the words added, minus those removed. A
//! query's stop words only score the products its other words find, as Lucene's common-terms
//! query treats frequent words: they never widen a search, and a title holding the query as
//! typed ("bed and breakfast") still earns them. A query of stop words only searches them all.
//!
//! ```
//! use searchd_catalog::stop_words::{StopWordList, effective};
//!
//! let list = StopWordList { defaults: true, add: vec!["approx".into()], remove: vec!["not".into()] };
//! let words = effective(&list, &["the", "not", "with"]);
//! assert!(words.contains("approx") && words.contains("with") && !words.contains("not"));
//! ```

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::text::{fold, tokenize};

/// Most words added or removed in one language.
pub const MAX_STOP_WORDS: usize = 10_000;

/// Stop words by language (an ISO 639-1 code).
pub type StopWords = BTreeMap<String, StopWordList>;

/// One language's stop words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopWordList {
    /// Start from the language's default list (`true` unless said otherwise).
    #[serde(default = "yes")]
    pub defaults: bool,
    /// Words that are stop words besides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
    /// Words of the default list that are not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for StopWordList {
    fn default() -> Self {
        Self { defaults: true, add: Vec::new(), remove: Vec::new() }
    }
}

/// Checks the lists; the error names the entry at fault (`stop_words.en.add[2]: …`).
/// `known_language` says whether a code is one the engine analyses.
pub fn validate(lists: &StopWords, known_language: &dyn Fn(&str) -> bool) -> Result<(), String> {
    for (lang, list) in lists {
        let at = format!("stop_words.{lang}");
        if !known_language(lang) {
            return Err(format!("{at}: unknown language `{lang}` (an ISO 639-1 code such as `en`)"));
        }
        for (key, words) in [("add", &list.add), ("remove", &list.remove)] {
            if words.len() > MAX_STOP_WORDS {
                return Err(format!("{at}.{key}: at most {MAX_STOP_WORDS} words, {} given", words.len()));
            }
            for (i, word) in words.iter().enumerate() {
                if tokenize(word).count() != 1 {
                    return Err(format!("{at}.{key}[{i}]: `{word}` is not one word"));
                }
            }
        }
    }
    Ok(())
}

/// The stop words of `list` over the language's `defaults`, folded as a query's words are.
pub fn effective(list: &StopWordList, defaults: &[&str]) -> HashSet<String> {
    let folded = |words: &mut dyn Iterator<Item = &str>| -> HashSet<String> {
        words.flat_map(|w| tokenize(w).map(|t| fold(t.text)).collect::<Vec<_>>()).collect()
    };
    let removed = folded(&mut list.remove.iter().map(String::as_str));
    let mut words = if list.defaults { folded(&mut defaults.iter().copied()) } else { HashSet::new() };
    words.extend(folded(&mut list.add.iter().map(String::as_str)));
    words.retain(|w| !removed.contains(w));
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_start_from_the_defaults_or_not() {
        let none = StopWordList { defaults: false, add: vec!["Über".into()], remove: Vec::new() };
        assert_eq!(effective(&none, &["the"]), HashSet::from(["uber".to_string()]));
        let parsed: StopWordList = serde_json::from_str("{}").unwrap();
        assert!(parsed.defaults, "the defaults unless said otherwise");
    }

    #[test]
    fn errors_name_the_language_and_word_at_fault() {
        let known = |l: &str| l == "en";
        let mut lists = StopWords::new();
        lists.insert("en".into(), StopWordList { add: vec!["fine".into(), "two words".into()], ..Default::default() });
        assert_eq!(validate(&lists, &known).unwrap_err(), "stop_words.en.add[1]: `two words` is not one word");
        let mut lists = StopWords::new();
        lists.insert("xx".into(), StopWordList::default());
        assert!(validate(&lists, &known).unwrap_err().starts_with("stop_words.xx: unknown language"));
    }
}
