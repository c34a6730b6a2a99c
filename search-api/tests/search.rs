//! Searching the demo catalog over HTTP: ranked hits, facets, highlights, languages, filters.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::{app, get, send_json};

fn titles(json: &Value) -> Vec<String> {
    json["hits"].as_array().unwrap().iter().map(|h| h["product"]["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn demo_search_has_ranked_hits_facets_and_highlights() {
    let app = app(true);
    let reply = get(&app, "/v1/products/search?q=cordless+drill&facets=brand,category&highlight=true").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    let first = &hits[0];
    assert!(first["product"]["title"].as_str().unwrap().contains("Cordless Drill"), "{first}");
    assert!(first["highlight"]["title"].as_str().unwrap().contains("<em>Cordless</em> <em>Drill</em>"), "{first}");
    assert!(first["highlight"]["description"].as_str().unwrap().contains("<em>"), "{first}");
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let brands = reply.json["facets"]["brand"].as_array().unwrap();
    assert!(brands.iter().any(|b| b["value"] == "Bosch"));
    let categories = reply.json["facets"]["category"].as_array().unwrap();
    assert!(categories.iter().any(|c| c["value"] == "Tools"), "{categories:?}");
}

#[tokio::test]
async fn each_language_finds_its_products_by_stem() {
    let app = app(true);
    // German plural "Kopfhörer"/"Bohrschraubern", French "machines", Spanish "sartenes".
    for (q, lang, expect) in [
        ("Bohrschraubern", "de", "Akku-Bohrschrauber"),
        ("machines expresso", "fr", "Machine à café expresso"),
        ("sartenes", "es", "Sartén antiadherente"),
        ("tents", "en", "Camping Tent"),
    ] {
        let reply = get(&app, &format!("/v1/products/search?q={}&lang={lang}", q.replace(' ', "+"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let titles = titles(&reply.json);
        assert!(!titles.is_empty() && titles[0].contains(expect), "{q}: {titles:?}");
        assert_eq!(reply.json["query_language"], lang);
    }
}

#[tokio::test]
async fn diacritics_are_folded_and_typos_tolerated() {
    let app = app(true);
    let reply = get(&app, "/v1/products/search?q=fjallraven").await;
    assert!(titles(&reply.json).iter().any(|t| t.contains("Fjällräven")), "{}", reply.json);
    let reply = get(&app, "/v1/products/search?q=headphnoes").await;
    assert!(titles(&reply.json)[0].contains("Headphones"), "{}", reply.json);
}

#[tokio::test]
async fn filters_sort_and_pagination() {
    let app = app(true);
    let reply = get(&app, "/v1/products/search?category=Kitchen&price_max=100&sort=price_asc&per_page=5&page=2").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5);
    let prices: Vec<f64> = hits.iter().map(|h| h["product"]["price"].as_f64().unwrap()).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]) && prices.iter().all(|p| *p <= 100.0), "{prices:?}");
    assert!(hits.iter().all(|h| h["product"]["category"][0] == "Kitchen"));
    assert_eq!(reply.json["page"], 2);
    assert!(reply.json["total_pages"].as_u64().unwrap() >= 2);

    let body = r#"{"q": "", "filters": {"brand": ["Sony"], "in_stock": true, "min_rating": 3.0}, "sort": "rating", "facets": ["category"]}"#;
    let reply = send_json(&app, Method::POST, "/v1/products/search", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["product"]["brand"] == "Sony" && h["product"]["in_stock"] == true));
    let ratings: Vec<f64> = hits.iter().map(|h| h["product"]["rating"].as_f64().unwrap()).collect();
    assert!(ratings.windows(2).all(|w| w[0] >= w[1]), "{ratings:?}");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = app(true);
    assert_eq!(get(&app, "/healthz").await.json["status"], "ok");
    let ready = get(&app, "/readyz").await;
    assert_eq!(ready.json["status"], "ready");
    assert!(ready.json["documents"].as_u64().unwrap() >= 300);
}

