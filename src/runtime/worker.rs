//! One worker: a pinned thread running a single readiness loop over its own
//! listeners (RESP, PostgreSQL, HTTP) and connections (after Redis's ae.c).
//!
//! Each iteration: wait in epoll, accept what is pending, read what is
//! ready, run every complete request to completion (engine call included),
//! write the replies, wait again. With a data-dir, replies wait for the
//! end of the iteration instead, where one log flush covers every write of
//! the batch (group commit, `commit_log`) before they are written. A
//! client that does not read its replies only grows its own output buffer,
//! and is disconnected past the cap; it never blocks the loop.

mod proxy;

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::listener::bind_reuseport;
use super::poller::{Event, Interest, Poller, Waker};
use super::tls::{self, TlsConn};
use super::{Current, Shared};
use crate::engine::{Engine, EngineWorker};
use crate::http::{self, HttpSession};
use crate::pg::session::{self as pg_session, Next, PgSession};
use crate::pool::session_state::ParamValue;
use crate::resp::cmd::client::{AdminRequest, KillFilter};
use crate::resp::parse::{ArgSource, ParseLimits, Parsed, RequestParser};
use crate::resp::{self, Args, Ctx, Session};
use crate::stats::{ConnState, Disconnect, Protocol, WorkerStats};

/// Messages to a worker from the server or another worker (control only,
/// never a client's request path).
pub enum Control {
    Shutdown,
    /// CLIENT LIST on another worker: this worker's (id, line) pairs.
    ListClients {
        reply: Sender<Vec<(u64, Vec<u8>)>>,
    },
    /// CLIENT KILL on another worker: close matches, answer how many.
    KillClients {
        filter: KillFilter,
        reply: Sender<u64>,
    },
    /// A PostgreSQL CancelRequest for a session of this worker.
    PgCancel {
        pid: i32,
        secret: i32,
    },
    /// The admin console's SHOW CLIENTS / POOLS / DATABASES on another
    /// worker: this worker's logged-in PostgreSQL sessions.
    PgClients {
        reply: Sender<Vec<crate::pg::admin::ClientInfo>>,
    },
    /// New settings are in force (SIGHUP, CONFIG SET, RELOAD).
    Reload(Current),
    /// Graceful shutdown: stop accepting, close connections as they fall
    /// idle, close the rest at the deadline, then exit.
    Drain {
        deadline: Instant,
    },
    /// The admin console's SHOW POOLS / SERVERS / STATS on another worker.
    PoolSnapshot {
        reply: Sender<crate::pool::snapshot::WorkerPools>,
    },
    /// KILL db: close this worker's clients and servers of the database,
    /// then answer (the console replies once every worker has).
    PoolKill {
        database: String,
        reply: Sender<()>,
    },
}

/// How long a CLIENT LIST / KILL waits for the other workers.
const PEER_TIMEOUT: Duration = Duration::from_secs(2);

const TOKEN_WAKER: u64 = u64::MAX;
const TOKEN_RESP_LISTENER: u64 = u64::MAX - 1;
const TOKEN_PG_LISTENER: u64 = u64::MAX - 2;
const TOKEN_HTTP_LISTENER: u64 = u64::MAX - 3;
const TOKEN_TLS_LISTENER: u64 = u64::MAX - 4;

/// During a drain, how long a PostgreSQL session that finished its
/// transaction may stay idle before it is closed (its driver has read the
/// reply by then).
const DRAIN_IDLE_GRACE_MS: u64 = 250;
/// Ready registrations handled per wait.
const MAX_EVENTS: usize = 256;
/// Connections accepted per listener wake-up, so a connection storm cannot
/// starve the connected clients.
const MAX_ACCEPTS_PER_WAKE: usize = 64;
/// Per-worker read buffer: most reads land here and never touch a
/// connection's own buffer.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Reads per readiness event while a large request is streaming in.
const MAX_READS_PER_EVENT: usize = 16;
/// Buffers above this are released once empty, so idle clients stay small.
const KEEP_BUFFER_BYTES: usize = 16 * 1024;
/// Housekeeping tick (ops/sec sampling, active expiry).
const CRON_INTERVAL_MS: i32 = 100;
/// How often the cron looks for connections past a time limit (idle,
/// authentication, output soft limit): often enough for 1 s limits, rare
/// enough that 10,000 idle connections cost little.
const TIMEOUT_SWEEP_MS: u64 = 250;
/// Index slots each worker's active expiry examines per tick: bounded
/// work. A shard without deadlines costs one check, so this covers a full
/// pass over 16 used databases (16 x 1024 shards) every tick.
const EXPIRE_CHECKS_PER_TICK: usize = 20_000;

/// One client connection.
struct Conn {
    /// The socket (non-blocking, TCP_NODELAY).
    stream: TcpStream,
    /// TLS between the socket and `input` / `output` (the TLS port, or a
    /// PostgreSQL connection after SSLRequest or direct TLS).
    tls: Option<Box<TlsConn>>,
    /// Bumped each time the slot is reused, so stale events miss.
    generation: u32,
    /// Unparsed bytes of a request that spans reads; usually empty.
    input: Vec<u8>,
    /// Full size of the pending request, once the parser knows it.
    input_needed_bytes: Option<usize>,
    /// Replies not yet written; `output[output_sent..]` is pending.
    output: Vec<u8>,
    output_sent: usize,
    /// Whether EPOLLOUT is registered (only while output is pending).
    write_interest: bool,
    /// Close once the pending output is written (QUIT, protocol error).
    closing: bool,
    /// `input` may hold complete requests not run yet: running stopped for
    /// an admin request (CLIENT LIST, KILL). They run next, without waiting
    /// for new input.
    deferred: bool,
    parser: RequestParser,
    /// Client id, addresses and times for both protocols; the rest of it
    /// is RESP state.
    session: Session,
    /// The PostgreSQL session, on the PostgreSQL listener's connections.
    pg: Option<Box<PgSession>>,
    /// The HTTP session, on the HTTP listener's connections.
    http: Option<Box<HttpSession>>,
    /// The state the connection gauges count it in (`crate::stats`).
    counted: ConnState,
    /// A client of an upstream database: the pool serves it.
    proxy: Option<Box<crate::pool::local::ProxyClient>>,
    /// Not read for now (its server's unsent input is over the limit).
    read_paused: bool,
    /// Its replies wait for the log (group commit); it is listed in
    /// `Worker::awaiting_log`.
    awaiting_log: bool,
    /// What they wait for: `TICKET_THIS_BATCH` (this iteration's flush),
    /// then the flush's sync ticket (0: nothing more, under everysec/no).
    log_ticket: u64,
    /// Since when its unsent output has been over the soft limit of
    /// client-output-buffer-limit (None: it is not).
    over_soft_limit_since: Option<Instant>,
}

/// `Conn::log_ticket` before the iteration's flush hands out the real one.
const TICKET_THIS_BATCH: u64 = u64::MAX;

impl Conn {
    fn pending_output_bytes(&self) -> usize {
        self.output.len() - self.output_sent
    }

    /// Which listener it came from.
    fn protocol(&self) -> Protocol {
        if self.pg.is_some() {
            Protocol::Pg
        } else if self.http.is_some() {
            Protocol::Http
        } else {
            Protocol::Resp
        }
    }

    /// What it is doing, for the connection gauges.
    fn state(&self) -> ConnState {
        match &self.pg {
            Some(pg) => pg.conn_state(),
            None if self.session.multi.is_some() => ConnState::InTransaction,
            None => ConnState::Idle,
        }
    }

    /// A RESP client (CLIENT LIST and KILL see only those).
    fn is_resp(&self) -> bool {
        self.pg.is_none() && self.http.is_none()
    }

    /// An admin request (RESP CLIENT LIST / KILL, or a PostgreSQL admin
    /// console command) waits for the worker; input after it waits too.
    fn admin_pending(&self) -> bool {
        self.session.admin.is_some() || self.pg.as_ref().is_some_and(|pg| pg.admin_pending())
    }
}

