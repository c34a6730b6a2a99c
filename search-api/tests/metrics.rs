//! `GET /metrics`: request counts and latency by route template and status, index gauges.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::{app, get};

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.split(' ').next()?.parse().ok())
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status() {
    let app = app(true);
    for q in ["tent", "drill", "hose"] {
        assert_eq!(get(&app, &format!("/v1/products/search?q={q}")).await.status, 200);
    }
    assert_eq!(get(&app, "/v1/products/search?q=x&per_page=oops").await.status, 400);
    let first =
        get(&app, "/v1/products/search?q=tent").await.json["hits"][0]["product"]["id"].as_str().unwrap().to_string();
    assert_eq!(get(&app, &format!("/v1/products/{first}")).await.status, 200);
    assert_eq!(get(&app, "/v1/products/no-such-product").await.status, 404);
    assert_eq!(get(&app, "/v1/nowhere").await.status, 404);

    let response = app.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();

    let requests = |route: &str, status: u16| {
        sample(&text, &format!("searchd_http_requests_total{{route=\"{route}\",method=\"GET\",status=\"{status}\"}}"))
    };
    assert_eq!(requests("/v1/products/search", 200), Some(4.0), "{text}");
    assert_eq!(requests("/v1/products/search", 400), Some(1.0), "{text}");
    // One template for every product id: the label set stays bounded.
    assert_eq!(requests("/v1/products/{id}", 200), Some(1.0), "{text}");
    assert_eq!(requests("/v1/products/{id}", 404), Some(1.0), "{text}");
    assert_eq!(requests("unmatched", 404), Some(1.0), "{text}");
    let count =
        sample(&text, "searchd_http_request_duration_seconds_count{route=\"/v1/products/search\",method=\"GET\"}");
    assert_eq!(count, Some(5.0), "{text}");
    let inf = sample(
        &text,
        "searchd_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/v1/products/search\",method=\"GET\"}",
    );
    assert_eq!(inf, Some(5.0), "{text}");
    assert_eq!(sample(&text, "searchd_index_documents{index=\"products\"}"), Some(312.0), "{text}");
    assert_eq!(sample(&text, "searchd_index_documents{index=\"vendors\"}"), Some(0.0), "{text}");
    assert!(sample(&text, "searchd_index_commit_age_seconds").is_some_and(|age| age >= 0.0), "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics text ends with # EOF");
}
