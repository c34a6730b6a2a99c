//! Bulk ingest of CSV and JSONL files (gzip detected by its magic bytes).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::str::FromStr;
use std::time::Instant;

use rayon::prelude::*;
use searchd_catalog::{Product, WriteOutcome};
use serde::Serialize;

use crate::index::PreparedProduct;
use crate::{Error, ProductIndex, Result};

/// Rows analyzed in parallel per batch.
pub(crate) const BATCH_ROWS: usize = 4_096;
/// A bulk load commits this often (rows) for durability; otherwise once at the end.
pub(crate) const BULK_COMMIT_ROWS: u64 = 1_000_000;
/// Row errors kept in the summary (all are counted and passed to the progress callback).
pub(crate) const KEPT_ERRORS: usize = 50;

/// Product fields a column can be mapped to; `attributes.NAME` (or `attr.NAME`, and
/// `attr.OBJECT.KEY` for a nested one) is accepted too.
pub const TARGET_FIELDS: [&str; 14] = [
    "id",
    "version",
    "title",
    "description",
    "brand",
    "category",
    "price",
    "currency",
    "rating",
    "review_count",
    "popularity",
    "in_stock",
    "language",
    "updated_at",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How a bulk file is written.
pub enum InputFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON document per line.
    Jsonl,
}

impl InputFormat {
    /// Guesses from the file name (`.csv`, `.jsonl`, `.ndjson`, optionally `.gz`).
    pub fn from_file_name(name: &str) -> Option<Self> {
        let name = name.strip_suffix(".gz").unwrap_or(name).to_ascii_lowercase();
        if name.ends_with(".csv") || name.ends_with(".tsv") {
            Some(Self::Csv)
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
            Some(Self::Jsonl)
        } else {
            None
        }
    }
}

impl FromStr for InputFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "csv" => Ok(Self::Csv),
            "jsonl" | "ndjson" => Ok(Self::Jsonl),
            other => Err(Error::Input(format!("unknown format `{other}`, expected csv or jsonl"))),
        }
    }
}

/// Which source columns (or JSON keys) fill which product field: `id=product_uid,title=name`.
/// Several columns joined with `+` form a category path: `category=category+sub_category`.
/// Fields not mapped are read from a column of the same name when there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap(BTreeMap<String, Vec<String>>);

impl FromStr for FieldMap {
    type Err = Error;

    /// A product field map (`searchd index`).
    fn from_str(s: &str) -> Result<Self> {
        Self::parse_for(s, &TARGET_FIELDS, "category", true)
    }
}

impl FieldMap {
    /// Parses `field=column,…` for a document kind: `targets` are its fields, `joinable` the one
    /// field that may join several columns (`+`), `attributes` whether `attributes.NAME` is allowed.
    pub fn parse_for(s: &str, targets: &[&str], joinable: &str, attributes: bool) -> Result<Self> {
        let mut map = BTreeMap::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (target, source) = pair
                .split_once('=')
                .ok_or_else(|| Error::Input(format!("mapping `{pair}` is not of the form field=column")))?;
            let target = target.trim();
            // `attr.` is short for `attributes.`.
            let target = &match target.strip_prefix("attr.") {
                Some(name) if attributes => format!("attributes.{name}"),
                _ => target.to_string(),
            };
            let target = target.as_str();
            let attribute = attributes && target.starts_with("attributes.");
            if !targets.contains(&target) && !attribute {
                return Err(Error::Input(format!(
                    "cannot map to unknown field `{target}`, expected one of: {}{}",
                    targets.join(", "),
                    if attributes { ", attr.NAME" } else { "" }
                )));
            }
            let sources: Vec<String> = source.split('+').map(|c| c.trim().to_string()).collect();
            if sources.iter().any(String::is_empty) {
                return Err(Error::Input(format!("mapping for `{target}` names an empty column")));
            }
            if sources.len() > 1 && target != joinable {
                return Err(Error::Input(format!("only `{joinable}` can join several columns, not `{target}`")));
            }
            map.insert(target.to_string(), sources);
        }
        Ok(Self(map))
    }
}

impl FieldMap {
    /// Every field a row can fill: the product fields, then the mapped `attributes.NAME`s.
    fn targets(&self) -> impl Iterator<Item = &str> {
        TARGET_FIELDS.iter().copied().chain(self.attribute_targets())
    }

