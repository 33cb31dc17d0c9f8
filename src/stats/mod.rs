//! Counters, latency histograms and the slow log.
//!
//! Each worker owns one [`WorkerStats`] and is its only writer, so a bump
//! is a plain relaxed load and store ([`Counter`]): no locked instruction
//! and no contended cache line on the request path. Readers (INFO,
//! `/metrics`, `/stats`, the admin console) sum the workers on read, all
//! through [`Snapshot`], so they agree.
//!
//! What a "command" is, per protocol (each is counted once, timed once,
//! and is one observation of the protocol's latency histogram, so a
//! histogram's `_count` is the sum of its protocol's commands):
//! - RESP: one request, under the command it names (`config|get` for a
//!   subcommand, `unknown` for names corewire does not know, other data
//!   types' commands included). A command queued inside MULTI counts when
//!   it is queued; EXEC's time covers the queued commands it runs. A
//!   request refused before running (arity, NOAUTH) counts as rejected.
//! - PostgreSQL: one statement: each statement of a simple Query, each
//!   Execute of the extended protocol (its time includes the Parse, Bind
//!   and Describe before it), by kind ([`PgKind`]). A Query or Parse that
//!   fails to parse is an error but not a command.
//! - HTTP: one request, by route ([`HttpRoute`]).
//!
//! A command's time runs from the end of the previous one on the same
//! connection, or from the read that brought it in, to its end: one clock
//! read per command, and none at all while metrics, the slow log and the
//! slow-statement log are all off ([`Timing`]).
//!
//! With metrics off (`metrics_enabled = false`) only the basic counters
//! remain (the ones INFO always had: connections, commands, bytes,
//! keyspace, engine, disconnects); per-command counters, error kinds and
//! histograms stand still.
//!
//! Not yet kept, because what they measure does not exist yet: log and
//! fsync timings (durability) and upstream pool states (pooling). Their
//! families belong next to the engine ones in `prometheus.rs`.

pub mod histogram;
mod json;
mod prometheus;
pub mod slowlog;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::runtime::Shared;
use histogram::{bucket_of, Buckets, BUCKETS};
pub use json::json_text;
pub use prometheus::prometheus_text;
use slowlog::SlowLog;

/// A counter with a single writer.
#[derive(Default, Debug)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Only the owning worker may call this.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Only the owning worker may call this.
    #[inline]
    pub fn sub(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_sub(n), Relaxed);
    }

    /// Only the owning worker may call this (gauges it samples).
    #[inline]
    pub fn set(&self, n: u64) {
        self.0.store(n, Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The protocols a worker serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Resp = 0,
    Pg = 1,
    Http = 2,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Resp, Protocol::Pg, Protocol::Http];

    /// The `protocol` label value.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Resp => "resp",
            Protocol::Pg => "pg",
            Protocol::Http => "http",
        }
    }
}

/// What a connection is doing, for the `corewire_connections` gauges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConnState {
    /// PostgreSQL before authentication completes.
    Authenticating = 0,
    /// Connected, no transaction open.
    #[default]
    Idle = 1,
    /// RESP inside MULTI; PostgreSQL inside BEGIN (a failed block too).
    InTransaction = 2,
}

impl ConnState {
    pub const ALL: [ConnState; 3] = [
        ConnState::Authenticating,
        ConnState::Idle,
        ConnState::InTransaction,
    ];

    /// The `state` label value.
    pub fn name(self) -> &'static str {
        match self {
            ConnState::Authenticating => "authenticating",
            ConnState::Idle => "idle",
            ConnState::InTransaction => "in_transaction",
        }
    }

    /// The states a protocol's connections can be in (the gauges shown).
    pub fn valid_for(self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Resp => self != ConnState::Authenticating,
            Protocol::Pg => true,
            Protocol::Http => self == ConnState::Idle,
        }
    }
}

/// PostgreSQL statement kinds counted apart (`command` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgKind {
    /// kv SELECTs, and `SELECT pg_sleep(...)`.
    Select = 0,
    Insert,
    Update,
    Delete,
    /// COPY FROM STDIN and COPY TO STDOUT.
    Copy,
    Begin,
    Commit,
    Rollback,
    /// SAVEPOINT, ROLLBACK TO SAVEPOINT, RELEASE.
    Savepoint,
    /// SET and RESET.
    Set,
    Show,
    /// Empty queries, TRUNCATE, DISCARD, CLOSE, UNLISTEN, statements the
    /// general path refuses.
    Other,
}

impl PgKind {
    pub const NAMES: [&'static str; 12] = [
        "select",
        "insert",
        "update",
        "delete",
        "copy",
        "begin",
        "commit",
        "rollback",
        "savepoint",
        "set",
        "show",
        "other",
    ];
}

/// HTTP routes counted apart (`command` label). The same routes as
/// `crate::http::Route`, in the same order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpRoute {
    /// `GET /`, the status page.
    Page = 0,
    Metrics,
    Health,
    Stats,
    /// The KV API.
    Get,
    Put,
    Delete,
    Batch,
    List,
    /// Unknown paths, wrong methods, refused requests.
    Other,
}

