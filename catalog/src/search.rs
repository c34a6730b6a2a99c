use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::attributes::AttributeSchema;
use crate::facets::{FacetCount, FacetField, FacetOrder, FacetRange, FacetStats};
use crate::filter::{Filter, Resolved};
use crate::near::{NearOffer, OfferConditions, OfferSort};
use crate::{Error, GeoPoint, Product, Result};

/// Most hits one page may hold.
pub const MAX_PER_PAGE: usize = 100;
/// Deepest hit a search can reach (`page × per_page`), as Elasticsearch's `max_result_window`.
pub const MAX_RESULT_WINDOW: usize = 1_000;
/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 512;
/// Values per keyword facet unless asked otherwise.
pub const DEFAULT_FACET_VALUES: usize = 20;
/// Most values per keyword facet.
pub const MAX_FACET_VALUES: usize = 1_000;
/// Deepest category facet tree.
pub const MAX_CATEGORY_DEPTH: usize = 4;
/// Most ranges per numeric facet.
pub const MAX_FACET_RANGES: usize = 100;

/// A product search, as the HTTP API (GET parameters or POST body) and `searchd eval` build it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SearchRequest {
    /// The query text (at most 512 characters); empty lists everything.
    pub q: String,
    /// Brand, category, price, rating and stock filters.
    pub filters: Filters,
    /// A filter expression (Meilisearch's syntax), ANDed with `filters`; in a JSON body also the
    /// array form, OR inside and AND across: `[["brand = Bosch", "brand = Makita"], "price < 100"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "price < 100 AND brand IN [Bosch, Makita]")]
    pub filter: Option<Filter>,
    /// Facets to count over all matching products: `brand`, `category`, the numeric built-in
    /// fields, and facetable attributes. A keyword facet gives its top values with counts; a
    /// numeric one gives stats (and counts for `facet_ranges`) in `facet_stats`.
    #[schema(value_type = Vec<String>, example = json!(["brand", "colour", "price"]))]
    pub facets: Vec<FacetField>,
    /// Facets counted disjunctively (they are counted even when not in `facets`): their counts
    /// ignore the filter clauses on that same facet, as checkboxes do ("red" is ticked and
    /// "blue" still shows how many blue ones there are).
    #[schema(value_type = Vec<String>, example = json!(["colour"]))]
    pub disjunctive: Vec<FacetField>,
    /// Values returned per keyword facet (default 20, at most 1,000).
    #[schema(minimum = 1, maximum = 1000)]
    pub max_values_per_facet: usize,
    /// Levels of the category facet (default 1, at most 4): with 2 or more each value carries
    /// its `path` and its `children`, counted the same way.
    #[schema(minimum = 1, maximum = 4)]
    pub category_depth: usize,
    /// Order of a keyword facet's values: by `count` (most first, the default) or by `value`.
    pub facet_order: FacetOrder,
    /// Ranges to count per numeric facet, `from-to` (from included, to excluded; either may be
    /// left out: `100-`; `a..b` for negative ends): `{"price": ["0-50", "50-100", "100-"]}`.
    #[schema(value_type = BTreeMap<String, Vec<String>>, example = json!({"price": ["0-50", "50-100", "100-"]}))]
    pub facet_ranges: BTreeMap<String, Vec<FacetRange>>,
    /// Numeric facets' stats also per value of this keyword field: `currency`, `language` or a
    /// facetable keyword attribute; in `facet_stats_by` (prices per currency, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "currency")]
    pub stats_by: Option<String>,
    /// One best hit per value of this keyword attribute (product variants shown once);
    /// products without it are each their own group, and `total_hits` counts groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<String>,
    /// The caller's tenant filter (its API key's or token's): ANDed to the search and to every
    /// facet count, disjunctive ones included, and never lifted. Set by the server; a request
    /// cannot give it.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub tenant: Option<Filter>,
    /// Result order: `relevance` (the default), sort keys `price:asc,rating:desc` (relevance
    /// breaks ties unless `_relevance` is placed), or a named order: `price_asc`, `price_desc`,
    /// `rating`, `newest`.
    #[schema(value_type = String, example = "price:asc,rating:desc")]
    pub sort: SortBy,
    /// 1-based page number (page × per_page ≤ 1000).
    #[schema(minimum = 1)]
    pub page: usize,
    #[schema(minimum = 1, maximum = 100)]
    /// Hits per page (default 20, at most 100).
    pub per_page: usize,
    /// ISO 639-1 code of the query's language; detected (or the default) when absent.
    pub lang: Option<String>,
    /// Mark matched terms in title and description.
    pub highlight: bool,
    /// `bm25` switches off everything but plain BM25 on the text fields (for evaluation);
    /// `phase1` switches off the learned re-ranker.
    pub ranking: RankingMode,
    /// Return each hit's phase-1 components and phase-2 feature contributions.
    pub explain: bool,
    /// `last` (the default) also matches the last query word as the start of a longer word
    /// ("cordl" finds "cordless"), as a search box typed into expects; `none` matches whole
    /// words only. A query ending in a space has no word being typed.
    pub prefix: PrefixMode,
    /// When a query word is misspelt ("cordles drill"), search the corrected query and say so
    /// in `did_you_mean` (the default); `false` searches the query as typed and only suggests.
    pub correct: bool,
    /// The shopper's location: only products with an in-stock offer from a vendor serving this
    /// point (a branch's radius or a delivery zone holds it), each hit with its best such offer.
    pub near: Option<GeoPoint>,
    /// Which serving offer is a product's best with `near`: `price` (the default), `lead_time`
    /// or `distance`.
    pub offer_sort: OfferSort,
}

