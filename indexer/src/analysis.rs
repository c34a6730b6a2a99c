//! Language detection (whatlang) and per-language stemming (rust-stemmers).
//!
//! Every text field is indexed twice: an *exact* variant (lowercased, diacritics folded) and a
//! *stemmed* variant (stemmed in the document's language, then folded). The stemmed field's text
//! starts with a language tag (`de\u{1f}Häuser`) that its Tantivy tokenizer reads to pick the
//! stemmer, so one stemmed field holds documents of many languages, each stemmed with its own
//! algorithm, while the analysis runs in Tantivy's indexing threads. Queries are stemmed with
//! the query's language.

use std::fmt;

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;

use searchd_catalog::typo::search_typo_budget;
use searchd_catalog::{fold, fold_into, tokenize};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use whatlang::Lang;

use crate::detect::Detection;

/// Tokens longer than this (in bytes) are dropped, as Tantivy's `RemoveLongFilter` does.
const MAX_TOKEN_BYTES: usize = 64;

/// ISO 639-1 code for every language whatlang detects.
const ISO_639_1: &[(Lang, &str)] = &[
    (Lang::Epo, "eo"),
    (Lang::Eng, "en"),
    (Lang::Rus, "ru"),
    (Lang::Cmn, "zh"),
    (Lang::Spa, "es"),
    (Lang::Por, "pt"),
    (Lang::Ita, "it"),
    (Lang::Ben, "bn"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Ukr, "uk"),
    (Lang::Kat, "ka"),
    (Lang::Ara, "ar"),
    (Lang::Hin, "hi"),
    (Lang::Jpn, "ja"),
    (Lang::Heb, "he"),
    (Lang::Yid, "yi"),
    (Lang::Pol, "pl"),
    (Lang::Amh, "am"),
    (Lang::Jav, "jv"),
    (Lang::Kor, "ko"),
    (Lang::Nob, "nb"),
    (Lang::Dan, "da"),
    (Lang::Swe, "sv"),
    (Lang::Fin, "fi"),
    (Lang::Tur, "tr"),
    (Lang::Nld, "nl"),
    (Lang::Hun, "hu"),
    (Lang::Ces, "cs"),
    (Lang::Ell, "el"),
    (Lang::Bul, "bg"),
    (Lang::Bel, "be"),
    (Lang::Mar, "mr"),
    (Lang::Kan, "kn"),
    (Lang::Ron, "ro"),
    (Lang::Slv, "sl"),
    (Lang::Hrv, "hr"),
    (Lang::Srp, "sr"),
    (Lang::Mkd, "mk"),
    (Lang::Lit, "lt"),
    (Lang::Lav, "lv"),
    (Lang::Est, "et"),
    (Lang::Tam, "ta"),
    (Lang::Vie, "vi"),
    (Lang::Urd, "ur"),
    (Lang::Tha, "th"),
    (Lang::Guj, "gu"),
    (Lang::Uzb, "uz"),
    (Lang::Pan, "pa"),
    (Lang::Aze, "az"),
    (Lang::Ind, "id"),
    (Lang::Tel, "te"),
    (Lang::Pes, "fa"),
    (Lang::Mal, "ml"),
    (Lang::Ori, "or"),
    (Lang::Mya, "my"),
    (Lang::Nep, "ne"),
    (Lang::Sin, "si"),
    (Lang::Khm, "km"),
    (Lang::Tuk, "tk"),
    (Lang::Aka, "ak"),
    (Lang::Zul, "zu"),
    (Lang::Sna, "sn"),
    (Lang::Afr, "af"),
    (Lang::Lat, "la"),
    (Lang::Slk, "sk"),
    (Lang::Cat, "ca"),
    (Lang::Tgl, "tl"),
    (Lang::Hye, "hy"),
    (Lang::Cym, "cy"),
];

/// A language the engine knows: detectable, and stemmable when rust-stemmers has an algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language(Lang);

impl Language {
    /// English, the fallback language.
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

    /// Whether rust-stemmers has a stemmer for the language.
    pub fn has_stemmer(self) -> bool {
        self.algorithm().is_some()
    }

    /// Every language with a stemmer (18 with rust-stemmers 1.2).
    pub fn stemmed() -> impl Iterator<Item = Language> {
        Lang::all().iter().map(|l| Language(*l)).filter(|l| l.has_stemmer())
    }

    /// One word as the `*_stem` fields hold it in this language: lowercased, stemmed, folded.
    pub fn stemmed_form(self, word: &str) -> String {
        let mut out = String::new();
        stem_into(word, self.algorithm().map(Stemmer::create).as_ref(), &mut String::new(), &mut out);
        out
    }