impl HttpRoute {
    pub const NAMES: [&'static str; 10] = [
        "page", "metrics", "health", "stats", "get", "put", "delete", "batch", "list", "other",
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// RESP error kinds: the first word of the error reply (`errorstat_*` in
/// INFO). Others count as `other`.
pub const RESP_ERROR_KINDS: [&str; 14] = [
    "ERR",
    "WRONGTYPE",
    "NOAUTH",
    "WRONGPASS",
    "NOPROTO",
    "EXECABORT",
    "OOM",
    "NOSCRIPT",
    "BUSY",
    "LOADING",
    "READONLY",
    "NOPERM",
    "MISCONF",
    "other",
];

/// PostgreSQL error kinds: the SQLSTATE codes corewire sends
/// (`crate::pg::error::sqlstate`); others count as `other`.
pub const PG_ERROR_KINDS: [&str; 45] = [
    "25P01", "25001", "25P02", "25006", "40001", "42601", "42803", "21000", "2201W", "2201X",
    "42P01", "42703", "42883", "42704", "42804", "22P02", "22023", "22021", "22003", "22P03",
    "23502", "23505", "0A000", "08P01", "28000", "28P01", "3D000", "26000", "34000", "42P05",
    "42P03", "3B001", "57014", "57P01", "53300", "54000", "53200", "XX000", "22P04", "22025",
    "55P02", "42501", "53100", "58030", "other",
];

/// HTTP error kinds: the status of a 4xx or 5xx answer; others count as
/// `4xx` / `5xx`.
pub const HTTP_ERROR_KINDS: [&str; 20] = [
    "400", "401", "403", "404", "405", "408", "411", "413", "414", "415", "417", "429", "431",
    "500", "501", "503", "505", "4xx", "5xx", "other",
];

/// Why a connection was dropped by the server (errors_total kinds too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disconnect {
    /// Malformed input (RESP protocol error).
    ProtocolError = 0,
    /// Unsent output over client-output-buffer-limit.
    OutputLimit = 1,
    /// Unparsed input over client-query-buffer-limit.
    QueryLimit = 2,
    /// Idle past `timeout` (RESP, HTTP) or pg-client-idle-timeout-s.
    IdleTimeout = 3,
    /// Not authenticated within auth-timeout-ms.
    AuthTimeout = 4,
}

impl Disconnect {
    pub const NAMES: [&'static str; DISCONNECT_KINDS] = [
        "protocol_error",
        "output_limit",
        "query_limit",
        "idle_timeout",
        "auth_timeout",
    ];
}

/// How many `Disconnect` kinds there are.
pub const DISCONNECT_KINDS: usize = 5;

/// How a command ended, for its counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// It ran and answered an error.
    Failed,
    /// Refused before running (arity, authentication, unknown command).
    Rejected,
}

/// Counters of one command (or statement kind, or route) on one worker.
#[derive(Default, Debug)]
pub struct SlotStats {
    /// Times it was counted, rejections included.
    pub calls: Counter,
    pub rejected: Counter,
    pub failed: Counter,
    /// Total time, ns.
    pub time_ns: Counter,
    /// Latency histogram (not cumulative; see `histogram::BOUNDS_NS`).
    pub buckets: [Counter; BUCKETS],
}

/// Engine outcomes, counted where the Rust wrapper calls the engine
/// (`crate::engine`):
/// - commits: transactions committed (MULTI/EXEC, WATCH, SQL blocks and
///   implicit transactions, multi-key commands run as a transaction) plus
///   single-call writes the engine answered OK (SET, DEL, INCR, EXPIRE,
///   MSET, GETDEL, FLUSHDB, ... each one call; a conditional SET whose
///   condition failed is not one);
/// - conflicts: commits (or single-call writes) refused on a conflict;
///   retried attempts count each time;
/// - aborts: transactions dropped without a commit (ROLLBACK, DISCARD or
///   UNWATCH of a WATCH, a failed SQL block, a connection closed inside one).
#[derive(Default, Debug)]
pub struct EngineCounters {
    pub commits: Counter,
    pub conflicts: Counter,
    pub aborts: Counter,
}

