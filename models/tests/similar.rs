//! "Similar products" on the real catalogs: category agreement against exact TF-IDF cosine kNN
//! computed here by brute force, and against a random baseline. Printed for the docs
//! (`cargo test --release -p searchd-models --test similar -- --nocapture`).

use std::collections::HashMap;

use searchd_catalog::{Product, fold};
use searchd_models::train_similar;

/// Items sampled at random (seeded) for the measures.
const SAMPLE: usize = 300;

/// `n` distinct indexes below `len`, drawn with a seeded SplitMix64.
fn sample(len: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut picked = Vec::new();
    while picked.len() < n.min(len) {
        let i = (next() % len as u64) as usize;
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked
}

/// Plain TF-IDF (raw term counts, smoothed idf `ln((1 + n) / (1 + df)) + 1`, unit length) over
/// the words of a product's title and brand: the textbook vector space model.
fn tfidf(products: &[Product]) -> Vec<HashMap<String, f64>> {
    let words = |p: &Product| -> Vec<String> {
        let text = format!("{} {}", p.title, p.brand.as_deref().unwrap_or(""));
        text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(String::from).collect()
    };
    let counts: Vec<HashMap<String, f64>> = products
        .iter()
        .map(|p| {
            let mut tf = HashMap::new();
            for w in words(p) {
                *tf.entry(w).or_insert(0.0) += 1.0;
            }
            tf
        })
        .collect();
    let mut df: HashMap<&str, f64> = HashMap::new();
    for tf in &counts {
        for w in tf.keys() {
            *df.entry(w).or_insert(0.0) += 1.0;
        }
    }
    let n = products.len() as f64;
    counts
        .iter()
        .map(|tf| {
            let mut v: HashMap<String, f64> =
                tf.iter().map(|(w, c)| (w.clone(), c * (((1.0 + n) / (1.0 + df[w.as_str()])).ln() + 1.0))).collect();
            let norm = v.values().map(|x| x * x).sum::<f64>().sqrt();
            v.values_mut().for_each(|x| *x /= norm.max(f64::MIN_POSITIVE));
            v
        })
        .collect()
}

fn cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small.iter().filter_map(|(w, x)| large.get(w).map(|y| x * y)).sum()
}

/// The exact TF-IDF top 10 of item `i` by scoring every product, with the engine's exclusions
/// (the item, products of the same folded title, near-duplicates at cosine ≥ 0.98).
fn exact_top10(vectors: &[HashMap<String, f64>], titles: &[String], i: usize) -> Vec<usize> {
    let mut scored: Vec<(f64, usize)> = (0..vectors.len())
        .filter(|&j| j != i && titles[j] != titles[i])
        .map(|j| (cosine(&vectors[i], &vectors[j]), j))
        .filter(|(s, _)| *s < 0.98)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(10).map(|(_, j)| j).collect()
}

struct Quality {
    share: f64,
    baseline: f64,
    random: f64,
}

/// Share of the top-10 similar products that have the item's `label`, for the engine and for
/// exact TF-IDF kNN over title and brand, on the same random items; also the chance that two
/// random products share the label. Prints the lookup times (whole-catalog p50 and p99).
fn measure(name: &str, products: Vec<Product>, label: &dyn Fn(&Product) -> String) -> Quality {
    let labels: Vec<String> = products.iter().map(label).collect();
    let mut counts: HashMap<&str, f64> = HashMap::new();
    for l in &labels {
        *counts.entry(l).or_default() += 1.0;
    }
    let n = labels.len() as f64;
    let random = counts.values().map(|c| c * (c - 1.0)).sum::<f64>() / (n * (n - 1.0));
    let position: HashMap<String, usize> = products.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
    let titles: Vec<String> = products.iter().map(|p| fold(&p.title)).collect();
    let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
    let vectors = tfidf(&products);
    let items = sample(products.len(), SAMPLE, 7);
    let started = std::time::Instant::now();
    let (model, index) = train_similar(products, &|m| eprintln!("  {m}")).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let (mut same, mut total, mut base_same, mut base_total) = (0usize, 0usize, 0usize, 0usize);
    let mut times = Vec::new();
    for &i in &items {
        let t = std::time::Instant::now();
        let similar = index.similar(&ids[i], 10).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        same += similar.iter().filter(|n| labels[position[&n.id]] == labels[i]).count();
        total += similar.len();
        let exact = exact_top10(&vectors, &titles, i);
        base_same += exact.iter().filter(|&&j| labels[j] == labels[i]).count();
        base_total += exact.len();
    }
    times.sort_by(f64::total_cmp);
    let q = Quality { share: same as f64 / total as f64, baseline: base_same as f64 / base_total as f64, random };
    eprintln!(
        "{name}: {} products, {} features, trained in {seconds:.2} s; top-10 sharing the label over {} random items: {:.3}, exact TF-IDF kNN on title + brand {:.3}, random {:.3}; lookup p50 {:.2} ms, p99 {:.2} ms",
        labels.len(),
        model.features(),
        items.len(),
        q.share,
        q.baseline,
        q.random,
        times[times.len() / 2],
        times[times.len() * 99 / 100],
    );
    q
}

/// BigBasket without its category columns: the model sees titles, brands and prices only, and
/// is judged on the sub-category it never saw.
#[test]
fn bigbasket_neighbours_share_the_sub_category() {
    let Some(products) = searchd_testkit::bigbasket_products() else { return };
    let labels: HashMap<String, String> = products.iter().map(|p| (p.id.clone(), p.category[1].clone())).collect();
    let products = products.into_iter().map(|p| Product { category: Vec::new(), ..p }).collect();
    let q = measure("bigbasket without categories, sub-category", products, &|p| labels[&p.id].clone());
    assert!(q.share >= q.baseline, "share {} under exact TF-IDF kNN's {}", q.share, q.baseline);
    assert!(q.share >= 0.668, "share {}", q.share);
    assert!(q.share > 10.0 * q.random, "share {} vs random {}", q.share, q.random);
}

/// The article type of a Myntra product is the last word of its name ("… Trolley Bag" → bag),
/// before a trailing "with …" clause: the catalog has no such column.
fn article_type(p: &Product) -> String {
    let name = p.title.to_lowercase();
    let name = name.split(" with ").next().unwrap_or(&name);
    name.split(|c: char| !c.is_alphanumeric()).rfind(|w| !w.is_empty()).unwrap_or("").to_string()
}

#[test]
fn myntra_neighbours_share_gender_and_article_type() {
    let Some(products) = searchd_testkit::myntra_products() else { return };
    let gender = measure("myntra, gender", products.clone(), &|p| p.category[0].clone());
    assert!(gender.share > 1.5 * gender.random && gender.share > 0.8, "{}", gender.share);
    let article = measure("myntra, article type", products, &article_type);
    assert!(article.share > 5.0 * article.random, "share {} vs random {}", article.share, article.random);
}

/// Home Depot has no category: its titles' last word stands for the product type.
#[test]
fn home_depot_neighbours_share_the_product_type() {
    let Some(products) = searchd_testkit::homedepot_products() else { return };
    let q = measure("home depot, last title word", products, &article_type);
    assert!(q.share > 5.0 * q.random, "share {} vs random {}", q.share, q.random);
}
