//! Merchandising rules, in the settings: each a condition on the search (its query, its filter,
//! a time window) and actions — pin products at positions, hide products, boost or bury the
//! products a filter selects, add or replace the request's filter, redirect. Versioned with the
//! settings, checked against the declared attributes when a change is accepted, compiled once per
//! version ([`RuleSet`]) and matched per search ([`RuleSet::matching`]).
//!
//! When several rules hold, all apply, in the order they are listed: hidden products add up,
//! boosts multiply, the first rule that pins a position or replaces the filter or redirects wins
//! it.
//!
//! ```
//! use searchd_catalog::rules::{Rule, RuleSet};
//!
//! let rule: Rule = serde_json::from_value(serde_json::json!({
//!     "id": "black-friday",
//!     "conditions": {"query": {"contains": "black friday"}, "from": "2026-11-27T00:00:00Z"},
//!     "actions": {"pin": [{"id": "tv-55", "position": 1}], "boost": [{"filter": "brand = Acme"}]}
//! }))
//! .unwrap();
//! let settings = searchd_catalog::Settings { rules: vec![rule], ..Default::default() };
//! let rules = RuleSet::compile(&settings).unwrap();
//! let nov_28 = 1_795_824_000; // 2026-11-28T00:00:00Z
//! let matched = rules.matching("Black Friday deals", None, nov_28);
//! assert_eq!(matched.rules, ["black-friday"]);
//! assert_eq!(matched.pins[0].0, "tv-55");
//! assert!(rules.matching("black friday", None, nov_28 - 86_400 * 7).rules.is_empty()); // before it starts
//! assert!(rules.matching("friday", None, nov_28).rules.is_empty());
//! ```

use serde::{Deserialize, Serialize};

use crate::filter::{Filter, Resolved};
use crate::{Settings, fold, tokenize};

/// Most rules one index may hold.
pub const MAX_RULES: usize = 1_000;
/// Most products one rule pins.
pub const MAX_PINS: usize = 50;
/// Most products one rule hides.
pub const MAX_HIDDEN: usize = 1_000;
/// Most boosts and buries of one rule, together.
pub const MAX_BOOSTS: usize = 10;
/// The deepest position a pin may take.
pub const MAX_PIN_POSITION: usize = 1_000;

/// One rule, as the settings declare it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Its name: unique, 1 to 64 letters, digits, `-` and `_`; explain and metrics show it.
    pub id: String,
    /// What it is for, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `false` keeps it without applying it.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// When it applies: every condition given must hold (none: every search).
    #[serde(default)]
    pub conditions: Conditions,
    /// What it does.
    pub actions: Actions,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A rule's conditions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// On the query's words (folded: case and accents do not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<QueryCondition>,
    /// The request's filter holds each of these clauses (ANDed with the rest, as written in
    /// the filter language): `category = Phones` holds for `category = Phones AND price < 500`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// From this instant on (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<time::OffsetDateTime>,
    /// Until this instant, excluded (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<time::OffsetDateTime>,
}

/// What a rule asks of the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryCondition {
    /// The query is these words.
    Is(String),
    /// The query holds these words, in this order, next to each other.
    Contains(String),
    /// The query holds this phrase or one of its declared synonyms (the synonym sets it is in).
    SynonymOf(String),
}

/// A rule's actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    /// Products shown at given positions (1 is the first), if they pass the request's filters,
    /// whether or not the query's words find them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pin: Vec<Pin>,
    /// Products never shown (nor counted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hide: Vec<String>,
    /// Products a filter selects ranked up: their score times `factor` (above 1; 2 by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boost: Vec<Boost>,
    /// Products a filter selects ranked down: their score times `factor` (below 1; 0.5 by
    /// default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bury: Vec<Boost>,
    /// A filter ANDed with the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_filter: Option<String>,
    /// A filter in place of the request's `filter` expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_filter: Option<String>,
    /// A URL the answer carries for the storefront to go to (`https://…` or a path `/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
}

/// A pinned product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// The product's id.
    pub id: String,
    /// Its position, 1 for the first hit.
    pub position: usize,
}

/// A boost or a bury: the products `filter` selects, their score times `factor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Boost {
    /// The products it applies to, in the filter language.
    pub filter: String,
    /// The factor; 2 for a boost and 0.5 for a bury when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

/// Where a rule stands at an instant, as `GET /v1/rules` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// It applies to the searches its conditions hold for.
    Active,
    /// Its window has not started.
    Scheduled,
    /// Its window is over.
    Expired,
    /// `enabled: false`.
    Disabled,
}

