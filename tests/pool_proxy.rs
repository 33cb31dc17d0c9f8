//! Upstream pooling end to end: clients speak to corewire with the
//! `postgres` crate (and raw wire messages where the crate cannot do what
//! the test needs), corewire serves them through its pool from a real
//! PostgreSQL (tests/common/upstream_pg.rs).
//!
//! Each test gets a database of its own on the shared upstream cluster
//! (`pool_<test>`, owned by the SCRAM role the `[databases]` entry logs in
//! as), so the tests can run at the same time; the restart test has a
//! cluster of its own. Clients log in to corewire over trusted loopback
//! (no pg-users) under any user name; the entry's user and password are
//! what corewire uses upstream.
//!
//! Where a test needs two clients to share one server connection, it runs
//! one worker with pool_size=1 and checks that they did (same backend pid).
//! Every test body runs under a bound ([`LIVENESS`]): a hang fails the
//! test instead of stalling the run. Waits are liveness bounds, never
//! speed checks.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::pg_wire;
use common::upstream_pg::{
    UpstreamPg, MD5_PASSWORD, MD5_USER, SCRAM_PASSWORD, SCRAM_USER, TRUST_USER,
};
use common::TestServer;
use corewire::pool::config::{DatabaseConfig, PoolMode};
use corewire::Config;
use postgres::error::DbError;
use postgres::{Client, NoTls, SimpleQueryMessage};

/// How long one test may take before it counts as hung.
const LIVENESS: Duration = Duration::from_secs(180);

/// The database name clients ask corewire for.
const POOLED: &str = "app";

// ---------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------

/// Runs `body` on a thread of its own and fails the test when it has not
/// finished within [`LIVENESS`] (a panic inside is the test's failure).
fn bounded(body: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let handle = thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match finished.recv_timeout(LIVENESS) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the test did not finish within {LIVENESS:?}: something hangs")
        }
    }
}

/// Runs `f` on a thread and returns its result, or None when it has not
/// returned within `limit` (the thread is left behind).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

/// A fresh database `dbname` on `pg`, owned by the SCRAM role (so it may
/// create tables and schemas in it). Serialized: CREATE DATABASE copies
/// template1, which concurrent creations can trip over.
fn fresh_database(pg: &UpstreamPg, dbname: &str) {
    static CREATING: Mutex<()> = Mutex::new(());
    let _guard = CREATING.lock().unwrap_or_else(|p| p.into_inner());
    let mut admin = pg.admin();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {dbname} OWNER {SCRAM_USER}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {dbname}: {e:?}"));
}

/// A direct (not pooled) connection to `dbname` as the SCRAM role.
fn direct(pg: &UpstreamPg, dbname: &str) -> Client {
    pg.client(SCRAM_USER, dbname, Some(SCRAM_PASSWORD))
        .unwrap_or_else(|e| panic!("direct connection to {dbname}: {e:?}"))
}

/// A `[databases]` entry named `name` for `dbname` on `pg` as the SCRAM
/// role, with `extra` keys appended (`pool_size=2`, ...).
fn entry(pg: &UpstreamPg, name: &str, dbname: &str, extra: &str) -> DatabaseConfig {
    entry_as(pg, name, dbname, SCRAM_USER, Some(SCRAM_PASSWORD), extra)
}

fn entry_as(
    pg: &UpstreamPg,
    name: &str,
    dbname: &str,
    user: &str,
    password: Option<&str>,
    extra: &str,
) -> DatabaseConfig {
    let mut text = format!(
        "host=127.0.0.1 port={} dbname={dbname} user={user}",
        pg.port
    );
    if let Some(password) = password {
        text.push_str(&format!(" password={password}"));
    }
    if !extra.is_empty() {
        text.push(' ');
        text.push_str(extra);
    }
    DatabaseConfig::parse(name, &text).unwrap_or_else(|e| panic!("entry {name} = {text}: {e:?}"))
}

/// A corewire with these databases and pool mode; `adjust` may change the
/// rest (workers, timeouts).
fn pool_server(
    databases: Vec<DatabaseConfig>,
    mode: PoolMode,
    adjust: impl FnOnce(&mut Config),
) -> TestServer {
    TestServer::start_with(|config| {
        config.databases = databases;
        config.pool_mode = mode;
        adjust(config);
    })
}

/// The client-side configuration for `user` on the pooled database.
fn client_config(server: &TestServer, user: &str) -> postgres::Config {
    client_config_for(server, user, POOLED)
}

fn client_config_for(server: &TestServer, user: &str, database: &str) -> postgres::Config {
    let mut config = postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(server.pg_port)
        .user(user)
        .dbname(database)
        .connect_timeout(Duration::from_secs(30));
    config
}

fn connect(server: &TestServer, user: &str) -> Client {
    client_config(server, user)
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("{user} logs in to {POOLED} through corewire: {e:?}"))
}

/// The single value a simple query returns (NULL as None).
fn scalar(client: &mut Client, sql: &str) -> Option<String> {
    let messages = client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let rows: Vec<_> = messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_string)),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 1, "{sql}: one row, got {rows:?}");
    rows.into_iter().next().unwrap()
}

fn value(client: &mut Client, sql: &str) -> String {
    scalar(client, sql).unwrap_or_else(|| panic!("{sql}: NULL"))
}

fn backend_pid(client: &mut Client) -> String {
    value(client, "SELECT pg_backend_pid()")
}

/// Fails unless `client` is served by the upstream database `dbname`
/// (corewire's own engine would answer some of these tests' queries too).
fn assert_upstream(client: &mut Client, dbname: &str) {
    let got = client
        .simple_query("SELECT current_database()")
        .map_err(|e| format!("{e:?}"))
        .map(|messages| {
            messages.into_iter().find_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
        });
    assert_eq!(
        got,
        Ok(Some(dbname.to_string())),
        "the client should be served by upstream database {dbname}"
    );
}

/// The server error inside `error` (panics, showing it, when there is
/// none).
fn db_error(error: &postgres::Error) -> &DbError {
    error
        .as_db_error()
        .unwrap_or_else(|| panic!("expected a server error, got: {error:?}"))
}

fn code_of(error: &postgres::Error) -> &str {
    db_error(error).code().code()
}

/// The error `sql` fails with (panics when it succeeds).
fn fails(client: &mut Client, sql: &str) -> postgres::Error {
    match client.simple_query(sql) {
        Ok(messages) => panic!("{sql}: succeeded ({} messages)", messages.len()),
        Err(error) => error,
    }
}

/// Server connections the upstream has open to `dbname` (client backends,
/// seen from the `postgres` database so the looker is not counted).
fn upstream_backends(pg: &UpstreamPg, dbname: &str) -> i64 {
    let mut admin = pg.admin();
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = $1 AND backend_type = 'client backend'",
            &[&dbname],
        )
        .unwrap()
        .get(0)
}

// ---------------------------------------------------------------------
// Raw wire clients (for what the postgres crate cannot do: vanish
// without a Terminate, watch a socket the server closes)
// ---------------------------------------------------------------------