impl Default for SearchRequest {
    fn default() -> Self {
        Self {
            q: String::new(),
            filters: Filters::default(),
            filter: None,
            facets: Vec::new(),
            disjunctive: Vec::new(),
            max_values_per_facet: DEFAULT_FACET_VALUES,
            category_depth: 1,
            facet_order: FacetOrder::Count,
            facet_ranges: BTreeMap::new(),
            stats_by: None,
            distinct: None,
            tenant: None,
            sort: SortBy::relevance(),
            page: 1,
            per_page: 20,
            lang: None,
            highlight: false,
            ranking: RankingMode::Default,
            explain: false,
            prefix: PrefixMode::Last,
            correct: true,
            near: None,
            offer_sort: OfferSort::Price,
        }
    }
}

impl SearchRequest {
    /// Checks the limits and ranges, and the filter against the built-in fields and the
    /// declared `attributes`; the error names the offending parameter.
    pub fn validate(&self, attributes: &AttributeSchema) -> Result<()> {
        self.validated_clauses(attributes).map(drop)
    }

    /// [`validate`](Self::validate), returning every filter of the request (`filters` and the
    /// `filter` expression's top-level `AND` parts) as clauses that must all hold, resolved
    /// against the built-in fields and the declared attributes: a search resolves them once, and
    /// a disjunctive facet leaves out the clauses on itself.
    pub fn validated_clauses(&self, attributes: &AttributeSchema) -> Result<Vec<Resolved>> {
        if self.q.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::invalid("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
        }
        if self.page == 0 {
            return Err(Error::invalid("page", "must be at least 1"));
        }
        if self.per_page == 0 || self.per_page > MAX_PER_PAGE {
            return Err(Error::invalid("per_page", format!("must be between 1 and {MAX_PER_PAGE}")));
        }
        if self.page.saturating_mul(self.per_page) > MAX_RESULT_WINDOW {
            return Err(Error::invalid(
                "page",
                format!("page × per_page must be at most {MAX_RESULT_WINDOW}; narrow the query instead"),
            ));
        }
        if self.category_depth == 0 || self.category_depth > MAX_CATEGORY_DEPTH {
            return Err(Error::invalid("category_depth", format!("must be between 1 and {MAX_CATEGORY_DEPTH}")));
        }
        if self.max_values_per_facet == 0 || self.max_values_per_facet > MAX_FACET_VALUES {
            return Err(Error::invalid("max_values_per_facet", format!("must be between 1 and {MAX_FACET_VALUES}")));
        }
        if let Some((name, ranges)) = self.facet_ranges.iter().find(|(_, r)| r.is_empty() || r.len() > MAX_FACET_RANGES)
        {
            return Err(Error::invalid(
                "facet_ranges",
                format!("`{name}` has {} ranges; give 1 to {MAX_FACET_RANGES}", ranges.len()),
            ));
        }
        if let Some(lang) = &self.lang {
            if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(Error::invalid("lang", "must be a two-letter ISO 639-1 code such as `en`"));
            }
        }
        if let Some(near) = self.near {
            near.validate().map_err(|e| Error::invalid("near", e.to_string()))?;
        }
        let (filter, offers) = OfferConditions::split(self.filter.as_ref(), self.near.is_some())
            .map_err(|e| Error::invalid("filter", e.to_string()))?;
        if !offers.is_empty() && self.near.is_none() {
            return Err(Error::invalid("filter", "conditions on `offer.` fields need `near`, the shopper's location"));
        }
        let filter = filter
            .as_ref()
            .map(|f| f.resolve(attributes))
            .transpose()
            .map_err(|e| Error::invalid("filter", e.to_string()))?;
        self.filters.validate()?;
        let mut clauses = self.filters.clauses();
        if self.near.is_some() {
            // Near a shopper, prices are the offers' (see `offer_conditions`).
            clauses.retain(|c| {
                !matches!(c, Resolved::Range(crate::filter::Field::Builtin(crate::filter::Builtin::Price), ..))
            });
        }
        match filter {
            Some(Resolved::And(parts)) => clauses.extend(parts),
            Some(other) => clauses.push(other),
            None => {}
        }
        Ok(clauses)
    }

    /// What a search `near` a shopper asks of each serving offer: the filter's offer conditions
    /// (`offer.` fields, and `price`, which near a shopper is the offers'), and `price_min` /
    /// `price_max`; one offer must meet them all. The error names `filter`.
    pub fn offer_conditions(&self) -> Result<OfferConditions> {
        let near = self.near.is_some();
        let (_, mut offers) =
            OfferConditions::split(self.filter.as_ref(), near).map_err(|e| Error::invalid("filter", e.to_string()))?;
        if near {
            use crate::filter::{Condition, Op, Token};
            let price = |op: Op| Filter::Condition(Condition { field: Token::new("offer.price"), op });
            if let Some(min) = self.filters.price_min {
                offers.push(price(Op::GreaterOrEqual(Token::new(min.to_string()))));
            }
            if let Some(max) = self.filters.price_max {
                offers.push(price(Op::LessOrEqual(Token::new(max.to_string()))));
            }
        }
        let sellers =
            |f: &crate::FacetField| matches!(f, crate::FacetField::Named(n) if n == crate::near::SELLERS_FACET);
        Ok(offers.with_sellers(near && (self.facets.iter().any(sellers) || self.disjunctive.iter().any(sellers))))
    }

    /// The tenant filter resolved against the declared attributes; the error names `tenant`.
    pub fn tenant_clause(&self, attributes: &AttributeSchema) -> Result<Option<Resolved>> {
        self.tenant
            .as_ref()
            .map(|f| f.resolve(attributes))
            .transpose()
            .map_err(|e| Error::invalid("tenant", format!("the caller's filter does not apply to the settings: {e}")))
    }

    /// Index of the first hit of the requested page.
    pub fn offset(&self) -> usize {
        (self.page - 1) * self.per_page
    }
}

