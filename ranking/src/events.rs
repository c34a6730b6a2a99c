//! Behaviour events (`view`, `click`, `add_to_cart`, `purchase`), their durable log, and what
//! ranking learns from them: a time-decayed popularity per product and a position-bias corrected
//! click-through rate per (query, product).
//!
//! Popularity decays exponentially: each event adds its kind's weight, and the sum halves every
//! `half_life_days`, so it is kept as one number per product (value and the time it is valid at)
//! and updated in O(1) per event, in any order of arrival.
//!
//! Click-through is corrected for position bias by inverse propensity weighting (Joachims et al.,
//! 2017): a result at position `p` is examined with probability `(1 / p)^eta`, so a click there
//! counts `p^eta` and an impression (a `view` with a query and a position) counts `p^eta` too;
//! the corrected rate is weighted clicks over weighted impressions, smoothed towards a prior.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The product was shown in detail.
    View,
    /// The product was clicked in results.
    Click,
    /// The product went into a cart.
    AddToCart,
    /// The product was bought.
    Purchase,
}

impl EventKind {
    /// The kinds' names.
    pub const NAMES: [&'static str; 4] = ["view", "click", "add_to_cart", "purchase"];
}

/// One behaviour event as `POST /v1/events` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    #[serde(rename = "type")]
    /// What happened.
    pub kind: EventKind,
    /// The product it happened to; it must exist.
    pub product_id: String,
    /// The search that showed the product, when it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// 1-based rank of the product in that search's results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Groups a shopper's events (bought together reads carts and purchases by session).
    pub session_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    /// When it happened (RFC 3339); not in the future beyond the clock skew allowed.
    pub timestamp: OffsetDateTime,
}

/// Clocks of clients and servers disagree a little: timestamps up to this far ahead are accepted.
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);
/// Longest query an event may carry (as search accepts).
pub const MAX_EVENT_QUERY_CHARS: usize = 500;

impl Event {
    /// Checks the event against `now`, naming the field at fault.
    pub fn validate(&self, now: OffsetDateTime) -> Result<(), searchd_catalog::Error> {
        use searchd_catalog::Error;
        searchd_catalog::validate_id(&self.product_id)
            .map_err(|e| Error::invalid("product_id", e.to_string().replace("invalid document field `id`: ", "")))?;
        if self.timestamp > now + MAX_CLOCK_SKEW {
            return Err(Error::invalid("timestamp", format!("is in the future (now is {now})")));
        }
        if self.position == Some(0) {
            return Err(Error::invalid("position", "positions start at 1"));
        }
        if self.position.is_some() && self.query.is_none() {
            return Err(Error::invalid("position", "a position needs the `query` whose results it is in"));
        }
        if let Some(q) = &self.query {
            if q.trim().is_empty() {
                return Err(Error::invalid("query", "must not be empty when given"));
            }
            if q.chars().count() > MAX_EVENT_QUERY_CHARS {
                return Err(Error::invalid("query", format!("must be at most {MAX_EVENT_QUERY_CHARS} characters")));
            }
        }
        Ok(())
    }
}

/// How events become signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// Popularity weight of each kind of event.
    pub view_weight: f64,
    /// Popularity weight of a click.
    pub click_weight: f64,
    /// Popularity weight of an add-to-cart.
    pub add_to_cart_weight: f64,
    /// Popularity weight of a purchase.
    pub purchase_weight: f64,
    /// Popularity halves every this many days.
    pub half_life_days: f64,
    /// Exponent of the examination model `(1 / position)^eta`.
    pub position_bias_eta: f64,
    /// Click-through prior: `prior_ctr` worth `prior_impressions` impressions.
    pub prior_ctr: f64,
    /// How many impressions the prior is worth.
    pub prior_impressions: f64,
    /// Engagement is folded into the index's signal columns this often (milliseconds).
    pub fold_interval_ms: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            view_weight: 1.0,
            click_weight: 3.0,
            add_to_cart_weight: 6.0,
            purchase_weight: 10.0,
            half_life_days: 14.0,
            position_bias_eta: 1.0,
            prior_ctr: 0.05,
            prior_impressions: 20.0,
            fold_interval_ms: 10_000,
        }
    }
}

