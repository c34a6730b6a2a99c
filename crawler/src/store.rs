//! The page store: every fetched URL's record (status, validators, content hash, outcome) and,
//! for `retention_days`, its raw page, gzip-compressed, in one embedded redb database; older
//! pages are moved to compressed JSONL archives and dropped from the hot store.
//!
//! Layout under the store's directory:
//! - `pages.redb` — tables `meta` (URL → record), `body` (URL → gzip of the raw page) and
//!   `by_fetch` ((fetch time, URL) → ()), the retention's index;
//! - `archive/pages-<time>.jsonl.gz` — one file per retention run, each line a record with its
//!   page (`body` as text, or `body_base64` when it is not UTF-8).
//!
//! A retention run writes and syncs its archive before it removes anything: a crash in between
//! archives those pages again next time, never loses them.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Error, Result};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BODY: TableDefinition<&str, &[u8]> = TableDefinition::new("body");
const BY_FETCH: TableDefinition<(i64, &str), ()> = TableDefinition::new("by_fetch");

/// Where a record's raw page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyState {
    /// In the store, compressed.
    Hot,
    /// Moved to an archive by retention.
    Archived,
    /// Never stored (not HTML, or the fetch failed).
    None,
}

/// What the crawler knows about one URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageRecord {
    /// The normalized URL.
    pub url: String,
    /// When the stored page was fetched (Unix milliseconds).
    pub fetched_at: i64,
    /// When the URL was last requested, whatever came back (Unix milliseconds).
    pub checked_at: i64,
    /// HTTP status of the last response; 0 when none came (timeout, connection error).
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Content-Type` of the last response.
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `ETag`, for a conditional recrawl.
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Last-Modified`, for a conditional recrawl.
    pub last_modified: Option<String>,
    /// SHA-256 of the raw page, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// `product`, or the reason the page yields none, or the error that stopped it.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// The products the page yielded.
    pub product_ids: Vec<String>,
    /// Where the raw page is.
    pub body: BodyState,
}

/// What a retention run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionSummary {
    /// Pages moved to the archive.
    pub archived: u64,
    /// Pages that stay.
    pub kept: u64,
    /// The archive written, when anything was archived.
    pub archive: Option<PathBuf>,
}

#[derive(Debug)]
/// What the crawler keeps per URL (records, hot pages, archives), in one redb file.
pub struct PageStore {
    db: Database,
    dir: PathBuf,
}

fn store_err(e: impl std::fmt::Display) -> Error {
    Error::Store(e.to_string())
}

impl PageStore {
    /// Opens (creating) the store in `dir`. One process at a time: a second open fails.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir.join("archive")).map_err(|e| Error::Store(format!("{}: {e}", dir.display())))?;
        let db = Database::create(dir.join("pages.redb"))
            .map_err(|e| Error::Store(format!("cannot open the page store in {}: {e}", dir.display())))?;
        let tx = db.begin_write().map_err(store_err)?;
        tx.open_table(META).map_err(store_err)?;
        tx.open_table(BODY).map_err(store_err)?;
        tx.open_table(BY_FETCH).map_err(store_err)?;
        tx.commit().map_err(store_err)?;
        Ok(Self { db, dir: dir.to_path_buf() })
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The record of `url`, when it was crawled before.
    pub fn record(&self, url: &str) -> Result<Option<PageRecord>> {
        let tx = self.db.begin_read().map_err(store_err)?;
        let table = tx.open_table(META).map_err(store_err)?;
        let Some(value) = table.get(url).map_err(store_err)? else { return Ok(None) };
        serde_json::from_slice(value.value()).map(Some).map_err(store_err)
    }

