//! The suggester: completions of four kinds, built from the catalog and the query log, merged
//! into one ranked, deduplicated list per keystroke.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use searchd_catalog::{Product, escape_html_into};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::dict::{Completions, Entry, Hit, Stream, fuzzy_automaton};
use searchd_catalog::typo::fuzzy_match_len;

use crate::key::{Input, key_of, text_range};

/// Longest accepted input, in characters.
pub const MAX_INPUT_CHARS: usize = 200;
/// Most suggestions one request may ask for; larger limits are capped to it.
pub const MAX_LIMIT: usize = 20;
/// Suggestions when the request names no limit.
pub const DEFAULT_LIMIT: usize = 8;

/// What a suggestion is, and so what a click on it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SuggestionType)]
pub enum Kind {
    /// A popular search: run it.
    Query,
    /// A product title: open the product (`id`).
    Product,
    /// A brand: filter by it.
    Brand,
    /// A category: filter by its path (`path`).
    Category,
}

impl Kind {
    /// Every kind, in the order their results are merged on ties.
    pub const ALL: [Kind; 4] = [Kind::Query, Kind::Product, Kind::Brand, Kind::Category];

    /// The kind's name in requests and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Product => "product",
            Kind::Brand => "brand",
            Kind::Category => "category",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How completions are weighted: `score = boost × (1 + ln(1 + weight))`, where the weight is the
/// product's popularity, the query's search count, or for a brand or category the sum over its
/// products of (1 + popularity) — its product count when the catalog has no popularity — so a
/// brand ranks at least with its most popular product.
/// Suffixes that start after an entry's first word score `mid_phrase_factor` times less.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Boost of popular queries.
    pub query_boost: f32,
    /// Boost of product titles.
    pub product_boost: f32,
    /// Boost of brands.
    pub brand_boost: f32,
    /// Boost of categories.
    pub category_boost: f32,
    /// Factor of suffixes that start after the entry's first word (0–1].
    pub mid_phrase_factor: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Self { query_boost: 2.0, product_boost: 1.0, brand_boost: 1.5, category_boost: 1.5, mid_phrase_factor: 0.5 }
    }
}

impl Weights {
    /// Every boost finite and > 0, the factor in (0, 1]; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let boosts = [
            ("query_boost", self.query_boost),
            ("product_boost", self.product_boost),
            ("brand_boost", self.brand_boost),
            ("category_boost", self.category_boost),
        ];
        for (name, v) in boosts {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("autocomplete.weights.{name} must be a positive number, got {v}"));
            }
        }
        if !(self.mid_phrase_factor > 0.0 && self.mid_phrase_factor <= 1.0) {
            return Err(format!(
                "autocomplete.weights.mid_phrase_factor must be in (0, 1], got {}",
                self.mid_phrase_factor
            ));
        }
        Ok(())
    }

    fn score(boost: f32, weight: f64) -> f32 {
        let w = if weight.is_finite() { weight.max(0.0) } else { 0.0 };
        boost * (1.0 + w.ln_1p() as f32)
    }
}

/// Collects what the catalog contributes (titles, brands, categories) one product at a time.
#[derive(Debug, Default)]
pub struct CatalogBuilder {
    products: Vec<Entry>,
    /// Product titles kept (the highest scored); `None`: all.
    max_products: Option<usize>,
    /// Brand key → (spellings with their counts, products, weight).
    brands: HashMap<String, (HashMap<String, u64>, u64, f64)>,
    /// Category path → (products, weight).
    categories: HashMap<Vec<String>, (u64, f64)>,
}