    /// The mapped `attributes.NAME`s.
    pub(crate) fn attribute_targets(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str).filter(|k| k.starts_with("attributes."))
    }

    pub(crate) fn sources<'a>(&'a self, target: &'a str) -> Vec<&'a str> {
        match self.0.get(target) {
            Some(sources) => sources.iter().map(String::as_str).collect(),
            None => vec![target],
        }
    }
}

/// How to read a bulk input.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Which columns (or JSON fields) fill which product fields.
    pub map: FieldMap,
    /// Language (ISO 639-1) of rows that declare none, as a feed declares its locale: skips
    /// detection for them. `None` detects each row's language.
    pub language: Option<String>,
}

/// A row that was not indexed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line of the input file where the row starts.
    pub line: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// The final report of a bulk ingest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    /// Rows read.
    pub rows: u64,
    /// Rows written (applied).
    pub indexed: u64,
    /// Reason → count of rows not indexed (bad rows, unchanged or stale versions).
    pub skipped: BTreeMap<String, u64>,
    /// The first bad rows, with line numbers.
    pub errors: Vec<RowError>,
    /// Reading, analyzing, writing and committing.
    pub seconds: f64,
    /// `indexed / seconds`.
    pub docs_per_second: f64,
    /// Merging the segments into one afterwards (faster queries).
    pub merge_seconds: f64,
}

impl IngestSummary {
    /// Rows not indexed, for any reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Commits, times the run, then merges the segments (timed apart).
    pub(crate) fn finish(
        &mut self,
        started: Instant,
        commit: impl FnOnce() -> Result<()>,
        merge: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        commit()?;
        self.seconds = started.elapsed().as_secs_f64();
        self.docs_per_second = self.indexed as f64 / self.seconds.max(1e-9);
        let merging = Instant::now();
        merge()?;
        self.merge_seconds = merging.elapsed().as_secs_f64();
        Ok(())
    }

    /// Counts the outcomes of written rows: applied ones as indexed, the others as skipped.
    pub(crate) fn count(&mut self, outcomes: Vec<WriteOutcome>) {
        for outcome in outcomes {
            let reason = match outcome {
                WriteOutcome::Applied { .. } => {
                    self.indexed += 1;
                    continue;
                }
                WriteOutcome::Unchanged { .. } => "same version already indexed",
                WriteOutcome::Stale { .. } => "newer version already indexed",
            };
            *self.skipped.entry(reason.into()).or_default() += 1;
        }
    }

    /// Records a row that is not indexed, by kind; the first ones are kept with their line.
    pub(crate) fn reject(&mut self, error: RowError) {
        *self.skipped.entry(skip_kind(&error.reason)).or_default() += 1;
        if self.errors.len() < KEPT_ERRORS {
            self.errors.push(error);
        }
    }
}

/// Progress callbacks; the binary draws a bar with them, tests ignore them.
pub trait IngestProgress {
    /// After each batch: rows read so far and input bytes consumed so far (compressed).
    fn progress(&mut self, _rows: u64, _bytes: u64) {}
    /// Every bad row, as it is found.
    fn row_error(&mut self, _error: &RowError) {}
}

/// Ignores progress.
#[derive(Debug, Default)]
pub struct NoProgress;

impl IngestProgress for NoProgress {}

/// Reads a whole CSV or JSONL input (gzip or plain), indexes every good row, reports every bad
/// one and commits at the end.
pub fn ingest<'r, R: Read + Send + 'r>(
    index: &ProductIndex,
    input: R,
    format: InputFormat,
    options: &IngestOptions,
    progress: &mut dyn IngestProgress,
) -> Result<IngestSummary> {
    let started = Instant::now();
    if let Some(code) = &options.language {
        if crate::Language::from_code(code).is_none() {
            return Err(Error::Input(format!("unknown language `{code}`")));
        }
    }
    let map = &options.map;
    let language = options.language.as_deref();
    let counter = CountingReader { inner: input, bytes: std::sync::Arc::default() };
    let bytes = counter.bytes.clone();
    let reader = decompressed(counter)?;
    let mut summary = IngestSummary::default();
    let mut on_batch = |batch: Vec<(u64, Result<Product, String>)>, summary: &mut IngestSummary| -> Result<()> {
        index_batch(index, batch, language, summary, progress)?;
        progress.progress(summary.rows, bytes.load(std::sync::atomic::Ordering::Relaxed));
        Ok(())
    };
    read_rows(reader, format, map, &mut summary, &mut on_batch)?;
    summary.finish(started, || index.commit(), || index.merge_segments())?;
    Ok(summary)
}

