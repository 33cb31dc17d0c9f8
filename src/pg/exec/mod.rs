//! Runs kv statements against the engine: reads through a [`RowSource`]
//! that a portal can fetch from in pieces, writes through a [`PgTxn`] (or,
//! for a single key outside a transaction, one atomic engine call).

mod copy;
mod select;
mod write;

use std::borrow::Cow;

pub use copy::{CopyIn, CopyOutFormat};
pub use select::Row;
pub use select::RowSource;
pub use write::{is_single_key, run_write};

use super::error::{sqlstate, PgError};
use super::protocol::{Field, Writer};
use super::sql::{ColumnExpr, OutputColumn, Scalar, SqlType};
use super::txn::{PgTxn, KV_DB};
use super::types::{self, Format};
use crate::engine::EngineWorker;

/// Bound parameter values, already decoded to the engine's bytes (`None`:
/// NULL).
pub type Params<'a> = &'a [Option<Vec<u8>>];

/// How a statement reaches the data: straight to the engine (outside a
/// transaction, reads only) or through an open transaction.
pub enum Access<'a> {
    Direct(&'a mut EngineWorker),
    Txn(&'a mut EngineWorker, &'a mut PgTxn),
}

impl Access<'_> {
    pub fn get(&mut self, key: &[u8], on_value: impl FnOnce(Option<&[u8]>)) -> Result<(), PgError> {
        match self {
            Access::Direct(worker) => {
                let mut on_value = Some(on_value);
                worker
                    .get(KV_DB, key, |value| {
                        if let Some(f) = on_value.take() {
                            f(value)
                        }
                    })
                    .map_err(|e| PgError::new(sqlstate::INTERNAL_ERROR, format!("engine: {e}")))
            }
            Access::Txn(_, txn) => txn.get(key, on_value),
        }
    }

    pub fn worker(&mut self) -> &mut EngineWorker {
        match self {
            Access::Direct(worker) | Access::Txn(worker, _) => worker,
        }
    }

    pub fn txn(&mut self) -> Option<&mut PgTxn> {
        match self {
            Access::Direct(_) => None,
            Access::Txn(_, txn) => Some(txn),
        }
    }
}

/// A scalar's value as bytes (`None`: NULL).
pub fn eval<'p>(scalar: &'p Scalar, params: Params<'p>) -> Result<Option<Cow<'p, [u8]>>, PgError> {
    match scalar {
        Scalar::Null => Ok(None),
        Scalar::Param { index, .. } => match params.get(index - 1) {
            Some(value) => Ok(value.as_deref().map(Cow::Borrowed)),
            None => Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!("there is no parameter ${index}"),
            )),
        },
        Scalar::Literal { text, cast } => match cast {
            Some(SqlType::Bytea) => {
                types::decode_bytea_text(text.as_bytes()).map(|bytes| Some(Cow::Owned(bytes)))
            }
            Some(SqlType::Integer) => {
                types::parse_integer(text.as_bytes())?;
                Ok(Some(Cow::Borrowed(text.as_bytes())))
            }
            _ => Ok(Some(Cow::Borrowed(text.as_bytes()))),
        },
    }
}

/// A scalar that must not be NULL (keys, values).
pub fn eval_required<'p>(
    scalar: &'p Scalar,
    params: Params<'p>,
    column: &'static str,
) -> Result<Cow<'p, [u8]>, PgError> {
    eval(scalar, params)?.ok_or_else(|| not_null_violation(column, None))
}

/// 23502 for a NULL key or value; `key` (when the value is the NULL one)
/// fills PostgreSQL's "Failing row contains" detail.
pub fn not_null_violation(column: &'static str, key: Option<&[u8]>) -> PgError {
    let error = PgError::new(
        sqlstate::NOT_NULL_VIOLATION,
        format!(
            "null value in column \"{column}\" of relation \"kv\" violates not-null constraint"
        ),
    )
    .on_kv(Some(column), None);
    match key {
        Some(key) => error.with_detail(format!(
            "Failing row contains ({}, null).",
            String::from_utf8_lossy(key)
        )),
        None => error,
    }
}

/// 23505 on kv's primary key.
pub fn duplicate_key(key: &[u8]) -> PgError {
    PgError::new(
        sqlstate::UNIQUE_VIOLATION,
        "duplicate key value violates unique constraint \"kv_pkey\"",
    )
    .with_detail(format!(
        "Key (key)=({}) already exists.",
        String::from_utf8_lossy(key)
    ))
    .on_kv(None, Some("kv_pkey"))
}

/// An integer scalar (LIMIT, OFFSET); NULL is `None` (LIMIT NULL = all).
pub fn eval_integer(scalar: &Scalar, params: Params<'_>) -> Result<Option<i64>, PgError> {
    eval(scalar, params)?
        .map(|bytes| types::parse_integer(&bytes))
        .transpose()
}

