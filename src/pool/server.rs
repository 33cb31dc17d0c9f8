//! One upstream server connection: its socket and buffers, its login,
//! what it owes (`Expect`), and the session state the pool knows it has.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use super::expect::Expect;
use super::session_state::ParamValue;
use super::statements::ServerStatements;
use super::upstream_startup::{BackendKey, UpstreamStartup};

/// Where a server connection stands.
pub enum ServerState {
    /// TCP connect in progress (waits for writable).
    Connecting(Box<UpstreamStartup>),
    /// Logging in.
    Login(Box<UpstreamStartup>),
    /// In the pool, ready for a client.
    Idle,
    /// Running the pool's own queries with no client: the check query
    /// before reuse, or the reset after a client.
    Testing,
    /// Linked to the client on this slot (with its generation).
    Active { slot: usize, generation: u32 },
    /// Sending a CancelRequest for another server, then closing.
    Cancel,
}

impl ServerState {
    /// PgBouncer's SHOW SERVERS words.
    pub fn name(&self) -> &'static str {
        match self {
            ServerState::Connecting(_) | ServerState::Login(_) => "login",
            ServerState::Idle => "idle",
            ServerState::Testing => "tested",
            ServerState::Active { .. } => "active",
            ServerState::Cancel => "cancel",
        }
    }
}

pub struct Server {
    /// Unique in the process (SHOW SERVERS' ptr).
    pub id: u64,
    pub stream: TcpStream,
    pub addr: SocketAddr,
    /// Bumped each time the slot is reused, so stale events miss.
    pub generation: u32,
    /// Index of its pool in the worker's pools.
    pub pool: usize,
    pub state: ServerState,
    /// Unparsed bytes from the server.
    pub input: Vec<u8>,
    /// Bytes for the server; `output[output_sent..]` is pending.
    pub output: Vec<u8>,
    pub output_sent: usize,
    pub write_interest: bool,
    /// Not read while its client's unsent output is over the limit.
    pub read_paused: bool,
    pub key: Option<BackendKey>,
    /// Parameters the server reports (ParameterStatus), by lowercase name:
    /// (name as reported, value).
    pub reported: HashMap<String, (String, String)>,
    /// Parameters the pool SET on it that it does not report, by
    /// lowercase name.
    pub applied: HashMap<String, ParamValue>,
    pub statements: ServerStatements,
    /// The `params_fingerprint` of the client its parameters were last
    /// set up for; None once they changed since.
    pub params_fingerprint: Option<u64>,
    pub expect: Expect,
    /// ReadyForQuery's status byte: I, T or E.
    pub txn_status: u8,
    /// A COMMIT (true) or ROLLBACK (false) completed since the last
    /// ReadyForQuery; decides whether SETs inside a transaction stand.
    pub ended_with_commit: Option<bool>,
    pub connected_at: Instant,
    /// Unix seconds of connect, for SHOW SERVERS.
    pub connected_unix_s: i64,
    /// Last time it finished work (idle since then).
    pub last_used: Instant,
    /// When the transaction running began (transaction time).
    pub xact_started: Instant,
    /// When it last went from owing nothing to owing replies (query time).
    pub busy_since: Instant,
    /// Close instead of returning it to the pool.
    pub close_needed: bool,
}

impl Server {
    /// A connection just opened (`now`), with `output` waiting for the
    /// connect to complete.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        stream: TcpStream,
        addr: SocketAddr,
        generation: u32,
        pool: usize,
        state: ServerState,
        output: Vec<u8>,
        now: Instant,
    ) -> Server {
        let connected_unix_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Server {
            id,
            stream,
            addr,
            generation,
            pool,
            state,
            input: Vec::new(),
            output,
            output_sent: 0,
            write_interest: true,
            read_paused: false,
            key: None,
            reported: HashMap::new(),
            applied: HashMap::new(),
            statements: ServerStatements::default(),
            params_fingerprint: None,
            expect: Expect::default(),
            txn_status: b'I',
            ended_with_commit: None,
            connected_at: now,
            connected_unix_s,
            last_used: now,
            xact_started: now,
            busy_since: now,
            close_needed: false,
        }
    }

    pub fn pending_output_bytes(&self) -> usize {
        self.output.len() - self.output_sent
    }

    /// Logged in, and neither owing replies nor inside a transaction.
    pub fn is_clean(&self) -> bool {
        self.expect.is_empty() && self.txn_status == b'I'
    }

    /// The reported value of `name` (lowercase).
    pub fn reported_value(&self, name: &str) -> Option<&str> {
        self.reported.get(name).map(|(_, value)| value.as_str())
    }
}
