//! The PostgreSQL v3 protocol at the message level: raw frontend messages
//! over a TcpStream (pipelines, Flush, row limits, ParameterStatus, message
//! limits) and the `postgres` crate for cancel and the statement limit.

mod common;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::TestServer;
use postgres::error::SqlState;
use postgres::NoTls;
use raw::{summary, RawConn};

/// A compact frontend-message builder and backend-message reader.
mod raw {
    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use crate::common::pg_wire::{self, error_fields};
    pub use crate::common::pg_wire::{
        bind, close, describe, execute, flush, message, parse, query, startup, sync,
    };

    pub struct Msg {
        pub tag: u8,
        pub body: Vec<u8>,
    }

    fn cstrs(body: &[u8]) -> Vec<String> {
        body.split(|&b| b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    fn be_i16(b: &[u8]) -> i16 {
        i16::from_be_bytes([b[0], b[1]])
    }

    fn be_i32(b: &[u8]) -> i32 {
        i32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    impl Msg {
        /// ErrorResponse / NoticeResponse fields by code letter.
        pub fn fields(&self) -> Vec<(u8, String)> {
            error_fields(&self.body)
        }

        pub fn field(&self, code: u8) -> Option<String> {
            self.fields()
                .into_iter()
                .find(|(c, _)| *c == code)
                .map(|(_, v)| v)
        }

        /// DataRow values (text format assumed; NULL as None).
        pub fn data_row(&self) -> Vec<Option<String>> {
            let n = be_i16(&self.body) as usize;
            let mut pos = 2;
            let mut values = Vec::new();
            for _ in 0..n {
                let len = be_i32(&self.body[pos..]);
                pos += 4;
                if len < 0 {
                    values.push(None);
                } else {
                    let len = len as usize;
                    values.push(Some(
                        String::from_utf8_lossy(&self.body[pos..pos + len]).into_owned(),
                    ));
                    pos += len;
                }
            }
            values
        }

        /// RowDescription as (name, type oid).
        pub fn row_description(&self) -> Vec<(String, u32)> {
            let n = be_i16(&self.body) as usize;
            let mut pos = 2;
            let mut fields = Vec::new();
            for _ in 0..n {
                let end = pos + self.body[pos..].iter().position(|&b| b == 0).unwrap();
                let name = String::from_utf8_lossy(&self.body[pos..end]).into_owned();
                pos = end + 1;
                let oid = be_i32(&self.body[pos + 6..]) as u32;
                pos += 18;
                fields.push((name, oid));
            }
            fields
        }

        /// One-line description used to compare reply sequences exactly.
        pub fn describe(&self) -> String {
            let text = |b: &[u8]| cstrs(b)[0].clone();
            match self.tag {
                b'1' => "ParseComplete".into(),
                b'2' => "BindComplete".into(),
                b'3' => "CloseComplete".into(),
                b'n' => "NoData".into(),
                b's' => "PortalSuspended".into(),
                b'I' => "EmptyQuery".into(),
                b'C' => format!("C {}", text(&self.body)),
                b'Z' => format!("Z {}", self.body[0] as char),
                b'E' => format!(
                    "E {} {}",
                    self.field(b'S').unwrap_or_default(),
                    self.field(b'C').unwrap_or_default()
                ),
                b'N' => format!("N {}", self.field(b'C').unwrap_or_default()),
                b'S' => {
                    let parts = cstrs(&self.body);
                    format!("S {}={}", parts[0], parts[1])
                }
                b'D' => {
                    let values: Vec<String> = self
                        .data_row()
                        .into_iter()
                        .map(|v| v.unwrap_or_else(|| "NULL".into()))
                        .collect();
                    format!("D {}", values.join("|"))
                }
                b'T' => {
                    let cols: Vec<String> = self
                        .row_description()
                        .into_iter()
                        .map(|(name, oid)| format!("{name}:{oid}"))
                        .collect();
                    format!("T {}", cols.join(","))
                }
                b't' => {
                    let n = be_i16(&self.body) as usize;
                    let oids: Vec<String> = (0..n)
                        .map(|i| be_i32(&self.body[2 + 4 * i..]).to_string())
                        .collect();
                    format!("t {}", oids.join(","))
                }
                b'R' => format!("R {}", be_i32(&self.body)),
                b'G' => format!("CopyIn {}", self.body[0]),
                b'H' => format!("CopyOut {}", self.body[0]),
                b'd' => format!("d {}", String::from_utf8_lossy(&self.body)),
                b'c' => "CopyDone".into(),
                b'K' => "BackendKeyData".into(),
                other => format!("{} ({} bytes)", other as char, self.body.len()),
            }
        }
    }

    pub fn summary(msgs: &[Msg]) -> Vec<String> {
        msgs.iter().map(Msg::describe).collect()
    }

    pub struct RawConn {
        stream: TcpStream,
    }

    impl RawConn {
        /// Connects and logs in (trust); returns the connection and every
        /// message up to and including the first ReadyForQuery.
        pub fn login(port: u16, params: &[(&str, &str)]) -> (RawConn, Vec<Msg>) {
            let mut conn = RawConn::connect(port);
            conn.send(&startup(params));
            let msgs = conn.read_until_ready();
            assert_eq!(msgs[0].describe(), "R 0", "{:?}", summary(&msgs));
            (conn, msgs)
        }

        pub fn connect(port: u16) -> RawConn {
            let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
            // A failure guard, not a speed check.
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            RawConn { stream }
        }

        /// One byte (the answer to SSLRequest).
        pub fn read_byte(&mut self) -> u8 {
            let mut byte = [0u8; 1];
            self.stream.read_exact(&mut byte).expect("one byte");
            byte[0]
        }

        pub fn send(&mut self, bytes: &[u8]) {
            self.stream.write_all(bytes).expect("write");
        }

        /// The next message, or None at EOF / reset.
        pub fn try_read(&mut self) -> Option<Msg> {
            pg_wire::read(&mut self.stream).map(|(tag, body)| Msg { tag, body })
        }

        /// Whether a byte arrives within `wait` (consumes nothing).
        pub fn readable_within(&mut self, wait: Duration) -> bool {
            self.stream.set_read_timeout(Some(wait)).unwrap();
            let mut byte = [0u8; 1];
            let readable = match self.stream.peek(&mut byte) {
                Ok(_) => true,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
                Err(e) => panic!("peek: {e}"),
            };
            self.stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            readable
        }

        pub fn read(&mut self) -> Msg {
            self.try_read().expect("a message, not EOF")
        }

        pub fn read_n(&mut self, n: usize) -> Vec<Msg> {
            (0..n).map(|_| self.read()).collect()
        }

        pub fn read_until_ready(&mut self) -> Vec<Msg> {
            let mut msgs = Vec::new();
            loop {
                let msg = self.read();
                let done = msg.tag == b'Z';
                msgs.push(msg);
                if done {
                    return msgs;
                }
            }
        }

        /// Simple query; the replies up to ReadyForQuery, summarised.
        pub fn simple(&mut self, sql: &str) -> Vec<String> {
            self.send(&query(sql));
            summary(&self.read_until_ready())
        }
    }
}

fn login(server: &TestServer) -> RawConn {
    RawConn::login(server.pg_port, &[("user", "raw"), ("database", "kv")]).0
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Three Parse/Bind/Execute in one Sync, the second failing: the first
/// completes, the error ends the batch (nothing more until Sync, then one
/// ReadyForQuery), and the implicit transaction rolls the first back.
#[test]
fn error_mid_pipeline_skips_to_sync_and_rolls_back() {
    let server = TestServer::start();
    let mut conn = login(&server);
    assert_eq!(
        conn.simple("INSERT INTO kv VALUES ('dup', 'x')"),
        strings(&["C INSERT 0 1", "Z I"])
    );
    let mut batch = Vec::new();
    for (key, value) in [("p1", "1"), ("dup", "y"), ("p3", "3")] {
        batch.extend(raw::parse("", "INSERT INTO kv VALUES ($1, $2)"));
        batch.extend(raw::bind("", "", &[Some(key), Some(value)]));
        batch.extend(raw::execute("", 0));
    }
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "ParseComplete",
            "BindComplete",
            "C INSERT 0 1",
            "ParseComplete",
            "BindComplete",
            "E ERROR 23505",
            "Z I",
        ])
    );
    // Nothing of the batch was kept, and the session goes on.
    assert_eq!(
        conn.simple("SELECT key, value FROM kv ORDER BY key"),
        strings(&["T key:25,value:25", "D dup|x", "C SELECT 1", "Z I"])
    );
    // The next batch runs normally.
    let mut batch = raw::parse("", "INSERT INTO kv VALUES ($1, $2)");
    batch.extend(raw::bind("", "", &[Some("p4"), Some("4")]));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["ParseComplete", "BindComplete", "C INSERT 0 1", "Z I"])
    );
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["T count:20", "D 2", "C SELECT 1", "Z I"])
    );
}

