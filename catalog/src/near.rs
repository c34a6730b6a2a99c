//! Product search near a shopper: which offer of a product is its best serving one
//! ([`OfferSort`]), the conditions a filter puts on offers (`offer.price < 50`), and what a hit
//! carries of its offer ([`NearOffer`]).
//!
//! Offer conditions are the filter's top-level `AND` parts that name only `offer.` fields (and,
//! near a shopper, `price`: a product's price there is its serving offers'). They are checked
//! together on each offer, so `offer.price < 50 AND offer.lead_time_days <= 2`
//! keeps a product only when one and the same offer is under 50 and ships within two days. A
//! part that joins an offer field to a product field by `OR` or `NOT` would ask about two
//! different things at once, and is refused.
//!
//! ```
//! use searchd_catalog::filter::Filter;
//! use searchd_catalog::near::{OfferConditions, OfferRow};
//! use searchd_catalog::OfferCondition;
//!
//! let filter = Filter::parse("brand = Bosch AND offer.price < 50 AND offer.lead_time_days <= 2")?;
//! let (products, offers) = OfferConditions::split(Some(&filter), false)?;
//! assert_eq!(products.unwrap().to_string(), "brand = Bosch");
//! let row = |price, lead_time_days| OfferRow {
//!     price, stock: 3, lead_time_days, condition: OfferCondition::New, currency: None, vendor_id: "v1",
//! };
//! assert!(offers.holds(&row(45.0, 1)));
//! assert!(!offers.holds(&row(45.0, 5)));
//! # Ok::<(), searchd_catalog::filter::FilterError>(())
//! ```

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::filter::{Condition, Filter, FilterError, Op, Token};
use crate::{GeoPoint, Offer, OfferCondition};

/// Which serving offer of a product is its best, shown on the hit and used by `sort=price`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferSort {
    /// The lowest price (then the shortest lead time, then the nearest vendor).
    #[default]
    Price,
    /// The shortest lead time (then the lowest price, then the nearest vendor).
    LeadTime,
    /// The nearest vendor (then the lowest price, then the shortest lead time).
    Distance,
}

impl std::str::FromStr for OfferSort {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim() {
            "price" => Ok(Self::Price),
            "lead_time" => Ok(Self::LeadTime),
            "distance" => Ok(Self::Distance),
            other => Err(crate::Error::invalid(
                "offer_sort",
                format!("`{other}` is not an offer order; use price, lead_time or distance"),
            )),
        }
    }
}

impl OfferSort {
    /// Orders two offers, better first: by this order's keys, then by offer id, so every
    /// computation picks the same best offer.
    pub fn compare(self, a: (&OfferKey, &str), b: (&OfferKey, &str)) -> Ordering {
        let keys = |k: &OfferKey| match self {
            Self::Price => [k.price, f64::from(k.lead_time_days), k.distance_km],
            Self::LeadTime => [f64::from(k.lead_time_days), k.price, k.distance_km],
            Self::Distance => [k.distance_km, k.price, f64::from(k.lead_time_days)],
        };
        let (ka, kb) = (keys(a.0), keys(b.0));
        ka.iter().zip(&kb).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or_else(|| a.1.cmp(b.1))
    }
}

/// Near a shopper, how much phase 1 favours a product whose best offer is near:
/// its score × (1 + `NEAR_WEIGHT` × [`nearness`]), so ×1.5 at 0 km, ×1.25 at 10 km, ×1.08 at
/// 50 km.
pub const NEAR_WEIGHT: f64 = 0.5;
/// The distance at which [`nearness`] is one half, kilometres.
pub const NEAR_SCALE_KM: f64 = 10.0;

/// How near an offer is, from 1 (at the shopper) towards 0 (far): `s / (s + distance)` with
/// `s` = [`NEAR_SCALE_KM`]. Phase 2 reads it as its `offer_nearness` feature.
pub fn nearness(distance_km: f64) -> f64 {
    NEAR_SCALE_KM / (NEAR_SCALE_KM + distance_km.max(0.0))
}

/// Phase 1's factor for a best offer `distance_km` away (see [`NEAR_WEIGHT`]).
pub fn near_factor(distance_km: f64) -> f64 {
    1.0 + NEAR_WEIGHT * nearness(distance_km)
}