/// One backend message, or why there is none.
enum Received {
    Message(u8, Vec<u8>),
    Closed,
    TimedOut,
}

fn receive(stream: &mut TcpStream) -> Received {
    let mut header = [0u8; 5];
    if let Err(error) = stream.read_exact(&mut header) {
        return match error.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Received::TimedOut,
            _ => Received::Closed,
        };
    }
    let len = i32::from_be_bytes(header[1..5].try_into().unwrap()) as usize;
    let mut body = vec![0u8; len - 4];
    match stream.read_exact(&mut body) {
        Ok(()) => Received::Message(header[0], body),
        Err(_) => Received::Closed,
    }
}

/// Reads up to ReadyForQuery; returns its status byte and the error
/// fields of any ErrorResponse on the way.
fn until_ready(stream: &mut TcpStream, what: &str) -> (u8, Vec<Vec<(u8, String)>>) {
    let mut errors = Vec::new();
    loop {
        match receive(stream) {
            Received::Message(b'Z', body) => return (body[0], errors),
            Received::Message(b'E', body) => errors.push(pg_wire::error_fields(&body)),
            Received::Message(_, _) => {}
            Received::Closed => panic!("{what}: connection closed; errors so far {errors:?}"),
            Received::TimedOut => panic!("{what}: no ReadyForQuery in time; errors {errors:?}"),
        }
    }
}

/// A raw client logged in to the pooled database (trusted loopback).
fn raw_login(server: &TestServer, user: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", server.pg_port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(&pg_wire::startup(&[("user", user), ("database", POOLED)]))
        .unwrap();
    let (status, errors) = until_ready(&mut stream, "raw login");
    assert!(errors.is_empty(), "raw login: {errors:?}");
    assert_eq!(status, b'I');
    stream
}

/// Sends `sql` on a raw client and expects what a client waiting too long
/// for a server gets: FATAL 08P01 "query_wait_timeout", then the close.
/// (Raw, because the `postgres` crate loses a FATAL that arrives together
/// with the close: it then reports only `Closed`.)
fn expect_query_wait_timeout(stream: &mut TcpStream, sql: &str) -> Result<(), String> {
    stream.write_all(&pg_wire::query(sql)).unwrap();
    let mut seen = Vec::new();
    loop {
        match receive(stream) {
            Received::Message(b'E', body) => {
                let fields = pg_wire::error_fields(&body);
                let get = |code: u8| {
                    fields
                        .iter()
                        .find(|(c, _)| *c == code)
                        .map(|(_, v)| v.as_str())
                };
                if get(b'S') == Some("FATAL")
                    && get(b'C') == Some("08P01")
                    && get(b'M').is_some_and(|m| m.contains("query_wait_timeout"))
                {
                    return match receive(stream) {
                        Received::Closed => Ok(()),
                        Received::TimedOut => Err(format!("{sql}: not closed after {fields:?}")),
                        Received::Message(tag, _) => {
                            Err(format!("{sql}: message {} after {fields:?}", tag as char))
                        }
                    };
                }
                seen.push(format!("E {fields:?}"));
            }
            Received::Message(tag, _) => seen.push((tag as char).to_string()),
            Received::Closed => return Err(format!("{sql}: closed after {seen:?}")),
            Received::TimedOut => return Err(format!("{sql}: nothing in time after {seen:?}")),
        }
    }
}

// ---------------------------------------------------------------------
// 1. Transaction mode, more clients than servers
// ---------------------------------------------------------------------

/// 8 threads x 50 transactions over pool_size=2 in transaction mode: every
/// update and insert lands exactly once, and the upstream never sees more
/// than 2 connections to the database.
#[test]
fn transaction_mode_many_clients_few_servers_counts_exact() {
    bounded(|| {
        const DB: &str = "pool_t1";
        const THREADS: i32 = 8;
        const ROUNDS: i32 = 50;
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        direct(&pg, DB)
            .batch_execute(
                "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); \
                 INSERT INTO counter VALUES (1, 0); \
                 CREATE TABLE log (thread int NOT NULL, i int NOT NULL, PRIMARY KEY (thread, i))",
            )
            .unwrap();
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=2")],
            PoolMode::Transaction,
            |_| {},
        );

        // Watch the upstream's connection count while the clients run.
        let stop = Arc::new(AtomicBool::new(false));
        let most = Arc::new(AtomicI64::new(0));
        let watcher = {
            let (pg, stop, most) = (pg.clone(), stop.clone(), most.clone());
            thread::spawn(move || {
                let mut admin = pg.admin();
                while !stop.load(Ordering::SeqCst) {
                    let n: i64 = admin
                        .query_one(
                            "SELECT count(*) FROM pg_stat_activity \
                             WHERE datname = $1 AND backend_type = 'client backend'",
                            &[&DB],
                        )
                        .unwrap()
                        .get(0);
                    most.fetch_max(n, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(10));
                }
            })
        };

        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let mut client = connect(&server, &format!("worker{t}"));
                assert_upstream(&mut client, DB);
                thread::spawn(move || {
                    for i in 0..ROUNDS {
                        if i % 2 == 0 {
                            let mut tx = client.transaction().unwrap();
                            let n = tx
                                .execute("UPDATE counter SET n = n + 1 WHERE id = 1", &[])
                                .unwrap_or_else(|e| panic!("thread {t} round {i}: {e:?}"));
                            assert_eq!(n, 1);
                            tx.commit()
                                .unwrap_or_else(|e| panic!("thread {t} round {i}: {e:?}"));
                        } else {
                            let n = client
                                .execute("INSERT INTO log (thread, i) VALUES ($1, $2)", &[&t, &i])
                                .unwrap_or_else(|e| panic!("thread {t} round {i}: {e:?}"));
                            assert_eq!(n, 1);
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("client thread");
        }
        stop.store(true, Ordering::SeqCst);
        watcher.join().unwrap();

        let mut check = direct(&pg, DB);
        let n: i32 = check
            .query_one("SELECT n FROM counter WHERE id = 1", &[])
            .unwrap()
            .get(0);
        let logged: i64 = check
            .query_one("SELECT count(*) FROM log", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, THREADS * ROUNDS / 2, "counter updates");
        assert_eq!(logged, i64::from(THREADS * ROUNDS / 2), "inserted rows");
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=2).contains(&most),
            "upstream connections to {DB} peaked at {most}, pool_size is 2"
        );
    });
}

// ---------------------------------------------------------------------
// 2. Named prepared statements in transaction mode
// ---------------------------------------------------------------------

