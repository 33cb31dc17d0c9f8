//! The slow log (Redis's SLOWLOG, for both protocols) and the
//! slow-statement log line (PostgreSQL's log_min_duration_statement).
//!
//! Each worker keeps its newest `slowlog-max-len` entries in a deque
//! behind a mutex of its own, locked only to add a slow request and by
//! SLOWLOG. Ids come from one process-wide sequence, so SLOWLOG GET merges
//! the workers' entries by id and shows the newest `slowlog-max-len` of
//! them, as one Redis would: every worker keeps its own newest that many,
//! so the union always holds the global newest.
//!
//! No secrets: arguments that carry passwords are replaced by
//! `(redacted)` as Redis 7 does (AUTH, HELLO ... AUTH, CONFIG SET of
//! sensitive settings, ACL SETUSER), and SQL that mentions a password is
//! reduced to its first word.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Protocol, WorkerStats};
use crate::resp::Args;
use crate::runtime::Shared;

/// Arguments kept per entry; the last slot then says how many were left
/// out (Redis's SLOWLOG_ENTRY_MAX_ARGC).
pub const MAX_ARGS: usize = 32;
/// Bytes kept per argument (Redis's SLOWLOG_ENTRY_MAX_STRING).
pub const MAX_ARG_BYTES: usize = 128;
/// Bytes of SQL kept per PostgreSQL entry (SQL is one long argument).
pub const MAX_SQL_BYTES: usize = 1024;
/// Bytes of request text in a slow-request log line.
pub const MAX_LOG_TEXT_BYTES: usize = 1024;

const REDACTED: &[u8] = b"(redacted)";

/// One slow request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowEntry {
    /// Unique and increasing across the process (never reused, RESET
    /// included).
    pub id: u64,
    /// When it was logged, Unix seconds.
    pub unix_secs: i64,
    /// How long it ran, µs.
    pub duration_us: u64,
    /// RESP: the arguments, redacted and truncated as Redis does.
    /// PostgreSQL: one argument, the statement's text.
    pub args: Vec<Vec<u8>>,
    /// `ip:port` of the client.
    pub client_addr: String,
    /// CLIENT SETNAME (RESP) or application_name (PostgreSQL); may be empty.
    pub client_name: Vec<u8>,
    pub protocol: Protocol,
}

/// One worker's entries, newest first.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<SlowEntry>,
}

impl SlowLog {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Adds an entry to this worker's log (called only by its worker),
/// trimming it to `slowlog-max-len`.
pub fn push(shared: &Shared, stats: &WorkerStats, mut entry: SlowEntry) {
    entry.id = shared.stats[0].slowlog_next_id.fetch_add(1, Relaxed);
    let max_len = shared.live.slowlog_max_len();
    let mut log = stats.slowlog.lock();
    log.entries.push_front(entry);
    log.entries.truncate(max_len);
    stats.slowlog_entries.add(1);
}

/// The newest `count` entries of all workers (None: all of them), newest
/// first, at most `slowlog-max-len`.
pub fn newest(shared: &Shared, count: Option<usize>) -> Vec<SlowEntry> {
    let max_len = shared.live.slowlog_max_len();
    let mut all: Vec<SlowEntry> = Vec::new();
    for worker in shared.stats.iter() {
        all.extend(worker.slowlog.lock().entries.iter().take(max_len).cloned());
    }
    all.sort_unstable_by_key(|entry| std::cmp::Reverse(entry.id));
    all.truncate(count.unwrap_or(usize::MAX).min(max_len));
    all
}

/// SLOWLOG LEN: entries SLOWLOG GET -1 would return.
pub fn len(shared: &Shared) -> usize {
    let total: usize = shared.stats.iter().map(|w| w.slowlog.lock().len()).sum();
    total.min(shared.live.slowlog_max_len())
}

/// SLOWLOG RESET: empties every worker's log (ids go on).
pub fn reset(shared: &Shared) {
    for worker in shared.stats.iter() {
        worker.slowlog.lock().entries.clear();
    }
}

/// Unix seconds now (the entry's timestamp).
pub fn unix_now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Which arguments of a RESP request Redis 7 redacts in its slow log.
fn redacted(args: &Args<'_>, index: usize) -> bool {
    let name = args.get(0);
    let is = |i: usize, word: &[u8]| i < args.len() && args.get(i).eq_ignore_ascii_case(word);
    if name.eq_ignore_ascii_case(b"auth") {
        return index >= 1;
    }
    if name.eq_ignore_ascii_case(b"hello") {
        // HELLO [protover [AUTH username password] [SETNAME clientname]]
        let mut j = 2;
        while j < args.len() {
            if is(j, b"auth") && j + 2 < args.len() {
                if index == j + 1 || index == j + 2 {
                    return true;
                }
                j += 3;
            } else if is(j, b"setname") && j + 1 < args.len() {
                j += 2;
            } else {
                break;
            }
        }
        return false;
    }
    if name.eq_ignore_ascii_case(b"config") && is(1, b"set") {
        // CONFIG SET name value [name value ...]: values of secrets.
        return index >= 3
            && index % 2 == 1
            && SENSITIVE_CONFIGS
                .iter()
                .any(|secret| args.get(index - 1).eq_ignore_ascii_case(secret.as_bytes()));
    }
    if name.eq_ignore_ascii_case(b"acl") && is(1, b"setuser") {
        return index >= 2;
    }
    if name.eq_ignore_ascii_case(b"migrate") {
        // MIGRATE ... AUTH password | AUTH2 username password
        let after = |back: usize, word: &[u8]| index >= back && is(index - back, word);
        return after(1, b"auth") || after(1, b"auth2") || after(2, b"auth2");
    }
    false
}

/// Redis 7's SENSITIVE_CONFIG settings, and corewire's secret ones.
const SENSITIVE_CONFIGS: &[&str] = &[
    "requirepass",
    "masterauth",
    "masteruser",
    "tls-key-file-pass",
    "tls-client-key-file-pass",
    // corewire's own secret settings (ACL user lines, PostgreSQL users).
    "user",
    "pg-user",
    // A [databases] entry may carry the upstream password.
    "database",
];

/// A RESP request's arguments as its slow log entry keeps them (Redis's
/// slowlogCreateEntry): at most 32, the last of those saying how many more
/// there were; each at most 128 bytes plus "... (N more bytes)"; secrets
/// redacted.
pub fn resp_args(args: &Args<'_>) -> Vec<Vec<u8>> {
    let argc = args.len();
    let kept = argc.min(MAX_ARGS);
    (0..kept)
        .map(|j| {
            if kept != argc && j == kept - 1 {
                return format!("... ({} more arguments)", argc - kept + 1).into_bytes();
            }
            if redacted(args, j) {
                return REDACTED.to_vec();
            }
            truncated(args.get(j), MAX_ARG_BYTES)
        })
        .collect()
}

/// `bytes` cut to `max` bytes plus "... (N more bytes)" when longer.
fn truncated(bytes: &[u8], max: usize) -> Vec<u8> {
    if bytes.len() <= max {
        return bytes.to_vec();
    }
    let mut kept = bytes[..max].to_vec();
    kept.extend_from_slice(format!("... ({} more bytes)", bytes.len() - max).as_bytes());
    kept
}

/// SQL as the slow log and the log keep it: a statement that mentions a
/// password (`ALTER ROLE ... PASSWORD '...'`, `CREATE USER ... PASSWORD`)
/// is reduced to its first word; anything else is cut at `max_bytes` (on a
/// character boundary) with "... (N more bytes)".
pub fn sql_text(sql: &str, max_bytes: usize) -> String {
    let sql = sql.trim();
    if contains_ignore_case(sql.as_bytes(), b"password") {
        let first = sql.split_whitespace().next().unwrap_or("");
        return format!("{first} ... (redacted)");
    }
    if sql.len() <= max_bytes {
        return sql.to_string();
    }
    let mut end = max_bytes;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &sql[..end], sql.len() - end)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

/// The text of a slow-request log line for a RESP request: the redacted,
/// truncated arguments joined by spaces, at most MAX_LOG_TEXT_BYTES.
pub fn resp_log_text(args: &Args<'_>) -> String {
    let mut text = String::new();
    for arg in resp_args(args) {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&String::from_utf8_lossy(&arg));
        if text.len() > MAX_LOG_TEXT_BYTES {
            break;
        }
    }
    sql_cut(text, MAX_LOG_TEXT_BYTES)
}

