//! Server configuration: the settings, their defaults and limits
//! (`settings`), where values come from (`load`: flags, environment, TOML
//! file), and the part that changes while the server runs (`LiveConfig`).

mod load;
pub mod settings;

pub use load::{parse_args, parse_args_with_env, reload, Command, Loaded, Source};
pub use settings::{setting_rows, SettingRow};

use std::net::IpAddr;

/// Everything a server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Worker threads; each owns one listener per protocol. 0 = one per core.
    pub workers: usize,
    /// Address every listener binds.
    pub bind: IpAddr,
    /// RESP (Redis protocol) port. 0 picks a free port (tests).
    pub resp_port: u16,
    /// Password for clients on non-loopback addresses (protected mode).
    pub requirepass: Option<String>,
    /// ACL users, one Redis `user` line each without the word `user`
    /// (`alice on >secret ~app:* +@all -@dangerous`); see `crate::acl`.
    pub users: Vec<String>,
    /// Failed logins from one address within `auth_failure_window_ms`
    /// after which its attempts are refused for a window; 0: no limit.
    pub auth_failure_limit: u32,
    pub auth_failure_window_ms: u64,
    /// ACL LOG entries kept (Redis's acllog-max-len).
    pub acllog_max_len: usize,
    /// Connected clients across all workers.
    pub max_clients: usize,
    /// Connected clients per listener (RESP, PostgreSQL, HTTP); 0: only
    /// `max_clients` applies.
    pub resp_max_clients: usize,
    pub pg_max_clients: usize,
    pub http_max_clients: usize,
    /// Seconds a client may stay idle before it is closed (Redis's
    /// `timeout`, RESP and HTTP); 0: never.
    pub idle_timeout_s: u64,
    /// Milliseconds a connection may take to authenticate (PostgreSQL: the
    /// whole startup exchange; RESP: only while a password is required);
    /// 0: no limit.
    pub auth_timeout_ms: u64,
    /// Largest RESP bulk string a client may send.
    pub max_bulk_bytes: usize,
    /// Unparsed input one client may have pending.
    pub max_query_buffer_bytes: usize,
    /// Unsent output one client may have pending; past it, it is dropped
    /// (the hard limit of client-output-buffer-limit's normal class).
    pub max_output_buffer_bytes: usize,
    /// The normal class's soft limit: a client over it for longer than
    /// `output_buffer_soft_seconds` is dropped. 0: off.
    pub output_buffer_soft_bytes: usize,
    pub output_buffer_soft_seconds: u64,
    /// Redis's replica and pubsub classes: accepted and shown by CONFIG,
    /// unused (corewire has neither replicas nor pub/sub).
    pub output_buffer_replica: OutputBufferLimit,
    pub output_buffer_pubsub: OutputBufferLimit,
    /// Elements in one RESP request array.
    pub max_multibulk_count: usize,
    /// Listen backlog of every listener.
    pub listen_backlog: i32,
    /// PostgreSQL protocol port. 0 picks a free port (tests).
    pub pg_port: u16,
    /// PostgreSQL users: name and secret (a plaintext password, `md5<hex>`
    /// or a `SCRAM-SHA-256$...` verifier). Empty: loopback clients are
    /// trusted and nobody else gets in.
    pub pg_users: Vec<(String, String)>,
    /// How configured users authenticate.
    pub pg_auth_method: PgAuthMethod,
    /// Largest PostgreSQL message a client may send (PostgreSQL: 1 GB).
    pub pg_max_message_bytes: usize,
    /// Named prepared statements one PostgreSQL session may hold.
    pub pg_max_prepared_statements: usize,
    /// Open portals one PostgreSQL session may hold.
    pub pg_max_portals: usize,
    /// Longest row COPY FROM STDIN accepts.
    pub pg_max_copy_row_bytes: usize,
    /// Seconds a logged-in PostgreSQL session outside a transaction may
    /// stay idle (PgBouncer's client_idle_timeout); 0: never.
    pub pg_client_idle_timeout_s: u64,
    /// Users allowed into the PostgreSQL admin console (database `corewire`).
    pub admin_users: Vec<String>,
    /// Upstream PostgreSQL databases served through the pool (`[databases]`,
    /// setting `database`); a later entry with the same name replaces the
    /// earlier.
    pub databases: Vec<crate::pool::config::DatabaseConfig>,
    /// Per-user pool settings (`[users]`, setting `pool-user`).
    pub pool_users: Vec<crate::pool::config::PoolUserConfig>,
    /// When a client's server connection goes back to the pool (a
    /// database's or user's own pool_mode wins).
    pub pool_mode: crate::pool::config::PoolMode,
    /// Server connections per database across all workers (a database's
    /// pool_size wins).
    pub default_pool_size: usize,
    /// Server connections per database kept open even when idle.
    pub min_pool_size: usize,
    /// Extra server connections per database once a client waited
    /// `reserve_pool_timeout_ms`.
    pub reserve_pool_size: usize,
    pub reserve_pool_timeout_ms: u64,
    /// Idle server connections are closed after this; 0: never.
    pub server_idle_timeout_s: u64,
    /// Server connections older than this are closed once idle; 0: never.
    pub server_lifetime_s: u64,
    /// A client waiting this long for a server connection gets FATAL 08P01
    /// query_wait_timeout; 0: it waits forever.
    pub query_wait_timeout_s: u64,
    /// Connect and login of one server connection.
    pub server_connect_timeout_ms: u64,
    /// After a failed connect or login, wait this long before the next.
    pub server_login_retry_ms: u64,
    /// Run on a server connection idle longer than `server_check_delay_s`
    /// before it is used; "": no check.
    pub server_check_query: String,
    pub server_check_delay_s: u64,
    /// Session mode: run before a server connection goes back to the pool;
    /// "": none.
    pub server_reset_query: String,
    /// Run `server_reset_query` in transaction mode too.
    pub server_reset_query_always: bool,
    /// Prepared statements kept per server connection (LRU); 0: named
    /// statements pass through unchanged.
    pub max_prepared_statements: usize,
    /// Port of the RESP-over-TLS listener (Redis's tls-port); None: off.
    /// Some(0) picks a free port (tests).
    pub tls_port: Option<u16>,
    /// PEM certificate chain and private key both listeners serve TLS with.
    pub tls_cert_file: Option<std::path::PathBuf>,
    pub tls_key_file: Option<std::path::PathBuf>,
    /// PEM CA certificates client certificates are verified against.
    pub tls_ca_cert_file: Option<std::path::PathBuf>,
    /// Whether TLS clients must present a certificate (with a CA file).
    pub tls_auth_clients: TlsAuthClients,
    /// TLS on the PostgreSQL listener (SSLRequest, direct TLS).
    pub pg_tls: PgTls,
    /// Whether the HTTP listener (metrics, health, status page, KV API) runs.
    pub http_enabled: bool,
    /// Address the HTTP listener binds (loopback by default, whatever `bind` is).
    pub http_bind: IpAddr,
    /// HTTP port. 0 picks a free port (tests).
    pub http_port: u16,
    /// Largest HTTP request body (KV API values and batches).
    pub http_max_body_bytes: usize,
    /// Per-command counters, error kinds and latency histograms. Off: only
    /// the basic counters INFO has always had.
    pub metrics_enabled: bool,
    pub log_level: crate::log::Level,
    pub log_format: crate::log::Format,
    /// Log file (appended); None: stderr.
    pub log_file: Option<std::path::PathBuf>,
    /// Requests slower than this enter the slow log (Redis's unit, µs);
    /// -1 turns it off, 0 logs everything.
    pub slowlog_log_slower_than_us: i64,
    /// Slow log entries kept per worker.
    pub slowlog_max_len: usize,
    /// Requests of either protocol slower than this are also written to the
    /// log (PostgreSQL's log_min_duration_statement, ms); -1 turns it off.
    pub log_min_duration_statement_ms: i64,
    /// After SIGTERM, how long in-flight requests and open transactions may
    /// run before their connections are closed.
    pub shutdown_timeout_ms: u64,
    /// Where the write-ahead logs and checkpoints live; None: in memory
    /// only, nothing survives a restart.
    pub data_dir: Option<std::path::PathBuf>,
    /// When the logs are fsynced (Redis's appendfsync).
    pub appendfsync: crate::engine::FsyncPolicy,
    /// Checkpoint once the logs since the last one exceed this (0: never
    /// by size).
    pub checkpoint_log_bytes: u64,
    /// Checkpoint this often when anything changed (0: never by time).
    pub checkpoint_interval_s: u64,
    /// At startup, cut a log at a corrupt record in its middle (dropping
    /// the rest of that file) instead of refusing to start.
    pub recovery_truncate_corrupt: bool,
}

