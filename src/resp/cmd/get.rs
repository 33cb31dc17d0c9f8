//! GET and MGET.

use super::{command_spec, CommandSpec};
use crate::resp::{reply::ReplyWriter, Args, Ctx};
use crate::stats::WorkerStats;

/// Engine database of every key (only database 0 is served for now).
const DB: u32 = 0;

/// INFO's keyspace_hits / keyspace_misses.
fn count_lookup(stats: &WorkerStats, value: Option<&[u8]>) {
    let counter = if value.is_some() {
        &stats.keyspace_hits
    } else {
        &stats.keyspace_misses
    };
    counter.add(1);
}

pub static GET: CommandSpec = command_spec!("get", 2, Some(get), group: "string", since: "1.0.0",
    summary: "Returns the string value of a key.", complexity: "O(1)",
    flags: ["readonly", "fast"], acl: ["@read", "@string", "@fast"], keys: (1, 1, 1));

fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let stats = ctx.stats;
    let mut reply = ReplyWriter {
        out: ctx.out,
        resp3: ctx.session.resp3,
    };
    let result = ctx.engine.get(DB, args.get(1), |value| {
        count_lookup(stats, value);
        reply.bulk_or_null(value);
    });
    if let Err(error) = result {
        ctx.engine_error(error);
    }
}

pub static MGET: CommandSpec = command_spec!("mget", -2, Some(mget), group: "string", since: "1.0.0",
    summary: "Atomically returns the string values of one or more keys.", complexity: "O(N) where N is the number of keys to retrieve.",
    flags: ["readonly", "fast"], acl: ["@read", "@string", "@fast"], keys: (1, -1, 1));

/// All keys come from one consistent snapshot.
fn mget(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let stats = ctx.stats;
    let reply_start = ctx.out.len();
    let mut reply = ReplyWriter {
        out: ctx.out,
        resp3: ctx.session.resp3,
    };
    reply.array_header(args.len() - 1);
    let result = ctx.engine.multi_get(DB, args.iter_from(1), |value| {
        count_lookup(stats, value);
        reply.bulk_or_null(value);
    });
    if let Err(error) = result {
        ctx.out.truncate(reply_start);
        ctx.engine_error(error);
    }
}
