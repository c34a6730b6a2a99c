//! "Similar products" on the real catalogs: category agreement against a random baseline, and
//! the recall of the clustered search against exact cosine kNN. Printed for the README
//! (`cargo test --release -p searchd-models --test similar -- --nocapture`).

use std::collections::HashMap;

use searchd_catalog::Product;
use searchd_models::similar::DEFAULT_PROBES;
use searchd_models::train_similar;

/// Items sampled evenly for the measures.
const SAMPLE: usize = 1_000;

struct Quality {
    share: f64,
    baseline: f64,
    recall: f64,
}

/// Share of the top-10 similar products that have the item's `label`, the same for random
/// products (the chance two products share it), and the recall@10 of the clustered search.
fn measure(name: &str, products: Vec<Product>, label: &dyn Fn(&Product) -> String) -> Quality {
    let labels: HashMap<String, String> = products.iter().map(|p| (p.id.clone(), label(p))).collect();
    let mut counts: HashMap<&str, f64> = HashMap::new();
    for l in labels.values() {
        *counts.entry(l).or_default() += 1.0;
    }
    let n = labels.len() as f64;
    let baseline = counts.values().map(|c| c * (c - 1.0)).sum::<f64>() / (n * (n - 1.0));
    let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
    let started = std::time::Instant::now();
    let (model, index) = train_similar(products, &|m| eprintln!("  {m}")).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let sample: Vec<&String> = ids.iter().step_by((ids.len() / SAMPLE).max(1)).collect();
    let exact: Vec<_> = sample.iter().map(|id| index.similar_exact(id, 10).unwrap()).collect();
    for probes in [4, 8, 16, 24, 32] {
        let (mut f, mut e) = (0, 0);
        for (id, exact) in sample.iter().zip(&exact) {
            f += hits(&index.similar(&model, id, 10, probes).unwrap(), exact);
            e += exact.len();
        }
        eprintln!("  probes {probes}: recall {:.3}", f as f64 / e as f64);
    }
    let (mut same, mut total, mut found, mut expected) = (0usize, 0usize, 0usize, 0usize);
    for (id, exact) in sample.iter().zip(&exact) {
        let similar = index.similar(&model, id, 10, DEFAULT_PROBES).unwrap();
        same += similar.iter().filter(|n| labels[&n.id] == labels[id.as_str()]).count();
        total += similar.len();
        found += hits(&similar, exact);
        expected += exact.len();
    }
    let quality = Quality { share: same as f64 / total as f64, baseline, recall: found as f64 / expected as f64 };
    eprintln!(
        "{name}: {} products, {} clusters, trained in {seconds:.2} s; top-10 sharing the label {:.3} (random {:.3}); recall@10 vs exact {:.3}",
        ids.len(),
        model.clusters,
        quality.share,
        quality.baseline,
        quality.recall
    );
    quality
}

/// Clustered results that belong in the exact top 10: its products, or products scoring as
/// high as its last one (ties at the cut are interchangeable).
fn hits(similar: &[searchd_models::Neighbour], exact: &[searchd_models::Neighbour]) -> usize {
    let cut = exact.last().map_or(f32::INFINITY, |n| n.score) - 1e-6;
    similar.iter().filter(|s| s.score >= cut || exact.iter().any(|e| e.id == s.id)).count().min(exact.len())
}

#[test]
fn bigbasket_neighbours_share_the_sub_category() {
    let Some(products) = searchd_testkit::bigbasket_products() else { return };
    let q = measure("bigbasket, second-level category", products, &|p| p.category[1].clone());
    assert!(q.share > 10.0 * q.baseline, "share {} vs random {}", q.share, q.baseline);
    assert!(q.recall >= 0.9, "recall {}", q.recall);
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
    assert!(gender.share > 1.5 * gender.baseline && gender.share > 0.8, "{}", gender.share);
    let article = measure("myntra, article type", products, &article_type);
    assert!(article.share > 5.0 * article.baseline, "share {} vs random {}", article.share, article.baseline);
    assert!(article.recall >= 0.9, "recall {}", article.recall);
}

#[test]
fn home_depot_recall() {
    let Some(products) = searchd_testkit::homedepot_products() else { return };
    // Titles only: no label to agree on, but the biggest catalog for the recall.
    let q = measure("home depot, recall only", products, &|_| String::new());
    assert!(q.recall >= 0.9, "recall {}", q.recall);
}
