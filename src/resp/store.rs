//! What commands read and write through: the engine directly, or an open
//! transaction (inside EXEC and read-modify-write commands). Every command
//! is written once, against `Store`, and runs the same way in both. A store
//! is bound to the client's selected database.

use crate::engine::{
    EngineError, EngineResult, EngineWorker, PutCondition, PutExpiry, Txn, ALL_DATABASES,
    EXPIRE_GT, EXPIRE_LT, EXPIRE_NX, EXPIRE_XX,
};
use crate::resp::expiry::now_ms;
use crate::resp::parse::parse_strict_i64;

/// Receives one value (`None` for a missing key).
pub type OnValue<'a> = &'a mut dyn FnMut(Option<&[u8]>);
/// A list of keys (or of key, value, key, value ... for `multi_put`).
pub type Keys<'a, 'k> = &'a mut dyn Iterator<Item = &'k [u8]>;

pub trait Store {
    fn get(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()>;
    /// Like `get`; returns the key's deadline in Unix ms (0: none).
    fn get_with_expiry(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<i64>;
    /// Returns whether the write happened; `on_old` sees the previous value.
    fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        expiry: PutExpiry,
        on_old: Option<OnValue<'_>>,
    ) -> EngineResult<bool>;
    /// Reads and deletes (GETDEL).
    fn take(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()>;
    /// Sets a deadline under EXPIRE's NX/XX/GT/LT flags; whether applied.
    fn expire(&mut self, key: &[u8], expire_at_ms: i64, flags: u32) -> EngineResult<bool>;
    /// Removes the deadline; whether there was one.
    fn persist(&mut self, key: &[u8]) -> EngineResult<bool>;
    /// Deletes; returns how many of the keys existed (each counted once).
    fn del<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64>;
    /// Counts existing keys, a repeated key once per mention.
    fn exists<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64>;
    /// Adds to an integer value, keeping the key's deadline.
    fn incr_by(&mut self, key: &[u8], delta: i64) -> EngineResult<i64>;
    /// Reads several keys from one snapshot, in order.
    fn multi_get<'k>(&mut self, keys: Keys<'_, 'k>, on_value: OnValue<'_>) -> EngineResult<()>;
    /// Writes `[k1, v1, k2, v2, ...]` atomically, clearing deadlines; with
    /// `if_none_exist` (MSETNX) only if none of the keys exists. Returns
    /// whether it wrote.
    fn multi_put<'k>(&mut self, pairs: Keys<'_, 'k>, if_none_exist: bool) -> EngineResult<bool>;
    /// (keys, keys with a deadline) in this database.
    fn count(&mut self) -> EngineResult<(u64, u64)>;
    /// Deletes every key of this database, or of all of them.
    fn clear(&mut self, all_databases: bool) -> EngineResult<()>;
}

/// The engine itself, for one database.
pub struct DbStore<'a> {
    pub worker: &'a mut EngineWorker,
    pub db: u32,
}

impl Store for DbStore<'_> {
    fn get(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()> {
        self.worker.get(self.db, key, on_value)
    }

    fn get_with_expiry(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<i64> {
        self.worker.get_with_expiry(self.db, key, on_value)
    }

    fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        expiry: PutExpiry,
        on_old: Option<OnValue<'_>>,
    ) -> EngineResult<bool> {
        self.worker
            .put_with_expiry(self.db, key, value, condition, expiry, on_old)
    }

    fn take(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()> {
        self.worker.take(self.db, key, on_value)
    }

    fn expire(&mut self, key: &[u8], expire_at_ms: i64, flags: u32) -> EngineResult<bool> {
        self.worker.expire(self.db, key, expire_at_ms, flags)
    }

    fn persist(&mut self, key: &[u8]) -> EngineResult<bool> {
        self.worker.persist(self.db, key)
    }

    fn del<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64> {
        self.worker.del(self.db, keys)
    }

    fn exists<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64> {
        self.worker.exists(self.db, keys)
    }

    fn incr_by(&mut self, key: &[u8], delta: i64) -> EngineResult<i64> {
        self.worker.incr_by(self.db, key, delta)
    }

    fn multi_get<'k>(&mut self, keys: Keys<'_, 'k>, on_value: OnValue<'_>) -> EngineResult<()> {
        self.worker.multi_get(self.db, keys, on_value)
    }

    fn multi_put<'k>(&mut self, pairs: Keys<'_, 'k>, if_none_exist: bool) -> EngineResult<bool> {
        if if_none_exist {
            self.worker.multi_put_if_none_exist(self.db, pairs)
        } else {
            self.worker.multi_put(self.db, pairs).map(|()| true)
        }
    }

    fn count(&mut self) -> EngineResult<(u64, u64)> {
        self.worker.count_with_expiry(self.db)
    }

    fn clear(&mut self, all_databases: bool) -> EngineResult<()> {
        self.worker.clear(if all_databases {
            ALL_DATABASES
        } else {
            self.db
        })
    }
}