/// Parse + Describe + Flush (no Sync), as asyncpg sends them: the replies
/// arrive without waiting for a Sync.
#[test]
fn describe_with_flush_answers_before_sync() {
    let server = TestServer::start();
    let mut conn = login(&server);
    let mut batch = raw::parse("s1", "SELECT value FROM kv WHERE key = $1");
    batch.extend(raw::describe(b'S', "s1"));
    batch.extend(raw::flush());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_n(3)),
        strings(&["ParseComplete", "t 25", "T value:25"])
    );
    // A write statement describes as NoData; still no Sync sent.
    let mut batch = raw::parse("s2", "INSERT INTO kv VALUES ($1, $2)");
    batch.extend(raw::describe(b'S', "s2"));
    batch.extend(raw::flush());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_n(3)),
        strings(&["ParseComplete", "t 25,25", "NoData"])
    );
    let mut batch = raw::bind("", "s2", &[Some("k"), Some("v")]);
    batch.extend(raw::execute("", 0));
    batch.extend(raw::bind("", "s1", &[Some("k")]));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "BindComplete",
            "C INSERT 0 1",
            "BindComplete",
            "D v",
            "C SELECT 1",
            "Z I"
        ])
    );
}

/// Execute with max_rows: the portal suspends after 2 rows and a second
/// Execute fetches the rest.
#[test]
fn execute_with_row_limit_suspends_the_portal() {
    let server = TestServer::start();
    let mut conn = login(&server);
    assert_eq!(
        conn.simple("INSERT INTO kv VALUES ('a','1'),('b','2'),('c','3'),('d','4'),('e','5')"),
        strings(&["C INSERT 0 5", "Z I"])
    );
    let mut batch = raw::parse("", "SELECT key FROM kv ORDER BY key");
    batch.extend(raw::bind("", "", &[]));
    batch.extend(raw::execute("", 2));
    batch.extend(raw::flush());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_n(5)),
        strings(&[
            "ParseComplete",
            "BindComplete",
            "D a",
            "D b",
            "PortalSuspended"
        ])
    );
    let mut batch = raw::execute("", 0);
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["D c", "D d", "D e", "C SELECT 3", "Z I"])
    );
}

