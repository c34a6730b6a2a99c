//! What wraps every route: authentication (API keys, JWTs) and rate limits, HTTP hygiene
//! (limits, timeouts, CORS, compression, headers), Prometheus metrics, and the response cache.

pub mod auth;
pub mod cache;
pub(crate) mod hygiene;
pub mod limits;
pub(crate) mod metrics;
