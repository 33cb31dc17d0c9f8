//! Request framing: RESP multibulk arrays and inline commands.
//!
//! A request that arrives whole is framed by `redis-protocol`'s zero-copy
//! `decode_range`. That decoder starts from the beginning of the buffer on
//! every call, so a huge request arriving in many small reads would cost
//! quadratic time; once a request turns out to be incomplete, framing
//! switches to a resumable scanner that follows Redis's own algorithm
//! (`processMultibulkBuffer`), keeps its position across reads, and reports
//! how many bytes the request needs. The scanner also produces Redis's exact
//! protocol error strings. Inline commands (`PING\r\n`) have their own small
//! parser, after Redis's `sdssplitargs`.

use std::ops::Range;

use redis_protocol::resp2::{decode::decode_range, types::RangeFrame};

/// Longest inline request, and longest header line (`*N`, `$N`), as Redis's
/// PROTO_INLINE_MAX_SIZE.
pub const MAX_INLINE_BYTES: usize = 64 * 1024;

/// Limits the parser enforces.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    pub max_bulk_bytes: usize,
    pub max_multibulk_count: usize,
}

/// Where a parsed request's argument ranges point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgSource {
    /// Into the input buffer that was parsed.
    Input,
    /// Into `RequestParser::inline_bytes` (inline args may be unescaped).
    Inline,
}

/// Outcome of one parse step.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A request of `consumed` bytes; its arguments are in `args`.
    Request { consumed: usize, source: ArgSource },
    /// `consumed` bytes that hold no command (empty line, `*0`, `*-1`).
    Nothing { consumed: usize },
    /// More input needed; `needed_bytes` is the request's full size when
    /// already known.
    Incomplete { needed_bytes: Option<usize> },
}

/// A protocol error: the client gets `-ERR Protocol error: <reason>` and the
/// connection is closed after the reply.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtocolError(pub Vec<u8>);

impl ProtocolError {
    fn new(reason: &str) -> ProtocolError {
        ProtocolError(reason.as_bytes().to_vec())
    }

    /// An array element that is not a bulk string; `kind` is its type byte.
    fn expected_bulk(kind: u8) -> ProtocolError {
        let mut reason = b"expected '$', got '".to_vec();
        reason.push(kind);
        reason.push(b'\'');
        ProtocolError(reason)
    }

    /// The full error reply text.
    pub fn reply_text(&self) -> Vec<u8> {
        let mut text = b"ERR Protocol error: ".to_vec();
        text.extend_from_slice(&self.0);
        text
    }
}

/// Progress through a multibulk request that spans reads.
#[derive(Debug)]
struct Partial {
    /// Arguments still to read.
    args_left: usize,
    /// Length of the bulk whose header has been read, if any.
    bulk_len: Option<usize>,
    /// Offset of the next unread byte, from the start of the request.
    pos: usize,
}

/// Per-connection framing state.
#[derive(Debug, Default)]
pub struct RequestParser {
    partial: Option<Partial>,
    /// Arguments of the half-read request. Kept here, not in the caller's
    /// `args`: that vector is the worker's, shared by every connection, and
    /// others parse into it before this request's next bytes arrive.
    partial_args: Vec<Range<usize>>,
    /// Unescaped inline arguments of the last inline request.
    pub inline_bytes: Vec<u8>,
}