/// Filters narrowing a product search. Every set filter must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Filters {
    /// Any of these brands (exact, case-sensitive as indexed).
    pub brand: Vec<String>,
    /// Category path prefix, `/`-separated: `Tools/Power Tools` matches everything below it.
    #[schema(pattern = "^/?[^/]*\\S[^/]*(/[^/]*\\S[^/]*)*/?$")]
    pub category: Option<String>,
    /// Lowest price, inclusive.
    pub price_min: Option<f64>,
    /// Highest price, inclusive.
    pub price_max: Option<f64>,
    /// Lowest average rating, inclusive.
    pub min_rating: Option<f64>,
    /// Only products in stock (`true`) or out of stock (`false`).
    pub in_stock: Option<bool>,
}

impl Filters {
    /// The filters' parameter names.
    pub const NAMES: [&'static str; 6] = ["brand", "category", "price_min", "price_max", "min_rating", "in_stock"];

    /// Checks the ranges; the error names the filter.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [("price_min", self.price_min), ("price_max", self.price_max)] {
            if let Some(v) = value {
                if !v.is_finite() || v < 0.0 {
                    return Err(Error::invalid(name, "must be a finite number ≥ 0"));
                }
            }
        }
        if let (Some(min), Some(max)) = (self.price_min, self.price_max) {
            if min > max {
                return Err(Error::invalid("price_min", "must not be above price_max"));
            }
        }
        if let Some(r) = self.min_rating {
            if !(0.0..=5.0).contains(&r) {
                return Err(Error::invalid("min_rating", "must be between 0 and 5"));
            }
        }
        if let Some(c) = &self.category {
            if path_segments(c).iter().any(|s| s.is_empty()) {
                return Err(Error::invalid("category", "must be a `/`-separated path of non-empty names"));
            }
        }
        if self.brand.iter().any(|b| b.trim().is_empty()) {
            return Err(Error::invalid("brand", "must not be empty"));
        }
        Ok(())
    }

    /// The filters as clauses of the filter language, which mean the same.
    pub fn clauses(&self) -> Vec<Resolved> {
        use crate::filter::{Builtin, Field, Value};
        use std::ops::Bound;
        let mut clauses = Vec::new();
        if !self.brand.is_empty() {
            let brands = self.brand.iter().map(|b| Value::Text(b.clone())).collect();
            clauses.push(Resolved::AnyOf(Field::Builtin(Builtin::Brand), brands));
        }
        if let Some(category) = &self.category {
            clauses.push(Resolved::AnyOf(Field::Builtin(Builtin::Category), vec![Value::Text(category.clone())]));
        }
        if self.price_min.is_some() || self.price_max.is_some() {
            let bound = |v: Option<f64>| v.map_or(Bound::Unbounded, Bound::Included);
            clauses.push(Resolved::Range(Field::Builtin(Builtin::Price), bound(self.price_min), bound(self.price_max)));
        }
        if let Some(min) = self.min_rating {
            clauses.push(Resolved::Range(Field::Builtin(Builtin::Rating), Bound::Included(min), Bound::Unbounded));
        }
        if let Some(in_stock) = self.in_stock {
            clauses.push(Resolved::AnyOf(Field::Builtin(Builtin::InStock), vec![Value::Bool(in_stock)]));
        }
        clauses
    }

    /// Category path segments of the category filter.
    pub fn category_segments(&self) -> Option<Vec<&str>> {
        self.category.as_deref().map(path_segments)
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The segments of a `/`-separated category path, trimmed (`"/Tools/ Drills/"` → `Tools`, `Drills`).
pub fn path_segments(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').map(str::trim).collect()
}

/// Result order: sort keys, the first deciding first; relevance breaks the remaining ties unless
/// `_relevance` is placed explicitly. Written `price:asc,rating:desc` (the direction defaults to
/// `asc`), or one of the named orders `relevance` (no keys), `price_asc`, `price_desc`,
/// `rating` (`rating:desc`) and `newest` (`updated_at:desc`). Products without a key's value
/// come after those with one, in either direction; a list attribute sorts by its smallest value
/// ascending and its largest descending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortBy(pub Vec<SortKey>);

/// One key of a [`SortBy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// A sortable field or attribute, or `_relevance`.
    pub field: String,
    /// Largest first.
    pub descending: bool,
}

