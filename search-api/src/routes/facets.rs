//! `GET /v1/products/facets/{name}`: facet value search — the values of one facet that start
//! like what was typed (with typos, as autocomplete tolerates them), counted under a search's
//! query and filters.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use searchd_catalog::typo::{autocomplete_typo_budget, bounded_distance};
use searchd_catalog::{FacetField, Filters, fold};
use serde::Serialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::middleware::auth::Tenant;
use crate::routes::products::parse_search_query;
use crate::state::AppState;

/// Parameters of `GET /v1/products/facets/{name}` of its own; the search's are `query` (its
/// text), `filter`, `lang` and the filter parameters ([`Filters::NAMES`]).
pub const FACET_SEARCH_OWN_PARAMS: [&str; 4] = ["q", "limit", "disjunctive", "query"];

/// Every parameter `GET /v1/products/facets/{name}` accepts.
pub fn facet_search_params() -> Vec<&'static str> {
    let mut all = FACET_SEARCH_OWN_PARAMS.to_vec();
    all.extend(["filter", "lang"]);
    all.extend(Filters::NAMES);
    all
}

/// Most values one facet search returns.
pub const MAX_FACET_HITS: usize = 100;

/// One value found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacetHit {
    /// The value (a brand, a category path segment, a keyword, `true` / `false`).
    pub value: String,
    /// Products with it among the search's matches.
    pub count: u64,
    /// Typos between what was typed and the value's matching words.
    pub typos: u8,
}

/// `GET /v1/products/facets/{name}`'s answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacetSearchResponse {
    /// The facet searched.
    pub facet: String,
    /// What was typed.
    pub q: String,
    /// Fewest typos first, then most frequent.
    pub values: Vec<FacetHit>,
    /// Milliseconds it took.
    pub took_ms: f64,
}

/// Query parameters of `GET /v1/products/facets/{name}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the parameters facet_search reads")]
pub struct FacetSearchParams {
    /// What was typed: values with a word starting like it (typos tolerated from 4
    /// characters); empty lists the most frequent.
    #[param(example = "mak")]
    q: Option<String>,
    /// Values to return (default 10, at most 100).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
    /// Count without the search's own clauses on this facet (checkbox facets).
    disjunctive: Option<bool>,
    /// The search's query text, as `q` of a product search.
    query: Option<String>,
    /// The search's filter expression.
    filter: Option<String>,
    /// The search's brand filter; repeat for several.
    brand: Option<Vec<String>>,
    /// The search's category path prefix.
    category: Option<String>,
    price_min: Option<f64>,
    price_max: Option<f64>,
    min_rating: Option<f64>,
    in_stock: Option<bool>,
    /// The query's language (ISO 639-1).
    lang: Option<String>,
}

/// Facet value search: a storefront's "search brands…" box, counted under the shopper's current
/// search. Brand, category, keyword and boolean facets; a tenant's counts are over its own
/// products.
#[utoipa::path(get, path = "/v1/products/facets/{name}", tag = "products",
    params(("name" = String, Path, description = "A facet: brand, category, or a facetable keyword or boolean attribute"),
           FacetSearchParams),
    responses(
        (status = 200, description = "Matching values with counts", body = FacetSearchResponse,
         example = json!({"facet": "brand", "q": "mak", "took_ms": 1.9,
            "values": [{"value": "Makita", "count": 212, "typos": 0}, {"value": "Makers", "count": 3, "typos": 1}]})),
        (status = 400, description = "Unknown or bad parameter, a facet that is not searchable; the code names it", body = ErrorBody)))]