#[tokio::test]
async fn the_filter_expression_narrows_a_search_and_combines_with_the_other_filters() {
    let app = app(true);
    let ids = |json: &Value| -> Vec<String> {
        json["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().to_string()).collect()
    };
    let filter = "brand IN [Bosch, Makita] AND price < 140 AND NOT in_stock = false";
    let uri = format!("/v1/products/search?q=drill&per_page=100&filter={}", urlencoding(filter));
    let reply = get(&app, &uri).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let hits = reply.json["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        let p = &h["product"];
        assert!(["Bosch", "Makita"].contains(&p["brand"].as_str().unwrap()), "{p}");
        assert!(p["price"].as_f64().unwrap() < 140.0, "{p}");
        assert_eq!(p["in_stock"], true);
    }
    // The same filter in a JSON body, in the array form, with today's `filters` ANDed to it.
    let body = serde_json::json!({
        "q": "drill", "per_page": 100,
        "filter": [["brand = Bosch", "brand = Makita"], "price < 140", "NOT in_stock = false"],
        "filters": {"brand": ["Bosch"]},
    });
    let reply = send_json(&app, Method::POST, "/v1/products/search", &body.to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let bosch: Vec<String> = ids(&reply.json);
    assert!(!bosch.is_empty());
    assert!(reply.json["hits"].as_array().unwrap().iter().all(|h| h["product"]["brand"] == "Bosch"));
    assert!(bosch.len() < hits.len());
}

#[tokio::test]
async fn a_bad_filter_is_a_400_naming_the_column() {
    let app = app(true);
    let cases = [
        ("price >", "at column 8: expected a value after `>`"),
        ("colour = red", "at column 1: `colour` is not filterable; filterable attributes: brand, category"),
        ("price = cheap", "at column 9: `price` takes a number, not `cheap`"),
        ("(brand = Bosch", "at column 15: expected a closing `)`"),
    ];
    for (filter, expected) in cases {
        let reply = get(&app, &format!("/v1/products/search?filter={}", urlencoding(filter))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{filter}: {}", reply.json);
        assert_eq!(reply.json["code"], "invalid_search_filter", "{filter}: {}", reply.json);
        assert_eq!(reply.json["field"], "filter");
        assert!(reply.json["message"].as_str().unwrap().contains(expected), "{filter}: {}", reply.json);
        let body = serde_json::json!({ "filter": filter }).to_string();
        let reply = send_json(&app, Method::POST, "/v1/products/search", &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{filter}: {}", reply.json);
        assert_eq!(reply.json["code"], "invalid_search_filter", "{filter}: {}", reply.json);
        assert!(reply.json["message"].as_str().unwrap().contains(expected), "{filter}: {}", reply.json);
    }
    let body = serde_json::json!({ "filter": ["brand = Bosch", ["price < 10", 3]] }).to_string();
    let reply = send_json(&app, Method::POST, "/v1/products/search", &body).await;
    assert_eq!(reply.json["code"], "invalid_search_filter", "{}", reply.json);
    assert!(reply.json["message"].as_str().unwrap().contains("filter[1][1]"), "{}", reply.json);
}

/// Percent-encodes a query-string value.
fn urlencoding(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).unwrap().trim_start_matches("v=").to_string()
}

/// An app whose index declares `colour` (keyword), `sizes` (keyword list), `specs.voltage`
/// (number) and `cordless` (boolean), all filterable and facetable, holding five tools.
async fn attribute_app() -> axum::Router {
    use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
    let mut config = crate::config();
    let mut attributes = AttributeSchema::default();
    for (name, kind) in [
        ("colour", AttributeType::Keyword),
        ("sizes", AttributeType::Keyword),
        ("specs.voltage", AttributeType::Number),
        ("cordless", AttributeType::Boolean),
    ] {
        attributes.0.insert(name.into(), AttributeSettings::filterable(kind));
    }
    config.index = searchd_indexer::IndexConfig { attributes, ..searchd_indexer::IndexConfig::small() };
    let index = searchd_indexer::ProductIndex::in_memory(config.index.clone()).unwrap();
    let app = searchd_api::router(searchd_api::AppState::with_index(index, &config).unwrap(), &config.http);
    let body = r#"[
        {"id": "d1", "title": "Drill", "price": 90, "currency": "EUR", "attributes": {"colour": "red", "sizes": ["S", "M"], "specs": {"voltage": 18}, "cordless": true}},
        {"id": "d2", "title": "Drill", "price": 40, "currency": "usd", "attributes": {"colour": "blue", "sizes": ["M"], "specs": {"voltage": "12"}, "cordless": "TRUE"}},
        {"id": "d3", "title": "Drill", "price": 30, "currency": "EUR", "attributes": {"colour": "red", "specs": {"voltage": 230}, "cordless": false}},
        {"id": "d4", "title": "Drill", "price": 15, "attributes": {"colour": null, "sizes": []}},
        {"id": "d5", "title": "Drill", "attributes": {"colour": "green", "specs": {"voltage": "high"}}}
    ]"#;
    let reply = send_json(&app, Method::POST, "/v1/products/bulk?refresh=true", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    // The fifth contradicts its declared type and is refused by name; the rest are in.
    assert_eq!(reply.json["applied"], 4, "{}", reply.json);
    let refused = &reply.json["items"][4]["error"];
    assert_eq!(refused["code"], "invalid_document", "{refused}");
    assert_eq!(refused["field"], "attributes.specs.voltage", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains(r#""high" is not a number"#), "{refused}");
    app
}

fn ids(json: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        json["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn declared_attributes_filter_and_facet() {
    let app = attribute_app().await;
    for (filter, expected) in [
        ("colour = red", vec!["d1", "d3"]),
        ("sizes = M AND specs.voltage < 15", vec!["d2"]),
        ("specs.voltage 12 TO 18 OR cordless = false", vec!["d1", "d2", "d3"]),
        ("colour IS NULL", vec!["d4"]),
        ("sizes IS EMPTY", vec!["d4"]),
        ("sizes NOT EXISTS", vec!["d3"]),
        ("cordless != true", vec!["d3", "d4"]),
    ] {
        let reply = get(&app, &format!("/v1/products/search?filter={}", urlencoding(filter))).await;
        assert_eq!(reply.status, StatusCode::OK, "{filter}: {}", reply.json);
        assert_eq!(ids(&reply.json), expected, "{filter}");
    }

    // Red is ticked: the hits are red, the colour checkboxes still count blue; sizes and the
    // price stats are over the red ones.
    let uri = format!(
        "/v1/products/search?filter={}&facets=sizes,price,specs.voltage&disjunctive=colour&facet_ranges={}",
        urlencoding("colour IN [red]"),
        urlencoding("price:0-50,50-;specs.voltage:-100,100-")
    );
    let reply = get(&app, &uri).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(ids(&reply.json), ["d1", "d3"]);
    let facets = &reply.json["facets"];
    assert_eq!(facets["colour"], serde_json::json!([{"value": "red", "count": 2}, {"value": "blue", "count": 1}]));
    assert_eq!(facets["sizes"], serde_json::json!([{"value": "M", "count": 1}, {"value": "S", "count": 1}]));
    let price = &reply.json["facet_stats"]["price"];
    assert_eq!(
        (price["count"].as_u64(), price["min"].as_f64(), price["max"].as_f64()),
        (Some(2), Some(30.0), Some(90.0))
    );
    assert_eq!(price["avg"], 60.0);
    assert_eq!(price["ranges"], serde_json::json!([{"range": "0-50", "count": 1}, {"range": "50-", "count": 1}]));
    let volts = &reply.json["facet_stats"]["specs.voltage"]["ranges"];
    assert_eq!(volts, &serde_json::json!([{"range": "-100", "count": 1}, {"range": "100-", "count": 1}]));

    // The same as a JSON body, with the values ordered by value.
    let body = serde_json::json!({
        "filter": [["colour = red", "colour = blue"]], "facets": ["colour"], "facet_order": "value",
        "facet_ranges": {}, "max_values_per_facet": 1
    });
    let reply = send_json(&app, Method::POST, "/v1/products/search", &body.to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["facets"]["colour"], serde_json::json!([{"value": "blue", "count": 1}]));
}

/// One currency at a time: the `currency` filter (any case), its facet, and the price stats per
/// currency (or per colour).
#[tokio::test]
async fn currency_filters_and_groups_price_stats() {
    let app = attribute_app().await;
    for (filter, expected) in
        [("currency = EUR", vec!["d1", "d3"]), ("currency = usd", vec!["d2"]), ("currency NOT EXISTS", vec!["d4"])]
    {
        let reply = get(&app, &format!("/v1/products/search?filter={}", urlencoding(filter))).await;
        assert_eq!(reply.status, StatusCode::OK, "{filter}: {}", reply.json);
        assert_eq!(ids(&reply.json), expected, "{filter}");
    }
    let reply = get(&app, "/v1/products/search?facets=price,currency&stats_by=currency").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(
        reply.json["facets"]["currency"],
        serde_json::json!([{"value": "EUR", "count": 2}, {"value": "USD", "count": 1}])
    );
    let by = &reply.json["facet_stats_by"];
    let span = |s: &Value| (s["count"].as_u64(), s["min"].as_f64(), s["max"].as_f64());
    assert_eq!(span(&by["EUR"]["price"]), (Some(2), Some(30.0), Some(90.0)), "{by}");
    assert_eq!(span(&by["USD"]["price"]), (Some(1), Some(40.0), Some(40.0)), "{by}");
    assert_eq!(by.as_object().unwrap().len(), 2, "{by}");
    // Stored as given but in capitals.
    let reply = get(&app, "/v1/products/d2").await;
    assert_eq!(reply.json["currency"], "USD", "{}", reply.json);
    // Grouped by a declared keyword, as a JSON body.
    let body = serde_json::json!({"facets": ["price"], "stats_by": "colour"}).to_string();
    let reply = send_json(&app, Method::POST, "/v1/products/search", &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(span(&reply.json["facet_stats_by"]["red"]["price"]), (Some(2), Some(30.0), Some(90.0)));
    // A currency that is not a code is refused by name.
    let reply =
        send_json(&app, Method::PUT, "/v1/products/d9", r#"{"id": "d9", "title": "Saw", "currency": "€"}"#).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.json);
    assert_eq!(reply.json["field"], "currency", "{}", reply.json);
}

#[tokio::test]
async fn facets_and_filters_on_undeclared_attributes_are_400s_naming_the_parameter() {
    let app = attribute_app().await;
    for (query, code, says) in [
        (
            "filter=material%20%3D%20wood",
            "invalid_search_filter",
            "filterable attributes: brand, category, colour, cordless",
        ),
        ("facets=material", "invalid_search_facets", "`material` is not facetable; facetable: brand, category, colour"),
        ("disjunctive=in_stock", "invalid_search_disjunctive", "`in_stock` is not facetable"),
        ("facets=colour&facet_ranges=colour:0-5", "invalid_search_facet_ranges", "not a numeric facet"),
        ("facets=price&facet_ranges=price:9-1", "invalid_search_facet_ranges", "start must be below the end"),
        ("facets=price&facet_ranges=rating:0-1", "invalid_search_facet_ranges", "not among the facets"),
        ("facets=colour&max_values_per_facet=0", "invalid_search_max_values_per_facet", "between 1 and 1000"),
        ("facets=colour&facet_order=size", "invalid_search_facet_order", "expected count or value"),
        ("filter=specs.voltage%20%3D%20x", "invalid_search_filter", "`specs.voltage` takes a number, not `x`"),
        ("facets=price&stats_by=brand", "invalid_search_stats_by", "give one of: currency, language, colour, sizes"),
        ("facets=colour&stats_by=currency", "invalid_search_stats_by", "ask for one too"),
    ] {
        let reply = get(&app, &format!("/v1/products/search?{query}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.json);
        assert_eq!(reply.json["code"], code, "{query}: {}", reply.json);
        assert!(reply.json["message"].as_str().unwrap().contains(says), "{query}: {}", reply.json);
    }
}

#[tokio::test]
async fn distinct_shows_one_hit_per_group() {
    let app = attribute_app().await;
    // Colours: red (d1, d3), blue (d2), none (d4, null): three groups and d4 alone.
    let reply = get(&app, "/v1/products/search?distinct=colour&sort=price:desc").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["total_hits"], 3, "{}", reply.json);
    let order: Vec<&str> =
        reply.json["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap()).collect();
    assert_eq!(order, ["d1", "d2", "d4"]);
    let reply = get(&app, "/v1/products/search?distinct=specs.voltage").await;
    assert_eq!(reply.json["code"], "invalid_search_distinct", "{}", reply.json);
    assert!(reply.json["message"].as_str().unwrap().contains("colour, sizes"), "{}", reply.json);
}

/// Facet value search counts what the same search's facets count, finds values by a word's
/// prefix (with a typo from four characters), and names what is wrong.
#[tokio::test]
async fn facet_value_search_counts_as_the_search_does() {
    let app = app(true);
    let facets = |json: &Value, name: &str| -> Vec<(String, u64)> {
        json["facets"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().unwrap().to_string(), v["count"].as_u64().unwrap()))
            .collect()
    };
    for (search, facet_search) in [
        ("/v1/products/search?facets=brand&max_values_per_facet=1000", "/v1/products/facets/brand?limit=100"),
        (
            "/v1/products/search?q=drill&filter=price%20%3C%20300&facets=brand&max_values_per_facet=1000",
            "/v1/products/facets/brand?query=drill&filter=price%20%3C%20300&limit=100",
        ),
        ("/v1/products/search?facets=category", "/v1/products/facets/category?limit=100"),
    ] {
        let expected = get(&app, search).await;
        let found = get(&app, facet_search).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.json);
        let mut want = facets(&expected.json, if search.contains("category") { "category" } else { "brand" });
        want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let got: Vec<(String, u64)> = found.json["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().unwrap().to_string(), v["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(got, want, "{facet_search}");
        assert!(!got.is_empty());
    }
    // By a word's prefix, case and accents aside; a typo from four characters.
    let all = get(&app, "/v1/products/search?facets=brand&max_values_per_facet=1000").await;
    let (brand, count) = facets(&all.json, "brand").into_iter().find(|(b, _)| b.chars().count() >= 5).unwrap();
    let prefix: String = brand.chars().take(3).collect::<String>().to_lowercase();
    let found = get(&app, &format!("/v1/products/facets/brand?q={prefix}")).await;
    let hit = found.json["values"].as_array().unwrap().iter().find(|v| v["value"] == brand.as_str()).cloned();
    assert_eq!(hit.as_ref().map(|h| (h["count"].as_u64().unwrap(), h["typos"].as_u64().unwrap())), Some((count, 0)));
    let mut chars: Vec<char> = brand.chars().take(5).collect();
    chars.swap(1, 2);
    let typo: String = chars.into_iter().collect();
    let found = get(&app, &format!("/v1/products/facets/brand?q={}", typo.replace(' ', "%20"))).await;
    let hit = found.json["values"].as_array().unwrap().iter().find(|v| v["value"] == brand.as_str()).cloned();
    assert_eq!(hit.map(|h| h["typos"].as_u64().unwrap()), Some(1), "{typo}: {}", found.json);

    for (uri, code) in [
        ("/v1/products/facets/price?q=1", "invalid_facet_search_name"),
        ("/v1/products/facets/colour?q=r", "invalid_facet_search_name"),
        ("/v1/products/facets/brand?size=3", "unknown_facet_search_parameter"),
        ("/v1/products/facets/brand?limit=0", "invalid_facet_search_limit"),
        ("/v1/products/facets/brand?filter=price%20%3E", "invalid_search_filter"),
    ] {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}: {}", reply.json);
        assert_eq!(reply.json["code"], code, "{uri}: {}", reply.json);
    }
}