/// Three clients over one server connection, each with its own named
/// statements (the postgres crate names them s0, s1, ... per connection,
/// so the same name means different texts in different clients), run
/// alternately, inside and outside transactions; one client's Close does
/// not break the others.
#[test]
fn prepared_statements_interleave_over_one_server() {
    bounded(|| {
        const DB: &str = "pool_t2";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| c.workers = 1,
        );
        const SAME: &str = "SELECT $1::int + 1";
        let mut clients: Vec<Client> = (0..3).map(|i| connect(&server, &format!("p{i}"))).collect();
        assert_upstream(&mut clients[0], DB);
        let pids: Vec<String> = clients.iter_mut().map(backend_pid).collect();
        assert!(
            pids.iter().all(|p| p == &pids[0]),
            "one worker, pool_size=1: all clients share one server, pids {pids:?}"
        );

        // Even clients prepare the shared text first, odd ones their own,
        // so "s0" names a different text in neighbouring clients.
        let mut same = Vec::new();
        let mut own = Vec::new();
        for (i, client) in clients.iter_mut().enumerate() {
            let own_text = format!("SELECT $1::text || '-c{i}'");
            if i % 2 == 0 {
                same.push(Some(client.prepare(SAME).unwrap()));
                own.push(client.prepare(&own_text).unwrap());
            } else {
                own.push(client.prepare(&own_text).unwrap());
                same.push(Some(client.prepare(SAME).unwrap()));
            }
        }

        let check = |clients: &mut Vec<Client>,
                     same: &Vec<Option<postgres::Statement>>,
                     own: &Vec<postgres::Statement>,
                     round: i32| {
            for (i, client) in clients.iter_mut().enumerate() {
                if let Some(statement) = &same[i] {
                    let got: i32 = client
                        .query_one(statement, &[&round])
                        .unwrap_or_else(|e| panic!("client {i} round {round} same: {e:?}"))
                        .get(0);
                    assert_eq!(got, round + 1, "client {i} round {round}");
                }
                let arg = format!("r{round}");
                let got: String = client
                    .query_one(&own[i], &[&arg])
                    .unwrap_or_else(|e| panic!("client {i} round {round} own: {e:?}"))
                    .get(0);
                assert_eq!(got, format!("r{round}-c{i}"), "client {i} round {round}");
            }
        };

        for round in 0..10 {
            check(&mut clients, &same, &own, round);
        }
        // Inside transactions too (the server is held across statements).
        for round in 10..15 {
            for (i, client) in clients.iter_mut().enumerate() {
                let mut tx = client.transaction().unwrap();
                let a: i32 = tx
                    .query_one(same[i].as_ref().unwrap(), &[&round])
                    .unwrap()
                    .get(0);
                let b: String = tx
                    .query_one(&own[i], &[&format!("t{round}")])
                    .unwrap()
                    .get(0);
                tx.commit().unwrap();
                assert_eq!((a, b), (round + 1, format!("t{round}-c{i}")));
            }
        }

        // Client 0 closes its shared-text statement (dropping it sends
        // Close); the others' statements of the same text keep working.
        same[0] = None;
        for round in 15..25 {
            check(&mut clients, &same, &own, round);
        }
        // Client 0 prepares it again, and a statement it prepares now
        // gets a name (s2 or later) the others never used.
        same[0] = Some(clients[0].prepare(SAME).unwrap());
        let extra = clients[0].prepare("SELECT $1::int * 10").unwrap();
        for round in 25..35 {
            check(&mut clients, &same, &own, round);
            let got: i32 = clients[0].query_one(&extra, &[&round]).unwrap().get(0);
            assert_eq!(got, round * 10);
        }
        // Unnamed statements (query with a &str: prepare, run, close)
        // in between.
        for round in 35..45 {
            for (i, client) in clients.iter_mut().enumerate() {
                let got: String = client
                    .query_one("SELECT $1::text || '-unnamed'", &[&format!("{i}")])
                    .unwrap()
                    .get(0);
                assert_eq!(got, format!("{i}-unnamed"));
            }
            check(&mut clients, &same, &own, round);
        }
    });
}

// ---------------------------------------------------------------------
// 3. Startup parameters re-applied on a shared server
// ---------------------------------------------------------------------

/// Two clients with different application_name, search_path and DateStyle
/// in their startup packets alternate over one server: each always sees
/// its own values, the same a direct connection with that startup gets.
#[test]
fn startup_parameters_follow_each_client() {
    bounded(|| {
        const DB: &str = "pool_t3";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| c.workers = 1,
        );
        // A list given at startup shows as given ("a,b"), one set with SET
        // as the server prints it ("a, b"): the same setting.
        let same_list = |text: &str| text.replace(", ", ",");
        let setups = [
            ("app_a", "-c search_path=pool_s3a -c DateStyle=German"),
            (
                "app_b",
                "-c search_path=pool_s3b,public -c DateStyle=SQL,DMY",
            ),
        ];
        const NAMES: [&str; 3] = ["application_name", "search_path", "DateStyle"];

        // What PostgreSQL itself answers for each startup.
        let expected: Vec<Vec<String>> = setups
            .iter()
            .map(|(app, options)| {
                let mut config = postgres::Config::new();
                config
                    .host("127.0.0.1")
                    .port(pg.port)
                    .user(SCRAM_USER)
                    .password(SCRAM_PASSWORD)
                    .dbname(DB)
                    .application_name(app)
                    .options(options);
                let mut client = config.connect(NoTls).unwrap();
                NAMES
                    .iter()
                    .map(|n| value(&mut client, &format!("SHOW {n}")))
                    .collect()
            })
            .collect();
        assert_ne!(expected[0], expected[1]);

        let mut clients: Vec<Client> = setups
            .iter()
            .map(|(app, options)| {
                client_config(&server, "starter")
                    .application_name(app)
                    .options(options)
                    .connect(NoTls)
                    .unwrap_or_else(|e| panic!("{app} logs in: {e:?}"))
            })
            .collect();
        assert_upstream(&mut clients[0], DB);
        let pids: Vec<String> = clients.iter_mut().map(backend_pid).collect();
        assert_eq!(pids[0], pids[1], "both clients share the one server");

        for round in 0..20 {
            for (i, client) in clients.iter_mut().enumerate() {
                for (n, name) in NAMES.iter().enumerate() {
                    assert_eq!(
                        same_list(&value(client, &format!("SHOW {name}"))),
                        same_list(&expected[i][n]),
                        "client {i} round {round}: {name}"
                    );
                }
                // Through the extended protocol as well.
                let row = client.query_one("SHOW application_name", &[]).unwrap();
                assert_eq!(row.get::<_, String>(0), expected[i][0], "client {i}");
            }
        }
    });
}

// ---------------------------------------------------------------------
// 4. SET tracked per client in transaction mode
// ---------------------------------------------------------------------

