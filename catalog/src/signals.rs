//! Custom ranking signals: a merchandiser's own business numbers (`sales_rank`, `margin`,
//! `is_promoted`, a discount `market_price - price`) folded into phase 1 beside popularity and
//! rating, and handed to the learned ranker as a feature.
//!
//! Each signal reads a value (a numeric or boolean attribute, a built-in number, or several
//! added and subtracted), shapes it into `s` between 0 and 1 (`linear` between `min` and `max`,
//! `log` of the part above `min` up to `max`, or the share of `buckets` it reaches; reversed with
//! `order: asc`, where less is better), and multiplies the score by `1 + weight × s`. A product
//! without the value keeps its score: the factor is 1. So a signal is bounded, like the built-in
//! ones: it reorders close text matches and never makes an irrelevant product relevant.
//!
//! ```
//! use searchd_catalog::signals::Signal;
//!
//! let discount: Signal = serde_json::from_value(serde_json::json!({
//!     "name": "discount", "value": "market_price - price", "shape": "log", "max": 500, "weight": 0.3
//! }))
//! .unwrap();
//! let compiled = discount.compiled().unwrap();
//! assert_eq!(compiled.terms, vec![(1.0, "market_price".to_string()), (-1.0, "price".to_string())]);
//! assert_eq!(compiled.factor(None), 1.0); // no value: no change
//! assert_eq!(compiled.factor(Some(0.0)), 1.0);
//! assert!((compiled.factor(Some(500.0)) - 1.3).abs() < 1e-9);
//! assert!(compiled.factor(Some(50.0)) > 1.0 && compiled.factor(Some(50.0)) < 1.3);
//! ```

use serde::{Deserialize, Serialize};

/// Most signals one index may declare.
pub const MAX_SIGNALS: usize = 16;
/// Most attributes one signal's value adds up.
pub const MAX_TERMS: usize = 8;
/// Most bucket bounds of one signal.
pub const MAX_BUCKETS: usize = 32;
/// The largest weight: a signal at most multiplies a score by 11.
pub const MAX_WEIGHT: f64 = 10.0;

/// How a signal's value becomes its share `s` of the weight, between 0 and 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `(v − min) / (max − min)`, clamped: `min` 0 and `max` 1 by default (a boolean's shape).
    #[default]
    Linear,
    /// `ln(1 + v − min) / ln(1 + max − min)`, clamped: for long-tailed values (sales, discounts);
    /// needs `max`.
    Log,
    /// The share of `buckets` (increasing bounds) the value reaches: steps, for tiers.
    Bucket,
}

/// Whether more is better (`desc`, the default) or less (`asc`: a sales rank, a delivery time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Larger values earn more.
    #[default]
    Desc,
    /// Smaller values earn more.
    Asc,
}

/// One custom signal, as the settings declare it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// The name `explain` shows; the value's expression when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A numeric or boolean attribute, a built-in number (`price`, `rating`, `review_count`,
    /// `popularity`), or several added and subtracted: `market_price - price`.
    pub value: String,
    /// How the value is shaped (`linear` by default).
    #[serde(default)]
    pub shape: Shape,
    /// `desc` (more is better, the default) or `asc`.
    #[serde(default)]
    pub order: Order,
    /// The value from which the signal starts to count (0 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The value at which it counts fully (1 by default for `linear`; required for `log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// For `bucket`: increasing bounds; `s` is the share of them the value reaches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<f64>,
    /// The factor at the top of the shape is `1 + weight`: above −1 (below 0 buries), at most 10.
    pub weight: f64,
}

/// A signal ready to score: its value's terms and its shape's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The name `explain` shows.
    pub name: String,
    /// `(sign, name)`: the value is the sum of each named value times its sign.
    pub terms: Vec<(f64, String)>,
    shape: Shape,
    order: Order,
    min: f64,
    max: f64,
    buckets: Vec<f64>,
    weight: f64,
}

