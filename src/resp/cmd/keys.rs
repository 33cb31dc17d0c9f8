//! Keyspace commands: DEL, EXISTS, DBSIZE, FLUSHALL, FLUSHDB.

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::resp::{Args, Ctx};

/// Engine database of every key (only database 0 is served for now).
const DB: u32 = 0;

pub static DEL: CommandSpec = command_spec!("del", -2, Some(del), group: "generic", since: "1.0.0",
    summary: "Deletes one or more keys.",
    complexity: "O(N) where N is the number of keys that will be removed.",
    flags: ["write"], acl: ["@keyspace", "@write", "@slow"], keys: (1, -1, 1));

fn del(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match ctx.engine.del(DB, args.iter_from(1)) {
        Ok(deleted) => ctx.reply().integer(deleted as i64),
        Err(error) => ctx.engine_error(error),
    }
}

pub static EXISTS: CommandSpec = command_spec!("exists", -2, Some(exists), group: "generic", since: "1.0.0",
    summary: "Determines whether one or more keys exist.",
    complexity: "O(N) where N is the number of keys to check.",
    flags: ["readonly", "fast"], acl: ["@keyspace", "@read", "@fast"], keys: (1, -1, 1));

fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match ctx.engine.exists(DB, args.iter_from(1)) {
        Ok(count) => ctx.reply().integer(count as i64),
        Err(error) => ctx.engine_error(error),
    }
}

pub static DBSIZE: CommandSpec = command_spec!("dbsize", 1, Some(dbsize), group: "server", since: "1.0.0",
    summary: "Returns the number of keys in the database.", complexity: "O(1)",
    flags: ["readonly", "fast"], acl: ["@keyspace", "@read", "@fast"]);

fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    match ctx.engine.count(DB) {
        Ok(count) => ctx.reply().integer(count as i64),
        Err(error) => ctx.engine_error(error),
    }
}

pub static FLUSHALL: CommandSpec = command_spec!("flushall", -1, Some(flush), group: "server", since: "1.0.0",
    summary: "Removes all keys from all databases.",
    complexity: "O(N) where N is the total number of keys in all databases",
    flags: ["write"], acl: ["@keyspace", "@write", "@slow", "@dangerous"]);

pub static FLUSHDB: CommandSpec = command_spec!("flushdb", -1, Some(flush), group: "server", since: "1.0.0",
    summary: "Remove all keys from the current database.",
    complexity: "O(N) where N is the number of keys in the selected database",
    flags: ["write"], acl: ["@keyspace", "@write", "@slow", "@dangerous"]);

/// FLUSHALL / FLUSHDB [ASYNC | SYNC]. With one database the two are the
/// same; the engine clears synchronously either way.
fn flush(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mode_ok = match args.len() {
        1 => true,
        2 => {
            args.get(1).eq_ignore_ascii_case(b"ASYNC") || args.get(1).eq_ignore_ascii_case(b"SYNC")
        }
        _ => false,
    };
    if !mode_ok {
        return ctx.reply().error(SYNTAX_ERROR);
    }
    match ctx.engine.clear(DB) {
        Ok(()) => ctx.reply().ok(),
        Err(error) => ctx.engine_error(error),
    }
}
