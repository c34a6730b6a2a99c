//! API keys and JWT bearer tokens: 401 without or with a bad credential, 403 for a missing
//! scope; expired tokens, wrong audience or issuer, `alg: none` and HS/RS confusion refused.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use base64::Engine;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use searchd_api::{
    AppState, AuthConfig, ClassLimits, Config, JwtConfig, KeyStore, Limit, RateLimitConfig, Scope, router,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "an HS256 secret of at least thirty-two bytes";
const PRIVATE_PEM: &[u8] = include_bytes!("fixtures/jwt-test-rs256-private.pem");
const PUBLIC_PEM: &[u8] = include_bytes!("fixtures/jwt-test-rs256-public.pem");

struct Answer {
    status: u16,
    json: Value,
    headers: axum::http::HeaderMap,
}

/// A request from `ip` with these headers.
async fn call(app: &Router, method: Method, uri: &str, headers: &[(&str, &str)], ip: [u8; 4]) -> Answer {
    let mut request = Request::builder().method(method.clone()).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = if method == Method::PUT {
        request = request.header("content-type", "application/json");
        Body::from(r#"{"id":"auth-test","title":"Auth test lamp"}"#)
    } else {
        Body::empty()
    };
    let mut request = request.body(body).unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    let reply = crate::common::send(app, request).await;
    Answer { status: reply.status.as_u16(), json: reply.json, headers: reply.headers }
}

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    call(app, Method::GET, uri, headers, [10, 0, 0, 1]).await
}

fn instance(config: &Config) -> (AppState, Router) {
    let state = crate::common::demo_state(config);
    (state.clone(), router(state, &config.http))
}

