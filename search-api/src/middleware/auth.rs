//! Who may call what: API keys with scopes, stored hashed in the data dir, and JWT bearer
//! tokens for service callers (HS256 and RS256).
//!
//! Scopes: `search` (searches, autocomplete, reads, recommendations, vendor search and match,
//! behaviour events — what a storefront page needs, safe to embed in it, as Algolia's search-only
//! keys are), `write` (product and vendor writes, bulk loads) and `admin` (`/v1/admin/*`; it
//! implies the other two). `/healthz`, `/readyz` and `/metrics` stay open.
//!
//! A key is `sd_<id>_<secret>`: the id is public (`searchd keys list` shows it), the secret is 32
//! random bytes shown once by `searchd keys create`. Only the SHA-256 of the whole key is stored
//! (`data_dir/keys.json`); the secret has 256 bits, so a fast hash is enough — unlike passwords,
//! nothing is guessable. A running server re-reads the file when it changes (every
//! `reload_interval_ms`), so `create` and `revoke` take effect without a restart.
//!
//! Keys come as `Authorization: Bearer sd_…` or `X-Api-Key: sd_…`; any other bearer token is a
//! JWT. Its header's `alg` picks the verifying key: HS256 with `hs256_secret`, RS256 with
//! `rs256_public_key_file`, nothing else — `alg: none`, other algorithms and an HS256 token when
//! only an RSA key is configured are refused, so a token signed with the RSA public key as an
//! HMAC secret (algorithm confusion) never verifies. `exp`, `iss` and `aud` are required and
//! checked; scopes come from the `scope_claim` (a space-separated string, as OAuth 2.0's
//! `scope`, or an array).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::error::{ApiError, Code};

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Reads: searches, autocomplete, documents by id, recommendations, vendor search and
    /// matching, and sending behaviour events.
    Search,
    /// Product and vendor writes.
    Write,
    /// `/v1/admin`; implies the others.
    Admin,
}

impl Scope {
    /// The scope's name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Search => "search",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// The scope named `s`.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "search" => Some(Scope::Search),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// `[auth]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Require a key or token on every route but health and metrics (`serve --demo` turns it
    /// off).
    pub enabled: bool,
    /// How often a running server checks the key file for changes (milliseconds).
    pub reload_interval_ms: u64,
    /// `[auth.jwt]`: bearer tokens of service callers.
    pub jwt: JwtConfig,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { enabled: true, reload_interval_ms: 1000, jwt: JwtConfig::default() }
    }
}

/// `[auth.jwt]`: bearer tokens of service callers. Off while neither key is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// The HS256 shared secret (at least 32 bytes); empty: HS256 tokens are refused.
    pub hs256_secret: String,
    /// A PEM file with the RS256 public key; empty: RS256 tokens are refused.
    pub rs256_public_key_file: String,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry (one of, when it is a list).
    pub audience: String,
    /// The claim holding the scopes: a space-separated string or an array of strings.
    pub scope_claim: String,
    /// Clock skew tolerated on `exp` and `nbf` (seconds).
    pub leeway_secs: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            hs256_secret: String::new(),
            rs256_public_key_file: String::new(),
            issuer: String::new(),
            audience: String::new(),
            scope_claim: "scope".into(),
            leeway_secs: 30,
        }
    }
}

impl AuthConfig {
    /// Checks the interval and the JWT settings; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.reload_interval_ms < 10 {
            return Err("auth.reload_interval_ms must be ≥ 10".into());
        }
        let jwt = &self.jwt;
        if !jwt.hs256_secret.is_empty() && jwt.hs256_secret.len() < 32 {
            return Err("auth.jwt.hs256_secret must be at least 32 bytes".into());
        }
        if (!jwt.hs256_secret.is_empty() || !jwt.rs256_public_key_file.is_empty())
            && (jwt.issuer.is_empty() || jwt.audience.is_empty())
        {
            return Err("auth.jwt.issuer and auth.jwt.audience are required when a JWT key is set".into());
        }
        if jwt.scope_claim.is_empty() {
            return Err("auth.jwt.scope_claim must not be empty".into());
        }
        Ok(())
    }
}

