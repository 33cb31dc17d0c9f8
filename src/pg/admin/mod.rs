//! The admin console: PgBouncer's console, for corewire. A PostgreSQL
//! client that connects to database `corewire` as one of `admin_users`
//! (after authenticating as usual) gets SHOW commands over the server's
//! state, RELOAD and SHUTDOWN instead of SQL.
//!
//! - `mod.rs`: who gets in, command parsing, dispatch;
//! - `show`: the SHOW result sets; `control`: RELOAD, SHUTDOWN, and the
//!   checks and replies around PAUSE, RESUME and KILL (which the worker
//!   runs on every worker's pools);
//! - `clients`: what each worker reports about its sessions; `figures`:
//!   the counters SHOW STATS and SHOW WORKERS print;
//! - `table`: result-set writing with PgBouncer's column types.
//!
//! Simple query protocol only, as PgBouncer. The session
//! (`pg::session::admin`) parses a Query into a [`Command`] and hands it
//! to its worker, which gathers the other workers' sessions over the
//! control channel when the command needs them and then calls [`run`].

pub mod clients;
mod control;
mod figures;
mod show;
mod table;

pub use clients::{ClientInfo, ClientState};
pub use figures::StatsWindow;

pub use control::{check_pool_command, pool_command_done};

use crate::pg::error::{sqlstate, PgError};
use crate::pool::snapshot::PoolCommand;
use crate::runtime::Shared;

/// The console's database name (PgBouncer's is `pgbouncer`).
pub const DATABASE: &str = "corewire";

/// Whether `user` may use the console.
pub fn allowed(user: &str, admin_users: &[String]) -> bool {
    admin_users.iter().any(|admin| admin == user)
}

/// FATAL 28000 for a user who authenticated but is not an admin.
pub fn not_allowed(user: &str) -> PgError {
    PgError::fatal(
        sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
        format!("admin console: user \"{user}\" is not in admin_users"),
    )
    .with_hint("list the user in the admin-users setting")
}

/// The error for Parse, Bind, Describe, Execute and Close.
pub fn extended_protocol_refused() -> PgError {
    PgError::new(
        sqlstate::PROTOCOL_VIOLATION,
        "admin console supports only the simple query protocol",
    )
}

/// One console command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// An empty Query (EmptyQueryResponse, as PostgreSQL).
    Empty,
    Show(Show),
    Reload,
    Shutdown,
    /// Refused with 0A000 and this message.
    Unsupported(String),
    /// PAUSE, RESUME, KILL: run by the worker on every worker's pools.
    Pool(PoolCommand),
}

/// What SHOW shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    Help,
    Version,
    Stats,
    StatsTotals,
    StatsAverages,
    Workers,
    Clients,
    Servers,
    Databases,
    Pools,
    Config,
    State,
}

impl Command {
    /// Whether the command lists sessions of every worker (the worker
    /// gathers them before [`run`]).
    pub fn needs_clients(&self) -> bool {
        matches!(
            self,
            Command::Show(Show::Clients | Show::Pools | Show::Databases | Show::Servers)
        )
    }

    /// Whether the command shows every worker's pools (the worker gathers
    /// them before [`run`]).
    pub fn needs_pools(&self) -> bool {
        matches!(
            self,
            Command::Show(
                Show::Pools
                    | Show::Clients
                    | Show::Servers
                    | Show::Databases
                    | Show::Stats
                    | Show::StatsTotals
                    | Show::StatsAverages
            )
        )
    }
}

/// PgBouncer's commands that corewire does not have: SUSPEND (for its
/// online restart), WAIT_CLOSE, DISABLE, ENABLE, RECONNECT.
const UNSUPPORTED_COMMANDS: &[&str] = &["suspend", "wait_close", "disable", "enable", "reconnect"];

const SHOW_TARGETS: &[(&str, Show)] = &[
    ("help", Show::Help),
    ("version", Show::Version),
    ("stats", Show::Stats),
    ("stats_totals", Show::StatsTotals),
    ("stats_averages", Show::StatsAverages),
    ("workers", Show::Workers),
    ("clients", Show::Clients),
    ("servers", Show::Servers),
    ("databases", Show::Databases),
    ("pools", Show::Pools),
    ("config", Show::Config),
    ("state", Show::State),
];