impl EventsConfig {
    /// The popularity weight of `kind`.
    pub fn weight(&self, kind: EventKind) -> f64 {
        match kind {
            EventKind::View => self.view_weight,
            EventKind::Click => self.click_weight,
            EventKind::AddToCart => self.add_to_cart_weight,
            EventKind::Purchase => self.purchase_weight,
        }
    }

    /// Every weight finite and ≥ 0, the half-life and intervals positive; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let weights = [
            ("view_weight", self.view_weight),
            ("click_weight", self.click_weight),
            ("add_to_cart_weight", self.add_to_cart_weight),
            ("purchase_weight", self.purchase_weight),
            ("position_bias_eta", self.position_bias_eta),
            ("prior_impressions", self.prior_impressions),
        ];
        for (name, v) in weights {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("events.{name} must be a finite number ≥ 0"));
            }
        }
        if !self.half_life_days.is_finite() || self.half_life_days <= 0.0 {
            return Err("events.half_life_days must be > 0".into());
        }
        if !(0.0..=1.0).contains(&self.prior_ctr) {
            return Err("events.prior_ctr must be between 0 and 1".into());
        }
        if self.fold_interval_ms < 10 {
            return Err("events.fold_interval_ms must be ≥ 10".into());
        }
        Ok(())
    }
}

/// A decayed sum, valid at `at` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decayed {
    value: f64,
    at: f64,
}

/// Position-weighted clicks and impressions of one (query, product).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ClickStats {
    clicks: f64,
    impressions: f64,
}

/// Popularity and click-through learned from events.
#[derive(Debug, Clone)]
pub struct Aggregates {
    config: EventsConfig,
    popularity: HashMap<String, Decayed>,
    /// By normalized query, then product.
    clicks: HashMap<String, HashMap<String, ClickStats>>,
    /// Products put in the cart or bought, per session ("bought together").
    baskets: HashMap<String, std::collections::BTreeSet<String>>,
    events: u64,
}