fn jwt_config(dir: &std::path::Path, hs256: bool, rs256: bool) -> Config {
    let public = dir.join("public.pem");
    std::fs::write(&public, PUBLIC_PEM).unwrap();
    Config {
        data_dir: dir.to_path_buf(),
        auth: AuthConfig {
            enabled: true,
            jwt: JwtConfig {
                hs256_secret: if hs256 { SECRET.into() } else { String::new() },
                rs256_public_key_file: if rs256 { public.display().to_string() } else { String::new() },
                issuer: "https://auth.example".into(),
                audience: "searchd".into(),
                ..JwtConfig::default()
            },
            ..AuthConfig::default()
        },
        ..Config::default()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn claims(scope: &str) -> Value {
    json!({ "iss": "https://auth.example", "aud": "searchd", "sub": "orders-service", "exp": now() + 600, "scope": scope })
}

fn hs(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

fn rs(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &EncodingKey::from_rsa_pem(PRIVATE_PEM).unwrap())
        .unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn code(answer: &Answer) -> &str {
    answer.json["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn api_keys_open_what_their_scopes_allow() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let (_, search_key) = store.create("storefront", &[Scope::Search]).unwrap();
    let (_, write_key) = store.create("feed", &[Scope::Write]).unwrap();
    let (_, admin_key) = store.create("ops", &[Scope::Admin]).unwrap();
    let (state, app) = instance(&jwt_config(dir.path(), false, false));

    // Health and metrics stay open.
    for open in ["/healthz", "/readyz", "/metrics"] {
        let response = app.clone().oneshot(Request::get(open).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200, "{open}");
    }
    let missing = get(&app, "/v1/products/search?q=tent", &[]).await;
    assert_eq!((missing.status, code(&missing)), (401, "missing_api_key"), "{}", missing.json);
    assert_eq!(missing.json["type"], "auth");
    assert_eq!(missing.headers["www-authenticate"], "Bearer");
    let unknown = get(&app, "/v1/products/search?q=tent", &[("authorization", "Bearer sd_0123456789ab_nope")]).await;
    assert_eq!((unknown.status, code(&unknown)), (401, "invalid_api_key"));
    let malformed = get(&app, "/v1/products/search?q=tent", &[("authorization", "Basic abc")]).await;
    assert_eq!(malformed.status, 401);
    // Unknown routes do not tell strangers what exists.
    assert_eq!(get(&app, "/v1/nowhere", &[]).await.status, 401);

    let search = bearer(&search_key);
    assert_eq!(get(&app, "/v1/products/search?q=tent", &[("authorization", &search)]).await.status, 200);
    assert_eq!(get(&app, "/v1/autocomplete?q=te", &[("x-api-key", &search_key)]).await.status, 200);
    assert_eq!(
        get(&app, "/v1/vendors/search?near=48.85,2.35&radius_km=50", &[("x-api-key", &search_key)]).await.status,
        200
    );
    let put = call(&app, Method::PUT, "/v1/products/auth-test", &[("authorization", &search)], [10, 0, 0, 1]).await;
    assert_eq!((put.status, code(&put)), (403, "insufficient_scope"), "{}", put.json);
    assert!(put.json["message"].as_str().unwrap().contains("`write`"), "{}", put.json);
    let admin = get(&app, "/v1/admin/ranker", &[("authorization", &search)]).await;
    assert_eq!((admin.status, code(&admin)), (403, "insufficient_scope"));

    // `write` writes but does not search; `admin` does everything.
    let write = bearer(&write_key);
    assert_eq!(
        call(&app, Method::PUT, "/v1/products/auth-test", &[("authorization", &write)], [10, 0, 0, 1]).await.status,
        200
    );
    assert_eq!(get(&app, "/v1/products/search?q=tent", &[("authorization", &write)]).await.status, 403);
    let admin = bearer(&admin_key);
    assert_eq!(get(&app, "/v1/admin/ranker", &[("authorization", &admin)]).await.status, 200);
    assert_eq!(get(&app, "/v1/products/search?q=tent", &[("authorization", &admin)]).await.status, 200);
    assert_eq!(
        call(&app, Method::PUT, "/v1/products/auth-test", &[("authorization", &admin)], [10, 0, 0, 1]).await.status,
        200
    );

    // Revoked: refused once the server re-read the file.
    store.revoke("storefront").unwrap();
    state.auth.reload().unwrap();
    let revoked = get(&app, "/v1/products/search?q=tent", &[("authorization", &search)]).await;
    assert_eq!((revoked.status, code(&revoked)), (401, "invalid_api_key"));

    let metrics = app.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    let text = String::from_utf8(metrics.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("searchd_auth_refused_total{outcome=\"insufficient_scope\"} 3"), "{text}");
}

#[tokio::test]
async fn jwts_are_verified_and_every_known_attack_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, app) = instance(&jwt_config(dir.path(), true, true));
    let search = |token: String| {
        let app = app.clone();
        async move { get(&app, "/v1/products/search?q=tent", &[("authorization", &bearer(&token))]).await }
    };

    assert_eq!(search(hs(&claims("search"))).await.status, 200);
    assert_eq!(search(rs(&claims("search write"))).await.status, 200);
    // Scopes as an array, and scopes deciding what the token may do.
    let mut array = claims("");
    array["scope"] = json!(["write"]);
    let put =
        call(&app, Method::PUT, "/v1/products/auth-test", &[("authorization", &bearer(&hs(&array)))], [10, 0, 0, 2])
            .await;
    assert_eq!(put.status, 200, "{}", put.json);
    let no_admin = get(&app, "/v1/admin/ranker", &[("authorization", &bearer(&rs(&claims("search write"))))]).await;
    assert_eq!((no_admin.status, code(&no_admin)), (403, "insufficient_scope"));

    let refused = |answer: Answer, why: &str| {
        assert_eq!((answer.status, code(&answer)), (401, "invalid_token"), "{why}: {}", answer.json);
        let message = answer.json["message"].as_str().unwrap().to_string();
        assert!(message.contains(why), "{why}: {message}");
    };
    let mut expired = claims("search");
    expired["exp"] = json!(now() - 120);
    refused(search(hs(&expired)).await, "expired");
    let mut audience = claims("search");
    audience["aud"] = json!("another-service");
    refused(search(rs(&audience)).await, "audience");
    let mut issuer = claims("search");
    issuer["iss"] = json!("https://evil.example");
    refused(search(hs(&issuer)).await, "issuer");
    let mut no_exp = claims("search");
    no_exp.as_object_mut().unwrap().remove("exp");
    refused(search(hs(&no_exp)).await, "exp");
    let mut not_yet = claims("search");
    not_yet["nbf"] = json!(now() + 600);
    refused(search(hs(&not_yet)).await, "not valid yet");

    // `alg: none`: an unsigned token.
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims("admin")));
    refused(search(unsigned).await, "not valid");
    // A forged signature, and a payload swapped under a valid signature.
    let good = rs(&claims("search"));
    let parts: Vec<&str> = good.split('.').collect();
    refused(search(format!("{}.{}.{}", parts[0], b64(&claims("admin")), parts[2])).await, "signature");
    // Algorithm confusion: an HS256 token whose HMAC key is the RSA *public* key.
    let confused =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims("admin"), &EncodingKey::from_secret(PUBLIC_PEM))
            .unwrap();
    refused(search(confused.clone()).await, "signature");
    // Other algorithms are not accepted at all.
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims("search"),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    refused(search(hs512).await, "not accepted");

    // With only the RSA key configured, no HS256 token verifies — the confusion attack included.
    let dir = tempfile::tempdir().unwrap();
    let (_, rs_only) = instance(&jwt_config(dir.path(), false, true));
    let answer = get(&rs_only, "/v1/products/search?q=tent", &[("authorization", &bearer(&confused))]).await;
    refused(answer, "HS256 tokens are not accepted");
    assert_eq!(
        get(&rs_only, "/v1/products/search?q=tent", &[("authorization", &bearer(&rs(&claims("search"))))]).await.status,
        200
    );
}