/// One class of Redis's client-output-buffer-limit: hard and soft limits
/// in bytes (0: none) and how long a client may stay over the soft one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// The longest checkpoint-interval-s: a year.
pub const MAX_CHECKPOINT_INTERVAL_S: u64 = 365 * 24 * 3600;

/// Client certificates on TLS connections (Redis's tls-auth-clients); only
/// with a `tls-ca-cert-file`, without one no certificate is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsAuthClients {
    No,
    /// Required and verified against the CA.
    Yes,
    /// Verified if the client sends one.
    Optional,
}

impl TlsAuthClients {
    pub fn name(self) -> &'static str {
        match self {
            TlsAuthClients::No => "no",
            TlsAuthClients::Yes => "yes",
            TlsAuthClients::Optional => "optional",
        }
    }
}

/// TLS on the PostgreSQL listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgTls {
    /// SSLRequest is answered `N`; direct TLS is refused.
    Disable,
    /// TLS when a certificate is configured, plaintext too.
    Allow,
    /// A plaintext login is refused (FATAL 28000).
    Require,
}

impl PgTls {
    pub fn name(self) -> &'static str {
        match self {
            PgTls::Disable => "disable",
            PgTls::Allow => "allow",
            PgTls::Require => "require",
        }
    }
}

/// PostgreSQL authentication for configured users (pg_hba's method).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgAuthMethod {
    ScramSha256,
    Md5,
    /// No password, but only for loopback clients.
    Trust,
}

