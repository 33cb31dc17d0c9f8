//! Tokens of the kv SQL fast path. A token is a kind plus a byte range into
//! the query string, so lexing allocates nothing but the token vector;
//! literal and identifier values are decoded only when the parser keeps
//! them. The rules follow PostgreSQL's scan.l (standard_conforming_strings
//! on).

use std::ops::Range;

use super::{SyntaxError, MAX_PARAMS};

/// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
const MAX_IDENTIFIER_BYTES: usize = 63;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// Unquoted identifier or keyword (compared case-insensitively).
    Ident,
    /// `"..."`: case-sensitive, `""` is a quote.
    QuotedIdent,
    /// `'...'` (`''` is a quote; `'a'\n'b'` continues the literal).
    String,
    /// `E'...'` with backslash escapes.
    EscapeString,
    /// `$tag$...$tag$`; the value is the tag's length in bytes.
    DollarString(u32),
    /// A numeric constant, kept as written.
    Number,
    /// `$n`, already checked to be within 1..=MAX_PARAMS.
    Param(u32),
    /// A run of operator characters: `=`, `*`, `-`, `<>`, `||`...
    Operator,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Semicolon,
    Dot,
    Colon,
    /// `::`.
    Typecast,
    /// Input the fast path never interprets: bit strings, `U&'...'`,
    /// `N'...'`, `0x1F`, a stray `$`, `\`, `{`...
    Unsupported,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: TokenKind,
    pub start: u32,
    pub end: u32,
}

impl Token {
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn text(self, sql: &str) -> &str {
        &sql[self.range()]
    }

    pub fn is_name(self) -> bool {
        matches!(self.kind, TokenKind::Ident | TokenKind::QuotedIdent)
    }
}

const SPACE: u8 = 1;
const IDENT_START: u8 = 2;
const IDENT_CONTINUE: u8 = 4;
const DOLLAR_TAG_CONTINUE: u8 = 8;
const OPERATOR: u8 = 16;

/// Character classes by byte, so the scanning loops are one load each.
/// Bytes >= 0x80 are identifier characters, as in PostgreSQL.
static BYTE_CLASSES: [u8; 256] = byte_classes();

const fn byte_classes() -> [u8; 256] {
    let mut classes = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        let mut class = 0;
        if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            class |= SPACE;
        }
        if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            class |= IDENT_START | IDENT_CONTINUE | DOLLAR_TAG_CONTINUE;
        }
        if b.is_ascii_digit() {
            class |= IDENT_CONTINUE | DOLLAR_TAG_CONTINUE;
        }
        if b == b'$' {
            class |= IDENT_CONTINUE;
        }
        if matches!(
            b,
            b'~' | b'!'
                | b'@'
                | b'#'
                | b'^'
                | b'&'
                | b'|'
                | b'`'
                | b'?'
                | b'+'
                | b'-'
                | b'*'
                | b'/'
                | b'%'
                | b'<'
                | b'>'
                | b'='
        ) {
            class |= OPERATOR;
        }
        classes[byte] = class;
        byte += 1;
    }
    classes
}

fn has_class(byte: u8, class: u8) -> bool {
    BYTE_CLASSES[byte as usize] & class != 0
}

/// PostgreSQL's `space` class.
pub(super) fn is_space(byte: u8) -> bool {
    has_class(byte, SPACE)
}

fn is_ident_start(byte: u8) -> bool {
    has_class(byte, IDENT_START)
}

fn is_ident_continue(byte: u8) -> bool {
    has_class(byte, IDENT_CONTINUE)
}

fn is_dollar_tag_continue(byte: u8) -> bool {
    has_class(byte, DOLLAR_TAG_CONTINUE)
}

fn is_operator_char(byte: u8) -> bool {
    has_class(byte, OPERATOR)
}

