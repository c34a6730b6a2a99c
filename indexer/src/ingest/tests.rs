//! Bulk ingest: field maps, CSV and JSONL rows, bad rows reported by line.

use super::*;

#[test]
fn field_map_parses_and_rejects_unknown_targets() {
    let map: FieldMap = "id=product_uid, title=name, category=cat+sub".parse().unwrap();
    assert_eq!(map.sources("category"), ["cat", "sub"]);
    assert_eq!(map.sources("brand"), ["brand"]);
    let err = "colour=c".parse::<FieldMap>().unwrap_err().to_string();
    assert!(err.contains("colour"), "{err}");
    assert!("title".parse::<FieldMap>().is_err());
}

fn small_index() -> ProductIndex {
    ProductIndex::in_memory(crate::IndexConfig {
        writer_memory_mb: 32,
        writer_threads: 1,
        ..crate::IndexConfig::default()
    })
    .unwrap()
}

#[test]
fn bad_csv_rows_are_reported_by_line_and_the_rest_indexed() {
    let csv = "sku,name,cost,stock\n\
               1,Claw Hammer,12.5,yes\n\
               2,Tape Measure,cheap,yes\n\
               3,\"Saw, \nfolding\",20,no\n\
               ,No Id,3,yes\n\
               5,Level,7,maybe\n\
               6,Chisel,4\n";
    let index = small_index();
    let options = IngestOptions {
        map: "id=sku,title=name,price=cost,in_stock=stock".parse().unwrap(),
        language: Some("en".into()),
    };
    let summary = ingest(&index, csv.as_bytes(), InputFormat::Csv, &options, &mut NoProgress).unwrap();
    assert_eq!((summary.rows, summary.indexed), (6, 3));
    let errors: Vec<(u64, &str)> = summary.errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
    assert_eq!(
        errors,
        [(3, "price: `cheap` is not a number"), (6, "id: missing"), (7, "in_stock: `maybe` is not a boolean")]
    );
    assert_eq!(summary.skipped.get("price"), Some(&1));
    assert_eq!(index.get("3").unwrap().title, "Saw, \nfolding");
    assert!(!index.get("3").unwrap().in_stock);
    assert_eq!(index.get("6").unwrap().price, Some(4.0));
}

#[test]
fn gzip_jsonl_is_detected_and_bad_lines_reported() {
    use std::io::Write;
    let text = "{\"id\":\"a\",\"title\":\"Drill\"}\n\n{not json}\n{\"id\":\"b\",\"title\":\"Saw\",\"rating\":9}\n{\"id\":\"c\",\"title\":\"Level\"}\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let index = small_index();
    let summary = ingest(&index, &bytes[..], InputFormat::Jsonl, &IngestOptions::default(), &mut NoProgress).unwrap();
    assert_eq!(summary.indexed, 2);
    let lines: Vec<u64> = summary.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4]);
    assert!(summary.errors[0].reason.starts_with("malformed JSON"), "{:?}", summary.errors);
    assert!(summary.errors[1].reason.contains("rating"), "{:?}", summary.errors);
    assert_eq!(index.num_docs(), 2);
}

#[test]
fn json_rows_name_the_bad_field() {
    let map = FieldMap::default();
    let err = json_product(r#"{"id":"1","title":"x","price":"cheap"}"#, &map).unwrap_err();
    assert!(err.starts_with("price:"), "{err}");
    let p = json_product(r#"{"sku":"1","name":"Drill","extra":true}"#, &"id=sku,title=name".parse().unwrap()).unwrap();
    assert_eq!((p.id.as_str(), p.title.as_str()), ("1", "Drill"));
    assert!(json_product("{", &map).unwrap_err().starts_with("malformed JSON"));
}
