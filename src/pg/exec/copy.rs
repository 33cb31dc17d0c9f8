//! COPY kv FROM STDIN / TO STDOUT in PostgreSQL's text and CSV formats.
//!
//! COPY FROM receives CopyData chunks that split rows anywhere; complete
//! rows are parsed and buffered in the transaction, the tail waits for the
//! next chunk (bounded). COPY TO encodes each row into one CopyData.

use super::{duplicate_key, not_null_violation};
use crate::pg::error::{sqlstate, PgError};
use crate::pg::sql::{ColumnExpr, CopyColumn, CopyFormat, CopyOptions, OutputColumn, SqlType};
use crate::pg::txn::{PgTxn, Write};
use crate::pg::types;

/// Resolved delimiter, quote, escape and NULL string.
#[derive(Clone, Debug)]
struct Dialect {
    csv: bool,
    delimiter: u8,
    quote: u8,
    escape: u8,
    null: Vec<u8>,
    header: bool,
}

impl Dialect {
    fn new(options: &CopyOptions) -> Result<Dialect, PgError> {
        let csv = match options.format {
            CopyFormat::Text => false,
            CopyFormat::Csv => true,
            CopyFormat::Binary => {
                return Err(PgError::unsupported(
                    "COPY in BINARY format is not supported; use text or csv",
                ))
            }
        };
        let quote = options.quote.unwrap_or(b'"');
        let dialect = Dialect {
            csv,
            delimiter: options.delimiter.unwrap_or(if csv { b',' } else { b'\t' }),
            quote,
            escape: options.escape.unwrap_or(quote),
            null: options
                .null
                .clone()
                .unwrap_or_else(|| if csv { String::new() } else { "\\N".into() })
                .into_bytes(),
            header: options.header,
        };
        if !csv && (options.quote.is_some() || options.escape.is_some()) {
            return Err(PgError::unsupported(
                "COPY QUOTE and ESCAPE are available only in CSV mode",
            ));
        }
        if matches!(dialect.delimiter, b'\r' | b'\n') || (!csv && dialect.delimiter == b'\\') {
            return Err(PgError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                "COPY delimiter cannot be newline, carriage return or backslash",
            ));
        }
        Ok(dialect)
    }
}

/// Which data column holds the key and which the value.
fn column_positions(columns: &[CopyColumn]) -> Result<(usize, usize), PgError> {
    match columns {
        [] | [CopyColumn::Key, CopyColumn::Value] => Ok((0, 1)),
        [CopyColumn::Value, CopyColumn::Key] => Ok((1, 0)),
        _ => Err(PgError::new(
            sqlstate::NOT_NULL_VIOLATION,
            "COPY kv FROM needs both columns, key and value (value is NOT NULL)",
        )),
    }
}

/// An in-progress COPY FROM STDIN.
pub struct CopyIn {
    dialect: Dialect,
    key_at: usize,
    value_at: usize,
    /// Bytes of a row not complete yet.
    partial: Vec<u8>,
    /// Where the search for the end of the partial row goes on, and
    /// whether that point is inside CSV quotes: each byte is looked at
    /// once, however many chunks a long row spans.
    resume: Resume,
    /// Longest row accepted (pg-max-copy-row-bytes).
    max_row_bytes: usize,
    /// Data rows seen (for error context and the COPY n tag).
    pub rows: u64,
    /// The header line is still to be skipped.
    skip_header: bool,
    /// `\.` was seen: the rest is ignored.
    ended: bool,
}

impl CopyIn {
    pub fn new(options: &CopyOptions, max_row_bytes: usize) -> Result<CopyIn, PgError> {
        let dialect = Dialect::new(options)?;
        let (key_at, value_at) = column_positions(&options.columns)?;
        Ok(CopyIn {
            skip_header: dialect.header,
            dialect,
            key_at,
            value_at,
            partial: Vec::new(),
            resume: Resume::default(),
            max_row_bytes,
            rows: 0,
            ended: false,
        })
    }

