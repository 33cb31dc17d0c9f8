//! RELOAD and SHUTDOWN: the process-wide actions, done by the runtime
//! (`Shared::reload`, `Shared::request_shutdown`); the console only
//! reports.

use super::Env;
use crate::pg::error::{PgError, Severity};
use crate::pg::protocol::Writer;

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
