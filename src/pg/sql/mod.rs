//! The SQL that corewire runs over its one table, `kv (key text PRIMARY
//! KEY, value text)`, as a small AST.
//!
//! [`parse`] is the fast path: a hand-written lexer and recursive-descent
//! parser for exactly the statement shapes below, ~1 µs per statement. A
//! statement it does not recognise comes back as [`Statement::Other`], and
//! the caller hands the text to the general path (`sqlparser` plus the
//! catalog evaluator), which also produces the errors for unsupported SQL.

mod lexer;
mod parser;

pub use parser::{is_reserved_keyword, parse, Parsed};

/// Largest `$n` a statement may use (PostgreSQL's own limit).
pub const MAX_PARAMS: usize = 65_535;

/// A parse failure on the fast path: the statement looked like kv SQL but
/// is malformed. `position` is the 1-based character offset PostgreSQL
/// reports in ErrorResponse field `P`, when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub sqlstate: &'static str,
    pub message: String,
    pub position: Option<usize>,
}

/// One statement. A query string holds one or more, separated by `;`.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// Only whitespace and comments (PostgreSQL answers EmptyQueryResponse).
    Empty,
    Select(Select),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    /// `TRUNCATE [TABLE] kv`.
    Truncate,
    /// `BEGIN [WORK | TRANSACTION] [modes]`, `START TRANSACTION [modes]`.
    /// Isolation modes are accepted and ignored (the engine is serializable
    /// for point reads); `READ ONLY` is kept.
    Begin {
        read_only: bool,
    },
    /// `COMMIT`, `END` (`[WORK | TRANSACTION]`).
    Commit,
    /// `ROLLBACK`, `ABORT` (`[WORK | TRANSACTION]`).
    Rollback,
    /// `SAVEPOINT name`.
    Savepoint(String),
    /// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`.
    RollbackTo(String),
    /// `RELEASE [SAVEPOINT] name`.
    Release(String),
    /// `SET [SESSION | LOCAL] name { = | TO } value[, ...] | DEFAULT`,
    /// `SET TIME ZONE value`, `SET NAMES value`. `value` is `None` for
    /// DEFAULT; a list is joined with ", " as PostgreSQL does.
    Set {
        name: String,
        value: Option<String>,
        local: bool,
    },
    /// `SHOW name`, `SHOW ALL` (name "all").
    Show(String),
    /// `RESET name`, `RESET ALL` (`None`).
    Reset(Option<String>),
    /// `DISCARD ALL` (other DISCARD forms: `Discard(false)`).
    Discard {
        all: bool,
    },
    /// `CLOSE name` / `CLOSE ALL` (`None`): cursors; corewire has no SQL
    /// cursors, so only ALL succeeds.
    CloseCursor(Option<String>),
    /// `UNLISTEN *` / `UNLISTEN name`: nothing is ever listened to.
    Unlisten,
    /// `COPY kv [(key, value)] FROM STDIN [WITH] [(FORMAT text|csv, ...)]`.
    CopyFrom(CopyOptions),
    /// `COPY kv [(cols)] TO STDOUT ...` and `COPY (SELECT ...) TO STDOUT ...`
    /// where the inner SELECT is a kv [`Select`].
    CopyTo(CopyOptions, Option<Box<Select>>),
    /// `SELECT pg_sleep(seconds)`: parks the session (not the worker) until
    /// the deadline or a cancel.
    Sleep(Scalar),
    /// Anything else: the general path decides.
    Other,
}

/// A value in a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `$n` (1-based), with an optional `::type` cast.
    Param { index: usize, cast: Option<SqlType> },
    /// A string (`'...'`, `E'...'`, `$$...$$`) or number literal as written
    /// (numbers keep their text: `42`, `-1.5`), with an optional cast.
    /// Escapes are already resolved; `'\x0102'::bytea` is decoded by the
    /// executor, not here.
    Literal { text: String, cast: Option<SqlType> },
    /// `NULL`.
    Null,
}

/// The types a cast may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlType {
    /// text, varchar, character varying (char and name truncate: general path).
    Text,
    Bytea,
    /// int, integer, int4, int8, bigint, smallint, int2.
    Integer,
}