/// Client A sets search_path (and later resets it), client C sets
/// application_name, client B sets nothing; over one server each keeps
/// seeing its own settings.
#[test]
fn set_is_tracked_per_client() {
    bounded(|| {
        const DB: &str = "pool_t4";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        direct(&pg, DB)
            .batch_execute(
                "CREATE SCHEMA s1; \
                 CREATE TABLE s1.marker (x text); INSERT INTO s1.marker VALUES ('s1'); \
                 CREATE TABLE public.marker (x text); INSERT INTO public.marker VALUES ('public')",
            )
            .unwrap();
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| c.workers = 1,
        );
        let mut a = connect(&server, "a");
        assert_upstream(&mut a, DB);
        let mut b = connect(&server, "b");
        let mut c = connect(&server, "c");
        assert_eq!(backend_pid(&mut a), backend_pid(&mut b), "one server");
        let default_path = value(&mut b, "SHOW search_path");
        assert_eq!(default_path, "\"$user\", public");
        let default_app = scalar(&mut b, "SHOW application_name");

        a.batch_execute("SET search_path TO s1").unwrap();
        c.batch_execute("SET application_name = 'set_by_c'")
            .unwrap();
        for round in 0..10 {
            assert_eq!(value(&mut a, "SHOW search_path"), "s1", "A round {round}");
            assert_eq!(
                value(&mut a, "SELECT x FROM marker"),
                "s1",
                "A round {round}"
            );
            assert_eq!(
                value(&mut b, "SHOW search_path"),
                default_path,
                "B round {round}"
            );
            assert_eq!(
                value(&mut b, "SELECT x FROM marker"),
                "public",
                "B round {round}"
            );
            assert_eq!(
                scalar(&mut b, "SHOW application_name"),
                default_app,
                "B {round}"
            );
            assert_eq!(
                value(&mut c, "SHOW application_name"),
                "set_by_c",
                "C {round}"
            );
            assert_eq!(
                value(&mut c, "SHOW search_path"),
                default_path,
                "C round {round}"
            );
            // The extended protocol sees the same.
            let row = a.query_one("SELECT x FROM marker", &[]).unwrap();
            assert_eq!(row.get::<_, String>(0), "s1", "A extended, round {round}");
        }
        // A SET inside a transaction that commits sticks as well.
        let mut tx = b.transaction().unwrap();
        tx.batch_execute("SET search_path TO s1, public").unwrap();
        tx.commit().unwrap();
        // RESET takes A back to the default.
        a.batch_execute("RESET search_path").unwrap();
        for round in 0..5 {
            assert_eq!(
                value(&mut a, "SHOW search_path"),
                default_path,
                "A after RESET {round}"
            );
            assert_eq!(value(&mut a, "SELECT x FROM marker"), "public");
            assert_eq!(
                value(&mut b, "SHOW search_path"),
                "s1, public",
                "B after SET {round}"
            );
            assert_eq!(value(&mut b, "SELECT x FROM marker"), "s1");
        }
    });
}

// ---------------------------------------------------------------------
// 5. What transaction mode refuses
// ---------------------------------------------------------------------

/// LISTEN needs a session: ERROR 0A000, and the connection works after.
#[test]
fn listen_is_refused_in_transaction_mode() {
    bounded(|| {
        const DB: &str = "pool_t5";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=2")],
            PoolMode::Transaction,
            |_| {},
        );
        let mut client = connect(&server, "listener");
        assert_upstream(&mut client, DB);
        let error = fails(&mut client, "LISTEN x");
        assert_eq!(code_of(&error), "0A000", "{error:?}");
        assert_eq!(db_error(&error).severity(), "ERROR");
        assert!(!client.is_closed());
        assert_eq!(value(&mut client, "SELECT 1"), "1");
        // In a transaction block too; the block is then aborted, as an
        // error from the server would leave it.
        client.batch_execute("BEGIN").unwrap();
        let error = fails(&mut client, "LISTEN y");
        assert_eq!(code_of(&error), "0A000", "{error:?}");
        client.batch_execute("ROLLBACK").unwrap();
        assert_eq!(value(&mut client, "SELECT 2"), "2");
    });
}

/// The other session-only features the spec lists are refused the same
/// way; ON COMMIT DROP temp tables are allowed.
#[test]
fn session_features_are_refused_in_transaction_mode() {
    bounded(|| {
        const DB: &str = "pool_t5b";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=2")],
            PoolMode::Transaction,
            |_| {},
        );
        let mut client = connect(&server, "refused");
        assert_upstream(&mut client, DB);
        let mut wrong = Vec::new();
        for sql in [
            "PREPARE p AS SELECT 1",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
            "CREATE TEMP TABLE tt (x int)",
            "CREATE TEMPORARY TABLE tt (x int)",
            "SELECT pg_advisory_lock(1)",
        ] {
            match client.simple_query(sql) {
                Ok(_) => wrong.push(format!("{sql}: succeeded")),
                Err(error) => {
                    let code = error.as_db_error().map(|d| d.code().code().to_string());
                    if code.as_deref() != Some("0A000") {
                        wrong.push(format!("{sql}: {error:?}"));
                    }
                }
            }
            if client.is_closed() || client.simple_query("SELECT 1").is_err() {
                wrong.push(format!("{sql}: connection unusable after"));
                break;
            }
        }
        assert!(
            wrong.is_empty(),
            "expected 0A000 for each:\n{}",
            wrong.join("\n")
        );
        let mut tx = client.transaction().unwrap();
        tx.batch_execute(
            "CREATE TEMP TABLE scratch (x int) ON COMMIT DROP; INSERT INTO scratch VALUES (1)",
        )
        .unwrap();
        tx.commit().unwrap();
    });
}

// ---------------------------------------------------------------------
// 6. Session mode: server reset between clients
// ---------------------------------------------------------------------

/// Session mode, one server: A makes a temp table and SETs
/// application_name, then leaves; B gets the same server (same backend
/// pid) with neither (DISCARD ALL ran in between).
#[test]
fn session_mode_resets_the_server_between_clients() {
    bounded(|| {
        const DB: &str = "pool_t6";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Session,
            |c| c.workers = 1,
        );
        let mut a = connect(&server, "a");
        assert_upstream(&mut a, DB);
        a.batch_execute(
            "CREATE TEMP TABLE pool_t6_tmp (x int); INSERT INTO pool_t6_tmp VALUES (1); \
             SET application_name = 'set_by_a'",
        )
        .unwrap();
        assert_eq!(value(&mut a, "SHOW application_name"), "set_by_a");
        assert_eq!(
            scalar(&mut a, "SELECT to_regclass('pool_t6_tmp')::text").as_deref(),
            Some("pool_t6_tmp")
        );
        let pid_a = backend_pid(&mut a);
        drop(a);

        let mut b = connect(&server, "b");
        let pid_b = backend_pid(&mut b);
        assert_eq!(
            pid_a, pid_b,
            "B should reuse A's server (pool_size=1, one worker); otherwise \
             this test cannot tell whether the reset ran"
        );
        assert_eq!(
            scalar(&mut b, "SELECT to_regclass('pool_t6_tmp')::text"),
            None,
            "A's temp table survived into B's session"
        );
        assert_ne!(
            scalar(&mut b, "SHOW application_name").as_deref(),
            Some("set_by_a"),
            "A's SET application_name survived into B's session"
        );
        // Session mode lets B do what transaction mode refuses.
        b.batch_execute("CREATE TEMP TABLE mine (x int); LISTEN x")
            .unwrap();
    });
}

// ---------------------------------------------------------------------
// 7. Cancel, across workers
// ---------------------------------------------------------------------

