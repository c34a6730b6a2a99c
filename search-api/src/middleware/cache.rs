//! The response cache of search and autocomplete: an in-process layer (moka, bounded by bytes)
//! in front of an optional Redis shared between nodes.
//!
//! A key is the normalized request (parsed, defaults filled in, serialized) under a *version*:
//! what the answer was computed from. For a search that is the index's content version (a
//! digest of the committed products and the engagement folded in) and the served ranking model;
//! for autocomplete, the serving suggester's version. Any commit that changes a product changes
//! the version, so no answer older than the last commit is served, and nothing needs deleting:
//! old keys are never asked for again and expire (`ttl_secs`, and the local layer's size bound).
//! Because the versions are content digests, replicas holding the same catalog (fed by the same
//! Kafka topics) share entries, and a restarted node finds its entries again. The namespace adds
//! the build's version and a fingerprint of the ranking and analysis settings, so nodes
//! configured differently never share an answer.
//!
//! Redis failing open: every Redis call has a short timeout (`redis_timeout_ms`); an error or a
//! timeout is counted (`searchd_cache_errors_total`), the request is answered from the index,
//! and Redis is skipped for `redis_retry_ms` before it is tried again. The connection manager
//! reconnects by itself. Writes to Redis happen after the response is sent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::middleware::metrics::Metrics;

/// `[cache]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Cache search and autocomplete responses.
    pub enabled: bool,
    /// Size bound of the in-process layer (bytes of cached responses).
    pub max_bytes: u64,
    /// How long an entry lives (seconds), in both layers.
    pub ttl_secs: u64,
    /// `redis://host:6379/0` (or `rediss://`): share the cache between nodes. Empty: in-process
    /// only.
    pub redis_url: String,
    /// A Redis call not answered within this is abandoned and counted as an error.
    pub redis_timeout_ms: u64,
    /// After a Redis error, Redis is skipped this long (requests go to the index).
    pub redis_retry_ms: u64,
    /// Prefix of every Redis key.
    pub key_prefix: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_bytes: 64 << 20,
            ttl_secs: 600,
            redis_url: String::new(),
            redis_timeout_ms: 50,
            redis_retry_ms: 1000,
            key_prefix: "searchd".into(),
        }
    }
}

impl CacheConfig {
    /// Checks the ranges and the Redis URL; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.ttl_secs == 0 || self.redis_timeout_ms == 0 {
            return Err("cache.ttl_secs and cache.redis_timeout_ms must be ≥ 1".into());
        }
        if !self.redis_url.is_empty() {
            redis::Client::open(self.redis_url.as_str())
                .map_err(|e| format!("cache.redis_url {:?} is not a Redis URL: {e}", self.redis_url))?;
        }
        Ok(())
    }
}

/// What is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Product search answers.
    Search,
    /// Autocomplete answers.
    Autocomplete,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Search => "search",
            Kind::Autocomplete => "autocomplete",
        }
    }
}

/// Whether an answer came from the cache (`x-cache` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Served from the cache.
    Hit,
    /// Computed, then cached.
    Miss,
    /// The cache is off.
    Bypass,
}

impl Outcome {
    /// The `x-cache` header's value.
    pub fn header(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Bypass => "bypass",
        }
    }
}

/// The cache both handlers share.
pub struct ResponseCache {
    enabled: bool,
    local: moka::future::Cache<Arc<str>, Bytes>,
    redis: Option<Redis>,
    namespace: String,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("enabled", &self.enabled)
            .field("namespace", &self.namespace)
            .field("redis", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

struct Redis {
    client: redis::Client,
    /// Created on first use, inside the runtime; it connects lazily and reconnects by itself.
    manager: OnceLock<Option<ConnectionManager>>,
    timeout: Duration,
    retry: Duration,
    ttl_ms: u64,
    /// Redis is skipped until this instant (ms since `epoch`) after an error.
    down_until: AtomicU64,
    epoch: Instant,
}

impl Redis {
    fn manager(&self) -> Option<ConnectionManager> {
        self.manager
            .get_or_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
                    .inspect_err(
                        |e| tracing::error!(error = %e, "cannot set up the Redis connection; Redis is not used"),
                    )
                    .ok()
            })
            .clone()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_down(&self) -> bool {
        self.now_ms() < self.down_until.load(Ordering::Relaxed)
    }

    fn mark_down(&self) {
        let until = self.now_ms().saturating_add(u64::try_from(self.retry.as_millis()).unwrap_or(u64::MAX));
        self.down_until.store(until, Ordering::Relaxed);
    }

    /// Runs `cmd` within the timeout.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, String> {
        let mut conn = self.manager().ok_or("no connection")?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err("timed out".into()),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        self.query(&cmd).await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("PX").arg(self.ttl_ms);
        self.query(&cmd).await
    }
}