impl Rule {
    /// Where the rule stands at `now` (Unix seconds).
    pub fn status(&self, now: i64) -> RuleStatus {
        let c = &self.conditions;
        if !self.enabled {
            RuleStatus::Disabled
        } else if c.from.is_some_and(|t| now < t.unix_timestamp()) {
            RuleStatus::Scheduled
        } else if c.until.is_some_and(|t| now >= t.unix_timestamp()) {
            RuleStatus::Expired
        } else {
            RuleStatus::Active
        }
    }
}

/// The rules of one settings version, compiled.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    id: String,
    /// Word runs the query must be (`exact`) or hold one of.
    query: Option<(bool, Vec<Vec<String>>)>,
    /// Clauses the request's filter must hold.
    filter: Vec<Filter>,
    from: Option<i64>,
    until: Option<i64>,
    pins: Vec<(String, usize)>,
    hide: Vec<String>,
    boosts: Vec<(Resolved, f64)>,
    add_filter: Option<Filter>,
    replace_filter: Option<Filter>,
    redirect: Option<String>,
}

/// What the rules holding for one search ask; each effect with the id of the rule it is from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched<'a> {
    /// The rules that hold, in order.
    pub rules: Vec<&'a str>,
    /// `(product, position from 1, rule)`, one per position and product, by position.
    pub pins: Vec<(&'a str, usize, &'a str)>,
    /// `(product, rule)`.
    pub hide: Vec<(&'a str, &'a str)>,
    /// `(products, factor, rule)`.
    pub boosts: Vec<(&'a Resolved, f64, &'a str)>,
    /// Filters to AND with the request's.
    pub add_filters: Vec<&'a Filter>,
    /// The filter expression in place of the request's.
    pub replace_filter: Option<&'a Filter>,
    /// The redirect, and its rule.
    pub redirect: Option<(&'a str, &'a str)>,
}

impl Matched<'_> {
    /// Whether no rule holds.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The folded words of a text.
fn words(text: &str) -> Vec<String> {
    let folded = fold(text);
    tokenize(&folded).map(|t| t.text.to_string()).collect()
}

/// Whether `run` occurs in `words`, word by word, in a row.
fn holds(words: &[String], run: &[String]) -> bool {
    !run.is_empty() && words.windows(run.len()).any(|w| w == run)
}

/// The top-level AND parts of a filter.
fn conjuncts(filter: &Filter) -> Vec<&Filter> {
    match filter {
        Filter::And(parts) => parts.iter().flat_map(conjuncts).collect(),
        other => vec![other],
    }
}

impl RuleSet {
    /// Compiles and checks `settings`' rules against its attributes and synonyms; the error names
    /// the entry (`rules[2].actions.boost[0].filter: …`).
    pub fn compile(settings: &Settings) -> Result<Self, String> {
        let rules = &settings.rules;
        if rules.len() > MAX_RULES {
            return Err(format!("rules: at most {MAX_RULES}"));
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut out = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let at = |key: &str, e: String| format!("rules[{i}].{key}: {e}");
            let id_ok = (1..=64).contains(&rule.id.len())
                && rule.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(at("id", "1 to 64 letters, digits, `-` and `_`".into()));
            }
            if !ids.insert(rule.id.as_str()) {
                return Err(at("id", format!("`{}` is the id of an earlier rule", rule.id)));
            }
            let compiled = compile_rule(rule, settings).map_err(|(key, e)| at(&key, e))?;
            if rule.enabled {
                out.push(compiled);
            }
        }
        Ok(Self { rules: out })
    }

    /// Whether there are no enabled rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules holding for a search of `q` with the filter expression `filter` at `now` (Unix
    /// seconds), and what they ask.
    pub fn matching(&self, q: &str, filter: Option<&Filter>, now: i64) -> Matched<'_> {
        let mut out = Matched::default();
        if self.rules.is_empty() {
            return out;
        }
        let query = words(q);
        let clauses = filter.map(conjuncts).unwrap_or_default();
        for rule in &self.rules {
            let in_window = rule.from.is_none_or(|t| now >= t) && rule.until.is_none_or(|t| now < t);
            let query_holds = match &rule.query {
                None => true,
                Some((true, runs)) => runs.contains(&query),
                Some((false, runs)) => runs.iter().any(|r| holds(&query, r)),
            };
            let filter_holds = rule.filter.iter().all(|c| clauses.contains(&c));
            if !(in_window && query_holds && filter_holds) {
                continue;
            }
            let id = rule.id.as_str();
            out.rules.push(id);
            for (product, position) in &rule.pins {
                let taken = out.pins.iter().any(|(p, at, _)| *at == *position || *p == product.as_str());
                if !taken {
                    out.pins.push((product, *position, id));
                }
            }
            out.hide.extend(rule.hide.iter().map(|p| (p.as_str(), id)));
            out.boosts.extend(rule.boosts.iter().map(|(f, factor)| (f, *factor, id)));
            out.add_filters.extend(rule.add_filter.as_ref());
            if out.replace_filter.is_none() {
                out.replace_filter = rule.replace_filter.as_ref();
            }
            if out.redirect.is_none() {
                out.redirect = rule.redirect.as_deref().map(|r| (r, id));
            }
        }
        out.pins.sort_by_key(|(_, at, _)| *at);
        out
    }
}

