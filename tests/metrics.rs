//! Metrics, INFO and the slow log against the real server and engine:
//! known traffic from the `redis` and `postgres` crates (and raw sockets
//! where bytes matter), then the counters read back exactly from
//! `prometheus_text`, `json_text`, INFO and SLOWLOG. No wall-clock
//! thresholds: a wait loop only waits for the server to notice a
//! connection open or close.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{exchange, TestServer};
use corewire::stats::{json_text, prometheus_text};

/// One parsed exposition: samples by name and label set, and the TYPE
/// of every family.
struct Metrics {
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
    types: BTreeMap<String, String>,
    helps: Vec<String>,
    text: String,
}

impl Metrics {
    fn read(server: &TestServer) -> Metrics {
        Metrics::parse(&prometheus_text(server.server().shared()))
    }

    fn parse(text: &str) -> Metrics {
        let mut samples = Vec::new();
        let mut types = BTreeMap::new();
        let mut helps = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                assert!(
                    types.insert(name.to_string(), kind.to_string()).is_none(),
                    "TYPE {name} twice"
                );
                continue;
            }
            if let Some(rest) = line.strip_prefix("# HELP ") {
                helps.push(rest.split(' ').next().unwrap().to_string());
                continue;
            }
            assert!(!line.starts_with('#'), "stray comment {line:?}");
            let (series, value) = line.rsplit_once(' ').expect("series value");
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("value in {line:?}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, parse_labels(labels.strip_suffix('}').unwrap())),
                None => (series, BTreeMap::new()),
            };
            samples.push((name.to_string(), labels, value));
        }
        Metrics {
            samples,
            types,
            helps,
            text: text.to_string(),
        }
    }

    /// The sample with exactly these labels.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found: Vec<f64> = self
            .samples
            .iter()
            .filter(|(n, l, _)| n == name && *l == wanted)
            .map(|s| s.2)
            .collect();
        assert!(found.len() <= 1, "{name} {labels:?} appears twice");
        found.first().copied()
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{}", self.text))
    }

    /// Sum over samples of `name` whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.2)
            .sum()
    }

    fn command(&self, protocol: &str, command: &str) -> f64 {
        self.get(
            "corewire_commands_total",
            &[("protocol", protocol), ("command", command)],
        )
        .unwrap_or(0.0)
    }

    fn error(&self, protocol: &str, kind: &str) -> f64 {
        self.get(
            "corewire_errors_total",
            &[("protocol", protocol), ("kind", kind)],
        )
        .unwrap_or(0.0)
    }

    fn connections(&self, protocol: &str, state: &str) -> f64 {
        self.value(
            "corewire_connections",
            &[("protocol", protocol), ("state", state)],
        )
    }

    /// Checks a protocol's histogram: cumulative buckets never decrease,
    /// +Inf equals _count, and _count is the protocol's commands.
    fn check_histogram(&self, protocol: &str) {
        let name = "corewire_request_duration_seconds";
        let mut buckets: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == &format!("{name}_bucket")
                    && l.get("protocol").map(String::as_str) == Some(protocol)
            })
            .map(|(_, l, v)| {
                let le = &l["le"];
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                (bound, *v)
            })
            .collect();
        assert!(buckets.len() > 10, "{protocol}: {buckets:?}");
        buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{protocol} buckets decrease: {buckets:?}"
        );
        let count = self.value(&format!("{name}_count"), &[("protocol", protocol)]);
        assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, count));
        let commands = self.sum("corewire_commands_total", &[("protocol", protocol)]);
        assert_eq!(count, commands, "{protocol}: _count is the commands");
        let sum = self.value(&format!("{name}_sum"), &[("protocol", protocol)]);
        assert!(sum >= 0.0 && (count > 0.0 || sum == 0.0));
    }
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        loop {
            match chars.next().expect("closing quote") {
                '"' => break,
                '\\' => match chars.next().unwrap() {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        }
        labels.insert(name, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

/// Polls until `done` holds (the server closes and registers connections
/// on its own threads); a failure guard, not a timing check.
fn wait_until(server: &TestServer, what: &str, done: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = Metrics::read(server);
        if done(&metrics) {
            return metrics;
        }
        assert!(Instant::now() < deadline, "{what}:\n{}", metrics.text);
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn info(con: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(con).unwrap()
}

fn info_field<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// The families every exposition has, with their TYPE.
const FAMILIES: &[(&str, &str)] = &[
    ("corewire_up", "gauge"),
    ("corewire_uptime_seconds", "gauge"),
    ("corewire_workers", "gauge"),
    ("corewire_connections", "gauge"),
    ("corewire_connections_accepted_total", "counter"),
    ("corewire_connections_rejected_total", "counter"),
    ("corewire_commands_total", "counter"),
    ("corewire_errors_total", "counter"),
    ("corewire_net_input_bytes_total", "counter"),
    ("corewire_net_output_bytes_total", "counter"),
    ("corewire_request_duration_seconds", "histogram"),
    ("corewire_engine_commits_total", "counter"),
    ("corewire_engine_conflicts_total", "counter"),
    ("corewire_engine_aborts_total", "counter"),
    ("corewire_keyspace_hits_total", "counter"),
    ("corewire_keyspace_misses_total", "counter"),
    ("corewire_expired_keys_total", "counter"),
    ("corewire_slowlog_entries_total", "counter"),
    ("corewire_worker_connections", "gauge"),
    ("corewire_worker_commands_total", "counter"),
    ("corewire_worker_net_input_bytes_total", "counter"),
    ("corewire_worker_net_output_bytes_total", "counter"),
    ("corewire_worker_request_duration_seconds", "summary"),
];

#[test]
fn known_traffic_is_counted_exactly() {
    let server = TestServer::start();
    let fresh = Metrics::read(&server);
    for (family, kind) in FAMILIES {
        assert_eq!(
            fresh.types.get(*family).map(String::as_str),
            Some(*kind),
            "{family}"
        );
        assert!(fresh.helps.iter().any(|h| h == family), "HELP {family}");
    }
    assert_eq!(fresh.value("corewire_up", &[]), 1.0);
    assert_eq!(fresh.value("corewire_workers", &[]), 2.0);
    assert_eq!(fresh.command("resp", "set"), 0.0);
    for protocol in ["resp", "pg", "http"] {
        fresh.check_histogram(protocol);
    }

    let mut con = server.client();
    for i in 0..7 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query(&mut con)
            .unwrap();
    }
    for i in 0..5 {
        let value: String = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(value, i.to_string());
    }
    for name in ["NOSUCH", "nosuch2", "FOO"] {
        assert!(redis::cmd(name).arg("x").query::<()>(&mut con).is_err());
    }
    let mut pg = server.pg_client();
    for _ in 0..2 {
        let rows = pg
            .query("SELECT value FROM kv WHERE key = $1", &[&"k1"])
            .unwrap();
        assert_eq!(rows[0].get::<_, String>(0), "1");
    }
    let error = pg.batch_execute("SELEC 1").unwrap_err();
    assert_eq!(error.code().unwrap().code(), "42601");

    let metrics = Metrics::read(&server);
    assert_eq!(metrics.command("resp", "set"), 7.0);
    assert_eq!(metrics.command("resp", "get"), 5.0);
    assert_eq!(metrics.command("resp", "unknown"), 3.0);
    assert_eq!(metrics.error("resp", "ERR"), 3.0);
    assert_eq!(metrics.command("pg", "select"), 2.0);
    assert_eq!(metrics.error("pg", "42601"), 1.0);
    assert_eq!(
        metrics.sum("corewire_errors_total", &[("protocol", "pg")]),
        1.0
    );
    assert_eq!(metrics.value("corewire_keyspace_hits_total", &[]), 5.0);
    assert_eq!(metrics.value("corewire_keyspace_misses_total", &[]), 0.0);
    // Seven SETs, each a single-call write; no transaction ran.
    assert_eq!(metrics.value("corewire_engine_commits_total", &[]), 7.0);
    assert_eq!(metrics.value("corewire_engine_conflicts_total", &[]), 0.0);
    assert_eq!(metrics.value("corewire_engine_aborts_total", &[]), 0.0);
    for (protocol, open) in [("resp", 1.0), ("pg", 1.0), ("http", 0.0)] {
        let accepted = [("protocol", protocol)];
        assert_eq!(
            metrics.value("corewire_connections_accepted_total", &accepted),
            open
        );
        assert_eq!(
            metrics.value("corewire_connections_rejected_total", &accepted),
            0.0
        );
        assert_eq!(metrics.connections(protocol, "idle"), open);
        assert_eq!(metrics.connections(protocol, "idle"), open);
        assert_eq!(metrics.sum("corewire_worker_connections", &accepted), open);
        metrics.check_histogram(protocol);
        // Per worker, the same commands and latency counts.
        assert_eq!(
            metrics.sum("corewire_worker_commands_total", &accepted),
            metrics.sum("corewire_commands_total", &accepted)
        );
        assert_eq!(
            metrics.sum("corewire_worker_request_duration_seconds_count", &accepted),
            metrics.sum("corewire_commands_total", &accepted)
        );
    }
    assert_eq!(metrics.connections("pg", "authenticating"), 0.0);
    assert!(metrics.value("corewire_net_input_bytes_total", &[("protocol", "resp")]) > 0.0);
    assert!(metrics.value("corewire_net_output_bytes_total", &[("protocol", "pg")]) > 0.0);
    assert_eq!(
        metrics.sum("corewire_worker_net_input_bytes_total", &[]),
        metrics.sum("corewire_net_input_bytes_total", &[])
    );
    // Zero series are left out where a label names a command or a kind.
    assert_eq!(
        metrics.get(
            "corewire_commands_total",
            &[("protocol", "resp"), ("command", "incr")]
        ),
        None
    );

    // INFO reads the same counters (and does not count itself).
    let all_commands = metrics.sum("corewire_commands_total", &[]);
    let stats = info(&mut con, "stats");
    assert_eq!(
        info_field(&stats, "total_commands_processed"),
        all_commands.to_string()
    );
    assert_eq!(info_field(&stats, "total_error_replies"), "3");
    assert_eq!(info_field(&stats, "keyspace_hits"), "5");
    assert_eq!(info_field(&stats, "total_connections_received"), "2");
    let commandstats = info(&mut con, "commandstats");
    assert!(
        commandstats.starts_with("# Commandstats\r\n"),
        "{commandstats}"
    );
    let set = info_field(&commandstats, "cmdstat_set");
    assert!(set.starts_with("calls=7,usec="), "{set}");
    assert!(set.ends_with(",rejected_calls=0,failed_calls=0"), "{set}");
    let per_call = set
        .split("usec_per_call=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    assert_eq!(per_call.split('.').nth(1).map(str::len), Some(2), "{set}");
    assert!(info_field(&commandstats, "cmdstat_get").starts_with("calls=5,"));
    assert!(info_field(&commandstats, "cmdstat_info").starts_with("calls=1,"));
    assert!(!commandstats.contains("unknown"), "{commandstats}");
    assert_eq!(
        info(&mut con, "errorstats"),
        "# Errorstats\r\nerrorstat_ERR:count=3\r\n"
    );
    let latency = info(&mut con, "latencystats");
    let line = info_field(&latency, "latency_percentiles_usec_set");
    assert!(
        line.starts_with("p50=") && line.contains(",p99=") && line.contains(",p99.9="),
        "{line}"
    );
    // The default sections leave commandstats and latencystats out.
    let default = info(&mut con, "default");
    assert!(default.contains("# Errorstats\r\n") && !default.contains("# Commandstats"));

    // /stats: the same figures as JSON.
    let json: serde_json::Value =
        serde_json::from_str(&json_text(server.server().shared())).unwrap();
    let total = &json["total"];
    assert_eq!(total["commands"]["resp"]["set"], 7);
    assert_eq!(total["commands"]["resp"]["get"], 5);
    assert_eq!(total["commands"]["pg"]["select"], 2);
    assert_eq!(total["errors"]["resp"]["ERR"], 3);
    assert_eq!(total["errors"]["pg"]["42601"], 1);
    assert_eq!(total["engine"]["commits"], 7);
    assert_eq!(total["connections"]["resp"], 1);
    assert_eq!(total["connections"]["pg"], 1);
    assert!(json["uptime_seconds"].is_u64());
    let workers = json["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2);
    let field_sum =
        |field: &str| -> u64 { workers.iter().map(|w| w[field].as_u64().unwrap()).sum() };
    assert_eq!(
        field_sum("commands_total"),
        total["commands_total"].as_u64().unwrap()
    );
    assert_eq!(
        field_sum("net_output_bytes"),
        total["net_output_bytes"].as_u64().unwrap()
    );
    for (id, worker) in workers.iter().enumerate() {
        assert_eq!(worker["id"], id);
        assert!(worker["ops_per_sec"].is_u64());
        assert!(worker["connections"]["http"].is_u64());
    }
    assert_eq!(
        total["latency"]["resp"]["count"],
        metrics.sum("corewire_commands_total", &[("protocol", "resp")]) as u64 + 5,
        "the five INFO requests since"
    );

    drop(con);
    drop(pg);
    let closed = wait_until(&server, "connections close", |m| {
        m.sum("corewire_connections", &[]) == 0.0
    });
    assert_eq!(closed.sum("corewire_worker_connections", &[]), 0.0);
}

#[test]
fn connection_states_follow_multi_and_begin() {
    let server = TestServer::start();
    let mut in_multi = server.client();
    let mut idle = server.client();
    let mut in_begin = server.pg_client();
    let mut pg_idle = server.pg_client();
    let _: () = redis::cmd("MULTI").query(&mut in_multi).unwrap();
    let _: () = redis::cmd("PING").query(&mut idle).unwrap();
    in_begin.batch_execute("BEGIN").unwrap();
    pg_idle.batch_execute("SELECT 1").unwrap();
    let metrics = Metrics::read(&server);
    assert_eq!(metrics.connections("resp", "in_transaction"), 1.0);
    assert_eq!(metrics.connections("resp", "idle"), 1.0);
    assert_eq!(metrics.connections("pg", "in_transaction"), 1.0);
    assert_eq!(metrics.connections("pg", "idle"), 1.0);
    assert_eq!(metrics.connections("pg", "authenticating"), 0.0);
    assert_eq!(metrics.connections("http", "idle"), 0.0);
    assert_eq!(
        metrics.get(
            "corewire_connections",
            &[("protocol", "resp"), ("state", "authenticating")]
        ),
        None
    );

    // A failed block is still a transaction; EXEC and ROLLBACK end them.
    assert!(in_begin.batch_execute("SELEC 1").is_err());
    let _: () = redis::cmd("SET")
        .arg("a")
        .arg("1")
        .query(&mut in_multi)
        .unwrap();
    let metrics = Metrics::read(&server);
    assert_eq!(metrics.connections("pg", "in_transaction"), 1.0);
    assert_eq!(metrics.connections("resp", "in_transaction"), 1.0);
    let replies: Vec<String> = redis::cmd("EXEC").query(&mut in_multi).unwrap();
    assert_eq!(replies, ["OK"]);
    in_begin.batch_execute("ROLLBACK").unwrap();
    let metrics = Metrics::read(&server);
    assert_eq!(metrics.connections("resp", "in_transaction"), 0.0);
    assert_eq!(metrics.connections("resp", "idle"), 2.0);
    assert_eq!(metrics.connections("pg", "in_transaction"), 0.0);
    assert_eq!(metrics.connections("pg", "idle"), 2.0);
    // MULTI counted when it ran; the queued SET when queued; EXEC ran the
    // transaction: one engine commit. The failed block's rollback aborted.
    assert_eq!(metrics.command("resp", "multi"), 1.0);
    assert_eq!(metrics.command("resp", "set"), 1.0);
    assert_eq!(metrics.command("resp", "exec"), 1.0);
    assert_eq!(metrics.value("corewire_engine_commits_total", &[]), 1.0);
    assert_eq!(metrics.value("corewire_engine_aborts_total", &[]), 1.0);
    assert_eq!(metrics.command("pg", "begin"), 1.0);
    assert_eq!(metrics.command("pg", "rollback"), 1.0);
    assert_eq!(metrics.error("pg", "42601"), 1.0);
    // BEGIN .. failed .. ROLLBACK is one transaction, SELECT 1 another.
    assert_eq!(metrics.value("corewire_pg_transactions_total", &[]), 2.0);

    // A client that has not sent its startup packet is authenticating.
    let raw = TcpStream::connect(("127.0.0.1", server.pg_port)).unwrap();
    wait_until(&server, "a silent PostgreSQL client", |m| {
        m.connections("pg", "authenticating") == 1.0
    });
    drop(raw);
    drop((in_multi, idle, in_begin, pg_idle));
    wait_until(&server, "every connection closes", |m| {
        m.sum("corewire_connections", &[]) == 0.0
    });
}

/// Reads one RESP reply off a raw socket (bytes, as sent).
fn read_reply(stream: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    read_value(stream, &mut bytes);
    bytes
}

fn read_line(stream: &mut TcpStream, bytes: &mut Vec<u8>) -> String {
    let start = bytes.len();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n") || bytes.len() - start < 2 {
        stream.read_exact(&mut byte).unwrap();
        bytes.push(byte[0]);
    }
    String::from_utf8_lossy(&bytes[start..bytes.len() - 2]).into_owned()
}

fn read_value(stream: &mut TcpStream, bytes: &mut Vec<u8>) {
    let line = read_line(stream, bytes);
    let (kind, rest) = line.split_at(1);
    match kind {
        "*" => {
            for _ in 0..rest.parse::<i64>().unwrap().max(0) {
                read_value(stream, bytes);
            }
        }
        "$" => {
            let len: i64 = rest.parse().unwrap();
            if len >= 0 {
                let mut body = vec![0u8; len as usize + 2];
                stream.read_exact(&mut body).unwrap();
                bytes.extend_from_slice(&body);
            }
        }
        _ => {}
    }
}

fn request(stream: &mut TcpStream, args: &[&[u8]]) -> Vec<u8> {
    let mut bytes = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        bytes.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        bytes.extend_from_slice(arg);
        bytes.extend_from_slice(b"\r\n");
    }
    stream.write_all(&bytes).unwrap();
    read_reply(stream)
}

fn bulk(text: &[u8]) -> Vec<u8> {
    let mut bytes = format!("${}\r\n", text.len()).into_bytes();
    bytes.extend_from_slice(text);
    bytes.extend_from_slice(b"\r\n");
    bytes
}

/// A slow log entry's bytes, given its id, time and duration (read from
/// the reply), as Redis 7 writes it.
fn entry_bytes(id: u64, time: u64, micros: u64, args: &[&[u8]], addr: &str, name: &str) -> Vec<u8> {
    let mut bytes =
        format!("*6\r\n:{id}\r\n:{time}\r\n:{micros}\r\n*{}\r\n", args.len()).into_bytes();
    for arg in args {
        bytes.extend(bulk(arg));
    }
    bytes.extend(bulk(addr.as_bytes()));
    bytes.extend(bulk(name.as_bytes()));
    bytes
}

/// The (id, time, µs) triples of a SLOWLOG GET reply, in order.
fn entry_heads(reply: &[u8]) -> Vec<(u64, u64, u64)> {
    let text = String::from_utf8_lossy(reply);
    let lines: Vec<&str> = text.split("\r\n").collect();
    let mut heads = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line == "*6" && lines[i + 1].starts_with(':') {
            let int = |j: usize| lines[i + j][1..].parse::<u64>().unwrap();
            heads.push((int(1), int(2), int(3)));
        }
    }
    heads
}

#[test]
fn slowlog_records_both_protocols() {
    let server = TestServer::start_with(|config| config.slowlog_log_slower_than_us = 0);
    let mut raw = server.raw();
    let addr = raw.local_addr().unwrap().to_string();
    exchange(
        &mut raw,
        b"*2\r\n$7\r\nSLOWLOG\r\n$5\r\nRESET\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut raw,
        b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$6\r\nmyname\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut raw,
        b"*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n",
        b"+OK\r\n",
    );
    // Refused requests never ran: not logged, as in Redis.
    exchange(
        &mut raw,
        b"*1\r\n$3\r\nfoo\r\n",
        b"-ERR unknown command 'foo', with args beginning with: \r\n",
    );
    exchange(
        &mut raw,
        b"*1\r\n$3\r\nset\r\n",
        b"-ERR wrong number of arguments for 'set' command\r\n",
    );
    let reply = request(&mut raw, &[b"SLOWLOG", b"GET", b"2"]);
    let heads = entry_heads(&reply);
    assert_eq!(heads.len(), 2, "{}", String::from_utf8_lossy(&reply));
    let mut expected = b"*2\r\n".to_vec();
    expected.extend(entry_bytes(
        heads[0].0,
        heads[0].1,
        heads[0].2,
        &[b"set", b"k", b"v"],
        &addr,
        "myname",
    ));
    expected.extend(entry_bytes(
        heads[1].0,
        heads[1].1,
        heads[1].2,
        &[b"CLIENT", b"SETNAME", b"myname"],
        &addr,
        "myname",
    ));
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(heads[0].0, heads[1].0 + 1, "ids count up, newest first");

    // PostgreSQL statements enter the same log, their SQL as the argument.
    let mut pg = server.pg_client();
    pg.simple_query("SELECT value FROM kv WHERE key = 'k'")
        .unwrap();
    let reply = request(&mut raw, &[b"SLOWLOG", b"GET", b"1"]);
    let heads = entry_heads(&reply);
    let text = String::from_utf8_lossy(&reply).into_owned();
    assert!(
        text.contains("*1\r\n$36\r\nSELECT value FROM kv WHERE key = 'k'\r\n"),
        "{text}"
    );
    assert!(heads[0].0 > 0);
    let lines: Vec<&str> = text.split("\r\n").collect();
    let pg_addr = lines[lines.len() - 4];
    assert!(
        pg_addr.starts_with("127.0.0.1:") && pg_addr != addr,
        "{text}"
    );

    // LEN counts what GET -1 returns; GET 0 nothing; bad counts refused.
    let len = request(&mut raw, &[b"SLOWLOG", b"LEN"]);
    let all = request(&mut raw, &[b"SLOWLOG", b"GET", b"-1"]);
    let n: usize = String::from_utf8_lossy(&len)[1..]
        .trim_end()
        .parse()
        .unwrap();
    assert_eq!(
        entry_heads(&all).len(),
        n + 1,
        "LEN itself was logged since"
    );
    assert!(all.starts_with(format!("*{}\r\n", n + 1).as_bytes()));
    assert_eq!(request(&mut raw, &[b"SLOWLOG", b"GET", b"0"]), b"*0\r\n");
    let default = request(&mut raw, &[b"SLOWLOG", b"GET"]);
    assert_eq!(entry_heads(&default).len(), (n + 3).min(10));
    for bad in [&b"-2"[..], b"abc", b"9223372036854775808"] {
        assert_eq!(
            request(&mut raw, &[b"SLOWLOG", b"GET", bad]),
            b"-ERR count should be greater than or equal to -1\r\n"
        );
    }
    assert_eq!(
        request(&mut raw, &[b"SLOWLOG", b"GeT", b"1", b"2"]),
        b"-ERR unknown subcommand or wrong number of arguments for 'GeT'. Try SLOWLOG HELP.\r\n"
    );
    assert_eq!(
        request(&mut raw, &[b"SLOWLOG", b"LEN", b"x"]),
        b"-ERR wrong number of arguments for 'slowlog|len' command\r\n"
    );
    assert_eq!(
        request(&mut raw, &[b"SLOWLOG", b"foo"]),
        b"-ERR unknown subcommand 'foo'. Try SLOWLOG HELP.\r\n"
    );
    let help = request(&mut raw, &[b"SLOWLOG", b"HELP"]);
    assert!(help.starts_with(b"*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET [<count>]\r\n"));
    assert!(help.ends_with(b"+HELP\r\n+    Prints this help.\r\n"));

    // RESET empties every worker's log; RESET itself is then logged.
    exchange(
        &mut raw,
        b"*2\r\n$7\r\nSLOWLOG\r\n$5\r\nRESET\r\n",
        b"+OK\r\n",
    );
    exchange(&mut raw, b"*2\r\n$7\r\nSLOWLOG\r\n$3\r\nLEN\r\n", b":1\r\n");

    // Inside EXEC each command is logged on its own, EXEC and the
    // queueing are not (as Redis).
    exchange(
        &mut raw,
        b"*2\r\n$7\r\nSLOWLOG\r\n$5\r\nRESET\r\n",
        b"+OK\r\n",
    );
    exchange(&mut raw, b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n");
    exchange(
        &mut raw,
        b"*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n",
        b"+QUEUED\r\n",
    );
    exchange(&mut raw, b"*1\r\n$4\r\nEXEC\r\n", b"*1\r\n+OK\r\n");
    let reply = String::from_utf8_lossy(&request(&mut raw, &[b"SLOWLOG", b"GET"])).into_owned();
    let logged: Vec<&str> = reply
        .split("\r\n")
        .filter(|l| ["MULTI", "set", "EXEC", "SLOWLOG"].contains(l))
        .collect();
    assert_eq!(logged, ["set", "MULTI", "SLOWLOG"], "{reply}");

    // Secrets never enter it.
    exchange(
        &mut raw,
        b"*2\r\n$7\r\nSLOWLOG\r\n$5\r\nRESET\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut raw,
        b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$6\r\nhunter\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut raw,
        b"*2\r\n$4\r\nAUTH\r\n$6\r\nhunter\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut raw,
        b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$0\r\n\r\n",
        b"+OK\r\n",
    );
    let _ = pg.simple_query("ALTER ROLE tester PASSWORD 'hunter'");
    let reply =
        String::from_utf8_lossy(&request(&mut raw, &[b"SLOWLOG", b"GET", b"-1"])).into_owned();
    assert!(!reply.contains("hunter"), "{reply}");
    assert_eq!(reply.matches("(redacted)").count(), 4, "{reply}");
    assert!(reply.contains("ALTER ... (redacted)"), "{reply}");

    // At most slowlog-max-len entries, across workers.
    server.server().shared().live.set_slowlog_max_len(3);
    let mut other = server.client();
    for _ in 0..4 {
        let _: () = redis::cmd("PING").query(&mut other).unwrap();
        exchange(&mut raw, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n");
    }
    exchange(&mut raw, b"*2\r\n$7\r\nSLOWLOG\r\n$3\r\nLEN\r\n", b":3\r\n");
    let reply = request(&mut raw, &[b"SLOWLOG", b"GET", b"-1"]);
    let heads = entry_heads(&reply);
    assert_eq!(heads.len(), 3);
    assert!(
        heads.windows(2).all(|w| w[0].0 > w[1].0),
        "newest first: {heads:?}"
    );
    let metrics = Metrics::read(&server);
    assert!(metrics.value("corewire_slowlog_entries_total", &[]) >= 20.0);
}

#[test]
fn pg_sleep_and_copy_are_timed_to_their_end() {
    let server = TestServer::start_with(|config| config.slowlog_log_slower_than_us = 40_000);
    let mut pg = server.pg_client();
    pg.simple_query("SELECT pg_sleep(0.05)").unwrap();
    let mut writer = pg.copy_in("COPY kv FROM STDIN").unwrap();
    writer.write_all(b"c1\tv1\nc2\tv2\n").unwrap();
    writer.finish().unwrap();
    let mut con = server.client();
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG").arg("GET").query(&mut con).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let redis::Value::Array(fields) = &entries[0] else {
        panic!("{entries:?}")
    };
    let redis::Value::Int(micros) = fields[2] else {
        panic!("{fields:?}")
    };
    assert!(micros >= 50_000, "the sleep itself: {micros}");
    assert_eq!(
        fields[3],
        redis::Value::Array(vec![redis::Value::BulkString(
            b"SELECT pg_sleep(0.05)".to_vec()
        )])
    );
    let metrics = Metrics::read(&server);
    assert_eq!(metrics.command("pg", "select"), 1.0);
    assert_eq!(metrics.command("pg", "copy"), 1.0);
    assert!(
        metrics.value(
            "corewire_request_duration_seconds_sum",
            &[("protocol", "pg")]
        ) >= 0.05
    );
    // COPY's rows went in as one transaction.
    assert_eq!(metrics.value("corewire_engine_commits_total", &[]), 1.0);
    metrics.check_histogram("pg");
}

#[test]
fn metrics_off_keeps_only_the_basic_counters() {
    let server = TestServer::start_with(|config| config.metrics_enabled = false);
    let mut con = server.client();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut con).unwrap();
    assert!(redis::cmd("NOSUCH").query::<()>(&mut con).is_err());
    let metrics = Metrics::read(&server);
    assert_eq!(metrics.sum("corewire_commands_total", &[]), 0.0);
    assert_eq!(metrics.sum("corewire_errors_total", &[]), 0.0);
    metrics.check_histogram("resp");
    assert_eq!(metrics.value("corewire_engine_commits_total", &[]), 1.0);
    assert_eq!(metrics.connections("resp", "idle"), 1.0);
    let stats = info(&mut con, "stats");
    // The redis crate's CLIENT SETINFO pair, SET and NOSUCH.
    let processed: u64 = info_field(&stats, "total_commands_processed")
        .parse()
        .unwrap();
    assert!(processed >= 2, "{stats}");
    let errors: u64 = info_field(&stats, "total_error_replies").parse().unwrap();
    assert!(errors >= 1, "{stats}");
    // Switched on at runtime, counting starts.
    server.server().shared().live.set_metrics_enabled(true);
    let _: () = redis::cmd("SET").arg("a").arg("2").query(&mut con).unwrap();
    assert_eq!(Metrics::read(&server).command("resp", "set"), 1.0);
}

#[test]
fn slow_requests_are_logged_without_secrets() {
    let path = std::env::temp_dir().join(format!("corewire-metrics-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    corewire::log::set_file(Some(&path)).unwrap();
    let server = TestServer::start_with(|config| config.log_min_duration_statement_ms = 0);
    let mut raw = server.raw();
    exchange(
        &mut raw,
        b"*3\r\n$3\r\nset\r\n$2\r\nlk\r\n$2\r\nlv\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut raw,
        b"*2\r\n$4\r\nAUTH\r\n$7\r\nswordfi\r\n",
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
    let mut pg = server.pg_client();
    pg.simple_query("SELECT value FROM kv WHERE key = 'lk'")
        .unwrap();
    let _ = pg.simple_query("CREATE USER bob PASSWORD 'swordfi'");
    drop(server);
    corewire::log::set_file(None).unwrap();
    let log = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!log.contains("swordfi"), "{log}");
    let slow: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("slow request: "))
        .collect();
    assert!(slow.iter().any(|l| l.ends_with(" ms: set lk lv")), "{log}");
    assert!(
        slow.iter().any(|l| l.ends_with(" ms: AUTH (redacted)")),
        "{log}"
    );
    assert!(
        slow.iter()
            .any(|l| l.ends_with(" ms: SELECT value FROM kv WHERE key = 'lk'")),
        "{log}"
    );
    assert!(
        slow.iter()
            .any(|l| l.ends_with(" ms: CREATE ... (redacted)")),
        "{log}"
    );
    assert!(slow.iter().all(|l| l.contains(" WARN ")), "{log}");
}
