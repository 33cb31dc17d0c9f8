//! Server configuration: defaults, limits and command-line flags.
//!
//! Every limit has a default and a flag; `corewire --help` lists them.

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
    /// Connected clients across all workers.
    pub max_clients: usize,
    /// Largest RESP bulk string a client may send.
    pub max_bulk_bytes: usize,
    /// Unparsed input one client may have pending.
    pub max_query_buffer_bytes: usize,
    /// Unsent output one client may have pending; past it, it is dropped.
    pub max_output_buffer_bytes: usize,
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
    /// Users allowed into the PostgreSQL admin console (database `corewire`).
    pub admin_users: Vec<String>,
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
            max_clients: 10_000,
            max_bulk_bytes: 512 * 1024 * 1024,
            max_query_buffer_bytes: 1024 * 1024 * 1024,
            max_output_buffer_bytes: 256 * 1024 * 1024,
            max_multibulk_count: 1024 * 1024,
            listen_backlog: 1024,
            pg_port: 5433,
            pg_users: Vec::new(),
            pg_auth_method: PgAuthMethod::ScramSha256,
            pg_max_message_bytes: 64 * 1024 * 1024,
            pg_max_prepared_statements: 1000,
            pg_max_portals: 100,
            admin_users: Vec::new(),
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
        }
    }
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Config),
    Help,
}

/// One flag: name, value placeholder and help text (the default is
/// appended from `Config::default()`).
struct Flag {
    name: &'static str,
    value: &'static str,
    help: &'static str,
}

const FLAGS: &[Flag] = &[
    Flag {
        name: "threads",
        value: "N",
        help: "worker threads, each pinned to a core (0 = one per core)",
    },
    Flag {
        name: "bind",
        value: "ADDR",
        help: "address every listener binds",
    },
    Flag {
        name: "port",
        value: "PORT",
        help: "RESP (Redis protocol) port",
    },
    Flag {
        name: "requirepass",
        value: "PASSWORD",
        help: "password required from clients (needed to bind a non-loopback address)",
    },
    Flag {
        name: "maxclients",
        value: "N",
        help: "connected clients across all workers",
    },
    Flag {
        name: "proto-max-bulk-len",
        value: "BYTES",
        help: "largest bulk string in a request",
    },
    Flag {
        name: "client-query-buffer-limit",
        value: "BYTES",
        help: "unparsed input pending per client",
    },
    Flag {
        name: "client-output-buffer-limit",
        value: "BYTES",
        help: "unsent output pending per client; past it the client is disconnected",
    },
    Flag {
        name: "max-multibulk-count",
        value: "N",
        help: "elements in one request array",
    },
    Flag {
        name: "pg-port",
        value: "PORT",
        help: "PostgreSQL protocol port",
    },
    Flag {
        name: "pg-user",
        value: "NAME:SECRET",
        help: "a PostgreSQL user; SECRET is a password, md5<hex> or a SCRAM-SHA-256$ verifier (repeat for more; none: loopback is trusted)",
    },
    Flag {
        name: "pg-auth-method",
        value: "METHOD",
        help: "scram-sha-256, md5 or trust (trust: loopback clients only)",
    },
    Flag {
        name: "pg-max-message-bytes",
        value: "BYTES",
        help: "largest PostgreSQL protocol message a client may send",
    },
    Flag {
        name: "pg-max-prepared-statements",
        value: "N",
        help: "named prepared statements per PostgreSQL session",
    },
    Flag {
        name: "pg-max-portals",
        value: "N",
        help: "open portals per PostgreSQL session",
    },
];

fn default_of(name: &str, config: &Config) -> String {
    match name {
        "threads" => config.workers.to_string(),
        "bind" => config.bind.to_string(),
        "port" => config.resp_port.to_string(),
        "requirepass" => "(none)".into(),
        "maxclients" => config.max_clients.to_string(),
        "proto-max-bulk-len" => config.max_bulk_bytes.to_string(),
        "client-query-buffer-limit" => config.max_query_buffer_bytes.to_string(),
        "client-output-buffer-limit" => config.max_output_buffer_bytes.to_string(),
        "max-multibulk-count" => config.max_multibulk_count.to_string(),
        "pg-port" => config.pg_port.to_string(),
        "pg-user" => "(none)".into(),
        "pg-auth-method" => config.pg_auth_method.name().into(),
        "pg-max-message-bytes" => config.pg_max_message_bytes.to_string(),
        "pg-max-prepared-statements" => config.pg_max_prepared_statements.to_string(),
        "pg-max-portals" => config.pg_max_portals.to_string(),
        _ => unreachable!("flag {name} has no default"),
    }
}

/// The text of `--help`.
pub fn help_text() -> String {
    let defaults = Config::default();
    let mut text = String::from(
        "corewire: thread-per-core Redis-protocol server over a C++ transactional engine\n\n\
         usage: corewire [--flag value]...\n\nflags:\n",
    );
    for flag in FLAGS {
        let left = format!("--{} {}", flag.name, flag.value);
        text.push_str(&format!(
            "  {left:<36} {} (default: {})\n",
            flag.help,
            default_of(flag.name, &defaults)
        ));
    }
    text.push_str("  --help                               print this text\n");
    text
}

