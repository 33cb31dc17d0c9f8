//! Every client-facing limit, hit with real clients: maxclients (total and
//! per listener), bulk length, multibulk count, query buffer, output
//! buffer (hard and soft), PostgreSQL message length, prepared statements,
//! portals, COPY row size, idle timeouts and the authentication timeout;
//! and CONFIG GET / SET of the settings.
//!
//! Time limits are set small (a few seconds at most) and their effect is
//! polled for with generous upper bounds: nothing here asserts how fast
//! the server is. Clients that must not be affected by a limit get well
//! over the limit's time to show that they are not.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{config_get, exchange, expect_closed, TestServer};
use postgres::error::SqlState;

/// Upper bound for anything the server should do "soon".
const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `done` until it holds; panics after PATIENCE.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads until the server closes the connection; returns what came first.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buffer[..n]),
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return all,
            Err(error) => panic!(
                "connection still open after {PATIENCE:?} ({} bytes read): {error}",
                all.len()
            ),
        }
    }
}

/// Reads and discards until the server closes; returns the byte count.
fn drain_until_closed(stream: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return total,
            Err(error) => panic!("never disconnected ({total} bytes read): {error}"),
        }
    }
}

/// One numeric field of INFO.
fn info_field(con: &mut redis::Connection, name: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query(con).unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} in {info}"))
        .trim()
        .parse()
        .unwrap()
}

fn config_set(con: &mut redis::Connection, name: &str, value: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(con)
        .unwrap_or_else(|e| panic!("CONFIG SET {name} {value}: {e}"));
}

/// A RESP connection that answers PING (not refused by a limit).
fn try_resp(port: u16) -> Option<TcpStream> {
    let mut stream = connect(port);
    stream.write_all(b"PING\r\n").ok()?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).ok()?;
    (&reply == b"+PONG\r\n").then_some(stream)
}

/// The bytes a refused RESP connection gets before the close.
fn refused_resp(port: u16) -> String {
    let mut stream = connect(port);
    String::from_utf8_lossy(&read_until_closed(&mut stream)).into_owned()
}

/// Raw PostgreSQL frontend messages and a reader for backend ones.
mod pg {
    use super::*;
    use crate::common::pg_wire::error_fields;
    pub use crate::common::pg_wire::{
        bind, copy_data, copy_done, parse, query, read, startup, sync,
    };

    /// An ErrorResponse as "SEVERITY CODE message".
    pub fn describe_error(body: &[u8]) -> String {
        let field = |code: u8| {
            error_fields(body)
                .into_iter()
                .find(|(c, _)| *c == code)
                .map(|(_, value)| value)
                .unwrap_or_default()
        };
        format!("{} {} {}", field(b'S'), field(b'C'), field(b'M'))
    }

    /// Messages up to and including ReadyForQuery, as short descriptions
    /// ("E <error>", "C <tag>", "G", "D", "Z I", ...).
    pub fn until_ready(stream: &mut TcpStream) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let (tag, body) = read(stream).expect("a message before the close");
            let text = match tag {
                b'E' => format!("E {}", describe_error(&body)),
                b'C' => format!("C {}", String::from_utf8_lossy(&body[..body.len() - 1])),
                b'Z' => format!("Z {}", body[0] as char),
                other => (other as char).to_string(),
            };
            seen.push(text);
            if tag == b'Z' {
                return seen;
            }
        }
    }

    /// A logged-in raw session (trusted loopback login).
    pub fn login(port: u16) -> TcpStream {
        let mut stream = connect(port);
        stream
            .write_all(&startup(&[("user", "tester"), ("database", "kv")]))
            .unwrap();
        let messages = until_ready(&mut stream);
        assert_eq!(messages.last().unwrap(), "Z I", "{messages:?}");
        stream
    }

    /// The next message is a FATAL ErrorResponse, then the server closes.
    pub fn expect_fatal_then_close(stream: &mut TcpStream) -> String {
        let (tag, body) = read(stream).expect("an ErrorResponse before the close");
        assert_eq!(tag, b'E', "{}", String::from_utf8_lossy(&body));
        let error = describe_error(&body);
        assert!(
            read(stream).is_none(),
            "the connection stays open after {error}"
        );
        error
    }
}

