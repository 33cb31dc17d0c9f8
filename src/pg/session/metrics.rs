//! A session's statistics (`crate::stats`): each statement counted by
//! kind and timed with one clock read, errors counted by SQLSTATE, slow
//! statements sent to the slow log and the log, transactions counted and
//! timed, and the state the connection gauges show.
//!
//! A statement that goes on after its message (COPY FROM STDIN, which
//! ends with CopyDone; `pg_sleep`, which ends when the park does) is
//! counted when it ends, timed from when it started.

use super::*;
use crate::stats::{slowlog, ConnState, Outcome, PgKind, Protocol, Timing};

/// What a session keeps for its statistics.
#[derive(Default)]
pub(super) struct SessionStats {
    /// `ip:port` of the client, for slow log entries.
    pub peer_addr: String,
    /// When the open transaction block began (its first statement's start).
    block_started: Option<Instant>,
    /// A statement still running (COPY FROM, pg_sleep): its start, kind
    /// and text.
    pending: Option<(Instant, PgKind, String)>,
}

impl SessionStats {
    pub fn new(peer: Option<std::net::SocketAddr>) -> SessionStats {
        SessionStats {
            peer_addr: peer.map(|p| p.to_string()).unwrap_or_default(),
            ..SessionStats::default()
        }
    }
}

/// The kind a statement is counted under: what it is, whichever path runs
/// it (`SELECT 1` on the general path is a `select`).
pub(super) fn kind_of(statement: &Statement, text: &str) -> PgKind {
    match statement {
        Statement::Select(_) | Statement::Sleep(_) => PgKind::Select,
        Statement::Insert(_) => PgKind::Insert,
        Statement::Update(_) => PgKind::Update,
        Statement::Delete(_) => PgKind::Delete,
        Statement::CopyFrom(_) | Statement::CopyTo(..) => PgKind::Copy,
        Statement::Begin { .. } => PgKind::Begin,
        Statement::Commit => PgKind::Commit,
        Statement::Rollback => PgKind::Rollback,
        Statement::Savepoint(_) | Statement::RollbackTo(_) | Statement::Release(_) => {
            PgKind::Savepoint
        }
        Statement::Set { .. } | Statement::Reset(_) => PgKind::Set,
        Statement::Show(_) => PgKind::Show,
        Statement::Other => {
            let first = text
                .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
                .split(|c: char| !c.is_ascii_alphabetic())
                .next()
                .unwrap_or_default();
            match first.to_ascii_lowercase().as_str() {
                "select" | "with" | "values" | "table" => PgKind::Select,
                "show" => PgKind::Show,
                _ => PgKind::Other,
            }
        }
        Statement::Empty
        | Statement::Truncate
        | Statement::Discard { .. }
        | Statement::CloseCursor(_)
        | Statement::Unlisten => PgKind::Other,
    }
}

/// Writes an ErrorResponse (or a notice) and counts an error by SQLSTATE.
pub(super) fn send_error(ctx: &mut Ctx<'_>, error: &PgError) {
    Writer { out: ctx.out }.error(error);
    if matches!(error.severity, Severity::Error | Severity::Fatal)
        && ctx.shared.live.metrics_enabled()
    {
        ctx.stats.pg_error(error.code);
    }
}

impl PgSession {
    /// What the connection gauges count this session as.
    pub fn conn_state(&self) -> ConnState {
        if !self.is_ready() {
            ConnState::Authenticating
        } else if matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_)) {
            ConnState::InTransaction
        } else {
            ConnState::Idle
        }
    }

    /// A statement ran (`failed`: it answered an error); or, if it goes on
    /// (COPY FROM, a park), it is counted when it ends.
    pub(super) fn statement_ran(
        &mut self,
        ctx: &mut Ctx<'_>,
        kind: PgKind,
        text: &str,
        failed: bool,
    ) {
        if !failed && (self.copy_in.is_some() || self.parked.is_some()) {
            self.stats.pending = Some((*ctx.clock, kind, text.to_string()));
            return;
        }
        self.count_statement(ctx, kind, text, failed, None);
    }

    /// The statement that went on (COPY FROM, pg_sleep) ended.
    pub(super) fn pending_statement_ended(&mut self, ctx: &mut Ctx<'_>, failed: bool) {
        if let Some((started, kind, text)) = self.stats.pending.take() {
            self.count_statement(ctx, kind, &text, failed, Some(started));
        }
    }

    fn count_statement(
        &mut self,
        ctx: &mut Ctx<'_>,
        kind: PgKind,
        text: &str,
        failed: bool,
        started: Option<Instant>,
    ) {
        ctx.stats.commands_processed.add(1);
        let timing = Timing::load(&ctx.shared.live);
        if !timing.timed() {
            return;
        }
        let start = started.unwrap_or(*ctx.clock);
        let now = Instant::now();
        *ctx.clock = now;
        let elapsed_ns = now.saturating_duration_since(start).as_nanos() as u64;
        if timing.metrics {
            let outcome = if failed { Outcome::Failed } else { Outcome::Ok };
            ctx.stats
                .record(ctx.stats.pg_slot(kind), elapsed_ns, outcome);
            // A statement outside a block is a transaction of its own (as
            // PgBouncer counts); a block runs from its first statement to
            // the one that ends it.
            if matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_)) {
                self.stats.block_started.get_or_insert(start);
            } else {
                let began = self.stats.block_started.take().unwrap_or(start);
                ctx.stats
                    .pg_transaction(now.saturating_duration_since(began).as_nanos() as u64);
            }
        }
        if timing.noteworthy(elapsed_ns) {
            self.note_slow(ctx, text, elapsed_ns, timing);
        }
    }

    /// A statement over a threshold: into the slow log (its text as the
    /// one argument) and past log_min_duration_statement into the log;
    /// SQL that mentions a password is reduced to its first word.
    fn note_slow(&self, ctx: &Ctx<'_>, text: &str, elapsed_ns: u64, timing: Timing) {
        if timing.slow(elapsed_ns) {
            let entry = slowlog::SlowEntry {
                id: 0,
                unix_secs: slowlog::unix_now_secs(),
                duration_us: elapsed_ns / 1000,
                args: vec![slowlog::sql_text(text, slowlog::MAX_SQL_BYTES).into_bytes()],
                client_addr: self.stats.peer_addr.clone(),
                client_name: self
                    .params
                    .get("application_name")
                    .unwrap_or_default()
                    .into_bytes(),
                protocol: Protocol::Pg,
            };
            slowlog::push(ctx.shared, ctx.stats, entry);
        }
        if timing.logged(elapsed_ns) {
            crate::log_warn!(conn = self.client_id; "slow request: {:.3} ms: {}",
                elapsed_ns as f64 / 1e6,
                slowlog::sql_text(text, slowlog::MAX_LOG_TEXT_BYTES));
        }
    }
}
