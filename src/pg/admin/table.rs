//! Result sets as the admin console sends them: a RowDescription with
//! PgBouncer's column types, DataRows in text format, CommandComplete.

use crate::pg::protocol::{Field, Writer};
use crate::pg::types;

/// A column's type, after PgBouncer's row description letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `s`: text.
    Text,
    /// `i`: int4.
    Int4,
    /// `q`: int8 (PgBouncer's newer releases send counters as numeric,
    /// only to survive u64 overflow; the text is the same).
    Int8,
    /// `T`: a timestamp, sent as text (`2026-01-02 03:04:05 UTC`).
    Time,
}

impl Type {
    fn oid(self) -> u32 {
        match self {
            Type::Text | Type::Time => types::TEXT,
            Type::Int4 => types::INT4,
            Type::Int8 => types::INT8,
        }
    }
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::from(n as u64)
    }
}

impl From<u16> for Value {
    fn from(n: u16) -> Value {
        Value::Int(n.into())
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Int(n.into())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

/// Writes one result set into `out`: the header at once, rows as they
/// come, CommandComplete at [`finish`](Table::finish).
pub struct Table<'a> {
    writer: Writer<'a>,
    columns: usize,
}

impl<'a> Table<'a> {
    pub fn new(out: &'a mut Vec<u8>, columns: &[(&str, Type)]) -> Table<'a> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|&(name, kind)| Field {
                name: name.to_string(),
                type_oid: kind.oid(),
                type_size: types::type_size(kind.oid()),
                table_oid: 0,
                column_number: 0,
            })
            .collect();
        let mut writer = Writer { out };
        writer.row_description(&fields, |_| false);
        Table {
            writer,
            columns: columns.len(),
        }
    }

    pub fn row(&mut self, values: Vec<Value>) {
        assert_eq!(values.len(), self.columns, "a row has one value per column");
        let at = self.writer.begin_row(values.len());
        for value in values {
            match value {
                Value::Null => self.writer.null(),
                Value::Text(text) => self.writer.value(text.as_bytes()),
                Value::Int(n) => self.writer.value(itoa::Buffer::new().format(n).as_bytes()),
            }
        }
        self.writer.end_row(at);
    }

    /// CommandComplete `SHOW`, as PgBouncer tags every result.
    pub fn finish(mut self) {
        self.writer.command_complete("SHOW");
    }
}

/// A wall-clock time as PgBouncer prints it (UTC here).
pub fn time_text(time: std::time::SystemTime) -> String {
    // crate::log::timestamp gives `2026-11-23T09:15:02.123Z`.
    let iso = crate::log::timestamp(time);
    format!("{} {} UTC", &iso[..10], &iso[11..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_pgbouncer() {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_425_302_123);
        assert_eq!(time_text(time), "2026-11-23 09:15:02 UTC");
    }

    #[test]
    fn rows_are_text_with_typed_columns() {
        let mut out = Vec::new();
        let mut table = Table::new(&mut out, &[("n", Type::Int8), ("s", Type::Text)]);
        table.row(vec![Value::from(42u64), Value::Null]);
        table.finish();
        // RowDescription: 'T', length, 2 fields; int8's oid is 20.
        assert_eq!(out[0], b'T');
        assert_eq!(&out[7..9], b"n\0");
        assert_eq!(&out[15..19], &20u32.to_be_bytes());
        let row_at = out.iter().position(|&b| b == b'D').unwrap();
        assert_eq!(
            &out[row_at..],
            b"D\0\0\0\x10\0\x02\0\0\0\x0242\xff\xff\xff\xffC\0\0\0\x09SHOW\0"
        );
    }
}