/// Everything one worker owns.
pub struct Worker {
    id: usize,
    shared: Arc<Shared>,
    poller: Poller,
    waker: Arc<Waker>,
    control: Receiver<Control>,
    listener: TcpListener,
    pg_listener: TcpListener,
    /// The HTTP listener; None when HTTP is off.
    http_listener: Option<TcpListener>,
    /// The RESP-over-TLS listener; None when tls-port is off.
    tls_listener: Option<TcpListener>,
    /// PostgreSQL sessions started here (their BackendKeyData pid).
    pg_sessions_started: u32,
    /// Parked PostgreSQL sessions (pg_sleep): deadline, slot, generation.
    parked: Vec<(Instant, usize, u32)>,
    /// Slab of connections; the token is (generation << 32) | slot.
    conns: Vec<Option<Conn>>,
    free_slots: Vec<usize>,
    engine: EngineWorker,
    read_buffer: Vec<u8>,
    /// Argument ranges of the request being run (reused).
    args: Vec<Range<usize>>,
    limits: ParseLimits,
    /// This worker's copy of the settings in force.
    current: Current,
    next_cron: Instant,
    /// PostgreSQL totals sampled each second, for the admin console's
    /// SHOW STATS averages.
    admin_stats: crate::pg::admin::StatsWindow,
    /// Control::Shutdown arrived.
    stopping: bool,
    /// Control::Drain arrived: the deadline for open transactions.
    draining: Option<Instant>,
    /// A data-dir is set: replies wait for the log (group commit). When
    /// false the request path makes no log call at all.
    durable: bool,
    /// The engine's `log_appended` count at the last log flush.
    log_flushed_seq: u64,
    /// This iteration already found records waiting for the flush (saves
    /// asking the engine again for every connection).
    log_pending: bool,
    /// Connections whose replies wait for the log, with their generation
    /// (at most one entry per connection: bounded by the connection count).
    awaiting_log: Vec<(usize, u32)>,
    /// fsyncs for `appendfsync always` off this thread; started at the first
    /// sync ticket. Declared before `engine` so that it is dropped (its
    /// thread joined) before the engine handle closes.
    log_syncer: Option<super::log_sync::LogSyncer>,
    /// Without a helper (it could not start): the ticket synced on this
    /// thread, and whether that fsync failed.
    inline_synced: (u64, bool),
    /// When `sweep_timeouts` looks at the connections next.
    next_timeout_sweep: Instant,
    /// Upstream pools, their clients' state and server connections.
    proxy: crate::pool::local::Local,
}

enum ReadOutcome {
    Open,
    Close,
}

impl Worker {
    /// Binds this worker's listener and opens its engine state, on the
    /// worker's own thread.
    pub fn setup(
        id: usize,
        shared: Arc<Shared>,
        engine: &Engine,
        waker: Arc<Waker>,
        control: Receiver<Control>,
    ) -> Result<Worker, String> {
        let addr = SocketAddr::new(shared.config.bind, shared.resp_port);
        let listener = bind_reuseport(addr, shared.config.listen_backlog)
            .map_err(|e| format!("worker {id}: cannot listen on {addr}: {e}"))?;
        let pg_addr = SocketAddr::new(shared.config.bind, shared.pg_port);
        let pg_listener = bind_reuseport(pg_addr, shared.config.listen_backlog)
            .map_err(|e| format!("worker {id}: cannot listen on {pg_addr}: {e}"))?;
        let engine = engine
            .open_worker(id)
            .map_err(|e| format!("worker {id}: engine: {e}"))?;
        engine.count_into(Arc::clone(&shared.stats[id].engine));
        let poller = Poller::new(MAX_EVENTS).map_err(|e| format!("worker {id}: epoll: {e}"))?;
        poller
            .add(waker.fd(), TOKEN_WAKER, Interest::Read)
            .and_then(|()| poller.add(listener.as_raw_fd(), TOKEN_RESP_LISTENER, Interest::Read))
            .and_then(|()| poller.add(pg_listener.as_raw_fd(), TOKEN_PG_LISTENER, Interest::Read))
            .map_err(|e| format!("worker {id}: epoll_ctl: {e}"))?;
        let http_listener = if shared.http_port != 0 {
            let http_addr = SocketAddr::new(shared.config.http_bind, shared.http_port);
            let http_listener = bind_reuseport(http_addr, shared.config.listen_backlog)
                .map_err(|e| format!("worker {id}: cannot listen on {http_addr} (HTTP): {e}"))?;
            let fd = http_listener.as_raw_fd();
            poller
                .add(fd, TOKEN_HTTP_LISTENER, Interest::Read)
                .map_err(|e| format!("worker {id}: epoll_ctl: {e}"))?;
            Some(http_listener)
        } else {
            None
        };
        let tls_listener = if shared.tls_port != 0 {
            let tls_addr = SocketAddr::new(shared.config.bind, shared.tls_port);
            let tls_listener = bind_reuseport(tls_addr, shared.config.listen_backlog)
                .map_err(|e| format!("worker {id}: cannot listen on {tls_addr} (TLS): {e}"))?;
            poller
                .add(tls_listener.as_raw_fd(), TOKEN_TLS_LISTENER, Interest::Read)
                .map_err(|e| format!("worker {id}: epoll_ctl: {e}"))?;
            Some(tls_listener)
        } else {
            None
        };
        let current = shared.current();
        let durable = shared.storage.is_some();
        let mut engine = engine;
        let log_flushed_seq = if durable { engine.log_appended() } else { 0 };
        let limits = ParseLimits {
            max_bulk_bytes: shared.live.max_bulk_bytes(),
            max_multibulk_count: current.config.max_multibulk_count,
        };
        Ok(Worker {
            id,
            shared,
            poller,
            waker,
            control,
            listener,
            pg_listener,
            http_listener,
            tls_listener,
            pg_sessions_started: 0,
            parked: Vec::new(),
            conns: Vec::new(),
            free_slots: Vec::new(),
            engine,
            read_buffer: vec![0; READ_BUFFER_BYTES],
            args: Vec::new(),
            limits,
            current,
            next_cron: Instant::now(),
            admin_stats: crate::pg::admin::StatsWindow::new(Instant::now()),
            stopping: false,
            draining: None,
            durable,
            log_flushed_seq,
            log_pending: false,
            awaiting_log: Vec::new(),
            log_syncer: None,
            inline_synced: (0, false),
            next_timeout_sweep: Instant::now(),
            proxy: Default::default(),
        })
    }

    /// The loop. Returns on Control::Shutdown, closing every connection.
    pub fn run(mut self) {
        let mut ready = Vec::with_capacity(MAX_EVENTS);
        loop {
            if let Err(error) = self.poller.wait(&mut ready, self.wait_timeout_ms()) {
                crate::log_error!("epoll_wait failed: {error}; this worker stops");
                break;
            }
            for event in &ready {
                match event.token {
                    TOKEN_WAKER => self.handle_control(),
                    TOKEN_RESP_LISTENER => self.accept(Protocol::Resp, false),
                    TOKEN_TLS_LISTENER => self.accept(Protocol::Resp, true),
                    TOKEN_PG_LISTENER => self.accept(Protocol::Pg, false),
                    TOKEN_HTTP_LISTENER => self.accept(Protocol::Http, false),
                    token if token & proxy::SERVER_TOKEN != 0 => {
                        self.handle_server(event.readable, token)
                    }
                    token => self.handle_conn(*event, token),
                }
            }
            self.wake_parked();
            self.cron();
            // After everything that may have written this iteration, and
            // before a drain looks at what is left to send.
            self.commit_log();
            if self.stopping || self.drain_step() {
                break;
            }
        }
        self.commit_log_and_wait();
        for slot in 0..self.conns.len() {
            if self.conns[slot].is_some() {
                self.close(slot);
            }
        }
    }

    fn stats(&self) -> &WorkerStats {
        &self.shared.stats[self.id]
    }

    /// Serves the control channel: shutdown, and other workers' CLIENT
    /// LIST / KILL requests.
    fn handle_control(&mut self) {
        self.waker.drain();
        while let Ok(message) = self.control.try_recv() {
            match message {
                Control::Shutdown => self.stopping = true,
                Control::ListClients { reply } => {
                    let _ = reply.send(self.client_lines());
                }
                Control::KillClients { filter, reply } => {
                    let _ = reply.send(self.kill_local(&filter, None));
                }
                Control::PgCancel { pid, secret } => self.cancel_local(pid, secret),
                Control::PgClients { reply } => {
                    let _ = reply.send(self.pg_clients());
                }
                Control::Reload(current) => {
                    self.limits.max_multibulk_count = current.config.max_multibulk_count;
                    self.current = current;
                    self.proxy_reload();
                }
                Control::Drain { deadline } => self.start_draining(deadline),
                Control::PoolSnapshot { reply } => {
                    let _ = reply.send(self.pool_snapshot());
                }
                Control::PoolKill { database, reply } => {
                    self.pool_kill(&database);
                    let _ = reply.send(());
                }
            }
        }
    }

    /// Stops accepting: shutdown(SHUT_RD) takes a listening socket out of
    /// its SO_REUSEPORT group, so once every worker has done it new
    /// connections are refused.
    fn start_draining(&mut self, deadline: Instant) {
        if self.draining.is_some() {
            return;
        }
        self.draining = Some(deadline);
        for fd in self.listener_fds() {
            let _ = self.poller.remove(fd);
            // SAFETY: fd is a listening socket this worker owns and keeps
            // open until it exits; shutdown does not close it.
            unsafe { libc::shutdown(fd, libc::SHUT_RD) };
        }
        self.close_drained(false, true);
        let open = self.conns.iter().flatten().count();
        crate::log_debug!("draining: {open} connections have work in flight");
    }

