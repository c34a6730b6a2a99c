//! The gate every request passes before its handler: route class, authentication, scope and
//! rate limits (token buckets from `governor`, keyed by caller and by client IP).
//!
//! Route classes, each with its own limits and the scope it needs:
//! - `open`: `/healthz`, `/readyz`, `/metrics` — no key, no limit;
//! - `search` (scope `search`): reads — searches, autocomplete, products and vendors by id,
//!   recommendations, vendor search and match;
//! - `events` (scope `search`): `POST /v1/events`, which storefront pages send;
//! - `write` (scope `write`): product and vendor writes and bulk loads;
//! - `admin` (scope `admin`): `/v1/admin/*`.
//!
//! The caller is authenticated first (a hash lookup). A caller with a rate of its own — a service
//! key made with `--rate N`, or a token with a `searchd_rate` claim — is held to that rate alone,
//! from any address. Any other request spends its client IP's tokens (an unknown key too, so
//! guessing keys is limited), then the caller's. A key embedded in a storefront is shared by every
//! shopper, so its limit is high and the per-IP limit is what holds one client back. A refused
//! request gets 429 `rate_limited` with `Retry-After` (whole seconds, at least 1).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::error::{ApiError, Code};
use crate::middleware::auth::{Authenticator, Scope};
use crate::middleware::metrics::Metrics;

/// A token bucket: `per_second` tokens refill each second, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Tokens added per second (0: no limit).
    pub per_second: u32,
    /// The bucket's size: requests allowed at once.
    pub burst: u32,
}

impl Limit {
    const fn new(per_second: u32, burst: u32) -> Self {
        Self { per_second, burst }
    }

    fn quota(self) -> Option<Quota> {
        Some(Quota::per_second(NonZeroU32::new(self.per_second)?).allow_burst(NonZeroU32::new(self.burst)?))
    }
}

/// The limits of one route class: per caller (key or token subject) and per client IP.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassLimits {
    /// Per caller.
    pub key: Limit,
    /// Per client IP.
    pub ip: Limit,
}

/// `[rate_limit]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Limit requests.
    pub enabled: bool,
    /// Take the client IP from the last `X-Forwarded-For` hop (only behind a proxy that sets
    /// it; otherwise clients could pick their own bucket).
    pub trust_forwarded_for: bool,
    /// Reads.
    pub search: ClassLimits,
    /// `POST /v1/events`.
    pub events: ClassLimits,
    /// Writes.
    pub write: ClassLimits,
    /// `/v1/admin`.
    pub admin: ClassLimits,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            trust_forwarded_for: false,
            search: ClassLimits { key: Limit::new(2000, 4000), ip: Limit::new(50, 100) },
            events: ClassLimits { key: Limit::new(2000, 4000), ip: Limit::new(20, 50) },
            write: ClassLimits { key: Limit::new(500, 1000), ip: Limit::new(500, 1000) },
            admin: ClassLimits { key: Limit::new(10, 20), ip: Limit::new(10, 20) },
        }
    }
}

impl RateLimitConfig {
    /// Checks every limit; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        for (class, limits) in self.classes() {
            for (by, limit) in [("key", limits.key), ("ip", limits.ip)] {
                if limit.quota().is_none() {
                    return Err(format!("rate_limit.{class}.{by}: per_second and burst must be ≥ 1"));
                }
            }
        }
        Ok(())
    }

    fn classes(&self) -> [(&'static str, ClassLimits); 4] {
        [("search", self.search), ("events", self.events), ("write", self.write), ("admin", self.admin)]
    }
}

/// What a route is, for the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Health, metrics, the description and the storefront page: no key, no limit.
    Open,
    /// Reads (scope `search`).
    Search,
    /// Behaviour events (scope `search`).
    Events,
    /// Writes (scope `write`).
    Write,
    /// `/v1/admin` (scope `admin`).
    Admin,
}

impl Class {
    /// The class of a request by its method and route template.
    pub fn of(method: &Method, route: &str) -> Class {
        match route {
            "/healthz" | "/readyz" | "/metrics" | "/openapi.json" | "/" | "/app.js" | "/app.css"
            | "/app/config.json" => Class::Open,
            r if r.starts_with("/v1/admin/") || r.starts_with("/v1/tasks") => Class::Admin,
            "/v1/settings" if method == Method::PATCH => Class::Admin,
            "/v1/settings/preview" => Class::Admin,
            "/v1/events" => Class::Events,
            "/v1/products/search" | "/v1/vendors/match" if method == Method::POST => Class::Search,
            _ if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) => Class::Search,
            _ => Class::Write,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Open => "open",
            Class::Search => "search",
            Class::Events => "events",
            Class::Write => "write",
            Class::Admin => "admin",
        }
    }

    fn scope(self) -> Scope {
        match self {
            Class::Open | Class::Search | Class::Events => Scope::Search,
            Class::Write => Scope::Write,
            Class::Admin => Scope::Admin,
        }
    }

    fn index(self) -> usize {
        match self {
            Class::Open | Class::Search => 0,
            Class::Events => 1,
            Class::Write => 2,
            Class::Admin => 3,
        }
    }
}