/// The same through the `postgres` crate's portals (inside a transaction,
/// as the crate requires).
#[test]
fn portal_fetches_in_chunks_with_the_postgres_crate() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .batch_execute("INSERT INTO kv VALUES ('a','1'),('b','2'),('c','3'),('d','4'),('e','5')")
        .unwrap();
    let mut tx = client.transaction().unwrap();
    let portal = tx
        .bind("SELECT key FROM kv WHERE key LIKE $1 ORDER BY key", &[&"%"])
        .unwrap();
    let keys = |rows: Vec<postgres::Row>| -> Vec<String> {
        rows.iter().map(|r| r.get::<_, String>(0)).collect()
    };
    assert_eq!(keys(tx.query_portal(&portal, 2).unwrap()), ["a", "b"]);
    assert_eq!(keys(tx.query_portal(&portal, 2).unwrap()), ["c", "d"]);
    assert_eq!(keys(tx.query_portal(&portal, 2).unwrap()), ["e"]);
    tx.commit().unwrap();
}

fn parameter_statuses(msgs: &[raw::Msg]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for msg in msgs.iter().filter(|m| m.tag == b'S') {
        let parts: Vec<&[u8]> = msg.body.split(|&b| b == 0).collect();
        let name = String::from_utf8_lossy(parts[0]).into_owned();
        let value = String::from_utf8_lossy(parts[1]).into_owned();
        assert!(
            map.insert(name.clone(), value).is_none(),
            "{name} reported twice"
        );
    }
    map
}

#[test]
fn startup_reports_session_parameters() {
    let server = TestServer::start();
    let (_conn, msgs) = RawConn::login(
        server.pg_port,
        &[
            ("user", "paramuser"),
            ("database", "kv"),
            ("application_name", "raw app"),
        ],
    );
    let tags: Vec<u8> = msgs.iter().map(|m| m.tag).collect();
    assert_eq!(tags[0], b'R');
    assert_eq!(*tags.last().unwrap(), b'Z');
    assert_eq!(msgs.last().unwrap().describe(), "Z I");
    assert_eq!(tags.iter().filter(|&&t| t == b'K').count(), 1);
    assert!(
        tags.iter().all(|t| b"RSKZ".contains(t)),
        "{:?}",
        summary(&msgs)
    );
    let params = parameter_statuses(&msgs);
    let expected = [
        ("server_version", corewire::pg::params::SERVER_VERSION),
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("DateStyle", "ISO, MDY"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
        ("TimeZone", "UTC"),
        ("IntervalStyle", "postgres"),
        ("application_name", "raw app"),
        ("is_superuser", "on"),
        ("session_authorization", "paramuser"),
    ];
    for (name, value) in expected {
        assert_eq!(
            params.get(name).map(String::as_str),
            Some(value),
            "ParameterStatus {name} in {params:?}"
        );
    }
}

/// SET of a reported parameter sends ParameterStatus (before
/// ReadyForQuery); SHOW and RESET round-trip, RESET going back to the
/// startup packet's value as PostgreSQL does.
#[test]
fn set_show_reset_application_name() {
    let server = TestServer::start();
    let (mut conn, _) = RawConn::login(
        server.pg_port,
        &[
            ("user", "raw"),
            ("database", "kv"),
            ("application_name", "from_startup"),
        ],
    );
    assert_eq!(
        conn.simple("SET application_name = 'x'"),
        strings(&["C SET", "S application_name=x", "Z I"])
    );
    assert_eq!(
        conn.simple("SHOW application_name"),
        strings(&["T application_name:25", "D x", "C SHOW", "Z I"])
    );
    assert_eq!(
        conn.simple("RESET application_name"),
        strings(&["C RESET", "S application_name=from_startup", "Z I"])
    );
    assert_eq!(
        conn.simple("SHOW application_name"),
        strings(&["T application_name:25", "D from_startup", "C SHOW", "Z I"])
    );
    // An unreported parameter changes without ParameterStatus.
    assert_eq!(
        conn.simple("SET search_path = public"),
        strings(&["C SET", "Z I"])
    );
    assert_eq!(
        conn.simple("SHOW search_path"),
        strings(&["T search_path:25", "D public", "C SHOW", "Z I"])
    );
    // Setting the same value again reports nothing new.
    assert_eq!(
        conn.simple("SET application_name = 'from_startup'"),
        strings(&["C SET", "Z I"])
    );
    // Changes are reported once, before ReadyForQuery, and only if the
    // value differs from the last one reported.
    assert_eq!(
        conn.simple("BEGIN; SET application_name = 'tmp'; ROLLBACK"),
        strings(&["C BEGIN", "C SET", "C ROLLBACK", "Z I"])
    );
    assert_eq!(
        conn.simple(
            "SET application_name = 'a'; SET application_name = 'b'; SELECT count(*) FROM kv"
        ),
        strings(&[
            "C SET",
            "C SET",
            "T count:20",
            "D 0",
            "C SELECT 1",
            "S application_name=b",
            "Z I"
        ])
    );
    // In the extended protocol, at Sync.
    let mut batch = raw::parse("", "SET application_name = 'ext'");
    batch.extend(raw::bind("", "", &[]));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::parse("", "SELECT count(*) FROM kv"));
    batch.extend(raw::bind("", "", &[]));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "ParseComplete",
            "BindComplete",
            "C SET",
            "ParseComplete",
            "BindComplete",
            "D 0",
            "C SELECT 1",
            "S application_name=ext",
            "Z I"
        ])
    );
}

