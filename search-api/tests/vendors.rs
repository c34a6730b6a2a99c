//! Vendor routes over the demo vendors: writes, geo search, matching, and their errors.

use axum::Router;
use axum::http::Method;
use searchd_api::{AppState, router};
use searchd_catalog::GeoPoint;
use searchd_catalog::geo::haversine_km;
use searchd_engine::demo;
use serde_json::{Value, json};

use super::{call, get, send_json};

fn vendor_app() -> Router {
    let config = crate::config();
    let state = AppState::with_index(crate::common::small_index(false), &config).unwrap();
    demo::load_vendors(&state.vendors).unwrap();
    router(state, &config.http)
}

fn ids(json: &Value) -> Vec<String> {
    json["hits"].as_array().unwrap().iter().map(|h| h["vendor"]["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn put_get_search_delete() {
    let app = vendor_app();
    let body = json!({
        "name": "Lyon Espresso Repair", "description": "Repairs espresso machines",
        "categories": ["Kitchen/Coffee"], "capabilities": "descaling, gasket replacement, grinder service",
        "location": {"lat": 45.76, "lon": 4.84}, "service_radius_km": 25, "rating": 4.8, "review_count": 120
    });
    let put = send_json(&app, Method::PUT, "/v1/vendors/lyon-1?refresh=true", &body.to_string()).await;
    assert_eq!(put.status, 200, "{:?}", put.json);
    assert_eq!(put.json["result"], "applied");
    let got = get(&app, "/v1/vendors/lyon-1").await;
    assert_eq!(got.json["name"], "Lyon Espresso Repair");
    assert_eq!(got.json["available"], true);

    let found = get(&app, "/v1/vendors/search?q=gasket&near=45.75,4.85&radius_km=10").await;
    assert_eq!(found.status, 200, "{:?}", found.json);
    assert_eq!(ids(&found.json), ["lyon-1"]);
    let d = found.json["hits"][0]["distance_km"].as_f64().unwrap();
    assert!(d > 0.5 && d < 2.0, "{d}");

    let mismatch = send_json(&app, Method::PUT, "/v1/vendors/lyon-2", &json!({"id": "x"}).to_string()).await;
    assert_eq!((mismatch.status.as_u16(), mismatch.json["code"].as_str()), (422, Some("id_mismatch")));

    let deleted = call(&app, Method::DELETE, "/v1/vendors/lyon-1?refresh=true", None).await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.json);
    let gone = get(&app, "/v1/vendors/lyon-1").await;
    assert_eq!((gone.status.as_u16(), gone.json["code"].as_str()), (404, Some("vendor_not_found")));
    let again = call(&app, Method::DELETE, "/v1/vendors/lyon-1", None).await;
    assert_eq!(again.status, 404);
    let bad_id = get(&app, "/v1/vendors/a%07b").await;
    assert_eq!(bad_id.json["code"], "invalid_vendor_id");
}

#[tokio::test]
async fn invalid_vendors_name_the_field() {
    let app = vendor_app();
    let cases = [
        (json!({"name": "A", "location": {"lat": 95, "lon": 0}, "service_radius_km": 5}), "location.lat"),
        (json!({"name": "A", "location": {"lat": 1, "lon": 0}}), "service_radius_km"),
        (json!({"name": "A", "location": {"lat": 1, "lon": 0}, "service_radius_km": 0}), "service_radius_km"),
        (json!({"name": "A", "location": {"lat": 1, "lon": 0}, "service_radius_km": 5, "rating": 7}), "rating"),
        (json!({"name": "A", "location": {"lat": "x", "lon": 0}, "service_radius_km": 5}), "location.lat"),
        (json!({"name": "A", "location": {"lat": 1, "lon": 0}, "service_radius_km": 5, "colour": 1}), "colour"),
    ];
    for (body, field) in cases {
        let reply = send_json(&app, Method::PUT, "/v1/vendors/v-bad", &body.to_string()).await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.json);
        assert_eq!(reply.json["code"], "invalid_document", "{body}: {:?}", reply.json);
        assert_eq!(reply.json["field"], field, "{body}: {:?}", reply.json);
    }
    let not_json = send_json(&app, Method::PUT, "/v1/vendors/v-bad", "{").await;
    assert_eq!((not_json.status.as_u16(), not_json.json["code"].as_str()), (400, Some("malformed_json")));
}

