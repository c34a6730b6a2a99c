//! Indexing throughput on real catalogs through the bulk path `searchd index` uses (gzip CSV →
//! parse → analyze on all cores → write → commit → merge), into an in-memory index: Home Depot
//! titles (54,667) and Myntra products with descriptions (12,491). Each catalog twice: with the
//! language detected per product (whatlang), and declared for the file (`--lang en`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use searchd_benches::bench_config;
use searchd_indexer::{IngestOptions, InputFormat, NoProgress, ProductIndex};

fn indexing(c: &mut Criterion) {
    let mut group = c.benchmark_group("indexing");
    group.sample_size(10);
    let catalogs = [
        ("homedepot_titles", "homedepot/products.csv.gz", "id=product_uid,title=title", 54_667u64),
        (
            "myntra_descriptions",
            "myntra_products/myntra_products_catalog.csv.gz",
            "id=ProductID,title=ProductName,brand=ProductBrand,price=Price,description=Description,category=Gender",
            12_491,
        ),
    ];
    for (name, file, map, rows) in catalogs {
        let Some(path) = searchd_testkit::shared_data(file) else { continue };
        let bytes = std::fs::read(path).expect("data file");
        group.throughput(Throughput::Elements(rows));
        for (variant, language) in [("detected", None), ("declared", Some("en".to_string()))] {
            let options = IngestOptions { map: map.parse().expect("map"), language };
            group.bench_function(format!("{name}_{variant}"), |b| {
                b.iter(|| {
                    let index = ProductIndex::in_memory(bench_config()).expect("index");
                    let summary =
                        searchd_indexer::ingest(&index, &bytes[..], InputFormat::Csv, &options, &mut NoProgress)
                            .expect("ingest");
                    assert_eq!(summary.indexed, rows);
                    index.num_docs()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, indexing);
criterion_main!(benches);
