//! Requests for information over HTTP with the demo catalog and vendors: writes and their
//! errors, the request search, and a vendor's open requests agreeing with vendor matching.

use axum::Router;
use axum::http::Method;
use searchd_api::{AppState, router};
use searchd_engine::demo;
use serde_json::{Value, json};

use super::{call, get, send_json};

fn market() -> Router {
    let config = crate::config();
    let state = AppState::with_index(crate::common::small_index(true), &config).unwrap();
    demo::load_vendors(&state.vendors).unwrap();
    router(state, &config.http)
}

async fn put(app: &Router, id: &str, body: &Value) -> crate::Reply {
    send_json(app, Method::PUT, &format!("/v1/rfis/{id}?refresh=true"), &body.to_string()).await
}

/// New York, where vendor-001 (power tools) serves 15 km around.
fn drills() -> Value {
    json!({"title": "Drill repairs", "category": "Tools/Power Tools",
        "description": "repairs of cordless drills and batteries for a building site",
        "location": {"lat": 40.65, "lon": -74.07}, "quantity": 5, "budget": 1000,
        "needed_by": "2099-01-01T00:00:00Z", "created_at": "2026-12-01T09:00:00Z"})
}

fn ids(json: &Value) -> Vec<String> {
    json["hits"].as_array().unwrap().iter().map(|h| h["rfi"]["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn requests_are_written_searched_and_matched_in_reverse() {
    let app = market();
    let written = put(&app, "r-1", &drills()).await;
    assert_eq!(written.status, 200, "{:?}", written.json);
    let mut closed = drills();
    closed["status"] = json!("closed");
    assert_eq!(put(&app, "r-2", &closed).await.status, 200);
    let mut paris = drills();
    paris["location"] = json!({"lat": 48.86, "lon": 2.34});
    assert_eq!(put(&app, "r-3", &paris).await.status, 200);
    let mut bad = drills();
    bad["location"]["lat"] = json!(91);
    let refused = put(&app, "r-4", &bad).await;
    assert_eq!(
        (refused.status.as_u16(), refused.json["field"].as_str()),
        (422, Some("location.lat")),
        "{:?}",
        refused.json
    );
    let unknown =
        put(&app, "r-4", &json!({"category": "A", "description": "x", "location": {"lat": 1, "lon": 2}, "colour": 1}))
            .await;
    assert_eq!((unknown.status.as_u16(), unknown.json["field"].as_str()), (422, Some("colour")), "{:?}", unknown.json);
    assert_eq!(get(&app, "/v1/rfis/r-1").await.json["quantity"], 5);
    assert_eq!(get(&app, "/v1/rfis/nope").await.json["code"], "rfi_not_found");

    let bulk = call(
        &app,
        Method::POST,
        "/v1/rfis/bulk?refresh=true",
        Some(("application/x-ndjson", "{\"id\":\"r-5\",\"category\":\"Home/Furniture\",\"description\":\"oak tables\",\"location\":{\"lat\":40.7,\"lon\":-74.0}}\n{\"id\":\"r-6\",\"category\":\"Home\",\"description\":\"\",\"location\":{\"lat\":40.7,\"lon\":-74.0}}\n")),
    )
    .await;
    assert_eq!(bulk.status, 200, "{:?}", bulk.json);
    let items = bulk.json["items"].as_array().unwrap();
    assert_eq!(
        (items[0]["result"].as_str(), items[1]["error"]["field"].as_str()),
        (Some("applied"), Some("description"))
    );

    // The search: words (stemmed), state, area, category, dates.
    let found = get(&app, "/v1/rfis/search?q=drill").await;
    assert_eq!(found.status, 200, "{:?}", found.json);
    let mut open = ids(&found.json);
    open.sort();
    assert_eq!(open, ["r-1", "r-3"]);
    assert_eq!(ids(&get(&app, "/v1/rfis/search?q=drill&status=closed").await.json), ["r-2"]);
    let near = get(&app, "/v1/rfis/search?near=40.7,-74.0&radius_km=50&sort=distance").await;
    assert_eq!(ids(&near.json), ["r-5", "r-1"], "{:?}", near.json);
    assert!(near.json["hits"][0]["distance_km"].as_f64().unwrap() < 1.0);
    assert_eq!(ids(&get(&app, "/v1/rfis/search?category=Home").await.json), ["r-5"]);
    let dated = get(&app, "/v1/rfis/search?needed_before=2100-01-01T00:00:00Z&needed_after=2098-01-01T00:00:00Z").await;
    assert_eq!(dated.json["total_hits"], 2, "{:?}", dated.json);
    for (query, code) in [
        ("near=91,0", "invalid_rfi_search_near"),
        ("radius_km=5", "invalid_rfi_search_radius_km"),
        ("sort=distance", "invalid_rfi_search_sort"),
        ("status=pending", "invalid_rfi_search_status"),
        ("needed_after=tomorrow", "invalid_rfi_search_needed_after"),
        ("per_page=0", "invalid_rfi_search_per_page"),
        ("colour=red", "unknown_rfi_search_parameter"),
    ] {
        let reply = get(&app, &format!("/v1/rfis/search?{query}")).await;
        assert_eq!(
            (reply.status.as_u16(), reply.json["code"].as_str()),
            (400, Some(code)),
            "{query}: {:?}",
            reply.json
        );
    }

    // Reverse matching: vendor-001 serves r-1 (not the closed r-2, not Paris's r-3), with the
    // breakdown vendor matching gives it for the same request.
    let mine = get(&app, "/v1/vendors/vendor-001/rfis").await;
    assert_eq!(mine.status, 200, "{:?}", mine.json);
    assert_eq!(ids(&mine.json), ["r-1"]);
    let mut request = drills();
    request.as_object_mut().unwrap().retain(|k, _| !["title", "created_at"].contains(&k.as_str()));
    let matched = send_json(&app, Method::POST, "/v1/vendors/match", &request.to_string()).await;
    let forward = matched.json["hits"].as_array().unwrap().iter().find(|h| h["vendor"]["id"] == "vendor-001").unwrap();
    assert_eq!(mine.json["hits"][0]["breakdown"], forward["breakdown"]);
    assert_eq!(mine.json["hits"][0]["score"], forward["score"]);
    // Every vendor matching lists for r-1 lists r-1 too.
    for hit in matched.json["hits"].as_array().unwrap() {
        let id = hit["vendor"]["id"].as_str().unwrap();
        let theirs = get(&app, &format!("/v1/vendors/{id}/rfis?limit=100")).await;
        assert!(ids(&theirs.json).contains(&"r-1".to_string()), "{id}: {:?}", theirs.json);
    }
    assert_eq!(get(&app, "/v1/vendors/nobody/rfis").await.json["code"], "vendor_not_found");
    let zero = get(&app, "/v1/vendors/vendor-001/rfis?limit=0").await;
    assert_eq!((zero.status.as_u16(), zero.json["code"].as_str()), (400, Some("invalid_rfi_search_limit")));

    assert_eq!(call(&app, Method::DELETE, "/v1/rfis/r-1?refresh=true", None).await.status, 200);
    assert_eq!(ids(&get(&app, "/v1/vendors/vendor-001/rfis").await.json), Vec::<String>::new());
    assert_eq!(call(&app, Method::DELETE, "/v1/rfis/r-1", None).await.status, 404);
}