/// `text` cut at a character boundary at most `max_bytes` in.
fn sql_cut(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Range;

    fn args_of(words: &[&[u8]]) -> (Vec<u8>, Vec<Range<usize>>) {
        let mut base = Vec::new();
        let mut ranges = Vec::new();
        for word in words {
            let start = base.len();
            base.extend_from_slice(word);
            ranges.push(start..base.len());
        }
        (base, ranges)
    }

    fn kept(words: &[&[u8]]) -> Vec<String> {
        let (base, ranges) = args_of(words);
        resp_args(&Args::new(&base, &ranges))
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn secrets_are_redacted_as_redis_does() {
        assert_eq!(kept(&[b"AUTH", b"pw"]), ["AUTH", "(redacted)"]);
        assert_eq!(
            kept(&[b"auth", b"u", b"pw"]),
            ["auth", "(redacted)", "(redacted)"]
        );
        assert_eq!(
            kept(&[b"hello", b"3", b"setname", b"n", b"AUTH", b"u", b"pw"]),
            [
                "hello",
                "3",
                "setname",
                "n",
                "AUTH",
                "(redacted)",
                "(redacted)"
            ]
        );
        assert_eq!(
            kept(&[
                b"config",
                b"set",
                b"maxclients",
                b"10",
                b"REQUIREPASS",
                b"pw"
            ]),
            [
                "config",
                "set",
                "maxclients",
                "10",
                "REQUIREPASS",
                "(redacted)"
            ]
        );
        assert_eq!(
            kept(&[b"acl", b"setuser", b"bob", b">pw"]),
            ["acl", "setuser", "(redacted)", "(redacted)"]
        );
        assert_eq!(kept(&[b"set", b"auth", b"pw"]), ["set", "auth", "pw"]);
    }

    #[test]
    fn long_requests_are_truncated_as_redis_does() {
        let long = vec![b'x'; 200];
        let words: Vec<&[u8]> = vec![b"set", b"k", &long];
        let args = kept(&words);
        assert_eq!(args[2], format!("{}... (72 more bytes)", "x".repeat(128)));
        let keys: Vec<Vec<u8>> = (0..40).map(|i| format!("k{i}").into_bytes()).collect();
        let mut words: Vec<&[u8]> = vec![b"mset"];
        words.extend(keys.iter().map(|k| &k[..]));
        let args = kept(&words);
        assert_eq!(args.len(), 32);
        assert_eq!(args[30], "k29");
        assert_eq!(args[31], "... (10 more arguments)");
    }

    #[test]
    fn sql_is_cut_and_passwords_never_kept() {
        assert_eq!(sql_text(" SELECT 1 ", 100), "SELECT 1");
        assert_eq!(
            sql_text("ALTER ROLE bob PASSWORD 'secret'", 100),
            "ALTER ... (redacted)"
        );
        assert_eq!(sql_text("SELECT 'ééé'", 9), "SELECT '... (7 more bytes)");
    }
}
