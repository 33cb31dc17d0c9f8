//! INSERT, UPDATE, DELETE and TRUNCATE on kv.
//!
//! Inside a transaction every write is buffered in the [`PgTxn`]. Outside
//! one, a statement on a single key is one atomic engine call (no
//! transaction at all: the hot path); anything wider runs in a transaction
//! of its own, opened by the caller.

use std::collections::HashSet;

use super::select::matching_keys;
use super::{
    duplicate_key, eval, eval_required, expand, not_null_violation, write_row, Access, Params,
};
use crate::engine::{PutCondition, PutExpiry};
use crate::pg::error::{sqlstate, PgError};
use crate::pg::protocol::Writer;
use crate::pg::sql::{Delete, Insert, KeyFilter, OnConflict, OutputColumn, Statement, Update};
use crate::pg::txn::{Write, KV_DB};
use crate::pg::types::Format;

/// Whether a statement outside a transaction can skip opening one: it
/// touches one key, in one engine call.
pub fn is_single_key(statement: &Statement) -> bool {
    match statement {
        Statement::Insert(insert) => {
            insert.rows.len() == 1 && !matches!(insert.on_conflict, OnConflict::DoUpdate(Some(_)))
        }
        Statement::Update(update) => matches!(update.filter, KeyFilter::Eq(_)),
        Statement::Delete(delete) => matches!(delete.filter, KeyFilter::Eq(_)),
        Statement::Truncate => true,
        _ => false,
    }
}

/// Runs a write statement; RETURNING rows go to `writer`.
pub fn run_write(
    statement: &Statement,
    params: Params<'_>,
    access: &mut Access<'_>,
    writer: &mut Writer<'_>,
    formats: &[Format],
) -> Result<String, PgError> {
    let tag = match statement {
        Statement::Insert(insert) => format!(
            "INSERT 0 {}",
            insert_rows(insert, params, access, writer, formats)?
        ),
        Statement::Update(update) => format!(
            "UPDATE {}",
            update_rows(update, params, access, writer, formats)?
        ),
        Statement::Delete(delete) => format!(
            "DELETE {}",
            delete_rows(delete, params, access, writer, formats)?
        ),
        Statement::Truncate => {
            let Access::Direct(worker) = access else {
                return Err(PgError::unsupported(
                    "TRUNCATE inside a transaction block is not supported",
                ));
            };
            worker.clear(KV_DB).map_err(engine)?;
            "TRUNCATE TABLE".into()
        }
        _ => unreachable!("not a write statement"),
    };
    Ok(tag)
}

fn engine(error: crate::engine::EngineError) -> PgError {
    PgError::engine(error)
}

fn returning(
    columns: &[OutputColumn],
    writer: &mut Writer<'_>,
    formats: &[Format],
    key: &[u8],
    value: &[u8],
) {
    if !columns.is_empty() {
        write_row(writer, &expand(columns), formats, key, value);
    }
}

