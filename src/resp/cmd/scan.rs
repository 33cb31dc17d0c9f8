//! KEYS, SCAN, RANDOMKEY over the engine's iteration (a reverse-binary
//! cursor per shard: every key present for a whole scan is returned).

use std::collections::HashSet;

use super::{command_spec, integer_arg, CommandSpec, SYNTAX_ERROR};
use crate::resp::glob::glob_match;
use crate::resp::{Args, Ctx};

pub static KEYS: CommandSpec = command_spec!("keys", 2, Some(keys), group: "generic", since: "1.0.0",
    summary: "Returns all key names that match a pattern.", complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    flags: ["readonly"], acl: ["@keyspace", "@read", "@slow", "@dangerous"]);
pub static SCAN: CommandSpec = command_spec!("scan", -2, Some(scan), group: "generic", since: "2.8.0",
    summary: "Iterates over the key names in the database.", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    flags: ["readonly"], acl: ["@keyspace", "@read", "@slow"]);
pub static RANDOMKEY: CommandSpec = command_spec!("randomkey", 1, Some(randomkey), group: "generic", since: "1.0.0",
    summary: "Returns a random key name from the database.", complexity: "O(1)",
    flags: ["readonly"], acl: ["@keyspace", "@read", "@slow"]);

/// Keys examined per engine call while KEYS walks the whole database.
const KEYS_BATCH: usize = 1024;

fn keys(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let pattern = args.get(1);
    // Redis lists every key for "*" without matching (the empty key too).
    let all = pattern == b"*";
    let (worker, db) = ctx.backend.worker();
    // The cursor guarantee allows repeats (a table may grow mid-walk);
    // KEYS answers each key once.
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor = 0;
    loop {
        let result = worker.scan(db, cursor, KEYS_BATCH, |key| {
            if (all || glob_match(pattern, key, false)) && seen.insert(key.to_vec()) {
                found.push(key.to_vec());
            }
        });
        match result {
            Ok(0) => break,
            Ok(next) => cursor = next,
            Err(error) => return ctx.engine_error(error),
        }
    }
    let mut reply = ctx.reply();
    reply.array_header(found.len());
    for key in &found {
        reply.bulk(key);
    }
}

/// Redis's parseScanCursorOrReply: strtoul, so "-1" wraps.
fn parse_cursor(text: &[u8]) -> Option<u64> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    if text.is_empty() {
        return Some(0); // strtoul("") is 0 with nothing left over
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(cursor) = parse_cursor(args.get(1)) else {
        return ctx.reply().error(b"ERR invalid cursor");
    };
    let (mut pattern, mut count, mut only_strings) = (None, 10usize, true);
    let mut index = 2;
    while index < args.len() {
        let option = args.get(index);
        if index + 1 >= args.len() {
            return ctx.reply().error(SYNTAX_ERROR);
        }
        let value = args.get(index + 1);
        if option.eq_ignore_ascii_case(b"COUNT") {
            let Some(n) = integer_arg(ctx, value) else {
                return;
            };
            if n < 1 {
                return ctx.reply().error(SYNTAX_ERROR);
            }
            count = n as usize;
        } else if option.eq_ignore_ascii_case(b"MATCH") {
            // "*" matches everything by Redis's shortcut, the empty key too.
            pattern = (value != b"*").then_some(value);
        } else if option.eq_ignore_ascii_case(b"TYPE") {
            // Every key here is a string.
            only_strings = value.eq_ignore_ascii_case(b"string");
        } else {
            return ctx.reply().error(SYNTAX_ERROR);
        }
        index += 2;
    }
    let (worker, db) = ctx.backend.worker();
    let mut found = Vec::new();
    let result = worker.scan(db, cursor, count, |key| {
        if only_strings && pattern.is_none_or(|p| glob_match(p, key, false)) {
            found.push(key.to_vec());
        }
    });
    let next = match result {
        Ok(next) => next,
        Err(error) => return ctx.engine_error(error),
    };
    let mut reply = ctx.reply();
    reply.array_header(2);
    reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    reply.array_header(found.len());
    for key in &found {
        reply.bulk(key);
    }
}

fn randomkey(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let (worker, db) = ctx.backend.worker();
    let mut key = None;
    match worker.random_key(db, |k| key = k.map(<[u8]>::to_vec)) {
        Ok(()) => ctx.reply().bulk_or_null(key.as_deref()),
        Err(error) => ctx.engine_error(error),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"abc"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b""), Some(0));
    }
}
