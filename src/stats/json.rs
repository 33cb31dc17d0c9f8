//! `/stats`: the figures of `/metrics` as one JSON object (the status
//! page reads it).
//!
//! ```text
//! {"uptime_seconds":N,
//!  "workers":[{"id":0,"connections":{"resp":N,"pg":N,"http":N},
//!              "commands_total":N,"ops_per_sec":N,
//!              "net_input_bytes":N,"net_output_bytes":N}, ...],
//!  "total":{ the same fields, and
//!    "connection_states":{"resp":{"idle":N,"in_transaction":N},
//!                         "pg":{"authenticating":N,...},"http":{"idle":N}},
//!    "connections_accepted":{"resp":N,...},"connections_rejected":{...},
//!    "commands":{"resp":{"get":N,...},"pg":{"select":N,...},"http":{...}},
//!    "errors":{"resp":{"ERR":N,...},"pg":{"42601":N},"http":{"404":N}},
//!    "net_input":{"resp":N,"pg":N,"http":N},"net_output":{...},
//!    "latency":{"resp":{"count":N,"sum_seconds":F,"p50_us":F,"p99_us":F,
//!               "p999_us":F,"buckets":{"0.000001":N,...,"+Inf":N}},...},
//!    "engine":{"commits":N,"conflicts":N,"aborts":N},
//!    "pg_transactions":N,"keyspace_hits":N,"keyspace_misses":N,
//!    "expired_keys":N,"slowlog_entries":N,
//!    "auth_failures":{"resp":N,"pg":N,"http":N},"auth_rate_limited":{...},
//!    "acl_denied":{"command":N,"key":N}},
//!  "durability":{"wal_ok":bool,"wal_bytes_written":N,"wal_fsyncs":N,
//!    "checkpoints":N,"last_checkpoint_timestamp_seconds":N,
//!    "recovery_seconds":F, ...}}
//! ```
//! `durability` is there only with a data-dir.
//! `commands_total` is every protocol's commands; `latency` buckets are
//! cumulative (`le`, seconds) and percentiles are interpolated inside
//! them; `p50_us` and friends are null before the first command.

use serde_json::{json, Map, Value};

use super::histogram::le_label;
use super::{ConnState, Figures, Protocol, Snapshot};
use crate::runtime::Shared;

/// The whole document, every worker summed on read.
pub fn json_text(shared: &Shared) -> String {
    render(&Snapshot::take(shared)).to_string()
}

fn by_protocol(values: &[u64; 3]) -> Value {
    let mut map = Map::new();
    for protocol in Protocol::ALL {
        map.insert(protocol.name().into(), values[protocol as usize].into());
    }
    Value::Object(map)
}

/// The fields every worker and the total have.
fn common(figures: &Figures) -> Map<String, Value> {
    let open = [
        figures.open(Protocol::Resp),
        figures.open(Protocol::Pg),
        figures.open(Protocol::Http),
    ];
    let mut map = Map::new();
    map.insert("connections".into(), by_protocol(&open));
    map.insert("commands_total".into(), figures.commands_processed.into());
    map.insert("ops_per_sec".into(), figures.ops_per_sec.into());
    map.insert("net_input_bytes".into(), figures.net_input_bytes.into());
    map.insert("net_output_bytes".into(), figures.net_output_bytes.into());
    map
}

