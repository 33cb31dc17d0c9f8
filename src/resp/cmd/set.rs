//! SET and MSET.

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::engine::PutCondition;
use crate::resp::{reply::ReplyWriter, Args, Ctx};

pub static SET: CommandSpec = command_spec!("set", -3, Some(set), group: "string", since: "1.0.0",
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, 1, 1));

/// Parsed SET options.
struct SetOptions {
    condition: PutCondition,
    return_old: bool,
}

/// SET key value [NX | XX] [GET] [KEEPTTL], parsed as Redis's
/// parseExtendedStringArgumentsOrReply does (same errors, same order).
fn parse_options(args: &Args<'_>) -> Result<SetOptions, &'static [u8]> {
    let mut options = SetOptions {
        condition: PutCondition::Always,
        return_old: false,
    };
    for index in 3..args.len() {
        let option = args.get(index);
        if option.eq_ignore_ascii_case(b"NX") && options.condition != PutCondition::IfPresent {
            options.condition = PutCondition::IfAbsent;
        } else if option.eq_ignore_ascii_case(b"XX") && options.condition != PutCondition::IfAbsent
        {
            options.condition = PutCondition::IfPresent;
        } else if option.eq_ignore_ascii_case(b"GET") {
            options.return_old = true;
        } else if option.eq_ignore_ascii_case(b"KEEPTTL") {
            // Keys carry no TTL yet, so keeping it changes nothing.
        } else if [&b"EX"[..], b"PX", b"EXAT", b"PXAT"]
            .iter()
            .any(|o| option.eq_ignore_ascii_case(o))
        {
            return Err(b"ERR SET with an expiry is not supported yet");
        } else {
            return Err(SYNTAX_ERROR);
        }
    }
    Ok(options)
}

fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(text) => return ctx.reply().error(text),
    };
    let (key, value) = (args.get(1), args.get(2));
    if !options.return_old {
        return match ctx.engine.put(key, value, options.condition, None) {
            Ok(true) => ctx.reply().ok(),
            Ok(false) => ctx.reply().null(),
            Err(error) => ctx.engine_error(error),
        };
    }
    // SET ... GET answers the old value whether or not the write happened.
    let reply_start = ctx.out.len();
    let mut reply = ReplyWriter {
        out: ctx.out,
        resp3: ctx.session.resp3,
    };
    let mut on_old = |old: Option<&[u8]>| reply.bulk_or_null(old);
    if let Err(error) = ctx
        .engine
        .put(key, value, options.condition, Some(&mut on_old))
    {
        ctx.out.truncate(reply_start);
        ctx.engine_error(error);
    }
}

pub static MSET: CommandSpec = command_spec!("mset", -3, Some(mset), group: "string", since: "1.0.1",
    summary: "Atomically creates or modifies the string values of one or more keys.",
    complexity: "O(N) where N is the number of keys to set.",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, -1, 2));

/// All pairs are written atomically: no reader sees some without the rest.
fn mset(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() % 2 == 0 {
        return ctx
            .reply()
            .error(b"ERR wrong number of arguments for 'mset' command");
    }
    match ctx.engine.multi_put(args.iter_from(1)) {
        Ok(()) => ctx.reply().ok(),
        Err(error) => ctx.engine_error(error),
    }
}
