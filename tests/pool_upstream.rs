//! The upstream login state machine (src/pool/upstream_startup.rs) against
//! a real PostgreSQL (tests/common/upstream_pg.rs): SCRAM-SHA-256, md5 and
//! trust logins, the server's own errors passed through unchanged, and a
//! CancelRequest built here cancelling a running query.
//!
//! The machine is sans-I/O; these tests drive it over plain TcpStreams,
//! blocking or non-blocking with poll(2) as a worker's loop would. Time
//! bounds are liveness bounds only (a hung server fails the test instead of
//! hanging it), never performance assertions.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

use common::pg_wire;
use common::upstream_pg::{
    UpstreamPg, DATABASE, MD5_PASSWORD, MD5_USER, SCRAM_PASSWORD, SCRAM_USER, TRUST_USER,
};
use corewire::pg::protocol::TxnStatus;
use corewire::pool::upstream_startup::{
    cancel_request, AuthMethod, StartupError, Step, UpstreamLogin, UpstreamReady, UpstreamStartup,
    DEFAULT_MAX_MESSAGE_BYTES, TERMINATE,
};

/// How long any one wait on the server may take before the test fails.
const LIVENESS: Duration = Duration::from_secs(30);

fn login(user: &str, password: Option<&str>, database: &str) -> UpstreamLogin {
    UpstreamLogin {
        user: user.into(),
        database: database.into(),
        password: password.map(str::to_string),
        parameters: vec![
            ("application_name".into(), "corewire-pool-test".into()),
            ("DateStyle".into(), "ISO, DMY".into()),
        ],
    }
}

/// How the test reads the socket.
#[derive(Clone, Copy)]
enum Reads {
    /// Blocking reads of up to this many bytes.
    Blocking(usize),
    /// Non-blocking reads of up to this many bytes, waiting in poll(2).
    Polled(usize),
}

/// Waits until `stream` is readable (`POLLIN`) or writable (`POLLOUT`).
fn wait_for(stream: &TcpStream, events: libc::c_short) {
    let mut fds = libc::pollfd {
        fd: stream.as_raw_fd(),
        events,
        revents: 0,
    };
    let timeout_ms = LIVENESS.as_millis() as libc::c_int;
    // SAFETY: one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut fds, 1, timeout_ms) };
    assert!(
        ready > 0,
        "socket not ready within {LIVENESS:?} (poll returned {ready})"
    );
}

fn write_all(stream: &mut TcpStream, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => panic!("upstream closed the connection while we wrote"),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => wait_for(stream, libc::POLLOUT),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("writing to upstream: {e}"),
        }
    }
}

/// Connects and runs the startup to its end.
fn connect(
    pg: &UpstreamPg,
    login: &UpstreamLogin,
    reads: Reads,
) -> (TcpStream, Result<UpstreamReady, StartupError>) {
    let mut stream = TcpStream::connect(("127.0.0.1", pg.port)).expect("connect to upstream");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    stream
        .set_read_timeout(Some(LIVENESS))
        .expect("read timeout");
    let read_bytes = match reads {
        Reads::Blocking(n) => n,
        Reads::Polled(n) => {
            stream.set_nonblocking(true).expect("non-blocking");
            n
        }
    };
    let mut out = Vec::new();
    let mut startup =
        UpstreamStartup::begin(login, DEFAULT_MAX_MESSAGE_BYTES, &mut out).expect("valid login");
    write_all(&mut stream, &out);
    out.clear();
    let mut buf = vec![0u8; read_bytes];
    let deadline = Instant::now() + LIVENESS;
    loop {
        assert!(
            Instant::now() < deadline,
            "startup did not finish within {LIVENESS:?}"
        );
        let step = match stream.read(&mut buf) {
            Ok(0) => startup.feed_eof(),
            Ok(n) => startup.feed(&buf[..n], &mut out),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait_for(&stream, libc::POLLIN);
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("reading from upstream: {e}"),
        };
        match step {
            Step::NeedInput => {}
            Step::Responded => {
                write_all(&mut stream, &out);
                out.clear();
            }
            Step::Ready(ready) => {
                stream.set_nonblocking(false).expect("blocking again");
                return (stream, Ok(ready));
            }
            Step::Failed(error) => return (stream, Err(error)),
        }
    }
}

fn connect_ok(pg: &UpstreamPg, login: &UpstreamLogin, reads: Reads) -> (TcpStream, UpstreamReady) {
    match connect(pg, login, reads) {
        (stream, Ok(ready)) => (stream, ready),
        (_, Err(error)) => panic!(
            "login as {:?} failed: {error}\n{}",
            login.user,
            pg.server_log()
        ),
    }
}