/// What decides which offer is best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfferKey {
    /// The offer's price.
    pub price: f64,
    /// Its lead time.
    pub lead_time_days: u32,
    /// Its vendor's nearest branch to the shopper, kilometres.
    pub distance_km: f64,
}

/// A hit's best serving offer, when the search was `near` a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NearOffer {
    /// The offer as stored.
    pub offer: Offer,
    /// Kilometres from the shopper to the offering vendor's nearest branch.
    pub distance_km: f64,
    /// That branch.
    pub nearest_branch: GeoPoint,
    /// How many offers of this product serve the point (in stock, meeting the offer conditions).
    pub serving_offers: u64,
}

/// One offer of a product, as its page lists them (`GET /v1/products/{id}/offers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductOffer {
    /// The offer as stored.
    pub offer: Offer,
    /// The offering vendor's name.
    pub vendor_name: String,
    /// With `near`: kilometres from the shopper to the vendor's nearest branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// With `near`: that branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest_branch: Option<GeoPoint>,
}

/// A product's offers in stock from available vendors (serving the shopper, with `near`), best
/// first by the offer order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductOffers {
    /// The product.
    pub product_id: String,
    /// Offers found, before `limit`.
    pub total: u64,
    /// The best `limit` of them.
    pub hits: Vec<ProductOffer>,
}

/// The facet of the sellers near a shopper (`facets=vendor`).
pub const SELLERS_FACET: &str = "vendor";

/// The offer fields a filter may name, after `offer.`.
pub const OFFER_FIELDS: [&str; 6] = ["price", "stock", "lead_time_days", "condition", "currency", "vendor_id"];

/// The prefix of offer fields in a filter.
pub const OFFER_PREFIX: &str = "offer.";

/// One offer as the conditions see it.
#[derive(Debug, Clone, Copy)]
pub struct OfferRow<'a> {
    /// Price.
    pub price: f64,
    /// Units in stock.
    pub stock: u64,
    /// Lead time.
    pub lead_time_days: u32,
    /// Condition.
    pub condition: OfferCondition,
    /// Currency code, when given.
    pub currency: Option<&'a str>,
    /// The vendor.
    pub vendor_id: &'a str,
}

/// The offer conditions of a filter, all of which one offer must meet (none: every offer does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfferConditions {
    parts: Vec<Filter>,
    /// Whether each product's sellers are kept too (the `vendor` facet counts them).
    sellers: bool,
}

impl OfferConditions {
    /// The same conditions, keeping each product's sellers too (or not).
    pub fn with_sellers(self, sellers: bool) -> Self {
        Self { sellers, ..self }
    }

    /// Whether each product's sellers are kept (for the `vendor` facet).
    pub fn keeps_sellers(&self) -> bool {
        self.sellers
    }

    /// Splits a filter into what it asks of products and what it asks of offers (see the
    /// module documentation); with `price_is_offer`, `price` is `offer.price`. The error names
    /// the column of the offending field.
    pub fn split(filter: Option<&Filter>, price_is_offer: bool) -> Result<(Option<Filter>, Self), FilterError> {
        let is_offer = |name: &str| name.starts_with(OFFER_PREFIX) || (price_is_offer && name == "price");
        let Some(filter) = filter else { return Ok((None, Self::default())) };
        let parts = match filter {
            Filter::And(parts) => parts.clone(),
            other => vec![other.clone()],
        };
        let (mut products, mut offers) = (Vec::new(), Vec::new());
        for part in parts {
            let fields = part.fields();
            let on_offers = fields.iter().filter(|f| is_offer(&f.text)).count();
            if on_offers == 0 {
                products.push(part);
                continue;
            }
            if on_offers < fields.len() {
                let at = fields.iter().find(|f| is_offer(&f.text)).map_or(1, |f| f.column);
                return Err(FilterError {
                    column: at,
                    message: "an offer condition is joined to a product condition by OR or NOT; offer \
                              conditions must be ANDed at the top level, as they hold for one offer"
                        .into(),
                    path: String::new(),
                });
            }
            check(&part)?;
            offers.push(part);
        }
        Ok((Filter::all(products), Self { parts: offers, sellers: false }))
    }

    /// Adds a condition every offer must meet too.
    pub fn push(&mut self, part: Filter) {
        self.parts.push(part);
    }

    /// Whether there is no condition.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Whether the conditions read the currency.
    pub fn reads_currency(&self) -> bool {
        self.parts.iter().any(|p| p.fields().iter().any(|f| f.text == "offer.currency"))
    }

