//! Language detection (whatlang) and per-language stemming (rust-stemmers).
//!
//! Every text field is indexed twice: an *exact* variant (lowercased, diacritics folded) and a
//! *stemmed* variant (stemmed in the document's language, then folded). Both are handed to Tantivy
//! pre-tokenized, so one stemmed field can hold documents of many languages, each stemmed with
//! its own algorithm, and queries are stemmed with the query's language.

use std::fmt;

use rust_stemmers::{Algorithm, Stemmer};
use searchd_catalog::{fold_into, tokenize};
use tantivy::tokenizer::{PreTokenizedString, Token};
use whatlang::Lang;

/// Tokens longer than this (in bytes) are dropped, as Tantivy's `RemoveLongFilter` does.
const MAX_TOKEN_BYTES: usize = 64;

/// ISO 639-1 code for every language whatlang detects.
const ISO_639_1: &[(Lang, &str)] = &[
    (Lang::Epo, "eo"), (Lang::Eng, "en"), (Lang::Rus, "ru"), (Lang::Cmn, "zh"), (Lang::Spa, "es"),
    (Lang::Por, "pt"), (Lang::Ita, "it"), (Lang::Ben, "bn"), (Lang::Fra, "fr"), (Lang::Deu, "de"),
    (Lang::Ukr, "uk"), (Lang::Kat, "ka"), (Lang::Ara, "ar"), (Lang::Hin, "hi"), (Lang::Jpn, "ja"),
    (Lang::Heb, "he"), (Lang::Yid, "yi"), (Lang::Pol, "pl"), (Lang::Amh, "am"), (Lang::Jav, "jv"),
    (Lang::Kor, "ko"), (Lang::Nob, "nb"), (Lang::Dan, "da"), (Lang::Swe, "sv"), (Lang::Fin, "fi"),
    (Lang::Tur, "tr"), (Lang::Nld, "nl"), (Lang::Hun, "hu"), (Lang::Ces, "cs"), (Lang::Ell, "el"),
    (Lang::Bul, "bg"), (Lang::Bel, "be"), (Lang::Mar, "mr"), (Lang::Kan, "kn"), (Lang::Ron, "ro"),
    (Lang::Slv, "sl"), (Lang::Hrv, "hr"), (Lang::Srp, "sr"), (Lang::Mkd, "mk"), (Lang::Lit, "lt"),
    (Lang::Lav, "lv"), (Lang::Est, "et"), (Lang::Tam, "ta"), (Lang::Vie, "vi"), (Lang::Urd, "ur"),
    (Lang::Tha, "th"), (Lang::Guj, "gu"), (Lang::Uzb, "uz"), (Lang::Pan, "pa"), (Lang::Aze, "az"),
    (Lang::Ind, "id"), (Lang::Tel, "te"), (Lang::Pes, "fa"), (Lang::Mal, "ml"), (Lang::Ori, "or"),
    (Lang::Mya, "my"), (Lang::Nep, "ne"), (Lang::Sin, "si"), (Lang::Khm, "km"), (Lang::Tuk, "tk"),
    (Lang::Aka, "ak"), (Lang::Zul, "zu"), (Lang::Sna, "sn"), (Lang::Afr, "af"), (Lang::Lat, "la"),
    (Lang::Slk, "sk"), (Lang::Cat, "ca"), (Lang::Tgl, "tl"), (Lang::Hye, "hy"), (Lang::Cym, "cy"),
];

/// A language the engine knows: detectable, and stemmable when rust-stemmers has an algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language(Lang);

impl Language {
    pub const ENGLISH: Language = Language(Lang::Eng);

