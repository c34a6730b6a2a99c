//! HTTP hygiene: security headers, compression, CORS from the allow-list, query-length limit.

use std::io::Read;

use axum::body::Body;
use axum::http::Request;

use crate::common::send;
use crate::{app, app_with, get};

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = app(true);
    for uri in ["/v1/products/search?q=tent", "/v1/nowhere", "/healthz"] {
        let response = send(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
        let h = &response.headers;
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{uri}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'none'"), "{uri}");
        assert!(h.contains_key("x-request-id"), "{uri}");
    }
}

#[tokio::test]
async fn responses_are_compressed_for_clients_that_accept_it() {
    let app = app(true);
    let plain = get(&app, "/v1/products/search?q=tent&per_page=20").await.json;
    let request = |encoding: &str| {
        Request::get("/v1/products/search?q=tent&per_page=20")
            .header("accept-encoding", encoding)
            .body(Body::empty())
            .unwrap()
    };
    let response = send(&app, request("gzip")).await;
    assert_eq!(response.headers["content-encoding"], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(response.body.as_slice()).read_to_string(&mut text).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["hits"], plain["hits"]);
    assert!(response.body.len() * 3 < text.len(), "{} compressed bytes for {}", response.body.len(), text.len());
    let response = send(&app, request("br")).await;
    assert_eq!(response.headers["content-encoding"], "br");
    let response = send(&app, request("identity")).await;
    assert!(!response.headers.contains_key("content-encoding"));
}

#[tokio::test]
async fn cors_answers_allowed_origins_only() {
    let mut config = crate::config();
    config.http.cors_origins = vec!["https://shop.example".into()];
    let app = app_with(true, config);
    let preflight = |origin: &str| {
        Request::options("/v1/products/search")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-api-key")
            .body(Body::empty())
            .unwrap()
    };
    let response = send(&app, preflight("https://shop.example")).await;
    assert_eq!(response.status, 200);
    let h = &response.headers;
    assert_eq!(h["access-control-allow-origin"], "https://shop.example");
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("x-api-key"));
    let response = send(&app, preflight("https://evil.example")).await;
    assert!(!response.headers.contains_key("access-control-allow-origin"));
    let request =
        Request::get("/v1/products/search?q=tent").header("origin", "https://shop.example").body(Body::empty());
    let response = send(&app, request.unwrap()).await;
    assert_eq!(response.headers["access-control-allow-origin"], "https://shop.example");

    // No origins configured: no CORS headers at all.
    let response = send(&app_with(true, crate::config()), preflight("https://shop.example")).await;
    assert!(!response.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn over_long_query_strings_get_414() {
    let app = app(true);
    let reply = get(&app, &format!("/v1/products/search?q={}", "drill+".repeat(2_000))).await;
    assert_eq!(reply.status, 414);
    assert_eq!(reply.json["code"], "uri_too_long");
    assert!(reply.json["message"].as_str().unwrap().contains("8192"), "{}", reply.json);
}
