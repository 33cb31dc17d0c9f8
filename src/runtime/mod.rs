//! The worker runtime: N pinned threads, each with its own SO_REUSEPORT
//! listener, connections, buffers and engine handle. Workers share nothing
//! on the request path; the server talks to them over a control channel
//! (shutdown) and an eventfd that wakes their wait.

mod listener;
pub mod poller;
mod worker;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use parking_lot::Mutex;

use crate::config::{self, Config};
use crate::engine::Engine;
use crate::stats::{OpsRate, WorkerStats};
use poller::Waker;
pub use worker::Control;
use worker::Worker;

/// How long start() waits for every worker to report in.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Process-wide state every worker can read. Only connection-level events
/// (accept, close) write to the shared atomics here.
pub struct Shared {
    pub config: Config,
    pub worker_count: usize,
    /// The RESP port actually bound (differs from the config for port 0).
    pub resp_port: u16,
    /// The PostgreSQL port actually bound.
    pub pg_port: u16,
    /// The HTTP port actually bound (0 when the HTTP listener is off).
    pub http_port: u16,
    /// PostgreSQL users and their parsed secrets.
    pub pg_users: std::collections::HashMap<String, crate::pg::auth::Secret>,
    /// Logical databases the engine has (SELECT 0..databases-1).
    pub databases: u32,
    /// One entry per worker, written only by its worker.
    pub stats: Box<[WorkerStats]>,
    pub started: Instant,
    /// 40 hex characters, new per start (INFO run_id).
    pub run_id: String,
    pub next_client_id: AtomicU64,
    /// Across all workers, for maxclients.
    pub connected_clients: AtomicUsize,
    /// Sampled by worker 0.
    pub ops_rate: Mutex<OpsRate>,
    /// Settings CONFIG SET may change; read these, not `config`, for them.
    pub live: crate::config::LiveConfig,
    /// Every worker's control channel, for requests that span workers
    /// (CLIENT LIST, CLIENT KILL). Set once all workers are spawned.
    pub peers: std::sync::OnceLock<Vec<Peer>>,
}

/// What a reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Settings now in force with their new value (secrets redacted).
    pub applied: Vec<String>,
    /// Settings that changed in the file but need a restart.
    pub need_restart: Vec<String>,
}

impl Shared {
    /// Asks the process to stop as SIGTERM does (SHUTDOWN, the admin
    /// console's SHUTDOWN). Returns at once; the host's main loop drains.
    pub fn request_shutdown(&self, reason: &str) {
        crate::log_warn!("shutdown requested: {reason}");
        // TODO(ops): wired up by the lifecycle work.
    }

    /// Re-reads the configuration and applies what can change at runtime
    /// to every worker (SIGHUP, CONFIG SET, the admin console's RELOAD).
    pub fn reload(&self) -> Result<ReloadReport, String> {
        Err("reload is not wired up yet".into())
    }
}

/// How to reach a worker from another thread.
#[derive(Clone)]
pub struct Peer {
    pub control: Sender<Control>,
    pub waker: Arc<Waker>,
}

struct WorkerHandle {
    thread: JoinHandle<()>,
    control: Sender<Control>,
    waker: Arc<Waker>,
}

/// A running server. Dropping it without `shutdown` leaves it running.
pub struct Server {
    shared: Arc<Shared>,
    workers: Vec<WorkerHandle>,
}

