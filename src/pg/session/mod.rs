//! One PostgreSQL session: startup and authentication, then the simple and
//! extended query protocols over the kv table, run to completion inside
//! the worker's loop.
//!
//! The worker hands the session whatever input it has; the session frames
//! messages, answers into the output buffer, and reports how many bytes it
//! used. A session parks (`pg_sleep`) without blocking the worker: input
//! then waits until the deadline or a CancelRequest.
//!
//! This file holds the session state and message dispatch; `startup`,
//! `simple`, `extended` and `execute` hold the phases, as `impl PgSession`
//! blocks of their own; `admin` holds the admin console's side (database
//! `corewire`: admission at login, simple protocol only, commands handed
//! to the worker).

mod admin;
mod execute;
mod extended;
mod metrics;
mod simple;
mod startup;

use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::auth::{self, ScramServer, Secret};
use super::catalog::{self, SessionView};
use super::error::{sqlstate, PgError, Severity};
use super::exec::{self, Access, CopyIn, CopyOutFormat, RowSource};
use super::params::Params;
use super::protocol::{self, Field, Framed, Reader, TxnStatus, Writer};
use super::sql::{self, OutputColumn, Scalar, SqlType, Statement};
use super::txn::{serialization_failure, PgTxn};
use super::types::{self, Format};
use crate::config::{Config, PgAuthMethod, PgTls};
use crate::engine::EngineWorker;
use metrics::{kind_of, send_error};

/// Messages before authentication completes are small.
const MAX_AUTH_MESSAGE_BYTES: usize = 16 * 1024;
/// Autocommit statements retried after a write conflict before 40001.
const AUTOCOMMIT_RETRIES: usize = 8;
/// Longest pg_sleep.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// What the worker must do for the session after it used some input.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Keep serving; feed more input when it arrives.
    Continue,
    /// More bytes are needed for the message at the front (its full size,
    /// when known).
    NeedInput(Option<usize>),
    /// Parked until this instant (or a cancel); do not feed input.
    Parked(Instant),
    /// Close once the output is written.
    Close,
    /// A CancelRequest connection: route it, then close.
    Cancel { pid: i32, secret: i32 },
    /// An SSLRequest with nothing after it: answer `S` and start the TLS
    /// handshake on this connection.
    StartTls,
    /// Authenticated for a `[databases]` entry: the worker's pool serves
    /// the connection from here on (the session sent AuthenticationOk).
    Pooled,
}

/// Settings the worker passes in (from the server config).
pub struct Limits<'a> {
    pub max_message_bytes: usize,
    pub max_prepared_statements: usize,
    pub max_portals: usize,
    /// Longest COPY FROM row (pg-max-copy-row-bytes).
    pub max_copy_row_bytes: usize,
    /// No further message runs once the output buffer is longer than this:
    /// the worker drops a client over client-output-buffer-limit anyway.
    pub output_cap_len: usize,
    pub auth_method: PgAuthMethod,
    /// SSLRequest is answered `S` (pg-tls is not disable and a
    /// certificate is configured).
    pub tls_available: bool,
    /// pg-tls = require: a login without TLS is refused.
    pub tls_required: bool,
    pub users: &'a HashMap<String, Secret>,
    /// Users the admin console (database `corewire`) admits.
    pub admin_users: &'a [String],
    /// Databases served by upstream pools.
    pub pooled_databases: &'a [crate::pool::config::DatabaseConfig],
}

impl<'a> Limits<'a> {
    /// The limits `config` sets, with `users` as the configured users;
    /// `tls_loaded`: whether a TLS certificate is loaded (without one an
    /// SSLRequest is answered N).
    pub fn from_config(
        config: &'a Config,
        users: &'a HashMap<String, Secret>,
        tls_loaded: bool,
    ) -> Limits<'a> {
        Limits {
            max_message_bytes: config.pg_max_message_bytes,
            max_prepared_statements: config.pg_max_prepared_statements,
            max_portals: config.pg_max_portals,
            max_copy_row_bytes: config.pg_max_copy_row_bytes,
            output_cap_len: usize::MAX,
            auth_method: config.pg_auth_method,
            tls_available: tls_loaded && config.pg_tls != PgTls::Disable,
            tls_required: config.pg_tls == PgTls::Require,
            users,
            admin_users: &config.admin_users,
            pooled_databases: &config.databases,
        }
    }
}

