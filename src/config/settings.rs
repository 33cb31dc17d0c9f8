//! The table of settings: one entry per setting, with its name (the flag
//! is `--NAME`, the TOML key `NAME`, the environment variable
//! `COREWIRE_NAME`), its help, whether a reload can change it, and how to
//! read and write it as text. `--help`, the file loader, CONFIG GET/SET,
//! SHOW CONFIG and reload all work from this table.

use std::net::IpAddr;

use super::{Config, OutputBufferLimit, PgAuthMethod, PgTls, TlsAuthClients};
use crate::engine::FsyncPolicy;
use crate::log;
use crate::pool::config::{DatabaseConfig, PoolMode, PoolUserConfig};

/// When a new value takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reload {
    /// SIGHUP, CONFIG SET or the admin console's RELOAD apply it to every
    /// worker at once.
    Live,
    /// It is bound at start (a socket, the worker count): a change waits
    /// for a restart.
    Restart,
}

/// One setting.
pub struct Setting {
    /// Lowercase with dashes, e.g. `pg-port`.
    pub name: &'static str,
    /// Placeholder shown in `--help`, e.g. `PORT`.
    pub value_name: &'static str,
    pub help: &'static str,
    pub reload: Reload,
    /// A password or password list: never shown, never logged.
    pub secret: bool,
    /// Takes several values (repeat the flag, a TOML array, or commas in
    /// the environment); a source that sets it replaces the whole list.
    pub list: bool,
    /// The value as text (lists joined with commas).
    pub get: fn(&Config) -> String,
    /// Parses one value into the config (appends, for a list); Err is the
    /// reason, without the setting's name.
    pub set: fn(&mut Config, &str) -> Result<(), String>,
    /// Empties a list before a source sets it; None for scalars.
    pub clear: Option<fn(&mut Config)>,
}

impl Setting {
    pub fn env_var(&self) -> String {
        format!("COREWIRE_{}", self.name.replace('-', "_").to_uppercase())
    }

    /// What SHOW CONFIG and the logs may print.
    pub fn shown_value(&self, config: &Config) -> String {
        let value = (self.get)(config);
        if self.secret && !value.is_empty() {
            "(hidden)".into()
        } else {
            value
        }
    }
}

/// The setting named `name`; `_` and `-` are the same, case is ignored.
pub fn find(name: &str) -> Option<&'static Setting> {
    let wanted = name.replace('_', "-").to_ascii_lowercase();
    SETTINGS.iter().find(|setting| setting.name == wanted)
}

/// One row of SHOW CONFIG.
pub struct SettingRow {
    pub name: &'static str,
    /// Secrets are shown as `(hidden)`.
    pub value: String,
    pub default: String,
    pub reload: Reload,
}

/// Every setting with its current and default value, secrets hidden.
pub fn setting_rows(config: &Config) -> Vec<SettingRow> {
    let defaults = Config::default();
    SETTINGS
        .iter()
        .map(|setting| SettingRow {
            name: setting.name,
            value: setting.shown_value(config),
            default: setting.shown_value(&defaults),
            reload: setting.reload,
        })
        .collect()
}

pub fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("\"{value}\" is not a valid number"))
}

/// A byte count: a number with an optional Redis unit (k, kb, m, mb, g,
/// gb; `k` is 1000 and `kb` 1024).
pub fn bytes(value: &str) -> Result<usize, String> {
    let invalid = || format!("\"{value}\" is not a byte count (e.g. 1048576, 64mb)");
    let bytes = memory_value(value.trim().as_bytes()).ok_or_else(invalid)?;
    usize::try_from(bytes).map_err(|_| invalid())
}

/// Redis's memtoull: a number with an optional k/kb/m/mb/g/gb unit.
pub fn memory_value(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?.to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let scale: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

pub fn boolean(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("\"{value}\" is not yes or no")),
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.into()
}

fn port(value: &str) -> Result<u16, String> {
    match number::<u16>(value)? {
        0 => Err("a port must be between 1 and 65535".into()),
        port => Ok(port),
    }
}

fn address(value: &str) -> Result<IpAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("\"{value}\" is not an IP address"))
}