/// Appends the tokens of `sql` to `tokens`. Fails only where PostgreSQL's
/// lexer does (unterminated literal or comment, `$0`, ...), whatever the
/// statement.
pub(super) fn tokenize(sql: &str, tokens: &mut Vec<Token>) -> Result<(), SyntaxError> {
    let bytes = sql.as_bytes();
    if u32::try_from(bytes.len()).is_err() {
        return Err(SyntaxError {
            sqlstate: "54000",
            message: "query string is too long".to_owned(),
            position: None,
        });
    }
    let mut index = 0;
    while index < bytes.len() {
        let start = index;
        let byte = bytes[index];
        let next = bytes.get(index + 1).copied();
        let (kind, end) = match byte {
            _ if is_space(byte) => {
                index += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                index = line_comment_end(bytes, index);
                continue;
            }
            b'/' if next == Some(b'*') => {
                index = block_comment_end(sql, index)?;
                continue;
            }
            b'\'' => (
                TokenKind::String,
                quoted_string_end(sql, start, start + 1, false)?,
            ),
            b'"' => (
                TokenKind::QuotedIdent,
                quoted_identifier_end(sql, start, start)?,
            ),
            b'$' => dollar(sql, start)?,
            b'0'..=b'9' => number(bytes, start),
            b'.' if next.is_some_and(|b| b.is_ascii_digit()) => number(bytes, start),
            b'(' => (TokenKind::LParen, start + 1),
            b')' => (TokenKind::RParen, start + 1),
            b'[' => (TokenKind::LBracket, start + 1),
            b']' => (TokenKind::RBracket, start + 1),
            b',' => (TokenKind::Comma, start + 1),
            b';' => (TokenKind::Semicolon, start + 1),
            b'.' => (TokenKind::Dot, start + 1),
            b':' if next == Some(b':') => (TokenKind::Typecast, start + 2),
            b':' => (TokenKind::Colon, start + 1),
            b'e' | b'E' if next == Some(b'\'') => (
                TokenKind::EscapeString,
                quoted_string_end(sql, start, start + 2, true)?,
            ),
            // Bit strings and national characters: standard quoting.
            b'b' | b'B' | b'x' | b'X' | b'n' | b'N' if next == Some(b'\'') => (
                TokenKind::Unsupported,
                quoted_string_end(sql, start, start + 2, false)?,
            ),
            b'u' | b'U' if next == Some(b'&') && bytes.get(index + 2) == Some(&b'\'') => (
                TokenKind::Unsupported,
                quoted_string_end(sql, start, start + 3, false)?,
            ),
            b'u' | b'U' if next == Some(b'&') && bytes.get(index + 2) == Some(&b'"') => (
                TokenKind::Unsupported,
                quoted_identifier_end(sql, start, start + 2)?,
            ),
            _ if is_ident_start(byte) => (TokenKind::Ident, ident_end(bytes, start + 1)),
            _ if is_operator_char(byte) => (TokenKind::Operator, operator_end(bytes, start)),
            _ => (TokenKind::Unsupported, start + 1),
        };
        tokens.push(Token {
            kind,
            start: start as u32,
            end: end as u32,
        });
        index = end;
    }
    Ok(())
}

fn ident_end(bytes: &[u8], mut index: usize) -> usize {
    while index < bytes.len() && is_ident_continue(bytes[index]) {
        index += 1;
    }
    index
}

/// Index of the newline ending a `--` comment (or the end of input).
fn line_comment_end(bytes: &[u8], index: usize) -> usize {
    bytes[index..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |offset| index + offset)
}

/// End of a `/* */` comment starting at `start`; comments nest.
fn block_comment_end(sql: &str, start: usize) -> Result<usize, SyntaxError> {
    let bytes = sql.as_bytes();
    let mut depth = 0usize;
    let mut index = start;
    while index + 1 < bytes.len() {
        match (bytes[index], bytes[index + 1]) {
            (b'/', b'*') => {
                depth += 1;
                index += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                index += 2;
                if depth == 0 {
                    return Ok(index);
                }
            }
            _ => index += 1,
        }
    }
    Err(unterminated(sql, start, "unterminated /* comment"))
}

/// If only whitespace with a newline (and `--` comments) separates a closed
/// string literal from another `'`, the literal continues there (SQL
/// standard). Returns the index of that quote.
fn string_continuation(bytes: &[u8], mut index: usize) -> Option<usize> {
    let mut saw_newline = false;
    loop {
        match *bytes.get(index)? {
            b'\n' | b'\r' => {
                saw_newline = true;
                index += 1;
            }
            byte if is_space(byte) => index += 1,
            b'-' if bytes.get(index + 1) == Some(&b'-') => index = line_comment_end(bytes, index),
            b'\'' if saw_newline => return Some(index),
            _ => return None,
        }
    }
}