    /// Stems one lowercased word (the stemmer's own output, not folded).
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
    detection: std::sync::Arc<Detection>,
}

impl Analyzer {
    /// Detects among every language whatlang knows.
    pub fn new(default: Language) -> Self {
        Self { default, detection: std::sync::Arc::new(Detection::every()) }
    }

    /// Detects only among `languages` (a catalog's known locales): faster and more accurate.
    /// Empty: among the languages the catalog is found to hold, learned as it is written (the
    /// `detect` module).
    pub fn with_languages(default: Language, languages: &[Language]) -> Self {
        let languages: Vec<Lang> = languages.iter().map(|l| l.0).collect();
        Self { default, detection: std::sync::Arc::new(Detection::among(default.0, &languages)) }
    }

    /// Teaches a learning analyzer the languages an index already holds, with their products.
    pub fn seed(&self, held: &[(Language, u64)]) {
        self.detection.seed(&held.iter().map(|(l, n)| (l.0, *n)).collect::<Vec<_>>());
    }

    /// The language of text that declares none and is not detected.
    pub fn default_language(&self) -> Language {
        self.default
    }

    /// The detected language when whatlang is confident, else `None`.
    pub fn detect(&self, text: &str) -> Option<Language> {
        self.detection.detect(text).map(Language)
    }

    /// whatlang's best guess among all languages, confident or not (for accuracy measurements).
    pub fn detect_any(&self, text: &str) -> Option<Language> {
        whatlang::detect(text).map(|info| Language(info.lang()))
    }

    /// The language of a query: `lang` when given; else, for queries long enough to tell (at
    /// least three words and 20 characters), the detected language when confident; else the
    /// default. Detecting shorter queries costs more than it ever tells.
    pub fn query_language(&self, lang: Option<&str>, q: &str) -> Language {
        if let Some(language) = lang.and_then(Language::from_code) {
            return language;
        }
        if q.len() >= 20 && tokenize(q).nth(2).is_some() {
            return self.detect(q).unwrap_or(self.default);
        }
        self.default
    }

    /// The language of a product: the declared one when valid, else the detected one when the
    /// detection is reliable, else the default. Short texts (queries, bare titles) rarely are.
    /// `sample`, the text to detect on, is built only when nothing valid is declared.
    pub fn resolve(&self, declared: Option<&str>, sample: impl FnOnce() -> String) -> Language {
        let declared = declared.and_then(Language::from_code).map(|l| l.0);
        self.detection.of_product(declared, sample).map_or(self.default, Language)
    }

    /// The query's distinct words, each in its exact and stemmed form as the fields index them.
    pub fn query_terms(&self, q: &str, language: Language) -> Vec<QueryTerm> {
        let stemmer = language.algorithm().map(Stemmer::create);
        let mut lower = String::new();
        let mut terms: Vec<QueryTerm> = Vec::new();
        for word in words(q) {
            let exact = fold(word.text);
            if terms.iter().any(|t| t.exact == exact) {
                continue;
            }
            let mut stem = String::new();
            stem_into(word.text, stemmer.as_ref(), &mut lower, &mut stem);
            terms.push(QueryTerm { exact, stem });
        }
        terms
    }
}

/// The words of a text that are indexed: tokens longer than [`MAX_TOKEN_BYTES`] are dropped.
fn words(text: &str) -> impl Iterator<Item = searchd_catalog::Token<'_>> {
    tokenize(text).filter(|word| word.text.len() <= MAX_TOKEN_BYTES)
}

/// The stemmed form of one word as the `*_stem` fields hold it: lowercased, stemmed, folded
/// (just folded without a stemmer). Appends to `out`; `lower` is scratch space.
fn stem_into(word: &str, stemmer: Option<&Stemmer>, lower: &mut String, out: &mut String) {
    match stemmer {
        None => fold_into(word, out),
        Some(stemmer) => {
            lower.clear();
            lower.extend(word.chars().flat_map(char::to_lowercase));
            fold_into(&stemmer.stem(lower), out);
        }
    }
}

/// Words that end a title's name and begin its attributes ("… Soaking Tub *in* White", "…
/// Workbench *with* Solid Wood Top"), in the languages of the demo catalog.
const HEAD_CONNECTORS: &[&str] =
    &["in", "with", "for", "w/", "mit", "für", "fur", "avec", "pour", "con", "para", "sans", "ohne", "sin"];
