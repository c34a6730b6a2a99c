//! Prometheus metrics at `GET /metrics` (OpenMetrics text, `prometheus-client`).
//!
//! Recorded as requests pass (a middleware on every route, the fallback included): requests by
//! route template, method and status; latency histograms by route and method. Read from the
//! application's state at each scrape: documents per index, the product index's generation and
//! commit age, the Kafka ingester's per-partition lag and message and dead-letter totals, and the
//! served models' versions and ages.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Instant, SystemTime};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use searchd_engine::Engine;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IndexLabels {
    index: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    topic: String,
    partition: i32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: &'static str,
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelName {
    model: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    backend: &'static str,
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheErrorLabels {
    backend: &'static str,
    op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    class: &'static str,
    by: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthLabels {
    outcome: &'static str,
}

type Seconds = Gauge<f64, AtomicU64>;

/// The registry and every metric in it.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    documents: Family<IndexLabels, Gauge>,
    generation: Gauge,
    commit_age: Seconds,
    kafka_lag: Family<PartitionLabels, Gauge>,
    kafka_messages: Counter,
    kafka_dead_letters: Family<ReasonLabels, Counter>,
    model_info: Family<ModelLabels, Gauge>,
    model_age: Family<ModelName, Seconds>,
    cache_lookups: Family<CacheLabels, Counter>,
    cache_errors: Family<CacheErrorLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    auth: Family<AuthLabels, Counter>,
    rules: Family<RuleLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("searchd");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route template, method and status", requests.clone());
        // 0.1 ms to about 3.3 s.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
        });
        registry.register_with_unit(
            "http_request_duration",
            "Time to the response's head by route template and method",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        let documents = Family::<IndexLabels, Gauge>::default();
        registry.register("index_documents", "Live documents visible to searches", documents.clone());
        let generation = Gauge::default();
        registry.register(
            "index_generation",
            "The product index's searcher generation (bumps on commit)",
            generation.clone(),
        );
        let commit_age = Seconds::default();
        registry.register_with_unit(
            "index_commit_age",
            "Time since the product index last made writes visible (since opening, before a commit)",
            prometheus_client::registry::Unit::Seconds,
            commit_age.clone(),
        );
        let kafka_lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "kafka_lag",
            "Messages between the committed offset and the high watermark",
            kafka_lag.clone(),
        );
        let kafka_messages = Counter::default();
        registry.register("kafka_messages", "Kafka messages applied or dead-lettered", kafka_messages.clone());
        let kafka_dead_letters = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "kafka_dead_letters",
            "Kafka messages sent to a dead-letter topic, by reason",
            kafka_dead_letters.clone(),
        );
        let model_info = Family::<ModelLabels, Gauge>::default();
        registry.register("model_info", "The model version served (value 1)", model_info.clone());
        let model_age = Family::<ModelName, Seconds>::default();
        registry.register_with_unit(
            "model_age",
            "Time since the served model's artifact was written",
            prometheus_client::registry::Unit::Seconds,
            model_age.clone(),
        );
        let cache_lookups = Family::<CacheLabels, Counter>::default();
        registry.register(
            "cache_lookups",
            "Response cache lookups by backend (local, redis), kind (search, autocomplete) and result (hit, miss, \
             skipped: Redis marked down after an error)",
            cache_lookups.clone(),
        );
        let cache_errors = Family::<CacheErrorLabels, Counter>::default();
        registry.register(
            "cache_errors",
            "Cache backend failures and timeouts by operation; the request is served from the index",
            cache_errors.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused with 429 by route class and by what was over its limit (key, ip)",
            rate_limited.clone(),
        );
        let auth = Family::<AuthLabels, Counter>::default();
        registry.register("auth_refused", "Requests refused by authentication (401) or scope (403)", auth.clone());
        let rules = Family::<RuleLabels, Counter>::default();
        registry.register(
            "rule_applications",
            "Product searches a merchandising rule held for, by rule id (cached answers included)",
            rules.clone(),
        );
        Self {
            rules,
            cache_lookups,
            cache_errors,
            rate_limited,
            auth,
            registry,
            requests,
            latency,
            documents,
            generation,
            commit_age,
            kafka_lag,
            kafka_messages,
            kafka_dead_letters,
            model_info,
            model_age,
        }
    }

    fn observe(&self, route: String, method: String, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { route: route.clone(), method: method.clone(), status }).inc();
        self.latency.get_or_create(&RouteLabels { route, method }).observe(seconds);
    }

    pub(crate) fn cache_lookup(&self, backend: &'static str, kind: &'static str, result: &'static str) {
        self.cache_lookups.get_or_create(&CacheLabels { backend, kind, result }).inc();
    }

    pub(crate) fn cache_error(&self, backend: &'static str, op: &'static str) {
        self.cache_errors.get_or_create(&CacheErrorLabels { backend, op }).inc();
    }

    pub(crate) fn rate_limited(&self, class: &'static str, by: &'static str) {
        self.rate_limited.get_or_create(&LimitLabels { class, by }).inc();
    }

    pub(crate) fn rule_applied(&self, rule: &str) {
        self.rules.get_or_create(&RuleLabels { rule: rule.to_string() }).inc();
    }

    pub(crate) fn auth_refused(&self, outcome: &'static str) {
        self.auth.get_or_create(&AuthLabels { outcome }).inc();
    }

    /// Reads the gauges from the engine, then encodes everything.
    pub(crate) fn render(&self, state: &Engine) -> Result<String, std::fmt::Error> {
        self.documents.get_or_create(&IndexLabels { index: "products" }).set(state.index.num_docs() as i64);
        self.documents.get_or_create(&IndexLabels { index: "vendors" }).set(state.vendors.num_docs() as i64);
        self.generation.set(state.index.generation() as i64);
        let now_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        self.commit_age.set((now_ms - state.index.committed_at_ms()).max(0) as f64 / 1e3);
        if let Some(ingest) = state.ingest.get() {
            let status = ingest.status();
            self.kafka_lag.clear();
            for p in &status.partitions {
                if let Some(lag) = p.lag {
                    self.kafka_lag
                        .get_or_create(&PartitionLabels { topic: p.topic.clone(), partition: p.partition })
                        .set(lag);
                }
            }
            catch_up(&self.kafka_messages, status.messages);
            for (reason, n) in &status.dead_letters {
                catch_up(&self.kafka_dead_letters.get_or_create(&ReasonLabels { reason: reason.clone() }), *n);
            }
        }
        self.model_info.clear();
        self.model_age.clear();
        let ranker = state.ranking.model_version().map(|v| (v.clone(), state.ranking.store().dir().join(v)));
        let similar =
            state.recommendations.served_name().map(|v| (v.clone(), state.recommendations.store().dir().join(v)));
        for (model, served) in [("ranker", ranker), ("similar", similar)] {
            let Some((version, path)) = served else { continue };
            self.model_info.get_or_create(&ModelLabels { model, version }).set(1);
            if let Some(age) = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()) {
                self.model_age.get_or_create(&ModelName { model }).set(age.as_secs_f64());
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Brings a counter up to a total kept elsewhere (totals only grow).
fn catch_up(counter: &Counter, total: u64) {
    let seen = counter.get();
    if total > seen {
        counter.inc_by(total - seen);
    }
}

/// Middleware on every route: counts the request and times it under its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe(route, method, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
