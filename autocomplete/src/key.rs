//! Completion keys: the folded words of a text joined by single spaces, and the way back from a
//! key range to the original text for highlighting.

use searchd_catalog::typo::autocomplete_typo_budget;
use searchd_catalog::{fold_into, tokenize};

/// Longest completion key kept for an entry (bytes); longer texts are cut at a word end.
pub(crate) const MAX_ENTRY_KEY_BYTES: usize = 1024;
/// Longest suffix key in the FST (bytes): completions consider the first 256 bytes of the text
/// from each word on, and inputs are cut to that length.
pub(crate) const MAX_SUFFIX_BYTES: usize = 256;

/// `"Café  Crème-Brûlée"` → `"cafe creme brulee"`.
pub(crate) fn key_of(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for token in tokenize(text) {
        let mark = key.len();
        if !key.is_empty() {
            key.push(' ');
        }
        fold_into(token.text, &mut key);
        if key.len() > MAX_ENTRY_KEY_BYTES {
            key.truncate(mark);
            break;
        }
    }
    key
}

/// Byte offsets in `key` where words start.
pub(crate) fn word_starts(key: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(key.match_indices(' ').map(|(i, _)| i + 1)).filter(move |&i| i < key.len())
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn cut(s: &[u8], max: usize) -> &[u8] {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    // UTF-8 continuation bytes are 0b10xx_xxxx.
    while end > 0 && s[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    &s[..end]
}

/// What a user typed, as a completion key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    /// Folded words joined by spaces, plus a trailing space when the input ends after a word
    /// ("cordless " completes words after "cordless", not "cordlessness").
    pub key: String,
    /// Typos allowed: per word, 1 from 4 letters and 2 from 8, summed and capped at 2.
    pub budget: u8,
}

impl Input {
    pub fn new(text: &str) -> Self {
        let mut key = key_of(text);
        let ends_in_word = text.chars().next_back().is_some_and(|c| c.is_alphanumeric());
        if !key.is_empty() && !ends_in_word && key.len() < MAX_SUFFIX_BYTES {
            key.push(' ');
        }
        let cut_len = cut(key.as_bytes(), MAX_SUFFIX_BYTES).len();
        key.truncate(cut_len);
        let budget = key.split(' ').map(|w| autocomplete_typo_budget(w.chars().count())).sum::<u8>().min(2);
        Self { key, budget }
    }
}

/// The byte range of `text` that the key range `start..end` of `key_of(text)` came from;
/// `start` is a word start. A range ending inside a word maps to the characters whose folded
/// forms it covers.
pub(crate) fn text_range(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let mut at = 0; // key offset of the current word
    let mut from = None;
    let mut folded = String::new();
    for token in tokenize(text) {
        folded.clear();
        fold_into(token.text, &mut folded);
        let word_end = at + folded.len();
        if from.is_none() && start < word_end {
            from = Some(token.start);
        }
        if let Some(from) = from {
            if end <= word_end {
                // Ends inside (or at the end of) this word: walk its characters.
                let need = end.saturating_sub(at);
                let mut covered = 0;
                let mut to = token.start;
                let mut one = String::new();
                for (i, c) in token.text.char_indices() {
                    if covered >= need {
                        break;
                    }
                    one.clear();
                    fold_into(c.encode_utf8(&mut [0; 4]), &mut one);
                    covered += one.len();
                    to = token.start + i + c.len_utf8();
                }
                return Some((from, to.max(from)));
            }
            if end == word_end + 1 {
                return Some((from, token.end));
            }
        }
        at = word_end + 1;
    }
    from.map(|from| (from, text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_and_join_words() {
        assert_eq!(key_of("Café  Crème-Brûlée"), "cafe creme brulee");
        assert_eq!(key_of("  "), "");
        assert_eq!(word_starts("ab cd e").collect::<Vec<_>>(), [0, 3, 6]);
        assert_eq!(word_starts("").count(), 0);
    }

    #[test]
    fn input_keeps_a_trailing_space_and_budgets_typos() {
        assert_eq!(Input::new("Cordless ").key, "cordless ");
        assert_eq!(Input::new("Cordless dri").key, "cordless dri");
        assert_eq!(Input::new("dri").budget, 0);
        assert_eq!(Input::new("dewlat").budget, 1);
        assert_eq!(Input::new("cordlesss").budget, 2);
        assert_eq!(Input::new("drill bit").budget, 1);
        assert_eq!(Input::new("drill bits").budget, 2);
        assert_eq!(Input::new("drill bitsx screw").budget, 2);
        assert_eq!(Input::new("").key, "");
        assert_eq!(Input::new(" - ").key, "");
    }

    #[test]
    fn cut_respects_character_boundaries() {
        let s = "aé".as_bytes(); // a, then two bytes
        assert_eq!(cut(s, 2), b"a");
        assert_eq!(cut(s, 3), s);
    }

    #[test]
    fn key_ranges_map_back_to_the_text() {
        let text = "Makita 18V Cordless Drill";
        let key = key_of(text);
        assert_eq!(key, "makita 18v cordless drill");
        let start = key.find("cordless").unwrap();
        let (a, b) = text_range(text, start, start + "cordless dri".len()).unwrap();
        assert_eq!(&text[a..b], "Cordless Dri");
        let (a, b) = text_range(text, start, start + "cordless ".len()).unwrap();
        assert_eq!(&text[a..b], "Cordless");
        let text = "Fjällräven Kånken";
        let (a, b) = text_range(text, 0, 5).unwrap();
        assert_eq!(&text[a..b], "Fjäll");
        let text = "Straße Bahn";
        let (a, b) = text_range(text, 0, 5).unwrap();
        assert_eq!(&text[a..b], "Straß");
    }
}
