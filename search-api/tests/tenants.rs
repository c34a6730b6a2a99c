//! Tenant filters: a key made with `--filter 'vendor_id = "v2"'` and a token carrying
//! `searchd_filter` see their own products only — in searches (whatever filter, facet,
//! disjunctive facet or page they ask for), facet counts, autocomplete, product reads and
//! recommendations — over random queries on BigBasket, each vendor a sixth of the catalog; and
//! the cache never hands one caller's answer to another.

use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::http::{Method, Request};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use searchd_api::{AppState, AuthConfig, Config, JwtConfig, KeyStore, Scope, router};
use searchd_catalog::Product;
use searchd_catalog::attributes::{AttributeSchema, AttributeSettings, AttributeType};
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::{Value, json};

const SECRET: &str = "an HS256 secret of at least thirty-two bytes";

fn vendor_of(i: usize) -> String {
    format!("v{}", (i * 7 + i / 3) % 6)
}

async fn get(app: &Router, uri: &str, credential: &str) -> (u16, Value) {
    let request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("authorization", format!("Bearer {credential}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = crate::common::send(app, request).await;
    (reply.status.as_u16(), reply.json)
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn tenant_keys_and_tokens_never_see_another_tenants_products() {
    let Some(mut products) = searchd_testkit::bigbasket_products() else { return };
    products.retain(|p| p.validate().is_ok());
    for (i, p) in products.iter_mut().enumerate() {
        p.attributes.insert("vendor_id".into(), json!(vendor_of(i)));
    }
    let vendor: HashMap<String, String> =
        products.iter().map(|p| (p.id.clone(), p.attributes["vendor_id"].as_str().unwrap().to_string())).collect();
    let by_id: HashMap<&str, &Product> = products.iter().map(|p| (p.id.as_str(), p)).collect();

    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let (_, own) = store.create_with("vendor v2", &[Scope::Search], None, Some(r#"vendor_id = "v2""#)).unwrap();
    let (_, admin) = store.create("ops", &[Scope::Admin]).unwrap();
    let (_, stale) = store.create_with("stale", &[Scope::Search], None, Some("warehouse = north")).unwrap();
    assert!(store.create_with("bad", &[Scope::Search], None, Some("vendor_id =")).is_err());
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        auth: AuthConfig {
            enabled: true,
            jwt: JwtConfig {
                hs256_secret: SECRET.into(),
                issuer: "https://auth.example".into(),
                audience: "searchd".into(),
                ..JwtConfig::default()
            },
            ..AuthConfig::default()
        },
        ..Config::default()
    };
    config.rate_limit.enabled = false;
    let attributes = AttributeSchema(
        [("vendor_id".to_string(), AttributeSettings::filterable(AttributeType::Keyword))].into_iter().collect(),
    );
    let index = ProductIndex::in_memory(IndexConfig { attributes, ..IndexConfig::small() }).unwrap();
    let prepared = products.iter().cloned().map(|p| index.prepare(p).unwrap()).collect();
    index.apply_prepared_bulk(prepared).unwrap();
    index.commit().unwrap();
    let state = AppState::with_index(index, &config).unwrap();
    state.autocomplete.refresh(&state.index, true).unwrap();
    let app = router(state.clone(), &config.http);
    let claims = json!({"iss": "https://auth.example", "aud": "searchd", "sub": "dashboard",
        "exp": time::OffsetDateTime::now_utc().unix_timestamp() + 600, "scope": "search",
        "searchd_filter": "vendor_id IN [v4, v5]"});
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes()))
            .unwrap();
    let tenants: [(&str, &[&str]); 2] = [(&own, &["v2"]), (&token, &["v4", "v5"])];

    let words: Vec<&str> = products
        .iter()
        .step_by(37)
        .filter_map(|p| p.title.split_whitespace().find(|w| w.len() > 3 && w.chars().all(char::is_alphabetic)))
        .collect();
    let brands: Vec<&str> = products.iter().step_by(53).filter_map(|p| p.brand.as_deref()).collect();
    let extras = [
        String::new(),
        "vendor_id = v1".into(),
        "NOT vendor_id = v2".into(),
        "vendor_id EXISTS OR brand EXISTS".into(),
        "vendor_id IN [v0, v1, v2, v3, v4, v5]".into(),
        "price < 100".into(),
    ];
    let mut rng = StdRng::seed_from_u64(22);
    let (mut searches, mut hits_seen, mut suggestions_seen) = (0, 0, 0);
    for round in 0..150 {
        let (credential, allowed) = tenants[round % 2];
        let q = if rng.random_bool(0.2) { String::new() } else { words[rng.random_range(0..words.len())].to_string() };
        let extra = if rng.random_bool(0.3) {
            format!("brand = {:?}", brands[rng.random_range(0..brands.len())])
        } else {
            extras[rng.random_range(0..extras.len())].clone()
        };
        let disjunctive = ["", "vendor_id", "brand", "vendor_id,brand"][rng.random_range(0..4)];
        let page = rng.random_range(1..=3);
        let mut uri =
            format!("/v1/products/search?q={}&facets=vendor_id,brand,category&per_page=20&page={page}", encode(&q));
        if !extra.is_empty() {
            uri.push_str(&format!("&filter={}", encode(&extra)));
        }
        if !disjunctive.is_empty() {
            uri.push_str(&format!("&disjunctive={disjunctive}"));
        }
        // The same request by an admin first: the tenant must not get its cached answer.
        let (status, everything) = get(&app, &uri, &admin).await;
        assert_eq!(status, 200, "{uri}: {everything}");
        let (status, answer) = get(&app, &uri, credential).await;
        assert_eq!(status, 200, "{uri}: {answer}");
        searches += 1;
        for hit in answer["hits"].as_array().unwrap() {
            let id = hit["product"]["id"].as_str().unwrap();
            assert!(allowed.contains(&vendor[id].as_str()), "{uri}: {id} of {} leaked to {allowed:?}", vendor[id]);
            hits_seen += 1;
        }
        // Every count is over the tenant's own products, disjunctive ones included.
        for value in answer["facets"]["vendor_id"].as_array().unwrap() {
            assert!(allowed.contains(&value["value"].as_str().unwrap()), "{uri}: {value}");
        }
        let own_total: u64 =
            answer["facets"]["vendor_id"].as_array().unwrap().iter().map(|v| v["count"].as_u64().unwrap()).sum();
        if !disjunctive.contains("vendor_id") {
            assert_eq!(own_total, answer["total_hits"].as_u64().unwrap(), "{uri}");
        }
        let own: BTreeSet<&str> = products
            .iter()
            .filter(|p| allowed.contains(&vendor[&p.id].as_str()))
            .filter_map(|p| p.brand.as_deref())
            .collect();
        for value in answer["facets"]["brand"].as_array().unwrap() {
            assert!(own.contains(value["value"].as_str().unwrap()), "{uri}: brand {value} is not the tenant's");
        }
        // What an admin sees with the tenant's filter spelled out: the same products.
        let spelled = match (allowed, extra.as_str()) {
            (["v2"], "") => r#"vendor_id = "v2""#.to_string(),
            (["v2"], e) => format!(r#"vendor_id = "v2" AND ({e})"#),
            (_, "") => "vendor_id IN [v4, v5]".to_string(),
            (_, e) => format!("vendor_id IN [v4, v5] AND ({e})"),
        };
        let reference =
            format!("/v1/products/search?q={}&per_page=20&page={page}&filter={}", encode(&q), encode(&spelled));
        let (_, expected) = get(&app, &reference, &admin).await;
        assert_eq!(answer["total_hits"], expected["total_hits"], "{uri}");
        let ids = |v: &Value| -> BTreeSet<String> {
            v["hits"].as_array().unwrap().iter().map(|h| h["product"]["id"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(ids(&answer), ids(&expected), "{uri}");

        // Autocomplete: own products, own brands and categories counted among them, queries
        // that find some of them.
        let prefix: String = q.chars().take(rng.random_range(2..=5)).collect();
        let (status, suggested) =
            get(&app, &format!("/v1/autocomplete?q={}&limit=10", encode(&prefix)), credential).await;
        assert_eq!(status, 200, "{suggested}");
        for s in suggested["suggestions"].as_array().unwrap() {
            suggestions_seen += 1;
            let text = s["text"].as_str().unwrap();
            match s["type"].as_str().unwrap() {
                "product" => {
                    let id = s["id"].as_str().unwrap();
                    assert!(allowed.contains(&vendor[id].as_str()), "suggested {id} of {}", vendor[id]);
                }
                "brand" => {
                    let count = products
                        .iter()
                        .filter(|p| {
                            allowed.contains(&vendor[&p.id].as_str()) && p.brand.as_deref().map(str::trim) == Some(text)
                        })
                        .count();
                    assert!(count > 0 && s["count"] == count as u64, "{s} vs {count}");
                }
                "category" => {
                    let path = s["path"].as_str().unwrap();
                    assert!(
                        products
                            .iter()
                            .any(|p| allowed.contains(&vendor[&p.id].as_str()) && p.category_path().starts_with(path)),
                        "{s}"
                    );
                }
                _ => assert!(s.get("count").is_none(), "a tenant sees no search counts: {s}"),
            }
        }
    }
    println!("{searches} tenant searches ({hits_seen} hits) and {suggestions_seen} suggestions, none another tenant's");
    assert!(hits_seen > 500 && suggestions_seen > 50, "{hits_seen} hits, {suggestions_seen} suggestions");

    // Facet value search counts among the tenant's products only.
    let (status, values) = get(&app, "/v1/products/facets/brand?limit=100", &own).await;
    assert_eq!(status, 200, "{values}");
    let values = values["values"].as_array().unwrap();
    assert!(!values.is_empty());
    for v in values {
        let brand = v["value"].as_str().unwrap();
        let count = products
            .iter()
            .filter(|p| vendor[&p.id] == "v2" && p.brand.as_deref().map(str::trim) == Some(brand))
            .count();
        assert_eq!(v["count"], count as u64, "{v}");
    }

    // Reads by id and recommendations: another tenant's product does not exist for it.
    let theirs = products.iter().find(|p| vendor[&p.id] == "v1").unwrap();
    let mine = products.iter().find(|p| vendor[&p.id] == "v2").unwrap();
    assert_eq!(get(&app, &format!("/v1/products/{}", theirs.id), &own).await.0, 404);
    assert_eq!(get(&app, &format!("/v1/products/{}", mine.id), &own).await.0, 200);
    assert_eq!(get(&app, &format!("/v1/products/{}/similar", theirs.id), &own).await.0, 404);
    assert!(by_id.contains_key(mine.id.as_str()));

    // A tenant cannot hand itself another filter through the body.
    let body = json!({"q": "rice", "tenant": "vendor_id EXISTS"}).to_string();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/products/search")
        .header("authorization", format!("Bearer {own}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let reply = crate::common::send(&app, request).await;
    assert_eq!(reply.status, 400, "{}", reply.json);

    // A key whose filter names what the settings no longer filter on is refused, not unfiltered.
    let (status, refused) = get(&app, "/v1/products/search?q=rice", &stale).await;
    assert_eq!((status, refused["code"].as_str().unwrap()), (403, "key_filter_invalid"), "{refused}");
    drop(state);
}
