//! What `[databases]` and `[users]` say, and the pool modes.
//!
//! A database entry is a PgBouncer connection string:
//! `app = "host=127.0.0.1 port=5432 dbname=app user=app password=secret pool_size=20"`.
//! A user entry sets that user's pool mode: `alice = "pool_mode=session"`.

use std::fmt;

/// When a client's server connection goes back to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    /// When the client disconnects (after server-reset-query).
    Session,
    /// At the end of each transaction (ReadyForQuery `I`).
    Transaction,
}

impl PoolMode {
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }

    pub fn parse(text: &str) -> Result<PoolMode, String> {
        match text.to_ascii_lowercase().as_str() {
            "session" => Ok(PoolMode::Session),
            "transaction" => Ok(PoolMode::Transaction),
            "statement" => Err("pool_mode statement is not supported (use transaction)".into()),
            _ => Err(format!(
                "pool_mode must be session or transaction, not \"{text}\""
            )),
        }
    }
}

/// One `[databases]` entry: clients that ask for `name` are served by
/// `dbname` on `host:port` through the pool.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// The database name clients connect to.
    pub name: String,
    /// Upstream host name or address (default 127.0.0.1).
    pub host: String,
    /// Upstream port (default 5432).
    pub port: u16,
    /// Upstream database (default: `name`).
    pub dbname: String,
    /// Upstream user; None: the client's own user (auth passthrough).
    pub user: Option<String>,
    /// Upstream password; None: the client's pg-user password when it is
    /// configured in plaintext, else none (trust).
    pub password: Option<String>,
    /// Server connections to this database across all workers (None:
    /// default-pool-size).
    pub pool_size: Option<usize>,
    /// Server connections kept open even when idle (None: min-pool-size).
    pub min_pool_size: Option<usize>,
    /// Extra connections allowed once a client waited
    /// reserve-pool-timeout-ms (None: reserve-pool-size).
    pub reserve_pool: Option<usize>,
    /// None: the user's pool mode, else pool-mode.
    pub pool_mode: Option<PoolMode>,
}

impl fmt::Debug for DatabaseConfig {
    // The password is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseConfig({})", self.describe())
    }
}

/// One `[users]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolUserConfig {
    pub name: String,
    /// Overrides pool-mode for this user (a database's own pool_mode wins).
    pub pool_mode: Option<PoolMode>,
}

impl DatabaseConfig {
    /// The entry as a connection string, password redacted (CONFIG GET,
    /// SHOW CONFIG, logs).
    pub fn describe(&self) -> String {
        let mut text = format!(
            "host={} port={} dbname={}",
            self.host, self.port, self.dbname
        );
        if let Some(user) = &self.user {
            text.push_str(&format!(" user={user}"));
        }
        if self.password.is_some() {
            text.push_str(" password=<redacted>");
        }
        for (key, value) in [
            ("pool_size", self.pool_size),
            ("min_pool_size", self.min_pool_size),
            ("reserve_pool", self.reserve_pool),
        ] {
            if let Some(value) = value {
                text.push_str(&format!(" {key}={value}"));
            }
        }
        if let Some(mode) = self.pool_mode {
            text.push_str(&format!(" pool_mode={}", mode.name()));
        }
        text
    }
}
