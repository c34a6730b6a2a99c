use std::collections::BTreeMap;

use searchd_catalog::attributes::{State, Typed, TypedAttribute};
use tantivy::TantivyDocument;
use tantivy::schema::OwnedValue;

use crate::analysis::FieldTokenizer;
use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, JsonObjectOptions, NumericOptions, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};

/// The product schema's fields. Text fields come in pairs: `*_exact` (lowercased, folded) and
/// `*_stem` (stemmed in the document's language, whose code prefixes the text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub version: Field,
    pub title_exact: Field,
    pub title_stem: Field,
    /// The title's product type ([`title_head`](crate::analysis::title_head)), stemmed.
    pub title_head: Field,
    pub brand_text: Field,
    pub category_stem: Field,
    pub description_exact: Field,
    pub description_stem: Field,
    pub brand: Field,
    pub category: Field,
    pub price: Field,
    pub rating: Field,
    pub review_count: Field,
    pub popularity: Field,
    pub in_stock: Field,
    pub updated_at: Field,
    pub language: Field,
    /// The price's currency code, in capitals.
    pub currency: Field,
    pub source: Field,
    /// The declared attributes' values in their types (keywords as raw terms, numbers and dates
    /// as `f64`, booleans), indexed and in fast columns under their dotted names.
    pub attrs: Field,
    /// Per declared attribute present in a product: `name` (it exists), and `name` + [`NULL`] or
    /// + [`EMPTY`] when it is `null` or empty.
    pub attr_state: Field,
    /// The words of searchable attributes, folded, under their paths as in [`ATTRS`]
    /// (`g3.material`): what `q` matches, weighted per attribute.
    pub attr_exact: Field,
    /// The same words stemmed in the product's language (each value tagged with it).
    pub attr_stem: Field,
}

/// Suffix of an `attr_state` term: the attribute is `null`.
pub(crate) const NULL: &str = "\u{0}null";
/// Suffix of an `attr_state` term: the attribute is empty.
pub(crate) const EMPTY: &str = "\u{0}empty";
/// The attributes' JSON field.
pub(crate) const ATTRS: &str = "attrs";

/// The key in [`ATTRS`] of a settings generation's values (see [`crate::settings`]).
pub(crate) fn generation_key(generation: u64) -> String {
    format!("g{generation}")
}

/// A declared attribute's path in [`ATTRS`] under a settings generation (`g3.specs.voltage`);
/// also its `attr_state` marker.
pub(crate) fn attr_marker(generation: u64, name: &str) -> String {
    format!("g{generation}.{name}")
}

/// A declared attribute's fast column under a settings generation (`attrs.g3.colour`).
pub(crate) fn attr_column(generation: u64, name: &str) -> String {
    format!("{ATTRS}.g{generation}.{name}")
}

pub(crate) const ID: &str = "id";
pub(crate) const VERSION: &str = "version";
pub(crate) const PRICE: &str = "price";
pub(crate) const RATING: &str = "rating";
pub(crate) const REVIEW_COUNT: &str = "review_count";
pub(crate) const POPULARITY: &str = "popularity";
pub(crate) const IN_STOCK: &str = "in_stock";
pub(crate) const UPDATED_AT: &str = "updated_at";
pub(crate) const LANGUAGE: &str = "language";
pub(crate) const CURRENCY: &str = "currency";

