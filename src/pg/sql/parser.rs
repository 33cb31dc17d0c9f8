//! The kv SQL fast path: splits a query string into statements and parses
//! the shapes corewire executes itself (see the AST in `super`) by
//! recursive descent over [`lexer`] tokens.
//!
//! A statement that is not one of those shapes is [`Statement::Other`] for
//! the general path. A [`SyntaxError`] comes back only for input PostgreSQL
//! rejects as a whole (lexical errors, unbalanced parentheses) or for a
//! statement that is clearly ours (kv DML, COPY kv, transaction and session
//! commands) but malformed.
use std::cell::Cell;
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
    "and",
    "as",
    "asc",
    "desc",
    "do",
    "else",
    "end",
    "except",
    "fetch",
    "for",
    "from",
    "group",
    "having",
    "intersect",
    "into",
    "limit",
    "offset",
    "on",
    "or",
    "order",
    "returning",
    "then",
    "to",
    "union",
    "using",
    "when",
    "where",
    "window",
];

/// A keyword list for lookups without memcmp: each keyword of at most 16
/// bytes packed big-endian into a u128 (zero-padded, so packing is exact
/// and keeps the sort order) for a binary search; longer ones (only
/// `current_timestamp`) are compared as text.
struct KeywordSet {
    words: &'static [&'static str],
    packed: &'static [u128],
}

const fn pack_word(word: &[u8]) -> u128 {
    let mut packed = 0u128;
    let mut index = 0;
    while index < 16 {
        let byte = if index < word.len() {
            word[index].to_ascii_lowercase()
        } else {
            0
        };
        packed = packed << 8 | byte as u128;
        index += 1;
    }
    packed
}

/// The packed short keywords of `words` (sorted), then u128::MAX padding,
/// which no UTF-8 text packs to.
const fn pack_words<const N: usize>(words: &[&str]) -> [u128; N] {
    let mut packed = [u128::MAX; N];
    let mut index = 0;
    let mut count = 0;
    while index < N {
        if words[index].len() <= 16 {
            packed[count] = pack_word(words[index].as_bytes());
            count += 1;
        }
        index += 1;
    }
    packed
}

const fn keyword_set<const N: usize>(
    words: &'static [&'static str],
    packed: &'static [u128; N],
) -> KeywordSet {
    KeywordSet { words, packed }
}

const RESERVED: KeywordSet = keyword_set(
    RESERVED_KEYWORDS,
    &pack_words::<{ RESERVED_KEYWORDS.len() }>(RESERVED_KEYWORDS),
);
const TYPE_FUNC_NAME: KeywordSet = keyword_set(
    TYPE_FUNC_NAME_KEYWORDS,
    &pack_words::<{ TYPE_FUNC_NAME_KEYWORDS.len() }>(TYPE_FUNC_NAME_KEYWORDS),
);
const CLAUSE: KeywordSet = keyword_set(
    CLAUSE_KEYWORDS,
    &pack_words::<{ CLAUSE_KEYWORDS.len() }>(CLAUSE_KEYWORDS),
);

/// Whether `word` (any case) is one of PostgreSQL's reserved keywords,
/// which are never an identifier unless quoted.
pub fn is_reserved_keyword(word: &str) -> bool {
    listed(&RESERVED, word)
}

/// Whether `word` (any case) is in a keyword set.
fn listed(set: &KeywordSet, word: &str) -> bool {
    let bytes = word.as_bytes();
    if bytes.len() > 16 {
        return set
            .words
            .iter()
            .any(|keyword| keyword.len() > 16 && keyword.eq_ignore_ascii_case(word));
    }
    // pack_word at run time, without its byte loop.
    let mut buffer = [0u8; 16];
    buffer[..bytes.len()].copy_from_slice(bytes);
    buffer.make_ascii_lowercase();
    set.packed
        .binary_search(&u128::from_be_bytes(buffer))
        .is_ok()
}

/// Whether `word` (any case) is one of a few lowercase `words`.
fn one_of(words: &[&str], word: &str) -> bool {
    words
        .iter()
        .any(|candidate| candidate.eq_ignore_ascii_case(word))
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
    // Reuse this thread's token buffer: no allocation for lexing on the
    // hot path. (A nested call would just find it empty.)
    let mut tokens = TOKEN_BUFFER.take();
    tokens.clear();
    let result = parse_tokens(sql, &mut tokens);
    if tokens.capacity() <= MAX_KEPT_TOKENS {
        TOKEN_BUFFER.set(tokens);
    }
    result
}

thread_local! {
    static TOKEN_BUFFER: Cell<Vec<Token>> = const { Cell::new(Vec::new()) };
}

/// Larger token buffers (huge multi-row INSERTs) are freed, not kept.
const MAX_KEPT_TOKENS: usize = 4096;

fn parse_tokens(sql: &str, tokens: &mut Vec<Token>) -> Result<Vec<Parsed>, SyntaxError> {
    lexer::tokenize(sql, tokens)?;
    let tokens = &tokens[..];
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
                parse_statement(sql, tokens, first_token..index, text, &mut parsed)?;
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
    parse_statement(sql, tokens, first_token..tokens.len(), text, &mut parsed)?;
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
        Err(Fail::Error(error)) => return Err(*error),
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
    /// Boxed: keeps every `Step<T>` small on the success path.
    Error(Box<SyntaxError>),
}