    fn listener_fds(&self) -> Vec<std::os::fd::RawFd> {
        let mut fds = vec![self.listener.as_raw_fd(), self.pg_listener.as_raw_fd()];
        fds.extend(self.http_listener.as_ref().map(|l| l.as_raw_fd()));
        fds.extend(self.tls_listener.as_ref().map(|l| l.as_raw_fd()));
        fds
    }

    /// While draining: closes the connections with nothing in flight, and
    /// at the deadline all of them. True once none is left.
    fn drain_step(&mut self) -> bool {
        let Some(deadline) = self.draining else {
            return false;
        };
        self.close_drained(Instant::now() >= deadline, false);
        self.conns.iter().all(Option::is_none)
    }

    /// Closes every connection with nothing in flight, or every one when
    /// `forced` (the deadline). A PostgreSQL client gets FATAL 57P01 first.
    fn close_drained(&mut self, forced: bool, drain_start: bool) {
        if forced {
            // The FATAL below is written at once: replies queued ahead of
            // it must not leave before their writes are in the log.
            self.commit_log_and_wait();
        }
        for slot in 0..self.conns.len() {
            let Some(conn) = self.conns[slot].as_mut() else {
                continue;
            };
            let quiescent = conn.input.is_empty()
                && conn.pending_output_bytes() == 0
                && !conn.deferred
                && conn.session.multi.is_none()
                && conn.pg.as_ref().is_none_or(|pg| pg.is_quiescent())
                && proxy::pooled_client_quiescent(conn, &self.proxy.servers);
            // A PostgreSQL session that just finished its transaction
            // stays open a moment: closing right behind its COMMIT's reply
            // makes some drivers report the COMMIT as failed. Its next
            // request gets the FATAL (PgSession::draining), or the grace
            // period ends and it is closed with it.
            let logged_in_pg = conn.pg.as_ref().is_some_and(|pg| pg.is_ready());
            let grace = Duration::from_millis(DRAIN_IDLE_GRACE_MS);
            let waiting_pg = quiescent
                && logged_in_pg
                && !drain_start
                && conn.session.last_interaction.elapsed() < grace;
            if (!quiescent || waiting_pg) && !forced {
                if let Some(pg) = conn.pg.as_mut() {
                    pg.draining = true;
                }
                continue;
            }
            if !quiescent {
                self.shared.drain_forced.fetch_add(1, Relaxed);
                crate::log_warn!(conn = conn.session.client_id;
                    "shutdown deadline passed: closing a connection with work in flight");
            }
            if logged_in_pg && !waiting_pg {
                conn.output.extend_from_slice(ADMIN_SHUTDOWN_FATAL);
                let _ = flush(conn, &self.shared.stats[self.id]);
            }
            self.close(slot);
        }
    }

    /// This worker's logged-in PostgreSQL sessions, for the admin console.
    fn pg_clients(&self) -> Vec<crate::pg::admin::ClientInfo> {
        self.conns
            .iter()
            .flatten()
            .filter_map(|conn| {
                let mut info = conn.pg.as_ref()?.client_info(&conn.session, self.id)?;
                info.tls = conn
                    .tls
                    .as_ref()
                    .map(|tls| tls.describe())
                    .unwrap_or_default();
                if let Some(client) = &conn.proxy {
                    use crate::pg::admin::ClientState;
                    info.state = match (client.server, client.waiting_since) {
                        (Some(_), _) => ClientState::Active,
                        (None, Some(_)) => ClientState::Waiting,
                        (None, None) => ClientState::Idle,
                    };
                    info.prepared_statements = client.statements.len();
                    if let Some((_, ParamValue::Literal(name))) =
                        client.params.get("application_name")
                    {
                        info.application_name = name.clone();
                    }
                }
                Some(info)
            })
            .collect()
    }

    /// Runs an admin console command (PostgreSQL, database `corewire`)
    /// that the session on `slot` handed over, then ends its Query.
    /// Commands that list sessions gather every worker's first.
    fn run_pg_admin(&mut self, slot: usize, command: crate::pg::admin::Command) {
        use crate::pg::admin;
        if let admin::Command::Pool(pool_command) = &command {
            let result = self.run_pool_command(pool_command);
            let Some(conn) = self.conns[slot].as_mut() else {
                return;
            };
            let Some(session) = conn.pg.as_mut() else {
                return;
            };
            let mut writer = crate::pg::protocol::Writer {
                out: &mut conn.output,
            };
            match result {
                Ok(()) => admin::pool_command_done(pool_command, writer.out),
                Err(error) => writer.error(&error),
            }
            session.admin_done(&mut conn.output);
            return;
        }
        let mut pools = Vec::new();
        if command.needs_pools() {
            pools.push(self.pool_snapshot());
            pools.extend(self.ask_peers(|reply| Control::PoolSnapshot { reply }));
            pools.sort_by_key(|snapshot| snapshot.worker);
        }
        let mut clients = Vec::new();
        let mut partial = false;
        if command.needs_clients() {
            clients = self.pg_clients();
            let others = self
                .shared
                .peers
                .get()
                .map_or(0, |peers| peers.len().saturating_sub(1));
            let answers = self.ask_peers(|reply| Control::PgClients { reply });
            partial = answers.len() < others;
            clients.extend(answers.into_iter().flatten());
        }
        // A peer's KILL may have closed this connection while we waited.
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let Some(session) = conn.pg.as_mut() else {
            return;
        };
        // The session asking is running this very command.
        for client in &mut clients {
            if client.client_id == session.client_id {
                client.state = admin::ClientState::Active;
            }
        }
        let env = admin::Env {
            shared: &self.shared,
            worker: self.id,
            user: &session.user,
            client_id: session.client_id,
            clients: &clients,
            partial,
            window: &self.admin_stats,
            pools: &pools,
        };
        admin::run(&command, &env, &mut conn.output);
        session.admin_done(&mut conn.output);
    }

    /// This worker's clients as CLIENT LIST lines.
    fn client_lines(&self) -> Vec<(u64, Vec<u8>)> {
        self.conns
            .iter()
            .flatten()
            .filter(|conn| conn.is_resp())
            .map(|conn| (conn.session.client_id, client_line(conn)))
            .collect()
    }

    /// Closes this worker's clients matching `filter`, except `caller`
    /// (the slot asking), which is only marked to close after its reply.
    fn kill_local(&mut self, filter: &KillFilter, caller: Option<usize>) -> u64 {
        let mut killed = 0;
        for slot in 0..self.conns.len() {
            let Some(conn) = self.conns[slot].as_mut().filter(|conn| conn.is_resp()) else {
                continue;
            };
            let session = &conn.session;
            let user = session.acl_user.name();
            if !filter.matches(
                session.client_id,
                &session.peer_addr,
                &session.local_addr,
                user,
            ) {
                continue;
            }
            killed += 1;
            if Some(slot) == caller {
                conn.closing = true;
            } else {
                self.close(slot);
            }
        }
        killed
    }