/// A transaction, for one database: reads join its read set, writes are
/// buffered until commit. Compound operations (INCR, SET NX, DEL's count,
/// EXPIRE's flags) are built from reads and writes of the same transaction,
/// so they stay atomic with everything else it does.
pub struct TxnStore<'a> {
    pub txn: &'a mut Txn,
    /// For the operations that are not transactional (DBSIZE).
    pub worker: &'a mut EngineWorker,
    pub db: u32,
    /// Keys this transaction created minus keys it removed, so DBSIZE
    /// inside EXEC sees the transaction's own writes, as in Redis. None
    /// when nobody will ask (then a plain SET writes blind, without a read).
    pub key_delta: Option<&'a mut i64>,
}

impl TxnStore<'_> {
    fn count_keys(&mut self, delta: i64) {
        if let Some(key_delta) = self.key_delta.as_deref_mut() {
            *key_delta += delta;
        }
    }

    fn exists_one(&mut self, key: &[u8]) -> EngineResult<bool> {
        let mut found = false;
        self.txn
            .get(self.db, key, |value| found = value.is_some())?;
        Ok(found)
    }

    /// The value (copied) and deadline of a key, if it exists.
    fn read(&mut self, key: &[u8]) -> EngineResult<Option<(Vec<u8>, i64)>> {
        let mut value = None;
        let deadline = self
            .txn
            .get_with_expiry(self.db, key, |v| value = v.map(<[u8]>::to_vec))?;
        Ok(value.map(|value| (value, deadline)))
    }
}

/// EXPIRE's flag rules (expireGenericCommand); `current` 0 = no deadline,
/// which counts as infinite for GT and LT.
fn expire_allowed(flags: u32, current: i64, new: i64) -> bool {
    (flags & EXPIRE_NX == 0 || current == 0)
        && (flags & EXPIRE_XX == 0 || current != 0)
        && (flags & EXPIRE_GT == 0 || (current != 0 && new > current))
        && (flags & EXPIRE_LT == 0 || current == 0 || new < current)
}

