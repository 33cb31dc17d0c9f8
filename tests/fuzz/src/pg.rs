//! A PostgreSQL session over the real engine, fed raw client bytes the way
//! the worker feeds it (src/runtime/worker.rs `run_pg`): unconsumed input
//! stays at the front, parks (`pg_sleep`) end at once, console commands
//! are answered with an empty result.
//!
//! `Ctx` needs the process-wide `Shared`, which only a running server has:
//! the harness starts one (one worker, loopback, ephemeral ports, never
//! connected to) over a bundled engine, and drives its own session on the
//! fuzzing thread with an engine handle of its own.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use corewire::config::PgAuthMethod;
use corewire::engine::EngineWorker;
use corewire::pg::auth::Secret;
use corewire::pg::session::{Ctx, Next, PgSession};
use corewire::{Config, Server};
use md5::Digest;

use crate::engine::BundledEngine;

/// Users the harness configures when a password method is chosen.
const PASSWORD: &str = "fuzz-password";

pub struct Harness {
    server: Server,
    worker: EngineWorker,
    users: HashMap<String, Secret>,
    no_users: HashMap<String, Secret>,
    admin_users: Vec<String>,
    config: Config,
    databases: u32,
    next_client: u64,
    /// Keeps the engine's ops table alive (never closed: the harness lives
    /// as long as the process).
    _engine: BundledEngine,
}

thread_local! {
    // Leaked: the server and engine live until the process exits, and no
    // destructor runs at exit (a worker thread may still be in its loop).
    static HARNESS: &'static RefCell<Harness> = Box::leak(Box::new(RefCell::new(Harness::start())));
}

/// Runs `f` with the process's harness (started on first use).
pub fn with_harness<R>(f: impl FnOnce(&mut Harness) -> R) -> R {
    HARNESS.with(|harness| f(&mut harness.borrow_mut()))
}

/// How a session is set up and fed.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    pub auth: Auth,
    /// A park (pg_sleep) ends by cancel rather than by its deadline.
    pub cancel_parks: bool,
    /// Bytes per read, cycled (0 counts as 1).
    pub reads: [usize; 4],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No users: loopback is trusted.
    Trust,
    Md5,
    Scram,
    /// No users and a non-loopback peer: refused.
    Remote,
}

impl Mode {
    /// From two control bytes of the fuzz input.
    pub fn from_bytes(a: u8, b: u8) -> Mode {
        Mode {
            auth: match a & 3 {
                0 => Auth::Trust,
                1 => Auth::Md5,
                2 => Auth::Scram,
                _ => Auth::Remote,
            },
            cancel_parks: a & 4 != 0,
            reads: if a & 8 == 0 {
                [usize::MAX; 4]
            } else {
                [
                    (b & 0x0f) as usize + 1,
                    (b >> 4) as usize + 1,
                    (b % 11) as usize + 1,
                    1,
                ]
            },
        }
    }
}

/// How a fed session ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Client bytes the session used.
    pub consumed: usize,
    pub closed: bool,
    pub ready: bool,
    /// Everything the session wrote.
    pub output: Vec<u8>,
}

impl Harness {
    fn start() -> Harness {
        crate::quiet_log();
        let engine = BundledEngine::open();
        let config = Config {
            workers: 1,
            bind: Ipv4Addr::LOCALHOST.into(),
            resp_port: 0,
            pg_port: 0,
            http_port: 0,
            http_enabled: false,
            log_level: corewire::log::Level::Error,
            ..Config::default()
        };
        let server = Server::start(config.clone(), engine.engine()).expect("the server starts");
        crate::quiet_log();
        // Worker 0 is the server's; this thread is worker 1 to the engine.
        let worker = engine.engine().open_worker(1).expect("an engine handle");
        let mut users = HashMap::new();
        // A plaintext password serves md5 and SCRAM; the others one each.
        users.insert(
            "alice".to_string(),
            Secret::parse(PASSWORD).expect("a password"),
        );
        // bob has only an md5 hash (md5(password || user)).
        let digest = md5::Md5::digest(format!("{PASSWORD}bob").as_bytes());
        let md5: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        users.insert(
            "bob".to_string(),
            Secret::parse(&format!("md5{md5}")).expect("an md5 secret"),
        );
        let databases = server.shared().databases;
        Harness {
            server,
            worker,
            users,
            no_users: HashMap::new(),
            admin_users: vec!["admin".to_string()],
            config,
            databases,
            next_client: 1,
            _engine: engine,
        }
    }