// ---------------------------------------------------------------- maxclients

#[test]
fn maxclients_total_and_per_listener() {
    // The total (5) is above what the listeners' own limits let in (4), so
    // each refusal below is the listener's.
    let server = TestServer::start_with(|config| {
        config.max_clients = 5;
        config.resp_max_clients = 2;
        config.pg_max_clients = 1;
        config.http_max_clients = 1;
    });
    // RESP: two fit, the third gets Redis's error and is closed.
    let mut admin = try_resp(server.port).expect("first RESP client");
    let second = try_resp(server.port).expect("second RESP client");
    assert_eq!(
        refused_resp(server.port),
        "-ERR max number of clients reached\r\n"
    );
    // PostgreSQL: one fits, the second gets FATAL 53300.
    let mut first_pg = server.pg_client();
    let Err(error) = postgres::Client::connect(&server.pg_url("tester"), postgres::NoTls) else {
        panic!("a second PostgreSQL client got in");
    };
    assert_eq!(
        error.code(),
        Some(&SqlState::TOO_MANY_CONNECTIONS),
        "{error}"
    );
    let message = error.as_db_error().map(|e| e.message().to_string());
    assert_eq!(message.as_deref(), Some("sorry, too many clients already"));
    // HTTP: one fits (kept alive), the second gets 503.
    let mut http = connect(server.http_port);
    http.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    http.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut refused = connect(server.http_port);
    let reply = String::from_utf8_lossy(&read_until_closed(&mut refused)).into_owned();
    assert!(
        reply.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{reply}"
    );
    assert!(
        reply.ends_with("{\"error\":\"max number of clients reached\"}"),
        "{reply}"
    );
    // The clients that got in keep working.
    let row = first_pg.query_one("SELECT 1", &[]).unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    exchange(&mut admin, b"PING\r\n", b"+PONG\r\n");

    // Without the RESP limit only the total counts: 1 RESP + 1 PostgreSQL
    // + 1 HTTP now, so two more RESP clients fit and the next is refused.
    drop(second);
    exchange(&mut admin, b"CONFIG SET resp-maxclients 0\r\n", b"+OK\r\n");
    let mut more = Vec::new();
    eventually("two more RESP clients fit the total", || {
        if let Some(stream) = try_resp(server.port) {
            more.push(stream);
        }
        more.len() == 2
    });
    assert_eq!(
        refused_resp(server.port),
        "-ERR max number of clients reached\r\n"
    );
    // Raising the total lets one more in.
    exchange(&mut admin, b"CONFIG SET maxclients 10\r\n", b"+OK\r\n");
    let sixth = try_resp(server.port).expect("the raised total admits a client");
    // A per-listener limit set live applies to new connections.
    exchange(&mut admin, b"CONFIG SET resp-maxclients 4\r\n", b"+OK\r\n");
    eventually("the new RESP limit refuses a fifth RESP client", || {
        refused_resp(server.port) == "-ERR max number of clients reached\r\n"
    });
    exchange(&mut admin, b"INFO stats\r\n", b"$");
    let mut info = Vec::new();
    let mut byte = [0u8; 1];
    while !info.ends_with(b"rejected_connections:") {
        admin.read_exact(&mut byte).unwrap();
        info.push(byte[0]);
    }
    let mut count = String::new();
    loop {
        admin.read_exact(&mut byte).unwrap();
        if byte[0] == b'\r' {
            break;
        }
        count.push(byte[0] as char);
    }
    assert!(
        count.parse::<u64>().unwrap() >= 5,
        "rejected_connections:{count}"
    );
    drop((sixth, more, http));
}

// ------------------------------------------------ request size (RESP)

