//! ACL SETUSER / GETUSER / DELUSER / LIST / USERS / WHOAMI / CAT / LOG /
//! DRYRUN / GENPASS / HELP, with Redis 7.0's replies, and the RESP side of
//! access control the dispatcher and AUTH use: refusing a command, and
//! logging in.

use std::net::IpAddr;

use super::{command_spec, CommandSpec};
use crate::acl::commands::{self, table, CATEGORIES};
use crate::acl::log::{self, Reason};
use crate::acl::{Denied, LoginError, Refusal, SessionUser};
use crate::resp::{Args, Backend, Ctx, Session};
use crate::stats::Protocol;

pub static ACL: CommandSpec = command_spec!("acl", -2, None, group: "server", since: "6.0.0",
    summary: "A container for Access List Control commands ", complexity: "Depends on subcommand.",
    flags: [], acl: ["@slow"], subcommands: ACL_SUBCOMMANDS);

static ACL_SUBCOMMANDS: &[CommandSpec] = &[
    command_spec!("acl|cat", -2, Some(cat), group: "server", since: "6.0.0",
        summary: "List the ACL categories or the commands inside a category", complexity: "O(1) since the categories and commands are a fixed set.",
        flags: ["noscript", "loading", "stale"], acl: ["@slow"]),
    command_spec!("acl|deluser", -3, Some(deluser), group: "server", since: "6.0.0",
        summary: "Remove the specified ACL users and the associated rules", complexity: "O(1) amortized time considering the typical user.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|dryrun", -4, Some(dryrun), group: "server", since: "7.0.0",
        summary: "Returns whether the user can execute the given command without executing the command.", complexity: "O(1).",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|genpass", -2, Some(genpass), group: "server", since: "6.0.0",
        summary: "Generate a pseudorandom secure password to use for ACL users", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow"]),
    command_spec!("acl|getuser", 3, Some(getuser), group: "server", since: "6.0.0",
        summary: "Get the rules for a specific ACL user", complexity: "O(N). Where N is the number of password, command and pattern rules that the user has.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|help", 2, Some(help), group: "server", since: "6.0.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        flags: ["loading", "stale"], acl: ["@slow"]),
    command_spec!("acl|list", 2, Some(list), group: "server", since: "6.0.0",
        summary: "List the current ACL rules in ACL config file format", complexity: "O(N). Where N is the number of configured users.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|load", 2, Some(load_or_save), group: "server", since: "6.0.0",
        summary: "Reload the ACLs from the configured ACL file", complexity: "O(N). Where N is the number of configured users.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|log", -2, Some(acl_log), group: "server", since: "6.0.0",
        summary: "List latest events denied because of ACLs in place", complexity: "O(N) with N being the number of entries shown.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|save", 2, Some(load_or_save), group: "server", since: "6.0.0",
        summary: "Save the current ACL rules in the configured ACL file", complexity: "O(N). Where N is the number of configured users.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|setuser", -3, Some(setuser), group: "server", since: "6.0.0",
        summary: "Modify or create the rules for a specific ACL user", complexity: "O(N). Where N is the number of rules provided.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|users", 2, Some(users), group: "server", since: "6.0.0",
        summary: "List the username of all the configured ACL rules", complexity: "O(N). Where N is the number of configured users.",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("acl|whoami", 2, Some(whoami), group: "server", since: "6.0.0",
        summary: "Return the name of the user associated to the current connection", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow"]),
];

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax_error(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    text.extend_from_slice(super::c_string_prefix(args.get(1), 128));
    text.extend_from_slice(b"'. Try ");
    text.extend(args.get(0).to_ascii_uppercase());
    text.extend_from_slice(b" HELP.");
    ctx.reply().error(&text);
}

/// ACL SETUSER username [rule ...]: all rules or none (Redis applies them
/// to a copy). A `>` or `<` rule that fails is not echoed.
fn setuser(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let name = args.get(2);
    if crate::acl::user::has_spaces(name) {
        return ctx
            .reply()
            .error(b"ERR Usernames can't contain spaces or null characters");
    }
    let rules: Vec<&[u8]> = args.iter_from(3).collect();
    if rules.iter().any(|rule| rule.first() == Some(&b'(')) {
        return ctx.reply().error(
            b"ERR Error in ACL SETUSER modifier '(...)': ACL selectors are not supported by corewire",
        );
    }
    match ctx.shared.live.acl.set_user(name, &rules) {
        Ok(()) => ctx.reply().ok(),
        Err((rule, error)) => {
            let text = format!(
                "ERR Error in ACL SETUSER modifier '{rule}': {}",
                error.text()
            );
            ctx.reply().error(text.as_bytes());
        }
    }
}

fn deluser(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let names: Vec<&[u8]> = args.iter_from(2).collect();
    if names.iter().any(|name| *name == b"default") {
        return ctx
            .reply()
            .error(b"ERR The 'default' user cannot be removed");
    }
    let deleted = ctx.shared.live.acl.delete_users(&names);
    ctx.reply().integer(deleted as i64);
}

/// ACL GETUSER: flags, password hashes, and the root selector's
/// commands, keys and channels; nil for an unknown user.
fn getuser(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(user) = ctx.shared.live.acl.user(args.get(2)) else {
        return ctx.reply().null();
    };
    let mut reply = ctx.reply();
    reply.map_header(6);
    reply.bulk(b"flags");
    let flags = user.flags();
    reply.set_header(flags.len());
    for flag in flags {
        reply.bulk(flag.as_bytes());
    }
    reply.bulk(b"passwords");
    let hashes = user.password_hashes();
    reply.array_header(hashes.len());
    for hash in hashes {
        reply.bulk(hash.as_bytes());
    }
    reply.bulk(b"commands");
    reply.bulk(user.selector.describe_commands().as_bytes());
    reply.bulk(b"keys");
    reply.bulk(user.selector.describe_keys().as_bytes());
    reply.bulk(b"channels");
    reply.bulk(user.selector.describe_channels().as_bytes());
    reply.bulk(b"selectors");
    reply.array_header(0);
}

/// ACL LIST: one `user <name> <rules>` line per user, passwords as
/// `#<sha256>`.
fn list(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let users = ctx.shared.live.acl.users();
    let mut reply = ctx.reply();
    reply.array_header(users.len());
    for user in users.values() {
        let mut line = b"user ".to_vec();
        line.extend_from_slice(&user.name);
        line.push(b' ');
        line.extend_from_slice(user.describe().as_bytes());
        reply.bulk(&line);
    }
}

fn users(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let users = ctx.shared.live.acl.users();
    let mut reply = ctx.reply();
    reply.array_header(users.len());
    for name in users.keys() {
        reply.bulk(name);
    }
}

fn whoami(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let name = ctx.session.acl_user.name().to_vec();
    ctx.reply().bulk(&name);
}

/// ACL CAT [category]: the categories, or the commands of one (command
/// table order; Redis lists them in its hash order).
fn cat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match args.len() {
        2 => {
            let mut reply = ctx.reply();
            reply.array_header(CATEGORIES.len());
            for category in CATEGORIES {
                reply.bulk(category.as_bytes());
            }
        }
        3 => {
            let Some(category) = commands::category(args.get(2)) else {
                let mut text = b"ERR Unknown category '".to_vec();
                text.extend_from_slice(super::c_string_prefix(args.get(2), 128));
                text.push(b'\'');
                return ctx.reply().error(&text);
            };
            let names: Vec<&str> = table()
                .commands
                .iter()
                .filter(|c| c.categories & (1 << category) != 0)
                .map(|c| c.name)
                .collect();
            let mut reply = ctx.reply();
            reply.array_header(names.len());
            for name in names {
                reply.bulk(name.as_bytes());
            }
        }
        _ => subcommand_syntax_error(ctx, args),
    }
}

/// ACL LOG [count | RESET].
fn acl_log(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut count = 10i64;
    match args.len() {
        2 => {}
        3 if args.get(2).eq_ignore_ascii_case(b"RESET") => {
            ctx.shared.live.acl.log.reset();
            return ctx.reply().ok();
        }
        3 => {
            let Some(n) = super::integer_arg(ctx, args.get(2)) else {
                return;
            };
            count = n.max(0);
        }
        _ => return subcommand_syntax_error(ctx, args),
    }
    let entries = ctx.shared.live.acl.log.newest(count as usize);
    let now_ms = log::unix_ms();
    let resp3 = ctx.session.resp3;
    let mut reply = ctx.reply();
    reply.array_header(entries.len());
    for entry in entries {
        reply.map_header(7);
        reply.bulk(b"count");
        reply.integer(entry.count as i64);
        reply.bulk(b"reason");
        reply.bulk(entry.reason.name().as_bytes());
        reply.bulk(b"context");
        reply.bulk(entry.context.as_bytes());
        reply.bulk(b"object");
        reply.bulk(&entry.object);
        reply.bulk(b"username");
        reply.bulk(&entry.username);
        reply.bulk(b"age-seconds");
        let age = format_g17((now_ms - entry.ctime_ms).max(0) as f64 / 1000.0);
        if resp3 {
            reply.out.push(b',');
            reply.out.extend_from_slice(age.as_bytes());
            reply.out.extend_from_slice(b"\r\n");
        } else {
            reply.bulk(age.as_bytes());
        }
        reply.bulk(b"client-info");
        reply.bulk(entry.client_info.as_bytes());
    }
}

/// C's `%.17g`, as Redis's addReplyDouble writes a double.
fn format_g17(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if !value.is_finite() {
        return if value.is_nan() {
            "nan"
        } else if value > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .into();
    }
    let scientific = format!("{value:.16e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("an exponent");
    let exponent: i32 = exponent.parse().expect("a number");
    let trim = |text: &str| -> String {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text.to_string()
        }
    };
    if (-4..17).contains(&exponent) {
        trim(&format!("{value:.*}", (16 - exponent) as usize))
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.abs())
    }
}

/// ACL DRYRUN username command [arg ...]: OK, or why the user may not.
fn dryrun(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(user) = ctx.shared.live.acl.user(args.get(2)) else {
        let text = format!(
            "ERR User '{}' not found",
            String::from_utf8_lossy(args.get(2))
        );
        return ctx.reply().error(text.as_bytes());
    };
    let table = table();
    let name = args.get(3);
    let command = (!name.contains(&b'|'))
        .then(|| table.lookup(name))
        .flatten()
        .map(|i| &table.commands[i]);
    let command = match command {
        Some(top) if !top.subcommands.is_empty() && args.len() >= 5 => {
            let mut full = args.get(3).to_vec();
            full.push(b'|');
            full.extend_from_slice(args.get(4));
            table.lookup(&full).map(|i| &table.commands[i])
        }
        other => other,
    };
    let Some(command) = command else {
        let text = format!(
            "ERR Command '{}' not found",
            String::from_utf8_lossy(args.get(3))
        );
        return ctx.reply().error(text.as_bytes());
    };
    let argc = args.len() - 3;
    let arity = command.spec.arity;
    if (arity > 0 && arity as usize != argc) || (argc as i64) < -(arity as i64) {
        let text = format!(
            "ERR wrong number of arguments for '{}' command",
            command.name
        );
        return ctx.reply().error(text.as_bytes());
    }
    let (base, ranges) = copy_args(args, 3);
    let inner = Args::new(&base, &ranges);
    match user.selector.check(command.spec, command.bit, &inner) {
        Ok(()) => ctx.reply().ok(),
        Err(Denied::Command) => {
            let text = format!(
                "This user has no permissions to run the '{}' command",
                command.name
            );
            ctx.reply().bulk(text.as_bytes());
        }
        Err(Denied::Key(position)) => {
            let mut text = b"This user has no permissions to access the '".to_vec();
            text.extend_from_slice(inner.get(position));
            text.extend_from_slice(b"' key");
            ctx.reply().bulk(&text);
        }
    }
}

/// Arguments from `from` on, copied into a buffer of their own.
fn copy_args(args: &Args<'_>, from: usize) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
    let mut base = Vec::new();
    let mut ranges = Vec::new();
    for arg in args.iter_from(from) {
        let start = base.len();
        base.extend_from_slice(arg);
        ranges.push(start..base.len());
    }
    (base, ranges)
}

/// ACL GENPASS [bits]: random hex, 256 bits by default.
fn genpass(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let bits = match args.len() {
        2 => 256,
        3 => match super::integer_arg(ctx, args.get(2)) {
            Some(bits) => bits,
            None => return,
        },
        _ => return subcommand_syntax_error(ctx, args),
    };
    if !(1..=4096).contains(&bits) {
        return ctx.reply().error(
            b"ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        );
    }
    let chars = ((bits + 3) / 4) as usize;
    let random: [u8; 512] = crate::pg::auth::random_bytes();
    let text = crate::acl::user::hex(&random[..chars.div_ceil(2)]);
    ctx.reply().bulk(&text.as_bytes()[..chars]);
}

fn load_or_save(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.reply().error(
        b"ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
    );
}

/// Redis 7.0's ACL HELP, line for line.
const HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    super::help_reply(ctx, HELP);
}

// ---- the checks the dispatcher and AUTH make ----

/// `toplevel`, or `multi` while queueing or inside EXEC.
fn context(ctx: &Ctx<'_>) -> &'static str {
    if ctx.session.multi.is_some() || matches!(ctx.backend, Backend::Txn(_)) {
        "multi"
    } else {
        "toplevel"
    }
}

/// A line like CLIENT LIST's for the ACL log, from what the session knows.
fn client_info(session: &Session) -> String {
    let now = std::time::Instant::now();
    format!(
        "id={} addr={} laddr={} name={} age={} idle={} flags={} db={} multi={} cmd={} user={} resp={}",
        session.client_id,
        session.peer_addr,
        session.local_addr,
        String::from_utf8_lossy(session.name.as_deref().unwrap_or_default()),
        now.duration_since(session.created).as_secs(),
        now.duration_since(session.last_interaction).as_secs(),
        if session.multi.is_some() { "x" } else { "N" },
        session.db,
        session.multi.as_ref().map_or(-1, |queue| queue.len() as i64),
        session.last_command,
        String::from_utf8_lossy(session.acl_user.name()),
        if session.resp3 { 3 } else { 2 },
    )
}

/// The error a refused request gets, counted and logged (ACL LOG), or
/// None when its user was deleted: then the connection closes without
/// a reply, as Redis closes it at once.
pub(super) fn refusal(
    ctx: &mut Ctx<'_>,
    refusal: Refusal,
    command: &str,
    args: &Args<'_>,
) -> Option<Vec<u8>> {
    let in_exec = matches!(ctx.backend, Backend::Txn(_));
    let denied = match refusal {
        Refusal::UserRemoved if in_exec => Denied::Command,
        Refusal::UserRemoved => {
            ctx.session.authenticated = false;
            ctx.session.close_after_reply = true;
            return None;
        }
        Refusal::Denied(denied) => denied,
    };
    let (reason, object) = match denied {
        Denied::Command => {
            ctx.stats.acl_denied_cmd.add(1);
            (Reason::Command, command.as_bytes().to_vec())
        }
        Denied::Key(position) => {
            ctx.stats.acl_denied_key.add(1);
            (Reason::Key, args.get(position).to_vec())
        }
    };
    let entry = log::Entry {
        count: 1,
        reason,
        context: context(ctx),
        object,
        username: ctx.session.acl_user.name().to_vec(),
        ctime_ms: log::unix_ms(),
        client_info: client_info(ctx.session),
    };
    ctx.shared.live.acl.note(entry);
    let text = match (denied, in_exec) {
        (Denied::Command, false) => {
            format!("NOPERM this user has no permissions to run the '{command}' command")
        }
        (Denied::Key(_), false) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments"
                .to_string()
        }
        (denied, true) => format!(
            "NOPERM ACLs rules changed between the moment the transaction was accumulated and \
             the EXEC call. This command is no longer allowed for the following reason: {}",
            match denied {
                Denied::Command => "no permission to execute the command or subcommand",
                Denied::Key(_) => "no permission to touch the specified keys",
            }
        ),
    };
    Some(text.into_bytes())
}

/// The client's address, for the failed-login limiter.
fn peer_ip(session: &Session) -> Option<IpAddr> {
    session
        .peer_addr
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip())
}

/// AUTH / HELLO AUTH: logs the connection in as `user`, or answers why
/// not (Err: the error text). `object` is the command as sent (ACL LOG).
pub(super) fn login(
    ctx: &mut Ctx<'_>,
    user: &[u8],
    password: &[u8],
    object: &[u8],
) -> Result<(), Vec<u8>> {
    let acl = &ctx.shared.live.acl;
    match acl.login(user, password, peer_ip(ctx.session)) {
        Ok(found) => {
            ctx.session.acl_user = SessionUser::logged_in(found, acl);
            ctx.session.authenticated = true;
            Ok(())
        }
        Err(error) => {
            ctx.stats.auth_failed(Protocol::Resp);
            let text = match error {
                LoginError::Wrong => {
                    b"WRONGPASS invalid username-password pair or user is disabled.".to_vec()
                }
                LoginError::Blocked(remaining) => {
                    ctx.stats.auth_rate_limited(Protocol::Resp);
                    format!("ERR {}", crate::acl::blocked_text(remaining)).into_bytes()
                }
            };
            let entry = log::Entry {
                count: 1,
                reason: Reason::Auth,
                context: context(ctx),
                object: object.to_vec(),
                username: user.to_vec(),
                ctime_ms: log::unix_ms(),
                client_info: client_info(ctx.session),
            };
            ctx.shared.live.acl.note(entry);
            Err(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format_g17;

    #[test]
    fn doubles_print_as_c_does() {
        assert_eq!(format_g17(23.983), "23.983000000000001");
        assert_eq!(format_g17(24.02), "24.02");
        assert_eq!(format_g17(24.029), "24.029");
        assert_eq!(format_g17(0.0), "0");
        assert_eq!(format_g17(1.5), "1.5");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(0.00001), "1.0000000000000001e-05");
    }
}