impl Store for TxnStore<'_> {
    fn get(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()> {
        self.txn.get(self.db, key, on_value)
    }

    fn get_with_expiry(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<i64> {
        self.txn.get_with_expiry(self.db, key, on_value)
    }

    fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        expiry: PutExpiry,
        on_old: Option<OnValue<'_>>,
    ) -> EngineResult<bool> {
        if condition == PutCondition::Always && on_old.is_none() && self.key_delta.is_none() {
            // A blind write: nothing needs the old value, so it joins no
            // read set (fewer conflicts, less work).
            return match expiry {
                PutExpiry::At(at) if at <= now_ms() => self.txn.del(self.db, key).map(|()| true),
                _ => self.txn.put(self.db, key, value, expiry).map(|()| true),
            };
        }
        let mut existed = false;
        let mut on_old = on_old;
        self.txn.get(self.db, key, |old| {
            existed = old.is_some();
            if let Some(on_old) = on_old.as_mut() {
                on_old(old);
            }
        })?;
        let allowed = match condition {
            PutCondition::Always => true,
            PutCondition::IfAbsent => !existed,
            PutCondition::IfPresent => existed,
        };
        if !allowed {
            return Ok(false);
        }
        match expiry {
            // A deadline already past deletes the key instead, as Redis does.
            PutExpiry::At(at) if at <= now_ms() => {
                self.txn.del(self.db, key)?;
                self.count_keys(-(existed as i64));
            }
            _ => {
                self.txn.put(self.db, key, value, expiry)?;
                self.count_keys(!existed as i64);
            }
        }
        Ok(true)
    }

    fn take(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()> {
        let mut existed = false;
        self.txn.get(self.db, key, |value| {
            existed = value.is_some();
            on_value(value);
        })?;
        if existed {
            self.txn.del(self.db, key)?;
            self.count_keys(-(1));
        }
        Ok(())
    }

    fn expire(&mut self, key: &[u8], expire_at_ms: i64, flags: u32) -> EngineResult<bool> {
        let Some((value, current)) = self.read(key)? else {
            return Ok(false);
        };
        if !expire_allowed(flags, current, expire_at_ms) {
            return Ok(false);
        }
        if expire_at_ms <= now_ms() {
            self.txn.del(self.db, key)?;
            self.count_keys(-(1));
        } else {
            self.txn
                .put(self.db, key, &value, PutExpiry::At(expire_at_ms))?;
        }
        Ok(true)
    }

    fn persist(&mut self, key: &[u8]) -> EngineResult<bool> {
        match self.read(key)? {
            Some((value, deadline)) if deadline != 0 => {
                self.txn.put(self.db, key, &value, PutExpiry::None)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn del<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64> {
        let mut deleted = 0;
        for key in keys {
            // After the first delete the key reads as missing, so a key
            // named twice counts once.
            if self.exists_one(key)? {
                self.txn.del(self.db, key)?;
                deleted += 1;
            }
        }
        self.count_keys(-(deleted as i64));
        Ok(deleted)
    }

    fn exists<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64> {
        let mut count = 0;
        for key in keys {
            count += self.exists_one(key)? as u64;
        }
        Ok(count)
    }

    fn incr_by(&mut self, key: &[u8], delta: i64) -> EngineResult<i64> {
        let mut current: Result<i64, EngineError> = Ok(0);
        self.txn.get(self.db, key, |value| {
            if let Some(value) = value {
                current = parse_strict_i64(value).ok_or(EngineError::NotInteger);
            }
        })?;
        let next = current?.checked_add(delta).ok_or(EngineError::Overflow)?;
        self.txn.put(
            self.db,
            key,
            itoa::Buffer::new().format(next).as_bytes(),
            PutExpiry::Keep,
        )?;
        Ok(next)
    }

    fn multi_get<'k>(&mut self, keys: Keys<'_, 'k>, on_value: OnValue<'_>) -> EngineResult<()> {
        for key in keys {
            self.txn.get(self.db, key, &mut *on_value)?;
        }
        Ok(())
    }

    fn multi_put<'k>(&mut self, pairs: Keys<'_, 'k>, if_none_exist: bool) -> EngineResult<bool> {
        let pairs: Vec<&[u8]> = pairs.collect();
        if if_none_exist && self.exists(&mut pairs.iter().step_by(2).copied())? > 0 {
            return Ok(false);
        }
        for pair in pairs.chunks_exact(2) {
            // A key named twice reads as existing the second time.
            if self.key_delta.is_some() {
                let created = !self.exists_one(pair[0])?;
                self.count_keys(created as i64);
            }
            self.txn.put(self.db, pair[0], pair[1], PutExpiry::None)?;
        }
        Ok(true)
    }

    fn count(&mut self) -> EngineResult<(u64, u64)> {
        let (keys, with_expiry) = self.worker.count_with_expiry(self.db)?;
        let delta = self.key_delta.as_deref().copied().unwrap_or(0);
        Ok((keys.saturating_add_signed(delta), with_expiry))
    }

    /// FLUSHALL/FLUSHDB are not transactional in the engine.
    fn clear(&mut self, _all_databases: bool) -> EngineResult<()> {
        Err(EngineError::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_flags_follow_redis() {
        // No deadline (0) counts as infinite for GT and LT.
        assert!(expire_allowed(0, 0, 5));
        assert!(expire_allowed(EXPIRE_NX, 0, 5));
        assert!(!expire_allowed(EXPIRE_NX, 9, 5));
        assert!(!expire_allowed(EXPIRE_XX, 0, 5));
        assert!(expire_allowed(EXPIRE_XX, 9, 5));
        assert!(!expire_allowed(EXPIRE_GT, 0, 5));
        assert!(expire_allowed(EXPIRE_GT, 4, 5));
        assert!(!expire_allowed(EXPIRE_GT, 5, 5));
        assert!(expire_allowed(EXPIRE_LT, 0, 5));
        assert!(expire_allowed(EXPIRE_LT, 6, 5));
        assert!(!expire_allowed(EXPIRE_LT, 5, 5));
        assert!(!expire_allowed(EXPIRE_XX | EXPIRE_LT, 0, 5));
    }
}