#[test]
fn bulk_length_over_proto_max_bulk_len() {
    let server = TestServer::start_with(|config| config.max_bulk_bytes = 1024);
    let mut stream = server.raw();
    // Exactly the limit is fine.
    let mut request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1024\r\n".to_vec();
    request.extend_from_slice(&[b'v'; 1024]);
    request.extend_from_slice(b"\r\n");
    exchange(&mut stream, &request, b"+OK\r\n");
    exchange(
        &mut stream,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    expect_closed(&mut stream);
    // 2^40: refused from the header, nothing is allocated for it.
    let mut stream = server.raw();
    exchange(
        &mut stream,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1099511627776\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    expect_closed(&mut stream);
    let mut con = server.client();
    assert_eq!(info_field(&mut con, "protocol_errors"), 2);
}

#[test]
fn multibulk_count_over_max_multibulk_count() {
    let server = TestServer::start_with(|config| config.max_multibulk_count = 8);
    let mut stream = server.raw();
    exchange(
        &mut stream,
        b"*8\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n",
        b"-ERR wrong number of arguments for 'mset' command\r\n",
    );
    exchange(
        &mut stream,
        b"*9\r\n",
        b"-ERR Protocol error: invalid multibulk length\r\n",
    );
    expect_closed(&mut stream);
    // The limit is live: raised, the same request is parsed.
    let mut con = server.client();
    config_set(&mut con, "max-multibulk-count", "16");
    eventually("the new multibulk limit is in force", || {
        let mut stream = server.raw();
        stream
            .write_all(b"*9\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n")
            .unwrap();
        let mut reply = [0u8; 5];
        stream.read_exact(&mut reply).unwrap();
        &reply == b"+OK\r\n"
    });
}

#[test]
fn query_buffer_over_client_query_buffer_limit() {
    let server = TestServer::start_with(|config| config.max_query_buffer_bytes = 64 * 1024);
    let mut stream = server.raw();
    // A 1 MiB argument is allowed by proto-max-bulk-len, but the unparsed
    // input may not pass 64 KiB: the client is closed without a reply, as
    // Redis does.
    stream
        .write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n")
        .unwrap();
    let chunk = vec![b'x'; 16 * 1024];
    for _ in 0..64 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
    }
    expect_closed(&mut stream);
    let mut con = server.client();
    assert_eq!(
        info_field(&mut con, "client_query_buffer_limit_disconnections"),
        1
    );
    let value: Option<String> = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(value, None);
    // An inline request has Redis's fixed 64 KiB limit (for a line still
    // without its end).
    let mut stream = server.raw();
    let inline = vec![b'x'; 70 * 1024];
    exchange(
        &mut stream,
        &inline,
        b"-ERR Protocol error: too big inline request\r\n",
    );
    expect_closed(&mut stream);
}

// ------------------------------------------------------------ output buffer

/// Stores a 64 KiB value under `big`.
fn set_big_value(server: &TestServer) -> usize {
    let mut con = server.client();
    let value = vec![b'v'; 64 * 1024];
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&value[..])
        .query(&mut con)
        .unwrap();
    value.len()
}

#[test]
fn output_buffer_hard_limit_disconnects_at_once() {
    let server = TestServer::start_with(|config| {
        config.workers = 1;
        config.max_output_buffer_bytes = 1024 * 1024;
    });
    let value_len = set_big_value(&server);
    let mut stalled = server.raw();
    // 400 x 64 KiB = 25 MiB owed, never read while sending.
    let requests = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(400);
    let _ = stalled.write_all(&requests);
    let received = drain_until_closed(&mut stalled);
    assert!(received < 400 * value_len, "every reply arrived: no limit");
    let mut con = server.client();
    assert_eq!(
        info_field(&mut con, "client_output_buffer_limit_disconnections"),
        1
    );
}