impl PgAuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            PgAuthMethod::ScramSha256 => "scram-sha-256",
            PgAuthMethod::Md5 => "md5",
            PgAuthMethod::Trust => "trust",
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            workers: 0,
            bind: IpAddr::from([127, 0, 0, 1]),
            resp_port: 6380,
            requirepass: None,
            users: Vec::new(),
            auth_failure_limit: 10,
            auth_failure_window_ms: 60_000,
            acllog_max_len: crate::acl::DEFAULT_LOG_MAX_LEN,
            max_clients: 10_000,
            resp_max_clients: 0,
            pg_max_clients: 0,
            http_max_clients: 0,
            idle_timeout_s: 0,
            auth_timeout_ms: 60_000,
            max_bulk_bytes: 512 * 1024 * 1024,
            max_query_buffer_bytes: 1024 * 1024 * 1024,
            max_output_buffer_bytes: 256 * 1024 * 1024,
            output_buffer_soft_bytes: 0,
            output_buffer_soft_seconds: 0,
            // Redis's defaults for these classes.
            output_buffer_replica: OutputBufferLimit {
                hard_bytes: 256 * 1024 * 1024,
                soft_bytes: 64 * 1024 * 1024,
                soft_seconds: 60,
            },
            output_buffer_pubsub: OutputBufferLimit {
                hard_bytes: 32 * 1024 * 1024,
                soft_bytes: 8 * 1024 * 1024,
                soft_seconds: 60,
            },
            max_multibulk_count: 1024 * 1024,
            listen_backlog: 1024,
            pg_port: 5433,
            pg_users: Vec::new(),
            pg_auth_method: PgAuthMethod::ScramSha256,
            pg_max_message_bytes: 64 * 1024 * 1024,
            pg_max_prepared_statements: 1000,
            pg_max_portals: 100,
            pg_max_copy_row_bytes: 64 * 1024 * 1024,
            pg_client_idle_timeout_s: 0,
            admin_users: Vec::new(),
            databases: Vec::new(),
            pool_users: Vec::new(),
            pool_mode: crate::pool::config::PoolMode::Session,
            default_pool_size: 20,
            min_pool_size: 0,
            reserve_pool_size: 0,
            reserve_pool_timeout_ms: 5000,
            server_idle_timeout_s: 600,
            server_lifetime_s: 3600,
            query_wait_timeout_s: 120,
            server_connect_timeout_ms: 15_000,
            server_login_retry_ms: 1000,
            server_check_query: "select 1".into(),
            server_check_delay_s: 30,
            server_reset_query: "DISCARD ALL".into(),
            server_reset_query_always: false,
            max_prepared_statements: 200,
            tls_port: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_ca_cert_file: None,
            tls_auth_clients: TlsAuthClients::Yes,
            pg_tls: PgTls::Allow,
            http_enabled: true,
            http_bind: IpAddr::from([127, 0, 0, 1]),
            http_port: 9380,
            http_max_body_bytes: 64 * 1024 * 1024,
            metrics_enabled: true,
            log_level: crate::log::Level::Info,
            log_format: crate::log::Format::Text,
            log_file: None,
            slowlog_log_slower_than_us: 10_000,
            slowlog_max_len: 128,
            log_min_duration_statement_ms: -1,
            shutdown_timeout_ms: 10_000,
            data_dir: None,
            appendfsync: crate::engine::FsyncPolicy::Everysec,
            checkpoint_log_bytes: 64 * 1024 * 1024,
            checkpoint_interval_s: 300,
            recovery_truncate_corrupt: false,
        }
    }
}