impl Signal {
    /// The signal checked and ready to score; the error says what is wrong (the caller adds
    /// where).
    pub fn compiled(&self) -> Result<Compiled, String> {
        let terms = parse_value(&self.value)?;
        let name = self.name.clone().unwrap_or_else(|| self.value.split_whitespace().collect::<Vec<_>>().join(" "));
        if name.trim().is_empty() || name.len() > 64 {
            return Err("name: 1 to 64 bytes".into());
        }
        if !self.weight.is_finite() || self.weight <= -1.0 || self.weight > MAX_WEIGHT {
            return Err(format!("weight: must be above -1 and at most {MAX_WEIGHT}"));
        }
        let finite = |key: &str, v: Option<f64>| match v {
            Some(v) if !v.is_finite() => Err(format!("{key}: must be a finite number")),
            _ => Ok(v),
        };
        let min = finite("min", self.min)?.unwrap_or(0.0);
        let max = finite("max", self.max)?;
        let (max, buckets) = match self.shape {
            Shape::Bucket => {
                if self.max.is_some() {
                    return Err("max: a bucket signal is shaped by its `buckets`".into());
                }
                let b = &self.buckets;
                if b.is_empty() || b.len() > MAX_BUCKETS {
                    return Err(format!("buckets: 1 to {MAX_BUCKETS} increasing bounds"));
                }
                if b.iter().any(|v| !v.is_finite()) || b.windows(2).any(|w| w[0] >= w[1]) {
                    return Err("buckets: finite bounds, each above the one before".into());
                }
                (0.0, b.clone())
            }
            shape => {
                if !self.buckets.is_empty() {
                    return Err("buckets: only for `shape: bucket`".into());
                }
                let max = match (shape, max) {
                    (Shape::Log, None) => {
                        return Err("max: a log signal needs the value at which it counts fully".into());
                    }
                    (_, Some(max)) => max,
                    (_, None) => 1.0,
                };
                if max <= min {
                    return Err(format!("max: must be above min ({min})"));
                }
                (max, Vec::new())
            }
        };
        Ok(Compiled { name, terms, shape: self.shape, order: self.order, min, max, buckets, weight: self.weight })
    }
}

impl Compiled {
    /// The value's share of the weight, between 0 and 1.
    pub fn share(&self, value: f64) -> f64 {
        let s = match self.shape {
            Shape::Linear => (value - self.min) / (self.max - self.min),
            Shape::Log => (value - self.min).max(0.0).ln_1p() / (self.max - self.min).ln_1p(),
            Shape::Bucket => self.buckets.iter().filter(|b| value >= **b).count() as f64 / self.buckets.len() as f64,
        };
        let s = if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) };
        match self.order {
            Order::Desc => s,
            Order::Asc => 1.0 - s,
        }
    }

    /// The factor on the score: 1 without a value.
    pub fn factor(&self, value: Option<f64>) -> f64 {
        value.filter(|v| v.is_finite()).map_or(1.0, |v| 1.0 + self.weight * self.share(v))
    }
}

/// `a`, `a - b`, `a + b - c`: names (letters, digits, `_`, `.`, `-` inside a name) joined by
/// `+` and `-` with spaces around them, an optional sign first.
fn parse_value(value: &str) -> Result<Vec<(f64, String)>, String> {
    let mut terms = Vec::new();
    let mut sign = Some(1.0);
    for token in value.split_whitespace() {
        match (token, sign) {
            ("+", None) => sign = Some(1.0),
            ("-", None) => sign = Some(-1.0),
            ("-", Some(s)) if terms.is_empty() => sign = Some(-s),
            ("+" | "-", Some(_)) => return Err(format!("value: `{value}` has two signs in a row")),
            (name, Some(s)) => {
                let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
                if !ok {
                    return Err(format!(
                        "value: `{name}` is not an attribute name; a value is attributes joined by ` + ` and ` - `"
                    ));
                }
                terms.push((s, name.to_string()));
                sign = None;
            }
            (name, None) => return Err(format!("value: `{name}` follows a name without ` + ` or ` - ` between")),
        }
    }
    if terms.is_empty() || sign.is_some() {
        return Err(format!("value: `{value}` should be an attribute, or attributes joined by ` + ` and ` - `"));
    }
    if terms.len() > MAX_TERMS {
        return Err(format!("value: at most {MAX_TERMS} attributes"));
    }
    Ok(terms)
}

