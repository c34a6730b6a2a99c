//! Writes over HTTP: put, get, delete, bulk (JSON array and NDJSON) with per-item results.

use axum::http::{Method, StatusCode};

use crate::{app, call, get, send_json};

#[tokio::test]
async fn put_get_search_delete() {
    let app = app(false);
    let reply = send_json(
        &app,
        Method::PUT,
        "/v1/products/p-1?refresh=true",
        r#"{"title": "Akku-Bohrschrauber 18V", "brand": "Bosch", "language": "de", "price": 99.5}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["result"], "applied");
    assert_eq!(reply.json["version"], 1);

    let reply = get(&app, "/v1/products/p-1").await;
    assert_eq!(reply.json["title"], "Akku-Bohrschrauber 18V");
    assert_eq!(reply.json["version"], 1);

    let reply = get(&app, "/v1/products/search?q=bohrschrauber").await;
    assert_eq!(reply.json["total_hits"], 1);

    let reply = send_json(
        &app,
        Method::PUT,
        "/v1/products/p-1?refresh=true",
        r#"{"id": "p-1", "title": "Akku-Bohrschrauber 12V", "version": 7}"#,
    )
    .await;
    assert_eq!(reply.json["version"], 7);
    let reply = send_json(&app, Method::PUT, "/v1/products/p-1", r#"{"title": "stale", "version": 3}"#).await;
    assert_eq!(reply.json["result"], "stale", "{}", reply.json);
    assert_eq!(reply.json["current"], 7);

    let reply = call(&app, Method::DELETE, "/v1/products/p-1?refresh=true", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["version"], 8);
    assert_eq!(get(&app, "/v1/products/p-1").await.status, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, Method::DELETE, "/v1/products/p-1", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bulk_reports_every_item_and_keeps_the_good_ones() {
    let app = app(false);
    let body = r#"[
        {"id": "a", "title": "Claw Hammer"},
        {"id": "b", "title": "Tape Measure", "price": "free"},
        {"title": "no id"},
        {"id": "c", "title": "Circular Saw", "rating": 4.5}
    ]"#;
    let reply = send_json(&app, Method::POST, "/v1/products/bulk?refresh=true", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!((reply.json["applied"].as_u64(), reply.json["failed"].as_u64()), (Some(2), Some(2)));
    let items = reply.json["items"].as_array().unwrap();
    assert_eq!(items[1]["error"]["code"], "invalid_document");
    assert!(items[1]["error"]["message"].as_str().unwrap().contains("price"));
    assert!(items[2]["error"]["message"].as_str().unwrap().contains("id"));
    assert_eq!(items[3]["result"], "applied");
    assert_eq!(get(&app, "/v1/products/search?q=saw").await.json["total_hits"], 1);

    let ndjson = "{\"id\": \"d\", \"title\": \"Sofa\"}\nnot json\n\n{\"id\": \"a\", \"title\": \"Claw Hammer\", \"version\": 1}\n";
    let reply =
        call(&app, Method::POST, "/v1/products/bulk?refresh=true", Some(("application/x-ndjson", ndjson))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let items = reply.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["result"], "applied");
    assert_eq!(items[1]["error"]["code"], "malformed_json");
    assert_eq!(items[2]["result"], "unchanged");
    assert_eq!(get(&app, "/v1/products/d").await.json["title"], "Sofa");
}

/// Brand and category names with `/` (the facet path separator) stay whole in facets and filters.
#[tokio::test]
async fn slashes_in_brand_names_survive_facets_and_filters() {
    let app = app(false);
    let body = r#"[{"id": "a", "title": "Amplifier", "brand": "AC/DC Audio", "category": ["Audio", "Amps/Preamps"]},
                   {"id": "b", "title": "Amplifier stand", "brand": "Other"}]"#;
    assert_eq!(send_json(&app, Method::POST, "/v1/products/bulk?refresh=true", body).await.status, StatusCode::OK);
    let reply = get(&app, "/v1/products/search?q=amplifier&facets=brand,category").await;
    let brands: Vec<&str> =
        reply.json["facets"]["brand"].as_array().unwrap().iter().map(|b| b["value"].as_str().unwrap()).collect();
    assert!(brands.contains(&"AC/DC Audio"), "{brands:?}");
    let reply = get(&app, "/v1/products/search?q=amplifier&brand=AC%2FDC+Audio").await;
    assert_eq!(reply.json["total_hits"], 1, "{}", reply.json);
    let reply = get(&app, "/v1/products/search?category=Audio&facets=category").await;
    assert_eq!(reply.json["facets"]["category"][0]["value"], "Amps/Preamps", "{}", reply.json);
}