    /// Asks every other worker and gathers their answers, serving this
    /// worker's own control channel while it waits (two workers asking each
    /// other at once must not deadlock). Bounded by PEER_TIMEOUT.
    fn ask_peers<T>(&mut self, request: impl Fn(Sender<T>) -> Control) -> Vec<T> {
        let Some(peers) = self.shared.peers.get().cloned() else {
            return Vec::new();
        };
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(peers.len());
        let mut asked = 0;
        for (id, peer) in peers.iter().enumerate() {
            if id != self.id && peer.control.try_send(request(reply_tx.clone())).is_ok() {
                peer.waker.wake();
                asked += 1;
            }
        }
        drop(reply_tx);
        let deadline = Instant::now() + PEER_TIMEOUT;
        let mut answers = Vec::with_capacity(asked);
        while answers.len() < asked {
            match reply_rx.recv_timeout(Duration::from_millis(2)) {
                Ok(answer) => answers.push(answer),
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    self.handle_control()
                }
                Err(_) => {
                    crate::log_warn!(
                        "{} of {asked} workers did not answer",
                        asked - answers.len()
                    );
                    break;
                }
            }
        }
        answers
    }

    /// Runs a CLIENT INFO / LIST / KILL that a request on `slot` asked for.
    fn run_admin(&mut self, slot: usize, request: AdminRequest) {
        let mut text = Vec::new();
        let mut killed = None;
        match request {
            AdminRequest::Info => {
                text = client_line(self.conns[slot].as_ref().expect("live slot"));
            }
            AdminRequest::List { ids, none } => {
                let mut lines = self.client_lines();
                if !none {
                    lines.extend(
                        self.ask_peers(|reply| Control::ListClients { reply })
                            .into_iter()
                            .flatten(),
                    );
                }
                lines.retain(|(id, _)| !none && ids.as_ref().is_none_or(|ids| ids.contains(id)));
                lines.sort_by_key(|(id, _)| *id);
                text = lines.into_iter().flat_map(|(_, line)| line).collect();
            }
            AdminRequest::Kill { filter, old_form } => {
                let local = self.kill_local(&filter, Some(slot));
                let remote: u64 = self
                    .ask_peers(|reply| Control::KillClients {
                        filter: filter.clone(),
                        reply,
                    })
                    .into_iter()
                    .sum();
                killed = Some((local + remote, old_form));
            }
        }
        // A peer's KILL may have closed this connection while we waited.
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let mut reply = resp::reply::ReplyWriter {
            out: &mut conn.output,
            resp3: conn.session.resp3,
        };
        match killed {
            Some((0, true)) => reply.error(b"ERR No such client"),
            Some((_, true)) => reply.ok(),
            Some((count, false)) => reply.integer(count as i64),
            None => reply.verbatim(b"txt", &text),
        }
    }

    fn cron(&mut self) {
        let now = Instant::now();
        if now < self.next_cron {
            return;
        }
        self.next_cron = now + std::time::Duration::from_millis(CRON_INTERVAL_MS as u64);
        if let Ok(expired) = self.engine.expire_cycle(EXPIRE_CHECKS_PER_TICK) {
            self.shared.stats[self.id].expired_keys.add(expired);
        }
        self.admin_stats.tick(&self.shared, now);
        if self.id == 0 {
            if let Some(storage) = &self.shared.storage {
                storage.run_scheduled();
            }
        }
        let now_ms = self.shared.started.elapsed().as_millis() as u64;
        self.stats().sample_ops(now_ms);
        if now >= self.next_timeout_sweep {
            self.next_timeout_sweep = now + Duration::from_millis(TIMEOUT_SWEEP_MS);
            self.sweep_timeouts(now);
        }
        self.proxy_cron(now);
    }

    /// Closes the connections past a time limit: idle (`timeout`,
    /// pg-client-idle-timeout-s), not authenticated in time
    /// (auth-timeout-ms), or over the output soft limit for too long.
    /// One pass over the worker's connections, a few compares each.
    fn sweep_timeouts(&mut self, now: Instant) {
        let config = Arc::clone(&self.current.config);
        for slot in 0..self.conns.len() {
            let Some(conn) = self.conns[slot].as_mut() else {
                continue;
            };
            let quiescent_proxy = proxy::pooled_client_quiescent(conn, &self.proxy.servers);
            let Some(why) = time_limit_reached(conn, &config, now, quiescent_proxy) else {
                continue;
            };
            let protocol = conn.protocol();
            self.shared.stats[self.id].disconnect(protocol, why);
            let client = conn.session.client_id;
            match why {
                Disconnect::OutputLimit => crate::log_warn!(conn = client;
                    "closing a client over the output buffer soft limit for too long ({} bytes pending)",
                    conn.pending_output_bytes()),
                Disconnect::AuthTimeout => crate::log_debug!(conn = client;
                    "closing a client that did not authenticate within auth-timeout-ms"),
                _ => crate::log_debug!(conn = client; "closing an idle client"),
            }
            if protocol == Protocol::Pg && why != Disconnect::OutputLimit {
                // PostgreSQL's wording; best effort, the socket may be full.
                use crate::pg::error::{sqlstate, PgError};
                let error = if why == Disconnect::AuthTimeout {
                    PgError::fatal(
                        sqlstate::QUERY_CANCELED,
                        "canceling authentication due to timeout",
                    )
                } else {
                    PgError::fatal(
                        sqlstate::IDLE_SESSION_TIMEOUT,
                        "terminating connection due to idle-session timeout",
                    )
                };
                crate::pg::protocol::Writer {
                    out: &mut conn.output,
                }
                .error(&error);
                let _ = flush(conn, &self.shared.stats[self.id]);
            }
            self.close(slot);
        }
    }

    /// Accepts from the listener of `protocol` (`tls`: the RESP TLS port).
    fn accept(&mut self, protocol: Protocol, tls: bool) {
        for _ in 0..MAX_ACCEPTS_PER_WAKE {
            let listener = match protocol {
                Protocol::Resp if tls => match &self.tls_listener {
                    Some(listener) => listener,
                    None => return,
                },
                Protocol::Resp => &self.listener,
                Protocol::Pg => &self.pg_listener,
                Protocol::Http => match &self.http_listener {
                    Some(listener) => listener,
                    None => return,
                },
            };
            let stream = match listener.accept() {
                Ok((stream, _peer)) => stream,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                // A drain shut this listener after the wait reported it.
                Err(_) if self.draining.is_some() => return,
                Err(error) => {
                    // EMFILE and friends: try again on the next wake-up.
                    crate::log_warn!("accept failed: {error}");
                    return;
                }
            };
            self.stats().conn_accepted(protocol);
            if !self.admit(protocol) {
                self.stats().conn_rejected(protocol);
                if tls {
                    continue; // no plaintext on a TLS port: just closed
                }
                // Best effort, as Redis: the socket is fresh, so this fits.
                let _ = (&stream).write(match protocol {
                    Protocol::Resp => b"-ERR max number of clients reached\r\n",
                    Protocol::Pg => TOO_MANY_PG_CLIENTS,
                    Protocol::Http => http::TOO_MANY_CLIENTS,
                });
                continue;
            }
            if let Err(error) = self.register(stream, protocol, tls) {
                self.release(protocol);
                crate::log_warn!("cannot register a connection: {error}");
            }
        }
    }

    fn register(&mut self, stream: TcpStream, protocol: Protocol, tls: bool) -> io::Result<()> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        // The certificates in force now; a reload later does not touch it.
        let tls = match (tls, &self.current.tls) {
            (false, _) => None,
            (true, Some(configs)) => Some(Box::new(TlsConn::new(&configs.resp, None)?)),
            (true, None) => return Err(io::Error::other("TLS is not configured")),
        };
        if tls.is_some() {
            self.stats().tls_accepted();
        }
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        debug_assert!(self.conns[slot].is_none());
        let generation = self.next_generation(slot);
        let token = (generation as u64) << 32 | slot as u64;
        if let Err(error) = self.poller.add(stream.as_raw_fd(), token, Interest::Read) {
            self.free_slots.push(slot);
            return Err(error);
        }
        let client_id = self.shared.next_client_id.fetch_add(1, Relaxed);
        let address =
            |addr: io::Result<SocketAddr>| addr.map(|a| a.to_string()).unwrap_or_default();
        let (peer_addr, local_addr) = (address(stream.peer_addr()), address(stream.local_addr()));
        let password_required = self.shared.live.password_required();
        let pg = (protocol == Protocol::Pg).then(|| {
            self.pg_sessions_started = self.pg_sessions_started.wrapping_add(1);
            // The pid names this worker in its low byte, so a cancel that
            // lands elsewhere can be routed; the secret is random.
            let pid = ((self.pg_sessions_started << 8) | self.id as u32) & 0x7fff_ffff;
            let secret = i32::from_ne_bytes(crate::pg::auth::random_bytes::<4>());
            Box::new(PgSession::new(
                client_id,
                pid as i32,
                secret,
                stream.peer_addr().ok(),
            ))
        });
        let http = (protocol == Protocol::Http)
            .then(|| Box::new(HttpSession::new(client_id, stream.peer_addr().ok())));
        self.conns[slot] = Some(Conn {
            stream,
            tls,
            generation,
            input: Vec::new(),
            input_needed_bytes: None,
            output: Vec::new(),
            output_sent: 0,
            write_interest: false,
            closing: false,
            deferred: false,
            parser: RequestParser::default(),
            session: Session::new(client_id, password_required, peer_addr, local_addr),
            pg,
            http,
            proxy: None,
            read_paused: false,
            counted: ConnState::Idle,
            awaiting_log: false,
            log_ticket: 0,
            over_soft_limit_since: None,
        });
        let conn = self.conns[slot].as_mut().expect("just registered");
        conn.counted = conn.state();
        self.shared.stats[self.id].conn_opened(protocol, conn.counted);
        self.stats().connected_clients.add(1);
        Ok(())
    }

    /// Generations live in the token's high half; an empty slot remembers
    /// nothing, so derive a fresh one from a per-worker counter.
    fn next_generation(&mut self, slot: usize) -> u32 {
        let counter = self.shared.stats[self.id].connections_received.get() as u32;
        counter.wrapping_mul(2654435761).wrapping_add(slot as u32)
    }

    fn handle_conn(&mut self, event: Event, token: u64) {
        let slot = (token & 0xffff_ffff) as usize;
        let generation = (token >> 32) as u32;
        match self.conns.get(slot) {
            Some(Some(conn)) if conn.generation == generation => {}
            _ => return, // closed earlier in this batch
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let conn = self.conns[slot].as_mut().expect("live slot");
            // Decrypted input left in rustls has no readiness of its own.
            if conn.proxy.is_some() {
                let tls_pending = conn.tls.as_mut().is_some_and(|tls| tls.has_plaintext());
                if (event.readable || tls_pending) && !conn.read_paused {
                    return self.proxy_read(slot);
                }
                return ReadOutcome::Open;
            }
            if event.readable || conn.tls.as_mut().is_some_and(|tls| tls.has_plaintext()) {
                return self.read_and_run(slot);
            }
            if conn.deferred && !conn.admin_pending() {
                self.run_buffered(slot);
            }
            ReadOutcome::Open
        }));
        match outcome {
            Ok(ReadOutcome::Open) => {}
            Ok(ReadOutcome::Close) => return self.close(slot),
            Err(_) => {
                crate::log_error!("a request panicked; closing its connection");
                return self.close(slot);
            }
        }
        let admin = self.conns[slot]
            .as_mut()
            .and_then(|conn| conn.session.admin.take());
        if let Some(request) = admin {
            self.run_admin(slot, request);
            if self.conns[slot].is_none() {
                return; // killed by a peer meanwhile
            }
        }
        let pg_admin = self.conns[slot]
            .as_mut()
            .and_then(|conn| conn.pg.as_mut()?.take_admin_request());
        if let Some(command) = pg_admin {
            let ran = catch_unwind(AssertUnwindSafe(|| self.run_pg_admin(slot, command)));
            if ran.is_err() {
                crate::log_error!("an admin console command panicked; closing its connection");
                return self.close(slot);
            }
            if self.conns[slot].is_none() {
                return;
            }
        }
        self.after_pg_activity(slot);
        if self.conns[slot].is_none() {
            return;
        }
        // Write whatever the requests produced (or what EPOLLOUT now allows).
        self.flush_and_settle(slot);
        self.after_client_flush(slot);
    }

    /// A PostgreSQL session may have parked (pg_sleep) or asked to cancel
    /// another session.
    fn after_pg_activity(&mut self, slot: usize) {
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let generation = conn.generation;
        let Some(session) = conn.pg.as_mut() else {
            return;
        };
        if session.pooled && conn.proxy.is_none() {
            return self.proxy_login(slot);
        }
        if let Some(until) = session.parked_until() {
            if !self
                .parked
                .iter()
                .any(|&(_, s, g)| s == slot && g == generation)
            {
                self.parked.push((until, slot, generation));
            }
        }
        if let Some((pid, secret)) = session.cancel_request.take() {
            let owner = (pid & 0xff) as usize;
            if owner == self.id {
                self.cancel_local(pid, secret);
            } else if let Some(peer) = self.shared.peers.get().and_then(|peers| peers.get(owner)) {
                if peer
                    .control
                    .try_send(Control::PgCancel { pid, secret })
                    .is_ok()
                {
                    peer.waker.wake();
                }
            }
        }
    }

    /// A CancelRequest for one of this worker's sessions: a parked one
    /// stops with 57014; one that is not running anything is unaffected,
    /// as in PostgreSQL.
    fn cancel_local(&mut self, pid: i32, secret: i32) {
        let found = self.conns.iter().enumerate().find_map(|(slot, conn)| {
            let conn = conn.as_ref()?;
            let session = conn.pg.as_ref()?;
            (session.pid == pid && session.secret == secret).then_some((slot, conn.generation))
        });
        if let Some((slot, generation)) = found {
            if self.conns[slot].as_ref().is_some_and(|c| c.proxy.is_some()) {
                return self.proxy_cancel(slot);
            }
            self.parked
                .retain(|&(_, s, g)| !(s == slot && g == generation));
            self.unpark(slot, true);
        }
    }

    /// Wakes parked sessions whose deadline passed.
    fn wake_parked(&mut self) {
        let now = Instant::now();
        let mut i = 0;
        while i < self.parked.len() {
            let (until, slot, generation) = self.parked[i];
            if until > now {
                i += 1;
                continue;
            }
            self.parked.swap_remove(i);
            if self.conns[slot]
                .as_ref()
                .is_some_and(|c| c.generation == generation)
            {
                self.unpark(slot, false);
            }
        }
    }

    /// Ends a park, runs the input that waited, and writes the replies.
    fn unpark(&mut self, slot: usize, canceled: bool) {
        let conn = self.conns[slot].as_mut().expect("live slot");
        let Some(session) = conn.pg.as_mut() else {
            return;
        };
        if session.parked_until().is_none() {
            return;
        }
        let limits = pg_limits(&self.current);
        let mut ctx = pg_session::Ctx {
            worker: &mut self.engine,
            out: &mut conn.output,
            limits: &limits,
            stats: &self.shared.stats[self.id],
            shared: &self.shared,
            clock: &mut conn.session.last_interaction,
        };
        session.unpark(canceled, &mut ctx);
        self.run_buffered(slot);
        self.after_pg_activity(slot);
        if self.conns[slot].is_some() {
            self.flush_and_settle(slot);
        }
    }

    /// The epoll timeout: the cron tick, or sooner for a parked session.
    fn wait_timeout_ms(&self) -> i32 {
        let now = Instant::now();
        // Draining: look at the connections and the deadline often.
        let tick = if self.draining.is_some() {
            20
        } else {
            CRON_INTERVAL_MS
        };
        self.parked
            .iter()
            .map(|&(until, _, _)| until.saturating_duration_since(now).as_millis() as i32 + 1)
            .fold(tick, i32::min)
    }

    /// Reads what is ready and runs every complete request.
    fn read_and_run(&mut self, slot: usize) -> ReadOutcome {
        let max_query_bytes = self.shared.live.max_query_buffer_bytes();
        self.limits.max_bulk_bytes = self.shared.live.max_bulk_bytes();
        for _ in 0..MAX_READS_PER_EVENT {
            let conn = self.conns[slot].as_mut().expect("live slot");
            if conn.closing || conn.admin_pending() {
                // After QUIT or an error input is ignored; after an admin
                // request it waits (deferred) until that has run.
                return ReadOutcome::Open;
            }
            let stats = &self.shared.stats[self.id];
            if conn.input.is_empty() {
                // Common case: read into the worker's buffer, run what is
                // complete, keep only a trailing partial request.
                let read = match read_outcome(conn_read(conn, &mut self.read_buffer, stats)) {
                    Ok(n) => n,
                    Err(outcome) => return outcome,
                };
                stats.bytes_in(conn.protocol(), read as u64);
                conn.session.last_interaction = Instant::now();
                let input = &self.read_buffer[..read];
                let consumed = run_requests(
                    conn,
                    input,
                    &mut self.engine,
                    &self.shared,
                    stats,
                    &mut self.args,
                    &self.limits,
                    &self.current,
                );
                conn.input.extend_from_slice(&input[consumed..]);
                // A short read means the socket is drained.
                if read < self.read_buffer.len() {
                    break;
                }
            } else {
                // A request spans reads: append to the connection's buffer,
                // sized for the whole request when its size is known.
                let wanted = conn
                    .input_needed_bytes
                    .unwrap_or(0)
                    .min(max_query_bytes.saturating_add(1));
                let spare = wanted
                    .saturating_sub(conn.input.len())
                    .max(KEEP_BUFFER_BYTES);
                conn.input.reserve(spare);
                let read = match read_outcome(conn_read_append(conn, &mut self.read_buffer, stats))
                {
                    Ok(n) => n,
                    Err(outcome) => return outcome,
                };
                stats.bytes_in(conn.protocol(), read as u64);
                conn.session.last_interaction = Instant::now();
                self.run_buffered(slot);
            }
            let conn = self.conns[slot].as_mut().expect("live slot");
            if conn.input.len() > max_query_bytes {
                self.shared.stats[self.id].disconnect(conn.protocol(), Disconnect::QueryLimit);
                crate::log_warn!(conn = conn.session.client_id;
                    "closing a client that reached the query buffer limit ({max_query_bytes} bytes)");
                return ReadOutcome::Close;
            }
            if conn.pending_output_bytes() > self.shared.live.max_output_buffer_bytes() {
                break; // flush_and_settle disconnects it
            }
        }
        ReadOutcome::Open
    }

    /// Runs the requests waiting in the connection's own input buffer.
    fn run_buffered(&mut self, slot: usize) {
        let stats = &self.shared.stats[self.id];
        let conn = self.conns[slot].as_mut().expect("live slot");
        let input = std::mem::take(&mut conn.input);
        let consumed = run_requests(
            conn,
            &input,
            &mut self.engine,
            &self.shared,
            stats,
            &mut self.args,
            &self.limits,
            &self.current,
        );
        conn.input = input;
        conn.input.drain(..consumed);
        if conn.input.is_empty() && conn.input.capacity() > KEEP_BUFFER_BYTES {
            conn.input = Vec::new();
        }
    }

    /// Closes the connection if its unsent output went over the cap (as
    /// Redis's client-output-buffer-limit: the client is dropped, not
    /// slowed down); else writes, closes if it asked to be closed, and keeps
    /// EPOLLOUT in step.
    fn flush_and_settle(&mut self, slot: usize) {
        let stats = &self.shared.stats[self.id];
        let conn = self.conns[slot].as_mut().expect("live slot");
        let pending = conn.pending_output_bytes();
        if pending > self.shared.live.max_output_buffer_bytes() {
            stats.disconnect(conn.protocol(), Disconnect::OutputLimit);
            crate::log_warn!(conn = conn.session.client_id;
                "closing a client over the output buffer limit ({pending} bytes pending)");
            return self.close(slot);
        }
        if self.durable && pending > 0 && self.reply_must_wait(slot) {
            return; // commit_log writes it once the log is flushed
        }
        let stats = &self.shared.stats[self.id];
        let conn = self.conns[slot].as_mut().expect("live slot");
        if flush(conn, stats).is_err() {
            return self.close(slot);
        }
        let pending = conn.pending_output_bytes();
        // The soft limit counts what the socket did not take.
        let soft = self.current.config.output_buffer_soft_bytes;
        if soft != 0
            && (pending > soft || conn.over_soft_limit_since.is_some())
            && over_soft_limit_too_long(conn, &self.current.config, Instant::now())
        {
            stats.disconnect(conn.protocol(), Disconnect::OutputLimit);
            crate::log_warn!(conn = conn.session.client_id;
                "closing a client over the output buffer soft limit for too long ({pending} bytes pending)");
            return self.close(slot);
        }
        let tls_records = conn.tls.as_ref().is_some_and(|tls| tls.wants_write());
        if conn.closing && pending == 0 && !tls_records {
            return self.close(slot);
        }
        // Deferred input needs a wake-up even with nothing left to write:
        // a writable socket reports at once. So does TLS input decrypted
        // but not read yet.
        let want_write = pending > 0
            || conn.deferred
            || tls_records
            || conn.tls.as_mut().is_some_and(|tls| tls.has_plaintext());
        if want_write != conn.write_interest {
            let token = (conn.generation as u64) << 32 | slot as u64;
            let interest = if want_write {
                Interest::ReadWrite
            } else {
                Interest::Read
            };
            if self
                .poller
                .modify(conn.stream.as_raw_fd(), token, interest)
                .is_err()
            {
                return self.close(slot);
            }
            conn.write_interest = want_write;
        }
    }

    /// Group commit: while this worker has log records not flushed yet, or
    /// the connection still waits for an earlier batch's fsync, no reply
    /// may leave (it could acknowledge, or show, a write the log does not
    /// hold). The connection is listed for `commit_log`.
    fn reply_must_wait(&mut self, slot: usize) -> bool {
        if !self.log_pending {
            self.log_pending = self.engine.log_appended() != self.log_flushed_seq;
        }
        let conn = self.conns[slot].as_mut().expect("live slot");
        if self.log_pending {
            // Its new output may hold replies to this batch's writes.
            conn.log_ticket = TICKET_THIS_BATCH;
        } else if !conn.awaiting_log {
            return false;
        }
        if !conn.awaiting_log {
            conn.awaiting_log = true;
            self.awaiting_log.push((slot, conn.generation));
        }
        true
    }

    /// Once per loop iteration: one log write for every write of the batch
    /// (under `always` the fsync runs on the sync helper meanwhile), then
    /// the replies whose writes are durable go out. If the log cannot be
    /// written or synced, the connections waiting for it are closed without
    /// their replies: their writes were never acknowledged.
    fn commit_log(&mut self) {
        if !self.durable {
            return;
        }
        let appended = self.engine.log_appended();
        let flushed = if appended == self.log_flushed_seq {
            Ok(0)
        } else {
            self.engine.log_flush()
        };
        // Also on failure: those records are abandoned (their clients are
        // closed below), and the engine refuses further writes, so reads
        // keep flowing without waiting on a log that cannot move.
        self.log_flushed_seq = appended;
        self.log_pending = false;
        let ticket = match &flushed {
            Ok(ticket) => *ticket,
            Err(_) => TICKET_THIS_BATCH,
        };
        if ticket != 0 && ticket != TICKET_THIS_BATCH {
            self.request_sync(ticket);
        }
        let (synced, sync_failed) = match &self.log_syncer {
            Some(syncer) => (syncer.synced(), syncer.failed()),
            None => self.inline_synced,
        };
        let mut waiting = std::mem::take(&mut self.awaiting_log);
        let mut lost = 0usize;
        waiting.retain(|&(slot, generation)| {
            if !self.is_live(slot, generation) {
                return false; // closed meanwhile
            }
            let conn = self.conns[slot].as_mut().expect("live slot");
            if conn.log_ticket == TICKET_THIS_BATCH {
                conn.log_ticket = ticket;
            }
            let failed = (flushed.is_err() && conn.log_ticket == TICKET_THIS_BATCH)
                || (sync_failed && conn.log_ticket > synced);
            if failed {
                lost += 1;
                self.close(slot);
                return false;
            }
            if conn.log_ticket > synced {
                return true; // its fsync is still running
            }
            conn.awaiting_log = false;
            conn.log_ticket = 0;
            self.flush_and_settle(slot);
            false
        });
        if lost > 0 {
            let why = match &flushed {
                Err(error) => error.to_string(),
                Ok(_) => "fsync failed".to_string(),
            };
            crate::log_error!(
                "write-ahead log flush failed ({why}): closing {lost} connection(s) whose replies waited for it; their writes were not acknowledged"
            );
        }
        // Keep the allocation (and the still waiting) for the next batch.
        self.awaiting_log = waiting;
    }

    /// Hands a sync ticket to the helper, starting it on first use.
    fn request_sync(&mut self, ticket: u64) {
        if self.log_syncer.is_none() {
            let Some(handle) = self.engine.log_sync_handle() else {
                return;
            };
            match super::log_sync::LogSyncer::start(handle, Arc::clone(&self.waker), self.id) {
                Ok(syncer) => self.log_syncer = Some(syncer),
                Err(error) => {
                    // Degrades to syncing on this thread.
                    crate::log_warn!("cannot start the log sync thread: {error}; syncing inline");
                    let synced = self
                        .engine
                        .log_sync_handle()
                        .is_some_and(|handle| handle.sync(ticket));
                    if synced {
                        self.inline_synced.0 = ticket;
                    } else {
                        self.inline_synced.1 = true;
                    }
                    return;
                }
            }
        }
        if let Some(syncer) = &self.log_syncer {
            syncer.request(ticket);
        }
    }

    /// `commit_log`, then waits for every waiting fsync: before replies
    /// are forced out during a drain, and before the worker exits.
    fn commit_log_and_wait(&mut self) {
        self.commit_log();
        let highest = self
            .awaiting_log
            .iter()
            .filter_map(|&(slot, _)| self.conns[slot].as_ref().map(|conn| conn.log_ticket))
            .max();
        if let (Some(ticket), Some(syncer)) = (highest, &self.log_syncer) {
            syncer.wait_for(ticket);
            self.commit_log();
        }
    }

    fn is_live(&self, slot: usize, generation: u32) -> bool {
        self.conns
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|conn| conn.generation == generation)
    }

    fn close(&mut self, slot: usize) {
        let Some(mut conn) = self.conns[slot].take() else {
            return;
        };
        // Closing the fd removes it from epoll too; be explicit anyway.
        let _ = self.poller.remove(conn.stream.as_raw_fd());
        if let Some(client) = conn.proxy.take() {
            self.proxy_client_gone(slot, &client);
        }
        let protocol = conn.protocol();
        self.stats().conn_closed(protocol, conn.counted);
        drop(conn);
        self.free_slots.push(slot);
        self.stats().connected_clients.sub(1);
        self.release(protocol);
    }

    /// Counts a new connection against maxclients and its listener's own
    /// limit (resp-, pg-, http-maxclients; 0: none); false, counting
    /// nothing, when either is full.
    fn admit(&self, protocol: Protocol) -> bool {
        let config = &self.current.config;
        let listener_max = match protocol {
            Protocol::Resp => config.resp_max_clients,
            Protocol::Pg => config.pg_max_clients,
            Protocol::Http => config.http_max_clients,
        };
        let total = &self.shared.connected_clients;
        if total.fetch_add(1, Relaxed) >= self.shared.live.max_clients() {
            total.fetch_sub(1, Relaxed);
            return false;
        }
        let by_listener = &self.shared.connected_by_protocol[protocol as usize];
        if by_listener.fetch_add(1, Relaxed) >= listener_max && listener_max != 0 {
            by_listener.fetch_sub(1, Relaxed);
            total.fetch_sub(1, Relaxed);
            return false;
        }
        true
    }

    /// Undoes `admit` for a connection that closed (or never registered).
    fn release(&self, protocol: Protocol) {
        self.shared.connected_clients.fetch_sub(1, Relaxed);
        self.shared.connected_by_protocol[protocol as usize].fetch_sub(1, Relaxed);
    }
}