pub async fn facet_search(
    State(state): State<AppState>,
    tenant: Tenant,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<FacetSearchResponse>> {
    let started = std::time::Instant::now();
    let Path(name) = path.map_err(|e| ApiError::new(Code::InvalidFacetSearchParam("name".into()), e.body_text()))?;
    let invalid = |param: &str, reason: String| {
        ApiError::new(Code::InvalidFacetSearchParam(param.into()), format!("invalid `{param}`: {reason}"))
            .with_field(param)
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::new(Code::UnknownFacetSearchParameter, format!("the query string is malformed: {e}")))?;
    let (mut q, mut limit, mut disjunctive) = (String::new(), 10, false);
    let mut search = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "q" => q = value,
            "limit" => {
                limit = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_FACET_HITS).contains(n))
                    .ok_or_else(|| invalid("limit", format!("`{value}` is not a whole number from 1 to 100")))?
            }
            "disjunctive" => {
                disjunctive = match value.trim() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    other => return Err(invalid("disjunctive", format!("`{other}` is not true or false"))),
                }
            }
            "query" => search.push(("q".to_string(), value)),
            k if facet_search_params().contains(&k) => search.push((key, value)),
            other => {
                return Err(ApiError::new(
                    Code::UnknownFacetSearchParameter,
                    format!("unknown parameter `{other}`, expected one of: {}", facet_search_params().join(", ")),
                )
                .with_field(other));
            }
        }
    }
    if q.chars().count() > searchd_autocomplete::MAX_INPUT_CHARS {
        return Err(invalid("q", format!("at most {} characters", searchd_autocomplete::MAX_INPUT_CHARS)));
    }
    let mut request = parse_search_query(&serde_urlencoded::to_string(&search).map_err(ApiError::internal)?)?;
    let facet: FacetField = name.parse().map_err(|e: searchd_catalog::Error| invalid("name", e.to_string()))?;
    request.facets = vec![facet.clone()];
    if disjunctive {
        request.disjunctive = vec![facet];
    }
    request.tenant = tenant.checked(&state.index.settings().settings)?;
    let index = state.index.clone();
    let typed = q.clone();
    let found = tokio::task::spawn_blocking(move || index.facet_values(&request, &matcher(&typed), limit))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match ApiError::from(e) {
            e if e.code == Code::InvalidSearchParam("facets".into()) => {
                ApiError::new(Code::InvalidFacetSearchParam("name".into()), e.message).with_field("name")
            }
            e => e,
        })?;
    let values = found.into_iter().map(|(v, typos)| FacetHit { value: v.value, count: v.count, typos }).collect();
    Ok(Json(FacetSearchResponse { facet: name, q, values, took_ms: started.elapsed().as_secs_f64() * 1e3 }))
}

/// Whether a value has a word starting like `typed`, and with how many typos (as autocomplete
/// counts them: none under 4 characters, one from 4, two from 8, the first letter matching);
/// case and accents aside.
fn matcher(typed: &str) -> impl Fn(&str) -> Option<u8> + use<> {
    let typed = fold(typed.trim());
    let length = typed.chars().count();
    let budget = autocomplete_typo_budget(length);
    move |value: &str| {
        if typed.is_empty() {
            return Some(0);
        }
        let value = fold(value);
        let mut best: Option<u8> = None;
        let mut previous = ' ';
        for (at, c) in value.char_indices() {
            let starts_word = at == 0 || !previous.is_alphanumeric();
            previous = c;
            if !starts_word || !c.is_alphanumeric() {
                continue;
            }
            let rest = &value[at..];
            if rest.starts_with(&typed) {
                return Some(0);
            }
            // Typos only after a first letter that matches, as autocomplete has them.
            if budget == 0 || rest.chars().next() != typed.chars().next() {
                continue;
            }
            // The value's prefix as long as what was typed, give or take the budget.
            for extra in 0..=usize::from(budget) * 2 {
                let chars = (length + extra).saturating_sub(usize::from(budget));
                let end = rest.char_indices().nth(chars).map_or(rest.len(), |(i, _)| i);
                if let Some(typos) = bounded_distance(&typed, &rest[..end], budget) {
                    best = Some(best.map_or(typos, |b| b.min(typos)));
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::matcher;

    #[test]
    fn values_match_by_word_prefix_with_typos_from_four_characters() {
        assert_eq!(matcher("mak")("Makita"), Some(0));
        assert_eq!(matcher("dec")("Black & Decker"), Some(0));
        assert_eq!(matcher("")("anything"), Some(0));
        assert_eq!(matcher("mka")("Makita"), None, "no typos under 4 characters");
        assert_eq!(matcher("makt")("Makita"), Some(1));
        assert_eq!(matcher("décker")("BLACK+DECKER"), Some(0));
        assert_eq!(matcher("bosch")("Makita"), None);
        assert_eq!(matcher("lack")("Black"), None, "words start where they start");
    }
}