    /// One CopyData chunk.
    pub fn data(&mut self, chunk: &[u8], txn: &mut PgTxn) -> Result<(), PgError> {
        if self.ended {
            return Ok(());
        }
        let mut data = std::mem::take(&mut self.partial);
        data.extend_from_slice(chunk);
        let mut start = 0;
        let mut resume = std::mem::take(&mut self.resume);
        loop {
            match self.scan(&data[start..], resume) {
                Ok(end) => {
                    if end > self.max_row_bytes {
                        return Err(self.too_long());
                    }
                    let row = &data[start..start + end];
                    start += end + 1;
                    resume = Resume::default();
                    self.row(row, txn)?;
                    if self.ended {
                        return Ok(());
                    }
                }
                Err(at) => {
                    resume = at;
                    break;
                }
            }
        }
        if data.len() - start > self.max_row_bytes {
            return Err(self.too_long());
        }
        data.drain(..start);
        self.partial = data;
        self.resume = resume;
        Ok(())
    }

    /// ERROR 54000: the row went past pg-max-copy-row-bytes.
    fn too_long(&self) -> PgError {
        PgError::new(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            format!("COPY row is longer than {} bytes", self.max_row_bytes),
        )
        .with_context(self.context(None))
    }

    /// CopyDone: a last row without a newline still counts.
    pub fn finish(&mut self, txn: &mut PgTxn) -> Result<u64, PgError> {
        if !self.ended && !self.partial.is_empty() {
            let row = std::mem::take(&mut self.partial);
            if self.dialect.csv && self.row_end(&row).is_none() && open_quote(&row, &self.dialect) {
                return Err(self.error("unterminated CSV quoted field".into(), &row));
            }
            self.row(&row, txn)?;
        }
        Ok(self.rows)
    }

    /// Offset of the newline that ends the first row (CSV: outside quotes).
    fn row_end(&self, data: &[u8]) -> Option<usize> {
        self.scan(data, Resume::default()).ok()
    }

    /// As `row_end`, looking from `from` on (the bytes before it hold no
    /// row end); Err: where to go on once more bytes arrive.
    fn scan(&self, data: &[u8], from: Resume) -> Result<usize, Resume> {
        if !self.dialect.csv {
            return match data[from.at..].iter().position(|&b| b == b'\n') {
                Some(end) => Ok(from.at + end),
                None => Err(Resume {
                    at: data.len(),
                    quoted: false,
                }),
            };
        }
        let Resume {
            at: mut i,
            mut quoted,
        } = from;
        while i < data.len() {
            let b = data[i];
            if quoted && b == self.dialect.escape && self.dialect.escape != self.dialect.quote {
                match data.get(i + 1) {
                    // The escaped byte is in the next chunk: look again then.
                    None => return Err(Resume { at: i, quoted }),
                    Some(&next) if next == self.dialect.quote => {
                        i += 2;
                        continue;
                    }
                    Some(_) => {}
                }
            }
            if b == self.dialect.quote {
                quoted = !quoted;
            } else if b == b'\n' && !quoted {
                return Ok(i);
            }
            i += 1;
        }
        Err(Resume { at: i, quoted })
    }

    /// Where a row error happened, as PostgreSQL's CONTEXT line puts it.
    fn context(&self, row: Option<&[u8]>) -> String {
        let line = self.rows + 1 + self.dialect.header as u64;
        match row {
            Some(row) => format!("COPY kv, line {line}: \"{}\"", String::from_utf8_lossy(row)),
            None => format!("COPY kv, line {line}"),
        }
    }

    fn error(&self, message: String, row: &[u8]) -> PgError {
        PgError::new(sqlstate::BAD_COPY_FILE_FORMAT, message).with_context(self.context(Some(row)))
    }