impl CatalogBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps only the `max` highest scored product titles (brands and categories are all kept):
    /// the suggestions of a catalog of millions stay bounded in memory, build time and load time.
    pub fn with_max_products(mut self, max: usize) -> Self {
        self.max_products = Some(max);
        self
    }

    /// Adds a product's title, brand and category path.
    pub fn add(&mut self, product: &Product, weights: &Weights) {
        let key = key_of(&product.title);
        if !key.is_empty() {
            self.products.push(Entry {
                text: product.title.as_str().into(),
                key: key.into(),
                score: Weights::score(weights.product_boost, product.popularity),
                target: Some(product.id.as_str().into()),
                count: 0,
            });
        }
        let weight = 1.0 + if product.popularity.is_finite() { product.popularity.max(0.0) } else { 0.0 };
        if let Some(brand) = product.brand.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            let slot = self.brands.entry(key_of(brand)).or_default();
            *slot.0.entry(brand.to_string()).or_default() += 1;
            slot.1 += 1;
            slot.2 += weight;
        }
        for depth in 1..=product.category.len() {
            let slot = self.categories.entry(product.category[..depth].to_vec()).or_default();
            slot.0 += 1;
            slot.1 += weight;
        }
    }

    /// Builds the three completions.
    pub fn build(self, weights: &Weights) -> Result<CatalogCompletions, Error> {
        let brands = self
            .brands
            .into_iter()
            .map(|(key, (spellings, count, weight))| {
                // The most frequent spelling is shown ("DeWalt" over "DEWALT").
                let text = spellings.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|s| s.0);
                Entry {
                    text: text.unwrap_or_else(|| key.clone()).into(),
                    key: key.into(),
                    score: Weights::score(weights.brand_boost, weight),
                    target: None,
                    count,
                }
            })
            .collect();
        let categories = self
            .categories
            .into_iter()
            .filter_map(|(path, (count, weight))| {
                let name = path.last()?.trim();
                Some(Entry {
                    text: name.into(),
                    key: key_of(name).into(),
                    score: Weights::score(weights.category_boost, weight),
                    target: Some(path.join("/").into()),
                    count,
                })
            })
            .collect();
        let mut products = self.products;
        if let Some(max) = self.max_products.filter(|&max| max < products.len()) {
            let order = |a: &Entry, b: &Entry| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key));
            if max > 0 {
                products.select_nth_unstable_by(max - 1, order);
            }
            products.truncate(max);
        }
        let products = Completions::build(products, weights.mid_phrase_factor)?;
        let product_entries =
            products.entries().filter_map(|(i, e)| Some((e.target.clone()?, i))).collect::<HashMap<_, _>>();
        Ok(CatalogCompletions {
            products,
            brands: Completions::build(brands, weights.mid_phrase_factor)?,
            categories: Completions::build(categories, weights.mid_phrase_factor)?,
            product_entries,
        })
    }
}

/// The catalog's completions, rebuilt after index commits.
#[derive(Debug)]
pub struct CatalogCompletions {
    /// Product titles.
    pub products: Completions,
    /// Brands.
    pub brands: Completions,
    /// Category names, with their paths.
    pub categories: Completions,
    /// Product id → its entry (titles shared by several products keep one id).
    pub(crate) product_entries: HashMap<Box<str>, u32>,
}

impl CatalogCompletions {
    /// No completions at all.
    pub fn empty() -> Self {
        Self {
            products: Completions::empty(),
            brands: Completions::empty(),
            categories: Completions::empty(),
            product_entries: HashMap::new(),
        }
    }

    /// Builds from products in one go.
    pub fn from_products<'a>(
        products: impl IntoIterator<Item = &'a Product>,
        weights: &Weights,
    ) -> Result<Self, Error> {
        let mut builder = CatalogBuilder::new();
        for p in products {
            builder.add(p, weights);
        }
        builder.build(weights)
    }
}

/// Products written since a [`CatalogCompletions`] was built: completions of their current
/// versions, and the base's entries they replace or delete (masked). Rebuilding the delta costs
/// what changed, not the catalog, so suggestions follow every commit cheaply; a full rebuild
/// folds it into the base from time to time. Until then, brand and category counts are those
/// of the base plus the delta's own, and a brand or category whose last product went away
/// stays suggested.
#[derive(Debug)]
pub struct CatalogDelta {
    completions: CatalogCompletions,
    masked: HashSet<u32>,
    changed: usize,
}

impl CatalogDelta {
    /// A delta that changes nothing.
    pub fn empty() -> Self {
        Self { completions: CatalogCompletions::empty(), masked: HashSet::new(), changed: 0 }
    }

