//! The general SQL path: statements the kv fast path does not recognise.
//!
//! Read-only queries are parsed with sqlparser, bound against an in-memory
//! copy of the catalogs that describes corewire's one table, kv, and
//! evaluated: constants and functions (`SELECT version()`), the
//! pg_catalog / information_schema queries psql, drivers and tools send,
//! with joins, subqueries, grouping and sorting. Everything else gets the
//! PostgreSQL error a client can act on: 42601 for syntax, 42P01 / 42703 /
//! 42883 for unknown names, 0A000 for statements corewire does not run.
//!
//! Layout: `bind` resolves names and types (sqlparser AST → `plan`;
//! `bind/expr` for expressions, `bind/pushdown` moves WHERE conditions to
//! the items they read), `exec` and `eval` run plans; `tables`, `columns`
//! and `procs` hold the catalog contents, `functions` the functions that
//! can be called, `types` and `numeric` values, casts and text output.
//!
//! Work is bounded: statements over 10,000 tokens or nested deeper than
//! 64 levels (10 for subqueries, 8 for function calls, whose parsing is
//! exponential in sqlparser) are refused before parsing, a join may
//! examine at most 1,000,000 row pairs, an intermediate result may hold at
//! most 2,000,000 values, and a statement may visit 5,000,000 rows, all
//! with SQLSTATE 54000. In release builds the deepest accepted statement
//! needs under 1 MB of stack.

// PgError, the crate's error type, is large; every fallible function here
// returns it, and boxing it would not pay on this path.
#![allow(clippy::result_large_err)]

mod bind;
mod columns;
mod eval;
mod exec;
mod functions;
mod numeric;
mod plan;
mod procs;
mod tables;
mod types;

pub(crate) use types::quote_ident;

#[cfg(test)]
mod tests;

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

use super::error::{sqlstate, PgError};
use bind::{output_type, Binder};
use exec::Env;

pub use functions::version_string;
pub use tables::{KV_OID, KV_PKEY_CONSTRAINT_OID, KV_PKEY_OID, PUBLIC_NAMESPACE};

/// The PostgreSQL version corewire reports (ParameterStatus
/// `server_version`, `version()`).
pub const SERVER_VERSION: &str = "15.0";
/// `server_version_num` for SERVER_VERSION.
pub const SERVER_VERSION_NUM: &str = "150000";

/// Statements longer than this many tokens are refused before parsing
/// (bounds parser work and the depth of the syntax tree).
const MAX_TOKENS: usize = 10_000;
/// sqlparser's own nesting limit (operator chains such as NOT NOT ...);
/// the binder then enforces `bind::MAX_DEPTH`.
const PARSER_RECURSION_LIMIT: usize = 70;
/// Parentheses / brackets may nest this deep...
const MAX_PAREN_DEPTH: usize = bind::MAX_DEPTH;
/// ...subqueries this deep: sqlparser spends ~50 KB of stack per subquery
/// level (more in debug builds), so this keeps the general path within
/// about 1 MB of stack...
const MAX_QUERY_NESTING: usize = 10;
/// ...and function calls this deep (their parse time doubles per level).
const MAX_CALL_NESTING: usize = 8;
/// Parse cost: each token counts 2^(function calls around it). ~0.4 µs a
/// unit, so this bounds parsing to tens of milliseconds.
const MAX_PARSE_COST: u64 = 100_000;

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
    /// CommandComplete tag, e.g. "SELECT 3"; empty for an empty statement
    /// (send EmptyQueryResponse).
    pub command_tag: String,
}

/// What a prepared statement looks like before it runs (for Describe).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Description {
    /// Type OIDs of $1, $2, ...: as declared by the client where it did,
    /// otherwise inferred from context (text when nothing says otherwise).
    pub params: Vec<u32>,
    pub columns: Vec<Column>,
}