/// A duration or threshold where -1 means off.
fn at_least_minus_one(value: &str) -> Result<i64, String> {
    match number::<i64>(value)? {
        n if n >= -1 => Ok(n),
        _ => Err(format!("\"{value}\" must be -1 (off) or more")),
    }
}

/// client-output-buffer-limit as Redis's CONFIG GET shows it: every
/// class, `normal` first (Redis names the replica class `slave` there).
fn output_buffer_limit_text(c: &Config) -> String {
    let class = |name: &str, limit: OutputBufferLimit| {
        format!(
            "{name} {} {} {}",
            limit.hard_bytes, limit.soft_bytes, limit.soft_seconds
        )
    };
    let normal = OutputBufferLimit {
        hard_bytes: c.max_output_buffer_bytes as u64,
        soft_bytes: c.output_buffer_soft_bytes as u64,
        soft_seconds: c.output_buffer_soft_seconds,
    };
    [
        class("normal", normal),
        class("slave", c.output_buffer_replica),
        class("pubsub", c.output_buffer_pubsub),
    ]
    .join(" ")
}

/// client-output-buffer-limit: one byte count (the normal class's hard
/// limit), or Redis's `<class> <hard> <soft> <soft-seconds>` groups, which
/// change only the classes they name (all or none, with Redis's errors).
pub fn set_output_buffer_limit(c: &mut Config, value: &str) -> Result<(), String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if let [single] = words[..] {
        if let Ok(hard) = bytes(single) {
            if hard == 0 {
                return Err(NORMAL_HARD_REQUIRED.into());
            }
            c.max_output_buffer_bytes = hard;
            return Ok(());
        }
    }
    if words.is_empty() || words.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut next = c.clone();
    for group in words.chunks(4) {
        let hard = memory_value(group[1].as_bytes());
        let soft = memory_value(group[2].as_bytes());
        // Redis: a C int, not negative.
        let seconds = group[3]
            .parse::<u32>()
            .ok()
            .filter(|s| *s <= i32::MAX as u32);
        let (Some(hard_bytes), Some(soft_bytes), Some(seconds)) = (hard, soft, seconds) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        let limit = OutputBufferLimit {
            hard_bytes,
            soft_bytes,
            soft_seconds: seconds as u64,
        };
        match group[0].to_ascii_lowercase().as_str() {
            "normal" => {
                if limit.hard_bytes == 0 {
                    return Err(NORMAL_HARD_REQUIRED.into());
                }
                let too_big = || "a limit is larger than this machine's address space".to_string();
                next.max_output_buffer_bytes =
                    usize::try_from(limit.hard_bytes).map_err(|_| too_big())?;
                next.output_buffer_soft_bytes =
                    usize::try_from(limit.soft_bytes).map_err(|_| too_big())?;
                next.output_buffer_soft_seconds = limit.soft_seconds;
            }
            "slave" | "replica" => next.output_buffer_replica = limit,
            "pubsub" => next.output_buffer_pubsub = limit,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        }
    }
    *c = next;
    Ok(())
}

/// corewire keeps every client's output bounded.
const NORMAL_HARD_REQUIRED: &str =
    "the normal class needs a hard limit above 0 (corewire does not allow unbounded output buffers)";