#[test]
fn output_buffer_soft_limit_disconnects_after_soft_seconds() {
    let server = TestServer::start_with(|config| {
        config.workers = 1;
        // The hard limit is above everything this client is owed: only the
        // soft limit can cut it off.
        config.max_output_buffer_bytes = 256 * 1024 * 1024;
        config.output_buffer_soft_bytes = 256 * 1024;
        config.output_buffer_soft_seconds = 1;
    });
    let value_len = set_big_value(&server);
    let mut con = server.client();
    assert_eq!(
        config_get(&mut con, "client-output-buffer-limit"),
        "normal 268435456 262144 1 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    let mut stalled = server.raw();
    let requests = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(400);
    stalled.write_all(&requests).unwrap();
    // Not reading: the unsent output stays over 256 KiB until the server
    // gives up on the client (more than 1 s later).
    eventually("the soft limit disconnects the stalled client", || {
        info_field(&mut con, "client_output_buffer_limit_disconnections") == 1
    });
    let received = drain_until_closed(&mut stalled);
    assert!(received < 400 * value_len, "every reply arrived: no limit");
    // A client that reads what it asked for is not affected.
    let mut reader = server.raw();
    for _ in 0..20 {
        let mut expected = format!("${value_len}\r\n").into_bytes();
        expected.extend_from_slice(&vec![b'v'; value_len]);
        expected.extend_from_slice(b"\r\n");
        exchange(&mut reader, b"GET big\r\n", &expected);
    }
    assert_eq!(
        info_field(&mut con, "client_output_buffer_limit_disconnections"),
        1
    );
}

#[test]
fn output_buffer_hard_limit_applies_to_postgres_and_http() {
    let server = TestServer::start_with(|config| {
        config.workers = 1;
        config.max_output_buffer_bytes = 1024 * 1024;
    });
    let value_len = set_big_value(&server);
    let mut con = server.client();
    // PostgreSQL: 400 pipelined queries of a 64 KiB row, never read.
    let mut stalled = pg::login(server.pg_port);
    let batch = pg::query("SELECT value FROM kv WHERE key = 'big'").repeat(400);
    let _ = stalled.write_all(&batch);
    let received = drain_until_closed(&mut stalled);
    assert!(received < 400 * value_len, "every row arrived: no limit");
    assert_eq!(
        info_field(&mut con, "client_output_buffer_limit_disconnections"),
        1
    );
    // HTTP: 400 pipelined GETs of the value, never read.
    let mut stalled = connect(server.http_port);
    let batch = b"GET /api/v1/kv/big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(400);
    let _ = stalled.write_all(&batch);
    let received = drain_until_closed(&mut stalled);
    assert!(received < 400 * value_len, "every reply arrived: no limit");
    assert_eq!(
        info_field(&mut con, "client_output_buffer_limit_disconnections"),
        2
    );
}

// ------------------------------------------------------ PostgreSQL limits

#[test]
fn postgres_message_over_pg_max_message_bytes_is_fatal_54000() {
    let server = TestServer::start_with(|config| config.pg_max_message_bytes = 4096);
    let mut conn = pg::login(server.pg_port);
    let fits = format!("INSERT INTO kv VALUES ('a', '{}')", "x".repeat(3000));
    conn.write_all(&pg::query(&fits)).unwrap();
    assert_eq!(pg::until_ready(&mut conn), ["C INSERT 0 1", "Z I"]);
    let too_long = format!("INSERT INTO kv VALUES ('b', '{}')", "x".repeat(5000));
    conn.write_all(&pg::query(&too_long)).unwrap();
    let error = pg::expect_fatal_then_close(&mut conn);
    assert!(error.starts_with("FATAL 54000 "), "{error}");
    // A header announcing 1 GB is refused without waiting for the body.
    let mut conn = pg::login(server.pg_port);
    let mut header = vec![b'Q'];
    header.extend_from_slice(&1_000_000_000i32.to_be_bytes());
    conn.write_all(&header).unwrap();
    let error = pg::expect_fatal_then_close(&mut conn);
    assert!(error.starts_with("FATAL 54000 "), "{error}");
}

#[test]
fn postgres_prepared_statements_over_the_limit_54000() {
    let server = TestServer::start_with(|config| config.pg_max_prepared_statements = 2);
    let mut client = server.pg_client();
    let _first = client
        .prepare("SELECT value FROM kv WHERE key = $1")
        .unwrap();
    let second = client.prepare("INSERT INTO kv VALUES ($1, $2)").unwrap();
    let error = client
        .prepare("DELETE FROM kv WHERE key = $1")
        .expect_err("a third statement");
    assert_eq!(
        error.code(),
        Some(&SqlState::PROGRAM_LIMIT_EXCEEDED),
        "{error}"
    );
    // The session goes on with the statements it has.
    assert_eq!(client.execute(&second, &[&"k", &"v"]).unwrap(), 1);
}

#[test]
fn postgres_portals_over_the_limit_54000() {
    let server = TestServer::start_with(|config| config.pg_max_portals = 2);
    let mut conn = pg::login(server.pg_port);
    let mut batch = pg::parse("q", "SELECT key FROM kv");
    for portal in ["p1", "p2", "p3"] {
        batch.extend(pg::bind(portal, "q", &[]));
    }
    batch.extend(pg::sync());
    conn.write_all(&batch).unwrap();
    let messages = pg::until_ready(&mut conn);
    assert_eq!(messages[..3], ["1", "2", "2"], "{messages:?}");
    assert!(messages[3].starts_with("E ERROR 54000 "), "{messages:?}");
    assert_eq!(messages[4..], ["Z I"]);
    // Portals end with the transaction: the next batch has room again.
    let mut batch = pg::bind("p1", "q", &[]);
    batch.extend(pg::bind("p2", "q", &[]));
    batch.extend(pg::sync());
    conn.write_all(&batch).unwrap();
    assert_eq!(pg::until_ready(&mut conn), ["2", "2", "Z I"]);
}

#[test]
fn postgres_copy_row_over_pg_max_copy_row_bytes_54000_and_the_session_goes_on() {
    let server = TestServer::start_with(|config| config.pg_max_copy_row_bytes = 1024);
    let mut conn = pg::login(server.pg_port);
    let start_copy = |conn: &mut TcpStream| {
        conn.write_all(&pg::query("COPY kv FROM STDIN")).unwrap();
        let (tag, _) = pg::read(conn).unwrap();
        assert_eq!(tag, b'G', "CopyInResponse");
    };
    // A row at the limit (key, tab, value) fits.
    start_copy(&mut conn);
    let row = format!("fits\t{}\n", "v".repeat(1024 - 5));
    let mut data = pg::copy_data(row.as_bytes());
    data.extend(pg::copy_done());
    conn.write_all(&data).unwrap();
    assert_eq!(pg::until_ready(&mut conn), ["C COPY 1", "Z I"]);
    // A complete row over the limit in one CopyData.
    start_copy(&mut conn);
    let row = format!("long\t{}\n", "v".repeat(2000));
    let mut data = pg::copy_data(b"first\t1\n");
    data.extend(pg::copy_data(row.as_bytes()));
    data.extend(pg::copy_done());
    conn.write_all(&data).unwrap();
    let messages = pg::until_ready(&mut conn);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("E ERROR 54000 COPY row is longer than 1024 bytes"),
        "{messages:?}"
    );
    // A row that never ends, spread over many CopyData messages.
    start_copy(&mut conn);
    let mut data = Vec::new();
    for _ in 0..20 {
        data.extend(pg::copy_data(&[b'x'; 100]));
    }
    conn.write_all(&data).unwrap();
    let messages = pg::until_ready(&mut conn);
    assert!(messages[0].starts_with("E ERROR 54000 "), "{messages:?}");
    // The client goes on sending its COPY; the server ignores the rest
    // (as PostgreSQL) and the session stays usable.
    conn.write_all(&pg::copy_data(b"more\n")).unwrap();
    conn.write_all(&pg::copy_done()).unwrap();
    conn.write_all(&pg::query("SELECT key FROM kv ORDER BY key"))
        .unwrap();
    let messages = pg::until_ready(&mut conn);
    assert_eq!(messages, ["T", "D", "C SELECT 1", "Z I"]);
    // CSV with a quoted newline split across chunks still counts as one row.
    conn.write_all(&pg::query("COPY kv FROM STDIN (FORMAT csv)"))
        .unwrap();
    assert_eq!(pg::read(&mut conn).unwrap().0, b'G');
    let mut data = pg::copy_data(b"csv,\"a\n");
    data.extend(pg::copy_data(b"b\"\n"));
    data.extend(pg::copy_done());
    conn.write_all(&data).unwrap();
    assert_eq!(pg::until_ready(&mut conn), ["C COPY 1", "Z I"]);
    let mut client = server.pg_client();
    let row = client
        .query_one("SELECT value FROM kv WHERE key = 'csv'", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "a\nb");
}

