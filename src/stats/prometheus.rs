//! `/metrics`: the Prometheus text exposition format (version 0.0.4).
//!
//! Families and labels (every family has HELP and TYPE lines, even with
//! no series; series whose value is zero are left out only where a label
//! names a command or an error kind):
//! - `corewire_up`, `corewire_uptime_seconds`, `corewire_workers`,
//!   `corewire_ops_per_second` (gauges);
//! - `corewire_connections{protocol,state}` (gauge; RESP: idle,
//!   in_transaction; PostgreSQL: authenticating, idle, in_transaction;
//!   HTTP: idle);
//! - `corewire_connections_accepted_total{protocol}`,
//!   `corewire_connections_rejected_total{protocol}`;
//! - `corewire_commands_total{protocol,command}` (see `crate::stats` for
//!   what a command is), `corewire_errors_total{protocol,kind}`;
//! - `corewire_net_input_bytes_total{protocol}`,
//!   `corewire_net_output_bytes_total{protocol}`;
//! - `corewire_request_duration_seconds{protocol}` (histogram);
//! - `corewire_engine_commits_total`, `corewire_engine_conflicts_total`,
//!   `corewire_engine_aborts_total`;
//! - with a data-dir only: `corewire_wal_bytes_written_total`,
//!   `corewire_wal_records_written_total`, `corewire_wal_fsyncs_total`,
//!   `corewire_wal_fsync_seconds_total`, `corewire_wal_ok` (gauge),
//!   `corewire_checkpoints_total`, `corewire_checkpoint_failures_total`,
//!   `corewire_last_checkpoint_timestamp_seconds`,
//!   `corewire_recovery_seconds` (gauges);
//! - `corewire_pg_transactions_total`, `corewire_pg_transaction_seconds_total`;
//! - `corewire_keyspace_hits_total`, `corewire_keyspace_misses_total`,
//!   `corewire_expired_keys_total`, `corewire_slowlog_entries_total`;
//! - `corewire_auth_failures_total{protocol}`,
//!   `corewire_auth_rate_limited_total{protocol}`,
//!   `corewire_acl_denied_total{reason}` (command, key);
//! - `corewire_tls_connections_total`, `corewire_tls_handshake_failures_total`;
//! - per worker: `corewire_worker_connections{worker,protocol}`,
//!   `corewire_worker_commands_total{worker,protocol}`,
//!   `corewire_worker_net_input_bytes_total{worker}`,
//!   `corewire_worker_net_output_bytes_total{worker}`, and
//!   `corewire_worker_request_duration_seconds{worker,protocol}` as a
//!   summary without quantiles (`_sum` and `_count` only: the buckets are
//!   in the process-wide histogram).

use std::fmt::Write;

use super::histogram::{format_seconds, le_label, BUCKETS};
use super::{ConnState, Protocol, Snapshot};
use crate::runtime::Shared;

/// The whole exposition, every worker summed on read.
pub fn prometheus_text(shared: &Shared) -> String {
    render(&Snapshot::take(shared))
}

/// A label value escaped as the text format requires.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = write!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
    }

    /// One sample; `labels` are (name, value) pairs, values escaped here.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{label}=\"{}\"", escape(text));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn single(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

