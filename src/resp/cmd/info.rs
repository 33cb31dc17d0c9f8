//! INFO: server, clients, memory, persistence, stats, cpu, commandstats,
//! errorstats, latencystats and keyspace sections, with process-wide numbers summed
//! over every worker from the same snapshot `/metrics` reads
//! (`crate::stats::Snapshot`), so the two agree.
//!
//! Stats cover every protocol: total_commands_processed counts RESP
//! requests, PostgreSQL statements and HTTP requests (it is
//! `corewire_commands_total` summed), the byte counts all connections.
//! Commandstats, errorstats and latencystats are the RESP side's: a
//! command's `calls` leave out its `rejected_calls` (as Redis), a command
//! queued inside MULTI counts when queued, and latency percentiles are
//! interpolated inside the fixed histogram buckets (Redis uses HDR
//! histograms, so its figures are finer).

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use super::{command_spec, CommandSpec};
use crate::resp::{Args, Ctx, REDIS_COMPAT_VERSION};
use crate::stats::{Protocol, Snapshot};

pub static INFO: CommandSpec = command_spec!("info", -1, Some(info), group: "server", since: "1.0.0",
    summary: "Returns information and statistics about the server.", complexity: "O(1)",
    flags: ["loading", "stale"], acl: ["@slow", "@dangerous"]);

/// Every section in Redis's order, and whether `INFO` / `INFO default`
/// includes it (commandstats and latencystats need `all` or their name).
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("cpu", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("keyspace", true),
];

/// INFO [section ...]; `default` (or no argument) names the default
/// sections, `all` and `everything` every one. Unknown sections are
/// ignored, as in Redis.
fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let named = |word: &[u8]| args.iter_from(1).any(|arg| arg.eq_ignore_ascii_case(word));
    let all = named(b"all") || named(b"everything");
    let default = args.len() == 1 || named(b"default");
    let wanted = |&&(section, in_default): &&(&str, bool)| {
        all || (default && in_default) || named(section.as_bytes())
    };
    let snapshot = Snapshot::take(ctx.shared);
    let mut text = String::new();
    for &(section, _) in SECTIONS.iter().filter(wanted) {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        write_section(ctx, &snapshot, section, &mut text);
    }
    ctx.reply().verbatim(b"txt", text.as_bytes());
}

