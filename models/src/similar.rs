//! "Similar products": hashed TF-IDF product vectors clustered with KMeans (linfa-clustering),
//! searched by cosine in the item's cluster and its nearest clusters.
//!
//! **Vectors.** Each product yields weighted features: its title words (×2), description words
//! (×0.5, at most the first 200), its brand, every prefix of its category path (`a`, `a/b`, …)
//! and its price band (a power of √2 of the price). A feature's weight is `field weight × (1 +
//! ln tf) × idf`, idf learned per hashed bucket of 2^18 over the catalog at training. Features
//! are hashed (with a sign) into [`DIMS`] dimensions — the hashing trick, a sparse random
//! projection of the TF-IDF space — and the vector is L2-normalized, so a dot product is the
//! cosine.
//!
//! **Clusters.** KMeans on normalized vectors (Euclidean on the unit sphere orders like cosine),
//! fitted on an evenly spread sample of at most [`FIT_SAMPLE`] products; then every product is
//! assigned to its nearest centroid. k = round(√(n / 2)), between 1 and [`MAX_CLUSTERS`]: about
//! √(2n) products per cluster, so a query scores `probes × √(2n)` candidates instead of n.
//!
//! **Search.** A query vector is compared with every centroid; the members of the `probes`
//! nearest clusters are scored by cosine; near-duplicates of the item (cosine ≥
//! [`NEAR_DUPLICATE`], or the same folded title) are left out.

use std::collections::HashMap;

use linfa::prelude::*;
use linfa_clustering::KMeans;
use linfa_reduction::Pca;
use ndarray::{Array2, Axis};
use rayon::prelude::*;
use searchd_catalog::Product;
use searchd_catalog::{fold, tokenize};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Dimensions of a product vector.
pub const DIMS: usize = 256;
/// Hashed buckets that carry an idf.
pub const IDF_BUCKETS: usize = 1 << 18;
/// KMeans is fitted on at most this many products.
pub const FIT_SAMPLE: usize = 20_000;
/// Dimensions KMeans works in (PCA of the product vectors).
pub const REDUCED_DIMS: usize = 32;
const KMEANS_ITERATIONS: u64 = 25;
/// Clusters at most, whatever the catalog's size.
pub const MAX_CLUSTERS: usize = 1024;
/// Clusters searched per query by default.
pub const DEFAULT_PROBES: usize = 16;
/// Clusters each product is filed under (its nearest ones): neighbours that straddle a cluster
/// border are found from either side.
pub const ASSIGNMENTS: usize = 3;
/// Cosine at or above which a product is a near-duplicate of the item, not "similar".
pub const NEAR_DUPLICATE: f32 = 0.98;

const TITLE_WEIGHT: f32 = 2.0;
const DESCRIPTION_WEIGHT: f32 = 0.5;
const BRAND_WEIGHT: f32 = 1.5;
const CATEGORY_WEIGHT: f32 = 1.5;
const PRICE_WEIGHT: f32 = 0.5;
const DESCRIPTION_WORDS: usize = 200;

/// A product's features before weighting: (bucket, field weight × (1 + ln tf)).
type Features = Vec<(u32, f32)>;

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn add(counts: &mut HashMap<u32, f32>, kind: &str, text: &str, weight: f32) {
    let mut key = Vec::with_capacity(kind.len() + text.len());
    key.extend_from_slice(kind.as_bytes());
    key.extend_from_slice(text.as_bytes());
    *counts.entry((fnv(&key) % IDF_BUCKETS as u64) as u32).or_default() += weight;
}

/// The hashed features of a product, summed per bucket.
pub fn features(product: &Product) -> Features {
    let mut counts: HashMap<u32, f32> = HashMap::new();
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
    counts.into_iter().map(|(b, w)| (b, if w > 1.0 { 1.0 + w.ln() } else { w })).collect()
}

fn bucket_dim(bucket: u32) -> (usize, f32) {
    let h = fnv(&bucket.to_le_bytes());
    ((h % DIMS as u64) as usize, if (h >> 32) & 1 == 0 { 1.0 } else { -1.0 })
}