/// Reads a product CSV or JSONL input (gzip or plain) without indexing it: `on_rows` gets each
/// batch of rows, each with its line and the product or why the row is unreadable (for
/// `searchd publish`, which sends them to Kafka).
pub fn read_products<'r, R: Read + Send + 'r>(
    input: R,
    format: InputFormat,
    map: &FieldMap,
    on_rows: &mut dyn FnMut(Rows<Product>) -> Result<()>,
) -> Result<u64> {
    read_unindexed(input, format, map, read_rows, on_rows)
}

/// Reads a product or vendor input with `read_rows` without indexing it; returns the rows read.
pub(crate) fn read_unindexed<'r, T>(
    input: impl Read + Send + 'r,
    format: InputFormat,
    map: &FieldMap,
    read_rows: RowReader<T>,
    on_rows: &mut dyn FnMut(Rows<T>) -> Result<()>,
) -> Result<u64> {
    let mut summary = IngestSummary::default();
    let mut on_batch = |batch: Rows<T>, summary: &mut IngestSummary| -> Result<()> {
        summary.rows += batch.len() as u64;
        on_rows(batch)
    };
    read_rows(decompressed(input)?, format, map, &mut summary, &mut on_batch)?;
    Ok(summary.rows)
}

/// Product rows of a CSV or JSONL input, batch by batch.
fn read_rows(
    reader: Box<dyn Read + Send + '_>,
    format: InputFormat,
    map: &FieldMap,
    summary: &mut IngestSummary,
    on_batch: &mut BatchFn<'_, Product>,
) -> Result<()> {
    match format {
        InputFormat::Csv => read_csv(reader, map, map.targets(), &["id", "title"], &csv_product, summary, on_batch),
        InputFormat::Jsonl => read_jsonl(reader, &|line| json_product(line, map), summary, on_batch),
    }
}

/// The input itself, or its decompressed content when it starts with gzip's magic bytes.
pub fn decompressed<'r, R: Read + Send + 'r>(input: R) -> std::io::Result<Box<dyn Read + Send + 'r>> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let is_gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip { Box::new(flate2::bufread::MultiGzDecoder::new(buffered)) } else { Box::new(buffered) })
}

/// Rows read from a file: each with its line and the document, or why it is unreadable.
pub type Rows<T> = Vec<(u64, Result<T, String>)>;
pub(crate) type BatchFn<'a, T> = dyn FnMut(Rows<T>, &mut IngestSummary) -> Result<()> + 'a;
/// Reads the rows of one kind of document from a CSV or JSONL input, batch by batch.
pub(crate) type RowReader<T> =
    fn(Box<dyn Read + Send + '_>, InputFormat, &FieldMap, &mut IngestSummary, &mut BatchFn<'_, T>) -> Result<()>;

fn index_batch(
    index: &ProductIndex,
    batch: Vec<(u64, Result<Product, String>)>,
    language: Option<&str>,
    summary: &mut IngestSummary,
    progress: &mut dyn IngestProgress,
) -> Result<()> {
    let prepared_len = batch.len() as u64;
    summary.rows += prepared_len;
    let prepared: Vec<(u64, Result<PreparedProduct, String>)> = batch
        .into_par_iter()
        .map(|(line, row)| {
            let row = row.and_then(|mut p| {
                if p.language.is_none() {
                    p.language = language.map(str::to_string);
                }
                index.prepare(p).map_err(|e| e.to_string())
            });
            (line, row)
        })
        .collect();
    let mut good = Vec::with_capacity(prepared.len());
    for (line, row) in prepared {
        match row {
            Ok(p) => good.push(p),
            Err(reason) => {
                let error = RowError { line, reason };
                progress.row_error(&error);
                summary.reject(error);
            }
        }
    }
    let before = summary.rows - prepared_len;
    if before / BULK_COMMIT_ROWS != summary.rows / BULK_COMMIT_ROWS {
        index.commit()?;
    }
    summary.count(index.apply_prepared_bulk(good)?);
    Ok(())
}

