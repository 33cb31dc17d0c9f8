//! INCR, DECR, INCRBY, DECRBY: one atomic read-modify-write in the engine.

use super::{command_spec, integer_arg, CommandSpec};
use crate::engine::{EngineError, PutCondition, PutExpiry};
use crate::resp::{Args, Ctx};

pub static INCR: CommandSpec = command_spec!("incr", 2, Some(incr), group: "string", since: "1.0.0",
    summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static DECR: CommandSpec = command_spec!("decr", 2, Some(decr), group: "string", since: "1.0.0",
    summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static INCRBY: CommandSpec = command_spec!("incrby", 3, Some(incrby), group: "string", since: "1.0.0",
    summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

pub static DECRBY: CommandSpec = command_spec!("decrby", 3, Some(decrby), group: "string", since: "1.0.0",
    summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

fn incr(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    add(ctx, args.get(1), 1);
}

fn decr(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    add(ctx, args.get(1), -1);
}

fn incrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(delta) = integer_arg(ctx, args.get(2)) {
        add(ctx, args.get(1), delta);
    }
}

fn decrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(delta) = integer_arg(ctx, args.get(2)) else {
        return;
    };
    // -i64::MIN does not exist.
    if delta == i64::MIN {
        return ctx.reply().error(b"ERR decrement would overflow");
    }
    add(ctx, args.get(1), -delta);
}

fn add(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) {
    match ctx.backend.store().incr_by(key, delta) {
        Ok(value) => ctx.reply().integer(value),
        Err(error) => ctx.engine_error(error),
    }
}

pub static INCRBYFLOAT: CommandSpec = command_spec!("incrbyfloat", 3, Some(incrbyfloat), group: "string", since: "2.6.0",
    summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    complexity: "O(1)",
    flags: ["write", "denyoom", "fast"], acl: ["@write", "@string", "@fast"], keys: (1, 1, 1));

extern "C" {
    /// src/resp/long_double.c
    fn cw_incr_by_float(
        value: *const u8,
        value_len: usize,
        incr: *const u8,
        incr_len: usize,
        out: *mut u8,
        out_cap: usize,
        out_len: *mut usize,
    ) -> i32;
}

/// Why INCRBYFLOAT refused.
enum FloatError {
    NotFloat,
    NotFinite,
    Engine(EngineError),
}

/// Redis's long double sum of `value` (None = 0) and `incr`, as text.
fn add_floats(value: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, FloatError> {
    // %.17Lf of the largest long double needs about 4,950 characters.
    let mut out = vec![0u8; 5 * 1024];
    let mut out_len = 0usize;
    let (value_ptr, value_len) = value.map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()));
    // SAFETY: every pointer is valid for its length for the whole call; out
    // has out.len() writable bytes.
    let status = unsafe {
        cw_incr_by_float(
            value_ptr,
            value_len,
            incr.as_ptr(),
            incr.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        )
    };
    match status {
        0 => {
            out.truncate(out_len);
            Ok(out)
        }
        2 => Err(FloatError::NotFinite),
        _ => Err(FloatError::NotFloat),
    }
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (key, incr) = (args.get(1), args.get(2));
    let result = ctx.backend.atomically(|store| {
        let mut sum = Err(FloatError::NotFloat);
        store.get(key, &mut |value| sum = add_floats(value, incr))?;
        Ok(match sum {
            Ok(text) => store
                .put(key, &text, PutCondition::Always, PutExpiry::Keep, None)
                .map(|_| text)
                .map_err(FloatError::Engine),
            Err(error) => Err(error),
        })
    });
    match result {
        Ok(Ok(text)) => ctx.reply().bulk(&text),
        Ok(Err(FloatError::NotFloat)) => ctx.reply().error(b"ERR value is not a valid float"),
        Ok(Err(FloatError::NotFinite)) => ctx
            .reply()
            .error(b"ERR increment would produce NaN or Infinity"),
        Ok(Err(FloatError::Engine(error))) | Err(error) => ctx.engine_error(error),
    }
}
