//! Session state in transaction pooling: which statements change it, and
//! the SET statements that re-apply a client's parameters on a server.
//!
//! In transaction pooling a client runs each transaction on whichever
//! server connection is free, so whatever a statement leaves behind in the
//! server's session (a parameter, a LISTEN, a prepared statement, a held
//! cursor, a temporary table, a session-level advisory lock) would either
//! be lost or leak to another client. [`effects`] classifies the
//! statements of a simple Query message: parameter changes are tracked per
//! client and re-applied with [`set_statement`]; what cannot be carried to
//! another server is refused. [`may_have_effect`] is the cheap test that
//! lets the hot path skip all of this for ordinary queries.
//!
//! This is a lexer, not a parser: it knows PostgreSQL's quoting (string
//! literals, `E''` escapes, dollar quotes, quoted identifiers, nested block
//! comments) well enough to split statements and read their leading
//! keywords, and leaves everything else to the server. A statement it does
//! not understand has [`Effect::None`]; if it is malformed the server
//! rejects it.

/// A parameter value to re-apply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParamValue {
    /// A plain value (from the startup packet or a ParameterStatus): quoted
    /// as a literal.
    Literal(String),
    /// SQL text as the client wrote it after TO/= (e.g. `"$user", public`
    /// or `'UTC'` or `LOCAL`): replayed as is.
    Sql(String),
}

/// What one statement does to the session, as far as pooling is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Harmless for pooling (SELECT, INSERT, SET LOCAL, SET TRANSACTION,
    /// BEGIN, ...).
    None,
    /// Session state the pool cannot carry to another server: refuse with
    /// ERROR 0A000 and this message (e.g. "LISTEN is not supported in
    /// transaction pooling mode").
    Refused(String),
    /// SET [SESSION] name {TO|=} value, SET TIME ZONE x (name "timezone"),
    /// SET NAMES x ("client_encoding"), SET SCHEMA x ("search_path"), SET
    /// ROLE x ("role"), SET SESSION AUTHORIZATION x
    /// ("session_authorization"), SET XML OPTION x ("xmloption"); name
    /// lowercased (a quoted identifier keeps its case: PostgreSQL compares
    /// parameter names case-insensitively, so key a map by the lowercased
    /// name), value None for `TO DEFAULT` (and SET TIME ZONE LOCAL); RESET
    /// name gives value None too.
    Set {
        name: String,
        value: Option<ParamValue>,
    },
    /// RESET ALL (and DISCARD ALL). Note that PostgreSQL's RESET ALL leaves
    /// role and session_authorization alone, while DISCARD ALL resets them
    /// too.
    ResetAll,
}

/// The effect of every statement in `query` (one Query message may hold
/// several, split on `;` outside quotes, dollar quotes, quoted identifiers,
/// comments, parentheses and `BEGIN ATOMIC ... END` function bodies, as
/// psql splits them). Empty statements are skipped; every other statement
/// has exactly one entry, in order, [`Effect::None`] included.
pub fn effects(query: &str) -> Vec<Effect> {
    let tokens = tokenize(query);
    let mut out = Vec::new();
    let mut start = 0;
    let mut splitter = Splitter::default();
    for (i, token) in tokens.iter().enumerate() {
        if splitter.ends_statement(query, token) {
            if i > start {
                out.push(statement_effect(query, &tokens[start..i]));
            }
            start = i + 1;
        }
    }
    if tokens.len() > start {
        out.push(statement_effect(query, &tokens[start..]));
    }
    out
}

/// Fast check for the common case: false when `query` surely has no effect
/// (its first keyword after whitespace/comments is not SET, RESET, LISTEN,
/// PREPARE, DECLARE, CREATE, DISCARD or LOAD, it has no `;` followed by
/// another statement, and it does not contain "advisory"
/// case-insensitively). It allocates nothing: it reads the first word,
/// looks for "advisory", and lexes the query only when it holds a `;`.
/// When it answers true, [`effects`] decides.
pub fn may_have_effect(query: &str) -> bool {
    const KEYWORDS: [&[u8]; 8] = [
        b"set", b"reset", b"listen", b"prepare", b"declare", b"create", b"discard", b"load",
    ];
    let s = query.as_bytes();
    let start = skip_space_and_comments(s, 0);
    let mut end = start;
    while end < s.len() && (s[end].is_ascii_alphanumeric() || s[end] == b'_') {
        end += 1;
    }
    let first = &s[start..end];
    if KEYWORDS.iter().any(|k| first.eq_ignore_ascii_case(k)) {
        return true;
    }
    if s.windows(8).any(|w| w.eq_ignore_ascii_case(b"advisory")) {
        return true;
    }
    // Another statement after a `;` (lexed only when there is a `;`; the
    // parentheses and routine bodies that psql also considers are left
    // out, which can only make this say true more often).
    // The common `... ;` (one statement, then only spacing) needs no lexing.
    let body = query
        .trim_end()
        .strip_suffix(';')
        .unwrap_or(query)
        .as_bytes();
    if body.contains(&b';') {
        let mut semicolon = false;
        for token in (Tokens { s, i: 0 }) {
            if token.kind == Kind::Punct(b';') {
                semicolon = true;
            } else if semicolon {
                return true;
            }
        }
    }
    false
}

