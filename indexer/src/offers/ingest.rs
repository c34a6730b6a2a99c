//! Bulk ingest of offers from CSV or JSONL (gzip detected), through the same reader, field map,
//! progress and summary as products and vendors. CSV columns are the offer's fields; JSONL rows
//! are offer objects as the HTTP API takes them (unknown keys ignored). A row whose product or
//! vendor is unknown is reported, as a bad value is.

use std::io::Read;
use std::time::Instant;

use searchd_catalog::Offer;
use serde_json::{Map, Value};

use super::OfferIndex;
use crate::ingest::{CountingReader, CsvPlan, Rows, parse_time, read_csv, read_jsonl};
use crate::{FieldMap, IngestProgress, IngestSummary, InputFormat, Result, decompressed};

/// Offer fields a column can be mapped to (`--map product_id=sku,price=unit_price`).
pub const OFFER_FIELDS: [&str; 10] = [
    "id",
    "version",
    "product_id",
    "vendor_id",
    "price",
    "currency",
    "stock",
    "condition",
    "lead_time_days",
    "updated_at",
];

/// Why an offer cannot be written although its values are fine: its product or vendor is
/// unknown (`None`: both are known).
pub type ReferenceCheck<'a> = dyn Fn(&Offer) -> Option<String> + Sync + 'a;

impl FieldMap {
    /// An offer field map.
    pub fn for_offers(s: &str) -> Result<Self> {
        Self::parse_for(s, &OFFER_FIELDS, "", false)
    }
}

/// Reads a whole offer CSV or JSONL input, indexes every valid row whose product and vendor
/// `references` knows, reports every other one (by line, with the reason) and commits at the end.
pub fn ingest_offers<'r, R: Read + Send + 'r>(
    index: &OfferIndex,
    input: R,
    format: InputFormat,
    map: &FieldMap,
    references: &ReferenceCheck<'_>,
    progress: &mut dyn IngestProgress,
) -> Result<IngestSummary> {
    let started = Instant::now();
    let counter = CountingReader { inner: input, bytes: std::sync::Arc::default() };
    let bytes = counter.bytes.clone();
    let reader = decompressed(counter)?;
    let mut summary = IngestSummary::default();
    let mut on_batch = |batch: Rows<Offer>, summary: &mut IngestSummary| -> Result<()> {
        let check = |mut offer: Offer| {
            offer.validate().map_err(|e| e.to_string())?;
            references(&offer).map_or(Ok(offer), Err)
        };
        crate::ingest::write_rows(batch, summary, progress, check, || index.commit(), |good| index.upsert(good))?;
        progress.progress(summary.rows, bytes.load(std::sync::atomic::Ordering::Relaxed));
        Ok(())
    };
    match format {
        InputFormat::Csv => read_csv(
            reader,
            map,
            OFFER_FIELDS.into_iter(),
            &["id", "product_id", "vendor_id", "price"],
            &csv_offer,
            &mut summary,
            &mut on_batch,
        )?,
        InputFormat::Jsonl => read_jsonl(reader, &|line| json_offer(line, map), &mut summary, &mut on_batch)?,
    }
    summary.finish(started, || index.commit(), || index.merge_segments())?;
    Ok(summary)
}

/// One CSV row → the offer's JSON object (typed per field) → offer.
fn csv_offer(record: &csv::StringRecord, plan: &CsvPlan) -> Result<Offer, String> {
    let mut object = Map::new();
    for (target, columns) in plan {
        let Some(value) = columns.iter().filter_map(|c| record.get(*c)).map(str::trim).find(|v| !v.is_empty()) else {
            continue;
        };
        let json = match target.as_str() {
            "version" | "stock" | "lead_time_days" => value
                .parse::<u64>()
                .map(Value::from)
                .map_err(|_| format!("{target}: `{value}` is not a whole number ≥ 0"))?,
            "price" => value
                .replace(',', "")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Value::from)
                .ok_or_else(|| format!("price: `{value}` is not a number"))?,
            "updated_at" => {
                let at = parse_time(value)
                    .ok_or_else(|| format!("updated_at: `{value}` is neither RFC 3339 nor unix seconds"))?;
                Value::from(at.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?)
            }
            "condition" => Value::from(value.to_ascii_lowercase()),
            _ => Value::from(value),
        };
        object.insert(target.clone(), json);
    }
    crate::ingest::from_object(object)
}

/// One JSON object → offer, through the field map; unknown keys are ignored, the error names
/// the field at fault.
pub fn json_offer(line: &str, map: &FieldMap) -> Result<Offer, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(mut source) = value else {
        return Err("malformed JSON: a row must be an object".into());
    };
    let mut object = Map::new();
    for target in OFFER_FIELDS {
        if let Some(value) = map.sources(target).first().and_then(|s| source.remove(*s)) {
            object.insert(target.to_string(), value);
        }
    }
    crate::ingest::from_object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IndexConfig, NoProgress};

    #[test]
    fn rows_become_offers_and_bad_or_unknown_rows_are_reported() {
        let csv = "oid,sku,seller,unit_price,stock,condition,lead_time_days\n\
                   o1,p1,v1,12.50,3,New,2\n\
                   o2,p1,v9,10,1,new,1\n\
                   o3,p2,v1,-4,1,new,1\n\
                   o4,p2,v1,4,1,broken,1\n\
                   o5,p2,v1,4,x,new,1\n";
        let index = OfferIndex::in_memory(&IndexConfig::small()).unwrap();
        let map = FieldMap::for_offers("id=oid,product_id=sku,vendor_id=seller,price=unit_price").unwrap();
        let known =
            |offer: &Offer| (offer.vendor_id != "v1").then(|| format!("vendor `{}` is unknown", offer.vendor_id));
        let summary = ingest_offers(&index, csv.as_bytes(), InputFormat::Csv, &map, &known, &mut NoProgress).unwrap();
        assert_eq!((summary.rows, summary.indexed), (5, 1), "{summary:?}");
        let reasons: Vec<(u64, &str)> = summary.errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert_eq!(reasons[0], (3, "vendor `v9` is unknown"));
        assert!(reasons[1].0 == 4 && reasons[1].1.contains("price"), "{reasons:?}");
        assert!(reasons[2].0 == 5 && reasons[2].1.contains("condition"), "{reasons:?}");
        assert!(reasons[3].0 == 6 && reasons[3].1.starts_with("stock"), "{reasons:?}");
        let offer = index.get("o1").unwrap();
        assert_eq!((offer.price, offer.stock, offer.lead_time_days), (12.5, 3, 2));
        let row = json_offer(r#"{"id":"o","product_id":"p","vendor_id":"v","price":1,"extra":true}"#, &map);
        assert!(row.is_err(), "the map renames `id`, so the row lacks `oid`");
        let row =
            json_offer(r#"{"id":"o","product_id":"p","vendor_id":"v","price":1,"extra":true}"#, &FieldMap::default());
        assert_eq!(row.unwrap().id, "o");
    }
}
