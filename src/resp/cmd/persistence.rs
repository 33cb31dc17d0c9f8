//! SAVE, BGSAVE, BGREWRITEAOF and LASTSAVE over the engine's checkpoints.
//!
//! Every write is already in the write-ahead log before its reply leaves
//! (group commit), so a checkpoint only shortens recovery and lets the
//! engine delete old logs: it is Redis's RDB save and AOF rewrite at once.

use std::sync::atomic::Ordering::Relaxed;

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::engine::EngineError;
use crate::resp::{Args, Ctx};
use crate::runtime::Storage;

pub static SAVE: CommandSpec = command_spec!("save", 1, Some(save), group: "server", since: "1.0.0",
    summary: "Synchronously save the dataset to disk",
    complexity: "O(N) where N is the total number of keys in all databases",
    flags: ["admin", "noscript", "no_async_loading", "no_multi"], acl: ["@admin", "@slow", "@dangerous"]);

pub static BGSAVE: CommandSpec = command_spec!("bgsave", -1, Some(bgsave), group: "server", since: "1.0.0",
    summary: "Asynchronously save the dataset to disk", complexity: "O(1)",
    flags: ["admin", "noscript", "no_async_loading"], acl: ["@admin", "@slow", "@dangerous"]);

pub static BGREWRITEAOF: CommandSpec = command_spec!("bgrewriteaof", 1, Some(bgrewriteaof), group: "server", since: "1.0.0",
    summary: "Asynchronously rewrite the append-only file", complexity: "O(1)",
    flags: ["admin", "noscript", "no_async_loading"], acl: ["@admin", "@slow", "@dangerous"]);

pub static LASTSAVE: CommandSpec = command_spec!("lastsave", 1, Some(lastsave), group: "server", since: "1.0.0",
    summary: "Get the UNIX time stamp of the last successful save to disk", complexity: "O(1)",
    flags: ["loading", "stale", "fast"], acl: ["@admin", "@fast", "@dangerous"]);

const PERSISTENCE_OFF: &[u8] = b"ERR persistence is off (no data-dir is set)";
const SAVE_IN_PROGRESS: &[u8] = b"ERR Background save already in progress";

/// The engine's durability, or the refusal when there is no data-dir.
fn storage<'a>(ctx: &mut Ctx<'a>) -> Option<&'a Storage> {
    let storage = ctx.shared.storage.as_ref();
    if storage.is_none() {
        ctx.reply().error(PERSISTENCE_OFF);
    }
    storage
}

/// Redis answers a failed save with a bare `-ERR`; the reason is logged.
fn failed(ctx: &mut Ctx<'_>, what: &str, error: EngineError) {
    crate::log_warn!(conn = ctx.session.client_id; "{what} failed: {error}");
    ctx.reply().error(b"ERR");
}

/// SAVE: a checkpoint run to its end; blocks this worker meanwhile, as
/// Redis's SAVE blocks the server.
fn save(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let Some(storage) = storage(ctx) else {
        return;
    };
    if storage
        .info()
        .is_some_and(|info| info.checkpoint_running != 0)
    {
        return ctx.reply().error(SAVE_IN_PROGRESS);
    }
    match storage.checkpoint(true) {
        Ok(()) => ctx.reply().ok(),
        Err(EngineError::Busy) => ctx.reply().error(SAVE_IN_PROGRESS),
        Err(error) => failed(ctx, "SAVE", error),
    }
}

/// BGSAVE [SCHEDULE]: starts a checkpoint in the background. With
/// SCHEDULE, one asked for while another runs starts when that ends.
fn bgsave(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let schedule = match args.len() {
        1 => false,
        2 if args.get(1).eq_ignore_ascii_case(b"schedule") => true,
        _ => return ctx.reply().error(SYNTAX_ERROR),
    };
    let Some(storage) = storage(ctx) else {
        return;
    };
    match storage.checkpoint(false) {
        Ok(()) => ctx.reply().simple(b"Background saving started"),
        Err(EngineError::Busy) if schedule => {
            storage.bgsave_scheduled.store(true, Relaxed);
            ctx.reply().simple(b"Background saving scheduled")
        }
        Err(EngineError::Busy) => ctx.reply().error(SAVE_IN_PROGRESS),
        Err(error) => failed(ctx, "BGSAVE", error),
    }
}

/// BGREWRITEAOF: the same checkpoint (it is what lets the engine drop old
/// logs). While one runs, another is scheduled, as Redis schedules a
/// rewrite behind a running save.
fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let Some(storage) = storage(ctx) else {
        return;
    };
    match storage.checkpoint(false) {
        Ok(()) => ctx
            .reply()
            .simple(b"Background append only file rewriting started"),
        Err(EngineError::Busy) => {
            storage.bgsave_scheduled.store(true, Relaxed);
            ctx.reply()
                .simple(b"Background append only file rewriting scheduled")
        }
        Err(error) => failed(ctx, "BGREWRITEAOF", error),
    }
}

/// LASTSAVE: Unix seconds of the last good checkpoint (or of the end of
/// recovery); without a data-dir, when the server started.
fn lastsave(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let shared = ctx.shared;
    let at = match &shared.storage {
        Some(storage) => storage
            .info()
            .map_or(shared.started_unix_s, |info| info.last_checkpoint_unix_s),
        None => shared.started_unix_s,
    };
    ctx.reply().integer(at);
}