fn connect_err(pg: &UpstreamPg, login: &UpstreamLogin) -> StartupError {
    match connect(pg, login, Reads::Blocking(8192)) {
        (_, Err(error)) => error,
        (_, Ok(ready)) => panic!("login as {:?} succeeded: {ready:?}", login.user),
    }
}

/// Runs a simple query on a logged-in connection; the messages up to and
/// including ReadyForQuery.
fn simple_query(stream: &mut TcpStream, sql: &str) -> Vec<(u8, Vec<u8>)> {
    write_all(stream, &pg_wire::query(sql));
    let mut messages = Vec::new();
    loop {
        let message = pg_wire::read(stream).expect("a reply before the connection closed");
        let done = message.0 == b'Z';
        messages.push(message);
        if done {
            return messages;
        }
    }
}

/// The first column of the first DataRow, as text.
fn first_value(messages: &[(u8, Vec<u8>)]) -> String {
    let (_, row) = messages
        .iter()
        .find(|(tag, _)| *tag == b'D')
        .unwrap_or_else(|| panic!("no DataRow in {messages:?}"));
    let len = i32::from_be_bytes(row[2..6].try_into().unwrap()) as usize;
    String::from_utf8(row[6..6 + len].to_vec()).unwrap()
}

/// What every successful login must show, and that the connection works.
fn check_ready(stream: &mut TcpStream, ready: &UpstreamReady, user: &str) {
    let key = ready.backend_key.expect("PostgreSQL sends BackendKeyData");
    assert!(key.process_id > 0, "{key:?}");
    assert_eq!(ready.txn_status, TxnStatus::Idle);
    assert!(ready.trailing_bytes.is_empty());
    let params = &ready.parameters;
    assert!(
        params.get("server_version").is_some_and(|v| !v.is_empty()),
        "{params:?}"
    );
    assert_eq!(
        params.get("server_encoding").map(String::as_str),
        Some("UTF8")
    );
    assert_eq!(
        params.get("integer_datetimes").map(String::as_str),
        Some("on")
    );
    assert_eq!(
        params.get("session_authorization").map(String::as_str),
        Some(user)
    );
    // The extra startup parameters reached the server.
    assert_eq!(
        params.get("application_name").map(String::as_str),
        Some("corewire-pool-test")
    );
    assert_eq!(
        params.get("DateStyle").map(String::as_str),
        Some("ISO, DMY")
    );

    let reply = simple_query(
        stream,
        "SELECT pg_backend_pid()::text || ' ' || current_user",
    );
    assert_eq!(first_value(&reply), format!("{} {user}", key.process_id));
    assert_eq!(reply.last().map(|m| m.1.as_slice()), Some(&b"I"[..]));
}

#[test]
fn scram_login_reaches_ready() {
    let pg = UpstreamPg::shared();
    let login = login(SCRAM_USER, Some(SCRAM_PASSWORD), DATABASE);
    let (mut stream, ready) = connect_ok(&pg, &login, Reads::Blocking(8192));
    assert_eq!(ready.auth_method, AuthMethod::ScramSha256);
    check_ready(&mut stream, &ready, SCRAM_USER);
    write_all(&mut stream, &TERMINATE);
}

#[test]
fn scram_login_one_byte_at_a_time_non_blocking() {
    let pg = UpstreamPg::shared();
    let login = login(SCRAM_USER, Some(SCRAM_PASSWORD), DATABASE);
    for reads in [Reads::Polled(1), Reads::Blocking(1), Reads::Polled(7)] {
        let (mut stream, ready) = connect_ok(&pg, &login, reads);
        assert_eq!(ready.auth_method, AuthMethod::ScramSha256);
        check_ready(&mut stream, &ready, SCRAM_USER);
    }
}

#[test]
fn md5_login_reaches_ready() {
    let pg = UpstreamPg::shared();
    let login = login(MD5_USER, Some(MD5_PASSWORD), DATABASE);
    for reads in [Reads::Blocking(8192), Reads::Polled(1)] {
        let (mut stream, ready) = connect_ok(&pg, &login, reads);
        assert_eq!(ready.auth_method, AuthMethod::Md5);
        check_ready(&mut stream, &ready, MD5_USER);
    }
}

#[test]
fn trust_login_reaches_ready() {
    let pg = UpstreamPg::shared();
    // A configured password is simply not asked for.
    for password in [None, Some("unused")] {
        let login = login(TRUST_USER, password, DATABASE);
        let (mut stream, ready) = connect_ok(&pg, &login, Reads::Polled(3));
        assert_eq!(ready.auth_method, AuthMethod::Trust);
        check_ready(&mut stream, &ready, TRUST_USER);
    }
}