struct Buckets {
    key: DefaultKeyedRateLimiter<String>,
    ip: DefaultKeyedRateLimiter<IpAddr>,
}

/// The buckets of every class.
pub struct RateLimiter {
    enabled: bool,
    trust_forwarded_for: bool,
    classes: Vec<Option<Buckets>>,
    checks: AtomicU64,
    /// One bucket per caller with a rate of its own, across classes: (caller, rate) → bucket.
    own: std::sync::Mutex<std::collections::HashMap<(String, u32), Arc<governor::DefaultDirectRateLimiter>>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("enabled", &self.enabled).finish_non_exhaustive()
    }
}

/// Who is over which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The caller's bucket.
    Key,
    /// The client IP's bucket.
    Ip,
}

impl RateLimiter {
    /// Buckets for every class of `config`.
    pub fn new(config: &RateLimitConfig) -> Self {
        let classes = config
            .classes()
            .into_iter()
            .map(|(_, limits)| {
                Some(Buckets {
                    key: DefaultKeyedRateLimiter::keyed(limits.key.quota()?),
                    ip: DefaultKeyedRateLimiter::keyed(limits.ip.quota()?),
                })
            })
            .collect();
        Self {
            enabled: config.enabled,
            trust_forwarded_for: config.trust_forwarded_for,
            classes,
            checks: AtomicU64::new(0),
            own: std::sync::Mutex::default(),
        }
    }

    /// `Err(seconds to wait)` when `ip` (or, given, `caller`) is over the class's limit.
    fn check(&self, class: Class, ip: Option<IpAddr>, caller: Option<&str>) -> Result<(), (By, u64)> {
        let Some(Some(buckets)) = self.classes.get(class.index()) else { return Ok(()) };
        // Forget idle buckets now and then, so memory follows the active clients.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 65_536 == 65_535 {
            buckets.key.retain_recent();
            buckets.ip.retain_recent();
        }
        let wait = |not_until: governor::NotUntil<_>| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        };
        if let Some(ip) = ip {
            buckets.ip.check_key(&ip).map_err(|n| (By::Ip, wait(n).max(1)))?;
        }
        if let Some(caller) = caller {
            buckets.key.check_key(&caller.to_string()).map_err(|n| (By::Key, wait(n).max(1)))?;
        }
        Ok(())
    }

    /// `Err(seconds to wait)` when `caller` is over its own `rate` (requests per second, a
    /// second's worth at once).
    fn check_own(&self, caller: &str, rate: u32) -> Result<(), (By, u64)> {
        let bucket = {
            let mut own = self.own.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Keys come and go rarely; a rate change makes a new bucket and the old one is dropped.
            if own.len() > 10_000 {
                own.clear();
            }
            own.entry((caller.to_string(), rate))
                .or_insert_with(|| {
                    let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
                    Arc::new(governor::RateLimiter::direct(Quota::per_second(rate).allow_burst(rate)))
                })
                .clone()
        };
        bucket.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            (By::Key, (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
        })
    }

    fn client_ip(&self, request: &Request) -> Option<IpAddr> {
        if self.trust_forwarded_for
            && let Some(ip) = request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return Some(ip);
        }
        request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
    }
}

