//! Synonyms, as the settings declare them: multi-way sets ("sofa, couch, settee": each finds the
//! others) and one-way ones ("phone" also finds "smartphone", not the reverse), each phrase one
//! or a few words, for every language or one. They apply at query time (nothing is written
//! again): a query word, or a run of query words, that is a phrase's input also matches the
//! phrase's alternatives. The format follows Algolia's synonym records: `synonyms` alone is
//! multi-way, with `input` it is one-way.
//!
//! ```
//! use searchd_catalog::synonyms::{SynonymSet, rules};
//!
//! let sets = vec![
//!     SynonymSet { input: None, synonyms: vec!["sofa".into(), "Couch".into()], lang: None },
//!     SynonymSet { input: Some("TV".into()), synonyms: vec!["television set".into()], lang: Some("en".into()) },
//! ];
//! let rules = rules(&sets);
//! assert_eq!(rules.len(), 3); // sofa → couch, couch → sofa, tv → television set
//! assert_eq!(rules[2].input, ["tv"]);
//! assert_eq!(rules[2].alternatives, [vec!["television".to_string(), "set".to_string()]]);
//! ```

use serde::{Deserialize, Serialize};

use crate::text::{fold, tokenize};

/// Most synonym sets one index may declare.
pub const MAX_SYNONYM_SETS: usize = 10_000;
/// Most phrases in one set.
pub const MAX_PHRASES: usize = 32;
/// Most words in one phrase.
pub const MAX_PHRASE_WORDS: usize = 4;

/// One synonym record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SynonymSet {
    /// One-way: the phrase that also finds `synonyms` (they do not find it). Absent: every
    /// phrase of `synonyms` finds every other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The phrases (a word or a few).
    pub synonyms: Vec<String>,
    /// Only for queries in this language (an ISO 639-1 code); absent: every language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl SynonymSet {
    /// A multi-way set: each of `phrases` finds the others.
    pub fn multi_way(phrases: &[&str]) -> Self {
        Self { input: None, synonyms: phrases.iter().map(|p| p.to_string()).collect(), lang: None }
    }

    /// A one-way set: `input` also finds `synonyms`.
    pub fn one_way(input: &str, synonyms: &[&str]) -> Self {
        Self { input: Some(input.to_string()), ..Self::multi_way(synonyms) }
    }

    /// The set for queries in `lang` only.
    pub fn in_language(self, lang: &str) -> Self {
        Self { lang: Some(lang.to_string()), ..self }
    }
}

/// What one phrase finds besides itself, in words folded as a query's words are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymRule {
    /// The phrase's words.
    pub input: Vec<String>,
    /// The phrases it also finds, each its words.
    pub alternatives: Vec<Vec<String>>,
    /// The language it holds for (`None`: every one).
    pub lang: Option<String>,
}

/// A phrase's words, tokenized and folded as a query's words are.
pub fn phrase_words(phrase: &str) -> Vec<String> {
    tokenize(phrase).map(|t| fold(t.text)).collect()
}

/// Checks the sets; the error names the one at fault (`synonyms[3].synonyms[1]: …`).
/// `known_language` says whether a language code is one the engine analyses.
pub fn validate(sets: &[SynonymSet], known_language: &dyn Fn(&str) -> bool) -> Result<(), String> {
    if sets.len() > MAX_SYNONYM_SETS {
        return Err(format!("synonyms: at most {MAX_SYNONYM_SETS} sets, {} given", sets.len()));
    }
    for (i, set) in sets.iter().enumerate() {
        let at = format!("synonyms[{i}]");
        let least = if set.input.is_some() { 1 } else { 2 };
        if set.synonyms.len() < least {
            return Err(match set.input {
                Some(_) => format!("{at}.synonyms: a one-way set names at least one synonym of its input"),
                None => format!("{at}.synonyms: a set names at least two phrases (with `input`, one-way)"),
            });
        }
        if set.synonyms.len() > MAX_PHRASES {
            return Err(format!("{at}.synonyms: at most {MAX_PHRASES} phrases, {} given", set.synonyms.len()));
        }
        let phrases = set
            .input
            .iter()
            .map(|p| (format!("{at}.input"), p))
            .chain(set.synonyms.iter().enumerate().map(|(j, p)| (format!("{at}.synonyms[{j}]"), p)));
        for (key, phrase) in phrases {
            let words = phrase_words(phrase);
            if words.is_empty() {
                return Err(format!("{key}: `{phrase}` has no words"));
            }
            if words.len() > MAX_PHRASE_WORDS {
                return Err(format!("{key}: `{phrase}` has {} words, at most {MAX_PHRASE_WORDS}", words.len()));
            }
        }
        if let Some(lang) = &set.lang {
            if !known_language(lang) {
                return Err(format!("{at}.lang: unknown language `{lang}` (an ISO 639-1 code such as `en`)"));
            }
        }
    }
    Ok(())
}