enum Phase {
    Startup,
    Md5 { salt: [u8; 4] },
    ScramFirst(ScramServer),
    ScramFinal(ScramServer),
    Ready,
}

enum TxnState {
    Idle,
    /// Implicit: a multi-statement Query, or extended messages up to Sync.
    Implicit(PgTxn),
    Block(PgTxn),
    /// A block after an error: only ROLLBACK [TO] and COMMIT run.
    Failed(PgTxn),
}

/// A parsed statement (one per prepared statement).
struct Prepared {
    text: String,
    statement: Statement,
    param_types: Vec<u32>,
    /// Result columns (`None`: no rows, NoData).
    fields: Option<Vec<Field>>,
}

enum PortalState {
    NotRun,
    Rows(RowSource),
    /// A general-path result, sent in pieces.
    Materialized {
        rows: std::collections::VecDeque<Vec<Option<String>>>,
        tag: String,
    },
    Done(String),
}

struct Portal {
    prepared: Rc<Prepared>,
    params: Vec<Option<Vec<u8>>>,
    result_formats: Vec<Format>,
    state: PortalState,
}

/// An extended-protocol write that opened an implicit transaction, with
/// the bytes the client got for it.
struct ImplicitWrite {
    prepared: Rc<Prepared>,
    params: Vec<Option<Vec<u8>>>,
    result_formats: Vec<Format>,
    output: Vec<u8>,
}

/// Output of an implicit write kept for a rerun at most (a RETURNING row or
/// two); a longer one is not rerun.
const MAX_IMPLICIT_WRITE_OUTPUT_BYTES: usize = 4096;

/// What a parked session resumes.
struct Parked {
    until: Instant,
    /// Statements of a simple Query still to run afterwards (None: the
    /// park came from Execute).
    rest: Option<Vec<sql::Parsed>>,
    query: Rc<str>,
    /// The Query had several statements (implicit transaction).
    multi: bool,
}

/// A COPY FROM STDIN in progress.
struct CopyInState {
    copy: CopyIn,
    /// Whether it came from a simple Query (then ReadyForQuery follows).
    simple: bool,
}

pub struct PgSession {
    pub client_id: u64,
    /// BackendKeyData: the process id (which also names the worker) and
    /// the secret a CancelRequest must quote.
    pub pid: i32,
    pub secret: i32,
    peer_loopback: bool,
    peer_ip: String,
    phase: Phase,
    pub user: String,
    pub database: String,
    params: Params,
    txn: TxnState,
    statements: HashMap<String, Rc<Prepared>>,
    portals: HashMap<String, Portal>,
    /// After an error in the extended protocol: ignore until Sync.
    skip_until_sync: bool,
    /// The one single-key write of the implicit transaction, kept so that
    /// a validation failure at Sync can run it again (`rerun_implicit_write`).
    implicit_write: Option<ImplicitWrite>,
    copy_in: Option<CopyInState>,
    parked: Option<Parked>,
    /// A CancelRequest this connection carried, for the worker to route.
    pub cancel_request: Option<(i32, i32)>,
    /// The connection is encrypted (after SSLRequest, or direct TLS).
    pub tls: bool,
    /// Reported parameters as the client last heard them.
    reported: Vec<(&'static str, String)>,
    /// The server is draining: once idle, the next request gets FATAL
    /// 57P01 and the connection closes.
    pub draining: bool,
    /// What the statistics need to remember (`metrics.rs`).
    stats: metrics::SessionStats,
    /// Logged in to the admin console (database `corewire`).
    admin_console: bool,
    /// A console command for the worker to run (see `admin.rs`).
    admin_request: Option<crate::pg::admin::Command>,
    /// Logged in to a `[databases]` entry: the worker's pool serves it.
    pub pooled: bool,
    /// The startup packet's parameters (pooled sessions apply them
    /// upstream), user and database aside.
    pub startup_options: Vec<(String, String)>,
}

/// Everything a message needs from the worker.
pub struct Ctx<'a> {
    pub worker: &'a mut EngineWorker,
    pub out: &'a mut Vec<u8>,
    pub limits: &'a Limits<'a>,
    /// The worker's counters and the process-wide state (live settings,
    /// the slow log).
    pub stats: &'a crate::stats::WorkerStats,
    pub shared: &'a crate::runtime::Shared,
    /// The connection's clock: its last read or the end of its previous
    /// statement, where the next statement's time starts
    /// (`crate::stats::lap`).
    pub clock: &'a mut Instant,
}