impl RequestParser {
    /// Frames the request at the start of `buf` (which must start where the
    /// previous call's unconsumed bytes started). On `Parsed::Request`,
    /// `args` holds one range per argument.
    pub fn parse(
        &mut self,
        buf: &[u8],
        args: &mut Vec<Range<usize>>,
        limits: &ParseLimits,
    ) -> Result<Parsed, ProtocolError> {
        if buf.is_empty() {
            return Ok(Parsed::Incomplete { needed_bytes: None });
        }
        if self.partial.is_none() {
            if buf[0] != b'*' {
                return self.parse_inline(buf, args);
            }
            args.clear();
            match decode_range(buf) {
                Ok(Some((frame, consumed))) => {
                    // An error falls through to the scanner, which words it
                    // as Redis does whatever the segmentation (`*-1` in
                    // place of a bulk is "expected '$'", where the frame
                    // only shows a null).
                    if let Ok(parsed) = whole_frame(frame, consumed, args, limits) {
                        // redis-protocol reads lengths with str::parse, which
                        // takes "+4" and "04"; Redis does not. The scanner
                        // words the error.
                        if headers_are_strict(buf, args) {
                            return Ok(parsed);
                        }
                    }
                }
                // Incomplete: the scanner takes over and remembers progress.
                Ok(None) => {}
                // The scanner finds the error again and words it as Redis.
                Err(_) => {}
            }
        }
        self.scan(buf, args, limits)
    }

    /// Whether a request is half-read (its bytes must stay in place).
    pub fn is_mid_request(&self) -> bool {
        self.partial.is_some()
    }

    /// Redis's multibulk algorithm, resumable.
    fn scan(
        &mut self,
        buf: &[u8],
        args: &mut Vec<Range<usize>>,
        limits: &ParseLimits,
    ) -> Result<Parsed, ProtocolError> {
        let mut partial = match self.partial.take() {
            Some(partial) => {
                args.clear();
                args.append(&mut self.partial_args);
                partial
            }
            None => {
                args.clear();
                let Some(line_end) = find_line_end(buf, 0) else {
                    return incomplete_header(buf.len(), "too big mbulk count string");
                };
                let count = parse_strict_i64(&buf[1..line_end]);
                let count = match count {
                    Some(n) if n <= limits.max_multibulk_count as i64 && n <= i32::MAX as i64 => n,
                    _ => return Err(ProtocolError::new("invalid multibulk length")),
                };
                if count <= 0 {
                    return Ok(Parsed::Nothing {
                        consumed: line_end + 2,
                    });
                }
                Partial {
                    args_left: count as usize,
                    bulk_len: None,
                    pos: line_end + 2,
                }
            }
        };
        while partial.args_left > 0 {
            let bulk_len = match partial.bulk_len {
                Some(len) => len,
                None => {
                    let Some(line_end) = find_line_end(buf, partial.pos) else {
                        let pending = buf.len() - partial.pos;
                        self.partial = Some(partial);
                        self.partial_args.append(args);
                        return incomplete_header(pending, "too big bulk count string");
                    };
                    let kind = buf[partial.pos];
                    if kind != b'$' {
                        return Err(ProtocolError::expected_bulk(kind));
                    }
                    let len = match parse_strict_i64(&buf[partial.pos + 1..line_end]) {
                        Some(n) if n >= 0 && n as u64 <= limits.max_bulk_bytes as u64 => n as usize,
                        _ => return Err(ProtocolError::new("invalid bulk length")),
                    };
                    partial.pos = line_end + 2;
                    partial.bulk_len = Some(len);
                    len
                }
            };
            let end = partial.pos + bulk_len + 2;
            if buf.len() < end {
                self.partial = Some(partial);
                self.partial_args.append(args);
                return Ok(Parsed::Incomplete {
                    needed_bytes: Some(end),
                });
            }
            args.push(partial.pos..partial.pos + bulk_len);
            partial.pos = end;
            partial.bulk_len = None;
            partial.args_left -= 1;
        }
        Ok(Parsed::Request {
            consumed: partial.pos,
            source: ArgSource::Input,
        })
    }

