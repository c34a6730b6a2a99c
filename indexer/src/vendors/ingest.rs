//! Bulk ingest of vendors from CSV or JSONL (gzip detected), through the same reader, field
//! map, progress and summary as products.
//!
//! CSV columns are the vendor's fields, with `lat` and `lon` for its location and `|` between
//! the items of `categories`, `tags` and `languages`; `attr.NAME=column` maps a column to an
//! attribute (its cell as text, as for products). JSONL rows are vendor objects as the HTTP
//! API takes them (`location: {lat, lon}`), or flat with `lat` and `lon` keys.

use std::io::Read;
use std::time::Instant;

use searchd_catalog::Vendor;
use serde_json::{Map, Value};

use crate::ingest::{CountingReader, CsvPlan, Rows, parse_time, read_csv, read_jsonl};
use crate::{FieldMap, IngestProgress, IngestSummary, InputFormat, Result, VendorIndex, decompressed};

/// Vendor fields a column can be mapped to (`--map name=company,lat=latitude`).
pub const VENDOR_FIELDS: [&str; 16] = [
    "id",
    "version",
    "name",
    "description",
    "categories",
    "capabilities",
    "tags",
    "lat",
    "lon",
    "service_radius_km",
    "rating",
    "review_count",
    "response_time_hours",
    "available",
    "languages",
    "updated_at",
];

/// Fields holding several values, `|`-separated in CSV.
const LISTS: [&str; 3] = ["categories", "tags", "languages"];

impl FieldMap {
    /// A vendor field map; `categories=a+b` joins two columns into one path `a/b`, and
    /// `attr.NAME` (or `attributes.NAME`) maps a column to an attribute.
    pub fn for_vendors(s: &str) -> Result<Self> {
        Self::parse_for(s, &VENDOR_FIELDS, "categories", true)
    }
}

/// Reads a whole vendor CSV or JSONL input, indexes every valid row, reports every bad one
/// (by line, naming the field) and commits at the end.
pub fn ingest_vendors<'r, R: Read + Send + 'r>(
    index: &VendorIndex,
    input: R,
    format: InputFormat,
    map: &FieldMap,
    progress: &mut dyn IngestProgress,
) -> Result<IngestSummary> {
    let started = Instant::now();
    let counter = CountingReader { inner: input, bytes: std::sync::Arc::default() };
    let bytes = counter.bytes.clone();
    let reader = decompressed(counter)?;
    let mut summary = IngestSummary::default();
    let mut on_batch = |batch: Rows<Vendor>, summary: &mut IngestSummary| -> Result<()> {
        index_batch(index, batch, summary, progress)?;
        progress.progress(summary.rows, bytes.load(std::sync::atomic::Ordering::Relaxed));
        Ok(())
    };
    read_rows(reader, format, map, &mut summary, &mut on_batch)?;
    summary.finish(started, || index.commit(), || index.merge_segments())?;
    Ok(summary)
}

/// Reads a vendor CSV or JSONL input without indexing it, as [`read_products`](crate::read_products).
pub fn read_vendors<'r, R: Read + Send + 'r>(
    input: R,
    format: InputFormat,
    map: &FieldMap,
    on_rows: &mut dyn FnMut(Rows<Vendor>) -> Result<()>,
) -> Result<u64> {
    crate::ingest::read_unindexed(input, format, map, read_rows, on_rows)
}

/// Vendor rows of a CSV or JSONL input, batch by batch.
fn read_rows(
    reader: Box<dyn Read + Send + '_>,
    format: InputFormat,
    map: &FieldMap,
    summary: &mut IngestSummary,
    on_batch: &mut crate::ingest::BatchFn<'_, Vendor>,
) -> Result<()> {
    match format {
        InputFormat::Csv => read_csv(
            reader,
            map,
            VENDOR_FIELDS.into_iter().chain(map.attribute_targets()),
            &["id", "name", "lat", "lon", "service_radius_km"],
            &csv_vendor,
            summary,
            on_batch,
        ),
        InputFormat::Jsonl => read_jsonl(reader, &|line| json_vendor(line, map), summary, on_batch),
    }
}