    /// Parses an ISO 639-1 (`de`) or ISO 639-3 (`deu`) code; `no` is taken as Norwegian Bokmål.
    pub fn from_code(code: &str) -> Option<Language> {
        let code = code.trim().to_ascii_lowercase();
        let code = if code == "no" { "nb" } else { code.as_str() };
        ISO_639_1
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(l, _)| Language(*l))
            .or_else(|| Lang::from_code(code).map(Language))
    }

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        ISO_639_1.iter().find(|(l, _)| *l == self.0).map_or("und", |(_, c)| c)
    }

    pub fn english_name(self) -> &'static str {
        self.0.eng_name()
    }

    /// The Snowball algorithm for this language, if rust-stemmers has one.
    fn algorithm(self) -> Option<Algorithm> {
        Some(match self.0 {
            Lang::Ara => Algorithm::Arabic,
            Lang::Dan => Algorithm::Danish,
            Lang::Nld => Algorithm::Dutch,
            Lang::Eng => Algorithm::English,
            Lang::Fin => Algorithm::Finnish,
            Lang::Fra => Algorithm::French,
            Lang::Deu => Algorithm::German,
            Lang::Ell => Algorithm::Greek,
            Lang::Hun => Algorithm::Hungarian,
            Lang::Ita => Algorithm::Italian,
            Lang::Nob => Algorithm::Norwegian,
            Lang::Por => Algorithm::Portuguese,
            Lang::Ron => Algorithm::Romanian,
            Lang::Rus => Algorithm::Russian,
            Lang::Spa => Algorithm::Spanish,
            Lang::Swe => Algorithm::Swedish,
            Lang::Tam => Algorithm::Tamil,
            Lang::Tur => Algorithm::Turkish,
            _ => return None,
        })
    }

    pub fn has_stemmer(self) -> bool {
        self.algorithm().is_some()
    }

    /// Every language with a stemmer (18 with rust-stemmers 1.2).
    pub fn stemmed() -> impl Iterator<Item = Language> {
        Lang::all().iter().map(|l| Language(*l)).filter(|l| l.has_stemmer())
    }

    /// Stems one lowercased word.
    pub fn stem(self, lowercase_word: &str) -> String {
        match self.algorithm() {
            Some(algorithm) => Stemmer::create(algorithm).stem(lowercase_word).into_owned(),
            None => lowercase_word.to_owned(),
        }
    }
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Picks the language of documents and queries.
#[derive(Debug, Clone)]
pub struct Analyzer {
    default: Language,
}

impl Analyzer {
    pub fn new(default: Language) -> Self {
        Self { default }
    }

    pub fn default_language(&self) -> Language {
        self.default
    }

    /// The detected language when whatlang is confident, else `None`.
    pub fn detect(&self, text: &str) -> Option<Language> {
        let info = whatlang::detect(text)?;
        info.is_reliable().then_some(Language(info.lang()))
    }

    /// The language of a text: the declared one when valid, else the detected one when the
    /// detection is reliable, else the default. Short texts (queries, bare titles) rarely are.
    pub fn resolve(&self, declared: Option<&str>, text: &str) -> Language {
        declared
            .and_then(Language::from_code)
            .or_else(|| self.detect(text))
            .unwrap_or(self.default)
    }

    /// Exact and stemmed token streams of one text field, ready for Tantivy.
    pub fn analyze(&self, text: &str, language: Language) -> (PreTokenizedString, PreTokenizedString) {
        let stemmer = language.algorithm().map(Stemmer::create);
        let mut exact = Vec::new();
        let mut stemmed = Vec::new();
        let mut lower = String::new();
        for (position, token) in tokenize(text).enumerate() {
            if token.text.len() > MAX_TOKEN_BYTES {
                continue;
            }
            let mut folded = String::with_capacity(token.text.len());
            fold_into(token.text, &mut folded);
            let stem = match &stemmer {
                Some(stemmer) => {
                    lower.clear();
                    lower.extend(token.text.chars().flat_map(char::to_lowercase));
                    let stem = stemmer.stem(&lower);
                    let mut folded_stem = String::with_capacity(stem.len());
                    fold_into(&stem, &mut folded_stem);
                    folded_stem
                }
                None => folded.clone(),
            };
            let make = |text| Token {
                offset_from: token.start,
                offset_to: token.end,
                position,
                text,
                position_length: 1,
            };
            stemmed.push(make(stem));
            exact.push(make(folded));
        }
        (
            PreTokenizedString { text: String::new(), tokens: exact },
            PreTokenizedString { text: String::new(), tokens: stemmed },
        )
    }

