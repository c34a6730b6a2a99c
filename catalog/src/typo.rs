//! Edit distance and typo budgets: one home for what search and autocomplete both need.
//!
//! Distances are optimal string alignment (Damerau–Levenshtein without repeated edits of a
//! substring): an insertion, a deletion, a substitution or a swap of two adjacent characters is
//! one typo. The two budgets differ on purpose, each named for its use: search forgives a typo
//! from 5 letters (as Meilisearch), a search box being typed into from 4 (a prefix is shorter
//! than the word it completes).
//!
//! ```
//! use searchd_catalog::typo::{autocomplete_typo_budget, bounded_distance, search_typo_budget};
//!
//! assert_eq!(bounded_distance("dewalt", "dewlat", 2), Some(1));
//! assert_eq!((search_typo_budget(4), search_typo_budget(5), search_typo_budget(9)), (0, 1, 2));
//! assert_eq!((autocomplete_typo_budget(3), autocomplete_typo_budget(4), autocomplete_typo_budget(8)), (0, 1, 2));
//! ```

/// Typos a search tolerates in a query word of `chars` characters, as Meilisearch does: none
/// under 5 letters, one from 5, two from 9.
pub fn search_typo_budget(chars: usize) -> u8 {
    match chars {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Typos autocomplete tolerates in a typed word or prefix of `chars` characters: none under 4,
/// one from 4, two from 8.
pub fn autocomplete_typo_budget(chars: usize) -> u8 {
    match chars {
        0..4 => 0,
        4..8 => 1,
        _ => 2,
    }
}

/// Damerau-Levenshtein (optimal string alignment) distance, or `None` when above `max`.
pub fn bounded_distance(a: &str, b: &str, max: u8) -> Option<u8> {
    // Lengths too far apart need no table (and no allocation): most words compared are.
    if a.chars().count().abs_diff(b.chars().count()) > usize::from(max) {
        return None;
    }
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

/// Bytes of `suffix` a fuzzy match of `input` covers: the longest prefix of `suffix` at the
/// smallest distance from `input` (optimal string alignment: edits and adjacent transpositions),
/// so "fjalr" highlights "fjallr" of "fjallraven", not just "fjal".
pub fn fuzzy_match_len(input: &str, suffix: &str) -> usize {
    let q: Vec<char> = input.chars().collect();
    let t: Vec<(usize, char)> = suffix.char_indices().take(q.len() + 3).collect();
    let (m, n) = (q.len(), t.len());
    let mut d = vec![vec![0usize; n + 1]; m + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=m {
        for j in 1..=n {
            let cost = usize::from(q[i - 1] != t[j - 1].1);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && q[i - 1] == t[j - 2].1 && q[i - 2] == t[j - 1].1 {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    let best = d[m].iter().min().copied().unwrap_or(0);
    let j = (0..=n).rev().find(|&j| d[m][j] == best).unwrap_or(0);
    if j == 0 { 0 } else { t[j - 1].0 + t[j - 1].1.len_utf8() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(bounded_distance("dewalt", "dewlat", 2), Some(1));
        assert_eq!(bounded_distance("dewalt", "dwelat", 2), Some(2));
        assert_eq!(bounded_distance("drill", "drlil", 1), Some(1));
        assert_eq!(bounded_distance("hammer", "hammer", 0), Some(0));
        assert_eq!(bounded_distance("hammer", "hamster", 1), None);
        assert_eq!(bounded_distance("", "ab", 2), Some(2));
    }

    #[test]
    fn fuzzy_matches_cover_what_was_typed() {
        assert_eq!(fuzzy_match_len("fjalr", "fjallraven kanken"), "fjallr".len());
        assert_eq!(fuzzy_match_len("dewlat", "dewalt"), "dewalt".len());
        assert_eq!(fuzzy_match_len("cordles ", "cordless drill"), "cordless ".len());
    }

    #[test]
    fn budgets_follow_word_length() {
        let search: Vec<u8> = [4, 5, 8, 9].map(search_typo_budget).to_vec();
        assert_eq!(search, [0, 1, 1, 2]);
        let autocomplete: Vec<u8> = [3, 4, 7, 8].map(autocomplete_typo_budget).to_vec();
        assert_eq!(autocomplete, [0, 1, 1, 2]);
    }
}