fn insert_rows(
    insert: &Insert,
    params: Params<'_>,
    access: &mut Access<'_>,
    writer: &mut Writer<'_>,
    formats: &[Format],
) -> Result<u64, PgError> {
    let mut inserted = 0u64;
    let mut updated_keys = HashSet::new();
    for (key_scalar, value_scalar) in &insert.rows {
        let key = eval_required(key_scalar, params, "key")?;
        let mut value =
            eval(value_scalar, params)?.ok_or_else(|| not_null_violation("value", Some(&key)))?;
        let txn = match access {
            Access::Direct(worker) => {
                // One row, one engine call.
                let (condition, expiry) = match insert.on_conflict {
                    OnConflict::Error | OnConflict::DoNothing => {
                        (PutCondition::IfAbsent, PutExpiry::None)
                    }
                    OnConflict::DoUpdate(_) => (PutCondition::Always, PutExpiry::Keep),
                };
                let written = worker
                    .put_with_expiry(KV_DB, &key, &value, condition, expiry, None)
                    .map_err(engine)?;
                if !written && insert.on_conflict == OnConflict::Error {
                    return Err(duplicate_key(&key));
                }
                if written {
                    inserted += 1;
                    returning(&insert.returning, writer, formats, &key, &value);
                }
                continue;
            }
            Access::Txn(_, txn) => txn,
        };
        let exists = txn.exists(&key)?;
        let keep_ttl = match (&insert.on_conflict, exists) {
            (_, false) => false,
            (OnConflict::Error, true) => return Err(duplicate_key(&key)),
            (OnConflict::DoNothing, true) => continue,
            (OnConflict::DoUpdate(set), true) => {
                if !updated_keys.insert(key.to_vec()) {
                    return Err(PgError::new(
                        sqlstate::CARDINALITY_VIOLATION,
                        "ON CONFLICT DO UPDATE command cannot affect row a second time",
                    )
                    .with_hint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values."));
                }
                if let Some(set) = set {
                    value = eval_required(set, params, "value")?;
                }
                true
            }
        };
        if !exists && matches!(insert.on_conflict, OnConflict::DoUpdate(_)) {
            updated_keys.insert(key.to_vec());
        }
        txn.write(
            &key,
            Write::Put {
                value: value.to_vec(),
                keep_ttl,
            },
        )?;
        inserted += 1;
        returning(&insert.returning, writer, formats, &key, &value);
    }
    Ok(inserted)
}

fn update_rows(
    update: &Update,
    params: Params<'_>,
    access: &mut Access<'_>,
    writer: &mut Writer<'_>,
    formats: &[Format],
) -> Result<u64, PgError> {
    let Some(value) = eval(&update.value, params)? else {
        // SET value = NULL fails only if a row matches, as in PostgreSQL.
        let keys = matching_keys(&update.filter, params, access)?;
        return match keys.first() {
            Some(key) => Err(not_null_violation("value", Some(key))),
            None => Ok(0),
        };
    };
    if let (Access::Direct(worker), KeyFilter::Eq(key)) = (&mut *access, &update.filter) {
        let key = eval_required(key, params, "key")?;
        let written = worker
            .put_with_expiry(
                KV_DB,
                &key,
                &value,
                PutCondition::IfPresent,
                PutExpiry::Keep,
                None,
            )
            .map_err(engine)?;
        if written {
            returning(&update.returning, writer, formats, &key, &value);
        }
        return Ok(written as u64);
    }
    let keys = matching_keys(&update.filter, params, access)?;
    let txn = access
        .txn()
        .expect("a multi-key UPDATE runs in a transaction");
    for key in &keys {
        txn.write(
            key,
            Write::Put {
                value: value.to_vec(),
                keep_ttl: true,
            },
        )?;
        returning(&update.returning, writer, formats, key, &value);
    }
    Ok(keys.len() as u64)
}

fn delete_rows(
    delete: &Delete,
    params: Params<'_>,
    access: &mut Access<'_>,
    writer: &mut Writer<'_>,
    formats: &[Format],
) -> Result<u64, PgError> {
    if let (Access::Direct(worker), KeyFilter::Eq(key)) = (&mut *access, &delete.filter) {
        let key = eval_required(key, params, "key")?;
        if delete.returning.is_empty() {
            return worker.del(KV_DB, std::iter::once(&key[..])).map_err(engine);
        }
        let mut deleted = false;
        worker
            .take(KV_DB, &key, |old| {
                if let Some(old) = old {
                    deleted = true;
                    returning(&delete.returning, writer, formats, &key, old);
                }
            })
            .map_err(engine)?;
        return Ok(deleted as u64);
    }
    let keys = matching_keys(&delete.filter, params, access)?;
    let txn = access
        .txn()
        .expect("a multi-key DELETE runs in a transaction");
    for key in &keys {
        if !delete.returning.is_empty() {
            txn.get(key, |old| {
                if let Some(old) = old {
                    returning(&delete.returning, writer, formats, key, old);
                }
            })?;
        }
        txn.write(key, Write::Delete)?;
    }
    Ok(keys.len() as u64)
}
