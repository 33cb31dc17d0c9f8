//! RELOAD and SHUTDOWN: the process-wide actions, done by the runtime
//! (`Shared::reload`, `Shared::request_shutdown`); the console only
//! reports. PAUSE, RESUME and KILL are run by the worker on every
//! worker's pools; here are the check before and the reply after.

use super::Env;
use crate::pg::error::{sqlstate, PgError, Severity};
use crate::pg::protocol::Writer;
use crate::pool::config::DatabaseConfig;
use crate::pool::snapshot::PoolCommand;

/// PostgreSQL's config_file_error, as PgBouncer answers a failed RELOAD.
const CONFIG_FILE_ERROR: &str = "F0000";
/// SHUTDOWN where the host owns the process.
const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";

/// RELOAD: re-reads the configuration and applies what can change live.
/// NOTICEs name what was applied and what waits for a restart.
pub fn reload(env: &Env<'_>, out: &mut Vec<u8>) -> Result<(), PgError> {
    crate::log_info!(conn = env.client_id; "admin console: RELOAD by user \"{}\"", env.user);
    let report = env
        .shared
        .reload()
        .map_err(|reason| PgError::new(CONFIG_FILE_ERROR, format!("RELOAD failed: {reason}")))?;
    let mut writer = Writer { out };
    if !report.applied.is_empty() {
        writer.error(&notice(format!("applied: {}", report.applied.join(", "))));
    }
    if !report.need_restart.is_empty() {
        let mut warning = notice(format!(
            "changed but need a restart: {}",
            report.need_restart.join(", ")
        ));
        warning.severity = Severity::Warning;
        writer.error(&warning);
    }
    writer.command_complete("RELOAD");
    Ok(())
}

/// SHUTDOWN: asks the process to stop as SIGTERM does. The reply comes
/// first; the connection closes when the server drains its sessions. A
/// host that runs corewire through corewire_start owns its lifetime:
/// there SHUTDOWN is refused, as the Redis side's SHUTDOWN is.
pub fn shutdown(env: &Env<'_>, out: &mut Vec<u8>) -> Result<(), PgError> {
    if !env.shared.has_main_loop() {
        crate::log_warn!(conn = env.client_id;
            "admin console: SHUTDOWN refused: this host runs corewire through corewire_start and owns its lifetime");
        return Err(PgError::new(
            OBJECT_NOT_IN_PREREQUISITE_STATE,
            "SHUTDOWN is not available: the host process owns corewire's lifetime (corewire_start)",
        ));
    }
    crate::log_info!(conn = env.client_id; "admin console: SHUTDOWN by user \"{}\"", env.user);
    env.shared.request_shutdown("admin console SHUTDOWN");
    Writer { out }.command_complete("SHUTDOWN");
    Ok(())
}

fn notice(message: String) -> PgError {
    PgError::notice(crate::pg::error::sqlstate::SUCCESSFUL_COMPLETION, message)
}

/// Whether PAUSE, RESUME or KILL may run: the database it names must be
/// a `[databases]` entry. `kv` (the engine) and `corewire` (this
/// console) have no upstream pool; another name is PgBouncer's "no such
/// database" (3D000 here, as PostgreSQL's unknown database).
pub fn check_pool_command(
    command: &PoolCommand,
    databases: &[DatabaseConfig],
) -> Result<(), PgError> {
    let (verb, name) = match command {
        PoolCommand::Pause(name) => ("PAUSE", name.as_deref()),
        PoolCommand::Resume(name) => ("RESUME", name.as_deref()),
        PoolCommand::Kill(name) => ("KILL", Some(name.as_str())),
    };
    let Some(name) = name else {
        return Ok(());
    };
    if databases.iter().any(|database| database.name == name) {
        return Ok(());
    }
    if name == "kv" || name == super::DATABASE {
        return Err(PgError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "cannot {} database \"{name}\": only [databases] entries have upstream pools",
                verb.to_ascii_lowercase()
            ),
        ));
    }
    Err(PgError::new(
        sqlstate::INVALID_CATALOG_NAME,
        format!("no such database: {name}"),
    ))
}

/// The reply once the worker ran the command: CommandComplete `PAUSE`,
/// `RESUME` or `KILL`, as PgBouncer's.
pub fn pool_command_done(command: &PoolCommand, out: &mut Vec<u8>) {
    let tag = match command {
        PoolCommand::Pause(_) => "PAUSE",
        PoolCommand::Resume(_) => "RESUME",
        PoolCommand::Kill(_) => "KILL",
    };
    Writer { out }.command_complete(tag);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> DatabaseConfig {
        DatabaseConfig {
            name: "app".into(),
            host: "127.0.0.1".into(),
            port: 5432,
            dbname: "app".into(),
            user: None,
            password: None,
            pool_size: None,
            min_pool_size: None,
            reserve_pool: None,
            pool_mode: None,
        }
    }

    #[test]
    fn pool_commands_name_upstream_databases_only() {
        let databases = [app()];
        for command in [
            PoolCommand::Pause(None),
            PoolCommand::Resume(None),
            PoolCommand::Pause(Some("app".into())),
            PoolCommand::Kill("app".into()),
        ] {
            assert!(
                check_pool_command(&command, &databases).is_ok(),
                "{command:?}"
            );
        }
        assert!(check_pool_command(&PoolCommand::Pause(None), &[]).is_ok());
        let error = check_pool_command(&PoolCommand::Kill("nope".into()), &databases).unwrap_err();
        assert_eq!(error.code, sqlstate::INVALID_CATALOG_NAME);
        assert_eq!(error.message, "no such database: nope");
        let error =
            check_pool_command(&PoolCommand::Resume(Some("App".into())), &databases).unwrap_err();
        assert_eq!(error.code, sqlstate::INVALID_CATALOG_NAME);
        for name in ["kv", "corewire"] {
            let error =
                check_pool_command(&PoolCommand::Pause(Some(name.into())), &databases).unwrap_err();
            assert_eq!(error.code, sqlstate::FEATURE_NOT_SUPPORTED);
            assert_eq!(
                error.message,
                format!("cannot pause database \"{name}\": only [databases] entries have upstream pools")
            );
        }
    }

    #[test]
    fn pool_commands_complete_with_their_verb() {
        let mut out = Vec::new();
        pool_command_done(&PoolCommand::Kill("app".into()), &mut out);
        assert_eq!(out, b"C\0\0\0\x09KILL\0");
    }
}
