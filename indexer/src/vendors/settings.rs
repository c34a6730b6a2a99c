//! The vendors' settings at runtime. Declared vendor attributes are held as products hold
//! theirs: values in the `attrs` JSON field under the generation of the settings that wrote them
//! (`g4.certifications`), presence, `null` and emptiness as `attr_state` tokens. A change that
//! holds them differently writes every vendor again, under both generations, while holding the
//! writer (vendors are few: writes wait for it, searches go on with the served settings); one
//! commit, whose payload names the new settings, then serves them. Each searcher is paired with
//! the settings its commit is complete for. A change that vendors contradict changes nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use searchd_catalog::Vendor;
use searchd_catalog::settings::VendorSettings;
use serde::{Deserialize, Serialize};
use tantivy::schema::OwnedValue;
use tantivy::{Searcher, TantivyDocument};

use super::VendorIndex;
use crate::settings::{Applied, Views};
use crate::writer::parse_source;
use crate::{Error, Result, schema};

/// Most refusals a settings change reports (all are counted).
const MAX_REPORTED: usize = 20;

/// The vendors' settings as the index serves them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VendorServed {
    /// The settings version they came with (0: none yet).
    pub version: u64,
    /// The declared vendor attributes.
    pub settings: VendorSettings,
    /// The version whose re-index wrote the attribute values searches read.
    pub generation: u64,
}

/// The settings each searcher generation is complete for, and those writes hold.
#[derive(Debug)]
pub(super) struct VendorViews {
    views: Views<VendorServed>,
    current: RwLock<Arc<VendorServed>>,
}

impl VendorViews {
    pub(super) fn new(served: VendorServed) -> Self {
        let served = Arc::new(served);
        Self { views: Views::new(served.clone()), current: RwLock::new(served) }
    }

    pub(super) fn current(&self) -> Arc<VendorServed> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl VendorIndex {
    /// The vendors' settings searches see now.
    pub fn settings(&self) -> Arc<VendorServed> {
        self.views.current()
    }

    /// A searcher and the settings its commit is complete for.
    pub(super) fn view(&self) -> (Searcher, Arc<VendorServed>) {
        let searcher = self.store.reader.searcher();
        let served = self.views.views.for_searcher(searcher.generation().generation_id());
        (searcher, served)
    }

    /// The declared attributes of `vendor` under each of `held` (a value contradicting one
    /// refuses the vendor, naming the attribute, the value and the type).
    pub(super) fn add_attributes(
        &self,
        doc: &mut TantivyDocument,
        vendor: &Vendor,
        held: &[&VendorServed],
    ) -> Result<()> {
        let mut root: BTreeMap<String, OwnedValue> = BTreeMap::new();
        for served in held {
            let mut object = BTreeMap::new();
            for attribute in served.settings.attributes.typed(&vendor.attributes)? {
                schema::hold(doc, self.fields.attr_state, served.generation, attribute, &mut object);
            }
            if !object.is_empty() {
                root.insert(
                    schema::generation_key(served.generation),
                    OwnedValue::Object(object.into_iter().collect()),
                );
            }
        }
        if !root.is_empty() {
            doc.add_object(self.fields.attrs, root);
        }
        Ok(())
    }

    /// Serves `next` as settings version `version` (after the served one): at once when it
    /// holds attributes as the served settings do, else after writing every vendor again.
    /// When vendors contradict it, nothing changes and the error lists the first of them.
    pub fn apply_settings(&self, version: u64, next: VendorSettings) -> Result<Applied> {
        let started = Instant::now();
        next.validate().map_err(|e| Error::Input(format!("vendors.{e}")))?;
        let mut state = self.lock()?;
        let current = self.settings();
        if version <= current.version {
            return Err(Error::Input(format!(
                "vendor settings version {version} is not after the served version {}",
                current.version
            )));
        }
        let reindex = next.attributes.held() != current.settings.attributes.held();
        let generation = if reindex { version } else { current.generation };
        let served = Arc::new(VendorServed { version, settings: next, generation });
        let rewritten = self.switch(&mut state, &current, served)?;
        Ok(Applied { rewritten, seconds: started.elapsed().as_secs_f64() })
    }

    /// Serves `before` again, the settings an [`apply_settings`](Self::apply_settings)
    /// replaced, when the rest of its change failed: every vendor is written again under their
    /// generation (vendors written since hold only the newer one).
    pub fn restore(&self, before: VendorServed) -> Result<()> {
        let mut state = self.lock()?;
        let current = self.settings();
        self.switch(&mut state, &current, Arc::new(before)).map(drop)
    }

    /// Serves `served` after `current`: when their generations differ, after writing every
    /// vendor again under both (a pass that stops half-way leaves the served values whole).
    /// Returns how many vendors it wrote; when vendors contradict `served`, nothing changes.
    fn switch(
        &self,
        state: &mut crate::writer::VersionedWriter,
        current: &VendorServed,
        served: Arc<VendorServed>,
    ) -> Result<u64> {
        let mut rewritten = 0;
        if served.generation != current.generation {
            // What was written before is committed, so the pass below reads it.
            state.commit(&self.store.reader)?;
            let searcher = self.store.reader.searcher();
            let mut vendors: Vec<Vendor> = Vec::with_capacity(searcher.num_docs() as usize);
            for segment in searcher.segment_readers() {
                let store = segment.get_store_reader(64)?;
                for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
                    vendors.push(parse_source(&doc?, self.fields.source)?);
                }
            }
            let (mut count, mut first) = (0, Vec::new());
            for vendor in &vendors {
                if let Err(e) = served.settings.attributes.typed(&vendor.attributes) {
                    count += 1;
                    if first.len() < MAX_REPORTED {
                        first.push(format!("vendor `{}`: {e}", vendor.id));
                    }
                }
            }
            if count > 0 {
                return Err(Error::Refused { count, first });
            }
            for vendor in &vendors {
                let doc = self.document(vendor, &[current, served.as_ref()])?;
                rewritten += u64::from(state.rewrite(&vendor.id, vendor.version, doc)?);
            }
        }
        self.serve(state, served)?;
        Ok(rewritten)
    }

    /// One commit whose payload names `served`, which writes hold from now and searches from
    /// that commit's searcher on.
    fn serve(&self, state: &mut crate::writer::VersionedWriter, served: Arc<VendorServed>) -> Result<()> {
        state.settings = Some(serde_json::to_value(served.as_ref())?);
        *self.views.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = served.clone();
        state.commit(&self.store.reader)?;
        self.views.views.push(self.store.reader.searcher().generation().generation_id(), served);
        Ok(())
    }
}
