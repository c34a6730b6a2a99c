//! Language detection accuracy on real sentences (lingua's test set) for the languages we stem,
//! and stemming agreement with the Snowball reference vocabulary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};

use searchd_indexer::{Analyzer, Language};

fn lines(path: &std::path::Path) -> impl Iterator<Item = String> {
    BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())).lines().map(Result::unwrap)
}

#[test]
fn detection_accuracy_on_lingua_sentences_for_stemmed_languages() {
    let Some(path) = searchd_testkit::shared_data("multilingual_lingua_testdata/sentences.tsv.gz") else { return };
    let analyzer = Analyzer::new(Language::ENGLISH);
    let stemmed: Vec<&str> = Language::stemmed().map(Language::code).collect();
    let mut per_lang: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new(); // (total, correct, reliable-and-correct)
    for line in lines(&path).skip(1) {
        let Some((lang, text)) = line.split_once('\t') else { continue };
        if !stemmed.contains(&lang) {
            continue;
        }
        let e = per_lang.entry(lang.to_string()).or_default();
        e.0 += 1;
        if analyzer.detect_any(text).map(Language::code) == Some(lang) {
            e.1 += 1;
        }
        if analyzer.detect(text).map(Language::code) == Some(lang) {
            e.2 += 1;
        }
    }
    let (total, correct, reliable) = per_lang.values().fold((0, 0, 0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2));
    println!("language detection on lingua sentences, {} languages we stem:", per_lang.len());
    for (lang, (n, c, r)) in &per_lang {
        println!(
            "  {lang}: {:.3} correct, {:.3} confident and correct ({n} sentences)",
            f64::from(*c) / f64::from(*n),
            f64::from(*r) / f64::from(*n)
        );
    }
    let accuracy = f64::from(correct) / f64::from(total);
    println!(
        "overall: {accuracy:.4} correct, {:.4} confident and correct, {total} sentences",
        f64::from(reliable) / f64::from(total)
    );
    assert_eq!(per_lang.len(), 18, "every stemmed language has test sentences");
    assert!(accuracy >= 0.90, "detection accuracy {accuracy:.4} below 0.90");
    for (lang, (n, c, _)) in &per_lang {
        let a = f64::from(*c) / f64::from(*n);
        assert!(a >= 0.75, "{lang}: detection accuracy {a:.3} below 0.75");
    }
}

#[test]
fn english_stemming_agrees_with_the_snowball_reference() {
    let Some(path) = searchd_testkit::shared_data("snowball_stemmer_vocab/english.tsv.gz") else { return };
    let (mut total, mut agree) = (0u32, 0u32);
    let mut examples = Vec::new();
    for line in lines(&path) {
        let Some((word, stem)) = line.split_once('\t') else { continue };
        total += 1;
        let ours = Language::ENGLISH.stem(word);
        if ours == stem {
            agree += 1;
        } else if examples.len() < 5 {
            examples.push(format!("{word}: {ours} (reference {stem})"));
        }
    }
    let share = f64::from(agree) / f64::from(total);
    println!("English stemming agreement with Snowball: {share:.4} of {total} words; e.g. {examples:?}");
    assert!(total > 40_000);
    assert!(share >= 0.98, "agreement {share:.4} below 0.98");
}