impl Server {
    /// Binds every worker's listener and starts the loops. Returns once all
    /// workers serve, or an error after stopping those that started.
    pub fn start(config: Config, engine: Engine) -> Result<Server, String> {
        config::validate(&config)?;
        let worker_count = config.worker_count();
        let addr = SocketAddr::new(config.bind, config.resp_port);
        let (resp_port, reservation) =
            listener::reserve_port(addr).map_err(|e| format!("cannot bind {addr}: {e}"))?;
        let pg_addr = SocketAddr::new(config.bind, config.pg_port);
        let (pg_port, pg_reservation) = listener::reserve_port(pg_addr)
            .map_err(|e| format!("cannot bind {pg_addr} (PostgreSQL): {e}"))?;
        let mut pg_users = std::collections::HashMap::new();
        for (user, secret) in &config.pg_users {
            let secret = crate::pg::auth::Secret::parse(secret)
                .map_err(|e| format!("--pg-user {user}: {e}"))?;
            pg_users.insert(user.clone(), secret);
        }
        let shared = Arc::new(Shared {
            worker_count,
            resp_port,
            pg_port,
            http_port: 0,
            pg_users,
            databases: engine.databases(),
            stats: (0..worker_count).map(|_| WorkerStats::default()).collect(),
            started: Instant::now(),
            run_id: random_hex_id(),
            next_client_id: AtomicU64::new(1),
            connected_clients: AtomicUsize::new(0),
            ops_rate: Mutex::new(OpsRate::new()),
            live: crate::config::LiveConfig::new(&config),
            peers: std::sync::OnceLock::new(),
            config,
        });

        let cores = core_affinity::get_core_ids().unwrap_or_default();
        let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<(), String>>(worker_count);
        let mut server = Server {
            shared: Arc::clone(&shared),
            workers: Vec::with_capacity(worker_count),
        };
        let mut errors = Vec::new();
        for id in 0..worker_count {
            let waker = match Waker::new() {
                Ok(waker) => Arc::new(waker),
                Err(error) => {
                    errors.push(format!("worker {id}: eventfd: {error}"));
                    break;
                }
            };
            let (control_tx, control_rx) = crossbeam_channel::bounded(16);
            let core = (!cores.is_empty()).then(|| cores[id % cores.len()]);
            let (shared, ready_tx, thread_waker) =
                (Arc::clone(&shared), ready_tx.clone(), Arc::clone(&waker));
            let spawned = std::thread::Builder::new()
                .name(format!("corewire-w{id}"))
                .spawn(move || {
                    if let Some(core) = core {
                        core_affinity::set_for_current(core);
                    }
                    let setup = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        Worker::setup(id, shared, &engine, thread_waker, control_rx)
                    }));
                    let worker = match setup {
                        Ok(Ok(worker)) => worker,
                        Ok(Err(error)) => return drop(ready_tx.send(Err(error))),
                        Err(_) => {
                            return drop(
                                ready_tx.send(Err(format!("worker {id}: panicked during setup"))),
                            )
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run()))
                        .is_err()
                    {
                        eprintln!("corewire: worker {id} panicked and stopped");
                    }
                });
            match spawned {
                Ok(thread) => server.workers.push(WorkerHandle {
                    thread,
                    control: control_tx,
                    waker,
                }),
                Err(error) => {
                    errors.push(format!("worker {id}: cannot spawn: {error}"));
                    break;
                }
            }
        }
        drop(ready_tx);
        let peers = server
            .workers
            .iter()
            .map(|w| Peer {
                control: w.control.clone(),
                waker: Arc::clone(&w.waker),
            })
            .collect();
        let _ = shared.peers.set(peers);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        for _ in 0..server.workers.len() {
            match ready_rx.recv_deadline(deadline) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => errors.push(error),
                Err(_) => {
                    errors.push("a worker did not start in time".into());
                    break;
                }
            }
        }
        drop(reservation);
        drop(pg_reservation);
        if !errors.is_empty() {
            server.shutdown();
            return Err(errors.join("; "));
        }
        Ok(server)
    }

    /// The RESP port the workers listen on.
    pub fn resp_port(&self) -> u16 {
        self.shared.resp_port
    }

    /// The PostgreSQL port the workers listen on.
    pub fn pg_port(&self) -> u16 {
        self.shared.pg_port
    }

    /// The HTTP port the workers listen on (0: the HTTP listener is off).
    pub fn http_port(&self) -> u16 {
        self.shared.http_port
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Stops every worker and waits for them to exit.
    pub fn shutdown(self) {
        for worker in &self.workers {
            // A worker that already exited has dropped its receiver: fine.
            let _ = worker.control.try_send(Control::Shutdown);
            worker.waker.wake();
        }
        for worker in self.workers {
            let _ = worker.thread.join();
        }
    }
}

/// A run id in Redis's format, from the kernel's random source.
fn random_hex_id() -> String {
    let mut bytes = [0u8; 20];
    // SAFETY: bytes is a valid buffer of bytes.len() bytes.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr() as *mut libc::c_void, bytes.len(), 0) };
    if got != bytes.len() as isize {
        // Unique enough for an id that only tells restarts apart.
        let nanos = Instant::now().elapsed().as_nanos() ^ std::process::id() as u128;
        bytes[..16].copy_from_slice(&nanos.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