/// Parses flags (without argv[0]). Accepts `--flag value` and `--flag=value`.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument '{arg}' (flags start with --)"));
        };
        if flag == "help" {
            return Ok(Command::Help);
        }
        let name = flag.split_once('=').map_or(flag, |(name, _)| name);
        if !FLAGS.iter().any(|known| known.name == name) {
            return Err(format!("unknown flag --{name} (see --help)"));
        }
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("--{flag} needs a value"))?;
                (flag.to_string(), value)
            }
        };
        apply(&mut config, &name, &value)?;
    }
    validate(&config)?;
    Ok(Command::Run(config))
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("--{name}: '{value}' is not a valid number"))
}

fn apply(config: &mut Config, name: &str, value: &str) -> Result<(), String> {
    match name {
        "threads" => config.workers = number(name, value)?,
        "bind" => {
            config.bind = value
                .parse()
                .map_err(|_| format!("--bind: '{value}' is not an IP address"))?
        }
        "port" => {
            config.resp_port = number(name, value)?;
            if config.resp_port == 0 {
                return Err("--port must be between 1 and 65535".into());
            }
        }
        "requirepass" => config.requirepass = Some(value.to_string()).filter(|p| !p.is_empty()),
        "maxclients" => config.max_clients = number(name, value)?,
        "proto-max-bulk-len" => config.max_bulk_bytes = number(name, value)?,
        "client-query-buffer-limit" => config.max_query_buffer_bytes = number(name, value)?,
        "client-output-buffer-limit" => config.max_output_buffer_bytes = number(name, value)?,
        "max-multibulk-count" => config.max_multibulk_count = number(name, value)?,
        "pg-port" => {
            config.pg_port = number(name, value)?;
            if config.pg_port == 0 {
                return Err("--pg-port must be between 1 and 65535".into());
            }
        }
        "pg-user" => {
            let (user, secret) = value
                .split_once(':')
                .filter(|(user, secret)| !user.is_empty() && !secret.is_empty())
                .ok_or("--pg-user: expected NAME:SECRET")?;
            config.pg_users.push((user.to_string(), secret.to_string()));
        }
        "pg-auth-method" => {
            config.pg_auth_method = match value {
                "scram-sha-256" => PgAuthMethod::ScramSha256,
                "md5" => PgAuthMethod::Md5,
                "trust" => PgAuthMethod::Trust,
                _ => {
                    return Err(format!(
                        "--pg-auth-method: '{value}' is not one of scram-sha-256, md5, trust"
                    ))
                }
            }
        }
        "pg-max-message-bytes" => config.pg_max_message_bytes = number(name, value)?,
        "pg-max-prepared-statements" => config.pg_max_prepared_statements = number(name, value)?,
        "pg-max-portals" => config.pg_max_portals = number(name, value)?,
        _ => return Err(format!("unknown flag --{name} (see --help)")),
    }
    Ok(())
}

/// Checks the values together; the server refuses to start otherwise.
pub fn validate(config: &Config) -> Result<(), String> {
    if config.workers > 256 {
        return Err(format!(
            "--threads {} is above the limit of 256",
            config.workers
        ));
    }
    if config.max_clients == 0 {
        return Err("--maxclients must be at least 1".into());
    }
    if config.max_bulk_bytes == 0
        || config.max_query_buffer_bytes == 0
        || config.max_output_buffer_bytes == 0
    {
        return Err("buffer limits must be at least 1 byte".into());
    }
    if config.pg_max_message_bytes < 1024 {
        return Err("--pg-max-message-bytes must be at least 1024".into());
    }
    if config.pg_resp_port_clash() {
        return Err(format!(
            "--port and --pg-port are both {}",
            config.resp_port
        ));
    }
    if !config.bind.is_loopback() && config.requirepass.is_none() {
        return Err(format!(
            "refusing to bind {} without a password (protected mode): pass --requirepass, \
             or bind a loopback address such as 127.0.0.1",
            config.bind
        ));
    }
    Ok(())
}

impl Config {
    fn pg_resp_port_clash(&self) -> bool {
        self.pg_port != 0 && self.pg_port == self.resp_port
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

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_override_defaults() {
        let Command::Run(config) =
            parse(&["--threads", "2", "--port=7000", "--maxclients", "5"]).unwrap()
        else {
            panic!("expected a run command");
        };
        assert_eq!(config.workers, 2);
        assert_eq!(config.resp_port, 7000);
        assert_eq!(config.max_clients, 5);
        assert_eq!(config.max_bulk_bytes, 512 * 1024 * 1024);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert!(parse(&["--nope", "1"])
            .unwrap_err()
            .contains("unknown flag --nope"));
        assert!(parse(&["--port", "http"])
            .unwrap_err()
            .contains("not a valid number"));
        assert!(parse(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--no-such-flag"])
            .unwrap_err()
            .contains("unknown flag --no-such-flag"));
        assert!(parse(&["--port", "0"])
            .unwrap_err()
            .contains("between 1 and 65535"));
        assert!(parse(&["--bind", "0.0.0.0"])
            .unwrap_err()
            .contains("protected mode"));
        assert!(matches!(
            parse(&["--bind", "0.0.0.0", "--requirepass", "x"]),
            Ok(Command::Run(_))
        ));
    }

    #[test]
    fn help_lists_every_flag_with_its_default() {
        let help = help_text();
        for flag in FLAGS {
            assert!(help.contains(&format!("--{}", flag.name)), "{}", flag.name);
        }
        assert!(help.contains("(default: 6380)"));
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

    pub fn password_required(&self) -> bool {
        self.requirepass.read().is_some()
    }

    pub fn set_requirepass(&self, password: Option<String>) {
        *self.requirepass.write() = password;
    }
}
