//! The settings' synonyms at query time. A rule's input is found among the query's words — each
//! word as typed, by its stem, or (a rare word, likely misspelt) within its typo budget — and
//! each of the rule's alternatives then counts for those words: a one-word alternative as
//! another way to match each of them (in their DisMax, times `synonym`), a phrase as all of its
//! words together. Rules are kept compiled for the settings version that declared them.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use searchd_catalog::synonyms::{SynonymRule, SynonymSet, phrase_words, rules};
use searchd_catalog::typo::{bounded_distance, search_typo_budget};

use crate::analysis::{Analyzer, Language, QueryTerm};

/// A query's alternative: the query words it stands for, and its own words analysed as the
/// query's are.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Alternative {
    pub(crate) span: Range<usize>,
    pub(crate) words: Vec<QueryTerm>,
}

impl Alternative {
    /// Its words as one phrase (as the settings wrote it, folded).
    pub(crate) fn phrase(&self) -> String {
        self.words.iter().map(|w| w.exact.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// The rules of one settings version, by their input's first word.
#[derive(Debug)]
pub(crate) struct SynonymTable {
    version: u64,
    rules: Vec<SynonymRule>,
    /// Stems of each rule's input words, in its language (the index's default without one).
    stems: Vec<Vec<String>>,
    /// Rule indices by the input's first word, as written and as stemmed.
    by_first: HashMap<String, Vec<usize>>,
    /// The first words with a typo budget, and each one's budget.
    firsts: Vec<(String, u8)>,
    /// Indices into `firsts` by each of their forms with up to their budget of letters deleted:
    /// a word within `k` edits of a first word (a transposition counts one) shares a form with
    /// it with at most `k` letters deleted from each, so a misspelt query word's own deletions
    /// find its candidates without comparing it with every first word (symmetric deletion,
    /// as SymSpell looks words up).
    deletions: HashMap<String, Vec<u32>>,
    /// Every word of every declared phrase, folded.
    words: HashSet<String>,
}

impl SynonymTable {
    fn new(version: u64, sets: &[SynonymSet], analyzer: &Analyzer) -> Self {
        let rules = rules(sets);
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        let mut stems = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let language =
                rule.lang.as_deref().and_then(Language::from_code).unwrap_or_else(|| analyzer.default_language());
            let stemmed: Vec<String> = rule.input.iter().map(|w| language.stemmed_form(w)).collect();
            for key in [&rule.input[0], &stemmed[0]] {
                let entry = by_first.entry(key.clone()).or_default();
                if entry.last() != Some(&i) {
                    entry.push(i);
                }
            }
            stems.push(stemmed);
        }
        let mut firsts: Vec<(String, u8)> = by_first
            .keys()
            .map(|w| (w.clone(), search_typo_budget(w.chars().count())))
            .filter(|(_, budget)| *budget > 0)
            .collect();
        firsts.sort_unstable();
        let mut deletions: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, (word, budget)) in firsts.iter().enumerate() {
            for form in deleted(word, *budget) {
                deletions.entry(form).or_default().push(i as u32);
            }
        }
        let words = sets
            .iter()
            .flat_map(|set| set.input.iter().chain(&set.synonyms))
            .flat_map(|phrase| phrase_words(phrase))
            .collect();
        Self { version, rules, stems, by_first, firsts, deletions, words }
    }

    /// Whether `word` (folded) is a word of a declared phrase: a word the catalog may lack on
    /// purpose.
    pub(crate) fn declares(&self, word: &str) -> bool {
        self.words.contains(word)
    }

    /// Whether `rule` applies to query word `t` in `input` word `k`: as typed, by stem, or
    /// within the input word's typo budget when `typos` allows it.
    fn word_matches(&self, rule: usize, k: usize, t: &QueryTerm, typos: bool) -> bool {
        let word = &self.rules[rule].input[k];
        if *word == t.exact || self.stems[rule][k] == t.stem {
            return true;
        }
        let budget = search_typo_budget(word.chars().count());
        typos && budget > 0 && bounded_distance(&t.exact, word, budget).is_some()
    }

    /// The alternatives of `terms` (a query in `language`). `rare(i)` says whether query word
    /// `i` is rare enough to be a typo (only such words match an input within its budget).
    pub(crate) fn alternatives(
        &self,
        terms: &[QueryTerm],
        language: Language,
        analyzer: &Analyzer,
        rare: &dyn Fn(usize) -> bool,
    ) -> Vec<Alternative> {
        let code = language.code();
        let mut out: Vec<Alternative> = Vec::new();
        for start in 0..terms.len() {
            let typos = rare(start);
            let mut candidates: Vec<usize> = Vec::new();
            for key in [&terms[start].exact, &terms[start].stem] {
                candidates.extend(self.by_first.get(key.as_str()).into_iter().flatten());
            }
            if typos {
                // A misspelt first word: the inputs within their budget.
                let word = &terms[start].exact;
                let mut near: Vec<u32> = deleted(word, MAX_BUDGET)
                    .iter()
                    .filter_map(|form| self.deletions.get(form))
                    .flatten()
                    .copied()
                    .collect();
                near.sort_unstable();
                near.dedup();
                for i in near {
                    let (first, budget) = &self.firsts[i as usize];
                    if bounded_distance(word, first, *budget).is_some() {
                        candidates.extend(self.by_first.get(first).into_iter().flatten());
                    }
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            for rule in candidates {
                let r = &self.rules[rule];
                if r.lang.as_deref().is_some_and(|l| l != code) {
                    continue;
                }
                let span = start..start + r.input.len();
                if span.end > terms.len()
                    || !span.clone().all(|i| self.word_matches(rule, i - start, &terms[i], rare(i)))
                {
                    continue;
                }
                for alternative in &r.alternatives {
                    let words = analyzer.query_terms(&alternative.join(" "), language);
                    // Words the query already has find what they find.
                    if words.iter().all(|w| terms[span.clone()].iter().any(|t| t.exact == w.exact)) {
                        continue;
                    }
                    let found = Alternative { span: span.clone(), words };
                    if !out.contains(&found) {
                        out.push(found);
                    }
                }
            }
        }
        out
    }
}

/// The largest typo budget of a word (see [`search_typo_budget`]).
const MAX_BUDGET: u8 = 2;

/// `word` with up to `k` of its letters deleted, each form once (`word` itself included).
fn deleted(word: &str, k: u8) -> HashSet<String> {
    let mut forms = HashSet::from([word.to_string()]);
    let mut last = vec![word.to_string()];
    for _ in 0..k {
        let mut next = Vec::new();
        for form in &last {
            for (at, c) in form.char_indices() {
                let shorter = format!("{}{}", &form[..at], &form[at + c.len_utf8()..]);
                if forms.insert(shorter.clone()) {
                    next.push(shorter);
                }
            }
        }
        last = next;
    }
    forms
}

/// The compiled rules of the served settings, compiled again when the settings change.
#[derive(Debug, Default)]
pub(crate) struct KeptSynonyms {
    table: Mutex<Option<Arc<SynonymTable>>>,
}

impl KeptSynonyms {
    /// The table of settings `version` declaring `sets` (`None` without synonyms).
    pub(crate) fn table(&self, version: u64, sets: &[SynonymSet], analyzer: &Analyzer) -> Option<Arc<SynonymTable>> {
        if sets.is_empty() {
            return None;
        }
        let mut kept = self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*kept {
            Some(table) if table.version == version => Some(table.clone()),
            _ => {
                let table = Arc::new(SynonymTable::new(version, sets, analyzer));
                *kept = Some(table.clone());
                Some(table)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(input: Option<&str>, synonyms: &[&str], lang: Option<&str>) -> SynonymSet {
        let set = input.map_or_else(|| SynonymSet::multi_way(synonyms), |i| SynonymSet::one_way(i, synonyms));
        lang.map_or(set.clone(), |l| set.in_language(l))
    }

    fn found(sets: &[SynonymSet], q: &str, rare: bool) -> Vec<(Range<usize>, String)> {
        let analyzer = Analyzer::new(Language::ENGLISH);
        let table = SynonymTable::new(1, sets, &analyzer);
        let terms = analyzer.query_terms(q, Language::ENGLISH);
        table
            .alternatives(&terms, Language::ENGLISH, &analyzer, &|_| rare)
            .into_iter()
            .map(|a| (a.span.clone(), a.phrase()))
            .collect()
    }

    #[test]
    fn words_and_runs_of_words_find_their_alternatives() {
        let sets = [
            set(None, &["sofa", "couch", "settee"], None),
            set(Some("usb c"), &["type c"], None),
            set(Some("tv"), &["television"], Some("de")),
        ];
        assert_eq!(found(&sets, "leather couch", false), [(1..2, "sofa".into()), (1..2, "settee".into())]);
        // By stem: "sofas" is "sofa".
        assert_eq!(found(&sets, "sofas", false), [(0..1, "couch".into()), (0..1, "settee".into())]);
        assert_eq!(found(&sets, "usb c cable", false), [(0..2, "type c".into())]);
        assert_eq!(found(&sets, "c usb", false), []);
        // One-way, and for German queries only.
        assert_eq!(found(&sets, "type c", false), []);
        assert_eq!(found(&sets, "tv", false), []);
    }

    proptest::proptest! {
        /// The deletion forms find exactly the first words a comparison with each finds.
        #[test]
        fn misspelt_words_find_the_first_words_within_their_budget(
            words in proptest::collection::vec("[abcdé]{1,9}", 1..40),
            query in "[abcdé]{1,9}",
        ) {
            let analyzer = Analyzer::new(Language::ENGLISH);
            let sets: Vec<SynonymSet> =
                words.iter().map(|w| SynonymSet::one_way(w, &["zzzz"])).collect();
            let table = SynonymTable::new(1, &sets, &analyzer);
            let terms = analyzer.query_terms(&query, Language::ENGLISH);
            let found: HashSet<String> = table
                .alternatives(&terms, Language::ENGLISH, &analyzer, &|_| true)
                .into_iter()
                .map(|a| a.span.len().to_string())
                .collect();
            let near = terms.len() == 1 && table.rules.iter().enumerate().any(|(rule, _)| {
                table.word_matches(rule, 0, &terms[0], true)
            });
            proptest::prop_assert_eq!(!found.is_empty(), near);
        }
    }

    #[test]
    fn a_rare_word_finds_an_input_within_its_typo_budget() {
        let sets = [set(None, &["sofa", "couch"], None)];
        assert_eq!(found(&sets, "couhc", true), [(0..1, "sofa".into())]);
        assert_eq!(found(&sets, "couhc", false), []);
        // Four letters have no typo budget.
        assert_eq!(found(&sets, "sofe", true), []);
    }
}
