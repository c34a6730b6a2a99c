//! What a message of each topic kind asks for, or why it goes to the dead-letter topic.
//!
//! The checks that need nothing but the message run here, in parallel over a chunk: JSON, the
//! event's schema, the id against the key, a version, the document's values (products are
//! analyzed here too, the expensive part). Whether an offer's product and vendor exist is
//! checked when it is applied, in order, after the messages before it ([`unknown_reference`]).

use searchd_catalog::{CatalogEvent, Offer, OfferEvent, RfiDocument, RfiEvent, Vendor, VendorEvent};
use searchd_indexer::{PreparedProduct, ProductIndex, VendorIndex};

/// Why a message goes to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// `empty_message`, `invalid_json`, `invalid_event`, `invalid_document`, `key_mismatch`,
    /// `missing_version`, `unknown_reference`.
    pub code: &'static str,
    /// Why, in words.
    pub reason: String,
}

impl DeadLetter {
    pub(crate) fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self { code, reason: reason.into() }
    }
}

/// What a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicKind {
    Products,
    Vendors,
    Offers,
    Rfis,
}

impl TopicKind {
    fn event(self) -> &'static str {
        match self {
            Self::Products => "catalog",
            Self::Vendors => "vendor",
            Self::Offers => "offer",
            Self::Rfis => "rfi",
        }
    }
}

/// What a message asks for, once parsed and analyzed.
pub(crate) enum Parsed {
    Product(Box<PreparedProduct>),
    ProductDelete(String, u64),
    Vendor(Box<Vendor>),
    VendorDelete(String, u64),
    Offer(Box<Offer>),
    OfferDelete(String, u64),
    Rfi(Box<RfiDocument>),
    RfiDelete(String, u64),
}

/// Parses a message value as an event of the topic's kind and checks it against its key.
pub(crate) fn parse(
    products: &ProductIndex,
    kind: TopicKind,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
) -> Result<Parsed, DeadLetter> {
    let payload = payload.filter(|p| !p.is_empty()).ok_or_else(|| DeadLetter::new("empty_message", "no value"))?;
    let value: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| DeadLetter::new("invalid_json", format!("not JSON: {e}")))?;
    let schema_error = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." { String::new() } else { format!(" at `{path}`") };
        DeadLetter::new("invalid_event", format!("not a {} event{at}: {inner}", kind.event()))
    };
    // The cheap checks first: analysis is the expensive part.
    let check = |id: &str, version: u64| -> Result<(), DeadLetter> {
        searchd_catalog::validate_id(id).map_err(|e| DeadLetter::new("invalid_document", e.to_string()))?;
        if key.is_some_and(|key| key != id.as_bytes()) {
            return Err(DeadLetter::new(
                "key_mismatch",
                format!(
                    "message key `{}` is not the event's id `{id}`",
                    String::from_utf8_lossy(key.unwrap_or_default())
                ),
            ));
        }
        if version == 0 {
            // "The next version" would make a replay a new write: streams must say which version.
            return Err(DeadLetter::new(
                "missing_version",
                "version must be at least 1 on a stream, so replays are idempotent",
            ));
        }
        Ok(())
    };
    let invalid = |e: searchd_catalog::Error| DeadLetter::new("invalid_document", e.to_string());
    let unsupported = || DeadLetter::new("invalid_event", format!("unsupported {} event", kind.event()));
    let parsed = match kind {
        TopicKind::Vendors => {
            let event: VendorEvent = serde_path_to_error::deserialize(value).map_err(schema_error)?;
            check(event.id(), event.version())?;
            match event {
                VendorEvent::Upsert { vendor } => {
                    vendor.validate().map_err(invalid)?;
                    Parsed::Vendor(Box::new(vendor))
                }
                VendorEvent::Delete { id, version } => Parsed::VendorDelete(id, version),
                _ => return Err(unsupported()),
            }
        }
        TopicKind::Offers => {
            let event: OfferEvent = serde_path_to_error::deserialize(value).map_err(schema_error)?;
            check(event.id(), event.version())?;
            match event {
                OfferEvent::Upsert { mut offer } => {
                    offer.validate().map_err(invalid)?;
                    Parsed::Offer(Box::new(offer))
                }
                OfferEvent::Delete { id, version } => Parsed::OfferDelete(id, version),
                _ => return Err(unsupported()),
            }
        }
        TopicKind::Rfis => {
            let event: RfiEvent = serde_path_to_error::deserialize(value).map_err(schema_error)?;
            check(event.id(), event.version())?;
            match event {
                RfiEvent::Upsert { rfi } => {
                    rfi.validate().map_err(invalid)?;
                    Parsed::Rfi(Box::new(rfi))
                }
                RfiEvent::Delete { id, version } => Parsed::RfiDelete(id, version),
                _ => return Err(unsupported()),
            }
        }
        TopicKind::Products => {
            let event: CatalogEvent = serde_path_to_error::deserialize(value).map_err(schema_error)?;
            check(event.id(), event.version())?;
            match event {
                CatalogEvent::Upsert { product } => Parsed::Product(Box::new(
                    products.prepare(product).map_err(|e| DeadLetter::new("invalid_document", e.to_string()))?,
                )),
                CatalogEvent::Delete { id, version } => Parsed::ProductDelete(id, version),
                _ => return Err(unsupported()),
            }
        }
    };
    Ok(parsed)
}