    fn row(&mut self, row: &[u8], txn: &mut PgTxn) -> Result<(), PgError> {
        let row = row.strip_suffix(b"\r").unwrap_or(row);
        if row == b"\\." {
            self.ended = true;
            return Ok(());
        }
        if self.skip_header {
            self.skip_header = false;
            return Ok(());
        }
        let fields = if self.dialect.csv {
            split_csv(row, &self.dialect)
        } else {
            split_text(row, &self.dialect)
        }
        .map_err(|message| self.error(message, row))?;
        if fields.len() != 2 {
            let message = if fields.len() < 2 {
                "missing data for column \"value\"".to_string()
            } else {
                "extra data after last expected column".to_string()
            };
            return Err(self.error(message, row));
        }
        let key = fields[self.key_at]
            .clone()
            .ok_or_else(|| not_null_violation("key", None).with_context(self.context(Some(row))))?;
        let value = fields[self.value_at].clone().ok_or_else(|| {
            not_null_violation("value", Some(&key)).with_context(self.context(Some(row)))
        })?;
        if txn.exists(&key)? {
            return Err(duplicate_key(&key).with_context(self.context(None)));
        }
        txn.write(
            &key,
            Write::Put {
                value,
                keep_ttl: false,
            },
        )?;
        self.rows += 1;
        Ok(())
    }
}

/// Where `CopyIn::scan` stopped in a partial row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Resume {
    at: usize,
    quoted: bool,
}

/// Text format: fields split on the delimiter, backslash escapes resolved,
/// the NULL string (as written, before unescaping) is NULL.
fn split_text(row: &[u8], dialect: &Dialect) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut fields = Vec::with_capacity(2);
    for raw in row.split(|&b| b == dialect.delimiter) {
        if raw == dialect.null.as_slice() {
            fields.push(None);
            continue;
        }
        let mut field = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] != b'\\' || i + 1 == raw.len() {
                field.push(raw[i]);
                i += 1;
                continue;
            }
            let c = raw[i + 1];
            i += 2;
            match c {
                b'b' => field.push(8),
                b'f' => field.push(12),
                b'n' => field.push(b'\n'),
                b'r' => field.push(b'\r'),
                b't' => field.push(b'\t'),
                b'v' => field.push(11),
                b'0'..=b'7' => {
                    let mut value = (c - b'0') as u32;
                    for _ in 0..2 {
                        match raw.get(i) {
                            Some(&d @ b'0'..=b'7') => {
                                value = value * 8 + (d - b'0') as u32;
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    field.push(value as u8);
                }
                b'x' if raw.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                    let mut value = 0u32;
                    for _ in 0..2 {
                        match raw.get(i).and_then(|d| (*d as char).to_digit(16)) {
                            Some(d) => {
                                value = value * 16 + d;
                                i += 1;
                            }
                            None => break,
                        }
                    }
                    field.push(value as u8);
                }
                other => field.push(other),
            }
        }
        fields.push(Some(field));
    }
    Ok(fields)
}

fn open_quote(row: &[u8], dialect: &Dialect) -> bool {
    row.iter().filter(|&&b| b == dialect.quote).count() % 2 == 1
}

/// CSV: quoted fields may hold delimiters, newlines and doubled quotes; an
/// unquoted field equal to the NULL string is NULL.
fn split_csv(row: &[u8], dialect: &Dialect) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut fields = Vec::with_capacity(2);
    let mut i = 0;
    loop {
        let mut field = Vec::new();
        let mut quoted_any = false;
        let mut in_quotes = false;
        while i < row.len() {
            let b = row[i];
            if in_quotes {
                if b == dialect.escape && row.get(i + 1) == Some(&dialect.quote) {
                    field.push(dialect.quote);
                    i += 2;
                    continue;
                }
                if b == dialect.quote {
                    in_quotes = false;
                } else {
                    field.push(b);
                }
            } else if b == dialect.quote {
                in_quotes = true;
                quoted_any = true;
            } else if b == dialect.delimiter {
                break;
            } else {
                field.push(b);
            }
            i += 1;
        }
        if in_quotes {
            return Err("unterminated CSV quoted field".into());
        }
        let is_null = !quoted_any && field == dialect.null;
        fields.push(if is_null { None } else { Some(field) });
        if i >= row.len() {
            return Ok(fields);
        }
        i += 1; // the delimiter
    }
}

