//! RENAME, RENAMENX, COPY, MOVE: read the source with its deadline and
//! write the destination in one engine transaction (across databases for
//! COPY ... DB and MOVE).

use super::{command_spec, integer_arg, CommandSpec, SYNTAX_ERROR};
use crate::engine::{EngineResult, PutExpiry, Txn};
use crate::resp::{Args, Ctx};

pub static RENAME: CommandSpec = command_spec!("rename", 3, Some(rename), group: "generic", since: "1.0.0",
    summary: "Renames a key and overwrites the destination.", complexity: "O(1)",
    flags: ["write"], acl: ["@keyspace", "@write", "@slow"], keys: (1, 2, 1));
pub static RENAMENX: CommandSpec = command_spec!("renamenx", 3, Some(renamenx), group: "generic", since: "1.0.0",
    summary: "Renames a key only when the target key name doesn't exist.", complexity: "O(1)",
    flags: ["write", "fast"], acl: ["@keyspace", "@write", "@fast"], keys: (1, 2, 1));
pub static COPY: CommandSpec = command_spec!("copy", -3, Some(copy), group: "generic", since: "6.2.0",
    summary: "Copies the value of a key to a new key.", complexity: "O(N) worst case for collections, where N is the number of nested elements. O(1) for string values.",
    flags: ["write", "denyoom"], acl: ["@keyspace", "@write", "@slow"], keys: (1, 2, 1));
pub static MOVE: CommandSpec = command_spec!("move", 3, Some(move_key), group: "generic", since: "1.0.0",
    summary: "Moves a key to another database.", complexity: "O(1)",
    flags: ["write", "fast"], acl: ["@keyspace", "@write", "@fast"], keys: (1, 1, 1));

const NO_SUCH_KEY: &[u8] = b"ERR no such key";
const SAME_OBJECT: &[u8] = b"ERR source and destination objects are the same";
const DB_OUT_OF_RANGE: &[u8] = b"ERR DB index is out of range";

/// The value and deadline of `key` in `db`, if it exists.
fn read(txn: &mut Txn, db: u32, key: &[u8]) -> EngineResult<Option<(Vec<u8>, i64)>> {
    let mut value = None;
    let deadline = txn.get_with_expiry(db, key, |v| value = v.map(<[u8]>::to_vec))?;
    Ok(value.map(|value| (value, deadline)))
}

fn exists(txn: &mut Txn, db: u32, key: &[u8]) -> EngineResult<bool> {
    let mut found = false;
    txn.get(db, key, |v| found = v.is_some())?;
    Ok(found)
}

/// Writes `value` with `deadline` (0: none) as `key` in `db`.
fn write(txn: &mut Txn, db: u32, key: &[u8], value: &[u8], deadline: i64) -> EngineResult<()> {
    let expiry = if deadline == 0 {
        PutExpiry::None
    } else {
        PutExpiry::At(deadline)
    };
    txn.put(db, key, value, expiry)
}

/// Outcome of a move between keys.
enum Moved {
    Done,
    NoSource,
    TargetExists,
}

/// Moves `from` (in from_db) to `to` (in to_db), keeping the deadline;
/// `overwrite` false refuses an existing target; `keep_source` copies.
fn transfer(
    ctx: &mut Ctx<'_>,
    (from, from_db): (&[u8], Option<u32>),
    (to, to_db): (&[u8], Option<u32>),
    overwrite: bool,
    keep_source: bool,
) -> EngineResult<Moved> {
    ctx.backend.atomically_across_dbs(|txn, selected| {
        let (from_db, to_db) = (from_db.unwrap_or(selected), to_db.unwrap_or(selected));
        let Some((value, deadline)) = read(txn, from_db, from)? else {
            return Ok(Moved::NoSource);
        };
        if !overwrite && exists(txn, to_db, to)? {
            return Ok(Moved::TargetExists);
        }
        write(txn, to_db, to, &value, deadline)?;
        if !keep_source {
            txn.del(from_db, from)?;
        }
        Ok(Moved::Done)
    })
}

fn rename(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    rename_generic(ctx, args, true);
}

fn renamenx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    rename_generic(ctx, args, false);
}

fn rename_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, overwrite: bool) {
    let (from, to) = (args.get(1), args.get(2));
    if from == to {
        // Redis still answers "no such key" for a missing source.
        let mut found = false;
        return match ctx.backend.store().get(from, &mut |v| found = v.is_some()) {
            Ok(()) if !found => ctx.reply().error(NO_SUCH_KEY),
            Ok(()) if overwrite => ctx.reply().ok(),
            Ok(()) => ctx.reply().integer(0),
            Err(error) => ctx.engine_error(error),
        };
    }
    match transfer(ctx, (from, None), (to, None), overwrite, false) {
        Ok(Moved::NoSource) => ctx.reply().error(NO_SUCH_KEY),
        Ok(Moved::TargetExists) => ctx.reply().integer(0),
        Ok(Moved::Done) if overwrite => ctx.reply().ok(),
        Ok(Moved::Done) => ctx.reply().integer(1),
        Err(error) => ctx.engine_error(error),
    }
}

/// A database index argument, with Redis's errors.
fn db_arg(ctx: &mut Ctx<'_>, arg: &[u8]) -> Option<u32> {
    let index = integer_arg(ctx, arg)?;
    if index < 0 || index >= ctx.shared.databases as i64 {
        ctx.reply().error(DB_OUT_OF_RANGE);
        return None;
    }
    Some(index as u32)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (from, to) = (args.get(1), args.get(2));
    let (mut to_db, mut replace) = (None, false);
    let mut index = 3;
    while index < args.len() {
        let option = args.get(index);
        if option.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else if option.eq_ignore_ascii_case(b"DB") && index + 1 < args.len() {
            let Some(db) = db_arg(ctx, args.get(index + 1)) else {
                return;
            };
            to_db = Some(db);
            index += 1;
        } else {
            return ctx.reply().error(SYNTAX_ERROR);
        }
        index += 1;
    }
    if from == to && to_db.is_none_or(|db| db == ctx.session.db) {
        return ctx.reply().error(SAME_OBJECT);
    }
    match transfer(ctx, (from, None), (to, to_db), replace, true) {
        Ok(Moved::Done) => ctx.reply().integer(1),
        Ok(_) => ctx.reply().integer(0),
        Err(error) => ctx.engine_error(error),
    }
}

/// MOVE key db: only if the key is absent there.
fn move_key(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let Some(db) = integer_arg(ctx, args.get(2)) else {
        return;
    };
    if db < 0 || db >= ctx.shared.databases as i64 {
        return ctx.reply().error(DB_OUT_OF_RANGE);
    }
    if db as u32 == ctx.session.db {
        return ctx.reply().error(SAME_OBJECT);
    }
    match transfer(ctx, (key, None), (key, Some(db as u32)), false, false) {
        Ok(Moved::Done) => ctx.reply().integer(1),
        Ok(_) => ctx.reply().integer(0),
        Err(error) => ctx.engine_error(error),
    }
}