/// The upstream's ErrorResponse, or a failure naming what came instead.
fn upstream_error(error: StartupError) -> corewire::pool::upstream_startup::UpstreamError {
    match error {
        StartupError::Upstream(e) => e,
        StartupError::Local(e) => panic!("expected the server's error, got a local one: {e}"),
    }
}

#[test]
fn wrong_password_is_the_servers_error_unchanged() {
    let pg = UpstreamPg::shared();
    for user in [SCRAM_USER, MD5_USER] {
        let error = upstream_error(connect_err(&pg, &login(user, Some("wrong"), DATABASE)));
        assert_eq!(error.code(), Some("28P01"), "{error}");
        assert_eq!(error.severity(), Some("FATAL"));
        assert_eq!(
            error.message(),
            Some(format!("password authentication failed for user \"{user}\"").as_str())
        );
        // Kept whole, to be forwarded byte for byte.
        assert_eq!(error.raw[0], b'E');
        let length = u32::from_be_bytes(error.raw[1..5].try_into().unwrap()) as usize;
        assert_eq!(length + 1, error.raw.len());
        assert_eq!(pg_wire::error_fields(&error.raw[5..]), error.fields);
    }
}

#[test]
fn missing_password_and_unknown_role() {
    let pg = UpstreamPg::shared();
    // The server asks (SCRAM); there is nothing to answer with.
    match connect_err(&pg, &login(SCRAM_USER, None, DATABASE)) {
        StartupError::Local(e) => {
            assert_eq!(e.code, "08001");
            assert!(e.message.contains("none is configured"), "{e}");
        }
        other => panic!("expected a local error, got {other}"),
    }
    // No pg_hba.conf line: the server's 28000.
    let error = upstream_error(connect_err(&pg, &login("nobody", Some("x"), DATABASE)));
    assert_eq!(error.code(), Some("28000"), "{error}");
}

#[test]
fn nonexistent_database_is_3d000() {
    let pg = UpstreamPg::shared();
    // trust, and SCRAM (the database is checked after authentication).
    for (user, password) in [(TRUST_USER, None), (SCRAM_USER, Some(SCRAM_PASSWORD))] {
        let error = upstream_error(connect_err(&pg, &login(user, password, "no_such_db")));
        assert_eq!(error.code(), Some("3D000"), "{error}");
        assert_eq!(error.severity(), Some("FATAL"));
        assert_eq!(
            error.message(),
            Some("database \"no_such_db\" does not exist")
        );
    }
}

#[test]
fn cancel_request_cancels_a_running_query() {
    let pg = UpstreamPg::shared();
    let login = login(SCRAM_USER, Some(SCRAM_PASSWORD), DATABASE);
    let (mut stream, ready) = connect_ok(&pg, &login, Reads::Blocking(8192));
    let key = ready.backend_key.expect("BackendKeyData");

    write_all(&mut stream, &pg_wire::query("SELECT pg_sleep(10)"));
    // A cancel that lands while the backend is still idle is dropped:
    // wait until it is running the query.
    let mut admin = pg.admin();
    let deadline = Instant::now() + LIVENESS;
    loop {
        let active: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE pid = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%'",
                &[&key.process_id],
            )
            .expect("pg_stat_activity")
            .get(0);
        if active == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the query never showed as active"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // The cancel goes on a connection of its own, which the server closes
    // without a reply.
    let mut cancel = TcpStream::connect(("127.0.0.1", pg.port)).expect("connect for cancel");
    cancel
        .set_read_timeout(Some(LIVENESS))
        .expect("read timeout");
    write_all(&mut cancel, &cancel_request(key));
    let mut rest = Vec::new();
    cancel
        .read_to_end(&mut rest)
        .expect("server closes the cancel connection");
    assert!(rest.is_empty(), "CancelRequest has no reply: {rest:?}");

    // Without the cancel the sleep would end in a DataRow, not an error.
    let reply = {
        let mut messages = Vec::new();
        loop {
            let message = pg_wire::read(&mut stream).expect("reply to the cancelled query");
            let done = message.0 == b'Z';
            messages.push(message);
            if done {
                break messages;
            }
        }
    };
    let (_, body) = reply
        .iter()
        .find(|(tag, _)| *tag == b'E')
        .unwrap_or_else(|| panic!("no ErrorResponse: {reply:?}"));
    let fields = pg_wire::error_fields(body);
    let field = |kind: u8| {
        fields
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field(b'C'), Some("57014"), "{fields:?}");
    assert_eq!(field(b'M'), Some("canceling statement due to user request"));

    // The connection is still good.
    let reply = simple_query(&mut stream, "SELECT 41 + 1");
    assert_eq!(first_value(&reply), "42");
}
