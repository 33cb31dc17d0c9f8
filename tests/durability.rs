//! Durability against the real runtime and the real C++ engine: writes of
//! every protocol survive a graceful restart and a SIGKILL under each fsync
//! policy, expired keys stay expired, FLUSHALL is durable, and SAVE,
//! BGSAVE, BGREWRITEAOF, LASTSAVE, INFO persistence, CONFIG GET/SET and
//! the metrics say what the engine does. Replies are checked byte for byte
//! where Redis defines them (checked against redis-server 7.0.15).
//!
//! A killed server is a child process: this test binary run again with
//! only `child_server`, which serves a data dir until the parent sends it
//! SIGKILL; the parent then recovers the dir in-process.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::mem::MaybeUninit;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{config_get, exchange, TestServer};
use corewire::engine::ffi::{cw_engine_ops, CW_ENGINE_ABI_VERSION_V2, CW_ENGINE_OPS_V2_SIZE};
use corewire::engine::FsyncPolicy;
use corewire::{Config, Engine, Server};

/// Bounds every wait on the server; a failure guard, not a speed check.
const WAIT_LIMIT: Duration = Duration::from_secs(30);
/// Tell `child_server` to serve this data dir (unset: it does nothing).
const CHILD_DIR_VAR: &str = "COREWIRE_TEST_CHILD_DATA_DIR";
/// The child's appendfsync.
const CHILD_FSYNC_VAR: &str = "COREWIRE_TEST_CHILD_APPENDFSYNC";
/// The child's file size limit (RLIMIT_FSIZE, bytes) once it serves: its
/// log writes past it fail with EFBIG. A line `unlimit` on its stdin
/// lifts it.
const CHILD_FSIZE_VAR: &str = "COREWIRE_TEST_CHILD_FSIZE_LIMIT";

/// A data directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "corewire-durability-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn durable(dir: &Path, fsync: FsyncPolicy) -> impl FnOnce(&mut Config) + '_ {
    move |config| {
        config.data_dir = Some(dir.to_path_buf());
        config.appendfsync = fsync;
    }
}

fn start_durable(dir: &Path) -> TestServer {
    TestServer::start_with(durable(dir, FsyncPolicy::Everysec))
}

/// The three listeners of a server (in this process or a child).
#[derive(Clone, Copy, Debug)]
struct Ports {
    resp: u16,
    pg: u16,
    http: u16,
}

impl Ports {
    fn of(server: &TestServer) -> Ports {
        Ports {
            resp: server.port,
            pg: server.pg_port,
            http: server.http_port,
        }
    }

    fn redis(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.resp))
            .expect("valid url")
            .get_connection_with_timeout(WAIT_LIMIT)
            .expect("connects")
    }

    fn pg(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=tester dbname=kv connect_timeout=30",
                self.pg
            ),
            postgres::NoTls,
        )
        .expect("connects")
    }

    /// One HTTP/1.1 request on its own connection: (status, body).
    fn http(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.http)).expect("connects");
        stream.set_read_timeout(Some(WAIT_LIMIT)).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
        let body = text
            .split_once("\r\n\r\n")
            .map_or(String::new(), |(_, body)| body.to_string());
        (status, body)
    }
}

fn set(con: &mut redis::Connection, key: impl redis::ToRedisArgs, value: impl redis::ToRedisArgs) {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query::<()>(con)
        .unwrap();
}

fn get(con: &mut redis::Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(con).unwrap()
}

fn ttl(con: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("TTL").arg(key).query(con).unwrap()
}

fn select(con: &mut redis::Connection, db: u32) {
    redis::cmd("SELECT").arg(db).query::<()>(con).unwrap();
}

fn keys(con: &mut redis::Connection) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(con).unwrap();
    keys.sort();
    keys
}

/// One field of `INFO persistence`.
fn info_field(con: &mut redis::Connection, field: &str) -> Option<String> {
    let text: String = redis::cmd("INFO").arg("persistence").query(con).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .map(str::to_string)
}

fn info_number(con: &mut redis::Connection, field: &str) -> i64 {
    let value = info_field(con, field).unwrap_or_else(|| panic!("INFO has no {field}"));
    value.parse().unwrap_or_else(|_| panic!("{field}:{value}"))
}

