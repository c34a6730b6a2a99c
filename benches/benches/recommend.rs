//! Recommendations on the BigBasket catalog (27,555 products with brands, category paths, prices
//! and ratings):
//! - a refresh as the nightly schedule and `POST /v1/admin/recommendations/refresh` run it
//!   (every product read from the index, features, PCA, KMeans, assignment, the artifact saved as
//!   a new version, the model swapped in);
//! - "similar products" lookups on the served model, top 10, each product in turn.

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use searchd_api::recommend::{Recommendations, RecommendationsConfig};
use searchd_benches::{bigbasket_index, summary, timed};
use searchd_models::{SimilarStore, similar};
use searchd_ranking::{EventStore, EventsConfig};

fn recommend(c: &mut Criterion) {
    let Some(index) = bigbasket_index() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = RecommendationsConfig { keep: 2, ..RecommendationsConfig::default() };
    let recommendations = Recommendations::new(SimilarStore::new(dir.path(), config.keep), config);
    let events = EventStore::in_memory(EventsConfig::default());
    let report = recommendations.refresh(&index, &events).expect("refresh");
    println!(
        "recommend: first refresh {:.2} s, {} products, {} clusters",
        report.seconds, report.products, report.clusters
    );

    let mut group = c.benchmark_group("recommend");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(std::time::Duration::from_secs(40));
    group.bench_function("refresh_bigbasket", |b| {
        b.iter(|| recommendations.refresh(&index, &events).expect("refresh").clusters)
    });
    group.finish();

    let mut products = Vec::new();
    index.for_each_product(|p| products.push(p)).expect("products");
    let (model, vectors) = similar::train_similar(products, &|_| {}).expect("train");
    let ids: Vec<String> = vectors.ids().map(str::to_string).collect();
    let lookup = |id: &String| vectors.similar(&model, id, 10, similar::DEFAULT_PROBES).expect("known id").len() as u64;
    let (mut samples, found) = timed(&ids, lookup);
    summary("recommend: similar products, top 10, every product", &mut samples, found, "neighbours");
    let mut group = c.benchmark_group("recommend");
    let mut i = 0;
    group.bench_function("similar_top10", |b| {
        b.iter(|| {
            i = (i + 1) % ids.len();
            lookup(&ids[i])
        })
    });
    group.finish();
}

criterion_group!(benches, recommend);
criterion_main!(benches);