    /// Feeds `input` to a new session; checks the framing of everything it
    /// writes; leaves the engine empty afterwards.
    pub fn run(&mut self, mode: Mode, input: &[u8]) -> Outcome {
        let peer: SocketAddr = match mode.auth {
            Auth::Remote => "192.0.2.7:40000".parse().unwrap(),
            _ => "127.0.0.1:40000".parse().unwrap(),
        };
        let client_id = self.next_client;
        self.next_client += 1;
        let mut session = PgSession::new(client_id, 4242, 0x5eed, Some(peer));
        let mut config = self.config.clone();
        config.admin_users = self.admin_users.clone();
        // Small, so that the fuzzer reaches them.
        config.pg_max_prepared_statements = 4;
        config.pg_max_portals = 4;
        config.pg_auth_method = match mode.auth {
            Auth::Md5 => PgAuthMethod::Md5,
            Auth::Scram => PgAuthMethod::ScramSha256,
            Auth::Trust | Auth::Remote => PgAuthMethod::Trust,
        };
        let users = match mode.auth {
            Auth::Md5 | Auth::Scram => &self.users,
            Auth::Trust | Auth::Remote => &self.no_users,
        };
        let limits = corewire::fuzzing::pg_limits(&config, users);
        let shared = self.server.shared();
        let mut outcome = Outcome::default();
        let mut clock = Instant::now();
        let mut available = 0;
        let mut read = 0;
        'feed: while available < input.len() {
            let size = mode.reads[read % mode.reads.len()].max(1);
            read += 1;
            available = available.saturating_add(size).min(input.len());
            loop {
                let pending = &input[outcome.consumed..available];
                let written_before = outcome.output.len();
                let in_startup = !session.is_ready();
                let mut ctx = Ctx {
                    worker: &mut self.worker,
                    out: &mut outcome.output,
                    limits: &limits,
                    stats: &shared.stats[0],
                    shared,
                    clock: &mut clock,
                };
                let (used, next) = session.handle(pending, &mut ctx);
                assert!(used <= pending.len(), "used {used} of {}", pending.len());
                outcome.consumed += used;
                if session.take_admin_request().is_some() {
                    session.admin_done(&mut outcome.output);
                }
                check_backend_messages(&outcome.output[written_before..], in_startup);
                match next {
                    Next::Continue if used > 0 && outcome.consumed < available => {}
                    Next::Continue => break,
                    Next::NeedInput(needed) => {
                        if let Some(needed) = needed {
                            assert!(needed > available - outcome.consumed, "needs {needed}");
                        }
                        break;
                    }
                    Next::Parked(_) => {
                        let written_before = outcome.output.len();
                        let mut ctx = Ctx {
                            worker: &mut self.worker,
                            out: &mut outcome.output,
                            limits: &limits,
                            stats: &shared.stats[0],
                            shared,
                            clock: &mut clock,
                        };
                        session.unpark(mode.cancel_parks, &mut ctx);
                        assert!(
                            session.parked_until().is_none(),
                            "still parked after unpark"
                        );
                        if session.take_admin_request().is_some() {
                            session.admin_done(&mut outcome.output);
                        }
                        check_backend_messages(&outcome.output[written_before..], false);
                    }
                    // Close, Cancel, and anything newer (a TLS handshake
                    // the harness does not do): the connection ends here.
                    _ => {
                        outcome.closed = true;
                        break 'feed;
                    }
                }
            }
        }
        outcome.ready = session.is_ready();
        drop(session);
        for db in 0..self.databases {
            self.worker.clear(db).expect("the engine clears a database");
        }
        outcome
    }
}

