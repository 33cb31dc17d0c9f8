//! PostgreSQL v3 wire format: framing of frontend messages, a bounds-checked
//! reader for their bodies, and writers for backend messages.
//!
//! Every frontend message after startup is a type byte and a 4-byte length
//! that counts itself; the startup packet has only the length. Backend
//! messages are appended to the connection's output buffer in place: a
//! writer reserves the length word and patches it once the body is written.

use super::error::{sqlstate, PgError, Severity};

/// Startup packet codes (the protocol-version word).
pub const PROTOCOL_3_0: u32 = 196_608;
pub const SSL_REQUEST_CODE: u32 = 80_877_103;
pub const GSSENC_REQUEST_CODE: u32 = 80_877_104;
pub const CANCEL_REQUEST_CODE: u32 = 80_877_102;

/// Startup packets are small; PostgreSQL caps them at 10,000 bytes.
pub const MAX_STARTUP_PACKET_BYTES: usize = 10_000;

/// A framed message at the start of the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    /// `body` excludes the type byte and the length word; `consumed` covers
    /// the whole message.
    Message {
        tag: u8,
        body: &'a [u8],
        consumed: usize,
    },
    /// More bytes are needed; the whole message is `needed_bytes` long when
    /// known.
    Incomplete { needed_bytes: Option<usize> },
}

/// Frames one typed message. A length past `max_message_bytes` is an error
/// (the connection is closed after reporting it, as PostgreSQL does).
pub fn frame_message(input: &[u8], max_message_bytes: usize) -> Result<Framed<'_>, PgError> {
    if input.len() < 5 {
        return Ok(Framed::Incomplete { needed_bytes: None });
    }
    let tag = input[0];
    let length = u32::from_be_bytes([input[1], input[2], input[3], input[4]]) as usize;
    if length < 4 {
        return Err(PgError::fatal(
            sqlstate::PROTOCOL_VIOLATION,
            format!("invalid message length {length}"),
        ));
    }
    if length > max_message_bytes {
        return Err(PgError::fatal(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            format!("message of {length} bytes is over the limit of {max_message_bytes} bytes"),
        )
        .with_hint("raise --pg-max-message-bytes"));
    }
    let total = length + 1;
    if input.len() < total {
        return Ok(Framed::Incomplete {
            needed_bytes: Some(total),
        });
    }
    Ok(Framed::Message {
        tag,
        body: &input[5..total],
        consumed: total,
    })
}

/// Frames the startup packet (no type byte). Returns the body after the
/// length word (protocol code first) and the bytes consumed.
pub fn frame_startup(input: &[u8]) -> Result<Option<(&[u8], usize)>, PgError> {
    if input.len() < 4 {
        return Ok(None);
    }
    let length = u32::from_be_bytes([input[0], input[1], input[2], input[3]]) as usize;
    if !(8..=MAX_STARTUP_PACKET_BYTES).contains(&length) {
        return Err(PgError::fatal(
            sqlstate::PROTOCOL_VIOLATION,
            "invalid length of startup packet",
        ));
    }
    if input.len() < length {
        return Ok(None);
    }
    Ok(Some((&input[4..length], length)))
}

fn malformed() -> PgError {
    PgError::fatal(sqlstate::PROTOCOL_VIOLATION, "invalid message format")
}

/// Reads a message body front to back; every read is bounds-checked.
pub struct Reader<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(body: &'a [u8]) -> Reader<'a> {
        Reader { body, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.body.len() - self.pos
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], PgError> {
        let end = self.pos.checked_add(n).ok_or_else(malformed)?;
        let bytes = self.body.get(self.pos..end).ok_or_else(malformed)?;
        self.pos = end;
        Ok(bytes)
    }

    pub fn u8(&mut self) -> Result<u8, PgError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn i16(&mut self) -> Result<i16, PgError> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, PgError> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count prefix (i16) that must not be negative.
    pub fn count16(&mut self) -> Result<usize, PgError> {
        usize::try_from(self.i16()?).map_err(|_| malformed())
    }

    /// A NUL-terminated string, which must be UTF-8.
    pub fn cstr(&mut self) -> Result<&'a str, PgError> {
        let rest = &self.body[self.pos..];
        let nul = rest.iter().position(|&b| b == 0).ok_or_else(malformed)?;
        let text = std::str::from_utf8(&rest[..nul]).map_err(|_| {
            PgError::new(
                sqlstate::CHARACTER_NOT_IN_REPERTOIRE,
                "invalid byte sequence for encoding \"UTF8\"",
            )
        })?;
        self.pos += nul + 1;
        Ok(text)
    }

    /// A length-prefixed value (i32; -1 is NULL).
    pub fn value(&mut self) -> Result<Option<&'a [u8]>, PgError> {
        match self.i32()? {
            -1 => Ok(None),
            n if n < 0 => Err(malformed()),
            n => Ok(Some(self.bytes(n as usize)?)),
        }
    }

    /// The body must be used up exactly.
    pub fn finish(&self) -> Result<(), PgError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(malformed())
        }
    }
}