    /// `changed`: every id written since `base` was built, with its current product (`None`
    /// when deleted).
    pub fn build<'a>(
        base: &CatalogCompletions,
        changed: impl IntoIterator<Item = (&'a str, Option<&'a Product>)>,
        weights: &Weights,
    ) -> Result<Self, Error> {
        let mut builder = CatalogBuilder::new();
        let mut masked = HashSet::new();
        let mut count = 0;
        for (id, product) in changed {
            count += 1;
            if let Some(&entry) = base.product_entries.get(id) {
                masked.insert(entry);
            }
            if let Some(p) = product {
                builder.add(p, weights);
            }
        }
        Ok(Self { completions: builder.build(weights)?, masked, changed: count })
    }

    /// Ids written since the base was built.
    pub fn changed(&self) -> usize {
        self.changed
    }
}

/// Query completions from `(normalized query, searches)` pairs.
pub fn query_completions(
    queries: impl IntoIterator<Item = (String, u64)>,
    weights: &Weights,
) -> Result<Completions, Error> {
    let entries = queries
        .into_iter()
        .filter_map(|(q, count)| {
            let key = key_of(&q);
            (!key.is_empty()).then(|| Entry {
                text: key.as_str().into(),
                key: key.into(),
                score: Weights::score(weights.query_boost, count as f64),
                target: None,
                count,
            })
        })
        .collect();
    Completions::build(entries, weights.mid_phrase_factor)
}

/// Which kinds a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds(u8);

impl Kinds {
    /// Every kind.
    pub const ALL: Kinds = Kinds(0b1111);
    /// No kind.
    pub const NONE: Kinds = Kinds(0);

    /// These kinds and `kind`.
    pub fn with(self, kind: Kind) -> Self {
        Kinds(self.0 | 1 << kind as u8)
    }

    /// Whether `kind` is wanted.
    pub fn contains(self, kind: Kind) -> bool {
        self.0 & 1 << kind as u8 != 0
    }

    /// Whether no kind is wanted.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Default for Kinds {
    fn default() -> Self {
        Self::ALL
    }
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Suggestion {
    #[serde(rename = "type")]
    /// What the suggestion is: a query, a product, a brand or a category.
    pub kind: Kind,
    /// The text to show and, picked, to search for.
    pub text: String,
    /// `text`, HTML-escaped, with the part that matched the input inside `<em>…</em>`.
    pub highlight: String,
    /// Typos between the input and the matched part (0 for an exact prefix match).
    pub typos: u8,
    /// The completion's rank score; higher first within the same typos.
    pub score: f32,
    /// The product's id (`product`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The category path, `/`-separated as the search filter takes it (`category`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Products with this brand or category, or searches of this query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// Everything a keystroke is answered from. Immutable; swapped whole when rebuilt.
#[derive(Debug, Clone)]
pub struct Suggester {
    catalog: Arc<CatalogCompletions>,
    delta: Arc<CatalogDelta>,
    queries: Arc<Completions>,
}

impl Default for Suggester {
    fn default() -> Self {
        Self::new(Arc::new(CatalogCompletions::empty()), Arc::new(Completions::empty()))
    }
}

impl Suggester {
    /// A suggester over catalog and query completions, without a delta.
    pub fn new(catalog: Arc<CatalogCompletions>, queries: Arc<Completions>) -> Self {
        Self::with_delta(catalog, Arc::new(CatalogDelta::empty()), queries)
    }

    /// A suggester over the base catalog completions, the changes since (`delta`) and queries.
    pub fn with_delta(catalog: Arc<CatalogCompletions>, delta: Arc<CatalogDelta>, queries: Arc<Completions>) -> Self {
        Self { catalog, delta, queries }
    }

    /// The base catalog completions.
    pub fn catalog(&self) -> &Arc<CatalogCompletions> {
        &self.catalog
    }

    /// The products changed since the base was built.
    pub fn delta(&self) -> &Arc<CatalogDelta> {
        &self.delta
    }

    /// The popular queries' completions.
    pub fn queries(&self) -> &Arc<Completions> {
        &self.queries
    }

    /// The streams of one kind: the base (minus what the delta replaces) and the delta.
    fn streams<'a>(&'a self, kind: Kind, input: &'a Input, out: &mut Vec<(Kind, Stream<'a>)>) {
        let (base, delta) = match kind {
            Kind::Query => (&*self.queries, None),
            Kind::Product => (&self.catalog.products, Some(&self.delta.completions.products)),
            Kind::Brand => (&self.catalog.brands, Some(&self.delta.completions.brands)),
            Kind::Category => (&self.catalog.categories, Some(&self.delta.completions.categories)),
        };
        let mask = (kind == Kind::Product && !self.delta.masked.is_empty()).then_some(&self.delta.masked);
        out.push((kind, base.stream(input, mask)));
        if let Some(delta) = delta.filter(|d| !d.is_empty()) {
            out.push((kind, delta.stream(input, None)));
        }
    }