/// A CancelRequest to corewire cancels the upstream query: 57014 comes
/// back and the connection works after. Several connections on two
/// workers, so some cancel connections land on the other worker than
/// their session.
#[test]
fn cancel_reaches_the_upstream_query() {
    bounded(|| {
        const DB: &str = "pool_t7";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=4")],
            PoolMode::Transaction,
            |c| c.workers = 2,
        );
        for n in 0..8 {
            let mut client = connect(&server, &format!("sleeper{n}"));
            assert_upstream(&mut client, DB);
            assert_eq!(value(&mut client, "SELECT 1"), "1");
            let token = client.cancel_token();
            let done = Arc::new(AtomicBool::new(false));
            // Cancel until the query is over: the first cancel can come
            // before the query reached the server, where it is a no-op.
            let canceller = {
                let done = done.clone();
                thread::spawn(move || {
                    let mut sent = 0;
                    thread::sleep(Duration::from_millis(300));
                    while !done.load(Ordering::SeqCst) && sent < 60 {
                        token
                            .cancel_query(NoTls)
                            .unwrap_or_else(|e| panic!("connection {n}: cancel request: {e:?}"));
                        sent += 1;
                        thread::sleep(Duration::from_millis(500));
                    }
                    sent
                })
            };
            let started = Instant::now();
            let result = client.simple_query("SELECT pg_sleep(60)");
            let took = started.elapsed();
            done.store(true, Ordering::SeqCst);
            let sent = canceller.join().unwrap();
            let error = match result {
                Ok(_) => panic!(
                    "connection {n}: pg_sleep(60) finished uncancelled ({sent} cancels sent)"
                ),
                Err(error) => error,
            };
            assert_eq!(code_of(&error), "57014", "connection {n}: {error:?}");
            assert_eq!(
                db_error(&error).message(),
                "canceling statement due to user request"
            );
            assert!(
                took < Duration::from_secs(50),
                "connection {n}: the cancel took {took:?}"
            );
            assert_eq!(
                value(&mut client, "SELECT 'after'"),
                "after",
                "connection {n}"
            );
        }
    });
}

// ---------------------------------------------------------------------
// 8. A client killed mid-transaction
// ---------------------------------------------------------------------

/// A client that vanishes (socket shut down, no Terminate) inside a
/// transaction with an uncommitted insert and a row lock: the next client
/// on the one server sees no trace of the insert and can take the lock.
/// Then the same with a client that sends Terminate mid-transaction.
#[test]
fn killed_client_transaction_is_rolled_back() {
    bounded(|| {
        const DB: &str = "pool_t8";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        direct(&pg, DB)
            .batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
            .unwrap();
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| c.workers = 1,
        );

        let b_takes_over = |who: &str, inserted: i32| {
            let mut b = connect(&server, "b");
            assert_upstream(&mut b, DB);
            let mut tx = b.transaction().unwrap();
            tx.batch_execute("SET LOCAL lock_timeout = '5s'").unwrap();
            let locked = tx
                .query("SELECT id FROM t WHERE id = 1 FOR UPDATE", &[])
                .unwrap_or_else(|e| panic!("after {who}: B cannot lock the row: {e:?}"));
            assert_eq!(locked.len(), 1);
            let seen: i64 = tx
                .query_one("SELECT count(*) FROM t WHERE id = $1", &[&inserted])
                .unwrap()
                .get(0);
            assert_eq!(seen, 0, "after {who}: its uncommitted row is visible");
            let status: String = tx
                .query_one("SELECT count(*)::text FROM t", &[])
                .unwrap()
                .get(0);
            assert_eq!(status, "1", "after {who}");
            tx.commit().unwrap();
        };

        // A vanishes.
        let mut a = raw_login(&server, "a");
        a.write_all(&pg_wire::query(
            "BEGIN; INSERT INTO t VALUES (99); SELECT id FROM t WHERE id = 1 FOR UPDATE",
        ))
        .unwrap();
        let (status, errors) = until_ready(&mut a, "A's transaction");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(status, b'T', "A is inside its transaction");
        a.shutdown(Shutdown::Both).unwrap();
        drop(a);
        b_takes_over("a vanished client", 99);

        // A' says Terminate in the middle of its transaction.
        let mut a2 = connect(&server, "a2");
        a2.batch_execute(
            "BEGIN; INSERT INTO t VALUES (98); SELECT id FROM t WHERE id = 1 FOR UPDATE",
        )
        .unwrap();
        drop(a2);
        b_takes_over("a terminated client", 98);

        let rows: i64 = direct(&pg, DB)
            .query_one("SELECT count(*) FROM t", &[])
            .unwrap()
            .get(0);
        assert_eq!(rows, 1, "only the row made before");
    });
}

// ---------------------------------------------------------------------
// 9. Pool exhausted: query_wait_timeout
// ---------------------------------------------------------------------

/// pool_size=1, A holds a transaction open: B's query waits, and after
/// query-wait-timeout-s=1 fails with FATAL 08P01 "query_wait_timeout"
/// and B is closed. Once A commits, a new client works.
#[test]
fn exhausted_pool_gives_query_wait_timeout() {
    bounded(|| {
        const DB: &str = "pool_t9";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| {
                c.workers = 1;
                c.query_wait_timeout_s = 1;
            },
        );
        let mut a = connect(&server, "a");
        assert_upstream(&mut a, DB);
        let mut b = raw_login(&server, "b");
        b.write_all(&pg_wire::query("SELECT 1")).unwrap();
        until_ready(&mut b, "B's first query");
        a.batch_execute("BEGIN; SELECT 1").unwrap();

        expect_query_wait_timeout(&mut b, "SELECT 2").unwrap();

        assert_eq!(value(&mut a, "SELECT 'still in'"), "still in");
        a.batch_execute("COMMIT").unwrap();
        let mut c = connect(&server, "c");
        assert_eq!(value(&mut c, "SELECT 'c works'"), "c works");
        assert_eq!(value(&mut a, "SELECT 'a works'"), "a works");
    });
}

/// pool_size counts across workers: with two workers and pool_size=1,
/// clients on either worker wait while A holds the one server, and the
/// upstream never sees a second connection.
#[test]
fn exhausted_pool_is_shared_across_workers() {
    bounded(|| {
        const DB: &str = "pool_t9b";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| {
                c.workers = 2;
                c.query_wait_timeout_s = 1;
            },
        );
        let mut a = connect(&server, "a");
        assert_upstream(&mut a, DB);
        let waiters: Vec<TcpStream> = (0..4)
            .map(|i| raw_login(&server, &format!("b{i}")))
            .collect();
        a.batch_execute("BEGIN; SELECT 1").unwrap();
        let outcomes: Vec<_> = waiters
            .into_iter()
            .enumerate()
            .map(|(i, mut b)| {
                thread::spawn(move || {
                    expect_query_wait_timeout(&mut b, "SELECT 2").map_err(|e| format!("b{i}: {e}"))
                })
            })
            .collect();
        let wrong: Vec<String> = outcomes
            .into_iter()
            .filter_map(|t| t.join().unwrap().err())
            .collect();
        let backends = upstream_backends(&pg, DB);
        a.batch_execute("COMMIT").unwrap();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert_eq!(backends, 1, "upstream connections with pool_size=1");
        let mut c = connect(&server, "c");
        assert_eq!(value(&mut c, "SELECT 1"), "1");
    });
}