fn unix(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// The normalized form of a query as click statistics key it: lowercased, spaces collapsed.
pub fn normalize_query(q: &str) -> String {
    q.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

impl Aggregates {
    /// Empty aggregates with these weights.
    pub fn new(config: EventsConfig) -> Self {
        Self { config, popularity: HashMap::new(), clicks: HashMap::new(), baskets: HashMap::new(), events: 0 }
    }

    /// Popularity's exponential decay per second.
    fn decay_rate(&self) -> f64 {
        std::f64::consts::LN_2 / (self.config.half_life_days * 86_400.0)
    }

    /// Events folded in so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Folds in one (valid) event; order of arrival does not matter.
    pub fn add(&mut self, event: &Event) {
        self.events += 1;
        let t = unix(event.timestamp);
        let rate = self.decay_rate();
        let weight = self.config.weight(event.kind);
        let entry = self.popularity.entry(event.product_id.clone()).or_insert(Decayed { value: 0.0, at: t });
        // Keep the later of the two times as the reference, decaying whichever is older.
        if t >= entry.at {
            entry.value = entry.value * (-(t - entry.at) * rate).exp() + weight;
            entry.at = t;
        } else {
            entry.value += weight * (-(entry.at - t) * rate).exp();
        }
        if let (Some(session), EventKind::AddToCart | EventKind::Purchase) = (&event.session_id, event.kind) {
            self.baskets.entry(session.clone()).or_default().insert(event.product_id.clone());
        }
        if let (Some(q), Some(position)) = (&event.query, event.position) {
            let inverse_propensity = f64::from(position).powf(self.config.position_bias_eta);
            let stats = self.clicks.entry(normalize_query(q)).or_default().entry(event.product_id.clone()).or_default();
            match event.kind {
                EventKind::View => stats.impressions += inverse_propensity,
                EventKind::Click => stats.clicks += inverse_propensity,
                EventKind::AddToCart | EventKind::Purchase => {}
            }
        }
    }

    /// The products each session put in its cart or bought (sessions with two or more).
    pub fn baskets(&self) -> impl Iterator<Item = Vec<&str>> {
        self.baskets.values().filter(|b| b.len() > 1).map(|b| b.iter().map(String::as_str).collect())
    }

    /// The product's decayed popularity as of `now` (0 when it has no events).
    pub fn popularity(&self, product_id: &str, now: OffsetDateTime) -> f64 {
        let rate = self.decay_rate();
        self.popularity.get(product_id).map_or(0.0, |d| d.value * (-(unix(now) - d.at).max(0.0) * rate).exp())
    }

    /// Every product's popularity as of `now`.
    pub fn all_popularity(&self, now: OffsetDateTime) -> impl Iterator<Item = (&str, f64)> + '_ {
        self.popularity.keys().map(move |id| (id.as_str(), self.popularity(id, now)))
    }

    /// The position-bias corrected click-through rate of the product for the query, smoothed
    /// towards the prior; the prior itself when the pair was never shown.
    pub fn click_through(&self, query: &str, product_id: &str) -> f64 {
        self.click_throughs(query, &[product_id])[0]
    }

    /// [`click_through`](Self::click_through) of each product, the query looked up once.
    pub fn click_throughs(&self, query: &str, product_ids: &[&str]) -> Vec<f64> {
        let shown = self.clicks.get(&normalize_query(query));
        product_ids
            .iter()
            .map(|id| self.smoothed(shown.and_then(|s| s.get(*id)).copied().unwrap_or_default()))
            .collect()
    }

    /// The prior, every product's click-through for `query`, when no product was shown for it;
    /// `None` when some were.
    pub fn unshown(&self, query: &str) -> Option<f64> {
        (!self.clicks.contains_key(&normalize_query(query))).then(|| self.smoothed(Default::default()))
    }

    /// The click-through of these statistics, smoothed towards the prior.
    fn smoothed(&self, stats: ClickStats) -> f64 {
        let c = &self.config;
        (stats.clicks + c.prior_ctr * c.prior_impressions) / (stats.impressions + c.prior_impressions).max(f64::EPSILON)
    }
}

/// Click statistics of one (query, product): position-weighted clicks and impressions and the
/// smoothed click-through rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickRow {
    /// The product.
    pub product_id: String,
    /// Position-weighted clicks.
    pub clicks: f64,
    /// Position-weighted impressions.
    pub impressions: f64,
    /// The smoothed click-through rate.
    pub click_through: f64,
}

impl Aggregates {
    /// Every query with click statistics, its products in no particular order.
    pub fn click_table(&self) -> BTreeMap<String, Vec<ClickRow>> {
        let mut out: BTreeMap<String, Vec<ClickRow>> = BTreeMap::new();
        for (q, id, stats) in self.clicks.iter().flat_map(|(q, s)| s.iter().map(move |(id, stats)| (q, id, stats))) {
            out.entry(q.clone()).or_default().push(ClickRow {
                product_id: id.clone(),
                clicks: stats.clicks,
                impressions: stats.impressions,
                click_through: self.click_through(q, id),
            });
        }
        out
    }
}

/// The events a node holds: the durable log and the aggregates rebuilt from it at start-up and
/// kept current with every accepted batch. Phase 2 reads click-through from it; a scheduled
/// task folds its popularity into the index.
#[derive(Debug)]
pub struct EventStore {
    log: Mutex<Option<EventLog>>,
    aggregates: RwLock<Aggregates>,
}

