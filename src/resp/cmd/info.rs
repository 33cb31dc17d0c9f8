//! INFO: server, clients, memory, stats, cpu and keyspace sections, with
//! process-wide numbers summed over every worker.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use super::{command_spec, CommandSpec};
use crate::resp::{Args, Ctx, REDIS_COMPAT_VERSION};
use crate::stats::{total, Counter, WorkerStats};

pub static INFO: CommandSpec = command_spec!("info", -1, Some(info), group: "server", since: "1.0.0",
    summary: "Returns information and statistics about the server.", complexity: "O(1)",
    flags: ["loading", "stale"], acl: ["@slow", "@dangerous"]);

const SECTIONS: &[&str] = &["server", "clients", "memory", "stats", "cpu", "keyspace"];

/// INFO [section ...]; `all`, `everything` and `default` name every section.
/// Unknown sections are ignored, as in Redis.
fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let wanted = |section: &str| {
        args.len() == 1
            || args.iter_from(1).any(|arg| {
                arg.eq_ignore_ascii_case(section.as_bytes())
                    || [&b"all"[..], b"everything", b"default"]
                        .iter()
                        .any(|all| arg.eq_ignore_ascii_case(all))
            })
    };
    let mut text = String::new();
    for &section in SECTIONS.iter().filter(|s| wanted(s)) {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        write_section(ctx, section, &mut text);
    }
    ctx.reply().verbatim(b"txt", text.as_bytes());
}

fn write_section(ctx: &mut Ctx<'_>, section: &str, out: &mut String) {
    let shared = ctx.shared;
    let stats: &[WorkerStats] = &shared.stats;
    let sum = |field: fn(&WorkerStats) -> &Counter| total(stats, field).to_string();
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
        "stats" => (
            "Stats",
            vec![
                (
                    "total_connections_received",
                    sum(|w| &w.connections_received),
                ),
                ("total_commands_processed", sum(|w| &w.commands_processed)),
                (
                    "instantaneous_ops_per_sec",
                    shared.ops_rate.lock().per_sec().to_string(),
                ),
                ("total_net_input_bytes", sum(|w| &w.net_input_bytes)),
                ("total_net_output_bytes", sum(|w| &w.net_output_bytes)),
                ("rejected_connections", sum(|w| &w.connections_rejected)),
                ("expired_keys", sum(|w| &w.expired_keys)),
                ("evicted_keys", "0".into()),
                ("keyspace_hits", sum(|w| &w.keyspace_hits)),
                ("keyspace_misses", sum(|w| &w.keyspace_misses)),
                ("total_error_replies", sum(|w| &w.error_replies)),
                (
                    "client_output_buffer_limit_disconnections",
                    sum(|w| &w.output_limit_disconnects),
                ),
                (
                    "client_query_buffer_limit_disconnections",
                    sum(|w| &w.query_limit_disconnects),
                ),
                ("protocol_errors", sum(|w| &w.protocol_errors)),
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