/// Run-time parameters `pg_settings` lists when the session does not
/// override `SessionView::settings`.
pub const REPORTED_SETTINGS: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_isolation",
    "default_transaction_read_only",
    "extra_float_digits",
    "idle_in_transaction_session_timeout",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "lock_timeout",
    "max_identifier_length",
    "search_path",
    "server_encoding",
    "server_version",
    "server_version_num",
    "session_authorization",
    "standard_conforming_strings",
    "statement_timeout",
    "TimeZone",
    "transaction_isolation",
    "transaction_read_only",
];

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
    /// Every run-time parameter as (name, value), for `pg_settings`. The
    /// default asks `setting` for each of REPORTED_SETTINGS.
    fn settings(&self) -> Vec<(String, String)> {
        REPORTED_SETTINGS
            .iter()
            .filter_map(|n| self.setting(n).map(|v| (n.to_string(), v)))
            .collect()
    }
}

/// Runs one statement (already split; no trailing ';'). Params are
/// text-format values ($1 = params[0]; None = NULL).
pub fn execute(
    sql: &str,
    params: &[Option<String>],
    session: &mut dyn SessionView,
) -> Result<ResultSet, PgError> {
    execute_typed(sql, params, &[], session)
}

/// `execute` with the parameter types the client declared in Parse
/// (0 = unspecified), so `SELECT $1` with an int4 parameter is int4.
pub fn execute_typed(
    sql: &str,
    params: &[Option<String>],
    param_types: &[u32],
    session: &mut dyn SessionView,
) -> Result<ResultSet, PgError> {
    execute_inner(sql, params, param_types, session).map_err(|e| locate(e, sql))
}

fn execute_inner(
    sql: &str,
    params: &[Option<String>],
    param_types: &[u32],
    session: &mut dyn SessionView,
) -> Result<ResultSet, PgError> {
    let Some(statement) = parse(sql)? else {
        return Ok(ResultSet::default());
    };
    let query = query_only(&statement, sql)?;
    let mut binder = Binder::new(param_types, Some(params.len()), session.database());
    let plan = binder.bind_query(query)?;
    if binder.references_kv {
        return Err(kv_select_unsupported());
    }
    let env = Env::new(session, params, sql);
    let rows = exec::run_query(&plan, &env, None)?;
    let columns: Vec<Column> = plan
        .columns
        .iter()
        .map(|(name, ty)| Column {
            name: name.clone(),
            type_oid: output_type(*ty),
        })
        .collect();
    let rendered = rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&columns)
                .map(|(v, c)| types::output(v, c.type_oid, env.user()))
                .collect()
        })
        .collect::<Vec<_>>();
    Ok(ResultSet {
        command_tag: format!("SELECT {}", rendered.len()),
        columns,
        rows: rendered,
    })
}

/// Parameter and result types of a statement without running it (for
/// Parse/Describe); errors are those `execute` would report at bind time.
pub fn describe(
    sql: &str,
    param_types: &[u32],
    session: &dyn SessionView,
) -> Result<Description, PgError> {
    describe_inner(sql, param_types, session).map_err(|e| locate(e, sql))
}

/// Gives an unknown relation or column error the cursor position of the
/// name in the query, as PostgreSQL does (psql's `LINE 1: ... ^`).
fn locate(mut error: PgError, sql: &str) -> PgError {
    let named = matches!(
        error.code,
        sqlstate::UNDEFINED_TABLE | sqlstate::UNDEFINED_COLUMN | sqlstate::SYNTAX_ERROR
    );
    if !named || error.position.is_some() {
        return error;
    }
    let Some(name) = error.message.split('"').nth(1) else {
        return error;
    };
    // An empty name (`relation "" ...`) matches everywhere and would
    // never advance the search below.
    if name.is_empty() {
        return error;
    }
    let lower = sql.to_lowercase();
    if lower.len() != sql.len() {
        return error; // byte offsets would not line up
    }
    let needle = name.to_lowercase();
    let is_word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let at = from + found;
        let end = at + needle.len();
        let before = at.checked_sub(1).map(|i| lower.as_bytes()[i]);
        if !is_word(before) && !is_word(lower.as_bytes().get(end).copied()) {
            error.position = Some(sql[..at].chars().count() + 1);
            break;
        }
        from = end;
    }
    error
}