    /// Completes `text`: exact prefix matches first (all kinds, by score), then fuzzy ones (by
    /// typos, then score), deduplicated by normalized text; at most `limit` (uncapped here: the
    /// HTTP route caps it at [`MAX_LIMIT`]). An empty input gives the most popular queries.
    pub fn suggest(&self, text: &str, limit: usize, kinds: Kinds) -> Vec<Suggestion> {
        let input = Input::new(text);
        let kinds = if input.key.is_empty() { Kinds::NONE.with(Kind::Query) } else { kinds };
        let mut streams: Vec<(Kind, Stream<'_>)> = Vec::new();
        for kind in Kind::ALL.into_iter().filter(|k| kinds.contains(*k)) {
            self.streams(kind, &input, &mut streams);
        }
        let mut out = Vec::new();
        let mut keys: HashSet<&str> = HashSet::new();
        let mut dfa = None;
        for fuzzy in [false, true] {
            if fuzzy {
                if out.len() >= limit {
                    break;
                }
                dfa = fuzzy_automaton(&input);
                if dfa.is_none() {
                    break;
                }
            }
            while out.len() < limit {
                let mut best: Option<(usize, Hit, &Entry)> = None;
                for (i, (_, stream)) in streams.iter_mut().enumerate() {
                    let Some(hit) = stream.peek(dfa.as_ref()) else { continue };
                    let entry = stream.dict().entry(hit.entry);
                    if best.as_ref().is_none_or(|(_, b, eb)| order(&hit, entry, b, eb).is_lt()) {
                        best = Some((i, hit, entry));
                    }
                }
                let Some((i, hit, entry)) = best else { break };
                let kind = streams[i].0;
                streams[i].1.advance();
                if keys.insert(&entry.key) {
                    out.push(suggestion(kind, entry, &hit, &input));
                }
            }
        }
        out
    }
}

/// Suggestion order: fewer typos, higher score, shorter text, then the key.
fn order(a: &Hit, ea: &Entry, b: &Hit, eb: &Entry) -> std::cmp::Ordering {
    a.typos
        .cmp(&b.typos)
        .then(b.score.total_cmp(&a.score))
        .then(ea.key.len().cmp(&eb.key.len()))
        .then(ea.key.cmp(&eb.key))
}

fn suggestion(kind: Kind, entry: &Entry, hit: &Hit, input: &Input) -> Suggestion {
    let matched = if hit.typos == 0 { hit.matched } else { fuzzy_match_len(&input.key, &entry.key[hit.offset..]) };
    let text = &*entry.text;
    let mut highlight = String::with_capacity(text.len() + 9);
    match text_range(text, hit.offset, hit.offset + matched) {
        Some((a, b)) if matched > 0 => {
            escape_html_into(&text[..a], &mut highlight);
            highlight.push_str("<em>");
            escape_html_into(&text[a..b], &mut highlight);
            highlight.push_str("</em>");
            escape_html_into(&text[b..], &mut highlight);
        }
        _ => escape_html_into(text, &mut highlight),
    }
    Suggestion {
        kind,
        text: entry.text.to_string(),
        highlight,
        typos: hit.typos,
        score: hit.score,
        id: (kind == Kind::Product).then(|| entry.target.as_deref().unwrap_or_default().to_string()),
        path: (kind == Kind::Category).then(|| entry.target.as_deref().unwrap_or_default().to_string()),
        count: matches!(kind, Kind::Query | Kind::Brand | Kind::Category).then_some(entry.count),
    }
}
