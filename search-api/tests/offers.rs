//! Offer routes over the demo catalog and vendors: writes that name an unknown product or
//! vendor, and product search near a shopper with its best offers and their errors.

use axum::Router;
use axum::http::Method;
use searchd_api::{AppState, router};
use searchd_engine::demo;
use serde_json::{Value, json};

use super::{call, get, send_json};

/// The demo catalog and vendors; New York's first vendor serves 15 km around (40.6428, -74.076).
fn market() -> Router {
    let config = crate::config();
    let state = AppState::with_index(crate::common::small_index(true), &config).unwrap();
    demo::load_vendors(&state.vendors).unwrap();
    router(state, &config.http)
}

const NEW_YORK: &str = "40.65,-74.07";

async fn put(app: &Router, id: &str, body: Value) -> crate::Reply {
    send_json(app, Method::PUT, &format!("/v1/offers/{id}?refresh=true"), &body.to_string()).await
}

fn hits(json: &Value) -> Vec<(String, String, f64)> {
    json["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let offer = &h["offer"]["offer"];
            (
                h["product"]["id"].as_str().unwrap().into(),
                offer["id"].as_str().unwrap().into(),
                offer["price"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn offers_are_written_checked_and_found_near_a_shopper() {
    let app = market();
    let unknown = put(&app, "o-x", json!({"product_id": "nope", "vendor_id": "vendor-001", "price": 5})).await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.json["field"].as_str()),
        (422, Some("product_id")),
        "{:?}",
        unknown.json
    );
    assert!(unknown.json["message"].as_str().unwrap().contains("`nope` does not exist"));
    let unknown = put(&app, "o-x", json!({"product_id": "demo-0001", "vendor_id": "nobody", "price": 5})).await;
    assert_eq!((unknown.status.as_u16(), unknown.json["field"].as_str()), (422, Some("vendor_id")));
    let bad = put(&app, "o-x", json!({"product_id": "demo-0001", "vendor_id": "vendor-001", "price": -1})).await;
    assert_eq!((bad.status.as_u16(), bad.json["field"].as_str()), (422, Some("price")));
    let missing = put(&app, "o-x", json!({"product_id": "demo-0001", "vendor_id": "vendor-001"})).await;
    assert_eq!((missing.status.as_u16(), missing.json["field"].as_str()), (422, Some("price")));

    let offer = |product: &str, price: f64, stock: u64, lead: u32| json!({"product_id": product, "vendor_id": "vendor-001", "price": price, "stock": stock, "lead_time_days": lead});
    for (id, body) in [
        ("o-1", offer("demo-0001", 99.0, 4, 5)),
        ("o-2", offer("demo-0001", 89.0, 0, 1)),
        ("o-3", offer("demo-0002", 59.5, 2, 1)),
    ] {
        let written = put(&app, id, body).await;
        assert_eq!(written.status, 200, "{:?}", written.json);
    }
    assert_eq!(get(&app, "/v1/offers/o-3").await.json["price"], 59.5);
    // A product page's offers: in stock only, with the seller's name and, near a shopper, the distance.
    let listed = get(&app, &format!("/v1/products/demo-0001/offers?near={NEW_YORK}")).await;
    assert_eq!(listed.status, 200, "{:?}", listed.json);
    assert_eq!((listed.json["total"].as_u64(), listed.json["hits"][0]["offer"]["id"].as_str()), (Some(1), Some("o-1")));
    assert_eq!(listed.json["hits"][0]["vendor_name"], "New York Power Tools Supply");
    assert!(listed.json["hits"][0]["distance_km"].as_f64().unwrap() < 2.0);
    assert_eq!(get(&app, "/v1/products/demo-0001/offers").await.json["total"], 1);
    assert_eq!(get(&app, "/v1/products/demo-0001/offers?near=-33.9,151.2").await.json["total"], 0);
    assert_eq!(get(&app, "/v1/products/nope/offers").await.json["code"], "product_not_found");
    for (query, code) in [
        ("limit=0", "invalid_search_limit"),
        ("offer_sort=distance", "invalid_search_offer_sort"),
        ("near=91,0", "invalid_search_near"),
        ("colour=red", "unknown_search_parameter"),
    ] {
        let reply = get(&app, &format!("/v1/products/demo-0001/offers?{query}")).await;
        assert_eq!((reply.status.as_u16(), reply.json["code"].as_str()), (400, Some(code)), "{query}");
    }

    let near = get(&app, &format!("/v1/products/search?near={NEW_YORK}&sort=price:asc")).await;
    assert_eq!(near.status, 200, "{:?}", near.json);
    // o-2 is out of stock: demo-0001's best is o-1.
    assert_eq!(hits(&near.json), [("demo-0002".into(), "o-3".into(), 59.5), ("demo-0001".into(), "o-1".into(), 99.0)]);
    let first = &near.json["hits"][0]["offer"];
    assert_eq!(first["serving_offers"], 1);
    assert!(first["distance_km"].as_f64().unwrap() < 2.0, "{first}");
    let fast =
        get(&app, &format!("/v1/products/search?near={NEW_YORK}&filter=offer.lead_time_days%20%3C%3D%202")).await;
    assert_eq!(hits(&fast.json), [("demo-0002".into(), "o-3".into(), 59.5)]);
    // Sellers as a facet, and the price stats of the best offers (59.5 and 99, not the list prices).
    let faceted = get(&app, &format!("/v1/products/search?near={NEW_YORK}&facets=vendor,price")).await;
    assert_eq!(faceted.status, 200, "{:?}", faceted.json);
    assert_eq!(faceted.json["facets"]["vendor"], json!([{"value": "vendor-001", "count": 2}]));
    let stats = &faceted.json["facet_stats"]["price"];
    assert_eq!(
        (stats["count"].as_u64(), stats["min"].as_f64(), stats["max"].as_f64()),
        (Some(2), Some(59.5), Some(99.0))
    );
    let far_facet = get(&app, "/v1/products/search?facets=vendor").await;
    assert_eq!(
        (far_facet.status.as_u16(), far_facet.json["code"].as_str()),
        (400, Some("invalid_search_facets")),
        "{:?}",
        far_facet.json
    );
    // Near a shopper `price` is the offers'; far away, nothing serves.
    let cheap = get(&app, &format!("/v1/products/search?near={NEW_YORK}&price_max=60")).await;
    assert_eq!(hits(&cheap.json).len(), 1);
    let far = get(&app, "/v1/products/search?near=-33.9,151.2").await;
    assert_eq!(far.json["total_hits"], 0);

    let bulk = call(
        &app,
        Method::POST,
        "/v1/offers/bulk?refresh=true",
        Some(("application/x-ndjson", "{\"id\":\"o-4\",\"product_id\":\"demo-0003\",\"vendor_id\":\"vendor-001\",\"price\":1,\"stock\":1}\n{\"id\":\"o-5\",\"product_id\":\"gone\",\"vendor_id\":\"vendor-001\",\"price\":1}\n")),
    )
    .await;
    assert_eq!(bulk.status, 200, "{:?}", bulk.json);
    let items = bulk.json["items"].as_array().unwrap();
    assert_eq!(items[0]["result"], "applied", "{items:?}");
    assert_eq!(items[1]["error"]["field"], "product_id", "{items:?}");

    let deleted = call(&app, Method::DELETE, "/v1/offers/o-3?refresh=true", None).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(get(&app, "/v1/offers/o-3").await.json["code"], "offer_not_found");
    assert_eq!(call(&app, Method::DELETE, "/v1/offers/o-3", None).await.status, 404);
}

#[tokio::test]
async fn near_search_errors_name_the_parameter() {
    let app = market();
    let cases = [
        ("near=91,0", "invalid_search_near"),
        ("near=paris", "invalid_search_near"),
        ("near=48.8,2.3&offer_sort=speed", "invalid_search_offer_sort"),
        ("filter=offer.price%20%3C%2010", "invalid_search_filter"),
        ("near=48.8,2.3&filter=offer.colour%20%3D%20red", "invalid_search_filter"),
        ("near=48.8,2.3&filter=offer.price%20%3C%2010%20OR%20brand%20%3D%20Bosch", "invalid_search_filter"),
        ("sort=distance:asc", "invalid_search_sort"),
    ];
    for (query, code) in cases {
        let reply = get(&app, &format!("/v1/products/search?{query}")).await;
        assert_eq!(
            (reply.status.as_u16(), reply.json["code"].as_str()),
            (400, Some(code)),
            "{query}: {:?}",
            reply.json
        );
    }
    let by_distance = get(&app, "/v1/products/search?near=48.8,2.3&sort=distance:asc").await;
    assert_eq!(by_distance.status, 200, "{:?}", by_distance.json);
}

#[tokio::test]
async fn matching_shows_what_a_vendors_offers_can_supply() {
    let app = market();
    let written = put(
        &app,
        "o-9",
        json!({"product_id": "demo-0001", "vendor_id": "vendor-001", "price": 90, "stock": 20, "lead_time_days": 2}),
    )
    .await;
    assert_eq!(written.status, 200, "{:?}", written.json);
    let rfi = |needed_by: &str| {
        json!({"category": "Tools/Power Tools", "description": "cordless drills for a building site",
            "location": {"lat": 40.65, "lon": -74.07}, "quantity": 5, "budget": 1000, "needed_by": needed_by})
        .to_string()
    };
    let matched = send_json(&app, Method::POST, "/v1/vendors/match", &rfi("2099-01-01T00:00:00Z")).await;
    assert_eq!(matched.status, 200, "{:?}", matched.json);
    let hit = matched.json["hits"].as_array().unwrap().iter().find(|h| h["vendor"]["id"] == "vendor-001").unwrap();
    assert_eq!(hit["breakdown"]["offer_fit"], json!({"quantity": true, "budget": true, "on_time": true}));
    assert_eq!(hit["offer"]["id"], "o-9");
    assert!(hit["breakdown"]["supply"].as_f64().unwrap() > 0.2, "{hit}");
    let late = send_json(&app, Method::POST, "/v1/vendors/match", &rfi("2001-01-01T00:00:00Z")).await;
    assert_eq!(
        (late.status.as_u16(), late.json["code"].as_str()),
        (400, Some("invalid_match_needed_by")),
        "{:?}",
        late.json
    );
    assert_eq!(late.json["field"], "needed_by");
}