    /// The stored raw page of `url`, decompressed, while it is in the hot store.
    pub fn page(&self, url: &str) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read().map_err(store_err)?;
        let table = tx.open_table(BODY).map_err(store_err)?;
        let Some(value) = table.get(url).map_err(store_err)? else { return Ok(None) };
        let mut out = Vec::new();
        GzDecoder::new(value.value()).read_to_end(&mut out).map_err(store_err)?;
        Ok(Some(out))
    }

    /// Writes records in one transaction; a record with a page replaces the stored page.
    pub fn put(&self, records: Vec<(PageRecord, Option<Vec<u8>>)>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(store_err)?;
        {
            let mut meta = tx.open_table(META).map_err(store_err)?;
            let mut body = tx.open_table(BODY).map_err(store_err)?;
            let mut by_fetch = tx.open_table(BY_FETCH).map_err(store_err)?;
            for (mut record, page) in records {
                let previous: Option<PageRecord> = meta
                    .get(record.url.as_str())
                    .map_err(store_err)?
                    .and_then(|v| serde_json::from_slice(v.value()).ok());
                match page {
                    Some(page) => {
                        if let Some(previous) = previous.as_ref().filter(|p| p.body == BodyState::Hot) {
                            by_fetch.remove((previous.fetched_at, previous.url.as_str())).map_err(store_err)?;
                        }
                        let mut gz = GzEncoder::new(Vec::with_capacity(page.len() / 4), Compression::fast());
                        gz.write_all(&page).map_err(store_err)?;
                        body.insert(record.url.as_str(), gz.finish().map_err(store_err)?.as_slice())
                            .map_err(store_err)?;
                        by_fetch.insert((record.fetched_at, record.url.as_str()), ()).map_err(store_err)?;
                        record.body = BodyState::Hot;
                    }
                    None => {
                        // The stored page (if any) stays, with its own fetch time.
                        if let Some(previous) = previous {
                            record.body = previous.body;
                            record.fetched_at = previous.fetched_at;
                            if record.content_hash.is_none() {
                                record.content_hash = previous.content_hash;
                            }
                        }
                    }
                }
                let json = serde_json::to_vec(&record).map_err(store_err)?;
                meta.insert(record.url.as_str(), json.as_slice()).map_err(store_err)?;
            }
        }
        tx.commit().map_err(store_err)
    }

    /// Every record, in URL order.
    pub fn records(&self) -> Result<Vec<PageRecord>> {
        let tx = self.db.begin_read().map_err(store_err)?;
        let table = tx.open_table(META).map_err(store_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(store_err)? {
            let (_, value) = entry.map_err(store_err)?;
            out.push(serde_json::from_slice(value.value()).map_err(store_err)?);
        }
        Ok(out)
    }

    /// Pages in the hot store.
    pub fn hot_pages(&self) -> Result<u64> {
        let tx = self.db.begin_read().map_err(store_err)?;
        tx.open_table(BODY).map_err(store_err)?.len().map_err(store_err)
    }

    /// Moves every page fetched more than `max_age` before `now` into a new compressed archive
    /// and drops it from the hot store; the URL's record stays, marked archived and without its
    /// validators (a later crawl fetches the page whole again).
    pub fn apply_retention(&self, now: OffsetDateTime, max_age: time::Duration) -> Result<RetentionSummary> {
        let cutoff = ((now - max_age).unix_timestamp_nanos() / 1_000_000) as i64;
        let tx = self.db.begin_read().map_err(store_err)?;
        let by_fetch = tx.open_table(BY_FETCH).map_err(store_err)?;
        let meta = tx.open_table(META).map_err(store_err)?;
        let body = tx.open_table(BODY).map_err(store_err)?;
        let total = by_fetch.len().map_err(store_err)?;
        let stamp = now.format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"));
        let name = format!("pages-{}.jsonl.gz", stamp.map_err(store_err)?);
        let path = self.dir.join("archive").join(&name);
        let partial = self.dir.join("archive").join(format!("{name}.partial"));
        let mut out = None;
        let mut archived: Vec<(i64, String)> = Vec::new();
        for entry in by_fetch.range::<(i64, &str)>(..(cutoff, "")).map_err(store_err)? {
            let (key, _) = entry.map_err(store_err)?;
            let (fetched_at, url) = key.value();
            let record: PageRecord = match meta.get(url).map_err(store_err)? {
                Some(v) => serde_json::from_slice(v.value()).map_err(store_err)?,
                None => continue,
            };
            let mut page = Vec::new();
            if let Some(v) = body.get(url).map_err(store_err)? {
                GzDecoder::new(v.value()).read_to_end(&mut page).map_err(store_err)?;
            }
            let writer = match &mut out {
                Some(w) => w,
                None => {
                    let file =
                        File::create(&partial).map_err(|e| Error::Store(format!("{}: {e}", partial.display())))?;
                    out.insert(GzEncoder::new(BufWriter::new(file), Compression::default()))
                }
            };
            let fetched = OffsetDateTime::from_unix_timestamp_nanos(i128::from(fetched_at) * 1_000_000)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok());
            let mut line = serde_json::json!({ "record": record, "fetched": fetched });
            match String::from_utf8(page) {
                Ok(text) => line["body"] = text.into(),
                Err(e) => line["body_base64"] = base64::engine::general_purpose::STANDARD.encode(e.as_bytes()).into(),
            }
            serde_json::to_writer(&mut *writer, &line).map_err(store_err)?;
            writer.write_all(b"\n").map_err(store_err)?;
            archived.push((fetched_at, url.to_string()));
        }
        drop((by_fetch, meta, body, tx));
        let Some(writer) = out else {
            return Ok(RetentionSummary { archived: 0, kept: total, archive: None });
        };
        let file = writer.finish().map_err(store_err)?.into_inner().map_err(store_err)?;
        file.sync_all().map_err(store_err)?;
        std::fs::rename(&partial, &path).map_err(store_err)?;

        let tx = self.db.begin_write().map_err(store_err)?;
        {
            let mut meta = tx.open_table(META).map_err(store_err)?;
            let mut body = tx.open_table(BODY).map_err(store_err)?;
            let mut by_fetch = tx.open_table(BY_FETCH).map_err(store_err)?;
            for (fetched_at, url) in &archived {
                by_fetch.remove((*fetched_at, url.as_str())).map_err(store_err)?;
                body.remove(url.as_str()).map_err(store_err)?;
                let record: Option<PageRecord> =
                    meta.get(url.as_str()).map_err(store_err)?.and_then(|v| serde_json::from_slice(v.value()).ok());
                if let Some(mut record) = record {
                    record.body = BodyState::Archived;
                    record.etag = None;
                    record.last_modified = None;
                    let json = serde_json::to_vec(&record).map_err(store_err)?;
                    meta.insert(url.as_str(), json.as_slice()).map_err(store_err)?;
                }
            }
        }
        tx.commit().map_err(store_err)?;
        Ok(RetentionSummary {
            archived: archived.len() as u64,
            kept: total - archived.len() as u64,
            archive: Some(path),
        })
    }
}

/// Reads an archive back: each line's record and page.
pub fn read_archive(path: &Path) -> Result<Vec<(PageRecord, Vec<u8>)>> {
    let file = File::open(path).map_err(|e| Error::Store(format!("{}: {e}", path.display())))?;
    let mut text = String::new();
    GzDecoder::new(file).read_to_string(&mut text).map_err(store_err)?;
    text.lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).map_err(store_err)?;
            let record: PageRecord = serde_json::from_value(value["record"].clone()).map_err(store_err)?;
            let page = match (value["body"].as_str(), value["body_base64"].as_str()) {
                (Some(text), _) => text.as_bytes().to_vec(),
                (None, Some(b64)) => base64::engine::general_purpose::STANDARD.decode(b64).map_err(store_err)?,
                (None, None) => Vec::new(),
            };
            Ok((record, page))
        })
        .collect()
}