/// One worker's counters, on cache lines of its own. The worker is the
/// only writer of every field (the slow log's mutex aside).
#[repr(align(128))]
pub struct WorkerStats {
    // The basic counters (always kept), summed over protocols.
    pub connections_received: Counter,
    pub connections_rejected: Counter,
    /// Open connections of every protocol (maxclients counts these).
    pub connected_clients: Counter,
    /// Commands of every protocol (INFO total_commands_processed).
    pub commands_processed: Counter,
    pub net_input_bytes: Counter,
    pub net_output_bytes: Counter,
    pub keyspace_hits: Counter,
    pub keyspace_misses: Counter,
    /// Keys the active expiry cycle reclaimed.
    pub expired_keys: Counter,
    /// Failed logins by protocol (wrong or unknown user or password, a
    /// disabled user, or refused by the failed-login limiter), and those
    /// the limiter refused.
    pub auth_failures: [Counter; 3],
    pub auth_rate_limited: [Counter; 3],
    /// RESP requests ACL refused: command not allowed, key not allowed.
    pub acl_denied_cmd: Counter,
    pub acl_denied_key: Counter,
    /// RESP error replies (INFO total_error_replies), EXEC's included.
    pub error_replies: Counter,
    pub protocol_errors: Counter,
    pub output_limit_disconnects: Counter,
    pub query_limit_disconnects: Counter,
    /// Connections that started TLS (the TLS port, PostgreSQL SSLRequest
    /// or direct TLS), and those whose handshake failed.
    pub tls_connections: Counter,
    pub tls_handshake_failures: Counter,

    // By protocol (index: Protocol as usize).
    pub accepted: [Counter; 3],
    pub rejected: [Counter; 3],
    /// Open connections by protocol and state (gauges).
    pub connections: [[Counter; 3]; 3],
    pub input_bytes: [Counter; 3],
    pub output_bytes: [Counter; 3],
    /// Disconnects by protocol and kind (Disconnect as usize).
    pub disconnects: [[Counter; DISCONNECT_KINDS]; 3],

    // Metrics (kept while metrics_enabled).
    pub resp_errors: [Counter; RESP_ERROR_KINDS.len()],
    pub pg_errors: [Counter; PG_ERROR_KINDS.len()],
    pub http_errors: [Counter; HTTP_ERROR_KINDS.len()],
    /// Per command: RESP command-table slots, then PostgreSQL kinds, then
    /// HTTP routes (see [`slot_name`]).
    slots: Box<[SlotStats]>,
    /// First PostgreSQL slot (the number of RESP slots).
    pg_base: usize,
    /// PostgreSQL transactions ended (COMMIT, ROLLBACK, a failed block's
    /// end, and each autocommit statement as a transaction of its own, as
    /// PgBouncer counts them) and their total time, ns.
    pub pg_transactions: Counter,
    pub pg_transaction_time_ns: Counter,

    /// Shared with the worker's engine handle (see [`EngineCounters`]).
    pub engine: Arc<EngineCounters>,

    /// This worker's newest slow requests.
    pub slowlog: Mutex<SlowLog>,
    /// Entries this worker ever added to its slow log.
    pub slowlog_entries: Counter,
    /// The process-wide slow log id sequence: only `stats[0]`'s is used.
    pub(crate) slowlog_next_id: AtomicU64,

    /// Commands per second over the last 1.6 s, sampled by the worker's
    /// 100 ms tick ([`WorkerStats::sample_ops`]).
    pub ops_per_sec: Counter,
    ops_rate: Mutex<OpsRate>,
}

impl Default for WorkerStats {
    fn default() -> Self {
        WorkerStats::new()
    }
}

impl WorkerStats {
    pub fn new() -> WorkerStats {
        let pg_base = resp_slots();
        WorkerStats {
            connections_received: Counter::default(),
            connections_rejected: Counter::default(),
            connected_clients: Counter::default(),
            commands_processed: Counter::default(),
            net_input_bytes: Counter::default(),
            net_output_bytes: Counter::default(),
            keyspace_hits: Counter::default(),
            keyspace_misses: Counter::default(),
            expired_keys: Counter::default(),
            auth_failures: Default::default(),
            auth_rate_limited: Default::default(),
            acl_denied_cmd: Counter::default(),
            acl_denied_key: Counter::default(),
            error_replies: Counter::default(),
            protocol_errors: Counter::default(),
            output_limit_disconnects: Counter::default(),
            query_limit_disconnects: Counter::default(),
            tls_connections: Counter::default(),
            tls_handshake_failures: Counter::default(),
            accepted: Default::default(),
            rejected: Default::default(),
            connections: Default::default(),
            input_bytes: Default::default(),
            output_bytes: Default::default(),
            disconnects: Default::default(),
            resp_errors: Default::default(),
            pg_errors: std::array::from_fn(|_| Counter::default()),
            http_errors: Default::default(),
            slots: (0..slot_count()).map(|_| SlotStats::default()).collect(),
            pg_base,
            pg_transactions: Counter::default(),
            pg_transaction_time_ns: Counter::default(),
            engine: Arc::default(),
            slowlog: Mutex::default(),
            slowlog_entries: Counter::default(),
            slowlog_next_id: AtomicU64::new(0),
            ops_per_sec: Counter::default(),
            ops_rate: Mutex::new(OpsRate::new()),
        }
    }

    // ---- connections ----

    /// A connection was accepted on `protocol`'s listener.
    pub fn conn_accepted(&self, protocol: Protocol) {
        self.connections_received.add(1);
        self.accepted[protocol as usize].add(1);
    }

