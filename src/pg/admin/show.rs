//! The SHOW result sets. Column names and types follow PgBouncer's where
//! the meaning is the same; SHOW WORKERS is corewire's own.
//!
//! Databases: `kv` is the embedded engine's table (every database name
//! other than `corewire` and the `[databases]` entries connects to it),
//! `corewire` is this console; their server columns are 0. The
//! `[databases]` entries are upstream PostgreSQL servers reached through
//! each worker's pools: their rows come from the [`WorkerPools`] every
//! worker reports (`Env::pools`), with a `worker` column where a row is
//! one worker's.

use std::collections::{BTreeMap, HashMap};

use std::time::Instant;

use super::clients::{split_addr, ClientInfo};
use super::figures::{Totals, WorkerFigures};
use super::table::{time_text, Table, Type, Value};
use super::{Env, Show, DATABASE};
use crate::config::Config;
use crate::pg::error::{sqlstate, PgError};
use crate::pg::protocol::Writer;
use crate::pool::config::{DatabaseConfig, PoolMode};
use crate::pool::snapshot::{PoolTotals, ServerRow, WorkerPools};
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
        Show::Servers => servers(env, out),
        Show::Databases => databases(env, out),
        Show::Pools => pools(env, out),
        Show::Config => config(env, out),
        Show::State => state(env, out),
    }
}

