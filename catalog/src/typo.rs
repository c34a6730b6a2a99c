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

/// Words of at most this many characters are compared without allocating.
const ON_STACK: usize = 32;

/// Damerau-Levenshtein (optimal string alignment) distance, or `None` when above `max`.
pub fn bounded_distance(a: &str, b: &str, max: u8) -> Option<u8> {
    let (m, n) = (a.chars().count(), b.chars().count());
    // Lengths too far apart need no table: most words compared are.
    if m.abs_diff(n) > usize::from(max) {
        return None;
    }
    if m <= ON_STACK && n <= ON_STACK {
        // Synonym and correction scans compare a query word with thousands of words per search.
        let (mut x, mut y) = (['\0'; ON_STACK], ['\0'; ON_STACK]);
        a.chars().zip(x.iter_mut()).for_each(|(c, slot)| *slot = c);
        b.chars().zip(y.iter_mut()).for_each(|(c, slot)| *slot = c);
        let mut rows = [[0usize; ON_STACK + 1]; 3];
        let [r0, r1, r2] = &mut rows;
        return osa(&x[..m], &y[..n], usize::from(max), [&mut r0[..=n], &mut r1[..=n], &mut r2[..=n]]);
    }
    let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; n + 1]; 3];
    let [r0, r1, r2] = &mut rows[..] else { unreachable!("three rows") };
    osa(&x, &y, usize::from(max), [r0, r1, r2])
}

/// The optimal string alignment distance of `a` and `b` when at most `max`, computed in
/// `rows` (three of `b.len() + 1` each).
fn osa(a: &[char], b: &[char], max: usize, rows: [&mut [usize]; 3]) -> Option<u8> {
    let [mut before_previous, mut previous, mut current] = rows;
    for (j, cell) in previous.iter_mut().enumerate() {
        *cell = j;
    }
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

    /// The optimal string alignment distance by its textbook full table.
    fn reference(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in 0..=a.len() {
            for j in 0..=b.len() {
                d[i][j] = if i == 0 || j == 0 {
                    i + j
                } else {
                    let mut v =
                        (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]));
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        v = v.min(d[i - 2][j - 2] + 1);
                    }
                    v
                };
            }
        }
        d[a.len()][b.len()]
    }

    proptest::proptest! {
        /// Short words (compared on the stack) and long ones (on the heap) alike.
        #[test]
        fn distance_is_the_full_tables_when_within_the_bound(
            a in "[abcé]{0,40}", b in "[abcé]{0,40}", max in 0u8..4,
        ) {
            let d = reference(&a, &b);
            let expected = (d <= usize::from(max)).then_some(d as u8);
            proptest::prop_assert_eq!(bounded_distance(&a, &b, max), expected);
        }
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
