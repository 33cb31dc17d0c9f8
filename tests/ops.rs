//! Operations: CONFIG SET and reloads applied on every worker without
//! dropping a connection, and the graceful drain of a shutdown.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{config_get, exchange, TestServer};
use corewire::config::Source;

/// Bounds every wait on the server; a failure guard, not a speed check.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

fn pg_login(
    server: &TestServer,
    user: &str,
    password: &str,
) -> Result<postgres::Client, postgres::Error> {
    postgres::Client::connect(
        &format!("{} password={password}", server.pg_url(user)),
        postgres::NoTls,
    )
}

/// Polls `done` until it holds, within WAIT_LIMIT.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT_LIMIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn config_set_applies_on_every_worker_and_keeps_connections() {
    let server = TestServer::start();
    let mut before = server.client();
    let mut pg_before = server.pg_client();
    let mut admin = server.client();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("pg-user")
        .arg("newbie:s3cret")
        .arg("slowlog-log-slower-than")
        .arg("250")
        .query(&mut admin)
        .unwrap();
    // Each worker keeps its own copy of the user list: log in enough
    // times that both workers' listeners take some of the connections.
    for _ in 0..8 {
        let mut client = pg_login(&server, "newbie", "s3cret").expect("new user logs in");
        let row = client.query_one("SELECT 1::int4", &[]).unwrap();
        assert_eq!(row.get::<_, i32>(0), 1);
        let error = pg_login(&server, "newbie", "wrong")
            .err()
            .expect("wrong password refused");
        assert_eq!(
            error.code(),
            Some(&postgres::error::SqlState::INVALID_PASSWORD)
        );
    }
    assert_eq!(config_get(&mut admin, "slowlog-log-slower-than"), "250");
    // The secret is settable but never shown.
    let shown: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("pg-user")
        .query(&mut admin)
        .unwrap();
    assert!(shown.is_empty(), "{shown:?}");
    // Connections opened before the change still work.
    let pong: String = redis::cmd("PING").query(&mut before).unwrap();
    assert_eq!(pong, "PONG");
    let row = pg_before.query_one("SELECT 2::int4", &[]).unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);
}

#[test]
fn config_set_refuses_restart_settings_and_bad_values() {
    let server = TestServer::start();
    let mut stream = server.raw();
    exchange(
        &mut stream,
        b"CONFIG SET port 1234\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n",
    );
    exchange(
        &mut stream,
        b"CONFIG SET log-level loud\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'log-level') - \"loud\" is not one of error, warn, info, debug\r\n",
    );
    exchange(
        &mut stream,
        b"CONFIG SET shutdown-timeout-ms 2500\r\n",
        b"+OK\r\n",
    );
    let mut con = server.client();
    assert_eq!(config_get(&mut con, "shutdown-timeout-ms"), "2500");
    assert_eq!(config_get(&mut con, "http-port"), "0");
}

#[test]
fn reload_reads_the_file_again_and_reports_restart_settings() {
    let server = TestServer::start_with(|config| config.max_clients = 50);
    let path = std::env::temp_dir().join(format!("corewire-reload-{}.toml", std::process::id()));
    let source = Source {
        args: Vec::new(),
        file: Some(path.clone()),
    };
    server.server().shared().set_source(source);
    let mut before = server.client();

    std::fs::write(&path, "maxclients = 60\nthreads = 7\nslowlog-max-len = 9\n").unwrap();
    let report = server.server().shared().reload().expect("reload");
    assert!(
        report.applied.iter().any(|s| s == "maxclients = 60"),
        "{report:?}"
    );
    assert!(
        report.applied.iter().any(|s| s == "slowlog-max-len = 9"),
        "{report:?}"
    );
    assert!(
        report
            .need_restart
            .iter()
            .any(|s| s.starts_with("threads = 7")),
        "{report:?}"
    );
    let mut con = server.client();
    assert_eq!(config_get(&mut con, "maxclients"), "60");
    assert_eq!(config_get(&mut con, "threads"), "2");

    // A broken file changes nothing and says where it is broken.
    std::fs::write(&path, "maxclients = 70\nmaxclient = 1\n").unwrap();
    let error = server.server().shared().reload().unwrap_err();
    assert!(
        error.ends_with(":2: unknown setting \"maxclient\" (did you mean \"maxclients\"?)"),
        "{error}"
    );
    assert_eq!(config_get(&mut con, "maxclients"), "60");
    let pong: String = redis::cmd("PING").query(&mut before).unwrap();
    assert_eq!(pong, "PONG");
    let _ = std::fs::remove_file(&path);
}