fn describe_inner(
    sql: &str,
    param_types: &[u32],
    session: &dyn SessionView,
) -> Result<Description, PgError> {
    let Some(statement) = parse(sql)? else {
        return Ok(Description::default());
    };
    let query = query_only(&statement, sql)?;
    let mut binder = Binder::new(param_types, None, session.database());
    let plan = binder.bind_query(query)?;
    if binder.references_kv {
        return Err(kv_select_unsupported());
    }
    Ok(Description {
        params: binder.param_types(),
        columns: plan
            .columns
            .iter()
            .map(|(name, ty)| Column {
                name: name.clone(),
                type_oid: output_type(*ty),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------
// Parsing and statement classification

/// Parses exactly one statement (None for an empty one).
fn parse(sql: &str) -> Result<Option<ast::Statement>, PgError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| syntax_error(&e.to_string(), sql, true))?;
    check_complexity(tokens.iter().map(|t| &t.token))?;
    let parsed = Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements();
    let mut statements = match parsed {
        Ok(s) => s,
        Err(e) => {
            // A command corewire does not run is 0A000 even if sqlparser
            // cannot read it (VACUUM options, CREATE variants, ...).
            if let Some(words) = leading_words(sql).filter(|w| !is_query_keyword(&w[0])) {
                if is_command_keyword(&words[0]) {
                    return Err(unsupported_statement(sql));
                }
            }
            return Err(match e {
                ParserError::RecursionLimitExceeded => PgError::new(
                    sqlstate::PROGRAM_LIMIT_EXCEEDED,
                    "statement is too deeply nested",
                ),
                ParserError::ParserError(m) => syntax_error(&m, sql, false),
                ParserError::TokenizerError(m) => syntax_error(&m, sql, true),
            });
        }
    };
    match statements.len() {
        0 => Ok(None),
        1 => Ok(statements.pop()),
        _ => Err(PgError::new(
            sqlstate::SYNTAX_ERROR,
            "cannot insert multiple commands into a prepared statement",
        )),
    }
}

/// Refuses, before parsing, statements whose syntax tree would be too big
/// or too deep for the parser (54000). sqlparser's recursion costs stack
/// per level, and it backtracks over nested function calls, which makes
/// their parse time exponential in the nesting depth: those are capped by
/// depth and by a cost that doubles with each level.
fn check_complexity<'t>(tokens: impl Iterator<Item = &'t Token>) -> Result<(), PgError> {
    let too_complex = |what: String| Err(PgError::new(sqlstate::PROGRAM_LIMIT_EXCEEDED, what));
    let (mut count, mut prefix_run, mut cost) = (0usize, 0usize, 0u64);
    // Open parentheses: whether each is a function call's.
    let mut parens: Vec<bool> = Vec::new();
    let mut calls = 0usize;
    // Paren depths at which an enclosing SELECT / VALUES starts.
    let mut queries: Vec<usize> = Vec::new();
    let mut previous: Option<&Token> = None;
    for token in tokens {
        if matches!(token, Token::Whitespace(_)) {
            continue;
        }
        // Runs of prefix operators (NOT NOT ..., - - ...) nest as well.
        let prefix = match token {
            Token::Word(w) => w.quote_style.is_none() && w.value.eq_ignore_ascii_case("NOT"),
            Token::Minus | Token::Plus | Token::Tilde => true,
            _ => false,
        };
        prefix_run = if prefix { prefix_run + 1 } else { 0 };
        if prefix_run > MAX_PAREN_DEPTH / 2 {
            return too_complex(format!(
                "statement nests more than {} prefix operators",
                MAX_PAREN_DEPTH / 2
            ));
        }
        match token {
            Token::LParen | Token::LBracket => {
                let call = matches!(token, Token::LParen)
                    && matches!(previous, Some(Token::Word(w)) if w.quote_style.is_some() || !is_structural_keyword(&w.value));
                parens.push(call);
                calls += call as usize;
                if parens.len() > MAX_PAREN_DEPTH {
                    return too_complex(format!(
                        "statement is nested more than {MAX_PAREN_DEPTH} levels deep"
                    ));
                }
                if calls > MAX_CALL_NESTING {
                    return too_complex(format!(
                        "function calls are nested more than {MAX_CALL_NESTING} levels deep"
                    ));
                }
            }
            Token::RParen | Token::RBracket => {
                if parens.pop() == Some(true) {
                    calls -= 1;
                }
                while queries.last().is_some_and(|&d| d > parens.len()) {
                    queries.pop();
                }
            }
            Token::Word(w)
                if w.quote_style.is_none()
                    && (w.value.eq_ignore_ascii_case("SELECT")
                        || w.value.eq_ignore_ascii_case("VALUES")) =>
            {
                if queries.last() != Some(&parens.len()) {
                    queries.push(parens.len());
                }
                if queries.len() > MAX_QUERY_NESTING {
                    return too_complex(format!(
                        "subqueries are nested more than {MAX_QUERY_NESTING} levels deep"
                    ));
                }
            }
            _ => {}
        }
        count += 1;
        cost += 1 << calls;
        if count > MAX_TOKENS || cost > MAX_PARSE_COST {
            return too_complex(format!(
                "statement is too long or too complex (the limit is {MAX_TOKENS} tokens)"
            ));
        }
        previous = Some(token);
    }
    Ok(())
}

/// Keywords after which a parenthesis groups rather than calls.
fn is_structural_keyword(word: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "ALL",
        "AND",
        "ANY",
        "ARRAY",
        "AS",
        "BETWEEN",
        "BY",
        "CASE",
        "COLLATE",
        "DISTINCT",
        "ELSE",
        "END",
        "ESCAPE",
        "EXCEPT",
        "EXISTS",
        "FILTER",
        "FROM",
        "HAVING",
        "ILIKE",
        "IN",
        "INTERSECT",
        "INTO",
        "IS",
        "JOIN",
        "LATERAL",
        "LIKE",
        "LIMIT",
        "NOT",
        "OFFSET",
        "ON",
        "ONLY",
        "OPERATOR",
        "OR",
        "OVER",
        "RETURNING",
        "SELECT",
        "SET",
        "SOME",
        "THEN",
        "UNION",
        "USING",
        "VALUES",
        "WHEN",
        "WHERE",
        "WITH",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// 42601 from sqlparser's "Expected: ..., found: X at Line: l, Column: c".
fn syntax_error(message: &str, sql: &str, tokenizer: bool) -> PgError {
    let (text, location) = match message.rfind(" at Line: ") {
        Some(i) => (&message[..i], Some(&message[i + " at Line: ".len()..])),
        None => (message, None),
    };
    let position = location.and_then(|loc| {
        let (line, column) = loc.split_once(", Column: ")?;
        char_offset(sql, line.trim().parse().ok()?, column.trim().parse().ok()?)
    });
    let found = text.rfind("found: ").map(|i| &text[i + "found: ".len()..]);
    let mut error = match found {
        Some("EOF") => PgError::new(sqlstate::SYNTAX_ERROR, "syntax error at end of input"),
        Some(token) => PgError::new(
            sqlstate::SYNTAX_ERROR,
            format!("syntax error at or near \"{token}\""),
        ),
        None if tokenizer => PgError::new(sqlstate::SYNTAX_ERROR, text.to_lowercase()),
        None => PgError::new(sqlstate::SYNTAX_ERROR, format!("syntax error: {text}")),
    };
    if found == Some("EOF") {
        error = error.with_position(sql.chars().count() + 1);
    } else if let Some(p) = position {
        error = error.with_position(p);
    }
    error
}

/// 1-based character offset of (line, column), both 1-based.
fn char_offset(sql: &str, line: usize, column: usize) -> Option<usize> {
    let mut offset = 0;
    for (i, text) in sql.split('\n').enumerate() {
        if i + 1 == line {
            return Some(offset + column);
        }
        offset += text.chars().count() + 1;
    }
    None
}

/// The statement's first words, upper-cased (comments skipped).
fn leading_words(sql: &str) -> Option<Vec<String>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().ok()?;
    let words: Vec<String> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .take(6)
        .map(|t| match t {
            Token::Word(w) => w.value.to_uppercase(),
            other => other.to_string(),
        })
        .collect();
    (!words.is_empty()).then_some(words)
}

fn is_query_keyword(word: &str) -> bool {
    matches!(word, "SELECT" | "WITH" | "VALUES" | "TABLE" | "(")
}

/// Commands PostgreSQL has that corewire answers with 0A000.
fn is_command_keyword(word: &str) -> bool {
    matches!(
        word,
        "CREATE"
            | "ALTER"
            | "DROP"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "MERGE"
            | "GRANT"
            | "REVOKE"
            | "VACUUM"
            | "ANALYZE"
            | "ANALYSE"
            | "CLUSTER"
            | "REINDEX"
            | "TRUNCATE"
            | "COPY"
            | "COMMENT"
            | "SECURITY"
            | "LOCK"
            | "LISTEN"
            | "NOTIFY"
            | "UNLISTEN"
            | "LOAD"
            | "REFRESH"
            | "CHECKPOINT"
            | "DISCARD"
            | "PREPARE"
            | "EXECUTE"
            | "DEALLOCATE"
            | "DO"
            | "CALL"
            | "IMPORT"
            | "REASSIGN"
            | "EXPLAIN"
            | "SET"
            | "SHOW"
            | "RESET"
            | "BEGIN"
            | "START"
            | "COMMIT"
            | "END"
            | "ROLLBACK"
            | "ABORT"
            | "SAVEPOINT"
            | "RELEASE"
            | "DECLARE"
            | "FETCH"
            | "MOVE"
            | "CLOSE"
    )
}

fn query_only<'s>(statement: &'s ast::Statement, sql: &str) -> Result<&'s ast::Query, PgError> {
    match statement {
        ast::Statement::Query(q) => Ok(q),
        _ => Err(unsupported_statement(sql)),
    }
}