/// `SET name TO value`, or `RESET name` for value None.
///
/// The name is ASCII-lowercased (parameter names are case-insensitive) and
/// double-quoted only when it is not a plain identifier, possibly with
/// dots (`myapp.user_id`), or is a reserved word. A literal is quoted with
/// `''` doubling (as `E'...'` with `\\` doubling when it holds a
/// backslash, so it reads the same whatever standard_conforming_strings
/// is). A literal for a parameter that PostgreSQL quotes as a list of
/// identifiers (search_path, temp_tablespaces, ...) is split into its
/// elements the way the server splits it, so that `"$user", public` from a
/// startup packet gives `SET search_path TO '$user', 'public'` (one
/// quoted literal would name a single schema). An SQL value is replayed as
/// the client wrote it, except that `SET TIME ZONE INTERVAL ...` (which
/// has no `SET timezone TO` form) stays `SET TIME ZONE INTERVAL ...`.
pub fn set_statement(name: &str, value: Option<&ParamValue>) -> String {
    let lower = name.to_ascii_lowercase();
    let name_sql = guc_name_sql(&lower);
    match value {
        None => format!("RESET {name_sql}"),
        Some(ParamValue::Sql(sql)) => {
            if lower == "timezone" && starts_with_word(sql, "interval") {
                format!("SET TIME ZONE {sql}")
            } else {
                format!("SET {name_sql} TO {sql}")
            }
        }
        Some(ParamValue::Literal(text)) => {
            let mut out = format!("SET {name_sql} TO ");
            let list = if LIST_QUOTE_PARAMS.contains(&lower.as_str()) {
                split_identifier_list(text)
            } else {
                None
            };
            match list {
                Some(items) if !items.is_empty() => {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        push_literal(&mut out, item);
                    }
                }
                _ => push_literal(&mut out, text),
            }
            out
        }
    }
}

/// Parameters flagged GUC_LIST_QUOTE in PostgreSQL: SET quotes each of
/// their string arguments as an identifier.
const LIST_QUOTE_PARAMS: [&str; 4] = [
    "search_path",
    "temp_tablespaces",
    "session_preload_libraries",
    "local_preload_libraries",
];

/// The session-level advisory lock functions (the `_xact_` ones end with
/// the transaction and are fine).
const SESSION_ADVISORY_LOCKS: [&str; 4] = [
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
];