    /// The query's words, each as its exact and stemmed form.
    pub fn query_terms(&self, q: &str, language: Language) -> Vec<QueryTerm> {
        let (exact, stemmed) = self.analyze(q, language);
        let mut terms: Vec<QueryTerm> = Vec::with_capacity(exact.tokens.len());
        for (e, s) in exact.tokens.into_iter().zip(stemmed.tokens) {
            if terms.iter().any(|t| t.exact == e.text) {
                continue;
            }
            terms.push(QueryTerm { exact: e.text, stem: s.text });
        }
        terms
    }
}

/// One word of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// Lowercased, diacritics folded.
    pub exact: String,
    /// Stemmed in the query's language, then folded.
    pub stem: String,
}

impl QueryTerm {
    /// Typos tolerated for this word, as Meilisearch does: none under 5 letters, one from 5,
    /// two from 9.
    pub fn allowed_typos(&self) -> u8 {
        match self.exact.chars().count() {
            0..=4 => 0,
            5..=8 => 1,
            _ => 2,
        }
    }
}

/// Damerau-Levenshtein (optimal string alignment) distance, or `None` when above `max`.
pub(crate) fn bounded_distance(a: &str, b: &str, max: u8) -> Option<u8> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = usize::from(max);
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut before_previous = vec![0usize; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current = vec![0usize; width];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(before_previous[j - 2] + 1);
            }
            current[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let d = previous[b.len()];
    (d <= max).then(|| u8::try_from(d).unwrap_or(u8::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (lang, code) in ISO_639_1 {
            assert_eq!(Language::from_code(code), Some(Language(*lang)));
            assert_eq!(Language(*lang).code(), *code);
        }
        assert_eq!(Language::from_code("deu").unwrap().code(), "de");
        assert_eq!(Language::from_code("no").unwrap().code(), "nb");
        assert_eq!(Language::from_code("xx"), None);
        assert_eq!(Language::stemmed().count(), 18);
    }

    #[test]
    fn stems_in_the_document_language_then_folds() {
        let a = Analyzer::new(Language::ENGLISH);
        let (exact, stem) = a.analyze("Cordless Drills", Language::ENGLISH);
        let e: Vec<_> = exact.tokens.iter().map(|t| t.text.as_str()).collect();
        let s: Vec<_> = stem.tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(e, ["cordless", "drills"]);
        assert_eq!(s, ["cordless", "drill"]);
        let de = Language::from_code("de").unwrap();
        let (exact, stem) = a.analyze("Häuser", de);
        assert_eq!(exact.tokens[0].text, "hauser");
        assert_eq!(stem.tokens[0].text, "haus");
    }

    #[test]
    fn confident_detection_else_default() {
        let a = Analyzer::new(Language::ENGLISH);
        let long_fr = "Une perceuse sans fil légère et puissante pour tous vos travaux de bricolage à la maison";
        assert_eq!(a.resolve(None, long_fr).code(), "fr");
        assert_eq!(a.resolve(Some("de"), long_fr).code(), "de");
        assert_eq!(a.resolve(None, "drill").code(), "en");
    }

    #[test]
    fn typo_budget_follows_word_length() {
        let t = |w: &str| QueryTerm { exact: w.into(), stem: w.into() }.allowed_typos();
        assert_eq!((t("sofa"), t("chair"), t("cordless"), t("generator")), (0, 1, 1, 2));
    }

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(bounded_distance("dewalt", "dewlat", 2), Some(2));
        assert_eq!(bounded_distance("drill", "drlil", 1), Some(1));
        assert_eq!(bounded_distance("hammer", "hammer", 0), Some(0));
        assert_eq!(bounded_distance("hammer", "hamster", 1), None);
        assert_eq!(bounded_distance("", "ab", 2), Some(2));
    }
}
