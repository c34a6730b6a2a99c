//! Which languages a catalog is written in, learned from what it holds and what is written to
//! it, so that detecting a product's language costs little more than declaring it.
//!
//! whatlang compares a text with every candidate language, so its cost grows with them: about
//! 110 µs for a Home Depot title among all 69 languages, 18 µs among four, on one core. A catalog
//! holds a handful of languages, so detection runs among the *catalog's languages*: the
//! configured ones (`[index] languages`), else learned ones:
//!
//! - at open, every language holding at least [`SEED_SHARE`] of the indexed products;
//! - as products are written, the first [`WARM_UP`] after open and then every [`SAMPLE_EVERY`]th
//!   one are *observed*: the declared language, or, undeclared, the language detected among all
//!   when that detection is reliable (a sampled observation stands for [`SAMPLE_EVERY`] products);
//! - a language joins once it holds [`JOIN_SHARE`] of the recent observations with a language
//!   (counts decay by half every [`HALF_LIFE`] products written) and at least [`JOIN_MIN`] of them.
//!
//! The default language is always one of them. While it is the only one (most catalogs), an
//! undeclared product takes it without running the detector at all, but for the sampled ones.
//! A language that holds only a few per cent of reliable detections is mostly the detector's
//! noise on short texts (1.6% of the reliable detections on Home Depot's English titles say
//! French); a catalog that really mixes in so little of a language can declare it per product or
//! configure `languages`.

use std::sync::{Mutex, PoisonError, RwLock};

use whatlang::{Detector, Lang};

/// The first this many products written after open are each observed: a young catalog (the
/// demo's 312 products in four languages) learns its languages from its first products.
pub const WARM_UP: u64 = 1024;
/// After the warm-up, every this many products written, one is observed (detected among all
/// languages when its language is not declared).
pub const SAMPLE_EVERY: u64 = 16;
/// Observations decay by half every this many products written.
pub const HALF_LIFE: f64 = 4096.0;
/// A language joins the catalog's languages once it holds this share of the recent observations
/// that found a language...
pub const JOIN_SHARE: f64 = 0.05;
/// ...and at least this many of them.
pub const JOIN_MIN: f64 = 8.0;
/// At open, a language holding this share of the indexed products is one of the catalog's.
pub const SEED_SHARE: f64 = 0.01;

/// How a product index detects languages: among fixed candidates, or among the catalog's
/// languages as it learns them.
#[derive(Debug)]
pub(crate) enum Detection {
    /// Among the given languages (every language whatlang knows, or the configured ones).
    Fixed(Detector),
    /// Among the languages the catalog holds, learned as it is written.
    Learned(Learning),
}

impl Detection {
    /// Detects among every language whatlang knows.
    pub(crate) fn every() -> Self {
        Detection::Fixed(Detector::new())
    }

    /// Detects among `languages`, or, when empty, among the languages the catalog is found to
    /// hold, starting with `default`.
    pub(crate) fn among(default: Lang, languages: &[Lang]) -> Self {
        if languages.is_empty() {
            Detection::Learned(Learning::new(default))
        } else {
            Detection::Fixed(Detector::with_allowlist(languages.to_vec()))
        }
    }

    /// The language of a text when the detection is reliable.
    pub(crate) fn detect(&self, text: &str) -> Option<Lang> {
        match self {
            Detection::Fixed(detector) => reliable(detector, text),
            Detection::Learned(learning) => learning.detect(|| text),
        }
    }

    /// The language of a product being written: the declared one, else the detected one when
    /// reliable. The learning observes one product in [`SAMPLE_EVERY`].
    pub(crate) fn of_product(&self, declared: Option<Lang>, sample: impl FnOnce() -> String) -> Option<Lang> {
        match self {
            Detection::Fixed(detector) => declared.or_else(|| reliable(detector, &sample())),
            Detection::Learned(learning) => learning.of_product(declared, sample),
        }
    }

