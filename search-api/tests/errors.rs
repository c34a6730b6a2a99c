//! Every malformed input gets a 4xx JSON error `{code, type, message}` naming what was wrong.

use axum::http::{Method, StatusCode};

use crate::{Reply, app, call, get, send_json};

fn assert_error(reply: &Reply, status: StatusCode, code: &str, names: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert!(reply.content_type.starts_with("application/json"), "content type {}", reply.content_type);
    assert_eq!(reply.json["code"], code, "{}", reply.json);
    assert_eq!(reply.json["type"], "invalid_request", "{}", reply.json);
    let message = reply.json["message"].as_str().unwrap();
    assert!(message.contains(names), "message {message:?} should name {names:?}");
}

#[tokio::test]
async fn bad_get_search_parameters_are_named() {
    let app = app(false);
    let cases = [
        ("sort=colour", "invalid_search_sort", "colour"),
        ("page=-1", "invalid_search_page", "page"),
        ("page=0", "invalid_search_page", "page"),
        ("per_page=500", "invalid_search_per_page", "per_page"),
        ("per_page=abc", "invalid_search_per_page", "per_page"),
        ("price_min=cheap", "invalid_search_price_min", "price_min"),
        ("price_max=1e999", "invalid_search_price_max", "price_max"),
        ("price_min=50&price_max=10", "invalid_search_price_min", "price_max"),
        ("min_rating=9", "invalid_search_min_rating", "min_rating"),
        ("in_stock=maybe", "invalid_search_in_stock", "in_stock"),
        ("facets=colour", "invalid_search_facets", "colour"),
        ("lang=english", "invalid_search_lang", "lang"),
        ("lang=xx", "invalid_search_lang", "xx"),
        ("highlight=yes", "invalid_search_highlight", "highlight"),
        ("page=2&page=3", "invalid_search_page", "more than once"),
        ("page=30&per_page=50", "invalid_search_page", "1000"),
        ("colour=red", "unknown_search_parameter", "colour"),
        ("price_minimum=3", "unknown_filter_field", "price_minimum"),
    ];
    for (query, code, names) in cases {
        let reply = get(&app, &format!("/v1/products/search?q=drill&{query}")).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, code, names);
    }
    let long = "x".repeat(600);
    assert_error(
        &get(&app, &format!("/v1/products/search?q={long}")).await,
        StatusCode::BAD_REQUEST,
        "invalid_search_q",
        "512",
    );
}

#[tokio::test]
async fn bad_post_search_bodies_are_named() {
    let app = app(false);
    let uri = "/v1/products/search";
    let cases = [
        (r#"{"q": "drill""#, StatusCode::BAD_REQUEST, "malformed_json", "JSON"),
        (r#"{"q": "drill"} trailing"#, StatusCode::BAD_REQUEST, "malformed_json", "JSON"),
        (r#"{"q": "drill", "sort": "colour"}"#, StatusCode::BAD_REQUEST, "invalid_search_sort", "colour"),
        (r#"{"q": "drill", "page": -1}"#, StatusCode::BAD_REQUEST, "invalid_search_page", "page"),
        (r#"{"q": "drill", "per_page": 1000}"#, StatusCode::BAD_REQUEST, "invalid_search_per_page", "per_page"),
        (
            r#"{"q": "drill", "filters": {"price_min": "abc"}}"#,
            StatusCode::BAD_REQUEST,
            "invalid_search_price_min",
            "price_min",
        ),
        (r#"{"q": "drill", "filters": {"colour": "red"}}"#, StatusCode::BAD_REQUEST, "unknown_filter_field", "colour"),
        (r#"{"q": "drill", "colour": "red"}"#, StatusCode::BAD_REQUEST, "unknown_search_parameter", "colour"),
        (r#"{"q": "drill", "facets": ["colour"]}"#, StatusCode::BAD_REQUEST, "invalid_search_facets", "colour"),
        (r#"["drill"]"#, StatusCode::BAD_REQUEST, "invalid_search_body", "object"),
    ];
    for (body, status, code, names) in cases {
        let reply = send_json(&app, Method::POST, uri, body).await;
        assert_error(&reply, status, code, names);
    }
    let reply = call(&app, Method::POST, uri, Some(("text/plain", r#"{"q":"x"}"#))).await;
    assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_content_type", "text/plain");
    let reply = call(&app, Method::POST, uri, None).await;
    assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "missing_content_type", "Content-Type");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = app(false);
    let big = format!(r#"{{"q": "{}"}}"#, "a".repeat(2 << 20));
    let reply = send_json(&app, Method::POST, "/v1/products/search", &big).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "limit");
    let reply = send_json(&app, Method::PUT, "/v1/products/a", &big).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "limit");
}

#[tokio::test]
async fn bad_documents_and_routes() {
    let app = app(false);
    let reply = send_json(&app, Method::PUT, "/v1/products/a", r#"{"title": "Drill", "price": "cheap"}"#).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_document", "price");
    let reply = send_json(&app, Method::PUT, "/v1/products/a", r#"{"title": "Drill", "colour": "red"}"#).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_document", "colour");
    let reply = send_json(&app, Method::PUT, "/v1/products/a", r#"{"title": "  "}"#).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_document", "title");
    let reply = send_json(&app, Method::PUT, "/v1/products/a", r#"{"id": "b", "title": "Drill"}"#).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "id_mismatch", "`a`");
    let reply = send_json(&app, Method::PUT, "/v1/products/a", r#"{"title": "Drill""#).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "malformed_json", "JSON");
    let reply = send_json(&app, Method::PUT, "/v1/products/a?refresh=maybe", r#"{"title": "Drill"}"#).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_search_refresh", "refresh");
    let reply = call(&app, Method::DELETE, "/v1/products/a?version=x", None).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_search_version", "version");
    assert_error(&get(&app, "/v1/products/nope").await, StatusCode::NOT_FOUND, "product_not_found", "nope");
    assert_error(&get(&app, "/v1/nothing").await, StatusCode::NOT_FOUND, "route_not_found", "route");
    let reply = call(&app, Method::PATCH, "/v1/products/a", None).await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method");
    let reply = send_json(&app, Method::POST, "/v1/products/bulk", r#"{"id": "a"}"#).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "malformed_json", "array");
}
