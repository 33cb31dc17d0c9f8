//! The rest of the string family: APPEND, STRLEN, GETRANGE, SETRANGE,
//! GETSET, SETNX, MSETNX. Read-modify-write commands run atomically in an
//! engine transaction (see `Backend::atomically`).

use super::{command_spec, integer_arg, CommandSpec};
use crate::engine::{EngineError, PutCondition, PutExpiry};
use crate::resp::{Args, Ctx};

pub static APPEND: CommandSpec = command_spec!("append", 3, Some(append), group: "string", since: "2.0.0",
    summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static STRLEN: CommandSpec = command_spec!("strlen", 2, Some(strlen), group: "string", since: "2.2.0",
    summary: "Returns the length of a string value.", complexity: "O(1)",
    flags: ["readonly", "fast"], acl: ["@read", "@string", "@fast"], keys: (1, 1, 1));

pub static GETRANGE: CommandSpec = command_spec!("getrange", 4, Some(getrange), group: "string", since: "2.4.0",
    summary: "Returns a substring of the string stored at a key.", complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
    flags: ["readonly"], acl: ["@read", "@string", "@slow"], keys: (1, 1, 1));

pub static SETRANGE: CommandSpec = command_spec!("setrange", 4, Some(setrange), group: "string", since: "2.2.0",
    summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, 1, 1));

pub static GETSET: CommandSpec = command_spec!("getset", 3, Some(getset), group: "string", since: "1.0.0",
    summary: "Returns the previous string value of a key after setting it to a new value.", complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static SETNX: CommandSpec = command_spec!("setnx", 3, Some(setnx), group: "string", since: "1.0.0",
    summary: "Set the string value of a key only when the key doesn't exist.", complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static MSETNX: CommandSpec = command_spec!("msetnx", -3, Some(msetnx), group: "string", since: "1.0.1",
    summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", complexity: "O(N) where N is the number of keys to set.",
    flags: ["write", "denyoom"], acl: ["@write", "@string", "@slow"], keys: (1, -1, 2));

const TOO_LONG: &[u8] = b"ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/// APPEND / SETRANGE: the new length, or None when over the size limit.
fn reply_new_length(ctx: &mut Ctx<'_>, result: Result<Option<usize>, EngineError>) {
    match result {
        Ok(Some(len)) => ctx.reply().integer(len as i64),
        Ok(None) => ctx.reply().error(TOO_LONG),
        Err(error) => ctx.engine_error(error),
    }
}

/// Reads one value into an owned copy (for read-modify-write).
fn read(
    store: &mut dyn crate::resp::store::Store,
    key: &[u8],
) -> Result<Option<Vec<u8>>, EngineError> {
    let mut copy = None;
    store.get(key, &mut |value| copy = value.map(<[u8]>::to_vec))?;
    Ok(copy)
}

fn append(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (key, suffix) = (args.get(1), args.get(2));
    let max_bytes = ctx.shared.live.max_bulk_bytes();
    let result = ctx.backend.atomically(|store| {
        let mut value = read(store, key)?.unwrap_or_default();
        if value.len() + suffix.len() > max_bytes {
            return Ok(None);
        }
        value.extend_from_slice(suffix);
        store.put(key, &value, PutCondition::Always, PutExpiry::Keep, None)?;
        Ok(Some(value.len()))
    });
    reply_new_length(ctx, result);
}

fn strlen(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut len = 0;
    match ctx
        .backend
        .store()
        .get(args.get(1), &mut |value| len = value.map_or(0, <[u8]>::len))
    {
        Ok(()) => ctx.reply().integer(len as i64),
        Err(error) => ctx.engine_error(error),
    }
}

/// Redis's getrangeCommand index rules: negative counts from the end, both
/// ends clamped, inclusive end.
fn substring(value: &[u8], start: i64, end: i64) -> &[u8] {
    let len = value.len() as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return &[];
    }
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { (len + end).max(0) } else { end }.min(len - 1);
    if start > end {
        return &[];
    }
    &value[start as usize..=end as usize]
}

fn getrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(start) = integer_arg(ctx, args.get(2)) else {
        return;
    };
    let Some(end) = integer_arg(ctx, args.get(3)) else {
        return;
    };
    let mut range = Vec::new();
    match ctx.backend.store().get(args.get(1), &mut |value| {
        range = substring(value.unwrap_or_default(), start, end).to_vec()
    }) {
        Ok(()) => ctx.reply().bulk(&range),
        Err(error) => ctx.engine_error(error),
    }
}

fn setrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (key, patch) = (args.get(1), args.get(3));
    let Some(offset) = integer_arg(ctx, args.get(2)) else {
        return;
    };
    if offset < 0 {
        return ctx.reply().error(b"ERR offset is out of range");
    }
    let offset = offset as usize;
    let max_bytes = ctx.shared.live.max_bulk_bytes();
    // Ok(Some(len)): new length; Ok(None): over the size limit.
    let result = ctx.backend.atomically(|store| {
        let old = read(store, key)?;
        if patch.is_empty() {
            return Ok(Some(old.map_or(0, |v| v.len())));
        }
        if offset.saturating_add(patch.len()) > max_bytes {
            return Ok(None);
        }
        let mut value = old.unwrap_or_default();
        if value.len() < offset + patch.len() {
            value.resize(offset + patch.len(), 0);
        }
        value[offset..offset + patch.len()].copy_from_slice(patch);
        store.put(key, &value, PutCondition::Always, PutExpiry::Keep, None)?;
        Ok(Some(value.len()))
    });
    reply_new_length(ctx, result);
}

fn getset(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut old = None;
    let mut on_old = |value: Option<&[u8]>| old = value.map(<[u8]>::to_vec);
    let result = ctx.backend.store().put(
        args.get(1),
        args.get(2),
        PutCondition::Always,
        PutExpiry::None,
        Some(&mut on_old),
    );
    match result {
        Ok(_) => ctx.reply().bulk_or_null(old.as_deref()),
        Err(error) => ctx.engine_error(error),
    }
}

fn setnx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let result = ctx.backend.store().put(
        args.get(1),
        args.get(2),
        PutCondition::IfAbsent,
        PutExpiry::None,
        None,
    );
    match result {
        Ok(written) => ctx.reply().integer(written as i64),
        Err(error) => ctx.engine_error(error),
    }
}

/// All or nothing: written only if none of the keys exists.
fn msetnx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() % 2 == 0 {
        return ctx
            .reply()
            .error(b"ERR wrong number of arguments for 'msetnx' command");
    }
    let result = ctx.backend.store().multi_put(&mut args.iter_from(1), true);
    match result {
        Ok(written) => ctx.reply().integer(written as i64),
        Err(error) => ctx.engine_error(error),
    }
}

#[cfg(test)]
mod tests {
    use super::substring;

    #[test]
    fn getrange_index_rules_match_redis() {
        let v = b"This is a string";
        assert_eq!(substring(v, 0, 3), b"This");
        assert_eq!(substring(v, -3, -1), b"ing");
        assert_eq!(substring(v, 0, -1), v);
        assert_eq!(substring(v, 10, 100), b"string");
        assert_eq!(substring(v, 5, 3), b"");
        assert_eq!(substring(v, -1, -5), b"");
        assert_eq!(substring(v, -100, 2), b"Thi");
        assert_eq!(substring(b"", 0, 0), b"");
    }
}
