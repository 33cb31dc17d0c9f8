//! The PostgreSQL types corewire's results and parameters use: OIDs, sizes,
//! and conversion between wire formats and the engine's byte strings.

use std::borrow::Cow;

use super::error::{sqlstate, PgError};
use super::sql::SqlType;

pub const BOOL: u32 = 16;
pub const BYTEA: u32 = 17;
pub const INT8: u32 = 20;
pub const INT2: u32 = 21;
pub const INT4: u32 = 23;
pub const TEXT: u32 = 25;
pub const OID: u32 = 26;
pub const UNKNOWN: u32 = 705;
pub const FLOAT8: u32 = 701;
pub const VARCHAR: u32 = 1043;

/// The oid of table kv in the catalog (pg_class), for RowDescription.
pub const KV_TABLE_OID: u32 = 16384;

/// pg_type.typlen for RowDescription.
pub fn type_size(oid: u32) -> i16 {
    match oid {
        BOOL => 1,
        INT2 => 2,
        INT4 | OID => 4,
        INT8 => 8,
        _ => -1,
    }
}

/// The OID a cast names.
pub fn cast_oid(cast: SqlType) -> u32 {
    match cast {
        SqlType::Text => TEXT,
        SqlType::Bytea => BYTEA,
        SqlType::Integer => INT8,
    }
}

/// Wire format of a parameter or result column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Binary,
}

impl Format {
    pub fn from_code(code: i16) -> Result<Format, PgError> {
        match code {
            0 => Ok(Format::Text),
            1 => Ok(Format::Binary),
            _ => Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!("unsupported format code: {code}"),
            )),
        }
    }
}

/// A parameter value as bytes for the engine, given its type and format:
/// text and varchar pass through (UTF-8 checked in text format), bytea is
/// decoded from hex or escape text, integers become their decimal text.
pub fn decode_param(oid: u32, format: Format, raw: &[u8]) -> Result<Cow<'_, [u8]>, PgError> {
    match (oid, format) {
        (BYTEA, Format::Binary) => Ok(Cow::Borrowed(raw)),
        (BYTEA, Format::Text) => decode_bytea_text(raw).map(Cow::Owned),
        (OID, Format::Binary) => match <[u8; 4]>::try_from(raw) {
            Ok(bytes) => Ok(Cow::Owned(
                u32::from_be_bytes(bytes).to_string().into_bytes(),
            )),
            Err(_) => Err(bad_binary()),
        },
        (BOOL, Format::Binary) => match raw {
            [0] => Ok(Cow::Borrowed(b"f")),
            [1] => Ok(Cow::Borrowed(b"t")),
            _ => Err(bad_binary()),
        },
        (FLOAT8, Format::Binary) => match <[u8; 8]>::try_from(raw) {
            Ok(bytes) => Ok(Cow::Owned(
                f64::from_be_bytes(bytes).to_string().into_bytes(),
            )),
            Err(_) => Err(bad_binary()),
        },
        (INT2 | INT4 | INT8, Format::Binary) => {
            let value: i64 = match raw.len() {
                2 => i16::from_be_bytes([raw[0], raw[1]]).into(),
                4 => i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]).into(),
                8 => i64::from_be_bytes(raw.try_into().expect("8 bytes")),
                _ => return Err(bad_binary()),
            };
            Ok(Cow::Owned(value.to_string().into_bytes()))
        }
        (_, Format::Text) => {
            std::str::from_utf8(raw).map_err(|_| invalid_utf8())?;
            Ok(Cow::Borrowed(raw))
        }
        // Text-like binary is the UTF-8 bytes themselves.
        (_, Format::Binary) => {
            std::str::from_utf8(raw).map_err(|_| invalid_utf8())?;
            Ok(Cow::Borrowed(raw))
        }
    }
}

fn bad_binary() -> PgError {
    PgError::new(
        sqlstate::INVALID_BINARY_REPRESENTATION,
        "incorrect binary data format in bind parameter",
    )
}

