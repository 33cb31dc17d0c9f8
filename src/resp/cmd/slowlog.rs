//! SLOWLOG GET / LEN / RESET / HELP over every worker's slow log
//! (`crate::stats::slowlog`), which PostgreSQL statements enter too.

use super::{command_spec, CommandSpec};
use crate::resp::parse::parse_strict_i64;
use crate::resp::{Args, Ctx};
use crate::stats::slowlog;

pub static SLOWLOG: CommandSpec = command_spec!("slowlog", -2, None, group: "server", since: "2.2.12",
    summary: "A container for slow log commands", complexity: "Depends on subcommand.",
    flags: [], acl: ["@slow"], subcommands: SLOWLOG_SUBCOMMANDS);

static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    command_spec!("slowlog|help", 2, Some(help), group: "server", since: "6.2.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        flags: ["loading", "stale"], acl: ["@slow"]),
    command_spec!("slowlog|reset", 2, Some(reset), group: "server", since: "2.2.12",
        summary: "Clear all entries from the slow log", complexity: "O(N) where N is the number of entries in the slowlog",
        flags: ["admin", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("slowlog|get", -2, Some(get), group: "server", since: "2.2.12",
        summary: "Get the slow log's entries", complexity: "O(N) where N is the number of entries returned",
        flags: ["admin", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("slowlog|len", 2, Some(len), group: "server", since: "2.2.12",
        summary: "Get the slow log's length", complexity: "O(1)",
        flags: ["admin", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
];

/// Redis 7.0's SLOWLOG HELP text, line for line.
const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    super::help_reply(ctx, HELP);
}

fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    slowlog::reset(ctx.shared);
    ctx.reply().ok();
}

fn len(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let len = slowlog::len(ctx.shared);
    ctx.reply().integer(len as i64);
}

/// SLOWLOG GET [count]: the newest `count` entries (default 10, -1 all),
/// newest first: id, Unix time, µs, arguments, client address, name.
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() > 3 {
        let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        text.extend_from_slice(&args.get(1)[..args.get(1).len().min(128)]);
        text.extend_from_slice(b"'. Try ");
        text.extend(args.get(0).to_ascii_uppercase());
        text.extend_from_slice(b" HELP.");
        return ctx.reply().error(&text);
    }
    let count = if args.len() == 3 {
        match parse_strict_i64(args.get(2)) {
            Some(-1) => None,
            Some(count) if count >= 0 => Some(count as usize),
            _ => {
                return ctx
                    .reply()
                    .error(b"ERR count should be greater than or equal to -1")
            }
        }
    } else {
        Some(10)
    };
    let entries = slowlog::newest(ctx.shared, count);
    let mut reply = ctx.reply();
    reply.array_header(entries.len());
    for entry in &entries {
        reply.array_header(6);
        reply.integer(entry.id as i64);
        reply.integer(entry.unix_secs);
        reply.integer(entry.duration_us as i64);
        reply.array_header(entry.args.len());
        for arg in &entry.args {
            reply.bulk(arg);
        }
        reply.bulk(entry.client_addr.as_bytes());
        reply.bulk(&entry.client_name);
    }
}
