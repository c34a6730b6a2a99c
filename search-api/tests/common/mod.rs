//! What the HTTP tests share: one way to send a request through the router and read the answer,
//! and one small in-memory set-up (a one-thread index, optionally with the demo catalog).

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
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

/// A one-thread in-memory product index, with the demo catalog when asked.
pub fn small_index(with_demo: bool) -> ProductIndex {
    let index = ProductIndex::in_memory(IndexConfig::small()).unwrap();
    if with_demo {
        demo::load(&index).unwrap();
    }
    index
}

/// The state over [`small_index`] with the demo catalog.
pub fn demo_state(config: &Config) -> AppState {
    AppState::with_index(small_index(true), config).unwrap()
}

/// The app over an in-memory index, with the demo catalog when asked.
pub fn app(with_demo: bool) -> Router {
    app_with(with_demo, config())
}

/// [`app`] with `config`.
pub fn app_with(with_demo: bool, config: Config) -> Router {
    router(AppState::with_index(small_index(with_demo), &config).unwrap(), &config.http)
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

/// An answer: status, headers, the body's bytes, and the body as JSON (`Null` when it is not).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub json: Value,
    pub content_type: String,
}

/// Sends `request` through the router, no socket.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Reply { status, headers, body, json, content_type }
}

/// `method uri` with an optional `(content type, body)`; the answer must be JSON.
pub async fn call(app: &Router, method: Method, uri: &str, body: Option<(&str, &str)>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    let body = match body {
        Some((content_type, text)) => {
            request = request.header("content-type", content_type);
            Body::from(text.to_string())
        }
        None => Body::empty(),
    };
    let reply = send(app, request.body(body).unwrap()).await;
    assert!(
        serde_json::from_slice::<Value>(&reply.body).is_ok(),
        "{uri}: body is not JSON: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    call(app, Method::GET, uri, None).await
}

pub async fn send_json(app: &Router, method: Method, uri: &str, body: &str) -> Reply {
    call(app, method, uri, Some(("application/json", body))).await
}