/// pool_size is one limit for all workers, and a worker whose clients wait
/// gets the capacity another worker holds idle: with pool_size=1 and two
/// workers, clients on both workers take turns on the one connection,
/// which moves between the workers as they need it.
#[test]
fn idle_capacity_moves_to_the_worker_that_needs_it() {
    bounded(|| {
        const DB: &str = "pool_t9c";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| {
                c.workers = 2;
                c.query_wait_timeout_s = 30;
                c.admin_users = vec!["admin".into()];
            },
        );
        let mut console = admin(&server);
        // The kernel picks each connection's worker: connect until both
        // workers have clients of the database.
        let mut clients = Vec::new();
        let mut workers = std::collections::HashSet::new();
        while clients.len() < 64 && (workers.len() < 2 || clients.len() < 4) {
            clients.push(connect(&server, &format!("c{}", clients.len())));
            let table = show(&mut console, "SHOW CLIENTS");
            workers = table
                .rows
                .iter()
                .filter(|row| row[table.at("database")].as_deref() == Some(POOLED))
                .map(|row| row[table.at("worker")].clone())
                .collect();
        }
        assert_eq!(workers.len(), 2, "64 connections all landed on one worker");
        for round in 0..3 {
            for (i, client) in clients.iter_mut().enumerate() {
                let got = value(client, &format!("SELECT {i} + {round}"));
                assert_eq!(got, (i + round).to_string(), "client {i} round {round}");
            }
        }
        assert!(
            upstream_backends(&pg, DB) <= 1,
            "pool_size=1 across workers"
        );
    });
}

/// Waits (bounded) until the upstream has `want` connections to `dbname`.
fn wait_for_backends(pg: &UpstreamPg, dbname: &str, want: i64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let have = upstream_backends(pg, dbname);
        if have == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {have} upstream connections, want {want}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// min_pool_size connections open with no client at all; past it, idle
/// connections close after server-idle-timeout-s; server-check-query runs
/// on an idle connection before it is handed out again.
#[test]
fn min_pool_size_idle_timeout_and_check_query() {
    bounded(|| {
        const DB: &str = "pool_t9d";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        direct(&pg, DB)
            .batch_execute("CREATE TABLE checks (at timestamptz DEFAULT now())")
            .unwrap();
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=4 min_pool_size=1")],
            PoolMode::Transaction,
            |c| {
                c.workers = 1;
                c.server_idle_timeout_s = 1;
                c.server_check_delay_s = 0;
                c.server_check_query = "INSERT INTO checks DEFAULT VALUES".into();
            },
        );
        wait_for_backends(&pg, DB, 1, "min_pool_size=1 before any client");
        // Four clients in a transaction at once take four connections.
        let mut clients: Vec<Client> = (0..4).map(|i| connect(&server, &format!("c{i}"))).collect();
        for client in &mut clients {
            client.batch_execute("BEGIN; SELECT 1").unwrap();
        }
        assert_eq!(upstream_backends(&pg, DB), 4);
        for client in &mut clients {
            client.batch_execute("COMMIT").unwrap();
        }
        // Idle past server-idle-timeout-s: back down to min_pool_size.
        wait_for_backends(&pg, DB, 1, "after server-idle-timeout-s");
        // Every reuse of an idle connection ran the check first.
        let checks_before = value(&mut direct(&pg, DB), "SELECT count(*) FROM checks");
        for round in 0..5 {
            thread::sleep(Duration::from_millis(20));
            assert_eq!(
                value(&mut clients[0], &format!("SELECT {round}")),
                round.to_string()
            );
        }
        let checks_after: i64 = value(&mut direct(&pg, DB), "SELECT count(*) FROM checks")
            .parse()
            .unwrap();
        let checks_before: i64 = checks_before.parse().unwrap();
        assert!(
            checks_after - checks_before >= 5,
            "server-check-query ran {} times for 5 reuses",
            checks_after - checks_before
        );
    });
}

// ---------------------------------------------------------------------
// 10. Upstream restart
// ---------------------------------------------------------------------

/// pg_ctl restart while clients are connected (idle between
/// transactions): each client's next transaction works within 3 tries on
/// the same connection, and a new login works.
#[test]
fn clients_survive_an_upstream_restart() {
    bounded(|| {
        const DB: &str = "pool_t10";
        let pg = UpstreamPg::start();
        fresh_database(&pg, DB);
        direct(&pg, DB)
            .batch_execute("CREATE TABLE t (client int NOT NULL, phase text NOT NULL)")
            .unwrap();
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=3")],
            PoolMode::Transaction,
            |c| c.workers = 2,
        );
        let transaction =
            |client: &mut Client, i: i32, phase: &str| -> Result<(), postgres::Error> {
                let mut tx = client.transaction()?;
                tx.execute("INSERT INTO t VALUES ($1, $2)", &[&i, &phase])?;
                let n: i64 = tx
                    .query_one("SELECT count(*) FROM t WHERE client = $1", &[&i])?
                    .get(0);
                assert!(n >= 1);
                tx.commit()
            };
        let mut clients: Vec<Client> = (0..4).map(|i| connect(&server, &format!("c{i}"))).collect();
        for (i, client) in clients.iter_mut().enumerate() {
            assert_upstream(client, DB);
            transaction(client, i as i32, "before").unwrap();
        }

        pg.restart();

        for (i, client) in clients.iter_mut().enumerate() {
            let mut failures = Vec::new();
            let mut ok = false;
            for _ in 0..3 {
                match transaction(client, i as i32, "after") {
                    Ok(()) => {
                        ok = true;
                        break;
                    }
                    Err(error) => failures.push(format!("{error:?}")),
                }
                assert!(
                    !client.is_closed(),
                    "client {i}: corewire closed the connection: {failures:?}"
                );
            }
            assert!(ok, "client {i}: 3 tries failed: {failures:#?}");
        }
        let mut fresh = connect(&server, "fresh");
        assert_eq!(value(&mut fresh, "SELECT 'new login'"), "new login");
        let after: i64 = direct(&pg, DB)
            .query_one(
                "SELECT count(DISTINCT client) FROM t WHERE phase = 'after'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(after, 4);
    });
}

// ---------------------------------------------------------------------
// 11. Errors unchanged
// ---------------------------------------------------------------------