/// Groups row errors by kind for the summary: the field at fault and the problem.
pub(crate) fn skip_kind(reason: &str) -> String {
    reason.split(':').next().unwrap_or(reason).trim().to_string()
}

/// The columns that fill each target field: `(target, column indexes)`.
pub(crate) type CsvPlan = [(String, Vec<usize>)];

/// Reads CSV rows in batches: maps the header to `targets` through the field map (a mapped
/// column missing from the header, or no column for a `required` field, fails the whole input),
/// then turns each record into a document with `row`.
pub(crate) fn read_csv<'t, T>(
    reader: Box<dyn Read + Send + '_>,
    map: &FieldMap,
    targets: impl Iterator<Item = &'t str>,
    required: &[&str],
    row: &dyn Fn(&csv::StringRecord, &CsvPlan) -> Result<T, String>,
    summary: &mut IngestSummary,
    on_batch: &mut BatchFn<'_, T>,
) -> Result<()> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv.headers().map_err(|e| Error::Input(format!("cannot read the CSV header: {e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let mut plan: Vec<(String, Vec<usize>)> = Vec::new();
    for target in targets {
        let sources = map.sources(target);
        let explicit = map.0.contains_key(target);
        let mut columns = Vec::new();
        for source in sources {
            match column(source) {
                Some(c) => columns.push(c),
                None if explicit => {
                    return Err(Error::Input(format!("column `{source}` mapped to `{target}` is not in the header")));
                }
                None => {}
            }
        }
        if !columns.is_empty() {
            plan.push((target.to_string(), columns));
        }
    }
    for required in required {
        if !plan.iter().any(|(t, _)| t == required) {
            return Err(Error::Input(format!(
                "no column for `{required}`: add --map {required}=COLUMN (the header has: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => batch.push((line, row(&record, &plan))),
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                batch.push((line, Err(format!("malformed CSV: {e}"))));
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }) {
                    on_batch(std::mem::take(&mut batch), summary)?;
                    return Err(Error::Input(format!("cannot read on after line {line}: {e}")));
                }
            }
        }
        if batch.len() == BATCH_ROWS {
            on_batch(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS)), summary)?;
        }
    }
    if !batch.is_empty() {
        on_batch(batch, summary)?;
    }
    Ok(())
}

fn csv_product(record: &csv::StringRecord, plan: &CsvPlan) -> Result<Product, String> {
    let mut product = Product::new("", "");
    for (target, columns) in plan {
        let values: Vec<&str> =
            columns.iter().filter_map(|c| record.get(*c)).map(str::trim).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            continue;
        }
        let value = values[0];
        let number =
            |v: &str| v.replace(',', "").parse::<f64>().map_err(|_| format!("{target}: `{v}` is not a number"));
        let whole = |v: &str| v.parse::<u64>().map_err(|_| format!("{target}: `{v}` is not a whole number ≥ 0"));
        match target.as_str() {
            "id" => product.id = value.to_string(),
            "version" => product.version = whole(value)?,
            "title" => product.title = value.to_string(),
            "description" => product.description = value.to_string(),
            "brand" => product.brand = Some(value.to_string()),
            "category" => {
                product.category = if values.len() > 1 {
                    values.iter().map(|v| (*v).to_string()).collect()
                } else {
                    value.split(['>', '|']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
                }
            }
            "price" => product.price = Some(number(value)?),
            "currency" => product.currency = Some(value.to_string()),
            "rating" => product.rating = Some(number(value)?),
            "review_count" => product.review_count = whole(value)?,
            "popularity" => product.popularity = number(value)?,
            "in_stock" => {
                product.in_stock = match value.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "y" | "in stock" => true,
                    "false" | "0" | "no" | "n" | "out of stock" => false,
                    _ => return Err(format!("in_stock: `{value}` is not a boolean")),
                }
            }
            "language" => product.language = Some(value.to_string()),
            "updated_at" => {
                product.updated_at = Some(
                    parse_time(value)
                        .ok_or_else(|| format!("updated_at: `{value}` is neither RFC 3339 nor unix seconds"))?,
                )
            }
            attribute => {
                if let Some(name) = attribute.strip_prefix("attributes.") {
                    searchd_catalog::attributes::insert(&mut product.attributes, name, value.into());
                }
            }
        }
    }
    if product.id.is_empty() {
        return Err("id: missing".into());
    }
    if product.title.is_empty() {
        return Err("title: missing".into());
    }
    Ok(product)
}