    /// A connection started a TLS handshake.
    pub fn tls_accepted(&self) {
        self.tls_connections.add(1);
    }

    /// A TLS handshake failed (the connection is closed).
    pub fn tls_handshake_failed(&self) {
        self.tls_handshake_failures.add(1);
    }

    /// A login failed (the limiter's refusals included).
    pub fn auth_failed(&self, protocol: Protocol) {
        self.auth_failures[protocol as usize].add(1);
    }

    /// The failed-login limiter refused a login (also an auth failure).
    pub fn auth_rate_limited(&self, protocol: Protocol) {
        self.auth_rate_limited[protocol as usize].add(1);
    }

    /// An accepted connection was refused (maxclients) and closed.
    pub fn conn_rejected(&self, protocol: Protocol) {
        self.connections_rejected.add(1);
        self.rejected[protocol as usize].add(1);
    }

    /// A connection is open, in `state`.
    pub fn conn_opened(&self, protocol: Protocol, state: ConnState) {
        self.connections[protocol as usize][state as usize].add(1);
    }

    /// An open connection went from one state to another.
    #[inline]
    pub fn conn_moved(&self, protocol: Protocol, from: ConnState, to: ConnState) {
        if from != to {
            self.connections[protocol as usize][from as usize].sub(1);
            self.connections[protocol as usize][to as usize].add(1);
        }
    }

    /// A connection last counted in `state` closed.
    pub fn conn_closed(&self, protocol: Protocol, state: ConnState) {
        self.connections[protocol as usize][state as usize].sub(1);
    }

    /// Open connections of one protocol, every state.
    pub fn open_connections(&self, protocol: Protocol) -> u64 {
        self.connections[protocol as usize]
            .iter()
            .map(Counter::get)
            .sum()
    }

    #[inline]
    pub fn bytes_in(&self, protocol: Protocol, n: u64) {
        self.net_input_bytes.add(n);
        self.input_bytes[protocol as usize].add(n);
    }

    #[inline]
    pub fn bytes_out(&self, protocol: Protocol, n: u64) {
        self.net_output_bytes.add(n);
        self.output_bytes[protocol as usize].add(n);
    }

    /// The server dropped a connection (also in INFO's totals).
    pub fn disconnect(&self, protocol: Protocol, why: Disconnect) {
        self.disconnects[protocol as usize][why as usize].add(1);
        match why {
            Disconnect::ProtocolError => &self.protocol_errors,
            Disconnect::OutputLimit => &self.output_limit_disconnects,
            Disconnect::QueryLimit => &self.query_limit_disconnects,
            // Counted by protocol only (`disconnects`).
            Disconnect::IdleTimeout | Disconnect::AuthTimeout => return,
        }
        .add(1);
    }

    // ---- commands ----

    /// Counts one command in `slot`: its call, time and histogram bucket.
    /// Call only while metrics are on.
    #[inline]
    pub fn record(&self, slot: usize, elapsed_ns: u64, outcome: Outcome) {
        let slot = &self.slots[slot];
        slot.calls.add(1);
        slot.time_ns.add(elapsed_ns);
        slot.buckets[bucket_of(elapsed_ns)].add(1);
        match outcome {
            Outcome::Ok => {}
            Outcome::Failed => slot.failed.add(1),
            Outcome::Rejected => slot.rejected.add(1),
        }
    }

    /// The slot of a PostgreSQL statement kind.
    #[inline]
    pub fn pg_slot(&self, kind: PgKind) -> usize {
        self.pg_base + kind as usize
    }

    /// The slot of an HTTP route.
    #[inline]
    pub fn http_slot(&self, route: HttpRoute) -> usize {
        self.pg_base + PgKind::NAMES.len() + route as usize
    }

    /// Counts a RESP error reply by its first word (`text` is the reply
    /// after the `-`).
    pub fn resp_error(&self, text: &[u8]) {
        let end = text
            .iter()
            .position(|&b| b == b' ' || b == b'\r')
            .unwrap_or(text.len());
        let word = &text[..end];
        let kind = RESP_ERROR_KINDS[..RESP_ERROR_KINDS.len() - 1]
            .iter()
            .position(|kind| kind.as_bytes() == word)
            .unwrap_or(RESP_ERROR_KINDS.len() - 1);
        self.resp_errors[kind].add(1);
    }

    /// Counts a PostgreSQL error by SQLSTATE.
    pub fn pg_error(&self, code: &str) {
        let kind = PG_ERROR_KINDS[..PG_ERROR_KINDS.len() - 1]
            .iter()
            .position(|kind| *kind == code)
            .unwrap_or(PG_ERROR_KINDS.len() - 1);
        self.pg_errors[kind].add(1);
    }

