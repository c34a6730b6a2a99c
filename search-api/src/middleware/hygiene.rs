//! HTTP hygiene around every route: query-string length and request time limits (answered with
//! the API's JSON errors), security headers, CORS from an allow-list, and compression.

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::HttpConfig;
use crate::error::{ApiError, Code};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_query_bytes: usize,
    pub timeout: Duration,
}

impl Limits {
    pub fn from_config(http: &HttpConfig) -> Self {
        Self { max_query_bytes: http.max_query_bytes, timeout: Duration::from_millis(http.request_timeout_ms) }
    }
}

/// Refuses over-long query strings; answers 503 `request_timeout` when the handler overruns.
/// (A search already running on the blocking pool finishes there; its answer is dropped.)
pub async fn limits(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let query = request.uri().query().map_or(0, str::len);
    if query > limits.max_query_bytes {
        let message = format!("the query string is {query} bytes; at most {} are accepted", limits.max_query_bytes);
        return ApiError::new(Code::UriTooLong, message).into_response();
    }
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            Code::RequestTimeout,
            format!("the request was not answered within {} ms", limits.timeout.as_millis()),
        )
        .into_response(),
    }
}

/// Response headers every answer carries unless the route set its own (the web page sets a
/// CSP that allows its script and style).
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
];

/// Wraps the application in the security headers, CORS (when origins are configured) and
/// compression (when on).
pub fn wrap(mut app: Router, http: &HttpConfig) -> Router {
    for (name, value) in SECURITY_HEADERS {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    if !http.cors_origins.is_empty() {
        let origins = if http.cors_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            // Validated by the configuration.
            AllowOrigin::list(http.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        };
        app = app.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, HeaderName::from_static("x-api-key")])
                .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
                .max_age(Duration::from_secs(600)),
        );
    }
    if http.compression {
        app = app.layer(CompressionLayer::new().gzip(true).br(true));
    }
    app
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn slow_handlers_get_a_json_503() {
        let limits = Limits { max_query_bytes: 256, timeout: Duration::from_millis(50) };
        let app = Router::new()
            .route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(5)).await }))
            .route("/fast", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(limits, super::limits));
        let call = |uri: &str| app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap());
        let slow = call("/slow").await.unwrap();
        assert_eq!(slow.status(), 503);
        let body = slow.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "request_timeout");
        assert_eq!(call("/fast").await.unwrap().status(), 200);
        let long = format!("/fast?q={}", "a".repeat(300));
        let too_long = call(&long).await.unwrap();
        assert_eq!(too_long.status(), 414);
    }
}