/// Transaction status in ReadyForQuery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnStatus {
    Idle,
    InBlock,
    Failed,
}

/// One RowDescription field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub type_oid: u32,
    /// pg_type.typlen (-1 variable).
    pub type_size: i16,
    /// For a column of kv: the table oid and attribute number (else 0, 0).
    pub table_oid: u32,
    pub column_number: i16,
}

/// Appends backend messages to an output buffer.
pub struct Writer<'a> {
    pub out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    /// Starts a message; returns where its length word is.
    fn begin(&mut self, tag: u8) -> usize {
        self.out.push(tag);
        let at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        at
    }

    fn end(&mut self, at: usize) {
        let length = (self.out.len() - at) as u32;
        self.out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    }

    fn cstr(&mut self, text: &str) {
        // A NUL inside would end the string early and misframe the fields
        // after it (client bytes can reach error texts): drop it.
        if text.contains('\0') {
            self.out.extend(text.bytes().filter(|&b| b != 0));
        } else {
            self.out.extend_from_slice(text.as_bytes());
        }
        self.out.push(0);
    }

    fn i16(&mut self, v: i16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// A message with a fixed body.
    fn simple(&mut self, tag: u8, body: &[u8]) {
        let at = self.begin(tag);
        self.out.extend_from_slice(body);
        self.end(at);
    }

    pub fn auth_ok(&mut self) {
        self.simple(b'R', &0i32.to_be_bytes());
    }

    pub fn auth_md5(&mut self, salt: [u8; 4]) {
        let at = self.begin(b'R');
        self.i32(5);
        self.out.extend_from_slice(&salt);
        self.end(at);
    }

    /// AuthenticationSASL offering SCRAM-SHA-256 only.
    pub fn auth_sasl(&mut self) {
        let at = self.begin(b'R');
        self.i32(10);
        self.cstr("SCRAM-SHA-256");
        self.out.push(0);
        self.end(at);
    }

    pub fn auth_sasl_continue(&mut self, data: &[u8]) {
        let at = self.begin(b'R');
        self.i32(11);
        self.out.extend_from_slice(data);
        self.end(at);
    }

    pub fn auth_sasl_final(&mut self, data: &[u8]) {
        let at = self.begin(b'R');
        self.i32(12);
        self.out.extend_from_slice(data);
        self.end(at);
    }

    pub fn parameter_status(&mut self, name: &str, value: &str) {
        let at = self.begin(b'S');
        self.cstr(name);
        self.cstr(value);
        self.end(at);
    }

    pub fn backend_key_data(&mut self, pid: i32, secret: i32) {
        let at = self.begin(b'K');
        self.i32(pid);
        self.i32(secret);
        self.end(at);
    }

    /// NegotiateProtocolVersion: the newest minor version we speak and the
    /// `_pq_` options we did not recognise.
    pub fn negotiate_protocol_version(&mut self, minor: i32, unrecognized: &[&str]) {
        let at = self.begin(b'v');
        self.i32(minor);
        self.i32(unrecognized.len() as i32);
        for option in unrecognized {
            self.cstr(option);
        }
        self.end(at);
    }

    pub fn ready_for_query(&mut self, status: TxnStatus) {
        let byte = match status {
            TxnStatus::Idle => b'I',
            TxnStatus::InBlock => b'T',
            TxnStatus::Failed => b'E',
        };
        self.simple(b'Z', &[byte]);
    }

    /// RowDescription; `binary[i]` is the result format of field i.
    pub fn row_description(&mut self, fields: &[Field], binary: impl Fn(usize) -> bool) {
        let at = self.begin(b'T');
        self.i16(fields.len() as i16);
        for (i, field) in fields.iter().enumerate() {
            self.cstr(&field.name);
            self.i32(field.table_oid as i32);
            self.i16(field.column_number);
            self.i32(field.type_oid as i32);
            self.i16(field.type_size);
            self.i32(-1); // type modifier
            self.i16(binary(i) as i16);
        }
        self.end(at);
    }

    /// Starts a DataRow of `columns` values; add them with
    /// [`value`](Self::value) / [`null`](Self::null), then call
    /// [`end_row`](Self::end_row) with the returned position.
    pub fn begin_row(&mut self, columns: usize) -> usize {
        let at = self.begin(b'D');
        self.i16(columns as i16);
        at
    }

    pub fn value(&mut self, bytes: &[u8]) {
        self.i32(bytes.len() as i32);
        self.out.extend_from_slice(bytes);
    }

    pub fn null(&mut self) {
        self.i32(-1);
    }

    /// Reserves a value's length word: fill the value in place, then
    /// [`end_value`](Self::end_value).
    pub fn begin_value(&mut self) -> usize {
        let at = self.out.len();
        self.i32(0);
        at
    }

    pub fn end_value(&mut self, at: usize) {
        let length = (self.out.len() - at - 4) as i32;
        self.out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    }

    pub fn end_row(&mut self, at: usize) {
        self.end(at);
    }

    pub fn command_complete(&mut self, tag: &str) {
        let at = self.begin(b'C');
        self.cstr(tag);
        self.end(at);
    }

    pub fn empty_query(&mut self) {
        self.simple(b'I', &[]);
    }

    pub fn parse_complete(&mut self) {
        self.simple(b'1', &[]);
    }

    pub fn bind_complete(&mut self) {
        self.simple(b'2', &[]);
    }

    pub fn close_complete(&mut self) {
        self.simple(b'3', &[]);
    }

    pub fn no_data(&mut self) {
        self.simple(b'n', &[]);
    }

    pub fn portal_suspended(&mut self) {
        self.simple(b's', &[]);
    }

    pub fn parameter_description(&mut self, type_oids: &[u32]) {
        let at = self.begin(b't');
        self.i16(type_oids.len() as i16);
        for &oid in type_oids {
            self.i32(oid as i32);
        }
        self.end(at);
    }

    /// CopyInResponse / CopyOutResponse for `columns` columns.
    pub fn copy_response(&mut self, copy_in: bool, binary: bool, columns: usize) {
        let at = self.begin(if copy_in { b'G' } else { b'H' });
        self.out.push(binary as u8);
        self.i16(columns as i16);
        for _ in 0..columns {
            self.i16(binary as i16);
        }
        self.end(at);
    }

    pub fn copy_data(&mut self, data: &[u8]) {
        self.simple(b'd', data);
    }

    pub fn copy_done(&mut self) {
        self.simple(b'c', &[]);
    }

    /// ErrorResponse or NoticeResponse, by the error's severity.
    pub fn error(&mut self, error: &PgError) {
        let tag = match error.severity {
            Severity::Error | Severity::Fatal => b'E',
            Severity::Notice | Severity::Warning => b'N',
        };
        let at = self.begin(tag);
        let severity = error.severity.as_str();
        self.out.push(b'S');
        self.cstr(severity);
        self.out.push(b'V');
        self.cstr(severity);
        self.out.push(b'C');
        self.cstr(error.code);
        self.out.push(b'M');
        self.cstr(&error.message);
        if let Some(detail) = &error.detail {
            self.out.push(b'D');
            self.cstr(detail);
        }
        if let Some(hint) = &error.hint {
            self.out.push(b'H');
            self.cstr(hint);
        }
        if let Some(position) = error.position {
            self.out.push(b'P');
            self.cstr(&position.to_string());
        }
        let fields = [
            (b'W', error.context.as_deref()),
            (b's', error.schema),
            (b't', error.table),
            (b'c', error.column),
            (b'n', error.constraint),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                self.out.push(field);
                self.cstr(value);
            }
        }
        self.out.push(0);
        self.end(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_typed_messages_and_waits_for_the_rest() {
        let query = b"Q\0\0\0\x0dSELECT 1\0";
        assert_eq!(
            frame_message(query, 1024).unwrap(),
            Framed::Message {
                tag: b'Q',
                body: b"SELECT 1\0",
                consumed: 14
            }
        );
        assert_eq!(
            frame_message(&query[..7], 1024).unwrap(),
            Framed::Incomplete {
                needed_bytes: Some(14)
            }
        );
        assert_eq!(
            frame_message(b"Q\0", 1024).unwrap(),
            Framed::Incomplete { needed_bytes: None }
        );
    }

    #[test]
    fn refuses_bad_and_oversized_lengths() {
        assert_eq!(
            frame_message(b"Q\0\0\0\x02", 1024).unwrap_err().code,
            sqlstate::PROTOCOL_VIOLATION
        );
        let error = frame_message(b"Q\0\x10\0\0", 1024).unwrap_err();
        assert_eq!(error.code, sqlstate::PROGRAM_LIMIT_EXCEEDED);
        assert_eq!(error.severity, Severity::Fatal);
        assert!(frame_startup(b"\0\0\0\x04").is_err());
        assert!(frame_startup(b"\x7f\0\0\0").is_err());
        assert_eq!(frame_startup(b"\0\0\0\x08\x04\xd2").unwrap(), None);
    }

    #[test]
    fn reader_checks_every_bound() {
        let mut reader = Reader::new(b"ab\0\0\0\0\x02xy\xff\xff\xff\xff");
        assert_eq!(reader.cstr().unwrap(), "ab");
        assert_eq!(reader.value().unwrap(), Some(&b"xy"[..]));
        assert_eq!(reader.value().unwrap(), None);
        reader.finish().unwrap();
        assert!(reader.u8().is_err());
        assert!(Reader::new(b"\0\0\0\x09ab").value().is_err());
        assert!(Reader::new(b"no-nul").cstr().is_err());
        assert!(Reader::new(b"\xff\xfe").count16().is_err());
    }

    #[test]
    fn writes_byte_exact_messages() {
        let mut out = Vec::new();
        let mut writer = Writer { out: &mut out };
        writer.ready_for_query(TxnStatus::InBlock);
        writer.command_complete("SELECT 1");
        let row = writer.begin_row(2);
        writer.value(b"k");
        writer.null();
        writer.end_row(row);
        assert_eq!(
            out,
            b"Z\0\0\0\x05TC\0\0\0\x0dSELECT 1\0D\0\0\0\x0f\0\x02\0\0\0\x01k\xff\xff\xff\xff"
        );
    }

    /// Found by the pg_frontend fuzz target: a NUL message type byte in
    /// an error text cut the M field short, leaving stray bytes.
    #[test]
    fn strings_with_nul_stay_one_field() {
        let mut out = Vec::new();
        let error = PgError::new(sqlstate::PROTOCOL_VIOLATION, "type \0 here");
        Writer { out: &mut out }.error(&error);
        assert!(
            out.ends_with(b"Mtype  here\0\0"),
            "{:?}",
            out.escape_ascii().to_string()
        );
        assert_eq!(
            out.len(),
            u32::from_be_bytes([out[1], out[2], out[3], out[4]]) as usize + 1
        );
        let mut out = Vec::new();
        Writer { out: &mut out }.parameter_status("application_name", "a\0b");
        assert_eq!(out, b"S\0\0\0\x18application_name\0ab\0");
    }

    #[test]
    fn error_response_carries_its_fields() {
        let mut out = Vec::new();
        let error = PgError::new(sqlstate::UNIQUE_VIOLATION, "dup")
            .with_detail("Key (key)=(a) already exists.")
            .with_position(3)
            .on_kv(None, Some("kv_pkey"));
        Writer { out: &mut out }.error(&error);
        let expected: &[u8] = b"E\0\0\0\x56SERROR\0VERROR\0C23505\0Mdup\0DKey (key)=(a) already exists.\0P3\0spublic\0tkv\0nkv_pkey\0\0";
        assert_eq!(out, expected);
        assert_eq!(out.len(), 0x56 + 1);
    }
}