/// Waits for the drain to end; returns the connections it closed at its
/// deadline.
fn wait_stopped(server: &TestServer) -> u64 {
    wait_until("every worker to stop", || server.server().is_stopped());
    let forced = &server.server().shared().drain_forced;
    forced.load(std::sync::atomic::Ordering::Relaxed)
}

/// The server answered FATAL 57P01 and closed. The synchronous `postgres`
/// client sometimes sees the close before it reads the FATAL.
fn assert_shut_down(result: Result<(), postgres::Error>) {
    let error = result.expect_err("the server refuses work while it stops");
    match error.code() {
        Some(code) => assert_eq!(code, &postgres::error::SqlState::ADMIN_SHUTDOWN, "{error}"),
        None => assert!(error.is_closed(), "{error}"),
    }
}

/// Connecting fails once every worker has stopped accepting.
fn refused(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn drain_lets_open_transactions_finish_then_stops() {
    let server = TestServer::start_with(|config| config.shutdown_timeout_ms = 60_000);
    let mut multi = server.raw();
    exchange(
        &mut multi,
        b"MULTI\r\nSET drained 1\r\n",
        b"+OK\r\n+QUEUED\r\n",
    );
    let mut pg = server.pg_client();
    let mut txn = pg.transaction().unwrap();
    txn.execute("INSERT INTO kv VALUES ('pg-drained', 'v')", &[])
        .unwrap();
    let mut idle = server.raw();
    exchange(&mut idle, b"PING\r\n", b"+PONG\r\n");

    server.server().begin_drain();
    wait_until("listeners to close", || {
        refused(server.port) && refused(server.pg_port)
    });
    // The idle connection is closed; the ones in a transaction are not.
    let mut byte = [0u8; 1];
    assert_eq!(idle.read(&mut byte).unwrap(), 0, "idle client closed");
    exchange(&mut multi, b"EXEC\r\n", b"*1\r\n+OK\r\n");
    let row = txn
        .query_one("SELECT value FROM kv WHERE key = 'pg-drained'", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "v");
    txn.commit().unwrap();
    // Its next request is refused: the server is going away.
    assert_shut_down(pg.batch_execute("SELECT 1"));
    drop(pg);
    let forced = wait_stopped(&server);
    assert_eq!(forced, 0);
}

#[test]
fn drain_deadline_closes_what_is_still_open() {
    let server = TestServer::start_with(|config| config.shutdown_timeout_ms = 200);
    let mut multi = server.raw();
    exchange(&mut multi, b"MULTI\r\n", b"+OK\r\n");
    let mut pg = server.pg_client();
    pg.batch_execute("BEGIN").unwrap();
    server.server().begin_drain();
    let forced = wait_stopped(&server);
    assert_eq!(forced, 2);
    let mut byte = [0u8; 1];
    assert_eq!(multi.read(&mut byte).unwrap_or(0), 0, "MULTI client closed");
    assert_shut_down(pg.batch_execute("COMMIT"));
}

#[test]
fn shutdown_command_checks_its_arguments_and_needs_the_main_loop() {
    let server = TestServer::start();
    let mut stream = server.raw();
    exchange(&mut stream, b"SHUTDOWN LATER\r\n", b"-ERR syntax error\r\n");
    exchange(
        &mut stream,
        b"SHUTDOWN ABORT\r\n",
        b"-ERR SHUTDOWN ABORT is not supported: a graceful shutdown cannot be called back\r\n",
    );
    // Started through the library (as corewire_start does), the host owns
    // the process: SHUTDOWN is refused, as Redis refuses when it cannot.
    exchange(
        &mut stream,
        b"SHUTDOWN NOSAVE\r\n",
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n",
    );
    stream.write_all(b"PING\r\n").unwrap();
    exchange(&mut stream, b"", b"+PONG\r\n");
}