/// Frames and runs every complete request at the start of `input`; returns
/// the bytes consumed. Stops early once the connection is closing or its
/// output is over the cap.
fn run_requests(
    conn: &mut Conn,
    input: &[u8],
    engine: &mut EngineWorker,
    shared: &Shared,
    stats: &WorkerStats,
    args: &mut Vec<Range<usize>>,
    limits: &ParseLimits,
    current: &Current,
) -> usize {
    if conn.pg.is_some() {
        let consumed = run_pg(conn, input, engine, current, shared, stats);
        settle_state(conn, stats);
        return consumed;
    }
    if conn.http.is_some() {
        return run_http(conn, input, engine, shared, stats);
    }
    let max_output_bytes = shared.live.max_output_buffer_bytes();
    let mut pos = 0;
    conn.deferred = false;
    // Past the output cap the client is dropped (flush_and_settle), so
    // running more of its requests would be wasted work.
    while !conn.closing && conn.pending_output_bytes() <= max_output_bytes {
        match conn.parser.parse(&input[pos..], args, limits) {
            Ok(Parsed::Request { consumed, source }) => {
                let base = match source {
                    ArgSource::Input => &input[pos..],
                    ArgSource::Inline => &conn.parser.inline_bytes[..],
                };
                let db = conn.session.db;
                let mut ctx = Ctx {
                    session: &mut conn.session,
                    backend: resp::Backend::Engine(resp::store::DbStore { worker: engine, db }),
                    stats,
                    shared,
                    out: &mut conn.output,
                };
                resp::execute(&mut ctx, &Args::new(base, args));
                conn.closing |= conn.session.close_after_reply;
                conn.input_needed_bytes = None;
                pos += consumed;
                if conn.session.admin.is_some() {
                    // The worker runs it next; later requests wait for it.
                    conn.deferred = pos < input.len();
                    break;
                }
            }
            Ok(Parsed::Nothing { consumed }) => pos += consumed,
            Ok(Parsed::Incomplete { needed_bytes }) => {
                conn.input_needed_bytes = needed_bytes;
                break;
            }
            Err(error) => {
                stats.disconnect(Protocol::Resp, Disconnect::ProtocolError);
                let mut reply = resp::reply::ReplyWriter {
                    out: &mut conn.output,
                    resp3: conn.session.resp3,
                };
                reply.error(&error.reply_text());
                conn.closing = true;
                return input.len(); // the rest is discarded, as Redis does
            }
        }
    }
    settle_state(conn, stats);
    pos
}

