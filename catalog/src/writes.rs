use serde::{Deserialize, Serialize};

use crate::{Offer, Product, RfiDocument, Vendor};

/// A change to the catalog, as every ingest path (HTTP, bulk files, Kafka, crawler) produces it.
///
/// Versions increase monotonically per id: applying an event whose version is not above the
/// version the index holds for that id (live or deleted) changes nothing, so replays are harmless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
#[expect(clippy::large_enum_variant, reason = "upserts are the common case; boxing would allocate for each")]
pub enum CatalogEvent {
    /// Insert or replace the whole product; its `version` orders it.
    Upsert {
        /// The whole product.
        product: Product,
    },
    /// Remove the product; the version is remembered so an older upsert cannot bring it back.
    Delete {
        /// The product's id.
        id: String,
        /// Deletes only when above the version held (0: the next one).
        version: u64,
    },
}

impl CatalogEvent {
    /// The id the event writes.
    pub fn id(&self) -> &str {
        match self {
            Self::Upsert { product } => &product.id,
            Self::Delete { id, .. } => id,
        }
    }

    /// The version the event asks for (0: "the next one").
    pub fn version(&self) -> u64 {
        match self {
            Self::Upsert { product } => product.version,
            Self::Delete { version, .. } => *version,
        }
    }
}

/// A change to the vendor directory, as the HTTP API and the Kafka ingester apply it: the same
/// version rule as [`CatalogEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
#[expect(clippy::large_enum_variant, reason = "upserts are the common case; boxing would allocate for each")]
pub enum VendorEvent {
    /// Insert or replace the whole vendor; its `version` orders it.
    Upsert {
        /// The whole vendor.
        vendor: Vendor,
    },
    /// Remove the vendor; the version is remembered as for products.
    Delete {
        /// The vendor's id.
        id: String,
        /// Deletes only when above the version held (0: the next one).
        version: u64,
    },
}

impl VendorEvent {
    /// The id the event writes.
    pub fn id(&self) -> &str {
        match self {
            Self::Upsert { vendor } => &vendor.id,
            Self::Delete { id, .. } => id,
        }
    }

    /// The version the event asks for (0: "the next one").
    pub fn version(&self) -> u64 {
        match self {
            Self::Upsert { vendor } => vendor.version,
            Self::Delete { version, .. } => *version,
        }
    }
}

/// A change to the offers, as the Kafka ingester applies it: the same version rule as
/// [`CatalogEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum OfferEvent {
    /// Insert or replace the whole offer; its `version` orders it.
    Upsert {
        /// The whole offer.
        offer: Offer,
    },
    /// Remove the offer; the version is remembered as for products.
    Delete {
        /// The offer's id.
        id: String,
        /// Deletes only when above the version held (0: the next one).
        version: u64,
    },
}

impl OfferEvent {
    /// The id the event writes.
    pub fn id(&self) -> &str {
        match self {
            Self::Upsert { offer } => &offer.id,
            Self::Delete { id, .. } => id,
        }
    }

    /// The version the event asks for (0: "the next one").
    pub fn version(&self) -> u64 {
        match self {
            Self::Upsert { offer } => offer.version,
            Self::Delete { version, .. } => *version,
        }
    }
}

/// A change to the stored requests for information: the same version rule as [`CatalogEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
#[expect(clippy::large_enum_variant, reason = "upserts are the common case; boxing would allocate for each")]
pub enum RfiEvent {
    /// Insert or replace the whole request; its `version` orders it.
    Upsert {
        /// The whole request.
        rfi: RfiDocument,
    },
    /// Remove the request; the version is remembered as for products.
    Delete {
        /// The request's id.
        id: String,
        /// Deletes only when above the version held (0: the next one).
        version: u64,
    },
}

impl RfiEvent {
    /// The id the event writes.
    pub fn id(&self) -> &str {
        match self {
            Self::Upsert { rfi } => &rfi.id,
            Self::Delete { id, .. } => id,
        }
    }

    /// The version the event asks for (0: "the next one").
    pub fn version(&self) -> u64 {
        match self {
            Self::Upsert { rfi } => rfi.version,
            Self::Delete { version, .. } => *version,
        }
    }
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum WriteOutcome {
    /// The event changed the index; `version` is the version now held.
    Applied {
        /// The version now held.
        version: u64,
    },
    /// The index already holds this very version: nothing to do (a replay).
    Unchanged {
        /// The version held.
        version: u64,
    },
    /// The index holds a newer version: the event was ignored.
    Stale {
        /// The newer version held.
        current: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_op() {
        let up: CatalogEvent =
            serde_json::from_str(r#"{"op":"upsert","product":{"id":"a","title":"t","version":3}}"#).unwrap();
        assert_eq!(up.id(), "a");
        let del: CatalogEvent = serde_json::from_str(r#"{"op":"delete","id":"a","version":4}"#).unwrap();
        assert_eq!(del, CatalogEvent::Delete { id: "a".into(), version: 4 });
        assert!(serde_json::from_str::<CatalogEvent>(r#"{"op":"merge","id":"a"}"#).is_err());
    }
}
