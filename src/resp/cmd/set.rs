//! SET and MSET.

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::engine::PutCondition;
use crate::resp::{reply::ReplyWriter, Args, Ctx};

/// Engine database of every key (only database 0 is served for now).
const DB: u32 = 0;

pub static SET: CommandSpec = command_spec!("set", -3, Some(set), group: "string", since: "1.0.0",
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, 1, 1));

/// Parsed SET options.
struct SetOptions {
    condition: PutCondition,
    return_old: bool,
    /// EX/PX/EXAT/PXAT: the validated expiry argument, in milliseconds
    /// (relative for EX/PX, absolute for EXAT/PXAT).
    expiry_ms: Option<i64>,
}

/// How an expiry option counts time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpiryUnit {
    Seconds,
    Milliseconds,
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts | KEEPTTL],
/// parsed as Redis's parseExtendedStringArgumentsOrReply and
/// getExpireMillisecondsOrReply do: same errors, same order.
fn parse_options(args: &Args<'_>) -> Result<SetOptions, &'static [u8]> {
    let mut options = SetOptions {
        condition: PutCondition::Always,
        return_old: false,
        expiry_ms: None,
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
        } else if [&b"EX"[..], b"PX", b"EXAT", b"PXAT"]
            .iter()
            .any(|name| is(name))
            && !keep_ttl
            && expiry.is_none_or(|(previous, _)| previous.eq_ignore_ascii_case(option))
            && has_next
        {
            expiry = Some((option, args.get(index + 1)));
            index += 1;
        } else {
            return Err(SYNTAX_ERROR);
        }
        index += 1;
    }
    if let Some((option, argument)) = expiry {
        let unit = if option.eq_ignore_ascii_case(b"EX") || option.eq_ignore_ascii_case(b"EXAT") {
            ExpiryUnit::Seconds
        } else {
            ExpiryUnit::Milliseconds
        };
        let Some(amount) = crate::resp::parse::parse_strict_i64(argument) else {
            return Err(b"ERR value is not an integer or out of range");
        };
        if amount <= 0 || (unit == ExpiryUnit::Seconds && amount > i64::MAX / 1000) {
            return Err(b"ERR invalid expire time in 'set' command");
        }
        let scale = if unit == ExpiryUnit::Seconds { 1000 } else { 1 };
        options.expiry_ms = Some(amount * scale);
    }
    Ok(options)
}

fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(text) => return ctx.reply().error(text),
    };
    if options.expiry_ms.is_some() {
        // Keys carry no deadline yet; refuse rather than keep a key forever.
        return ctx
            .reply()
            .error(b"ERR SET with an expiry (EX/PX/EXAT/PXAT) is not supported yet");
    }
    let (key, value) = (args.get(1), args.get(2));
    if !options.return_old {
        return match ctx.engine.put(DB, key, value, options.condition, None) {
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
        .put(DB, key, value, options.condition, Some(&mut on_old))
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
    match ctx.engine.multi_put(DB, args.iter_from(1)) {
        Ok(()) => ctx.reply().ok(),
        Err(error) => ctx.engine_error(error),
    }
}
