//! The HTTP listener: metrics, health, live statistics, a status page and
//! a KV REST API over the engine, for operators and for clients that only
//! speak HTTP.
//!
//! Like the other protocols, HTTP runs inside the worker loop: each
//! worker owns an SO_REUSEPORT listener (default 127.0.0.1:9380), frames
//! requests from the connection's input ([`request`]), runs each one to
//! completion (the KV API calls the worker's own engine handle) and writes
//! the response into the connection's output buffer, which the worker
//! flushes under the usual output cap. HTTP/1.1 keep-alive and pipelining
//! are supported; HTTP/1.0 closes unless it asks for keep-alive.
//!
//! Routes:
//! - `GET /`: the status page ([`monitor`], `status.html`);
//! - `GET /metrics`: Prometheus text; `GET /stats`: the same as JSON;
//! - `GET /health` (and `/health/ready`): 200 when ready, 503 otherwise;
//!   `GET /health/live`: 200 while the process serves at all;
//! - `/api/v1/kv...`: the KV API ([`kv`]), behind the server's password.
//!
//! Limits, each answered with an error and never a crash: a request head
//! of at most 16 KiB and 64 headers (431), a body of at most
//! `http_max_body_bytes` (413), chunked bodies decoded under the same
//! limit, other transfer codings 501, malformed requests 400. Every one of
//! those closes the connection after the reply, since the end of the
//! refused request cannot be trusted. Errors are JSON `{"error":"..."}`.

mod kv;
mod monitor;
pub mod request;
pub mod response;

use std::time::Instant;

use crate::engine::EngineWorker;
use crate::runtime::Shared;
use crate::stats::WorkerStats;
use request::{ChunkProgress, Method, Parsed, Request};
use response::{Framing, Response, JSON};

/// Sent before closing a connection over maxclients.
pub const TOO_MANY_CLIENTS: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
    Content-Length: 41\r\nConnection: close\r\n\r\n{\"error\":\"max number of clients reached\"}";

/// Per-connection HTTP state.
pub struct HttpSession {
    /// The server-wide client id (log lines name it).
    pub client_id: u64,
    /// Where the walk over an incomplete chunked body stopped.
    chunks: ChunkProgress,
    /// `100 Continue` went out for the request still incomplete.
    continue_sent: bool,
    /// Requests answered on this connection.
    pub requests: u64,
    /// The client connects from a loopback address: without a password
    /// only those may use the KV API (as PostgreSQL without users).
    loopback_peer: bool,
    /// For the failed-login limiter.
    peer_ip: Option<std::net::IpAddr>,
}

impl HttpSession {
    pub fn new(client_id: u64, peer: Option<std::net::SocketAddr>) -> HttpSession {
        HttpSession {
            client_id,
            chunks: ChunkProgress::default(),
            continue_sent: false,
            requests: 0,
            loopback_peer: peer.is_some_and(|peer| peer.ip().to_canonical().is_loopback()),
            peer_ip: peer.map(|peer| peer.ip()),
        }
    }
}

/// What a request needs from its worker.
pub struct Ctx<'a> {
    /// The worker's engine handle (the KV API's database 0).
    pub worker: &'a mut EngineWorker,
    /// The connection's output buffer.
    pub out: &'a mut Vec<u8>,
    /// Bytes at the start of `out` already written to the socket.
    pub out_sent: usize,
    pub shared: &'a Shared,
    pub stats: &'a WorkerStats,
}

/// What the worker does with the connection next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Every complete request ran; wait for more input.
    Continue,
    /// A request is incomplete; its whole size, when known.
    NeedInput(Option<usize>),
    /// Close once the output is written (the rest of the input is dropped).
    Close,
}

/// The routes, as counted in the statistics (`command` label of the
/// `http` protocol): page, metrics, health, stats, get, put, delete,
/// batch, list, and other for unknown paths, wrong methods and refused
/// requests.
pub use crate::stats::HttpRoute as Route;

/// The statistics hook for one answered request: every HTTP request goes
/// through here. `clock` is when the request's input was read (or the
/// previous request ended); the hook advances it.
fn count_request(ctx: &Ctx<'_>, route: Route, status: u16, clock: &mut Instant) {
    ctx.stats.count_http(ctx.shared, route, status, clock);
}

