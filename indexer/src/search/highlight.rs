//! Highlighting: the words of title and description that match a query word exactly, by stem
//! or within its typo budget, marked in `<em>` and HTML-escaped; the description cut to a
//! snippet around its first match.

use searchd_catalog::typo::bounded_distance;
use searchd_catalog::{Highlight, MatchKind, WordMatch, escape_html_into, fold, tokenize};

use super::synonyms::Alternative;
use crate::ProductIndex;
use crate::analysis::{Language, QueryTerm};

/// Characters of description shown around the first match.
const SNIPPET_CHARS: usize = 160;

impl ProductIndex {
    /// Marks the words of title and description that match a query word exactly, by stem (in
    /// the product's language) or within its typo budget. Output is HTML-escaped.
    pub(crate) fn highlight(&self, product: &searchd_catalog::Product, terms: &[QueryTerm]) -> Highlight {
        let language = self.language_of(product);
        let is_match = |word: &str| {
            let (exact, stem) = (fold(word), language.stemmed_form(word));
            terms.iter().any(|t| word_match(t, &exact, &stem, false) != MatchKind::None)
        };
        let title = mark(&product.title, &is_match, None);
        let description = (!product.description.is_empty())
            .then(|| {
                let first = tokenize(&product.description).find(|t| is_match(t.text))?;
                Some(mark(&product.description, &is_match, Some(first.start)))
            })
            .flatten();
        Highlight { title, description }
    }
}

impl ProductIndex {
    /// How each query word matched the product's title, brand, category and description: the
    /// best of exact, stem, typo (within its budget) and, for the word being typed (`prefix`,
    /// its index), the start of a longer word.
    pub(crate) fn word_matches(
        &self,
        product: &searchd_catalog::Product,
        terms: &[QueryTerm],
        prefix: Option<usize>,
        alternatives: &[Alternative],
    ) -> Vec<WordMatch> {
        let language = self.language_of(product);
        let texts = [product.title.as_str(), product.brand.as_deref().unwrap_or(""), product.description.as_str()];
        let category = product.category.join(" ");
        let words: Vec<(String, String)> = texts
            .iter()
            .copied()
            .chain(std::iter::once(category.as_str()))
            .flat_map(tokenize)
            .map(|t| (fold(t.text), language.stemmed_form(t.text)))
            .collect();
        terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let kind = words
                    .iter()
                    .map(|(exact, stem)| word_match(t, exact, stem, prefix == Some(i)))
                    .min()
                    .unwrap_or(MatchKind::None);
                // Not in the text as itself: through a declared synonym, every word of it there.
                let synonym = (kind == MatchKind::None)
                    .then(|| {
                        alternatives.iter().filter(|a| a.span.contains(&i)).find(|a| {
                            a.words
                                .iter()
                                .all(|w| words.iter().any(|(exact, stem)| w.exact == *exact || w.stem == *stem))
                        })
                    })
                    .flatten()
                    .map(Alternative::phrase);
                let kind = if synonym.is_some() { MatchKind::Synonym } else { kind };
                WordMatch { word: t.exact.clone(), kind, synonym }
            })
            .collect()
    }
}

impl ProductIndex {
    /// The language a product's words are stemmed in: its own, else the index's default.
    fn language_of(&self, product: &searchd_catalog::Product) -> Language {
        product.language.as_deref().and_then(Language::from_code).unwrap_or(self.analyzer.default_language())
    }
}

/// How a query word matches one word of a text (`exact` folded, `stem` its stem).
fn word_match(t: &QueryTerm, exact: &str, stem: &str, prefix: bool) -> MatchKind {
    let typos = t.allowed_typos();
    if t.exact == exact {
        MatchKind::Exact
    } else if t.stem == stem {
        MatchKind::Stem
    } else if typos > 0 && bounded_distance(&t.exact, exact, typos).is_some() {
        MatchKind::Typo
    } else if prefix && starts_with_within(exact, &t.exact, u8::from(typos > 0)) {
        MatchKind::Prefix
    } else {
        MatchKind::None
    }
}

/// Whether `word` starts with `prefix` give or take `typos` edits (a start one shorter or
/// longer than the prefix counts, as an edit may add or drop a character).
fn starts_with_within(word: &str, prefix: &str, typos: u8) -> bool {
    if word.starts_with(prefix) {
        return true;
    }
    let n = prefix.chars().count();
    typos > 0
        && (n.saturating_sub(1)..=n + 1).any(|len| {
            let head: String = word.chars().take(len).collect();
            head.chars().count() == len && bounded_distance(prefix, &head, typos).is_some()
        })
}