/// The command's name as PostgreSQL's docs spell it: `CREATE TABLE`,
/// `DROP MATERIALIZED VIEW`, `VACUUM`.
fn statement_name(words: &[String]) -> String {
    let first = words[0].as_str();
    match first {
        "CREATE" | "ALTER" | "DROP" => {
            const MODIFIERS: &[&str] = &[
                "OR",
                "REPLACE",
                "UNIQUE",
                "TEMP",
                "TEMPORARY",
                "UNLOGGED",
                "GLOBAL",
                "LOCAL",
                "TRUSTED",
                "PROCEDURAL",
                "RECURSIVE",
                "CONSTRAINT",
            ];
            let mut rest = words[1..]
                .iter()
                .skip_while(|w| MODIFIERS.contains(&w.as_str()));
            let Some(object) = rest.next() else {
                return first.to_string();
            };
            let two_words = [
                "MATERIALIZED",
                "FOREIGN",
                "EVENT",
                "ACCESS",
                "TEXT",
                "OPERATOR",
                "DEFAULT",
            ];
            match rest.next() {
                Some(next) if two_words.contains(&object.as_str()) => {
                    format!("{first} {object} {next}")
                }
                Some(next) if object == "USER" && next == "MAPPING" => {
                    format!("{first} USER MAPPING")
                }
                _ => format!("{first} {object}"),
            }
        }
        "REFRESH" | "SECURITY" | "IMPORT" | "REASSIGN" if words.len() > 1 => {
            format!("{first} {}", words[1])
        }
        _ => first.to_string(),
    }
}