fn invalid_utf8() -> PgError {
    PgError::new(
        sqlstate::CHARACTER_NOT_IN_REPERTOIRE,
        "invalid byte sequence for encoding \"UTF8\"",
    )
    .with_hint("binary values go through a bytea parameter or a ::bytea cast")
}

/// bytea's text input: `\x` hex, or the escape format (`\\`, `\ooo`).
pub fn decode_bytea_text(text: &[u8]) -> Result<Vec<u8>, PgError> {
    let invalid = || {
        PgError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            "invalid input syntax for type bytea",
        )
    };
    if let Some(hex) = text.strip_prefix(b"\\x") {
        let digits: Vec<u8> = hex
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if digits.len() % 2 != 0 {
            return Err(PgError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                "invalid hexadecimal data: odd number of digits",
            ));
        }
        return digits
            .chunks(2)
            .map(|pair| {
                let high = (pair[0] as char).to_digit(16);
                let low = (pair[1] as char).to_digit(16);
                match (high, low) {
                    (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                    _ => Err(PgError::new(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        "invalid hexadecimal digit",
                    )),
                }
            })
            .collect();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' {
            out.push(text[i]);
            i += 1;
        } else if text.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = text.get(i + 1..i + 4).ok_or_else(invalid)?;
            if !octal.iter().all(|b| (b'0'..=b'7').contains(b)) || octal[0] > b'3' {
                return Err(invalid());
            }
            out.push((octal[0] - b'0') * 64 + (octal[1] - b'0') * 8 + (octal[2] - b'0'));
            i += 4;
        }
    }
    Ok(out)
}

/// bytea's text output (bytea_output = hex), appended to `out`.
pub fn encode_bytea_hex(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + bytes.len() * 2);
    out.extend_from_slice(b"\\x");
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
}

/// An integer parameter or literal (LIMIT, OFFSET, pg_sleep).
pub fn parse_integer(text: &[u8]) -> Result<i64, PgError> {
    std::str::from_utf8(text)
        .ok()
        .map(str::trim)
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| {
            PgError::new(
                sqlstate::INVALID_TEXT_REPRESENTATION,
                format!(
                    "invalid input syntax for type bigint: \"{}\"",
                    String::from_utf8_lossy(text)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytea_text_forms_decode() {
        assert_eq!(decode_bytea_text(b"\\x00ff41").unwrap(), vec![0, 255, 65]);
        assert_eq!(decode_bytea_text(b"a\\\\b\\001").unwrap(), b"a\\b\x01");
        assert!(decode_bytea_text(b"\\x0").is_err());
        assert!(decode_bytea_text(b"\\xzz").is_err());
        assert!(decode_bytea_text(b"\\9").is_err());
        let mut out = Vec::new();
        encode_bytea_hex(&[0, 255, 65], &mut out);
        assert_eq!(out, b"\\x00ff41");
    }

    #[test]
    fn params_decode_by_type_and_format() {
        assert_eq!(
            decode_param(INT4, Format::Binary, &7i32.to_be_bytes()).unwrap(),
            &b"7"[..]
        );
        assert_eq!(
            decode_param(BYTEA, Format::Binary, &[0, 1]).unwrap(),
            &[0u8, 1][..]
        );
        assert_eq!(
            decode_param(TEXT, Format::Text, b"caf\xc3\xa9").unwrap(),
            "café".as_bytes()
        );
        assert_eq!(
            decode_param(TEXT, Format::Text, b"\xff").unwrap_err().code,
            sqlstate::CHARACTER_NOT_IN_REPERTOIRE
        );
        assert!(decode_param(INT8, Format::Binary, &[1, 2, 3]).is_err());
        assert_eq!(
            decode_param(OID, Format::Binary, &25u32.to_be_bytes()).unwrap(),
            &b"25"[..]
        );
        assert_eq!(decode_param(BOOL, Format::Binary, &[1]).unwrap(), &b"t"[..]);
        assert_eq!(
            decode_param(FLOAT8, Format::Binary, &1.5f64.to_be_bytes()).unwrap(),
            &b"1.5"[..]
        );
        assert_eq!(parse_integer(b" 12 ").unwrap(), 12);
        assert!(parse_integer(b"x").is_err());
    }
}
