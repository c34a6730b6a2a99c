//! A product's offers, as its page lists them: in stock, from available vendors (those serving
//! the shopper's point, with `near`), best first by the offer order. Read from the offer index's
//! product postings.

use std::collections::HashMap;

use searchd_catalog::GeoPoint;
use searchd_catalog::near::{OfferKey, OfferSort, ProductOffer, ProductOffers};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, TERMINATED, Term};

use super::{OfferIndex, column};
use crate::{Error, GeoHitId, Result, VendorIndex};

impl OfferIndex {
    /// The offers of `product_id` (see the module documentation), the best `limit`.
    pub fn of_product(
        &self,
        vendors: &VendorIndex,
        product_id: &str,
        near: Option<GeoPoint>,
        sort: OfferSort,
        limit: usize,
    ) -> Result<ProductOffers> {
        let serving: Option<HashMap<String, GeoHitId>> =
            near.map(|p| vendors.serving(p)).transpose()?.map(|s| s.into_iter().map(|v| (v.id.clone(), v)).collect());
        let searcher = self.store.reader.searcher();
        let term = Term::from_field_text(self.fields.product, product_id);
        let internal = |what: &str| Error::Internal(format!("offer column `{what}` is missing"));
        let mut found: Vec<(OfferKey, String, String, DocAddress)> = Vec::new();
        let mut available: HashMap<String, Option<String>> = HashMap::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let Some(mut postings) =
                segment.inverted_index(self.fields.product)?.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let ff = segment.fast_fields();
            let vendor_ids = ff.str(column::VENDOR)?.ok_or_else(|| internal(column::VENDOR))?;
            let (price, stock, lead) = (ff.f64(column::PRICE)?, ff.u64(column::STOCK)?, ff.u64(column::LEAD_TIME)?);
            while postings.doc() != TERMINATED {
                let doc = postings.doc();
                postings.advance();
                if segment.alive_bitset().is_some_and(|a| a.is_deleted(doc)) || stock.first(doc).unwrap_or(0) == 0 {
                    continue;
                }
                let mut vendor = String::new();
                if let Some(o) = vendor_ids.term_ords(doc).next() {
                    vendor_ids.ord_to_str(o, &mut vendor)?;
                }
                let distance_km = match &serving {
                    Some(serving) => match serving.get(&vendor) {
                        Some(hit) => hit.distance_km.unwrap_or(0.0),
                        None => continue,
                    },
                    None => 0.0,
                };
                // Without a point, every available vendor sells.
                if serving.is_none() {
                    let name = match available.get(&vendor) {
                        Some(name) => name.clone(),
                        None => {
                            let name = vendors.get(&vendor).ok().filter(|v| v.available).map(|v| v.name);
                            available.insert(vendor.clone(), name.clone());
                            name
                        }
                    };
                    if name.is_none() {
                        continue;
                    }
                }
                let key = OfferKey {
                    price: price.first(doc).unwrap_or(f64::INFINITY),
                    lead_time_days: u32::try_from(lead.first(doc).unwrap_or(0)).unwrap_or(u32::MAX),
                    distance_km,
                };
                let address = DocAddress::new(ord as u32, doc);
                found.push((key, crate::writer::id_at(&searcher, address)?, vendor, address));
            }
        }
        found.sort_by(|a, b| sort.compare((&a.0, &a.1), (&b.0, &b.1)));
        let total = found.len() as u64;
        let source = searcher.schema().get_field("source")?;
        let hits = found
            .into_iter()
            .take(limit)
            .map(|(key, _, vendor, address)| {
                let stored: tantivy::TantivyDocument = searcher.doc(address)?;
                let vendor_name = match available.get(&vendor).cloned().flatten() {
                    Some(name) => name,
                    None => vendors.get(&vendor).map(|v| v.name).unwrap_or_default(),
                };
                let branch = serving.as_ref().and_then(|s| s.get(&vendor)).and_then(|v| v.nearest_branch);
                Ok(ProductOffer {
                    offer: crate::writer::parse_source(&stored, source)?,
                    vendor_name,
                    distance_km: serving.as_ref().map(|_| key.distance_km),
                    nearest_branch: branch,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ProductOffers { product_id: product_id.to_string(), total, hits })
    }
}