/// Checks the values together; the server refuses to start otherwise.
pub fn validate(config: &Config) -> Result<(), String> {
    check(config).map_err(|(setting, reason)| format!("{setting}: {reason}"))
}

/// As `validate`, naming the setting at fault (the loader turns it into a
/// file and line).
pub fn check(config: &Config) -> Result<(), (&'static str, String)> {
    if config.workers > 256 {
        return Err((
            "threads",
            format!("{} is above the limit of 256", config.workers),
        ));
    }
    if config.max_clients == 0 {
        return Err(("maxclients", "must be at least 1".into()));
    }
    for (setting, value) in [
        ("proto-max-bulk-len", config.max_bulk_bytes),
        ("client-query-buffer-limit", config.max_query_buffer_bytes),
        ("client-output-buffer-limit", config.max_output_buffer_bytes),
        ("max-multibulk-count", config.max_multibulk_count),
        ("http-max-body-bytes", config.http_max_body_bytes),
        ("pg-max-copy-row-bytes", config.pg_max_copy_row_bytes),
    ] {
        if value == 0 {
            return Err((setting, "must be at least 1".into()));
        }
    }
    if config.checkpoint_interval_s > MAX_CHECKPOINT_INTERVAL_S {
        return Err((
            "checkpoint-interval-s",
            format!(
                "{} is above the limit of {MAX_CHECKPOINT_INTERVAL_S} (a year)",
                config.checkpoint_interval_s
            ),
        ));
    }
    if config.default_pool_size == 0 {
        return Err(("default-pool-size", "must be at least 1".into()));
    }
    if config.server_connect_timeout_ms == 0 {
        return Err(("server-connect-timeout-ms", "must be at least 1".into()));
    }
    if config.pg_max_message_bytes < 1024 {
        return Err(("pg-max-message-bytes", "must be at least 1024".into()));
    }
    let ports = [
        ("port", config.resp_port),
        ("pg-port", config.pg_port),
        ("tls-port", config.tls_port.unwrap_or(0)),
        (
            "http-port",
            if config.http_enabled {
                config.http_port
            } else {
                0
            },
        ),
    ];
    for (i, (setting, port)) in ports.iter().enumerate() {
        if let Some((other, _)) = ports[..i].iter().find(|(_, p)| *p != 0 && p == port) {
            return Err((setting, format!("{port} is also the {other}")));
        }
    }
    let has_cert = config.tls_cert_file.is_some() && config.tls_key_file.is_some();
    if config.tls_cert_file.is_some() != config.tls_key_file.is_some() {
        return Err(if config.tls_cert_file.is_some() {
            (
                "tls-key-file",
                "must be set along with tls-cert-file".into(),
            )
        } else {
            (
                "tls-cert-file",
                "must be set along with tls-key-file".into(),
            )
        });
    }
    if config.tls_port.is_some() && !has_cert {
        return Err((
            "tls-port",
            "the TLS listener needs tls-cert-file and tls-key-file".into(),
        ));
    }
    if config.pg_tls == PgTls::Require && !has_cert {
        return Err((
            "pg-tls",
            "require needs tls-cert-file and tls-key-file".into(),
        ));
    }
    let public_http = config.http_enabled && !config.http_bind.is_loopback();
    if public_http && config.requirepass.is_none() {
        return Err((
            "http-bind",
            format!(
                "refusing to serve the HTTP KV API on {} without a password (protected mode): \
                 set requirepass, or bind a loopback address such as 127.0.0.1",
                config.http_bind
            ),
        ));
    }
    // As Redis: what counts is whether the default user (which every
    // connection starts as) needs a password; other ACL users' passwords
    // do not protect anything while it needs none.
    if !config.bind.is_loopback() && !crate::acl::default_needs_password(config) {
        return Err((
            "bind",
            format!(
                "refusing to bind {} without a password (protected mode): set requirepass, \
                 or give the default user a password or turn it off with a user line \
                 (user = [\"default on >PASSWORD ~* &* +@all\"] or [\"default off\"]), \
                 or bind a loopback address such as 127.0.0.1",
                config.bind
            ),
        ));
    }
    Ok(())
}

impl Config {
    /// What the engine's storage_open / storage_tune take; None without
    /// a data-dir (no durability).
    pub fn storage_options(&self) -> Option<crate::engine::StorageOptions> {
        Some(crate::engine::StorageOptions {
            data_dir: self.data_dir.clone()?,
            fsync: self.appendfsync,
            checkpoint_log_bytes: self.checkpoint_log_bytes,
            checkpoint_interval_ms: self.checkpoint_interval_s * 1000,
            recovery_threads: 0,
            truncate_corrupt: self.recovery_truncate_corrupt,
        })
    }