// ------------------------------------------------------------ idle timeouts

#[test]
fn resp_timeout_closes_idle_clients_silently() {
    let server = TestServer::start_with(|config| config.idle_timeout_s = 2);
    let mut idle = server.raw();
    exchange(&mut idle, b"PING\r\n", b"+PONG\r\n");
    // Inside MULTI too, as Redis.
    let mut in_multi = server.raw();
    exchange(&mut in_multi, b"MULTI\r\n", b"+OK\r\n");
    // A client that keeps talking stays.
    let mut busy = server.raw();
    let until = Instant::now() + Duration::from_millis(3500);
    while Instant::now() < until {
        exchange(&mut busy, b"PING\r\n", b"+PONG\r\n");
        thread::sleep(Duration::from_millis(100));
    }
    expect_closed(&mut idle);
    expect_closed(&mut in_multi);
    exchange(&mut busy, b"PING\r\n", b"+PONG\r\n");
    drop(busy); // before it falls idle in turn
                // HTTP keep-alive connections are closed the same way.
    let mut http = connect(server.http_port);
    http.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let reply = read_until_closed(&mut http);
    assert!(
        reply.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let mut con = server.client();
    assert_eq!(info_field(&mut con, "idle_timeout_disconnections"), 3);
    // 0 turns it off (live).
    config_set(&mut con, "timeout", "0");
    assert_eq!(config_get(&mut con, "timeout"), "0");
}

#[test]
fn pg_client_idle_timeout_sends_57p05_outside_transactions() {
    let server = TestServer::start_with(|config| config.pg_client_idle_timeout_s = 2);
    let mut idle = pg::login(server.pg_port);
    let mut in_transaction = pg::login(server.pg_port);
    in_transaction.write_all(&pg::query("BEGIN")).unwrap();
    assert_eq!(pg::until_ready(&mut in_transaction), ["C BEGIN", "Z T"]);
    let error = pg::expect_fatal_then_close(&mut idle);
    assert_eq!(
        error,
        "FATAL 57P05 terminating connection due to idle-session timeout"
    );
    // Well past the limit, the open transaction is still there (as
    // PostgreSQL's idle_session_timeout and PgBouncer's client_idle_timeout).
    thread::sleep(Duration::from_millis(3000));
    in_transaction
        .write_all(&pg::query("INSERT INTO kv VALUES ('t', '1')"))
        .unwrap();
    assert_eq!(
        pg::until_ready(&mut in_transaction),
        ["C INSERT 0 1", "Z T"]
    );
    in_transaction.write_all(&pg::query("COMMIT")).unwrap();
    assert_eq!(pg::until_ready(&mut in_transaction), ["C COMMIT", "Z I"]);
    // Once it is out of the transaction, the limit applies.
    let error = pg::expect_fatal_then_close(&mut in_transaction);
    assert!(error.starts_with("FATAL 57P05 "), "{error}");
    // The RESP `timeout` is separate (0 here): RESP clients stay.
    let mut con = server.client();
    assert_eq!(info_field(&mut con, "idle_timeout_disconnections"), 2);
    assert_eq!(config_get(&mut con, "pg-client-idle-timeout-s"), "2");
}

// --------------------------------------------------- authentication timeout

#[test]
fn pg_auth_timeout_drops_a_slowloris_startup() {
    let server = TestServer::start_with(|config| config.auth_timeout_ms = 2000);
    let mut slow = connect(server.pg_port);
    let packet = pg::startup(&[("user", "tester"), ("database", "kv")]);
    let mut writer = slow.try_clone().unwrap();
    // One byte every 200 ms: the startup packet would take 6 s.
    let trickle = thread::spawn(move || {
        for byte in packet {
            if writer.write_all(&[byte]).is_err() {
                return true; // closed by the server
            }
            thread::sleep(Duration::from_millis(200));
        }
        false
    });
    let error = pg::expect_fatal_then_close(&mut slow);
    assert_eq!(error, "FATAL 57014 canceling authentication due to timeout");
    // A client that logs in promptly is not affected afterwards.
    let mut client = server.pg_client();
    thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        client.query_one("SELECT 1", &[]).unwrap().get::<_, i32>(0),
        1
    );
    let _ = trickle.join();
    let mut con = server.client();
    assert_eq!(info_field(&mut con, "auth_timeout_disconnections"), 1);
}