/// A stored key: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    /// The key's public id (the first part of the key).
    pub id: String,
    /// A label to recognize it by.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Lowercase hex SHA-256 of the whole key.
    pub hash: String,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// When it was revoked (RFC 3339); a revoked key is refused.
    pub revoked_at: Option<String>,
    /// Requests per second this key may send, whatever its address (a service calling from one
    /// IP); `None` keeps the per-IP limits (a storefront key every shopper shares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
    /// A filter expression ANDed to every product search, facet count, autocomplete and product
    /// read of this key, which it cannot lift (a tenant: `vendor_id = "v42"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

/// The key file of a data dir: what `searchd keys` edits and the server reads.
#[derive(Debug, Clone)]
pub struct KeyStore {
    path: PathBuf,
}

impl KeyStore {
    /// The keys of `data_dir` (`keys.json`).
    pub fn new(data_dir: &Path) -> Self {
        Self { path: data_dir.join("keys.json") }
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every key, revoked ones included; none when the file does not exist.
    pub fn list(&self) -> anyhow::Result<Vec<StoredKey>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let file: KeyFile = serde_json::from_slice(&bytes)
                    .map_err(|e| anyhow::anyhow!("{} is not a key file: {e}", self.path.display()))?;
                Ok(file.keys)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// Creates a key held to the per-IP limits; returns the stored record and the key itself
    /// (shown once).
    pub fn create(&self, name: &str, scopes: &[Scope]) -> anyhow::Result<(StoredKey, String)> {
        self.create_with(name, scopes, None, None)
    }

    /// Creates a key; with a `rate`, it is held to that many requests per second instead of the
    /// per-IP limits; with a `filter` (the filter language), every product read it makes is
    /// limited to the products the filter holds for. Returns the stored record and the key
    /// itself (shown once).
    pub fn create_with(
        &self,
        name: &str,
        scopes: &[Scope],
        rate: Option<u32>,
        filter: Option<&str>,
    ) -> anyhow::Result<(StoredKey, String)> {
        anyhow::ensure!(!scopes.is_empty(), "a key needs at least one scope (search, write, admin)");
        anyhow::ensure!(rate != Some(0), "a key's rate is at least 1 request per second");
        if let Some(filter) = filter {
            searchd_catalog::filter::Filter::parse(filter)
                .map_err(|e| anyhow::anyhow!("--filter is not a filter expression: {e}"))?;
        }
        let mut id_bytes = [0u8; 6];
        let mut secret = [0u8; 32];
        rand::fill(&mut id_bytes);
        rand::fill(&mut secret);
        let id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("sd_{id}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let stored = StoredKey {
            id,
            name: name.to_string(),
            scopes,
            hash: hash_key(&key),
            created_at: now_rfc3339(),
            revoked_at: None,
            rate,
            filter: filter.map(str::to_string),
        };
        self.edit(|keys| {
            keys.push(stored.clone());
            Ok(())
        })?;
        Ok((stored, key))
    }

    /// Revokes the key with this id (or its name, when one key has it); returns it.
    pub fn revoke(&self, id_or_name: &str) -> anyhow::Result<StoredKey> {
        let mut revoked = None;
        self.edit(|keys| {
            let mut matching: Vec<&mut StoredKey> =
                keys.iter_mut().filter(|k| k.id == id_or_name || k.name == id_or_name).collect();
            anyhow::ensure!(!matching.is_empty(), "no key has the id or name `{id_or_name}`");
            anyhow::ensure!(matching.len() == 1, "{} keys are named `{id_or_name}`: revoke by id", matching.len());
            let key = &mut matching[0];
            if key.revoked_at.is_none() {
                key.revoked_at = Some(now_rfc3339());
            }
            revoked = Some(key.clone());
            Ok(())
        })?;
        revoked.ok_or_else(|| anyhow::anyhow!("no key revoked"))
    }

    /// Read, change, write atomically (a temporary file renamed over the old one), under a lock
    /// file so two `searchd keys` commands do not lose each other's change.
    fn edit(&self, change: impl FnOnce(&mut Vec<StoredKey>) -> anyhow::Result<()>) -> anyhow::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let _lock = LockFile::acquire(&self.path.with_extension("json.lock"))?;
        let mut keys = self.list()?;
        change(&mut keys)?;
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        serde_json::to_writer_pretty(&mut file, &KeyFile { keys })?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        restrict_permissions(&tmp);
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}

/// A lock held while the file exists (created exclusively, removed on drop; a lock older than
/// 30 s is taken to be left over by a crash).
struct LockFile(PathBuf);

impl LockFile {
    fn acquire(path: &Path) -> anyhow::Result<Self> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => return Ok(Self(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > Duration::from_secs(30));
                    if stale {
                        let _ = std::fs::remove_file(path);
                    } else if std::time::Instant::now() > deadline {
                        anyhow::bail!("{} is held by another `searchd keys` command", path.display());
                    } else {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                Err(e) => return Err(anyhow::anyhow!("cannot lock {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn hash_key(key: &str) -> String {
    format!("{:x}", sha2::Sha256::digest(key.as_bytes()))
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The JWT claim holding a service token's own rate (requests per second).
pub const RATE_CLAIM: &str = "searchd_rate";
/// The JWT claim holding a tenant filter (see [`StoredKey::filter`]).
pub const FILTER_CLAIM: &str = "searchd_filter";

/// Who is calling: the rate limiter's key and what they may do.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// `key:<id>` or `jwt:<iss>:<sub>`.
    pub id: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Its own requests per second, when it has one (a service); then the per-IP limits do not
    /// apply to it.
    pub rate: Option<u32>,
    /// Its tenant filter, ANDed to every product read it makes.
    pub filter: Option<Arc<searchd_catalog::filter::Filter>>,
}

/// The caller's tenant filter, when it has one (the gate leaves the [`Caller`] in the
/// request's extensions); what every product read of the caller is limited to.
#[derive(Debug, Clone, Default)]
pub struct Tenant(pub Option<Arc<searchd_catalog::filter::Filter>>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Tenant {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Tenant(parts.extensions.get::<Caller>().and_then(|c| c.filter.clone())))
    }
}

impl Tenant {
    /// The filter, checked against the served settings: a key whose filter names an attribute
    /// that is no longer filterable is refused (403), never served unfiltered.
    pub fn checked(
        &self,
        settings: &searchd_catalog::Settings,
    ) -> Result<Option<searchd_catalog::filter::Filter>, ApiError> {
        let Some(filter) = &self.0 else { return Ok(None) };
        filter.resolve(&settings.attributes).map_err(|e| {
            ApiError::new(
                Code::KeyFilterInvalid,
                format!(
                    "this caller's filter `{filter}` does not apply to the index's settings ({e}); \
                     declare its attributes filterable or give the caller another filter"
                ),
            )
        })?;
        Ok(Some(filter.as_ref().clone()))
    }
}

impl Caller {
    /// Whether the caller may use a route that needs `needed`.
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|s| *s == needed || *s == Scope::Admin)
    }
}

/// The live keys (by hash) and the JWT verifiers.
pub struct Authenticator {
    enabled: bool,
    store: KeyStore,
    keys: ArcSwap<HashMap<String, StoredKey>>,
    /// The key file's modification time and length as last read.
    seen: std::sync::Mutex<Option<(SystemTime, u64)>>,
    hs256: Option<DecodingKey>,
    rs256: Option<DecodingKey>,
    jwt: JwtConfig,
    pub(crate) reload_interval: Duration,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("enabled", &self.enabled)
            .field("keys", &self.keys.load().len())
            .field("hs256", &self.hs256.is_some())
            .field("rs256", &self.rs256.is_some())
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Reads the key file and the JWT keys.
    pub fn open(config: &AuthConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let rs256 = if config.jwt.rs256_public_key_file.is_empty() {
            None
        } else {
            let pem = std::fs::read(&config.jwt.rs256_public_key_file).map_err(|e| {
                anyhow::anyhow!("auth.jwt.rs256_public_key_file {}: {e}", config.jwt.rs256_public_key_file)
            })?;
            Some(DecodingKey::from_rsa_pem(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "auth.jwt.rs256_public_key_file {} is not an RSA public key in PEM: {e}",
                    config.jwt.rs256_public_key_file
                )
            })?)
        };
        let hs256 =
            (!config.jwt.hs256_secret.is_empty()).then(|| DecodingKey::from_secret(config.jwt.hs256_secret.as_bytes()));
        let auth = Self {
            enabled: config.enabled,
            store: KeyStore::new(data_dir),
            keys: ArcSwap::default(),
            seen: std::sync::Mutex::default(),
            hs256,
            rs256,
            jwt: config.jwt.clone(),
            reload_interval: Duration::from_millis(config.reload_interval_ms),
        };
        if auth.enabled {
            auth.reload()?;
        }
        Ok(auth)
    }