/// End of a single-quoted literal whose body starts at `body`.
fn quoted_string_end(
    sql: &str,
    start: usize,
    body: usize,
    backslash_escapes: bool,
) -> Result<usize, SyntaxError> {
    let bytes = sql.as_bytes();
    let mut index = body;
    loop {
        match bytes.get(index) {
            None => return Err(unterminated(sql, start, "unterminated quoted string")),
            Some(b'\\') if backslash_escapes => index += 2,
            Some(b'\'') => {
                if bytes.get(index + 1) == Some(&b'\'') {
                    index += 2;
                } else if let Some(quote) = string_continuation(bytes, index + 1) {
                    index = quote + 1;
                } else {
                    return Ok(index + 1);
                }
            }
            Some(_) => index += 1,
        }
    }
}

/// End of a `"..."` identifier whose opening quote is at `quote`.
fn quoted_identifier_end(sql: &str, start: usize, quote: usize) -> Result<usize, SyntaxError> {
    let bytes = sql.as_bytes();
    let mut index = quote + 1;
    loop {
        match bytes.get(index) {
            None => return Err(unterminated(sql, start, "unterminated quoted identifier")),
            Some(b'"') if bytes.get(index + 1) == Some(&b'"') => index += 2,
            Some(b'"') => {
                if index == quote + 1 {
                    return Err(SyntaxError {
                        sqlstate: "42601",
                        message: "zero-length delimited identifier at or near \"\"\"\"".to_owned(),
                        position: Some(position(sql, start)),
                    });
                }
                return Ok(index + 1);
            }
            Some(_) => index += 1,
        }
    }
}

/// `$n`, `$$...$$`, `$tag$...$tag$`, or a stray `$`.
fn dollar(sql: &str, start: usize) -> Result<(TokenKind, usize), SyntaxError> {
    let bytes = sql.as_bytes();
    let after = start + 1;
    match bytes.get(after) {
        Some(byte) if byte.is_ascii_digit() => {
            let digits_end = after
                + bytes[after..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            if digits_end < bytes.len() && is_ident_continue(bytes[digits_end]) {
                // PostgreSQL: "trailing junk after parameter".
                return Ok((TokenKind::Unsupported, ident_end(bytes, digits_end)));
            }
            let digits = &sql[after..digits_end];
            match digits.parse::<usize>() {
                Ok(index) if (1..=MAX_PARAMS).contains(&index) => {
                    Ok((TokenKind::Param(index as u32), digits_end))
                }
                parsed => Err(SyntaxError {
                    sqlstate: "42P02",
                    message: match parsed {
                        Ok(index) => format!("there is no parameter ${index}"),
                        Err(_) => format!("there is no parameter ${digits}"),
                    },
                    position: Some(position(sql, start)),
                }),
            }
        }
        Some(b'$') => dollar_string(sql, start, 0),
        Some(&byte) if is_ident_start(byte) => {
            let tag_end = after
                + bytes[after..]
                    .iter()
                    .take_while(|&&b| is_dollar_tag_continue(b))
                    .count();
            if bytes.get(tag_end) == Some(&b'$') {
                dollar_string(sql, start, tag_end - after)
            } else {
                Ok((TokenKind::Unsupported, after))
            }
        }
        _ => Ok((TokenKind::Unsupported, after)),
    }
}

fn dollar_string(
    sql: &str,
    start: usize,
    tag_len: usize,
) -> Result<(TokenKind, usize), SyntaxError> {
    let delimiter = &sql[start..start + tag_len + 2];
    let body = start + delimiter.len();
    match sql[body..].find(delimiter) {
        Some(offset) => Ok((
            TokenKind::DollarString(tag_len as u32),
            body + offset + delimiter.len(),
        )),
        None => Err(unterminated(
            sql,
            start,
            "unterminated dollar-quoted string",
        )),
    }
}

/// Digits, fraction and exponent. Trailing identifier characters (`0x1F`,
/// `1_000`, `12abc`) make the whole run Unsupported rather than guessing
/// which PostgreSQL version's rules apply.
fn number(bytes: &[u8], start: usize) -> (TokenKind, usize) {
    let digits = |mut index: usize| {
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        index
    };
    let mut end = digits(start);
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1) != Some(&b'.') {
        end = digits(end + 1);
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exponent = end + 1;
        if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        if bytes.get(exponent).is_some_and(u8::is_ascii_digit) {
            end = digits(exponent);
        }
    }
    if end < bytes.len() && is_ident_continue(bytes[end]) {
        return (TokenKind::Unsupported, ident_end(bytes, end));
    }
    (TokenKind::Number, end)
}