fn render(snapshot: &Snapshot) -> String {
    let total = &snapshot.total;
    let mut out = Out(String::with_capacity(16 * 1024));
    out.single(
        "corewire_up",
        "gauge",
        "Whether corewire is up (1 whenever it answers).",
        1,
    );
    out.single(
        "corewire_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        snapshot.uptime_seconds,
    );
    out.single(
        "corewire_workers",
        "gauge",
        "Worker threads, each pinned to a core.",
        snapshot.workers.len(),
    );
    out.single(
        "corewire_ops_per_second",
        "gauge",
        "Commands per second over the last 1.6 seconds, all protocols.",
        total.ops_per_sec,
    );

    out.family(
        "corewire_connections",
        "gauge",
        "Open client connections by protocol and state.",
    );
    for protocol in Protocol::ALL {
        for state in ConnState::ALL.into_iter().filter(|s| s.valid_for(protocol)) {
            out.sample(
                "corewire_connections",
                &[("protocol", protocol.name()), ("state", state.name())],
                total.connections[protocol as usize][state as usize],
            );
        }
    }
    let per_protocol = |out: &mut Out, name: &str, help: &str, values: &[u64; 3]| {
        out.family(name, "counter", help);
        for protocol in Protocol::ALL {
            out.sample(
                name,
                &[("protocol", protocol.name())],
                values[protocol as usize],
            );
        }
    };
    per_protocol(
        &mut out,
        "corewire_connections_accepted_total",
        "Connections accepted, by protocol.",
        &total.accepted,
    );
    per_protocol(
        &mut out,
        "corewire_connections_rejected_total",
        "Connections refused over maxclients, by protocol.",
        &total.rejected,
    );

    out.family(
        "corewire_commands_total",
        "counter",
        "Commands by protocol and command: RESP requests, PostgreSQL statements, HTTP requests.",
    );
    for command in &snapshot.commands {
        out.sample(
            "corewire_commands_total",
            &[
                ("protocol", command.protocol.name()),
                ("command", command.name),
            ],
            command.calls,
        );
    }
    out.family(
        "corewire_errors_total",
        "counter",
        "Errors by protocol and kind: RESP error prefixes, SQLSTATEs, HTTP statuses, and disconnects.",
    );
    for (protocol, kind, count) in &snapshot.errors {
        out.sample(
            "corewire_errors_total",
            &[("protocol", protocol.name()), ("kind", kind)],
            count,
        );
    }
    per_protocol(
        &mut out,
        "corewire_net_input_bytes_total",
        "Bytes read from clients, by protocol.",
        &total.input_bytes,
    );
    per_protocol(
        &mut out,
        "corewire_net_output_bytes_total",
        "Bytes written to clients, by protocol.",
        &total.output_bytes,
    );

    let name = "corewire_request_duration_seconds";
    out.family(
        name,
        "histogram",
        "Time to run a command, from its arrival (or the previous command's end) to its reply.",
    );
    for protocol in Protocol::ALL {
        let p = protocol as usize;
        let cumulative = total.latency[p].cumulative();
        for (bucket, count) in cumulative.iter().enumerate() {
            out.sample(
                &format!("{name}_bucket"),
                &[("protocol", protocol.name()), ("le", &le_label(bucket))],
                count,
            );
        }
        out.sample(
            &format!("{name}_sum"),
            &[("protocol", protocol.name())],
            format_seconds(total.latency_ns[p]),
        );
        out.sample(
            &format!("{name}_count"),
            &[("protocol", protocol.name())],
            cumulative[BUCKETS - 1],
        );
    }

    out.single(
        "corewire_engine_commits_total",
        "counter",
        "Engine transactions committed and single-call writes applied.",
        total.engine.commits,
    );
    out.single(
        "corewire_engine_conflicts_total",
        "counter",
        "Engine commits refused on a conflict (each retry counts).",
        total.engine.conflicts,
    );
    out.single(
        "corewire_engine_aborts_total",
        "counter",
        "Engine transactions dropped without a commit.",
        total.engine.aborts,
    );
    if let Some(info) = &snapshot.storage {
        durability(&mut out, info);
    }
    // Upstream pooling (pool states) goes here once it exists.
    out.single(
        "corewire_pg_transactions_total",
        "counter",
        "PostgreSQL transactions ended (an autocommit statement is one).",
        total.pg_transactions,
    );
    out.single(
        "corewire_pg_transaction_seconds_total",
        "counter",
        "Time PostgreSQL transactions were open.",
        format_seconds(total.pg_transaction_time_ns),
    );
    out.single(
        "corewire_keyspace_hits_total",
        "counter",
        "Key lookups that found the key.",
        total.keyspace_hits,
    );
    out.single(
        "corewire_keyspace_misses_total",
        "counter",
        "Key lookups that missed.",
        total.keyspace_misses,
    );
    out.single(
        "corewire_expired_keys_total",
        "counter",
        "Keys the active expiry cycle reclaimed.",
        total.expired_keys,
    );
    out.single(
        "corewire_tls_connections_total",
        "counter",
        "Connections that started TLS: the TLS port, PostgreSQL SSLRequest and direct TLS.",
        total.tls_connections,
    );
    out.single(
        "corewire_tls_handshake_failures_total",
        "counter",
        "TLS handshakes that failed (bad or missing client certificate, protocol errors).",
        total.tls_handshake_failures,
    );
    out.single(
        "corewire_slowlog_entries_total",
        "counter",
        "Requests that entered the slow log.",
        total.slowlog_entries,
    );
    per_protocol(
        &mut out,
        "corewire_auth_failures_total",
        "Failed logins by protocol: wrong user or password, a disabled user, or refused by the failed-login limiter.",
        &total.auth_failures,
    );
    per_protocol(
        &mut out,
        "corewire_auth_rate_limited_total",
        "Logins refused because their address failed too often (auth-failure-limit).",
        &total.auth_rate_limited,
    );
    out.family(
        "corewire_acl_denied_total",
        "counter",
        "RESP requests refused by ACL rules, by reason (command, key).",
    );
    out.sample(
        "corewire_acl_denied_total",
        &[("reason", "command")],
        total.acl_denied_cmd,
    );
    out.sample(
        "corewire_acl_denied_total",
        &[("reason", "key")],
        total.acl_denied_key,
    );

    out.family(
        "corewire_worker_connections",
        "gauge",
        "Open client connections per worker and protocol.",
    );
    for (id, worker) in snapshot.workers.iter().enumerate() {
        let id = id.to_string();
        for protocol in Protocol::ALL {
            out.sample(
                "corewire_worker_connections",
                &[("worker", &id), ("protocol", protocol.name())],
                worker.open(protocol),
            );
        }
    }
    out.family(
        "corewire_worker_commands_total",
        "counter",
        "Commands per worker and protocol.",
    );
    for (id, worker) in snapshot.workers.iter().enumerate() {
        let id = id.to_string();
        for protocol in Protocol::ALL {
            out.sample(
                "corewire_worker_commands_total",
                &[("worker", &id), ("protocol", protocol.name())],
                worker.commands[protocol as usize],
            );
        }
    }
    for (name, help, input) in [
        (
            "corewire_worker_net_input_bytes_total",
            "Bytes read from clients per worker.",
            true,
        ),
        (
            "corewire_worker_net_output_bytes_total",
            "Bytes written to clients per worker.",
            false,
        ),
    ] {
        out.family(name, "counter", help);
        for (id, worker) in snapshot.workers.iter().enumerate() {
            let value = if input {
                worker.net_input_bytes
            } else {
                worker.net_output_bytes
            };
            out.sample(name, &[("worker", &id.to_string())], value);
        }
    }
    let name = "corewire_worker_request_duration_seconds";
    out.family(
        name,
        "summary",
        "Time to run commands per worker and protocol (buckets: corewire_request_duration_seconds).",
    );
    for (id, worker) in snapshot.workers.iter().enumerate() {
        let id = id.to_string();
        for protocol in Protocol::ALL {
            let p = protocol as usize;
            let labels = [("worker", id.as_str()), ("protocol", protocol.name())];
            out.sample(
                &format!("{name}_sum"),
                &labels,
                format_seconds(worker.latency_ns[p]),
            );
            out.sample(&format!("{name}_count"), &labels, worker.latency[p].count());
        }
    }
    out.0
}