    /// Whether keys are required.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Live (not revoked) keys.
    pub fn live_keys(&self) -> usize {
        self.keys.load().len()
    }

    /// Re-reads the key file when its modification time or length changed; returns whether it
    /// did. A file that cannot be parsed keeps the keys read before (and is an error).
    pub fn reload(&self) -> anyhow::Result<bool> {
        let stamp = std::fs::metadata(self.store.path())
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Unchanged, or still absent (no keys, as at start).
        if *seen == stamp {
            return Ok(false);
        }
        let keys = self.store.list()?;
        let live: HashMap<String, StoredKey> =
            keys.into_iter().filter(|k| k.revoked_at.is_none()).map(|k| (k.hash.clone(), k)).collect();
        tracing::info!(keys = live.len(), "API keys loaded");
        self.keys.store(Arc::new(live));
        *seen = stamp;
        Ok(true)
    }

    /// The caller of a request with these headers.
    pub fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<Caller, ApiError> {
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .map(|v| {
                v.to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                    .map(str::trim)
                    .ok_or_else(|| {
                        ApiError::new(Code::InvalidApiKey, "the Authorization header must be `Bearer <key or token>`")
                    })
            })
            .transpose()?;
        let header_key = headers
            .get("x-api-key")
            .map(|v| v.to_str().map(str::trim).map_err(|_| ApiError::new(Code::InvalidApiKey, "invalid X-Api-Key")))
            .transpose()?;
        match (header_key, bearer) {
            (Some(key), _) => self.api_key(key),
            (None, Some(token)) if token.starts_with("sd_") => self.api_key(token),
            (None, Some(token)) => self.token(token),
            (None, None) => Err(ApiError::new(
                Code::MissingApiKey,
                "this route needs an API key (`Authorization: Bearer sd_…` or `X-Api-Key`) or a bearer token",
            )),
        }
    }

