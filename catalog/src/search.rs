use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::filter::{Filter, Resolved};
use crate::{Error, Product, Result};

/// Most hits one page may hold.
pub const MAX_PER_PAGE: usize = 100;
/// Deepest hit a search can reach (`page × per_page`), as Elasticsearch's `max_result_window`.
pub const MAX_RESULT_WINDOW: usize = 1_000;
/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 512;

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
    /// Facets to count over all matching products.
    pub facets: Vec<FacetField>,
    /// Result order.
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
}

impl Default for SearchRequest {
    fn default() -> Self {
        Self {
            q: String::new(),
            filters: Filters::default(),
            filter: None,
            facets: Vec::new(),
            sort: SortBy::Relevance,
            page: 1,
            per_page: 20,
            lang: None,
            highlight: false,
            ranking: RankingMode::Default,
            explain: false,
        }
    }
}

impl SearchRequest {
    /// Checks the limits and ranges; the error names the offending parameter.
    pub fn validate(&self) -> Result<()> {
        self.validated_filter().map(drop)
    }

    /// [`validate`](Self::validate), returning the filter expression resolved against the
    /// built-in fields: a search resolves it once.
    pub fn validated_filter(&self) -> Result<Option<Resolved>> {
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
        if let Some(lang) = &self.lang {
            if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(Error::invalid("lang", "must be a two-letter ISO 639-1 code such as `en`"));
            }
        }
        let filter = self
            .filter
            .as_ref()
            .map(Filter::resolve)
            .transpose()
            .map_err(|e| Error::invalid("filter", e.to_string()))?;
        self.filters.validate()?;
        Ok(filter)
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

/// Facets that can be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FacetField {
    /// Counts by brand.
    Brand,
    /// Counts by top-level category, or one level below the category filter when one is set.
    Category,
}

impl FacetField {
    /// The facets' names.
    pub const NAMES: [&'static str; 2] = ["brand", "category"];

    /// The facet's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Brand => "brand",
            Self::Category => "category",
        }
    }
}

impl FromStr for FacetField {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "brand" => Ok(Self::Brand),
            "category" => Ok(Self::Category),
            other => Err(Error::invalid(
                "facets",
                format!("unknown facet `{other}`, expected one of: {}", Self::NAMES.join(", ")),
            )),
        }
    }
}

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    /// Best match first (the default).
    Relevance,
    /// Cheapest first; products without a price last.
    PriceAsc,
    /// Most expensive first; products without a price last.
    PriceDesc,
    /// Highest rating first.
    Rating,
    /// Most recently updated first.
    Newest,
}

impl SortBy {
    /// The orders' names.
    pub const NAMES: [&'static str; 5] = ["relevance", "price_asc", "price_desc", "rating", "newest"];
}

impl FromStr for SortBy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "relevance" => Self::Relevance,
            "price_asc" | "price:asc" => Self::PriceAsc,
            "price_desc" | "price:desc" => Self::PriceDesc,
            "rating" | "rating:desc" => Self::Rating,
            "newest" | "updated_at:desc" => Self::Newest,
            other => {
                return Err(Error::invalid(
                    "sort",
                    format!("unknown sort `{other}`, expected one of: {}", Self::NAMES.join(", ")),
                ));
            }
        })
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
    /// Facet name → value counts, most frequent first.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    /// Time the search took in the index, milliseconds.
    pub took_ms: f64,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
/// One facet value and how many matching products have it.
pub struct FacetCount {
    /// The brand, or the category path segment.
    pub value: String,
    /// Matching products with that value.
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_their_parameter() {
        let bad = |f: fn(&mut SearchRequest)| {
            let mut r = SearchRequest::default();
            f(&mut r);
            r.validate().unwrap_err().param().to_string()
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
    fn sort_names_parse() {
        for name in SortBy::NAMES {
            name.parse::<SortBy>().unwrap();
        }
        assert_eq!("colour".parse::<SortBy>().unwrap_err().param(), "sort");
    }
}
