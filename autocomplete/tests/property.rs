//! Property tests against a brute-force reference.
//!
//! The invariants, exactly:
//!
//! 1. **Completeness.** For every indexed title, every word of it, and every non-empty character
//!    prefix of the title's text from that word on (the user typing the title from any word),
//!    the unlimited suggestions contain the title as an exact (0-typo) match.
//! 2. **Soundness and ranking.** For any input, the unlimited suggestions are exactly the
//!    reference's: every entry one of whose word suffixes (folded words joined by spaces) starts
//!    with the folded input, or — when the input's typo budget allows — whose suffix has a
//!    prefix within that many typos of the input (Levenshtein with adjacent transpositions,
//!    the first character exact), each with its smallest typo count and the score of its best
//!    such suffix, ordered by typos, score (descending), key length, key.
//! 3. **Top-k.** The first `k` suggestions with limit `k` are the first `k` unlimited ones.

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;
use searchd_autocomplete::{CatalogCompletions, Kind, Kinds, Suggester, Weights, query_completions};
use searchd_catalog::typo::autocomplete_typo_budget;
use searchd_catalog::{Product, fold, tokenize};

const WORDS: &[&str] = &[
    "drill",
    "drills",
    "driver",
    "dril",
    "cordless",
    "cord",
    "café",
    "crème",
    "fjällräven",
    "kånken",
    "dewalt",
    "makita",
    "bit",
    "bits",
    "battery",
    "18v",
    "straße",
    "saw",
    "screw",
    "screwdriver",
    "set",
    "sets",
    "caddy",
];

fn key(text: &str) -> String {
    tokenize(text).map(|t| fold(t.text)).collect::<Vec<_>>().join(" ")
}

/// The input as the suggester reads it: folded words, a trailing space after a finished word.
fn input_key(text: &str) -> String {
    let mut k = key(text);
    if !k.is_empty() && !text.chars().next_back().is_some_and(char::is_alphanumeric) {
        k.push(' ');
    }
    k
}

fn budget(input: &str) -> u8 {
    input.split(' ').map(|w| autocomplete_typo_budget(w.chars().count())).sum::<u8>().min(2)
}

/// Smallest optimal-string-alignment distance between `q` and any prefix of `t`.
fn prefix_distance(q: &[char], t: &[char]) -> usize {
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
            let cost = usize::from(q[i - 1] != t[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && q[i - 1] == t[j - 2] && q[i - 2] == t[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    (0..=n).map(|j| d[m][j]).min().unwrap_or(m)
}

#[derive(Debug, Clone, PartialEq)]
struct Expected {
    key: String,
    typos: u8,
    score: f32,
}

/// Brute force over every title and every word suffix.
fn reference(products: &[Product], input: &str) -> Vec<Expected> {
    let weights = Weights::default();
    let q = input_key(input);
    let budget = budget(&q);
    let qc: Vec<char> = q.chars().collect();
    // Same-key titles collapse into the best-scored one.
    let mut best: HashMap<String, f32> = HashMap::new();
    for p in products {
        let score = weights.product_boost * (1.0 + (p.popularity.max(0.0)).ln_1p() as f32);
        let k = key(&p.title);
        if k.is_empty() {
            continue;
        }
        let slot = best.entry(k).or_insert(score);
        *slot = slot.max(score);
    }
    let mut out = Vec::new();
    for (k, score) in best {
        let mut found: Option<(u8, f32)> = None;
        let starts = std::iter::once(0).chain(k.match_indices(' ').map(|(i, _)| i + 1));
        for s in starts {
            let suffix = &k[s..];
            let factor = if s == 0 { 1.0 } else { weights.mid_phrase_factor };
            let typos = if suffix.starts_with(&q) {
                Some(0)
            } else if budget > 0 && suffix.chars().next() == qc.first().copied() {
                let tc: Vec<char> = suffix.chars().collect();
                let d = prefix_distance(&qc, &tc);
                (d <= usize::from(budget)).then_some(d as u8)
            } else {
                None
            };
            if let Some(t) = typos {
                let candidate = (t, score * factor);
                found = Some(match found {
                    None => candidate,
                    Some(f) if (candidate.0, -candidate.1) < (f.0, -f.1) => candidate,
                    Some(f) => f,
                });
            }
        }
        if let Some((typos, score)) = found {
            out.push(Expected { key: k, typos, score });
        }
    }
    out.sort_by(|a, b| {
        a.typos
            .cmp(&b.typos)
            .then(b.score.total_cmp(&a.score))
            .then(a.key.len().cmp(&b.key.len()))
            .then(a.key.cmp(&b.key))
    });
    out
}

fn build(products: &[Product]) -> Suggester {
    let weights = Weights::default();
    let catalog = CatalogCompletions::from_products(products, &weights).unwrap();
    Suggester::new(Arc::new(catalog), Arc::new(query_completions([], &weights).unwrap()))
}

fn products_strategy() -> impl Strategy<Value = Vec<Product>> {
    let title = prop::collection::vec(prop::sample::select(WORDS), 1..6);
    prop::collection::vec((title, 0u32..60), 1..40).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (words, pop))| {
                let mut p = Product::new(format!("p{i}"), words.join(if i % 3 == 0 { "-" } else { " " }));
                p.popularity = f64::from(pop);
                p
            })
            .collect()
    })
}

