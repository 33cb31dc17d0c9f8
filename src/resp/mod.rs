//! The Redis protocol: framing (`parse`), replies (`reply`), per-connection
//! state (`Session`) and commands (`cmd`, one family per file).

pub mod cmd;
pub mod expiry;
pub mod glob;
pub mod parse;
pub mod reply;
pub mod store;

use std::ops::Range;

use crate::engine::{EngineError, EngineResult, EngineWorker, Txn};
use crate::runtime::Shared;
use crate::stats::{self, slowlog, Outcome, Timing, WorkerStats};
use reply::ReplyWriter;
use store::{DbStore, Store, TxnStore};

/// Redis version corewire answers as (HELLO, INFO): the one whose replies
/// it matches byte for byte.
pub const REDIS_COMPAT_VERSION: &str = "7.0.15";

/// The arguments of one request; `get(0)` is the command name.
pub struct Args<'a> {
    base: &'a [u8],
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    pub fn new(base: &'a [u8], ranges: &'a [Range<usize>]) -> Args<'a> {
        Args { base, ranges }
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn get(&self, index: usize) -> &'a [u8] {
        &self.base[self.ranges[index].clone()]
    }

    /// Arguments from `start` on.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.ranges[start..]
            .iter()
            .map(|range| &self.base[range.clone()])
    }
}

/// Per-connection RESP state.
pub struct Session {
    /// Unique in the process (CLIENT ID, HELLO).
    pub client_id: u64,
    /// CLIENT SETNAME / HELLO SETNAME.
    pub name: Option<Vec<u8>>,
    /// CLIENT SETINFO lib-name / lib-ver.
    pub lib_name: Option<Vec<u8>>,
    pub lib_version: Option<Vec<u8>>,
    /// HELLO 3 switched the connection to RESP3.
    pub resp3: bool,
    /// SELECTed database.
    pub db: u32,
    /// AUTH succeeded, or no password is configured.
    pub authenticated: bool,
    /// The ACL user it runs as (`default` until AUTH / HELLO AUTH).
    pub acl_user: crate::acl::SessionUser,
    /// QUIT: close once the reply is written.
    pub close_after_reply: bool,
    /// Between MULTI and EXEC: the queued commands.
    pub multi: Option<cmd::multi::MultiQueue>,
    /// WATCHed keys and the transaction that read them.
    pub watch: Option<cmd::multi::Watch>,
    /// Peer and local addresses, as CLIENT LIST shows them.
    pub peer_addr: String,
    pub local_addr: String,
    pub created: std::time::Instant,
    /// Last time a request arrived (CLIENT LIST idle=) or, while
    /// requests are timed, the last one ended: the start of the next
    /// request's time (`crate::stats::lap`).
    pub last_interaction: std::time::Instant,
    /// Name of the last command run (CLIENT LIST cmd=).
    pub last_command: &'static str,
    /// CLIENT NO-EVICT / NO-TOUCH (accepted and shown; nothing is evicted).
    pub no_evict: bool,
    pub no_touch: bool,
    /// A request that needs the whole worker (CLIENT LIST, KILL, INFO): the
    /// worker runs it after the current request and before the next.
    pub admin: Option<cmd::client::AdminRequest>,
}

impl Session {
    pub fn new(
        client_id: u64,
        password_required: bool,
        peer_addr: String,
        local_addr: String,
    ) -> Session {
        let now = std::time::Instant::now();
        Session {
            peer_addr,
            local_addr,
            created: now,
            last_interaction: now,
            last_command: "NULL",
            no_evict: false,
            no_touch: false,
            admin: None,
            client_id,
            name: None,
            lib_name: None,
            lib_version: None,
            resp3: false,
            db: 0,
            authenticated: !password_required,
            acl_user: crate::acl::SessionUser::default(),
            close_after_reply: false,
            multi: None,
            watch: None,
        }
    }
}

