//! What the admin console knows about PostgreSQL sessions: one
//! [`ClientInfo`] per logged-in session, gathered from every worker over
//! the control channel (each worker describes its own connections; no
//! shared table, no lock on the request path).

use std::time::SystemTime;

/// A session as SHOW CLIENTS, SHOW POOLS and SHOW DATABASES see it.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    /// The worker that owns the connection.
    pub worker: usize,
    /// Unique in the process (shared with CLIENT LIST's ids).
    pub client_id: u64,
    pub user: String,
    /// The database serving it: `kv`, or `corewire` for the console.
    pub database: String,
    pub state: ClientState,
    /// `ip:port` of the peer and of our end.
    pub peer_addr: String,
    pub local_addr: String,
    pub connect_time: SystemTime,
    /// When its last input arrived.
    pub request_time: SystemTime,
    pub application_name: String,
    /// Named prepared statements it holds.
    pub prepared_statements: usize,
    /// Its BackendKeyData process id.
    pub pid: i32,
    /// TLS version and cipher suite, e.g. `TLSv1.3/TLS13_AES_256_GCM_SHA384`
    /// (PgBouncer's `tls` column); empty in plaintext.
    pub tls: String,
}

/// PgBouncer's client states (without its cancel-request ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// In a transaction block, running a statement (or COPY, or
    /// pg_sleep), or the console session asking; for an upstream
    /// database, linked to a server connection.
    Active,
    /// Between statements, outside a transaction.
    Idle,
    /// An upstream database's client waiting for a server connection.
    Waiting,
}

impl ClientState {
    pub fn name(self) -> &'static str {
        match self {
            ClientState::Active => "active",
            ClientState::Idle => "idle",
            ClientState::Waiting => "waiting",
        }
    }
}

/// `ip:port` split for the addr / port columns (IPv6 addresses come in
/// brackets).
pub fn split_addr(addr: &str) -> (String, Option<u16>) {
    match addr.rsplit_once(':') {
        Some((host, port)) => (
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port.parse().ok(),
        ),
        None => (addr.to_string(), None),
    }
}

/// An `Instant` in the past as wall-clock time.
pub fn wall_clock(at: std::time::Instant) -> SystemTime {
    SystemTime::now() - at.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(
            split_addr("127.0.0.1:5433"),
            ("127.0.0.1".to_string(), Some(5433))
        );
        assert_eq!(split_addr("[::1]:80"), ("::1".to_string(), Some(80)));
        assert_eq!(split_addr(""), (String::new(), None));
    }
}