/// What training learns: idf per bucket and the clusters' centroids.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimilarModel {
    /// `vNNNNNN` once saved.
    #[serde(default)]
    pub version: String,
    /// Products it was trained on.
    pub products: usize,
    /// idf per bucket, quantized to 1/1000 (buckets never seen: the largest idf).
    pub idf: Vec<u16>,
    /// k × DIMS, row-major, unit length.
    pub centroids: Vec<f32>,
    /// How many clusters (`centroids` holds `clusters` rows).
    pub clusters: usize,
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
    /// Checks the shapes of a loaded model before it is served.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.idf.len() != IDF_BUCKETS {
            return Err(format!("idf has {} buckets, not {IDF_BUCKETS}", self.idf.len()));
        }
        if self.clusters == 0 || self.centroids.len() != self.clusters * DIMS {
            return Err("centroids do not match the cluster count".into());
        }
        if self.centroids.iter().any(|v| !v.is_finite()) {
            return Err("a centroid is not finite".into());
        }
        Ok(())
    }

    /// The unit vector of a product under this model's idf.
    pub fn vector(&self, product: &Product) -> [f32; DIMS] {
        self.vector_of(&features(product))
    }

    fn vector_of(&self, features: &Features) -> [f32; DIMS] {
        let mut v = [0f32; DIMS];
        for &(bucket, weight) in features {
            let idf = f32::from(self.idf[bucket as usize]) / 1000.0;
            let (dim, sign) = bucket_dim(bucket);
            v[dim] += sign * weight * idf;
        }
        normalize(&mut v);
        v
    }

    fn centroid(&self, c: usize) -> &[f32] {
        &self.centroids[c * DIMS..(c + 1) * DIMS]
    }

    /// The clusters a product is filed under: its `ASSIGNMENTS` nearest (repeated when the
    /// model has fewer clusters).
    fn assign(&self, v: &[f32]) -> [u32; ASSIGNMENTS] {
        let nearest = self.nearest_clusters(v, ASSIGNMENTS);
        std::array::from_fn(|i| nearest[i.min(nearest.len() - 1)] as u32)
    }

    /// Clusters by decreasing cosine to `v`.
    fn nearest_clusters(&self, v: &[f32], n: usize) -> Vec<usize> {
        let mut scored: Vec<(usize, f32)> = (0..self.clusters).map(|c| (c, dot(self.centroid(c), v))).collect();
        let n = n.min(scored.len());
        if n < scored.len() {
            scored.select_nth_unstable_by(n, |a, b| b.1.total_cmp(&a.1));
            scored.truncate(n);
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.into_iter().map(|(c, _)| c).collect()
    }
}