/// Parses a Query: `WORD [WORD] [;]`, case-insensitive, as PgBouncer
/// (a word is letters, digits and `_`, or double-quoted).
pub fn parse(query: &str) -> Result<Command, PgError> {
    let text = query.trim();
    let text = text.strip_suffix(';').unwrap_or(text).trim_end();
    if text.is_empty() {
        return Ok(Command::Empty);
    }
    let invalid = || {
        PgError::new(
            sqlstate::SYNTAX_ERROR,
            format!("invalid command '{query}', use SHOW HELP;"),
        )
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let verb = words[0].to_ascii_lowercase();
    if verb == "set" {
        return Ok(Command::Unsupported(
            "SET is not supported on the admin console: change the config file and RELOAD, \
             or use CONFIG SET on the Redis port"
                .into(),
        ));
    }
    if words.len() > 2 {
        return Err(invalid());
    }
    let words: Vec<String> = words
        .iter()
        .map(|word| unquote(word).ok_or_else(invalid))
        .collect::<Result<_, _>>()?;
    let argument = words.get(1).map(|word| word.to_ascii_lowercase());
    let command = match (verb.as_str(), argument.as_deref()) {
        ("show", Some(target)) => SHOW_TARGETS
            .iter()
            .find(|(name, _)| *name == target)
            .map(|&(_, show)| Command::Show(show))
            .ok_or_else(invalid)?,
        ("reload", None) => Command::Reload,
        ("shutdown", None) => Command::Shutdown,
        ("shutdown", Some(mode @ ("wait_for_servers" | "wait_for_clients"))) => {
            Command::Unsupported(format!(
                "SHUTDOWN {} is not supported: SHUTDOWN drains sessions as SIGTERM does",
                mode.to_ascii_uppercase()
            ))
        }
        ("kill_client", Some(_)) => Command::Unsupported("KILL_CLIENT is not supported yet".into()),
        // Database names keep their case (as PostgreSQL's, when quoted).
        ("pause", _) => Command::Pool(PoolCommand::Pause(words.get(1).cloned())),
        ("resume", _) => Command::Pool(PoolCommand::Resume(words.get(1).cloned())),
        ("kill", Some(_)) => Command::Pool(PoolCommand::Kill(words[1].clone())),
        ("kill", None) => {
            return Err(PgError::new(
                sqlstate::SYNTAX_ERROR,
                "KILL needs a database: KILL db;",
            ))
        }
        (verb, _) if UNSUPPORTED_COMMANDS.contains(&verb) => Command::Unsupported(format!(
            "{} is not supported by corewire (PAUSE, RESUME and KILL are)",
            verb.to_ascii_uppercase()
        )),
        _ => return Err(invalid()),
    };
    Ok(command)
}

/// A bare word, or a double-quoted one (`""` inside is a quote).
fn unquote(word: &str) -> Option<String> {
    if let Some(inner) = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        return (!inner.is_empty()).then(|| inner.replace("\"\"", "\""));
    }
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    plain.then(|| word.to_string())
}

/// What a command runs against.
pub struct Env<'a> {
    pub shared: &'a Shared,
    /// The worker running the command.
    pub worker: usize,
    /// The session asking (for the log).
    pub user: &'a str,
    pub client_id: u64,
    /// Every worker's logged-in sessions, when the command
    /// [needs them](Command::needs_clients); else empty.
    pub clients: &'a [ClientInfo],
    /// Whether some worker did not answer in time (the lists are then
    /// partial, and a NOTICE says so).
    pub partial: bool,
    /// The running worker's samples, for SHOW STATS' averages.
    pub window: &'a StatsWindow,
    /// Every worker's pools, when the command
    /// [needs them](Command::needs_pools); else empty.
    pub pools: &'a [crate::pool::snapshot::WorkerPools],
}

