//! The worker runtime: N pinned threads, each with its own SO_REUSEPORT
//! listener, connections, buffers and engine handle. Workers share nothing
//! on the request path; the server talks to them over a control channel
//! (shutdown, drain, reload, cross-worker requests) and an eventfd that
//! wakes their wait.

mod listener;
mod log_sync;
pub mod poller;
pub mod tls;
mod worker;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};

use crate::config::{self, settings, Config};
use crate::engine::Engine;
use crate::pg::auth::Secret;
use crate::stats::WorkerStats;
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
    /// The RESP-over-TLS port actually bound (0 when tls-port is off).
    pub tls_port: u16,
    /// The configuration in force and the PostgreSQL users parsed from it;
    /// replaced by a reload. Workers keep their own copy (Control::Reload),
    /// so nothing on the request path takes this lock.
    current: RwLock<Current>,
    /// What a reload reads again; None when started from a `Config` value.
    source: Mutex<Option<config::Source>>,
    /// Serializes reloads (SIGHUP, CONFIG SET and RELOAD may race).
    reload_lock: Mutex<()>,
    /// Set by SHUTDOWN / admin SHUTDOWN; the host's main loop acts on it.
    shutdown_request: Mutex<Option<String>>,
    /// False while the server drains (/health readiness).
    ready: std::sync::atomic::AtomicBool,
    /// Connections a drain closed at its deadline with work in flight.
    pub drain_forced: AtomicU64,
    /// corewire_main runs the process: SHUTDOWN has someone to ask.
    main_loop: std::sync::atomic::AtomicBool,
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
    /// The same by listener (Protocol as usize), for resp-, pg- and
    /// http-maxclients.
    pub connected_by_protocol: [AtomicUsize; 3],
    /// Settings CONFIG SET may change; read these, not `config`, for them.
    pub live: crate::config::LiveConfig,
    /// Every worker's control channel, for requests that span workers
    /// (CLIENT LIST, CLIENT KILL). Set once all workers are spawned.
    pub peers: std::sync::OnceLock<Vec<Peer>>,
    /// Upstream pools' state shared by the workers, per database.
    pub pools: crate::pool::registry::Registry,
    /// The engine's durability, when data-dir is set (and opened).
    pub storage: Option<Storage>,
    /// Unix seconds when the server started (LASTSAVE without a data-dir).
    pub started_unix_s: i64,
}

/// The engine's durability side, shared by every worker: checkpoints
/// (SAVE, BGSAVE), figures (INFO persistence, /metrics) and live tuning.
pub struct Storage {
    engine: Engine,
    /// BGSAVE SCHEDULE came while a checkpoint ran: worker 0's tick
    /// starts one once that ends.
    pub bgsave_scheduled: std::sync::atomic::AtomicBool,
}

impl Storage {
    pub fn info(&self) -> Option<crate::engine::StorageInfo> {
        self.engine.storage_info()
    }

    /// Starts a checkpoint, or runs one to its end with `wait` (SAVE).
    pub fn checkpoint(&self, wait: bool) -> crate::engine::EngineResult<()> {
        self.engine.checkpoint(wait)
    }

    /// Starts the checkpoint BGSAVE SCHEDULE asked for, once none runs.
    pub fn run_scheduled(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        if !self.bgsave_scheduled.load(Relaxed) {
            return;
        }
        match self.engine.checkpoint(false) {
            Err(crate::engine::EngineError::Busy) => {} // still running: later
            Ok(()) => self.bgsave_scheduled.store(false, Relaxed),
            Err(error) => {
                self.bgsave_scheduled.store(false, Relaxed);
                crate::log_warn!(
                    "the scheduled checkpoint (BGSAVE SCHEDULE) failed to start: {error}"
                );
            }
        }
    }
}

/// What a reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Settings now in force with their new value (secrets redacted).
    pub applied: Vec<String>,
    /// Settings that changed in the file but need a restart.
    pub need_restart: Vec<String>,
}

/// PostgreSQL users by name.
pub type PgUsers = std::collections::HashMap<String, Secret>;

