//! The server log: one line per event, with a timestamp, a level, the
//! worker and the connection. Plain text by default, JSON by option.
//!
//! Logging is off the request path (events, not requests), so one mutex
//! around the sink is enough. Secrets are never passed in: callers log
//! names, not values, for anything that can hold a password.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use parking_lot::Mutex;

/// Severity, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub const NAMES: &'static str = "error, warn, info, debug";

    pub fn parse(text: &str) -> Option<Level> {
        match text.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" | "notice" => Some(Level::Info),
            "debug" | "verbose" => Some(Level::Debug),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// Line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text = 0,
    Json = 1,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "text" | "plain" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
        }
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static FORMAT: AtomicU8 = AtomicU8::new(Format::Text as u8);
/// None: stderr.
static SINK: Mutex<Option<std::fs::File>> = Mutex::new(None);

thread_local! {
    /// The worker this thread is, for the `worker` field.
    static WORKER: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Level and format apply to every thread from the next line on (a reload
/// changes them).
pub fn configure(level: Level, format: Format) {
    LEVEL.store(level as u8, Relaxed);
    FORMAT.store(format as u8, Relaxed);
}

/// Sends lines to `path` (appended), or to stderr for None.
pub fn set_file(path: Option<&std::path::Path>) -> std::io::Result<()> {
    let file = match path {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
        None => None,
    };
    *SINK.lock() = file;
    Ok(())
}

/// Names the calling thread's worker in its lines.
pub fn set_worker(id: usize) {
    WORKER.with(|worker| worker.set(Some(id)));
}

#[inline]
pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Relaxed)
}

/// Writes one line. Use the `log_*!` macros.
pub fn emit(level: Level, conn: Option<u64>, message: fmt::Arguments) {
    let worker = WORKER.with(|worker| worker.get());
    let line = format_line(
        FORMAT.load(Relaxed),
        &timestamp(std::time::SystemTime::now()),
        level,
        worker,
        conn,
        &message.to_string(),
    );
    let mut sink = SINK.lock();
    // A log that cannot be written has nowhere to report that; carry on.
    let _ = match sink.as_mut() {
        Some(file) => file.write_all(line.as_bytes()),
        None => std::io::stderr().lock().write_all(line.as_bytes()),
    };
}

/// Flushes the sink (at exit).
pub fn flush() {
    let mut sink = SINK.lock();
    let _ = match sink.as_mut() {
        Some(file) => file.sync_data(),
        None => std::io::stderr().flush(),
    };
}

fn format_line(
    format: u8,
    timestamp: &str,
    level: Level,
    worker: Option<usize>,
    conn: Option<u64>,
    message: &str,
) -> String {
    let mut line = String::with_capacity(64 + message.len());
    if format == Format::Json as u8 {
        let _ = write!(
            line,
            "{{\"ts\":\"{timestamp}\",\"level\":\"{}\"",
            level.name()
        );
        match worker {
            Some(id) => {
                let _ = write!(line, ",\"worker\":{id}");
            }
            None => line.push_str(",\"worker\":null"),
        }
        if let Some(conn) = conn {
            let _ = write!(line, ",\"conn\":{conn}");
        }
        line.push_str(",\"msg\":");
        push_json_string(&mut line, message);
        line.push_str("}\n");
    } else {
        let _ = write!(line, "{timestamp} {:<5} ", level.name().to_uppercase());
        match worker {
            Some(id) => {
                let _ = write!(line, "w{id}");
            }
            None => line.push_str("main"),
        }
        if let Some(conn) = conn {
            let _ = write!(line, " c{conn}");
        }
        line.push(' ');
        // One event, one line: a message never breaks the line format.
        line.extend(message.chars().map(|c| if c == '\n' { ' ' } else { c }));
        line.push('\n');
    }
    line
}

/// Appends `text` as a JSON string literal.
pub fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-23T09:15:02.123Z`.
pub fn timestamp(time: std::time::SystemTime) -> String {
    let since_epoch = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let day_secs = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60,
        since_epoch.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's
/// `civil_from_days`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `log_at!(level, "text {}", x)` or `log_at!(level, conn = id; "text")`.
#[macro_export]
macro_rules! log_at {
    ($level:expr, conn = $conn:expr; $($arg:tt)+) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, Some($conn), format_args!($($arg)+))
        }
    };
    ($level:expr, $($arg:tt)+) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, None, format_args!($($arg)+))
        }
    };
}

#[macro_export]
macro_rules! log_error {
    ($($arg:tt)+) => { $crate::log_at!($crate::log::Level::Error, $($arg)+) };
}

#[macro_export]
macro_rules! log_warn {
    ($($arg:tt)+) => { $crate::log_at!($crate::log::Level::Warn, $($arg)+) };
}

#[macro_export]
macro_rules! log_info {
    ($($arg:tt)+) => { $crate::log_at!($crate::log::Level::Info, $($arg)+) };
}

#[macro_export]
macro_rules! log_debug {
    ($($arg:tt)+) => { $crate::log_at!($crate::log::Level::Debug, $($arg)+) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_425_302_123);
        assert_eq!(timestamp(time), "2026-11-23T09:15:02.123Z");
        assert_eq!(timestamp(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // A leap day.
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn text_lines_name_worker_and_connection() {
        let line = format_line(0, "T", Level::Warn, Some(1), Some(42), "two\nlines");
        assert_eq!(line, "T WARN  w1 c42 two lines\n");
        let line = format_line(0, "T", Level::Info, None, None, "started");
        assert_eq!(line, "T INFO  main started\n");
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let line = format_line(1, "T", Level::Error, Some(0), Some(7), "a \"quoted\"\nb");
        assert_eq!(
            line,
            "{\"ts\":\"T\",\"level\":\"error\",\"worker\":0,\"conn\":7,\"msg\":\"a \\\"quoted\\\"\\nb\"}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(parsed["msg"], "a \"quoted\"\nb");
    }
}
