//! The SHOW result sets. Column names and types follow PgBouncer's where
//! the meaning is the same; SHOW WORKERS is corewire's own.
//!
//! Databases: `kv` is the embedded engine's table (every database name
//! other than `corewire` connects to it), `corewire` is this console.
//! There are no upstream servers yet (issue 6), so server columns are 0
//! and SHOW SERVERS is empty.

use std::collections::BTreeMap;

use std::time::Instant;

use super::clients::{split_addr, ClientInfo};
use super::figures::{Totals, WorkerFigures};
use super::table::{time_text, Table, Type, Value};
use super::{Env, Show, DATABASE};
use crate::pg::error::{sqlstate, PgError};
use crate::pg::protocol::Writer;
use crate::stats::Snapshot;

/// The database of ordinary sessions.
const KV: &str = "kv";
/// Pool modes: a kv session keeps its own engine transaction, prepared
/// statements and settings for its whole life, which is what session
/// pooling promises; a console command is one statement, as PgBouncer's
/// own console is in statement mode.
const KV_POOL_MODE: &str = "session";
const CONSOLE_POOL_MODE: &str = "statement";

pub fn run(what: Show, env: &Env<'_>, out: &mut Vec<u8>) {
    match what {
        Show::Help => help(out),
        Show::Version => version(out),
        Show::Stats => stats(env, out, true, true),
        Show::StatsTotals => stats(env, out, true, false),
        Show::StatsAverages => stats(env, out, false, true),
        Show::Workers => workers(env, out),
        Show::Clients => clients(env, out),
        Show::Servers => servers(out),
        Show::Databases => databases(env, out),
        Show::Pools => pools(env, out),
        Show::Config => config(env, out),
        Show::State => state(out),
    }
}

/// A NOTICE listing the commands, as PgBouncer's SHOW HELP.
fn help(out: &mut Vec<u8>) {
    let notice = PgError::notice(sqlstate::SUCCESSFUL_COMPLETION, "Console usage").with_detail(
        "\n\tSHOW HELP|VERSION|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|STATE\n\
         \tSHOW STATS|STATS_TOTALS|STATS_AVERAGES\n\
         \tSHOW WORKERS\n\
         \tRELOAD\n\
         \tSHUTDOWN\n\
         \t(PAUSE, RESUME, KILL, SUSPEND, DISABLE, ENABLE, RECONNECT and WAIT_CLOSE \
         act on upstream databases, which corewire does not have yet)",
    );
    let mut writer = Writer { out };
    writer.error(&notice);
    writer.command_complete("SHOW");
}

fn version(out: &mut Vec<u8>) {
    let mut table = Table::new(out, &[("version", Type::Text)]);
    table.row(vec![
        format!("corewire {}", env!("CARGO_PKG_VERSION")).into()
    ]);
    table.finish();
}

fn state(out: &mut Vec<u8>) {
    let mut table = Table::new(out, &[("key", Type::Text), ("value", Type::Text)]);
    for (key, value) in [("active", "yes"), ("paused", "no"), ("suspended", "no")] {
        table.row(vec![key.into(), value.into()]);
    }
    table.finish();
}

/// SHOW STATS (both), STATS_TOTALS and STATS_AVERAGES: one row, `kv`.
fn stats(env: &Env<'_>, out: &mut Vec<u8>, totals: bool, averages: bool) {
    let snapshot = Snapshot::take(env.shared);
    let current = Totals::of(&snapshot.total);
    let recent = env.window.averages(Instant::now(), &current);
    let mut columns = vec![("database", Type::Text)];
    let mut row: Vec<Value> = vec![KV.into()];
    if totals {
        columns.extend([
            ("total_xact_count", Type::Int8),
            ("total_query_count", Type::Int8),
            ("total_received", Type::Int8),
            ("total_sent", Type::Int8),
            ("total_xact_time", Type::Int8),
            ("total_query_time", Type::Int8),
            ("total_wait_time", Type::Int8),
        ]);
        let t = &current;
        row.extend([
            t.xact_count.into(),
            t.query_count.into(),
            t.received_bytes.into(),
            t.sent_bytes.into(),
            t.xact_time_us.into(),
            t.query_time_us.into(),
            0u64.into(),
        ]);
    }
    if averages {
        columns.extend([
            ("avg_xact_count", Type::Int8),
            ("avg_query_count", Type::Int8),
            ("avg_recv", Type::Int8),
            ("avg_sent", Type::Int8),
            ("avg_xact_time", Type::Int8),
            ("avg_query_time", Type::Int8),
            ("avg_wait_time", Type::Int8),
        ]);
        let a = &recent;
        row.extend([
            a.xact_per_sec.into(),
            a.query_per_sec.into(),
            a.received_bytes_per_sec.into(),
            a.sent_bytes_per_sec.into(),
            a.xact_time_us.into(),
            a.query_time_us.into(),
            0u64.into(),
        ]);
    }
    let mut table = Table::new(out, &columns);
    table.row(row);
    table.finish();
}

