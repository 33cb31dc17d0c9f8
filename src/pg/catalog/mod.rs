//! The general SQL path: statements the kv fast path does not recognise.
//! (Interface only; the evaluator is being written.)

use super::error::PgError;

/// One result column: its name and PostgreSQL type OID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub type_oid: u32,
}

/// A fully computed result: rows of text-format values (`None` is NULL).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Option<String>>>,
    /// CommandComplete tag, e.g. "SELECT 3".
    pub command_tag: String,
}

/// What the evaluator may ask of the session that runs the query.
pub trait SessionView {
    /// A run-time parameter's current value (`current_setting`, SHOW), or
    /// `None` if unknown.
    fn setting(&self, name: &str) -> Option<String>;
    /// `set_config(name, value, is_local)`; returns the new value.
    fn set_setting(&mut self, name: &str, value: &str, is_local: bool) -> Result<String, PgError>;
    /// The session user (current_user, session_user).
    fn user(&self) -> &str;
    /// The database the client connected to (current_database()).
    fn database(&self) -> &str;
    /// BackendKeyData process id (pg_backend_pid()).
    fn backend_pid(&self) -> i32;
}

// TEMPORARY STUB added by the lead so the session compiles; the catalog
// helper replaces it with the real `execute` (delete this stub then).
pub fn execute(
    sql: &str,
    params: &[Option<String>],
    session: &mut dyn SessionView,
) -> Result<ResultSet, PgError> {
    let _ = (sql, params, session);
    Err(PgError::unsupported("the general SQL path is not ready"))
}
