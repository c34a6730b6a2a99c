//! Text normalization shared by indexing and querying.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A word of a text with its byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The word as it appears.
    pub text: &'a str,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

/// Splits a text into words: maximal runs of alphanumeric characters (Unicode-aware), as Tantivy's
/// `SimpleTokenizer` does, keeping combining marks inside words.
pub fn tokenize(text: &str) -> impl Iterator<Item = Token<'_>> {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let start = loop {
            let (i, c) = chars.next()?;
            if c.is_alphanumeric() {
                break i;
            }
        };
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() || is_combining_mark(c) {
                chars.next();
            } else {
                end = i;
                break;
            }
        }
        Some(Token { text: &text[start..end], start, end })
    })
}

/// Appends `text` with `<`, `>`, `&`, `"` and `'` escaped for HTML (highlights embed it).
pub fn escape_html_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Lowercases and folds diacritics: `Fjällräven` → `fjallraven`, `Straße` → `strasse`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// [`fold`] appending to `out`; ASCII text takes a fast path.
pub fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        out.extend(text.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        // Decompose first (compatibility forms such as `𝔻` or `ﬁ`), then lowercase, then
        // decompose what lowercasing composed; drop combining marks, spell out ligatures.
        for d in c.nfkd().flat_map(char::to_lowercase).nfkd() {
            match d {
                'ß' => out.push_str("ss"),
                'æ' => out.push_str("ae"),
                'œ' => out.push_str("oe"),
                'ø' => out.push('o'),
                'đ' => out.push('d'),
                'ł' => out.push('l'),
                'ı' => out.push('i'),
                d if is_combining_mark(d) => {}
                d => out.push(d),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn folds_diacritics_and_case() {
        assert_eq!(fold("Fjällräven Café"), "fjallraven cafe");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("ÉCOLE"), "ecole");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("Москва"), "москва");
    }

    #[test]
    fn tokenizes_on_non_alphanumerics() {
        let words: Vec<_> = tokenize("1.9 cu. ft. Over-the-Range #SC-141").map(|t| t.text).collect();
        assert_eq!(words, ["1", "9", "cu", "ft", "Over", "the", "Range", "SC", "141"]);
        let t: Vec<_> = tokenize("Crème brûlée").collect();
        assert_eq!((t[1].start, t[1].end), (7, 15));
    }

    proptest! {
        #[test]
        fn tokens_are_alphanumeric_slices(s in "\\PC{0,60}") {
            for t in tokenize(&s) {
                prop_assert_eq!(&s[t.start..t.end], t.text);
                prop_assert!(!t.text.is_empty());
                prop_assert!(t.text.chars().next().unwrap().is_alphanumeric());
            }
        }

        #[test]
        fn fold_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
