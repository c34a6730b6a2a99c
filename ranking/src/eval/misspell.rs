//! `searchd eval --misspell SEED`: "did you mean" measured on the judged queries. Each query
//! gets one word misspelt the way people do — a letter dropped, doubled, or two swapped — within
//! the search's typo budget (words of 5 letters or more); then the queries as judged, the
//! misspelt ones searched as typed, and the misspelt ones corrected are evaluated on the
//! original judgments, and the share of misspelt queries corrected back to the original is
//! counted.

use searchd_catalog::{Ranker, SearchRequest, fold, tokenize};
use searchd_indexer::ProductIndex;
use serde::Serialize;

use super::{EvalOptions, EvalSummary, Judgments, run};

/// What `--misspell` measured.
#[derive(Debug, Clone, Serialize)]
pub struct MisspellReport {
    /// Judged queries with a word to misspell (5 letters or more).
    pub misspelt: usize,
    /// Of those, corrected back to the query as judged (in folded words).
    pub corrected_back: usize,
    /// Of those, given a correction other than the original.
    pub corrected_otherwise: usize,
    /// The misspelt queries' originals, as judged.
    pub original: EvalSummary,
    /// The misspelt queries searched as typed (`correct=false`).
    pub as_typed: EvalSummary,
    /// The misspelt queries searched corrected (the default).
    pub corrected: EvalSummary,
}

/// `q` with one word misspelt, chosen and changed by `seed`; `None` when no word has 5 letters
/// or more.
pub fn misspell(q: &str, seed: u64) -> Option<String> {
    let words: Vec<&str> = q.split(' ').collect();
    let eligible: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].chars().count() >= 5 && words[i].chars().all(|c| c.is_alphabetic()))
        .collect();
    if eligible.is_empty() {
        return None;
    }
    let mut state = seed ^ fnv(q);
    let mut next = || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let at = eligible[(next() % eligible.len() as u64) as usize];
    let chars: Vec<char> = words[at].chars().collect();
    let n = chars.len();
    let mut out = chars.clone();
    for _ in 0..8 {
        out = chars.clone();
        match next() % 3 {
            // Drop a letter, not the first.
            0 => {
                out.remove(1 + (next() % (n as u64 - 1)) as usize);
            }
            // Double one.
            1 => {
                let i = (next() % n as u64) as usize;
                out.insert(i, chars[i]);
            }
            // Swap two neighbours, not the first.
            _ => {
                let i = 1 + (next() % (n as u64 - 2)) as usize;
                out.swap(i, i + 1);
            }
        }
        if out != chars {
            break;
        }
    }
    if out == chars {
        return None;
    }
    let mut words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    words[at] = out.into_iter().collect();
    Some(words.join(" "))
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Misspells one word of each judged query and measures "did you mean" (see the module).
pub fn run_misspelt(
    index: &ProductIndex,
    ranker: &Ranker,
    judgments: &Judgments,
    options: &EvalOptions,
    seed: u64,
) -> anyhow::Result<MisspellReport> {
    let mut original = Judgments::default();
    let mut misspelt = Judgments::default();
    let mut pairs = Vec::new();
    for (q, judged) in judgments.queries() {
        let Some(typed) = misspell(q, seed) else { continue };
        // Two queries misspelt into one text would mix their judgments: the second is left out.
        if misspelt.queries().any(|(m, _)| m == typed) {
            continue;
        }
        for (id, relevance) in judged {
            original.insert(q, id, *relevance);
            misspelt.insert(&typed, id, *relevance);
        }
        pairs.push((q.to_string(), typed));
    }
    let (mut back, mut otherwise) = (0, 0);
    for (q, typed) in &pairs {
        let request = SearchRequest { q: typed.clone(), prefix: options.prefix, ..Default::default() };
        match index.did_you_mean(&request)? {
            Some(c) if c == folded(q) => back += 1,
            Some(_) => otherwise += 1,
            None => {}
        }
    }
    let as_typed = EvalOptions { correct: false, ..options.clone() };
    let corrected = EvalOptions { correct: true, ..options.clone() };
    Ok(MisspellReport {
        misspelt: pairs.len(),
        corrected_back: back,
        corrected_otherwise: otherwise,
        original: run(index, ranker, &original, &corrected)?.summary,
        as_typed: run(index, ranker, &misspelt, &as_typed)?.summary,
        corrected: run(index, ranker, &misspelt, &corrected)?.summary,
    })
}

/// A query in the folded words a correction is given in.
fn folded(q: &str) -> String {
    tokenize(&fold(q)).map(|t| t.text.to_string()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_of_five_letters_or_more_is_misspelt_by_one_edit() {
        let mut kinds = [0usize; 3];
        for seed in 0..300 {
            let q = "cordless drill 18v";
            let typed = misspell(q, seed).unwrap();
            assert_ne!(typed, q);
            let (a, b): (Vec<&str>, Vec<&str>) = (q.split(' ').collect(), typed.split(' ').collect());
            assert_eq!(a.len(), b.len());
            let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            assert_eq!(changed.len(), 1, "{typed}");
            let (was, now) = (a[changed[0]], b[changed[0]]);
            assert!(was.len() >= 5);
            assert_eq!(searchd_catalog::typo::bounded_distance(was, now, 1), Some(1), "{was} → {now}");
            kinds[match now.len().cmp(&was.len()) {
                std::cmp::Ordering::Less => 0,
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Equal => 2,
            }] += 1;
        }
        assert!(kinds.iter().all(|k| *k > 50), "drops, doubles and swaps: {kinds:?}");
        assert_eq!(misspell("1/2 in. pvc", 7), None);
        assert_eq!(misspell("drill", 3), misspell("drill", 3), "the same seed, the same misspelling");
    }
}