fn index_batch(
    index: &VendorIndex,
    batch: Rows<Vendor>,
    summary: &mut IngestSummary,
    progress: &mut dyn IngestProgress,
) -> Result<()> {
    let check = |v: Vendor| v.validate().map(|()| v).map_err(|e| e.to_string());
    crate::ingest::write_rows(batch, summary, progress, check, || index.commit(), |good| index.upsert(good))
}

/// One CSV row → the vendor's JSON object (typed per field) → vendor.
fn csv_vendor(record: &csv::StringRecord, plan: &CsvPlan) -> Result<Vendor, String> {
    let mut object = Map::new();
    let mut attributes = searchd_catalog::attributes::Attributes::new();
    for (target, columns) in plan {
        let values: Vec<&str> =
            columns.iter().filter_map(|c| record.get(*c)).map(str::trim).filter(|v| !v.is_empty()).collect();
        let Some(&value) = values.first() else { continue };
        if let Some(name) = target.strip_prefix("attributes.") {
            searchd_catalog::attributes::insert(&mut attributes, name, value.into());
            continue;
        }
        let number = |v: &str| {
            v.replace(',', "")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Value::from)
                .ok_or_else(|| format!("{target}: `{v}` is not a number"))
        };
        let whole = |v: &str| {
            v.parse::<u64>().map(Value::from).map_err(|_| format!("{target}: `{v}` is not a whole number ≥ 0"))
        };
        let json = match target.as_str() {
            "version" | "review_count" => whole(value)?,
            "lat" | "lon" | "service_radius_km" | "rating" | "response_time_hours" => number(value)?,
            "available" => Value::Bool(match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "y" => true,
                "false" | "0" | "no" | "n" => false,
                _ => return Err(format!("available: `{value}` is not a boolean")),
            }),
            "categories" if values.len() > 1 => Value::from(vec![values.join("/")]),
            list if LISTS.contains(&list) => Value::from(
                value.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>(),
            ),
            "updated_at" => {
                let at = parse_time(value)
                    .ok_or_else(|| format!("updated_at: `{value}` is neither RFC 3339 nor unix seconds"))?;
                Value::from(at.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?)
            }
            _ => Value::from(value),
        };
        object.insert(target.clone(), json);
    }
    if !attributes.is_empty() {
        object.insert("attributes".into(), Value::Object(attributes.into_iter().collect()));
    }
    vendor_from_object(object)
}

/// One JSON object → vendor, through the field map; unknown keys are ignored (feeds carry
/// more than we index), the error names the field at fault.
pub fn json_vendor(line: &str, map: &FieldMap) -> Result<Vendor, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(mut source) = value else {
        return Err("malformed JSON: a row must be an object".into());
    };
    let mut object = Map::new();
    for target in VENDOR_FIELDS {
        let sources = map.sources(target);
        let value = if sources.len() > 1 {
            let parts: Vec<String> =
                sources.iter().filter_map(|s| source.get(*s).and_then(Value::as_str)).map(str::to_string).collect();
            (!parts.is_empty()).then(|| Value::from(vec![parts.join("/")]))
        } else {
            source.remove(sources[0])
        };
        if let Some(value) = value {
            object.insert(target.to_string(), value);
        }
    }
    if let Some(location) = source.remove("location") {
        object.entry("location").or_insert(location);
    }
    let mut attributes: searchd_catalog::attributes::Attributes = match source.remove("attributes") {
        Some(Value::Object(given)) => given.into_iter().collect(),
        Some(other) => return Err(format!("attributes: an object, not {other}")),
        None => Default::default(),
    };
    for target in map.attribute_targets() {
        let Some(value) = map.sources(target).first().and_then(|s| source.get(*s)).cloned() else { continue };
        if let Some(name) = target.strip_prefix("attributes.") {
            searchd_catalog::attributes::insert(&mut attributes, name, value);
        }
    }
    if !attributes.is_empty() {
        object.insert("attributes".into(), Value::Object(attributes.into_iter().collect()));
    }
    vendor_from_object(object)
}

