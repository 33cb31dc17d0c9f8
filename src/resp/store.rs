//! What commands read and write through: the engine directly, or an open
//! transaction (inside EXEC). Every command is written once, against
//! `Store`, and runs the same way in both.

use crate::engine::txn::Txn;
use crate::engine::{EngineError, EngineResult, EngineWorker, PutCondition};
use crate::resp::parse::parse_strict_i64;

/// Receives one value (`None` for a missing key).
pub type OnValue<'a> = &'a mut dyn FnMut(Option<&[u8]>);
/// A list of keys (or of key, value, key, value ... for `multi_put`).
pub type Keys<'a, 'k> = &'a mut dyn Iterator<Item = &'k [u8]>;

pub trait Store {
    fn get(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()>;
    /// Returns whether the write happened; `on_old` sees the previous value.
    fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        on_old: Option<OnValue<'_>>,
    ) -> EngineResult<bool>;
    /// Deletes; returns how many of the keys existed (each counted once).
    fn del<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64>;
    /// Counts existing keys, a repeated key once per mention.
    fn exists<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64>;
    fn incr_by(&mut self, key: &[u8], delta: i64) -> EngineResult<i64>;
    /// Reads several keys from one snapshot, in order.
    fn multi_get<'k>(&mut self, keys: Keys<'_, 'k>, on_value: OnValue<'_>) -> EngineResult<()>;
    /// Writes `[k1, v1, k2, v2, ...]` atomically.
    fn multi_put<'k>(&mut self, pairs: Keys<'_, 'k>) -> EngineResult<()>;
    fn count(&mut self) -> EngineResult<u64>;
    fn clear(&mut self) -> EngineResult<()>;
}

impl Store for EngineWorker {
    fn get(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()> {
        EngineWorker::get(self, key, on_value)
    }

    fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        on_old: Option<OnValue<'_>>,
    ) -> EngineResult<bool> {
        EngineWorker::put(self, key, value, condition, on_old)
    }

    fn del<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64> {
        EngineWorker::del(self, keys)
    }

    fn exists<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64> {
        EngineWorker::exists(self, keys)
    }

    fn incr_by(&mut self, key: &[u8], delta: i64) -> EngineResult<i64> {
        EngineWorker::incr_by(self, key, delta)
    }

    fn multi_get<'k>(&mut self, keys: Keys<'_, 'k>, on_value: OnValue<'_>) -> EngineResult<()> {
        EngineWorker::multi_get(self, keys, on_value)
    }

    fn multi_put<'k>(&mut self, pairs: Keys<'_, 'k>) -> EngineResult<()> {
        EngineWorker::multi_put(self, pairs)
    }

    fn count(&mut self) -> EngineResult<u64> {
        EngineWorker::count(self)
    }

    fn clear(&mut self) -> EngineResult<()> {
        EngineWorker::clear(self)
    }
}

/// The store inside EXEC: reads join the transaction's read set, writes
/// are buffered until commit. Compound operations (INCR, SET NX, DEL's
/// count) are built from reads and writes of the same transaction, so they
/// stay atomic with everything else it does.
pub struct TxnStore<'a> {
    pub txn: &'a mut Txn,
    /// For the operations that are not transactional (DBSIZE).
    pub worker: &'a mut EngineWorker,
}

impl TxnStore<'_> {
    fn exists_one(&mut self, key: &[u8]) -> EngineResult<bool> {
        let mut found = false;
        self.txn.get(key, &mut |value| found = value.is_some())?;
        Ok(found)
    }
}

impl Store for TxnStore<'_> {
    fn get(&mut self, key: &[u8], on_value: OnValue<'_>) -> EngineResult<()> {
        self.txn.get(key, on_value)
    }

    fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        on_old: Option<OnValue<'_>>,
    ) -> EngineResult<bool> {
        let mut existed = false;
        let mut on_old = on_old;
        self.txn.get(key, &mut |old| {
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
        if allowed {
            self.txn.put(key, value)?;
        }
        Ok(allowed)
    }

    fn del<'k>(&mut self, keys: Keys<'_, 'k>) -> EngineResult<u64> {
        let mut deleted = 0;
        for key in keys {
            // After the first delete the key reads as missing, so a key
            // named twice counts once.
            if self.exists_one(key)? {
                self.txn.del(key)?;
                deleted += 1;
            }
        }
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
        self.txn.get(key, &mut |value| {
            if let Some(value) = value {
                current = parse_strict_i64(value).ok_or(EngineError::NotInteger);
            }
        })?;
        let next = current?.checked_add(delta).ok_or(EngineError::Overflow)?;
        self.txn
            .put(key, itoa::Buffer::new().format(next).as_bytes())?;
        Ok(next)
    }

    fn multi_get<'k>(&mut self, keys: Keys<'_, 'k>, on_value: OnValue<'_>) -> EngineResult<()> {
        for key in keys {
            self.txn.get(key, on_value)?;
        }
        Ok(())
    }

    fn multi_put<'k>(&mut self, pairs: Keys<'_, 'k>) -> EngineResult<()> {
        while let (Some(key), Some(value)) = (pairs.next(), pairs.next()) {
            self.txn.put(key, value)?;
        }
        Ok(())
    }

    fn count(&mut self) -> EngineResult<u64> {
        self.worker.count()
    }

    /// FLUSHALL/FLUSHDB are not transactional in the engine.
    fn clear(&mut self) -> EngineResult<()> {
        Err(EngineError::Unsupported)
    }
}