/// The table a DML / COPY statement names after `keyword`, as written
/// (lowercased unless quoted).
fn target_name(sql: &str, keyword: &str) -> Vec<String> {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else {
        return Vec::new();
    };
    let mut it = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .skip_while(|t| !matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(keyword)));
    it.next();
    // [ONLY] name [. name]
    let mut parts = Vec::new();
    let mut want_name = true;
    for t in it {
        match t {
            Token::Word(w) if w.value.eq_ignore_ascii_case("ONLY") && parts.is_empty() => {}
            Token::Word(w) if want_name => {
                parts.push(if w.quote_style.is_some() {
                    w.value.clone()
                } else {
                    w.value.to_lowercase()
                });
                want_name = false;
            }
            Token::Period if !want_name => want_name = true,
            _ => break,
        }
    }
    parts
}

/// Whether the DML / COPY statement's table is kv.
fn targets_kv(sql: &str, keyword: &str) -> bool {
    match target_name(sql, keyword).as_slice() {
        [name] => name == "kv",
        [schema, name] => schema == "public" && name == "kv",
        _ => false,
    }
}

/// 42P01 when a write names a table that does not exist (neither kv nor
/// a catalog relation), as PostgreSQL reports it.
fn missing_write_target(sql: &str, keyword: &str) -> Option<PgError> {
    let parts = target_name(sql, keyword);
    let (schema, name) = match parts.as_slice() {
        [name] => (None, name.as_str()),
        [schema, name] => (Some(schema.as_str()), name.as_str()),
        _ => return None,
    };
    if targets_kv(sql, keyword) || tables::find_table(schema, name).is_some() {
        return None;
    }
    Some(PgError::new(
        sqlstate::UNDEFINED_TABLE,
        format!("relation \"{}\" does not exist", parts.join(".")),
    ))
}