#[test]
fn pg_auth_timeout_drops_a_client_that_never_answers_the_password_request() {
    let server = TestServer::start_with(|config| {
        config.auth_timeout_ms = 500;
        config.pg_users = vec![("alice".into(), "secret".into())];
    });
    let mut conn = connect(server.pg_port);
    conn.write_all(&pg::startup(&[("user", "alice"), ("database", "kv")]))
        .unwrap();
    let (tag, _) = pg::read(&mut conn).unwrap();
    assert_eq!(tag, b'R', "an authentication request");
    let error = pg::expect_fatal_then_close(&mut conn);
    assert_eq!(error, "FATAL 57014 canceling authentication due to timeout");
}

#[test]
fn resp_auth_timeout_only_while_a_password_is_required() {
    let server = TestServer::start_with(|config| {
        config.auth_timeout_ms = 2000;
        config.requirepass = Some("s3cret".into());
    });
    let mut unauthenticated = server.raw();
    exchange(
        &mut unauthenticated,
        b"PING\r\n",
        b"-NOAUTH Authentication required.\r\n",
    );
    let mut authenticated = server.raw();
    exchange(&mut authenticated, b"AUTH s3cret\r\n", b"+OK\r\n");
    expect_closed(&mut unauthenticated);
    thread::sleep(Duration::from_millis(2500));
    exchange(&mut authenticated, b"PING\r\n", b"+PONG\r\n");
    let url = format!("redis://:s3cret@127.0.0.1:{}/", server.port);
    let mut con = redis::Client::open(url)
        .unwrap()
        .get_connection_with_timeout(PATIENCE)
        .unwrap();
    assert_eq!(info_field(&mut con, "auth_timeout_disconnections"), 1);
    // Without a password, nobody has to authenticate.
    config_set(&mut con, "requirepass", "");
    let mut open = server.raw();
    exchange(&mut open, b"PING\r\n", b"+PONG\r\n");
    thread::sleep(Duration::from_millis(2500));
    exchange(&mut open, b"PING\r\n", b"+PONG\r\n");
}