/// Checks every signal (the errors name it: `signals[1].weight: …`) and that each value's
/// names are numbers: `numeric(name)` says whether one is (a built-in number or a declared
/// numeric or boolean attribute) or why not.
pub fn validate(signals: &[Signal], numeric: &dyn Fn(&str) -> Result<(), String>) -> Result<(), String> {
    if signals.len() > MAX_SIGNALS {
        return Err(format!("signals: at most {MAX_SIGNALS}"));
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, signal) in signals.iter().enumerate() {
        let compiled = signal.compiled().map_err(|e| format!("signals[{i}].{e}"))?;
        for (_, name) in &compiled.terms {
            numeric(name).map_err(|e| format!("signals[{i}].value: {e}"))?;
        }
        if !names.insert(compiled.name.clone()) {
            return Err(format!("signals[{i}].name: `{}` is taken by another signal", compiled.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn signal(json: serde_json::Value) -> Result<Compiled, String> {
        serde_json::from_value::<Signal>(json).map_err(|e| e.to_string())?.compiled()
    }

    #[test]
    fn values_parse_into_signed_terms() {
        let c = signal(serde_json::json!({"value": "a + b.c - d_e", "weight": 1})).unwrap();
        assert_eq!(c.terms, vec![(1.0, "a".into()), (1.0, "b.c".into()), (-1.0, "d_e".into())]);
        assert_eq!(c.name, "a + b.c - d_e");
        let c = signal(serde_json::json!({"value": "- rank", "weight": 1})).unwrap();
        assert_eq!(c.terms, vec![(-1.0, "rank".into())]);
        for bad in ["", "a b", "a +", "a + - b", "a * b", "3", "a+b"] {
            let e = signal(serde_json::json!({"value": bad, "weight": 1})).unwrap_err();
            assert!(e.starts_with("value:"), "{bad}: {e}");
        }
    }

    #[test]
    fn shapes_are_checked() {
        let cases = [
            (serde_json::json!({"value": "a", "shape": "log", "weight": 1}), "max:"),
            (serde_json::json!({"value": "a", "max": 1, "min": 2, "weight": 1}), "max:"),
            (serde_json::json!({"value": "a", "shape": "bucket", "weight": 1}), "buckets:"),
            (serde_json::json!({"value": "a", "shape": "bucket", "buckets": [2, 1], "weight": 1}), "buckets:"),
            (serde_json::json!({"value": "a", "buckets": [1], "weight": 1}), "buckets:"),
            (serde_json::json!({"value": "a", "weight": -1}), "weight:"),
            (serde_json::json!({"value": "a", "weight": 11}), "weight:"),
        ];
        for (json, key) in cases {
            let e = signal(json.clone()).unwrap_err();
            assert!(e.starts_with(key), "{json}: {e}");
        }
        let numeric = |n: &str| if n == "a" { Ok(()) } else { Err(format!("`{n}` is not a number")) };
        let two: Vec<Signal> =
            serde_json::from_value(serde_json::json!([{"value": "a", "weight": 1}, {"value": "a", "weight": 2}]))
                .unwrap();
        assert!(validate(&two, &numeric).unwrap_err().starts_with("signals[1].name"));
        let unknown: Vec<Signal> =
            serde_json::from_value(serde_json::json!([{"value": "a - b", "weight": 1}])).unwrap();
        assert_eq!(validate(&unknown, &numeric).unwrap_err(), "signals[0].value: `b` is not a number");
    }

    #[test]
    fn buckets_step_and_asc_reverses() {
        let c = signal(serde_json::json!({"value": "a", "shape": "bucket", "buckets": [10, 20, 40, 80], "weight": 1}))
            .unwrap();
        assert_eq!([5.0, 10.0, 39.0, 80.0, 1e9].map(|v| c.share(v)), [0.0, 0.25, 0.5, 1.0, 1.0]);
        let c = signal(serde_json::json!({"value": "rank", "order": "asc", "max": 100, "weight": 1})).unwrap();
        assert_eq!([0.0, 25.0, 100.0, 1e6].map(|v| c.share(v)), [1.0, 0.75, 0.0, 0.0]);
    }

    proptest! {
        #[test]
        fn factors_are_bounded_and_monotone(
            shape in prop_oneof![Just("linear"), Just("log"), Just("bucket")],
            asc in any::<bool>(),
            weight in -0.99f64..10.0,
            a in -1e6f64..1e6,
            b in -1e6f64..1e6,
        ) {
            let mut json = serde_json::json!({"value": "x", "shape": shape, "weight": weight,
                "order": if asc { "asc" } else { "desc" }});
            if shape == "bucket" {
                json["buckets"] = serde_json::json!([-100, 0, 5, 1000]);
            } else {
                json["min"] = serde_json::json!(-10);
                json["max"] = serde_json::json!(5000);
            }
            let c = signal(json).unwrap();
            let (lo, hi) = if weight >= 0.0 { (1.0, 1.0 + weight) } else { (1.0 + weight, 1.0) };
            let (fa, fb) = (c.factor(Some(a)), c.factor(Some(b)));
            prop_assert!(fa >= lo - 1e-12 && fa <= hi + 1e-12);
            // More is better with `desc` and a positive weight: the factor never falls as the value grows.
            let up = (weight >= 0.0) != asc;
            if a <= b {
                let ordered = if up { fa <= fb + 1e-12 } else { fa >= fb - 1e-12 };
                prop_assert!(ordered, "{} then {}", fa, fb);
            }
        }
    }
}