impl ResponseCache {
    /// `fingerprint` names the settings answers depend on (see [`settings_fingerprint`]).
    pub fn new(config: &CacheConfig, fingerprint: &str, metrics: Arc<Metrics>) -> Self {
        let ttl = Duration::from_secs(config.ttl_secs.max(1));
        let local = moka::future::Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(|key: &Arc<str>, value: &Bytes| u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX))
            .time_to_live(ttl)
            .build();
        // The URL was checked by `CacheConfig::validate`.
        let client = (config.enabled && !config.redis_url.is_empty())
            .then(|| redis::Client::open(config.redis_url.as_str()).ok())
            .flatten();
        let redis = client.map(|client| Redis {
            client,
            manager: OnceLock::new(),
            timeout: Duration::from_millis(config.redis_timeout_ms.max(1)),
            retry: Duration::from_millis(config.redis_retry_ms),
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
            down_until: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        Self {
            enabled: config.enabled,
            local,
            redis,
            namespace: format!("{}:{}:{fingerprint}", config.key_prefix, env!("CARGO_PKG_VERSION")),
            metrics,
        }
    }

    /// Whether answers are cached.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The key of `request` (a normalized request, serialized) under `version`.
    pub fn key(&self, kind: Kind, version: &str, request: &str) -> Arc<str> {
        let hex = format!("{:x}", sha2::Sha256::digest(request.as_bytes()));
        format!("{}:{}:{version}:{}", self.namespace, kind.name(), &hex[..32]).into()
    }

    /// The cached answer, from the local layer, else from Redis (then kept locally too).
    pub async fn get(&self, kind: Kind, key: &Arc<str>) -> Option<Bytes> {
        if let Some(value) = self.local.get(key).await {
            self.metrics.cache_lookup("local", kind.name(), "hit");
            return Some(value);
        }
        self.metrics.cache_lookup("local", kind.name(), "miss");
        let redis = self.redis.as_ref()?;
        if redis.is_down() {
            self.metrics.cache_lookup("redis", kind.name(), "skipped");
            return None;
        }
        match redis.get(key).await {
            Ok(Some(value)) => {
                self.metrics.cache_lookup("redis", kind.name(), "hit");
                let value = Bytes::from(value);
                self.local.insert(key.clone(), value.clone()).await;
                Some(value)
            }
            Ok(None) => {
                self.metrics.cache_lookup("redis", kind.name(), "miss");
                None
            }
            Err(error) => {
                self.metrics.cache_error("redis", "get");
                redis.mark_down();
                tracing::warn!(%error, "Redis cache read failed; answering from the index");
                None
            }
        }
    }

    /// Keeps an answer: locally at once, in Redis in the background.
    pub async fn put(self: &Arc<Self>, key: Arc<str>, value: Bytes) {
        self.local.insert(key.clone(), value.clone()).await;
        let Some(redis) = &self.redis else { return };
        if redis.is_down() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let Some(redis) = &this.redis else { return };
            if let Err(error) = redis.set(&key, &value).await {
                this.metrics.cache_error("redis", "set");
                redis.mark_down();
                tracing::warn!(%error, "Redis cache write failed");
            }
        });
    }
}

/// A short digest of the settings answers depend on, so differently configured nodes sharing a
/// Redis never share an answer.
pub fn settings_fingerprint(parts: &impl Serialize) -> String {
    let json = serde_json::to_vec(parts).unwrap_or_default();
    format!("{:x}", sha2::Sha256::digest(&json))[..8].to_string()
}

/// A cached search answer: the total hits (the query log counts hits on page one) and the JSON.
pub fn encode_search(total_hits: u64, body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&total_hits.to_le_bytes());
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// The reverse of [`encode_search`]; `None` for a value that is not one.
pub fn decode_search(value: &Bytes) -> Option<(u64, Bytes)> {
    let head: [u8; 8] = value.get(..8)?.try_into().ok()?;
    Some((u64::from_le_bytes(head), value.slice(8..)))
}

/// A JSON answer with its `x-cache` header.
pub(crate) fn json_body(body: Bytes, outcome: Outcome) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    headers.insert("x-cache", axum::http::HeaderValue::from_static(outcome.header()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_separate_kinds_versions_and_requests_and_values_round_trip() {
        let cache = Arc::new(ResponseCache::new(&CacheConfig::default(), "f00d", Arc::default()));
        let a = cache.key(Kind::Search, "1", r#"{"q":"drill"}"#);
        assert_ne!(a, cache.key(Kind::Search, "2", r#"{"q":"drill"}"#));
        assert_ne!(a, cache.key(Kind::Autocomplete, "1", r#"{"q":"drill"}"#));
        assert_ne!(a, cache.key(Kind::Search, "1", r#"{"q":"drills"}"#));
        assert!(a.starts_with(&format!("searchd:{}:f00d:search:1:", env!("CARGO_PKG_VERSION"))), "{a}");
        assert_eq!(cache.get(Kind::Search, &a).await, None);
        cache.put(a.clone(), encode_search(42, b"{}")).await;
        let value = cache.get(Kind::Search, &a).await.unwrap();
        assert_eq!(decode_search(&value), Some((42, Bytes::from_static(b"{}"))));
        assert_eq!(decode_search(&Bytes::from_static(b"short")), None);
    }

    #[test]
    fn redis_urls_are_validated() {
        let config = CacheConfig { redis_url: "http://nope".into(), ..CacheConfig::default() };
        assert!(config.validate().unwrap_err().contains("cache.redis_url"));
        let config = CacheConfig { redis_url: "redis://127.0.0.1:6379/0".into(), ..CacheConfig::default() };
        assert!(config.validate().is_ok());
    }
}