/// corewire's own: one row per worker, from the same snapshot as INFO
/// and /metrics (connections open by protocol; commands of every
/// protocol and by protocol; engine outcomes).
fn workers(env: &Env<'_>, out: &mut Vec<u8>) {
    let snapshot = Snapshot::take(env.shared);
    let mut table = Table::new(
        out,
        &[
            ("worker", Type::Int4),
            ("resp_connections", Type::Int4),
            ("pg_connections", Type::Int4),
            ("http_connections", Type::Int4),
            ("connections_received", Type::Int8),
            ("connections_rejected", Type::Int8),
            ("commands", Type::Int8),
            ("resp_commands", Type::Int8),
            ("pg_commands", Type::Int8),
            ("http_commands", Type::Int8),
            ("failed_commands", Type::Int8),
            ("ops_per_sec", Type::Int8),
            ("net_input_bytes", Type::Int8),
            ("net_output_bytes", Type::Int8),
            ("engine_commits", Type::Int8),
            ("engine_conflicts", Type::Int8),
            ("engine_aborts", Type::Int8),
        ],
    );
    for (id, figures) in snapshot.workers.iter().enumerate() {
        let w = WorkerFigures::of(figures);
        let mut row: Vec<Value> = vec![id.into()];
        row.extend(w.connections.map(Value::from));
        row.extend([w.connections_received, w.connections_rejected, w.commands].map(Value::from));
        row.extend(w.commands_by_protocol.map(Value::from));
        row.extend(
            [
                w.failed_commands,
                w.ops_per_sec,
                w.net_input_bytes,
                w.net_output_bytes,
                w.engine_commits,
                w.engine_conflicts,
                w.engine_aborts,
            ]
            .map(Value::from),
        );
        table.row(row);
    }
    table.finish();
}

/// PgBouncer's socket columns (SHOW CLIENTS and SHOW SERVERS), plus the
/// worker that owns the connection.
const SOCKET_COLUMNS: &[(&str, Type)] = &[
    ("type", Type::Text),
    ("user", Type::Text),
    ("database", Type::Text),
    ("replication", Type::Text),
    ("state", Type::Text),
    ("addr", Type::Text),
    ("port", Type::Int4),
    ("local_addr", Type::Text),
    ("local_port", Type::Int4),
    ("connect_time", Type::Time),
    ("request_time", Type::Time),
    ("wait", Type::Int4),
    ("wait_us", Type::Int4),
    ("close_needed", Type::Int4),
    ("ptr", Type::Text),
    ("link", Type::Text),
    ("remote_pid", Type::Int4),
    ("tls", Type::Text),
    ("application_name", Type::Text),
    ("prepared_statements", Type::Int4),
    ("id", Type::Int8),
    ("worker", Type::Int4),
];

/// Every worker's logged-in PostgreSQL sessions. `ptr` is the session's
/// BackendKeyData pid in hex (what names it for a CancelRequest); `link`
/// is empty and `wait` 0: no upstream server is ever waited for.
fn clients(env: &Env<'_>, out: &mut Vec<u8>) {
    let mut clients: Vec<&ClientInfo> = env.clients.iter().collect();
    clients.sort_by_key(|client| client.client_id);
    let mut table = Table::new(out, SOCKET_COLUMNS);
    for client in clients {
        let (addr, port) = split_addr(&client.peer_addr);
        let (local_addr, local_port) = split_addr(&client.local_addr);
        table.row(vec![
            "C".into(),
            client.user.clone().into(),
            client.database.into(),
            "none".into(),
            client.state.name().into(),
            addr.into(),
            port.into(),
            local_addr.into(),
            local_port.into(),
            time_text(client.connect_time).into(),
            time_text(client.request_time).into(),
            0i64.into(),
            0i64.into(),
            0i64.into(),
            format!("{:x}", client.pid).into(),
            "".into(),
            0i64.into(),
            client.tls.clone().into(),
            client.application_name.clone().into(),
            client.prepared_statements.into(),
            client.client_id.into(),
            client.worker.into(),
        ]);
    }
    table.finish();
}

