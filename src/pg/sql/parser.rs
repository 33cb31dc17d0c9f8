//! The kv SQL fast path: splits a query string into statements and parses
//! the shapes corewire executes itself (see the AST in `super`) by
//! recursive descent over [`lexer`] tokens.
//!
//! A statement that is not one of those shapes is [`Statement::Other`] for
//! the general path. A [`SyntaxError`] comes back only for input PostgreSQL
//! rejects as a whole (lexical errors, unbalanced parentheses) or for a
//! statement that is clearly ours (kv DML, COPY kv, transaction and session
//! commands) but malformed.
use std::ops::Range;

use super::lexer::{self, Token, TokenKind};
use super::{
    ColumnExpr, CopyColumn, CopyFormat, CopyOptions, Delete, Insert, KeyFilter, OnConflict, Order,
    OutputColumn, Scalar, Select, SqlType, Statement, SyntaxError, Update,
};

/// Most rows in one VALUES list or items in one IN list.
const MAX_LIST_ITEMS: usize = 100_000;

/// Most parentheses around a WHERE predicate; deeper goes to the general
/// path. (The parser never recurses on parentheses, so this only bounds
/// what the fast path bothers with.)
const MAX_PAREN_DEPTH: usize = 64;

/// PostgreSQL's reserved keywords: never an identifier unless quoted.
const RESERVED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// PostgreSQL's type/function-name keywords: not a table alias or other
/// ColId either.
const TYPE_FUNC_NAME_KEYWORDS: &[&str] = &[
    "authorization",
    "binary",
    "collation",
    "concurrently",
    "cross",
    "current_schema",
    "freeze",
    "full",
    "ilike",
    "inner",
    "is",
    "isnull",
    "join",
    "left",
    "like",
    "natural",
    "notnull",
    "outer",
    "overlaps",
    "right",
    "similar",
    "tablesample",
    "verbose",
];

/// Keywords that cannot begin an expression: seeing one where a value must
/// start is a syntax error in any dialect of the statement.
const CLAUSE_KEYWORDS: &[&str] = &[
    "from",
    "where",
    "group",
    "having",
    "order",
    "limit",
    "offset",
    "fetch",
    "for",
    "into",
    "union",
    "intersect",
    "except",
    "returning",
    "and",
    "or",
    "as",
    "asc",
    "desc",
    "then",
    "else",
    "when",
    "end",
    "window",
    "using",
    "on",
    "to",
    "do",
];