    /// Seeds the learning with the products an index already holds, per language.
    pub(crate) fn seed(&self, held: &[(Lang, u64)]) {
        if let Detection::Learned(learning) = self {
            learning.seed(held);
        }
    }

    /// The languages learned so far; `None` when they are fixed.
    #[cfg(test)]
    fn languages(&self) -> Option<Vec<Lang>> {
        match self {
            Detection::Fixed(_) => None,
            Detection::Learned(learning) => Some(learning.read().languages.clone()),
        }
    }
}

fn reliable(detector: &Detector, text: &str) -> Option<Lang> {
    detector.detect(text).filter(|info| info.is_reliable()).map(|info| info.lang())
}

/// The catalog's languages and what the learning has observed.
#[derive(Debug)]
pub(crate) struct Learning {
    every: Detector,
    catalog: RwLock<Catalog>,
    observed: Mutex<Observed>,
    written: std::sync::atomic::AtomicU64,
}

/// The languages detection runs among, and whatlang restricted to them.
#[derive(Debug)]
struct Catalog {
    languages: Vec<Lang>,
    detector: Detector,
}

impl Catalog {
    fn of(languages: Vec<Lang>) -> Self {
        let detector = Detector::with_allowlist(languages.clone());
        Self { languages, detector }
    }
}

/// Decayed counts of the observations that found a language: per language, the products they
/// stand for and how many observations there were; `total`, the products of all of them.
#[derive(Debug, Default)]
struct Observed {
    counts: Vec<(Lang, f64, f64)>,
    total: f64,
}

