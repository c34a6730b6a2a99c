//! "Similar products": exact cosine kNN over sparse TF-IDF product vectors, searched through an
//! inverted index.
//!
//! **Vectors.** Each product yields weighted features: its title words (×2), description words
//! (×0.5, at most the first 200), its brand, every prefix of its category path (`a`, `a/b`, …)
//! and its price band (a power of √2 of the price). A feature is named by a 64-bit hash of its
//! kind and text; its weight is `field weight × (1 + ln tf) × idf`, with the idf learned over the
//! catalog at training (a feature first seen later takes the largest idf). The vector is sparse
//! (the product's own features, tens of them) and L2-normalized, so a dot product is the cosine.
//! Nothing is projected or hashed into a few dimensions: 256 hashed dimensions and clusters gave
//! 0.538 of BigBasket's top 10 in the item's sub-category, where exact TF-IDF kNN gives 0.668.
//!
//! **Search.** Every feature has a posting list of the products that carry it, with their
//! weights and the list's largest weight. A request scores the item's lists in decreasing order
//! of what they can add (query weight × the list's largest weight) — MaxScore: once what the
//! remaining lists can add to a product not seen yet is below the tenth best score so far, no
//! new candidate can enter and only the candidates that still could are finished, by a dot
//! product with their own vector. The answer is the exact top k. Near-duplicates of the item
//! (cosine ≥ [`NEAR_DUPLICATE`], or the same folded title) are left out.

use std::collections::HashMap;

use rayon::prelude::*;
use searchd_catalog::Product;
use searchd_catalog::{fold, tokenize};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Cosine at or above which a product is a near-duplicate of the item, not "similar".
pub const NEAR_DUPLICATE: f32 = 0.98;

const TITLE_WEIGHT: f32 = 1.0;
const DESCRIPTION_WEIGHT: f32 = 0.5;
const BRAND_WEIGHT: f32 = 1.5;
const CATEGORY_WEIGHT: f32 = 1.5;
const PRICE_WEIGHT: f32 = 0.5;
const DESCRIPTION_WORDS: usize = 200;

/// A product's features before idf: (feature, field weight × (1 + ln tf)).
type Features = Vec<(u64, f32)>;
/// A product's vector: (feature, weight), sorted by feature, unit length.
type Vector = Vec<(u64, f32)>;

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn add(counts: &mut HashMap<u64, f32>, kind: &str, text: &str, weight: f32) {
    let mut key = Vec::with_capacity(kind.len() + text.len());
    key.extend_from_slice(kind.as_bytes());
    key.extend_from_slice(text.as_bytes());
    *counts.entry(fnv(&key)).or_default() += weight;
}

/// The features of a product, summed per feature.
pub fn features(product: &Product) -> Features {
    let mut counts: HashMap<u64, f32> = HashMap::new();
    let mut words = |text: &str, weight: f32, limit: usize| {
        let folded = fold(text);
        for token in tokenize(&folded).take(limit) {
            if token.text.len() > 1 || token.text.chars().all(|c| c.is_ascii_digit()) {
                add(&mut counts, "w:", token.text, weight);
            }
        }
    };
    words(&product.title, TITLE_WEIGHT, usize::MAX);
    words(&product.description, DESCRIPTION_WEIGHT, DESCRIPTION_WORDS);
    if let Some(brand) = product.brand.as_deref().map(fold).filter(|b| !b.trim().is_empty()) {
        add(&mut counts, "b:", brand.trim(), BRAND_WEIGHT);
    }
    let mut path = String::new();
    for level in &product.category {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(&fold(level.trim()));
        add(&mut counts, "c:", &path, CATEGORY_WEIGHT);
    }
    if let Some(price) = product.price.filter(|p| *p > 0.0 && p.is_finite()) {
        let band = (price.log2() * 2.0).floor() as i64;
        add(&mut counts, "p:", &band.to_string(), PRICE_WEIGHT);
    }
    // Repeated words are dampened: a summed weight w above 1 counts 1 + ln w.
    let mut features: Features = counts.into_iter().map(|(f, w)| (f, if w > 1.0 { 1.0 + w.ln() } else { w })).collect();
    features.sort_unstable_by_key(|(f, _)| *f);
    features
}