/// Encodes rows for COPY TO.
pub struct CopyOutFormat {
    dialect: Dialect,
    pub columns: Vec<OutputColumn>,
}

impl CopyOutFormat {
    pub fn new(
        options: &CopyOptions,
        columns: Vec<OutputColumn>,
    ) -> Result<CopyOutFormat, PgError> {
        Ok(CopyOutFormat {
            dialect: Dialect::new(options)?,
            columns,
        })
    }

    /// The header line, if asked for.
    pub fn header(&self) -> Option<Vec<u8>> {
        if !self.dialect.header {
            return None;
        }
        let names: Vec<Vec<u8>> = super::fields(&self.columns)
            .into_iter()
            .map(|f| f.name.into_bytes())
            .collect();
        Some(self.line(names.iter().map(|n| Some(n.as_slice()))))
    }

    /// One row as a line.
    pub fn row(&self, key: &[u8], value: &[u8]) -> Vec<u8> {
        let cells: Vec<Vec<u8>> = self
            .columns
            .iter()
            .map(|column| {
                let (bytes, cast) = match column.expr {
                    ColumnExpr::Key(cast) => (key, cast),
                    ColumnExpr::Value(cast) => (value, cast),
                    ColumnExpr::ValueLength { octets } => {
                        let n = if octets {
                            value.len()
                        } else {
                            String::from_utf8_lossy(value).chars().count()
                        };
                        return n.to_string().into_bytes();
                    }
                    ColumnExpr::CountStar | ColumnExpr::Star => {
                        unreachable!("expanded row columns")
                    }
                };
                if cast == Some(SqlType::Bytea) {
                    let mut hex = Vec::new();
                    types::encode_bytea_hex(bytes, &mut hex);
                    hex
                } else {
                    bytes.to_vec()
                }
            })
            .collect();
        self.line(cells.iter().map(|c| Some(c.as_slice())))
    }

    /// A count(*) row.
    pub fn count_row(&self, count: i64) -> Vec<u8> {
        let text = count.to_string().into_bytes();
        self.line(self.columns.iter().map(|_| Some(text.as_slice())))
    }