/// Runs every complete request at the start of `input`; returns the bytes
/// consumed and what comes next. Stops early once the connection's
/// unsent output is over the cap (the worker then drops the client).
pub fn handle(session: &mut HttpSession, input: &[u8], ctx: &mut Ctx<'_>) -> (usize, Next) {
    let max_body_bytes = ctx.shared.config.http_max_body_bytes;
    let max_output_bytes = ctx.shared.live.max_output_buffer_bytes();
    // Called right after a read: the first request's time starts here.
    let mut clock = Instant::now();
    let mut pos = 0;
    while pos < input.len() && ctx.out.len() - ctx.out_sent <= max_output_bytes {
        match request::parse(&input[pos..], &mut session.chunks, max_body_bytes) {
            Parsed::Complete { request, consumed } => {
                session.chunks = ChunkProgress::default();
                session.continue_sent = false;
                session.requests += 1;
                let framing = Framing {
                    head_only: request.method == Method::Head,
                    close: !request.keep_alive,
                    keep_alive_1_0: request.keep_alive && request.minor_version == 0,
                };
                let mut reply = Reply {
                    out: ctx.out,
                    framing,
                    status: 0,
                };
                let route = run(
                    &request, &mut reply, ctx.worker, ctx.shared, ctx.stats, session,
                );
                let status = reply.status;
                count_request(ctx, route, status, &mut clock);
                pos += consumed;
                if framing.close {
                    return (input.len(), Next::Close);
                }
            }
            Parsed::Incomplete {
                needed_bytes,
                expect_continue,
            } => {
                if expect_continue && !session.continue_sent {
                    ctx.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                    session.continue_sent = true;
                }
                return (pos, Next::NeedInput(needed_bytes));
            }
            Parsed::Invalid(error) => {
                crate::log_debug!(conn = session.client_id;
                    "HTTP request refused ({}): {}", error.status, error.message);
                let mut reply = Reply {
                    out: ctx.out,
                    framing: Framing {
                        head_only: false,
                        close: true,
                        keep_alive_1_0: false,
                    },
                    status: 0,
                };
                reply.error(error.status, &error.message);
                count_request(ctx, Route::Other, error.status, &mut clock);
                return (input.len(), Next::Close);
            }
        }
    }
    (pos, Next::Continue)
}

/// Where a path leads.
enum Target<'p> {
    Page,
    Metrics,
    Health,
    Live,
    Stats,
    /// `/api/v1/kv`: list (GET) and batch (POST).
    KvCollection,
    /// `/api/v1/kv/{key}`, the key still percent-encoded.
    KvKey(&'p str),
    NotFound,
}

const KV_PREFIX: &str = "/api/v1/kv";

fn target(path: &str) -> Target<'_> {
    match path {
        "/" | "/index.html" => Target::Page,
        "/metrics" => Target::Metrics,
        "/health" | "/health/ready" => Target::Health,
        "/health/live" => Target::Live,
        "/stats" => Target::Stats,
        KV_PREFIX => Target::KvCollection,
        _ => match path
            .strip_prefix(KV_PREFIX)
            .and_then(|p| p.strip_prefix('/'))
        {
            Some(key) => Target::KvKey(key),
            None => Target::NotFound,
        },
    }
}

const READ_ONLY: &str = "GET, HEAD";