/// What training learns: the idf of every feature of the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimilarModel {
    /// `vNNNNNN` once saved.
    #[serde(default)]
    pub version: String,
    /// Products it was trained on.
    pub products: usize,
    /// idf per feature seen at training, quantized to 1/1000, sorted by feature.
    #[serde(default)]
    pub idf: Vec<(u64, u16)>,
    /// idf of a feature never seen at training (the largest an idf can be).
    #[serde(default)]
    pub unseen_idf: u16,
    /// "Bought together": per product, co-purchased products and their association score.
    #[serde(default)]
    pub bought_together: HashMap<String, Vec<(String, f32)>>,
    #[serde(with = "time::serde::rfc3339")]
    /// When it was trained (RFC 3339).
    pub trained_at: time::OffsetDateTime,
    /// Training time in seconds.
    pub seconds: f64,
}

impl SimilarModel {
    /// Checks a loaded model before it is served (one saved by an older format has no idf).
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.unseen_idf == 0 || (self.idf.is_empty() && self.products > 0) {
            return Err("the model has no idf (trained by an older version: train again)".into());
        }
        if self.idf.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err("the idf is not sorted by feature".into());
        }
        Ok(())
    }

    /// Features with an idf.
    pub fn features(&self) -> usize {
        self.idf.len()
    }

    /// The unit vector of a product under this model's idf.
    pub fn vector(&self, product: &Product) -> Vector {
        self.vector_of(features(product))
    }

    fn idf_of(&self, feature: u64) -> f32 {
        let q = match self.idf.binary_search_by_key(&feature, |(f, _)| *f) {
            Ok(i) => self.idf[i].1,
            Err(_) => self.unseen_idf,
        };
        f32::from(q) / 1000.0
    }

    fn vector_of(&self, features: Features) -> Vector {
        let mut v: Vector = features.into_iter().map(|(f, w)| (f, w * self.idf_of(f))).collect();
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        v
    }
}

/// Versioned similar-products artifacts: `similar-000001.json`, ….
pub type SimilarStore = crate::ArtifactStore<SimilarModel>;

impl crate::Artifact for SimilarModel {
    const PREFIX: &'static str = "similar";

    fn set_version(&mut self, version: String) {
        self.version = version;
    }

    fn check(&self) -> std::result::Result<(), String> {
        SimilarModel::check(self)
    }
}