impl EventStore {
    /// Opens the log in `dir` and replays it; returns the store and how many torn lines were
    /// skipped.
    pub fn open(dir: &Path, config: EventsConfig) -> std::io::Result<(Self, u64)> {
        let log = EventLog::open(dir)?;
        let mut aggregates = Aggregates::new(config);
        let skipped = log.replay(|e| aggregates.add(&e))?;
        Ok((Self { log: Mutex::new(Some(log)), aggregates: RwLock::new(aggregates) }, skipped))
    }

    /// A store without a log: events live as long as the process (tests, benches).
    pub fn in_memory(config: EventsConfig) -> Self {
        Self { log: Mutex::new(None), aggregates: RwLock::new(Aggregates::new(config)) }
    }

    /// Logs a batch of valid events durably, then folds them into the aggregates.
    pub fn record(&self, events: &[Event]) -> std::io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut log = self.log.lock().map_err(|_| std::io::Error::other("event log lock poisoned"))?;
        if let Some(log) = log.as_mut() {
            log.append(events)?;
        }
        let mut aggregates = self.aggregates.write().map_err(|_| std::io::Error::other("aggregates lock poisoned"))?;
        for event in events {
            aggregates.add(event);
        }
        Ok(())
    }

    /// Reads the aggregates.
    pub fn read<T>(&self, f: impl FnOnce(&Aggregates) -> T) -> T {
        let guard = self.aggregates.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }
}

impl searchd_catalog::ClickSignals for EventStore {
    fn click_through(&self, query: &str, product_id: &str) -> f64 {
        self.read(|a| a.click_through(query, product_id))
    }

    fn click_throughs(&self, query: &str, product_ids: &[&str]) -> Vec<f64> {
        self.read(|a| a.click_throughs(query, product_ids))
    }

    fn unshown(&self, query: &str) -> Option<f64> {
        self.read(|a| a.unshown(query))
    }
}