/// A syntax error and a unique violation look the same through corewire
/// as directly from the upstream: every field of the ErrorResponse.
#[test]
fn upstream_errors_pass_through_unchanged() {
    bounded(|| {
        const DB: &str = "pool_t11";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let mut upstream = direct(&pg, DB);
        upstream
            .batch_execute("CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1)")
            .unwrap();
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=2")],
            PoolMode::Transaction,
            |_| {},
        );
        let mut pooled = connect(&server, "errors");
        assert_upstream(&mut pooled, DB);

        fn fields(error: &postgres::Error) -> Vec<(&'static str, String)> {
            let db = db_error(error);
            vec![
                ("severity", db.severity().to_string()),
                ("code", db.code().code().to_string()),
                ("message", db.message().to_string()),
                ("detail", format!("{:?}", db.detail())),
                ("hint", format!("{:?}", db.hint())),
                ("position", format!("{:?}", db.position())),
                ("where", format!("{:?}", db.where_())),
                ("schema", format!("{:?}", db.schema())),
                ("table", format!("{:?}", db.table())),
                ("column", format!("{:?}", db.column())),
                ("datatype", format!("{:?}", db.datatype())),
                ("constraint", format!("{:?}", db.constraint())),
                ("file", format!("{:?}", db.file())),
                ("line", format!("{:?}", db.line())),
                ("routine", format!("{:?}", db.routine())),
            ]
        }
        type Run = fn(&mut Client, &str) -> Result<(), postgres::Error>;
        let simple: Run = |c, sql| c.batch_execute(sql);
        let extended: Run = |c, sql| c.execute(sql, &[]).map(|_| ());
        for (how, run) in [("simple", simple), ("extended", extended)] {
            for sql in [
                "SELEC 1",
                "SELECT 1 FROM nowhere",
                "INSERT INTO u VALUES (1)",
                "SELECT 1/0",
            ] {
                let want = run(&mut upstream, sql).expect_err(sql);
                let got = run(&mut pooled, sql).expect_err(sql);
                assert_eq!(fields(&got), fields(&want), "{how}: {sql}");
                assert_eq!(value(&mut pooled, "SELECT 'ok'"), "ok", "after {how} {sql}");
            }
        }
        let want = run_in_tx(&mut upstream);
        let got = run_in_tx(&mut pooled);
        assert_eq!(fields(&got), fields(&want), "inside a transaction block");
        fn run_in_tx(client: &mut Client) -> postgres::Error {
            let mut tx = client.transaction().unwrap();
            tx.batch_execute("SELECT 1").unwrap();
            let error = tx.batch_execute("INSERT INTO u VALUES (1)").unwrap_err();
            let after = tx.batch_execute("SELECT 1").unwrap_err();
            assert_eq!(after.code().map(|c| c.code()), Some("25P02"), "{after:?}");
            tx.rollback().unwrap();
            error
        }
    });
}

// ---------------------------------------------------------------------
// 12. COPY
// ---------------------------------------------------------------------

/// COPY FROM STDIN and COPY TO STDOUT through the pool, a few thousand
/// rows each way, and a failing COPY that leaves the connection usable.
#[test]
fn copy_in_and_out_pass_through() {
    bounded(|| {
        const DB: &str = "pool_t12";
        const ROWS: i64 = 5000;
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        direct(&pg, DB)
            .batch_execute("CREATE TABLE c (id bigint PRIMARY KEY, name text NOT NULL)")
            .unwrap();
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=1")],
            PoolMode::Transaction,
            |c| c.workers = 1,
        );
        let mut client = connect(&server, "copier");
        assert_upstream(&mut client, DB);
        let mut other = connect(&server, "other");

        let mut writer = client.copy_in("COPY c (id, name) FROM STDIN").unwrap();
        let mut expected = String::new();
        for i in 0..ROWS {
            expected.push_str(&format!("{i}\trow {i} \\\\ tab\\there\n"));
        }
        writer.write_all(expected.as_bytes()).unwrap();
        assert_eq!(writer.finish().unwrap(), ROWS as u64);
        // Another client on the one server in between.
        assert_eq!(
            value(&mut other, "SELECT count(*) FROM c"),
            ROWS.to_string()
        );

        let mut out = String::new();
        client
            .copy_out("COPY (SELECT id, name FROM c ORDER BY id) TO STDOUT")
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out.lines().count() as i64, ROWS);
        assert!(
            out == expected,
            "COPY TO STDOUT gave back other rows than went in"
        );
        let name: String = client
            .query_one("SELECT name FROM c WHERE id = 7", &[])
            .unwrap()
            .get(0);
        assert_eq!(name, "row 7 \\ tab\there");

        // A COPY the server refuses halfway: error, no rows, still usable.
        let mut writer = client.copy_in("COPY c (id, name) FROM STDIN").unwrap();
        writer
            .write_all(format!("{}\tfine\nnot-a-number\tbad\n", ROWS + 1).as_bytes())
            .unwrap();
        let error = writer.finish().unwrap_err();
        assert_eq!(code_of(&error), "22P02", "{error:?}");
        assert_eq!(
            value(&mut client, "SELECT count(*) FROM c"),
            ROWS.to_string()
        );
        assert_eq!(value(&mut other, "SELECT 'other ok'"), "other ok");
    });
}

// ---------------------------------------------------------------------
// 13. Upstream authentication methods
// ---------------------------------------------------------------------

/// Entries logging in upstream with SCRAM-SHA-256, md5 and trust all
/// serve clients; an entry with a wrong password gives the client 28P01
/// (the upstream's error) instead of hanging it.
#[test]
fn upstream_scram_md5_and_trust_logins() {
    bounded(|| {
        const DB: &str = "pool_t13";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![
                entry_as(&pg, "via_scram", DB, SCRAM_USER, Some(SCRAM_PASSWORD), ""),
                entry_as(&pg, "via_md5", DB, MD5_USER, Some(MD5_PASSWORD), ""),
                entry_as(&pg, "via_trust", DB, TRUST_USER, None, ""),
                entry_as(&pg, "via_bad", DB, SCRAM_USER, Some("not-the-password"), ""),
            ],
            PoolMode::Transaction,
            |c| c.server_login_retry_ms = 100,
        );
        for (database, user) in [
            ("via_scram", SCRAM_USER),
            ("via_md5", MD5_USER),
            ("via_trust", TRUST_USER),
        ] {
            let mut client = client_config_for(&server, "someone", database)
                .connect(NoTls)
                .unwrap_or_else(|e| panic!("{database}: {e:?}"));
            assert_eq!(
                value(&mut client, "SELECT current_user"),
                user,
                "{database}"
            );
            assert_eq!(value(&mut client, "SELECT current_database()"), DB);
        }

        // The wrong password: the login or the first query fails with the
        // upstream's 28P01, within a bound.
        let config = client_config_for(&server, "someone", "via_bad");
        let outcome = within(Duration::from_secs(60), move || {
            match config.connect(NoTls) {
                Err(error) => Err(error),
                Ok(mut client) => client.simple_query("SELECT 1").map(|_| ()),
            }
        })
        .expect("a wrong upstream password should give an error, not a hang");
        let error = outcome.expect_err("a wrong upstream password should fail");
        assert_eq!(code_of(&error), "28P01", "{error:?}");
        // The good entries are unaffected.
        let mut client = client_config_for(&server, "again", "via_scram")
            .connect(NoTls)
            .unwrap();
        assert_eq!(value(&mut client, "SELECT 1"), "1");
    });
}