// ------------------------------------------------------ CONFIG GET / SET

#[test]
fn limit_settings_through_config_get_and_set() {
    let server = TestServer::start();
    let mut con = server.client();
    for (name, default) in [
        ("maxclients", "10000"),
        ("resp-maxclients", "0"),
        ("pg-maxclients", "0"),
        ("http-maxclients", "0"),
        ("timeout", "0"),
        ("pg-client-idle-timeout-s", "0"),
        ("auth-timeout-ms", "60000"),
        ("pg-max-copy-row-bytes", "67108864"),
        ("pg-max-message-bytes", "67108864"),
        ("pg-max-prepared-statements", "1000"),
        ("pg-max-portals", "100"),
        ("proto-max-bulk-len", "536870912"),
        ("max-multibulk-count", "1048576"),
        ("client-query-buffer-limit", "1073741824"),
        (
            "client-output-buffer-limit",
            "normal 268435456 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
    ] {
        assert_eq!(config_get(&mut con, name), default, "{name}");
    }
    for (name, value, shown) in [
        ("resp-maxclients", "5", "5"),
        ("pg-maxclients", "6", "6"),
        ("http-maxclients", "7", "7"),
        ("timeout", "300", "300"),
        ("pg-client-idle-timeout-s", "600", "600"),
        ("auth-timeout-ms", "10000", "10000"),
        ("pg-max-copy-row-bytes", "1mb", "1048576"),
    ] {
        config_set(&mut con, name, value);
        assert_eq!(config_get(&mut con, name), shown, "{name}");
    }
    // Redis's classes: only those named change; replica is slave.
    config_set(
        &mut con,
        "client-output-buffer-limit",
        "normal 64mb 16mb 30",
    );
    config_set(&mut con, "client-output-buffer-limit", "replica 1mb 1mb 1");
    assert_eq!(
        config_get(&mut con, "client-output-buffer-limit"),
        "normal 67108864 16777216 30 slave 1048576 1048576 1 pubsub 33554432 8388608 60"
    );
    let mut stream = server.raw();
    let failed = |name: &str, reason: &str| {
        format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}\r\n")
    };
    for (request, name, reason) in [
        (
            "CONFIG SET timeout -1\r\n",
            "timeout",
            "argument must be between 0 and 2147483647 inclusive",
        ),
        (
            "CONFIG SET timeout abc\r\n",
            "timeout",
            "argument couldn't be parsed into an integer",
        ),
        (
            "CONFIG SET client-output-buffer-limit \"master 1 1 1\"\r\n",
            "client-output-buffer-limit",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "CONFIG SET client-output-buffer-limit \"normal 1mb 1mb -1\"\r\n",
            "client-output-buffer-limit",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "CONFIG SET client-output-buffer-limit \"normal 1mb 1mb\"\r\n",
            "client-output-buffer-limit",
            "Wrong number of arguments in buffer limit configuration.",
        ),
    ] {
        exchange(
            &mut stream,
            request.as_bytes(),
            failed(name, reason).as_bytes(),
        );
    }
    // Nothing changed by the failures.
    assert_eq!(config_get(&mut con, "timeout"), "300");
    assert!(config_get(&mut con, "client-output-buffer-limit").starts_with("normal 67108864 "));
}

