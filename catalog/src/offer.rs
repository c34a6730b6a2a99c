//! Offers: a vendor selling a product at a price, with stock, condition and lead time. The
//! marketplace's own document, joining the catalog's products to the vendors that sell them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Error, Result, validate_id};

/// The state of the goods offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OfferCondition {
    /// Unused, in its original packaging.
    #[default]
    New,
    /// Used.
    Used,
    /// Restored by the vendor or the maker.
    Refurbished,
}

impl OfferCondition {
    /// The name in documents and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Used => "used",
            Self::Refurbished => "refurbished",
        }
    }
}

/// The longest lead time an offer may state: a year.
pub const MAX_LEAD_TIME_DAYS: u32 = 366;

/// A vendor's offer of a product.
///
/// `id`, `product_id`, `vendor_id` and `price` are required. `version` orders writes to the same
/// id as a product's does. An offer sells when its `stock` is above 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// Unique among offers: no control characters, at most 512 bytes.
    #[schema(max_length = 512)]
    pub id: String,
    /// Orders writes to the same id: a version not above the one held changes nothing; 0 lets
    /// the indexer assign the next one.
    #[serde(default)]
    pub version: u64,
    /// The product offered (a product's `id`).
    #[schema(max_length = 512)]
    pub product_id: String,
    /// The vendor offering it (a vendor's `id`).
    #[schema(max_length = 512)]
    pub vendor_id: String,
    /// Price in `currency`, ≥ 0.
    #[schema(minimum = 0)]
    pub price: f64,
    /// ISO 4217 code (`EUR`, `USD`), held in capitals; the marketplace's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// Units the vendor can sell now; 0 is out of stock.
    #[serde(default)]
    pub stock: u64,
    /// `new` (the default), `used` or `refurbished`.
    #[serde(default)]
    pub condition: OfferCondition,
    /// Days from order to dispatch, at most a year.
    #[serde(default)]
    #[schema(maximum = 366)]
    pub lead_time_days: u32,
    /// When the offer last changed (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<OffsetDateTime>,
}

impl Offer {
    /// An offer of `product_id` by `vendor_id` at `price`, new, with no stock or lead time.
    pub fn new(id: impl Into<String>, product_id: impl Into<String>, vendor_id: impl Into<String>, price: f64) -> Self {
        Self {
            id: id.into(),
            version: 0,
            product_id: product_id.into(),
            vendor_id: vendor_id.into(),
            price,
            currency: None,
            stock: 0,
            condition: OfferCondition::New,
            lead_time_days: 0,
            updated_at: None,
        }
    }

    /// Whether the offer sells now.
    pub fn in_stock(&self) -> bool {
        self.stock > 0
    }

    /// Checks what the type system cannot, naming the field at fault; holds the currency in
    /// capitals.
    pub fn validate(&mut self) -> Result<()> {
        validate_id(&self.id)?;
        for (field, id) in [("product_id", &self.product_id), ("vendor_id", &self.vendor_id)] {
            validate_id(id).map_err(|e| Error::document(field, e.to_string()))?;
        }
        if !self.price.is_finite() || self.price < 0.0 {
            return Err(Error::document("price", "must be a finite number ≥ 0"));
        }
        if let Some(currency) = &mut self.currency {
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(Error::document("currency", "must be a three-letter ISO 4217 code such as `EUR`"));
            }
            currency.make_ascii_uppercase();
        }
        if self.lead_time_days > MAX_LEAD_TIME_DAYS {
            return Err(Error::document("lead_time_days", format!("must be at most {MAX_LEAD_TIME_DAYS}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: serde_json::Value) -> std::result::Result<Offer, String> {
        let mut offer: Offer = serde_json::from_value(value).map_err(|e| e.to_string())?;
        offer.validate().map_err(|e| e.param().to_string())?;
        Ok(offer)
    }

    #[test]
    fn offers_parse_with_defaults_and_round_trip() {
        let offer = parse(json!({"id": "o1", "product_id": "p1", "vendor_id": "v1", "price": 12.5, "currency": "eur"}))
            .unwrap();
        assert_eq!((offer.stock, offer.condition, offer.lead_time_days), (0, OfferCondition::New, 0));
        assert_eq!(offer.currency.as_deref(), Some("EUR"));
        assert!(!offer.in_stock());
        let full = json!({"id": "o2", "version": 3, "product_id": "p1", "vendor_id": "v2", "price": 0.0,
            "stock": 4, "condition": "refurbished", "lead_time_days": 2, "updated_at": "2026-12-01T10:00:00Z"});
        let offer = parse(full.clone()).unwrap();
        assert!(offer.in_stock());
        assert_eq!(serde_json::to_value(&offer).unwrap(), full);
    }

    #[test]
    fn bad_offers_name_the_field() {
        let ok = json!({"id": "o1", "product_id": "p1", "vendor_id": "v1", "price": 1.0});
        let with = |key: &str, value: serde_json::Value| {
            let mut body = ok.clone();
            body[key] = value;
            parse(body).unwrap_err()
        };
        assert_eq!(with("id", json!(" ")), "id");
        assert_eq!(with("product_id", json!("")), "product_id");
        assert_eq!(with("vendor_id", json!("a\u{7}b")), "vendor_id");
        assert_eq!(with("price", json!(-1.0)), "price");
        assert_eq!(with("currency", json!("EURO")), "currency");
        assert_eq!(with("lead_time_days", json!(400)), "lead_time_days");
        assert!(with("condition", json!("broken")).contains("unknown variant"));
        assert!(with("colour", json!("red")).contains("unknown field"));
        let mut missing = ok.clone();
        missing.as_object_mut().unwrap().remove("price");
        assert!(parse(missing).unwrap_err().contains("missing field `price`"));
    }
}