/// The key that places relevance explicitly.
pub const RELEVANCE_KEY: &str = "_relevance";
/// Most keys one sort may have.
pub const MAX_SORT_KEYS: usize = 4;

impl SortBy {
    /// The named orders.
    pub const NAMES: [&'static str; 5] = ["relevance", "price_asc", "price_desc", "rating", "newest"];

    /// Best match first.
    pub fn relevance() -> Self {
        Self(Vec::new())
    }

    /// Whether the order is relevance alone (what the learned re-ranker may reorder).
    pub fn is_relevance(&self) -> bool {
        match self.0.as_slice() {
            [] => true,
            [only] => only.field == RELEVANCE_KEY && only.descending,
            _ => false,
        }
    }
}

impl FromStr for SortBy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let key = |field: &str, descending: bool| SortKey { field: field.into(), descending };
        let s = s.trim();
        Ok(Self(match s {
            "relevance" | "" => Vec::new(),
            "price_asc" => vec![key("price", false)],
            "price_desc" => vec![key("price", true)],
            "rating" => vec![key("rating", true)],
            "newest" => vec![key("updated_at", true)],
            list => {
                let mut keys = Vec::new();
                for part in list.split(',').map(str::trim) {
                    let (field, direction) = part.split_once(':').unwrap_or((part, "asc"));
                    let descending = match direction.trim() {
                        "asc" => false,
                        "desc" => true,
                        other => {
                            return Err(Error::invalid(
                                "sort",
                                format!("`{part}`: the direction is `asc` or `desc`, not `{other}`"),
                            ));
                        }
                    };
                    let field = field.trim();
                    if field.is_empty() {
                        return Err(Error::invalid(
                            "sort",
                            format!(
                                "expected `field:asc` or `field:desc` keys separated by commas, or one of: {}",
                                Self::NAMES.join(", ")
                            ),
                        ));
                    }
                    if keys.iter().any(|k: &SortKey| k.field == field) {
                        return Err(Error::invalid("sort", format!("`{field}` is given twice")));
                    }
                    keys.push(key(field, descending));
                }
                if keys.len() > MAX_SORT_KEYS {
                    return Err(Error::invalid("sort", format!("at most {MAX_SORT_KEYS} keys")));
                }
                keys
            }
        }))
    }
}