/// A message past pg_max_message_bytes: FATAL 54000 and the connection
/// closes; other sessions are unaffected.
#[test]
fn oversized_message_is_fatal_54000() {
    let server = TestServer::start_with(|c| c.pg_max_message_bytes = 4096);
    let mut other = server.pg_client();
    let mut conn = login(&server);
    // Under the limit works.
    let value = "v".repeat(3000);
    assert_eq!(
        conn.simple(&format!("INSERT INTO kv VALUES ('big', '{value}')")),
        strings(&["C INSERT 0 1", "Z I"])
    );
    let value = "w".repeat(5000);
    conn.send(&raw::query(&format!(
        "INSERT INTO kv VALUES ('bigger', '{value}')"
    )));
    let error = conn.read();
    assert_eq!(error.describe(), "E FATAL 54000");
    assert!(conn.try_read().is_none(), "connection stays open");
    // Only a header announcing a huge message: refused at once, without
    // waiting for (or buffering) the body.
    let mut conn = login(&server);
    let mut header = vec![b'Q'];
    header.extend_from_slice(&1_000_000_000i32.to_be_bytes());
    conn.send(&header);
    assert_eq!(conn.read().describe(), "E FATAL 54000");
    assert!(conn.try_read().is_none(), "connection stays open");
    let row = other
        .query_one("SELECT count(*) FROM kv", &[])
        .expect("other session works");
    assert_eq!(row.get::<_, i64>(0), 1);
    let mut fresh = server.pg_client();
    let row = fresh
        .query_one("SELECT length(value) FROM kv WHERE key = $1", &[&"big"])
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 3000);
}

/// pg_max_prepared_statements = 2: a third named statement is 54000; after
/// one is closed another fits.
#[test]
fn prepared_statement_limit_54000() {
    let server = TestServer::start_with(|c| c.pg_max_prepared_statements = 2);
    let mut client = server.pg_client();
    let first = client
        .prepare("SELECT value FROM kv WHERE key = $1")
        .unwrap();
    let second = client.prepare("INSERT INTO kv VALUES ($1, $2)").unwrap();
    let error = client
        .prepare("DELETE FROM kv WHERE key = $1")
        .expect_err("third statement");
    assert_eq!(
        error.code(),
        Some(&SqlState::PROGRAM_LIMIT_EXCEEDED),
        "{error}"
    );
    // The session keeps working with the statements it has.
    assert_eq!(client.execute(&second, &[&"k", &"v"]).unwrap(), 1);
    {
        let rows = client.query(&first, &[&"k"]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get::<_, String>(0), "v");
    }
    // Dropping a Statement (and every Row that holds it) closes it: the
    // crate sends Close before the next request. Then a new one fits.
    drop(first);
    let third = client.prepare("DELETE FROM kv WHERE key = $1").unwrap();
    assert_eq!(client.execute(&third, &[&"k"]).unwrap(), 1);
}

