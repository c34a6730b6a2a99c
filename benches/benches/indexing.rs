//! Indexing throughput on real catalogs: Home Depot titles (54,667) and Myntra products with
//! descriptions (12,491). One iteration analyzes, writes, commits and merges the whole catalog.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use searchd_benches::{homedepot_products, index_products, myntra_products};

fn indexing(c: &mut Criterion) {
    let mut group = c.benchmark_group("indexing");
    group.sample_size(10);
    for (name, products) in [("homedepot_titles", homedepot_products()), ("myntra_descriptions", myntra_products())] {
        let Some(products) = products else { continue };
        group.throughput(Throughput::Elements(products.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(|| products.clone(), |p| index_products(p).num_docs(), BatchSize::LargeInput)
        });
    }
    group.finish();
}

criterion_group!(benches, indexing);
criterion_main!(benches);