fn write_section(ctx: &mut Ctx<'_>, snapshot: &Snapshot, section: &str, out: &mut String) {
    let shared = ctx.shared;
    let total = &snapshot.total;
    let sum_disconnects = |kind: usize| -> String {
        total
            .disconnects
            .iter()
            .map(|kinds| kinds[kind])
            .sum::<u64>()
            .to_string()
    };
    let (title, lines): (&str, Vec<(&str, String)>) = match section {
        "server" => {
            let uptime_seconds = shared.started.elapsed().as_secs();
            (
                "Server",
                vec![
                    ("redis_version", REDIS_COMPAT_VERSION.to_string()),
                    ("corewire_version", env!("CARGO_PKG_VERSION").to_string()),
                    ("redis_mode", "standalone".into()),
                    ("os", os_name()),
                    ("arch_bits", usize::BITS.to_string()),
                    ("multiplexing_api", "epoll".into()),
                    ("process_id", std::process::id().to_string()),
                    ("run_id", shared.run_id.clone()),
                    ("tcp_port", shared.resp_port.to_string()),
                    ("server_time_usec", now_micros().to_string()),
                    ("uptime_in_seconds", uptime_seconds.to_string()),
                    ("uptime_in_days", (uptime_seconds / 86_400).to_string()),
                    ("io_threads_active", "0".into()),
                    ("workers", shared.worker_count.to_string()),
                ],
            )
        }
        "clients" => (
            "Clients",
            vec![
                (
                    "connected_clients",
                    shared.connected_clients.load(Relaxed).to_string(),
                ),
                ("maxclients", shared.live.max_clients().to_string()),
                ("blocked_clients", "0".into()),
                ("tracking_clients", "0".into()),
            ],
        ),
        "memory" => (
            "Memory",
            vec![
                ("used_memory_rss", rss_bytes().to_string()),
                ("maxmemory", "0".into()),
                ("maxmemory_policy", "noeviction".into()),
            ],
        ),
        "persistence" => ("Persistence", persistence(shared)),
        "stats" => (
            "Stats",
            vec![
                (
                    "total_connections_received",
                    total.accepted.iter().sum::<u64>().to_string(),
                ),
                (
                    "total_commands_processed",
                    total.commands_processed.to_string(),
                ),
                ("instantaneous_ops_per_sec", total.ops_per_sec.to_string()),
                ("total_net_input_bytes", total.net_input_bytes.to_string()),
                ("total_net_output_bytes", total.net_output_bytes.to_string()),
                (
                    "rejected_connections",
                    total.rejected.iter().sum::<u64>().to_string(),
                ),
                ("expired_keys", total.expired_keys.to_string()),
                ("evicted_keys", "0".into()),
                ("keyspace_hits", total.keyspace_hits.to_string()),
                ("keyspace_misses", total.keyspace_misses.to_string()),
                ("total_error_replies", total.error_replies.to_string()),
                (
                    "client_output_buffer_limit_disconnections",
                    sum_disconnects(crate::stats::Disconnect::OutputLimit as usize),
                ),
                (
                    "client_query_buffer_limit_disconnections",
                    sum_disconnects(crate::stats::Disconnect::QueryLimit as usize),
                ),
                (
                    "protocol_errors",
                    sum_disconnects(crate::stats::Disconnect::ProtocolError as usize),
                ),
                // corewire's own: clients closed by `timeout` /
                // pg-client-idle-timeout-s and by auth-timeout-ms.
                (
                    "idle_timeout_disconnections",
                    sum_disconnects(crate::stats::Disconnect::IdleTimeout as usize),
                ),
                (
                    "auth_timeout_disconnections",
                    sum_disconnects(crate::stats::Disconnect::AuthTimeout as usize),
                ),
                // corewire's own: connections that started TLS (tls-port,
                // PostgreSQL SSLRequest or direct TLS), failed handshakes.
                (
                    "tls_connections_received",
                    total.tls_connections.to_string(),
                ),
                (
                    "tls_handshake_failures",
                    total.tls_handshake_failures.to_string(),
                ),
                // Redis 7.2's ACL counters; failed logins of every
                // protocol count in acl_access_denied_auth, then by
                // protocol, and those the failed-login limiter refused.
                (
                    "acl_access_denied_auth",
                    total.auth_failures.iter().sum::<u64>().to_string(),
                ),
                ("acl_access_denied_cmd", total.acl_denied_cmd.to_string()),
                ("acl_access_denied_key", total.acl_denied_key.to_string()),
                ("acl_access_denied_channel", "0".into()),
                ("auth_failures_resp", total.auth_failures[0].to_string()),
                ("auth_failures_pg", total.auth_failures[1].to_string()),
                ("auth_failures_http", total.auth_failures[2].to_string()),
                (
                    "auth_rate_limited",
                    total.auth_rate_limited.iter().sum::<u64>().to_string(),
                ),
                ("slowlog_entries", total.slowlog_entries.to_string()),
                ("engine_commits", total.engine.commits.to_string()),
                ("engine_conflicts", total.engine.conflicts.to_string()),
                ("engine_aborts", total.engine.aborts.to_string()),
            ],
        ),
        "cpu" => {
            let (user, system) = cpu_seconds();
            (
                "CPU",
                vec![
                    ("used_cpu_sys", format!("{system:.6}")),
                    ("used_cpu_user", format!("{user:.6}")),
                ],
            )
        }
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            for command in snapshot
                .commands
                .iter()
                .filter(|c| is_resp_command(c.name, c.protocol))
            {
                let calls = command.calls - command.rejected;
                let usec = command.time_ns / 1000;
                let per_call = if calls == 0 {
                    0.0
                } else {
                    usec as f64 / calls as f64
                };
                let _ = write!(
                    out,
                    "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                    command.name, command.rejected, command.failed
                );
            }
            return;
        }
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            let mut errors: Vec<_> = snapshot
                .errors
                .iter()
                .filter(|(protocol, kind, _)| {
                    *protocol == Protocol::Resp && !crate::stats::Disconnect::NAMES.contains(kind)
                })
                .collect();
            // Redis lists them in name order (a radix tree).
            errors.sort_by_key(|(_, kind, _)| *kind);
            for (_, kind, count) in errors {
                let _ = write!(out, "errorstat_{kind}:count={count}\r\n");
            }
            return;
        }
        "latencystats" => {
            out.push_str("# Latencystats\r\n");
            for command in snapshot
                .commands
                .iter()
                .filter(|c| is_resp_command(c.name, c.protocol))
            {
                let at = |q: f64| command.latency.quantile_ns(q).unwrap_or(0.0) / 1000.0;
                let _ = write!(
                    out,
                    "latency_percentiles_usec_{}:p50={:.3},p99={:.3},p99.9={:.3}\r\n",
                    command.name,
                    at(0.5),
                    at(0.99),
                    at(0.999)
                );
            }
            return;
        }
        "keyspace" => {
            // Redis lists only non-empty databases.
            out.push_str("# Keyspace\r\n");
            let (worker, _) = ctx.backend.worker();
            for db in 0..shared.databases {
                if let Ok((keys, expires)) = worker.count_with_expiry(db) {
                    if keys > 0 {
                        let _ = write!(out, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
                    }
                }
            }
            return;
        }
        _ => unreachable!("unknown INFO section {section}"),
    };
    // Writing to a String cannot fail.
    let _ = write!(out, "# {title}\r\n");
    for (key, value) in lines {
        let _ = write!(out, "{key}:{value}\r\n");
    }
}