/// The unnamed statement does not count toward the limit.
#[test]
fn unnamed_statements_are_not_limited() {
    let server = TestServer::start_with(|c| c.pg_max_prepared_statements = 1);
    let mut conn = login(&server);
    let mut batch = Vec::new();
    for key in ["u1", "u2", "u3"] {
        batch.extend(raw::parse("", "INSERT INTO kv VALUES ($1, 'x')"));
        batch.extend(raw::bind("", "", &[Some(key)]));
        batch.extend(raw::execute("", 0));
    }
    batch.extend(raw::parse("n1", "SELECT count(*) FROM kv"));
    batch.extend(raw::parse("n2", "SELECT count(*) FROM kv"));
    batch.extend(raw::sync());
    conn.send(&batch);
    let replies = summary(&conn.read_until_ready());
    assert_eq!(
        replies,
        strings(&[
            "ParseComplete",
            "BindComplete",
            "C INSERT 0 1",
            "ParseComplete",
            "BindComplete",
            "C INSERT 0 1",
            "ParseComplete",
            "BindComplete",
            "C INSERT 0 1",
            "ParseComplete",
            "E ERROR 54000",
            "Z I",
        ])
    );
    // The failed Parse rolled the implicit transaction back.
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["T count:20", "D 0", "C SELECT 1", "Z I"])
    );
}

/// Cancels a pg_sleep on `client` from this thread: sends CancelRequest
/// until the query returns (a cancel that arrives before the sleep starts
/// is ignored, as in PostgreSQL). Bounded: gives up after 60 s.
fn cancel_until_done(
    token: &postgres::CancelToken,
    done: &mpsc::Receiver<Result<Vec<postgres::SimpleQueryMessage>, postgres::Error>>,
) -> Result<Vec<postgres::SimpleQueryMessage>, postgres::Error> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut wait = Duration::from_millis(20);
    loop {
        token.cancel_query(NoTls).expect("cancel request sent");
        match done.recv_timeout(wait) {
            Ok(result) => return result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(Instant::now() < deadline, "pg_sleep never returned");
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("query thread died"),
        }
    }
}

/// SELECT pg_sleep(30) canceled from another thread: 57014, and the session
/// works afterwards. Six sessions on two workers, so cancel requests also
/// arrive on the worker that does not own the session.
#[test]
fn cancel_pg_sleep_on_either_worker() {
    let server = TestServer::start();
    // Sessions from both workers: the low byte of the backend pid names the
    // owning worker, so pick round-robin across pid low bytes (without
    // asserting the spread: that is the kernel's choice).
    let mut buckets: BTreeMap<i32, Vec<postgres::Client>> = BTreeMap::new();
    for _ in 0..32 {
        let mut client = server.pg_client();
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        buckets.entry(pid & 0xff).or_default().push(client);
        if buckets.len() >= 2 && buckets.values().all(|b| b.len() >= 3) {
            break;
        }
    }
    let mut clients = Vec::new();
    while clients.len() < 6 {
        for bucket in buckets.values_mut() {
            if let Some(client) = bucket.pop() {
                clients.push(client);
            }
        }
    }
    clients.truncate(6);
    drop(buckets);
    let mut sessions: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut client)| {
            client
                .execute("INSERT INTO kv VALUES ($1, 'before')", &[&format!("c{i}")])
                .unwrap();
            let token = client.cancel_token();
            let (tx, rx) = mpsc::channel();
            let handle = thread::spawn(move || {
                let result = client.simple_query("SELECT pg_sleep(30)");
                tx.send(result).unwrap();
                client
            });
            (token, rx, handle)
        })
        .collect();
    for (i, (token, rx, handle)) in sessions.drain(..).enumerate() {
        let result = cancel_until_done(&token, &rx);
        let error = result.expect_err("pg_sleep canceled");
        assert_eq!(error.code(), Some(&SqlState::QUERY_CANCELED), "{error}");
        let mut client = handle.join().unwrap();
        let row = client
            .query_one("SELECT value FROM kv WHERE key = $1", &[&format!("c{i}")])
            .expect("session works after the cancel");
        assert_eq!(row.get::<_, String>(0), "before");
        assert_eq!(
            client
                .execute(
                    "UPDATE kv SET value = 'after' WHERE key = $1",
                    &[&format!("c{i}")]
                )
                .unwrap(),
            1
        );
    }
    let mut client = server.pg_client();
    let row = client
        .query_one("SELECT count(*) FROM kv WHERE key LIKE 'c%'", &[])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 6);
}