/// Wraps matching words in `<em>`, escaping the rest; with `around`, cuts a snippet of about
/// [`SNIPPET_CHARS`] characters starting shortly before that byte offset.
fn mark(text: &str, is_match: &dyn Fn(&str) -> bool, around: Option<usize>) -> String {
    let (start, end) = match around {
        None => (0, text.len()),
        Some(at) => {
            let before = text[..at].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
            // The start of the word `before` is in: after the whitespace before it, or the text's start.
            let start = text[..before]
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(0, |(i, c)| i + c.len_utf8())
                .min(at);
            let start = if at - start > 200 { before } else { start };
            let end = text[start..].char_indices().nth(SNIPPET_CHARS).map_or(text.len(), |(i, _)| start + i);
            let end = text[end..].find(char::is_whitespace).map_or(text.len(), |i| end + i);
            (start, end)
        }
    };
    let slice = &text[start..end];
    let mut out = String::with_capacity(slice.len() + 16);
    if start > 0 {
        out.push('…');
    }
    let mut last = 0;
    for token in tokenize(slice) {
        if is_match(token.text) {
            escape_html_into(&slice[last..token.start], &mut out);
            out.push_str("<em>");
            escape_html_into(token.text, &mut out);
            out.push_str("</em>");
            last = token.end;
        }
    }
    escape_html_into(&slice[last..], &mut out);
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_escapes() {
        let m = mark("Drill <b>& bits</b>", &|w| w == "Drill" || w == "bits", None);
        assert_eq!(m, "<em>Drill</em> &lt;b&gt;&amp; <em>bits</em>&lt;/b&gt;");
    }

    proptest::proptest! {
        #[test]
        fn marking_never_panics_and_keeps_the_words(text in "\\PC{0,300}", pick in 0usize..50) {
            let words: Vec<_> = tokenize(&text).collect();
            let target = words.get(pick % words.len().max(1)).map(|t| t.text.to_string());
            let is_match = |w: &str| Some(w) == target.as_deref();
            let around = words.get(pick % words.len().max(1)).map(|t| t.start);
            let marked = mark(&text, &is_match, around);
            if let Some(word) = &target {
                let escaped = {
                    let mut e = String::new();
                    escape_html_into(word, &mut e);
                    e
                };
                let needle = format!("<em>{escaped}</em>");
                proptest::prop_assert!(marked.contains(&needle), "{} not in {}", needle, marked);
            }
            let _ = mark(&text, &is_match, None);
        }
    }

    proptest::proptest! {
        /// A snippet cut short starts and ends at whole words of the text.
        #[test]
        fn snippets_start_and_end_at_words(text in "[a-zé]{1,12}( [a-zé]{1,12}){0,120}", pick in 0usize..120) {
            let words: Vec<_> = tokenize(&text).collect();
            let at = words[pick % words.len()].start;
            let marked = mark(&text, &|_| false, Some(at));
            let inner = marked.trim_start_matches('…').trim_end_matches('…');
            let start = text.find(inner).unwrap();
            let end = start + inner.len();
            proptest::prop_assert!(end == text.len() || text[end..].starts_with(' '), "{}", marked);
            proptest::prop_assert!(start == 0 || text[..start].ends_with(' '), "{}", marked);
        }
    }

    /// A snippet starting after a multi-byte space (U+3000) sliced inside the character.
    #[test]
    fn snippet_start_after_ideographic_space_is_a_char_boundary() {
        let text = format!("{}needle tail", "語\u{3000}".repeat(60));
        let at = text.find("needle").unwrap();
        let m = mark(&text, &|w| w == "needle", Some(at));
        assert!(m.contains("<em>needle</em>"), "{m}");
    }

    #[test]
    fn snippet_is_cut_around_the_match() {
        let text = format!("{} needle {}", "word ".repeat(100), "tail ".repeat(100));
        let at = text.find("needle").unwrap();
        let m = mark(&text, &|w| w == "needle", Some(at));
        assert!(m.starts_with('…') && m.ends_with('…'), "{m}");
        assert!(m.contains("<em>needle</em>"));
        assert!(m.chars().count() < 260, "{}", m.chars().count());
    }
}