/// Moves the connection in the gauges if its state changed (MULTI, BEGIN,
/// login): once per batch of requests, not per request.
fn settle_state(conn: &mut Conn, stats: &WorkerStats) {
    let state = conn.state();
    if state != conn.counted {
        stats.conn_moved(conn.protocol(), conn.counted, state);
        conn.counted = state;
    }
}

/// Hands HTTP input to the session; returns the bytes it used.
fn run_http(
    conn: &mut Conn,
    input: &[u8],
    engine: &mut EngineWorker,
    shared: &Shared,
    stats: &WorkerStats,
) -> usize {
    let session = conn.http.as_mut().expect("an HTTP connection");
    let mut ctx = http::Ctx {
        worker: engine,
        out: &mut conn.output,
        out_sent: conn.output_sent,
        shared,
        stats,
    };
    let (consumed, next) = http::handle(session, input, &mut ctx);
    conn.input_needed_bytes = None;
    match next {
        http::Next::Continue => consumed,
        http::Next::NeedInput(needed_bytes) => {
            conn.input_needed_bytes = needed_bytes;
            consumed
        }
        http::Next::Close => {
            conn.closing = true;
            input.len()
        }
    }
}

fn pg_limits(current: &Current) -> pg_session::Limits<'_> {
    pg_session::Limits::from_config(&current.config, &current.pg_users, current.tls.is_some())
}