/// A cancel inside a transaction block: the block is failed (25P02 until
/// ROLLBACK), as in PostgreSQL.
#[test]
fn cancel_inside_a_transaction_fails_the_block() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .batch_execute("BEGIN; INSERT INTO kv VALUES ('t', '1')")
        .unwrap();
    let token = client.cancel_token();
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        tx.send(client.simple_query("SELECT pg_sleep(30)")).unwrap();
        client
    });
    let error = cancel_until_done(&token, &rx).expect_err("canceled");
    assert_eq!(error.code(), Some(&SqlState::QUERY_CANCELED), "{error}");
    let mut client = handle.join().unwrap();
    let error = client.simple_query("SELECT count(*) FROM kv").unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
    client.batch_execute("ROLLBACK").unwrap();
    let row = client.query_one("SELECT count(*) FROM kv", &[]).unwrap();
    assert_eq!(row.get::<_, i64>(0), 0);
}

fn cancel_request(port: u16, pid: i32, secret: i32) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut msg = 16i32.to_be_bytes().to_vec();
    msg.extend_from_slice(&80877102i32.to_be_bytes());
    msg.extend_from_slice(&pid.to_be_bytes());
    msg.extend_from_slice(&secret.to_be_bytes());
    stream.write_all(&msg).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The server answers a CancelRequest by closing, whatever it held.
    common::expect_closed(&mut stream);
}

/// A CancelRequest with the wrong secret (or for no session) changes
/// nothing; the right one cancels.
#[test]
fn cancel_with_a_wrong_key_is_ignored() {
    let server = TestServer::start();
    let (mut conn, msgs) = RawConn::login(server.pg_port, &[("user", "raw"), ("database", "kv")]);
    let key = msgs.iter().find(|m| m.tag == b'K').expect("BackendKeyData");
    let pid = i32::from_be_bytes(key.body[0..4].try_into().unwrap());
    let secret = i32::from_be_bytes(key.body[4..8].try_into().unwrap());
    for made_up in [0i32, 1, 0x100, 0x101] {
        if made_up != pid {
            cancel_request(server.pg_port, made_up, secret);
        }
    }
    conn.send(&raw::query("SELECT pg_sleep(30)"));
    for _ in 0..3 {
        cancel_request(server.pg_port, pid, secret ^ 0x5a5a);
    }
    // Nothing but a RowDescription came back for the wrong secrets (a check
    // that cannot fail because the machine is slow).
    let mut replies = Vec::new();
    if conn.readable_within(Duration::from_millis(300)) {
        replies.push(conn.read().describe());
        assert_eq!(replies, ["T pg_sleep:2278"]);
        assert!(!conn.readable_within(Duration::from_millis(300)));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut wait = Duration::from_millis(20);
    loop {
        cancel_request(server.pg_port, pid, secret);
        if conn.readable_within(wait) {
            break;
        }
        assert!(Instant::now() < deadline, "pg_sleep never returned");
        wait = (wait * 2).min(Duration::from_secs(2));
    }
    // PostgreSQL sends the RowDescription of pg_sleep's void result before
    // running it; either form is correct protocol.
    replies.extend(summary(&conn.read_until_ready()));
    assert!(
        replies == strings(&["E ERROR 57014", "Z I"])
            || replies == strings(&["T pg_sleep:2278", "E ERROR 57014", "Z I"]),
        "{replies:?}"
    );
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["T count:20", "D 0", "C SELECT 1", "Z I"])
    );
}

/// ReadyForQuery carries the block status: T inside, E once failed; COMMIT
/// of a failed block answers ROLLBACK.
#[test]
fn ready_for_query_reports_the_transaction_status() {
    let server = TestServer::start();
    let mut conn = login(&server);
    assert_eq!(conn.simple("BEGIN"), strings(&["C BEGIN", "Z T"]));
    assert_eq!(
        conn.simple("INSERT INTO kv VALUES ('a', '1')"),
        strings(&["C INSERT 0 1", "Z T"])
    );
    let mut batch = raw::parse("", "INSERT INTO kv VALUES ($1, '2')");
    batch.extend(raw::bind("", "", &[Some("a")]));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["ParseComplete", "BindComplete", "E ERROR 23505", "Z E"])
    );
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["E ERROR 25P02", "Z E"])
    );
    // Extended messages in a failed block: 25P02 too.
    let mut batch = raw::parse("", "SELECT count(*) FROM kv");
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 25P02", "Z E"])
    );
    assert_eq!(conn.simple("COMMIT"), strings(&["C ROLLBACK", "Z I"]));
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["T count:20", "D 0", "C SELECT 1", "Z I"])
    );
    // BEGIN inside an extended batch: the block outlives the Sync.
    let mut batch = raw::parse("", "BEGIN");
    batch.extend(raw::bind("", "", &[]));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::parse("", "INSERT INTO kv VALUES ('b', '2')"));
    batch.extend(raw::bind("", "", &[]));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "ParseComplete",
            "BindComplete",
            "C BEGIN",
            "ParseComplete",
            "BindComplete",
            "C INSERT 0 1",
            "Z T"
        ])
    );
    assert_eq!(conn.simple("ROLLBACK"), strings(&["C ROLLBACK", "Z I"]));
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["T count:20", "D 0", "C SELECT 1", "Z I"])
    );
}