    /// Whether the offer meets every condition.
    pub fn holds(&self, row: &OfferRow<'_>) -> bool {
        self.parts.iter().all(|p| eval(p, row))
    }
}

/// Checks an offer-only part: known fields, operators they support, values of their type.
fn check(filter: &Filter) -> Result<(), FilterError> {
    match filter {
        Filter::And(parts) | Filter::Or(parts) => parts.iter().try_for_each(check),
        Filter::Not(part) => check(part),
        Filter::Condition(c) => {
            let at = |column: usize, message: String| FilterError { column, message, path: String::new() };
            let name = offer_field(&c.field.text);
            if !OFFER_FIELDS.contains(&name) {
                return Err(at(
                    c.field.column,
                    format!(
                        "`{}` is not an offer field; offer fields: offer.{}",
                        c.field.text,
                        OFFER_FIELDS.join(", offer.")
                    ),
                ));
            }
            let numeric = matches!(name, "price" | "stock" | "lead_time_days");
            for value in values(&c.op) {
                if numeric && number(value).is_none() {
                    return Err(at(
                        value.column,
                        format!("`{}` is not a number (`{}` is numeric)", value.text, c.field.text),
                    ));
                }
                if name == "condition" && condition(value).is_none() {
                    return Err(at(value.column, format!("`{}` is not new, used or refurbished", value.text)));
                }
            }
            let supported = match &c.op {
                Op::Equal(_) | Op::NotEqual(_) | Op::In(_) | Op::NotIn(_) => true,
                Op::Greater(_) | Op::GreaterOrEqual(_) | Op::Less(_) | Op::LessOrEqual(_) | Op::Between { .. } => {
                    numeric
                }
                Op::Exists | Op::NotExists => name == "currency",
                Op::IsNull | Op::IsNotNull | Op::IsEmpty | Op::IsNotEmpty => false,
            };
            if !supported {
                return Err(at(c.field.column, format!("this operator does not apply to `{}`", c.field.text)));
            }
            Ok(())
        }
    }
}

/// The offer field a condition names: `offer.price` and (near a shopper) `price` are `price`.
fn offer_field(name: &str) -> &str {
    name.strip_prefix(OFFER_PREFIX).unwrap_or(name)
}

fn values(op: &Op) -> Vec<&Token> {
    match op {
        Op::Equal(v) | Op::NotEqual(v) | Op::Greater(v) | Op::GreaterOrEqual(v) | Op::Less(v) | Op::LessOrEqual(v) => {
            vec![v]
        }
        Op::Between { from, to } => vec![from, to],
        Op::In(vs) | Op::NotIn(vs) => vs.iter().collect(),
        _ => Vec::new(),
    }
}