/// Runs `command`, appending its result (or its ErrorResponse) to `out`;
/// the session adds ReadyForQuery.
pub fn run(command: &Command, env: &Env<'_>, out: &mut Vec<u8>) {
    let result = match command {
        Command::Empty => {
            crate::pg::protocol::Writer { out }.empty_query();
            Ok(())
        }
        Command::Show(what) => {
            if env.partial && command.needs_clients() {
                let notice = PgError::notice(
                    sqlstate::WARNING,
                    "some workers did not answer in time; their sessions are missing",
                );
                crate::pg::protocol::Writer { out: &mut *out }.error(&notice);
            }
            show::run(*what, env, out);
            Ok(())
        }
        Command::Reload => control::reload(env, out),
        Command::Shutdown => control::shutdown(env, out),
        // The worker runs these itself (it must reach every worker).
        Command::Pool(_) => unreachable!("run by the worker"),
        Command::Unsupported(message) => Err(PgError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            message.clone(),
        )),
    };
    if let Err(error) = result {
        crate::pg::protocol::Writer { out }.error(&error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_case_insensitively_with_an_optional_semicolon() {
        assert_eq!(parse("SHOW STATS").unwrap(), Command::Show(Show::Stats));
        assert_eq!(
            parse("  show clients ;  ").unwrap(),
            Command::Show(Show::Clients)
        );
        assert_eq!(parse("Show \"pools\"").unwrap(), Command::Show(Show::Pools));
        assert_eq!(parse("reload;").unwrap(), Command::Reload);
        assert_eq!(parse("SHUTDOWN").unwrap(), Command::Shutdown);
        assert_eq!(parse("").unwrap(), Command::Empty);
        assert_eq!(parse(" ; ").unwrap(), Command::Empty);
        assert_eq!(
            parse("PAUSE").unwrap(),
            Command::Pool(PoolCommand::Pause(None))
        );
        assert_eq!(
            parse("pause App;").unwrap(),
            Command::Pool(PoolCommand::Pause(Some("App".into())))
        );
        assert_eq!(
            parse("RESUME").unwrap(),
            Command::Pool(PoolCommand::Resume(None))
        );
        assert_eq!(
            parse("resume \"my db\"").unwrap_err().code,
            sqlstate::SYNTAX_ERROR,
            "words split on whitespace, quoted or not"
        );
        assert_eq!(
            parse("Resume \"App\"").unwrap(),
            Command::Pool(PoolCommand::Resume(Some("App".into())))
        );
        assert_eq!(
            parse("kill app").unwrap(),
            Command::Pool(PoolCommand::Kill("app".into()))
        );
        assert_eq!(
            parse("KILL").unwrap_err().message,
            "KILL needs a database: KILL db;"
        );
        for verb in [
            "SUSPEND",
            "wait_close",
            "DISABLE app",
            "enable app",
            "RECONNECT",
        ] {
            assert!(
                matches!(parse(verb).unwrap(), Command::Unsupported(message) if message.contains("PAUSE, RESUME and KILL")),
                "{verb}"
            );
        }
        assert!(parse("PAUSE a b").is_err());
        assert!(matches!(
            parse("SET a = 1").unwrap(),
            Command::Unsupported(_)
        ));
        assert!(matches!(
            parse("shutdown wait_for_clients").unwrap(),
            Command::Unsupported(_)
        ));
    }

    #[test]
    fn anything_else_is_an_invalid_command() {
        for query in [
            "SELECT 1",
            "SHOW",
            "SHOW nothing",
            "SHOW STATS extra",
            "RELOAD now",
            "show stats;;",
            "show st-ats",
        ] {
            let error = parse(query).unwrap_err();
            assert_eq!(error.code, sqlstate::SYNTAX_ERROR, "{query}");
            assert_eq!(
                error.message,
                format!("invalid command '{query}', use SHOW HELP;")
            );
        }
    }

    #[test]
    fn only_listed_users_are_admins() {
        let admins = vec!["admin".to_string()];
        assert!(allowed("admin", &admins));
        assert!(!allowed("Admin", &admins));
        assert!(!allowed("tester", &admins));
        assert!(!allowed("admin", &[]));
    }
}
