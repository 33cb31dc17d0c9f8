//! Expiry arguments as Redis reads them: units, relative or absolute, the
//! overflow checks, and the exact error texts. Deadlines are Unix time in
//! milliseconds, as the engine stores them.

use crate::resp::parse::parse_strict_i64;

/// Seconds (EX, EXPIRE, EXAT, ...) or milliseconds (PX, PEXPIRE, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Milliseconds,
}

/// Whether the number counts from now (EX, EXPIRE) or from the epoch (EXAT,
/// EXPIREAT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Relative,
    Absolute,
}

/// EX, PX, EXAT or PXAT (any case): how its number counts time.
pub fn expiry_option(name: &[u8]) -> Option<(Unit, Base)> {
    let is = |option: &[u8]| name.eq_ignore_ascii_case(option);
    match () {
        _ if is(b"EX") => Some((Unit::Seconds, Base::Relative)),
        _ if is(b"PX") => Some((Unit::Milliseconds, Base::Relative)),
        _ if is(b"EXAT") => Some((Unit::Seconds, Base::Absolute)),
        _ if is(b"PXAT") => Some((Unit::Milliseconds, Base::Absolute)),
        _ => None,
    }
}

pub const NOT_AN_INTEGER: &[u8] = b"ERR value is not an integer or out of range";

/// "invalid expire time in '<command>' command".
pub fn invalid_expire_time(command: &str) -> Vec<u8> {
    format!("ERR invalid expire time in '{command}' command").into_bytes()
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// SET EX/PX/EXAT/PXAT, SETEX, PSETEX, GETEX: the amount must be positive
/// (Redis's getExpireMillisecondsOrReply).
pub fn positive_deadline(
    arg: &[u8],
    unit: Unit,
    base: Base,
    now_ms: i64,
    command: &str,
) -> Result<i64, Vec<u8>> {
    let amount = parse_strict_i64(arg).ok_or_else(|| NOT_AN_INTEGER.to_vec())?;
    if amount <= 0 || (unit == Unit::Seconds && amount > i64::MAX / 1000) {
        return Err(invalid_expire_time(command));
    }
    let ms = if unit == Unit::Seconds {
        amount * 1000
    } else {
        amount
    };
    let deadline = match base {
        Base::Relative => ms.checked_add(now_ms),
        Base::Absolute => Some(ms),
    };
    deadline
        .filter(|&d| d > 0)
        .ok_or_else(|| invalid_expire_time(command))
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: negative amounts are allowed (the
/// key expires at once); only overflow is an error (expireGenericCommand).
pub fn any_deadline(
    arg: &[u8],
    unit: Unit,
    base: Base,
    now_ms: i64,
    command: &str,
) -> Result<i64, Vec<u8>> {
    let amount = parse_strict_i64(arg).ok_or_else(|| NOT_AN_INTEGER.to_vec())?;
    let ms = match unit {
        Unit::Seconds if amount > i64::MAX / 1000 || amount < i64::MIN / 1000 => {
            return Err(invalid_expire_time(command));
        }
        Unit::Seconds => amount * 1000,
        Unit::Milliseconds => amount,
    };
    let base_ms = if base == Base::Relative { now_ms } else { 0 };
    if ms > i64::MAX - base_ms {
        return Err(invalid_expire_time(command));
    }
    Ok(ms + base_ms)
}

/// TTL / PTTL / EXPIRETIME / PEXPIRETIME reply for a deadline (0 = none),
/// with Redis's rounding to seconds.
pub fn ttl_reply(deadline_ms: i64, now_ms: i64, in_ms: bool, absolute: bool) -> i64 {
    if deadline_ms == 0 {
        return -1;
    }
    let value = if absolute {
        deadline_ms
    } else {
        (deadline_ms - now_ms).max(0)
    };
    if in_ms {
        value
    } else {
        // (value + 500) / 1000, without overflowing near i64::MAX.
        value / 1000 + (value % 1000 >= 500) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn positive_deadlines_follow_redis() {
        assert_eq!(
            positive_deadline(b"10", Unit::Seconds, Base::Relative, NOW, "set"),
            Ok(NOW + 10_000)
        );
        assert_eq!(
            positive_deadline(b"10", Unit::Milliseconds, Base::Relative, NOW, "set"),
            Ok(NOW + 10)
        );
        assert_eq!(
            positive_deadline(b"1", Unit::Seconds, Base::Absolute, NOW, "set"),
            Ok(1000)
        );
        let invalid = Err(b"ERR invalid expire time in 'setex' command".to_vec());
        assert_eq!(
            positive_deadline(b"0", Unit::Seconds, Base::Relative, NOW, "setex"),
            invalid
        );
        assert_eq!(
            positive_deadline(b"-1", Unit::Milliseconds, Base::Relative, NOW, "setex"),
            invalid
        );
        assert_eq!(
            positive_deadline(
                b"9223372036854775807",
                Unit::Seconds,
                Base::Relative,
                NOW,
                "setex"
            ),
            invalid
        );
        assert_eq!(
            positive_deadline(
                b"9223372036854775807",
                Unit::Milliseconds,
                Base::Relative,
                NOW,
                "setex"
            ),
            invalid
        );
        assert_eq!(
            positive_deadline(b"abc", Unit::Seconds, Base::Relative, NOW, "setex"),
            Err(NOT_AN_INTEGER.to_vec())
        );
    }

    #[test]
    fn expire_deadlines_allow_the_past_but_not_overflow() {
        assert_eq!(
            any_deadline(b"-1", Unit::Seconds, Base::Relative, NOW, "expire"),
            Ok(NOW - 1000)
        );
        assert_eq!(
            any_deadline(b"5", Unit::Seconds, Base::Absolute, NOW, "expireat"),
            Ok(5000)
        );
        let invalid =
            |c: &str| Err(format!("ERR invalid expire time in '{c}' command").into_bytes());
        assert_eq!(
            any_deadline(
                b"9223372036854775807",
                Unit::Seconds,
                Base::Relative,
                NOW,
                "expire"
            ),
            invalid("expire")
        );
        assert_eq!(
            any_deadline(
                b"9223372036854775807",
                Unit::Milliseconds,
                Base::Relative,
                NOW,
                "pexpire"
            ),
            invalid("pexpire")
        );
        assert_eq!(
            any_deadline(
                b"9223372036854775807",
                Unit::Seconds,
                Base::Absolute,
                NOW,
                "expireat"
            ),
            invalid("expireat")
        );
        assert_eq!(
            any_deadline(
                b"9223372036854775807",
                Unit::Milliseconds,
                Base::Absolute,
                NOW,
                "pexpireat"
            ),
            Ok(i64::MAX)
        );
    }

    #[test]
    fn ttl_rounds_like_redis() {
        assert_eq!(ttl_reply(0, NOW, false, false), -1);
        assert_eq!(ttl_reply(NOW + 99_986, NOW, false, false), 100);
        assert_eq!(ttl_reply(NOW + 99_986, NOW, true, false), 99_986);
        assert_eq!(ttl_reply(NOW + 1_400, NOW, false, false), 1);
        assert_eq!(ttl_reply(NOW - 5, NOW, true, false), 0);
        assert_eq!(
            ttl_reply(1_795_461_469_400, NOW, false, true),
            1_795_461_469
        );
    }
}