    fn line<'a>(&self, cells: impl Iterator<Item = Option<&'a [u8]>>) -> Vec<u8> {
        let mut line = Vec::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                line.push(self.dialect.delimiter);
            }
            match cell {
                None => line.extend_from_slice(&self.dialect.null),
                Some(cell) if self.dialect.csv => self.csv_cell(cell, &mut line),
                Some(cell) => self.text_cell(cell, &mut line),
            }
        }
        line.push(b'\n');
        line
    }

    fn text_cell(&self, cell: &[u8], line: &mut Vec<u8>) {
        for &b in cell {
            match b {
                b'\\' => line.extend_from_slice(b"\\\\"),
                b'\n' => line.extend_from_slice(b"\\n"),
                b'\r' => line.extend_from_slice(b"\\r"),
                b'\t' => line.extend_from_slice(b"\\t"),
                8 => line.extend_from_slice(b"\\b"),
                12 => line.extend_from_slice(b"\\f"),
                11 => line.extend_from_slice(b"\\v"),
                d if d == self.dialect.delimiter => {
                    line.push(b'\\');
                    line.push(d);
                }
                other => line.push(other),
            }
        }
    }

    fn csv_cell(&self, cell: &[u8], line: &mut Vec<u8>) {
        let d = &self.dialect;
        let needs_quotes = cell == d.null.as_slice()
            || cell
                .iter()
                .any(|&b| b == d.delimiter || b == d.quote || b == b'\n' || b == b'\r')
            || cell.starts_with(b"\\.");
        if !needs_quotes {
            line.extend_from_slice(cell);
            return;
        }
        line.push(d.quote);
        for &b in cell {
            if b == d.quote || b == d.escape {
                line.push(d.escape);
            }
            line.push(b);
        }
        line.push(d.quote);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(format: CopyFormat) -> CopyOptions {
        CopyOptions {
            columns: vec![],
            format,
            delimiter: None,
            null: None,
            header: false,
            quote: None,
            escape: None,
        }
    }

    #[test]
    fn text_fields_unescape() {
        let dialect = Dialect::new(&options(CopyFormat::Text)).unwrap();
        assert_eq!(
            split_text(b"a\\tb\t\\N", &dialect).unwrap(),
            vec![Some(b"a\tb".to_vec()), None]
        );
        assert_eq!(
            split_text(b"\\101\\x42\\\\\tx", &dialect).unwrap(),
            vec![Some(b"AB\\".to_vec()), Some(b"x".to_vec())]
        );
    }

    #[test]
    fn csv_fields_unquote() {
        let dialect = Dialect::new(&options(CopyFormat::Csv)).unwrap();
        assert_eq!(
            split_csv(b"\"a,\"\"b\",", &dialect).unwrap(),
            vec![Some(b"a,\"b".to_vec()), None]
        );
        assert_eq!(
            split_csv(b"\"\",x", &dialect).unwrap(),
            vec![Some(vec![]), Some(b"x".to_vec())]
        );
        assert!(split_csv(b"\"open", &dialect).is_err());
    }

    /// A row's end is found the same however the data is split, an
    /// escaped quote at a chunk's edge included.
    #[test]
    fn row_end_search_resumes_across_chunks() {
        let mut csv = options(CopyFormat::Csv);
        csv.escape = Some(b'\\');
        for (options, data) in [
            (csv, &b"\"a\\\"\nb\",x\nrest"[..]),
            (options(CopyFormat::Text), &b"key\tvalue\nrest"[..]),
        ] {
            let copy = CopyIn::new(&options, 1024).unwrap();
            let end = copy.scan(data, Resume::default()).unwrap();
            assert_eq!(&data[end + 1..], b"rest");
            for split in 0..data.len() {
                match copy.scan(&data[..split], Resume::default()) {
                    Ok(found) => assert_eq!(found, end, "split at {split}"),
                    Err(resume) => {
                        assert_eq!(copy.scan(data, resume), Ok(end), "split at {split}")
                    }
                }
            }
        }
    }

    #[test]
    fn rows_encode_and_round_trip() {
        let columns = vec![
            OutputColumn {
                expr: ColumnExpr::Key(None),
                alias: None,
            },
            OutputColumn {
                expr: ColumnExpr::Value(None),
                alias: None,
            },
        ];
        let text = CopyOutFormat::new(&options(CopyFormat::Text), columns.clone()).unwrap();
        assert_eq!(text.row(b"k\t1", b"a\\b\n"), b"k\\t1\ta\\\\b\\n\n");
        let csv = CopyOutFormat::new(&options(CopyFormat::Csv), columns).unwrap();
        assert_eq!(csv.row(b"k", b""), b"k,\"\"\n");
        assert_eq!(
            csv.row(b"a,b", b"say \"hi\""),
            b"\"a,b\",\"say \"\"hi\"\"\"\n"
        );
        let dialect = Dialect::new(&options(CopyFormat::Csv)).unwrap();
        let line = csv.row(b"x\ny", b"q\"");
        assert_eq!(
            split_csv(&line[..line.len() - 1], &dialect).unwrap(),
            vec![Some(b"x\ny".to_vec()), Some(b"q\"".to_vec())]
        );
    }
}
