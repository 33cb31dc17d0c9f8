//! What a worker reports about its pools to the admin console (SHOW
//! POOLS, SERVERS, DATABASES, STATS), and the console's commands on pools.

use super::config::PoolMode;

/// One worker's pools and server connections.
#[derive(Clone, Debug, Default)]
pub struct WorkerPools {
    pub worker: usize,
    pub pools: Vec<PoolRow>,
    pub servers: Vec<ServerRow>,
}

/// One (database, user) pool on one worker.
#[derive(Clone, Debug)]
pub struct PoolRow {
    pub database: String,
    pub user: String,
    pub pool_mode: PoolMode,
    /// Clients holding a server connection, or logged in and idle.
    pub cl_active: usize,
    /// Clients waiting for a server connection.
    pub cl_waiting: usize,
    /// Server connections linked to a client.
    pub sv_active: usize,
    /// Idle server connections ready for a client.
    pub sv_idle: usize,
    /// Idle server connections due for server-check-query first.
    pub sv_used: usize,
    /// Server connections running server-check-query or the reset query.
    pub sv_tested: usize,
    /// Server connections logging in.
    pub sv_login: usize,
    /// How long the oldest waiting client has waited.
    pub maxwait_us: u64,
    pub totals: PoolTotals,
}

/// Counters since start, per pool (SHOW STATS sums them per database).
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolTotals {
    /// Transactions served (ReadyForQuery `I` after a client's work).
    pub xact_count: u64,
    /// Queries: simple Query messages and extended-protocol Syncs.
    pub query_count: u64,
    /// Bytes from clients to servers, and from servers to clients.
    pub bytes_received: u64,
    pub bytes_sent: u64,
    /// Time linked to a server in transactions, and waiting for one.
    pub xact_time_us: u64,
    pub query_time_us: u64,
    pub wait_time_us: u64,
    /// Server connections opened, and logins that failed.
    pub server_logins: u64,
    pub server_login_failures: u64,
}

/// One server connection.
#[derive(Clone, Debug)]
pub struct ServerRow {
    pub id: u64,
    pub database: String,
    pub user: String,
    /// PgBouncer's words: active, idle, used, tested, login.
    pub state: &'static str,
    pub addr: String,
    pub port: u16,
    pub local_addr: String,
    pub local_port: u16,
    /// Unix seconds.
    pub connect_time_unix_s: i64,
    pub request_time_unix_s: i64,
    /// The client it serves (SHOW CLIENTS' id), if any.
    pub link_client_id: Option<u64>,
    /// The upstream backend's pid (0 before login).
    pub remote_pid: i32,
    pub application_name: String,
    /// Prepared statements it holds for clients.
    pub prepared_statements: usize,
}

/// PAUSE, RESUME and KILL from the console; None: every database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolCommand {
    /// No new transactions get a server connection until RESUME; the ones
    /// running finish.
    Pause(Option<String>),
    Resume(Option<String>),
    /// Closes the database's clients and server connections now, and
    /// pauses it (as PgBouncer).
    Kill(String),
}