// ---------------------------------------------------------------------
// 14. Admin console
// ---------------------------------------------------------------------

/// A result set by column name.
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl Table {
    fn at(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.columns))
    }

    /// Rows whose `column` is `value`.
    fn rows_where(&self, column: &str, value: &str) -> Vec<&Vec<Option<String>>> {
        let at = self.at(column);
        self.rows
            .iter()
            .filter(|r| r[at].as_deref() == Some(value))
            .collect()
    }

    fn sum(&self, rows: &[&Vec<Option<String>>], column: &str) -> i64 {
        let at = self.at(column);
        rows.iter()
            .map(|r| {
                let text = r[at].as_deref().unwrap_or_else(|| panic!("{column} NULL"));
                text.parse::<i64>()
                    .unwrap_or_else(|_| panic!("{column} = {text:?} is not a number"))
            })
            .sum()
    }
}

fn show(client: &mut Client, query: &str) -> Table {
    let mut table = Table {
        columns: Vec::new(),
        rows: Vec::new(),
    };
    for message in client
        .simple_query(query)
        .unwrap_or_else(|e| panic!("{query}: {e:?}"))
    {
        match message {
            SimpleQueryMessage::RowDescription(columns) => {
                table.columns = columns.iter().map(|c| c.name().to_string()).collect()
            }
            SimpleQueryMessage::Row(row) => table.rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => {}
        }
    }
    table
}

fn admin(server: &TestServer) -> Client {
    client_config_for(server, "admin", "corewire")
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("admin console login: {e:?}"))
}

/// SHOW POOLS has PgBouncer's columns and a row for the database; PAUSE
/// holds new transactions (to query_wait_timeout), RESUME lets them
/// through; KILL closes the database's clients.
#[test]
fn admin_console_pools_pause_resume_kill() {
    bounded(|| {
        const DB: &str = "pool_t14";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=2")],
            PoolMode::Transaction,
            |c| {
                c.admin_users = vec!["admin".into()];
                c.query_wait_timeout_s = 1;
            },
        );
        let mut console = admin(&server);
        let mut client = connect(&server, "pooled");
        assert_upstream(&mut client, DB);

        let pools = show(&mut console, "SHOW POOLS");
        for column in [
            "database",
            "user",
            "cl_active",
            "cl_waiting",
            "cl_active_cancel_req",
            "cl_waiting_cancel_req",
            "sv_active",
            "sv_active_cancel",
            "sv_being_canceled",
            "sv_idle",
            "sv_used",
            "sv_tested",
            "sv_login",
            "maxwait",
            "maxwait_us",
            "pool_mode",
            "worker",
        ] {
            pools.at(column);
        }
        let rows = pools.rows_where("database", POOLED);
        assert!(
            !rows.is_empty(),
            "no SHOW POOLS row for {POOLED}: {:?}",
            pools.rows
        );
        let at = pools.at("pool_mode");
        assert!(rows.iter().all(|r| r[at].as_deref() == Some("transaction")));
        assert_eq!(pools.sum(&rows, "cl_active"), 1, "one idle client");
        assert_eq!(pools.sum(&rows, "cl_waiting"), 0);
        let servers: i64 = ["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"]
            .iter()
            .map(|c| pools.sum(&rows, c))
            .sum();
        assert!(
            (1..=2).contains(&servers),
            "servers open after a query, pool_size=2: {servers}"
        );

        // PAUSE: a new transaction waits, here until query_wait_timeout.
        let mut paused = raw_login(&server, "paused");
        console.batch_execute(&format!("PAUSE {POOLED}")).unwrap();
        expect_query_wait_timeout(&mut paused, "SELECT 'paused'").unwrap();
        console.batch_execute(&format!("RESUME {POOLED}")).unwrap();
        // Clients on either worker get through again.
        for i in 0..4 {
            let mut resumed = raw_login(&server, &format!("resumed{i}"));
            resumed.write_all(&pg_wire::query("SELECT 1")).unwrap();
            let (_, errors) = until_ready(&mut resumed, &format!("client {i} after RESUME"));
            assert!(errors.is_empty(), "client {i} after RESUME: {errors:?}");
        }
        assert_eq!(value(&mut client, "SELECT 'still here'"), "still here");

        // KILL: the database's clients are closed without asking.
        let mut victim = raw_login(&server, "victim");
        victim.write_all(&pg_wire::query("SELECT 1")).unwrap();
        until_ready(&mut victim, "victim's query");
        victim
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        console.batch_execute(&format!("KILL {POOLED}")).unwrap();
        let closed = loop {
            match receive(&mut victim) {
                Received::Message(b'E', _) | Received::Message(b'N', _) => continue,
                Received::Message(tag, _) => panic!("after KILL: message {}", tag as char),
                Received::Closed => break true,
                Received::TimedOut => break false,
            }
        };
        assert!(closed, "KILL {POOLED} did not close a client of it");
        assert!(
            client.simple_query("SELECT 1").is_err(),
            "KILL {POOLED} left a postgres-crate client working"
        );
        // PgBouncer's KILL leaves the database paused until RESUME.
        let _ = console.batch_execute(&format!("RESUME {POOLED}"));
        let mut client = connect(&server, "pooled");
        assert_eq!(value(&mut client, "SELECT 'after kill'"), "after kill");
    });
}

/// With no query_wait_timeout, a transaction started while the database
/// is paused waits (still unanswered after a second) and completes once
/// RESUME comes.
#[test]
fn admin_console_resume_releases_waiting_clients() {
    bounded(|| {
        const DB: &str = "pool_t14b";
        let pg = UpstreamPg::shared();
        fresh_database(&pg, DB);
        let server = pool_server(
            vec![entry(&pg, POOLED, DB, "pool_size=2")],
            PoolMode::Transaction,
            |c| {
                c.admin_users = vec!["admin".into()];
                c.query_wait_timeout_s = 0;
            },
        );
        let mut console = admin(&server);
        let mut client = connect(&server, "pooled");
        assert_upstream(&mut client, DB);
        console.batch_execute(&format!("PAUSE {POOLED}")).unwrap();
        let (tx, rx) = mpsc::channel();
        let waiter = thread::spawn(move || {
            let result = client
                .simple_query("SELECT 'through'")
                .map(|m| m.len())
                .map_err(|e| format!("{e:?}"));
            let _ = tx.send(result);
        });
        thread::sleep(Duration::from_secs(1));
        assert!(
            rx.try_recv().is_err(),
            "a query ran while its database was paused"
        );
        // The waiting client shows in SHOW POOLS.
        let pools = show(&mut console, "SHOW POOLS");
        let rows = pools.rows_where("database", POOLED);
        assert_eq!(pools.sum(&rows, "cl_waiting"), 1, "{:?}", pools.rows);
        console.batch_execute(&format!("RESUME {POOLED}")).unwrap();
        let result = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the query completes after RESUME");
        assert!(result.is_ok(), "{result:?}");
        waiter.join().unwrap();
    });
}