/// Polls `done` until it holds, within WAIT_LIMIT.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT_LIMIT, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn unix_now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Writes through every protocol; `check_workload` reads it back. Every
/// write is acknowledged before this returns.
fn write_workload(ports: Ports) {
    let mut con = ports.redis();
    set(&mut con, "s1", "v1");
    set(&mut con, "s2", "v2");
    assert_eq!(
        redis::cmd("DEL").arg("s2").query::<i64>(&mut con).unwrap(),
        1
    );
    redis::cmd("SET")
        .arg("ttl")
        .arg("t")
        .arg("EX")
        .arg(100_000)
        .query::<()>(&mut con)
        .unwrap();
    set(&mut con, "later", "l");
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("later")
            .arg(200_000)
            .query::<i64>(&mut con)
            .unwrap(),
        1
    );
    redis::cmd("MSET")
        .arg("m1")
        .arg("a")
        .arg("m2")
        .arg("b")
        .arg("m3")
        .arg("c")
        .query::<()>(&mut con)
        .unwrap();
    let replies: (String, i64, String, i64) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("x1")
        .arg(1)
        .cmd("INCR")
        .arg("x1")
        .cmd("SET")
        .arg("x2")
        .arg(2)
        .cmd("DEL")
        .arg("m3")
        .query(&mut con)
        .unwrap();
    assert_eq!(replies, ("OK".into(), 2, "OK".into(), 1));
    for _ in 0..5 {
        redis::cmd("INCR")
            .arg("counter")
            .query::<i64>(&mut con)
            .unwrap();
    }
    select(&mut con, 3);
    set(&mut con, "db3key", "three");
    assert_eq!(
        redis::cmd("INCRBY")
            .arg("n")
            .arg(10)
            .query::<i64>(&mut con)
            .unwrap(),
        10
    );

    let mut pg = ports.pg();
    let mut txn = pg.transaction().unwrap();
    txn.execute(
        "INSERT INTO kv (key, value) VALUES ($1, $2), ($3, $4), ($5, $6)",
        &[&"p1", &"one", &"p2", &"two", &"p3", &"three"],
    )
    .unwrap();
    txn.execute("UPDATE kv SET value = 'TWO' WHERE key = 'p2'", &[])
        .unwrap();
    txn.execute("DELETE FROM kv WHERE key = 'p3'", &[]).unwrap();
    txn.commit().unwrap();
    let mut txn = pg.transaction().unwrap();
    txn.execute("INSERT INTO kv VALUES ('rolled', 'back')", &[])
        .unwrap();
    txn.rollback().unwrap();
    pg.execute("INSERT INTO kv VALUES ('auto', '1')", &[])
        .unwrap();

    assert_eq!(ports.http("PUT", "/api/v1/kv/h1", b"hello").0, 200);
    assert_eq!(ports.http("PUT", "/api/v1/kv/h2", b"bye").0, 200);
    assert_eq!(ports.http("DELETE", "/api/v1/kv/h2", b"").0, 200);
}

/// The keys database 0 holds after `write_workload`.
const WORKLOAD_DB0_KEYS: [&str; 12] = [
    "auto", "counter", "h1", "later", "m1", "m2", "p1", "p2", "s1", "ttl", "x1", "x2",
];

fn check_workload(ports: Ports) {
    let mut con = ports.redis();
    assert_eq!(keys(&mut con), WORKLOAD_DB0_KEYS);
    assert_eq!(get(&mut con, "s1").as_deref(), Some("v1"));
    assert_eq!(get(&mut con, "s2"), None);
    let ttl_s = ttl(&mut con, "ttl");
    assert!((1..=100_000).contains(&ttl_s), "TTL ttl = {ttl_s}");
    let later_s = ttl(&mut con, "later");
    assert!(
        (100_001..=200_000).contains(&later_s),
        "TTL later = {later_s}"
    );
    assert_eq!(ttl(&mut con, "s1"), -1);
    assert_eq!(get(&mut con, "m1").as_deref(), Some("a"));
    assert_eq!(get(&mut con, "m2").as_deref(), Some("b"));
    assert_eq!(get(&mut con, "m3"), None);
    assert_eq!(get(&mut con, "x1").as_deref(), Some("2"));
    assert_eq!(get(&mut con, "x2").as_deref(), Some("2"));
    assert_eq!(get(&mut con, "counter").as_deref(), Some("5"));
    assert_eq!(get(&mut con, "h1").as_deref(), Some("hello"));
    select(&mut con, 3);
    assert_eq!(keys(&mut con), ["db3key", "n"]);
    assert_eq!(get(&mut con, "n").as_deref(), Some("10"));

    let mut pg = ports.pg();
    let rows: Vec<(String, String)> = pg
        .query(
            "SELECT key, value FROM kv WHERE key LIKE 'p%' ORDER BY key",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        rows,
        [("p1".into(), "one".into()), ("p2".into(), "TWO".into())]
    );
    assert!(pg
        .query("SELECT value FROM kv WHERE key = 'rolled'", &[])
        .unwrap()
        .is_empty());
    let auto: String = pg
        .query_one("SELECT value FROM kv WHERE key = 'auto'", &[])
        .unwrap()
        .get(0);
    assert_eq!(auto, "1");

    assert_eq!(
        ports.http("GET", "/api/v1/kv/h1", b""),
        (200, "hello".into())
    );
    assert_eq!(ports.http("GET", "/api/v1/kv/h2", b"").0, 404);
}

#[test]
fn writes_of_every_protocol_survive_a_graceful_restart() {
    let dir = TempDir::new("graceful");
    let server = start_durable(dir.path());
    write_workload(Ports::of(&server));
    check_workload(Ports::of(&server));
    let server = server.restart();
    check_workload(Ports::of(&server));
    // Recovered state is logged on like any other: change it, restart again.
    let mut con = server.client();
    redis::cmd("DEL").arg("s1").query::<i64>(&mut con).unwrap();
    set(&mut con, "new", "after");
    drop(con);
    let server = server.restart();
    let mut con = server.client();
    assert_eq!(get(&mut con, "s1"), None);
    assert_eq!(get(&mut con, "new").as_deref(), Some("after"));
    assert_eq!(get(&mut con, "m1").as_deref(), Some("a"));
}