/// Marks that end a title's name ("… Light Bulb (2-Pack)", "… Wall Plate - Noche").
const HEAD_STOPS: &[char] = &['(', '[', ',', ';', '|', '–', '—'];
/// Words of the head: the last this many words of the name.
const HEAD_WORDS: usize = 2;

/// The product type a marketplace title names: the last two plain words (letters only, no
/// unit abbreviation) before its attributes begin, so "KOHLER Archer 5 ft. Right Drain Soaking
/// Tub in White" → "Soaking Tub", "Philips 20-Watt Halogen T3 Capsule Light Bulb (2-Pack)" →
/// "Light Bulb". Titles put brand and model first and the kind of thing last, and a query for
/// "tubs" means the tub, not its faucet. Empty when no such word is found.
pub(crate) fn title_head(title: &str) -> String {
    let mut name = title;
    if let Some(i) = name.find(HEAD_STOPS) {
        name = &name[..i];
    }
    if let Some(i) = name.find(" - ") {
        name = &name[..i];
    }
    // Cut at the first connector that follows a plain word: "30 in. W" is a size, "Tub in
    // White" the start of the attributes.
    let raw: Vec<&str> = name.split_whitespace().collect();
    let mut end = raw.len();
    for (i, w) in raw.iter().enumerate().skip(1) {
        let lower = w.to_lowercase();
        if HEAD_CONNECTORS.contains(&lower.as_str()) && is_plain_word(raw[i - 1]) {
            end = i;
            break;
        }
    }
    let mut head: Vec<&str> = raw[..end].iter().rev().filter(|w| is_plain_word(w)).take(HEAD_WORDS).copied().collect();
    head.reverse();
    head.join(" ")
}

/// A word of letters (and inner hyphens) of at least three letters, not ending in a period, as a
/// product type is written ("Refrigerator", "Pre-Built"), unlike "ft.", "W" or "18-Volt".
fn is_plain_word(word: &str) -> bool {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    letters >= 3 && !word.ends_with('.') && word.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'')
}

/// Separates the language tag from the text in stemmed fields.
const LANGUAGE_TAG_END: char = '\u{1f}';

/// The text of a stemmed field: the language tag, then the text.
pub(crate) fn tagged(text: &str, language: Language) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    out.push_str(language.code());
    out.push(LANGUAGE_TAG_END);
    out.push_str(text);
    out
}

/// Splits `de\u{1f}text` into its language and text; untagged text gets `default`.
fn split_tag(text: &str, default: Language) -> (Language, &str) {
    if let Some(i) = text.get(..text.len().min(8)).and_then(|head| head.find(LANGUAGE_TAG_END)) {
        let language = Language::from_code(&text[..i]).unwrap_or(default);
        return (language, &text[i + LANGUAGE_TAG_END.len_utf8()..]);
    }
    (default, text)
}

/// Stem cache entries per language a tokenizer holds before it starts over.
const STEM_CACHE_ENTRIES: usize = 100_000;

/// Tantivy tokenizer of the `*_exact` fields (`stem == false`) and the `*_stem` fields.
#[derive(Clone)]
pub(crate) struct FieldTokenizer {
    stem: bool,
    default: Language,
    /// Token buffers reused from text to text.
    tokens: Vec<Token>,
    lower: String,
    /// Word → stem per language: catalogs repeat their vocabulary a lot.
    stems: HashMap<Language, HashMap<String, String>>,
}

impl FieldTokenizer {
    pub const EXACT: &'static str = "searchd_exact";
    pub const STEM: &'static str = "searchd_stem";

    pub fn exact() -> Self {
        Self::new(false, Language::ENGLISH)
    }

    pub fn stemming(default: Language) -> Self {
        Self::new(true, default)
    }

    fn new(stem: bool, default: Language) -> Self {
        Self { stem, default, tokens: Vec::new(), lower: String::new(), stems: HashMap::new() }
    }
}