/// Checks that `out` is a sequence of well-formed backend messages. Before
/// login, an SSLRequest or GSSENCRequest is answered with one byte (`N`).
pub fn check_backend_messages(out: &[u8], in_startup: bool) {
    let mut at = 0;
    while at < out.len() {
        let tag = out[at];
        // A single-byte answer: no length word follows (a NoticeResponse's
        // length would start with a zero byte).
        if in_startup
            && matches!(tag, b'N' | b'S' | b'G')
            && out.get(at + 1).is_none_or(|&b| b != 0)
        {
            at += 1;
            continue;
        }
        assert!(
            out.len() - at >= 5,
            "a truncated message at {at}: {:?}",
            &out[at..]
        );
        let length =
            u32::from_be_bytes([out[at + 1], out[at + 2], out[at + 3], out[at + 4]]) as usize;
        assert!(length >= 4, "message {} with length {length}", tag as char);
        assert!(
            at + 1 + length <= out.len(),
            "message {} overruns the output",
            tag as char
        );
        let body = &out[at + 5..at + 1 + length];
        if std::env::var_os("CW_FUZZ_DEBUG").is_some() {
            eprintln!("backend {}: {}", tag as char, body.escape_ascii());
        }
        check_body(tag, body);
        at += 1 + length;
    }
}

struct Body<'a> {
    bytes: &'a [u8],
    tag: u8,
}

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(
            self.bytes.len() >= n,
            "message {} is short",
            self.tag as char
        );
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head
    }
    fn i16(&mut self) -> i16 {
        let b = self.take(2);
        i16::from_be_bytes([b[0], b[1]])
    }
    fn i32(&mut self) -> i32 {
        let b = self.take(4);
        i32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
    fn cstr(&mut self) -> &'a [u8] {
        let nul =
            self.bytes.iter().position(|&b| b == 0).unwrap_or_else(|| {
                panic!("message {}: a string without its NUL", self.tag as char)
            });
        let text = self.take(nul);
        self.take(1);
        assert!(
            std::str::from_utf8(text).is_ok(),
            "message {}: a string that is not UTF-8",
            self.tag as char
        );
        text
    }
    fn end(&self) {
        assert!(
            self.bytes.is_empty(),
            "message {}: {} bytes left over",
            self.tag as char,
            self.bytes.len()
        );
    }
}

fn check_body(tag: u8, bytes: &[u8]) {
    let mut body = Body { bytes, tag };
    match tag {
        // Authentication*: a code, then its data.
        b'R' => {
            let code = body.i32();
            assert!(
                matches!(code, 0 | 3 | 5 | 10 | 11 | 12),
                "authentication code {code}"
            );
        }
        b'S' => {
            body.cstr();
            body.cstr();
            body.end();
        }
        b'K' => {
            body.take(8);
            body.end();
        }
        b'Z' => {
            assert!(matches!(body.take(1)[0], b'I' | b'T' | b'E'));
            body.end();
        }
        b'T' => {
            let fields = body.i16();
            assert!(fields >= 0);
            for _ in 0..fields {
                body.cstr();
                body.take(18);
            }
            body.end();
        }
        b'D' => {
            let columns = body.i16();
            assert!(columns >= 0);
            for _ in 0..columns {
                match body.i32() {
                    -1 => {}
                    n => {
                        assert!(n >= 0, "value length {n}");
                        body.take(n as usize);
                    }
                }
            }
            body.end();
        }
        b'C' => {
            body.cstr();
            body.end();
        }
        b'E' | b'N' => {
            let mut seen = Vec::new();
            loop {
                let field = body.take(1)[0];
                if field == 0 {
                    break;
                }
                body.cstr();
                seen.push(field);
            }
            body.end();
            for required in [b'S', b'C', b'M'] {
                assert!(
                    seen.contains(&required),
                    "error response without field {}",
                    required as char
                );
            }
        }
        b'I' | b'1' | b'2' | b'3' | b'n' | b's' | b'c' => body.end(),
        b't' => {
            let count = body.i16();
            assert!(count >= 0);
            body.take(4 * count as usize);
            body.end();
        }
        b'G' | b'H' | b'W' => {
            body.take(1);
            let columns = body.i16();
            assert!(columns >= 0);
            body.take(2 * columns as usize);
            body.end();
        }
        b'd' => {}
        b'v' => {
            body.i32();
            let count = body.i32();
            assert!(count >= 0);
            for _ in 0..count {
                body.cstr();
            }
            body.end();
        }
        other => panic!("unknown backend message type {:?}", other as char),
    }
}