impl std::fmt::Display for SortBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("relevance");
        }
        for (i, k) in self.0.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            write!(f, "{comma}{}:{}", k.field, if k.descending { "desc" } else { "asc" })?;
        }
        Ok(())
    }
}

impl Serialize for SortBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for SortBy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether the word being typed matches as a prefix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrefixMode {
    /// The last word (of at least [`PrefixMode::MIN_CHARS`] characters, the query not ending in
    /// a space) matches words it starts, typo-tolerant as autocomplete is; whole-word matches
    /// rank above prefix-only ones.
    #[default]
    Last,
    /// Whole words only.
    None,
}

impl PrefixMode {
    /// The modes' names.
    pub const NAMES: [&'static str; 2] = ["last", "none"];
    /// Shortest last word matched as a prefix: shorter ones start too many words.
    pub const MIN_CHARS: usize = 3;

    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Last => "last",
            Self::None => "none",
        }
    }

    /// Whether the last word of `q` (`last`, as analysed) is being typed and matches as a
    /// prefix: in `last` mode, `q` not ending in a space, the word at least
    /// [`MIN_CHARS`](Self::MIN_CHARS) long.
    pub fn typing(self, q: &str, last: &str) -> bool {
        self == Self::Last && !q.ends_with(char::is_whitespace) && last.chars().count() >= Self::MIN_CHARS
    }
}

impl FromStr for PrefixMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "last" => Ok(Self::Last),
            "none" => Ok(Self::None),
            other => Err(Error::invalid(
                "prefix",
                format!("unknown prefix mode `{other}`, expected one of: {}", Self::NAMES.join(", ")),
            )),
        }
    }
}

/// How text relevance is computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankingMode {
    /// Weighted fields, exact > stemmed > typo matches, business signals, then the learned
    /// re-ranker over the top K when a model is loaded.
    #[default]
    Default,
    /// Phase 1 only: the default retrieval and signals without the learned re-ranker.
    Phase1,
    /// Plain BM25 over the stemmed text fields, any term (OR), nothing else.
    Bm25,
}

impl RankingMode {
    /// The modes' names.
    pub const NAMES: [&'static str; 3] = ["default", "phase1", "bm25"];

    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Phase1 => "phase1",
            Self::Bm25 => "bm25",
        }
    }
}

impl FromStr for RankingMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "default" => Ok(Self::Default),
            "phase1" => Ok(Self::Phase1),
            "bm25" => Ok(Self::Bm25),
            other => Err(Error::invalid(
                "ranking",
                format!("unknown ranking `{other}`, expected one of: {}", Self::NAMES.join(", ")),
            )),
        }
    }
}

