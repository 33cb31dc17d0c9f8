//! The kv SQL fast-path parser (being written).
use std::ops::Range;

use super::{Statement, SyntaxError};

/// One statement of a query string.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub statement: Statement,
    /// Byte range of the statement in the query string, without its `;`.
    pub text: Range<usize>,
    /// Highest `$n` the statement uses (0: none).
    pub param_count: usize,
}

/// Splits `sql` into statements and parses each.
pub fn parse(sql: &str) -> Result<Vec<Parsed>, SyntaxError> {
    let _ = sql;
    Ok(vec![])
}