impl Tokenizer for FieldTokenizer {
    type TokenStream<'a> = SliceTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SliceTokenStream<'a> {
        let (text, mut stemming) = if self.stem {
            let (language, text) = split_tag(text, self.default);
            let stemmer = language.algorithm().map(Stemmer::create);
            (text, stemmer.map(|stemmer| (stemmer, self.stems.entry(language).or_default())))
        } else {
            (text, None)
        };
        let mut n = 0;
        for (position, word) in tokenize(text).enumerate() {
            if word.text.len() > MAX_TOKEN_BYTES {
                continue;
            }
            if n == self.tokens.len() {
                self.tokens.push(Token::default());
            }
            let token = &mut self.tokens[n];
            token.offset_from = word.start;
            token.offset_to = word.end;
            token.position = position;
            token.position_length = 1;
            token.text.clear();
            match &mut stemming {
                None => fold_into(word.text, &mut token.text),
                Some((stemmer, stems)) => match stems.get(word.text) {
                    Some(stem) => token.text.push_str(stem),
                    None => {
                        stem_into(word.text, Some(stemmer), &mut self.lower, &mut token.text);
                        if stems.len() >= STEM_CACHE_ENTRIES {
                            stems.clear();
                        }
                        stems.insert(word.text.to_owned(), token.text.clone());
                    }
                },
            }
            n += 1;
        }
        SliceTokenStream { tokens: &mut self.tokens[..n], next: 0 }
    }
}

pub(crate) struct SliceTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl TokenStream for SliceTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
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
    /// Typos tolerated for this word: [`search_typo_budget`] of its length.
    pub fn allowed_typos(&self) -> u8 {
        search_typo_budget(self.exact.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_head_is_the_product_type() {
        for (title, head) in [
            ("KOHLER Archer 5 ft. Right Drain Soaking Tub in White", "Soaking Tub"),
            ("Whirlpool 30 in. W 18.2 cu. ft. Top Freezer Refrigerator in White", "Freezer Refrigerator"),
            ("Husky 46 in. 9-Drawer Mobile Workbench with Solid Wood Top, Black", "Mobile Workbench"),
            ("Philips 20-Watt Halogen T3 12-Volt G4 Capsule Dimmable Light Bulb (2-Pack)", "Light Bulb"),
            ("Amerelle Texture Stone 1 Toggle Wall Plate - Noche", "Wall Plate"),
            ("Veranda Pro-Series 4 ft. x 8 ft. Vinyl Woodbridge Privacy Fence Panel", "Fence Panel"),
            ("Sensor Valve Kit", "Valve Kit"),
            ("Bosch Akku-Bohrschrauber mit Koffer", "Bosch Akku-Bohrschrauber"),
            ("Drill", "Drill"),
            ("18V 2 Ah", ""),
            ("", ""),
        ] {
            assert_eq!(title_head(title), head, "{title}");
        }
    }

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
        let forms = |text: &str, language| -> (Vec<String>, Vec<String>) {
            a.query_terms(text, language).into_iter().map(|t| (t.exact, t.stem)).unzip()
        };
        let (exact, stem) = forms("Cordless Drills", Language::ENGLISH);
        assert_eq!(exact, ["cordless", "drills"]);
        assert_eq!(stem, ["cordless", "drill"]);
        let de = Language::from_code("de").unwrap();
        let (exact, stem) = forms("Häuser", de);
        assert_eq!((exact[0].as_str(), stem[0].as_str()), ("hauser", "haus"));
    }

    #[test]
    fn the_stemming_tokenizer_reads_the_language_tag() {
        let mut tokenizer = FieldTokenizer::stemming(Language::ENGLISH);
        let words = |tokenizer: &mut FieldTokenizer, text: &str| {
            let mut stream = tokenizer.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                out.push((stream.token().text.clone(), stream.token().position));
            }
            out
        };
        let de = Language::from_code("de").unwrap();
        assert_eq!(
            words(&mut tokenizer, &tagged("Häuser und Gärten", de)),
            [("haus".into(), 0), ("und".into(), 1), ("gart".into(), 2)]
        );
        assert_eq!(words(&mut tokenizer, "running shoes"), [("run".into(), 0), ("shoe".into(), 1)]);
        assert_eq!(words(&mut tokenizer, &tagged("", de)), []);
        let mut exact = FieldTokenizer::exact();
        assert_eq!(words(&mut exact, "Café  Crème"), [("cafe".into(), 0), ("creme".into(), 1)]);
    }

    #[test]
    fn confident_detection_else_default() {
        let a = Analyzer::new(Language::ENGLISH);
        let long_fr = "Une perceuse sans fil légère et puissante pour tous vos travaux de bricolage à la maison";
        assert_eq!(a.resolve(None, || long_fr.to_string()).code(), "fr");
        assert_eq!(a.resolve(Some("de"), || long_fr.to_string()).code(), "de");
        assert_eq!(a.resolve(None, || "drill".to_string()).code(), "en");
    }

    #[test]
    fn typo_budget_follows_word_length() {
        let t = |w: &str| QueryTerm { exact: w.into(), stem: w.into() }.allowed_typos();
        assert_eq!((t("sofa"), t("chair"), t("cordless"), t("generator")), (0, 1, 1, 2));
    }
}