/// A typed input: part of a title from some word on, maybe with one edit after the first letter.
fn input_strategy(products: &[Product]) -> impl Strategy<Value = String> + use<> {
    let titles: Vec<String> = products.iter().map(|p| p.title.clone()).collect();
    (
        prop::sample::select(titles),
        any::<prop::sample::Index>(),
        1usize..40,
        0u8..5,
        any::<prop::sample::Index>(),
        0u8..26,
    )
        .prop_map(|(title, word, len, edit, at, letter)| {
            let starts: Vec<usize> = tokenize(&title).map(|t| t.start).collect();
            let from = starts[word.index(starts.len())];
            let mut chars: Vec<char> = title[from..].chars().take(len).collect();
            let letter = char::from(b'a' + letter);
            if chars.len() > 1 {
                let i = 1 + at.index(chars.len() - 1);
                match edit {
                    1 => chars[i] = letter,
                    2 => {
                        chars.remove(i);
                    }
                    3 => chars.insert(i, letter),
                    4 if i + 1 < chars.len() => chars.swap(i, i + 1),
                    _ => {}
                }
            }
            chars.into_iter().collect()
        })
}

fn catalog_and_inputs() -> impl Strategy<Value = (Vec<Product>, Vec<String>)> {
    products_strategy().prop_flat_map(|products| {
        let inputs = prop::collection::vec(input_strategy(&products), 1..12);
        (Just(products), inputs)
    })
}

const ALL: usize = usize::MAX;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_title_completes_from_every_word(products in products_strategy()) {
        let s = build(&products);
        let kinds = Kinds::NONE.with(Kind::Product);
        for p in &products {
            let title_key = key(&p.title);
            for token in tokenize(&p.title) {
                let rest = &p.title[token.start..];
                for (end, _) in rest.char_indices().skip(1).chain([(rest.len(), ' ')]) {
                    let typed = &rest[..end];
                    let hits = s.suggest(typed, ALL, kinds);
                    prop_assert!(
                        hits.iter().any(|h| key(&h.text) == title_key && h.typos == 0),
                        "typing {typed:?} does not complete {:?}", p.title
                    );
                }
            }
        }
    }

    #[test]
    fn suggestions_equal_the_brute_force_reference((products, inputs) in catalog_and_inputs()) {
        let s = build(&products);
        let kinds = Kinds::NONE.with(Kind::Product);
        for input in &inputs {
            let got: Vec<Expected> = s
                .suggest(input, ALL, kinds)
                .into_iter()
                .map(|h| Expected { key: key(&h.text), typos: h.typos, score: h.score })
                .collect();
            let want = reference(&products, input);
            prop_assert_eq!(&got, &want, "input {:?}", input);
            for k in 1..=8 {
                let top: Vec<String> = s.suggest(input, k, kinds).into_iter().map(|h| key(&h.text)).collect();
                let expected: Vec<String> = want.iter().take(k).map(|e| e.key.clone()).collect();
                prop_assert_eq!(top, expected, "input {:?} limit {}", input, k);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Written and read back, completions suggest exactly what they did; any cut or damaged copy
    /// is refused or still suggests without panicking.
    #[test]
    fn stored_completions_suggest_the_same((products, inputs) in catalog_and_inputs(), cut in any::<prop::sample::Index>()) {
        let weights = Weights::default();
        let mut with_brands = products.clone();
        for (i, p) in with_brands.iter_mut().enumerate() {
            p.brand = Some(WORDS[i % WORDS.len()].to_string());
            p.category = vec!["Tools".into(), WORDS[(i * 7) % WORDS.len()].to_string()];
        }
        let catalog = CatalogCompletions::from_products(&with_brands, &weights).unwrap();
        let queries = query_completions(inputs.iter().map(|q| (q.clone(), 3)), &weights).unwrap();
        let (mut catalog_bytes, mut query_bytes) = (Vec::new(), Vec::new());
        catalog.write(&mut catalog_bytes).unwrap();
        queries.write(&mut query_bytes).unwrap();
        let read = CatalogCompletions::read(catalog_bytes.as_slice()).unwrap();
        let read_queries = searchd_autocomplete::Completions::read(query_bytes.as_slice()).unwrap();
        let before = Suggester::new(Arc::new(catalog), Arc::new(queries));
        let after = Suggester::new(Arc::new(read), Arc::new(read_queries));
        for input in &inputs {
            prop_assert_eq!(before.suggest(input, ALL, Kinds::ALL), after.suggest(input, ALL, Kinds::ALL), "input {:?}", input);
        }
        // A cut copy is refused.
        let short = &catalog_bytes[..cut.index(catalog_bytes.len())];
        prop_assert!(CatalogCompletions::read(short).is_err());
    }
}