    /// Counts an HTTP error answer (status 400 and up; others are ignored).
    pub fn http_error(&self, status: u16) {
        if status < 400 {
            return;
        }
        let text = status.to_string();
        let kind = HTTP_ERROR_KINDS[..HTTP_ERROR_KINDS.len() - 3]
            .iter()
            .position(|kind| *kind == text)
            .unwrap_or(match status {
                400..=499 => HTTP_ERROR_KINDS.len() - 3,
                500..=599 => HTTP_ERROR_KINDS.len() - 2,
                _ => HTTP_ERROR_KINDS.len() - 1,
            });
        self.http_errors[kind].add(1);
    }

    /// One HTTP request answered (the HTTP listener's hook): counts it
    /// under its route with its status, and times it from `clock` (the
    /// connection's last read or previous request end; advanced to now).
    pub fn count_http(&self, shared: &Shared, route: HttpRoute, status: u16, clock: &mut Instant) {
        self.commands_processed.add(1);
        if !shared.live.metrics_enabled() {
            return;
        }
        let elapsed_ns = lap(clock);
        let outcome = if status >= 400 {
            self.http_error(status);
            Outcome::Failed
        } else {
            Outcome::Ok
        };
        self.record(self.http_slot(route), elapsed_ns, outcome);
    }

    /// A PostgreSQL transaction ended after `elapsed_ns`.
    pub fn pg_transaction(&self, elapsed_ns: u64) {
        self.pg_transactions.add(1);
        self.pg_transaction_time_ns.add(elapsed_ns);
    }

    /// The worker's 100 ms tick: samples its commands per second.
    pub fn sample_ops(&self, now_ms: u64) {
        let mut rate = self.ops_rate.lock();
        rate.sample(now_ms, self.commands_processed.get());
        self.ops_per_sec.set(rate.per_sec());
    }

    pub fn slot(&self, slot: usize) -> &SlotStats {
        &self.slots[slot]
    }
}

/// RESP slots: the command table, subcommands included, then `unknown`.
fn resp_slots() -> usize {
    crate::resp::cmd::slot_names().len()
}

/// Every slot: RESP, PostgreSQL kinds, HTTP routes.
pub fn slot_count() -> usize {
    resp_slots() + PgKind::NAMES.len() + HttpRoute::NAMES.len()
}

/// A slot's protocol and `command` label.
pub fn slot_name(slot: usize) -> (Protocol, &'static str) {
    let resp = crate::resp::cmd::slot_names();
    if slot < resp.len() {
        return (Protocol::Resp, resp[slot]);
    }
    let slot = slot - resp.len();
    if slot < PgKind::NAMES.len() {
        return (Protocol::Pg, PgKind::NAMES[slot]);
    }
    (Protocol::Http, HttpRoute::NAMES[slot - PgKind::NAMES.len()])
}

/// What a request must do once it ran, from the live settings (three
/// relaxed loads of lines nobody writes on the request path).
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub metrics: bool,
    slowlog_us: i64,
    log_ms: i64,
}

impl Timing {
    #[inline]
    pub fn load(live: &crate::config::LiveConfig) -> Timing {
        Timing {
            metrics: live.metrics_enabled(),
            slowlog_us: live.slowlog_log_slower_than_us(),
            log_ms: live.log_min_duration_statement_ms(),
        }
    }

    /// Whether the request needs its time at all.
    #[inline]
    pub fn timed(&self) -> bool {
        self.metrics || self.slowlog_us >= 0 || self.log_ms >= 0
    }

    /// Whether the slow log is on.
    #[inline]
    pub fn slowlog_on(&self) -> bool {
        self.slowlog_us >= 0
    }

    /// Whether the slow-statement log line is on.
    #[inline]
    pub fn log_on(&self) -> bool {
        self.log_ms >= 0
    }

    /// Whether a request that took `elapsed_ns` enters the slow log
    /// (Redis: duration in µs >= slowlog-log-slower-than).
    #[inline]
    pub fn slow(&self, elapsed_ns: u64) -> bool {
        self.slowlog_us >= 0 && elapsed_ns / 1000 >= self.slowlog_us as u64
    }

    /// Whether it is also written to the log (log_min_duration_statement).
    #[inline]
    pub fn logged(&self, elapsed_ns: u64) -> bool {
        self.log_ms >= 0 && elapsed_ns / 1_000_000 >= self.log_ms as u64
    }

    /// Either of the two.
    #[inline]
    pub fn noteworthy(&self, elapsed_ns: u64) -> bool {
        self.slow(elapsed_ns) || self.logged(elapsed_ns)
    }
}

/// Advances a connection's clock to now and returns the nanoseconds since
/// its previous value: the one clock read a timed command costs.
#[inline]
pub fn lap(clock: &mut Instant) -> u64 {
    let now = Instant::now();
    let elapsed = now.saturating_duration_since(*clock).as_nanos() as u64;
    *clock = now;
    elapsed
}

/// Sums one field over all workers.
pub fn total(workers: &[WorkerStats], field: impl Fn(&WorkerStats) -> &Counter) -> u64 {
    workers.iter().map(|w| field(w).get()).sum()
}

