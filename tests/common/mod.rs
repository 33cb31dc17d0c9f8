//! Test servers: the real corewire runtime over the real bundled C++ engine
//! (cpp/engine, linked by build.rs), on an ephemeral loopback port.
#![allow(dead_code)]

pub mod pg_wire;
pub mod upstream_pg;

use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::net::TcpStream;
use std::time::Duration;

use corewire::engine::ffi::cw_engine_ops;
use corewire::{Config, Engine, Server};

extern "C" {
    fn cw_bundled_engine_open(ops: *mut cw_engine_ops) -> bool;
    fn cw_bundled_engine_close(ops: *mut cw_engine_ops);
}

/// A running server and the engine it owns; shut down on drop.
pub struct TestServer {
    server: Option<Server>,
    ops: Box<cw_engine_ops>,
    pub port: u16,
    /// The PostgreSQL listener's port.
    pub pg_port: u16,
    /// The HTTP listener's port (0 when a test turned HTTP off).
    pub http_port: u16,
    /// What it was started with (`restart` starts again with the same).
    pub config: Config,
}

impl TestServer {
    /// Two workers (as on the 2-core CI machine) and default limits.
    pub fn start() -> TestServer {
        TestServer::start_with(|_| {})
    }

    pub fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::try_start_with(adjust).expect("server starts")
    }

    pub fn try_start_with(adjust: impl FnOnce(&mut Config)) -> Result<TestServer, String> {
        let mut config = Config {
            workers: 2,
            resp_port: 0,
            pg_port: 0,
            http_port: 0,
            ..Config::default()
        };
        adjust(&mut config);
        TestServer::try_start_config(config)
    }

    /// A server over a fresh bundled engine with exactly this
    /// configuration (a data-dir in it is recovered first).
    pub fn try_start_config(config: Config) -> Result<TestServer, String> {
        let mut slot = Box::new(MaybeUninit::<cw_engine_ops>::uninit());
        // SAFETY: slot is writable storage for one table.
        assert!(
            unsafe { cw_bundled_engine_open(slot.as_mut_ptr()) },
            "engine opens"
        );
        // SAFETY: cw_bundled_engine_open filled every field.
        let mut ops: Box<cw_engine_ops> =
            unsafe { Box::from_raw(Box::into_raw(slot) as *mut cw_engine_ops) };
        // SAFETY: the table lives in a Box that outlives the server (it is
        // closed only after shutdown).
        let engine = unsafe { Engine::from_ops(&*ops) }.expect("valid ops table");
        match Server::start(config.clone(), engine) {
            Ok(server) => {
                let port = server.resp_port();
                let pg_port = server.pg_port();
                let http_port = server.http_port();
                Ok(TestServer {
                    server: Some(server),
                    ops,
                    port,
                    pg_port,
                    http_port,
                    config,
                })
            }
            Err(error) => {
                // SAFETY: no worker holds an engine handle any more.
                unsafe { cw_bundled_engine_close(&mut *ops) };
                Err(error)
            }
        }
    }

    /// Stops this server gracefully, closes its engine, and starts a new
    /// server and engine with the same configuration (on new ports): with
    /// a data-dir, a restart that recovers it.
    pub fn restart(self) -> TestServer {
        let config = self.config.clone();
        drop(self);
        TestServer::try_start_config(config).expect("server restarts")
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A `postgres` crate connection string for `user` (no password).
    pub fn pg_url(&self, user: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} dbname=kv connect_timeout=30",
            self.pg_port
        )
    }

    /// A `postgres` crate login as `user`, with `password` if given.
    pub fn pg_connect(
        &self,
        user: &str,
        password: Option<&str>,
    ) -> Result<postgres::Client, postgres::Error> {
        let mut url = self.pg_url(user);
        if let Some(password) = password {
            url.push_str(&format!(" password='{password}'"));
        }
        postgres::Client::connect(&url, postgres::NoTls)
    }

    /// A PostgreSQL client (trusted loopback login).
    pub fn pg_client(&self) -> postgres::Client {
        postgres::Client::connect(&self.pg_url("tester"), postgres::NoTls).expect("connects")
    }

    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("valid url");
        client
            .get_connection_with_timeout(Duration::from_secs(30))
            .expect("connects")
    }

    /// A raw socket with a generous read timeout (a failure guard, not a
    /// speed check).
    pub fn raw(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("running")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        // SAFETY: every worker (and so every engine handle) is gone.
        unsafe { cw_bundled_engine_close(&mut *self.ops) };
    }
}

/// Sends `request` and reads until exactly `expected.len()` bytes arrived,
/// then compares byte for byte.
/// The value of one setting, through CONFIG GET.
pub fn config_get(con: &mut redis::Connection, name: &str) -> String {
    let pair: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query(con)
        .unwrap();
    assert_eq!(pair.len(), 2, "CONFIG GET {name}: {pair:?}");
    pair[1].clone()
}

pub fn exchange(stream: &mut TcpStream, request: &[u8], expected: &[u8]) {
    stream.write_all(request).unwrap();
    let mut reply = vec![0u8; expected.len()];
    stream.read_exact(&mut reply).unwrap_or_else(|e| {
        panic!(
            "reading reply to {:?}: {e}",
            String::from_utf8_lossy(request)
        )
    });
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(expected),
        "reply to {:?}",
        String::from_utf8_lossy(request)
    );
}

/// Asserts the peer closes the connection (EOF or reset) without sending
/// anything more.
pub fn expect_closed(stream: &mut TcpStream) {
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => assert!(
            rest.is_empty(),
            "unexpected bytes before close: {:?}",
            String::from_utf8_lossy(&rest)
        ),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}"),
    }
}
