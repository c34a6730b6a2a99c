//! An index's settings: what is declared about its documents, changed at runtime
//! (`PATCH /v1/settings`) and versioned. Version 0 is "nothing declared"; every accepted change
//! takes the next version.
//!
//! A change is a JSON merge patch (RFC 7386) of the settings document: an attribute given is
//! merged into its settings (a new one needs its `type`), `null` removes it.
//!
//! ```
//! use searchd_catalog::settings::Settings;
//!
//! let live = Settings::default();
//! let patch = serde_json::json!({"attributes": {"colour": {"type": "keyword", "filterable": true}}});
//! let next = live.patched(&patch, &["brand", "price"]).unwrap();
//! assert_eq!(next.version, 1);
//! assert!(next.needs_reindex(&live));
//! let flags = next.patched(&serde_json::json!({"attributes": {"colour": {"facetable": true}}}), &[]).unwrap();
//! assert!(!flags.needs_reindex(&next)); // held the same way: applied at once
//! let error = live.patched(&serde_json::json!({"attributes": {"size": {"filterable": true}}}), &[]).unwrap_err();
//! assert!(error.contains("attributes.size"), "{error}");
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attributes::{AttributeSchema, AttributeType};
use crate::rules::Rule;
use crate::signals::Signal;
use crate::stop_words::StopWords;
use crate::synonyms::SynonymSet;

/// The settings' top-level keys.
const SETTINGS: [&str; 8] =
    ["attributes", "vendors", "synonyms", "stop_words", "weights", "signals", "rules", "require_preview"];

/// The built-in numbers a custom signal may read.
pub const SIGNAL_BUILTINS: [&str; 4] = ["price", "rating", "review_count", "popularity"];

/// Most attributes one index may declare.
pub const MAX_ATTRIBUTES: usize = 256;

/// The settings of one index, as served.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Bumped by every accepted change; 0 until the first.
    #[serde(default)]
    pub version: u64,
    /// The declared attributes, by name.
    #[serde(default)]
    pub attributes: AttributeSchema,
    /// The vendors' own settings.
    #[serde(default, skip_serializing_if = "VendorSettings::is_empty")]
    pub vendors: VendorSettings,
    /// Synonyms, applied at query time (see [`crate::synonyms`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<SynonymSet>,
    /// Stop words by language, applied at query time (see [`crate::stop_words`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stop_words: StopWords,
    /// Phase 1's text weights changed at runtime, by name, over `[ranking.text]`'s (see
    /// [`crate::TextWeights::with_overrides`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, f32>,
    /// Custom ranking signals folded into phase 1 (see [`crate::signals`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<Signal>,
    /// Merchandising rules (see [`crate::rules`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// A change is accepted only after the same change was previewed (`POST
    /// /v1/settings/preview`) against the same served version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_preview: bool,
}

/// What is declared about vendors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorSettings {
    /// The vendors' declared attributes, by name (filterable in vendor search and matching).
    #[serde(default)]
    pub attributes: AttributeSchema,
}

impl VendorSettings {
    /// Whether nothing is declared.
    pub fn is_empty(&self) -> bool {
        self.attributes.0.is_empty()
    }

    /// Checks the names (as products' attributes), and that each attribute is for filters
    /// only (vendor search has no facets, sort on attributes or attribute words); the error
    /// names the attribute (`attributes.x: …`).
    pub fn validate(&self) -> Result<(), String> {
        self.attributes.validate(&[]).map_err(|e| format!("attributes: {e}"))?;
        match self.attributes.iter().find(|(_, a)| a.searchable || a.facetable || a.sortable) {
            Some((name, _)) => Err(format!("attributes.{name}: vendor attributes are filterable only")),
            None => Ok(()),
        }
    }
}

impl Settings {
    /// Settings declaring product and vendor attributes, at version 1 (0 when nothing is
    /// declared): what a first start takes from the configuration file.
    pub fn initial(attributes: AttributeSchema, vendor_attributes: AttributeSchema) -> Self {
        let vendors = VendorSettings { attributes: vendor_attributes };
        let version = u64::from(!attributes.0.is_empty() || !vendors.is_empty());
        Self { version, attributes, vendors, ..Self::default() }
    }