/// Operations per second over the last sample window, kept by a worker's
/// housekeeping tick (Redis samples every 100 ms over 16 samples).
pub struct OpsRate {
    samples: [u64; 16],
    next: usize,
    last_commands: u64,
    last_ms: u64,
}

impl OpsRate {
    pub fn new() -> OpsRate {
        OpsRate {
            samples: [0; 16],
            next: 0,
            last_commands: 0,
            last_ms: 0,
        }
    }

    /// Records a sample; `commands` is the total so far.
    pub fn sample(&mut self, now_ms: u64, commands: u64) {
        if self.last_ms != 0 && now_ms > self.last_ms {
            let per_sec =
                commands.wrapping_sub(self.last_commands) * 1000 / (now_ms - self.last_ms);
            self.samples[self.next] = per_sec;
            self.next = (self.next + 1) % self.samples.len();
        }
        self.last_commands = commands;
        self.last_ms = now_ms;
    }

    pub fn per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

impl Default for OpsRate {
    fn default() -> Self {
        OpsRate::new()
    }
}

// ---- reading ----

/// The engine's figures (see [`EngineCounters`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineFigures {
    pub commits: u64,
    pub conflicts: u64,
    pub aborts: u64,
}

/// One worker's figures, or all workers' summed ([`Snapshot::total`]).
/// Arrays indexed by protocol are `[resp, pg, http]` (`Protocol as
/// usize`); by state `[authenticating, idle, in_transaction]`.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// Open connections by protocol and state.
    pub connections: [[u64; 3]; 3],
    /// Connections accepted / refused (maxclients) by protocol.
    pub accepted: [u64; 3],
    pub rejected: [u64; 3],
    /// Commands of every protocol (the basic counter, kept with metrics
    /// off too; INFO total_commands_processed).
    pub commands_processed: u64,
    /// Commands by protocol (metrics only; with metrics on, their sum is
    /// `commands_processed`).
    pub commands: [u64; 3],
    /// Commands answered with an error, by protocol (metrics only).
    pub failed: [u64; 3],
    /// Commands refused before running, by protocol (metrics only).
    pub rejected_commands: [u64; 3],
    /// Latency by protocol: histogram and total time, ns (metrics only).
    pub latency: [Buckets; 3],
    pub latency_ns: [u64; 3],
    /// Bytes read and written, by protocol and in all.
    pub input_bytes: [u64; 3],
    pub output_bytes: [u64; 3],
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    /// Commands per second (sampled every 100 ms over 1.6 s).
    pub ops_per_sec: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    /// Connections that started TLS, and failed TLS handshakes.
    pub tls_connections: u64,
    pub tls_handshake_failures: u64,
    /// RESP error replies (INFO total_error_replies).
    pub error_replies: u64,
    /// Server-side disconnects by protocol and kind (Disconnect as usize).
    pub disconnects: [[u64; DISCONNECT_KINDS]; 3],
    pub engine: EngineFigures,
    /// PostgreSQL transactions ended and their total time, ns.
    pub pg_transactions: u64,
    pub pg_transaction_time_ns: u64,
    /// Entries added to the slow log.
    pub slowlog_entries: u64,
    /// Failed logins and limiter refusals by protocol; ACL refusals.
    pub auth_failures: [u64; 3],
    pub auth_rate_limited: [u64; 3],
    pub acl_denied_cmd: u64,
    pub acl_denied_key: u64,
}

impl Figures {
    /// Open connections of a protocol, every state.
    pub fn open(&self, protocol: Protocol) -> u64 {
        self.connections[protocol as usize].iter().sum()
    }