pub(crate) fn parse_time(value: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| value.parse::<i64>().ok().and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok()))
}

/// Writes a batch of rows: each checked by `check` (a bad one reported, by line, and skipped),
/// the good ones by `write`; `commit` runs first whenever the batch crosses a multiple of
/// [`BULK_COMMIT_ROWS`].
pub(crate) fn write_rows<T>(
    batch: Rows<T>,
    summary: &mut IngestSummary,
    progress: &mut dyn IngestProgress,
    check: impl Fn(T) -> Result<T, String>,
    commit: impl FnOnce() -> Result<()>,
    write: impl FnOnce(Vec<T>) -> Result<Vec<WriteOutcome>>,
) -> Result<()> {
    let before = summary.rows;
    summary.rows += batch.len() as u64;
    let mut good = Vec::with_capacity(batch.len());
    for (line, row) in batch {
        match row.and_then(&check) {
            Ok(doc) => good.push(doc),
            Err(reason) => {
                let error = RowError { line, reason };
                progress.row_error(&error);
                summary.reject(error);
            }
        }
    }
    if before / BULK_COMMIT_ROWS != summary.rows / BULK_COMMIT_ROWS {
        commit()?;
    }
    summary.count(write(good)?);
    Ok(())
}

/// A row's JSON object as a document, the error naming the field at fault (`location.lat: …`).
pub(crate) fn from_object<T: serde::de::DeserializeOwned>(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<T, String> {
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|e| {
        match e.path().to_string().as_str() {
            "." => e.inner().to_string(),
            path => format!("{path}: {}", e.inner()),
        }
    })
}

/// Reads JSONL lines in batches, each turned into a document with `parse`; blank lines are
/// skipped, lines that are not UTF-8 reported.
pub(crate) fn read_jsonl<T>(
    reader: Box<dyn Read + Send + '_>,
    parse: &dyn Fn(&str) -> Result<T, String>,
    summary: &mut IngestSummary,
    on_batch: &mut BatchFn<'_, T>,
) -> Result<()> {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut line = String::new();
    let mut reader = BufReader::new(reader);
    let mut number = 0u64;
    loop {
        line.clear();
        let read = match reader.read_line(&mut line) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                number += 1;
                batch.push((number, Err("malformed JSONL: line is not valid UTF-8".to_string())));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if read == 0 {
            break;
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        batch.push((number, parse(&line)));
        if batch.len() == BATCH_ROWS {
            on_batch(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS)), summary)?;
        }
    }
    if !batch.is_empty() {
        on_batch(batch, summary)?;
    }
    Ok(())
}

/// One JSON object → product, through the field map; keys that are neither product fields nor
/// mapped are ignored. The error names the field at fault.
pub(crate) fn json_product(line: &str, map: &FieldMap) -> Result<Product, String> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("malformed JSON: {e}"))?;
    let serde_json::Value::Object(mut source) = value else {
        return Err("malformed JSON: a row must be an object".into());
    };
    let mut object = serde_json::Map::new();
    let mut attributes = searchd_catalog::attributes::Attributes::new();
    for target in map.targets() {
        let sources = map.sources(target);
        let value = if sources.len() > 1 {
            let parts: Vec<serde_json::Value> =
                sources.iter().filter_map(|s| source.get(*s).cloned()).filter(|v| !v.is_null()).collect();
            (!parts.is_empty()).then_some(serde_json::Value::Array(parts))
        } else {
            source.remove(sources[0])
        };
        let Some(value) = value else { continue };
        match target.strip_prefix("attributes.") {
            Some(name) => searchd_catalog::attributes::insert(&mut attributes, name, value),
            None => {
                object.insert(target.to_string(), value);
            }
        }
    }
    if let Some(serde_json::Value::Object(extra)) = source.remove("attributes") {
        for (k, v) in extra {
            attributes.entry(k).or_insert(v);
        }
    }
    if !attributes.is_empty() {
        object.insert("attributes".into(), serde_json::Value::Object(attributes.into_iter().collect()));
    }
    let product: Product = serde_path_to_error::deserialize(serde_json::Value::Object(object))
        .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
    Ok(product)
}

pub(crate) struct CountingReader<R> {
    pub(crate) inner: R,
    pub(crate) bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