fn operator_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start + 1;
    while end < bytes.len() && is_operator_char(bytes[end]) {
        let next = bytes.get(end + 1).copied();
        if (bytes[end] == b'-' && next == Some(b'-')) || (bytes[end] == b'/' && next == Some(b'*'))
        {
            break;
        }
        end += 1;
    }
    // As in PostgreSQL, a multi-character operator ends in + or - only if it
    // contains one of ~!@#%^&|`?, so `=-1` is `=` then `-1`.
    if end - start > 1 && !bytes[start..end].iter().any(|b| b"~!@#%^&|`?".contains(b)) {
        while end - start > 1 && matches!(bytes[end - 1], b'+' | b'-') {
            end -= 1;
        }
    }
    end
}

/// 1-based character offset of `byte` in `sql` (ErrorResponse field `P`).
pub(super) fn position(sql: &str, byte: usize) -> usize {
    sql[..byte].chars().count() + 1
}

fn unterminated(sql: &str, start: usize, what: &str) -> SyntaxError {
    SyntaxError {
        sqlstate: "42601",
        message: format!("{what} at or near \"{}\"", &sql[start..]),
        position: Some(position(sql, start)),
    }
}

pub(super) fn syntax_error_at(sql: &str, token: Token) -> SyntaxError {
    SyntaxError {
        sqlstate: "42601",
        message: format!("syntax error at or near \"{}\"", token.text(sql)),
        position: Some(position(sql, token.start as usize)),
    }
}

pub(super) fn syntax_error_at_end(sql: &str) -> SyntaxError {
    SyntaxError {
        sqlstate: "42601",
        message: "syntax error at end of input".to_owned(),
        position: Some(position(sql, sql.len())),
    }
}