/// The configuration in force, as each worker keeps it.
#[derive(Clone)]
pub struct Current {
    pub config: Arc<Config>,
    pub pg_users: Arc<PgUsers>,
    /// TLS built from the tls-* settings (None: no certificate); new
    /// connections take it, established ones keep theirs.
    pub tls: Option<Arc<tls::TlsConfigs>>,
}

fn parse_pg_users(config: &Config) -> Result<PgUsers, String> {
    let mut users = PgUsers::new();
    for (user, secret) in &config.pg_users {
        let secret = Secret::parse(secret).map_err(|e| format!("pg-user {user}: {e}"))?;
        users.insert(user.clone(), secret);
    }
    Ok(users)
}

impl Shared {
    /// The configuration in force (restart-only settings keep their
    /// startup values).
    pub fn current_config(&self) -> Arc<Config> {
        Arc::clone(&self.current.read().config)
    }

    pub fn current(&self) -> Current {
        self.current.read().clone()
    }

    /// Remembers what to read again on reload.
    pub fn set_source(&self, source: config::Source) {
        *self.source.lock() = Some(source);
    }

    /// Asks the process to stop as SIGTERM does (SHUTDOWN, the admin
    /// console's SHUTDOWN). Returns at once; the host's main loop drains.
    pub fn request_shutdown(&self, reason: &str) {
        crate::log_warn!("shutdown requested: {reason}");
        self.shutdown_request
            .lock()
            .get_or_insert_with(|| reason.to_string());
    }

    /// The reason SHUTDOWN gave, once (the main loop polls this).
    pub fn take_shutdown_request(&self) -> Option<String> {
        self.shutdown_request.lock().take()
    }

