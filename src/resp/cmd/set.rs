//! SET and MSET.

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::engine::{PutCondition, PutExpiry};
use crate::resp::expiry::{expiry_option, now_ms, positive_deadline};
use crate::resp::{reply::ReplyWriter, Args, Ctx};

pub static SET: CommandSpec = command_spec!("set", -3, Some(set), group: "string", since: "1.0.0",
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, 1, 1));

/// Parsed SET options.
struct SetOptions {
    condition: PutCondition,
    return_old: bool,
    /// EX/PX/EXAT/PXAT (a deadline), KEEPTTL, or neither (clear it).
    expiry: PutExpiry,
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts | KEEPTTL],
/// parsed as Redis's parseExtendedStringArgumentsOrReply and
/// getExpireMillisecondsOrReply do: same errors, same order.
fn parse_options(args: &Args<'_>) -> Result<SetOptions, Vec<u8>> {
    let mut options = SetOptions {
        condition: PutCondition::Always,
        return_old: false,
        expiry: PutExpiry::None,
    };
    let mut keep_ttl = false;
    let mut expiry: Option<(&[u8], &[u8])> = None; // (option, argument)
    let mut index = 3;
    while index < args.len() {
        let option = args.get(index);
        let has_next = index + 1 < args.len();
        let is = |name: &[u8]| option.eq_ignore_ascii_case(name);
        if is(b"NX") && options.condition != PutCondition::IfPresent {
            options.condition = PutCondition::IfAbsent;
        } else if is(b"XX") && options.condition != PutCondition::IfAbsent {
            options.condition = PutCondition::IfPresent;
        } else if is(b"GET") {
            options.return_old = true;
        } else if is(b"KEEPTTL") && expiry.is_none() {
            keep_ttl = true;
        } else if expiry_option(option).is_some()
            && !keep_ttl
            && expiry.is_none_or(|(previous, _)| previous.eq_ignore_ascii_case(option))
            && has_next
        {
            expiry = Some((option, args.get(index + 1)));
            index += 1;
        } else {
            return Err(SYNTAX_ERROR.to_vec());
        }
        index += 1;
    }
    if keep_ttl {
        options.expiry = PutExpiry::Keep;
    }
    if let Some((option, argument)) = expiry {
        let (unit, base) = expiry_option(option).expect("checked while parsing");
        options.expiry = PutExpiry::At(positive_deadline(argument, unit, base, now_ms(), "set")?);
    }
    Ok(options)
}

fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(text) => return ctx.reply().error(&text),
    };
    let (key, value) = (args.get(1), args.get(2));
    if !options.return_old {
        return match ctx
            .backend
            .store()
            .put(key, value, options.condition, options.expiry, None)
        {
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
    let result = ctx.backend.store().put(
        key,
        value,
        options.condition,
        options.expiry,
        Some(&mut on_old),
    );
    if let Err(error) = result {
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
    match ctx.backend.store().multi_put(&mut args.iter_from(1), false) {
        Ok(_) => ctx.reply().ok(),
        Err(error) => ctx.engine_error(error),
    }
}