/// A burst over a key's limit gets 429 with `Retry-After`; another key is unaffected; a
/// client address over its own limit is held back before its key is even looked at.
#[tokio::test]
async fn bursts_over_the_limit_get_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let (_, first) = store.create("shop-a", &[Scope::Search]).unwrap();
    let (_, second) = store.create("shop-b", &[Scope::Search]).unwrap();
    let mut config = jwt_config(dir.path(), false, false);
    config.rate_limit = RateLimitConfig {
        search: ClassLimits { key: Limit { per_second: 1, burst: 5 }, ip: Limit { per_second: 1, burst: 8 } },
        ..RateLimitConfig::default()
    };
    let (_, app) = instance(&config);
    let (first, second) = (bearer(&first), bearer(&second));

    let mut statuses = Vec::new();
    let mut limited = None;
    // Autocomplete answers in microseconds: the burst takes far less than the 1 s refill.
    for _ in 0..8 {
        let answer =
            call(&app, Method::GET, "/v1/autocomplete?q=te", &[("authorization", &first)], [10, 0, 0, 1]).await;
        statuses.push(answer.status);
        if answer.status == 429 {
            limited = Some(answer);
        }
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429], "a burst of 5, then refused");
    let limited = limited.unwrap();
    assert_eq!(code(&limited), "rate_limited");
    assert!(limited.json["message"].as_str().unwrap().contains("API key"), "{}", limited.json);
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    // Another key from another address: unaffected.
    let other = call(&app, Method::GET, "/v1/autocomplete?q=te", &[("authorization", &second)], [10, 0, 0, 2]).await;
    assert_eq!(other.status, 200);
    // The first address has now spent its 8: refused by address, even with the other key.
    let by_ip = call(&app, Method::GET, "/v1/autocomplete?q=te", &[("authorization", &second)], [10, 0, 0, 1]).await;
    assert_eq!(by_ip.status, 429);
    assert!(by_ip.json["message"].as_str().unwrap().contains("client address"), "{}", by_ip.json);
    // Other route classes have their own buckets; open routes none.
    assert_eq!(call(&app, Method::GET, "/healthz", &[], [10, 0, 0, 1]).await.status, 200);

    let metrics = app.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    let text = String::from_utf8(metrics.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("searchd_rate_limited_total{class=\"search\",by=\"key\"} 3"), "{text}");
    assert!(text.contains("searchd_rate_limited_total{class=\"search\",by=\"ip\"} 1"), "{text}");
}

/// A service calling from one address with a key of its own rate is held to that rate, not to
/// the per-IP limit that protects a storefront key (which every shopper shares).
#[tokio::test]
async fn a_service_key_with_its_own_rate_is_not_held_to_the_per_ip_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let (stored, service) = store.create_with("matching-service", &[Scope::Search], Some(3000), None).unwrap();
    assert_eq!(stored.rate, Some(3000));
    let (_, storefront) = store.create("storefront", &[Scope::Search]).unwrap();
    assert!(store.create_with("zero", &[Scope::Search], Some(0), None).is_err());
    // The default limits: 50 searches/s per client address, a burst of 100.
    let (_, app) = instance(&jwt_config(dir.path(), true, false));
    let (service, storefront) = (bearer(&service), bearer(&storefront));
    let mut refused = 0;
    for _ in 0..600 {
        let answer =
            call(&app, Method::GET, "/v1/products/search?q=tent", &[("authorization", &service)], [10, 0, 0, 9]).await;
        assert!(answer.status == 200 || answer.status == 429, "{}", answer.json);
        refused += usize::from(answer.status == 429);
    }
    assert_eq!(refused, 0, "the service key was refused {refused} of 600 times");
    let mut statuses = Vec::new();
    for _ in 0..600 {
        let answer =
            call(&app, Method::GET, "/v1/products/search?q=tent", &[("authorization", &storefront)], [10, 0, 0, 10])
                .await;
        statuses.push(answer.status);
    }
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(refused >= 400, "the storefront key from one address was refused only {refused} of 600 times");

    // A service token may carry its rate too, and a rate that is not a whole number ≥ 1 is refused.
    let mut claims = claims("search");
    claims["searchd_rate"] = serde_json::json!(3000);
    let token = bearer(&hs(&claims));
    for _ in 0..200 {
        let answer =
            call(&app, Method::GET, "/v1/autocomplete?q=te", &[("authorization", &token)], [10, 0, 0, 11]).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
    }
    claims["searchd_rate"] = serde_json::json!("fast");
    let answer =
        call(&app, Method::GET, "/v1/autocomplete?q=te", &[("authorization", &bearer(&hs(&claims)))], [10, 0, 0, 12])
            .await;
    assert_eq!((answer.status, code(&answer)), (401, "invalid_token"), "{}", answer.json);
}