/// Result columns with `*` expanded.
pub fn expand(columns: &[OutputColumn]) -> Vec<OutputColumn> {
    let mut expanded = Vec::with_capacity(columns.len() + 1);
    for column in columns {
        match column.expr {
            ColumnExpr::Star => {
                expanded.push(OutputColumn {
                    expr: ColumnExpr::Key(None),
                    alias: None,
                });
                expanded.push(OutputColumn {
                    expr: ColumnExpr::Value(None),
                    alias: None,
                });
            }
            _ => expanded.push(column.clone()),
        }
    }
    expanded
}

/// RowDescription fields of (expanded) result columns.
pub fn fields(columns: &[OutputColumn]) -> Vec<Field> {
    columns
        .iter()
        .map(|column| {
            let (default_name, type_oid, attnum) = match column.expr {
                ColumnExpr::Key(cast) => ("key", cast.map_or(types::TEXT, types::cast_oid), 1),
                ColumnExpr::Value(cast) => ("value", cast.map_or(types::TEXT, types::cast_oid), 2),
                ColumnExpr::CountStar => ("count", types::INT8, 0),
                ColumnExpr::ValueLength { octets: false } => ("length", types::INT4, 0),
                ColumnExpr::ValueLength { octets: true } => ("octet_length", types::INT4, 0),
                ColumnExpr::Star => unreachable!("expanded"),
            };
            // A plain column keeps its table identity; a cast is an expression.
            let plain = matches!(column.expr, ColumnExpr::Key(None) | ColumnExpr::Value(None));
            Field {
                name: column.alias.clone().unwrap_or_else(|| default_name.into()),
                type_oid,
                type_size: types::type_size(type_oid),
                table_oid: if plain { types::KV_TABLE_OID } else { 0 },
                column_number: if plain { attnum } else { 0 },
            }
        })
        .collect()
}

/// Result formats per column, from Bind's format codes (none: all text;
/// one: for all columns).
pub fn format_of(formats: &[Format], column: usize) -> Format {
    match formats.len() {
        0 => Format::Text,
        1 => formats[0],
        _ => formats.get(column).copied().unwrap_or(Format::Text),
    }
}

/// Writes one DataRow for a (key, value) pair.
pub fn write_row(
    writer: &mut Writer<'_>,
    columns: &[OutputColumn],
    formats: &[Format],
    key: &[u8],
    value: &[u8],
) {
    let row = writer.begin_row(columns.len());
    for (i, column) in columns.iter().enumerate() {
        let format = format_of(formats, i);
        match column.expr {
            ColumnExpr::Key(cast) => write_bytes(writer, key, cast, format),
            ColumnExpr::Value(cast) => write_bytes(writer, value, cast, format),
            ColumnExpr::ValueLength { octets } => {
                let length = if octets {
                    value.len()
                } else {
                    String::from_utf8_lossy(value).chars().count()
                };
                write_int(writer, length as i64, 4, format);
            }
            ColumnExpr::CountStar | ColumnExpr::Star => unreachable!("not a row column"),
        }
    }
    writer.end_row(row);
}

fn write_bytes(writer: &mut Writer<'_>, bytes: &[u8], cast: Option<SqlType>, format: Format) {
    match (cast, format) {
        (Some(SqlType::Bytea), Format::Text) => {
            let at = writer.begin_value();
            types::encode_bytea_hex(bytes, writer.out);
            writer.end_value(at);
        }
        _ => writer.value(bytes),
    }
}

/// An integer of `width` bytes (4: int4, 8: int8) in either format.
pub fn write_int(writer: &mut Writer<'_>, value: i64, width: usize, format: Format) {
    match format {
        Format::Text => writer.value(itoa::Buffer::new().format(value).as_bytes()),
        Format::Binary if width == 4 => writer.value(&(value as i32).to_be_bytes()),
        Format::Binary => writer.value(&value.to_be_bytes()),
    }
}

/// Whether the columns are one `count(*)` (an aggregate: one row).
pub fn is_count(columns: &[OutputColumn]) -> bool {
    columns
        .iter()
        .any(|c| matches!(c.expr, ColumnExpr::CountStar))
}

/// `count(*)` mixed with row columns: PostgreSQL's GROUP BY error.
pub fn check_columns(columns: &[OutputColumn]) -> Result<(), PgError> {
    if is_count(columns) && columns.len() > 1 {
        let other = columns
            .iter()
            .find(|c| !matches!(c.expr, ColumnExpr::CountStar))
            .map_or("key", |c| match c.expr {
                ColumnExpr::Value(_) | ColumnExpr::ValueLength { .. } => "value",
                _ => "key",
            });
        return Err(PgError::new(
            sqlstate::GROUPING_ERROR,
            format!("column \"kv.{other}\" must appear in the GROUP BY clause or be used in an aggregate function"),
        ));
    }
    Ok(())
}