/// Protocol errors of the extended protocol, each ended by Sync; empty
/// queries; Close.
#[test]
fn extended_protocol_errors_and_close() {
    let server = TestServer::start();
    let mut conn = login(&server);
    // Wrong parameter count: 08P01.
    let mut batch = raw::parse("two", "INSERT INTO kv VALUES ($1, $2)");
    batch.extend(raw::bind("", "two", &[Some("only one")]));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["ParseComplete", "E ERROR 08P01", "Z I"])
    );
    // Unknown portal (34000) and statement (26000).
    let mut batch = raw::execute("nope", 0);
    batch.extend(raw::sync());
    batch.extend(raw::describe(b'S', "nope"));
    batch.extend(raw::sync());
    batch.extend(raw::bind("", "nope", &[]));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 34000", "Z I"])
    );
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 26000", "Z I"])
    );
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 26000", "Z I"])
    );
    // A second Parse under an existing name: 42P05.
    let mut batch = raw::parse("two", "SELECT count(*) FROM kv");
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 42P05", "Z I"])
    );
    // Close: statement, missing statement (no error), then it is gone.
    let mut batch = raw::close(b'S', "two");
    batch.extend(raw::close(b'S', "never"));
    batch.extend(raw::close(b'P', "never"));
    batch.extend(raw::bind("", "two", &[Some("k"), Some("v")]));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "CloseComplete",
            "CloseComplete",
            "CloseComplete",
            "E ERROR 26000",
            "Z I"
        ])
    );
    // Empty queries.
    assert_eq!(conn.simple(""), strings(&["EmptyQuery", "Z I"]));
    assert_eq!(conn.simple("  ;  "), strings(&["EmptyQuery", "Z I"]));
    let mut batch = raw::parse("", "");
    batch.extend(raw::bind("", "", &[]));
    batch.extend(raw::describe(b'P', ""));
    batch.extend(raw::execute("", 0));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "ParseComplete",
            "BindComplete",
            "NoData",
            "EmptyQuery",
            "Z I"
        ])
    );
    // Two statements in one Parse: 42601.
    let mut batch = raw::parse("", "SELECT count(*) FROM kv; SELECT count(*) FROM kv");
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 42601", "Z I"])
    );
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["T count:20", "D 0", "C SELECT 1", "Z I"])
    );
}

/// SSLRequest is refused with 'N' and the client goes on in plaintext; an
/// unknown message type is FATAL 08P01; Terminate closes.
#[test]
fn ssl_request_unknown_message_and_terminate() {
    let server = TestServer::start();
    let mut conn = RawConn::connect(server.pg_port);
    let mut ssl = 8i32.to_be_bytes().to_vec();
    ssl.extend_from_slice(&80877103i32.to_be_bytes());
    conn.send(&ssl);
    assert_eq!(conn.read_byte(), b'N');
    conn.send(&raw::startup(&[("user", "raw"), ("database", "kv")]));
    let msgs = conn.read_until_ready();
    assert_eq!(msgs[0].describe(), "R 0");
    assert_eq!(msgs.last().unwrap().describe(), "Z I");
    conn.send(&raw::message(b'Y', b"junk"));
    assert_eq!(conn.read().describe(), "E FATAL 08P01");
    assert!(conn.try_read().is_none(), "connection stays open");

    let mut conn = login(&server);
    conn.send(&raw::message(b'X', b""));
    assert!(conn.try_read().is_none(), "Terminate does not close");
    // Terminate with a pending block rolls it back.
    let mut conn = login(&server);
    assert_eq!(conn.simple("BEGIN"), strings(&["C BEGIN", "Z T"]));
    assert_eq!(
        conn.simple("INSERT INTO kv VALUES ('t', '1')"),
        strings(&["C INSERT 0 1", "Z T"])
    );
    conn.send(&raw::message(b'X', b""));
    assert!(conn.try_read().is_none());
    let mut conn = login(&server);
    assert_eq!(
        conn.simple("SELECT count(*) FROM kv"),
        strings(&["T count:20", "D 0", "C SELECT 1", "Z I"])
    );
}

/// pg_max_portals = 2: a third open portal is 54000; portals end with the
/// transaction, so the next batch has room again.
#[test]
fn portal_limit_54000() {
    let server = TestServer::start_with(|c| c.pg_max_portals = 2);
    let mut conn = login(&server);
    assert_eq!(
        conn.simple("INSERT INTO kv VALUES ('a', '1'), ('b', '2')"),
        strings(&["C INSERT 0 2", "Z I"])
    );
    let mut batch = raw::parse("q", "SELECT key FROM kv ORDER BY key");
    for portal in ["p1", "p2", "p3"] {
        batch.extend(raw::bind(portal, "q", &[]));
    }
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "ParseComplete",
            "BindComplete",
            "BindComplete",
            "E ERROR 54000",
            "Z I"
        ])
    );
    let mut batch = Vec::new();
    for portal in ["p1", "p2"] {
        batch.extend(raw::bind(portal, "q", &[]));
        batch.extend(raw::execute(portal, 1));
    }
    batch.extend(raw::execute("p1", 0));
    batch.extend(raw::sync());
    conn.send(&batch);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&[
            "BindComplete",
            "D a",
            "PortalSuspended",
            "BindComplete",
            "D a",
            "PortalSuspended",
            "D b",
            "C SELECT 1",
            "Z I"
        ])
    );
}

