//! PostgreSQL errors as the wire carries them: severity, SQLSTATE, message,
//! and the optional detail, hint and cursor position.

use std::fmt;

/// SQLSTATE codes corewire sends (PostgreSQL's errcodes.txt names).
pub mod sqlstate {
    pub const SUCCESSFUL_COMPLETION: &str = "00000";
    pub const WARNING: &str = "01000";
    pub const NO_ACTIVE_SQL_TRANSACTION: &str = "25P01";
    pub const ACTIVE_SQL_TRANSACTION: &str = "25001";
    pub const IN_FAILED_SQL_TRANSACTION: &str = "25P02";
    pub const READ_ONLY_SQL_TRANSACTION: &str = "25006";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const SYNTAX_ERROR: &str = "42601";
    pub const GROUPING_ERROR: &str = "42803";
    pub const CARDINALITY_VIOLATION: &str = "21000";
    pub const INVALID_ROW_COUNT_IN_LIMIT_CLAUSE: &str = "2201W";
    pub const INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE: &str = "2201X";
    pub const UNDEFINED_TABLE: &str = "42P01";
    pub const UNDEFINED_COLUMN: &str = "42703";
    pub const UNDEFINED_FUNCTION: &str = "42883";
    pub const UNDEFINED_OBJECT: &str = "42704";
    pub const DATATYPE_MISMATCH: &str = "42804";
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    pub const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    pub const INVALID_BINARY_REPRESENTATION: &str = "22P03";
    pub const NOT_NULL_VIOLATION: &str = "23502";
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    pub const INVALID_AUTHORIZATION_SPECIFICATION: &str = "28000";
    pub const INVALID_PASSWORD: &str = "28P01";
    pub const INVALID_CATALOG_NAME: &str = "3D000";
    pub const INVALID_SQL_STATEMENT_NAME: &str = "26000";
    pub const INVALID_CURSOR_NAME: &str = "34000";
    pub const DUPLICATE_PREPARED_STATEMENT: &str = "42P05";
    pub const DUPLICATE_CURSOR: &str = "42P03";
    pub const INVALID_SAVEPOINT_SPECIFICATION: &str = "3B001";
    pub const QUERY_CANCELED: &str = "57014";
    pub const ADMIN_SHUTDOWN: &str = "57P01";
    pub const CONNECTION_FAILURE: &str = "08006";
    pub const IDLE_SESSION_TIMEOUT: &str = "57P05";
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    pub const OUT_OF_MEMORY: &str = "53200";
    pub const INTERNAL_ERROR: &str = "XX000";
    pub const BAD_COPY_FILE_FORMAT: &str = "22P04";
    pub const INVALID_ESCAPE_SEQUENCE: &str = "22025";
    pub const CANT_CHANGE_RUNTIME_PARAM: &str = "55P02";
    pub const DISK_FULL: &str = "53100";
    pub const IO_ERROR: &str = "58030";
}

/// ErrorResponse / NoticeResponse severity (fields `S` and `V`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Fatal,
    Notice,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
            Severity::Notice => "NOTICE",
            Severity::Warning => "WARNING",
        }
    }
}

/// One error or notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgError {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// 1-based character offset into the query (field `P`).
    pub position: Option<usize>,
    /// Where it happened, e.g. `COPY kv, line 3` (field `W`).
    pub context: Option<String>,
    /// The object it concerns: schema, table, column and constraint names
    /// (fields `s`, `t`, `c`, `n`; drivers expose them, e.g. psycopg's
    /// `diag.constraint_name`).
    pub schema: Option<&'static str>,
    pub table: Option<&'static str>,
    pub column: Option<&'static str>,
    pub constraint: Option<&'static str>,
}

impl PgError {
    /// An engine failure other than a conflict: a write-ahead log that
    /// cannot be written is PostgreSQL's disk_full (ENOSPC) or io_error,
    /// anything else an internal error.
    pub fn engine(error: crate::engine::EngineError) -> PgError {
        match error {
            crate::engine::EngineError::LogFailed(errno) => PgError::new(
                if errno == libc::ENOSPC {
                    sqlstate::DISK_FULL
                } else {
                    sqlstate::IO_ERROR
                },
                error.to_string(),
            ),
            other => PgError::new(sqlstate::INTERNAL_ERROR, format!("engine: {other}")),
        }
    }

    pub fn new(code: &'static str, message: impl Into<String>) -> PgError {
        PgError {
            severity: Severity::Error,
            code,
            message: message.into(),
            detail: None,
            hint: None,
            position: None,
            context: None,
            schema: None,
            table: None,
            column: None,
            constraint: None,
        }
    }

    pub fn fatal(code: &'static str, message: impl Into<String>) -> PgError {
        PgError {
            severity: Severity::Fatal,
            ..PgError::new(code, message)
        }
    }

    pub fn notice(code: &'static str, message: impl Into<String>) -> PgError {
        PgError {
            severity: Severity::Notice,
            ..PgError::new(code, message)
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> PgError {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> PgError {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_context(mut self, context: impl Into<String>) -> PgError {
        self.context = Some(context.into());
        self
    }

    /// Names table kv (in schema public) and, if given, the column and
    /// constraint the error concerns.
    pub fn on_kv(
        mut self,
        column: Option<&'static str>,
        constraint: Option<&'static str>,
    ) -> PgError {
        self.schema = Some("public");
        self.table = Some("kv");
        self.column = column;
        self.constraint = constraint;
        self
    }

    pub fn with_position(mut self, position: usize) -> PgError {
        self.position = Some(position);
        self
    }

    /// 0A000 with a message that names what is supported.
    pub fn unsupported(what: impl Into<String>) -> PgError {
        PgError::new(sqlstate::FEATURE_NOT_SUPPORTED, what).with_hint(
            "corewire serves one table, kv (key text PRIMARY KEY, value text); see the README for the supported SQL",
        )
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.severity.as_str(),
            self.message,
            self.code
        )
    }
}