/// A result column of SELECT or RETURNING.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputColumn {
    pub expr: ColumnExpr,
    /// `AS alias` (or a bare alias); `None` uses PostgreSQL's default name:
    /// "key", "value", "count", or "value" for `value::bytea`.
    pub alias: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ColumnExpr {
    /// `*` (and `kv.*`): key, then value.
    Star,
    /// `key` / `kv.key` with an optional cast (`key::bytea`).
    Key(Option<SqlType>),
    /// `value` / `kv.value`, optionally cast.
    Value(Option<SqlType>),
    /// `count(*)` / `count(key)` / `count(1)`: int8.
    CountStar,
    /// `length(value)` / `octet_length(value)`: int4.
    ValueLength { octets: bool },
}

/// Which rows a statement touches.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyFilter {
    /// No WHERE clause.
    All,
    /// `key = s` (also `s = key`).
    Eq(Scalar),
    /// `key IN (s, ...)` (`key = ANY($1)` with an array is not: Other).
    In(Vec<Scalar>),
    /// `key LIKE pattern` (pattern: a Scalar, usually `'prefix%'`).
    Like(Scalar),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// No ORDER BY: engine order.
    None,
    KeyAsc,
    KeyDesc,
}

/// `SELECT cols FROM kv [WHERE filter] [ORDER BY key [ASC|DESC]]
/// [LIMIT n] [OFFSET n]`. `FROM kv` may be spelled `public.kv`, with an
/// alias (`kv AS t`, `kv t`; columns may then be qualified `t.key`).
/// `FOR UPDATE` / `FOR SHARE` are accepted and ignored (OCC validates reads
/// at commit anyway).
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    pub columns: Vec<OutputColumn>,
    pub filter: KeyFilter,
    pub order: Order,
    /// `LIMIT n` / `LIMIT $n` / `FETCH FIRST n ROWS ONLY`; `LIMIT ALL`: None.
    pub limit: Option<Scalar>,
    pub offset: Option<Scalar>,
}

/// What to do when an inserted key exists.
#[derive(Clone, Debug, PartialEq)]
pub enum OnConflict {
    /// No ON CONFLICT clause: a duplicate is error 23505.
    Error,
    /// `ON CONFLICT [(key)] DO NOTHING`.
    DoNothing,
    /// `ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`: `None`;
    /// `... SET value = s`: `Some(s)`.
    DoUpdate(Option<Scalar>),
}

/// `INSERT INTO kv [(key, value) | (value, key)] VALUES (s, s)[, ...]
/// [ON CONFLICT ...] [RETURNING cols]`. Rows are always (key, value) here:
/// the parser reorders for a `(value, key)` column list.
#[derive(Clone, Debug, PartialEq)]
pub struct Insert {
    pub rows: Vec<(Scalar, Scalar)>,
    pub on_conflict: OnConflict,
    pub returning: Vec<OutputColumn>,
}

/// `UPDATE kv SET value = s WHERE filter [RETURNING cols]` (filter is Eq or
/// In; All and Like are parsed too, the executor decides).
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub value: Scalar,
    pub filter: KeyFilter,
    pub returning: Vec<OutputColumn>,
}

/// `DELETE FROM kv WHERE filter [RETURNING cols]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    pub filter: KeyFilter,
    pub returning: Vec<OutputColumn>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyFormat {
    Text,
    Csv,
    Binary,
}

/// COPY options. Defaults follow PostgreSQL: text uses tab and `\N`; CSV
/// uses `,`, `""` quoting and the empty unquoted string for NULL.
#[derive(Clone, Debug, PartialEq)]
pub struct CopyOptions {
    /// Column order in the data: (key, value) unless a list says otherwise.
    /// The executor requires both for COPY FROM (value is NOT NULL).
    pub columns: Vec<CopyColumn>,
    pub format: CopyFormat,
    /// `DELIMITER 'c'`.
    pub delimiter: Option<u8>,
    /// `NULL 'text'`.
    pub null: Option<String>,
    /// `HEADER [true|false]` (CSV, and text since PostgreSQL 15).
    pub header: bool,
    /// `QUOTE 'c'` (CSV).
    pub quote: Option<u8>,
    /// `ESCAPE 'c'` (CSV).
    pub escape: Option<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyColumn {
    Key,
    Value,
}