/// An identifier's value: unquoted folds ASCII to lowercase, quoted keeps
/// its case with `""` unescaped; both truncated to 63 bytes like
/// PostgreSQL.
pub(super) fn identifier(sql: &str, token: Token) -> String {
    let raw = token.text(sql);
    let mut name = match token.kind {
        TokenKind::QuotedIdent => raw[1..raw.len() - 1].replace("\"\"", "\""),
        _ => raw.to_ascii_lowercase(),
    };
    if name.len() > MAX_IDENTIFIER_BYTES {
        let mut cut = MAX_IDENTIFIER_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

/// Whether a name token spells `lower` (an ASCII lowercase name): unquoted
/// in any case, quoted exactly.
pub(super) fn names(sql: &str, token: Token, lower: &str) -> bool {
    let raw = token.text(sql);
    match token.kind {
        TokenKind::Ident => raw.eq_ignore_ascii_case(lower),
        TokenKind::QuotedIdent => &raw[1..raw.len() - 1] == lower,
        _ => false,
    }
}

/// The value of a String, EscapeString or DollarString token.
pub(super) fn string_value(sql: &str, token: Token) -> Result<String, SyntaxError> {
    let raw = token.text(sql);
    match token.kind {
        TokenKind::EscapeString => escape_string(sql, token),
        TokenKind::DollarString(tag_len) => {
            let delimiter = tag_len as usize + 2;
            Ok(raw[delimiter..raw.len() - delimiter].to_owned())
        }
        _ => Ok(standard_string(raw)),
    }
}

fn standard_string(raw: &str) -> String {
    let body = &raw[1..raw.len() - 1];
    if !body.contains('\'') {
        return body.to_owned();
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut index = 1;
    let mut run_start = 1;
    while index < bytes.len() {
        if bytes[index] != b'\'' {
            index += 1;
            continue;
        }
        out.push_str(&raw[run_start..index]);
        if bytes.get(index + 1) == Some(&b'\'') {
            out.push('\'');
            index += 2;
        } else if let Some(quote) = string_continuation(bytes, index + 1) {
            index = quote + 1;
        } else {
            break;
        }
        run_start = index;
    }
    out
}

fn hex_value(byte: u8) -> Option<u32> {
    (byte as char).to_digit(16)
}

/// `E'...'`: `\b \f \n \r \t`, octal `\ooo`, hex `\xhh`, `\uXXXX`,
/// `\UXXXXXXXX`, and any other character taken literally.
fn escape_string(sql: &str, token: Token) -> Result<String, SyntaxError> {
    let raw = token.text(sql).as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut index = 2;
    while index < raw.len() {
        match raw[index] {
            b'\'' => {
                if raw.get(index + 1) == Some(&b'\'') {
                    out.push(b'\'');
                    index += 2;
                } else if let Some(quote) = string_continuation(raw, index + 1) {
                    index = quote + 1;
                } else {
                    break;
                }
            }
            b'\\' => {
                let escape_start = index;
                let escaped = raw[index + 1];
                index += 2;
                match escaped {
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'0'..=b'7' => {
                        let mut value = u32::from(escaped - b'0');
                        for _ in 0..2 {
                            match raw[index] {
                                digit @ b'0'..=b'7' => {
                                    value = value * 8 + u32::from(digit - b'0');
                                    index += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(value as u8);
                    }
                    b'x' if hex_value(raw[index]).is_some() => {
                        let mut value = 0;
                        for _ in 0..2 {
                            match hex_value(raw[index]) {
                                Some(digit) => {
                                    value = value * 16 + digit;
                                    index += 1;
                                }
                                None => break,
                            }
                        }
                        out.push(value as u8);
                    }
                    b'u' | b'U' => {
                        let digits = if escaped == b'u' { 4 } else { 8 };
                        let code = unicode_escape(raw, index, digits)
                            .ok_or_else(|| invalid_unicode_escape(sql, token, escape_start))?;
                        index += digits;
                        let code = if (0xD800..0xDC00).contains(&code) {
                            // A high surrogate must be followed by a low one.
                            let low = match (raw.get(index), raw.get(index + 1)) {
                                (Some(b'\\'), Some(&kind @ (b'u' | b'U'))) => {
                                    let digits = if kind == b'u' { 4 } else { 8 };
                                    let low = unicode_escape(raw, index + 2, digits)
                                        .filter(|low| (0xDC00..0xE000).contains(low));
                                    index += 2 + digits;
                                    low
                                }
                                _ => None,
                            };
                            let low =
                                low.ok_or_else(|| surrogate_error(sql, token, escape_start))?;
                            0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..0xE000).contains(&code) {
                            return Err(surrogate_error(sql, token, escape_start));
                        } else {
                            code
                        };
                        let character =
                            char::from_u32(code).filter(|&c| c != '\0').ok_or_else(|| {
                                SyntaxError {
                                    sqlstate: "42601",
                                    message: "invalid Unicode escape value".to_owned(),
                                    position: Some(position(
                                        sql,
                                        token.start as usize + escape_start,
                                    )),
                                }
                            })?;
                        let mut buffer = [0; 4];
                        out.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
                    }
                    other => out.push(other),
                }
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        return Err(invalid_byte_sequence(&out[nul..nul + 1]));
    }
    String::from_utf8(out).map_err(|error| {
        let bytes = error.as_bytes();
        let start = error.utf8_error().valid_up_to();
        let len = error
            .utf8_error()
            .error_len()
            .unwrap_or(bytes.len() - start);
        invalid_byte_sequence(&bytes[start..start + len])
    })
}

fn unicode_escape(raw: &[u8], start: usize, digits: usize) -> Option<u32> {
    let hex = raw.get(start..start + digits)?;
    hex.iter()
        .try_fold(0u32, |value, &byte| Some(value * 16 + hex_value(byte)?))
}

fn invalid_unicode_escape(sql: &str, token: Token, offset: usize) -> SyntaxError {
    SyntaxError {
        sqlstate: "22025",
        message: "invalid Unicode escape".to_owned(),
        position: Some(position(sql, token.start as usize + offset)),
    }
}

fn surrogate_error(sql: &str, token: Token, offset: usize) -> SyntaxError {
    SyntaxError {
        sqlstate: "42601",
        message: "invalid Unicode surrogate pair".to_owned(),
        position: Some(position(sql, token.start as usize + offset)),
    }
}

fn invalid_byte_sequence(bytes: &[u8]) -> SyntaxError {
    let mut message = String::from("invalid byte sequence for encoding \"UTF8\":");
    for byte in bytes {
        message.push_str(&format!(" 0x{byte:02x}"));
    }
    SyntaxError {
        sqlstate: "22021",
        message,
        position: None,
    }
}