/// Routes one request and writes its response; returns the route.
fn run(
    request: &Request<'_>,
    reply: &mut Reply<'_>,
    worker: &mut EngineWorker,
    shared: &Shared,
    stats: &WorkerStats,
    session: &HttpSession,
) -> Route {
    if request.path.starts_with("/api/") {
        // Credentials against a password are a login: limited per address
        // and counted when wrong, as on the other listeners.
        let login = request.authorization.is_some() && shared.live.requirepass().is_some();
        if login {
            if let Err(remaining) = shared.live.acl.limiter.check(session.peer_ip) {
                stats.auth_failed(crate::stats::Protocol::Http);
                stats.auth_rate_limited(crate::stats::Protocol::Http);
                let retry = (remaining.as_secs() + 1).to_string();
                reply.error_with(
                    429,
                    &crate::acl::blocked_text(remaining),
                    &[("Retry-After", &retry)],
                );
                return Route::Other;
            }
        }
        let access = kv::access(shared, request.authorization, session.loopback_peer);
        if login && access == kv::Access::NeedsPassword {
            stats.auth_failed(crate::stats::Protocol::Http);
            shared.live.acl.limiter.failure(session.peer_ip);
        }
        if access != kv::Access::Granted {
            crate::log_debug!(conn = session.client_id; "HTTP KV API request refused: {access:?}");
        }
        match access {
            kv::Access::Granted => {}
            kv::Access::NeedsPassword => {
                let message = if request.authorization.is_some() {
                    "invalid credentials"
                } else {
                    "authentication required"
                };
                reply.error_with(
                    401,
                    message,
                    &[("WWW-Authenticate", "Basic realm=\"corewire\"")],
                );
                return Route::Other;
            }
            kv::Access::LoopbackOnly => {
                reply.error(
                    403,
                    "without a password (requirepass) the KV API serves loopback clients only",
                );
                return Route::Other;
            }
        }
    }
    let method = request.method;
    let read = matches!(method, Method::Get | Method::Head);
    match target(request.path) {
        Target::Page if read => monitor::page(reply),
        Target::Metrics if read => monitor::metrics(reply, shared),
        Target::Health if read => monitor::health(reply, shared),
        Target::Live if read => monitor::live(reply),
        Target::Stats if read => monitor::stats(reply, shared),
        Target::Page | Target::Metrics | Target::Health | Target::Live | Target::Stats => {
            method_not_allowed(reply, READ_ONLY)
        }
        Target::KvCollection => match method {
            Method::Get | Method::Head => kv::list(reply, worker, request.query),
            Method::Post => kv::batch(reply, worker, &request.body),
            _ => method_not_allowed(reply, "GET, HEAD, POST"),
        },
        Target::KvKey(encoded) => {
            let Ok(key) = request::percent_decode(encoded, false) else {
                reply.error(400, "invalid percent-encoding in the key");
                return Route::Other;
            };
            match method {
                Method::Get | Method::Head => kv::get(reply, worker, &key, request.accept_json),
                Method::Put => kv::put(reply, worker, &key, request),
                Method::Delete => kv::delete(reply, worker, &key),
                _ => method_not_allowed(reply, "GET, HEAD, PUT, DELETE"),
            }
        }
        Target::NotFound => {
            reply.error(404, "not found");
            Route::Other
        }
    }
}

fn method_not_allowed(reply: &mut Reply<'_>, allow: &str) -> Route {
    reply.error_with(405, "method not allowed", &[("Allow", allow)]);
    Route::Other
}

/// Writes one response for the current request, remembering its status.
pub(crate) struct Reply<'o> {
    out: &'o mut Vec<u8>,
    framing: Framing,
    /// The status written last (0: none yet).
    status: u16,
}

impl Reply<'_> {
    fn send(&mut self, response: &Response<'_>) {
        self.status = response.status;
        response::write(self.out, self.framing, response);
    }

    /// Writes the head for a body of `body_len` bytes; then the caller
    /// appends the body through [`body`](Self::body).
    fn send_head(&mut self, response: &Response<'_>, body_len: usize) {
        self.status = response.status;
        response::write_head(self.out, self.framing, response, body_len);
    }

    /// Appends body bytes after [`send_head`](Self::send_head) (dropped
    /// for HEAD).
    fn body(&mut self, bytes: &[u8]) {
        if !self.framing.head_only {
            self.out.extend_from_slice(bytes);
        }
    }

    fn json(&mut self, status: u16, value: &serde_json::Value) {
        let body = value.to_string();
        self.send(&Response::new(status, JSON, body.as_bytes()));
    }

    fn error(&mut self, status: u16, message: &str) {
        self.error_with(status, message, &[]);
    }

    fn error_with(&mut self, status: u16, message: &str, headers: &[(&str, &str)]) {
        let body = response::error_body(message);
        self.send(&Response::new(status, JSON, &body).with_headers(headers));
    }
}