/// Builds `location` from flat `lat`/`lon` and deserializes, naming the field at fault.
fn vendor_from_object(mut object: Map<String, Value>) -> Result<Vendor, String> {
    match (object.remove("lat"), object.remove("lon")) {
        (Some(lat), Some(lon)) => {
            object.insert("location".into(), serde_json::json!({ "lat": lat, "lon": lon }));
        }
        (None, None) => {}
        (Some(_), None) => return Err("lon: missing (lat is given)".into()),
        (None, Some(_)) => return Err("lat: missing (lon is given)".into()),
    }
    crate::ingest::from_object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IndexConfig, NoProgress};

    #[test]
    fn csv_rows_become_vendors_and_bad_rows_name_their_field() {
        let csv = "vid,company,lat,lon,radius,categories,tags,rating,available\n\
                   1,Acme Tools,48.85,2.35,30,Tools/Drills|Garden,cnc|iso-9001,4.5,yes\n\
                   2,Bad Lat,95,2.35,30,Tools,,,\n\
                   3,No Radius,48.85,2.35,,Tools,,,\n\
                   4,Wrong Bool,48.85,2.35,30,Tools,,,maybe\n\
                   5,Fiji Fish,-17.7,179.9,250,Food/Fish,,,no\n";
        let index = VendorIndex::in_memory(&IndexConfig { writer_memory_mb: 32, ..IndexConfig::default() }).unwrap();
        let map = FieldMap::for_vendors("id=vid,name=company,service_radius_km=radius,attr.tags_seen=tags").unwrap();
        let summary = ingest_vendors(&index, csv.as_bytes(), InputFormat::Csv, &map, &mut NoProgress).unwrap();
        assert_eq!((summary.rows, summary.indexed), (5, 2), "{summary:?}");
        let reasons: Vec<(u64, &str)> = summary.errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert!(reasons[0].0 == 3 && reasons[0].1.contains("location.lat"), "{reasons:?}");
        assert!(reasons[1].0 == 4 && reasons[1].1.contains("service_radius_km"), "{reasons:?}");
        assert!(reasons[2].0 == 5 && reasons[2].1.starts_with("available"), "{reasons:?}");
        let acme = index.get("1").unwrap();
        assert_eq!(acme.categories, ["Tools/Drills", "Garden"]);
        assert_eq!(acme.tags, ["cnc", "iso-9001"]);
        assert_eq!(acme.rating, Some(4.5));
        assert!(!index.get("5").unwrap().available);
        // A column mapped to an attribute too, its cell as text.
        assert_eq!(acme.attributes["tags_seen"], "cnc|iso-9001");
        assert!(FieldMap::for_vendors("title=x").unwrap_err().to_string().contains("title"));
    }

    #[test]
    fn jsonl_takes_nested_or_flat_locations() {
        let map = FieldMap::default();
        let nested =
            json_vendor(r#"{"id":"a","name":"A","location":{"lat":1,"lon":2},"service_radius_km":5}"#, &map).unwrap();
        let flat = json_vendor(r#"{"id":"a","name":"A","lat":1,"lon":2,"service_radius_km":5,"x":1}"#, &map).unwrap();
        assert_eq!(nested, flat);
        let err = json_vendor(r#"{"id":"a","name":"A","lat":1,"service_radius_km":5}"#, &map).unwrap_err();
        assert!(err.starts_with("lon"), "{err}");
        let err = json_vendor(r#"{"id":"a","name":"A","location":{"lat":"x","lon":2},"service_radius_km":5}"#, &map)
            .unwrap_err();
        assert!(err.starts_with("location.lat"), "{err}");
        // Attributes: the row's own object, and keys mapped to attributes (nested with a dot).
        let map = FieldMap::for_vendors("attr.terms.currency=cur").unwrap();
        let row =
            r#"{"id":"a","name":"A","lat":1,"lon":2,"service_radius_km":5,"cur":"EUR","attributes":{"fsc":true}}"#;
        let vendor = json_vendor(row, &map).unwrap();
        assert_eq!(
            serde_json::Value::Object(vendor.attributes.into_iter().collect()),
            serde_json::json!({"fsc": true, "terms": {"currency": "EUR"}})
        );
    }
}