fn number(token: &Token) -> Option<f64> {
    token.text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn condition(token: &Token) -> Option<OfferCondition> {
    match token.text.trim().to_ascii_lowercase().as_str() {
        "new" => Some(OfferCondition::New),
        "used" => Some(OfferCondition::Used),
        "refurbished" => Some(OfferCondition::Refurbished),
        _ => None,
    }
}

/// A checked part on one offer.
fn eval(filter: &Filter, row: &OfferRow<'_>) -> bool {
    match filter {
        Filter::And(parts) => parts.iter().all(|p| eval(p, row)),
        Filter::Or(parts) => parts.iter().any(|p| eval(p, row)),
        Filter::Not(part) => !eval(part, row),
        Filter::Condition(c) => eval_condition(c, row),
    }
}

fn eval_condition(c: &Condition, row: &OfferRow<'_>) -> bool {
    let name = offer_field(&c.field.text);
    let num = match name {
        "price" => Some(row.price),
        "stock" => Some(row.stock as f64),
        "lead_time_days" => Some(f64::from(row.lead_time_days)),
        _ => None,
    };
    if let Some(x) = num {
        let n = |t: &Token| number(t).unwrap_or(f64::NAN);
        return match &c.op {
            Op::Equal(v) => x == n(v),
            Op::NotEqual(v) => x != n(v),
            Op::Greater(v) => x > n(v),
            Op::GreaterOrEqual(v) => x >= n(v),
            Op::Less(v) => x < n(v),
            Op::LessOrEqual(v) => x <= n(v),
            Op::Between { from, to } => n(from) <= x && x <= n(to),
            Op::In(vs) => vs.iter().any(|v| x == n(v)),
            Op::NotIn(vs) => !vs.iter().any(|v| x == n(v)),
            _ => false,
        };
    }
    let is = |t: &Token| match name {
        "condition" => condition(t) == Some(row.condition),
        "currency" => row.currency.is_some_and(|c| c.eq_ignore_ascii_case(t.text.trim())),
        _ => row.vendor_id == t.text,
    };
    match &c.op {
        Op::Equal(v) => is(v),
        Op::NotEqual(v) => !is(v),
        Op::In(vs) => vs.iter().any(is),
        Op::NotIn(vs) => !vs.iter().any(is),
        Op::Exists => row.currency.is_some(),
        Op::NotExists => row.currency.is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<(Option<String>, OfferConditions), FilterError> {
        let filter = Filter::parse(text).unwrap();
        OfferConditions::split(Some(&filter), false).map(|(p, o)| (p.map(|p| p.to_string()), o))
    }

    fn row(price: f64, lead_time_days: u32) -> OfferRow<'static> {
        OfferRow {
            price,
            stock: 2,
            lead_time_days,
            condition: OfferCondition::Used,
            currency: Some("EUR"),
            vendor_id: "v1",
        }
    }

    #[test]
    fn top_level_offer_parts_are_split_off() {
        let (products, offers) =
            split("offer.price < 50 AND (brand = a OR brand = b) AND offer.currency = eur").unwrap();
        assert_eq!(products.as_deref(), Some("brand = a OR brand = b"));
        assert!(offers.holds(&row(10.0, 0)) && !offers.holds(&row(60.0, 0)));
        assert!(offers.reads_currency());
        let (products, offers) = split("offer.condition IN [new, refurbished] OR offer.lead_time_days 1 TO 3")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(products.is_none());
        assert!(!offers.holds(&row(1.0, 0)) && offers.holds(&row(1.0, 2)));
        let (_, offers) = split("NOT offer.vendor_id = v1 AND offer.stock >= 2").unwrap();
        assert!(!offers.holds(&row(1.0, 0)));
    }

    #[test]
    fn mixed_or_unknown_offer_conditions_name_the_column() {
        let error = split("brand = a OR offer.price < 5").unwrap_err();
        assert_eq!(error.column, 14, "{error}");
        assert!(error.message.contains("ANDed at the top level"));
        assert_eq!(split("offer.colour = red").unwrap_err().column, 1);
        assert_eq!(split("offer.price < cheap").unwrap_err().column, 15);
        assert_eq!(split("offer.condition = broken").unwrap_err().column, 19);
        assert!(split("offer.vendor_id > v").unwrap_err().message.contains("does not apply"));
        assert!(split("offer.price IS NULL").is_err());
    }

    #[test]
    fn near_a_shopper_price_is_the_offers() {
        let filter = Filter::parse("price < 50 AND brand = a").unwrap();
        let (products, offers) = OfferConditions::split(Some(&filter), true).unwrap();
        assert_eq!(products.unwrap().to_string(), "brand = a");
        assert!(offers.holds(&row(49.0, 0)) && !offers.holds(&row(50.0, 0)));
        let (products, offers) = OfferConditions::split(Some(&filter), false).unwrap();
        assert_eq!(products.unwrap().to_string(), "price < 50 AND brand = a");
        assert!(offers.is_empty());
    }

    #[test]
    fn the_best_offer_is_a_total_order() {
        let key = |price, lead_time_days, distance_km| OfferKey { price, lead_time_days, distance_km };
        let (cheap_slow, dear_fast) = (key(10.0, 9, 50.0), key(20.0, 1, 5.0));
        assert!(OfferSort::Price.compare((&cheap_slow, "a"), (&dear_fast, "b")).is_lt());
        assert!(OfferSort::LeadTime.compare((&cheap_slow, "a"), (&dear_fast, "b")).is_gt());
        assert!(OfferSort::Distance.compare((&cheap_slow, "a"), (&dear_fast, "b")).is_gt());
        assert!(OfferSort::Price.compare((&cheap_slow, "b"), (&cheap_slow, "a")).is_gt());
        assert_eq!("lead_time".parse::<OfferSort>().unwrap(), OfferSort::LeadTime);
        assert_eq!("speed".parse::<OfferSort>().unwrap_err().param(), "offer_sort");
    }
}
