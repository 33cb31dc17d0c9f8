//! HTTP/1.x request framing: the head through `httparse`, then the body by
//! Content-Length or chunked transfer coding, each under a limit.
//!
//! "Incomplete" is kept apart from "invalid": an incomplete request waits
//! for more input (the caller keeps the bytes), an invalid one is answered
//! and the connection closed, since its end cannot be trusted.
//!
//! Chunked bodies are decoded, bounded by the same body limit as
//! Content-Length. The framing walk resumes where it stopped
//! ([`ChunkProgress`]), so a large chunked body arriving in many small
//! reads costs linear time.

use std::borrow::Cow;

/// Largest request head (request line and headers), as bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most headers in one request.
pub const MAX_HEADERS: usize = 64;
/// Longest chunk-size line (size and extensions) of a chunked body.
const MAX_CHUNK_LINE_BYTES: usize = 1024;

/// The request methods the server knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
    /// Anything else (OPTIONS, PATCH, ...): answered 405 on a known route.
    Other,
}

impl Method {
    fn parse(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "PUT" => Method::Put,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// One complete request, borrowing the input.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: Method,
    /// The path of the target, still percent-encoded (`/api/v1/kv/a%20b`).
    pub path: &'a str,
    /// What follows `?` in the target, still encoded; empty if none.
    pub query: &'a str,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
    /// `Accept` names application/json.
    pub accept_json: bool,
    /// `Content-Type` is application/json.
    pub json_body: bool,
    /// The `Authorization` header's value.
    pub authorization: Option<&'a [u8]>,
    /// Borrowed for Content-Length, owned once chunked framing is removed.
    pub body: Cow<'a, [u8]>,
}

/// Why a request is refused before it runs. Every one closes the
/// connection after the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub status: u16,
    pub message: String,
}

impl ParseError {
    fn new(status: u16, message: impl Into<String>) -> ParseError {
        ParseError {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> ParseError {
        ParseError::new(400, message)
    }
}

/// The outcome of framing the start of the input.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// A whole request, `consumed` bytes long.
    Complete {
        request: Request<'a>,
        consumed: usize,
    },
    /// More input is needed. `needed_bytes` is the whole request's size
    /// when known (to size the buffer); `expect_continue`: the head is
    /// complete and asked for `100 Continue` before sending its body.
    Incomplete {
        needed_bytes: Option<usize>,
        expect_continue: bool,
    },
    Invalid(ParseError),
}

/// Where the walk over a chunked body stopped, relative to the start of
/// the request. The caller keeps it across calls while the same request
/// is incomplete, and clears it ([`Default`]) once that request is done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkProgress {
    /// Offset of the next chunk-size line not yet walked; 0: none walked.
    next_line: usize,
    /// Decoded body bytes before `next_line`.
    body_bytes: usize,
}

/// How the body is delimited.
enum Framing {
    Length(usize),
    Chunked,
}