    fn add(&mut self, other: &Figures) {
        fn add3(a: &mut [u64; 3], b: &[u64; 3]) {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
        for p in 0..3 {
            add3(&mut self.connections[p], &other.connections[p]);
            for (a, b) in self.disconnects[p].iter_mut().zip(&other.disconnects[p]) {
                *a += b;
            }
            self.latency[p].add(&other.latency[p]);
        }
        add3(&mut self.accepted, &other.accepted);
        add3(&mut self.rejected, &other.rejected);
        add3(&mut self.commands, &other.commands);
        add3(&mut self.failed, &other.failed);
        add3(&mut self.rejected_commands, &other.rejected_commands);
        add3(&mut self.latency_ns, &other.latency_ns);
        add3(&mut self.input_bytes, &other.input_bytes);
        add3(&mut self.output_bytes, &other.output_bytes);
        self.commands_processed += other.commands_processed;
        self.net_input_bytes += other.net_input_bytes;
        self.net_output_bytes += other.net_output_bytes;
        self.ops_per_sec += other.ops_per_sec;
        self.keyspace_hits += other.keyspace_hits;
        self.keyspace_misses += other.keyspace_misses;
        self.expired_keys += other.expired_keys;
        self.tls_connections += other.tls_connections;
        self.tls_handshake_failures += other.tls_handshake_failures;
        self.error_replies += other.error_replies;
        self.engine.commits += other.engine.commits;
        self.engine.conflicts += other.engine.conflicts;
        self.engine.aborts += other.engine.aborts;
        self.pg_transactions += other.pg_transactions;
        self.pg_transaction_time_ns += other.pg_transaction_time_ns;
        self.slowlog_entries += other.slowlog_entries;
        add3(&mut self.auth_failures, &other.auth_failures);
        add3(&mut self.auth_rate_limited, &other.auth_rate_limited);
        self.acl_denied_cmd += other.acl_denied_cmd;
        self.acl_denied_key += other.acl_denied_key;
    }
}

/// One command's figures, summed over workers.
#[derive(Clone, Debug)]
pub struct CommandFigures {
    pub protocol: Protocol,
    /// The `command` label: a RESP command (`get`, `config|get`,
    /// `unknown`), a [`PgKind`] or an [`HttpRoute`] name.
    pub name: &'static str,
    /// Times counted, rejections included.
    pub calls: u64,
    pub rejected: u64,
    pub failed: u64,
    pub time_ns: u64,
    pub latency: Buckets,
}

/// Every figure at one moment (read worker by worker without stopping
/// them, so figures of different workers may be microseconds apart): what
/// INFO, `/metrics`, `/stats` and the admin console's SHOW STATS / SHOW
/// WORKERS all print.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub uptime_seconds: u64,
    /// Per worker, by worker id.
    pub workers: Vec<Figures>,
    /// All workers summed.
    pub total: Figures,
    /// Commands counted at least once, all workers summed, RESP (in
    /// command-table order) then PostgreSQL then HTTP.
    pub commands: Vec<CommandFigures>,
    /// Errors by protocol and kind, all workers summed, non-zero only:
    /// RESP error prefixes, SQLSTATEs, HTTP statuses, then the
    /// disconnect kinds (`protocol_error`, `output_limit`, `query_limit`).
    pub errors: Vec<(Protocol, &'static str, u64)>,
    /// The engine's durability figures; None without a data-dir.
    pub storage: Option<crate::engine::StorageInfo>,
}

impl Snapshot {
    pub fn take(shared: &Shared) -> Snapshot {
        let slots = slot_count();
        let mut commands: Vec<CommandFigures> = (0..slots)
            .map(|slot| {
                let (protocol, name) = slot_name(slot);
                CommandFigures {
                    protocol,
                    name,
                    calls: 0,
                    rejected: 0,
                    failed: 0,
                    time_ns: 0,
                    latency: Buckets::default(),
                }
            })
            .collect();
        let mut errors: Vec<(Protocol, &'static str, u64)> = RESP_ERROR_KINDS
            .iter()
            .map(|k| (Protocol::Resp, *k, 0))
            .chain(PG_ERROR_KINDS.iter().map(|k| (Protocol::Pg, *k, 0)))
            .chain(HTTP_ERROR_KINDS.iter().map(|k| (Protocol::Http, *k, 0)))
            .collect();
        let mut workers = Vec::with_capacity(shared.stats.len());
        for w in shared.stats.iter() {
            let mut f = Figures {
                connections: w
                    .connections
                    .each_ref()
                    .map(|states| states.each_ref().map(Counter::get)),
                accepted: w.accepted.each_ref().map(Counter::get),
                rejected: w.rejected.each_ref().map(Counter::get),
                commands_processed: w.commands_processed.get(),
                input_bytes: w.input_bytes.each_ref().map(Counter::get),
                output_bytes: w.output_bytes.each_ref().map(Counter::get),
                net_input_bytes: w.net_input_bytes.get(),
                net_output_bytes: w.net_output_bytes.get(),
                ops_per_sec: w.ops_per_sec.get(),
                keyspace_hits: w.keyspace_hits.get(),
                keyspace_misses: w.keyspace_misses.get(),
                expired_keys: w.expired_keys.get(),
                tls_connections: w.tls_connections.get(),
                tls_handshake_failures: w.tls_handshake_failures.get(),
                error_replies: w.error_replies.get(),
                disconnects: w
                    .disconnects
                    .each_ref()
                    .map(|kinds| kinds.each_ref().map(Counter::get)),
                engine: EngineFigures {
                    commits: w.engine.commits.get(),
                    conflicts: w.engine.conflicts.get(),
                    aborts: w.engine.aborts.get(),
                },
                pg_transactions: w.pg_transactions.get(),
                pg_transaction_time_ns: w.pg_transaction_time_ns.get(),
                slowlog_entries: w.slowlog_entries.get(),
                auth_failures: w.auth_failures.each_ref().map(Counter::get),
                auth_rate_limited: w.auth_rate_limited.each_ref().map(Counter::get),
                acl_denied_cmd: w.acl_denied_cmd.get(),
                acl_denied_key: w.acl_denied_key.get(),
                ..Figures::default()
            };
            for (slot, command) in w.slots.iter().zip(commands.iter_mut()) {
                let calls = slot.calls.get();
                if calls == 0 {
                    continue;
                }
                let p = command.protocol as usize;
                let latency = Buckets::read(&slot.buckets);
                let (rejected, failed, time_ns) =
                    (slot.rejected.get(), slot.failed.get(), slot.time_ns.get());
                f.commands[p] += calls;
                f.failed[p] += failed;
                f.rejected_commands[p] += rejected;
                f.latency_ns[p] += time_ns;
                f.latency[p].add(&latency);
                command.calls += calls;
                command.rejected += rejected;
                command.failed += failed;
                command.time_ns += time_ns;
                command.latency.add(&latency);
            }
            let kinds = w
                .resp_errors
                .iter()
                .chain(w.pg_errors.iter())
                .chain(w.http_errors.iter());
            for (counter, error) in kinds.zip(errors.iter_mut()) {
                error.2 += counter.get();
            }
            workers.push(f);
        }
        let mut total = Figures::default();
        for worker in &workers {
            total.add(worker);
        }
        for protocol in Protocol::ALL {
            for (kind, name) in Disconnect::NAMES.iter().enumerate() {
                errors.push((protocol, name, total.disconnects[protocol as usize][kind]));
            }
        }
        commands.retain(|c| c.calls > 0);
        errors.retain(|e| e.2 > 0);
        Snapshot {
            uptime_seconds: shared.started.elapsed().as_secs(),
            workers,
            total,
            commands,
            errors,
            storage: shared.storage.as_ref().and_then(|storage| storage.info()),
        }
    }

    /// The figures of one command, if it was counted.
    pub fn command(&self, protocol: Protocol, name: &str) -> Option<&CommandFigures> {
        self.commands
            .iter()
            .find(|c| c.protocol == protocol && c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_every_worker() {
        let workers: Vec<WorkerStats> = (0..3).map(|_| WorkerStats::default()).collect();
        workers[0].commands_processed.add(2);
        workers[2].commands_processed.add(5);
        workers[2].connected_clients.add(3);
        workers[2].connected_clients.sub(1);
        assert_eq!(total(&workers, |w| &w.commands_processed), 7);
        assert_eq!(total(&workers, |w| &w.connected_clients), 2);
    }

    #[test]
    fn ops_rate_averages_samples() {
        let mut rate = OpsRate::new();
        rate.sample(1000, 0);
        for i in 1..=16 {
            rate.sample(1000 + i * 100, i * 100);
        }
        assert_eq!(rate.per_sec(), 1000);
    }

    #[test]
    fn slots_name_every_protocol() {
        let stats = WorkerStats::new();
        assert_eq!(slot_name(0), (Protocol::Resp, "get"));
        assert_eq!(
            slot_name(stats.pg_slot(PgKind::Select)),
            (Protocol::Pg, "select")
        );
        assert_eq!(
            slot_name(stats.pg_slot(PgKind::Other)),
            (Protocol::Pg, "other")
        );
        assert_eq!(
            slot_name(stats.http_slot(HttpRoute::Metrics)),
            (Protocol::Http, "metrics")
        );
        assert_eq!(stats.http_slot(HttpRoute::Other), slot_count() - 1);
    }

    #[test]
    fn errors_are_kept_by_kind() {
        let stats = WorkerStats::new();
        stats.resp_error(b"ERR unknown command 'x'\r\n");
        stats.resp_error(b"WRONGTYPE Operation\r\n");
        stats.resp_error(b"WEIRD thing\r\n");
        stats.pg_error("42601");
        stats.pg_error("99999");
        stats.http_error(404);
        stats.http_error(418);
        stats.http_error(200);
        assert_eq!(stats.resp_errors[0].get(), 1);
        assert_eq!(stats.resp_errors[1].get(), 1);
        assert_eq!(stats.resp_errors[RESP_ERROR_KINDS.len() - 1].get(), 1);
        assert_eq!(stats.pg_errors[5].get(), 1);
        assert_eq!(stats.pg_errors[PG_ERROR_KINDS.len() - 1].get(), 1);
        assert_eq!(stats.http_errors[3].get(), 1);
        assert_eq!(stats.http_errors[HTTP_ERROR_KINDS.len() - 3].get(), 1);
        let total: u64 = stats.http_errors.iter().map(Counter::get).sum();
        assert_eq!(total, 2);
    }

    #[test]
    fn connection_gauges_follow_transitions() {
        let stats = WorkerStats::new();
        stats.conn_opened(Protocol::Pg, ConnState::Authenticating);
        stats.conn_moved(Protocol::Pg, ConnState::Authenticating, ConnState::Idle);
        stats.conn_moved(Protocol::Pg, ConnState::Idle, ConnState::InTransaction);
        assert_eq!(stats.open_connections(Protocol::Pg), 1);
        assert_eq!(stats.connections[1][2].get(), 1);
        stats.conn_closed(Protocol::Pg, ConnState::InTransaction);
        assert_eq!(stats.open_connections(Protocol::Pg), 0);
    }
}
