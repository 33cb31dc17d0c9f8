//! COMMAND, COMMAND COUNT / INFO / DOCS / LIST, from the command table.

use super::{command_spec, lookup, CommandSpec, COMMANDS, SYNTAX_ERROR};
use crate::resp::{reply::ReplyWriter, Args, Ctx};

pub static COMMAND: CommandSpec = command_spec!("command", -1, Some(all), group: "server", since: "2.8.13",
    summary: "Returns detailed information about all commands.", complexity: "O(N) where N is the total number of Redis commands",
    flags: ["loading", "stale"], acl: ["@slow", "@connection"], subcommands: COMMAND_SUBCOMMANDS);

static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    command_spec!("command|count", 2, Some(count), group: "server", since: "2.8.13",
        summary: "Returns a count of commands.", complexity: "O(1)",
        flags: ["loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("command|info", -2, Some(info), group: "server", since: "2.8.13",
        summary: "Returns information about one, multiple or all commands.", complexity: "O(N) where N is the number of commands to look up",
        flags: ["loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("command|docs", -2, Some(docs), group: "server", since: "7.0.0",
        summary: "Returns documentary information about one, multiple or all commands.", complexity: "O(N) where N is the number of commands to look up",
        flags: ["loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("command|list", -2, Some(list), group: "server", since: "7.0.0",
        summary: "Returns a list of command names.", complexity: "O(N) where N is the total number of Redis commands",
        flags: ["loading", "stale"], acl: ["@slow", "@connection"]),
];

fn all(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let mut reply = ctx.reply();
    reply.array_header(COMMANDS.len());
    for spec in COMMANDS {
        write_info(&mut reply, spec);
    }
}

fn count(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.reply().integer(COMMANDS.len() as i64);
}

/// COMMAND INFO [name ...]: one entry per name, nil for unknown ones.
fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() == 2 {
        return all(ctx, args);
    }
    let mut reply = ctx.reply();
    reply.array_header(args.len() - 2);
    for name in args.iter_from(2) {
        match lookup(name) {
            Some(spec) => write_info(&mut reply, spec),
            None => reply.null_array(),
        }
    }
}

/// COMMAND DOCS [name ...]: a map from name to its docs; unknown names are
/// left out, as Redis does.
fn docs(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let specs: Vec<&CommandSpec> = if args.len() == 2 {
        COMMANDS.to_vec()
    } else {
        args.iter_from(2).filter_map(lookup).collect()
    };
    let mut reply = ctx.reply();
    reply.map_header(specs.len());
    for spec in specs {
        reply.bulk(spec.name.as_bytes());
        write_docs(&mut reply, spec);
    }
}

/// COMMAND LIST (the FILTERBY forms are not supported).
fn list(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() > 2 {
        return ctx.reply().error(SYNTAX_ERROR);
    }
    let mut reply = ctx.reply();
    reply.array_header(COMMANDS.len());
    for spec in COMMANDS {
        reply.bulk(spec.name.as_bytes());
    }
}

/// Redis 7's ten-element command entry.
fn write_info(reply: &mut ReplyWriter<'_>, spec: &CommandSpec) {
    reply.array_header(10);
    reply.bulk(spec.name.as_bytes());
    reply.integer(spec.arity as i64);
    reply.set_header(spec.flags.len());
    for flag in spec.flags {
        reply.simple(flag.as_bytes());
    }
    reply.integer(spec.first_key as i64);
    reply.integer(spec.last_key as i64);
    reply.integer(spec.key_step as i64);
    reply.set_header(spec.acl_categories.len());
    for category in spec.acl_categories {
        reply.simple(category.as_bytes());
    }
    reply.set_header(0); // tips
    reply.array_header(0); // key specs
    reply.array_header(spec.subcommands.len());
    for sub in spec.subcommands {
        write_info(reply, sub);
    }
}

fn write_docs(reply: &mut ReplyWriter<'_>, spec: &CommandSpec) {
    let has_subcommands = !spec.subcommands.is_empty();
    reply.map_header(4 + has_subcommands as usize);
    for (field, value) in [
        ("summary", spec.summary),
        ("since", spec.since),
        ("group", spec.group),
        ("complexity", spec.complexity),
    ] {
        reply.bulk(field.as_bytes());
        reply.bulk(value.as_bytes());
    }
    if has_subcommands {
        reply.bulk(b"subcommands");
        reply.map_header(spec.subcommands.len());
        for sub in spec.subcommands {
            reply.bulk(sub.name.as_bytes());
            write_docs(reply, sub);
        }
    }
}