pub static SETTINGS: &[Setting] = &[
    Setting {
        name: "threads",
        value_name: "N",
        help: "worker threads, each pinned to a core (0 = one per core)",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.workers.to_string(),
        set: |c, v| {
            c.workers = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "bind",
        value_name: "ADDR",
        help: "address the RESP and PostgreSQL listeners bind",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.bind.to_string(),
        set: |c, v| {
            c.bind = address(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "port",
        value_name: "PORT",
        help: "RESP (Redis protocol) port",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.resp_port.to_string(),
        set: |c, v| {
            c.resp_port = port(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "requirepass",
        value_name: "PASSWORD",
        help: "password Redis and HTTP API clients must give (needed to bind a non-loopback address)",
        reload: Reload::Live,
        secret: true,
        list: false,
        get: |c| c.requirepass.clone().unwrap_or_default(),
        set: |c, v| {
            c.requirepass = Some(v.to_string()).filter(|p| !p.is_empty());
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "user",
        value_name: "RULES",
        help: "an ACL user in Redis's syntax without the word user, e.g. \"alice on >secret ~app:* +@all -@dangerous\" (repeat for more; the default user is on nopass ~* &* +@all, or >requirepass)",
        reload: Reload::Live,
        secret: true,
        list: true,
        get: |c| c.users.join(","),
        set: |c, v| {
            let line = v.trim();
            crate::acl::check_line(line)?;
            let name = line.split_ascii_whitespace().next().unwrap_or_default();
            let defined = |known: &String| known.split_ascii_whitespace().next() == Some(name);
            if c.users.iter().any(defined) {
                return Err(format!(
                    "user {name}: Duplicate user found. A user can only be defined once in config files"
                ));
            }
            c.users.push(line.to_string());
            Ok(())
        },
        clear: Some(|c| c.users.clear()),
    },
    Setting {
        name: "auth-failure-limit",
        value_name: "N",
        help: "failed logins (any protocol) from one address within auth-failure-window-ms after which its logins are refused for a window (0 = no limit)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.auth_failure_limit.to_string(),
        set: |c, v| {
            c.auth_failure_limit = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "auth-failure-window-ms",
        value_name: "MS",
        help: "the window of auth-failure-limit, and how long a blocked address stays blocked",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.auth_failure_window_ms.to_string(),
        set: |c, v| {
            c.auth_failure_window_ms = match number(v)? {
                0 => return Err("must be at least 1".into()),
                ms => ms,
            };
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "acllog-max-len",
        value_name: "N",
        help: "ACL LOG entries kept (refused logins, commands and keys)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.acllog_max_len.to_string(),
        set: |c, v| {
            c.acllog_max_len = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "maxclients",
        value_name: "N",
        help: "connected clients across all workers and protocols",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.max_clients.to_string(),
        set: |c, v| {
            c.max_clients = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "resp-maxclients",
        value_name: "N",
        help: "connected Redis-protocol clients (0 = only maxclients applies)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.resp_max_clients.to_string(),
        set: |c, v| {
            c.resp_max_clients = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-maxclients",
        value_name: "N",
        help: "connected PostgreSQL clients (0 = only maxclients applies)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_max_clients.to_string(),
        set: |c, v| {
            c.pg_max_clients = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "http-maxclients",
        value_name: "N",
        help: "connected HTTP clients (0 = only maxclients applies)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.http_max_clients.to_string(),
        set: |c, v| {
            c.http_max_clients = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "timeout",
        value_name: "SECONDS",
        help: "close Redis-protocol and HTTP clients idle this long (0 = never)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.idle_timeout_s.to_string(),
        set: |c, v| {
            c.idle_timeout_s = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "auth-timeout-ms",
        value_name: "MS",
        help: "close a connection not authenticated by then (PostgreSQL: the startup exchange; Redis protocol: while a password is required; 0 = no limit)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.auth_timeout_ms.to_string(),
        set: |c, v| {
            c.auth_timeout_ms = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "proto-max-bulk-len",
        value_name: "BYTES",
        help: "largest bulk string in a RESP request",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.max_bulk_bytes.to_string(),
        set: |c, v| {
            c.max_bulk_bytes = bytes(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "client-query-buffer-limit",
        value_name: "BYTES",
        help: "unparsed input pending per client",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.max_query_buffer_bytes.to_string(),
        set: |c, v| {
            c.max_query_buffer_bytes = bytes(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "client-output-buffer-limit",
        value_name: "LIMITS",
        help: "unsent output per client: BYTES (the hard limit) or Redis's 'normal <hard> <soft> <soft-seconds>' (replica/pubsub classes accepted, unused); over hard, or over soft for soft-seconds, the client is disconnected",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: output_buffer_limit_text,
        set: set_output_buffer_limit,
        clear: None,
    },
    Setting {
        name: "max-multibulk-count",
        value_name: "N",
        help: "elements in one RESP request array",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.max_multibulk_count.to_string(),
        set: |c, v| {
            c.max_multibulk_count = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-port",
        value_name: "PORT",
        help: "PostgreSQL protocol port",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.pg_port.to_string(),
        set: |c, v| {
            c.pg_port = port(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-user",
        value_name: "NAME:SECRET",
        help: "a PostgreSQL user; SECRET is a password, md5<hex> or a SCRAM-SHA-256$ verifier (none: loopback is trusted)",
        reload: Reload::Live,
        secret: true,
        list: true,
        get: |c| {
            c.pg_users
                .iter()
                .map(|(user, secret)| format!("{user}:{secret}"))
                .collect::<Vec<_>>()
                .join(",")
        },
        set: |c, v| {
            let (user, secret) = v
                .split_once(':')
                .filter(|(user, secret)| !user.is_empty() && !secret.is_empty())
                .ok_or("expected NAME:SECRET")?;
            crate::pg::auth::Secret::parse(secret).map_err(|e| format!("user {user}: {e}"))?;
            c.pg_users.retain(|(known, _)| known != user);
            c.pg_users.push((user.to_string(), secret.to_string()));
            Ok(())
        },
        clear: Some(|c| c.pg_users.clear()),
    },
    Setting {
        name: "pg-auth-method",
        value_name: "METHOD",
        help: "scram-sha-256, md5 or trust (trust: loopback clients only)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_auth_method.name().into(),
        set: |c, v| {
            c.pg_auth_method = match v.trim() {
                "scram-sha-256" => PgAuthMethod::ScramSha256,
                "md5" => PgAuthMethod::Md5,
                "trust" => PgAuthMethod::Trust,
                _ => return Err(format!("\"{v}\" is not one of scram-sha-256, md5, trust")),
            };
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-max-message-bytes",
        value_name: "BYTES",
        help: "largest PostgreSQL protocol message a client may send",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_max_message_bytes.to_string(),
        set: |c, v| {
            c.pg_max_message_bytes = bytes(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-max-prepared-statements",
        value_name: "N",
        help: "named prepared statements per PostgreSQL session",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_max_prepared_statements.to_string(),
        set: |c, v| {
            c.pg_max_prepared_statements = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-max-portals",
        value_name: "N",
        help: "open portals per PostgreSQL session",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_max_portals.to_string(),
        set: |c, v| {
            c.pg_max_portals = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-max-copy-row-bytes",
        value_name: "BYTES",
        help: "longest row COPY FROM STDIN accepts (longer: ERROR 54000)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_max_copy_row_bytes.to_string(),
        set: |c, v| {
            c.pg_max_copy_row_bytes = bytes(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-client-idle-timeout-s",
        value_name: "SECONDS",
        help: "close PostgreSQL sessions idle this long outside a transaction, with FATAL 57P05 (0 = never)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_client_idle_timeout_s.to_string(),
        set: |c, v| {
            c.pg_client_idle_timeout_s = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "admin-users",
        value_name: "NAME",
        help: "users allowed into the PostgreSQL admin console (database corewire)",
        reload: Reload::Live,
        secret: false,
        list: true,
        get: |c| c.admin_users.join(","),
        set: |c, v| {
            let user = v.trim();
            if user.is_empty() {
                return Err("a user name cannot be empty".into());
            }
            c.admin_users.push(user.to_string());
            Ok(())
        },
        clear: Some(|c| c.admin_users.clear()),
    },
    Setting {
        name: "database",
        value_name: "NAME=CONNSTR",
        help: "an upstream PostgreSQL database served through the pool, as in PgBouncer's [databases]: NAME=host=H port=P dbname=D user=U password=PW pool_size=N min_pool_size=N reserve_pool=N pool_mode=M (defaults: host 127.0.0.1, port 5432, dbname NAME, user and password the client's); repeat for more, a later NAME replaces an earlier; kv and corewire are reserved; shown with the password redacted",
        reload: Reload::Live,
        secret: false,
        list: true,
        get: |c| {
            c.databases
                .iter()
                .map(|db| format!("{}={}", db.name, db.describe()))
                .collect::<Vec<_>>()
                .join(",")
        },
        set: |c, v| {
            let (name, connstr) = v.split_once('=').ok_or("expected NAME=CONNSTR")?;
            let db = DatabaseConfig::parse(name.trim(), connstr)?;
            c.databases.retain(|known| known.name != db.name);
            c.databases.push(db);
            Ok(())
        },
        clear: Some(|c| c.databases.clear()),
    },
    Setting {
        name: "pool-user",
        value_name: "NAME=SETTINGS",
        help: "pool settings of one PostgreSQL user, as in PgBouncer's [users]: NAME=pool_mode=session|transaction (a database's own pool_mode wins); repeat for more",
        reload: Reload::Live,
        secret: false,
        list: true,
        get: |c| {
            c.pool_users
                .iter()
                .map(|user| format!("{}={}", user.name, user.describe()))
                .collect::<Vec<_>>()
                .join(",")
        },
        set: |c, v| {
            let (name, text) = v.split_once('=').ok_or("expected NAME=pool_mode=MODE")?;
            let user = PoolUserConfig::parse(name.trim(), text)?;
            c.pool_users.retain(|known| known.name != user.name);
            c.pool_users.push(user);
            Ok(())
        },
        clear: Some(|c| c.pool_users.clear()),
    },
    Setting {
        name: "pool-mode",
        value_name: "MODE",
        help: "when a pooled client's server connection goes back to the pool: session (when the client leaves) or transaction (at the end of each transaction)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pool_mode.name().into(),
        set: |c, v| {
            c.pool_mode = PoolMode::parse(v.trim())?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "default-pool-size",
        value_name: "N",
        help: "server connections per upstream database across all workers, unless its pool_size says otherwise (at least 1)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.default_pool_size.to_string(),
        set: |c, v| {
            c.default_pool_size = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "min-pool-size",
        value_name: "N",
        help: "server connections per upstream database kept open even when idle",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.min_pool_size.to_string(),
        set: |c, v| {
            c.min_pool_size = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "reserve-pool-size",
        value_name: "N",
        help: "extra server connections per upstream database once a client waited reserve-pool-timeout-ms (0 = none)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.reserve_pool_size.to_string(),
        set: |c, v| {
            c.reserve_pool_size = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "reserve-pool-timeout-ms",
        value_name: "MS",
        help: "how long a client waits for a server connection before the reserve pool may be used",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.reserve_pool_timeout_ms.to_string(),
        set: |c, v| {
            c.reserve_pool_timeout_ms = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-idle-timeout-s",
        value_name: "SECONDS",
        help: "close server connections idle this long (0 = never)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.server_idle_timeout_s.to_string(),
        set: |c, v| {
            c.server_idle_timeout_s = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-lifetime-s",
        value_name: "SECONDS",
        help: "close server connections older than this once they are idle (0 = never)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.server_lifetime_s.to_string(),
        set: |c, v| {
            c.server_lifetime_s = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "query-wait-timeout-s",
        value_name: "SECONDS",
        help: "a client waiting this long for a server connection gets FATAL 08P01 query_wait_timeout (0 = wait forever)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.query_wait_timeout_s.to_string(),
        set: |c, v| {
            c.query_wait_timeout_s = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-connect-timeout-ms",
        value_name: "MS",
        help: "connect and login of one server connection",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.server_connect_timeout_ms.to_string(),
        set: |c, v| {
            c.server_connect_timeout_ms = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-login-retry-ms",
        value_name: "MS",
        help: "after a failed server connect or login, wait this long before the next",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.server_login_retry_ms.to_string(),
        set: |c, v| {
            c.server_login_retry_ms = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-check-query",
        value_name: "SQL",
        help: "run on a server connection idle longer than server-check-delay-s before it is used (empty: no check)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.server_check_query.clone(),
        set: |c, v| {
            c.server_check_query = v.trim().to_string();
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-check-delay-s",
        value_name: "SECONDS",
        help: "how long a server connection may be idle before server-check-query runs on it (0 = before every use)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.server_check_delay_s.to_string(),
        set: |c, v| {
            c.server_check_delay_s = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-reset-query",
        value_name: "SQL",
        help: "session mode: run on a server connection before it goes back to the pool (empty: none)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.server_reset_query.clone(),
        set: |c, v| {
            c.server_reset_query = v.trim().to_string();
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "server-reset-query-always",
        value_name: "yes|no",
        help: "run server-reset-query in transaction mode too",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| yes_no(c.server_reset_query_always),
        set: |c, v| {
            c.server_reset_query_always = boolean(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "max-prepared-statements",
        value_name: "N",
        help: "named prepared statements kept per server connection, least recently used dropped first (0 = named statements pass through unchanged)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.max_prepared_statements.to_string(),
        set: |c, v| {
            c.max_prepared_statements = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "tls-port",
        value_name: "PORT",
        help: "RESP over TLS port, next to the plain one (0 = off; needs tls-cert-file and tls-key-file)",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.tls_port.unwrap_or(0).to_string(),
        set: |c, v| {
            c.tls_port = Some(number::<u16>(v)?).filter(|port| *port != 0);
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "tls-cert-file",
        value_name: "PATH",
        help: "PEM certificate chain served by the TLS port and PostgreSQL TLS; re-read on reload",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| {
            c.tls_cert_file
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        },
        set: |c, v| {
            c.tls_cert_file = Some(v.trim()).filter(|path| !path.is_empty()).map(Into::into);
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "tls-key-file",
        value_name: "PATH",
        help: "PEM private key of tls-cert-file (PKCS#8, RSA or EC); re-read on reload",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| {
            c.tls_key_file
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        },
        set: |c, v| {
            c.tls_key_file = Some(v.trim()).filter(|path| !path.is_empty()).map(Into::into);
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "tls-ca-cert-file",
        value_name: "PATH",
        help: "PEM CA certificates that client certificates are verified against (none: no client certificates)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| {
            c.tls_ca_cert_file
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        },
        set: |c, v| {
            c.tls_ca_cert_file = Some(v.trim()).filter(|path| !path.is_empty()).map(Into::into);
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "tls-auth-clients",
        value_name: "no|yes|optional",
        help: "with tls-ca-cert-file: yes requires a client certificate, optional verifies one if sent, no asks for none",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.tls_auth_clients.name().into(),
        set: |c, v| {
            c.tls_auth_clients = match v.trim().to_ascii_lowercase().as_str() {
                "yes" => TlsAuthClients::Yes,
                "no" => TlsAuthClients::No,
                "optional" => TlsAuthClients::Optional,
                _ => return Err(format!("\"{v}\" is not one of no, yes, optional")),
            };
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "pg-tls",
        value_name: "MODE",
        help: "PostgreSQL TLS: disable, allow (when a certificate is configured) or require (plaintext logins are refused)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.pg_tls.name().into(),
        set: |c, v| {
            c.pg_tls = match v.trim().to_ascii_lowercase().as_str() {
                "disable" => PgTls::Disable,
                "allow" => PgTls::Allow,
                "require" => PgTls::Require,
                _ => return Err(format!("\"{v}\" is not one of disable, allow, require")),
            };
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "http-enabled",
        value_name: "yes|no",
        help: "serve /metrics, /health, /stats, the status page and the KV REST API",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| yes_no(c.http_enabled),
        set: |c, v| {
            c.http_enabled = boolean(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "http-bind",
        value_name: "ADDR",
        help: "address the HTTP listener binds",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.http_bind.to_string(),
        set: |c, v| {
            c.http_bind = address(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "http-port",
        value_name: "PORT",
        help: "HTTP port",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.http_port.to_string(),
        set: |c, v| {
            c.http_port = port(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "http-max-body-bytes",
        value_name: "BYTES",
        help: "largest HTTP request body",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| c.http_max_body_bytes.to_string(),
        set: |c, v| {
            c.http_max_body_bytes = bytes(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "metrics-enabled",
        value_name: "yes|no",
        help: "count commands by name, errors by kind and latency histograms",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| yes_no(c.metrics_enabled),
        set: |c, v| {
            c.metrics_enabled = boolean(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "log-level",
        value_name: "LEVEL",
        help: "error, warn, info or debug",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.log_level.name().into(),
        set: |c, v| {
            c.log_level = log::Level::parse(v.trim())
                .ok_or_else(|| format!("\"{v}\" is not one of {}", log::Level::NAMES))?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "log-format",
        value_name: "FORMAT",
        help: "text or json (one object per line)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.log_format.name().into(),
        set: |c, v| {
            c.log_format = log::Format::parse(v.trim())
                .ok_or_else(|| format!("\"{v}\" is not text or json"))?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "log-file",
        value_name: "PATH",
        help: "file the log is appended to (empty: stderr); reopened on reload",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| {
            c.log_file
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        },
        set: |c, v| {
            c.log_file = Some(v.trim()).filter(|path| !path.is_empty()).map(Into::into);
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "slowlog-log-slower-than",
        value_name: "MICROSECONDS",
        help: "requests slower than this enter SLOWLOG (-1 off, 0 every request)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.slowlog_log_slower_than_us.to_string(),
        set: |c, v| {
            c.slowlog_log_slower_than_us = at_least_minus_one(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "slowlog-max-len",
        value_name: "N",
        help: "SLOWLOG entries kept per worker",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.slowlog_max_len.to_string(),
        set: |c, v| {
            c.slowlog_max_len = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "log-min-duration-statement",
        value_name: "MS",
        help: "requests of either protocol slower than this are written to the log (-1 off)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.log_min_duration_statement_ms.to_string(),
        set: |c, v| {
            c.log_min_duration_statement_ms = at_least_minus_one(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "shutdown-timeout-ms",
        value_name: "MS",
        help: "after SIGTERM, how long open transactions and requests may run before their connections close",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.shutdown_timeout_ms.to_string(),
        set: |c, v| {
            c.shutdown_timeout_ms = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "data-dir",
        value_name: "PATH",
        help: "directory of the write-ahead logs and checkpoints, created if missing (empty: in memory only, nothing survives a restart)",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| {
            c.data_dir
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        },
        set: |c, v| {
            c.data_dir = Some(v.trim()).filter(|path| !path.is_empty()).map(Into::into);
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "appendfsync",
        value_name: "POLICY",
        help: "when the logs are fsynced: always (before each reply), everysec (once a second) or no (the OS decides)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.appendfsync.name().into(),
        set: |c, v| {
            c.appendfsync = FsyncPolicy::parse(v)
                .ok_or_else(|| format!("\"{v}\" is not one of {}", FsyncPolicy::NAMES))?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "checkpoint-log-bytes",
        value_name: "BYTES",
        help: "checkpoint once the logs written since the last one exceed this (0: never by size)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.checkpoint_log_bytes.to_string(),
        set: |c, v| {
            c.checkpoint_log_bytes = bytes(v)? as u64;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "checkpoint-interval-s",
        value_name: "SECONDS",
        help: "checkpoint this often when anything changed (0: never by time)",
        reload: Reload::Live,
        secret: false,
        list: false,
        get: |c| c.checkpoint_interval_s.to_string(),
        set: |c, v| {
            c.checkpoint_interval_s = number(v)?;
            Ok(())
        },
        clear: None,
    },
    Setting {
        name: "recovery-truncate-corrupt",
        value_name: "yes|no",
        help: "at startup, cut a log at a corrupt record in its middle, dropping the rest of that file, instead of refusing to start (copy the data dir first)",
        reload: Reload::Restart,
        secret: false,
        list: false,
        get: |c| yes_no(c.recovery_truncate_corrupt),
        set: |c, v| {
            c.recovery_truncate_corrupt = boolean(v)?;
            Ok(())
        },
        clear: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_round_trips_its_default() {
        let defaults = Config::default();
        for setting in SETTINGS {
            let mut config = Config::default();
            if let Some(clear) = setting.clear {
                clear(&mut config);
            }
            let text = (setting.get)(&defaults);
            if setting.list && text.is_empty() {
                continue;
            }
            let result = if setting.list {
                text.split(',')
                    .try_for_each(|item| (setting.set)(&mut config, item))
            } else {
                (setting.set)(&mut config, &text)
            };
            // An unset requirepass or log file reads back as "".
            result.unwrap_or_else(|e| panic!("{}: {e}", setting.name));
            assert_eq!((setting.get)(&config), text, "{}", setting.name);
        }
    }

    #[test]
    fn names_are_unique_and_found_with_either_separator() {
        for (i, setting) in SETTINGS.iter().enumerate() {
            assert!(SETTINGS[..i].iter().all(|other| other.name != setting.name));
            assert!(find(&setting.name.replace('-', "_")).is_some());
        }
        assert_eq!(find("PG_PORT").unwrap().env_var(), "COREWIRE_PG_PORT");
    }

    #[test]
    fn values_parse_with_units_and_reasons() {
        assert_eq!(bytes("64mb"), Ok(64 << 20));
        assert_eq!(bytes("1k"), Ok(1000));
        assert!(bytes("lots").unwrap_err().contains("not a byte count"));
        assert_eq!(memory_value(b"2GB"), Some(2 << 30));
        assert_eq!(memory_value(b"-1"), None);
        assert!(boolean("maybe").is_err());
        assert!(port("0").unwrap_err().contains("between 1 and 65535"));
    }

    #[test]
    fn output_buffer_limit_takes_bytes_or_redis_classes() {
        let mut config = Config::default();
        set_output_buffer_limit(&mut config, "2mb").unwrap();
        assert_eq!(config.max_output_buffer_bytes, 2 << 20);
        set_output_buffer_limit(&mut config, "normal 4mb 1mb 10 pubsub 1 2 3").unwrap();
        assert_eq!(
            output_buffer_limit_text(&config),
            "normal 4194304 1048576 10 slave 268435456 67108864 60 pubsub 1 2 3"
        );
        // Only the classes named change; replica is an alias of slave.
        set_output_buffer_limit(&mut config, "REPLICA 5 6 7").unwrap();
        assert_eq!(config.max_output_buffer_bytes, 4 << 20);
        assert_eq!(config.output_buffer_replica.soft_seconds, 7);
        for (bad, reason) in [
            ("normal 1mb 0", "Wrong number"),
            ("", "Wrong number"),
            ("master 1 1 1", "Invalid client class"),
            ("normal 1mb 0 -1", "Error in hard, soft or soft_seconds"),
            ("normal x 0 0", "Error in hard, soft or soft_seconds"),
            ("normal 0 0 0", "hard limit above 0"),
            ("0", "hard limit above 0"),
            // All or nothing: the valid first group is not applied.
            ("pubsub 9 9 9 normal 0 0 0", "hard limit above 0"),
        ] {
            let error = set_output_buffer_limit(&mut config, bad).unwrap_err();
            assert!(error.contains(reason), "{bad}: {error}");
        }
        assert_eq!(config.output_buffer_pubsub.hard_bytes, 1);
    }

    #[test]
    fn secrets_are_hidden() {
        let mut config = Config::default();
        config.requirepass = Some("hunter2".into());
        config.pg_users.push(("alice".into(), "pw".into()));
        let rows = setting_rows(&config);
        let shown: String = rows.iter().map(|row| row.value.clone()).collect();
        assert!(!shown.contains("hunter2") && !shown.contains("pw"));
        assert!(rows.iter().any(|row| row.value == "(hidden)"));
    }

    #[test]
    fn databases_are_shown_without_their_password() {
        let mut config = Config::default();
        let database = find("database").unwrap();
        (database.set)(&mut config, "app=host=h password=hunter2 pool_size=3").unwrap();
        (database.set)(&mut config, "b=port=6432").unwrap();
        // A later entry with the same name replaces the earlier.
        (database.set)(&mut config, "app=host=h2 password='hunter2'").unwrap();
        assert_eq!(
            (database.get)(&config),
            "b=host=127.0.0.1 port=6432 dbname=b,app=host=h2 port=5432 dbname=app password=<redacted>"
        );
        assert_eq!(config.databases[1].password.as_deref(), Some("hunter2"));
        let shown: String = setting_rows(&config)
            .iter()
            .map(|row| row.value.clone())
            .collect();
        assert!(shown.contains("host=h2") && !shown.contains("hunter2"));
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(
            (database.set)(&mut config, "kv=host=x").unwrap_err(),
            "kv: the database name kv is reserved (kv and corewire are corewire's own)"
        );
        assert_eq!(
            (database.set)(&mut config, "app").unwrap_err(),
            "expected NAME=CONNSTR"
        );
        let pool_user = find("pool_user").unwrap();
        (pool_user.set)(&mut config, "alice=pool_mode=session").unwrap();
        (pool_user.set)(&mut config, "alice=pool_mode=transaction").unwrap();
        assert_eq!((pool_user.get)(&config), "alice=pool_mode=transaction");
        assert!((find("pool-mode").unwrap().set)(&mut config, "statement").is_err());
    }
}