fn render(snapshot: &Snapshot) -> Value {
    let workers: Vec<Value> = snapshot
        .workers
        .iter()
        .enumerate()
        .map(|(id, figures)| {
            let mut map = Map::new();
            map.insert("id".into(), id.into());
            map.extend(common(figures));
            Value::Object(map)
        })
        .collect();
    let total = &snapshot.total;
    let mut map = common(total);

    let mut states = Map::new();
    for protocol in Protocol::ALL {
        let mut by_state = Map::new();
        for state in ConnState::ALL.into_iter().filter(|s| s.valid_for(protocol)) {
            by_state.insert(
                state.name().into(),
                total.connections[protocol as usize][state as usize].into(),
            );
        }
        states.insert(protocol.name().into(), Value::Object(by_state));
    }
    map.insert("connection_states".into(), Value::Object(states));
    map.insert("connections_accepted".into(), by_protocol(&total.accepted));
    map.insert("connections_rejected".into(), by_protocol(&total.rejected));

    let mut commands: Map<String, Value> = Protocol::ALL
        .iter()
        .map(|p| (p.name().to_string(), Value::Object(Map::new())))
        .collect();
    for command in &snapshot.commands {
        if let Some(Value::Object(of)) = commands.get_mut(command.protocol.name()) {
            of.insert(command.name.into(), command.calls.into());
        }
    }
    map.insert("commands".into(), Value::Object(commands));
    let mut errors: Map<String, Value> = Protocol::ALL
        .iter()
        .map(|p| (p.name().to_string(), Value::Object(Map::new())))
        .collect();
    for (protocol, kind, count) in &snapshot.errors {
        if let Some(Value::Object(of)) = errors.get_mut(protocol.name()) {
            of.insert((*kind).into(), (*count).into());
        }
    }
    map.insert("errors".into(), Value::Object(errors));
    map.insert("net_input".into(), by_protocol(&total.input_bytes));
    map.insert("net_output".into(), by_protocol(&total.output_bytes));

    let mut latency = Map::new();
    for protocol in Protocol::ALL {
        let p = protocol as usize;
        let histogram = &total.latency[p];
        let mut buckets = Map::new();
        for (bucket, count) in histogram.cumulative().iter().enumerate() {
            buckets.insert(le_label(bucket), (*count).into());
        }
        let quantile_us = |q: f64| histogram.quantile_ns(q).map(|ns| ns / 1000.0);
        latency.insert(
            protocol.name().into(),
            json!({
                "count": histogram.count(),
                "sum_seconds": total.latency_ns[p] as f64 / 1e9,
                "p50_us": quantile_us(0.5),
                "p99_us": quantile_us(0.99),
                "p999_us": quantile_us(0.999),
                "buckets": buckets,
            }),
        );
    }
    map.insert("latency".into(), Value::Object(latency));
    map.insert(
        "engine".into(),
        json!({
            "commits": total.engine.commits,
            "conflicts": total.engine.conflicts,
            "aborts": total.engine.aborts,
        }),
    );
    map.insert("pg_transactions".into(), total.pg_transactions.into());
    map.insert("keyspace_hits".into(), total.keyspace_hits.into());
    map.insert("keyspace_misses".into(), total.keyspace_misses.into());
    map.insert("expired_keys".into(), total.expired_keys.into());
    map.insert("slowlog_entries".into(), total.slowlog_entries.into());
    map.insert("auth_failures".into(), by_protocol(&total.auth_failures));
    map.insert(
        "auth_rate_limited".into(),
        by_protocol(&total.auth_rate_limited),
    );
    map.insert(
        "acl_denied".into(),
        json!({"command": total.acl_denied_cmd, "key": total.acl_denied_key}),
    );

    let mut document = json!({
        "uptime_seconds": snapshot.uptime_seconds,
        "workers": workers,
        "total": Value::Object(map),
    });
    if let Some(info) = &snapshot.storage {
        document["durability"] = json!({
            "wal_ok": info.log_ok != 0,
            "wal_errno": info.log_errno,
            "wal_bytes": info.log_bytes,
            "wal_bytes_written": info.log_bytes_written,
            "wal_records_written": info.log_records_written,
            "wal_writes": info.log_writes,
            "wal_fsyncs": info.fsyncs,
            "wal_fsync_seconds": info.fsync_time_us as f64 / 1e6,
            "fsync_policy": crate::engine::FsyncPolicy::from_raw(info.fsync_policy)
                .map(|policy| policy.name()),
            "checkpoint_running": info.checkpoint_running != 0,
            "checkpoints": info.checkpoints,
            "checkpoint_failures": info.checkpoint_failures,
            "last_checkpoint_ok": info.last_checkpoint_ok != 0,
            "last_checkpoint_timestamp_seconds": info.last_checkpoint_unix_s,
            "last_checkpoint_keys": info.last_checkpoint_keys,
            "last_checkpoint_bytes": info.last_checkpoint_bytes,
            "changes_since_checkpoint": info.changes_since_checkpoint,
            "recovery_seconds": info.recovery_ms as f64 / 1e3,
            "recovery_records": info.recovered_records,
            "recovery_keys": info.recovered_keys,
            "recovery_dropped_records": info.recovery_dropped_records,
        });
    }
    document
}