    /// Whether corewire_main owns the process (then SHUTDOWN works).
    pub fn has_main_loop(&self) -> bool {
        self.main_loop.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_main_loop(&self) {
        self.main_loop
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the server takes new work (/health readiness).
    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Re-reads the configuration (flags, environment, file) and applies
    /// what can change at runtime to every worker (SIGHUP, the admin
    /// console's RELOAD).
    pub fn reload(&self) -> Result<ReloadReport, String> {
        let source = self.source.lock().clone().ok_or(
            "this server was started without a configuration source; there is nothing to reload",
        )?;
        let config = config::reload(&source)?;
        self.apply(config, "reload", true)
    }

    /// Puts `new` in force: live settings everywhere at once, restart-only
    /// ones reported and left as they are. `why` goes to the log.
    pub fn apply_config(&self, new: Config, why: &str) -> Result<ReloadReport, String> {
        self.apply(new, why, false)
    }

    /// `apply_config`; `reread_tls` loads the certificates again even if
    /// their settings did not change (a reload: the files may have).
    fn apply(&self, mut new: Config, why: &str, reread_tls: bool) -> Result<ReloadReport, String> {
        let _serial = self.reload_lock.lock();
        let in_force = self.current();
        let current = Arc::clone(&in_force.config);
        let wanted = new.clone();
        keep_restart_settings(&mut new, &current);
        config::validate(&new)?;
        let pg_users = parse_pg_users(&new)?;
        // Before anything changes: a certificate that does not load leaves
        // the ones in force (and every other setting) as they are.
        let tls = if reread_tls || tls_settings_changed(&current, &new) {
            let tls = tls::load(&new)
                .map_err(|e| format!("{e}; the TLS certificates in force are unchanged"))?;
            if let Some(cert) = new.tls_cert_file.as_ref().filter(|_| tls.is_some()) {
                crate::log_info!("TLS certificate loaded from {} ({why})", cert.display());
            }
            tls
        } else {
            in_force.tls.clone()
        };
        // Tuned first: if the engine refuses, nothing has changed yet.
        if let (Some(storage), Some(options)) = (&self.storage, new.storage_options()) {
            if current.storage_options().as_ref() != Some(&options) {
                storage.engine.storage_tune(&options).map_err(|error| {
                    format!("the engine refused the durability settings: {error}")
                })?;
            }
        }
        let mut report = ReloadReport::default();
        for setting in settings::SETTINGS {
            if (setting.get)(&current) == (setting.get)(&new) {
                continue;
            }
            report
                .applied
                .push(format!("{} = {}", setting.name, setting.shown_value(&new)));
        }
        for setting in settings::SETTINGS {
            if (setting.get)(&wanted) != (setting.get)(&new) {
                report.need_restart.push(format!(
                    "{} = {} (in force: {})",
                    setting.name,
                    setting.shown_value(&wanted),
                    setting.shown_value(&new)
                ));
            }
        }
        if new.log_file != current.log_file {
            crate::log::set_file(new.log_file.as_deref()).map_err(|e| {
                format!(
                    "log-file {}: {e}",
                    new.log_file
                        .as_deref()
                        .unwrap_or(std::path::Path::new(""))
                        .display()
                )
            })?;
        }
        crate::log::configure(new.log_level, new.log_format);
        let live = &self.live;
        live.set_max_clients(new.max_clients);
        live.set_max_bulk_bytes(new.max_bulk_bytes);
        live.set_max_query_buffer_bytes(new.max_query_buffer_bytes);
        live.set_max_output_buffer_bytes(new.max_output_buffer_bytes);
        live.set_requirepass(new.requirepass.clone());
        // ACL users: requirepass, changed `user` lines, the limiter.
        live.acl.reconfigure(&current, &new);
        live.set_slowlog_log_slower_than_us(new.slowlog_log_slower_than_us);
        live.set_slowlog_max_len(new.slowlog_max_len);
        live.set_log_min_duration_statement_ms(new.log_min_duration_statement_ms);
        live.set_metrics_enabled(new.metrics_enabled);
        let next = Current {
            config: Arc::new(new),
            pg_users: Arc::new(pg_users),
            tls,
        };
        *self.current.write() = next.clone();
        for peer in self.peers.get().into_iter().flatten() {
            // A full control queue means that worker is stopping; it has
            // no connections left to apply the settings to.
            if peer.control.try_send(Control::Reload(next.clone())).is_ok() {
                peer.waker.wake();
            }
        }
        crate::log_info!(
            "configuration applied ({why}): {}{}",
            if report.applied.is_empty() {
                "no change".to_string()
            } else {
                report.applied.join(", ")
            },
            if report.need_restart.is_empty() {
                String::new()
            } else {
                format!(
                    "; needs a restart, not applied: {}",
                    report.need_restart.join(", ")
                )
            }
        );
        Ok(report)
    }
}

/// Whether a setting TLS is built from changed.
fn tls_settings_changed(old: &Config, new: &Config) -> bool {
    old.tls_cert_file != new.tls_cert_file
        || old.tls_key_file != new.tls_key_file
        || old.tls_ca_cert_file != new.tls_ca_cert_file
        || old.tls_auth_clients != new.tls_auth_clients
}

/// Settings bound at start (sockets, threads) keep their startup values.
fn keep_restart_settings(new: &mut Config, current: &Config) {
    new.workers = current.workers;
    new.bind = current.bind;
    new.resp_port = current.resp_port;
    new.pg_port = current.pg_port;
    new.tls_port = current.tls_port;
    new.http_enabled = current.http_enabled;
    new.http_bind = current.http_bind;
    new.http_port = current.http_port;
    new.http_max_body_bytes = current.http_max_body_bytes;
    new.listen_backlog = current.listen_backlog;
    new.data_dir = current.data_dir.clone();
    new.recovery_truncate_corrupt = current.recovery_truncate_corrupt;
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
        let (http_port, http_reservation) = if config.http_enabled {
            let http_addr = SocketAddr::new(config.http_bind, config.http_port);
            listener::reserve_port(http_addr)
                .map_err(|e| format!("cannot bind {http_addr} (HTTP): {e}"))?
        } else {
            (0, None)
        };
        let (tls_port, tls_reservation) = match config.tls_port {
            Some(port) => {
                let tls_addr = SocketAddr::new(config.bind, port);
                listener::reserve_port(tls_addr)
                    .map_err(|e| format!("cannot bind {tls_addr} (TLS): {e}"))?
            }
            None => (0, None),
        };
        let pg_users = parse_pg_users(&config)?;
        let tls = tls::load(&config)?;
        // Recovery happens here, before any worker opens its engine handle
        // (storage_open's contract); its log lines come through the
        // engine's callback.
        let storage = match config.storage_options() {
            None => None,
            Some(options) => {
                engine
                    .storage_open(&options)
                    .map_err(|error| format!("data-dir: {error}"))?;
                Some(Storage {
                    engine,
                    bgsave_scheduled: std::sync::atomic::AtomicBool::new(false),
                })
            }
        };
        let shared = Arc::new(Shared {
            worker_count,
            resp_port,
            pg_port,
            http_port,
            tls_port,
            current: RwLock::new(Current {
                config: Arc::new(config.clone()),
                pg_users: Arc::new(pg_users),
                tls,
            }),
            source: Mutex::new(None),
            reload_lock: Mutex::new(()),
            shutdown_request: Mutex::new(None),
            ready: std::sync::atomic::AtomicBool::new(true),
            drain_forced: AtomicU64::new(0),
            main_loop: std::sync::atomic::AtomicBool::new(false),
            databases: engine.databases(),
            stats: (0..worker_count).map(|_| WorkerStats::default()).collect(),
            started: Instant::now(),
            run_id: random_hex_id(),
            next_client_id: AtomicU64::new(1),
            connected_clients: AtomicUsize::new(0),
            connected_by_protocol: Default::default(),
            live: crate::config::LiveConfig::new(&config),
            peers: std::sync::OnceLock::new(),
            pools: Default::default(),
            storage,
            started_unix_s: crate::stats::slowlog::unix_now_secs(),
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
                    crate::log::set_worker(id);
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
                        crate::log_error!("worker {id} panicked and stopped");
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
        drop(http_reservation);
        drop(tls_reservation);
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

    /// The RESP-over-TLS port the workers listen on (0: tls-port is off).
    pub fn tls_port(&self) -> u16 {
        self.shared.tls_port
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    pub fn shared_arc(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Starts a graceful shutdown: every worker stops accepting and closes
    /// its connections as they fall idle, and all of them once
    /// `shutdown-timeout-ms` has passed. `is_stopped` tells when it is over.
    pub fn begin_drain(&self) -> Duration {
        self.shared
            .ready
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let timeout = Duration::from_millis(self.shared.current_config().shutdown_timeout_ms);
        let deadline = Instant::now() + timeout;
        for worker in &self.workers {
            if worker.control.try_send(Control::Drain { deadline }).is_ok() {
                worker.waker.wake();
            }
        }
        timeout
    }

    /// Whether every worker thread has exited.
    pub fn is_stopped(&self) -> bool {
        self.workers
            .iter()
            .all(|worker| worker.thread.is_finished())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting marked [restart] is kept by a reload, and only those.
    #[test]
    fn reload_keeps_exactly_the_restart_settings() {
        let current = Config::default();
        let mut changed = Config {
            workers: 3,
            bind: std::net::IpAddr::from([127, 0, 0, 2]),
            resp_port: 7000,
            pg_port: 7001,
            tls_port: Some(7003),
            http_enabled: false,
            http_bind: std::net::IpAddr::from([127, 0, 0, 3]),
            http_port: 7002,
            http_max_body_bytes: 5,
            data_dir: Some("/var/lib/corewire".into()),
            recovery_truncate_corrupt: true,
            ..Config::default()
        };
        for setting in settings::SETTINGS {
            if setting.reload == settings::Reload::Restart {
                assert_ne!(
                    (setting.get)(&changed),
                    (setting.get)(&current),
                    "{} is not exercised",
                    setting.name
                );
            }
        }
        keep_restart_settings(&mut changed, &current);
        for setting in settings::SETTINGS {
            assert_eq!(
                (setting.get)(&changed),
                (setting.get)(&current),
                "{}",
                setting.name
            );
        }
    }
}
