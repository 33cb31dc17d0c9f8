//! INCR, DECR, INCRBY, DECRBY: one atomic read-modify-write in the engine.

use super::{command_spec, integer_arg, CommandSpec};
use crate::resp::{Args, Ctx};

/// Engine database of every key (only database 0 is served for now).
const DB: u32 = 0;

pub static INCR: CommandSpec = command_spec!("incr", 2, Some(incr), group: "string", since: "1.0.0",
    summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static DECR: CommandSpec = command_spec!("decr", 2, Some(decr), group: "string", since: "1.0.0",
    summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static INCRBY: CommandSpec = command_spec!("incrby", 3, Some(incrby), group: "string", since: "1.0.0",
    summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static DECRBY: CommandSpec = command_spec!("decrby", 3, Some(decrby), group: "string", since: "1.0.0",
    summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

fn incr(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    add(ctx, args.get(1), 1);
}

fn decr(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    add(ctx, args.get(1), -1);
}

fn incrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(delta) = integer_arg(ctx, args.get(2)) {
        add(ctx, args.get(1), delta);
    }
}

fn decrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(delta) = integer_arg(ctx, args.get(2)) else {
        return;
    };
    // -i64::MIN does not exist.
    if delta == i64::MIN {
        return ctx.reply().error(b"ERR decrement would overflow");
    }
    add(ctx, args.get(1), -delta);
}

fn add(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) {
    match ctx.engine.incr_by(DB, key, delta) {
        Ok(value) => ctx.reply().integer(value),
        Err(error) => ctx.engine_error(error),
    }
}
