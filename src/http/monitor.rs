//! The open routes: the status page, /metrics, /stats and /health. They
//! hold no secrets, so they need no password.

use serde_json::json;

use super::response::{Response, HTML, JSON, PROMETHEUS};
use super::{Reply, Route};
use crate::runtime::Shared;

/// The status page: static HTML whose script polls /stats every second.
const STATUS_PAGE: &str = include_str!("status.html");

pub fn page(reply: &mut Reply<'_>) -> Route {
    reply.send(&Response::new(200, HTML, STATUS_PAGE.as_bytes()));
    Route::Page
}

pub fn metrics(reply: &mut Reply<'_>, shared: &Shared) -> Route {
    let text = crate::stats::prometheus_text(shared);
    reply.send(&Response::new(200, PROMETHEUS, text.as_bytes()));
    Route::Metrics
}

pub fn stats(reply: &mut Reply<'_>, shared: &Shared) -> Route {
    let text = crate::stats::json_text(shared);
    reply.send(&Response::new(200, JSON, text.as_bytes()));
    Route::Stats
}

/// Readiness: 200 while the server takes work, 503 while it recovers or
/// drains (load balancers stop sending it new clients).
pub fn health(reply: &mut Reply<'_>, shared: &Shared) -> Route {
    if shared.is_ready() {
        reply.json(
            200,
            &json!({ "live": true, "ready": true, "status": "ready" }),
        );
    } else {
        reply.json(
            503,
            &json!({ "live": true, "ready": false, "status": "unavailable" }),
        );
    }
    Route::Health
}

/// Liveness: the loop answered, whatever the readiness.
pub fn live(reply: &mut Reply<'_>) -> Route {
    reply.json(200, &json!({ "live": true }));
    Route::Health
}