/// A text field's options: words by `tokenizer`, with their frequencies (BM25), not stored.
pub(crate) fn words_options(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(IndexRecordOption::WithFreqs),
    )
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let text = |tokenizer: &str, positions: bool| {
            let option =
                if positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
            TextOptions::default()
                .set_indexing_options(TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(option))
        };
        let (exact, stem) = (FieldTokenizer::EXACT, FieldTokenizer::STEM);
        let fast_num = || NumericOptions::default().set_fast().set_indexed();
        let words = |tokenizer: &str| {
            JsonObjectOptions::default().set_indexing_options(
                TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let fields = Fields {
            id: b.add_text_field(ID, STRING | STORED | FAST),
            version: b.add_u64_field(VERSION, FAST | STORED),
            title_exact: b.add_text_field("title_exact", text(exact, true)),
            title_stem: b.add_text_field("title_stem", text(stem, false)),
            title_head: b.add_text_field("title_head", text(stem, false)),
            brand_text: b.add_text_field("brand_text", text(exact, false)),
            category_stem: b.add_text_field("category_stem", text(stem, false)),
            description_exact: b.add_text_field("description_exact", text(exact, true)),
            description_stem: b.add_text_field("description_stem", text(stem, false)),
            brand: b.add_facet_field("brand", FacetOptions::default()),
            category: b.add_facet_field("category", FacetOptions::default()),
            price: b.add_f64_field(PRICE, fast_num()),
            rating: b.add_f64_field(RATING, fast_num()),
            review_count: b.add_u64_field(REVIEW_COUNT, FAST),
            popularity: b.add_f64_field(POPULARITY, FAST),
            in_stock: b.add_bool_field(IN_STOCK, INDEXED | FAST),
            updated_at: b.add_i64_field(UPDATED_AT, FAST),
            language: b.add_text_field(LANGUAGE, STRING | FAST),
            currency: b.add_text_field(CURRENCY, STRING | FAST),
            source: b.add_text_field("source", STORED),
            attrs: b.add_json_field(ATTRS, attrs_options()),
            attr_state: b.add_text_field("attr_state", STRING),
            attr_exact: b.add_json_field("attr_exact", words(exact)),
            attr_stem: b.add_json_field("attr_stem", words(stem)),
        };
        (b.build(), fields)
    }
}

/// The options of the attributes' JSON field (products' and vendors'): values as raw terms,
/// indexed and in fast columns.
pub(crate) fn attrs_options() -> JsonObjectOptions {
    JsonObjectOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default().set_tokenizer("raw").set_index_option(IndexRecordOption::Basic),
        )
        .set_fast("raw")
}

/// Holds a declared attribute of a document under a settings generation: its presence, `null`
/// and emptiness as `attr_state` tokens, its values (but text, which is searched only) into
/// `object`, the generation's part of the attributes JSON field.
pub(crate) fn hold(
    doc: &mut TantivyDocument,
    attr_state: Field,
    generation: u64,
    attribute: TypedAttribute,
    object: &mut BTreeMap<String, OwnedValue>,
) {
    let marker = attr_marker(generation, &attribute.name);
    match attribute.state {
        State::Null => doc.add_text(attr_state, format!("{marker}{NULL}")),
        State::Empty => doc.add_text(attr_state, format!("{marker}{EMPTY}")),
        State::Values => {}
    }
    doc.add_text(attr_state, marker);
    let values: Vec<OwnedValue> = attribute
        .values
        .into_iter()
        .filter_map(|v| match v {
            Typed::Keyword(k) => Some(OwnedValue::Str(k)),
            Typed::Number(n) => Some(OwnedValue::F64(n)),
            Typed::Date(seconds) => Some(OwnedValue::F64(seconds as f64)),
            Typed::Bool(b) => Some(OwnedValue::Bool(b)),
            Typed::Text(_) => None,
        })
        .collect();
    if !values.is_empty() {
        nest(object, &attribute.name, OwnedValue::Array(values));
    }
}

/// Puts `value` at an attribute's name in a JSON object: top level, or one level down
/// (`specs.voltage`).
pub(crate) fn nest(object: &mut BTreeMap<String, OwnedValue>, name: &str, value: OwnedValue) {
    match name.split_once('.') {
        None => {
            object.insert(name.to_string(), value);
        }
        Some((outer, inner)) => {
            let entry = object.entry(outer.to_string()).or_insert_with(|| OwnedValue::Object(Vec::new()));
            if let OwnedValue::Object(fields) = entry {
                fields.push((inner.to_string(), value));
            }
        }
    }
}