/// A NOTICE listing the commands, as PgBouncer's SHOW HELP.
fn help(out: &mut Vec<u8>) {
    let notice = PgError::notice(sqlstate::SUCCESSFUL_COMPLETION, "Console usage").with_detail(
        "\n\tSHOW HELP|VERSION|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|STATE\n\
         \tSHOW STATS|STATS_TOTALS|STATS_AVERAGES\n\
         \tSHOW WORKERS\n\
         \tPAUSE [<db>]\n\
         \tRESUME [<db>]\n\
         \tKILL <db>\n\
         \tRELOAD\n\
         \tSHUTDOWN",
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

/// `paused`: yes when every `[databases]` entry is paused (PAUSE with
/// no database); corewire never suspends.
fn state(env: &Env<'_>, out: &mut Vec<u8>) {
    let config = env.shared.current_config();
    let all_paused = !config.databases.is_empty()
        && config
            .databases
            .iter()
            .all(|database| paused(env, &database.name));
    let paused = if all_paused { "yes" } else { "no" };
    let mut table = Table::new(out, &[("key", Type::Text), ("value", Type::Text)]);
    for (key, value) in [("active", "yes"), ("paused", paused), ("suspended", "no")] {
        table.row(vec![key.into(), value.into()]);
    }
    table.finish();
}

/// A database's row of SHOW STATS: totals since start, averages over
/// the recent window.
struct StatsRow {
    database: String,
    /// xact_count, query_count, received, sent, xact_time, query_time,
    /// wait_time (µs).
    totals: [u64; 7],
    /// The same, as rates per second (counts, bytes) and mean durations
    /// (times).
    averages: [u64; 7],
}

/// SHOW STATS (both), STATS_TOTALS and STATS_AVERAGES: `kv`, then each
/// upstream database.
fn stats(env: &Env<'_>, out: &mut Vec<u8>, totals: bool, averages: bool) {
    let snapshot = Snapshot::take(env.shared);
    let current = Totals::of(&snapshot.total);
    let recent = env.window.averages(Instant::now(), &current);
    let t = &current;
    let a = &recent;
    let mut rows = vec![StatsRow {
        database: KV.into(),
        totals: [
            t.xact_count,
            t.query_count,
            t.received_bytes,
            t.sent_bytes,
            t.xact_time_us,
            t.query_time_us,
            0,
        ],
        averages: [
            a.xact_per_sec,
            a.query_per_sec,
            a.received_bytes_per_sec,
            a.sent_bytes_per_sec,
            a.xact_time_us,
            a.query_time_us,
            0,
        ],
    }];
    let config = env.shared.current_config();
    rows.extend(upstream_stats(&config.databases, env.pools));
    let mut columns = vec![("database", Type::Text)];
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
    }
    let mut table = Table::new(out, &columns);
    for stats in rows {
        let mut row: Vec<Value> = vec![stats.database.into()];
        if totals {
            row.extend(stats.totals.map(Value::from));
        }
        if averages {
            row.extend(stats.averages.map(Value::from));
        }
        table.row(row);
    }
    table.finish();
}

/// One row per upstream database (every `[databases]` entry, and any
/// database a worker still has a pool for after a RELOAD dropped it),
/// by name: its pools' totals summed over users and workers.
///
/// Averages are 0: the window behind `kv`'s samples the process-wide
/// counters once a second, while pool totals live in each worker and
/// come only with a SHOW (gathered over the control channel).
fn upstream_stats(databases: &[DatabaseConfig], pools: &[WorkerPools]) -> Vec<StatsRow> {
    let mut sums: BTreeMap<&str, PoolTotals> = databases
        .iter()
        .map(|database| (database.name.as_str(), PoolTotals::default()))
        .collect();
    for pool in pools.iter().flat_map(|worker| &worker.pools) {
        let sum = sums.entry(pool.database.as_str()).or_default();
        let t = &pool.totals;
        sum.xact_count += t.xact_count;
        sum.query_count += t.query_count;
        sum.bytes_received += t.bytes_received;
        sum.bytes_sent += t.bytes_sent;
        sum.xact_time_us += t.xact_time_us;
        sum.query_time_us += t.query_time_us;
        sum.wait_time_us += t.wait_time_us;
    }
    sums.into_iter()
        .map(|(database, t)| StatsRow {
            database: database.to_string(),
            totals: [
                t.xact_count,
                t.query_count,
                t.bytes_received,
                t.bytes_sent,
                t.xact_time_us,
                t.query_time_us,
                t.wait_time_us,
            ],
            averages: [0; 7],
        })
        .collect()
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
/// is the `ptr` of the server connection it is linked to (SHOW SERVERS),
/// if any.
fn clients(env: &Env<'_>, out: &mut Vec<u8>) {
    let mut table = Table::new(out, SOCKET_COLUMNS);
    for row in client_rows(env.clients, env.pools) {
        table.row(row);
    }
    table.finish();
}

fn client_rows(clients: &[ClientInfo], pools: &[WorkerPools]) -> Vec<Vec<Value>> {
    let links: HashMap<u64, u64> = servers_of(pools)
        .filter_map(|(_, server)| Some((server.link_client_id?, server.id)))
        .collect();
    let mut clients: Vec<&ClientInfo> = clients.iter().collect();
    clients.sort_by_key(|client| client.client_id);
    clients
        .into_iter()
        .map(|client| {
            let (addr, port) = split_addr(&client.peer_addr);
            let (local_addr, local_port) = split_addr(&client.local_addr);
            let link = links
                .get(&client.client_id)
                .map(|server| format!("{server:x}"))
                .unwrap_or_default();
            vec![
                "C".into(),
                client.user.clone().into(),
                client.database.clone().into(),
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
                link.into(),
                0i64.into(),
                client.tls.clone().into(),
                client.application_name.clone().into(),
                client.prepared_statements.into(),
                client.client_id.into(),
                client.worker.into(),
            ]
        })
        .collect()
}

/// Every worker's server connections, with the worker that owns them.
fn servers_of(pools: &[WorkerPools]) -> impl Iterator<Item = (usize, &ServerRow)> {
    pools.iter().flat_map(|worker| {
        worker
            .servers
            .iter()
            .map(move |server| (worker.worker, server))
    })
}

/// Every worker's upstream server connections, by id. `ptr` is the
/// connection's id in hex; `link` is the `ptr` of the client it serves
/// (SHOW CLIENTS), empty when idle. Upstream connections are plaintext
/// (`tls` empty), and nothing waits on them (`wait` 0).
fn servers(env: &Env<'_>, out: &mut Vec<u8>) {
    let mut table = Table::new(out, SOCKET_COLUMNS);
    for row in server_rows(env.pools, env.clients) {
        table.row(row);
    }
    table.finish();
}

fn server_rows(pools: &[WorkerPools], clients: &[ClientInfo]) -> Vec<Vec<Value>> {
    let client_pids: HashMap<u64, i32> = clients
        .iter()
        .map(|client| (client.client_id, client.pid))
        .collect();
    let mut servers: Vec<(usize, &ServerRow)> = servers_of(pools).collect();
    servers.sort_by_key(|(_, server)| server.id);
    servers
        .into_iter()
        .map(|(worker, server)| {
            let link = server
                .link_client_id
                .and_then(|id| client_pids.get(&id))
                .map(|pid| format!("{pid:x}"))
                .unwrap_or_default();
            vec![
                "S".into(),
                server.user.clone().into(),
                server.database.clone().into(),
                "none".into(),
                server.state.into(),
                server.addr.clone().into(),
                server.port.into(),
                server.local_addr.clone().into(),
                server.local_port.into(),
                unix_time_text(server.connect_time_unix_s).into(),
                unix_time_text(server.request_time_unix_s).into(),
                0i64.into(),
                0i64.into(),
                0i64.into(),
                format!("{:x}", server.id).into(),
                link.into(),
                server.remote_pid.into(),
                "".into(),
                server.application_name.clone().into(),
                server.prepared_statements.into(),
                server.id.into(),
                worker.into(),
            ]
        })
        .collect()
}

fn unix_time_text(unix_s: i64) -> String {
    let seconds = u64::try_from(unix_s).unwrap_or(0);
    time_text(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
}

/// Sessions of `database`.
fn client_count(env: &Env<'_>, database: &str) -> usize {
    env.clients
        .iter()
        .filter(|client| client.database == database)
        .count()
}

const DATABASE_COLUMNS: &[(&str, Type)] = &[
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
];

/// `kv` (the engine) and `corewire` (this console), then each
/// `[databases]` entry. No host for the first two: both are served
/// in-process; the console's port is the PostgreSQL port, as PgBouncer
/// shows its own, and their server pools are empty (pool_size 0).
fn databases(env: &Env<'_>, out: &mut Vec<u8>) {
    let mut table = Table::new(out, DATABASE_COLUMNS);
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
    let config = env.shared.current_config();
    for row in upstream_database_rows(&config, env.pools, |name| paused(env, name)) {
        table.row(row);
    }
    table.finish();
}

/// Whether PAUSE (or KILL) holds `database`.
fn paused(env: &Env<'_>, database: &str) -> bool {
    env.shared.pools.is_paused(database)
}

/// The `[databases]` entries, in the config's order, as PgBouncer shows
/// them: pool sizes with the defaults applied, `pool_mode` NULL when the
/// entry does not set its own (the user's or pool-mode applies),
/// `max_connections` 0 (no max_db_connections: `pool_size` is already
/// the limit across workers). `current_connections` counts open server
/// connections and `current_client_connections` clients, every worker's.
fn upstream_database_rows(
    config: &Config,
    pools: &[WorkerPools],
    paused: impl Fn(&str) -> bool,
) -> Vec<Vec<Value>> {
    config
        .databases
        .iter()
        .map(|database| {
            let name = database.name.as_str();
            let servers = servers_of(pools)
                .filter(|(_, server)| server.database == name)
                .count();
            let clients: usize = pools
                .iter()
                .flat_map(|worker| &worker.pools)
                .filter(|pool| pool.database == name)
                .map(|pool| pool.cl_active + pool.cl_waiting)
                .sum();
            vec![
                name.into(),
                database.host.clone().into(),
                database.port.into(),
                database.dbname.clone().into(),
                database.user.clone().into(),
                database
                    .pool_size
                    .unwrap_or(config.default_pool_size)
                    .into(),
                database
                    .min_pool_size
                    .unwrap_or(config.min_pool_size)
                    .into(),
                database
                    .reserve_pool
                    .unwrap_or(config.reserve_pool_size)
                    .into(),
                config.server_lifetime_s.into(),
                database.pool_mode.map(PoolMode::name).into(),
                Value::Null,
                0i64.into(),
                servers.into(),
                0i64.into(),
                clients.into(),
                i64::from(paused(name)).into(),
                0i64.into(),
            ]
        })
        .collect()
}

const POOL_COLUMNS: &[(&str, Type)] = &[
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
    ("worker", Type::Int4),
];

fn pools(env: &Env<'_>, out: &mut Vec<u8>) {
    let config = env.shared.current_config();
    let mut table = Table::new(out, POOL_COLUMNS);
    for row in pool_rows(env.clients, env.pools, &config.databases) {
        table.row(row);
    }
    table.finish();
}

type PoolKey = (String, String, Option<usize>);

/// PgBouncer's pools, by database, user and worker.
///
/// `kv` and `corewire`: one pool per (database, user) with sessions, for
/// the whole process (`worker` NULL: the engine is shared). Every
/// logged-in session is `cl_active` (PgBouncer: linked to a server or
/// idle); none waits, as no server is ever waited for.
///
/// Upstream databases: one row per worker per (database, user) pool, as
/// each worker reports it. `maxwait` is the oldest wait's whole seconds,
/// `maxwait_us` the rest, as PgBouncer splits it. Cancel requests are
/// not counted by pool (the cancel columns are 0).
fn pool_rows(
    clients: &[ClientInfo],
    pools: &[WorkerPools],
    databases: &[DatabaseConfig],
) -> Vec<Vec<Value>> {
    let upstream = |name: &str| {
        databases.iter().any(|database| database.name == name)
            || pools
                .iter()
                .flat_map(|worker| &worker.pools)
                .any(|pool| pool.database == name)
    };
    let mut local: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for client in clients.iter().filter(|client| !upstream(&client.database)) {
        *local
            .entry((client.database.as_str(), &client.user))
            .or_default() += 1;
    }
    // Sorted by (database, user, worker); kv's and the console's have none.
    let mut rows: Vec<(PoolKey, Vec<Value>)> = Vec::new();
    for ((database, user), active) in local {
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
        row.push(Value::Null);
        rows.push(((database.into(), user.into(), None), row));
    }
    for worker in pools {
        for pool in &worker.pools {
            let row = vec![
                pool.database.clone().into(),
                pool.user.clone().into(),
                pool.cl_active.into(),
                pool.cl_waiting.into(),
                0i64.into(),
                0i64.into(),
                pool.sv_active.into(),
                0i64.into(),
                0i64.into(),
                pool.sv_idle.into(),
                pool.sv_used.into(),
                pool.sv_tested.into(),
                pool.sv_login.into(),
                (pool.maxwait_us / 1_000_000).into(),
                (pool.maxwait_us % 1_000_000).into(),
                pool.pool_mode.name().into(),
                Value::Null,
                worker.worker.into(),
            ];
            let key = (
                pool.database.clone(),
                pool.user.clone(),
                Some(worker.worker),
            );
            rows.push((key, row));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.into_iter().map(|(_, row)| row).collect()
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
    use super::*;
    use crate::pool::snapshot::PoolRow;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn client_states_are_pgbouncers_words() {
        assert_eq!(ClientState::Active.name(), "active");
        assert_eq!(ClientState::Idle.name(), "idle");
        assert_eq!(ClientState::Waiting.name(), "waiting");
    }

    fn database(name: &str) -> DatabaseConfig {
        DatabaseConfig {
            name: name.into(),
            host: "10.0.0.5".into(),
            port: 6432,
            dbname: format!("{name}_db"),
            user: None,
            password: Some("secret".into()),
            pool_size: None,
            min_pool_size: Some(2),
            reserve_pool: None,
            pool_mode: None,
        }
    }

    fn pool(database: &str, user: &str, n: u64) -> PoolRow {
        PoolRow {
            database: database.into(),
            user: user.into(),
            pool_mode: PoolMode::Transaction,
            cl_active: 3,
            cl_waiting: 1,
            sv_active: 2,
            sv_idle: 1,
            sv_used: 0,
            sv_tested: 0,
            sv_login: 1,
            maxwait_us: 2_500_000,
            totals: PoolTotals {
                xact_count: n,
                query_count: 2 * n,
                bytes_received: 10 * n,
                bytes_sent: 20 * n,
                xact_time_us: 100 * n,
                query_time_us: 50 * n,
                wait_time_us: 7 * n,
                ..PoolTotals::default()
            },
        }
    }

    fn server(id: u64, database: &str, link: Option<u64>) -> ServerRow {
        ServerRow {
            id,
            database: database.into(),
            user: "alice".into(),
            state: if link.is_some() { "active" } else { "idle" },
            addr: "10.0.0.5".into(),
            port: 6432,
            local_addr: "10.0.0.1".into(),
            local_port: 40000 + id as u16,
            connect_time_unix_s: 1_795_425_302,
            request_time_unix_s: 1_795_425_303,
            link_client_id: link,
            remote_pid: 4242,
            application_name: "psql".into(),
            prepared_statements: 3,
        }
    }

    fn client(id: u64, worker: usize, database: &'static str, user: &str) -> ClientInfo {
        let time = UNIX_EPOCH + Duration::from_secs(1_795_425_302);
        ClientInfo {
            worker,
            client_id: id,
            user: user.into(),
            database: database.to_string(),
            state: ClientState::Idle,
            peer_addr: "127.0.0.1:50000".into(),
            local_addr: "127.0.0.1:5433".into(),
            connect_time: time,
            request_time: time,
            application_name: String::new(),
            prepared_statements: 0,
            pid: 0x1000 + id as i32,
            tls: String::new(),
        }
    }

    /// Two workers: 0 has app/alice and app/bob, 1 has app/alice and
    /// reports/alice; servers 7 (linked to client 21) and 8 on worker 0,
    /// 9 on worker 1.
    fn two_workers() -> Vec<WorkerPools> {
        vec![
            WorkerPools {
                worker: 1,
                pools: vec![pool("app", "alice", 1), pool("reports", "alice", 10)],
                servers: vec![server(9, "reports", None)],
            },
            WorkerPools {
                worker: 0,
                pools: vec![pool("app", "bob", 100), pool("app", "alice", 1000)],
                servers: vec![server(8, "app", None), server(7, "app", Some(21))],
            },
        ]
    }

    fn text(value: &Value) -> String {
        match value {
            Value::Null => "NULL".into(),
            Value::Text(text) => text.clone(),
            Value::Int(n) => n.to_string(),
        }
    }

    fn column(columns: &[(&str, Type)], name: &str) -> usize {
        columns
            .iter()
            .position(|(column, _)| *column == name)
            .unwrap()
    }

    #[test]
    fn pools_are_one_row_per_worker_per_upstream_pool_after_kv() {
        let clients = [
            client(20, 0, "kv", "tester"),
            client(22, 1, "kv", "tester"),
            client(23, 0, DATABASE, "admin"),
        ];
        let databases = [database("app"), database("reports")];
        let rows = pool_rows(&clients, &two_workers(), &databases);
        assert!(rows.iter().all(|row| row.len() == POOL_COLUMNS.len()));
        let at = |name| column(POOL_COLUMNS, name);
        let summary: Vec<String> = rows
            .iter()
            .map(|row| {
                ["database", "user", "worker", "cl_active", "pool_mode"]
                    .map(|name| text(&row[at(name)]))
                    .join(" ")
            })
            .collect();
        assert_eq!(
            summary,
            [
                "app alice 0 3 transaction",
                "app alice 1 3 transaction",
                "app bob 0 3 transaction",
                "corewire admin NULL 1 statement",
                "kv tester NULL 2 session",
                "reports alice 1 3 transaction",
            ]
        );
        let app = &rows[0];
        for (name, value) in [
            ("cl_waiting", 1),
            ("cl_active_cancel_req", 0),
            ("sv_active", 2),
            ("sv_idle", 1),
            ("sv_used", 0),
            ("sv_login", 1),
            ("maxwait", 2),
            ("maxwait_us", 500_000),
        ] {
            assert_eq!(app[at(name)], Value::Int(value), "{name}");
        }
        assert_eq!(
            &POOL_COLUMNS[POOL_COLUMNS.len() - 3..],
            &[
                ("pool_mode", Type::Text),
                ("load_balance_hosts", Type::Text),
                ("worker", Type::Int4)
            ]
        );
    }

    #[test]
    fn servers_are_by_id_with_link_to_their_client() {
        let clients = [client(21, 0, "kv", "alice")];
        let rows = server_rows(&two_workers(), &clients);
        assert!(rows.iter().all(|row| row.len() == SOCKET_COLUMNS.len()));
        let at = |name| column(SOCKET_COLUMNS, name);
        let ids: Vec<String> = rows.iter().map(|row| text(&row[at("id")])).collect();
        assert_eq!(ids, ["7", "8", "9"]);
        let linked = &rows[0];
        for (name, value) in [
            ("type", "S"),
            ("user", "alice"),
            ("database", "app"),
            ("state", "active"),
            ("addr", "10.0.0.5"),
            ("port", "6432"),
            ("local_port", "40007"),
            ("connect_time", "2026-11-23 09:15:02 UTC"),
            ("request_time", "2026-11-23 09:15:03 UTC"),
            ("ptr", "7"),
            // Client 21's ptr in SHOW CLIENTS: its pid, 0x1015.
            ("link", "1015"),
            ("remote_pid", "4242"),
            ("application_name", "psql"),
            ("prepared_statements", "3"),
            ("worker", "0"),
        ] {
            assert_eq!(text(&linked[at(name)]), value, "{name}");
        }
        assert_eq!(text(&rows[1][at("link")]), "");
        assert_eq!(text(&rows[2][at("worker")]), "1");
        assert_eq!(text(&rows[2][at("database")]), "reports");
        assert!(server_rows(&[], &clients).is_empty());
    }

    #[test]
    fn a_client_links_to_its_server() {
        let clients = [client(22, 1, "kv", "bob"), client(21, 0, "kv", "alice")];
        let rows = client_rows(&clients, &two_workers());
        let at = |name| column(SOCKET_COLUMNS, name);
        assert_eq!(text(&rows[0][at("id")]), "21");
        assert_eq!(text(&rows[0][at("ptr")]), "1015");
        assert_eq!(text(&rows[0][at("link")]), "7");
        assert_eq!(text(&rows[1][at("link")]), "");
        assert_eq!(text(&rows[1][at("worker")]), "1");
    }

    #[test]
    fn databases_show_each_entry_with_defaults_applied() {
        let mut config = Config::default();
        let mut reports = database("reports");
        reports.user = Some("reader".into());
        reports.pool_size = Some(5);
        reports.pool_mode = Some(PoolMode::Session);
        config.databases = vec![database("app"), reports, database("idle")];
        let rows = upstream_database_rows(&config, &two_workers(), |name| name == "reports");
        assert!(rows.iter().all(|row| row.len() == DATABASE_COLUMNS.len()));
        let at = |name| column(DATABASE_COLUMNS, name);
        let describe = |row: &Vec<Value>| {
            [
                "name",
                "host",
                "port",
                "database",
                "force_user",
                "pool_size",
                "min_pool_size",
                "reserve_pool_size",
                "server_lifetime",
                "pool_mode",
                "max_connections",
                "current_connections",
                "current_client_connections",
                "paused",
                "disabled",
            ]
            .map(|name| text(&row[at(name)]))
            .join(" ")
        };
        let pool_size = config.default_pool_size;
        let reserve = config.reserve_pool_size;
        let lifetime = config.server_lifetime_s;
        assert_eq!(
            describe(&rows[0]),
            format!(
                "app 10.0.0.5 6432 app_db NULL {pool_size} 2 {reserve} {lifetime} NULL 0 2 12 0 0"
            )
        );
        assert_eq!(
            describe(&rows[1]),
            format!("reports 10.0.0.5 6432 reports_db reader 5 2 {reserve} {lifetime} session 0 1 4 1 0")
        );
        assert_eq!(
            describe(&rows[2]),
            format!(
                "idle 10.0.0.5 6432 idle_db NULL {pool_size} 2 {reserve} {lifetime} NULL 0 0 0 0 0"
            )
        );
    }

    #[test]
    fn upstream_stats_sum_users_and_workers_by_database() {
        let mut databases = vec![database("reports"), database("app"), database("idle")];
        databases[2].name = "idle".into();
        let rows = upstream_stats(&databases, &two_workers());
        let names: Vec<&str> = rows.iter().map(|row| row.database.as_str()).collect();
        assert_eq!(names, ["app", "idle", "reports"]);
        let n = 1 + 100 + 1000;
        assert_eq!(
            rows[0].totals,
            [n, 2 * n, 10 * n, 20 * n, 100 * n, 50 * n, 7 * n]
        );
        assert_eq!(rows[1].totals, [0; 7]);
        assert_eq!(rows[2].totals[0], 10);
        assert_eq!(rows[0].averages, [0; 7]);
        // A pool whose database left the config still counts.
        let rows = upstream_stats(&[], &two_workers());
        assert_eq!(rows.len(), 2);
    }
}