impl Learning {
    fn new(default: Lang) -> Self {
        Self {
            every: Detector::new(),
            catalog: RwLock::new(Catalog::of(vec![default])),
            observed: Mutex::default(),
            written: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Detects among the catalog's languages; `text` is built only when there are several.
    fn detect<S: AsRef<str>>(&self, text: impl FnOnce() -> S) -> Option<Lang> {
        let catalog = self.read();
        if catalog.languages.len() == 1 {
            // Among one language every text is "reliably" in it, as undetected ones default to it.
            return None;
        }
        reliable(&catalog.detector, text().as_ref())
    }

    fn of_product(&self, declared: Option<Lang>, sample: impl FnOnce() -> String) -> Option<Lang> {
        let n = self.written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let weight = match n {
            n if n < WARM_UP => 1.0,
            n if n % SAMPLE_EVERY == 0 => SAMPLE_EVERY as f64,
            _ => return declared.or_else(|| self.detect(sample)),
        };
        if let Some(lang) = declared {
            self.observe(Some(lang), weight);
            return Some(lang);
        }
        let text = sample();
        self.observe(reliable(&self.every, &text), weight);
        self.detect(|| text)
    }

    /// Counts one observation standing for `weight` products and lets its language join when it
    /// now holds its share.
    fn observe(&self, lang: Option<Lang>, weight: f64) {
        let decay = 0.5f64.powf(weight / HALF_LIFE);
        let mut observed = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, products, count) in &mut observed.counts {
            *products *= decay;
            *count *= decay;
        }
        observed.total *= decay;
        let Some(lang) = lang else { return };
        let joins = {
            observed.total += weight;
            let (products, count) = match observed.counts.iter_mut().find(|(l, _, _)| *l == lang) {
                Some((_, products, count)) => {
                    *products += weight;
                    *count += 1.0;
                    (*products, *count)
                }
                None => {
                    observed.counts.push((lang, weight, 1.0));
                    (weight, 1.0)
                }
            };
            // Decay leaves a few fresh observations a hair under their number.
            count + 0.5 >= JOIN_MIN && products >= JOIN_SHARE * observed.total
        };
        drop(observed);
        if joins && !self.read().languages.contains(&lang) {
            self.join(std::iter::once(lang));
        }
    }

    fn seed(&self, held: &[(Lang, u64)]) {
        let total: u64 = held.iter().map(|(_, n)| n).sum();
        let seeded = held.iter().filter(|(_, n)| *n as f64 >= SEED_SHARE * total as f64).map(|(l, _)| *l);
        self.join(seeded);
    }

    fn join(&self, langs: impl Iterator<Item = Lang>) {
        let mut catalog = self.catalog.write().unwrap_or_else(PoisonError::into_inner);
        let mut languages = catalog.languages.clone();
        for lang in langs {
            if !languages.contains(&lang) {
                languages.push(lang);
            }
        }
        if languages.len() != catalog.languages.len() {
            tracing::info!(languages = ?languages.iter().map(|l| l.code()).collect::<Vec<_>>(), "catalog languages");
            *catalog = Catalog::of(languages);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FR: &str = "Une perceuse sans fil légère et puissante pour tous vos travaux de bricolage à la maison";
    const DE: &str = "Ein leichter und kräftiger Akkuschrauber für alle Arbeiten im Haus und im Garten";
    const EN: &str = "A light and powerful cordless drill for every job around the house and the garden";

    #[test]
    fn a_language_joins_once_it_holds_its_share() {
        let d = Detection::among(Lang::Eng, &[]);
        assert_eq!(d.languages(), Some(vec![Lang::Eng]));
        // Among the default alone nothing is detected: the default applies. In the warm-up
        // every product is observed: seven observations are not enough, the eighth lets French
        // join.
        for _ in 0..7 {
            assert_eq!(d.of_product(None, || FR.into()), None);
        }
        assert_eq!(d.languages(), Some(vec![Lang::Eng]));
        d.of_product(None, || FR.into());
        assert_eq!(d.languages(), Some(vec![Lang::Eng, Lang::Fra]));
        assert_eq!(d.of_product(None, || FR.into()), Some(Lang::Fra));
        assert_eq!(d.detect(EN), Some(Lang::Eng));
        // German is not among them: a German text is English or nothing.
        assert_ne!(d.detect(DE), Some(Lang::Deu));
    }

    #[test]
    fn after_the_warm_up_one_product_in_sixteen_is_observed() {
        let d = Detection::among(Lang::Eng, &[]);
        for _ in 0..WARM_UP {
            d.of_product(None, || EN.into());
        }
        // Eight sampled French observations, 128 products, all French: a new language arriving.
        for _ in 0..(SAMPLE_EVERY * 7) {
            d.of_product(None, || FR.into());
        }
        assert_eq!(d.languages(), Some(vec![Lang::Eng]));
        for _ in 0..SAMPLE_EVERY {
            d.of_product(None, || FR.into());
        }
        assert_eq!(d.languages(), Some(vec![Lang::Eng, Lang::Fra]));
        // Between samples, only the catalog's languages are detected.
        assert_ne!(d.of_product(None, || DE.into()), Some(Lang::Deu));
    }

    #[test]
    fn a_rare_language_stays_out() {
        let d = Detection::among(Lang::Eng, &[]);
        // One French product in 41 among English ones: 2.4%, under the join share, in the
        // warm-up as in the samples after it.
        for i in 0..(SAMPLE_EVERY * 41 * 20) {
            let text = if i % 41 == 0 { FR } else { EN };
            d.of_product(None, || text.into());
        }
        assert_eq!(d.languages(), Some(vec![Lang::Eng]));
    }

    #[test]
    fn declared_languages_and_the_index_teach_it() {
        let d = Detection::among(Lang::Eng, &[]);
        for _ in 0..8 {
            assert_eq!(d.of_product(Some(Lang::Spa), || unreachable!()), Some(Lang::Spa));
        }
        assert_eq!(d.languages(), Some(vec![Lang::Eng, Lang::Spa]));
        d.seed(&[(Lang::Deu, 200), (Lang::Eng, 9000), (Lang::Ita, 10)]);
        assert_eq!(d.languages(), Some(vec![Lang::Eng, Lang::Spa, Lang::Deu]));
        let fixed = Detection::among(Lang::Eng, &[Lang::Eng, Lang::Deu]);
        assert_eq!(fixed.detect(DE), Some(Lang::Deu));
        assert_eq!(fixed.languages(), None);
    }
}
