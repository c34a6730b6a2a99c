//! The storefront demo page at `/`: static files embedded in the binary (no CDN, no external
//! fetches), and `/app/config.json` giving the page its search-scoped key and the demo cities.

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use searchd_engine::demo::CITIES_JSON;
use serde::Serialize;

use crate::state::AppState;

const INDEX_HTML: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const APP_CSS: &str = include_str!("../../web/app.css");
/// Parsed once (a unit test checks the file).
static CITIES: LazyLock<serde_json::Value> = LazyLock::new(|| serde_json::from_str(CITIES_JSON).unwrap_or_default());

/// The page may load its own script, style and data, and nothing else.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
                        base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The page's routes (none when `[web] enabled = false`); open, like health.
pub fn routes(state: &AppState) -> Router<AppState> {
    if !state.web.enabled {
        return Router::new();
    }
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/app.css", get(app_css))
        .route("/app/config.json", get(config))
}

fn asset(body: &'static str, content_type: &'static str, csp: Option<&'static str>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(csp) = csp {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    response
}

pub async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8", Some(PAGE_CSP))
}

pub async fn app_js() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8", None)
}

pub async fn app_css() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8", None)
}

#[derive(Debug, Serialize)]
pub struct PageConfig {
    search_key: String,
    cities: &'static serde_json::Value,
}

/// `GET /app/config.json`.
pub async fn config(State(state): State<AppState>) -> Json<PageConfig> {
    Json(PageConfig { search_key: state.web.search_key.clone(), cities: &CITIES })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_files() {
        for url in ["http://", "https://", "//"] {
            for file in [INDEX_HTML, APP_JS, APP_CSS] {
                assert!(!file.contains(&format!("src=\"{url}")) && !file.contains(&format!("href=\"{url}")));
            }
        }
        assert!(INDEX_HTML.contains("src=\"/app.js\"") && INDEX_HTML.contains("href=\"/app.css\""));
        let cities: Vec<serde_json::Value> = serde_json::from_str(CITIES_JSON).unwrap();
        assert_eq!(cities.len(), 32);
    }
}