    /// These settings with `patch` merged in (RFC 7386: a list such as `synonyms` is replaced
    /// whole), at the next version, checked: `reserved` are the built-in fields' names. The
    /// error names the key at fault (`attributes.size: …`, `synonyms[2].lang: …`). Language
    /// codes are checked for their form; which languages the engine analyses is the engine's
    /// check ([`crate::synonyms::validate`]).
    pub fn patched(&self, patch: &Value, reserved: &[&str]) -> Result<Self, String> {
        let Value::Object(fields) = patch else {
            return Err("the settings change is a JSON object (a merge patch of the settings)".into());
        };
        if let Some(key) = fields.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(format!("`{key}` is not a setting; settings have {}", SETTINGS.join(", ")));
        }
        let synonyms = list(fields, "synonyms", &self.synonyms, "a list of synonym sets")?;
        let signals = list(fields, "signals", &self.signals, "a list of custom signals")?;
        let rules = list(fields, "rules", &self.rules, "a list of rules")?;
        let require_preview = match fields.get("require_preview") {
            None => self.require_preview,
            Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("require_preview: true or false".into()),
        };
        let code = |l: &str| (2..=3).contains(&l.trim().len()) && l.trim().chars().all(|c| c.is_ascii_alphabetic());
        crate::synonyms::validate(&synonyms, &code)?;
        let mut stop_words = self.stop_words.clone();
        match fields.get("stop_words") {
            None => {}
            Some(Value::Null) => stop_words.clear(),
            Some(Value::Object(languages)) => {
                for (lang, list) in languages {
                    match list {
                        Value::Null => {
                            stop_words.remove(lang);
                        }
                        list => {
                            let list =
                                serde_json::from_value(list.clone()).map_err(|e| format!("stop_words.{lang}: {e}"))?;
                            stop_words.insert(lang.clone(), list);
                        }
                    }
                }
            }
            Some(_) => return Err("stop_words: an object of stop word lists by language (null removes one)".into()),
        }
        crate::stop_words::validate(&stop_words, &code)?;
        let mut weights = self.weights.clone();
        match fields.get("weights") {
            None => {}
            Some(Value::Null) => weights.clear(),
            Some(Value::Object(given)) => {
                for (name, value) in given {
                    match value {
                        Value::Null => {
                            weights.remove(name);
                        }
                        Value::Number(n) => {
                            let n = n.as_f64().map(|n| n as f32).ok_or(format!("weights.{name}: a number"))?;
                            weights.insert(name.clone(), n);
                        }
                        _ => return Err(format!("weights.{name}: a number (null goes back to the configured one)")),
                    }
                }
            }
            Some(_) => return Err("weights: an object of text weights by name (null removes them all)".into()),
        }
        crate::TextWeights::default().with_overrides(&weights)?;
        let attributes = patch_attributes(&self.attributes, fields.get("attributes"), "attributes")?;
        attributes.validate(reserved).map_err(|e| format!("attributes: {e}"))?;
        let mut vendors = self.vendors.clone();
        match fields.get("vendors") {
            None => {}
            Some(Value::Object(section)) => {
                if let Some(key) = section.keys().find(|k| k.as_str() != "attributes") {
                    return Err(format!("vendors.{key}: not a setting; the vendors' settings have `attributes`"));
                }
                vendors.attributes =
                    patch_attributes(&vendors.attributes, section.get("attributes"), "vendors.attributes")?;
                vendors.validate().map_err(|e| format!("vendors.{e}"))?;
            }
            Some(_) => return Err("vendors: an object with the vendors' `attributes`".into()),
        }
        let next = Self {
            version: self.version + 1,
            attributes,
            vendors,
            synonyms,
            stop_words,
            weights,
            signals,
            rules,
            require_preview,
        };
        crate::signals::validate(&next.signals, &|name| next.signal_number(name))?;
        crate::rules::RuleSet::compile(&next)?;
        Ok(next)
    }

    /// Whether a custom signal can read `name`: a built-in number, or a declared number or
    /// boolean the index holds as values; the error says why not.
    pub fn signal_number(&self, name: &str) -> Result<(), String> {
        if SIGNAL_BUILTINS.contains(&name) {
            return Ok(());
        }
        match self.attributes.get(name) {
            Some(a) if matches!(a.kind, AttributeType::Number | AttributeType::Boolean) && a.is_held_as_values() => {
                Ok(())
            }
            Some(a) if matches!(a.kind, AttributeType::Number | AttributeType::Boolean) => {
                Err(format!("`{name}` is not held as values: make it filterable, facetable or sortable to rank by it"))
            }
            Some(a) => Err(format!(
                "`{name}` is a {} attribute; a signal reads numbers and booleans",
                format!("{:?}", a.kind).to_lowercase()
            )),
            None => {
                let mut known: Vec<&str> = SIGNAL_BUILTINS.to_vec();
                known.extend(self.attributes.names(|a| {
                    matches!(a.kind, AttributeType::Number | AttributeType::Boolean) && a.is_held_as_values()
                }));
                Err(format!("`{name}` is not a number of the products; numbers: {}", known.join(", ")))
            }
        }
    }

    /// Whether serving `self` after `served` means writing every document again: the
    /// attributes the index holds, or their types, differ. Flags that only change how held
    /// values are used (filterable ↔ facetable) apply at once.
    pub fn needs_reindex(&self, served: &Settings) -> bool {
        self.attributes.held() != served.attributes.held()
    }

    /// Whether serving `self` after `served` means writing every vendor again.
    pub fn vendors_need_reindex(&self, served: &Settings) -> bool {
        self.vendors.attributes.held() != served.vendors.attributes.held()
    }
}

