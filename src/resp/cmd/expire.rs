//! Expiry: SETEX, PSETEX, GETEX, GETDEL, EXPIRE, PEXPIRE, EXPIREAT,
//! PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST. Deadlines live in
//! the engine (Unix ms), which treats an expired key as missing at once and
//! reclaims it in each worker's active expiry cycle.

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::engine::{PutCondition, PutExpiry, EXPIRE_GT, EXPIRE_LT, EXPIRE_NX, EXPIRE_XX};
use crate::resp::expiry::{
    any_deadline, expiry_option, now_ms, positive_deadline, ttl_reply, Base, Unit,
};
use crate::resp::{Args, Ctx};

macro_rules! expiry_command {
    ($name:literal, $arity:expr, $run:expr, $since:literal, $summary:literal, [$($flag:literal),*], [$($acl:literal),*]) => {
        command_spec!($name, $arity, Some($run), group: "generic", since: $since,
            summary: $summary, complexity: "O(1)",
            flags: [$($flag),*], acl: [$($acl),*], keys: (1, 1, 1))
    };
}

pub static SETEX: CommandSpec = command_spec!("setex", 4, Some(setex), group: "string", since: "2.0.0",
    summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", complexity: "O(1)",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, 1, 1));
pub static PSETEX: CommandSpec = command_spec!("psetex", 4, Some(psetex), group: "string", since: "2.6.0",
    summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", complexity: "O(1)",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, 1, 1));
pub static GETEX: CommandSpec = command_spec!("getex", -2, Some(getex), group: "string", since: "6.2.0",
    summary: "Returns the string value of a key after setting its expiration time.", complexity: "O(1)",
    flags: ["write", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));
pub static GETDEL: CommandSpec = command_spec!("getdel", 2, Some(getdel), group: "string", since: "6.2.0",
    summary: "Returns the string value of a key after deleting the key.", complexity: "O(1)",
    flags: ["write", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));
pub static EXPIRE: CommandSpec = expiry_command!(
    "expire",
    -3,
    expire,
    "1.0.0",
    "Sets the expiration time of a key in seconds.",
    ["write", "fast"],
    ["@keyspace", "@write", "@fast"]
);
pub static PEXPIRE: CommandSpec = expiry_command!(
    "pexpire",
    -3,
    pexpire,
    "2.6.0",
    "Sets the expiration time of a key in milliseconds.",
    ["write", "fast"],
    ["@keyspace", "@write", "@fast"]
);
pub static EXPIREAT: CommandSpec = expiry_command!(
    "expireat",
    -3,
    expireat,
    "1.2.0",
    "Sets the expiration time of a key to a Unix timestamp.",
    ["write", "fast"],
    ["@keyspace", "@write", "@fast"]
);
pub static PEXPIREAT: CommandSpec = expiry_command!(
    "pexpireat",
    -3,
    pexpireat,
    "2.6.0",
    "Sets the expiration time of a key to a Unix milliseconds timestamp.",
    ["write", "fast"],
    ["@keyspace", "@write", "@fast"]
);
pub static TTL: CommandSpec = expiry_command!(
    "ttl",
    2,
    ttl,
    "1.0.0",
    "Returns the expiration time in seconds of a key.",
    ["readonly", "fast"],
    ["@keyspace", "@read", "@fast"]
);
pub static PTTL: CommandSpec = expiry_command!(
    "pttl",
    2,
    pttl,
    "2.6.0",
    "Returns the expiration time in milliseconds of a key.",
    ["readonly", "fast"],
    ["@keyspace", "@read", "@fast"]
);
pub static EXPIRETIME: CommandSpec = expiry_command!(
    "expiretime",
    2,
    expiretime,
    "7.0.0",
    "Returns the expiration time of a key as a Unix timestamp.",
    ["readonly", "fast"],
    ["@keyspace", "@read", "@fast"]
);
pub static PEXPIRETIME: CommandSpec = expiry_command!(
    "pexpiretime",
    2,
    pexpiretime,
    "7.0.0",
    "Returns the expiration time of a key as a Unix milliseconds timestamp.",
    ["readonly", "fast"],
    ["@keyspace", "@read", "@fast"]
);
pub static PERSIST: CommandSpec = expiry_command!(
    "persist",
    2,
    persist,
    "2.2.0",
    "Removes the expiration time of a key.",
    ["write", "fast"],
    ["@keyspace", "@write", "@fast"]
);

fn setex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_with_deadline(ctx, args, Unit::Seconds, "setex");
}

fn psetex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_with_deadline(ctx, args, Unit::Milliseconds, "psetex");
}

/// SETEX / PSETEX key amount value.
fn set_with_deadline(ctx: &mut Ctx<'_>, args: &Args<'_>, unit: Unit, name: &str) {
    let deadline = match positive_deadline(args.get(2), unit, Base::Relative, now_ms(), name) {
        Ok(deadline) => deadline,
        Err(text) => return ctx.reply().error(&text),
    };
    let result = ctx.backend.store().put(
        args.get(1),
        args.get(3),
        PutCondition::Always,
        PutExpiry::At(deadline),
        None,
    );
    match result {
        Ok(_) => ctx.reply().ok(),
        Err(error) => ctx.engine_error(error),
    }
}