/// Hands PostgreSQL input to the session; returns the bytes it used.
fn run_pg(
    conn: &mut Conn,
    input: &[u8],
    engine: &mut EngineWorker,
    current: &Current,
    shared: &Shared,
    stats: &WorkerStats,
) -> usize {
    let session = conn.pg.as_mut().expect("a PostgreSQL connection");
    if session.pooled {
        return 0; // the worker's pool serves it (`Worker::proxy_login`)
    }
    let mut limits = pg_limits(current);
    // Pending output over the hard limit (`output` still holds what was sent).
    limits.output_cap_len = shared
        .live
        .max_output_buffer_bytes()
        .saturating_add(conn.output_sent);
    // Direct TLS (PostgreSQL 17): a ClientHello where the startup packet
    // would be.
    if conn.tls.is_none()
        && limits.tls_available
        && session.in_startup()
        && input.first() == Some(&tls::HANDSHAKE_RECORD)
    {
        session.tls = true;
        start_pg_tls(conn, current, stats, Some(input));
        return input.len();
    }
    let mut ctx = pg_session::Ctx {
        worker: engine,
        out: &mut conn.output,
        limits: &limits,
        stats,
        shared,
        clock: &mut conn.session.last_interaction,
    };
    let (consumed, next) = session.handle(input, &mut ctx);
    conn.input_needed_bytes = None;
    // An admin console command runs in the worker first; what follows it
    // waits (as after CLIENT LIST).
    conn.deferred = session.admin_pending() && consumed < input.len();
    match next {
        Next::Continue | Next::Parked(_) => consumed,
        Next::NeedInput(needed_bytes) => {
            conn.input_needed_bytes = needed_bytes;
            consumed
        }
        Next::Close => {
            conn.closing = true;
            input.len()
        }
        Next::Cancel { pid, secret } => {
            session.cancel_request = Some((pid, secret));
            conn.closing = true;
            input.len()
        }
        Next::StartTls => {
            session.tls = true;
            start_pg_tls(conn, current, stats, None);
            consumed
        }
        Next::Pooled => consumed,
    }
}

/// Starts TLS on a PostgreSQL connection: after an SSLRequest (nothing
/// followed it: the session checked), `S` goes out in plaintext first;
/// with direct TLS, `client_hello` holds the records already read. The
/// connection closes if that cannot be done.
fn start_pg_tls(
    conn: &mut Conn,
    current: &Current,
    stats: &WorkerStats,
    client_hello: Option<&[u8]>,
) {
    let Some(configs) = current.tls.as_ref() else {
        conn.closing = true; // the session only asks when TLS is configured
        return;
    };
    if client_hello.is_none() {
        conn.output.push(b'S');
        // A fresh socket takes a few bytes; `S` must not be encrypted.
        if flush(conn, stats).is_err() || conn.pending_output_bytes() > 0 {
            crate::log_debug!(conn = conn.session.client_id;
                "closing a PostgreSQL client: cannot answer its SSLRequest");
            conn.output.clear();
            conn.output_sent = 0;
            conn.closing = true;
            return;
        }
    }
    let alpn = client_hello.is_some().then_some(tls::PG_ALPN);
    let mut state = match TlsConn::new(&configs.pg, alpn) {
        Ok(state) => state,
        Err(error) => {
            crate::log_warn!(conn = conn.session.client_id; "cannot start TLS: {error}");
            conn.closing = true;
            return;
        }
    };
    stats.tls_accepted();
    if let Some(bytes) = client_hello {
        if let Err(error) = state.feed(&conn.stream, bytes) {
            tls_failed(&conn.session, &error, stats);
            conn.closing = true;
            return;
        }
    }
    conn.tls = Some(Box::new(state));
}

/// Logs and counts a connection's TLS failure (a handshake refused, a bad
/// record); the caller closes it.
fn tls_failed(session: &Session, error: &io::Error, stats: &WorkerStats) {
    let (client, peer) = (session.client_id, &session.peer_addr);
    match tls::Failure::of(error) {
        Some(failure) if failure.handshake => {
            stats.tls_handshake_failed();
            crate::log_debug!(conn = client; "TLS handshake with {peer} failed: {failure}");
        }
        Some(failure) => crate::log_debug!(conn = client; "TLS error from {peer}: {failure}"),
        None => {}
    }
}

/// ErrorResponse FATAL 57P01, sent to PostgreSQL clients a shutdown
/// closes (PostgreSQL's wording).
const ADMIN_SHUTDOWN_FATAL: &[u8] =
    b"E\0\0\0\x4fSFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0";