/// The sets as rules, one per phrase that finds others, in the sets' order: a multi-way set
/// gives each phrase the others, a one-way set its input the synonyms. A phrase that is
/// another's words is not its own alternative.
pub fn rules(sets: &[SynonymSet]) -> Vec<SynonymRule> {
    let mut out = Vec::new();
    for set in sets {
        let phrases: Vec<Vec<String>> = set.synonyms.iter().map(|p| phrase_words(p)).collect();
        let lang = set.lang.as_ref().map(|l| l.trim().to_ascii_lowercase());
        let mut add = |input: Vec<String>, others: &[Vec<String>]| {
            let mut alternatives: Vec<Vec<String>> = Vec::new();
            for other in others {
                if *other != input && !other.is_empty() && !alternatives.contains(other) {
                    alternatives.push(other.clone());
                }
            }
            if !input.is_empty() && !alternatives.is_empty() {
                out.push(SynonymRule { input, alternatives, lang: lang.clone() });
            }
        };
        match &set.input {
            Some(input) => add(phrase_words(input), &phrases),
            None => {
                for phrase in &phrases {
                    add(phrase.clone(), &phrases);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(input: Option<&str>, synonyms: &[&str], lang: Option<&str>) -> SynonymSet {
        let set = input.map_or_else(|| SynonymSet::multi_way(synonyms), |i| SynonymSet::one_way(i, synonyms));
        lang.map_or(set.clone(), |l| set.in_language(l))
    }

    #[test]
    fn multi_way_sets_give_each_phrase_the_others() {
        let rules = rules(&[set(None, &["Sofa", "couch", "settee", "couch"], None)]);
        let inputs: Vec<&str> = rules.iter().map(|r| r.input[0].as_str()).collect();
        assert_eq!(inputs, ["sofa", "couch", "settee", "couch"]);
        assert_eq!(rules[0].alternatives, [vec!["couch".to_string()], vec!["settee".to_string()]]);
        assert_eq!(rules[2].alternatives, [vec!["sofa".to_string()], vec!["couch".to_string()]]);
    }

    #[test]
    fn one_way_sets_only_find_from_their_input() {
        let rules = rules(&[set(Some("usb c"), &["usb-c", "Type-C"], Some("EN"))]);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].input, ["usb", "c"]);
        // "usb-c" is the input's own words: not an alternative.
        assert_eq!(rules[0].alternatives, [vec!["type".to_string(), "c".to_string()]]);
        assert_eq!(rules[0].lang.as_deref(), Some("en"));
    }

    #[test]
    fn errors_name_the_set_and_phrase_at_fault() {
        let known = |l: &str| l == "en";
        let cases = [
            (set(None, &["sofa"], None), "synonyms[1].synonyms: a set names at least two"),
            (set(Some("phone"), &[], None), "synonyms[1].synonyms: a one-way set"),
            (set(None, &["sofa", "  --  "], None), "synonyms[1].synonyms[1]: `  --  ` has no words"),
            (set(Some("a b c d e"), &["x"], None), "synonyms[1].input: `a b c d e` has 5 words"),
            (set(None, &["sofa", "couch"], Some("xx")), "synonyms[1].lang: unknown language `xx`"),
        ];
        for (bad, want) in cases {
            let error = validate(&[set(None, &["tv", "television"], None), bad], &known).unwrap_err();
            assert!(error.starts_with(want), "{error}");
        }
        assert!(validate(&[set(None, &["tv", "television"], Some("en"))], &known).is_ok());
    }
}