/// Where a command's reads and writes go.
pub enum Backend<'a> {
    /// Straight to the engine (outside EXEC).
    Engine(DbStore<'a>),
    /// Into EXEC's transaction.
    Txn(TxnStore<'a>),
}

/// Attempts of a single command's own transaction before it reports the
/// conflict (another worker kept changing the same keys).
const MAX_TXN_ATTEMPTS: usize = 64;

impl Backend<'_> {
    pub fn store(&mut self) -> &mut dyn Store {
        match self {
            Backend::Engine(store) => store,
            Backend::Txn(store) => store,
        }
    }

    /// The engine handle and the selected database, for what no store
    /// does (SCAN, RANDOMKEY, beginning transactions).
    pub fn worker(&mut self) -> (&mut EngineWorker, u32) {
        match self {
            Backend::Engine(store) => (&mut *store.worker, store.db),
            Backend::Txn(store) => (&mut *store.worker, store.db),
        }
    }

    /// Runs `body` atomically: on EXEC's transaction when inside one, else
    /// in a transaction of its own, retried from scratch on conflict.
    pub fn atomically<T>(
        &mut self,
        mut body: impl FnMut(&mut dyn Store) -> EngineResult<T>,
    ) -> EngineResult<T> {
        match self {
            Backend::Txn(store) => body(store),
            Backend::Engine(DbStore { worker, db }) => {
                let db = *db;
                in_own_txn(worker, |txn, worker| {
                    body(&mut TxnStore {
                        txn,
                        worker,
                        db,
                        key_delta: None,
                    })
                })
            }
        }
    }

    /// `atomically` with the bare transaction and the selected database,
    /// for commands that span databases (COPY ... DB, MOVE).
    pub fn atomically_across_dbs<T>(
        &mut self,
        mut body: impl FnMut(&mut Txn, u32) -> EngineResult<T>,
    ) -> EngineResult<T> {
        match self {
            Backend::Txn(store) => body(store.txn, store.db),
            Backend::Engine(DbStore { worker, db }) => {
                let db = *db;
                in_own_txn(worker, |txn, _| body(txn, db))
            }
        }
    }
}

/// Runs `body` in a fresh transaction, committing it; a conflict starts
/// over (at most MAX_TXN_ATTEMPTS times).
fn in_own_txn<T>(
    worker: &mut EngineWorker,
    mut body: impl FnMut(&mut Txn, &mut EngineWorker) -> EngineResult<T>,
) -> EngineResult<T> {
    for _ in 0..MAX_TXN_ATTEMPTS {
        let mut txn = worker.begin()?;
        let result = body(&mut txn, worker)?;
        match txn.commit() {
            Ok(()) => return Ok(result),
            Err(EngineError::Conflict) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(EngineError::Conflict)
}

/// What a command runs with: its connection, the worker's engine (or EXEC's
/// transaction) and counters, and the process-wide shared state.
pub struct Ctx<'a> {
    pub session: &'a mut Session,
    pub backend: Backend<'a>,
    pub stats: &'a WorkerStats,
    pub shared: &'a Shared,
    pub out: &'a mut Vec<u8>,
}

impl Ctx<'_> {
    pub fn reply(&mut self) -> ReplyWriter<'_> {
        ReplyWriter {
            out: self.out,
            resp3: self.session.resp3,
        }
    }

    /// Answers an engine failure in Redis's words where Redis has them.
    pub fn engine_error(&mut self, error: EngineError) {
        let text: &[u8] = match error {
            EngineError::LogFailed(errno) => {
                return self.reply().error(misconf_text(errno).as_bytes());
            }
            EngineError::Busy => b"ERR Background save already in progress",
            EngineError::NotInteger => b"ERR value is not an integer or out of range",
            EngineError::Overflow => b"ERR increment or decrement would overflow",
            EngineError::NoMemory => b"OOM command not allowed when used memory > 'maxmemory'.",
            EngineError::Unsupported => b"ERR command not supported by this engine (it implements only the seed ABI: GET and SET)",
            EngineError::Conflict => b"ERR transaction conflict, retry",
            EngineError::InvalidArgument => b"ERR invalid argument (over an engine limit)",
            EngineError::Internal => b"ERR internal engine error",
        };
        self.reply().error(text);
    }
}

