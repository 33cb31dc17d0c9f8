//! Connection commands: PING, ECHO, HELLO, AUTH, QUIT, SELECT.

use super::{command_spec, integer_arg, CommandSpec, SYNTAX_ERROR};
use crate::resp::{Args, Ctx, REDIS_COMPAT_VERSION};

pub static PING: CommandSpec = command_spec!("ping", -1, Some(ping), group: "connection", since: "1.0.0",
    summary: "Returns the server's liveliness response.", complexity: "O(1)",
    flags: ["fast", "sentinel"], acl: ["@fast", "@connection"]);

fn ping(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match args.len() {
        1 => ctx.reply().simple(b"PONG"),
        2 => ctx.reply().bulk(args.get(1)),
        _ => ctx
            .reply()
            .error(b"ERR wrong number of arguments for 'ping' command"),
    }
}

pub static ECHO: CommandSpec = command_spec!("echo", 2, Some(echo), group: "connection", since: "1.0.0",
    summary: "Returns the given string.", complexity: "O(1)",
    flags: ["fast"], acl: ["@fast", "@connection"]);

fn echo(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ctx.reply().bulk(args.get(1));
}

pub static QUIT: CommandSpec = command_spec!("quit", -1, Some(quit), group: "connection", since: "1.0.0",
    summary: "Closes the connection.", complexity: "O(1)",
    flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"], acl: ["@fast", "@connection"]);

fn quit(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.reply().ok();
    ctx.session.close_after_reply = true;
}

pub static SELECT: CommandSpec = command_spec!("select", 2, Some(select), group: "connection", since: "1.0.0",
    summary: "Changes the selected database.", complexity: "O(1)",
    flags: ["loading", "stale", "fast"], acl: ["@fast", "@connection"]);

fn select(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(index) = integer_arg(ctx, args.get(1)) else {
        return;
    };
    if i32::try_from(index).is_err() {
        return ctx
            .reply()
            .error(b"ERR value is out of range, value must between -2147483648 and 2147483647");
    }
    if index < 0 || index >= ctx.shared.databases as i64 {
        return ctx.reply().error(b"ERR DB index is out of range");
    }
    ctx.session.db = index as u32;
    ctx.reply().ok();
}

pub static AUTH: CommandSpec = command_spec!("auth", -2, Some(auth), group: "connection", since: "1.0.0",
    summary: "Authenticates the connection.", complexity: "O(N) where N is the number of passwords defined for the user",
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"], acl: ["@fast", "@connection"]);

/// AUTH [username] password, against the ACL users (`default` when no
/// user is given).
fn auth(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() > 3 {
        return ctx.reply().error(SYNTAX_ERROR);
    }
    let default_nopass = ctx
        .shared
        .live
        .acl
        .user(b"default")
        .is_some_and(|user| user.nopass());
    if args.len() == 2 && default_nopass {
        return ctx.reply().error(
            b"ERR AUTH <password> called without any password configured for the default user. \
              Are you sure your configuration is correct?",
        );
    }
    let (user, password) = if args.len() == 2 {
        (&b"default"[..], args.get(1))
    } else {
        (args.get(1), args.get(2))
    };
    match super::acl::login(ctx, user, password, args.get(0)) {
        Ok(()) => ctx.reply().ok(),
        Err(text) => ctx.reply().error(&text),
    }
}

pub static HELLO: CommandSpec = command_spec!("hello", -1, Some(hello), group: "connection", since: "6.0.0",
    summary: "Handshakes with the Redis server.", complexity: "O(1)",
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"], acl: ["@fast", "@connection"]);

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut version = None;
    let mut next = 1;
    if args.len() >= 2 {
        let Some(requested) = crate::resp::parse::parse_strict_i64(args.get(1)) else {
            return ctx
                .reply()
                .error(b"ERR Protocol version is not an integer or out of range");
        };
        if !(2..=3).contains(&requested) {
            return ctx.reply().error(b"NOPROTO unsupported protocol version");
        }
        version = Some(requested);
        next = 2;
    }
    let mut credentials = None;
    let mut name = None;
    while next < args.len() {
        let option = args.get(next);
        let more = args.len() - 1 - next;
        if option.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            credentials = Some((args.get(next + 1), args.get(next + 2)));
            next += 3;
        } else if option.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(args.get(next + 1));
            next += 2;
        } else {
            let mut text = b"ERR Syntax error in HELLO option '".to_vec();
            text.extend_from_slice(option);
            text.push(b'\'');
            return ctx.reply().error(&text);
        }
    }
    if let Some((user, password)) = credentials {
        if let Err(text) = super::acl::login(ctx, user, password, args.get(0)) {
            return ctx.reply().error(&text);
        }
    }
    if !ctx.session.authenticated {
        return ctx.reply().error(
            b"NOAUTH HELLO must be called with the client already authenticated, otherwise the \
              HELLO AUTH <user> <pass> option can be used to authenticate the client and \
              select the RESP protocol version at the same time",
        );
    }
    if let Some(name) = name {
        if !super::client::set_name(ctx, name) {
            return;
        }
    }
    if let Some(version) = version {
        ctx.session.resp3 = version == 3;
    }
    let client_id = ctx.session.client_id as i64;
    let proto = if ctx.session.resp3 { 3 } else { 2 };
    let mut reply = ctx.reply();
    reply.map_header(7);
    reply.bulk(b"server");
    reply.bulk(b"redis");
    reply.bulk(b"version");
    reply.bulk(REDIS_COMPAT_VERSION.as_bytes());
    reply.bulk(b"proto");
    reply.integer(proto);
    reply.bulk(b"id");
    reply.integer(client_id);
    reply.bulk(b"mode");
    reply.bulk(b"standalone");
    reply.bulk(b"role");
    reply.bulk(b"master");
    reply.bulk(b"modules");
    reply.array_header(0);
}

pub static TIME: CommandSpec = command_spec!("time", 1, Some(time), group: "server", since: "2.6.0",
    summary: "Returns the server time.", complexity: "O(1)",
    flags: ["loading", "stale", "fast"], acl: ["@fast"]);

/// [unix seconds, microseconds], both as bulk strings.
fn time(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut reply = ctx.reply();
    reply.array_header(2);
    reply.bulk(itoa::Buffer::new().format(now.as_secs()).as_bytes());
    reply.bulk(itoa::Buffer::new().format(now.subsec_micros()).as_bytes());
}

pub static RESET: CommandSpec = command_spec!("reset", 1, Some(reset), group: "connection", since: "6.2.0",
    summary: "Resets the connection.", complexity: "O(1)",
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], acl: ["@fast", "@connection"]);

/// Back to a fresh connection's state: no MULTI, no WATCH, RESP2, no name,
/// the default user, and unauthenticated again if it needs a password.
fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let session = &mut *ctx.session;
    session.multi = None;
    session.watch = None;
    session.resp3 = false;
    session.db = 0;
    session.name = None;
    session.acl_user = crate::acl::SessionUser::default();
    session.authenticated = !ctx.shared.live.password_required();
    ctx.reply().simple(b"RESET");
}