fn listed(list: &[&str], word: &str) -> bool {
    list.iter()
        .any(|keyword| keyword.eq_ignore_ascii_case(word))
}

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
///
/// Statements end at `;` outside literals, comments and parentheses; empty
/// ones are dropped, but a string with no statement at all (only
/// whitespace, comments and `;`) yields one [`Statement::Empty`].
pub fn parse(sql: &str) -> Result<Vec<Parsed>, SyntaxError> {
    let mut tokens = Vec::with_capacity(sql.len() / 4 + 4);
    lexer::tokenize(sql, &mut tokens)?;
    let mut parsed = Vec::with_capacity(1);
    let mut depth = 0usize;
    let mut first_token = 0;
    let mut text_start = 0;
    for (index, &token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen if depth == 0 => return Err(lexer::syntax_error_at(sql, token)),
            TokenKind::RParen => depth -= 1,
            // Not a statement end, and no statement allows it there.
            TokenKind::Semicolon if depth > 0 => return Err(lexer::syntax_error_at(sql, token)),
            TokenKind::Semicolon => {
                let text = text_start..token.start as usize;
                parse_statement(sql, &tokens, first_token..index, text, &mut parsed)?;
                first_token = index + 1;
                text_start = token.end as usize;
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err(lexer::syntax_error_at_end(sql));
    }
    let text = text_start..sql.len();
    parse_statement(sql, &tokens, first_token..tokens.len(), text, &mut parsed)?;
    if parsed.is_empty() {
        // Any tokens left are all `;`: the text is what precedes the first.
        let first_end = tokens
            .first()
            .map_or(sql.len(), |token| token.start as usize);
        parsed.push(Parsed {
            statement: Statement::Empty,
            text: trim(sql, 0..first_end),
            param_count: 0,
        });
    }
    Ok(parsed)
}

fn parse_statement(
    sql: &str,
    tokens: &[Token],
    range: Range<usize>,
    text: Range<usize>,
    parsed: &mut Vec<Parsed>,
) -> Result<(), SyntaxError> {
    if range.is_empty() {
        return Ok(());
    }
    let param_count = tokens[range.clone()]
        .iter()
        .map(|token| match token.kind {
            TokenKind::Param(index) => index as usize,
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    let mut parser = Parser {
        sql,
        tokens,
        pos: range.start,
        end: range.end,
        committed: false,
    };
    let statement = match parser.statement() {
        Ok(statement) => statement,
        Err(Fail::Other) => Statement::Other,
        Err(Fail::Error(error)) => return Err(error),
    };
    parsed.push(Parsed {
        statement,
        text: trim(sql, text),
        param_count,
    });
    Ok(())
}

fn trim(sql: &str, range: Range<usize>) -> Range<usize> {
    let bytes = sql.as_bytes();
    let (mut start, mut end) = (range.start, range.end);
    while start < end && lexer::is_space(bytes[start]) {
        start += 1;
    }
    while end > start && lexer::is_space(bytes[end - 1]) {
        end -= 1;
    }
    start..end
}

/// Why a parse step gave up.
enum Fail {
    /// Not a shape the fast path handles: the general path decides.
    Other,
    Error(SyntaxError),
}

impl From<SyntaxError> for Fail {
    fn from(error: SyntaxError) -> Self {
        Fail::Error(error)
    }
}

type Step<T> = Result<T, Fail>;

/// How the statement names the kv table, for qualified column references.
#[derive(Clone, Copy)]
struct TableRef {
    alias: Option<Token>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColumnName {
    Key,
    Value,
    /// `kv.*`.
    Star,
}

struct Parser<'a> {
    sql: &'a str,
    /// All tokens of the query string; the statement is `pos..end`, and
    /// `tokens[end]` (if any) is what ended it: `;`, or `)` for COPY's query.
    tokens: &'a [Token],
    pos: usize,
    end: usize,
    /// Set once the statement is known to be ours: from then on malformed
    /// input is a syntax error rather than `Other`.
    committed: bool,
}

impl<'a> Parser<'a> {
    // ---- token access ----

    fn peek(&self) -> Option<Token> {
        self.token_at(self.pos)
    }

    fn token_at(&self, index: usize) -> Option<Token> {
        (index < self.end).then(|| self.tokens[index])
    }

    fn kind_at(&self, offset: usize) -> Option<TokenKind> {
        self.token_at(self.pos + offset).map(|token| token.kind)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    fn advance(&mut self) {
        self.pos += 1;
    }

    fn text(&self, token: Token) -> &'a str {
        token.text(self.sql)
    }

    fn is_keyword(&self, token: Token, keyword: &str) -> bool {
        token.kind == TokenKind::Ident && self.text(token).eq_ignore_ascii_case(keyword)
    }

    fn keyword_at(&self, offset: usize, keyword: &str) -> bool {
        self.token_at(self.pos + offset)
            .is_some_and(|token| self.is_keyword(token, keyword))
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.keyword_at(0, keyword)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.at_keyword(keyword);
        if found {
            self.advance();
        }
        found
    }

    fn at_kind(&self, kind: TokenKind) -> bool {
        self.kind_at(0) == Some(kind)
    }

    fn eat_kind(&mut self, kind: TokenKind) -> bool {
        let found = self.at_kind(kind);
        if found {
            self.advance();
        }
        found
    }

    fn operator_at(&self, offset: usize, operator: &str) -> bool {
        self.token_at(self.pos + offset)
            .is_some_and(|token| token.kind == TokenKind::Operator && self.text(token) == operator)
    }

    fn eat_operator(&mut self, operator: &str) -> bool {
        let found = self.operator_at(0, operator);
        if found {
            self.advance();
        }
        found
    }

    fn names(&self, token: Token, lower: &str) -> bool {
        lexer::names(self.sql, token, lower)
    }

    /// An identifier PostgreSQL accepts as a ColId (alias, savepoint...).
    fn is_col_id(&self, token: Token) -> bool {
        match token.kind {
            TokenKind::QuotedIdent => true,
            TokenKind::Ident => {
                let word = self.text(token);
                !listed(RESERVED_KEYWORDS, word) && !listed(TYPE_FUNC_NAME_KEYWORDS, word)
            }
            _ => false,
        }
    }

    // ---- failures ----

    /// The current token (or the end) cannot be here: a syntax error once
    /// the statement is ours.
    fn unexpected(&self) -> Fail {
        if !self.committed {
            return Fail::Other;
        }
        Fail::Error(
            match self.peek().or_else(|| self.tokens.get(self.end).copied()) {
                Some(token) => lexer::syntax_error_at(self.sql, token),
                None => lexer::syntax_error_at_end(self.sql),
            },
        )
    }

    /// The fast path does not handle what follows; a premature end is
    /// still a syntax error.
    fn mismatch(&self) -> Fail {
        if self.at_end() {
            self.unexpected()
        } else {
            Fail::Other
        }
    }

    fn cannot_start_expression(&self, token: Token) -> bool {
        match token.kind {
            TokenKind::RParen
            | TokenKind::RBracket
            | TokenKind::Comma
            | TokenKind::Semicolon
            | TokenKind::Dot
            | TokenKind::Typecast => true,
            TokenKind::Ident => listed(CLAUSE_KEYWORDS, self.text(token)),
            _ => false,
        }
    }

    /// Where an expression must start but the fast path has none.
    fn expression_expected(&self) -> Fail {
        match self.peek() {
            Some(token) if !self.cannot_start_expression(token) => Fail::Other,
            _ => self.unexpected(),
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> Step<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect_kind(&mut self, kind: TokenKind) -> Step<()> {
        if self.eat_kind(kind) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// End of a command whose grammar is closed (BEGIN, SET...).
    fn expect_end(&self) -> Step<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// End of a kv statement: anything more is SQL the fast path lacks.
    fn finish(&self) -> Step<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(Fail::Other)
        }
    }

    fn limit_error(&self, what: &str) -> Fail {
        let byte = self
            .peek()
            .map_or(self.sql.len(), |token| token.start as usize);
        Fail::Error(SyntaxError {
            sqlstate: "54000",
            message: format!("{what} can have at most {MAX_LIST_ITEMS} entries"),
            position: Some(lexer::position(self.sql, byte)),
        })
    }

    // ---- statements ----

    fn statement(&mut self) -> Step<Statement> {
        let Some(first) = self.peek().filter(|token| token.kind == TokenKind::Ident) else {
            return Err(Fail::Other);
        };
        let word = self.text(first);
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword);
        if is("select") {
            return self.select();
        }
        if is("insert") {
            return self.insert();
        }
        if is("update") {
            return self.update();
        }
        if is("delete") {
            return self.delete();
        }
        if is("copy") {
            return self.copy();
        }
        if is("truncate") {
            return self.truncate();
        }
        // Transaction and session commands are ours from their first word.
        self.committed = true;
        if is("begin") {
            return self.begin();
        }
        if is("start") {
            return self.start_transaction();
        }
        if is("commit") || is("end") {
            return self.commit();
        }
        if is("rollback") || is("abort") {
            return self.rollback();
        }
        if is("savepoint") {
            self.advance();
            let name = self.col_id()?;
            self.expect_end()?;
            return Ok(Statement::Savepoint(name));
        }
        if is("release") {
            self.advance();
            self.savepoint_keyword();
            let name = self.col_id()?;
            self.expect_end()?;
            return Ok(Statement::Release(name));
        }
        if is("set") {
            return self.set();
        }
        if is("show") {
            return self.show();
        }
        if is("reset") {
            return self.reset();
        }
        if is("discard") {
            return self.discard();
        }
        if is("close") {
            self.advance();
            let cursor = if self.eat_keyword("all") {
                None
            } else {
                Some(self.col_id()?)
            };
            self.expect_end()?;
            return Ok(Statement::CloseCursor(cursor));
        }
        if is("unlisten") {
            self.advance();
            if !self.eat_operator("*") {
                self.col_id()?;
            }
            self.expect_end()?;
            return Ok(Statement::Unlisten);
        }
        Err(Fail::Other)
    }

    // ---- SELECT ----

    fn select(&mut self) -> Step<Statement> {
        self.advance();
        if self.at_keyword("pg_sleep") {
            return self.sleep();
        }
        let from = self.top_level_from().ok_or(Fail::Other)?;
        if from == self.pos {
            // `SELECT FROM kv`: zero columns.
            return Err(Fail::Other);
        }
        // Read FROM first: it decides whether the statement is ours and
        // which qualifiers the columns may use.
        let columns_start = self.pos;
        self.pos = from + 1;
        self.kv_table()?;
        let table = TableRef {
            alias: self.table_alias(&[])?,
        };
        let clauses_start = self.pos;
        self.pos = columns_start;
        let columns = self.output_columns(table, true)?;
        if self.pos != from {
            return Err(Fail::Other);
        }
        self.pos = clauses_start;

        let filter = if self.eat_keyword("where") {
            self.filter(table)?
        } else {
            KeyFilter::All
        };
        let order = self.order_by(table, &columns)?;
        let mut limit = None;
        let mut limit_seen = false;
        let mut offset = None;
        let mut offset_seen = false;
        let mut locking = false;
        loop {
            if self.eat_keyword("limit") {
                if limit_seen {
                    return Err(Fail::Other);
                }
                limit_seen = true;
                limit = if self.eat_keyword("all") {
                    None
                } else {
                    self.row_count()?
                };
            } else if self.eat_keyword("offset") {
                if offset_seen {
                    return Err(Fail::Other);
                }
                offset_seen = true;
                offset = self.row_count()?;
                let _ = self.eat_keyword("row") || self.eat_keyword("rows");
            } else if self.eat_keyword("fetch") {
                if limit_seen {
                    return Err(Fail::Other);
                }
                limit_seen = true;
                if !(self.eat_keyword("first") || self.eat_keyword("next")) {
                    return Err(self.unexpected());
                }
                limit = if self.at_keyword("row") || self.at_keyword("rows") {
                    Some(Scalar::Literal {
                        text: "1".to_owned(),
                        cast: None,
                    })
                } else {
                    self.row_count()?
                };
                if !(self.eat_keyword("row") || self.eat_keyword("rows")) {
                    return Err(self.mismatch());
                }
                if !self.eat_keyword("only") {
                    // WITH TIES
                    return Err(self.mismatch());
                }
            } else if self.eat_keyword("for") {
                if locking {
                    return Err(Fail::Other);
                }
                locking = true;
                let strength = if self.eat_keyword("no") {
                    self.eat_keyword("key") && self.eat_keyword("update")
                } else if self.eat_keyword("key") {
                    self.eat_keyword("share")
                } else {
                    self.eat_keyword("update") || self.eat_keyword("share")
                };
                if !strength {
                    return Err(self.mismatch());
                }
            } else {
                break;
            }
        }
        self.finish()?;

        // count(*) beside plain columns, ORDER BY key or FOR UPDATE is a
        // grouping error the general path reports.
        let aggregate = columns
            .iter()
            .any(|column| column.expr == ColumnExpr::CountStar);
        if aggregate
            && (order != Order::None
                || locking
                || columns
                    .iter()
                    .any(|column| column.expr != ColumnExpr::CountStar))
        {
            return Err(Fail::Other);
        }
        Ok(Statement::Select(Select {
            columns,
            filter,
            order,
            limit,
            offset,
        }))
    }

    /// `SELECT pg_sleep(s)` and nothing else.
    fn sleep(&mut self) -> Step<Statement> {
        self.advance();
        if !self.eat_kind(TokenKind::LParen) {
            return Err(Fail::Other);
        }
        let seconds = self.scalar()?;
        if !self.eat_kind(TokenKind::RParen) || !self.at_end() {
            return Err(Fail::Other);
        }
        Ok(Statement::Sleep(seconds))
    }

    /// The first FROM outside parentheses (and not an `AS from` alias).
    fn top_level_from(&self) -> Option<usize> {
        let mut depth = 0usize;
        let mut index = self.pos;
        while index < self.end {
            let token = self.tokens[index];
            match token.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => depth = depth.saturating_sub(1),
                TokenKind::Ident if depth == 0 => {
                    if self.is_keyword(token, "from") {
                        return Some(index);
                    }
                    if self.is_keyword(token, "as") {
                        index += 1;
                    }
                }
                _ => {}
            }
            index += 1;
        }
        None
    }

    /// LIMIT / OFFSET / FETCH count; NULL means no limit.
    fn row_count(&mut self) -> Step<Option<Scalar>> {
        Ok(match self.scalar()? {
            Scalar::Null => None,
            count => Some(count),
        })
    }

    fn order_by(&mut self, table: TableRef, columns: &[OutputColumn]) -> Step<Order> {
        if !self.eat_keyword("order") {
            return Ok(Order::None);
        }
        self.expect_keyword("by")?;
        let Some((ColumnName::Key, len)) = self.peek_column(table) else {
            return Err(self.expression_expected());
        };
        // A bare name sorts by the output column of that name first.
        let shadowed = len == 1
            && columns.iter().any(|column| {
                let named_key = match &column.alias {
                    Some(alias) => alias == "key",
                    None => matches!(column.expr, ColumnExpr::Key(_)),
                };
                named_key && column.expr != ColumnExpr::Key(None)
            });
        if shadowed {
            return Err(Fail::Other);
        }
        self.pos += len;
        if self.eat_keyword("desc") {
            Ok(Order::KeyDesc)
        } else {
            self.eat_keyword("asc");
            Ok(Order::KeyAsc)
        }
    }

    // ---- INSERT / UPDATE / DELETE / TRUNCATE ----

    fn insert(&mut self) -> Step<Statement> {
        self.advance();
        if !self.eat_keyword("into") {
            return Err(Fail::Other);
        }
        self.kv_table()?;
        let alias = if self.eat_keyword("as") {
            match self.peek() {
                Some(token) if self.is_col_id(token) => {
                    self.advance();
                    Some(token)
                }
                _ => return Err(self.unexpected()),
            }
        } else {
            None
        };
        let table = TableRef { alias };
        let mut value_first = false;
        if self.eat_kind(TokenKind::LParen) {
            let first = self.insert_column()?;
            if !self.eat_kind(TokenKind::Comma) {
                // `(key)` alone leaves value NULL: the general path errors.
                return Err(self.mismatch());
            }
            let second = self.insert_column()?;
            if !self.eat_kind(TokenKind::RParen) {
                return Err(self.mismatch());
            }
            match (first, second) {
                (ColumnName::Key, ColumnName::Value) => {}
                (ColumnName::Value, ColumnName::Key) => value_first = true,
                _ => return Err(Fail::Other),
            }
        }
        if !self.eat_keyword("values") {
            let other_source = ["default", "select", "with", "overriding", "table"]
                .iter()
                .any(|keyword| self.at_keyword(keyword))
                || self.at_kind(TokenKind::LParen);
            return Err(if other_source {
                Fail::Other
            } else {
                self.unexpected()
            });
        }
        let mut rows = Vec::with_capacity(1);
        loop {
            if rows.len() == MAX_LIST_ITEMS {
                return Err(self.limit_error("VALUES lists"));
            }
            self.expect_kind(TokenKind::LParen)?;
            let first = self.scalar()?;
            if !self.eat_kind(TokenKind::Comma) {
                return Err(self.mismatch());
            }
            let second = self.scalar()?;
            if !self.eat_kind(TokenKind::RParen) {
                return Err(self.mismatch());
            }
            rows.push(if value_first {
                (second, first)
            } else {
                (first, second)
            });
            if !self.eat_kind(TokenKind::Comma) {
                break;
            }
        }
        let on_conflict = self.on_conflict()?;
        let returning = self.returning(table)?;
        self.finish()?;
        Ok(Statement::Insert(Insert {
            rows,
            on_conflict,
            returning,
        }))
    }

    /// A column of INSERT's column list.
    fn insert_column(&mut self) -> Step<ColumnName> {
        let Some(token) = self.peek().filter(|token| token.is_name()) else {
            return Err(self.unexpected());
        };
        self.advance();
        if self.names(token, "key") {
            Ok(ColumnName::Key)
        } else if self.names(token, "value") {
            Ok(ColumnName::Value)
        } else {
            Err(Fail::Other)
        }
    }

    fn on_conflict(&mut self) -> Step<OnConflict> {
        if !self.eat_keyword("on") {
            return Ok(OnConflict::Error);
        }
        self.expect_keyword("conflict")?;
        let mut has_target = false;
        if self.eat_kind(TokenKind::LParen) {
            match self.peek() {
                Some(token) if token.is_name() && self.names(token, "key") => self.advance(),
                _ => return Err(self.expression_expected()),
            }
            if !self.eat_kind(TokenKind::RParen) {
                return Err(self.mismatch());
            }
            has_target = true;
        } else if self.at_keyword("on") {
            // ON CONSTRAINT name
            return Err(Fail::Other);
        }
        if self.at_keyword("where") {
            return Err(Fail::Other);
        }
        self.expect_keyword("do")?;
        if self.eat_keyword("nothing") {
            return Ok(OnConflict::DoNothing);
        }
        self.expect_keyword("update")?;
        if !has_target {
            // PostgreSQL requires an inference target here.
            return Err(Fail::Other);
        }
        self.expect_keyword("set")?;
        self.assigned_value_column()?;
        if self.at_kind(TokenKind::Dot) && false {
            unreachable!();
        }
        let excluded = self
            .peek()
            .is_some_and(|token| self.names(token, "excluded"))
            && self.kind_at(1) == Some(TokenKind::Dot)
            && self
                .token_at(self.pos + 2)
                .is_some_and(|token| self.names(token, "value"));
        let value = if excluded {
            self.pos += 3;
            None
        } else {
            Some(self.scalar()?)
        };
        Ok(OnConflict::DoUpdate(value))
    }

    /// `value =` of an UPDATE or ON CONFLICT SET clause.
    fn assigned_value_column(&mut self) -> Step<()> {
        match self.peek() {
            Some(token) if token.is_name() => {
                if !self.names(token, "value") {
                    return Err(Fail::Other);
                }
                self.advance();
            }
            Some(token) if token.kind == TokenKind::LParen => return Err(Fail::Other),
            _ => return Err(self.unexpected()),
        }
        if self.eat_operator("=") {
            return Ok(());
        }
        if self.at_kind(TokenKind::Dot) || self.at_kind(TokenKind::LBracket) {
            return Err(Fail::Other);
        }
        Err(self.unexpected())
    }

    fn returning(&mut self, table: TableRef) -> Step<Vec<OutputColumn>> {
        if self.eat_keyword("returning") {
            self.output_columns(table, false)
        } else {
            Ok(Vec::new())
        }
    }

    fn update(&mut self) -> Step<Statement> {
        self.advance();
        self.kv_table()?;
        let table = TableRef {
            alias: self.table_alias(&["set"])?,
        };
        self.expect_keyword("set")?;
        self.assigned_value_column()?;
        let value = self.scalar()?;
        let filter = if self.eat_keyword("where") {
            self.filter(table)?
        } else {
            KeyFilter::All
        };
        let returning = self.returning(table)?;
        self.finish()?;
        Ok(Statement::Update(Update {
            value,
            filter,
            returning,
        }))
    }

    fn delete(&mut self) -> Step<Statement> {
        self.advance();
        if !self.eat_keyword("from") {
            return Err(Fail::Other);
        }
        self.kv_table()?;
        let table = TableRef {
            alias: self.table_alias(&[])?,
        };
        let filter = if self.eat_keyword("where") {
            self.filter(table)?
        } else {
            KeyFilter::All
        };
        let returning = self.returning(table)?;
        self.finish()?;
        Ok(Statement::Delete(Delete { filter, returning }))
    }

    fn truncate(&mut self) -> Step<Statement> {
        self.advance();
        self.eat_keyword("table");
        self.kv_table()?;
        self.finish()?;
        Ok(Statement::Truncate)
    }

    // ---- shared pieces of kv statements ----

    /// `kv`, `public.kv` (either part may be quoted). Anything else is not
    /// ours; on success the statement is.
    fn kv_table(&mut self) -> Step<()> {
        let Some(first) = self.peek().filter(|token| token.is_name()) else {
            return Err(Fail::Other);
        };
        let len = if self.kind_at(1) == Some(TokenKind::Dot) {
            let Some(second) = self.token_at(self.pos + 2).filter(|token| token.is_name()) else {
                return Err(Fail::Other);
            };
            if !self.names(first, "public")
                || !self.names(second, "kv")
                || self.kind_at(3) == Some(TokenKind::Dot)
            {
                return Err(Fail::Other);
            }
            3
        } else if self.names(first, "kv") {
            1
        } else {
            return Err(Fail::Other);
        };
        self.pos += len;
        self.committed = true;
        Ok(())
    }

    /// `[AS] alias` after the table; `not_alias` lists unreserved words
    /// that continue the statement instead (UPDATE's SET).
    fn table_alias(&mut self, not_alias: &[&str]) -> Step<Option<Token>> {
        let Some(token) = self.peek() else {
            return Ok(None);
        };
        let alias = if self.is_keyword(token, "as") {
            self.advance();
            match self.peek() {
                Some(alias) if self.is_col_id(alias) => alias,
                _ => return Err(self.unexpected()),
            }
        } else if self.is_col_id(token)
            && !(token.kind == TokenKind::Ident && listed(not_alias, self.text(token)))
        {
            token
        } else {
            return Ok(None);
        };
        self.advance();
        if self.at_kind(TokenKind::LParen) {
            // Column aliases: `kv AS t(k, v)`.
            return Err(Fail::Other);
        }
        Ok(Some(alias))
    }

    /// Looks at a column reference without consuming it: `key`, `value`,
    /// `t.key`, `public.kv.value`, `kv.*`. Returns the column and its
    /// length in tokens, or None if it is not a kv column as the statement
    /// names the table.
    fn peek_column(&self, table: TableRef) -> Option<(ColumnName, usize)> {
        let mut qualifiers = [None; 2];
        let mut qualifier_count = 0;
        let mut index = self.pos;
        loop {
            let token = self.token_at(index)?;
            if token.kind == TokenKind::Operator && self.text(token) == "*" && qualifier_count > 0 {
                return self
                    .qualifier_matches(table, &qualifiers[..qualifier_count])
                    .then_some((ColumnName::Star, index + 1 - self.pos));
            }
            if !token.is_name() {
                return None;
            }
            if self.token_at(index + 1)?.kind == TokenKind::Dot {
                if qualifier_count == qualifiers.len() {
                    return None;
                }
                qualifiers[qualifier_count] = Some(token);
                qualifier_count += 1;
                index += 2;
                continue;
            }
            let column = if self.names(token, "key") {
                ColumnName::Key
            } else if self.names(token, "value") {
                ColumnName::Value
            } else {
                return None;
            };
            return self
                .qualifier_matches(table, &qualifiers[..qualifier_count])
                .then_some((column, index + 1 - self.pos));
        }
    }

    fn qualifier_matches(&self, table: TableRef, qualifiers: &[Option<Token>]) -> bool {
        match (qualifiers, table.alias) {
            ([], _) => true,
            // With an alias, only the alias names the table.
            ([Some(name)], Some(alias)) => {
                lexer::identifier(self.sql, *name) == lexer::identifier(self.sql, alias)
            }
            ([Some(name)], None) => self.names(*name, "kv"),
            ([Some(schema), Some(name)], None) => {
                self.names(*schema, "public") && self.names(*name, "kv")
            }
            _ => false,
        }
    }

    fn output_columns(&mut self, table: TableRef, aggregates: bool) -> Step<Vec<OutputColumn>> {
        let mut columns = Vec::with_capacity(2);
        loop {
            columns.push(self.output_column(table, aggregates)?);
            if !self.eat_kind(TokenKind::Comma) {
                return Ok(columns);
            }
        }
    }

    fn output_column(&mut self, table: TableRef, aggregates: bool) -> Step<OutputColumn> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let expr = if self.operator_at(0, "*") {
            self.advance();
            ColumnExpr::Star
        } else if let Some((column, len)) = self.peek_column(table) {
            self.pos += len;
            match column {
                ColumnName::Star => ColumnExpr::Star,
                ColumnName::Key => ColumnExpr::Key(self.cast()?),
                ColumnName::Value => ColumnExpr::Value(self.cast()?),
            }
        } else if token.kind == TokenKind::Ident && self.kind_at(1) == Some(TokenKind::LParen) {
            self.column_function(token, table, aggregates)?
        } else {
            return Err(self.expression_expected());
        };
        let alias = self.output_alias()?;
        Ok(OutputColumn { expr, alias })
    }

    /// `count(*)`, `count(key)`, `count(1)`, `length(value)`,
    /// `octet_length(value)`, `CAST(column AS type)`.
    fn column_function(
        &mut self,
        name: Token,
        table: TableRef,
        aggregates: bool,
    ) -> Step<ColumnExpr> {
        let word = self.text(name);
        self.pos += 2;
        let expr = if word.eq_ignore_ascii_case("count") && aggregates {
            if self.operator_at(0, "*")
                || self
                    .peek()
                    .is_some_and(|token| token.kind == TokenKind::Number && self.text(token) == "1")
            {
                self.advance();
            } else if let Some((ColumnName::Key, len)) = self.peek_column(table) {
                self.pos += len;
            } else {
                return Err(Fail::Other);
            }
            ColumnExpr::CountStar
        } else if word.eq_ignore_ascii_case("length") || word.eq_ignore_ascii_case("octet_length") {
            let Some((ColumnName::Value, len)) = self.peek_column(table) else {
                return Err(Fail::Other);
            };
            self.pos += len;
            ColumnExpr::ValueLength {
                octets: word.len() == "octet_length".len(),
            }
        } else if word.eq_ignore_ascii_case("cast") {
            let column = match self.peek_column(table) {
                Some((column @ (ColumnName::Key | ColumnName::Value), len)) => {
                    self.pos += len;
                    column
                }
                _ => return Err(self.expression_expected()),
            };
            if !self.eat_keyword("as") {
                return Err(self.mismatch());
            }
            let sql_type = Some(self.type_name()?);
            if column == ColumnName::Key {
                ColumnExpr::Key(sql_type)
            } else {
                ColumnExpr::Value(sql_type)
            }
        } else {
            return Err(Fail::Other);
        };
        if !self.eat_kind(TokenKind::RParen) {
            return Err(self.mismatch());
        }
        Ok(expr)
    }

    /// `AS name` (any word) or a bare name that is not a keyword.
    fn output_alias(&mut self) -> Step<Option<String>> {
        let Some(token) = self.peek() else {
            return Ok(None);
        };
        if self.is_keyword(token, "as") {
            self.advance();
            return match self.peek().filter(|token| token.is_name()) {
                Some(name) => {
                    self.advance();
                    Ok(Some(lexer::identifier(self.sql, name)))
                }
                None => Err(self.unexpected()),
            };
        }
        if self.is_col_id(token) {
            self.advance();
            return Ok(Some(lexer::identifier(self.sql, token)));
        }
        Ok(None)
    }

    /// WHERE's predicate: `key = s`, `s = key`, `key IN (s, ...)`,
    /// `key LIKE s`, in any number of parentheses.
    fn filter(&mut self, table: TableRef) -> Step<KeyFilter> {
        let mut parens = 0;
        while self.eat_kind(TokenKind::LParen) {
            parens += 1;
            if parens > MAX_PAREN_DEPTH {
                return Err(Fail::Other);
            }
        }
        let filter = match self.peek_column(table) {
            Some((ColumnName::Key, len)) => {
                self.pos += len;
                self.key_predicate()?
            }
            Some(_) => return Err(Fail::Other),
            None => {
                let key = self.scalar()?;
                if !self.eat_operator("=") {
                    return Err(self.mismatch());
                }
                match self.peek_column(table) {
                    Some((ColumnName::Key, len)) => self.pos += len,
                    _ => return Err(self.expression_expected()),
                }
                KeyFilter::Eq(key)
            }
        };
        for _ in 0..parens {
            if !self.eat_kind(TokenKind::RParen) {
                return Err(self.mismatch());
            }
        }
        Ok(filter)
    }

    fn key_predicate(&mut self) -> Step<KeyFilter> {
        if self.eat_operator("=") {
            return Ok(KeyFilter::Eq(self.scalar()?));
        }
        if self.eat_keyword("like") {
            return Ok(KeyFilter::Like(self.scalar()?));
        }
        if !self.eat_keyword("in") {
            // `WHERE key` alone is a type error, not a syntax error.
            return Err(self.mismatch());
        }
        self.expect_kind(TokenKind::LParen)?;
        let mut keys = Vec::new();
        loop {
            if keys.len() == MAX_LIST_ITEMS {
                return Err(self.limit_error("IN lists"));
            }
            keys.push(self.scalar()?);
            if self.eat_kind(TokenKind::RParen) {
                return Ok(KeyFilter::In(keys));
            }
            if !self.eat_kind(TokenKind::Comma) {
                return Err(self.mismatch());
            }
        }
    }

    // ---- values ----

    /// A value where an expression must be: a parameter, literal or NULL,
    /// optionally cast. Nothing there is a syntax error; an expression the
    /// fast path does not evaluate is Other.
    fn scalar(&mut self) -> Step<Scalar> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        match token.kind {
            TokenKind::Param(index) => {
                self.advance();
                Ok(Scalar::Param {
                    index: index as usize,
                    cast: self.cast()?,
                })
            }
            TokenKind::String | TokenKind::EscapeString | TokenKind::DollarString(_) => {
                self.advance();
                let text = lexer::string_value(self.sql, token)?;
                Ok(Scalar::Literal {
                    text,
                    cast: self.cast()?,
                })
            }
            TokenKind::Number => {
                self.advance();
                Ok(Scalar::Literal {
                    text: self.text(token).to_owned(),
                    cast: self.cast()?,
                })
            }
            TokenKind::Operator if self.text(token) == "-" => {
                // `-7` is a constant, but `-7::text` is -(7::text).
                match self.token_at(self.pos + 1) {
                    Some(number)
                        if number.kind == TokenKind::Number
                            && self.kind_at(2) != Some(TokenKind::Typecast) =>
                    {
                        self.pos += 2;
                        Ok(Scalar::Literal {
                            text: format!("-{}", self.text(number)),
                            cast: None,
                        })
                    }
                    _ => Err(Fail::Other),
                }
            }
            TokenKind::Ident if self.is_keyword(token, "null") => {
                self.advance();
                self.cast()?;
                Ok(Scalar::Null)
            }
            TokenKind::Ident
                if self.is_keyword(token, "cast") && self.kind_at(1) == Some(TokenKind::LParen) =>
            {
                self.cast_call()
            }
            _ => Err(self.expression_expected()),
        }
    }

    /// `CAST(s AS type)`.
    fn cast_call(&mut self) -> Step<Scalar> {
        self.pos += 2;
        let value = self.scalar()?;
        if !self.eat_keyword("as") {
            return Err(self.mismatch());
        }
        let sql_type = self.type_name()?;
        if !self.eat_kind(TokenKind::RParen) {
            return Err(self.mismatch());
        }
        if self.at_kind(TokenKind::Typecast) {
            return Err(Fail::Other);
        }
        match value {
            Scalar::Param { index, cast: None } => Ok(Scalar::Param {
                index,
                cast: Some(sql_type),
            }),
            Scalar::Literal { text, cast: None } => Ok(Scalar::Literal {
                text,
                cast: Some(sql_type),
            }),
            Scalar::Null => Ok(Scalar::Null),
            // Two casts: the AST keeps one.
            _ => Err(Fail::Other),
        }
    }

    /// An optional `::type`; a second cast is Other.
    fn cast(&mut self) -> Step<Option<SqlType>> {
        if !self.eat_kind(TokenKind::Typecast) {
            return Ok(None);
        }
        let sql_type = self.type_name()?;
        if self.at_kind(TokenKind::Typecast) {
            return Err(Fail::Other);
        }
        Ok(Some(sql_type))
    }

    fn type_name(&mut self) -> Step<SqlType> {
        let Some(token) = self.peek().filter(|token| token.is_name()) else {
            return Err(self.unexpected());
        };
        let sql_type = if token.kind == TokenKind::QuotedIdent {
            // Quoted, only the catalog names exist (no "int", "integer").
            match self.text(token) {
                "\"text\"" | "\"varchar\"" => SqlType::Text,
                "\"bytea\"" => SqlType::Bytea,
                "\"int2\"" | "\"int4\"" | "\"int8\"" => SqlType::Integer,
                _ => return Err(Fail::Other),
            }
        } else {
            let word = self.text(token).to_ascii_lowercase();
            match word.as_str() {
                "text" | "varchar" => SqlType::Text,
                // `character varying`; bare `character` is bpchar(1).
                "character" if self.keyword_at(1, "varying") => {
                    self.advance();
                    SqlType::Text
                }
                "bytea" => SqlType::Bytea,
                "int" | "integer" | "int2" | "int4" | "int8" | "smallint" | "bigint" => {
                    SqlType::Integer
                }
                _ if listed(CLAUSE_KEYWORDS, &word) => return Err(self.unexpected()),
                _ => return Err(Fail::Other),
            }
        };
        self.advance();
        if self.at_kind(TokenKind::LParen) || self.at_kind(TokenKind::LBracket) {
            // varchar(n) truncates; text[] is an array.
            return Err(Fail::Other);
        }
        Ok(sql_type)
    }

    // ---- transactions ----

    fn begin(&mut self) -> Step<Statement> {
        self.advance();
        let _ = self.eat_keyword("work") || self.eat_keyword("transaction");
        let read_only = self.transaction_modes()?;
        Ok(Statement::Begin { read_only })
    }

    fn start_transaction(&mut self) -> Step<Statement> {
        self.advance();
        self.expect_keyword("transaction")?;
        let read_only = self.transaction_modes()?;
        Ok(Statement::Begin { read_only })
    }

    /// `ISOLATION LEVEL ...`, `READ ONLY|WRITE`, `[NOT] DEFERRABLE`,
    /// separated by commas or spaces, through the end of the statement.
    fn transaction_modes(&mut self) -> Step<bool> {
        let mut read_only = false;
        let mut need_mode = false;
        loop {
            if self.at_end() && !need_mode {
                return Ok(read_only);
            }
            if self.eat_keyword("isolation") {
                self.expect_keyword("level")?;
                if self.eat_keyword("repeatable") {
                    self.expect_keyword("read")?;
                } else if self.eat_keyword("read") {
                    if !(self.eat_keyword("committed") || self.eat_keyword("uncommitted")) {
                        return Err(self.unexpected());
                    }
                } else {
                    self.expect_keyword("serializable")?;
                }
            } else if self.eat_keyword("read") {
                if self.eat_keyword("only") {
                    read_only = true;
                } else {
                    self.expect_keyword("write")?;
                    read_only = false;
                }
            } else if self.eat_keyword("not") {
                self.expect_keyword("deferrable")?;
            } else {
                self.expect_keyword("deferrable")?;
            }
            need_mode = self.eat_kind(TokenKind::Comma);
        }
    }

    /// `[WORK | TRANSACTION] [AND NO CHAIN]` then the end.
    fn transaction_tail(&mut self) -> Step<()> {
        let _ = self.eat_keyword("work") || self.eat_keyword("transaction");
        self.chain_tail()
    }

    fn chain_tail(&mut self) -> Step<()> {
        if self.eat_keyword("and") {
            if self.at_keyword("chain") {
                // AND CHAIN: not supported on the fast path.
                return Err(Fail::Other);
            }
            self.expect_keyword("no")?;
            self.expect_keyword("chain")?;
        }
        self.expect_end()
    }

    fn commit(&mut self) -> Step<Statement> {
        self.advance();
        if self.at_keyword("prepared") {
            return Err(Fail::Other);
        }
        self.transaction_tail()?;
        Ok(Statement::Commit)
    }

    fn rollback(&mut self) -> Step<Statement> {
        let is_abort = self.at_keyword("abort");
        self.advance();
        if self.at_keyword("prepared") && !is_abort {
            return Err(Fail::Other);
        }
        let _ = self.eat_keyword("work") || self.eat_keyword("transaction");
        if !is_abort && self.eat_keyword("to") {
            self.savepoint_keyword();
            let name = self.col_id()?;
            self.expect_end()?;
            return Ok(Statement::RollbackTo(name));
        }
        self.chain_tail()?;
        Ok(Statement::Rollback)
    }

    /// The optional SAVEPOINT of `RELEASE [SAVEPOINT] name`; alone it is
    /// the name (as in PostgreSQL's grammar).
    fn savepoint_keyword(&mut self) {
        if self.at_keyword("savepoint") && self.pos + 1 < self.end {
            self.advance();
        }
    }

    /// A ColId: unquoted folded to lowercase, quoted kept.
    fn col_id(&mut self) -> Step<String> {
        match self.peek() {
            Some(token) if self.is_col_id(token) => {
                self.advance();
                Ok(lexer::identifier(self.sql, token))
            }
            _ => Err(self.unexpected()),
        }
    }

    // ---- SET / SHOW / RESET / DISCARD ----

    fn at_assignment(&self, offset: usize) -> bool {
        self.operator_at(offset, "=") || self.keyword_at(offset, "to")
    }

    fn set(&mut self) -> Step<Statement> {
        self.advance();
        let mut local = false;
        // LOCAL and SESSION are scopes unless they are the variable.
        if self.at_keyword("local") && !self.at_assignment(1) {
            local = true;
            self.advance();
        } else if self.at_keyword("session") && !self.at_assignment(1) {
            self.advance();
        }
        if !self.at_assignment(1) {
            if self.at_keyword("time") && self.keyword_at(1, "zone") {
                self.pos += 2;
                let value = self.zone_value()?;
                self.expect_end()?;
                return Ok(Statement::Set {
                    name: "timezone".to_owned(),
                    value,
                    local,
                });
            }
            if self.eat_keyword("names") {
                let value = if self.at_end() || self.eat_keyword("default") {
                    None
                } else {
                    Some(self.string_constant()?)
                };
                self.expect_end()?;
                return Ok(Statement::Set {
                    name: "client_encoding".to_owned(),
                    value,
                    local,
                });
            }
            let special = [
                "transaction",
                "session",
                "authorization",
                "characteristics",
                "role",
                "schema",
                "catalog",
                "xml",
                "constraints",
            ];
            if special.iter().any(|word| self.at_keyword(word)) {
                return Err(Fail::Other);
            }
        }
        let name = self.var_name()?;
        if !(self.eat_operator("=") || self.eat_keyword("to")) {
            if self.at_keyword("from") {
                // FROM CURRENT
                return Err(Fail::Other);
            }
            return Err(self.unexpected());
        }
        let value = if self.eat_keyword("default") {
            None
        } else {
            let mut value = self.var_value()?;
            while self.eat_kind(TokenKind::Comma) {
                value.push_str(", ");
                value.push_str(&self.var_value()?);
            }
            Some(value)
        };
        self.expect_end()?;
        Ok(Statement::Set { name, value, local })
    }

    /// `name[.name...]`, each part a ColId.
    fn var_name(&mut self) -> Step<String> {
        let mut name = self.col_id()?;
        while self.eat_kind(TokenKind::Dot) {
            name.push('.');
            name.push_str(&self.col_id()?);
        }
        Ok(name)
    }

    /// A SET value: string, number, or word (folded, reserved words aside
    /// from TRUE, FALSE, ON).
    fn var_value(&mut self) -> Step<String> {
        if let Some(number) = self.signed_number() {
            return Ok(number);
        }
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        match token.kind {
            TokenKind::String | TokenKind::EscapeString | TokenKind::DollarString(_) => {
                self.string_constant()
            }
            TokenKind::QuotedIdent => {
                self.advance();
                Ok(lexer::identifier(self.sql, token))
            }
            TokenKind::Ident => {
                let word = self.text(token);
                let boolean = ["true", "false", "on"]
                    .iter()
                    .any(|keyword| word.eq_ignore_ascii_case(keyword));
                if !boolean && listed(RESERVED_KEYWORDS, word) {
                    return Err(self.unexpected());
                }
                self.advance();
                Ok(lexer::identifier(self.sql, token))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `n`, `-n`, `+n` (the plus dropped, as PostgreSQL does).
    fn signed_number(&mut self) -> Option<String> {
        let token = self.peek()?;
        if token.kind == TokenKind::Number {
            self.advance();
            return Some(self.text(token).to_owned());
        }
        let sign = self.text(token);
        let number = self.token_at(self.pos + 1)?;
        if token.kind != TokenKind::Operator
            || !(sign == "-" || sign == "+")
            || number.kind != TokenKind::Number
        {
            return None;
        }
        self.pos += 2;
        Some(if sign == "-" {
            format!("-{}", self.text(number))
        } else {
            self.text(number).to_owned()
        })
    }

    fn string_constant(&mut self) -> Step<String> {
        match self.peek() {
            Some(
                token @ Token {
                    kind: TokenKind::String | TokenKind::EscapeString | TokenKind::DollarString(_),
                    ..
                },
            ) => {
                self.advance();
                Ok(lexer::string_value(self.sql, token)?)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `SET TIME ZONE` value; LOCAL and DEFAULT are None.
    fn zone_value(&mut self) -> Step<Option<String>> {
        if let Some(number) = self.signed_number() {
            return Ok(Some(number));
        }
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        match token.kind {
            TokenKind::String | TokenKind::EscapeString | TokenKind::DollarString(_) => {
                Ok(Some(self.string_constant()?))
            }
            TokenKind::Ident
                if self.is_keyword(token, "local") || self.is_keyword(token, "default") =>
            {
                self.advance();
                Ok(None)
            }
            TokenKind::Ident if self.is_keyword(token, "interval") => Err(Fail::Other),
            TokenKind::Ident | TokenKind::QuotedIdent if self.is_col_id(token) => {
                self.advance();
                Ok(Some(lexer::identifier(self.sql, token)))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// The special names SHOW and RESET share; None if none is here.
    fn special_variable(&mut self) -> Option<&'static str> {
        if self.at_keyword("time") && self.keyword_at(1, "zone") {
            self.pos += 2;
            return Some("timezone");
        }
        if self.at_keyword("transaction")
            && self.keyword_at(1, "isolation")
            && self.keyword_at(2, "level")
        {
            self.pos += 3;
            return Some("transaction_isolation");
        }
        if self.at_keyword("session") && self.keyword_at(1, "authorization") {
            self.pos += 2;
            return Some("session_authorization");
        }
        None
    }

    fn show(&mut self) -> Step<Statement> {
        self.advance();
        let name = if let Some(name) = self.special_variable() {
            name.to_owned()
        } else if self.eat_keyword("all") {
            "all".to_owned()
        } else {
            self.var_name()?
        };
        self.expect_end()?;
        Ok(Statement::Show(name))
    }

    fn reset(&mut self) -> Step<Statement> {
        self.advance();
        let name = if let Some(name) = self.special_variable() {
            Some(name.to_owned())
        } else if self.eat_keyword("all") {
            None
        } else {
            Some(self.var_name()?)
        };
        self.expect_end()?;
        Ok(Statement::Reset(name))
    }

    fn discard(&mut self) -> Step<Statement> {
        self.advance();
        let all = if self.eat_keyword("all") {
            true
        } else if ["plans", "sequences", "temp", "temporary"]
            .iter()
            .any(|keyword| self.at_keyword(keyword))
        {
            self.advance();
            false
        } else {
            return Err(self.unexpected());
        };
        self.expect_end()?;
        Ok(Statement::Discard { all })
    }

    // ---- COPY ----

    fn copy(&mut self) -> Step<Statement> {
        self.advance();
        if self.at_kind(TokenKind::LParen) {
            return self.copy_query();
        }
        self.kv_table()?;
        let columns = if self.eat_kind(TokenKind::LParen) {
            let mut columns = Vec::with_capacity(2);
            loop {
                let Some(token) = self.peek().filter(|token| token.is_name()) else {
                    return Err(self.unexpected());
                };
                let column = if self.names(token, "key") {
                    CopyColumn::Key
                } else if self.names(token, "value") {
                    CopyColumn::Value
                } else {
                    return Err(Fail::Other);
                };
                if columns.contains(&column) {
                    // 42701: the general path words it.
                    return Err(Fail::Other);
                }
                columns.push(column);
                self.advance();
                if self.eat_kind(TokenKind::RParen) {
                    break;
                }
                self.expect_kind(TokenKind::Comma)?;
            }
            columns
        } else {
            vec![CopyColumn::Key, CopyColumn::Value]
        };
        let from = if self.eat_keyword("from") {
            true
        } else {
            self.expect_keyword("to")?;
            false
        };
        // Files and programs are the general path's (and refused there).
        if !self.eat_keyword(if from { "stdin" } else { "stdout" }) {
            return Err(Fail::Other);
        }
        let options = self.copy_options(columns)?;
        Ok(if from {
            Statement::CopyFrom(options)
        } else {
            Statement::CopyTo(options, None)
        })
    }

    /// `COPY (SELECT ... FROM kv ...) TO STDOUT ...`.
    fn copy_query(&mut self) -> Step<Statement> {
        let open = self.pos;
        let mut depth = 0usize;
        let mut close = open;
        while close < self.end {
            match self.tokens[close].kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            close += 1;
        }
        // `parse` checked the parentheses balance.
        let mut inner = Parser {
            sql: self.sql,
            tokens: self.tokens,
            pos: open + 1,
            end: close,
            committed: false,
        };
        if !inner.at_keyword("select") {
            return Err(Fail::Other);
        }
        let Statement::Select(select) = inner.select()? else {
            return Err(Fail::Other);
        };
        self.committed = true;
        self.pos = close + 1;
        if !self.eat_keyword("to") || !self.eat_keyword("stdout") {
            return Err(Fail::Other);
        }
        let options = self.copy_options(Vec::new())?;
        Ok(Statement::CopyTo(options, Some(Box::new(select))))
    }

    /// `[WITH] (option [value], ...)` or the pre-9.0 `[WITH] CSV HEADER
    /// DELIMITER [AS] 'c' ...`, through the end of the statement.
    fn copy_options(&mut self, columns: Vec<CopyColumn>) -> Step<CopyOptions> {
        let mut options = CopyOptions {
            columns,
            format: CopyFormat::Text,
            delimiter: None,
            null: None,
            header: false,
            quote: None,
            escape: None,
        };
        let mut seen = CopySeen::default();
        if self.at_keyword("using") || self.at_keyword("delimiters") {
            // Pre-7.3 `USING DELIMITERS`.
            return Err(Fail::Other);
        }
        self.eat_keyword("with");
        if self.eat_kind(TokenKind::LParen) {
            loop {
                let Some(name) = self.peek().filter(|token| token.is_name()) else {
                    return Err(self.unexpected());
                };
                self.advance();
                let argument = self.copy_argument()?;
                self.apply_copy_option(&mut options, &mut seen, name, argument)?;
                if self.eat_kind(TokenKind::RParen) {
                    break;
                }
                self.expect_kind(TokenKind::Comma)?;
            }
        } else {
            while let Some(token) = self.peek() {
                let word = self.text(token).to_ascii_lowercase();
                if token.kind != TokenKind::Ident {
                    return Err(self.unexpected());
                }
                self.advance();
                let argument = match word.as_str() {
                    "binary" => Some("binary".to_owned()),
                    "csv" => Some("csv".to_owned()),
                    "header" => None,
                    "delimiter" | "null" | "quote" | "escape" => {
                        self.eat_keyword("as");
                        Some(self.string_constant()?)
                    }
                    "freeze" | "force" | "encoding" | "where" => return Err(Fail::Other),
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                };
                let option = match word.as_str() {
                    "binary" | "csv" => "format",
                    other => other,
                };
                self.apply_named_copy_option(&mut options, &mut seen, option, token, argument)?;
            }
        }
        if self.at_keyword("where") {
            return Err(Fail::Other);
        }
        self.expect_end()?;
        Ok(options)
    }

    /// The value after a generic COPY option name, if any.
    fn copy_argument(&mut self) -> Step<Option<String>> {
        if let Some(number) = self.signed_number() {
            return Ok(Some(number));
        }
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        match token.kind {
            TokenKind::Comma | TokenKind::RParen => Ok(None),
            TokenKind::String | TokenKind::EscapeString | TokenKind::DollarString(_) => {
                Ok(Some(self.string_constant()?))
            }
            TokenKind::Ident | TokenKind::QuotedIdent => {
                self.advance();
                Ok(Some(lexer::identifier(self.sql, token)))
            }
            // `*` and `(column, ...)` belong to FORCE_* options.
            TokenKind::Operator | TokenKind::LParen => Err(Fail::Other),
            _ => Err(self.unexpected()),
        }
    }

    fn apply_copy_option(
        &mut self,
        options: &mut CopyOptions,
        seen: &mut CopySeen,
        name: Token,
        argument: Option<String>,
    ) -> Step<()> {
        let option = lexer::identifier(self.sql, name);
        self.apply_named_copy_option(options, seen, &option, name, argument)
    }

    /// Applies one option as PostgreSQL's ProcessCopyOptions does; checks
    /// between options (HEADER in BINARY...) are the executor's.
    fn apply_named_copy_option(
        &mut self,
        options: &mut CopyOptions,
        seen: &mut CopySeen,
        option: &str,
        name: Token,
        argument: Option<String>,
    ) -> Step<()> {
        let position = Some(lexer::position(self.sql, name.start as usize));
        let flag = match option {
            "format" => &mut seen.format,
            "delimiter" => &mut seen.delimiter,
            "null" => &mut seen.null,
            "header" => &mut seen.header,
            "quote" => &mut seen.quote,
            "escape" => &mut seen.escape,
            "freeze" | "force_quote" | "force_not_null" | "force_null" | "encoding" | "default"
            | "on_error" | "log_verbosity" | "reject_limit" => return Err(Fail::Other),
            _ => {
                return Err(Fail::Error(SyntaxError {
                    sqlstate: "42601",
                    message: format!("option \"{option}\" not recognized"),
                    position,
                }))
            }
        };
        if std::mem::replace(flag, true) {
            return Err(Fail::Error(SyntaxError {
                sqlstate: "42601",
                message: "conflicting or redundant options".to_owned(),
                position,
            }));
        }
        if option == "header" {
            options.header = match argument.as_deref().map(parse_bool) {
                None => true,
                Some(Some(header)) => header,
                Some(None) if argument.as_deref() == Some("match") => return Err(Fail::Other),
                Some(None) => {
                    return Err(Fail::Error(SyntaxError {
                        sqlstate: "42601",
                        message: "header requires a Boolean value or \"match\"".to_owned(),
                        position: None,
                    }))
                }
            };
            return Ok(());
        }
        let Some(argument) = argument else {
            return Err(Fail::Error(SyntaxError {
                sqlstate: "42601",
                message: format!("{option} requires a parameter"),
                position: None,
            }));
        };
        match option {
            "format" => {
                options.format = match argument.as_str() {
                    "text" => CopyFormat::Text,
                    "csv" => CopyFormat::Csv,
                    "binary" => CopyFormat::Binary,
                    _ => {
                        return Err(Fail::Error(SyntaxError {
                            sqlstate: "22023",
                            message: format!("COPY format \"{argument}\" not recognized"),
                            position,
                        }))
                    }
                }
            }
            "null" => options.null = Some(argument),
            single_byte => {
                let [byte] = argument.as_bytes() else {
                    return Err(Fail::Error(SyntaxError {
                        sqlstate: "0A000",
                        message: format!("COPY {single_byte} must be a single one-byte character"),
                        position: None,
                    }));
                };
                let slot = match single_byte {
                    "delimiter" => &mut options.delimiter,
                    "quote" => &mut options.quote,
                    _ => &mut options.escape,
                };
                *slot = Some(*byte);
            }
        }
        Ok(())
    }
}

/// COPY options already given (a repeat is "conflicting or redundant").
#[derive(Default)]
struct CopySeen {
    format: bool,
    delimiter: bool,
    null: bool,
    header: bool,
    quote: bool,
    escape: bool,
}

/// PostgreSQL's parse_bool: true/false/yes/no/on/off/1/0 and unique
/// prefixes, any case.
fn parse_bool(value: &str) -> Option<bool> {
    let value = value.to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| value.len() >= min && word.starts_with(&value);
    if prefix_of("true", 1) || prefix_of("yes", 1) || value == "on" || value == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || value == "0" {
        Some(false)
    } else {
        None
    }
}
