//! Reply encoding, straight into the connection's output buffer.
//!
//! Replies are written byte by byte rather than built as `Frame` values and
//! encoded, which would cost an allocation per reply on the hot path. The
//! byte-exact tests below pin every form against what Redis 7 sends.

/// Appends RESP replies to `out`. `resp3` picks the RESP3 forms of null,
/// map, set and verbatim string; everything else is the same in both.
pub struct ReplyWriter<'a> {
    pub out: &'a mut Vec<u8>,
    pub resp3: bool,
}

impl ReplyWriter<'_> {
    pub fn ok(&mut self) {
        self.out.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, text: &[u8]) {
        self.out.push(b'+');
        self.out.extend_from_slice(text);
        self.out.extend_from_slice(b"\r\n");
    }

    /// `text` includes the error code, e.g. `ERR syntax error`. Newlines are
    /// turned into spaces as Redis does, so a reply can never break framing.
    pub fn error(&mut self, text: &[u8]) {
        self.out.push(b'-');
        self.out.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn integer(&mut self, value: i64) {
        self.out.push(b':');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn bulk(&mut self, value: &[u8]) {
        self.bulk_header(value.len());
        self.out.extend_from_slice(value);
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn bulk_header(&mut self, len: usize) {
        self.out.push(b'$');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// A value or a nil, as GET answers.
    pub fn bulk_or_null(&mut self, value: Option<&[u8]>) {
        match value {
            Some(value) => self.bulk(value),
            None => self.null(),
        }
    }

    /// Nil bulk string (RESP2 `$-1`, RESP3 `_`).
    pub fn null(&mut self) {
        self.out
            .extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// Nil array (RESP2 `*-1`, RESP3 `_`), as EXEC answers on a conflict.
    pub fn null_array(&mut self) {
        self.out
            .extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    pub fn array_header(&mut self, len: usize) {
        self.aggregate_header(b'*', len);
    }

    /// A map of `len` pairs: RESP3 `%`, RESP2 a flat array of 2*len.
    pub fn map_header(&mut self, len: usize) {
        if self.resp3 {
            self.aggregate_header(b'%', len);
        } else {
            self.aggregate_header(b'*', len * 2);
        }
    }

    /// A set: RESP3 `~`, RESP2 an array.
    pub fn set_header(&mut self, len: usize) {
        self.aggregate_header(if self.resp3 { b'~' } else { b'*' }, len);
    }

    /// Text with a format hint (RESP3 `=`), a plain bulk string in RESP2.
    pub fn verbatim(&mut self, format: &[u8; 3], text: &[u8]) {
        if self.resp3 {
            self.out.push(b'=');
            self.out
                .extend_from_slice(itoa::Buffer::new().format(text.len() + 4).as_bytes());
            self.out.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(format);
            self.out.push(b':');
            self.out.extend_from_slice(text);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    fn aggregate_header(&mut self, kind: u8, len: usize) {
        self.out.push(kind);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(resp3: bool, write: impl FnOnce(&mut ReplyWriter)) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut ReplyWriter {
            out: &mut out,
            resp3,
        });
        out
    }

    #[test]
    fn scalar_forms_are_byte_exact() {
        assert_eq!(encode(false, |r| r.ok()), b"+OK\r\n");
        assert_eq!(encode(false, |r| r.integer(-42)), b":-42\r\n");
        assert_eq!(encode(false, |r| r.bulk(b"")), b"$0\r\n\r\n");
        assert_eq!(encode(false, |r| r.bulk(b"a\r\nb")), b"$4\r\na\r\nb\r\n");
        assert_eq!(
            encode(false, |r| r.error(b"ERR bad\r\nthing")),
            b"-ERR bad  thing\r\n"
        );
    }

    #[test]
    fn nulls_and_aggregates_follow_the_protocol_version() {
        assert_eq!(encode(false, |r| r.null()), b"$-1\r\n");
        assert_eq!(encode(true, |r| r.null()), b"_\r\n");
        assert_eq!(encode(false, |r| r.null_array()), b"*-1\r\n");
        assert_eq!(encode(false, |r| r.map_header(2)), b"*4\r\n");
        assert_eq!(encode(true, |r| r.map_header(2)), b"%2\r\n");
        assert_eq!(encode(true, |r| r.set_header(3)), b"~3\r\n");
        assert_eq!(
            encode(true, |r| r.verbatim(b"txt", b"hi")),
            b"=6\r\ntxt:hi\r\n"
        );
        assert_eq!(
            encode(false, |r| r.verbatim(b"txt", b"hi")),
            b"$2\r\nhi\r\n"
        );
    }
}
