//! Recommendations on the BigBasket catalog (27,555 products with brands, category paths, prices
//! and ratings):
//! - a refresh as the nightly schedule and `POST /v1/admin/recommendations/refresh` run it
//!   (every product read from the index, features, idf, vectors and posting lists, the artifact
//!   saved as a new version, the model swapped in);
//! - "similar products" lookups on the served model, top 10, each product in turn, as the
//!   `/v1/products/{id}/similar` route makes them.

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use searchd_benches::{bigbasket_index, summary, timed};
use searchd_engine::{Recommendations, RecommendationsConfig};
use searchd_models::SimilarStore;
use searchd_ranking::{EventStore, EventsConfig};

fn recommend(c: &mut Criterion) {
    let Some(index) = bigbasket_index() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = RecommendationsConfig { keep: 2, ..RecommendationsConfig::default() };
    let recommendations = Recommendations::new(SimilarStore::new(dir.path(), config.keep), config);
    let events = EventStore::in_memory(EventsConfig::default());
    let report = recommendations.refresh(&index, &events).expect("refresh");
    println!(
        "recommend: first refresh {:.2} s, {} products, {} features",
        report.seconds, report.products, report.features
    );

    let mut group = c.benchmark_group("recommend");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(std::time::Duration::from_secs(40));
    group.bench_function("refresh_bigbasket", |b| {
        b.iter(|| recommendations.refresh(&index, &events).expect("refresh").features)
    });
    group.finish();

    // Lookups on the model the last refresh served, through the routes' own path.
    let mut ids = Vec::new();
    index.for_each_product(|p| ids.push(p.id)).expect("products");
    // In random order: Criterion's few thousand calls are then a fair sample of the catalog
    // (the index keeps the file's order, grouped by category).
    ids.shuffle(&mut StdRng::seed_from_u64(7));
    let lookup = |id: &String| {
        let (_, found) =
            recommendations.lookup(10, |_, vectors, limit| vectors.similar(id, limit)).expect("a served model");
        found.expect("known id").len() as u64
    };
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
