//! MULTI, EXEC, DISCARD, WATCH, UNWATCH over engine transactions.
//!
//! EXEC runs the queued commands in one engine transaction, so they are
//! atomic and isolated across every worker. WATCH opens a transaction that
//! only reads the watched keys; EXEC first reads them again in its own
//! transaction, then validates the WATCH transaction (were they unchanged
//! since WATCH?), then runs the commands, and the final commit validates
//! them once more, so "unchanged from WATCH to EXEC" holds atomically.
//!
//! Without WATCH, a commit that fails because a concurrent writer touched a
//! key the commands read is retried from scratch (EXEC never fails in
//! Redis). With WATCH, any failed commit answers the nil array, as a
//! changed watched key does; WATCH users retry on nil by design.

use std::ops::Range;

use super::{command_spec, CommandSpec};
use crate::engine::{EngineError, Txn};
use crate::resp::reply::ReplyWriter;
use crate::resp::store::TxnStore;
use crate::resp::{execute, Args, Backend, Ctx};

/// Attempts of an EXEC without WATCH before it gives up on conflicts.
const MAX_EXEC_ATTEMPTS: usize = 64;

/// Commands queued between MULTI and EXEC: their bytes in one buffer, their
/// argument ranges in one list, and where each command's ranges start (no
/// allocation per queued command).
#[derive(Default)]
pub struct MultiQueue {
    bytes: Vec<u8>,
    ranges: Vec<Range<usize>>,
    /// Index into `ranges` where each command starts.
    starts: Vec<usize>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub failed: bool,
    /// A DBSIZE is queued: EXEC must count the keys its writes create.
    pub counts_keys: bool,
}

impl MultiQueue {
    pub fn queued_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Number of queued commands.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    pub fn push(&mut self, args: &Args<'_>) {
        self.counts_keys |= args.get(0).len() == 6 && args.get(0).eq_ignore_ascii_case(b"DBSIZE");
        self.starts.push(self.ranges.len());
        for arg in args.iter_from(0) {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(arg);
            self.ranges.push(start..self.bytes.len());
        }
    }

    /// The queued commands' arguments, in order.
    fn commands(&self) -> impl Iterator<Item = Args<'_>> {
        (0..self.starts.len()).map(|i| {
            let end = self.starts.get(i + 1).copied().unwrap_or(self.ranges.len());
            Args::new(&self.bytes, &self.ranges[self.starts[i]..end])
        })
    }
}

/// Keys watched by this connection (with their database) and the
/// transaction that read them.
pub struct Watch {
    txn: Txn,
    keys: Vec<(u32, Vec<u8>)>,
}