/// Frames the request at the start of `input`.
pub fn parse<'a>(
    input: &'a [u8],
    progress: &mut ChunkProgress,
    max_body_bytes: usize,
) -> Parsed<'a> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let head_len = match head.parse(input) {
        Ok(httparse::Status::Complete(len)) if len > MAX_HEAD_BYTES => {
            return Parsed::Invalid(too_large_head())
        }
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if input.len() > MAX_HEAD_BYTES => {
            return Parsed::Invalid(too_large_head())
        }
        Ok(httparse::Status::Partial) => {
            return Parsed::Incomplete {
                needed_bytes: None,
                expect_continue: false,
            }
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Invalid(ParseError::new(
                431,
                format!("more than {MAX_HEADERS} headers"),
            ))
        }
        Err(error) => {
            return Parsed::Invalid(ParseError::bad(format!("malformed request: {error}")))
        }
    };
    // A complete parse fills all three.
    let (Some(method), Some(target), Some(minor_version)) = (head.method, head.path, head.version)
    else {
        return Parsed::Invalid(ParseError::bad("malformed request line"));
    };
    let (path, query) = match split_target(target) {
        Some(parts) => parts,
        None => return Parsed::Invalid(ParseError::bad("unsupported request target")),
    };

    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;
    let mut accept_json = false;
    let mut json_body = false;
    let mut authorization = None;
    for header in head.headers.iter() {
        let name = header.name;
        let value = header.value;
        if name.eq_ignore_ascii_case("content-length") {
            let Some(length) = parse_content_length(value) else {
                return Parsed::Invalid(ParseError::bad("invalid Content-Length"));
            };
            if content_length.is_some_and(|seen| seen != length) {
                return Parsed::Invalid(ParseError::bad("conflicting Content-Length headers"));
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Only plain `chunked` is decoded; any other coding (or a
            // stack of them) is refused rather than misread.
            let codings: Vec<&[u8]> = tokens(value).collect();
            if chunked || codings.len() != 1 || !codings[0].eq_ignore_ascii_case(b"chunked") {
                return Parsed::Invalid(ParseError::new(
                    501,
                    "unsupported Transfer-Encoding (only chunked is implemented)",
                ));
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in tokens(value) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("expect") {
            if !trim(value).eq_ignore_ascii_case(b"100-continue") {
                return Parsed::Invalid(ParseError::new(417, "unsupported Expect header"));
            }
            expect_continue = true;
        } else if name.eq_ignore_ascii_case("accept") {
            accept_json |= tokens(value).any(media_type_is_json);
        } else if name.eq_ignore_ascii_case("content-type") {
            json_body = media_type_is_json(value);
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value);
        }
    }
    if chunked && content_length.is_some() {
        // RFC 9112 6.3: a request smuggling vector; refuse it.
        return Parsed::Invalid(ParseError::bad(
            "both Transfer-Encoding and Content-Length given",
        ));
    }
    let framing = if chunked {
        Framing::Chunked
    } else {
        Framing::Length(content_length.unwrap_or(0))
    };
    let keep_alive = !close && (minor_version >= 1 || keep_alive_token);
    let request = |body: Cow<'a, [u8]>| Request {
        method: Method::parse(method),
        path,
        query,
        minor_version,
        keep_alive,
        accept_json,
        json_body,
        authorization,
        body,
    };

    match framing {
        Framing::Length(length) => {
            if length > max_body_bytes {
                return Parsed::Invalid(body_too_large(max_body_bytes));
            }
            let end = head_len + length;
            if input.len() < end {
                return Parsed::Incomplete {
                    needed_bytes: Some(end),
                    expect_continue,
                };
            }
            Parsed::Complete {
                request: request(Cow::Borrowed(&input[head_len..end])),
                consumed: end,
            }
        }
        Framing::Chunked => match walk_chunks(input, head_len, progress, max_body_bytes) {
            Ok(Some((body, end))) => Parsed::Complete {
                request: request(Cow::Owned(body)),
                consumed: end,
            },
            Ok(None) => Parsed::Incomplete {
                needed_bytes: None,
                expect_continue,
            },
            Err(error) => Parsed::Invalid(error),
        },
    }
}

fn too_large_head() -> ParseError {
    ParseError::new(
        431,
        format!("request head larger than {MAX_HEAD_BYTES} bytes"),
    )
}

fn body_too_large(max_body_bytes: usize) -> ParseError {
    ParseError::new(
        413,
        format!("request body larger than {max_body_bytes} bytes"),
    )
}

/// Walks a chunked body from where `progress` stopped. Returns the
/// decoded body and the request's end once the last chunk and trailers
/// are in, `None` while more input is needed.
fn walk_chunks(
    input: &[u8],
    head_len: usize,
    progress: &mut ChunkProgress,
    max_body_bytes: usize,
) -> Result<Option<(Vec<u8>, usize)>, ParseError> {
    let mut pos = if progress.next_line == 0 {
        head_len
    } else {
        progress.next_line
    };
    let mut body_bytes = progress.body_bytes;
    while let Some((size, data_start)) = chunk_line(input, pos)? {
        if size == 0 {
            // The last chunk, then trailer lines up to an empty one.
            let Some(end) = trailers_end(input, data_start)? else {
                break;
            };
            let body = decode_chunks(input, head_len, body_bytes);
            *progress = ChunkProgress::default();
            return Ok(Some((body, end)));
        }
        body_bytes = body_bytes
            .checked_add(size)
            .filter(|&total| total <= max_body_bytes)
            .ok_or_else(|| body_too_large(max_body_bytes))?;
        let data_end = data_start + size;
        if input.len() < data_end + 2 {
            body_bytes -= size;
            break;
        }
        if &input[data_end..data_end + 2] != b"\r\n" {
            return Err(ParseError::bad("chunk data not followed by CRLF"));
        }
        pos = data_end + 2;
    }
    progress.next_line = pos;
    progress.body_bytes = body_bytes;
    Ok(None)
}

/// Reads the chunk-size line at `pos`: the size and where the data
/// starts, or `None` if the line is not complete yet.
fn chunk_line(input: &[u8], pos: usize) -> Result<Option<(usize, usize)>, ParseError> {
    let available = &input[pos.min(input.len())..];
    let window = &available[..available.len().min(MAX_CHUNK_LINE_BYTES)];
    let Some(line_len) = window.windows(2).position(|w| w == b"\r\n") else {
        if available.len() >= MAX_CHUNK_LINE_BYTES {
            return Err(ParseError::bad("chunk-size line too long"));
        }
        return Ok(None);
    };
    let line = &window[..line_len];
    // chunk-size [ BWS ";" extensions ]: extensions are ignored.
    let size_text = match line.iter().position(|&b| b == b';') {
        Some(semicolon) => &line[..semicolon],
        None => line,
    };
    let size_text = trim(size_text);
    if size_text.is_empty() || size_text.len() > 16 || !size_text.iter().all(u8::is_ascii_hexdigit)
    {
        return Err(ParseError::bad("invalid chunk size"));
    }
    let size = size_text
        .iter()
        .try_fold(0usize, |acc, &digit| {
            let value = (digit as char).to_digit(16)? as usize;
            acc.checked_mul(16)?.checked_add(value)
        })
        .ok_or_else(|| ParseError::bad("invalid chunk size"))?;
    Ok(Some((size, pos + line_len + 2)))
}

/// After the last chunk: trailer fields (ignored) up to an empty line.
/// Returns the end of the request, or `None` if not all here yet.
fn trailers_end(input: &[u8], start: usize) -> Result<Option<usize>, ParseError> {
    let mut pos = start;
    loop {
        let rest = &input[pos.min(input.len())..];
        let Some(line_len) = rest.windows(2).position(|w| w == b"\r\n") else {
            if input.len().saturating_sub(start) > MAX_HEAD_BYTES {
                return Err(too_large_head());
            }
            return Ok(None);
        };
        pos += line_len + 2;
        if pos - start > MAX_HEAD_BYTES {
            return Err(too_large_head());
        }
        if line_len == 0 {
            return Ok(Some(pos));
        }
    }
}

/// Copies the data of an already validated chunked body.
fn decode_chunks(input: &[u8], head_len: usize, body_bytes: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(body_bytes);
    let mut pos = head_len;
    // Validated by walk_chunks: every line parses, every chunk fits.
    while let Ok(Some((size, data_start))) = chunk_line(input, pos) {
        if size == 0 {
            break;
        }
        body.extend_from_slice(&input[data_start..data_start + size]);
        pos = data_start + size + 2;
    }
    body
}

/// Splits a request target into (path, query). Origin form (`/p?q`) and
/// absolute form (`http://host/p?q`) are accepted; `*` and authority form
/// are not.
fn split_target(target: &str) -> Option<(&str, &str)> {
    let origin = if target.starts_with('/') {
        target
    } else {
        let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
        let after_scheme = if lower.starts_with("http://") {
            &target[7..]
        } else if lower.starts_with("https://") {
            &target[8..]
        } else {
            return None;
        };
        match after_scheme.find(['/', '?']) {
            Some(i) if after_scheme.as_bytes()[i] == b'/' => &after_scheme[i..],
            Some(_) | None => "/",
        }
    };
    // A fragment is never sent, but do not let one reach a key.
    let origin = origin.split('#').next().unwrap_or(origin);
    Some(origin.split_once('?').unwrap_or((origin, "")))
}

/// Content-Length: digits only (no sign, no list), within usize.
fn parse_content_length(value: &[u8]) -> Option<usize> {
    let digits = trim(value);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The comma-separated list elements of a header value, trimmed, empty
/// elements skipped.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|t| !t.is_empty())
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// `application/json` (any case), parameters allowed.
fn media_type_is_json(value: &[u8]) -> bool {
    let essence = value.split(|&b| b == b';').next().unwrap_or_default();
    trim(essence).eq_ignore_ascii_case(b"application/json")
}

/// A `%` not followed by two hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadEscape;

/// Decodes `%XX` escapes; `plus_is_space` for query strings (form
/// encoding). An escape that is not two hex digits is an error.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Result<Vec<u8>, BadEscape> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(BadEscape)?;
                let high = (hex[0] as char).to_digit(16).ok_or(BadEscape)?;
                let low = (hex[1] as char).to_digit(16).ok_or(BadEscape)?;
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Decoded `(name, value)` pairs of a query string.
pub type QueryPairs = Vec<(Vec<u8>, Vec<u8>)>;

/// The query string's `name=value` pairs, decoded. A malformed escape is
/// an error naming the parameter.
pub fn query_pairs(query: &str) -> Result<QueryPairs, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name, true)
                .map_err(|_| "invalid percent-encoding in the query string".to_string())?;
            let value = percent_decode(value, true).map_err(|_| {
                format!(
                    "invalid percent-encoding in query parameter '{}'",
                    String::from_utf8_lossy(&name)
                )
            })?;
            Ok((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_BODY: usize = 1024;

    fn parse_one(input: &[u8]) -> Parsed<'_> {
        parse(input, &mut ChunkProgress::default(), MAX_BODY)
    }

    fn complete(input: &[u8]) -> (Request<'_>, usize) {
        match parse_one(input) {
            Parsed::Complete { request, consumed } => (request, consumed),
            other => panic!("expected a complete request, got {other:?}"),
        }
    }

    fn invalid(input: &[u8]) -> ParseError {
        match parse_one(input) {
            Parsed::Invalid(error) => error,
            other => panic!("expected an invalid request, got {other:?}"),
        }
    }

    #[test]
    fn simple_get_with_keep_alive_defaults() {
        let input = b"GET /health?x=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /next";
        let (request, consumed) = complete(input);
        assert_eq!(consumed, input.len() - b"GET /next".len());
        assert_eq!(request.method, Method::Get);
        assert_eq!((request.path, request.query), ("/health", "x=1"));
        assert!(request.keep_alive);
        assert!(request.body.is_empty());

        let (request, _) = complete(b"GET / HTTP/1.0\r\n\r\n");
        assert!(!request.keep_alive, "HTTP/1.0 closes by default");
        let (request, _) = complete(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(request.keep_alive);
        let (request, _) = complete(b"GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n");
        assert!(!request.keep_alive);
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let (request, consumed) = complete(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        assert_eq!(request.path, "/");
        assert_eq!(consumed, 22);
    }

    #[test]
    fn incomplete_heads_and_bodies_wait() {
        for cut in 1..b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".len() {
            let input = &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..cut];
            assert!(
                matches!(
                    parse_one(input),
                    Parsed::Incomplete {
                        needed_bytes: None,
                        ..
                    }
                ),
                "{cut}"
            );
        }
        let input = b"PUT /k HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
        let head_len = input.len() - 3;
        match parse_one(input) {
            Parsed::Incomplete {
                needed_bytes,
                expect_continue,
            } => {
                assert_eq!(needed_bytes, Some(head_len + 10));
                assert!(!expect_continue);
            }
            other => panic!("{other:?}"),
        }
        let input = b"PUT /k HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
        assert!(matches!(
            parse_one(input),
            Parsed::Incomplete {
                expect_continue: true,
                ..
            }
        ));
    }

    #[test]
    fn content_length_body_is_borrowed() {
        let input = b"PUT /api/v1/kv/a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET";
        let (request, consumed) = complete(input);
        assert_eq!(request.method, Method::Put);
        assert_eq!(&request.body[..], b"hello");
        assert!(matches!(request.body, Cow::Borrowed(_)));
        assert_eq!(consumed, input.len() - b"GET".len());
    }

    #[test]
    fn bad_content_lengths_are_refused() {
        for value in ["-1", "+5", "5, 5", "0x10", "", "99999999999999999999"] {
            let input = format!("PUT / HTTP/1.1\r\nContent-Length: {value}\r\n\r\n");
            assert_eq!(invalid(input.as_bytes()).status, 400, "{value}");
        }
        let error = invalid(b"PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        assert_eq!(error.status, 400);
        // The same length twice is allowed (RFC 9110 8.6).
        let (request, _) =
            complete(b"PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
        assert_eq!(&request.body[..], b"x");
    }

    #[test]
    fn limits_give_their_status() {
        let big = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(invalid(big.as_bytes()).status, 431);
        // Still partial but already over the limit.
        let partial = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(invalid(partial.as_bytes()).status, 431);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("H{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(invalid(many.as_bytes()).status, 431);
        let exactly: String = (0..MAX_HEADERS).map(|i| format!("H{i}: v\r\n")).collect();
        complete(format!("GET / HTTP/1.1\r\n{exactly}\r\n").as_bytes());
        let body = format!("PUT / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1);
        assert_eq!(invalid(body.as_bytes()).status, 413);
    }

    #[test]
    fn malformed_requests_are_400() {
        for input in [
            &b"GARBAGE\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
            b"GET\x01 / HTTP/1.1\r\n\r\n",
            b"GET * HTTP/1.1\r\n\r\n",
            b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        ] {
            assert_eq!(
                invalid(input).status,
                400,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(
            invalid(b"PUT / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status,
            501
        );
        assert_eq!(
            invalid(b"PUT / HTTP/1.1\r\nExpect: something\r\n\r\n").status,
            417
        );
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let input = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                      5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        let (request, consumed) = complete(input);
        assert_eq!(&request.body[..], b"hello world");
        assert_eq!(consumed, input.len() - 4);
        let (request, _) =
            complete(b"POST /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n");
        assert!(request.body.is_empty());
    }

    #[test]
    fn chunked_framing_resumes_at_every_cut() {
        let input: &[u8] = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                             3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        let mut progress = ChunkProgress::default();
        for cut in 1..input.len() {
            match parse(&input[..cut], &mut progress, MAX_BODY) {
                Parsed::Incomplete { .. } => {}
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        match parse(input, &mut progress, MAX_BODY) {
            Parsed::Complete { request, consumed } => {
                assert_eq!(&request.body[..], b"abc0123456789abcdef");
                assert_eq!(consumed, input.len());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(progress, ChunkProgress::default());
    }

    #[test]
    fn chunked_errors() {
        let head = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        for body in [
            "zz\r\n",
            "3\r\nabcX\r\n",
            "-1\r\n",
            "\r\n",
            "11111111111111111\r\n",
        ] {
            let input = format!("{head}{body}");
            assert_eq!(invalid(input.as_bytes()).status, 400, "{body:?}");
        }
        let long = format!("{head}{}", "1".repeat(MAX_CHUNK_LINE_BYTES + 1));
        assert_eq!(invalid(long.as_bytes()).status, 400);
        // Over the body limit in one chunk, and across chunks.
        let one = format!("{head}{:x}\r\n", MAX_BODY + 1);
        assert_eq!(invalid(one.as_bytes()).status, 413);
        let chunk = format!("200\r\n{}\r\n", "a".repeat(0x200));
        let many = format!("{head}{chunk}{chunk}{chunk}");
        assert_eq!(invalid(many.as_bytes()).status, 413);
        let trailers = format!("{head}0\r\n{}", "T: v\r\n".repeat(MAX_HEAD_BYTES / 6 + 1));
        assert_eq!(invalid(trailers.as_bytes()).status, 431);
    }

    #[test]
    fn targets_and_headers() {
        let (request, _) = complete(
            b"GET http://example.com:80/api/v1/kv?prefix=a HTTP/1.1\r\n\
              Accept: text/html, Application/JSON; q=0.9\r\n\
              Content-Type: application/json; charset=utf-8\r\n\
              Authorization: Bearer s3cret\r\n\r\n",
        );
        assert_eq!((request.path, request.query), ("/api/v1/kv", "prefix=a"));
        assert!(request.accept_json);
        assert!(request.json_body);
        assert_eq!(request.authorization, Some(&b"Bearer s3cret"[..]));
        let (request, _) = complete(b"GET http://example.com HTTP/1.1\r\nAccept: */*\r\n\r\n");
        assert_eq!(request.path, "/");
        assert!(!request.accept_json);
        let (request, _) = complete(b"OPTIONS /x#frag HTTP/1.1\r\n\r\n");
        assert_eq!((request.method, request.path), (Method::Other, "/x"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Fc", false).unwrap(), b"a b/c");
        assert_eq!(percent_decode("a+b", false).unwrap(), b"a+b");
        assert_eq!(percent_decode("a+b", true).unwrap(), b"a b");
        assert_eq!(percent_decode("%ff%00", false).unwrap(), b"\xff\x00");
        for bad in ["%", "%2", "%zz", "a%g0", "%%"] {
            assert!(percent_decode(bad, false).is_err(), "{bad}");
        }
        let pairs = query_pairs("prefix=user%3A&limit=5&&flag").unwrap();
        assert_eq!(
            pairs,
            vec![
                (b"prefix".to_vec(), b"user:".to_vec()),
                (b"limit".to_vec(), b"5".to_vec()),
                (b"flag".to_vec(), b"".to_vec()),
            ]
        );
        assert!(query_pairs("prefix=%zz").unwrap_err().contains("prefix"));
    }
}