/// Redis's refusal of a write while its AOF cannot be written, with the
/// log failure's strerror.
pub fn misconf_text(errno: i32) -> String {
    format!(
        "MISCONF Errors writing to the AOF file: {}",
        crate::engine::os_error_text(errno)
    )
}

/// Runs one request and appends its reply, then counts it (see
/// `crate::stats` for what counts): one clock read when anything needs
/// its time, none otherwise.
pub fn execute(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    debug_assert!(!args.is_empty());
    if matches!(ctx.backend, Backend::Txn(_)) {
        return execute_in_exec(ctx, args);
    }
    let stats = ctx.stats;
    let timing = Timing::load(&ctx.shared.live);
    let reply_start = ctx.out.len();
    let done = cmd::dispatch(ctx, args);
    // Counted once it ran, as Redis does: INFO does not count itself.
    stats.commands_processed.add(1);
    let failed = ctx.out.get(reply_start) == Some(&b'-');
    if failed {
        stats.error_replies.add(1);
    }
    if !timing.timed() {
        return;
    }
    let elapsed_ns = stats::lap(&mut ctx.session.last_interaction);
    if timing.metrics {
        if failed {
            stats.resp_error(&ctx.out[reply_start + 1..]);
        }
        let outcome = match (done.handled, failed) {
            (cmd::Handled::Refused, _) => Outcome::Rejected,
            (_, true) => Outcome::Failed,
            _ => Outcome::Ok,
        };
        stats.record(done.slot, elapsed_ns, outcome);
    }
    if done.handled == cmd::Handled::Ran && timing.noteworthy(elapsed_ns) {
        note_slow(ctx, args, done.slot, elapsed_ns, timing);
    }
}

/// A command EXEC runs: its error replies count (as Redis's errorstats
/// do), and it enters the slow log on its own as in Redis; the request is
/// EXEC, counted and timed by `execute`.
fn execute_in_exec(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let timing = Timing::load(&ctx.shared.live);
    let started = (timing.slowlog_on() || timing.log_on()).then(std::time::Instant::now);
    let reply_start = ctx.out.len();
    let done = cmd::dispatch(ctx, args);
    if ctx.out.get(reply_start) == Some(&b'-') {
        ctx.stats.error_replies.add(1);
        if timing.metrics {
            ctx.stats.resp_error(&ctx.out[reply_start + 1..]);
        }
    }
    if let Some(started) = started {
        let elapsed_ns = started.elapsed().as_nanos() as u64;
        if done.handled == cmd::Handled::Ran && timing.noteworthy(elapsed_ns) {
            note_slow(ctx, args, done.slot, elapsed_ns, timing);
        }
    }
}

/// A request over a threshold: into the slow log, and into the log past
/// log_min_duration_statement; secrets redacted in both. Commands with
/// Redis's `skip_slowlog` flag (EXEC) are left out, as in Redis.
fn note_slow(ctx: &Ctx<'_>, args: &Args<'_>, slot: usize, elapsed_ns: u64, timing: Timing) {
    if cmd::slot_spec(slot).is_some_and(|spec| spec.flags.contains(&"skip_slowlog")) {
        return;
    }
    let session = &*ctx.session;
    if timing.slow(elapsed_ns) {
        let entry = slowlog::SlowEntry {
            id: 0,
            unix_secs: slowlog::unix_now_secs(),
            duration_us: elapsed_ns / 1000,
            args: slowlog::resp_args(args),
            client_addr: session.peer_addr.clone(),
            client_name: session.name.clone().unwrap_or_default(),
            protocol: stats::Protocol::Resp,
        };
        slowlog::push(ctx.shared, ctx.stats, entry);
    }
    if timing.logged(elapsed_ns) {
        crate::log_warn!(conn = session.client_id; "slow request: {:.3} ms: {}",
            elapsed_ns as f64 / 1e6, slowlog::resp_log_text(args));
    }
}