/// The settings work as flags and file keys too, with the byte-count form.
#[test]
fn limit_settings_parse_from_flags() {
    let args = [
        "--client-output-buffer-limit",
        "normal 32mb 8mb 10",
        "--timeout",
        "5",
        "--pg-maxclients",
        "3",
        "--auth-timeout-ms",
        "2000",
    ];
    let config = match corewire::config::parse_args_with_env(
        args.iter().map(|s| s.to_string()).collect(),
        &|_| None,
    ) {
        Ok(corewire::config::Command::Run(loaded)) => loaded.config,
        other => panic!("{other:?}"),
    };
    assert_eq!(config.max_output_buffer_bytes, 32 << 20);
    assert_eq!(config.output_buffer_soft_bytes, 8 << 20);
    assert_eq!(config.output_buffer_soft_seconds, 10);
    assert_eq!(config.idle_timeout_s, 5);
    assert_eq!(config.pg_max_clients, 3);
    assert_eq!(config.auth_timeout_ms, 2000);
    let config = match corewire::config::parse_args_with_env(
        vec!["--client-output-buffer-limit".into(), "4mb".into()],
        &|_| None,
    ) {
        Ok(corewire::config::Command::Run(loaded)) => loaded.config,
        other => panic!("{other:?}"),
    };
    assert_eq!(config.max_output_buffer_bytes, 4 << 20);
}