    fn parse_inline(
        &mut self,
        buf: &[u8],
        args: &mut Vec<Range<usize>>,
    ) -> Result<Parsed, ProtocolError> {
        let Some(newline) = memchr(b'\n', buf) else {
            if buf.len() > MAX_INLINE_BYTES {
                return Err(ProtocolError::new("too big inline request"));
            }
            return Ok(Parsed::Incomplete { needed_bytes: None });
        };
        let mut line = &buf[..newline];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        args.clear();
        self.inline_bytes.clear();
        if !split_args(line, &mut self.inline_bytes, args) {
            return Err(ProtocolError::new("unbalanced quotes in request"));
        }
        let consumed = newline + 1;
        if args.is_empty() {
            return Ok(Parsed::Nothing { consumed });
        }
        Ok(Parsed::Request {
            consumed,
            source: ArgSource::Inline,
        })
    }
}

/// Checks a frame `decode_range` accepted: Redis takes only arrays of bulk
/// strings.
fn whole_frame(
    frame: RangeFrame,
    consumed: usize,
    args: &mut Vec<Range<usize>>,
    limits: &ParseLimits,
) -> Result<Parsed, ProtocolError> {
    let items = match frame {
        RangeFrame::Array(items) => items,
        // `*-1`: Redis skips a null array.
        _ => return Ok(Parsed::Nothing { consumed }),
    };
    if items.len() > limits.max_multibulk_count {
        return Err(ProtocolError::new("invalid multibulk length"));
    }
    if items.is_empty() {
        return Ok(Parsed::Nothing { consumed });
    }
    for item in items {
        let kind = match item {
            RangeFrame::BulkString((start, end)) => {
                if end - start > limits.max_bulk_bytes {
                    return Err(ProtocolError::new("invalid bulk length"));
                }
                args.push(start..end);
                continue;
            }
            RangeFrame::Null => return Err(ProtocolError::new("invalid bulk length")),
            RangeFrame::SimpleString(_) => b'+',
            RangeFrame::Error(_) => b'-',
            RangeFrame::Integer(_) => b':',
            RangeFrame::Array(_) => b'*',
        };
        return Err(ProtocolError::expected_bulk(kind));
    }
    Ok(Parsed::Request {
        consumed,
        source: ArgSource::Input,
    })
}

/// Whether every length line of a framed request (`*N`, then `$len` before
/// each argument) is a canonical integer, as Redis's string2ll demands.
fn headers_are_strict(buf: &[u8], args: &[Range<usize>]) -> bool {
    let Some(count_end) = find_line_end(buf, 0) else {
        return false;
    };
    if parse_strict_i64(&buf[1..count_end]).is_none() {
        return false;
    }
    // Each `$len\r\n` line runs from the end of the previous item to its
    // argument.
    let mut line_start = count_end + 2;
    for arg in args {
        if parse_strict_i64(&buf[line_start + 1..arg.start - 2]) != Some(arg.len() as i64) {
            return false;
        }
        line_start = arg.end + 2;
    }
    true
}

/// An incomplete header line: fine while short, an error once longer than
/// any header can be.
fn incomplete_header(pending_bytes: usize, reason: &str) -> Result<Parsed, ProtocolError> {
    if pending_bytes > MAX_INLINE_BYTES {
        return Err(ProtocolError::new(reason));
    }
    Ok(Parsed::Incomplete { needed_bytes: None })
}