impl PgSession {
    pub fn new(
        client_id: u64,
        pid: i32,
        secret: i32,
        peer: Option<std::net::SocketAddr>,
    ) -> PgSession {
        PgSession {
            client_id,
            pid,
            secret,
            peer_loopback: peer.is_some_and(|p| p.ip().is_loopback()),
            peer_ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            phase: Phase::Startup,
            user: String::new(),
            database: String::new(),
            params: Params::default(),
            txn: TxnState::Idle,
            statements: HashMap::new(),
            portals: HashMap::new(),
            skip_until_sync: false,
            implicit_write: None,
            copy_in: None,
            parked: None,
            cancel_request: None,
            tls: false,
            reported: Vec::new(),
            draining: false,
            stats: metrics::SessionStats::new(peer),
            admin_console: false,
            admin_request: None,
            pooled: false,
            startup_options: Vec::new(),
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    /// Waiting for the startup packet (or an SSLRequest before it).
    pub fn in_startup(&self) -> bool {
        matches!(self.phase, Phase::Startup)
    }

    pub fn parked_until(&self) -> Option<Instant> {
        self.parked.as_ref().map(|p| p.until)
    }

    /// Nothing in flight: no transaction (explicit, failed or an extended
    /// batch before Sync), no COPY, no sleep. A graceful shutdown closes
    /// such a session at once and waits for the others.
    pub fn is_quiescent(&self) -> bool {
        matches!(self.txn, TxnState::Idle)
            && self.copy_in.is_none()
            && self.parked.is_none()
            && !self.skip_until_sync
    }

    /// Frames and runs messages at the front of `input`; returns the bytes
    /// used and what to do next.
    pub fn handle(&mut self, input: &[u8], ctx: &mut Ctx<'_>) -> (usize, Next) {
        let mut pos = 0;
        loop {
            if self.parked.is_some() {
                let until = self.parked_until().expect("parked");
                return (pos, Next::Parked(until));
            }
            if matches!(self.phase, Phase::Startup) {
                match protocol::frame_startup(&input[pos..]) {
                    Ok(None) => return (pos, Next::NeedInput(None)),
                    Ok(Some((body, used))) => {
                        pos += used;
                        match self.startup(body, ctx) {
                            Next::Continue => continue,
                            // Bytes after the SSLRequest arrived before the
                            // handshake: they would be taken as sent over
                            // TLS (CVE-2021-23214). Refused as PostgreSQL
                            // does, before answering.
                            Next::StartTls if pos < input.len() => {
                                let mut error = PgError::fatal(
                                    sqlstate::PROTOCOL_VIOLATION,
                                    "received unencrypted data after SSL request",
                                );
                                error.detail = Some(
                                    "This could be either a client-software bug or evidence of an attempted man-in-the-middle attack.".into(),
                                );
                                return (input.len(), self.fatal(ctx, &error));
                            }
                            other => return (pos, other),
                        }
                    }
                    Err(error) => return (pos, self.fatal(ctx, &error)),
                }
            }
            if ctx.out.len() > ctx.limits.output_cap_len {
                return (pos, Next::Continue); // the worker drops the client
            }
            let max = if self.is_ready() {
                ctx.limits.max_message_bytes
            } else {
                MAX_AUTH_MESSAGE_BYTES.min(ctx.limits.max_message_bytes)
            };
            match protocol::frame_message(&input[pos..], max) {
                Ok(Framed::Incomplete { needed_bytes }) => {
                    return (pos, Next::NeedInput(needed_bytes))
                }
                Ok(Framed::Message {
                    tag,
                    body,
                    consumed,
                }) => {
                    pos += consumed;
                    match self.message(tag, body, ctx) {
                        // A console command runs in the worker first.
                        Next::Continue if self.admin_request.is_some() => {
                            return (pos, Next::Continue)
                        }
                        Next::Continue => {}
                        other => return (pos, other),
                    }
                }
                Err(error) => return (pos, self.fatal(ctx, &error)),
            }
        }
    }

    fn fatal(&mut self, ctx: &mut Ctx<'_>, error: &PgError) -> Next {
        let mut error = error.clone();
        error.severity = Severity::Fatal;
        send_error(ctx, &error);
        Next::Close
    }

    // ---- messages of an authenticated session ----

    fn message(&mut self, tag: u8, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        if !self.is_ready() {
            return self.auth_message(tag, body, ctx);
        }
        if self.copy_in.is_some() {
            return self.copy_message(tag, body, ctx);
        }
        if tag == b'X' {
            return Next::Close;
        }
        if self.draining && self.is_quiescent() {
            let error = PgError::new(
                sqlstate::ADMIN_SHUTDOWN,
                "terminating connection due to administrator command",
            );
            return self.fatal(ctx, &error);
        }
        if self.skip_until_sync && tag != b'S' {
            return Next::Continue;
        }
        if self.admin_console {
            return self.admin_message(tag, body, ctx);
        }
        let result = match tag {
            b'Q' => return self.simple_query(body, ctx),
            b'P' => self.parse_message(body, ctx),
            b'B' => self.bind(body, ctx),
            b'D' => self.describe(body, ctx),
            b'E' => self.execute_message(body, ctx),
            b'C' => self.close(body, ctx),
            b'S' => {
                self.sync(ctx);
                return Next::Continue;
            }
            // Output is written at the end of every batch anyway.
            b'H' => Ok(()),
            // Copy messages outside COPY (after a failed COPY): ignored.
            b'd' | b'c' | b'f' => Ok(()),
            _ => {
                let error = PgError::fatal(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!("invalid frontend message type {}", tag),
                );
                return self.fatal(ctx, &error);
            }
        };
        if let Err(error) = result {
            if error.severity == Severity::Fatal {
                return self.fatal(ctx, &error);
            }
            self.fail_statement(&error, false, ctx);
        }
        if self.parked.is_some() {
            return Next::Parked(self.parked_until().expect("parked"));
        }
        Next::Continue
    }

    /// A statement failed: report it, fail the transaction, then end the
    /// Query with ReadyForQuery (simple protocol) or skip to Sync
    /// (extended).
    pub(super) fn fail_statement(&mut self, error: &PgError, simple: bool, ctx: &mut Ctx<'_>) {
        send_error(ctx, error);
        self.fail_transaction();
        if simple {
            self.ready(ctx);
        } else {
            self.skip_until_sync = true;
        }
    }

    /// After an error: an implicit transaction rolls back, a block fails.
    fn fail_transaction(&mut self) {
        self.txn = match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Block(txn) | TxnState::Failed(txn) => TxnState::Failed(txn),
            TxnState::Implicit(_) | TxnState::Idle => TxnState::Idle,
        };
    }

    /// Takes an implicit transaction out (for its commit), leaving Idle;
    /// any other state stays.
    fn take_implicit(&mut self) -> Option<PgTxn> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Implicit(txn) => Some(txn),
            other => {
                self.txn = other;
                None
            }
        }
    }

    fn status(&self) -> TxnStatus {
        match self.txn {
            TxnState::Idle | TxnState::Implicit(_) => TxnStatus::Idle,
            TxnState::Block(_) => TxnStatus::InBlock,
            TxnState::Failed(_) => TxnStatus::Failed,
        }
    }

    fn sync(&mut self, ctx: &mut Ctx<'_>) {
        self.skip_until_sync = false;
        let implicit_write = self.implicit_write.take();
        if let Some(txn) = self.take_implicit() {
            let result = match (txn.commit(), implicit_write) {
                // PostgreSQL (read committed) does not fail a lone write on
                // a concurrent change; optimistic validation did: run it again.
                (Err(error), Some(write)) if error.code == sqlstate::SERIALIZATION_FAILURE => {
                    self.rerun_implicit_write(&write, ctx)
                }
                (result, _) => result,
            };
            if let Err(error) = result {
                send_error(ctx, &error);
            }
        }
        if !matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_)) {
            // Portals live until the end of their transaction.
            self.portals.clear();
        }
        self.ready(ctx);
    }

    /// Replaces the parameters (SET LOCAL values lapse outside a block);
    /// `ready` reports what changed.
    fn set_params(&mut self, mut params: Params) {
        if !matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_)) {
            params.end_transaction();
        }
        self.params = params;
    }

    /// ReadyForQuery, preceded by ParameterStatus for each reported
    /// parameter whose value differs from what the client last heard (as
    /// PostgreSQL: once per change, at the end of the query).
    fn ready(&mut self, ctx: &mut Ctx<'_>) {
        let mut writer = Writer { out: ctx.out };
        let now = self.params.reported();
        for ((name, new), (_, old)) in now.iter().zip(&self.reported) {
            if new != old {
                writer.parameter_status(name, new);
            }
        }
        self.reported = now;
        writer.ready_for_query(self.status());
    }

    // ---- parking (pg_sleep) and cancel ----

    /// The park is over (deadline passed, or `canceled`): finish the
    /// statement and whatever of its Query was left. The worker then feeds
    /// the input that waited.
    pub fn unpark(&mut self, canceled: bool, ctx: &mut Ctx<'_>) {
        let Some(parked) = self.parked.take() else {
            return;
        };
        let simple = parked.rest.is_some();
        if canceled {
            let error = PgError::new(
                sqlstate::QUERY_CANCELED,
                "canceling statement due to user request",
            );
            // The failed transaction left nothing implicit to commit.
            self.fail_statement(&error, simple, ctx);
            self.pending_statement_ended(ctx, true);
            return;
        }
        let mut writer = Writer { out: ctx.out };
        let at = writer.begin_row(1);
        writer.value(b"");
        writer.end_row(at);
        writer.command_complete("SELECT 1");
        self.pending_statement_ended(ctx, false);
        if let Some(rest) = parked.rest {
            let _ = self.run_simple(parked.query, rest, parked.multi, ctx);
        }
    }
}

fn syntax_error(error: sql::SyntaxError) -> PgError {
    let mut pg = PgError::new(error.sqlstate, error.message);
    pg.position = error.position;
    pg
}

fn aborted() -> PgError {
    PgError::new(
        sqlstate::IN_FAILED_SQL_TRANSACTION,
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

impl SessionView for PgSession {
    fn setting(&self, name: &str) -> Option<String> {
        self.params.get(name)
    }

    fn set_setting(&mut self, name: &str, value: &str, is_local: bool) -> Result<String, PgError> {
        let local = is_local && matches!(self.txn, TxnState::Block(_));
        self.params.set(name, Some(value), local, false)?;
        Ok(self.params.get(name).unwrap_or_default())
    }

    fn user(&self) -> &str {
        &self.user
    }

    fn database(&self) -> &str {
        &self.database
    }

    fn backend_pid(&self) -> i32 {
        self.pid
    }
}
