//! A SQL transaction over an engine transaction. Writes are buffered here,
//! not in the engine, so that SAVEPOINT / ROLLBACK TO can undo them and
//! scans can see them; the engine gets the final write set at COMMIT, where
//! it validates every key read (OCC). A failed validation is SQLSTATE 40001.

use std::collections::HashMap;

use super::error::{sqlstate, PgError};
use super::params::Params;
use crate::engine::{EngineError, EngineWorker, PutExpiry, Txn};

/// The database (Redis SELECT index) the kv table lives in.
pub const KV_DB: u32 = 0;

/// Bytes of buffered writes one transaction may hold.
pub const MAX_TXN_WRITE_BYTES: usize = 256 * 1024 * 1024;
/// Savepoints one transaction may hold.
pub const MAX_SAVEPOINTS: usize = 1000;

/// A buffered write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// New value; `keep_ttl`: an UPDATE keeps the key's deadline, an
    /// INSERT of a new key has none.
    Put {
        value: Vec<u8>,
        keep_ttl: bool,
    },
    Delete,
}

struct Savepoint {
    name: String,
    /// Length of `undo` when it was taken.
    undo_len: usize,
    /// Session parameters then (ROLLBACK TO undoes SET too).
    params: Params,
}

/// An open SQL transaction.
pub struct PgTxn {
    engine: Txn,
    writes: HashMap<Vec<u8>, Write>,
    /// (key, previous entry in `writes`) per write, for ROLLBACK TO.
    undo: Vec<(Vec<u8>, Option<Write>)>,
    write_bytes: usize,
    savepoints: Vec<Savepoint>,
    pub read_only: bool,
    /// Session parameters at BEGIN (ROLLBACK undoes SET).
    pub params_at_begin: Params,
}

fn engine_error(error: EngineError) -> PgError {
    match error {
        EngineError::Conflict => serialization_failure(),
        other => PgError::engine(other),
    }
}

pub fn serialization_failure() -> PgError {
    PgError::new(
        sqlstate::SERIALIZATION_FAILURE,
        "could not serialize access due to concurrent update",
    )
    .with_hint("The transaction might succeed if retried.")
}

impl PgTxn {
    pub fn begin(
        worker: &mut EngineWorker,
        read_only: bool,
        params: &Params,
    ) -> Result<PgTxn, PgError> {
        Ok(PgTxn {
            engine: worker.begin().map_err(engine_error)?,
            writes: HashMap::new(),
            undo: Vec::new(),
            write_bytes: 0,
            savepoints: Vec::new(),
            read_only,
            params_at_begin: params.clone(),
        })
    }

    /// Reads `key` as this transaction sees it; the engine records the
    /// read for validation.
    pub fn get(&mut self, key: &[u8], on_value: impl FnOnce(Option<&[u8]>)) -> Result<(), PgError> {
        match self.writes.get(key) {
            Some(Write::Put { value, .. }) => on_value(Some(value)),
            Some(Write::Delete) => on_value(None),
            None => {
                let mut on_value = Some(on_value);
                self.engine
                    .get(KV_DB, key, |value| {
                        if let Some(f) = on_value.take() {
                            f(value)
                        }
                    })
                    .map_err(engine_error)?;
            }
        }
        Ok(())
    }

    pub fn exists(&mut self, key: &[u8]) -> Result<bool, PgError> {
        let mut found = false;
        self.get(key, |value| found = value.is_some())?;
        Ok(found)
    }

    pub fn write(&mut self, key: &[u8], write: Write) -> Result<(), PgError> {
        if self.read_only {
            return Err(PgError::new(
                sqlstate::READ_ONLY_SQL_TRANSACTION,
                "cannot execute INSERT/UPDATE/DELETE in a read-only transaction",
            ));
        }
        let size = key.len()
            + match &write {
                Write::Put { value, .. } => value.len(),
                Write::Delete => 0,
            };
        if self.write_bytes + size > MAX_TXN_WRITE_BYTES {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!("transaction writes more than {MAX_TXN_WRITE_BYTES} bytes"),
            )
            .with_hint("commit in smaller transactions"));
        }
        self.write_bytes += size;
        let previous = self.writes.insert(key.to_vec(), write);
        self.undo.push((key.to_vec(), previous));
        Ok(())
    }

    /// Keys written (not deleted) by this transaction, for scans.
    pub fn written_keys(&self) -> impl Iterator<Item = (&[u8], &Write)> {
        self.writes.iter().map(|(k, w)| (k.as_slice(), w))
    }

    /// Whether a scan must take this key's state from here.
    pub fn has_write(&self, key: &[u8]) -> bool {
        self.writes.contains_key(key)
    }

    pub fn savepoint(&mut self, name: &str, params: &Params) -> Result<(), PgError> {
        if self.savepoints.len() >= MAX_SAVEPOINTS {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!("more than {MAX_SAVEPOINTS} savepoints in one transaction"),
            ));
        }
        self.savepoints.push(Savepoint {
            name: name.to_string(),
            undo_len: self.undo.len(),
            params: params.clone(),
        });
        Ok(())
    }

    fn find_savepoint(&self, name: &str) -> Result<usize, PgError> {
        self.savepoints
            .iter()
            .rposition(|s| s.name == name)
            .ok_or_else(|| {
                PgError::new(
                    sqlstate::INVALID_SAVEPOINT_SPECIFICATION,
                    format!("savepoint \"{name}\" does not exist"),
                )
            })
    }

    /// ROLLBACK TO: undoes writes since the savepoint, which stays; returns
    /// the session parameters to restore.
    pub fn rollback_to(&mut self, name: &str) -> Result<Params, PgError> {
        let index = self.find_savepoint(name)?;
        self.savepoints.truncate(index + 1);
        let savepoint = &self.savepoints[index];
        while self.undo.len() > savepoint.undo_len {
            let (key, previous) = self.undo.pop().expect("undo entry");
            match previous {
                Some(write) => self.writes.insert(key, write),
                None => self.writes.remove(&key),
            };
        }
        Ok(savepoint.params.clone())
    }

    /// RELEASE: forgets the savepoint and every later one.
    pub fn release(&mut self, name: &str) -> Result<(), PgError> {
        let index = self.find_savepoint(name)?;
        self.savepoints.truncate(index);
        Ok(())
    }

    /// Hands the write set to the engine and commits.
    pub fn commit(mut self) -> Result<(), PgError> {
        for (key, write) in &self.writes {
            match write {
                Write::Put { value, keep_ttl } => {
                    let expiry = if *keep_ttl {
                        PutExpiry::Keep
                    } else {
                        PutExpiry::None
                    };
                    self.engine.put(KV_DB, key, value, expiry)
                }
                Write::Delete => self.engine.del(KV_DB, key),
            }
            .map_err(engine_error)?;
        }
        self.writes.clear();
        self.engine.commit().map_err(engine_error)
    }
}