/// A vendor in Suva with a branch in Nadi and a delivery zone across the antimeridian (Taveuni to
/// the Lau islands): search finds it by its nearest branch, distance bands cut by that branch,
/// and matching serves a point in the zone beyond every radius, at half the distance weight.
#[tokio::test]
async fn branches_and_zones_across_the_antimeridian() {
    let app = vendor_app();
    let zone = json!({"type": "Polygon", "coordinates": [[[179.5, -16.5], [-178.5, -16.5], [-178.5, -18.5], [179.5, -18.5], [179.5, -16.5]]]});
    let body = json!({
        "name": "Suva Marine Supply", "categories": ["Marine/Engines"], "capabilities": "outboard engine repair",
        "location": {"lat": -18.14, "lon": 178.44}, "service_radius_km": 20,
        "locations": [{"lat": -17.80, "lon": 177.42, "radius_km": 15}], "service_areas": [zone]
    });
    let put = send_json(&app, Method::PUT, "/v1/vendors/fj-1?refresh=true", &body.to_string()).await;
    assert_eq!(put.status, 200, "{:?}", put.json);
    let nadi = get(&app, "/v1/vendors/search?near=-17.76,177.44&radius_km=10").await;
    assert_eq!(ids(&nadi.json), ["fj-1"], "{:?}", nadi.json);
    let hit = &nadi.json["hits"][0];
    assert_eq!(hit["nearest_branch"], json!({"lat": -17.80, "lon": 177.42}), "{hit}");
    assert!(hit["distance_km"].as_f64().unwrap() < 10.0, "{hit}");
    let band = get(&app, "/v1/vendors/search?near=-17.76,177.44&min_km=10&radius_km=500").await;
    assert!(!ids(&band.json).contains(&"fj-1".to_string()), "{:?}", band.json);

    // Lakeba, in the zone east of the antimeridian, 290 km from Suva: served by the zone only.
    let rfi = json!({"category": "Marine/Engines", "description": "outboard engine repair", "location": {"lat": -18.2, "lon": -178.8}});
    let reply = send_json(&app, Method::POST, "/v1/vendors/match", &rfi.to_string()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(ids(&reply.json), ["fj-1"], "{:?}", reply.json);
    let hit = &reply.json["hits"][0];
    assert_eq!(hit["breakdown"]["distance"], 0.1, "{hit}");
    assert_eq!(hit["nearest_branch"], json!({"lat": -18.14, "lon": 178.44}), "{hit}");
    // Who sells engines delivered to Lakeba: the zone's vendor; nobody to the open sea south of it.
    let lakeba = get(&app, "/v1/vendors/search?serves=-18.2,-178.8&near=-18.2,-178.8&category=Marine").await;
    assert_eq!(ids(&lakeba.json), ["fj-1"], "{:?}", lakeba.json);
    let sea = get(&app, "/v1/vendors/search?serves=-19.5,-178.8&category=Marine").await;
    assert_eq!(sea.json["total_hits"], 0, "{:?}", sea.json);
    // Outside the zone and every radius: no match.
    let outside = json!({"category": "Marine/Engines", "description": "outboard engine repair", "location": {"lat": -19.5, "lon": -178.8}});
    let reply = send_json(&app, Method::POST, "/v1/vendors/match", &outside.to_string()).await;
    assert!(!ids(&reply.json).contains(&"fj-1".to_string()), "{:?}", reply.json);

    // Bad branches and zones are named.
    let with = |key: &str, value: Value| {
        let mut bad = body.clone();
        bad[key] = value;
        bad
    };
    let cases = [
        (with("locations", json!([{"lat": 1, "lon": 0}, {"lat": 91, "lon": 0}])), "locations[1].lat"),
        (with("locations", json!([{"lat": 1, "lon": 0, "radius_km": 0}])), "locations[0].radius_km"),
        (with("service_areas", json!([{"type": "Point", "coordinates": [1, 2]}])), "service_areas[0].type"),
        (
            with("service_areas", json!([{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}])),
            "service_areas[0].coordinates[0]",
        ),
    ];
    for (bad, field) in cases {
        let reply = send_json(&app, Method::PUT, "/v1/vendors/fj-bad", &bad.to_string()).await;
        assert_eq!(reply.status, 422, "{bad}: {:?}", reply.json);
        assert_eq!(reply.json["field"], field, "{bad}: {:?}", reply.json);
    }
}

#[tokio::test]
async fn bulk_reports_every_item() {
    let app = vendor_app();
    let body = json!([
        {"id": "b1", "name": "One", "location": {"lat": 10, "lon": 10}, "service_radius_km": 5},
        {"id": "b2", "name": "Two", "location": {"lat": 10, "lon": 200}, "service_radius_km": 5},
        {"name": "No id", "location": {"lat": 10, "lon": 10}, "service_radius_km": 5},
        {"id": "b4", "name": "Four", "location": {"lat": 10.01, "lon": 10}, "service_radius_km": 5}
    ]);
    let reply = send_json(&app, Method::POST, "/v1/vendors/bulk?refresh=true", &body.to_string()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!((reply.json["applied"].as_u64(), reply.json["failed"].as_u64()), (Some(2), Some(2)));
    assert_eq!(reply.json["items"][1]["error"]["field"], "location.lon", "{:?}", reply.json);
    assert_eq!(reply.json["items"][1]["id"], "b2");
    assert_eq!(reply.json["items"][2]["error"]["field"], "id", "{:?}", reply.json);
    let ndjson =
        "{\"id\":\"b5\",\"name\":\"Five\",\"location\":{\"lat\":10,\"lon\":10.02},\"service_radius_km\":5}\nnot json\n";
    let reply = call(&app, Method::POST, "/v1/vendors/bulk?refresh=true", Some(("application/x-ndjson", ndjson))).await;
    assert_eq!((reply.json["applied"].as_u64(), reply.json["failed"].as_u64()), (Some(1), Some(1)), "{:?}", reply.json);
    let near = get(&app, "/v1/vendors/search?near=10,10&radius_km=5&sort=distance").await;
    assert_eq!(ids(&near.json), ["b1", "b4", "b5"]);
}

#[tokio::test]
async fn radius_search_equals_brute_force_and_sorts_by_distance() {
    let app = vendor_app();
    let vendors = demo::vendors().unwrap();
    for (lat, lon, radius) in [(48.85, 2.35, 500.0), (40.7, -74.0, 1200.0), (-30.0, 178.0, 2500.0), (0.0, 0.0, 100.0)] {
        let center = GeoPoint { lat, lon };
        let mut expected: Vec<(f64, String)> = vendors
            .iter()
            .map(|v| (haversine_km(center, v.location), v.id.clone()))
            .filter(|(d, _)| *d <= radius)
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0));
        let uri = format!("/v1/vendors/search?near={lat},{lon}&radius_km={radius}&sort=distance&per_page=100");
        let reply = get(&app, &uri).await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        assert_eq!(reply.json["total_hits"].as_u64().unwrap() as usize, expected.len(), "{uri}");
        assert_eq!(ids(&reply.json), expected.iter().map(|e| e.1.clone()).collect::<Vec<_>>(), "{uri}");
        let distances: Vec<f64> =
            reply.json["hits"].as_array().unwrap().iter().map(|h| h["distance_km"].as_f64().unwrap()).collect();
        assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{uri}: {distances:?}");
    }
    // A box across the antimeridian holds Auckland's and Suva's vendors.
    let reply = get(&app, "/v1/vendors/search?bbox=-40,170,-10,-170&per_page=100").await;
    let names: Vec<&str> =
        reply.json["hits"].as_array().unwrap().iter().map(|h| h["vendor"]["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("Auckland") || n.starts_with("Suva")), "{names:?}");
    // Category filter: the path or below it.
    let reply = get(&app, "/v1/vendors/search?category=Kitchen&per_page=100").await;
    for hit in reply.json["hits"].as_array().unwrap() {
        let categories = hit["vendor"]["categories"].as_array().unwrap();
        assert!(categories.iter().any(|c| c.as_str().unwrap().starts_with("Kitchen/")), "{hit}");
    }
    assert!(reply.json["total_hits"].as_u64().unwrap() > 10);
}

#[tokio::test]
async fn bad_search_parameters_are_named() {
    let app = vendor_app();
    let cases = [
        ("near=abc", "invalid_vendor_search_near"),
        ("near=91,0", "invalid_vendor_search_near"),
        ("near=1", "invalid_vendor_search_near"),
        ("near=1,2&radius_km=0", "invalid_vendor_search_radius_km"),
        ("near=1,2&radius_km=-3", "invalid_vendor_search_radius_km"),
        ("radius_km=10", "invalid_vendor_search_radius_km"),
        ("min_km=10", "invalid_vendor_search_min_km"),
        ("near=1,2&min_km=x", "invalid_vendor_search_min_km"),
        ("near=1,2&radius_km=5&min_km=5", "invalid_vendor_search_min_km"),
        ("serves=91,0", "invalid_vendor_search_serves"),
        ("serves=1", "invalid_vendor_search_serves"),
        ("bbox=1,2,3", "invalid_vendor_search_bbox"),
        ("bbox=5,0,1,1", "invalid_vendor_search_bbox"),
        ("sort=distance", "invalid_vendor_search_sort"),
        ("sort=price", "invalid_vendor_search_sort"),
        ("page=0", "invalid_vendor_search_page"),
        ("per_page=1000", "invalid_vendor_search_per_page"),
        ("category=Kitchen//Coffee", "invalid_vendor_search_category"),
        ("q=a&q=b", "invalid_vendor_search_q"),
        ("colour=red", "unknown_vendor_search_parameter"),
    ];
    for (query, code) in cases {
        let reply = get(&app, &format!("/v1/vendors/search?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {:?}", reply.json);
        assert_eq!(reply.json["code"], code, "{query}: {:?}", reply.json);
    }
}

#[tokio::test]
async fn match_ranks_with_a_breakdown_and_respects_service_radii() {
    let app = vendor_app();
    let rfi = json!({
        "category": "Kitchen/Coffee", "description": "espresso machine descaling and barista training",
        "location": {"lat": 48.86, "lon": 2.34}, "max_distance_km": 1000, "quantity": 3, "needed_by": "2099-12-01T00:00:00Z"
    });
    let reply = send_json(&app, Method::POST, "/v1/vendors/match", &rfi.to_string()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{:?}", reply.json);
    let at = GeoPoint { lat: 48.86, lon: 2.34 };
    let mut last = f64::INFINITY;
    for hit in hits {
        let b = &hit["breakdown"];
        let sum: f64 =
            ["text", "category", "distance", "rating", "availability"].iter().map(|k| b[k].as_f64().unwrap()).sum();
        let score = hit["score"].as_f64().unwrap();
        assert!((sum - score).abs() < 1e-9, "{hit}");
        assert!(score <= last, "ranked by score");
        last = score;
        let v = &hit["vendor"];
        let location =
            GeoPoint { lat: v["location"]["lat"].as_f64().unwrap(), lon: v["location"]["lon"].as_f64().unwrap() };
        let d = haversine_km(at, location);
        assert!(d <= v["service_radius_km"].as_f64().unwrap() && d <= 1000.0, "{hit}");
    }
    assert!(hits[0]["vendor"]["categories"].to_string().contains("Kitchen/Coffee"), "{:?}", hits[0]);
}

#[tokio::test]
async fn bad_match_requests_name_the_field() {
    let app = vendor_app();
    let ok = json!({"category": "Tools", "description": "drill repair", "location": {"lat": 1, "lon": 2}});
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body.to_string()
    };
    let without = |key: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(key);
        body.to_string()
    };
    let cases = [
        (without("category"), "invalid_match_category", "category"),
        (without("description"), "invalid_match_description", "description"),
        (without("location"), "invalid_match_location", "location"),
        (with("description", json!("  ")), "invalid_match_description", "description"),
        (with("category", json!("")), "invalid_match_category", "category"),
        (with("location", json!({"lat": 100, "lon": 0})), "invalid_match_location", "location.lat"),
        (with("location", json!({"lat": 0, "lon": -181})), "invalid_match_location", "location.lon"),
        (with("location", json!({"lat": "north", "lon": 0})), "invalid_match_location", "location.lat"),
        (with("max_distance_km", json!(0)), "invalid_match_max_distance_km", "max_distance_km"),
        (with("max_distance_km", json!(-5)), "invalid_match_max_distance_km", "max_distance_km"),
        (with("quantity", json!(0)), "invalid_match_quantity", "quantity"),
        (with("needed_by", json!("tomorrow")), "invalid_match_needed_by", "needed_by"),
        (with("language", json!("english")), "invalid_match_language", "language"),
        (with("limit", json!(0)), "invalid_match_limit", "limit"),
        (with("budjet", json!(10)), "invalid_match_budjet", "budjet"),
        ("[1,2]".to_string(), "invalid_match_body", "body"),
    ];
    for (body, code, field) in cases {
        let reply = send_json(&app, Method::POST, "/v1/vendors/match", &body).await;
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.json);
        assert_eq!(
            (reply.json["code"].as_str(), reply.json["field"].as_str()),
            (Some(code), Some(field)),
            "{body}: {:?}",
            reply.json
        );
    }
    let syntax = send_json(&app, Method::POST, "/v1/vendors/match", "{\"category\":").await;
    assert_eq!((syntax.status.as_u16(), syntax.json["code"].as_str()), (400, Some("malformed_json")));
    let no_type = call(&app, Method::POST, "/v1/vendors/match", Some(("text/plain", "{}"))).await;
    assert_eq!(no_type.status, 415);
}

async fn wait_task(app: &Router, id: u64) -> Value {
    for _ in 0..500 {
        let task = get(app, &format!("/v1/tasks/{id}")).await.json;
        if task["status"] == "succeeded" || task["status"] == "failed" {
            return task;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("task {id} did not end");
}

/// Vendor attributes are declared in the settings' `vendors` section, then filter vendor search
/// and matching; bad filters and settings are 400s that name what is wrong.
#[tokio::test]
async fn vendor_attributes_declared_in_settings_filter_search_and_matching() {
    let app = vendor_app();
    for (id, certifications, min_order) in [("graz-1", json!(["iso-9001", "ce"]), 250), ("graz-2", json!("fsc"), 900)] {
        let body = json!({
            "name": format!("Graz Machining {id}"), "categories": ["Industrial/Machining"],
            "capabilities": "cnc milling and turning", "location": {"lat": 47.07, "lon": 15.44},
            "service_radius_km": 100, "attributes": {"certifications": certifications, "min_order": min_order}
        });
        let put = send_json(&app, Method::PUT, &format!("/v1/vendors/{id}?refresh=true"), &body.to_string()).await;
        assert_eq!(put.status, 200, "{:?}", put.json);
    }
    let near = "near=47.07,15.44&radius_km=5";
    let undeclared = get(&app, &format!("/v1/vendors/search?{near}&filter=certifications%20%3D%20fsc")).await;
    assert_eq!(undeclared.status, 400);
    assert_eq!(undeclared.json["code"], "invalid_vendor_search_filter", "{}", undeclared.json);
    assert!(undeclared.json["message"].as_str().unwrap().contains("not filterable"), "{}", undeclared.json);

    // Only filterable vendor attributes; products' built-ins are not vendors'.
    let refused = send_json(
        &app,
        Method::PATCH,
        "/v1/settings",
        r#"{"vendors": {"attributes": {"certifications": {"type": "keyword", "facetable": true}}}}"#,
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json["field"], "vendors.attributes.certifications", "{}", refused.json);
    let declare = json!({"vendors": {"attributes": {
        "certifications": {"type": "keyword", "filterable": true},
        "min_order": {"type": "number", "filterable": true}}}});
    let task = send_json(&app, Method::PATCH, "/v1/settings", &declare.to_string()).await;
    assert_eq!(task.status, 202, "{}", task.json);
    assert_eq!(task.json["reindex"], true);
    let done = wait_task(&app, task.json["id"].as_u64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let settings = get(&app, "/v1/settings").await.json;
    assert_eq!(settings["vendors"]["attributes"]["min_order"]["type"], "number", "{settings}");

    let search = |filter: &str| format!("/v1/vendors/search?{near}&filter={}", urlencoding(filter));
    assert_eq!(ids(&get(&app, &search("certifications = fsc")).await.json), ["graz-2"]);
    assert_eq!(ids(&get(&app, &search("min_order <= 300 AND certifications IN [ce, fsc]")).await.json), ["graz-1"]);
    let malformed = get(&app, &search("min_order <= ")).await;
    assert_eq!(malformed.json["code"], "invalid_vendor_search_filter");
    assert!(malformed.json["message"].as_str().unwrap().contains("column"), "{}", malformed.json);
    let typed = get(&app, &search("min_order = lots")).await;
    assert!(typed.json["message"].as_str().unwrap().contains("takes a number"), "{}", typed.json);

    let rfi = |filter: &str| {
        json!({"category": "Industrial/Machining", "description": "cnc milling", "location": {"lat": 47.07, "lon": 15.44},
               "max_distance_km": 5, "filter": filter})
        .to_string()
    };
    let matched = send_json(&app, Method::POST, "/v1/vendors/match", &rfi("NOT certifications = fsc")).await;
    assert_eq!(ids(&matched.json), ["graz-1"], "{}", matched.json);
    let bad = send_json(&app, Method::POST, "/v1/vendors/match", &rfi("price < 3")).await;
    assert_eq!((bad.status.as_u16(), bad.json["code"].as_str()), (400, Some("invalid_match_filter")), "{}", bad.json);

    // A vendor contradicting the declared type is refused by name; a change vendors contradict
    // fails and leaves the served settings.
    let body = json!({"name": "Graz Three", "location": {"lat": 47.07, "lon": 15.44}, "service_radius_km": 10,
                      "attributes": {"min_order": "a lot"}});
    let put = send_json(&app, Method::PUT, "/v1/vendors/graz-3", &body.to_string()).await;
    assert_eq!(put.status, 422, "{}", put.json);
    assert_eq!(put.json["field"], "attributes.min_order", "{}", put.json);
    let contradicted = json!({"vendors": {"attributes": {"certifications": {"type": "number"}}}});
    let task = send_json(&app, Method::PATCH, "/v1/settings", &contradicted.to_string()).await;
    let failed = wait_task(&app, task.json["id"].as_u64().unwrap()).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    // The demo vendors' certifications contradict it too: every refusal names its vendor.
    let errors = failed["errors"].as_array().unwrap();
    assert!(!errors.is_empty(), "{failed}");
    assert!(
        errors
            .iter()
            .all(|e| e.as_str().unwrap().starts_with("vendor `") && e.as_str().unwrap().contains("is not a number")),
        "{failed}"
    );
    assert_eq!(ids(&get(&app, &search("certifications = fsc")).await.json), ["graz-2"]);
}

fn urlencoding(text: &str) -> String {
    serde_urlencoded::to_string([("f", text)]).unwrap()[2..].to_string()
}