/// 0A000 for a statement corewire does not run, naming it; for kv, which
/// forms corewire does run.
fn unsupported_statement(sql: &str) -> PgError {
    let words = leading_words(sql).unwrap_or_else(|| vec!["this statement".to_string()]);
    let name = statement_name(&words);
    let missing = match name.as_str() {
        "INSERT" => missing_write_target(sql, "INTO"),
        "UPDATE" => missing_write_target(sql, "UPDATE"),
        "DELETE" => missing_write_target(sql, "FROM"),
        _ => None,
    };
    if let Some(error) = missing {
        return error;
    }
    let kv_forms = match name.as_str() {
        "INSERT" if targets_kv(sql, "INTO") => Some(KV_INSERT_FORMS),
        "UPDATE" if targets_kv(sql, "UPDATE") => Some(KV_UPDATE_FORMS),
        "DELETE" if targets_kv(sql, "FROM") => Some(KV_DELETE_FORMS),
        "COPY" if targets_kv(sql, "COPY") => Some(KV_COPY_FORMS),
        _ => None,
    };
    // Commands the kv fast path runs reach here only in forms it did not
    // recognise.
    let fast_path = [
        "SET",
        "SHOW",
        "RESET",
        "BEGIN",
        "START",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "SAVEPOINT",
        "RELEASE",
        "DISCARD",
        "CLOSE",
        "UNLISTEN",
        "TRUNCATE",
        "COPY",
    ];
    match kv_forms {
        Some(forms) => PgError::unsupported(format!(
            "this form of {name} on kv is not supported; corewire runs {forms}"
        )),
        None if fast_path.contains(&words[0].as_str()) => {
            PgError::unsupported(format!("this form of {name} is not supported by corewire"))
        }
        None if is_data_command(&words[0]) => PgError::unsupported(format!(
            "{name} is not supported: corewire serves the single table kv"
        )),
        None => PgError::unsupported(format!("{name} is not supported by corewire")),
    }
}

/// Commands that define, change or read/write stored data: corewire's
/// answer is that it holds just the table kv.
fn is_data_command(word: &str) -> bool {
    matches!(
        word,
        "CREATE"
            | "ALTER"
            | "DROP"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "MERGE"
            | "GRANT"
            | "REVOKE"
            | "VACUUM"
            | "ANALYZE"
            | "ANALYSE"
            | "CLUSTER"
            | "REINDEX"
            | "COMMENT"
            | "SECURITY"
            | "LOCK"
            | "REFRESH"
            | "IMPORT"
            | "REASSIGN"
            | "SELECT"
    )
}

const KV_SELECT_FORMS: &str = "SELECT key, value, *, count(*) or length(value) FROM kv \
     [WHERE key = ... | key IN (...) | key LIKE 'prefix%'] [ORDER BY key [ASC | DESC]] [LIMIT n] [OFFSET n]";
const KV_INSERT_FORMS: &str = "INSERT INTO kv [(key, value)] VALUES (...)[, ...] \
     [ON CONFLICT [(key)] DO NOTHING | DO UPDATE SET value = EXCLUDED.value] [RETURNING ...]";
const KV_UPDATE_FORMS: &str =
    "UPDATE kv SET value = ... WHERE key = ... | key IN (...) [RETURNING ...]";
const KV_DELETE_FORMS: &str = "DELETE FROM kv WHERE key = ... | key IN (...) [RETURNING ...]";
const KV_COPY_FORMS: &str =
    "COPY kv [(key, value)] FROM STDIN and COPY kv | (SELECT ...) TO STDOUT, text or csv";

/// A query over kv that the fast path did not take.
pub(crate) fn kv_select_unsupported() -> PgError {
    PgError::unsupported(format!(
        "this form of SELECT on kv is not supported; corewire runs {KV_SELECT_FORMS}"
    ))
}