/// The durable event log: JSON lines appended to `events.jsonl` in its folder, one `sync_data`
/// per accepted batch before the batch is acknowledged, so an acknowledged event survives a
/// crash; a crash mid-batch loses at most that unacknowledged batch (a torn last line is skipped
/// on replay).
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventLog {
    /// Opens (or creates) the log in `dir`. A torn last line (a crash mid-write) is closed with a
    /// newline first, so the next batch starts on a line of its own.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        use std::io::{Read, Seek, SeekFrom};
        std::fs::create_dir_all(dir)?;
        let path = dir.join("events.jsonl");
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(&path)?;
        if file.metadata()?.len() > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        Ok(Self { path, out: BufWriter::new(file) })
    }

    /// Appends a batch and makes it durable.
    pub fn append(&mut self, events: &[Event]) -> std::io::Result<()> {
        for event in events {
            serde_json::to_writer(&mut self.out, event)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }

    /// Reads every logged event back (at start-up, to rebuild the aggregates). Lines that do not
    /// parse (a torn last line after a crash) are counted and skipped.
    pub fn replay(&self, mut each: impl FnMut(Event)) -> std::io::Result<u64> {
        let mut skipped = 0;
        for line in BufReader::new(File::open(&self.path)?).lines() {
            match serde_json::from_str::<Event>(&line?) {
                Ok(event) => each(event),
                Err(_) => skipped += 1,
            }
        }
        Ok(skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22 12:00 UTC, and days from it.
    fn day(d: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_348_800 + d * 86_400).unwrap()
    }

    fn event(kind: EventKind, product: &str, at: OffsetDateTime) -> Event {
        Event { kind, product_id: product.into(), query: None, position: None, session_id: None, timestamp: at }
    }

    #[test]
    fn validation_names_the_field() {
        let now = day(0);
        let ok = event(EventKind::Click, "p1", now);
        ok.validate(now).unwrap();
        let field = |e: Event| e.validate(now).unwrap_err().param().to_string();
        assert_eq!(field(Event { timestamp: now + time::Duration::hours(1), ..ok.clone() }), "timestamp");
        assert_eq!(field(Event { product_id: " ".into(), ..ok.clone() }), "product_id");
        assert_eq!(field(Event { query: Some("x".into()), position: Some(0), ..ok.clone() }), "position");
        assert_eq!(field(Event { position: Some(2), ..ok.clone() }), "position");
        assert_eq!(field(Event { query: Some(" ".into()), ..ok.clone() }), "query");
        Event { timestamp: now + time::Duration::minutes(2), ..ok }.validate(now).unwrap();
        let unknown =
            serde_json::from_str::<Event>(r#"{"type":"like","product_id":"p","timestamp":"2026-11-22T12:00:00Z"}"#);
        assert!(unknown.unwrap_err().to_string().contains("unknown variant `like`"));
    }

    #[test]
    fn popularity_decays_by_half_life_in_any_order() {
        let config = EventsConfig { half_life_days: 10.0, ..EventsConfig::default() };
        let (t0, t10) = (day(-20), day(-10));
        let mut forward = Aggregates::new(config.clone());
        forward.add(&event(EventKind::Purchase, "p", t0));
        forward.add(&event(EventKind::Click, "p", t10));
        let mut backward = Aggregates::new(config);
        backward.add(&event(EventKind::Click, "p", t10));
        backward.add(&event(EventKind::Purchase, "p", t0));
        // At t10: the purchase is worth 10 / 2, the click 3.
        for a in [&forward, &backward] {
            assert!((a.popularity("p", t10) - 8.0).abs() < 1e-9, "{}", a.popularity("p", t10));
            assert!((a.popularity("p", t10 + time::Duration::days(10)) - 4.0).abs() < 1e-9);
        }
        assert_eq!(forward.popularity("unknown", t10), 0.0);
    }

    #[test]
    fn click_through_corrects_for_position() {
        let config = EventsConfig { prior_impressions: 0.0, ..EventsConfig::default() };
        let at = day(0);
        let mut a = Aggregates::new(config);
        let shown = |kind, product: &str, position| Event {
            query: Some("Cordless  Drill".into()),
            position: Some(position),
            ..event(kind, product, at)
        };
        // Both shown ten times at rank 1 and ten at rank 4, both clicked once: a click at rank 4,
        // where results are examined a quarter as often, is the stronger evidence.
        for product in ["x", "y"] {
            for _ in 0..10 {
                a.add(&shown(EventKind::View, product, 1));
                a.add(&shown(EventKind::View, product, 4));
            }
        }
        a.add(&shown(EventKind::Click, "x", 4));
        a.add(&shown(EventKind::Click, "y", 1));
        assert!((a.click_through("cordless drill", "x") - 4.0 / 50.0).abs() < 1e-9);
        assert!((a.click_through("CORDLESS drill", "y") - 1.0 / 50.0).abs() < 1e-9);
        let prior = Aggregates::new(EventsConfig::default());
        assert_eq!(prior.click_through("q", "p"), 0.05);
        // A query never shown has the prior for every product; a shown one is looked up.
        assert_eq!(prior.unshown("q"), Some(prior.click_through("q", "p")));
        assert_eq!(a.unshown("cordless  DRILL"), None);
        assert_eq!(a.unshown("drill"), Some(a.click_through("drill", "x")));
    }

    #[test]
    fn the_log_replays_what_was_appended_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let at = day(0);
        let mut log = EventLog::open(dir.path()).unwrap();
        let batch = vec![event(EventKind::View, "a", at), event(EventKind::Purchase, "b", at)];
        log.append(&batch).unwrap();
        drop(log);
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("events.jsonl"))
            .unwrap()
            .write_all(b"{\"type\":\"cli")
            .unwrap();
        let mut log = EventLog::open(dir.path()).unwrap();
        let more = event(EventKind::Click, "c", at);
        log.append(std::slice::from_ref(&more)).unwrap();
        let mut read = Vec::new();
        let skipped = log.replay(|e| read.push(e)).unwrap();
        let expected: Vec<Event> = batch.into_iter().chain([more]).collect();
        assert_eq!((read, skipped), (expected, 1));
    }
}