/// A list setting after a patch: replaced whole when given, emptied by `null`; the error names
/// the entry at fault (`synonyms[2]: …`).
fn list<T: serde::de::DeserializeOwned + Clone>(
    fields: &serde_json::Map<String, Value>,
    key: &str,
    current: &[T],
    what: &str,
) -> Result<Vec<T>, String> {
    match fields.get(key) {
        None => Ok(current.to_vec()),
        Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| serde_json::from_value(item.clone()).map_err(|e| format!("{key}[{i}]: {e}")))
            .collect(),
        Some(_) => Err(format!("{key}: {what} (null removes them all)")),
    }
}

/// `current` with a merge patch of attributes (`key` names it in errors) applied.
fn patch_attributes(current: &AttributeSchema, patch: Option<&Value>, key: &str) -> Result<AttributeSchema, String> {
    let mut document = serde_json::to_value(current).map_err(|e| e.to_string())?;
    if let Some(attributes) = patch {
        let Value::Object(attributes) = attributes else {
            return Err(format!("{key}: an object of attribute settings by name (null removes one)"));
        };
        let Value::Object(current) = &mut document else { unreachable!("a map serializes to an object") };
        for (name, change) in attributes {
            match change {
                Value::Null => {
                    current.remove(name);
                }
                Value::Object(_) => {
                    let entry = current.entry(name.clone()).or_insert_with(|| Value::Object(Default::default()));
                    merge(entry, change);
                }
                _ => return Err(format!("{key}.{name}: an object of settings, or null to remove it")),
            }
        }
        if current.len() > MAX_ATTRIBUTES {
            return Err(format!("{key}: at most {MAX_ATTRIBUTES} may be declared"));
        }
        for (name, settings) in current.iter() {
            serde_json::from_value::<crate::attributes::AttributeSettings>(settings.clone())
                .map_err(|e| format!("{key}.{name}: {e}"))?;
        }
    }
    serde_json::from_value(document).map_err(|e| e.to_string())
}

impl AttributeSchema {
    /// The attributes the index holds values of (used for anything), with their types and
    /// whether their words are indexed for search.
    pub fn held(&self) -> BTreeMap<&str, (AttributeType, bool)> {
        self.iter().filter(|(_, s)| s.is_indexed()).map(|(n, s)| (n, (s.kind, s.searchable))).collect()
    }
}

/// Where a background task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Accepted, not started.
    Enqueued,
    /// Running: see its progress.
    Processing,
    /// Done: its settings are served.
    Succeeded,
    /// Stopped: the settings served before are still served; see its error.
    Failed,
}

/// Documents done of a task's total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskProgress {
    /// Documents written so far.
    pub done: u64,
    /// Documents to write.
    pub total: u64,
}

/// A background task: a settings change (`PATCH /v1/settings` answers with one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    /// The task's id: the version of the settings it applies.
    pub id: u64,
    /// What it does: `settings_update`.
    pub kind: String,
    /// Where it is.
    pub status: TaskStatus,
    /// Whether the change writes every document again (else it applies with one commit).
    pub reindex: bool,
    /// Documents written so far, of how many.
    pub progress: TaskProgress,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Documents that contradict the settings (the first few), when that is why it failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// When it was accepted (RFC 3339).
    pub enqueued_at: String,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// How long it ran (milliseconds), once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
}

/// RFC 7386: objects merge key by key, `null` removes a key, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_merge_remove_and_name_the_key_at_fault() {
        let live = Settings::default()
            .patched(&json!({"attributes": {"colour": {"type": "keyword", "filterable": true}, "w": {"type": "number", "sortable": true}}}), &[])
            .unwrap();
        let next = live.patched(&json!({"attributes": {"colour": {"facetable": true}, "w": null}}), &[]).unwrap();
        assert_eq!(next.version, 2);
        assert_eq!(next.attributes.0.len(), 1);
        let colour = next.attributes.get("colour").unwrap();
        assert!(colour.filterable && colour.facetable && !colour.sortable);
        assert!(next.needs_reindex(&live), "w is no longer held");
        let error = |patch: Value| live.patched(&patch, &["price"]).unwrap_err();
        assert!(error(json!({"attributes": {"x": {"type": "colourful"}}})).starts_with("attributes.x:"));
        assert!(error(json!({"attributes": {"x": {"type": "number", "fiterable": true}}})).contains("fiterable"));
        assert!(error(json!({"attributes": {"price": {"type": "number"}}})).contains("built-in"));
        assert!(error(json!({"attributes": {"colour": {"sortable": true}}})).contains("sortable"));
        assert!(error(json!({"attributez": {}})).contains("attributez"));
        assert!(error(json!({"attributes": {"x": 3}})).starts_with("attributes.x"));
        assert!(error(json!([])).contains("object"));
    }
}