/// ErrorResponse FATAL 53300, sent before closing a connection over
/// maxclients (PostgreSQL's wording).
const TOO_MANY_PG_CLIENTS: &[u8] =
    b"E\0\0\0\x3bSFATAL\0VFATAL\0C53300\0Msorry, too many clients already\0\0";

/// Which time limit, if any, the connection is past (see
/// `Worker::sweep_timeouts`).
fn time_limit_reached(
    conn: &mut Conn,
    config: &crate::config::Config,
    now: Instant,
    quiescent_proxy: bool,
) -> Option<Disconnect> {
    let session = &conn.session;
    if config.auth_timeout_ms > 0 {
        // PostgreSQL: until the startup exchange ends (AuthenticationOk),
        // however slowly its bytes arrive. RESP: only while a password is
        // required and not given. HTTP authenticates each request.
        // An unfinished TLS handshake counts too (the TLS port included).
        let handshaking = conn.tls.as_ref().is_some_and(|tls| tls.is_handshaking());
        let authenticating = handshaking
            || match &conn.pg {
                Some(pg) => !pg.is_ready(),
                None => conn.http.is_none() && !session.authenticated,
            };
        let limit = Duration::from_millis(config.auth_timeout_ms);
        if authenticating && now.saturating_duration_since(session.created) > limit {
            return Some(Disconnect::AuthTimeout);
        }
    }
    if conn.over_soft_limit_since.is_some() && over_soft_limit_too_long(conn, config, now) {
        return Some(Disconnect::OutputLimit);
    }
    // Idle: nothing read for the whole limit, and nothing left to send
    // (a client still receiving replies is not idle).
    let idle_limit_s = match &conn.pg {
        // A session inside a transaction, COPY or pg_sleep is not idle
        // (as PostgreSQL's idle_session_timeout and PgBouncer's
        // client_idle_timeout); before login auth-timeout-ms applies.
        Some(pg) if pg.is_ready() && pg.is_quiescent() && quiescent_proxy => {
            config.pg_client_idle_timeout_s
        }
        Some(_) => 0,
        // Redis's `timeout` also closes a client inside MULTI.
        None => config.idle_timeout_s,
    };
    if idle_limit_s == 0 || conn.pending_output_bytes() > 0 || conn.deferred {
        return None;
    }
    let idle = now.saturating_duration_since(conn.session.last_interaction);
    (idle > Duration::from_secs(idle_limit_s)).then_some(Disconnect::IdleTimeout)
}

/// Whether the unsent output has stayed over the soft limit of
/// client-output-buffer-limit for more than its seconds (as Redis: the
/// clock starts when it is first seen over, and stops once it is under).
fn over_soft_limit_too_long(conn: &mut Conn, config: &crate::config::Config, now: Instant) -> bool {
    let soft = config.output_buffer_soft_bytes;
    if soft == 0 || conn.pending_output_bytes() <= soft {
        conn.over_soft_limit_since = None;
        return false;
    }
    let since = *conn.over_soft_limit_since.get_or_insert(now);
    now.saturating_duration_since(since) > Duration::from_secs(config.output_buffer_soft_seconds)
}

/// One CLIENT LIST line, in Redis 7's field order.
fn client_line(conn: &Conn) -> Vec<u8> {
    let session = &conn.session;
    let now = Instant::now();
    let show = |bytes: &Option<Vec<u8>>| {
        String::from_utf8_lossy(bytes.as_deref().unwrap_or_default()).into_owned()
    };
    let multi = session.multi.as_ref();
    let mut flags = String::from(if multi.is_some() { "x" } else { "N" });
    if session.no_evict {
        flags.push('e');
    }
    if session.no_touch {
        flags.push('T');
    }
    let multi_mem = multi.map_or(0, |queue| queue.queued_bytes());
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={flags} db={} sub=0 psub=0 ssub=0 \
         multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem={multi_mem} rbs={} rbp=0 obl=0 oll=0 omem={} \
         tot-mem={} events={} cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}\n",
        session.client_id,
        session.peer_addr,
        session.local_addr,
        conn.stream.as_raw_fd(),
        show(&session.name),
        now.duration_since(session.created).as_secs(),
        now.duration_since(session.last_interaction).as_secs(),
        session.db,
        multi.map_or(-1, |queue| queue.len() as i64),
        conn.input.len(),
        conn.input.capacity() - conn.input.len(),
        conn.input.capacity(),
        conn.pending_output_bytes(),
        conn.input.capacity() + conn.output.capacity() + multi_mem,
        if conn.write_interest { "rw" } else { "r" },
        session.last_command,
        String::from_utf8_lossy(session.acl_user.name()),
        if session.resp3 { 3 } else { 2 },
        show(&session.lib_name),
        show(&session.lib_version),
    )
    .into_bytes()
}

/// Writes as much pending output as the socket takes.
fn flush(conn: &mut Conn, stats: &WorkerStats) -> io::Result<()> {
    let protocol = conn.protocol();
    if let Some(tls) = conn.tls.as_mut() {
        let pending = &conn.output[conn.output_sent..];
        let taken = tls.write(&conn.stream, pending, conn.closing)?;
        conn.output_sent += taken;
        // Plaintext bytes, as Redis counts them on TLS connections.
        stats.bytes_out(protocol, taken as u64);
    }
    while conn.tls.is_none() && conn.output_sent < conn.output.len() {
        match send(&conn.stream, &conn.output[conn.output_sent..]) {
            Ok(n) => {
                conn.output_sent += n;
                stats.bytes_out(conn.protocol(), n as u64);
            }
            Err(error) if would_block(&error) => break,
            Err(error) => return Err(error),
        }
    }
    if conn.output_sent == conn.output.len() {
        conn.output.clear();
        conn.output_sent = 0;
        if conn.output.capacity() > KEEP_BUFFER_BYTES {
            conn.output = Vec::new();
        }
    }
    Ok(())
}

/// A read's bytes, or what becomes of the connection: EOF or an error
/// closes it, nothing to read leaves it open.
fn read_outcome(result: io::Result<usize>) -> Result<usize, ReadOutcome> {
    match result {
        Ok(0) => Err(ReadOutcome::Close),
        Ok(n) => Ok(n),
        Err(error) if would_block(&error) => Err(ReadOutcome::Open),
        Err(_) => Err(ReadOutcome::Close),
    }
}

fn would_block(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// read(2) into `len` bytes at `ptr`.
///
/// # Safety
/// `ptr` must be valid for `len` writable bytes.
unsafe fn read_raw(stream: &TcpStream, ptr: *mut u8, len: usize) -> io::Result<usize> {
    // SAFETY: forwarded contract.
    let n = unsafe { libc::read(stream.as_raw_fd(), ptr as *mut libc::c_void, len) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Reads plaintext: from the socket, or through TLS (whose failures are
/// logged and counted here).
fn conn_read(conn: &mut Conn, buffer: &mut [u8], stats: &WorkerStats) -> io::Result<usize> {
    let Some(tls) = conn.tls.as_mut() else {
        return read_into(&conn.stream, buffer);
    };
    let result = tls.read(&conn.stream, buffer);
    if let Err(error) = &result {
        tls_failed(&conn.session, error, stats);
    }
    result
}

/// Appends what the connection has to its input buffer; TLS plaintext
/// passes through `scratch`.
fn conn_read_append(conn: &mut Conn, scratch: &mut [u8], stats: &WorkerStats) -> io::Result<usize> {
    if conn.tls.is_none() {
        return read_append(&conn.stream, &mut conn.input);
    }
    let n = conn_read(conn, scratch, stats)?;
    conn.input.extend_from_slice(&scratch[..n]);
    Ok(n)
}

fn read_into(stream: &TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buffer is valid for buffer.len() writable bytes.
    unsafe { read_raw(stream, buffer.as_mut_ptr(), buffer.len()) }
}

/// Reads into the spare capacity of `buffer` without zeroing it first.
fn read_append(stream: &TcpStream, buffer: &mut Vec<u8>) -> io::Result<usize> {
    let spare = buffer.spare_capacity_mut();
    // SAFETY: spare is valid for spare.len() writable bytes.
    let n = unsafe { read_raw(stream, spare.as_mut_ptr() as *mut u8, spare.len()) }?;
    // SAFETY: the kernel initialized n bytes past the old length.
    unsafe { buffer.set_len(buffer.len() + n) };
    Ok(n)
}

fn send(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: bytes is valid for bytes.len() readable bytes. MSG_NOSIGNAL:
    // a peer that went away must not SIGPIPE the host process.
    let n = unsafe {
        libc::send(
            stream.as_raw_fd(),
            bytes.as_ptr() as *const libc::c_void,
            bytes.len(),
            libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}