impl From<SyntaxError> for Fail {
    fn from(error: SyntaxError) -> Self {
        Fail::Error(Box::new(error))
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
                // FROM and WHERE follow most columns and tables: skip the
                // lookups for them.
                !word.eq_ignore_ascii_case("from")
                    && !word.eq_ignore_ascii_case("where")
                    && !listed(&RESERVED, word)
                    && !listed(&TYPE_FUNC_NAME, word)
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
        Fail::from(
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
            TokenKind::Ident => listed(&CLAUSE, self.text(token)),
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
        Fail::from(SyntaxError {
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
        } else if !(token.kind == TokenKind::Ident && one_of(not_alias, self.text(token)))
            && self.is_col_id(token)
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
            if self
                .token_at(index + 1)
                .is_some_and(|next| next.kind == TokenKind::Dot)
            {
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
                    // `WHERE 'a'` alone is a type error, not a syntax error.
                    return Err(Fail::Other);
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
            return Err(Fail::Other);
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
                    Some(_) => Err(Fail::Other),
                    None => {
                        self.advance();
                        Err(self.unexpected())
                    }
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
            let word = self.text(token);
            if one_of(&["text", "varchar"], word) {
                SqlType::Text
            } else if word.eq_ignore_ascii_case("character") && self.keyword_at(1, "varying") {
                // Bare `character` is bpchar(1): not text.
                self.advance();
                SqlType::Text
            } else if word.eq_ignore_ascii_case("bytea") {
                SqlType::Bytea
            } else if one_of(
                &[
                    "bigint", "int", "int2", "int4", "int8", "integer", "smallint",
                ],
                word,
            ) {
                SqlType::Integer
            } else if listed(&CLAUSE, word) {
                return Err(self.unexpected());
            } else {
                return Err(Fail::Other);
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
            } else {
                // `[NOT] DEFERRABLE`
                self.eat_keyword("not");
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
                if !boolean && listed(&RESERVED, word) {
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
        if token.kind != TokenKind::Operator || !(sign == "-" || sign == "+") {
            return None;
        }
        let Some(number) = self.token_at(self.pos + 1) else {
            // A lone sign: the caller reports the end of input.
            self.advance();
            return None;
        };
        if number.kind != TokenKind::Number {
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
        &self,
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
        &self,
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
                return Err(Fail::from(SyntaxError {
                    sqlstate: "42601",
                    message: format!("option \"{option}\" not recognized"),
                    position,
                }))
            }
        };
        if std::mem::replace(flag, true) {
            return Err(Fail::from(SyntaxError {
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
                    return Err(Fail::from(SyntaxError {
                        sqlstate: "42601",
                        message: "header requires a Boolean value or \"match\"".to_owned(),
                        position: None,
                    }))
                }
            };
            return Ok(());
        }
        let Some(argument) = argument else {
            return Err(Fail::from(SyntaxError {
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
                        return Err(Fail::from(SyntaxError {
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
                    return Err(Fail::from(SyntaxError {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(sql: &str) -> Parsed {
        let mut parsed = parse(sql).unwrap_or_else(|error| panic!("{sql}: {error:?}"));
        assert_eq!(parsed.len(), 1, "{sql}: {parsed:?}");
        parsed.remove(0)
    }

    fn one(sql: &str) -> Statement {
        parse_one(sql).statement
    }

    fn assert_other(sql: &str) {
        assert_eq!(one(sql), Statement::Other, "{sql}");
    }

    fn error(sql: &str) -> SyntaxError {
        match parse(sql) {
            Ok(parsed) => panic!("{sql}: expected an error, got {parsed:?}"),
            Err(error) => error,
        }
    }

    /// A 42601 "at or near" error at 1-based character `position`.
    fn assert_syntax_error(sql: &str, near: &str, position: usize) {
        assert_eq!(
            error(sql),
            SyntaxError {
                sqlstate: "42601",
                message: format!("syntax error at or near \"{near}\""),
                position: Some(position),
            },
            "{sql}"
        );
    }

    fn assert_error_at_end(sql: &str) {
        assert_eq!(
            error(sql),
            SyntaxError {
                sqlstate: "42601",
                message: "syntax error at end of input".to_owned(),
                position: Some(sql.chars().count() + 1),
            },
            "{sql}"
        );
    }

    fn lit(text: &str) -> Scalar {
        Scalar::Literal {
            text: text.to_owned(),
            cast: None,
        }
    }

    fn lit_cast(text: &str, cast: SqlType) -> Scalar {
        Scalar::Literal {
            text: text.to_owned(),
            cast: Some(cast),
        }
    }

    fn param(index: usize) -> Scalar {
        Scalar::Param { index, cast: None }
    }

    fn col(expr: ColumnExpr) -> OutputColumn {
        OutputColumn { expr, alias: None }
    }

    fn aliased(expr: ColumnExpr, alias: &str) -> OutputColumn {
        OutputColumn {
            expr,
            alias: Some(alias.to_owned()),
        }
    }

    fn key() -> OutputColumn {
        col(ColumnExpr::Key(None))
    }

    fn value() -> OutputColumn {
        col(ColumnExpr::Value(None))
    }

    fn star() -> OutputColumn {
        col(ColumnExpr::Star)
    }

    fn select(columns: Vec<OutputColumn>, filter: KeyFilter) -> Select {
        Select {
            columns,
            filter,
            order: Order::None,
            limit: None,
            offset: None,
        }
    }

    fn assert_select(sql: &str, expected: Select) {
        assert_eq!(one(sql), Statement::Select(expected), "{sql}");
    }

    fn insert(rows: Vec<(Scalar, Scalar)>) -> Insert {
        Insert {
            rows,
            on_conflict: OnConflict::Error,
            returning: vec![],
        }
    }

    fn copy_options(columns: Vec<CopyColumn>, format: CopyFormat) -> CopyOptions {
        CopyOptions {
            columns,
            format,
            delimiter: None,
            null: None,
            header: false,
            quote: None,
            escape: None,
        }
    }

    fn both_columns() -> Vec<CopyColumn> {
        vec![CopyColumn::Key, CopyColumn::Value]
    }

    fn set(name: &str, value: Option<&str>, local: bool) -> Statement {
        Statement::Set {
            name: name.to_owned(),
            value: value.map(str::to_owned),
            local,
        }
    }

    #[test]
    fn keyword_sets_are_sorted_for_binary_search() {
        for set in [RESERVED, TYPE_FUNC_NAME, CLAUSE] {
            let words = set.words;
            assert!(words.windows(2).all(|pair| pair[0] < pair[1]), "{words:?}");
            assert!(
                set.packed.windows(2).all(|pair| pair[0] < pair[1]),
                "{words:?}"
            );
            for word in words {
                assert_eq!(*word, word.to_ascii_lowercase());
                assert!(listed(&set, word));
                assert!(listed(&set, &word.to_ascii_uppercase()));
                assert!(!listed(&set, &format!("{word}x")));
                let prefix = &word[..word.len() - 1];
                assert_eq!(listed(&set, prefix), words.contains(&prefix));
            }
        }
        assert!(listed(&RESERVED, "current_timestamp"));
        assert!(!listed(&RESERVED, "current_timestam"));
        assert!(!listed(&RESERVED, "kv"));
        assert!(!listed(&RESERVED, ""));
        assert!(!listed(&RESERVED, &"x".repeat(100)));
        assert!(one_of(&["text", "varchar"], "VARCHAR"));
    }

    // ---- SELECT ----

    #[test]
    fn select_point_read_with_parameter() {
        let parsed = parse_one("SELECT value FROM kv WHERE key = $1");
        assert_eq!(
            parsed.statement,
            Statement::Select(select(vec![value()], KeyFilter::Eq(param(1))))
        );
        assert_eq!(parsed.param_count, 1);
        assert_eq!(parsed.text, 0..35);
    }

    #[test]
    fn select_keywords_and_identifiers_are_case_insensitive() {
        let expected = select(vec![star()], KeyFilter::Eq(lit("a")));
        assert_select("select * from kv where key = 'a'", expected.clone());
        assert_select("SeLeCt * FrOm KV WhErE KEY='a'", expected.clone());
        assert_select("SELECT * FROM \"kv\" WHERE \"key\" = 'a'", expected.clone());
        assert_select("SELECT * FROM public.kv WHERE key = 'a'", expected.clone());
        assert_select(
            "SELECT * FROM PUBLIC.\"kv\" WHERE key = 'a'",
            expected.clone(),
        );
        assert_select(
            "SELECT\n\t*\nFROM kv -- comment\nWHERE /* c */ key = 'a'",
            expected,
        );
        // Quoted identifiers are case-sensitive.
        assert_other("SELECT * FROM \"KV\" WHERE key = 'a'");
        assert_other("SELECT \"Key\" FROM kv");
    }

    #[test]
    fn select_columns() {
        assert_select(
            "SELECT key, value, * FROM kv",
            select(vec![key(), value(), star()], KeyFilter::All),
        );
        assert_select(
            "SELECT kv.key, kv.* FROM kv",
            select(vec![key(), star()], KeyFilter::All),
        );
        assert_select(
            "SELECT public.kv.value FROM public.kv",
            select(vec![value()], KeyFilter::All),
        );
        assert_select(
            "SELECT key::bytea, value::text, value::VARCHAR, value::character varying FROM kv",
            select(
                vec![
                    col(ColumnExpr::Key(Some(SqlType::Bytea))),
                    col(ColumnExpr::Value(Some(SqlType::Text))),
                    col(ColumnExpr::Value(Some(SqlType::Text))),
                    col(ColumnExpr::Value(Some(SqlType::Text))),
                ],
                KeyFilter::All,
            ),
        );
        assert_select(
            "SELECT CAST(value AS bytea), key::int8, key::int FROM kv",
            select(
                vec![
                    col(ColumnExpr::Value(Some(SqlType::Bytea))),
                    col(ColumnExpr::Key(Some(SqlType::Integer))),
                    col(ColumnExpr::Key(Some(SqlType::Integer))),
                ],
                KeyFilter::All,
            ),
        );
        assert_select(
            "SELECT length(value), OCTET_LENGTH(kv.value) AS bytes FROM kv",
            select(
                vec![
                    col(ColumnExpr::ValueLength { octets: false }),
                    aliased(ColumnExpr::ValueLength { octets: true }, "bytes"),
                ],
                KeyFilter::All,
            ),
        );
    }

    #[test]
    fn select_aliases() {
        assert_select(
            "SELECT key AS k, value \"Val\", key AS \"from\", value v FROM kv",
            select(
                vec![
                    aliased(ColumnExpr::Key(None), "k"),
                    aliased(ColumnExpr::Value(None), "Val"),
                    aliased(ColumnExpr::Key(None), "from"),
                    aliased(ColumnExpr::Value(None), "v"),
                ],
                KeyFilter::All,
            ),
        );
        // Any word may follow AS, even a reserved one.
        assert_select(
            "SELECT key AS from FROM kv",
            select(vec![aliased(ColumnExpr::Key(None), "from")], KeyFilter::All),
        );
        assert_select(
            "SELECT value::bytea AS Raw FROM kv",
            select(
                vec![aliased(ColumnExpr::Value(Some(SqlType::Bytea)), "raw")],
                KeyFilter::All,
            ),
        );
    }

    #[test]
    fn select_count() {
        for sql in [
            "SELECT count(*) FROM kv",
            "SELECT COUNT(key) FROM kv",
            "select count(1) from kv",
            "SELECT count(kv.key) FROM kv",
        ] {
            assert_select(
                sql,
                select(vec![col(ColumnExpr::CountStar)], KeyFilter::All),
            );
        }
        assert_select(
            "SELECT count(*) AS n FROM kv WHERE key LIKE 'a%'",
            select(
                vec![aliased(ColumnExpr::CountStar, "n")],
                KeyFilter::Like(lit("a%")),
            ),
        );
        // Grouping errors and other aggregates are the general path's.
        assert_other("SELECT key, count(*) FROM kv");
        assert_other("SELECT count(*) FROM kv ORDER BY key");
        assert_other("SELECT count(*) FROM kv FOR UPDATE");
        assert_other("SELECT count(value) FROM kv");
        assert_other("SELECT count(DISTINCT key) FROM kv");
        assert_other("SELECT sum(length(value)) FROM kv");
    }

    #[test]
    fn select_table_alias_and_qualified_columns() {
        let expected = select(
            vec![key(), aliased(ColumnExpr::Value(None), "v")],
            KeyFilter::Eq(lit("x")),
        );
        assert_select(
            "SELECT t.key, t.value AS v FROM kv AS t WHERE t.key = 'x'",
            expected.clone(),
        );
        assert_select(
            "SELECT t.key, T.value v FROM kv t WHERE key = 'x'",
            expected.clone(),
        );
        assert_select(
            "SELECT \"T\".key, \"T\".value v FROM public.kv \"T\" WHERE \"T\".key = 'x'",
            expected,
        );
        assert_select(
            "SELECT kv.key FROM kv WHERE kv.key = 'x'",
            select(vec![key()], KeyFilter::Eq(lit("x"))),
        );
        // With an alias the table name no longer qualifies, and unknown
        // qualifiers are errors for the general path to report.
        assert_other("SELECT kv.key FROM kv t");
        assert_other("SELECT x.key FROM kv");
        assert_other("SELECT t.key FROM kv");
        assert_other("SELECT \"T\".key FROM kv t");
        assert_other("SELECT key FROM kv AS t (k, v)");
        assert_other("SELECT other.kv.key FROM kv");
    }

    #[test]
    fn select_filters() {
        let cases = [
            (
                "SELECT key FROM kv WHERE 'a' = key",
                KeyFilter::Eq(lit("a")),
            ),
            (
                "SELECT key FROM kv WHERE $2 = kv.key",
                KeyFilter::Eq(param(2)),
            ),
            (
                "SELECT key FROM kv WHERE (key = 'a')",
                KeyFilter::Eq(lit("a")),
            ),
            (
                "SELECT key FROM kv WHERE ((('a' = key)))",
                KeyFilter::Eq(lit("a")),
            ),
            (
                "SELECT key FROM kv WHERE key = NULL",
                KeyFilter::Eq(Scalar::Null),
            ),
            (
                "SELECT key FROM kv WHERE key = -7",
                KeyFilter::Eq(lit("-7")),
            ),
            ("SELECT key FROM kv WHERE key=-7", KeyFilter::Eq(lit("-7"))),
            (
                "SELECT key FROM kv WHERE key = 1.5e3",
                KeyFilter::Eq(lit("1.5e3")),
            ),
            (
                "SELECT key FROM kv WHERE key = $1::text",
                KeyFilter::Eq(Scalar::Param {
                    index: 1,
                    cast: Some(SqlType::Text),
                }),
            ),
            (
                "SELECT key FROM kv WHERE key = CAST($1 AS varchar)",
                KeyFilter::Eq(Scalar::Param {
                    index: 1,
                    cast: Some(SqlType::Text),
                }),
            ),
            (
                "SELECT key FROM kv WHERE key = '\\x01'::bytea",
                KeyFilter::Eq(lit_cast("\\x01", SqlType::Bytea)),
            ),
            (
                "SELECT key FROM kv WHERE key IN ('a', $2, 'c')",
                KeyFilter::In(vec![lit("a"), param(2), lit("c")]),
            ),
            (
                "SELECT key FROM kv WHERE key IN ('a')",
                KeyFilter::In(vec![lit("a")]),
            ),
            (
                "SELECT key FROM kv WHERE key LIKE 'pre%'",
                KeyFilter::Like(lit("pre%")),
            ),
            (
                "SELECT key FROM kv WHERE (key like $1)",
                KeyFilter::Like(param(1)),
            ),
        ];
        for (sql, filter) in cases {
            assert_select(sql, select(vec![key()], filter));
        }
    }

    #[test]
    fn select_order_limit_offset_fetch_locking() {
        let mut expected = select(vec![star()], KeyFilter::All);
        expected.order = Order::KeyDesc;
        expected.limit = Some(lit("10"));
        expected.offset = Some(param(2));
        assert_select(
            "SELECT * FROM kv ORDER BY key DESC LIMIT 10 OFFSET $2",
            expected.clone(),
        );
        assert_select(
            "SELECT * FROM kv ORDER BY kv.key desc OFFSET $2 ROWS LIMIT 10",
            expected.clone(),
        );
        assert_select(
            "SELECT * FROM kv ORDER BY key DESC OFFSET $2 FETCH FIRST 10 ROWS ONLY",
            expected.clone(),
        );
        assert_select(
            "SELECT * FROM kv ORDER BY key DESC LIMIT 10 OFFSET $2 FOR UPDATE",
            expected.clone(),
        );
        assert_select(
            "SELECT * FROM kv ORDER BY key DESC FOR SHARE LIMIT 10 OFFSET $2",
            expected,
        );

        let mut ascending = select(vec![key()], KeyFilter::Like(lit("a%")));
        ascending.order = Order::KeyAsc;
        assert_select(
            "SELECT key FROM kv WHERE key LIKE 'a%' ORDER BY key",
            ascending.clone(),
        );
        assert_select(
            "SELECT key FROM kv WHERE key LIKE 'a%' ORDER BY key ASC",
            ascending,
        );

        let mut first_row = select(vec![value()], KeyFilter::All);
        first_row.limit = Some(lit("1"));
        assert_select(
            "SELECT value FROM kv FETCH NEXT ROW ONLY",
            first_row.clone(),
        );
        assert_select(
            "SELECT value FROM kv FETCH FIRST 1 ROW ONLY",
            first_row.clone(),
        );
        assert_select(
            "SELECT value FROM kv LIMIT 1 FOR NO KEY UPDATE",
            first_row.clone(),
        );
        assert_select("SELECT value FROM kv LIMIT 1 FOR KEY SHARE", first_row);

        let mut param_limit = select(vec![value()], KeyFilter::All);
        param_limit.limit = Some(param(1));
        assert_select("SELECT value FROM kv LIMIT $1", param_limit);

        let unlimited = select(vec![value()], KeyFilter::All);
        assert_select("SELECT value FROM kv LIMIT ALL", unlimited.clone());
        assert_select("SELECT value FROM kv LIMIT NULL OFFSET NULL", unlimited);

        // ORDER BY a bare name sorts by the output column of that name.
        assert_other("SELECT value AS key FROM kv ORDER BY key");
        assert_other("SELECT key::bytea FROM kv ORDER BY key");
        let mut by_key = select(
            vec![aliased(ColumnExpr::Value(None), "key")],
            KeyFilter::All,
        );
        by_key.order = Order::KeyAsc;
        assert_select("SELECT value AS key FROM kv ORDER BY kv.key", by_key);
    }

    #[test]
    fn select_shapes_for_the_general_path() {
        for sql in [
            "SELECT 1",
            "SELECT version()",
            "SELECT * FROM pg_catalog.pg_class",
            "SELECT value FROM kv WHERE value = 'x'",
            "SELECT * FROM kv JOIN x ON kv.key = x.key",
            "SELECT * FROM kv LEFT JOIN x USING (key)",
            "SELECT * FROM kv, other",
            "SELECT key FROM kv GROUP BY key",
            "SELECT key FROM kv WHERE key = 'a' AND value = 'b'",
            "SELECT key FROM kv WHERE key = 'a' OR key = 'b'",
            "SELECT DISTINCT key FROM kv",
            "SELECT now() FROM kv",
            "SELECT FROM kv",
            "SELECT",
            "SELECT * FROM kv WHERE key IN (SELECT key FROM other)",
            "SELECT * FROM kv WHERE key = (SELECT 'a')",
            "SELECT * FROM kv WHERE key = ANY($1)",
            "SELECT * FROM kv WHERE key NOT IN ('a')",
            "SELECT * FROM kv WHERE key ILIKE 'a'",
            "SELECT * FROM kv WHERE key LIKE 'a' ESCAPE '!'",
            "SELECT * FROM kv WHERE NOT key = 'a'",
            "SELECT * FROM kv WHERE key",
            "SELECT * FROM kv WHERE 'a'",
            "SELECT * FROM kv WHERE key = \"a\"",
            "SELECT * FROM kv WHERE key = 'a' || 'b'",
            "SELECT * FROM kv WHERE key = lower('A')",
            "SELECT * FROM kv WHERE key = TRUE",
            "SELECT * FROM kv WHERE key = -7::text",
            "SELECT * FROM kv WHERE key = $1::text::bytea",
            "SELECT * FROM kv WHERE key = 'a'::varchar(3)",
            "SELECT * FROM kv WHERE key = 'a'::char",
            "SELECT * FROM kv WHERE key = 'a'::unknown_type",
            "SELECT * FROM kv WHERE key = 'a' 'b'",
            "SELECT * FROM kv WHERE key = B'0101'",
            "SELECT * FROM kv WHERE key = 0x1F",
            "SELECT * FROM kv WHERE key = ('a')",
            "SELECT * FROM kv WHERE (key, value) = ('a', 'b')",
            "SELECT * FROM kv ORDER BY value",
            "SELECT * FROM kv ORDER BY 1",
            "SELECT * FROM kv ORDER BY key NULLS FIRST",
            "SELECT * FROM kv ORDER BY key, value",
            "SELECT * FROM kv LIMIT 1, 2",
            "SELECT * FROM kv LIMIT 1 LIMIT 2",
            "SELECT * FROM kv LIMIT 1 FETCH FIRST 1 ROW ONLY",
            "SELECT * FROM kv FETCH FIRST 1 ROWS WITH TIES",
            "SELECT * FROM kv FOR UPDATE NOWAIT",
            "SELECT * FROM kv FOR UPDATE OF kv",
            "SELECT * FROM kv FOR READ ONLY",
            "SELECT * FROM kv UNION SELECT * FROM kv",
            "SELECT * FROM kv WHERE key = 'a' garbage",
            "SELECT * FROM ONLY kv",
            "SELECT * FROM kv TABLESAMPLE SYSTEM (10)",
            "SELECT * FROM other.kv",
            "SELECT * FROM db.public.kv",
            "SELECT key FROM (SELECT * FROM kv) s",
            "SELECT *::text FROM kv",
            "SELECT key || value FROM kv",
            "SELECT length(key) FROM kv",
            "SELECT pg_sleep(1), 2",
            "SELECT pg_sleep(1) FROM kv",
            "SELECT pg_sleep(1 + 1)",
            "SELECT pg_sleep()",
            "WITH x AS (SELECT 1) SELECT * FROM kv",
            "(SELECT * FROM kv)",
            "TABLE kv",
            "VALUES (1)",
            "EXPLAIN SELECT * FROM kv",
        ] {
            assert_other(sql);
        }
        // Deeper parentheses than the fast path bothers with.
        let deep = format!(
            "SELECT * FROM kv WHERE {}key = 'a'{}",
            "(".repeat(65),
            ")".repeat(65)
        );
        assert_other(&deep);
        let shallow = format!(
            "SELECT * FROM kv WHERE {}key = 'a'{}",
            "(".repeat(64),
            ")".repeat(64)
        );
        assert_select(&shallow, select(vec![star()], KeyFilter::Eq(lit("a"))));
    }

    #[test]
    fn select_pg_sleep() {
        assert_eq!(one("SELECT pg_sleep(1.5)"), Statement::Sleep(lit("1.5")));
        assert_eq!(one("select PG_SLEEP($1)"), Statement::Sleep(param(1)));
        assert_eq!(one("SELECT pg_sleep('2')"), Statement::Sleep(lit("2")));
        assert_eq!(one("SELECT pg_sleep(NULL)"), Statement::Sleep(Scalar::Null));
        assert_eq!(
            one("SELECT pg_sleep(0.1::int8)"),
            Statement::Sleep(lit_cast("0.1", SqlType::Integer))
        );
    }

    #[test]
    fn select_syntax_errors() {
        assert_error_at_end("SELECT * FROM kv WHERE");
        assert_error_at_end("SELECT * FROM kv WHERE key =");
        assert_error_at_end("SELECT * FROM kv WHERE key = ");
        assert_error_at_end("SELECT * FROM kv WHERE 'a' =");
        assert_error_at_end("SELECT * FROM kv WHERE key IN ('a',");
        assert_error_at_end("SELECT * FROM kv WHERE key LIKE");
        assert_error_at_end("SELECT * FROM kv LIMIT");
        assert_error_at_end("SELECT * FROM kv OFFSET");
        assert_error_at_end("SELECT * FROM kv ORDER BY");
        assert_error_at_end("SELECT * FROM kv ORDER BY key LIMIT 1 FOR");
        assert_error_at_end("SELECT * FROM kv FETCH FIRST 1");
        assert_error_at_end("SELECT * FROM kv AS");
        assert_error_at_end("SELECT * FROM kv WHERE key = -");
        assert_syntax_error("SELECT * FROM kv WHERE key = ;", ";", 30);
        assert_syntax_error("SELECT key, FROM kv", "FROM", 13);
        assert_syntax_error("SELECT key AS , value FROM kv", ",", 15);
        assert_syntax_error("SELECT * FROM kv ORDER key", "key", 24);
        assert_syntax_error("SELECT * FROM kv WHERE key IN ()", ")", 32);
        assert_syntax_error("SELECT * FROM kv WHERE key IN 'a'", "'a'", 31);
        assert_syntax_error("SELECT key:: FROM kv", "FROM", 14);
        assert_syntax_error("SELECT * FROM kv WHERE key = ORDER BY key", "ORDER", 30);
        assert_syntax_error("SELECT * FROM kv WHERE key = 'a' LIMIT WHERE", "WHERE", 40);
        assert_syntax_error("SELECT * FROM kv FETCH 1 ROWS ONLY", "1", 24);
        assert_syntax_error("SELECT * FROM kv WHERE key = 'a')", ")", 33);
    }

    #[test]
    fn syntax_error_positions_count_characters_in_the_whole_string() {
        // Statement two; 'é' and '€' are one character each.
        assert_syntax_error("SELECT 'é€'; SELECT key, FROM kv", "FROM", 26);
        let sql = "SELECT 'é€'; SELECT * FROM kv WHERE";
        assert_eq!(error(sql).position, Some(36));
        assert_syntax_error(
            "SELECT 1;\nSELECT * FROM kv WHERE key = ; SELECT 2",
            ";",
            40,
        );
        assert_syntax_error("SELECT * FROM kv WHERE key = ; SELECT 2", ";", 30);
    }

    #[test]
    fn casts_to_every_listed_type() {
        for (cast, sql_type) in [
            ("text", SqlType::Text),
            ("TEXT", SqlType::Text),
            ("\"text\"", SqlType::Text),
            ("varchar", SqlType::Text),
            ("character varying", SqlType::Text),
            ("bytea", SqlType::Bytea),
            ("int", SqlType::Integer),
            ("integer", SqlType::Integer),
            ("int2", SqlType::Integer),
            ("int4", SqlType::Integer),
            ("int8", SqlType::Integer),
            ("bigint", SqlType::Integer),
            ("smallint", SqlType::Integer),
        ] {
            let sql = format!("SELECT key::{cast} FROM kv WHERE key = $1::{cast}");
            assert_select(
                &sql,
                select(
                    vec![col(ColumnExpr::Key(Some(sql_type)))],
                    KeyFilter::Eq(Scalar::Param {
                        index: 1,
                        cast: Some(sql_type),
                    }),
                ),
            );
            let sql =
                format!("SELECT CAST(value AS {cast}) FROM kv WHERE key = CAST('k' AS {cast})");
            assert_select(
                &sql,
                select(
                    vec![col(ColumnExpr::Value(Some(sql_type)))],
                    KeyFilter::Eq(lit_cast("k", sql_type)),
                ),
            );
        }
        // NULL stays NULL whatever its cast.
        assert_select(
            "SELECT key FROM kv WHERE key = NULL::text",
            select(vec![key()], KeyFilter::Eq(Scalar::Null)),
        );
        assert_select(
            "SELECT key FROM kv WHERE key = CAST(NULL AS bytea)",
            select(vec![key()], KeyFilter::Eq(Scalar::Null)),
        );
        for cast in [
            "\"int\"",
            "char",
            "character",
            "name",
            "numeric",
            "text[]",
            "pg_catalog.text",
        ] {
            assert_other(&format!("SELECT key FROM kv WHERE key = $1::{cast}"));
        }
    }

    #[test]
    fn statement_text_excludes_semicolon_and_whitespace() {
        let sql = "SELECT value FROM kv WHERE key = $1;\n\tINSERT INTO kv VALUES ('a', 'b') ;";
        let parsed = parse(sql).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            &sql[parsed[0].text.clone()],
            "SELECT value FROM kv WHERE key = $1"
        );
        assert_eq!(
            &sql[parsed[1].text.clone()],
            "INSERT INTO kv VALUES ('a', 'b')"
        );
        assert_eq!(parsed[0].param_count, 1);
        assert_eq!(parsed[1].param_count, 0);
        assert_eq!(
            parsed[1].statement,
            Statement::Insert(insert(vec![(lit("a"), lit("b"))]))
        );
    }

    // ---- INSERT ----

    #[test]
    fn insert_forms() {
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b')"),
            Statement::Insert(insert(vec![(lit("a"), lit("b"))]))
        );
        assert_eq!(
            one("insert into public.kv (key, value) values ($1, $2)"),
            Statement::Insert(insert(vec![(param(1), param(2))]))
        );
        assert_eq!(
            one("INSERT INTO kv (\"value\", KEY) VALUES ('v', 'k'), ('v2', 'k2')"),
            Statement::Insert(insert(vec![(lit("k"), lit("v")), (lit("k2"), lit("v2"))]))
        );
        let parsed = parse_one("INSERT INTO kv VALUES ($1, $2), ($3, $4), ($5, NULL)");
        assert_eq!(parsed.param_count, 5);
        assert_eq!(
            parsed.statement,
            Statement::Insert(insert(vec![
                (param(1), param(2)),
                (param(3), param(4)),
                (param(5), Scalar::Null)
            ]))
        );
        assert_eq!(
            one("INSERT INTO kv VALUES (1, -2.5)"),
            Statement::Insert(insert(vec![(lit("1"), lit("-2.5"))]))
        );
        assert_eq!(
            one("INSERT INTO kv VALUES ('k', '\\x00ff'::bytea)"),
            Statement::Insert(insert(vec![(
                lit("k"),
                lit_cast("\\x00ff", SqlType::Bytea)
            )]))
        );
    }

    #[test]
    fn insert_on_conflict_and_returning() {
        let mut expected = insert(vec![(lit("a"), lit("b"))]);
        expected.on_conflict = OnConflict::DoNothing;
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b') ON CONFLICT DO NOTHING"),
            Statement::Insert(expected.clone())
        );
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b') on conflict (key) do nothing"),
            Statement::Insert(expected.clone())
        );

        expected.on_conflict = OnConflict::DoUpdate(None);
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
            Statement::Insert(expected.clone())
        );
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\""),
            Statement::Insert(expected.clone())
        );

        expected.on_conflict = OnConflict::DoUpdate(Some(param(1)));
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (key) DO UPDATE SET value = $1"),
            Statement::Insert(expected.clone())
        );

        expected.on_conflict = OnConflict::Error;
        expected.returning = vec![star()];
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b') RETURNING *"),
            Statement::Insert(expected.clone())
        );
        expected.returning = vec![
            key(),
            aliased(ColumnExpr::Value(Some(SqlType::Bytea)), "v"),
            col(ColumnExpr::ValueLength { octets: false }),
        ];
        assert_eq!(
            one("INSERT INTO kv AS t VALUES ('a', 'b') RETURNING t.key, value::bytea AS v, length(t.value)"),
            Statement::Insert(expected.clone())
        );
        expected.on_conflict = OnConflict::DoNothing;
        expected.returning = vec![key()];
        assert_eq!(
            one("INSERT INTO kv VALUES ('a', 'b') ON CONFLICT DO NOTHING RETURNING kv.key"),
            Statement::Insert(expected)
        );
    }

    #[test]
    fn insert_shapes_for_the_general_path() {
        for sql in [
            "INSERT INTO kv (key) VALUES ('a')",
            "INSERT INTO kv VALUES ('a')",
            "INSERT INTO kv VALUES ('a', 'b', 'c')",
            "INSERT INTO kv VALUES ('a', 'b'), ('c')",
            "INSERT INTO kv (key, key) VALUES ('a', 'b')",
            "INSERT INTO kv (key, other) VALUES ('a', 'b')",
            "INSERT INTO kv (key, value, other) VALUES ('a', 'b', 'c')",
            "INSERT INTO kv DEFAULT VALUES",
            "INSERT INTO kv SELECT 'a', 'b'",
            "INSERT INTO kv (key, value) SELECT key, value FROM kv",
            "INSERT INTO kv VALUES (DEFAULT, 'a')",
            "INSERT INTO kv VALUES (lower('A'), 'b')",
            "INSERT INTO kv VALUES ('a', 'b' || 'c')",
            "INSERT INTO other VALUES ('a', 'b')",
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT ON CONSTRAINT kv_pkey DO NOTHING",
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT DO UPDATE SET value = 'c'",
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (key) WHERE key > 'a' DO NOTHING",
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (value) DO NOTHING",
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value WHERE kv.value <> 'x'",
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (key) DO UPDATE SET value = kv.value || 'x'",
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (key) DO UPDATE SET key = 'x'",
            "INSERT INTO kv VALUES ('a', 'b') RETURNING count(*)",
            "INSERT INTO kv VALUES ('a', 'b') RETURNING key || value",
            "INSERT INTO kv VALUES ('a', 'b') RETURNING t.key",
            "INSERT INTO kv AS t VALUES ('a', 'b') RETURNING kv.key",
            "WITH x AS (SELECT 1) INSERT INTO kv VALUES ('a', 'b')",
        ] {
            assert_other(sql);
        }
    }

    #[test]
    fn insert_syntax_errors() {
        assert_error_at_end("INSERT INTO kv");
        assert_error_at_end("INSERT INTO kv VALUES");
        assert_error_at_end("INSERT INTO kv VALUES ('a', 'b'),");
        assert_error_at_end("INSERT INTO kv VALUES ('a', 'b') ON CONFLICT DO");
        assert_error_at_end(
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT (key) DO UPDATE SET value =",
        );
        assert_error_at_end("INSERT INTO kv VALUES ('a', 'b') RETURNING");
        assert_error_at_end("INSERT INTO kv AS");
        assert_syntax_error("INSERT INTO kv VALUES ('a',)", ")", 28);
        assert_syntax_error("INSERT INTO kv foo VALUES ('a', 'b')", "foo", 16);
        assert_syntax_error("INSERT INTO kv VALUES 'a'", "'a'", 23);
        assert_syntax_error("INSERT INTO kv () VALUES ('a', 'b')", ")", 17);
        assert_syntax_error(
            "INSERT INTO kv VALUES ('a', 'b') ON CONFLICT DO SOMETHING",
            "SOMETHING",
            49,
        );
        assert_syntax_error(
            "INSERT INTO kv VALUES ('a', 'b') ON DUPLICATE",
            "DUPLICATE",
            37,
        );
        assert_syntax_error("INSERT INTO kv VALUES ('a'; 'b')", ";", 27);
    }

    // ---- UPDATE / DELETE / TRUNCATE ----

    #[test]
    fn update_forms() {
        assert_eq!(
            one("UPDATE kv SET value = '42' WHERE key = '7'"),
            Statement::Update(Update {
                value: lit("42"),
                filter: KeyFilter::Eq(lit("7")),
                returning: vec![],
            })
        );
        let parsed = parse_one("update KV set VALUE = $1 where key in ($2, $3) returning value");
        assert_eq!(parsed.param_count, 3);
        assert_eq!(
            parsed.statement,
            Statement::Update(Update {
                value: param(1),
                filter: KeyFilter::In(vec![param(2), param(3)]),
                returning: vec![value()],
            })
        );
        assert_eq!(
            one("UPDATE public.kv AS t SET value = NULL WHERE t.key LIKE 'a%' RETURNING t.*"),
            Statement::Update(Update {
                value: Scalar::Null,
                filter: KeyFilter::Like(lit("a%")),
                returning: vec![star()],
            })
        );
        assert_eq!(
            one("UPDATE kv t SET value = 'x'"),
            Statement::Update(Update {
                value: lit("x"),
                filter: KeyFilter::All,
                returning: vec![],
            })
        );
    }

    #[test]
    fn update_shapes_for_the_general_path() {
        for sql in [
            "UPDATE kv SET key = 'x'",
            "UPDATE kv SET value = value || 'x'",
            "UPDATE kv SET value = 'x', key = 'y'",
            "UPDATE kv SET (value) = ('x')",
            "UPDATE kv SET value[1] = 'x'",
            "UPDATE kv SET value = DEFAULT",
            "UPDATE kv SET value = 'x' FROM other WHERE other.key = kv.key",
            "UPDATE kv SET value = 'x' WHERE CURRENT OF c",
            "UPDATE kv SET value = 'x' WHERE value = 'y'",
            "UPDATE other SET value = 'x'",
            "UPDATE ONLY kv SET value = 'x'",
        ] {
            assert_other(sql);
        }
    }

    #[test]
    fn update_syntax_errors() {
        assert_error_at_end("UPDATE kv");
        assert_error_at_end("UPDATE kv SET");
        assert_error_at_end("UPDATE kv SET value");
        assert_error_at_end("UPDATE kv SET value =");
        assert_error_at_end("UPDATE kv SET value = 'x' WHERE");
        assert_syntax_error("UPDATE kv SET value 'x'", "'x'", 21);
        assert_syntax_error("UPDATE kv SET value = WHERE key = 'a'", "WHERE", 23);
        // `value` is taken as the alias, as PostgreSQL does.
        assert_syntax_error("UPDATE kv value = 'x'", "=", 17);
        assert_syntax_error("UPDATE kv SET = 'x'", "=", 15);
    }

    #[test]
    fn delete_and_truncate() {
        assert_eq!(
            one("DELETE FROM kv WHERE key = $1 RETURNING *"),
            Statement::Delete(Delete {
                filter: KeyFilter::Eq(param(1)),
                returning: vec![star()],
            })
        );
        assert_eq!(
            one("delete from kv"),
            Statement::Delete(Delete {
                filter: KeyFilter::All,
                returning: vec![],
            })
        );
        assert_eq!(
            one("DELETE FROM kv AS t WHERE t.key IN ('a', 'b') RETURNING t.key AS k"),
            Statement::Delete(Delete {
                filter: KeyFilter::In(vec![lit("a"), lit("b")]),
                returning: vec![aliased(ColumnExpr::Key(None), "k")],
            })
        );
        assert_other("DELETE FROM kv USING other WHERE other.key = kv.key");
        assert_other("DELETE FROM other");
        assert_other("DELETE FROM kv WHERE value = 'x'");
        assert_other("DELETE kv");
        assert_error_at_end("DELETE FROM kv WHERE");
        assert_error_at_end("DELETE FROM kv WHERE key IN (");
        assert_syntax_error("DELETE FROM kv WHERE key = 'a' RETURNING ,", ",", 42);

        assert_eq!(one("TRUNCATE kv"), Statement::Truncate);
        assert_eq!(one("truncate table public.kv"), Statement::Truncate);
        assert_other("TRUNCATE other");
        assert_other("TRUNCATE kv CASCADE");
        assert_other("TRUNCATE kv, other");
        assert_other("TRUNCATE");
    }

    // ---- transactions ----

    #[test]
    fn transaction_control() {
        for sql in [
            "BEGIN",
            "begin work",
            "BEGIN TRANSACTION",
            "BEGIN ISOLATION LEVEL SERIALIZABLE",
            "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ WRITE",
            "BEGIN ISOLATION LEVEL READ COMMITTED NOT DEFERRABLE",
            "BEGIN ISOLATION LEVEL READ UNCOMMITTED, DEFERRABLE",
            "START TRANSACTION",
            "START TRANSACTION READ ONLY, READ WRITE",
        ] {
            assert_eq!(one(sql), Statement::Begin { read_only: false }, "{sql}");
        }
        for sql in [
            "BEGIN READ ONLY",
            "BEGIN WORK ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE",
            "start transaction read only",
        ] {
            assert_eq!(one(sql), Statement::Begin { read_only: true }, "{sql}");
        }
        for sql in [
            "COMMIT",
            "commit work",
            "COMMIT TRANSACTION",
            "END",
            "END TRANSACTION AND NO CHAIN",
            "COMMIT AND NO CHAIN",
        ] {
            assert_eq!(one(sql), Statement::Commit, "{sql}");
        }
        for sql in [
            "ROLLBACK",
            "rollback work",
            "ABORT",
            "ABORT TRANSACTION",
            "ROLLBACK AND NO CHAIN",
        ] {
            assert_eq!(one(sql), Statement::Rollback, "{sql}");
        }
        assert_eq!(one("SAVEPOINT Sp1"), Statement::Savepoint("sp1".to_owned()));
        assert_eq!(
            one("SAVEPOINT \"Sp 1\""),
            Statement::Savepoint("Sp 1".to_owned())
        );
        assert_eq!(
            one("ROLLBACK TO sp"),
            Statement::RollbackTo("sp".to_owned())
        );
        assert_eq!(
            one("ROLLBACK TO SAVEPOINT sp"),
            Statement::RollbackTo("sp".to_owned())
        );
        assert_eq!(
            one("rollback work to savepoint \"X\""),
            Statement::RollbackTo("X".to_owned())
        );
        assert_eq!(
            one("ROLLBACK TRANSACTION TO a"),
            Statement::RollbackTo("a".to_owned())
        );
        assert_eq!(one("RELEASE sp"), Statement::Release("sp".to_owned()));
        assert_eq!(
            one("RELEASE SAVEPOINT SP"),
            Statement::Release("sp".to_owned())
        );
        // As in PostgreSQL's grammar, a lone SAVEPOINT word is the name.
        assert_eq!(
            one("RELEASE savepoint"),
            Statement::Release("savepoint".to_owned())
        );

        assert_other("COMMIT PREPARED 'x'");
        assert_other("ROLLBACK PREPARED 'x'");
        assert_other("COMMIT AND CHAIN");
        assert_other("PREPARE TRANSACTION 'x'");

        assert_syntax_error("BEGIN ISOLATION LEVEL foo", "foo", 23);
        assert_error_at_end("BEGIN READ");
    }

    #[test]
    fn transaction_syntax_errors() {
        assert_error_at_end("SAVEPOINT");
        assert_error_at_end("START");
        assert_error_at_end("BEGIN READ ONLY,");
        assert_error_at_end("BEGIN ISOLATION LEVEL");
        assert_error_at_end("ROLLBACK TO");
        assert_error_at_end("RELEASE");
        assert_error_at_end("COMMIT AND NO");
        assert_syntax_error("COMMIT foo", "foo", 8);
        assert_syntax_error("START foo", "foo", 7);
        assert_syntax_error("SAVEPOINT 'x'", "'x'", 11);
        assert_syntax_error("SAVEPOINT select", "select", 11);
        assert_syntax_error("ABORT TO sp", "TO", 7);
        assert_syntax_error("BEGIN; COMMIT WORK WORK", "WORK", 20);
    }

    // ---- SET / SHOW / RESET / DISCARD / CLOSE / UNLISTEN ----

    #[test]
    fn set_forms() {
        let cases = [
            (
                "SET search_path TO public",
                set("search_path", Some("public"), false),
            ),
            (
                "set Application_Name = 'MyApp'",
                set("application_name", Some("MyApp"), false),
            ),
            (
                "SET LOCAL statement_timeout = 5000",
                set("statement_timeout", Some("5000"), true),
            ),
            (
                "SET SESSION DateStyle = ISO, MDY",
                set("datestyle", Some("iso, mdy"), false),
            ),
            (
                "SET extra_float_digits = -3",
                set("extra_float_digits", Some("-3"), false),
            ),
            (
                "SET extra_float_digits = +3",
                set("extra_float_digits", Some("3"), false),
            ),
            ("SET x = 1.5", set("x", Some("1.5"), false)),
            ("SET work_mem TO DEFAULT", set("work_mem", None, false)),
            ("SET work_mem = default", set("work_mem", None, false)),
            (
                "SET standard_conforming_strings = ON",
                set("standard_conforming_strings", Some("on"), false),
            ),
            (
                "SET enable_seqscan = off",
                set("enable_seqscan", Some("off"), false),
            ),
            (
                "SET enable_seqscan TO TRUE",
                set("enable_seqscan", Some("true"), false),
            ),
            (
                "SET log_error_verbosity = verbose",
                set("log_error_verbosity", Some("verbose"), false),
            ),
            (
                "SET search_path = \"$user\", public",
                set("search_path", Some("$user, public"), false),
            ),
            (
                "SET myapp.User_Id = '42'",
                set("myapp.user_id", Some("42"), false),
            ),
            (
                "SET \"Quoted.Name\" = E'a\\tb'",
                set("Quoted.Name", Some("a\tb"), false),
            ),
            (
                "SET TIME ZONE 'Europe/Paris'",
                set("timezone", Some("Europe/Paris"), false),
            ),
            ("set time zone UTC", set("timezone", Some("utc"), false)),
            ("SET TIME ZONE LOCAL", set("timezone", None, false)),
            ("SET TIME ZONE DEFAULT", set("timezone", None, false)),
            ("SET TIME ZONE -7", set("timezone", Some("-7"), false)),
            (
                "SET LOCAL TIME ZONE 'UTC'",
                set("timezone", Some("UTC"), true),
            ),
            ("SET timezone = 'UTC'", set("timezone", Some("UTC"), false)),
            (
                "SET NAMES 'UTF8'",
                set("client_encoding", Some("UTF8"), false),
            ),
            ("SET NAMES", set("client_encoding", None, false)),
            ("SET NAMES DEFAULT", set("client_encoding", None, false)),
            ("SET names = 'LATIN1'", set("names", Some("LATIN1"), false)),
            ("SET local = 1", set("local", Some("1"), false)),
            ("SET SESSION role = 'x'", set("role", Some("x"), false)),
        ];
        for (sql, expected) in cases {
            assert_eq!(one(sql), expected, "{sql}");
        }
        for sql in [
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SET TRANSACTION READ ONLY",
            "SET ROLE admin",
            "SET SESSION AUTHORIZATION DEFAULT",
            "SET CONSTRAINTS ALL DEFERRED",
            "SET SCHEMA 'public'",
            "SET XML OPTION DOCUMENT",
            "SET search_path FROM CURRENT",
            "SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE",
        ] {
            assert_other(sql);
        }
    }

    #[test]
    fn set_syntax_errors() {
        assert_error_at_end("SET");
        assert_error_at_end("SET x");
        assert_error_at_end("SET x =");
        assert_error_at_end("SET x = 'a',");
        assert_error_at_end("SET TIME ZONE");
        assert_error_at_end("SET x = -");
        assert_syntax_error("SET x = 'a' 'b'", "'b'", 13);
        assert_syntax_error("SET = 1", "=", 5);
        assert_syntax_error("SET x = select", "select", 9);
        assert_syntax_error("SET x = DEFAULT, 1", ",", 16);
        assert_syntax_error("SET NAMES utf8", "utf8", 11);
        assert_syntax_error("SET x y", "y", 7);
    }

    #[test]
    fn show_reset_discard_close_unlisten() {
        assert_eq!(
            one("SHOW search_path"),
            Statement::Show("search_path".to_owned())
        );
        assert_eq!(one("show ALL"), Statement::Show("all".to_owned()));
        assert_eq!(
            one("SHOW TIME ZONE"),
            Statement::Show("timezone".to_owned())
        );
        assert_eq!(one("SHOW TimeZone"), Statement::Show("timezone".to_owned()));
        assert_eq!(
            one("SHOW \"TimeZone\""),
            Statement::Show("TimeZone".to_owned())
        );
        assert_eq!(
            one("SHOW TRANSACTION ISOLATION LEVEL"),
            Statement::Show("transaction_isolation".to_owned())
        );
        assert_eq!(
            one("SHOW SESSION AUTHORIZATION"),
            Statement::Show("session_authorization".to_owned())
        );
        assert_eq!(one("SHOW myapp.x"), Statement::Show("myapp.x".to_owned()));
        assert_error_at_end("SHOW");
        assert_syntax_error("SHOW server_version garbage", "garbage", 21);

        assert_eq!(one("RESET ALL"), Statement::Reset(None));
        assert_eq!(
            one("reset Search_Path"),
            Statement::Reset(Some("search_path".to_owned()))
        );
        assert_eq!(
            one("RESET TIME ZONE"),
            Statement::Reset(Some("timezone".to_owned()))
        );
        assert_error_at_end("RESET");

        assert_eq!(one("DISCARD ALL"), Statement::Discard { all: true });
        for sql in [
            "DISCARD PLANS",
            "discard sequences",
            "DISCARD TEMP",
            "DISCARD TEMPORARY",
        ] {
            assert_eq!(one(sql), Statement::Discard { all: false }, "{sql}");
        }
        assert_syntax_error("DISCARD everything", "everything", 9);
        assert_error_at_end("DISCARD");

        assert_eq!(one("CLOSE ALL"), Statement::CloseCursor(None));
        assert_eq!(
            one("close My_Cursor"),
            Statement::CloseCursor(Some("my_cursor".to_owned()))
        );
        assert_error_at_end("CLOSE");

        assert_eq!(one("UNLISTEN *"), Statement::Unlisten);
        assert_eq!(one("unlisten my_channel"), Statement::Unlisten);
        assert_error_at_end("UNLISTEN");
    }

    // ---- COPY ----

    #[test]
    fn copy_from_stdin() {
        assert_eq!(
            one("COPY kv FROM STDIN"),
            Statement::CopyFrom(copy_options(both_columns(), CopyFormat::Text))
        );
        assert_eq!(
            one("copy public.kv (value, key) from stdin"),
            Statement::CopyFrom(copy_options(
                vec![CopyColumn::Value, CopyColumn::Key],
                CopyFormat::Text
            ))
        );
        assert_eq!(
            one("COPY kv (key) FROM STDIN"),
            Statement::CopyFrom(copy_options(vec![CopyColumn::Key], CopyFormat::Text))
        );
        let mut csv = copy_options(both_columns(), CopyFormat::Csv);
        csv.header = true;
        csv.delimiter = Some(b';');
        csv.null = Some("NULL".to_owned());
        csv.quote = Some(b'"');
        csv.escape = Some(b'\\');
        assert_eq!(
            one("COPY kv FROM STDIN WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'NULL', QUOTE '\"', ESCAPE '\\')"),
            Statement::CopyFrom(csv.clone())
        );
        assert_eq!(
            one("COPY kv FROM STDIN (format 'csv', header true, delimiter ';', null 'NULL', quote '\"', escape E'\\\\')"),
            Statement::CopyFrom(csv)
        );
        assert_eq!(
            one("COPY kv FROM STDIN (FORMAT binary)"),
            Statement::CopyFrom(copy_options(both_columns(), CopyFormat::Binary))
        );
        assert_eq!(
            one("COPY kv FROM STDIN (HEADER off, FORMAT text)"),
            Statement::CopyFrom(copy_options(both_columns(), CopyFormat::Text))
        );
        assert_eq!(
            one("COPY kv FROM STDIN WITH"),
            Statement::CopyFrom(copy_options(both_columns(), CopyFormat::Text))
        );
    }

    #[test]
    fn copy_old_option_syntax() {
        let mut csv = copy_options(both_columns(), CopyFormat::Csv);
        csv.header = true;
        csv.delimiter = Some(b'|');
        csv.null = Some(String::new());
        assert_eq!(
            one("COPY kv FROM STDIN WITH CSV HEADER DELIMITER AS '|' NULL AS ''"),
            Statement::CopyFrom(csv)
        );
        let mut comma = copy_options(both_columns(), CopyFormat::Text);
        comma.delimiter = Some(b',');
        assert_eq!(
            one("COPY kv FROM STDIN WITH DELIMITER ','"),
            Statement::CopyFrom(comma)
        );
        assert_eq!(
            one("COPY kv FROM STDIN BINARY"),
            Statement::CopyFrom(copy_options(both_columns(), CopyFormat::Binary))
        );
        let mut quoted = copy_options(both_columns(), CopyFormat::Csv);
        quoted.quote = Some(b'\'');
        quoted.escape = Some(b'"');
        assert_eq!(
            one("COPY kv TO STDOUT CSV QUOTE AS '''' ESCAPE '\"'"),
            Statement::CopyTo(quoted, None)
        );
    }

    #[test]
    fn copy_as_drivers_send_it() {
        // pgx CopyFrom.
        assert_eq!(
            one("copy \"public\".\"kv\" ( \"key\", \"value\" ) from stdin binary;"),
            Statement::CopyFrom(copy_options(both_columns(), CopyFormat::Binary))
        );
        // psql \copy.
        assert_eq!(
            one("COPY  kv FROM STDIN"),
            Statement::CopyFrom(copy_options(both_columns(), CopyFormat::Text))
        );
        let mut null_marker = copy_options(both_columns(), CopyFormat::Text);
        null_marker.null = Some("\\N".to_owned());
        assert_eq!(
            one("COPY kv FROM stdin WITH NULL AS '\\N'"),
            Statement::CopyFrom(null_marker)
        );
        let mut tab = copy_options(both_columns(), CopyFormat::Csv);
        tab.delimiter = Some(b'\t');
        assert_eq!(
            one("COPY kv TO STDOUT WITH (FORMAT csv, DELIMITER E'\\t')"),
            Statement::CopyTo(tab, None)
        );
    }

    #[test]
    fn copy_to_stdout() {
        assert_eq!(
            one("COPY kv TO STDOUT"),
            Statement::CopyTo(copy_options(both_columns(), CopyFormat::Text), None)
        );
        assert_eq!(
            one("COPY kv (value) TO stdout (FORMAT csv)"),
            Statement::CopyTo(copy_options(vec![CopyColumn::Value], CopyFormat::Csv), None)
        );
        let mut inner = select(vec![key()], KeyFilter::Like(lit("a%")));
        inner.order = Order::KeyAsc;
        assert_eq!(
            one("COPY (SELECT key FROM kv WHERE key LIKE 'a%' ORDER BY key) TO STDOUT WITH (FORMAT csv)"),
            Statement::CopyTo(copy_options(vec![], CopyFormat::Csv), Some(Box::new(inner)))
        );
        assert_eq!(
            one("copy (select * from kv) to stdout"),
            Statement::CopyTo(
                copy_options(vec![], CopyFormat::Text),
                Some(Box::new(select(vec![star()], KeyFilter::All)))
            )
        );
    }

    #[test]
    fn copy_shapes_for_the_general_path() {
        for sql in [
            "COPY kv FROM '/tmp/x'",
            "COPY kv TO '/tmp/x'",
            "COPY kv FROM PROGRAM 'cat'",
            "COPY kv FROM STDOUT",
            "COPY (SELECT 1) TO STDOUT",
            "COPY (SELECT * FROM other) TO STDOUT",
            "COPY (SELECT * FROM kv WHERE value = 'x') TO STDOUT",
            "COPY (VALUES (1)) TO STDOUT",
            "COPY (SELECT * FROM kv) TO '/tmp/x'",
            "COPY other FROM STDIN",
            "COPY kv (key, key) FROM STDIN",
            "COPY kv (key, other) FROM STDIN",
            "COPY kv FROM STDIN (FREEZE)",
            "COPY kv FROM STDIN (FORMAT csv, FORCE_QUOTE *)",
            "COPY kv FROM STDIN (FORMAT csv, FORCE_NOT_NULL (key))",
            "COPY kv FROM STDIN (ENCODING 'UTF8')",
            "COPY kv FROM STDIN (HEADER match)",
            "COPY kv FROM STDIN WITH CSV FORCE NOT NULL key",
            "COPY kv FROM STDIN WHERE key = 'a'",
            "COPY kv FROM STDIN USING DELIMITERS ','",
            "COPY BINARY kv FROM STDIN",
        ] {
            assert_other(sql);
        }
    }

    #[test]
    fn copy_errors() {
        assert_error_at_end("COPY kv");
        assert_error_at_end("COPY kv FROM STDIN (FORMAT");
        assert_error_at_end("COPY kv FROM STDIN WITH CSV DELIMITER");
        assert_syntax_error("COPY kv FROM STDIN WITH CSV GARBAGE", "GARBAGE", 29);
        assert_syntax_error("COPY kv FROM STDIN WITH DELIMITER ;", ";", 35);
        assert_syntax_error("COPY kv STDIN", "STDIN", 9);
        assert_syntax_error("COPY kv () FROM STDIN", ")", 10);
        assert_syntax_error("COPY (SELECT * FROM kv WHERE) TO STDOUT", ")", 29);
        assert_eq!(
            error("COPY kv FROM STDIN (FORMAT xml)"),
            SyntaxError {
                sqlstate: "22023",
                message: "COPY format \"xml\" not recognized".to_owned(),
                position: Some(21),
            }
        );
        assert_eq!(
            error("COPY kv FROM STDIN (FORMAT csv, format text)"),
            SyntaxError {
                sqlstate: "42601",
                message: "conflicting or redundant options".to_owned(),
                position: Some(33),
            }
        );
        assert_eq!(
            error("COPY kv FROM STDIN WITH BINARY CSV"),
            SyntaxError {
                sqlstate: "42601",
                message: "conflicting or redundant options".to_owned(),
                position: Some(32),
            }
        );
        assert_eq!(
            error("COPY kv FROM STDIN (Bogus 1)"),
            SyntaxError {
                sqlstate: "42601",
                message: "option \"bogus\" not recognized".to_owned(),
                position: Some(21),
            }
        );
        assert_eq!(
            error("COPY kv FROM STDIN (DELIMITER '||')"),
            SyntaxError {
                sqlstate: "0A000",
                message: "COPY delimiter must be a single one-byte character".to_owned(),
                position: None,
            }
        );
        assert_eq!(
            error("COPY kv TO STDOUT (FORMAT csv, QUOTE 'é')").message,
            "COPY quote must be a single one-byte character"
        );
        assert_eq!(
            error("COPY kv FROM STDIN (HEADER maybe)").message,
            "header requires a Boolean value or \"match\""
        );
        assert_eq!(
            error("COPY kv FROM STDIN (DELIMITER)").message,
            "delimiter requires a parameter"
        );
    }

    // ---- splitting, text ranges, Empty ----

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "  SELECT 1 ;  SELECT ';' ; SELECT $$;$$;SELECT $tag$ $$; $tag$ ; SELECT E'\\';' -- ;\n ; SELECT \";\"; /* ; /* ; */ ; */ BEGIN";
        let parsed = parse(sql).unwrap();
        let texts: Vec<&str> = parsed.iter().map(|p| &sql[p.text.clone()]).collect();
        assert_eq!(
            texts,
            [
                "SELECT 1",
                "SELECT ';'",
                "SELECT $$;$$",
                "SELECT $tag$ $$; $tag$",
                "SELECT E'\\';' -- ;",
                "SELECT \";\"",
                "/* ; /* ; */ ; */ BEGIN",
            ]
        );
        assert_eq!(parsed[6].statement, Statement::Begin { read_only: false });
        assert!(parsed[..6].iter().all(|p| p.statement == Statement::Other));
    }

    #[test]
    fn empty_statements_are_dropped() {
        let parsed = parse(";;BEGIN;; ;COMMIT;").unwrap();
        assert_eq!(
            parsed,
            vec![
                Parsed {
                    statement: Statement::Begin { read_only: false },
                    text: 2..7,
                    param_count: 0,
                },
                Parsed {
                    statement: Statement::Commit,
                    text: 11..17,
                    param_count: 0,
                },
            ]
        );
        let parsed = parse("BEGIN; -- done\n").unwrap();
        assert_eq!(parsed.len(), 1);
    }

    #[test]
    fn only_whitespace_and_comments_is_one_empty_statement() {
        for (sql, text) in [
            ("", 0..0),
            ("   \n\t", 5..5),
            ("-- just a comment", 0..17),
            (" /* a /* nested */ comment */ ", 1..29),
            (";", 0..0),
            (" ; ; ", 1..1),
        ] {
            assert_eq!(
                parse(sql).unwrap(),
                vec![Parsed {
                    statement: Statement::Empty,
                    text,
                    param_count: 0,
                }],
                "{sql:?}"
            );
        }
    }

    #[test]
    fn unbalanced_parentheses_are_syntax_errors() {
        assert_error_at_end("SELECT (1");
        assert_syntax_error("SELECT 1)", ")", 9);
        assert_syntax_error("SELECT (1; SELECT 2)", ";", 10);
        assert_syntax_error("SELECT ')' )", ")", 12);
    }

    // ---- parameters ----

    #[test]
    fn param_count_is_the_highest_index_in_each_statement() {
        let parsed =
            parse("SELECT $3 + $1; SELECT '$9', $2; SELECT 1; UPDATE kv SET value = $65535")
                .unwrap();
        let counts: Vec<usize> = parsed.iter().map(|p| p.param_count).collect();
        assert_eq!(counts, [3, 2, 0, 65535]);
        assert_eq!(
            one("SELECT key FROM kv WHERE key = $007"),
            Statement::Select(select(vec![key()], KeyFilter::Eq(param(7))))
        );
    }

    #[test]
    fn parameters_beyond_the_limit_do_not_exist() {
        assert_eq!(
            error("SELECT $65536"),
            SyntaxError {
                sqlstate: "42P02",
                message: "there is no parameter $65536".to_owned(),
                position: Some(8),
            }
        );
        assert_eq!(error("SELECT 1, $0").message, "there is no parameter $0");
        assert_eq!(
            error("SELECT $99999999999999999999999").message,
            "there is no parameter $99999999999999999999999"
        );
        // Junk after a parameter is not a parameter.
        assert_other("SELECT key FROM kv WHERE key = $1abc");
    }

    // ---- literals and identifiers ----

    #[test]
    fn string_literal_rules() {
        let cases = [
            ("'it''s'", "it's"),
            ("'back\\slash'", "back\\slash"),
            ("''", ""),
            ("E'\\n\\t\\\\\\''", "\n\t\\'"),
            ("e'it''s \\b\\f\\r\\q'", "it's \u{8}\u{c}\rq"),
            ("E'\\x41\\101\\x4a\\xg'", "AAJxg"),
            ("E'\\u00e9\\U0001F600'", "é😀"),
            ("E'\\uD83D\\uDE00'", "😀"),
            ("E'\\303\\251'", "é"),
            ("$$it's $ \\ raw$$", "it's $ \\ raw"),
            ("$tag$a $$ b$tag$", "a $$ b"),
            ("$a1$x$a$y$a1$", "x$a$y"),
            ("'héllo wörld'", "héllo wörld"),
            ("'con'\n'tinued'", "continued"),
            ("'a' -- comment with a '\n  'b'\n'c'", "abc"),
            ("E'x\\n'\n'\\n'", "x\n\n"),
        ];
        for (literal, expected) in cases {
            let sql = format!("UPDATE kv SET value = {literal}");
            assert_eq!(
                one(&sql),
                Statement::Update(Update {
                    value: lit(expected),
                    filter: KeyFilter::All,
                    returning: vec![],
                }),
                "{sql}"
            );
        }
    }

    #[test]
    fn invalid_escapes_and_encodings() {
        assert_eq!(
            error("UPDATE kv SET value = E'\\xff'"),
            SyntaxError {
                sqlstate: "22021",
                message: "invalid byte sequence for encoding \"UTF8\": 0xff".to_owned(),
                position: None,
            }
        );
        assert_eq!(
            error("UPDATE kv SET value = E'a\\0'").message,
            "invalid byte sequence for encoding \"UTF8\": 0x00"
        );
        assert_eq!(
            error("UPDATE kv SET value = E'\\u12'"),
            SyntaxError {
                sqlstate: "22025",
                message: "invalid Unicode escape".to_owned(),
                position: Some(25),
            }
        );
        assert_eq!(
            error("UPDATE kv SET value = E'\\uD83Dx'").message,
            "invalid Unicode surrogate pair"
        );
        assert_eq!(
            error("UPDATE kv SET value = E'\\U00110000'").message,
            "invalid Unicode escape value"
        );
    }

    #[test]
    fn unterminated_tokens_are_errors() {
        let cases = [
            (
                "SELECT 'abc",
                "unterminated quoted string at or near \"'abc\"",
                8,
            ),
            (
                "SELECT E'abc\\'",
                "unterminated quoted string at or near \"E'abc\\'\"",
                8,
            ),
            (
                "SELECT 1 /* a /* b */",
                "unterminated /* comment at or near \"/* a /* b */\"",
                10,
            ),
            (
                "SELECT \"abc",
                "unterminated quoted identifier at or near \"\"abc\"",
                8,
            ),
            (
                "SELECT $x$abc$$",
                "unterminated dollar-quoted string at or near \"$x$abc$$\"",
                8,
            ),
            (
                "SELECT 'é', 'abc",
                "unterminated quoted string at or near \"'abc\"",
                13,
            ),
        ];
        for (sql, message, position) in cases {
            assert_eq!(
                error(sql),
                SyntaxError {
                    sqlstate: "42601",
                    message: message.to_owned(),
                    position: Some(position),
                },
                "{sql}"
            );
        }
        assert_eq!(
            error("SELECT \"\" FROM kv").message,
            "zero-length delimited identifier at or near \"\"\"\""
        );
    }

    #[test]
    fn identifiers() {
        // `""` inside a quoted identifier; `$` inside an unquoted one.
        assert_eq!(
            one("SAVEPOINT \"a\"\"b\""),
            Statement::Savepoint("a\"b".to_owned())
        );
        assert_eq!(
            one("SAVEPOINT a$$b"),
            Statement::Savepoint("a$$b".to_owned())
        );
        assert_eq!(one("SAVEPOINT ÉtÉ"), Statement::Savepoint("ÉtÉ".to_owned()));
        // Truncated to 63 bytes, on a character boundary.
        let long = "x".repeat(62) + "éé";
        assert_eq!(
            one(&format!("SAVEPOINT \"{long}\"")),
            Statement::Savepoint("x".repeat(62))
        );
        assert_eq!(
            one(&format!("SAVEPOINT {}", "A".repeat(70))),
            Statement::Savepoint("a".repeat(63))
        );
    }

    #[test]
    fn operators_split_like_postgresql() {
        assert_eq!(
            one("DELETE FROM kv WHERE key=-1"),
            Statement::Delete(Delete {
                filter: KeyFilter::Eq(lit("-1")),
                returning: vec![],
            })
        );
        // `=--` starts a comment; `<>` and `@-` are operators of their own.
        assert_eq!(
            one("DELETE FROM kv WHERE key='a'--x\n"),
            Statement::Delete(Delete {
                filter: KeyFilter::Eq(lit("a")),
                returning: vec![],
            })
        );
        assert_other("DELETE FROM kv WHERE key <> 'a'");
        assert_other("DELETE FROM kv WHERE key =@- 'a'");
    }

    // ---- limits ----

    #[test]
    fn values_and_in_lists_are_capped() {
        let rows = vec!["('k', 'v')"; MAX_LIST_ITEMS].join(",");
        let Statement::Insert(insert) = one(&format!("INSERT INTO kv VALUES {rows}")) else {
            panic!("not an insert");
        };
        assert_eq!(insert.rows.len(), MAX_LIST_ITEMS);

        let too_many = format!("INSERT INTO kv VALUES {rows},('k', 'v')");
        let error = error(&too_many);
        assert_eq!(error.sqlstate, "54000");
        assert_eq!(
            error.message,
            "VALUES lists can have at most 100000 entries"
        );
        assert_eq!(error.position, Some(too_many.len() - 9));

        let items = vec!["'k'"; MAX_LIST_ITEMS + 1].join(",");
        let error = super::parse(&format!("SELECT * FROM kv WHERE key IN ({items})")).unwrap_err();
        assert_eq!(error.sqlstate, "54000");
        assert_eq!(error.message, "IN lists can have at most 100000 entries");
    }

    /// `cargo test --release -- --ignored --nocapture parse_speed`
    #[test]
    #[ignore]
    fn parse_speed() {
        use std::hint::black_box;
        use std::time::Instant;
        for sql in [
            "SELECT value FROM kv WHERE key = $1",
            "UPDATE kv SET value = '42' WHERE key = '7'",
            "INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            "BEGIN",
            "SELECT 1",
        ] {
            let iterations = 2_000_000;
            for _ in 0..10_000 {
                black_box(parse(black_box(sql)).unwrap());
            }
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(parse(black_box(sql)).unwrap());
            }
            let nanos = start.elapsed().as_nanos() as f64 / iterations as f64;
            // The general parser, for the comparison in the README.
            let dialect = sqlparser::dialect::PostgreSqlDialect {};
            let general_iterations = iterations / 20;
            let start = Instant::now();
            for _ in 0..general_iterations {
                black_box(sqlparser::parser::Parser::parse_sql(&dialect, black_box(sql)).unwrap());
            }
            let general = start.elapsed().as_nanos() as f64 / general_iterations as f64;
            println!("{nanos:7.1} ns fast path, {general:8.1} ns sqlparser  {sql}");
        }
    }
}
