//! HTTP API tests through `router` with `tower::ServiceExt::oneshot` (no socket).

mod auth;
mod autocomplete;
mod browser;
mod cache;
mod common;
mod errors;
mod fuzz;
mod http;
mod metrics;
mod offers;
mod openapi;
mod ranking;
mod recommend;
mod rfis;
mod search;
mod settings;
mod snapshots;
mod tenants;
mod vendors;
mod writes;

pub use common::{LiveServer, Reply, app, app_with, call, config, get, send_json};