/// A server in a child process, killed with SIGKILL when dropped.
struct ChildServer {
    child: Child,
    ports: Ports,
}

impl ChildServer {
    fn start(dir: &Path, fsync: FsyncPolicy) -> ChildServer {
        ChildServer::start_with_env(dir, fsync, &[])
    }

    fn start_with_env(dir: &Path, fsync: FsyncPolicy, env: &[(&str, String)]) -> ChildServer {
        let mut command = Command::new(std::env::current_exe().expect("the test binary"));
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .args([
                "child_server",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_VAR, dir)
            .env(CHILD_FSYNC_VAR, fsync.name())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawns the child server");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let ports = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    // libtest may have written "test child_server ... "
                    // on the same line first.
                    if let Some((_, rest)) = line.split_once("CHILD-PORTS ") {
                        let ports: Vec<u16> = rest.split(' ').map(|p| p.parse().unwrap()).collect();
                        break Ports {
                            resp: ports[0],
                            pg: ports[1],
                            http: ports[2],
                        };
                    }
                }
                _ => {
                    let _ = child.kill();
                    panic!("the child server exited before serving");
                }
            }
        };
        ChildServer { child, ports }
    }

    /// Sends one line to the child's stdin.
    fn tell(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("piped");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// SIGKILL, and wait until it is gone (its lock on the dir with it).
    fn kill(mut self) {
        self.child.kill().expect("kills the child");
        self.child.wait().expect("reaps the child");
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Not a test on its own: the child process of the kill tests. It serves
/// the data dir named in its environment until it is killed.
#[test]
#[ignore = "the kill tests run it as a child process"]
fn child_server() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else {
        return;
    };
    let fsync = std::env::var(CHILD_FSYNC_VAR)
        .ok()
        .and_then(|name| FsyncPolicy::parse(&name))
        .unwrap_or(FsyncPolicy::Everysec);
    let server = TestServer::start_with(durable(Path::new(&dir), fsync));
    let fsize_limit: Option<u64> = std::env::var(CHILD_FSIZE_VAR)
        .ok()
        .map(|bytes| bytes.parse().unwrap());
    if let Some(bytes) = fsize_limit {
        set_file_size_limit(bytes);
    }
    println!(
        "CHILD-PORTS {} {} {}",
        server.port, server.pg_port, server.http_port
    );
    std::io::stdout().flush().unwrap();
    for line in std::io::stdin().lines() {
        if line.as_deref().is_ok_and(|line| line == "unlimit") {
            set_file_size_limit(libc::RLIM_INFINITY);
        }
    }
    // EOF: the parent is gone without killing us (it was killed itself);
    // do not linger on its ports and data dir.
    // SAFETY: _exit ends the process at once, like the SIGKILL expected.
    unsafe { libc::_exit(0) }
}

/// RLIMIT_FSIZE for the whole process; a write past it fails with EFBIG
/// (SIGXFSZ, which would kill the process, is ignored).
fn set_file_size_limit(bytes: u64) {
    // SAFETY: plain libc calls with valid arguments.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut limit: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
        limit.rlim_cur = bytes.min(limit.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
}

/// Acknowledged writes from several clients at once (so that batches of
/// both workers mix connections), then SIGKILL: every one is recovered.
fn killed_server_recovers_what_it_acknowledged(fsync: FsyncPolicy) {
    const CLIENTS: usize = 4;
    const KEYS_PER_CLIENT: usize = 200;
    let dir = TempDir::new(&format!("kill-{}", fsync.name()));
    let child = ChildServer::start(dir.path(), fsync);
    let ports = child.ports;
    write_workload(ports);
    let writers: Vec<_> = (0..CLIENTS)
        .map(|client| {
            std::thread::spawn(move || {
                let mut con = ports.redis();
                for chunk in (0..KEYS_PER_CLIENT).collect::<Vec<_>>().chunks(10) {
                    let mut pipe = redis::pipe();
                    for i in chunk {
                        pipe.cmd("SET")
                            .arg(format!("load:{client}:{i}"))
                            .arg(i)
                            .ignore();
                    }
                    pipe.query::<()>(&mut con).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer finished");
    }
    child.kill();

    let server = TestServer::start_with(durable(dir.path(), fsync));
    let mut con = server.client();
    for client in 0..CLIENTS {
        for i in 0..KEYS_PER_CLIENT {
            let key = format!("load:{client}:{i}");
            assert_eq!(get(&mut con, &key), Some(i.to_string()), "{key}");
        }
    }
    check_workload_except_load(Ports::of(&server));
}

/// `check_workload` after the `load:*` keys of the kill tests were
/// checked (it deletes them).
fn check_workload_except_load(ports: Ports) {
    let mut con = ports.redis();
    let mut listed: Vec<String> = keys(&mut con)
        .into_iter()
        .filter(|key| !key.starts_with("load:"))
        .collect();
    listed.sort();
    assert_eq!(listed, WORKLOAD_DB0_KEYS);
    let loads: Vec<String> = redis::cmd("KEYS").arg("load:*").query(&mut con).unwrap();
    for key in loads {
        redis::cmd("DEL").arg(key).query::<i64>(&mut con).unwrap();
    }
    check_workload(ports);
}

#[test]
fn a_killed_server_recovers_under_appendfsync_always() {
    killed_server_recovers_what_it_acknowledged(FsyncPolicy::Always);
}

#[test]
fn a_killed_server_recovers_under_appendfsync_everysec() {
    killed_server_recovers_what_it_acknowledged(FsyncPolicy::Everysec);
}

#[test]
fn a_killed_server_recovers_under_appendfsync_no() {
    killed_server_recovers_what_it_acknowledged(FsyncPolicy::No);
}

#[test]
fn expired_keys_stay_expired() {
    let dir = TempDir::new("expiry");
    let server = start_durable(dir.path());
    let mut con = server.client();
    redis::cmd("SET")
        .arg("soon")
        .arg("v")
        .arg("PX")
        .arg(100)
        .query::<()>(&mut con)
        .unwrap();
    set(&mut con, "soon2", "v");
    redis::cmd("PEXPIRE")
        .arg("soon2")
        .arg(100)
        .query::<i64>(&mut con)
        .unwrap();
    redis::cmd("SET")
        .arg("kept")
        .arg("v")
        .arg("EX")
        .arg(100_000)
        .query::<()>(&mut con)
        .unwrap();
    wait_until("both keys to expire", || {
        let pttl = |con: &mut redis::Connection, key: &str| -> i64 {
            redis::cmd("PTTL").arg(key).query(con).unwrap()
        };
        pttl(&mut con, "soon") == -2 && pttl(&mut con, "soon2") == -2
    });
    drop(con);
    let server = server.restart();
    let mut con = server.client();
    assert_eq!(get(&mut con, "soon"), None);
    assert_eq!(get(&mut con, "soon2"), None);
    let exists: i64 = redis::cmd("EXISTS")
        .arg("soon")
        .arg("soon2")
        .query(&mut con)
        .unwrap();
    assert_eq!(exists, 0);
    assert_eq!(get(&mut con, "kept").as_deref(), Some("v"));
    let kept_s = ttl(&mut con, "kept");
    assert!((1..=100_000).contains(&kept_s), "TTL kept = {kept_s}");
    // Also after a checkpoint wrote the survivors into a snapshot.
    assert_eq!(redis::cmd("SAVE").query::<String>(&mut con).unwrap(), "OK");
    drop(con);
    let server = server.restart();
    let mut con = server.client();
    assert_eq!(keys(&mut con), ["kept"]);
}

#[test]
fn flushall_and_flushdb_survive_a_restart() {
    let dir = TempDir::new("flush");
    let server = start_durable(dir.path());
    let mut con = server.client();
    set(&mut con, "a", 1);
    select(&mut con, 2);
    set(&mut con, "b", 1);
    redis::cmd("FLUSHALL").query::<()>(&mut con).unwrap();
    set(&mut con, "c", 1);
    select(&mut con, 0);
    set(&mut con, "after", 1);
    select(&mut con, 5);
    set(&mut con, "x", 1);
    redis::cmd("FLUSHDB").query::<()>(&mut con).unwrap();
    drop(con);
    let server = server.restart();
    let mut con = server.client();
    assert_eq!(keys(&mut con), ["after"]);
    select(&mut con, 2);
    assert_eq!(keys(&mut con), ["c"]);
    select(&mut con, 5);
    assert!(keys(&mut con).is_empty());
}

#[test]
fn a_checkpoint_and_the_logs_after_it_recover_together() {
    let dir = TempDir::new("checkpoint");
    let server = start_durable(dir.path());
    let mut con = server.client();
    for i in 0..100 {
        set(&mut con, format!("k{i}"), i);
    }
    assert_eq!(redis::cmd("SAVE").query::<String>(&mut con).unwrap(), "OK");
    // After the snapshot: overwrite, delete, add; the higher TID wins.
    set(&mut con, "k1", "changed");
    redis::cmd("DEL").arg("k2").query::<i64>(&mut con).unwrap();
    set(&mut con, "k100", "new");
    drop(con);
    let server = server.restart();
    let mut con = server.client();
    assert_eq!(get(&mut con, "k0").as_deref(), Some("0"));
    assert_eq!(get(&mut con, "k1").as_deref(), Some("changed"));
    assert_eq!(get(&mut con, "k2"), None);
    assert_eq!(get(&mut con, "k99").as_deref(), Some("99"));
    assert_eq!(get(&mut con, "k100").as_deref(), Some("new"));
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 100);
    assert_eq!(info_number(&mut con, "rdb_last_load_keys_loaded"), 100);
    assert_eq!(info_number(&mut con, "recovery_keys"), 100);
}

#[test]
fn save_bgsave_bgrewriteaof_lastsave_and_info_persistence() {
    let dir = TempDir::new("commands");
    let before_start_s = unix_now_s();
    let server = start_durable(dir.path());
    let mut con = server.client();
    // At startup LASTSAVE is when recovery ended.
    let started: i64 = redis::cmd("LASTSAVE").query(&mut con).unwrap();
    assert!(started >= before_start_s && started <= unix_now_s());
    assert_eq!(info_field(&mut con, "loading").as_deref(), Some("0"));
    assert_eq!(info_field(&mut con, "aof_enabled").as_deref(), Some("1"));
    assert_eq!(
        info_field(&mut con, "aof_last_write_status").as_deref(),
        Some("ok")
    );
    assert_eq!(
        info_field(&mut con, "wal_fsync_policy").as_deref(),
        Some("everysec")
    );
    assert_eq!(
        info_field(&mut con, "aof_buffer_length").as_deref(),
        Some("0")
    );

    set(&mut con, "a", 1);
    assert!(info_number(&mut con, "rdb_changes_since_last_save") >= 1);
    let before_save_s = unix_now_s();
    assert_eq!(redis::cmd("SAVE").query::<String>(&mut con).unwrap(), "OK");
    let saved: i64 = redis::cmd("LASTSAVE").query(&mut con).unwrap();
    assert!(saved >= before_save_s);
    assert_eq!(info_number(&mut con, "rdb_changes_since_last_save"), 0);
    assert!(info_number(&mut con, "rdb_saves") >= 1);
    assert_eq!(
        info_field(&mut con, "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
    assert!(info_number(&mut con, "rdb_last_bgsave_time_sec") >= 0);
    assert!(info_number(&mut con, "aof_base_size") > 0);

    // One INFO: both figures from the same reading.
    let idle = |con: &mut redis::Connection| {
        let text: String = redis::cmd("INFO").arg("persistence").query(con).unwrap();
        text.contains("\r\nrdb_bgsave_in_progress:0\r\n")
            && text.contains("\r\naof_rewrite_scheduled:0\r\n")
    };
    let first: String = redis::cmd("BGSAVE").query(&mut con).unwrap();
    assert_eq!(first, "Background saving started");
    let second: redis::RedisResult<String> = redis::cmd("BGSAVE").query(&mut con);
    match second {
        Ok(text) => assert_eq!(text, "Background saving started"),
        Err(error) => assert_eq!(error.detail(), Some("Background save already in progress")),
    }
    let scheduled: String = redis::cmd("BGSAVE")
        .arg("SCHEDULE")
        .query(&mut con)
        .unwrap();
    assert!(
        ["Background saving started", "Background saving scheduled"].contains(&&*scheduled),
        "{scheduled}"
    );
    wait_until("the checkpoints to end", || idle(&mut con));
    let rewrite: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    assert!(
        [
            "Background append only file rewriting started",
            "Background append only file rewriting scheduled"
        ]
        .contains(&&*rewrite),
        "{rewrite}"
    );
    wait_until("the rewrite to end", || idle(&mut con));
    assert!(info_number(&mut con, "rdb_saves") >= 3);
    assert_eq!(
        info_field(&mut con, "rdb_current_bgsave_time_sec").as_deref(),
        Some("-1")
    );

    // Byte-exact replies, as redis-server 7.0.15 gives them.
    let mut raw = server.raw();
    exchange(&mut raw, b"BGSAVE foo\r\n", b"-ERR syntax error\r\n");
    exchange(
        &mut raw,
        b"SAVE now\r\n",
        b"-ERR wrong number of arguments for 'save' command\r\n",
    );
    exchange(
        &mut raw,
        b"MULTI\r\nSAVE\r\nSET k v\r\nEXEC\r\n",
        b"+OK\r\n-ERR Command not allowed inside a transaction\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    let lastsave = format!(
        ":{}\r\n",
        redis::cmd("LASTSAVE").query::<i64>(&mut con).unwrap()
    );
    exchange(&mut raw, b"LASTSAVE\r\n", lastsave.as_bytes());
}

#[test]
fn config_get_and_set_speak_redis_persistence() {
    let dir = TempDir::new("config");
    let server = start_durable(dir.path());
    let mut con = server.client();
    assert_eq!(config_get(&mut con, "appendonly"), "yes");
    assert_eq!(config_get(&mut con, "save"), "300 1");
    assert_eq!(config_get(&mut con, "appendfsync"), "everysec");
    assert_eq!(
        config_get(&mut con, "dir"),
        dir.path().display().to_string()
    );
    assert_eq!(
        config_get(&mut con, "data-dir"),
        dir.path().display().to_string()
    );
    assert_eq!(config_get(&mut con, "checkpoint-log-bytes"), "67108864");
    assert_eq!(config_get(&mut con, "recovery-truncate-corrupt"), "no");

    // appendfsync is live: the engine takes it at once.
    let ok = |con: &mut redis::Connection, name: &str, value: &str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .query::<()>(con)
            .unwrap_or_else(|e| panic!("CONFIG SET {name} {value}: {e}"))
    };
    ok(&mut con, "appendfsync", "always");
    assert_eq!(config_get(&mut con, "appendfsync"), "always");
    assert_eq!(
        info_field(&mut con, "wal_fsync_policy").as_deref(),
        Some("always")
    );
    set(&mut con, "k", "v");
    assert!(info_number(&mut con, "wal_fsyncs") >= 1);
    ok(&mut con, "appendfsync", "no");
    assert_eq!(
        info_field(&mut con, "wal_fsync_policy").as_deref(),
        Some("no")
    );

    ok(&mut con, "save", "");
    assert_eq!(config_get(&mut con, "save"), "");
    assert_eq!(config_get(&mut con, "checkpoint-interval-s"), "0");
    ok(&mut con, "save", "900 1 300 10");
    assert_eq!(config_get(&mut con, "save"), "900 1");
    assert_eq!(config_get(&mut con, "checkpoint-interval-s"), "900");
    ok(&mut con, "checkpoint-log-bytes", "1mb");
    assert_eq!(config_get(&mut con, "checkpoint-log-bytes"), "1048576");
    ok(&mut con, "appendonly", "yes");

    let mut raw = server.raw();
    exchange(
        &mut raw,
        b"CONFIG SET appendfsync sometimes\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no\r\n",
    );
    for bad in ["\"0 1\"", "\"1 2 3\"", "\"abc 1\""] {
        let request = format!("CONFIG SET save {bad}\r\n");
        exchange(
            &mut raw,
            request.as_bytes(),
            b"-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n",
        );
    }
    exchange(
        &mut raw,
        b"CONFIG SET appendonly maybe\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'\r\n",
    );
    exchange(
        &mut raw,
        b"CONFIG SET appendonly no\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'appendonly') - appendonly follows data-dir, a restart setting: unset data-dir and restart to turn persistence off\r\n",
    );
    exchange(
        &mut raw,
        b"CONFIG SET data-dir /tmp/elsewhere\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'data-dir') - can't set immutable config\r\n",
    );
    // A failed CONFIG SET changed nothing.
    assert_eq!(config_get(&mut con, "save"), "900 1");
    assert_eq!(config_get(&mut con, "appendfsync"), "no");
}

#[test]
fn durability_metrics_in_prometheus_text_and_json() {
    let dir = TempDir::new("metrics");
    let server = start_durable(dir.path());
    let ports = Ports::of(&server);
    let mut con = server.client();
    set(&mut con, "k", "v");
    let (status, text) = ports.http("GET", "/metrics", b"");
    assert_eq!(status, 200);
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no sample {name} in /metrics"))
            .parse()
            .unwrap()
    };
    for (name, kind) in [
        ("corewire_wal_bytes_written_total", "counter"),
        ("corewire_wal_records_written_total", "counter"),
        ("corewire_wal_fsyncs_total", "counter"),
        ("corewire_wal_fsync_seconds_total", "counter"),
        ("corewire_wal_ok", "gauge"),
        ("corewire_checkpoints_total", "counter"),
        ("corewire_checkpoint_failures_total", "counter"),
        ("corewire_last_checkpoint_timestamp_seconds", "gauge"),
        ("corewire_recovery_seconds", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} {kind}"
        );
        assert!(value(name) >= 0.0);
    }
    // The SET's reply left after its record was written.
    assert!(value("corewire_wal_records_written_total") >= 1.0);
    assert!(value("corewire_wal_bytes_written_total") > 0.0);
    assert_eq!(value("corewire_wal_ok"), 1.0);
    assert_eq!(value("corewire_checkpoint_failures_total"), 0.0);

    let (status, body) = ports.http("GET", "/stats", b"");
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    let durability = &stats["durability"];
    assert_eq!(durability["wal_ok"], true);
    assert_eq!(durability["fsync_policy"], "everysec");
    assert!(durability["wal_records_written"].as_u64().unwrap() >= 1);
}

#[test]
fn a_second_server_on_the_same_data_dir_fails() {
    let dir = TempDir::new("lock");
    let server = start_durable(dir.path());
    let error = match TestServer::try_start_with(durable(dir.path(), FsyncPolicy::Everysec)) {
        Ok(_) => panic!("a second server started on the same data dir"),
        Err(error) => error,
    };
    assert!(error.starts_with("data-dir: "), "{error}");
    // The first one is unaffected, and the dir is free once it stops.
    let mut con = server.client();
    set(&mut con, "k", "v");
    drop(con);
    let server = server.restart();
    assert_eq!(get(&mut server.client(), "k").as_deref(), Some("v"));
}

extern "C" {
    fn cw_bundled_engine_open(ops: *mut cw_engine_ops) -> bool;
    fn cw_bundled_engine_close(ops: *mut cw_engine_ops);
}

/// An engine with no durability (a v2 ops table) refuses a data-dir at
/// startup with a reason, and serves without one.
#[test]
fn an_engine_without_durability_refuses_a_data_dir() {
    let dir = TempDir::new("v2");
    let mut slot = Box::new(MaybeUninit::<cw_engine_ops>::uninit());
    // SAFETY: slot is writable storage for one table.
    assert!(unsafe { cw_bundled_engine_open(slot.as_mut_ptr()) });
    // SAFETY: filled by cw_bundled_engine_open.
    let mut ops: Box<cw_engine_ops> =
        unsafe { Box::from_raw(Box::into_raw(slot) as *mut cw_engine_ops) };
    let mut v2 = *ops;
    v2.abi_version = CW_ENGINE_ABI_VERSION_V2;
    v2.struct_size = CW_ENGINE_OPS_V2_SIZE;
    // SAFETY: the bundled engine's functions, which outlive both servers.
    let engine = unsafe { Engine::from_ops(&v2) }.expect("a v2 table is accepted");
    assert!(!engine.has_durability());
    let config = Config {
        workers: 1,
        resp_port: 0,
        pg_port: 0,
        http_port: 0,
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let error = match Server::start(config.clone(), engine) {
        Ok(_) => panic!("started with a data-dir on an engine without durability"),
        Err(error) => error,
    };
    assert!(error.contains("no durability"), "{error}");
    let server = Server::start(
        Config {
            data_dir: None,
            ..config
        },
        engine,
    )
    .expect("starts without a data-dir");
    let mut con = redis::Client::open(format!("redis://127.0.0.1:{}/", server.resp_port()))
        .unwrap()
        .get_connection_with_timeout(WAIT_LIMIT)
        .unwrap();
    set(&mut con, "k", "v");
    assert_eq!(get(&mut con, "k").as_deref(), Some("v"));
    drop(con);
    server.shutdown();
    // SAFETY: every worker is gone.
    unsafe { cw_bundled_engine_close(&mut *ops) };
}

/// Without a data-dir: persistence commands refuse, INFO and CONFIG say
/// it is off, and the metrics have no durability families.
#[test]
fn persistence_is_off_without_a_data_dir() {
    let before_start_s = unix_now_s();
    let server = TestServer::start();
    let mut raw = server.raw();
    for command in ["SAVE", "BGSAVE", "BGSAVE SCHEDULE", "BGREWRITEAOF"] {
        exchange(
            &mut raw,
            format!("{command}\r\n").as_bytes(),
            b"-ERR persistence is off (no data-dir is set)\r\n",
        );
    }
    exchange(
        &mut raw,
        b"CONFIG SET appendonly yes\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'appendonly') - appendonly follows data-dir, a restart setting: set data-dir and restart to turn persistence on\r\n",
    );
    exchange(&mut raw, b"CONFIG SET appendonly no\r\n", b"+OK\r\n");
    let mut con = server.client();
    let lastsave: i64 = redis::cmd("LASTSAVE").query(&mut con).unwrap();
    assert!(lastsave >= before_start_s && lastsave <= unix_now_s());
    assert_eq!(config_get(&mut con, "appendonly"), "no");
    assert_eq!(config_get(&mut con, "save"), "");
    assert_eq!(config_get(&mut con, "data-dir"), "");
    assert_eq!(
        config_get(&mut con, "dir"),
        std::env::current_dir().unwrap().display().to_string()
    );
    assert_eq!(info_field(&mut con, "aof_enabled").as_deref(), Some("0"));
    assert_eq!(info_field(&mut con, "rdb_saves").as_deref(), Some("0"));
    assert_eq!(
        info_field(&mut con, "rdb_last_save_time"),
        Some(lastsave.to_string())
    );
    assert_eq!(info_field(&mut con, "wal_fsync_policy"), None);
    assert_eq!(info_field(&mut con, "aof_current_size"), None);
    // The default INFO has the section, in Redis's place.
    let all: String = redis::cmd("INFO").query(&mut con).unwrap();
    let memory = all.find("# Memory\r\n").unwrap();
    let persistence = all.find("# Persistence\r\nloading:0\r\n").unwrap();
    let stats = all.find("# Stats\r\n").unwrap();
    assert!(memory < persistence && persistence < stats);

    let ports = Ports::of(&server);
    let (_, metrics) = ports.http("GET", "/metrics", b"");
    assert!(!metrics.contains("corewire_wal_"));
    assert!(!metrics.contains("corewire_checkpoints_total"));
    let (_, body) = ports.http("GET", "/stats", b"");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(stats.get("durability").is_none());
}

/// A log that cannot be written (here a file size limit: EFBIG): the
/// replies that waited for it never leave (their connection is closed),
/// later writes are refused in each protocol's words, reads keep working,
/// and once the engine's retry succeeds writes are accepted again. Every
/// write that was acknowledged is recovered after a SIGKILL.
#[test]
fn a_log_that_cannot_be_written_refuses_writes_until_it_can() {
    let dir = TempDir::new("log-failure");
    let mut child = ChildServer::start_with_env(
        dir.path(),
        FsyncPolicy::Everysec,
        &[(CHILD_FSIZE_VAR, (64 * 1024).to_string())],
    );
    let ports = child.ports;
    let mut con = ports.redis();
    set(&mut con, "before", "ok");
    // Write until the log hits the limit: the reply that waited for the
    // failed flush never comes (the connection is closed).
    let value = "x".repeat(1000);
    let mut acknowledged = Vec::new();
    let mut closed = false;
    for i in 0..1000 {
        let key = format!("fill:{i}");
        match redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .query::<()>(&mut con)
        {
            Ok(()) => acknowledged.push(key),
            Err(error) => {
                assert!(
                    error.is_io_error() || error.is_connection_dropped(),
                    "the first failure closes the connection: {error}"
                );
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the log never filled up");
    assert!(!acknowledged.is_empty());

    // Now every protocol refuses writes, and reads still work.
    let mut raw = TcpStream::connect(("127.0.0.1", ports.resp)).unwrap();
    raw.set_read_timeout(Some(WAIT_LIMIT)).unwrap();
    exchange(
        &mut raw,
        b"SET k v\r\n",
        b"-MISCONF Errors writing to the AOF file: File too large\r\n",
    );
    exchange(
        &mut raw,
        b"MULTI\r\nSET k v\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of: MISCONF Errors writing to the AOF file: File too large\r\n",
    );
    exchange(&mut raw, b"GET before\r\n", b"$2\r\nok\r\n");
    let mut con = ports.redis();
    assert_eq!(
        info_field(&mut con, "aof_last_write_status").as_deref(),
        Some("err")
    );
    let mut pg = ports.pg();
    let error = pg
        .execute("INSERT INTO kv VALUES ('pg', 'no')", &[])
        .unwrap_err();
    let db_error = error.as_db_error().expect("an ErrorResponse");
    assert_eq!(db_error.code().code(), "58030");
    assert_eq!(
        db_error.message(),
        "could not write to the write-ahead log: File too large"
    );
    let before: String = pg
        .query_one("SELECT value FROM kv WHERE key = 'before'", &[])
        .unwrap()
        .get(0);
    assert_eq!(before, "ok");
    let (status, body) = ports.http("PUT", "/api/v1/kv/h", b"no");
    assert_eq!(status, 503);
    assert!(
        body.contains("could not write to the write-ahead log: File too large"),
        "{body}"
    );
    let (_, metrics) = ports.http("GET", "/metrics", b"");
    assert!(metrics.contains("\ncorewire_wal_ok 0\n"));

    // Lift the limit: the engine's retry succeeds and writes resume.
    child.tell("unlimit");
    wait_until("writes to be accepted again", || {
        redis::cmd("SET")
            .arg("after")
            .arg("ok")
            .query::<()>(&mut con)
            .is_ok()
    });
    assert_eq!(
        info_field(&mut con, "aof_last_write_status").as_deref(),
        Some("ok")
    );
    drop((con, pg));
    child.kill();

    let server = TestServer::start_with(durable(dir.path(), FsyncPolicy::Everysec));
    let mut con = server.client();
    assert_eq!(get(&mut con, "before").as_deref(), Some("ok"));
    assert_eq!(get(&mut con, "after").as_deref(), Some("ok"));
    for key in &acknowledged {
        assert_eq!(get(&mut con, key).as_deref(), Some(&*value), "{key}");
    }
    assert_eq!(get(&mut con, "k"), None);
    assert_eq!(get(&mut con, "pg"), None);
    assert_eq!(get(&mut con, "h"), None);
}

/// A corrupt record in the middle of a log refuses startup, naming the way
/// out; with recovery-truncate-corrupt the log is cut there and the server
/// starts with what came before it.
#[test]
fn a_corrupt_log_refuses_startup_unless_truncation_is_asked_for() {
    const KEYS: i64 = 40;
    let dir = TempDir::new("corrupt");
    let server = start_durable(dir.path());
    let mut con = server.client();
    for i in 0..KEYS {
        set(&mut con, format!("k{i}"), i);
    }
    drop(con);
    drop(server);
    // One connection, one worker: its log holds every record.
    let log = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .max_by_key(|path| std::fs::metadata(path).unwrap().len())
        .expect("a log file");
    let mut bytes = std::fs::read(&log).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&log, bytes).unwrap();

    let error = match TestServer::try_start_with(durable(dir.path(), FsyncPolicy::Everysec)) {
        Ok(_) => panic!("started over a corrupt log"),
        Err(error) => error,
    };
    assert!(error.starts_with("data-dir: recovery: "), "{error}");
    assert!(error.contains("corrupt record at byte"), "{error}");
    assert!(error.contains("recovery-truncate-corrupt = yes"), "{error}");

    let server = TestServer::start_with(|config| {
        durable(dir.path(), FsyncPolicy::Everysec)(config);
        config.recovery_truncate_corrupt = true;
    });
    let mut con = server.client();
    let left: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert!(left > 0 && left < KEYS, "{left} keys left");
    // What is left is a prefix of what was written.
    for i in 0..left {
        assert_eq!(get(&mut con, &format!("k{i}")), Some(i.to_string()));
    }
    assert!(info_number(&mut con, "recovery_dropped_records") >= 1);
}
