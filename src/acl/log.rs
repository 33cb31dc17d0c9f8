//! ACL LOG: recent refusals (failed logins, commands and keys a user may
//! not use), shared by every worker, newest first, similar entries within
//! a minute merged into one with a count, as in Redis 7.0. Written only
//! when something is refused.

use std::collections::VecDeque;

use parking_lot::Mutex;

/// Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA.
const GROUPING_MS: i64 = 60_000;
/// Entries looked at for a merge (Redis's `toscan`).
const MERGE_SCAN: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Auth,
    Command,
    Key,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Auth => "auth",
            Reason::Command => "command",
            Reason::Key => "key",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    /// `toplevel` or `multi`.
    pub context: &'static str,
    /// The command, key, or (for auth) the command name as sent.
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// Unix milliseconds of the latest occurrence.
    pub ctime_ms: i64,
    pub client_info: String,
}

pub struct AclLog {
    entries: Mutex<VecDeque<Entry>>,
}

impl AclLog {
    pub fn new() -> AclLog {
        AclLog {
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// Adds an entry (or bumps a similar recent one), keeping `max_len`.
    pub fn add(&self, entry: Entry, max_len: usize) {
        let mut entries = self.entries.lock();
        let similar = entries.iter().take(MERGE_SCAN).position(|known| {
            known.reason == entry.reason
                && known.context == entry.context
                && (known.ctime_ms - entry.ctime_ms).abs() <= GROUPING_MS
                && known.object == entry.object
                && known.username == entry.username
        });
        match similar {
            Some(at) => {
                let mut known = entries.remove(at).expect("found above");
                known.count += 1;
                known.ctime_ms = entry.ctime_ms;
                known.client_info = entry.client_info;
                entries.push_front(known);
            }
            None => entries.push_front(entry),
        }
        entries.truncate(max_len);
    }

    /// The newest `count` entries.
    pub fn newest(&self, count: usize) -> Vec<Entry> {
        self.entries.lock().iter().take(count).cloned().collect()
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }

    /// Applies a lower acllog-max-len at once.
    pub fn trim(&self, max_len: usize) {
        self.entries.lock().truncate(max_len);
    }
}

impl Default for AclLog {
    fn default() -> Self {
        AclLog::new()
    }
}

pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, ctime_ms: i64) -> Entry {
        Entry {
            count: 1,
            reason: Reason::Command,
            context: "toplevel",
            object: object.as_bytes().to_vec(),
            username: b"alice".to_vec(),
            ctime_ms,
            client_info: String::new(),
        }
    }

    #[test]
    fn similar_entries_merge_and_the_log_is_bounded() {
        let log = AclLog::new();
        log.add(entry("get", 0), 3);
        log.add(entry("set", 10), 3);
        log.add(entry("get", 20), 3);
        let newest = log.newest(10);
        assert_eq!(newest.len(), 2);
        assert_eq!(
            (newest[0].object.as_slice(), newest[0].count),
            (&b"get"[..], 2)
        );
        log.add(entry("get", 20 + GROUPING_MS + 1), 3);
        log.add(entry("a", 0), 3);
        log.add(entry("b", 0), 3);
        assert_eq!(log.newest(10).len(), 3);
        log.reset();
        assert!(log.newest(10).is_empty());
    }
}