/// Why an offer cannot be written: its product or vendor does not exist (as written so far,
/// committed or not).
pub(crate) fn unknown_reference(offer: &Offer, products: &ProductIndex, vendors: &VendorIndex) -> Option<DeadLetter> {
    let missing = if !products.is_live(&offer.product_id) {
        format!("product_id: product `{}` does not exist", offer.product_id)
    } else if !vendors.is_live(&offer.vendor_id) {
        format!("vendor_id: vendor `{}` does not exist", offer.vendor_id)
    } else {
        return None;
    };
    Some(DeadLetter::new("unknown_reference", missing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use searchd_indexer::IndexConfig;

    fn index() -> ProductIndex {
        ProductIndex::in_memory(IndexConfig::small()).unwrap()
    }

    fn code(index: &ProductIndex, kind: TopicKind, key: Option<&str>, value: &str) -> &'static str {
        match parse(index, kind, key.map(str::as_bytes), Some(value.as_bytes())) {
            Ok(_) => "ok",
            Err(letter) => letter.code,
        }
    }

    #[test]
    fn every_kind_of_bad_message_has_its_reason() {
        use TopicKind::{Offers, Products, Rfis, Vendors};
        let index = index();
        let up = r#"{"op":"upsert","product":{"id":"a","title":"Drill","version":2}}"#;
        assert_eq!(code(&index, Products, Some("a"), up), "ok");
        assert_eq!(code(&index, Products, None, up), "ok");
        assert_eq!(code(&index, Products, Some("b"), up), "key_mismatch");
        assert_eq!(code(&index, Products, Some("a"), "{not json"), "invalid_json");
        assert_eq!(code(&index, Products, Some("a"), ""), "empty_message");
        assert_eq!(code(&index, Products, Some("a"), r#"{"op":"merge","id":"a"}"#), "invalid_event");
        assert_eq!(
            code(&index, Products, Some("a"), r#"{"op":"upsert","product":{"title":"x","version":1}}"#),
            "invalid_event"
        );
        assert_eq!(
            code(&index, Products, Some("a"), r#"{"op":"upsert","product":{"id":"a","title":" ","version":1}}"#),
            "invalid_document"
        );
        assert_eq!(
            code(&index, Products, Some("a"), r#"{"op":"upsert","product":{"id":"a","title":"x"}}"#),
            "missing_version"
        );
        assert_eq!(code(&index, Products, Some("a"), r#"{"op":"delete","id":"a","version":3}"#), "ok");
        // A product event on a vendor or offer topic is the wrong schema.
        assert_eq!(code(&index, Vendors, Some("a"), up), "invalid_event");
        assert_eq!(code(&index, Offers, Some("a"), up), "invalid_event");
        let vendor = r#"{"op":"upsert","vendor":{"id":"v","version":1,"name":"Acme","location":{"lat":1,"lon":2},"service_radius_km":5}}"#;
        assert_eq!(code(&index, Vendors, Some("v"), vendor), "ok");
        let offer = r#"{"op":"upsert","offer":{"id":"o","version":1,"product_id":"a","vendor_id":"v","price":3}}"#;
        assert_eq!(code(&index, Offers, Some("o"), offer), "ok");
        let negative = r#"{"op":"upsert","offer":{"id":"o","version":1,"product_id":"a","vendor_id":"v","price":-3}}"#;
        assert_eq!(code(&index, Offers, Some("o"), negative), "invalid_document");
        assert_eq!(code(&index, Offers, Some("o"), r#"{"op":"delete","id":"o","version":2}"#), "ok");
        let rfi = r#"{"op":"upsert","rfi":{"id":"r","version":1,"category":"A","description":"x","location":{"lat":1,"lon":2}}}"#;
        assert_eq!(code(&index, Rfis, Some("r"), rfi), "ok");
        assert_eq!(code(&index, Rfis, Some("r"), &rfi.replace("\"lat\":1", "\"lat\":91")), "invalid_document");
        assert_eq!(code(&index, Rfis, Some("r"), offer), "invalid_event");
        assert_eq!(code(&index, Rfis, Some("r"), r#"{"op":"delete","id":"r","version":2}"#), "ok");
        let letter =
            parse(&index, Products, None, Some(br#"{"op":"upsert","product":{"id":"a","titel":"x","version":1}}"#))
                .err()
                .unwrap();
        assert!(letter.reason.contains("product.titel") || letter.reason.contains("titel"), "{}", letter.reason);
    }

    #[test]
    fn offers_of_unknown_products_or_vendors_are_refused() {
        let products = index();
        let vendors = VendorIndex::in_memory(&IndexConfig::small()).unwrap();
        let offer = Offer::new("o", "p", "v", 1.0);
        assert_eq!(
            unknown_reference(&offer, &products, &vendors).unwrap().reason,
            "product_id: product `p` does not exist"
        );
        products.apply(CatalogEvent::Upsert { product: searchd_catalog::Product::new("p", "Drill") }).unwrap();
        let letter = unknown_reference(&offer, &products, &vendors).unwrap();
        assert_eq!(
            (letter.code, letter.reason.as_str()),
            ("unknown_reference", "vendor_id: vendor `v` does not exist")
        );
        let at = searchd_catalog::GeoPoint { lat: 1.0, lon: 2.0 };
        vendors.upsert(vec![Vendor::new("v", "Acme", at, 5.0)]).unwrap();
        assert!(unknown_reference(&offer, &products, &vendors).is_none());
    }
}