/// What GETEX does to the deadline.
enum GetexChange<'a> {
    Nothing,
    Persist,
    /// The unvalidated amount, its unit and base.
    Expire(&'a [u8], Unit, Base),
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ts | PERSIST], parsed as Redis
/// does: the same option may repeat (the last wins), two kinds may not.
fn getex_change<'a>(args: &Args<'a>) -> Result<GetexChange<'a>, ()> {
    let mut change = GetexChange::Nothing;
    let mut kind: Option<&[u8]> = None;
    let mut index = 2;
    while index < args.len() {
        let option = args.get(index);
        let is = |name: &[u8]| option.eq_ignore_ascii_case(name);
        let same_kind = kind.is_none_or(|k| k.eq_ignore_ascii_case(option));
        if is(b"PERSIST") && same_kind {
            change = GetexChange::Persist;
        } else if let Some((unit, base)) =
            expiry_option(option).filter(|_| same_kind && index + 1 < args.len())
        {
            change = GetexChange::Expire(args.get(index + 1), unit, base);
            index += 1;
        } else {
            return Err(());
        }
        kind = Some(option);
        index += 1;
    }
    Ok(change)
}

/// Redis looks the key up before it validates the expire time: a missing
/// key answers nil even with a bad time.
fn getex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Ok(change) = getex_change(args) else {
        return ctx.reply().error(SYNTAX_ERROR);
    };
    let key = args.get(1);
    let result = ctx.backend.atomically(|store| {
        let mut value = None;
        store.get(key, &mut |v| value = v.map(<[u8]>::to_vec))?;
        if value.is_none() {
            return Ok(Ok(None));
        }
        match change {
            GetexChange::Nothing => {}
            GetexChange::Persist => drop(store.persist(key)?),
            GetexChange::Expire(amount, unit, base) => {
                match positive_deadline(amount, unit, base, now_ms(), "getex") {
                    Ok(deadline) => drop(store.expire(key, deadline, 0)?),
                    Err(text) => return Ok(Err(text)),
                }
            }
        }
        Ok(Ok(value))
    });
    match result {
        Ok(Ok(value)) => ctx.reply().bulk_or_null(value.as_deref()),
        Ok(Err(text)) => ctx.reply().error(&text),
        Err(error) => ctx.engine_error(error),
    }
}

fn getdel(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut value = None;
    match ctx
        .backend
        .store()
        .take(args.get(1), &mut |v| value = v.map(<[u8]>::to_vec))
    {
        Ok(()) => ctx.reply().bulk_or_null(value.as_deref()),
        Err(error) => ctx.engine_error(error),
    }
}

fn expire(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_deadline(ctx, args, Unit::Seconds, Base::Relative, "expire");
}

fn pexpire(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_deadline(ctx, args, Unit::Milliseconds, Base::Relative, "pexpire");
}

fn expireat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_deadline(ctx, args, Unit::Seconds, Base::Absolute, "expireat");
}

fn pexpireat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_deadline(ctx, args, Unit::Milliseconds, Base::Absolute, "pexpireat");
}

/// EXPIRE's NX / XX / GT / LT options, with Redis's errors.
fn expire_flags(args: &Args<'_>) -> Result<u32, Vec<u8>> {
    let mut flags = 0;
    for option in args.iter_from(3) {
        flags |= match option.to_ascii_lowercase().as_slice() {
            b"nx" => EXPIRE_NX,
            b"xx" => EXPIRE_XX,
            b"gt" => EXPIRE_GT,
            b"lt" => EXPIRE_LT,
            _ => {
                let mut text = b"ERR Unsupported option ".to_vec();
                text.extend_from_slice(option);
                return Err(text);
            }
        };
    }
    if flags & EXPIRE_NX != 0 && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT) != 0 {
        return Err(
            b"ERR NX and XX, GT or LT options at the same time are not compatible".to_vec(),
        );
    }
    if flags & EXPIRE_GT != 0 && flags & EXPIRE_LT != 0 {
        return Err(b"ERR GT and LT options at the same time are not compatible".to_vec());
    }
    Ok(flags)
}

fn set_deadline(ctx: &mut Ctx<'_>, args: &Args<'_>, unit: Unit, base: Base, name: &str) {
    let parsed = expire_flags(args).and_then(|flags| {
        any_deadline(args.get(2), unit, base, now_ms(), name).map(|deadline| (flags, deadline))
    });
    let (flags, deadline) = match parsed {
        Ok(parsed) => parsed,
        Err(text) => return ctx.reply().error(&text),
    };
    match ctx.backend.store().expire(args.get(1), deadline, flags) {
        Ok(applied) => ctx.reply().integer(applied as i64),
        Err(error) => ctx.engine_error(error),
    }
}

fn ttl(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    report_deadline(ctx, args, false, false);
}

fn pttl(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    report_deadline(ctx, args, true, false);
}

fn expiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    report_deadline(ctx, args, false, true);
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    report_deadline(ctx, args, true, true);
}

/// -2 for a missing key, -1 without a deadline, else the time left (or the
/// deadline itself), in seconds or milliseconds.
fn report_deadline(ctx: &mut Ctx<'_>, args: &Args<'_>, in_ms: bool, absolute: bool) {
    let mut exists = false;
    let result = ctx
        .backend
        .store()
        .get_with_expiry(args.get(1), &mut |v| exists = v.is_some());
    match result {
        Ok(_) if !exists => ctx.reply().integer(-2),
        Ok(deadline) => ctx
            .reply()
            .integer(ttl_reply(deadline, now_ms(), in_ms, absolute)),
        Err(error) => ctx.engine_error(error),
    }
}

fn persist(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    match ctx.backend.store().persist(args.get(1)) {
        Ok(applied) => ctx.reply().integer(applied as i64),
        Err(error) => ctx.engine_error(error),
    }
}
