//! SHUTDOWN: the same graceful stop as SIGTERM.

use super::{command_spec, CommandSpec};
use crate::resp::{Args, Ctx};

pub static SHUTDOWN: CommandSpec = command_spec!("shutdown", -1, Some(shutdown), group: "server", since: "1.0.0",
    summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
    complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"], acl: ["@admin", "@slow", "@dangerous"]);

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE]: asks the host's main loop to
/// drain, as SIGTERM does. As in Redis there is no reply on success: the
/// connection closes when the drain reaches it. SAVE and NOSAVE mean the
/// same: with a data-dir every acknowledged write is in the log already,
/// and the drain flushes the rest. ABORT is refused: a drain that began
/// cannot be called back.
fn shutdown(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    for arg in args.iter_from(1) {
        let known = [&b"nosave"[..], b"save", b"now", b"force"]
            .iter()
            .any(|word| arg.eq_ignore_ascii_case(word));
        if arg.eq_ignore_ascii_case(b"abort") {
            return ctx.reply().error(
                b"ERR SHUTDOWN ABORT is not supported: a graceful shutdown cannot be called back",
            );
        }
        if !known {
            return ctx.reply().error(b"ERR syntax error");
        }
    }
    if !ctx.shared.has_main_loop() {
        crate::log_warn!(conn = ctx.session.client_id;
            "SHUTDOWN refused: this host runs corewire through corewire_start and owns its lifetime");
        return ctx
            .reply()
            .error(b"ERR Errors trying to SHUTDOWN. Check logs.");
    }
    ctx.shared.request_shutdown(&format!(
        "SHUTDOWN from client {} ({})",
        ctx.session.client_id, ctx.session.peer_addr
    ));
}
