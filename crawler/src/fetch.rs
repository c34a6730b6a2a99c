//! One request and what comes back: robots.txt, pages and sitemaps fetched (conditionally when
//! the page store has validators), bodies read up to a limit, HTML hashed and analyzed off the
//! async threads; and the clock fetch stamps come from.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use crate::extract::{PageAnalysis, analyze};
use crate::store::{BodyState, PageRecord, PageStore};

const MAX_ROBOTS_BYTES: u64 = 512 << 10;

/// Wall-clock time for fetch stamps and retention; tests inject their own.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The time now.
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Clone, Copy, Default)]
/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Page,
    Sitemap,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) url: Url,
    pub(crate) kind: Kind,
    pub(crate) depth: u32,
    pub(crate) attempt: u32,
    /// The URLs that redirected here, first to last.
    pub(crate) chain: Vec<Url>,
}

#[derive(Debug)]
pub(crate) enum FetchError {
    Timeout,
    Connect,
    TooLarge,
    Other(String),
}

impl FetchError {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            FetchError::Timeout => "timeout",
            FetchError::Connect => "connect",
            FetchError::TooLarge => "body_too_large",
            FetchError::Other(_) => "fetch_failed",
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            FetchError::Timeout
        } else if e.is_connect() {
            FetchError::Connect
        } else {
            FetchError::Other(e.to_string())
        }
    }
}

#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) fetched_at: OffsetDateTime,
    /// SHA-256 of an HTML page's body.
    pub(crate) hash: Option<String>,
    /// The page analyzed: this response's HTML, or the stored page on a 304.
    pub(crate) analysis: Option<PageAnalysis>,
    /// The URL's record from an earlier crawl.
    pub(crate) previous: Option<PageRecord>,
}

pub(crate) fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `Retry-After`: seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

pub(crate) async fn fetch_robots(
    client: &reqwest::Client,
    origin: &str,
) -> std::result::Result<(u16, Vec<u8>), FetchError> {
    let response = client.get(format!("{origin}/robots.txt")).send().await.map_err(FetchError::from_reqwest)?;
    let status = response.status().as_u16();
    let body = read_body(response, MAX_ROBOTS_BYTES, true).await?;
    Ok((status, body))
}

/// Reads a body up to `max` bytes: beyond it, an error, or (`truncate`) the first `max` bytes.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max: u64,
    truncate: bool,
) -> std::result::Result<Vec<u8>, FetchError> {
    if !truncate && response.content_length().is_some_and(|len| len > max) {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > max {
            if truncate {
                body.truncate(max as usize);
                break;
            }
            return Err(FetchError::TooLarge);
        }
    }
    Ok(body)
}

pub(crate) fn is_html(headers: &HeaderMap, body: &[u8]) -> bool {
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(t) => {
            let t = t.to_ascii_lowercase();
            t.contains("text/html") || t.contains("application/xhtml")
        }
        None => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<'),
    }
}

/// One request (conditional when the store has validators), its body, and for HTML its hash
/// and analysis, done off the async threads.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    store: Option<Arc<PageStore>>,
    clock: Arc<dyn Clock>,
    entry: &Entry,
    max_body: u64,
) -> std::result::Result<Box<Fetched>, FetchError> {
    let previous = match &store {
        Some(store) => store.record(entry.url.as_str()).unwrap_or_else(|e| {
            tracing::warn!(url = %entry.url, error = %e, "cannot read the page record");
            None
        }),
        None => None,
    };
    let mut request = client.get(entry.url.clone());
    if let Some(previous) = previous.as_ref().filter(|p| p.body == BodyState::Hot && entry.kind == Kind::Page) {
        if let Some(etag) = &previous.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &previous.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
    }
    let response = request.send().await.map_err(FetchError::from_reqwest)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read_body(response, max_body, false).await?;
    let fetched_at = clock.now();
    let mut fetched = Box::new(Fetched { status, headers, body, fetched_at, hash: None, analysis: None, previous });
    if entry.kind != Kind::Page {
        return Ok(fetched);
    }
    // The response's HTML (hashed, and kept), or on a 304 the stored copy (analyzed for its links).
    let stored = match status {
        200..=299 if is_html(&fetched.headers, &fetched.body) => None,
        304 => match store.and_then(|s| s.page(entry.url.as_str()).ok().flatten()) {
            Some(page) => Some(page),
            None => return Ok(fetched),
        },
        _ => return Ok(fetched),
    };
    let (url, body) = (entry.url.clone(), std::mem::take(&mut fetched.body));
    let (body, hash, analysis) = tokio::task::spawn_blocking(move || {
        let (html, hash) = match &stored {
            Some(page) => (page, None),
            None => (&body, Some(format!("{:x}", Sha256::digest(&body)))),
        };
        let analysis = analyze(&url, &String::from_utf8_lossy(html), fetched_at);
        (body, hash, analysis)
    })
    .await
    .map_err(|e| FetchError::Other(format!("analysis failed: {e}")))?;
    fetched.body = body;
    fetched.hash = hash;
    fetched.analysis = Some(analysis);
    Ok(fetched)
}
