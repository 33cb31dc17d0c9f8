//! Writing HTTP/1.1 responses straight into the connection's output
//! buffer.

use std::io::Write as _;

pub const JSON: &str = "application/json";
pub const OCTETS: &str = "application/octet-stream";
pub const HTML: &str = "text/html; charset=utf-8";
pub const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How the response for one request is framed.
#[derive(Clone, Copy, Debug)]
pub struct Framing {
    /// HEAD: headers only, with the Content-Length a GET would have.
    pub head_only: bool,
    /// The connection closes after this response.
    pub close: bool,
    /// An HTTP/1.0 client asked for keep-alive and gets it.
    pub keep_alive_1_0: bool,
}

/// One response: status, content type, extra headers and body.
pub struct Response<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl<'a> Response<'a> {
    pub fn new(status: u16, content_type: &'a str, body: &'a [u8]) -> Response<'a> {
        Response {
            status,
            content_type,
            headers: &[],
            body,
        }
    }

    pub fn with_headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Response<'a> {
        self.headers = headers;
        self
    }
}

/// Appends the status line, headers and (unless HEAD) the body.
pub fn write(out: &mut Vec<u8>, framing: Framing, response: &Response<'_>) {
    write_head(out, framing, response, response.body.len());
    if !framing.head_only {
        out.extend_from_slice(response.body);
    }
}

/// Appends the status line and headers for a body of `body_len` bytes the
/// caller appends itself (skipped for HEAD).
pub fn write_head(out: &mut Vec<u8>, framing: Framing, response: &Response<'_>, body_len: usize) {
    let status = response.status;
    // Writes into a Vec cannot fail.
    let _ = write!(
        out,
        "HTTP/1.1 {status} {}\r\nServer: corewire\r\nDate: {}\r\nContent-Type: {}\r\nContent-Length: {body_len}\r\n",
        reason(status),
        http_date(std::time::SystemTime::now()),
        response.content_type,
    );
    if response.content_type != HTML {
        // Live figures and data: never from a cache.
        out.extend_from_slice(b"Cache-Control: no-store\r\n");
    }
    for (name, value) in response.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    if framing.close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if framing.keep_alive_1_0 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// `{"error":"..."}` with the message JSON-escaped.
pub fn error_body(message: &str) -> Vec<u8> {
    serde_json::json!({ "error": message })
        .to_string()
        .into_bytes()
}

/// The reason phrase of each status this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// An IMF-fixdate (RFC 9110 5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(time: std::time::SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (year, month, day) = crate::log::civil_from_days(days);
    let day_secs = secs % 86_400;
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates_are_imf_fixdate() {
        let time = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(time), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(http_date(leap), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn heads_frame_the_body() {
        let mut out = Vec::new();
        let framing = Framing {
            head_only: false,
            close: true,
            keep_alive_1_0: false,
        };
        let headers = [("Allow", "GET, HEAD")];
        write(
            &mut out,
            framing,
            &Response::new(405, JSON, b"{}").with_headers(&headers),
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nContent-Length: 2\r\n"));
        assert!(text.contains("\r\nAllow: GET, HEAD\r\n"));
        assert!(text.ends_with("\r\nConnection: close\r\n\r\n{}"));

        let mut out = Vec::new();
        let framing = Framing {
            head_only: true,
            close: false,
            keep_alive_1_0: true,
        };
        write(&mut out, framing, &Response::new(200, JSON, b"{\"a\":1}"));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\r\nContent-Length: 7\r\n"));
        assert!(text.ends_with("\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn error_bodies_escape() {
        assert_eq!(error_body("a \"b\""), b"{\"error\":\"a \\\"b\\\"\"}");
    }
}