/// The dot product of two sparse vectors sorted by feature.
pub fn dot(a: &[(u64, f32)], b: &[(u64, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// Learns the features' idf on `products`. Returns the model and the index of the same
/// products, ready to serve.
pub fn train_similar(products: Vec<Product>, progress: &dyn Fn(&str)) -> Result<(SimilarModel, SimilarIndex)> {
    let started = std::time::Instant::now();
    if products.is_empty() {
        return Err(Error::Training("no products to train on".into()));
    }
    let features: Vec<Features> = products.par_iter().map(features).collect();
    let mut df: HashMap<u64, u32> = HashMap::new();
    for f in &features {
        for &(feature, _) in f {
            *df.entry(feature).or_default() += 1;
        }
    }
    let n = products.len() as f64;
    let quantize = |d: f64| ((((1.0 + n) / (1.0 + d)).ln() + 1.0).min(65.0) * 1000.0).round() as u16;
    let mut idf: Vec<(u64, u16)> = df.into_iter().map(|(f, d)| (f, quantize(f64::from(d)))).collect();
    idf.sort_unstable_by_key(|(f, _)| *f);
    progress(&format!(
        "{} features of {} products in {:.1} s",
        idf.len(),
        products.len(),
        started.elapsed().as_secs_f64()
    ));
    let mut model = SimilarModel {
        version: String::new(),
        products: products.len(),
        idf,
        unseen_idf: quantize(0.0),
        bought_together: HashMap::new(),
        trained_at: time::OffsetDateTime::now_utc(),
        seconds: 0.0,
    };
    let vectors: Vec<Vector> = features.into_par_iter().map(|f| model.vector_of(f)).collect();
    let index = SimilarIndex::from_vectors(products, vectors);
    model.seconds = started.elapsed().as_secs_f64();
    progress(&format!("every product indexed in {:.1} s", model.seconds));
    Ok((model, index))
}

/// "Bought together" from sessions' baskets (the products a session put in its cart or
/// bought): for each product, the others by association `co(a, b) / √(n(a) · n(b))` — the cosine
/// of their session columns — best first, at most `per_product`. Baskets over 50 products are
/// cut to their first 50 (bulk buyers say little about pairs).
pub fn bought_together<'a>(
    baskets: impl IntoIterator<Item = Vec<&'a str>>,
    per_product: usize,
) -> HashMap<String, Vec<(String, f32)>> {
    let mut counts: HashMap<&str, u32> = HashMap::new();
    let mut pairs: HashMap<(&str, &str), u32> = HashMap::new();
    for basket in baskets {
        let basket = &basket[..basket.len().min(50)];
        for (i, a) in basket.iter().enumerate() {
            *counts.entry(a).or_default() += 1;
            for b in &basket[i + 1..] {
                if a != b {
                    *pairs.entry(if a < b { (a, b) } else { (b, a) }).or_default() += 1;
                }
            }
        }
    }
    let mut out: HashMap<String, Vec<(String, f32)>> = HashMap::new();
    for ((a, b), co) in pairs {
        let score = co as f32 / ((counts[a] * counts[b]) as f32).sqrt();
        out.entry(a.to_string()).or_default().push((b.to_string(), score));
        out.entry(b.to_string()).or_default().push((a.to_string(), score));
    }
    for list in out.values_mut() {
        list.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        list.truncate(per_product);
    }
    out
}

/// Weight of similarity when blended into "bought together": co-purchased products come first,
/// similarity orders ties and fills the list when a product has few co-purchases.
pub const SIMILARITY_BLEND: f32 = 0.3;

/// One product in the index.
#[derive(Debug, Clone)]
struct Entry {
    id: String,
    vector: Vector,
}

/// The products that carry a feature, with their weights, and the largest of them.
#[derive(Debug, Clone, Default)]
struct Posting {
    docs: Vec<(u32, f32)>,
    max: f32,
}

/// The products' vectors and their posting lists, for one model; updated as products change.
#[derive(Debug, Clone, Default)]
pub struct SimilarIndex {
    entries: Vec<Option<Entry>>,
    /// Per slot, a hash of the product's folded title (0 for a free slot): what the
    /// near-duplicate check reads for thousands of candidates, kept apart from the entries.
    titles: Vec<u64>,
    by_id: HashMap<String, usize>,
    postings: HashMap<u64, Posting>,
    free: Vec<usize>,
}

/// A similar product and its cosine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    /// The product's id.
    pub id: String,
    /// Cosine similarity (or the bought-together association).
    pub score: f32,
}

impl SimilarIndex {
    /// Vectors for `products` under `model`, with their posting lists.
    pub fn build(model: &SimilarModel, products: Vec<Product>) -> Self {
        let mut index = Self::default();
        index.extend(model, products);
        index
    }

    /// Adds `products` (vectors computed on every core): a catalog read in chunks is indexed
    /// without holding all its products at once.
    pub fn extend(&mut self, model: &SimilarModel, products: Vec<Product>) {
        let vectors: Vec<Vector> = products.par_iter().map(|p| model.vector(p)).collect();
        self.insert_all(products, vectors);
    }

    fn from_vectors(products: Vec<Product>, vectors: Vec<Vector>) -> Self {
        let mut index = SimilarIndex::default();
        index.insert_all(products, vectors);
        index
    }

    fn insert_all(&mut self, products: Vec<Product>, vectors: Vec<Vector>) {
        for (product, vector) in products.into_iter().zip(vectors) {
            self.insert(product.id, &product.title, vector);
        }
    }

    fn insert(&mut self, id: String, title: &str, vector: Vector) {
        self.remove(&id);
        let slot = self.free.pop().unwrap_or(self.entries.len());
        for &(feature, weight) in &vector {
            let posting = self.postings.entry(feature).or_default();
            posting.docs.push((slot as u32, weight));
            posting.max = posting.max.max(weight);
        }
        let entry = Entry { id: id.clone(), vector };
        let title = fnv(fold(title).as_bytes()) | 1;
        if slot == self.entries.len() {
            self.entries.push(Some(entry));
            self.titles.push(title);
        } else {
            self.entries[slot] = Some(entry);
            self.titles[slot] = title;
        }
        self.by_id.insert(id, slot);
    }

    /// Adds or replaces a product (cold start: it has neighbours at once, from the current model).
    pub fn upsert(&mut self, model: &SimilarModel, product: &Product) {
        self.insert(product.id.clone(), &product.title, model.vector(product));
    }

    /// Forgets a deleted product. (A list's largest weight stays: it is only an upper bound.)
    pub fn remove(&mut self, id: &str) {
        if let Some(slot) = self.by_id.remove(id) {
            self.titles[slot] = 0;
            if let Some(entry) = self.entries[slot].take() {
                for (feature, _) in &entry.vector {
                    if let Some(posting) = self.postings.get_mut(feature) {
                        posting.docs.retain(|&(s, _)| s as usize != slot);
                        if posting.docs.is_empty() {
                            self.postings.remove(feature);
                        }
                    }
                }
            }
            self.free.push(slot);
        }
    }

    /// Products with a vector.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no product has a vector.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether `id` has a vector.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The `limit` products most similar to `id` (exact cosine kNN); `None` for an unknown id.
    pub fn similar(&self, id: &str, limit: usize) -> Option<Vec<Neighbour>> {
        let slot = *self.by_id.get(id)?;
        Some(self.top(slot, limit))
    }

    /// "Bought together" for `id`: its co-purchased products (association + blend × cosine),
    /// then similar ones (blend × cosine). `None` for an unknown id.
    pub fn bought_together(&self, model: &SimilarModel, id: &str, limit: usize) -> Option<Vec<Neighbour>> {
        let slot = *self.by_id.get(id)?;
        let entry = self.entries[slot].as_ref()?;
        let similar = self.top(slot, limit);
        let mut scores: HashMap<&str, f32> = HashMap::new();
        for (other, association) in model.bought_together.get(id).into_iter().flatten() {
            let Some(slot) = self.by_id.get(other.as_str()) else { continue };
            let Some(o) = self.entries[*slot].as_ref() else { continue };
            scores.insert(other, association + SIMILARITY_BLEND * dot(&o.vector, &entry.vector));
        }
        for n in &similar {
            scores.entry(n.id.as_str()).or_insert(SIMILARITY_BLEND * n.score);
        }
        let mut out: Vec<Neighbour> =
            scores.into_iter().map(|(id, score)| Neighbour { id: id.to_string(), score }).collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        out.truncate(limit);
        Some(out)
    }

    /// Whether the product in slot `other` may be answered for the one in `item` with cosine
    /// `score`: a product, not the item itself, not a near-duplicate.
    fn eligible(&self, item: usize, other: usize, score: f32) -> bool {
        let title = self.titles[other];
        other != item && title != 0 && title != self.titles[item] && score < NEAR_DUPLICATE
    }

    /// The exact top `limit` by cosine, through the posting lists with MaxScore (module notes).
    fn top(&self, item_slot: usize, limit: usize) -> Vec<Neighbour> {
        let Some(item) = self.entries[item_slot].as_ref() else { return Vec::new() };
        if limit == 0 {
            return Vec::new();
        }
        let mut lists: Vec<(f32, &Posting)> =
            item.vector.iter().filter_map(|(f, w)| Some((*w, self.postings.get(f)?))).collect();
        lists.sort_by(|a, b| (b.0 * b.1.max).total_cmp(&(a.0 * a.1.max)));
        // rest[i]: the most the lists from i on can add to one product.
        let mut rest = vec![0f32; lists.len() + 1];
        for i in (0..lists.len()).rev() {
            rest[i] = rest[i + 1] + lists[i].0 * lists[i].1.max;
        }
        let mut partial = vec![0f32; self.entries.len()];
        let mut touched: Vec<u32> = Vec::new();
        let (mut scored, mut best) = (lists.len(), 0f32);
        let (mut threshold, mut check_below) = (f32::NEG_INFINITY, f32::INFINITY);
        for (i, (weight, posting)) in lists.iter().enumerate() {
            // A product not seen yet scores at most rest[i]; prune once that cannot reach the
            // k-th best lower bound. Worth computing only once rest[i] falls below the best
            // partial score, and again only after rest[i] fell by a tenth.
            if i > 0 && rest[i] < best && rest[i] < check_below && touched.len() >= limit {
                threshold = self.kth_partial(item_slot, &partial, &touched, rest[i], limit);
                if rest[i] < threshold {
                    scored = i;
                    break;
                }
                check_below = rest[i] * 0.9;
            }
            for &(slot, w) in &posting.docs {
                let p = &mut partial[slot as usize];
                if *p == 0.0 {
                    touched.push(slot);
                }
                *p += weight * w;
                best = best.max(*p);
            }
        }
        // Candidates that can still make the top k, by decreasing partial score: their bounds
        // (partial + rest) decrease too, so once one cannot beat the k-th best found, none can.
        let bound = rest[scored];
        let mut candidates: Vec<(f32, u32)> =
            touched.iter().map(|&s| (partial[s as usize], s)).filter(|(p, _)| p + bound >= threshold).collect();
        candidates.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut found: Vec<(f32, usize)> = Vec::with_capacity(limit + 1);
        for (p, slot) in candidates {
            let worst = (found.len() == limit).then(|| found.iter().map(|f| f.0).fold(f32::INFINITY, f32::min));
            if worst.is_some_and(|worst| p + bound < worst) {
                break;
            }
            let Some(other) = self.entries[slot as usize].as_ref() else { continue };
            let score = if scored == lists.len() { p } else { dot(&item.vector, &other.vector) };
            if !self.eligible(item_slot, slot as usize, score) || worst.is_some_and(|worst| score < worst) {
                continue;
            }
            found.push((score, slot as usize));
            if found.len() > limit {
                // Out goes the lowest score (the latest slot among equals).
                let out = (0..found.len())
                    .min_by(|&a, &b| found[a].0.total_cmp(&found[b].0).then(found[b].1.cmp(&found[a].1)))
                    .unwrap_or(0);
                found.swap_remove(out);
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        found
            .into_iter()
            .filter_map(|(score, slot)| Some(Neighbour { id: self.entries[slot].as_ref()?.id.clone(), score }))
            .collect()
    }

    /// A lower bound of the k-th best eligible score: the k-th largest partial score among the
    /// candidates that cannot be near-duplicates whatever the rest adds (`partial + rest` under
    /// the near-duplicate cosine). `-inf` when fewer than k are such.
    fn kth_partial(&self, item: usize, partial: &[f32], touched: &[u32], rest: f32, k: usize) -> f32 {
        let mut sure: Vec<f32> = touched
            .iter()
            .map(|&slot| (partial[slot as usize], slot as usize))
            .filter(|&(p, slot)| p + rest < NEAR_DUPLICATE && self.eligible(item, slot, p))
            .map(|(p, _)| p)
            .collect();
        if sure.len() < k {
            return f32::NEG_INFINITY;
        }
        let (_, kth, _) = sure.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        *kth
    }

    /// Product ids, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn product(id: &str, title: &str, category: &[&str]) -> Product {
        let mut p = Product::new(id, title);
        p.category = category.iter().map(|c| c.to_string()).collect();
        p
    }

    #[test]
    fn bought_together_ranks_by_association() {
        let baskets = vec![vec!["a", "b"], vec!["a", "b", "c"], vec!["a", "c"], vec!["a", "b"], vec!["d", "e"]];
        let table = bought_together(baskets, 10);
        let a: Vec<&str> = table["a"].iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(a, ["b", "c"]);
        assert!(table["a"][0].1 > table["a"][1].1);
        assert_eq!(table["d"][0].0, "e");
        assert!(!table.contains_key("f"));
    }

    #[test]
    fn neighbours_share_words_and_categories_and_skip_duplicates() {
        let mut products = Vec::new();
        for i in 0..40 {
            products.push(product(&format!("d{i}"), &format!("Cordless drill {i} volt kit"), &["Tools", "Drills"]));
            products.push(product(&format!("s{i}"), &format!("Garden hose {i} feet"), &["Garden", "Hoses"]));
            products.push(product(&format!("t{i}"), &format!("Tent for {i} people"), &["Outdoor", "Tents"]));
        }
        products.push(product("dup", "Cordless drill 0 volt kit", &["Tools", "Drills"]));
        let (mut model, mut index) = train_similar(products, &|_| {}).unwrap();
        model.check().unwrap();
        let similar = index.similar("d0", 10).unwrap();
        assert_eq!(similar.len(), 10);
        assert!(similar.iter().all(|n| n.id.starts_with('d') && n.id != "dup"), "{similar:?}");
        assert!(similar.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(index.similar("nope", 10).is_none());
        // Cold start: a new product has neighbours at once.
        index.upsert(&model, &product("new", "Garden hose reel, 100 feet", &["Garden", "Hoses"]));
        let similar = index.similar("new", 5).unwrap();
        assert!(similar.iter().all(|n| n.id.starts_with('s')), "{similar:?}");
        // Bought together: co-purchases first, then similar products.
        model.bought_together = bought_together(vec![vec!["d0", "t5"], vec!["d0", "t5"]], 10);
        let together = index.bought_together(&model, "d0", 5).unwrap();
        assert_eq!(together[0].id, "t5");
        assert!(together[1..].iter().all(|n| n.id.starts_with('d')), "{together:?}");
        index.remove("new");
        assert!(!index.contains("new"));
        assert_eq!(index.len(), 121);
        assert!(index.postings.values().all(|p| p.docs.iter().all(|(s, _)| index.entries[*s as usize].is_some())));
    }

    /// The top k by scoring every product's cosine: the obviously correct answer.
    fn brute_force(index: &SimilarIndex, id: &str, k: usize) -> Vec<f32> {
        let slot = index.by_id[id];
        let item = index.entries[slot].as_ref().unwrap();
        let mut scores: Vec<f32> = (0..index.entries.len())
            .filter_map(|other| Some((other, dot(&item.vector, &index.entries[other].as_ref()?.vector))))
            // A product that shares no feature is not similar at all.
            .filter(|&(other, score)| score > 0.0 && index.eligible(slot, other, score))
            .map(|(_, score)| score)
            .collect();
        scores.sort_by(|a, b| b.total_cmp(a));
        scores.truncate(k);
        scores
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Random catalogs over a small vocabulary (so lists are long and scores tie), with
        /// products removed and rewritten: the pruned search's scores equal brute force's, and
        /// each answered product's score is its true cosine.
        #[test]
        fn the_pruned_search_is_exact(
            titles in prop::collection::vec(prop::collection::vec(0usize..30, 1..8), 20..120),
            brands in prop::collection::vec(0usize..6, 120),
            removed in prop::collection::vec(0usize..120, 0..10),
            k in 1usize..15,
        ) {
            const WORDS: [&str; 30] = ["drill", "saw", "bit", "kit", "cordless", "volt", "blade", "steel", "wood",
                "garden", "hose", "reel", "pump", "tent", "lamp", "led", "white", "black", "pack", "set", "mini",
                "pro", "max", "plus", "oak", "pine", "glass", "brass", "nut", "bolt"];
            let products: Vec<Product> = titles.iter().enumerate().map(|(i, words)| {
                let title: Vec<&str> = words.iter().map(|w| WORDS[*w]).collect();
                let mut p = product(&format!("p{i}"), &title.join(" "), &[]);
                p.brand = Some(format!("brand{}", brands[i]));
                p
            }).collect();
            let (model, mut index) = train_similar(products.clone(), &|_| {}).unwrap();
            for r in &removed {
                if let Some(p) = products.get(*r) {
                    index.remove(&p.id);
                }
            }
            for r in removed.iter().step_by(2) {
                if let Some(p) = products.get(*r) {
                    index.upsert(&model, p);
                }
            }
            for p in &products {
                let Some(found) = index.similar(&p.id, k) else { continue };
                let expected = brute_force(&index, &p.id, k);
                prop_assert_eq!(found.len(), expected.len(), "{}: {:?} vs {:?}", p.id, found, expected);
                let item = &index.entries[index.by_id[&p.id]].as_ref().unwrap().vector;
                for (n, e) in found.iter().zip(&expected) {
                    prop_assert!((n.score - e).abs() < 1e-5, "{} vs {}", n.score, e);
                    let other = &index.entries[index.by_id[&n.id]].as_ref().unwrap().vector;
                    prop_assert!((dot(item, other) - n.score).abs() < 1e-5);
                }
            }
        }
    }
}