/// The answer to a [`SearchRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// The query text, as asked.
    pub query: String,
    /// Language the query was analyzed in (ISO 639-1).
    pub query_language: String,
    /// Products matching the query and filters.
    pub total_hits: u64,
    /// This page's number, 1-based.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
    /// Pages of `per_page` hits in `total_hits`.
    pub total_pages: usize,
    /// This page's hits, best first.
    pub hits: Vec<SearchHit>,
    /// Keyword facet name → value counts, in `facet_order`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    /// Numeric facet name → stats of its values over the matching products, and the counts of
    /// the ranges asked for.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub facet_stats: BTreeMap<String, FacetStats>,
    /// With `stats_by`: each value of that field → numeric facet name → the stats over the
    /// matching products holding the value (`{"EUR": {"price": {..}}, "USD": {..}}`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub facet_stats_by: BTreeMap<String, BTreeMap<String, FacetStats>>,
    /// The merchandising rules that held for this search, in the order they are listed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub rules: Vec<String>,
    /// Where a rule sends the shopper instead (a URL or a path), when one holds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub redirect: Option<String>,
    /// The query corrected, when a word of it looks misspelt; `applied` when the hits are the
    /// corrected query's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub did_you_mean: Option<DidYouMean>,
    /// Time the search took in the index, milliseconds.
    pub took_ms: f64,
}

/// A corrected query ("did you mean").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DidYouMean {
    /// The corrected query, in folded words.
    pub query: String,
    /// Whether the hits are the corrected query's (`correct=true`, the default).
    pub applied: bool,
}

/// One ranked product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// The hit's final score (phase 2's when re-ranked, else phase 1's).
    pub score: f32,
    /// The product as stored.
    pub product: Product,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// Matched words marked, when `highlight` was asked.
    pub highlight: Option<Highlight>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// Why the hit scored what it did, when `explain` was asked.
    pub explain: Option<crate::Explanation>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// The best offer serving the search's `near` point.
    pub offer: Option<NearOffer>,
}

/// Title and description with matched terms wrapped in `<em>`…`</em>`; the rest HTML-escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Highlight {
    /// The title with matched words in `<em>`.
    pub title: String,
    /// A snippet of the description around the first match; absent when nothing matched there.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_their_parameter() {
        let bad = |f: fn(&mut SearchRequest)| {
            let mut r = SearchRequest::default();
            f(&mut r);
            r.validate(&AttributeSchema::default()).unwrap_err().param().to_string()
        };
        assert_eq!(bad(|r| r.page = 0), "page");
        assert_eq!(bad(|r| r.per_page = 101), "per_page");
        assert_eq!(bad(|r| r.page = 60), "page");
        assert_eq!(bad(|r| r.filters.price_min = Some(-3.0)), "price_min");
        assert_eq!(bad(|r| r.filters.min_rating = Some(6.0)), "min_rating");
        assert_eq!(bad(|r| r.filters.category = Some("a//b".into())), "category");
        assert_eq!(bad(|r| r.lang = Some("english".into())), "lang");
        assert_eq!(bad(|r| r.q = "x".repeat(MAX_QUERY_CHARS + 1)), "q");
    }

    #[test]
    fn facet_ranges_parse_and_print() {
        let r = |s: &str| s.parse::<FacetRange>().map(|r| (r.from, r.to, r.to_string()));
        assert_eq!(r("0-50").unwrap(), (Some(0.0), Some(50.0), "0-50".into()));
        assert_eq!(r("100-").unwrap(), (Some(100.0), None, "100-".into()));
        assert_eq!(r("-50").unwrap(), (None, Some(50.0), "-50".into()));
        assert_eq!(r("-5..0").unwrap(), (Some(-5.0), Some(0.0), "-5..0".into()));
        for bad in ["", "5", "a-b", "50-10", "1-1"] {
            assert_eq!(bad.parse::<FacetRange>().unwrap_err().param(), "facet_ranges", "{bad}");
        }
    }

    #[test]
    fn sorts_parse_and_print() {
        for name in SortBy::NAMES {
            name.parse::<SortBy>().unwrap();
        }
        let sort: SortBy = "price:asc, rating:desc,_relevance:desc,colour".parse().unwrap();
        assert_eq!(sort.to_string(), "price:asc,rating:desc,_relevance:desc,colour:asc");
        assert_eq!("newest".parse::<SortBy>().unwrap().to_string(), "updated_at:desc");
        assert!("relevance".parse::<SortBy>().unwrap().is_relevance());
        assert!("_relevance:desc".parse::<SortBy>().unwrap().is_relevance());
        assert!(!"_relevance:asc".parse::<SortBy>().unwrap().is_relevance());
        for bad in ["price:up", "price,price:desc", ",", "a,b,c,d,e"] {
            assert_eq!(bad.parse::<SortBy>().unwrap_err().param(), "sort", "{bad}");
        }
    }
}
