//! Keyspace commands: DEL, EXISTS, DBSIZE, FLUSHALL, FLUSHDB.

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::resp::{Args, Backend, Ctx};

pub static DEL: CommandSpec = command_spec!("del", -2, Some(del), group: "generic", since: "1.0.0",
    summary: "Deletes one or more keys.",
    complexity: "O(N) where N is the number of keys that will be removed.",
    flags: ["write"], acl: ["@keyspace", "@write", "@slow"], keys: (1, -1, 1));

fn del(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match ctx.backend.store().del(&mut args.iter_from(1)) {
        Ok(deleted) => ctx.reply().integer(deleted as i64),
        Err(error) => ctx.engine_error(error),
    }
}

pub static EXISTS: CommandSpec = command_spec!("exists", -2, Some(exists), group: "generic", since: "1.0.0",
    summary: "Determines whether one or more keys exist.",
    complexity: "O(N) where N is the number of keys to check.",
    flags: ["readonly", "fast"], acl: ["@keyspace", "@read", "@fast"], keys: (1, -1, 1));

fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match ctx.backend.store().exists(&mut args.iter_from(1)) {
        Ok(count) => ctx.reply().integer(count as i64),
        Err(error) => ctx.engine_error(error),
    }
}

pub static DBSIZE: CommandSpec = command_spec!("dbsize", 1, Some(dbsize), group: "server", since: "1.0.0",
    summary: "Returns the number of keys in the database.", complexity: "O(1)",
    flags: ["readonly", "fast"], acl: ["@keyspace", "@read", "@fast"]);

fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    match ctx.backend.store().count() {
        Ok((count, _)) => ctx.reply().integer(count as i64),
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

/// FLUSHALL (every database) / FLUSHDB (the selected one) [ASYNC | SYNC];
/// the engine clears synchronously either way.
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
    if matches!(ctx.backend, Backend::Txn(_)) {
        // The engine clears outside transactions only.
        return ctx
            .reply()
            .error(b"ERR FLUSHALL and FLUSHDB inside MULTI are not supported yet");
    }
    let all_databases = args.get(0).eq_ignore_ascii_case(b"FLUSHALL");
    match ctx.backend.store().clear(all_databases) {
        Ok(()) => ctx.reply().ok(),
        Err(error) => ctx.engine_error(error),
    }
}

pub static UNLINK: CommandSpec = command_spec!("unlink", -2, Some(del), group: "generic", since: "4.0.0",
    summary: "Asynchronously deletes one or more keys.",
    complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
    flags: ["write", "fast"], acl: ["@keyspace", "@write", "@fast"], keys: (1, -1, 1));

pub static TOUCH: CommandSpec = command_spec!("touch", -2, Some(exists), group: "generic", since: "3.2.1",
    summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
    complexity: "O(N) where N is the number of keys that will be touched.",
    flags: ["readonly", "fast"], acl: ["@keyspace", "@read", "@fast"], keys: (1, -1, 1));

pub static TYPE: CommandSpec = command_spec!("type", 2, Some(key_type), group: "generic", since: "1.0.0",
    summary: "Determines the type of value stored at a key.", complexity: "O(1)",
    flags: ["readonly", "fast"], acl: ["@keyspace", "@read", "@fast"], keys: (1, 1, 1));

/// Every value is a string: the engine stores no other type.
fn key_type(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match ctx.backend.store().exists(&mut args.iter_from(1)) {
        Ok(1) => ctx.reply().simple(b"string"),
        Ok(_) => ctx.reply().simple(b"none"),
        Err(error) => ctx.engine_error(error),
    }
}