/// Index of the `\r` ending the line at `from`, if its `\n` has arrived too
/// (Redis checks for room, not for the `\n` byte itself).
fn find_line_end(buf: &[u8], from: usize) -> Option<usize> {
    let cr = from + memchr(b'\r', &buf[from..])?;
    if cr + 2 > buf.len() {
        return None;
    }
    Some(cr)
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Redis's `string2ll`: optional '-', digits, no leading zeros, no '+', no
/// spaces, within i64.
pub fn parse_strict_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.len() > 20
        || (digits[0] == b'0' && (digits.len() > 1 || negative))
    {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add((digit - b'0') as u64)?;
    }
    if negative {
        if magnitude > i64::MAX as u64 + 1 {
            return None;
        }
        Some((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Redis's `sdssplitargs`: whitespace-separated words, "double quotes" with
/// C escapes and \xHH, 'single quotes' with \' only. A NUL byte ends the line
/// as it does for Redis's C string. Returns false on unbalanced quotes.
fn split_args(line: &[u8], out: &mut Vec<u8>, args: &mut Vec<Range<usize>>) -> bool {
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let mut p = 0;
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return true;
        }
        let start = out.len();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = at(p);
            if in_double {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && hex(at(p + 2)).is_some()
                    && hex(at(p + 3)).is_some()
                {
                    out.push(hex(at(p + 2)).unwrap() * 16 + hex(at(p + 3)).unwrap());
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    out.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return false;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return false;
                } else {
                    out.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return false;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return false;
                } else {
                    out.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => out.push(c),
                }
            }
            p += 1;
        }
        args.push(start..out.len());
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ParseLimits = ParseLimits {
        max_bulk_bytes: 1 << 20,
        max_multibulk_count: 1 << 20,
    };

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut parser = RequestParser::default();
        let mut args = Vec::new();
        let mut requests = Vec::new();
        let mut pos = 0;
        loop {
            match parser.parse(&input[pos..], &mut args, &LIMITS)? {
                Parsed::Request { consumed, source } => {
                    let base = match source {
                        ArgSource::Input => &input[pos..],
                        ArgSource::Inline => &parser.inline_bytes[..],
                    };
                    requests.push(args.iter().map(|r| base[r.clone()].to_vec()).collect());
                    pos += consumed;
                }
                Parsed::Nothing { consumed } => pos += consumed,
                Parsed::Incomplete { .. } => return Ok(requests),
            }
        }
    }

    fn words(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    /// Two connections' parsers share the worker's `args`; one's half-read
    /// request must survive the other's parse in between (this once
    /// misframed pipelined loads over several connections).
    #[test]
    fn half_read_request_survives_another_parser_sharing_args() {
        let limits = LIMITS;
        let mut args = Vec::new();
        let mut first = RequestParser::default();
        let mut second = RequestParser::default();
        let whole = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let cut = 20; // inside the value
        assert!(matches!(
            first.parse(&whole[..cut], &mut args, &limits).unwrap(),
            Parsed::Incomplete { .. }
        ));
        let other = b"*2\r\n$3\r\nGET\r\n$5\r\nother\r\n";
        assert!(matches!(
            second.parse(other, &mut args, &limits).unwrap(),
            Parsed::Request { .. }
        ));
        let Parsed::Request { consumed, .. } = first.parse(whole, &mut args, &limits).unwrap()
        else {
            panic!("the rest of the request arrived");
        };
        assert_eq!(consumed, whole.len());
        let got: Vec<&[u8]> = args.iter().map(|r| &whole[r.clone()]).collect();
        assert_eq!(got, vec![&b"SET"[..], b"key", b"value"]);
    }

    #[test]
    fn multibulk_and_pipelines() {
        let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\n";
        assert_eq!(
            parse_all(input).unwrap(),
            vec![words(&["GET", "k"]), words(&["PING"])]
        );
    }

    #[test]
    fn binary_and_empty_arguments() {
        let input = b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\na\r\n\0\r\n";
        assert_eq!(
            parse_all(input).unwrap(),
            vec![vec![b"SET".to_vec(), vec![], b"a\r\n\0".to_vec()]]
        );
    }

    #[test]
    fn inline_commands_split_like_redis() {
        assert_eq!(parse_all(b"PING\r\n").unwrap(), vec![words(&["PING"])]);
        assert_eq!(
            parse_all(b"set  a   b\n").unwrap(),
            vec![words(&["set", "a", "b"])]
        );
        assert_eq!(
            parse_all(b"SET \"a b\\x41\\n\" 'it\\'s'\r\n").unwrap(),
            vec![words(&["SET", "a bA\n", "it's"])]
        );
        assert_eq!(
            parse_all(b"\r\n\r\nPING\r\n").unwrap(),
            vec![words(&["PING"])]
        );
        assert_eq!(
            parse_all(b"SET \"a\r\n").unwrap_err(),
            ProtocolError::new("unbalanced quotes in request")
        );
        assert_eq!(
            parse_all(b"SET \"a\"b\r\n").unwrap_err(),
            ProtocolError::new("unbalanced quotes in request")
        );
    }

    #[test]
    fn errors_are_worded_as_redis() {
        let error =
            |input: &[u8]| String::from_utf8(parse_all(input).unwrap_err().reply_text()).unwrap();
        assert_eq!(
            error(b"*abc\r\n"),
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            error(b"*1\r\n+foo\r\n"),
            "ERR Protocol error: expected '$', got '+'"
        );
        assert_eq!(
            error(b"*1\r\n:1\r\n"),
            "ERR Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            error(b"*1\r\n$-5\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            error(b"*1\r\n$-1\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            error(b"*2\r\n$3\r\nGET\r\n$9999999\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            error(b"*2000000\r\n"),
            "ERR Protocol error: invalid multibulk length"
        );
        let long_line = [b'x'; MAX_INLINE_BYTES + 1];
        assert_eq!(
            error(&long_line),
            "ERR Protocol error: too big inline request"
        );
        let mut long_count = b"*1".to_vec();
        long_count.extend_from_slice(&[b'1'; MAX_INLINE_BYTES + 1]);
        assert_eq!(
            error(&long_count),
            "ERR Protocol error: too big mbulk count string"
        );
    }

    /// Found by the resp_request fuzz target: a null array where a bulk
    /// string belongs was "invalid bulk length" when the request arrived
    /// whole and "expected '$', got '*'" (Redis's wording) when split.
    #[test]
    fn null_array_argument_is_worded_alike_whole_and_split() {
        let input = b"*2\r\n$3\r\nGET\r\n*-1\r\n";
        let expected = ProtocolError::new("expected '$', got '*'");
        assert_eq!(parse_all(input).unwrap_err(), expected);
        let mut parser = RequestParser::default();
        let mut args = Vec::new();
        let mut result = Ok(Parsed::Incomplete { needed_bytes: None });
        for end in 1..=input.len() {
            result = parser.parse(&input[..end], &mut args, &LIMITS);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result.unwrap_err(), expected);
    }

    #[test]
    fn strict_integers_match_string2ll() {
        assert_eq!(parse_strict_i64(b"0"), Some(0));
        assert_eq!(parse_strict_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_strict_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1.5",
        ] {
            assert_eq!(parse_strict_i64(bad), None, "{:?}", bad);
        }
    }

    /// A request fed one byte at a time resumes where it stopped: the
    /// scanner never starts over, so the work is linear in the input.
    #[test]
    fn split_requests_resume_and_report_needed_bytes() {
        let input = b"*2\r\n$3\r\nSET\r\n$10\r\n0123456789\r\n";
        let mut parser = RequestParser::default();
        let mut args = Vec::new();
        for end in 1..input.len() {
            let parsed = parser.parse(&input[..end], &mut args, &LIMITS).unwrap();
            assert!(
                matches!(parsed, Parsed::Incomplete { .. }),
                "{end}: {parsed:?}"
            );
            assert!(end < 4 || parser.is_mid_request());
        }
        let parsed = parser.parse(&input[..20], &mut args, &LIMITS).unwrap();
        assert_eq!(
            parsed,
            Parsed::Incomplete {
                needed_bytes: Some(input.len())
            }
        );
        let parsed = parser.parse(input, &mut args, &LIMITS).unwrap();
        assert_eq!(
            parsed,
            Parsed::Request {
                consumed: input.len(),
                source: ArgSource::Input
            }
        );
        assert_eq!(&input[args[1].clone()], b"0123456789");
        assert!(!parser.is_mid_request());
    }
}