/// `name` (already lowercased) as it goes after SET/RESET.
fn guc_name_sql(name: &str) -> String {
    // Each dotted part as quote_ident leaves it: a plain lowercase
    // identifier that is not a reserved keyword.
    let plain = !name.is_empty()
        && name
            .split('.')
            .all(|part| crate::pg::catalog::quote_ident(part) == part);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn push_literal(out: &mut String, text: &str) {
    if text.contains('\\') {
        out.push_str("E'");
        for c in text.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
    } else {
        out.push('\'');
        for c in text.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
    }
    out.push('\'');
}

/// PostgreSQL's SplitIdentifierString with `,`: the elements of a list
/// setting as the server reads them (unquoted ones lowercased). None when
/// the server would reject it.
fn split_identifier_list(raw: &str) -> Option<Vec<String>> {
    let s = raw.as_bytes();
    let mut items = Vec::new();
    let mut i = skip_whitespace(s, 0);
    if i == s.len() {
        return Some(items);
    }
    loop {
        if s[i] == b'"' {
            let mut item = String::new();
            let mut j = i + 1;
            loop {
                let quote = j + raw[j..].find('"')?;
                item.push_str(&raw[j..quote]);
                if s.get(quote + 1) == Some(&b'"') {
                    item.push('"');
                    j = quote + 2;
                } else {
                    i = quote + 1;
                    break;
                }
            }
            items.push(item);
        } else {
            let start = i;
            while i < s.len() && s[i] != b',' && !is_space(s[i]) {
                i += 1;
            }
            if i == start {
                return None;
            }
            items.push(raw[start..i].to_ascii_lowercase());
        }
        i = skip_whitespace(s, i);
        if i == s.len() {
            return Some(items);
        }
        if s[i] != b',' {
            return None;
        }
        i = skip_whitespace(s, i + 1);
        if i == s.len() {
            return None;
        }
    }
}

fn starts_with_word(text: &str, word: &str) -> bool {
    let s = text.as_bytes();
    let start = skip_space_and_comments(s, 0);
    let end = start + word.len();
    end <= s.len()
        && s[start..end].eq_ignore_ascii_case(word.as_bytes())
        && s.get(end).is_none_or(|&b| !is_ident_cont(b))
}

// ---- lexer ----------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An unquoted identifier or keyword.
    Word,
    /// `"..."`.
    QuotedIdent,
    /// `'...'`, `E'...'`, `$tag$...$tag$`.
    Str,
    /// A numeric constant.
    Number,
    /// `$1`.
    Param,
    /// Any other byte (operators are split into single bytes).
    Punct(u8),
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// PostgreSQL's whitespace (scan.l `space`).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

fn skip_whitespace(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    i
}

/// Skips whitespace, `--` line comments and (nested) `/* */` block
/// comments from `i`.
fn skip_space_and_comments(s: &[u8], mut i: usize) -> usize {
    loop {
        i = skip_whitespace(s, i);
        if s[i..].starts_with(b"--") {
            i = match s[i..].iter().position(|&b| b == b'\n') {
                Some(newline) => i + newline + 1,
                None => s.len(),
            };
        } else if s[i..].starts_with(b"/*") {
            let mut depth = 1;
            i += 2;
            while depth > 0 && i < s.len() {
                if s[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if s[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
        } else {
            return i;
        }
    }
}

/// The end of the quoted text that opens at `s[open]` (a `'` or `"`),
/// where a doubled quote stands for itself and, with `backslash`, `\`
/// escapes the next byte. Unterminated: the end of `s`.
fn quoted_end(s: &[u8], open: usize, backslash: bool) -> usize {
    let quote = s[open];
    let mut i = open + 1;
    while i < s.len() {
        if backslash && s[i] == b'\\' {
            i += 2;
        } else if s[i] == quote {
            if s.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    s.len()
}

/// The end of the dollar quote that opens at `s[open]` (a `$`), or None
/// when no `$tag$` starts there.
fn dollar_quote_end(s: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    if i < s.len() && is_ident_start(s[i]) {
        i += 1;
        while i < s.len() && (is_ident_start(s[i]) || s[i].is_ascii_digit()) {
            i += 1;
        }
    }
    if s.get(i) != Some(&b'$') {
        return None;
    }
    let tag = &s[open..=i];
    let body = i + 1;
    Some(
        s[body..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map_or(s.len(), |at| body + at + tag.len()),
    )
}

fn tokenize(query: &str) -> Vec<Token> {
    Tokens {
        s: query.as_bytes(),
        i: 0,
    }
    .collect()
}

/// The tokens of a query, lexed lazily (no allocation).
struct Tokens<'a> {
    s: &'a [u8],
    i: usize,
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let s = self.s;
        let mut i = skip_space_and_comments(s, self.i);
        if i >= s.len() {
            self.i = s.len();
            return None;
        }
        let start = i;
        let b = s[i];
        let kind = if b == b'\'' {
            i = quoted_end(s, i, false);
            Kind::Str
        } else if b == b'"' {
            i = quoted_end(s, i, false);
            Kind::QuotedIdent
        } else if b == b'$' {
            if s.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while i < s.len() && s[i].is_ascii_digit() {
                    i += 1;
                }
                Kind::Param
            } else if let Some(end) = dollar_quote_end(s, i) {
                i = end;
                Kind::Str
            } else {
                i += 1;
                Kind::Punct(b'$')
            }
        } else if is_ident_start(b) {
            i += 1;
            while i < s.len() && is_ident_cont(s[i]) {
                i += 1;
            }
            if i == start + 1 && (b == b'e' || b == b'E') && s.get(i) == Some(&b'\'') {
                i = quoted_end(s, i, true);
                Kind::Str
            } else {
                Kind::Word
            }
        } else if b.is_ascii_digit() {
            i += 1;
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_' || s[i] == b'.') {
                i += 1;
            }
            Kind::Number
        } else {
            i += 1;
            Kind::Punct(b)
        };
        self.i = i;
        Some(Token {
            kind,
            start,
            end: i,
        })
    }
}

/// psql's rule for where a statement ends: a `;` outside parentheses and
/// outside the `BEGIN ... END` body of CREATE [OR REPLACE]
/// {FUNCTION|PROCEDURE}.
#[derive(Default)]
struct Splitter {
    paren_depth: usize,
    begin_depth: usize,
    word_count: usize,
    /// First letters of the statement's first words, where they are
    /// create/or/replace/function/procedure (0 otherwise).
    leading: [u8; 4],
}

impl Splitter {
    fn ends_statement(&mut self, query: &str, token: &Token) -> bool {
        match token.kind {
            Kind::Punct(b'(') => self.paren_depth += 1,
            Kind::Punct(b')') => self.paren_depth = self.paren_depth.saturating_sub(1),
            Kind::Punct(b';') if self.paren_depth == 0 && self.begin_depth == 0 => {
                *self = Splitter::default();
                return true;
            }
            Kind::Word => {
                let word = &query[token.start..token.end];
                if self.word_count < self.leading.len()
                    && ["create", "function", "procedure", "or", "replace"]
                        .iter()
                        .any(|k| word.eq_ignore_ascii_case(k))
                {
                    self.leading[self.word_count] = word.as_bytes()[0].to_ascii_lowercase();
                }
                self.word_count += 1;
                let l = self.leading;
                let routine = l[0] == b'c'
                    && (l[1] == b'f'
                        || l[1] == b'p'
                        || (l[1] == b'o' && l[2] == b'r' && (l[3] == b'f' || l[3] == b'p')));
                if routine && self.paren_depth == 0 {
                    if word.eq_ignore_ascii_case("begin") {
                        self.begin_depth += 1;
                    } else if word.eq_ignore_ascii_case("case") {
                        if self.begin_depth >= 1 {
                            self.begin_depth += 1;
                        }
                    } else if word.eq_ignore_ascii_case("end") {
                        self.begin_depth = self.begin_depth.saturating_sub(1);
                    }
                }
            }
            _ => {}
        }
        false
    }
}

// ---- statements -----------------------------------------------------------

/// One statement's tokens (without its `;`).
struct Stmt<'a> {
    query: &'a str,
    tokens: &'a [Token],
}

impl Stmt<'_> {
    fn kw(&self, i: usize, keyword: &str) -> bool {
        self.tokens.get(i).is_some_and(|t| {
            t.kind == Kind::Word && self.query[t.start..t.end].eq_ignore_ascii_case(keyword)
        })
    }

    fn punct(&self, i: usize, b: u8) -> bool {
        self.tokens.get(i).is_some_and(|t| t.kind == Kind::Punct(b))
    }

    /// TO or `=`.
    fn is_to(&self, i: usize) -> bool {
        self.kw(i, "to") || self.punct(i, b'=')
    }

    /// The statement's text from token `i` to its last token, if any.
    fn rest(&self, i: usize) -> Option<&str> {
        let first = self.tokens.get(i)?;
        let last = self.tokens.last()?;
        Some(&self.query[first.start..last.end])
    }

    /// An identifier (lowercased when unquoted) at token `i`.
    fn ident(&self, i: usize) -> Option<String> {
        let t = self.tokens.get(i)?;
        let text = &self.query[t.start..t.end];
        match t.kind {
            Kind::Word => Some(text.to_ascii_lowercase()),
            Kind::QuotedIdent => {
                let inner = text.strip_prefix('"').unwrap_or(text);
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                Some(inner.replace("\"\"", "\""))
            }
            _ => None,
        }
    }

    /// A parameter name `part[.part...]` from token `i`, and the index of
    /// the token after it.
    fn var_name(&self, mut i: usize) -> Option<(String, usize)> {
        let mut name = self.ident(i)?;
        i += 1;
        while self.punct(i, b'.') {
            let Some(part) = self.ident(i + 1) else {
                break;
            };
            name.push('.');
            name.push_str(&part);
            i += 2;
        }
        Some((name, i))
    }

    /// `name` set to the value from token `i`: None when it is a single
    /// keyword among `defaults`.
    fn set_value(&self, name: &str, i: usize, defaults: &[&str]) -> Effect {
        let Some(text) = self.rest(i) else {
            return Effect::None;
        };
        let value = if i + 1 == self.tokens.len() && defaults.iter().any(|d| self.kw(i, d)) {
            None
        } else {
            Some(ParamValue::Sql(text.to_string()))
        };
        Effect::Set {
            name: name.to_string(),
            value,
        }
    }

    fn calls_session_advisory_lock(&self) -> bool {
        self.tokens.iter().enumerate().any(|(i, t)| {
            let text = &self.query[t.start..t.end];
            self.punct(i + 1, b'(')
                && match t.kind {
                    Kind::Word => SESSION_ADVISORY_LOCKS
                        .iter()
                        .any(|f| text.eq_ignore_ascii_case(f)),
                    Kind::QuotedIdent => SESSION_ADVISORY_LOCKS
                        .iter()
                        .any(|f| text.len() == f.len() + 2 && &text[1..text.len() - 1] == *f),
                    _ => false,
                }
        })
    }
}

fn refused(message: &str) -> Effect {
    Effect::Refused(message.to_string())
}

fn statement_effect(query: &str, tokens: &[Token]) -> Effect {
    let st = Stmt { query, tokens };
    let effect = if st.kw(0, "set") {
        set_effect(&st)
    } else if st.kw(0, "reset") {
        reset_effect(&st)
    } else if st.kw(0, "discard") {
        if st.kw(1, "all") {
            Effect::ResetAll
        } else {
            Effect::None
        }
    } else if st.kw(0, "listen") {
        refused("LISTEN is not supported in transaction pooling mode")
    } else if st.kw(0, "prepare") {
        if st.kw(1, "transaction") {
            Effect::None
        } else {
            refused(
                "PREPARE is not supported in transaction pooling mode; \
                 use the extended query protocol's named prepared statements",
            )
        }
    } else if st.kw(0, "declare") {
        declare_effect(&st)
    } else if st.kw(0, "create") {
        create_effect(&st)
    } else if st.kw(0, "load") {
        refused("LOAD is not supported in transaction pooling mode")
    } else {
        Effect::None
    };
    if effect == Effect::None && st.calls_session_advisory_lock() {
        return refused(
            "session-level advisory locks are not supported in transaction pooling mode; \
             use pg_advisory_xact_lock",
        );
    }
    effect
}

fn set_effect(st: &Stmt) -> Effect {
    if st.kw(1, "local") {
        return Effect::None;
    }
    let i = if st.kw(1, "session") && !st.is_to(2) {
        2
    } else {
        1
    };
    // The special forms, unless the keyword is a parameter name set with
    // TO or = (`SET role = x`).
    if !st.is_to(i + 1) {
        if (st.kw(i, "session") && st.kw(i + 1, "characteristics"))
            || (i == 2 && st.kw(i, "characteristics"))
        {
            return refused(
                "SET SESSION CHARACTERISTICS is not supported in transaction pooling mode; \
                 use SET default_transaction_isolation",
            );
        }
        if st.kw(i, "session") && st.kw(i + 1, "authorization") {
            return st.set_value("session_authorization", i + 2, &["default"]);
        }
        if st.kw(i, "authorization") && i == 2 {
            return st.set_value("session_authorization", i + 1, &["default"]);
        }
        if st.kw(i, "transaction") || st.kw(i, "constraints") {
            return Effect::None;
        }
        if st.kw(i, "time") && st.kw(i + 1, "zone") {
            return st.set_value("timezone", i + 2, &["default", "local"]);
        }
        if st.kw(i, "names") {
            if i + 1 == st.tokens.len() {
                return Effect::Set {
                    name: "client_encoding".to_string(),
                    value: None,
                };
            }
            return st.set_value("client_encoding", i + 1, &["default"]);
        }
        if st.kw(i, "schema") {
            return st.set_value("search_path", i + 1, &[]);
        }
        if st.kw(i, "role") {
            return st.set_value("role", i + 1, &[]);
        }
        if st.kw(i, "xml") && st.kw(i + 1, "option") {
            return st.set_value("xmloption", i + 2, &[]);
        }
    }
    let Some((name, j)) = st.var_name(i) else {
        return Effect::None;
    };
    if !st.is_to(j) {
        // `SET name FROM CURRENT` and malformed statements.
        return Effect::None;
    }
    st.set_value(&name, j + 1, &["default"])
}

fn reset_effect(st: &Stmt) -> Effect {
    let reset = |name: &str| Effect::Set {
        name: name.to_string(),
        value: None,
    };
    if st.kw(1, "all") {
        Effect::ResetAll
    } else if st.kw(1, "time") && st.kw(2, "zone") {
        reset("timezone")
    } else if st.kw(1, "session") && st.kw(2, "authorization") {
        reset("session_authorization")
    } else if st.kw(1, "transaction") && st.kw(2, "isolation") {
        Effect::None
    } else if let Some((name, _)) = st.var_name(1) {
        reset(&name)
    } else {
        Effect::None
    }
}

/// DECLARE name [options] CURSOR [{WITH|WITHOUT} HOLD] FOR query.
fn declare_effect(st: &Stmt) -> Effect {
    let Some(cursor) = (2..st.tokens.len()).find(|&i| st.kw(i, "cursor")) else {
        return Effect::None;
    };
    for i in cursor + 1..st.tokens.len() {
        if st.kw(i, "for") {
            break;
        }
        if st.kw(i, "with") && st.kw(i + 1, "hold") {
            return refused(
                "DECLARE ... WITH HOLD is not supported in transaction pooling mode; \
                 declare the cursor without HOLD inside a transaction",
            );
        }
    }
    Effect::None
}

/// CREATE [OR REPLACE] [GLOBAL|LOCAL] {TEMP|TEMPORARY} [UNLOGGED]
/// {TABLE|VIEW|RECURSIVE VIEW|SEQUENCE}, unless ON COMMIT DROP.
fn create_effect(st: &Stmt) -> Effect {
    let mut i = 1;
    if st.kw(i, "or") && st.kw(i + 1, "replace") {
        i += 2;
    }
    if st.kw(i, "global") || st.kw(i, "local") {
        i += 1;
    }
    if !(st.kw(i, "temp") || st.kw(i, "temporary")) {
        return Effect::None;
    }
    i += 1;
    if st.kw(i, "unlogged") {
        i += 1;
    }
    let what = if st.kw(i, "table") {
        "TABLE"
    } else if st.kw(i, "view") || st.kw(i, "recursive") {
        "VIEW"
    } else if st.kw(i, "sequence") {
        "SEQUENCE"
    } else {
        return Effect::None;
    };
    let on_commit_drop = (i..st.tokens.len())
        .any(|j| st.kw(j, "on") && st.kw(j + 1, "commit") && st.kw(j + 2, "drop"));
    if on_commit_drop {
        return Effect::None;
    }
    let hint = if what == "TABLE" {
        "; use ON COMMIT DROP"
    } else {
        ""
    };
    Effect::Refused(format!(
        "CREATE TEMP {what} is not supported in transaction pooling mode{hint}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, sql: &str) -> Effect {
        Effect::Set {
            name: name.to_string(),
            value: Some(ParamValue::Sql(sql.to_string())),
        }
    }

    fn unset(name: &str) -> Effect {
        Effect::Set {
            name: name.to_string(),
            value: None,
        }
    }

    fn is_refused(query: &str) -> bool {
        matches!(effects(query).as_slice(), [Effect::Refused(_)])
    }

    fn refusal(query: &str) -> String {
        match effects(query).as_slice() {
            [Effect::Refused(message)] => message.clone(),
            other => panic!("{query:?}: {other:?}"),
        }
    }

    fn none(query: &str) -> bool {
        effects(query) == vec![Effect::None]
    }

    #[test]
    fn plain_statements_have_no_effect() {
        for q in [
            "SELECT 1",
            "select abalance from pgbench_accounts where aid = $1",
            "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
            "INSERT INTO t VALUES ('SET x = 1')",
            "BEGIN",
            "COMMIT",
            "EXECUTE p(1)",
            "DEALLOCATE ALL",
            "UNLISTEN *",
            "NOTIFY chan, 'payload'",
            "SELECT pg_advisory_xact_lock(1)",
            "SELECT pg_try_advisory_xact_lock_shared(1)",
            "SELECT pg_advisory_unlock(1)",
            "SELECT 'pg_advisory_lock(1)'",
            "SELECT 1 -- pg_advisory_lock(1)",
            "DISCARD TEMP",
            "DISCARD PLANS",
            "CREATE TABLE t (a int)",
            "CREATE UNLOGGED TABLE t (a int)",
            "CREATE INDEX ON t (a)",
            "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
        ] {
            assert!(none(q), "{q:?}: {:?}", effects(q));
        }
    }

    #[test]
    fn set_forms() {
        assert_eq!(
            effects("SET search_path TO a, b"),
            vec![set("search_path", "a, b")]
        );
        assert_eq!(
            effects("set SEARCH_PATH = \"$user\", public"),
            vec![set("search_path", "\"$user\", public")]
        );
        assert_eq!(
            effects("SET SESSION application_name = 'x'"),
            vec![set("application_name", "'x'")]
        );
        assert_eq!(
            effects("SET statement_timeout=0"),
            vec![set("statement_timeout", "0")]
        );
        assert_eq!(
            effects("SET extra_float_digits=-1"),
            vec![set("extra_float_digits", "-1")]
        );
        assert_eq!(
            effects("SET work_mem TO '64MB';"),
            vec![set("work_mem", "'64MB'")]
        );
        assert_eq!(effects("SET x.y = 1"), vec![set("x.y", "1")]);
        assert_eq!(
            effects("SET \"MyApp\".\"Key\" TO 'v'"),
            vec![set("MyApp.Key", "'v'")]
        );
        assert_eq!(
            effects("SET \"DateStyle\" TO ISO"),
            vec![set("DateStyle", "ISO")]
        );
        assert_eq!(
            effects("SET DateStyle TO ISO, MDY"),
            vec![set("datestyle", "ISO, MDY")]
        );
        assert_eq!(effects("SET work_mem TO DEFAULT"), vec![unset("work_mem")]);
        assert_eq!(effects("SET work_mem = default"), vec![unset("work_mem")]);
        assert_eq!(effects("SET role = 'bob'"), vec![set("role", "'bob'")]);
        assert_eq!(
            effects("SET application_name TO 'a' /* why */"),
            vec![set("application_name", "'a'")]
        );
        assert_eq!(
            effects("SET application_name TO 'a' -- why"),
            vec![set("application_name", "'a'")]
        );
    }

    #[test]
    fn set_special_forms() {
        assert_eq!(
            effects("SET TIME ZONE 'UTC'"),
            vec![set("timezone", "'UTC'")]
        );
        assert_eq!(effects("set time zone -7"), vec![set("timezone", "-7")]);
        assert_eq!(
            effects("SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE"),
            vec![set("timezone", "INTERVAL '+02:00' HOUR TO MINUTE")]
        );
        assert_eq!(effects("SET TIME ZONE LOCAL"), vec![unset("timezone")]);
        assert_eq!(effects("SET TIME ZONE DEFAULT"), vec![unset("timezone")]);
        assert_eq!(
            effects("SET timezone = 'UTC'"),
            vec![set("timezone", "'UTC'")]
        );
        assert_eq!(
            effects("SET NAMES 'UTF8'"),
            vec![set("client_encoding", "'UTF8'")]
        );
        assert_eq!(effects("SET NAMES DEFAULT"), vec![unset("client_encoding")]);
        assert_eq!(effects("SET NAMES"), vec![unset("client_encoding")]);
        assert_eq!(
            effects("SET SCHEMA 'app'"),
            vec![set("search_path", "'app'")]
        );
        assert_eq!(effects("SET ROLE bob"), vec![set("role", "bob")]);
        assert_eq!(effects("SET ROLE NONE"), vec![set("role", "NONE")]);
        assert_eq!(
            effects("SET SESSION AUTHORIZATION 'bob'"),
            vec![set("session_authorization", "'bob'")]
        );
        assert_eq!(
            effects("SET SESSION AUTHORIZATION DEFAULT"),
            vec![unset("session_authorization")]
        );
        assert_eq!(
            effects("SET XML OPTION DOCUMENT"),
            vec![set("xmloption", "DOCUMENT")]
        );
    }

    #[test]
    fn transaction_scoped_sets_have_no_effect() {
        for q in [
            "SET LOCAL search_path TO a",
            "set local time zone 'UTC'",
            "SET LOCAL ROLE bob",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SET TRANSACTION READ ONLY",
            "SET CONSTRAINTS ALL DEFERRED",
            "SET search_path FROM CURRENT",
            "PREPARE TRANSACTION 'gid'",
            "RESET TRANSACTION ISOLATION LEVEL",
        ] {
            assert!(none(q), "{q:?}: {:?}", effects(q));
        }
    }

    #[test]
    fn reset_and_discard() {
        assert_eq!(effects("RESET ALL"), vec![Effect::ResetAll]);
        assert_eq!(effects("discard all"), vec![Effect::ResetAll]);
        assert_eq!(effects("RESET search_path"), vec![unset("search_path")]);
        assert_eq!(effects("RESET myapp.key"), vec![unset("myapp.key")]);
        assert_eq!(effects("RESET TIME ZONE"), vec![unset("timezone")]);
        assert_eq!(effects("RESET ROLE"), vec![unset("role")]);
        assert_eq!(
            effects("RESET SESSION AUTHORIZATION"),
            vec![unset("session_authorization")]
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            refusal("LISTEN chan"),
            "LISTEN is not supported in transaction pooling mode"
        );
        assert!(refusal("prepare p (int) as select $1").starts_with("PREPARE is not supported"));
        assert!(refusal("DECLARE c CURSOR WITH HOLD FOR SELECT 1")
            .starts_with("DECLARE ... WITH HOLD is not supported"));
        assert!(is_refused(
            "declare c binary no scroll cursor with hold for select 1"
        ));
        assert!(none("DECLARE c CURSOR FOR SELECT 1"));
        assert!(none("DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1"));
        assert!(none(
            "DECLARE c CURSOR FOR WITH hold AS (SELECT 1) SELECT * FROM hold"
        ));
        assert_eq!(
            refusal("CREATE TEMP TABLE t (a int)"),
            "CREATE TEMP TABLE is not supported in transaction pooling mode; use ON COMMIT DROP"
        );
        assert!(is_refused("create temporary table t as select 1"));
        assert!(is_refused("CREATE GLOBAL TEMPORARY TABLE t (a int)"));
        assert!(is_refused(
            "CREATE LOCAL TEMP TABLE t (a int) ON COMMIT DELETE ROWS"
        ));
        assert!(is_refused("CREATE TEMP UNLOGGED TABLE t (a int)"));
        assert!(is_refused("CREATE TEMP VIEW v AS SELECT 1"));
        assert!(is_refused(
            "CREATE OR REPLACE TEMP RECURSIVE VIEW v (n) AS SELECT 1"
        ));
        assert!(is_refused("CREATE TEMP SEQUENCE s"));
        assert!(none("CREATE TEMP TABLE t (a int) ON COMMIT DROP"));
        assert!(none("create temp table t on commit drop as select 1"));
        assert_eq!(
            refusal("SELECT pg_advisory_lock(1)"),
            "session-level advisory locks are not supported in transaction pooling mode; \
             use pg_advisory_xact_lock"
        );
        assert!(is_refused("select PG_TRY_ADVISORY_LOCK(1, 2)"));
        assert!(is_refused("SELECT pg_catalog.pg_advisory_lock_shared (42)"));
        assert!(is_refused("SELECT pg_try_advisory_lock_shared(1) FROM t"));
        assert!(is_refused("SELECT \"pg_advisory_lock\"(1)"));
        assert!(is_refused(
            "WITH x AS (SELECT pg_advisory_lock(1)) SELECT * FROM x"
        ));
        assert!(
            refusal("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .starts_with("SET SESSION CHARACTERISTICS is not supported")
        );
        assert!(is_refused("LOAD 'auto_explain'"));
    }

    #[test]
    fn multiple_statements() {
        assert_eq!(
            effects("SET a.b = 1; SELECT 2;; RESET ALL;"),
            vec![set("a.b", "1"), Effect::None, Effect::ResetAll]
        );
        assert_eq!(
            effects("BEGIN; SET LOCAL x.y = 1; LISTEN c; COMMIT"),
            vec![
                Effect::None,
                Effect::None,
                refused("LISTEN is not supported in transaction pooling mode"),
                Effect::None
            ]
        );
        assert_eq!(effects(""), vec![]);
        assert_eq!(effects(" ; ;\n-- nothing\n/* at all */"), vec![]);
    }

    #[test]
    fn quoting_hides_semicolons_and_keywords() {
        assert_eq!(
            effects("SELECT 'a;b'; SET application_name = 'x;y'"),
            vec![Effect::None, set("application_name", "'x;y'")]
        );
        assert_eq!(
            effects("SELECT 'it''s; LISTEN x'; LISTEN y"),
            vec![
                Effect::None,
                refused("LISTEN is not supported in transaction pooling mode")
            ]
        );
        assert_eq!(effects("SELECT E'\\'; LISTEN x'"), vec![Effect::None]);
        assert_eq!(
            effects("SELECT 'a\\'; LISTEN x"),
            vec![Effect::None, effects("LISTEN x")[0].clone()]
        );
        assert_eq!(effects("SELECT \"a;\"\"b\" FROM t; SELECT 1").len(), 2);
        assert_eq!(
            effects("DO $$ BEGIN PERFORM 1; LISTEN x; END $$; SET x.y = 2"),
            vec![Effect::None, set("x.y", "2")]
        );
        assert_eq!(
            effects("SELECT $body$ ; $$ ; $body$; SET x.y = 3"),
            vec![Effect::None, set("x.y", "3")]
        );
        assert_eq!(
            effects("SELECT $1; SET x.y = 4"),
            vec![Effect::None, set("x.y", "4")]
        );
        assert_eq!(
            effects("SELECT a$b$c FROM t; SET x.y = 5"),
            vec![Effect::None, set("x.y", "5")]
        );
        assert_eq!(
            effects("/* LISTEN x; /* nested; */ still; */ SET x.y = 6"),
            vec![set("x.y", "6")]
        );
        assert_eq!(
            effects("-- LISTEN x;\nSET x.y = 7 -- ; LISTEN y"),
            vec![set("x.y", "7")]
        );
        assert_eq!(
            effects("SET search_path = \"a;b\", c"),
            vec![set("search_path", "\"a;b\", c")]
        );
        assert_eq!(
            effects("SELECT 'unterminated; LISTEN x"),
            vec![Effect::None]
        );
    }

    #[test]
    fn routine_bodies_and_parentheses_are_one_statement() {
        let q = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC \
                 SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SET x.y = 1";
        assert_eq!(effects(q), vec![Effect::None, set("x.y", "1")]);
        let q =
            "create or replace procedure p() begin atomic insert into t values (1); end; LISTEN c";
        assert_eq!(effects(q).len(), 2);
        assert!(matches!(effects(q)[1], Effect::Refused(_)));
        let q = "CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b); SELECT 1";
        assert_eq!(effects(q), vec![Effect::None, Effect::None]);
        // BEGIN as a transaction start is not a routine body.
        assert_eq!(
            effects("BEGIN; SET x.y = 1; END"),
            vec![Effect::None, set("x.y", "1"), Effect::None]
        );
    }

    #[test]
    fn leading_comments_and_case() {
        assert_eq!(
            effects("  /* hi */ -- there\n  sEt x.y tO 1"),
            vec![set("x.y", "1")]
        );
        assert!(is_refused("\n\t/* a */listen x"));
    }

    #[test]
    fn may_have_effect_is_a_superset() {
        for q in [
            "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
            "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 5;",
            "BEGIN",
            "SELECT 1;  -- done\n",
            "SELECT 1; /* done */ ;",
            "INSERT INTO settings VALUES (1)",
            "settings",
            "",
            "   ",
            "-- only a comment",
        ] {
            assert!(!may_have_effect(q), "{q:?}");
        }
        for q in [
            "SET x.y = 1",
            "  /* c */ reset all",
            "LISTEN x",
            "Prepare p AS SELECT 1",
            "DECLARE c CURSOR FOR SELECT 1",
            "CREATE TEMP TABLE t ()",
            "DISCARD ALL",
            "LOAD 'x'",
            "SELECT pg_ADVISORY_lock(1)",
            "SELECT 1; SET x.y = 1",
            "SELECT 1;;LISTEN x",
            "SELECT '; /*' ; LISTEN x",
        ] {
            assert!(may_have_effect(q), "{q:?}");
        }
        // Whatever effects() finds, may_have_effect() lets through.
        for q in [
            "SET x.y = 1",
            "/* a */ -- b\nLISTEN x",
            "select 1; listen x",
            "with a as (select pg_try_advisory_lock_shared(1)) select 1",
            "create temporary view v as select 1",
            "set session characteristics as transaction read only",
            "SELECT '; /*' ; LISTEN x",
            "SELECT $$;$$; SET x.y = 1",
        ] {
            assert!(effects(q).iter().any(|e| *e != Effect::None), "{q:?}");
            assert!(may_have_effect(q), "{q:?}");
        }
    }

    #[test]
    fn random_text_never_panics_and_may_have_effect_covers_effects() {
        // Pieces chosen to hit every lexer state, glued at random.
        const PIECES: [&str; 34] = [
            " ",
            "\n",
            ";",
            "'",
            "''",
            "\"",
            "$",
            "$$",
            "$a$",
            "$1",
            "--",
            "/*",
            "*/",
            "\\",
            "E'",
            "(",
            ")",
            "=",
            ".",
            "é",
            "日本",
            "set",
            "SET",
            "local",
            "listen",
            "create",
            "temp",
            "table",
            "on commit drop",
            "pg_advisory_lock(",
            "begin",
            "end",
            "x",
            "1",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let mut query = String::new();
            for _ in 0..next() % 12 {
                query.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            let found = effects(&query);
            if found.iter().any(|e| *e != Effect::None) {
                assert!(may_have_effect(&query), "{query:?}: {found:?}");
            }
            for effect in found {
                if let Effect::Set { name, value } = effect {
                    set_statement(&name, value.as_ref());
                }
            }
        }
    }

    #[test]
    fn set_statement_output() {
        use ParamValue::{Literal, Sql};
        let lit = |s: &str| Literal(s.to_string());
        let sql = |s: &str| Sql(s.to_string());
        assert_eq!(
            set_statement("application_name", Some(&lit("it's"))),
            "SET application_name TO 'it''s'"
        );
        assert_eq!(
            set_statement("DateStyle", Some(&lit("ISO, MDY"))),
            "SET datestyle TO 'ISO, MDY'"
        );
        assert_eq!(
            set_statement("TimeZone", Some(&lit("Europe/Paris"))),
            "SET timezone TO 'Europe/Paris'"
        );
        assert_eq!(
            set_statement("myapp.user_id", Some(&lit("7"))),
            "SET myapp.user_id TO '7'"
        );
        assert_eq!(
            set_statement("my-app", Some(&lit("x"))),
            "SET \"my-app\" TO 'x'"
        );
        assert_eq!(set_statement("a\"b", None), "RESET \"a\"\"b\"");
        assert_eq!(set_statement("select", None), "RESET \"select\"");
        assert_eq!(set_statement("1x", None), "RESET \"1x\"");
        assert_eq!(set_statement("a..b", None), "RESET \"a..b\"");
        assert_eq!(set_statement("Search_Path", None), "RESET search_path");
        assert_eq!(
            set_statement("application_name", Some(&lit("C:\\dir"))),
            "SET application_name TO E'C:\\\\dir'"
        );
        assert_eq!(
            set_statement("application_name", Some(&lit(""))),
            "SET application_name TO ''"
        );
        assert_eq!(
            set_statement("application_name", Some(&lit("héllo"))),
            "SET application_name TO 'héllo'"
        );
        assert_eq!(
            set_statement("search_path", Some(&sql("\"$user\", public"))),
            "SET search_path TO \"$user\", public"
        );
        assert_eq!(
            set_statement("timezone", Some(&sql("'UTC'"))),
            "SET timezone TO 'UTC'"
        );
        assert_eq!(
            set_statement("timezone", Some(&sql("INTERVAL '+02:00' HOUR TO MINUTE"))),
            "SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE"
        );
        assert_eq!(
            set_statement("timezone", Some(&sql("interval_tz"))),
            "SET timezone TO interval_tz"
        );
    }

    #[test]
    fn set_statement_list_literals() {
        let lit = |s: &str| ParamValue::Literal(s.to_string());
        assert_eq!(
            set_statement("search_path", Some(&lit("\"$user\", public"))),
            "SET search_path TO '$user', 'public'"
        );
        assert_eq!(
            set_statement("search_path", Some(&lit("App,\"My \"\"S\"\"\" ,x"))),
            "SET search_path TO 'app', 'My \"S\"', 'x'"
        );
        assert_eq!(
            set_statement("search_path", Some(&lit(""))),
            "SET search_path TO ''"
        );
        assert_eq!(
            set_statement("search_path", Some(&lit("it's"))),
            "SET search_path TO 'it''s'"
        );
        // Not a valid list: one literal, for the server to judge.
        assert_eq!(
            set_statement("search_path", Some(&lit("a,,b"))),
            "SET search_path TO 'a,,b'"
        );
        assert_eq!(
            set_statement("temp_tablespaces", Some(&lit("a, b"))),
            "SET temp_tablespaces TO 'a', 'b'"
        );
    }

    #[test]
    fn round_trip_through_effects() {
        // What set_statement writes reads back as the same Set.
        for (name, value) in [
            ("application_name", ParamValue::Literal("it's".into())),
            ("search_path", ParamValue::Sql("\"$user\", public".into())),
            (
                "timezone",
                ParamValue::Sql("INTERVAL '+02:00' HOUR TO MINUTE".into()),
            ),
            ("x.y", ParamValue::Sql("'1'".into())),
        ] {
            let statement = set_statement(name, Some(&value));
            match (&value, effects(&statement).as_slice()) {
                (
                    ParamValue::Sql(sql),
                    [Effect::Set {
                        name: n,
                        value: Some(ParamValue::Sql(v)),
                    }],
                ) => {
                    assert_eq!((n.as_str(), v), (name, sql))
                }
                (
                    ParamValue::Literal(_),
                    [Effect::Set {
                        name: n,
                        value: Some(_),
                    }],
                ) => {
                    assert_eq!(n, name)
                }
                (_, other) => panic!("{statement:?}: {other:?}"),
            }
            assert!(may_have_effect(&statement));
        }
        assert_eq!(
            effects(&set_statement("work_mem", None)),
            vec![unset("work_mem")]
        );
    }
}
