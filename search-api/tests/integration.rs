//! HTTP API tests through `router` with `tower::ServiceExt::oneshot` (no socket).

mod auth;
mod autocomplete;
mod browser;
mod cache;
mod errors;
mod fuzz;
mod http;
mod metrics;
mod openapi;
mod ranking;
mod recommend;
mod search;
mod snapshots;
mod vendors;
mod writes;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use searchd_api::{AppState, Config, router};
use searchd_engine::demo;
use searchd_indexer::{IndexConfig, ProductIndex};
use serde_json::Value;
use tower::ServiceExt;

/// The defaults with API keys off: the tests of everything but authentication.
pub fn config() -> Config {
    let mut config = Config::default();
    config.auth.enabled = false;
    config
}

/// The app over an in-memory index, with the demo catalog when asked.
pub fn app(with_demo: bool) -> Router {
    app_with(with_demo, config())
}

pub fn app_with(with_demo: bool, config: Config) -> Router {
    let index =
        ProductIndex::in_memory(IndexConfig { writer_memory_mb: 32, writer_threads: 1, ..IndexConfig::default() })
            .unwrap();
    if with_demo {
        demo::load(&index).unwrap();
    }
    router(AppState::with_index(index, &config).unwrap(), &config.http)
}

/// A real server on a loopback port (and its commit loop), for tests that drive it from another
/// program; stopped when dropped.
#[derive(Debug)]
pub struct LiveServer {
    pub address: std::net::SocketAddr,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    committer: tokio::task::JoinHandle<()>,
}

impl LiveServer {
    pub async fn start(state: &AppState, config: &Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = router(state.clone(), &config.http).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, server, committer: searchd_engine::spawn_commit_loop(state) }
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.server.abort();
        self.committer.abort();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub json: Value,
    pub content_type: String,
}

pub async fn call(app: &Router, method: Method, uri: &str, body: Option<(&str, &str)>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    let body = match body {
        Some((content_type, text)) => {
            request = request.header("content-type", content_type);
            Body::from(text.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("{uri}: body is not JSON: {}", String::from_utf8_lossy(&bytes)));
    Reply { status, json, content_type }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    call(app, Method::GET, uri, None).await
}

pub async fn send_json(app: &Router, method: Method, uri: &str, body: &str) -> Reply {
    call(app, method, uri, Some(("application/json", body))).await
}