    /// Worker count with 0 resolved to the number of cores.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_across_settings_name_the_setting() {
        let mut config = Config {
            pg_port: 6380,
            ..Config::default()
        };
        assert_eq!(check(&config).unwrap_err().0, "pg-port");
        config.pg_port = 5433;
        config.http_port = 5433;
        assert_eq!(check(&config).unwrap_err().0, "http-port");
        config.http_enabled = false;
        assert!(check(&config).is_ok());
        config.bind = IpAddr::from([0, 0, 0, 0]);
        assert!(validate(&config).unwrap_err().contains("protected mode"));
        config.requirepass = Some("x".into());
        assert!(check(&config).is_ok());
    }
}

/// The settings CONFIG SET may change while the server runs. Readers load
/// them where they are used (relaxed atomics: a new value applies from the
/// next check on, which is all CONFIG SET promises).
pub struct LiveConfig {
    max_clients: std::sync::atomic::AtomicUsize,
    max_bulk_bytes: std::sync::atomic::AtomicUsize,
    max_query_buffer_bytes: std::sync::atomic::AtomicUsize,
    max_output_buffer_bytes: std::sync::atomic::AtomicUsize,
    requirepass: parking_lot::RwLock<Option<String>>,
    /// ACL users (the default user follows requirepass), the ACL log and
    /// the failed-login limiter.
    pub acl: crate::acl::Acl,
    slowlog_log_slower_than_us: std::sync::atomic::AtomicI64,
    slowlog_max_len: std::sync::atomic::AtomicUsize,
    log_min_duration_statement_ms: std::sync::atomic::AtomicI64,
    metrics_enabled: std::sync::atomic::AtomicBool,
}

macro_rules! live_number {
    ($get:ident, $set:ident) => {
        pub fn $get(&self) -> usize {
            self.$get.load(std::sync::atomic::Ordering::Relaxed)
        }

        pub fn $set(&self, value: usize) {
            self.$get.store(value, std::sync::atomic::Ordering::Relaxed);
        }
    };
}

impl LiveConfig {
    pub fn new(config: &Config) -> LiveConfig {
        use std::sync::atomic::AtomicUsize;
        LiveConfig {
            max_clients: AtomicUsize::new(config.max_clients),
            max_bulk_bytes: AtomicUsize::new(config.max_bulk_bytes),
            max_query_buffer_bytes: AtomicUsize::new(config.max_query_buffer_bytes),
            max_output_buffer_bytes: AtomicUsize::new(config.max_output_buffer_bytes),
            requirepass: parking_lot::RwLock::new(config.requirepass.clone()),
            acl: crate::acl::Acl::new(config),
            slowlog_log_slower_than_us: std::sync::atomic::AtomicI64::new(
                config.slowlog_log_slower_than_us,
            ),
            slowlog_max_len: AtomicUsize::new(config.slowlog_max_len),
            log_min_duration_statement_ms: std::sync::atomic::AtomicI64::new(
                config.log_min_duration_statement_ms,
            ),
            metrics_enabled: std::sync::atomic::AtomicBool::new(config.metrics_enabled),
        }
    }

    live_number!(max_clients, set_max_clients);
    live_number!(max_bulk_bytes, set_max_bulk_bytes);
    live_number!(max_query_buffer_bytes, set_max_query_buffer_bytes);
    live_number!(max_output_buffer_bytes, set_max_output_buffer_bytes);
    live_number!(slowlog_max_len, set_slowlog_max_len);

    pub fn slowlog_log_slower_than_us(&self) -> i64 {
        self.slowlog_log_slower_than_us
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_slowlog_log_slower_than_us(&self, value: i64) {
        self.slowlog_log_slower_than_us
            .store(value, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn log_min_duration_statement_ms(&self) -> i64 {
        self.log_min_duration_statement_ms
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_log_min_duration_statement_ms(&self, value: i64) {
        self.log_min_duration_statement_ms
            .store(value, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn metrics_enabled(&self) -> bool {
        self.metrics_enabled
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_metrics_enabled(&self, value: bool) {
        self.metrics_enabled
            .store(value, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn requirepass(&self) -> Option<String> {
        self.requirepass.read().clone()
    }

    /// Whether a new connection must authenticate: the default user
    /// needs a password (requirepass, or its `user` line) or is off.
    pub fn password_required(&self) -> bool {
        self.acl.default_needs_auth()
    }

    pub fn set_requirepass(&self, password: Option<String>) {
        *self.requirepass.write() = password;
    }
}