/// The persistence section: Redis 7's fields, in its order, from the
/// engine's durability figures (a checkpoint is both Redis's RDB save and
/// its AOF rewrite; the write-ahead log is its AOF), then corewire's own.
/// Without a data-dir: what Redis shows with persistence off.
fn persistence(shared: &crate::runtime::Shared) -> Vec<(&'static str, String)> {
    // The schedule flag first: it is cleared only once the checkpoint it
    // asked for runs, so the figures read after it never show neither.
    let scheduled = shared
        .storage
        .as_ref()
        .is_some_and(|storage| storage.bgsave_scheduled.load(Relaxed));
    let storage = shared.storage.as_ref().and_then(|storage| storage.info());
    let info = storage.unwrap_or_default();
    let durable = storage.is_some();
    let running = info.checkpoint_running != 0;
    let status = |ok: bool| if ok { "ok" } else { "err" }.to_string();
    let last_save_time = if durable {
        info.last_checkpoint_unix_s
    } else {
        shared.started_unix_s
    };
    let last_duration_s = match info.last_checkpoint_duration_ms {
        ms if ms < 0 || !durable => -1,
        ms => ms / 1000,
    };
    let current_duration_s = if running {
        let now_ms = now_micros() as i64 / 1000;
        (now_ms - info.checkpoint_started_unix_ms).max(0) / 1000
    } else {
        -1
    };
    let checkpoint_ok = !durable || info.last_checkpoint_ok != 0;
    let log_ok = !durable || info.log_ok != 0;
    let flag = |on: bool| u8::from(on).to_string();
    let mut lines = vec![
        ("loading", "0".to_string()),
        ("async_loading", "0".into()),
        ("current_cow_peak", "0".into()),
        ("current_cow_size", "0".into()),
        ("current_cow_size_age", "0".into()),
        ("current_fork_perc", "0.00".into()),
        ("current_save_keys_processed", "0".into()),
        ("current_save_keys_total", "0".into()),
        (
            "rdb_changes_since_last_save",
            info.changes_since_checkpoint.to_string(),
        ),
        ("rdb_bgsave_in_progress", flag(running)),
        ("rdb_last_save_time", last_save_time.to_string()),
        ("rdb_last_bgsave_status", status(checkpoint_ok)),
        ("rdb_last_bgsave_time_sec", last_duration_s.to_string()),
        (
            "rdb_current_bgsave_time_sec",
            current_duration_s.to_string(),
        ),
        ("rdb_saves", info.checkpoints.to_string()),
        ("rdb_last_cow_size", "0".into()),
        ("rdb_last_load_keys_expired", "0".into()),
        ("rdb_last_load_keys_loaded", info.recovered_keys.to_string()),
        ("aof_enabled", flag(durable)),
        ("aof_rewrite_in_progress", flag(running)),
        ("aof_rewrite_scheduled", flag(scheduled)),
        ("aof_last_rewrite_time_sec", last_duration_s.to_string()),
        (
            "aof_current_rewrite_time_sec",
            current_duration_s.to_string(),
        ),
        ("aof_last_bgrewrite_status", status(checkpoint_ok)),
        ("aof_rewrites", info.checkpoints.to_string()),
        ("aof_last_write_status", status(log_ok)),
        ("aof_last_cow_size", "0".into()),
        ("module_fork_in_progress", "0".into()),
        ("module_fork_last_cow_size", "0".into()),
    ];
    if !durable {
        return lines;
    }
    let fsync_policy = crate::engine::FsyncPolicy::from_raw(info.fsync_policy)
        .map_or("unknown", |policy| policy.name());
    lines.extend([
        // Redis shows these only with the AOF on.
        (
            "aof_current_size",
            (info.last_checkpoint_bytes + info.log_bytes).to_string(),
        ),
        ("aof_base_size", info.last_checkpoint_bytes.to_string()),
        ("aof_pending_rewrite", flag(scheduled)),
        ("aof_buffer_length", "0".into()),
        ("aof_pending_bio_fsync", "0".into()),
        ("aof_delayed_fsync", "0".into()),
        // corewire's own.
        ("wal_fsync_policy", fsync_policy.to_string()),
        ("wal_ok", flag(log_ok)),
        ("wal_errno", info.log_errno.to_string()),
        ("wal_bytes", info.log_bytes.to_string()),
        ("wal_bytes_written", info.log_bytes_written.to_string()),
        ("wal_records_written", info.log_records_written.to_string()),
        ("wal_writes", info.log_writes.to_string()),
        ("wal_fsyncs", info.fsyncs.to_string()),
        ("wal_fsync_time_usec", info.fsync_time_us.to_string()),
        ("checkpoint_failures", info.checkpoint_failures.to_string()),
        (
            "last_checkpoint_keys",
            info.last_checkpoint_keys.to_string(),
        ),
        ("recovery_ms", info.recovery_ms.to_string()),
        ("recovery_records", info.recovered_records.to_string()),
        ("recovery_bytes", info.recovered_bytes.to_string()),
        ("recovery_keys", info.recovered_keys.to_string()),
        (
            "recovery_dropped_records",
            info.recovery_dropped_records.to_string(),
        ),
    ]);
    lines
}

/// A RESP command that ran at least once or was refused (Redis shows no
/// line for unknown commands).
fn is_resp_command(name: &str, protocol: Protocol) -> bool {
    protocol == Protocol::Resp && name != super::UNKNOWN_COMMAND
}

fn now_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

fn os_name() -> String {
    // SAFETY: utsname is plain data; uname fills it or fails.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: name is a valid, writable utsname.
    if unsafe { libc::uname(&mut name) } != 0 {
        return "Linux".into();
    }
    let field = |raw: &[libc::c_char]| {
        let bytes: Vec<u8> = raw
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&name.sysname),
        field(&name.release),
        field(&name.machine)
    )
}

/// Resident set size from /proc/self/statm (pages -> bytes).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page_bytes = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
    pages * page_bytes
}

/// (user, system) CPU seconds of the whole process.
fn cpu_seconds() -> (f64, f64) {
    // SAFETY: rusage is plain data that getrusage fills.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: usage is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (seconds(usage.ru_utime), seconds(usage.ru_stime))
}