    fn api_key(&self, key: &str) -> Result<Caller, ApiError> {
        let keys = self.keys.load();
        let stored = keys
            .get(&hash_key(key))
            .ok_or_else(|| ApiError::new(Code::InvalidApiKey, "the API key is unknown or revoked"))?;
        // Checked when the key was made; a key file edited by hand into a broken filter refuses
        // the key rather than serving without its filter.
        let filter = stored
            .filter
            .as_deref()
            .map(|text| {
                searchd_catalog::filter::Filter::parse(text).map(Arc::new).map_err(|e| {
                    ApiError::new(Code::InvalidApiKey, format!("the API key's filter is not a filter expression: {e}"))
                })
            })
            .transpose()?;
        Ok(Caller { id: format!("key:{}", stored.id), scopes: stored.scopes.clone(), rate: stored.rate, filter })
    }

    fn token(&self, token: &str) -> Result<Caller, ApiError> {
        let invalid = |why: String| ApiError::new(Code::InvalidToken, format!("the bearer token is not valid: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("unreadable header ({e})")))?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref().ok_or_else(|| invalid("HS256 tokens are not accepted".into()))?,
            Algorithm::RS256 => self.rs256.as_ref().ok_or_else(|| invalid("RS256 tokens are not accepted".into()))?,
            other => return Err(invalid(format!("algorithm {other:?} is not accepted (HS256, RS256)"))),
        };
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = self.jwt.leeway_secs;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.jwt.issuer]);
        validation.set_audience(&[&self.jwt.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            invalid(match e.kind() {
                K::ExpiredSignature => "it has expired".into(),
                K::InvalidAudience => "wrong audience".into(),
                K::InvalidIssuer => "wrong issuer".into(),
                K::ImmatureSignature => "it is not valid yet (nbf)".into(),
                K::InvalidSignature => "bad signature".into(),
                K::MissingRequiredClaim(claim) => format!("the `{claim}` claim is missing"),
                _ => e.to_string(),
            })
        })?;
        let claims = data.claims;
        let scopes: Vec<Scope> = match claims.get(&self.jwt.scope_claim) {
            Some(serde_json::Value::String(s)) => s.split_whitespace().filter_map(Scope::parse).collect(),
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(serde_json::Value::as_str).filter_map(Scope::parse).collect()
            }
            _ => Vec::new(),
        };
        let sub = claims.get("sub").and_then(serde_json::Value::as_str).unwrap_or("-");
        // A service token may carry its own rate, as a service key does.
        let rate = match claims.get(RATE_CLAIM) {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|r| u32::try_from(r).ok())
                    .filter(|r| *r > 0)
                    .ok_or_else(|| invalid(format!("`{RATE_CLAIM}` must be a whole number ≥ 1")))?,
            ),
        };
        let filter = match claims.get(FILTER_CLAIM) {
            None => None,
            Some(serde_json::Value::String(text)) => Some(Arc::new(
                searchd_catalog::filter::Filter::parse(text)
                    .map_err(|e| invalid(format!("`{FILTER_CLAIM}` is not a filter expression: {e}")))?,
            )),
            Some(_) => return Err(invalid(format!("`{FILTER_CLAIM}` must be a string (a filter expression)"))),
        };
        Ok(Caller { id: format!("jwt:{}:{sub}", self.jwt.issuer), scopes, rate, filter })
    }
}

/// Re-reads the key file every `reload_interval_ms`.
pub fn spawn_key_reloader(auth: Arc<Authenticator>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(auth.reload_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !auth.enabled() {
                continue;
            }
            let auth = auth.clone();
            match tokio::task::spawn_blocking(move || auth.reload()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "cannot reload the API keys; keeping the ones loaded"),
                Err(e) => tracing::error!(error = %e, "API key reload panicked"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_stored_hashed_listed_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path());
        let (stored, key) = store.create("storefront", &[Scope::Search, Scope::Search]).unwrap();
        assert!(key.starts_with(&format!("sd_{}_", stored.id)), "{key}");
        assert_eq!(stored.scopes, vec![Scope::Search]);
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(!text.contains(key.splitn(3, '_').nth(2).unwrap()), "the secret must not be stored");
        assert!(text.contains(&hash_key(&key)));
        store.create("ops", &[Scope::Admin]).unwrap();
        assert_eq!(store.list().unwrap().len(), 2);
        assert!(store.create("none", &[]).is_err());
        let revoked = store.revoke("storefront").unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(store.revoke("nobody").unwrap_err().to_string().contains("nobody"));
        assert!(!dir.path().join("keys.json.lock").exists());
    }
}