/// The write-ahead log and checkpoint families (only with a data-dir).
fn durability(out: &mut Out, info: &crate::engine::StorageInfo) {
    out.single(
        "corewire_wal_bytes_written_total",
        "counter",
        "Bytes written to the write-ahead logs since start.",
        info.log_bytes_written,
    );
    out.single(
        "corewire_wal_records_written_total",
        "counter",
        "Redo records written to the write-ahead logs since start.",
        info.log_records_written,
    );
    out.single(
        "corewire_wal_fsyncs_total",
        "counter",
        "fsyncs of write-ahead log files since start.",
        info.fsyncs,
    );
    out.single(
        "corewire_wal_fsync_seconds_total",
        "counter",
        "Time spent in those fsyncs.",
        format_seconds(info.fsync_time_us.saturating_mul(1000)),
    );
    out.single(
        "corewire_wal_ok",
        "gauge",
        "1 while the write-ahead log can be written; 0 after a failed write or fsync (writes are refused).",
        u8::from(info.log_ok != 0),
    );
    out.single(
        "corewire_checkpoints_total",
        "counter",
        "Checkpoints completed since start.",
        info.checkpoints,
    );
    out.single(
        "corewire_checkpoint_failures_total",
        "counter",
        "Checkpoints that failed since start.",
        info.checkpoint_failures,
    );
    out.single(
        "corewire_last_checkpoint_timestamp_seconds",
        "gauge",
        "Unix time of the last good checkpoint (or of the end of recovery).",
        info.last_checkpoint_unix_s,
    );
    out.single(
        "corewire_recovery_seconds",
        "gauge",
        "How long recovery took at startup.",
        format_seconds(info.recovery_ms.saturating_mul(1_000_000)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("x\ny"), "x\\ny");
        let mut out = Out(String::new());
        out.sample("m", &[("kind", "a\"b")], 3);
        assert_eq!(out.0, "m{kind=\"a\\\"b\"} 3\n");
    }
}