/// COPY in the simple protocol: CopyInResponse, CopyData, CopyDone; a
/// CopyFail or bad data ends the COPY with an error, and CopyData sent
/// after the error is dropped.
#[test]
fn copy_in_the_simple_protocol() {
    let server = TestServer::start();
    let mut conn = login(&server);
    conn.send(&raw::query("COPY kv FROM STDIN"));
    assert_eq!(conn.read().describe(), "CopyIn 0");
    let mut data = raw::message(b'd', b"a\t1\nb\t");
    data.extend(raw::message(b'd', b"2\n"));
    data.extend(raw::message(b'c', b""));
    conn.send(&data);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["C COPY 2", "Z I"])
    );
    // CopyFail: 57014, nothing kept.
    conn.send(&raw::query("COPY kv FROM STDIN"));
    assert_eq!(conn.read().describe(), "CopyIn 0");
    let mut data = raw::message(b'd', b"c\t3\n");
    data.extend(raw::message(b'f', b"client gave up\0"));
    conn.send(&data);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 57014", "Z I"])
    );
    // Bad data: 22P04; the rest of the copy stream is dropped.
    conn.send(&raw::query("COPY kv FROM STDIN"));
    assert_eq!(conn.read().describe(), "CopyIn 0");
    let mut data = raw::message(b'd', b"d\t4\nonlykey\n");
    data.extend(raw::message(b'd', b"e\t5\n"));
    data.extend(raw::message(b'c', b""));
    conn.send(&data);
    assert_eq!(
        summary(&conn.read_until_ready()),
        strings(&["E ERROR 22P04", "Z I"])
    );
    // How rows are split into CopyData messages is the server's choice:
    // join consecutive ones.
    let joined = |replies: Vec<String>| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for reply in replies {
            match (out.last_mut(), reply.strip_prefix("d ")) {
                (Some(last), Some(data)) if last.starts_with("d ") => last.push_str(data),
                _ => out.push(reply),
            }
        }
        out
    };
    assert_eq!(
        joined(conn.simple("COPY (SELECT * FROM kv ORDER BY key) TO STDOUT")),
        strings(&["CopyOut 0", "d a\t1\nb\t2\n", "CopyDone", "C COPY 2", "Z I"])
    );
    assert_eq!(
        joined(conn.simple(
            "COPY (SELECT key FROM kv WHERE key = 'zz') TO STDOUT WITH (FORMAT csv, HEADER)"
        )),
        strings(&["CopyOut 0", "d key\n", "CopyDone", "C COPY 0", "Z I"])
    );
}

#[test]
fn gssenc_request_and_protocol_version_negotiation() {
    let server = TestServer::start();
    let mut conn = RawConn::connect(server.pg_port);
    let mut gss = 8i32.to_be_bytes().to_vec();
    gss.extend_from_slice(&80877104i32.to_be_bytes());
    conn.send(&gss);
    assert_eq!(conn.read_byte(), b'N');
    // Protocol 3.2 with a `_pq_` option: NegotiateProtocolVersion names
    // 3.0 and the option, then the login goes on.
    let mut startup = raw::startup(&[("user", "raw"), ("_pq_.compression", "on")]);
    startup[4..8].copy_from_slice(&196610i32.to_be_bytes());
    conn.send(&startup);
    let msgs = conn.read_until_ready();
    assert_eq!(msgs[0].tag, b'v');
    let mut expected = 0i32.to_be_bytes().to_vec();
    expected.extend_from_slice(&1i32.to_be_bytes());
    expected.extend_from_slice(b"_pq_.compression\0");
    assert_eq!(msgs[0].body, expected);
    assert_eq!(msgs[1].describe(), "R 0");
    assert_eq!(msgs.last().unwrap().describe(), "Z I");
    assert_eq!(
        conn.simple("SELECT value FROM kv WHERE key = 'none'"),
        strings(&["T value:25", "C SELECT 0", "Z I"])
    );

    // Protocol 2 is refused with PostgreSQL's FATAL 0A000.
    let mut conn = RawConn::connect(server.pg_port);
    let mut old = raw::startup(&[("user", "raw")]);
    old[4..8].copy_from_slice(&131072i32.to_be_bytes());
    conn.send(&old);
    let error = conn.read();
    assert_eq!(error.describe(), "E FATAL 0A000");
    assert_eq!(
        error.field(b'M').unwrap(),
        "unsupported frontend protocol 2.0: server supports 3.0 to 3.0"
    );
}