pub static MULTI: CommandSpec = command_spec!("multi", 1, Some(multi), group: "transactions", since: "1.2.0",
    summary: "Starts a transaction.", complexity: "O(1)",
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"], acl: ["@fast", "@transaction"]);

pub static EXEC: CommandSpec = command_spec!("exec", 1, Some(exec), group: "transactions", since: "1.2.0",
    summary: "Executes all commands in a transaction.", complexity: "Depends on commands in the transaction",
    flags: ["noscript", "loading", "stale", "skip_slowlog"], acl: ["@slow", "@transaction"]);

pub static DISCARD: CommandSpec = command_spec!("discard", 1, Some(discard), group: "transactions", since: "2.0.0",
    summary: "Discards a transaction.", complexity: "O(N), when N is the number of queued commands",
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"], acl: ["@fast", "@transaction"]);

pub static WATCH: CommandSpec = command_spec!("watch", -2, Some(watch), group: "transactions", since: "2.2.0",
    summary: "Monitors changes to keys to determine the execution of a transaction.", complexity: "O(1) for every key.",
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"], acl: ["@fast", "@transaction"], keys: (1, -1, 1));

pub static UNWATCH: CommandSpec = command_spec!("unwatch", 1, Some(unwatch), group: "transactions", since: "2.2.0",
    summary: "Forgets about watched keys of a transaction.", complexity: "O(1)",
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"], acl: ["@fast", "@transaction"]);

/// Whether a command runs at once inside MULTI instead of being queued.
pub fn runs_inside_multi(spec: &CommandSpec) -> bool {
    [
        &EXEC,
        &DISCARD,
        &MULTI,
        &WATCH,
        &super::connection::QUIT,
        &super::connection::RESET,
    ]
    .iter()
    .any(|control| std::ptr::eq(*control, spec))
}

fn multi(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    if ctx.session.multi.is_some() {
        return ctx.reply().error(b"ERR MULTI calls can not be nested");
    }
    ctx.session.multi = Some(MultiQueue::default());
    ctx.reply().ok();
}

fn discard(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    if ctx.session.multi.take().is_none() {
        return ctx.reply().error(b"ERR DISCARD without MULTI");
    }
    ctx.session.watch = None;
    ctx.reply().ok();
}

fn unwatch(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.session.watch = None;
    ctx.reply().ok();
}

fn watch(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if ctx.session.multi.is_some() {
        return ctx.reply().error(b"ERR WATCH inside MULTI is not allowed");
    }
    let (worker, db) = ctx.backend.worker();
    let mut watching = match ctx.session.watch.take() {
        Some(watching) => watching,
        None => match worker.begin() {
            Ok(txn) => Watch {
                txn,
                keys: Vec::new(),
            },
            Err(error) => return ctx.engine_error(error),
        },
    };
    for key in args.iter_from(1) {
        if let Err(error) = watching.txn.watch(db, key) {
            return ctx.engine_error(error);
        }
        watching.keys.push((db, key.to_vec()));
    }
    ctx.session.watch = Some(watching);
    ctx.reply().ok();
}

fn exec(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let Some(queue) = ctx.session.multi.take() else {
        return ctx.reply().error(b"ERR EXEC without MULTI");
    };
    let mut watching = ctx.session.watch.take();
    if queue.failed {
        return ctx
            .reply()
            .error(b"EXECABORT Transaction discarded because of previous errors.");
    }
    let watched = watching.is_some();
    let selected_db = ctx.session.db;
    let mut replies = Vec::new();
    for _ in 0..MAX_EXEC_ATTEMPTS {
        let (worker, _) = ctx.backend.worker();
        let mut txn = match worker.begin() {
            Ok(txn) => txn,
            Err(error) => return ctx.engine_error(error),
        };
        if let Some(Watch {
            txn: watch_txn,
            keys,
        }) = watching.take()
        {
            let reread = keys.iter().try_for_each(|(db, key)| txn.watch(*db, key));
            match reread.and_then(|()| watch_txn.commit()) {
                Ok(()) => {}
                Err(EngineError::Conflict) => return ctx.reply().null_array(),
                Err(error) => return ctx.engine_error(error),
            }
        }
        replies.clear();
        ctx.session.db = selected_db;
        let mut key_delta = 0i64;
        for command in queue.commands() {
            // Each command sees the database selected so far (a SELECT may
            // be queued too).
            let db = ctx.session.db;
            let (worker, _) = ctx.backend.worker();
            let mut inner = Ctx {
                session: &mut *ctx.session,
                backend: Backend::Txn(TxnStore {
                    txn: &mut txn,
                    worker,
                    db,
                    // Counting created keys costs a read per write: only
                    // when a queued DBSIZE needs it.
                    key_delta: queue.counts_keys.then_some(&mut key_delta),
                }),
                stats: ctx.stats,
                shared: ctx.shared,
                out: &mut replies,
            };
            execute(&mut inner, &command);
        }
        match txn.commit() {
            Ok(()) => {
                let mut reply = ReplyWriter {
                    out: &mut *ctx.out,
                    resp3: ctx.session.resp3,
                };
                reply.array_header(queue.len());
                ctx.out.extend_from_slice(&replies);
                return;
            }
            Err(error) => {
                // Nothing was applied, SELECTs included.
                ctx.session.db = selected_db;
                match error {
                    EngineError::Conflict if watched => return ctx.reply().null_array(),
                    EngineError::Conflict => continue,
                    // As Redis refuses EXEC while its AOF cannot be written.
                    EngineError::LogFailed(errno) => {
                        let text = format!(
                            "EXECABORT Transaction discarded because of: {}",
                            crate::resp::misconf_text(errno)
                        );
                        return ctx.reply().error(text.as_bytes());
                    }
                    error => return ctx.engine_error(error),
                }
            }
        }
    }
    ctx.reply()
        .error(b"ERR EXEC gave up after repeated transaction conflicts; retry");
}