/// No upstream servers yet: the header, no rows.
fn servers(out: &mut Vec<u8>) {
    Table::new(out, SOCKET_COLUMNS).finish();
}

/// Sessions of `database`.
fn client_count(env: &Env<'_>, database: &str) -> usize {
    env.clients
        .iter()
        .filter(|client| client.database == database)
        .count()
}

/// `kv` (the engine) and `corewire` (this console). No host: both are
/// served in-process; the console's port is the PostgreSQL port, as
/// PgBouncer shows its own. Server pools are empty (pool_size 0).
fn databases(env: &Env<'_>, out: &mut Vec<u8>) {
    let mut table = Table::new(
        out,
        &[
            ("name", Type::Text),
            ("host", Type::Text),
            ("port", Type::Int4),
            ("database", Type::Text),
            ("force_user", Type::Text),
            ("pool_size", Type::Int4),
            ("min_pool_size", Type::Int4),
            ("reserve_pool_size", Type::Int4),
            ("server_lifetime", Type::Int4),
            ("pool_mode", Type::Text),
            ("load_balance_hosts", Type::Text),
            ("max_connections", Type::Int4),
            ("current_connections", Type::Int4),
            ("max_client_connections", Type::Int4),
            ("current_client_connections", Type::Int4),
            ("paused", Type::Int4),
            ("disabled", Type::Int4),
        ],
    );
    let rows = [
        (KV, None, KV_POOL_MODE),
        (DATABASE, Some(env.shared.pg_port), CONSOLE_POOL_MODE),
    ];
    for (name, port, pool_mode) in rows {
        table.row(vec![
            name.into(),
            Value::Null,
            port.into(),
            name.into(),
            Value::Null,
            0i64.into(),
            0i64.into(),
            0i64.into(),
            0i64.into(),
            pool_mode.into(),
            Value::Null,
            0i64.into(),
            0i64.into(),
            0i64.into(),
            client_count(env, name).into(),
            0i64.into(),
            0i64.into(),
        ]);
    }
    table.finish();
}

/// One pool per (database, user) with sessions, as PgBouncer. Every
/// logged-in session is `cl_active` (PgBouncer: linked to a server or
/// idle); none waits, as no server is ever waited for.
fn pools(env: &Env<'_>, out: &mut Vec<u8>) {
    let mut pools: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for client in env.clients {
        *pools.entry((client.database, &client.user)).or_default() += 1;
    }
    let mut table = Table::new(
        out,
        &[
            ("database", Type::Text),
            ("user", Type::Text),
            ("cl_active", Type::Int4),
            ("cl_waiting", Type::Int4),
            ("cl_active_cancel_req", Type::Int4),
            ("cl_waiting_cancel_req", Type::Int4),
            ("sv_active", Type::Int4),
            ("sv_active_cancel", Type::Int4),
            ("sv_being_canceled", Type::Int4),
            ("sv_idle", Type::Int4),
            ("sv_used", Type::Int4),
            ("sv_tested", Type::Int4),
            ("sv_login", Type::Int4),
            ("maxwait", Type::Int4),
            ("maxwait_us", Type::Int4),
            ("pool_mode", Type::Text),
            ("load_balance_hosts", Type::Text),
        ],
    );
    for ((database, user), active) in pools {
        let mut row: Vec<Value> = vec![database.into(), user.into(), active.into()];
        row.extend((0..12).map(|_| Value::Int(0)));
        row.push(
            if database == DATABASE {
                CONSOLE_POOL_MODE
            } else {
                KV_POOL_MODE
            }
            .into(),
        );
        row.push(Value::Null);
        table.row(row);
    }
    table.finish();
}

/// Every setting: key, value (secrets hidden), default, and whether a
/// RELOAD can change it.
fn config(env: &Env<'_>, out: &mut Vec<u8>) {
    let config = env.shared.current_config();
    let mut table = Table::new(
        out,
        &[
            ("key", Type::Text),
            ("value", Type::Text),
            ("default", Type::Text),
            ("changeable", Type::Text),
        ],
    );
    for setting in crate::config::setting_rows(&config) {
        let changeable = setting.reload == crate::config::settings::Reload::Live;
        table.row(vec![
            setting.name.into(),
            setting.value.into(),
            setting.default.into(),
            if changeable { "yes" } else { "no" }.into(),
        ]);
    }
    table.finish();
}

#[cfg(test)]
mod tests {
    use super::super::ClientState;

    #[test]
    fn client_states_are_pgbouncers_words() {
        assert_eq!(ClientState::Active.name(), "active");
        assert_eq!(ClientState::Idle.name(), "idle");
    }
}