/// One rule compiled; the error is `(key, message)`.
fn compile_rule(rule: &Rule, settings: &Settings) -> Result<Compiled, (String, String)> {
    let err = |key: &str, e: String| (key.to_string(), e);
    let parse = |key: &str, text: &str| -> Result<(Filter, Resolved), (String, String)> {
        let filter = Filter::parse(text).map_err(|e| err(key, e.to_string()))?;
        let resolved = filter.resolve(&settings.attributes).map_err(|e| err(key, e.to_string()))?;
        Ok((filter, resolved))
    };
    if rule.description.as_ref().is_some_and(|d| d.len() > 1_000) {
        return Err(err("description", "at most 1,000 bytes".into()));
    }
    let c = &rule.conditions;
    let query = match &c.query {
        None => None,
        Some(condition) => {
            let (exact, text, key) = match condition {
                QueryCondition::Is(t) => (true, t, "conditions.query.is"),
                QueryCondition::Contains(t) => (false, t, "conditions.query.contains"),
                QueryCondition::SynonymOf(t) => (false, t, "conditions.query.synonym_of"),
            };
            let phrase = words(text);
            if phrase.is_empty() && !exact {
                return Err(err(key, "needs at least one word".into()));
            }
            let mut runs = vec![phrase.clone()];
            if let QueryCondition::SynonymOf(_) = condition {
                // Every phrase of every set holding this one, as input or synonym.
                for set in &settings.synonyms {
                    let phrases: Vec<Vec<String>> = set.input.iter().chain(&set.synonyms).map(|p| words(p)).collect();
                    if phrases.contains(&phrase) {
                        runs.extend(phrases.into_iter().filter(|p| !p.is_empty() && *p != phrase));
                    }
                }
                if runs.len() == 1 {
                    return Err(err(key, format!("`{text}` is in no synonym set; declare the set first")));
                }
            }
            Some((exact, runs))
        }
    };
    let filter = match &c.filter {
        None => Vec::new(),
        Some(text) => {
            let (filter, _) = parse("conditions.filter", text)?;
            conjuncts(&filter).into_iter().cloned().collect()
        }
    };
    let (from, until) = (c.from.map(|t| t.unix_timestamp()), c.until.map(|t| t.unix_timestamp()));
    if let (Some(from), Some(until)) = (from, until) {
        if until <= from {
            return Err(err("conditions.until", "must be after `from`".into()));
        }
    }
    let a = &rule.actions;
    if a.pin.len() > MAX_PINS {
        return Err(err("actions.pin", format!("at most {MAX_PINS} products")));
    }
    let mut pins: Vec<(String, usize)> = Vec::with_capacity(a.pin.len());
    for (j, pin) in a.pin.iter().enumerate() {
        crate::validate_id(&pin.id).map_err(|e| err(&format!("actions.pin[{j}].id"), e.to_string()))?;
        if !(1..=MAX_PIN_POSITION).contains(&pin.position) {
            return Err(err(&format!("actions.pin[{j}].position"), format!("from 1 to {MAX_PIN_POSITION}")));
        }
        if pins.iter().any(|(id, at)| *id == pin.id || *at == pin.position) {
            return Err(err(&format!("actions.pin[{j}]"), "a product or position pinned twice".into()));
        }
        pins.push((pin.id.clone(), pin.position));
    }
    if a.hide.len() > MAX_HIDDEN {
        return Err(err("actions.hide", format!("at most {MAX_HIDDEN} products")));
    }
    for (j, id) in a.hide.iter().enumerate() {
        crate::validate_id(id).map_err(|e| err(&format!("actions.hide[{j}]"), e.to_string()))?;
    }
    if a.boost.len() + a.bury.len() > MAX_BOOSTS {
        return Err(err("actions.boost", format!("at most {MAX_BOOSTS} boosts and buries together")));
    }
    let mut boosts = Vec::new();
    for (list, key, default, up) in [(&a.boost, "boost", 2.0, true), (&a.bury, "bury", 0.5, false)] {
        for (j, boost) in list.iter().enumerate() {
            let (_, resolved) = parse(&format!("actions.{key}[{j}].filter"), &boost.filter)?;
            let factor = boost.factor.unwrap_or(default);
            let ok =
                factor.is_finite() && if up { factor > 1.0 && factor <= 100.0 } else { factor > 0.0 && factor < 1.0 };
            if !ok {
                let range = if up { "above 1, at most 100" } else { "above 0, below 1" };
                return Err(err(&format!("actions.{key}[{j}].factor"), format!("must be {range}")));
            }
            boosts.push((resolved, factor));
        }
    }
    let add_filter = a.add_filter.as_deref().map(|t| parse("actions.add_filter", t).map(|(f, _)| f)).transpose()?;
    let replace_filter =
        a.replace_filter.as_deref().map(|t| parse("actions.replace_filter", t).map(|(f, _)| f)).transpose()?;
    if let Some(url) = &a.redirect {
        let ok = url.len() <= 2_048
            && (url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(err("actions.redirect", "an http(s) URL or a path starting with `/`, without spaces".into()));
        }
    }
    let does_something = !pins.is_empty()
        || !a.hide.is_empty()
        || !boosts.is_empty()
        || add_filter.is_some()
        || replace_filter.is_some()
        || a.redirect.is_some();
    if !does_something {
        return Err(err("actions", "a rule needs at least one action".into()));
    }
    Ok(Compiled {
        id: rule.id.clone(),
        query,
        filter,
        from,
        until,
        pins,
        hide: a.hide.clone(),
        boosts,
        add_filter,
        replace_filter,
        redirect: a.redirect.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::attributes::{AttributeSchema, AttributeSettings, AttributeType};

    fn settings(rules: serde_json::Value) -> Settings {
        let mut s = Settings {
            attributes: AttributeSchema(
                [
                    ("season".to_string(), AttributeSettings::filterable(AttributeType::Keyword)),
                    ("notes".to_string(), AttributeSettings::searchable(AttributeType::Text, 1.0)),
                ]
                .into(),
            ),
            synonyms: vec![crate::synonyms::SynonymSet::multi_way(&["sofa", "couch", "settee"])],
            ..Default::default()
        };
        s.rules = serde_json::from_value(rules).unwrap();
        s
    }

    fn error(rules: serde_json::Value) -> String {
        RuleSet::compile(&settings(rules)).unwrap_err()
    }

    #[test]
    fn query_conditions_match_folded_words() {
        let s = settings(json!([
            {"id": "is", "conditions": {"query": {"is": "Drill"}}, "actions": {"hide": ["a"]}},
            {"id": "contains", "conditions": {"query": {"contains": "cordless drill"}}, "actions": {"hide": ["b"]}},
            {"id": "synonym", "conditions": {"query": {"synonym_of": "couch"}}, "actions": {"hide": ["c"]}},
            {"id": "off", "enabled": false, "actions": {"hide": ["d"]}},
        ]));
        let rules = RuleSet::compile(&s).unwrap();
        let ids = |q: &str| rules.matching(q, None, 0).rules;
        assert_eq!(ids("DRILL"), ["is"]);
        assert_eq!(ids("drill bits"), Vec::<&str>::new());
        assert_eq!(ids("Makita cordless drill 18v"), ["contains"]);
        assert_eq!(ids("drill cordless"), Vec::<&str>::new());
        assert_eq!(ids("leather settee"), ["synonym"]);
        assert_eq!(ids("couch"), ["synonym"]);
        assert_eq!(ids("sofabed"), Vec::<&str>::new());
    }

    #[test]
    fn filter_conditions_need_each_clause_and_windows_are_half_open() {
        let s = settings(json!([{
            "id": "winter",
            "conditions": {"filter": "season = winter", "from": "2026-12-01T00:00:00Z", "until": "2027-03-01T00:00:00Z"},
            "actions": {"bury": [{"filter": "season = summer"}], "redirect": "/winter"}
        }]));
        let rules = RuleSet::compile(&s).unwrap();
        let dec = 1_796_083_200; // 2026-12-01T00:00:00Z
        let mar = 1_803_859_200; // 2027-03-01T00:00:00Z
        let f = |t: &str| Filter::parse(t).unwrap();
        let with = |t: &str, now: i64| rules.matching("coats", Some(&f(t)), now).rules.len();
        assert_eq!(with("season = winter AND price < 100", dec), 1);
        assert_eq!(with("price < 100 AND (season = winter)", dec), 1);
        assert_eq!(with("season = winter OR season = autumn", dec), 0);
        assert_eq!(rules.matching("coats", None, dec).rules.len(), 0);
        assert_eq!(with("season = winter", dec - 1), 0);
        assert_eq!(with("season = winter", mar - 1), 1);
        assert_eq!(with("season = winter", mar), 0);
        let m = rules.matching("coats", Some(&f("season = winter")), dec);
        assert_eq!(m.boosts[0].1, 0.5);
        assert_eq!(m.redirect, Some(("/winter", "winter")));
        let rule = &s.rules[0];
        assert_eq!(rule.status(dec - 1), RuleStatus::Scheduled);
        assert_eq!(rule.status(dec), RuleStatus::Active);
        assert_eq!(rule.status(mar), RuleStatus::Expired);
    }

    #[test]
    fn several_rules_apply_in_order() {
        let s = settings(json!([
            {"id": "a", "actions": {"pin": [{"id": "p1", "position": 1}, {"id": "p2", "position": 3}], "hide": ["h1"],
                "boost": [{"filter": "season = winter", "factor": 3}], "replace_filter": "season = winter"}},
            {"id": "b", "actions": {"pin": [{"id": "p3", "position": 1}, {"id": "p4", "position": 2}, {"id": "p1", "position": 5}],
                "hide": ["h2"], "boost": [{"filter": "season = summer"}], "replace_filter": "season = summer",
                "add_filter": "price > 1"}},
        ]));
        let rules = RuleSet::compile(&s).unwrap();
        let m = rules.matching("anything", None, 0);
        assert_eq!(m.rules, ["a", "b"]);
        assert_eq!(m.pins, [("p1", 1, "a"), ("p4", 2, "b"), ("p2", 3, "a")]);
        assert_eq!(m.hide, [("h1", "a"), ("h2", "b")]);
        assert_eq!(m.boosts.iter().map(|b| b.1).collect::<Vec<_>>(), [3.0, 2.0]);
        assert_eq!(m.replace_filter.unwrap().to_string(), "season = winter");
        assert_eq!(m.add_filters.len(), 1);
    }

    #[test]
    fn errors_name_the_entry() {
        let cases = [
            (json!([{"id": "x y", "actions": {"hide": ["a"]}}]), "rules[0].id:"),
            (json!([{"id": "x", "actions": {"hide": ["a"]}}, {"id": "x", "actions": {"hide": ["a"]}}]), "rules[1].id:"),
            (json!([{"id": "x", "actions": {}}]), "rules[0].actions: a rule needs"),
            (
                json!([{"id": "x", "actions": {"boost": [{"filter": "notes = warm"}]}}]),
                "rules[0].actions.boost[0].filter: at column 1: `notes` is not filterable",
            ),
            (
                json!([{"id": "x", "actions": {"bury": [{"filter": "season = a", "factor": 2}]}}]),
                "rules[0].actions.bury[0].factor:",
            ),
            (json!([{"id": "x", "actions": {"add_filter": "price >"}}]), "rules[0].actions.add_filter: at column 8"),
            (
                json!([{"id": "x", "conditions": {"filter": "colour = red"}, "actions": {"hide": ["a"]}}]),
                "rules[0].conditions.filter:",
            ),
            (
                json!([{"id": "x", "actions": {"pin": [{"id": "a", "position": 0}]}}]),
                "rules[0].actions.pin[0].position:",
            ),
            (
                json!([{"id": "x", "actions": {"pin": [{"id": "a", "position": 1}, {"id": "a", "position": 2}]}}]),
                "rules[0].actions.pin[1]:",
            ),
            (
                json!([{"id": "x", "conditions": {"query": {"synonym_of": "lamp"}}, "actions": {"hide": ["a"]}}]),
                "rules[0].conditions.query.synonym_of:",
            ),
            (
                json!([{"id": "x", "conditions": {"from": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"},
                    "actions": {"hide": ["a"]}}]),
                "rules[0].conditions.until:",
            ),
            (json!([{"id": "x", "actions": {"redirect": "javascript:alert(1)"}}]), "rules[0].actions.redirect:"),
        ];
        for (rules, expected) in cases {
            let e = error(rules.clone());
            assert!(e.starts_with(expected), "{rules}: {e}");
        }
    }
}
