//! The settings' custom ranking signals (see [`searchd_catalog::signals`]) read from fast
//! columns: phase 1 multiplies each product's kept signal factor by theirs (see
//! [`super::factors`]), explain lists them, and phase 2 reads their joint factor as the
//! `custom_signals` feature.

use searchd_catalog::ScoreComponent;
use searchd_catalog::signals::Compiled;
use tantivy::columnar::Column;
use tantivy::{DocId, SegmentReader};

use crate::columns::TypedColumns;
use crate::settings::Served;

/// The served settings' signals, compiled, with the column each name reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CustomSignals {
    signals: Vec<(Compiled, Vec<(f64, String)>)>,
}

impl CustomSignals {
    /// The signals of `served`, or `None` when it declares none. Settings are checked before
    /// they are served, so a signal that does not compile is left out.
    pub(crate) fn of(served: &Served) -> Option<Self> {
        let attributes = &served.settings.attributes;
        let signals: Vec<_> = served
            .settings
            .signals
            .iter()
            .filter_map(|s| s.compiled().ok())
            .map(|c| {
                let columns = c
                    .terms
                    .iter()
                    .map(|(sign, name)| {
                        let column = match attributes.get(name) {
                            Some(_) => crate::schema::attr_column(served.generation, name),
                            None => name.clone(),
                        };
                        (*sign, column)
                    })
                    .collect();
                (c, columns)
            })
            .collect();
        (!signals.is_empty()).then_some(Self { signals })
    }

    /// The signals' columns in one segment.
    pub(crate) fn open<'a>(&'a self, segment: &SegmentReader) -> SegmentCustom<'a> {
        let open = |name: &str| match TypedColumns::open(segment, name).unwrap_or_default() {
            TypedColumns { numbers: Some(c), .. } => Values::Numbers(c),
            TypedColumns { bools: Some(c), .. } => Values::Booleans(c),
            _ => Values::Missing,
        };
        let signals = self
            .signals
            .iter()
            .map(|(c, columns)| (c, columns.iter().map(|(sign, name)| (*sign, open(name))).collect()))
            .collect();
        SegmentCustom { signals }
    }
}

/// One name's values in a segment.
enum Values {
    Numbers(Column<f64>),
    Booleans(Column<bool>),
    Missing,
}

impl Values {
    /// The document's value: the largest of a list, a boolean as 0 or 1.
    fn get(&self, doc: DocId) -> Option<f64> {
        match self {
            Values::Numbers(c) => c.values_for_doc(doc).filter(|v| v.is_finite()).reduce(f64::max),
            Values::Booleans(c) => c.values_for_doc(doc).map(|b| f64::from(u8::from(b))).reduce(f64::max),
            Values::Missing => None,
        }
    }
}

/// The custom signals of one segment's documents.
pub(crate) struct SegmentCustom<'a> {
    signals: Vec<(&'a Compiled, Vec<(f64, Values)>)>,
}

impl SegmentCustom<'_> {
    /// Each signal's value for `doc` (`None` when one of its names has none), its name and its
    /// factor.
    fn each(&self, doc: DocId) -> impl Iterator<Item = (&str, Option<f64>, f64)> + '_ {
        self.signals.iter().map(move |(compiled, terms)| {
            let value = terms.iter().try_fold(0.0, |sum, (sign, values)| Some(sum + sign * values.get(doc)?));
            (compiled.name.as_str(), value, compiled.factor(value))
        })
    }

    /// The product of the signals' factors on `doc`'s score.
    pub(crate) fn factor(&self, doc: DocId) -> f64 {
        self.each(doc).map(|(_, _, factor)| factor).product()
    }

    /// The signals as explain lists them: an absent value as 0 with factor 1.
    pub(crate) fn components(&self, doc: DocId) -> Vec<ScoreComponent> {
        self.each(doc)
            .map(|(name, value, factor)| ScoreComponent { name: name.to_string(), value: value.unwrap_or(0.0), factor })
            .collect()
    }
}