fn too_many(class: Class, by: By, seconds: u64) -> Response {
    let who = match by {
        By::Key => "this API key",
        By::Ip => "this client address",
    };
    let mut response = ApiError::new(
        Code::RateLimited,
        format!("too many {} requests from {who}; retry in {seconds} s", class.name()),
    )
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// What the gate needs: who is calling, their buckets, and where refusals are counted.
#[derive(Clone, Debug)]
pub struct Gate {
    /// API keys and bearer tokens.
    pub auth: Arc<Authenticator>,
    /// The token buckets.
    pub limiter: Arc<RateLimiter>,
    /// Counts refusals.
    pub metrics: Arc<Metrics>,
}

/// The middleware: open routes pass; others are authenticated (when auth is on) and checked for
/// scope. A caller with a rate of its own (a service key or token) is held to that rate alone;
/// any other request is limited by client IP, then by caller. An unknown key spends its
/// address's tokens before it is refused, so guessing keys is limited too.
pub async fn gate(State(state): State<Gate>, mut request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| request.uri().path(), |m| m.as_str());
    let class = Class::of(request.method(), route);
    if class == Class::Open {
        return next.run(request).await;
    }
    let limiter = &state.limiter;
    let caller = state.auth.enabled().then(|| state.auth.authenticate(request.headers()));
    let own_rate = caller.as_ref().and_then(|c| c.as_ref().ok()).and_then(|c| c.rate);
    if limiter.enabled
        && own_rate.is_none()
        && let Err((by, seconds)) = limiter.check(class, limiter.client_ip(&request), None)
    {
        state.metrics.rate_limited(class.name(), "ip");
        return too_many(class, by, seconds);
    }
    if let Some(caller) = caller {
        let caller = match caller {
            Ok(caller) => caller,
            Err(e) => {
                state.metrics.auth_refused("unauthenticated");
                let mut response = e.into_response();
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return response;
            }
        };
        let needed = class.scope();
        if !caller.allows(needed) {
            state.metrics.auth_refused("insufficient_scope");
            let has: Vec<&str> = caller.scopes.iter().map(|s| s.name()).collect();
            return ApiError::new(
                Code::InsufficientScope,
                format!(
                    "{} {} needs the `{}` scope; this caller has [{}]",
                    request.method(),
                    route,
                    needed.name(),
                    has.join(", ")
                ),
            )
            .into_response();
        }
        if limiter.enabled {
            let checked = match caller.rate {
                Some(rate) => limiter.check_own(&caller.id, rate),
                None => limiter.check(class, None, Some(&caller.id)),
            };
            if let Err((by, seconds)) = checked {
                state.metrics.rate_limited(class.name(), "key");
                return too_many(class, by, seconds);
            }
        }
        // For the handlers: a tenant's filter (see `auth::Tenant`).
        request.extensions_mut().insert(caller);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_classified() {
        assert_eq!(Class::of(&Method::GET, "/healthz"), Class::Open);
        assert_eq!(Class::of(&Method::GET, "/v1/products/search"), Class::Search);
        assert_eq!(Class::of(&Method::POST, "/v1/products/search"), Class::Search);
        assert_eq!(Class::of(&Method::POST, "/v1/vendors/match"), Class::Search);
        assert_eq!(Class::of(&Method::GET, "/v1/products/{id}"), Class::Search);
        assert_eq!(Class::of(&Method::PUT, "/v1/products/{id}"), Class::Write);
        assert_eq!(Class::of(&Method::DELETE, "/v1/vendors/{id}"), Class::Write);
        assert_eq!(Class::of(&Method::POST, "/v1/products/bulk"), Class::Write);
        assert_eq!(Class::of(&Method::POST, "/v1/events"), Class::Events);
        assert_eq!(Class::of(&Method::GET, "/v1/admin/ranker"), Class::Admin);
        assert_eq!(Class::of(&Method::GET, "/v1/settings"), Class::Search);
        assert_eq!(Class::of(&Method::PATCH, "/v1/settings"), Class::Admin);
        assert_eq!(Class::of(&Method::GET, "/v1/tasks/{id}"), Class::Admin);
        assert_eq!(Class::of(&Method::POST, "/v1/admin/recommendations/refresh"), Class::Admin);
    }

    #[test]
    fn buckets_refuse_over_the_burst_and_say_when_to_return() {
        let config = RateLimitConfig {
            search: ClassLimits { key: Limit::new(1, 3), ip: Limit::new(1, 2) },
            ..RateLimitConfig::default()
        };
        let limiter = RateLimiter::new(&config);
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limiter.check(Class::Search, Some(ip), None).is_ok());
        assert!(limiter.check(Class::Search, Some(ip), None).is_ok());
        assert_eq!(limiter.check(Class::Search, Some(ip), None), Err((By::Ip, 1)));
        // Another address and another class have their own buckets.
        assert!(limiter.check(Class::Search, Some([10, 0, 0, 2].into()), None).is_ok());
        assert!(limiter.check(Class::Write, Some(ip), None).is_ok());
        for _ in 0..3 {
            assert!(limiter.check(Class::Search, None, Some("key:a")).is_ok());
        }
        assert_eq!(limiter.check(Class::Search, None, Some("key:a")), Err((By::Key, 1)));
        assert!(limiter.check(Class::Search, None, Some("key:b")).is_ok());
        assert!(
            RateLimitConfig { admin: ClassLimits { key: Limit::new(0, 1), ip: Limit::new(1, 1) }, ..config }
                .validate()
                .unwrap_err()
                .contains("rate_limit.admin.key")
        );
    }
}