/// An assignment's distinct clusters.
fn dedup(clusters: [u32; ASSIGNMENTS]) -> impl Iterator<Item = u32> {
    clusters.into_iter().enumerate().filter(move |(i, c)| !clusters[..*i].contains(c)).map(|(_, c)| c)
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

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The dot product, in eight independent lanes so the compiler can vectorize it (one running
/// sum is a chain of dependent float additions it may not reorder). On BigBasket this halved a
/// similar-products lookup (4.6 → 2.2 ms); what remains is reading the candidates' vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    let mut sums = [0.0f32; LANES];
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            sums[i] += x[i] * y[i];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// The number of clusters for `n` products (see the module notes).
pub fn clusters_for(n: usize) -> usize {
    (((n as f64) / 2.0).sqrt().round() as usize).clamp(1, MAX_CLUSTERS).min(n.max(1))
}

/// Trains the vectors' idf and the clusters on `products`. Returns the model and the index of
/// the same products, ready to serve.
pub fn train_similar(products: Vec<Product>, progress: &dyn Fn(&str)) -> Result<(SimilarModel, SimilarIndex)> {
    let started = std::time::Instant::now();
    if products.is_empty() {
        return Err(Error::Training("no products to train on".into()));
    }
    let features: Vec<Features> = products.par_iter().map(features).collect();
    let mut df = vec![0u32; IDF_BUCKETS];
    for f in &features {
        for &(bucket, _) in f {
            df[bucket as usize] += 1;
        }
    }
    let n = products.len() as f64;
    let idf_of = |d: u32| (((1.0 + n) / (1.0 + f64::from(d))).ln() + 1.0).min(65.0);
    let idf: Vec<u16> = df.iter().map(|&d| (idf_of(d) * 1000.0).round() as u16).collect();
    progress(&format!("features of {} products in {:.1} s", products.len(), started.elapsed().as_secs_f64()));
    let mut model = SimilarModel {
        version: String::new(),
        products: products.len(),
        idf,
        centroids: Vec::new(),
        clusters: 0,
        bought_together: HashMap::new(),
        trained_at: time::OffsetDateTime::now_utc(),
        seconds: 0.0,
    };
    let vectors: Vec<[f32; DIMS]> = features.par_iter().map(|f| model.vector_of(f)).collect();
    drop(features);
    let k = clusters_for(vectors.len());
    let step = (vectors.len() / FIT_SAMPLE).max(1);
    let sample: Vec<&[f32; DIMS]> = vectors.iter().step_by(step).collect();
    let mut fit = Array2::<f64>::zeros((sample.len(), DIMS));
    for (mut row, v) in fit.axis_iter_mut(Axis(0)).zip(&sample) {
        row.iter_mut().zip(v.iter()).for_each(|(x, y)| *x = f64::from(*y));
    }
    // KMeans runs in a PCA-reduced space (linfa's KMeans costs O(n·k·dims) per iteration: 8×
    // fewer dimensions, 8× faster); the centroids are then the members' means in full space.
    let reduced: Option<Array2<f64>> = if sample.len() > REDUCED_DIMS * 4 {
        let pca = Pca::params(REDUCED_DIMS)
            .whiten(false)
            .fit(&DatasetBase::from(fit.view()))
            .map_err(|e| Error::Training(format!("pca: {e}")))?;
        Some(pca.predict(&fit))
    } else {
        None
    };
    let space = reduced.as_ref().unwrap_or(&fit);
    progress(&format!(
        "{} products reduced to {} dims in {:.1} s",
        sample.len(),
        space.ncols(),
        started.elapsed().as_secs_f64()
    ));
    let fitted = KMeans::params(k)
        .n_runs(1)
        .max_n_iterations(KMEANS_ITERATIONS)
        .tolerance(1e-4)
        .fit(&DatasetBase::from(space.view()))
        .map_err(|e| Error::Training(format!("kmeans: {e}")))?;
    let labels = fitted.predict(space);
    let mut sums = Array2::<f64>::zeros((k, DIMS));
    for (row, &label) in fit.axis_iter(Axis(0)).zip(labels.iter()) {
        let mut sum = sums.row_mut(label);
        sum += &row;
    }
    let mut centroids = Vec::with_capacity(k * DIMS);
    for sum in sums.axis_iter(Axis(0)) {
        let mut c: Vec<f32> = sum.iter().map(|&x| x as f32).collect();
        normalize(&mut c);
        // An empty cluster has no centroid worth probing: it is left out.
        if c.iter().any(|&x| x != 0.0) {
            centroids.extend(c);
        }
    }
    model.clusters = centroids.len() / DIMS;
    model.centroids = centroids;
    progress(&format!(
        "{} clusters fitted on {} products in {:.1} s",
        model.clusters,
        sample.len(),
        started.elapsed().as_secs_f64()
    ));
    let index = SimilarIndex::from_vectors(&model, products, vectors);
    model.seconds = started.elapsed().as_secs_f64();
    progress(&format!("every product assigned in {:.1} s", model.seconds));
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
    title: String,
    clusters: [u32; ASSIGNMENTS],
    vector: Box<[f32; DIMS]>,
}

/// The products' vectors grouped by cluster, for one model; updated as products change.
#[derive(Debug, Clone, Default)]
pub struct SimilarIndex {
    entries: Vec<Option<Entry>>,
    by_id: HashMap<String, usize>,
    members: Vec<Vec<u32>>,
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
    /// Vectors for `products` under `model`, assigned to their nearest clusters.
    pub fn build(model: &SimilarModel, products: Vec<Product>) -> Self {
        let vectors = products.par_iter().map(|p| model.vector(p)).collect();
        Self::from_vectors(model, products, vectors)
    }

    fn from_vectors(model: &SimilarModel, products: Vec<Product>, vectors: Vec<[f32; DIMS]>) -> Self {
        let clusters: Vec<[u32; ASSIGNMENTS]> = vectors.par_iter().map(|v| model.assign(v)).collect();
        let mut index = SimilarIndex { members: vec![Vec::new(); model.clusters], ..Self::default() };
        for ((product, vector), cluster) in products.into_iter().zip(vectors).zip(clusters) {
            index.insert(product.id, fold(&product.title), cluster, vector);
        }
        index
    }

    fn insert(&mut self, id: String, title: String, clusters: [u32; ASSIGNMENTS], vector: [f32; DIMS]) {
        self.remove(&id);
        let slot = self.free.pop().unwrap_or(self.entries.len());
        let entry = Entry { id: id.clone(), title, clusters, vector: Box::new(vector) };
        if slot == self.entries.len() {
            self.entries.push(Some(entry));
        } else {
            self.entries[slot] = Some(entry);
        }
        for c in dedup(clusters) {
            self.members[c as usize].push(slot as u32);
        }
        self.by_id.insert(id, slot);
    }

    /// Adds or replaces a product (cold start: it has neighbours at once, from the current model).
    pub fn upsert(&mut self, model: &SimilarModel, product: &Product) {
        let vector = model.vector(product);
        self.insert(product.id.clone(), fold(&product.title), model.assign(&vector), vector);
    }

    /// Forgets a deleted product.
    pub fn remove(&mut self, id: &str) {
        if let Some(slot) = self.by_id.remove(id) {
            if let Some(entry) = self.entries[slot].take() {
                for c in dedup(entry.clusters) {
                    self.members[c as usize].retain(|&s| s as usize != slot);
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

    /// The `limit` products most similar to `id` among the members of its `probes` nearest
    /// clusters; `None` for an unknown id.
    pub fn similar(&self, model: &SimilarModel, id: &str, limit: usize, probes: usize) -> Option<Vec<Neighbour>> {
        let entry = self.entries[*self.by_id.get(id)?].as_ref()?;
        let clusters = model.nearest_clusters(&entry.vector[..], probes.max(1));
        // A product sits in up to ASSIGNMENTS clusters: visit each once.
        let mut seen = vec![0u64; self.entries.len().div_ceil(64)];
        let candidates = clusters.iter().flat_map(|&c| self.members[c].iter().map(|&s| s as usize)).filter(|&s| {
            let (word, bit) = (s / 64, 1u64 << (s % 64));
            let new = seen[word] & bit == 0;
            seen[word] |= bit;
            new
        });
        Some(self.top(entry, candidates, limit))
    }

    /// "Bought together" for `id`: its co-purchased products (association + blend × cosine),
    /// then similar ones (blend × cosine). `None` for an unknown id.
    pub fn bought_together(
        &self,
        model: &SimilarModel,
        id: &str,
        limit: usize,
        probes: usize,
    ) -> Option<Vec<Neighbour>> {
        let entry = self.entries[*self.by_id.get(id)?].as_ref()?;
        let similar = self.similar(model, id, limit, probes)?;
        let mut scores: HashMap<&str, f32> = HashMap::new();
        for (other, association) in model.bought_together.get(id).into_iter().flatten() {
            let Some(slot) = self.by_id.get(other.as_str()) else { continue };
            let Some(o) = self.entries[*slot].as_ref() else { continue };
            scores.insert(other, association + SIMILARITY_BLEND * dot(&o.vector[..], &entry.vector[..]));
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

    /// Exact search over every product (to measure the clustered search's recall).
    pub fn similar_exact(&self, id: &str, limit: usize) -> Option<Vec<Neighbour>> {
        let entry = self.entries[*self.by_id.get(id)?].as_ref()?;
        Some(self.top(entry, 0..self.entries.len(), limit))
    }

    fn top(&self, item: &Entry, candidates: impl Iterator<Item = usize>, limit: usize) -> Vec<Neighbour> {
        let mut scored: Vec<(f32, usize)> = candidates
            .filter_map(|slot| {
                let other = self.entries[slot].as_ref()?;
                if other.id == item.id || other.title == item.title {
                    return None;
                }
                let score = dot(&other.vector[..], &item.vector[..]);
                (score < NEAR_DUPLICATE).then_some((score, slot))
            })
            .collect();
        let limit = limit.min(scored.len());
        if limit < scored.len() {
            scored.select_nth_unstable_by(limit, |a, b| b.0.total_cmp(&a.0));
            scored.truncate(limit);
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .filter_map(|(score, slot)| Some(Neighbour { id: self.entries[slot].as_ref()?.id.clone(), score }))
            .collect()
    }

    /// Product ids, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(model.clusters, clusters_for(121));
        let similar = index.similar(&model, "d0", 10, DEFAULT_PROBES).unwrap();
        assert_eq!(similar.len(), 10);
        assert!(similar.iter().all(|n| n.id.starts_with('d') && n.id != "dup"), "{similar:?}");
        assert!(similar.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(index.similar(&model, "nope", 10, 4).is_none());
        // Cold start: a new product has neighbours at once.
        index.upsert(&model, &product("new", "Garden hose reel, 100 feet", &["Garden", "Hoses"]));
        let similar = index.similar(&model, "new", 5, DEFAULT_PROBES).unwrap();
        assert!(similar.iter().all(|n| n.id.starts_with('s')), "{similar:?}");
        // Bought together: co-purchases first, then similar products.
        model.bought_together = bought_together(vec![vec!["d0", "t5"], vec!["d0", "t5"]], 10);
        let together = index.bought_together(&model, "d0", 5, DEFAULT_PROBES).unwrap();
        assert_eq!(together[0].id, "t5");
        assert!(together[1..].iter().all(|n| n.id.starts_with('d')), "{together:?}");
        index.remove("new");
        assert!(!index.contains("new"));
        assert_eq!(index.len(), 121);
    }
}
