//! The worker's side of upstream pooling (`crate::pool`): clients of a
//! `[databases]` entry, the server connections that serve them, and the
//! pools' timers, all in the worker's own epoll loop. Nothing here blocks:
//! a server connects, logs in and answers through readiness events like a
//! client.
//!
//! Client messages are forwarded as they are framed, except where pooling
//! needs otherwise (`forward_message`): named statements are renamed per
//! server and prepared where missing, a Close of one is answered here,
//! and in transaction mode statements that would leave session state
//! behind are refused. Server messages go back unchanged unless they
//! answer something the pool sent itself (`Expect`).

use std::borrow::Cow;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::{flush, read_append, send, would_block, Conn, Worker};
use crate::pg::error::{sqlstate, PgError};
use crate::pg::protocol::Writer;
use crate::pool::config::{DatabaseConfig, PoolMode};
use crate::pool::expect::Reply;
use crate::pool::local::{ClientRef, Pool, ProxyClient};
use crate::pool::server::{Server, ServerState};
use crate::pool::session_state::{self, Effect, ParamValue};
use crate::pool::snapshot::{PoolCommand, PoolRow, ServerRow, WorkerPools};
use crate::pool::statements::server_name;
use crate::pool::upstream_startup::{self, StartupError, Step, UpstreamLogin, UpstreamStartup};
use crate::runtime::poller::Interest;

/// Server tokens have this bit set in their slot half.
pub(super) const SERVER_TOKEN: u64 = 1 << 31;
/// Unsent bytes at which the other side stops being read: a client slow
/// to take a large result pauses its server, and a server slow to take a
/// COPY pauses its client.
const BACKPRESSURE_BYTES: usize = 1 << 20;
/// Largest server message (PostgreSQL's own limit on a field is 1 GiB).
const MAX_SERVER_MESSAGE_BYTES: usize = 1 << 30;
/// Idle servers closed per pool per tick when another worker waits for
/// capacity.
const HANDOVER_PER_TICK: usize = 2;

/// `query_wait_timeout` and the rest, PgBouncer's wording and code.
fn pooler_error(message: impl Into<String>) -> PgError {
    PgError::fatal(sqlstate::PROTOCOL_VIOLATION, message)
}

/// `DO` block raising 0A000 with `message`: a refused statement is
/// replaced by it, so the error comes from the server in its place (in
/// order, failing an open transaction as the statement would have).
fn refusal_query(message: &str) -> String {
    let quoted = message.replace('\'', "''");
    format!(
        "DO $corewire$BEGIN RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE = '{quoted}'; END$corewire$"
    )
}

/// Frames one message (type byte, length word) at the front of `input`:
/// Ok(None) when incomplete, Err when its length is out of bounds.
fn frame(input: &[u8], max_bytes: usize) -> Result<Option<(u8, usize)>, usize> {
    if input.len() < 5 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([input[1], input[2], input[3], input[4]]) as usize;
    if len < 4 || len > max_bytes {
        return Err(len);
    }
    Ok((input.len() > len).then_some((input[0], len + 1)))
}

/// The NUL-terminated string at the front of `bytes` and what follows it.
fn cstr(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|&b| b == 0)?;
    Some((&bytes[..end], &bytes[end + 1..]))
}

fn push_message(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let len = 4 + parts.iter().map(|p| p.len()).sum::<usize>();
    out.push(tag);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    for part in parts {
        out.extend_from_slice(part);
    }
}

fn push_query(out: &mut Vec<u8>, text: &str) {
    push_message(out, b'Q', &[text.as_bytes(), b"\0"]);
}

impl Worker {
    // ---- login ----

    /// The session on `slot` authenticated for a `[databases]` entry:
    /// gives it a pool, and finishes its login once that pool knows the
    /// server's parameters.
    pub(super) fn proxy_login(&mut self, slot: usize) {
        let config = std::sync::Arc::clone(&self.current.config);
        let conn = self.conns[slot].as_mut().expect("live slot");
        let session = conn.pg.as_mut().expect("a PostgreSQL session");
        let Some(db) = config
            .databases
            .iter()
            .find(|db| db.name == session.database)
        else {
            // A reload removed it meanwhile.
            let error = PgError::fatal(
                sqlstate::INVALID_CATALOG_NAME,
                format!("database \"{}\" does not exist", session.database),
            );
            return self.fail_client(slot, &error);
        };
        let user = db.user.clone().unwrap_or_else(|| session.user.clone());
        let password = db.password.clone().or_else(|| {
            // Auth passthrough: the client's own plaintext password.
            match self.current.pg_users.get(&session.user) {
                Some(crate::pg::auth::Secret::Plain { password, .. }) => Some(password.clone()),
                _ => None,
            }
        });
        let mode = db
            .pool_mode
            .or_else(|| {
                config
                    .pool_users
                    .iter()
                    .find(|u| u.name == session.user)
                    .and_then(|u| u.pool_mode)
            })
            .unwrap_or(config.pool_mode);
        let startup_options = std::mem::take(&mut session.startup_options);
        let index = self.pool_for(db, user, password);
        let conn = self.conns[slot].as_mut().expect("live slot");
        let generation = conn.generation;
        conn.proxy = Some(Box::new(ProxyClient::new(index, mode, &startup_options)));
        let pool = &mut self.proxy.pools[index];
        pool.clients += 1;
        if pool.db.welcome().is_some() {
            self.finish_login(slot);
        } else {
            pool.login_waiting.push((slot, generation));
            self.open_servers(index, Instant::now());
        }
    }

    /// The pool for (database, upstream user), made on first use.
    fn pool_for(&mut self, db: &DatabaseConfig, user: String, password: Option<String>) -> usize {
        if let Some(index) = self.proxy.pool_index(&db.name, &user) {
            return index;
        }
        let shared = self.shared.pools.db(&db.name);
        let mode = db.pool_mode.unwrap_or(self.current.config.pool_mode);
        self.proxy
            .pools
            .push(Pool::new(db, user, password, mode, shared));
        self.proxy.pools.len() - 1
    }

    /// New settings: a pool whose `[databases]` entry changed takes the
    /// new one, and its servers are closed as they fall idle (clients keep
    /// theirs until then). A removed entry's pool serves the clients it
    /// has; new logins are refused.
    pub(super) fn proxy_reload(&mut self) {
        let config = std::sync::Arc::clone(&self.current.config);
        for index in 0..self.proxy.pools.len() {
            let pool = &mut self.proxy.pools[index];
            let Some(db) = config.databases.iter().find(|db| db.name == pool.database) else {
                continue;
            };
            if *db == pool.config {
                continue;
            }
            let fixed_user = db.user.clone().unwrap_or_else(|| pool.user.clone());
            if fixed_user != pool.user {
                continue; // a pool of another user serves new logins
            }
            let replacement = Pool::new(
                db,
                pool.user.clone(),
                pool.password.clone(),
                pool.mode,
                pool.db.clone(),
            );
            pool.addr = replacement.addr;
            pool.config = replacement.config;
            if db.password.is_some() {
                pool.password = db.password.clone();
            }
            pool.mode = db.pool_mode.unwrap_or(config.pool_mode);
            pool.last_failure = None;
            let idle = std::mem::take(&mut pool.idle);
            for server in self.proxy.servers.iter_mut().flatten() {
                if server.pool == index {
                    server.close_needed = true;
                }
            }
            for slot in idle {
                self.close_server(slot);
            }
        }
    }

    /// Every database with a fixed upstream user has its pool on every
    /// worker from the start (SHOW POOLS lists it, min_pool_size fills it).
    fn ensure_pools(&mut self) {
        let config = std::sync::Arc::clone(&self.current.config);
        for db in &config.databases {
            if let Some(user) = &db.user {
                if self.proxy.pool_index(&db.name, user).is_none() {
                    self.pool_for(db, user.clone(), db.password.clone());
                }
            }
        }
    }

    /// Sends the server's parameters (the client's own where it set
    /// them), the client's BackendKeyData and ReadyForQuery.
    fn finish_login(&mut self, slot: usize) {
        let conn = self.conns[slot].as_mut().expect("live slot");
        let session = conn.pg.as_ref().expect("a PostgreSQL session");
        let client = conn.proxy.as_mut().expect("a pooled client");
        let db = &self.proxy.pools[client.pool].db;
        let welcome = db.welcome().unwrap_or_default();
        let mut writer = Writer {
            out: &mut conn.output,
        };
        for (name, value) in welcome.iter() {
            // The client's own value where its startup packet set one.
            let value = match client.params.get(&name.to_ascii_lowercase()) {
                Some((_, ParamValue::Literal(own))) => own,
                _ => value,
            };
            writer.parameter_status(name, value);
        }
        writer.backend_key_data(session.pid, session.secret);
        writer.ready_for_query(crate::pg::protocol::TxnStatus::Idle);
        client.ready = true;
        self.proxy_client_input(slot);
        self.flush_client(slot);
    }

    /// FATAL to the client, then close it.
    fn fail_client(&mut self, slot: usize, error: &PgError) {
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let mut error = error.clone();
        error.severity = crate::pg::error::Severity::Fatal;
        Writer {
            out: &mut conn.output,
        }
        .error(&error);
        let _ = flush(conn, &self.shared.stats[self.id]);
        self.close(slot);
    }

    /// The upstream's own ErrorResponse (a failed login), then close.
    fn fail_client_raw(&mut self, slot: usize, raw: &[u8]) {
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        conn.output.extend_from_slice(raw);
        let _ = flush(conn, &self.shared.stats[self.id]);
        self.close(slot);
    }

    // ---- client input ----

    /// Reads what the pooled client on `slot` sent, then forwards it.
    pub(super) fn proxy_read(&mut self, slot: usize) -> super::ReadOutcome {
        let stats = &self.shared.stats[self.id];
        let max_query_bytes = self.shared.live.max_query_buffer_bytes();
        for _ in 0..super::MAX_READS_PER_EVENT {
            let conn = self.conns[slot].as_mut().expect("live slot");
            if conn.closing {
                return super::ReadOutcome::Open;
            }
            conn.input.reserve(super::KEEP_BUFFER_BYTES);
            let read = match super::read_outcome(super::conn_read_append(
                conn,
                &mut self.read_buffer,
                stats,
            )) {
                Ok(n) => n,
                Err(outcome) => return outcome,
            };
            stats.bytes_in(crate::stats::Protocol::Pg, read as u64);
            conn.session.last_interaction = Instant::now();
            if conn.input.len() > max_query_bytes {
                return super::ReadOutcome::Close;
            }
            if conn.input.spare_capacity_mut().len() > 0 {
                break; // short read: drained
            }
        }
        self.proxy_client_input(slot);
        super::ReadOutcome::Open
    }

    /// Forwards the client's complete messages to its server, getting it
    /// one first if needed (or queueing the client for one).
    pub(super) fn proxy_client_input(&mut self, slot: usize) {
        let max_message_bytes = self.current.config.pg_max_message_bytes;
        let max_prepared = self.current.config.max_prepared_statements;
        let mut pos = 0;
        loop {
            let Some(conn) = self.conns[slot].as_mut() else {
                return;
            };
            let Some(client) = conn.proxy.as_mut() else {
                return;
            };
            if !client.ready || conn.closing {
                break;
            }
            let (tag, len) = match frame(&conn.input[pos..], max_message_bytes) {
                Ok(Some(framed)) => framed,
                Ok(None) => break,
                Err(len) => {
                    let error = PgError::fatal(
                        sqlstate::PROTOCOL_VIOLATION,
                        format!("invalid message length {len}"),
                    );
                    conn.input.clear();
                    return self.fail_client(slot, &error);
                }
            };
            if tag == b'X' {
                conn.closing = true;
                pos = conn.input.len();
                break;
            }
            let server_slot = match client.server {
                Some(server) => server,
                None => {
                    if client.waiting_since.is_some() {
                        break;
                    }
                    // Parse + Sync of a named statement between
                    // transactions (libpq's PQprepare) needs no server: it
                    // is prepared on whichever server first runs it.
                    // Answering it here also keeps a client that prepares
                    // synchronously (pgbench -M prepared) from waiting for
                    // servers its own other connections hold.
                    if tag == b'Q' && client.mode == PoolMode::Transaction && max_prepared > 0 {
                        let body = &conn.input[pos + 5..pos + len];
                        let text = cstr(body).and_then(|(t, _)| std::str::from_utf8(t).ok());
                        if let Some(tag) = text.and_then(|text| deallocate(client, text)) {
                            crate::pool::expect::answer_query(&mut conn.output, tag, b'I');
                            pos += len;
                            continue;
                        }
                    }
                    if tag == b'P' && client.mode == PoolMode::Transaction && max_prepared > 0 {
                        let after = &conn.input[pos + len..];
                        let sync_next =
                            after.len() >= 5 && after[0] == b'S' && after[1..5] == [0, 0, 0, 4];
                        let body = &conn.input[pos + 5..pos + len];
                        if let (true, Some((name, rest))) = (sync_next, cstr(body)) {
                            if !name.is_empty() {
                                let (effects, rest) = parse_body(rest, true);
                                let def = self.proxy.statements.intern(&rest, || effects);
                                let name: Box<str> = String::from_utf8_lossy(name).into();
                                client.statements.insert(name, def);
                                conn.output.extend_from_slice(b"1\0\0\0\x04Z\0\0\0\x05I");
                                pos += len + 5;
                                continue;
                            }
                        }
                    }
                    conn.input.drain(..pos);
                    pos = 0;
                    match self.acquire(slot) {
                        Some(server) => server,
                        None => break,
                    }
                }
            };
            let conn = self.conns[slot].as_mut().expect("live slot");
            let client = conn.proxy.as_mut().expect("a pooled client");
            let server = self.proxy.servers[server_slot]
                .as_mut()
                .expect("linked server");
            if server.pending_output_bytes() > BACKPRESSURE_BYTES {
                break; // resumes once the server took some
            }
            let message = &conn.input[pos..pos + len];
            if server.expect.is_empty() {
                server.busy_since = Instant::now();
                if server.txn_status == b'I' {
                    server.xact_started = server.busy_since;
                }
            }
            let pool = &mut self.proxy.pools[client.pool];
            pool.totals.bytes_received += len as u64;
            if matches!(tag, b'Q' | b'S') {
                pool.totals.query_count += 1;
            }
            forward_message(
                client,
                server,
                &mut self.proxy.statements,
                max_prepared,
                tag,
                message,
            );
            pos += len;
        }
        if let Some(conn) = self.conns[slot].as_mut() {
            conn.input.drain(..pos.min(conn.input.len()));
            let linked = conn.proxy.as_ref().and_then(|client| client.server);
            if let Some(server_slot) = linked {
                self.emit_synthesized(server_slot, slot);
                self.flush_server(server_slot);
            }
            self.update_client_interest(slot);
        }
    }

    /// Writes the pool's own replies due at the head of what the server
    /// owes (a CloseComplete answered here, with nothing before it).
    fn emit_synthesized(&mut self, server_slot: usize, slot: usize) {
        let Some(server) = self.proxy.servers[server_slot].as_mut() else {
            return;
        };
        if let Some(conn) = self.conns[slot].as_mut() {
            server
                .expect
                .emit_synthesized(&mut conn.output, server.txn_status);
        }
    }

    /// A server for the client on `slot`: an idle one linked now, or None
    /// with the client queued (and a connection opening if allowed).
    fn acquire(&mut self, slot: usize) -> Option<usize> {
        let now = Instant::now();
        let conn = self.conns[slot].as_mut().expect("live slot");
        let generation = conn.generation;
        let client = conn.proxy.as_mut().expect("a pooled client");
        let index = client.pool;
        if !self.proxy.pools[index].db.paused.load(Relaxed) {
            while let Some(server_slot) = self.proxy.pools[index].idle.pop() {
                if self.needs_check(server_slot, now) {
                    self.start_check(server_slot);
                    continue;
                }
                self.link(slot, server_slot, now);
                return Some(server_slot);
            }
        }
        let conn = self.conns[slot].as_mut().expect("live slot");
        let client = conn.proxy.as_mut().expect("a pooled client");
        client.waiting_since = Some(now);
        let pool = &mut self.proxy.pools[index];
        pool.waiting.push_back((slot, generation));
        self.open_servers(index, now);
        None
    }

    fn needs_check(&mut self, server_slot: usize, now: Instant) -> bool {
        let config = &self.current.config;
        let server = self.proxy.server(server_slot);
        !config.server_check_query.is_empty()
            && now.saturating_duration_since(server.last_used)
                > Duration::from_secs(config.server_check_delay_s)
    }

    /// Runs server-check-query on an idle server before anyone gets it.
    fn start_check(&mut self, server_slot: usize) {
        let query = self.current.config.server_check_query.clone();
        let server = self.proxy.server(server_slot);
        server.state = ServerState::Testing;
        push_query(&mut server.output, &query);
        server.expect.push(Reply::Query {
            hidden: true,
            effects: None,
            failed: false,
        });
        self.flush_server(server_slot);
    }

    /// Links the server to the client, first re-applying the client's
    /// parameters where the server's differ.
    fn link(&mut self, slot: usize, server_slot: usize, now: Instant) {
        let conn = self.conns[slot].as_mut().expect("live slot");
        let generation = conn.generation;
        let client = conn.proxy.as_mut().expect("a pooled client");
        let server = self.proxy.servers[server_slot]
            .as_mut()
            .expect("live server");
        let pool = &mut self.proxy.pools[client.pool];
        if let Some(since) = client.waiting_since.take() {
            pool.totals.wait_time_us += now.saturating_duration_since(since).as_micros() as u64;
        }
        client.server = Some(server_slot);
        server.state = ServerState::Active { slot, generation };
        if server.params_fingerprint == Some(client.params_fingerprint) {
            return; // set up for these very parameters already
        }
        if pool.welcome.is_none() {
            pool.welcome = pool.db.welcome();
        }
        let welcome = pool.welcome.clone().unwrap_or_default();
        let sets = parameter_sets(client, server, &welcome);
        server.params_fingerprint = Some(client.params_fingerprint);
        if !sets.is_empty() {
            push_query(&mut server.output, &sets);
            server.expect.push(Reply::Query {
                hidden: true,
                effects: None,
                failed: false,
            });
        }
    }

    // ---- server connections ----

    /// Opens server connections for the pool's waiting clients (or its
    /// min_pool_size), within the database's limit across workers.
    fn open_servers(&mut self, index: usize, now: Instant) {
        let config = std::sync::Arc::clone(&self.current.config);
        let pool = &mut self.proxy.pools[index];
        if let Some((at, _)) = &pool.last_failure {
            if now.saturating_duration_since(*at)
                < Duration::from_millis(config.server_login_retry_ms)
            {
                return;
            }
        }
        let pool_size = pool.config.pool_size.unwrap_or(config.default_pool_size);
        let min_size = pool.config.min_pool_size.unwrap_or(config.min_pool_size);
        let reserve = pool.config.reserve_pool.unwrap_or(config.reserve_pool_size);
        let oldest_wait = pool
            .waiting
            .iter()
            .find_map(|&(slot, generation)| {
                let conn = self.conns.get(slot)?.as_ref()?;
                (conn.generation == generation).then_some(())?;
                conn.proxy.as_ref()?.waiting_since
            })
            .map_or(Duration::ZERO, |since| now.saturating_duration_since(since));
        let limit = if oldest_wait > Duration::from_millis(config.reserve_pool_timeout_ms) {
            pool_size + reserve
        } else {
            pool_size
        };
        let wanted = pool.waiting.len() + usize::from(!pool.login_waiting.is_empty());
        let mut opened = 0;
        loop {
            let pool = &mut self.proxy.pools[index];
            let for_clients = pool.connecting < wanted;
            if !for_clients && pool.db.servers.load(Relaxed) >= min_size.min(limit) {
                break;
            }
            if !pool.db.try_reserve(if for_clients {
                limit
            } else {
                min_size.min(limit)
            }) {
                // Full: workers with idle servers hand them over.
                pool.db.set_waiting(self.id, wanted > pool.connecting);
                break;
            }
            if let Err(error) = self.connect_server(index, now) {
                let pool = &mut self.proxy.pools[index];
                pool.db.release();
                crate::log_warn!(
                    "cannot connect to database \"{}\" at {}:{}: {error}",
                    pool.database,
                    pool.config.host,
                    pool.config.port
                );
                let failure =
                    StartupError::Local(pooler_error(format!("server connection failed: {error}")));
                self.server_login_failed(index, failure, now);
                return;
            }
            opened += 1;
            if opened >= 64 {
                break; // bounded work per call; the tick goes on
            }
        }
    }

    /// Starts a non-blocking connect; the login runs as it becomes ready.
    fn connect_server(&mut self, index: usize, now: Instant) -> io::Result<()> {
        let config = &self.current.config;
        let pool = &mut self.proxy.pools[index];
        let addr = pool.addr.ok_or_else(|| {
            io::Error::other(format!("cannot resolve host \"{}\"", pool.config.host))
        })?;
        let login = UpstreamLogin {
            user: pool.user.clone(),
            database: pool.config.dbname.clone(),
            password: pool.password.clone(),
            parameters: Vec::new(),
        };
        let mut output = Vec::new();
        let startup = UpstreamStartup::begin(
            &login,
            config
                .pg_max_message_bytes
                .max(upstream_startup::DEFAULT_MAX_MESSAGE_BYTES),
            &mut output,
        )
        .map_err(|error| io::Error::other(error.to_string()))?;
        let stream = connect_nonblocking(addr)?;
        let slot = self.proxy.free_servers.pop().unwrap_or_else(|| {
            self.proxy.servers.push(None);
            self.proxy.servers.len() - 1
        });
        let generation = (self.shared.next_client_id.load(Relaxed) as u32)
            .wrapping_mul(2654435761)
            .wrapping_add(slot as u32);
        let token = server_token(slot, generation);
        if let Err(error) = self
            .poller
            .add(stream.as_raw_fd(), token, Interest::ReadWrite)
        {
            self.proxy.free_servers.push(slot);
            return Err(error);
        }
        let pool = &mut self.proxy.pools[index];
        pool.servers += 1;
        pool.connecting += 1;
        self.proxy.servers[slot] = Some(Server::new(
            self.shared.next_client_id.fetch_add(1, Relaxed),
            stream,
            addr,
            generation,
            index,
            ServerState::Connecting(Box::new(startup)),
            output,
            now,
        ));
        Ok(())
    }

    /// A readiness event on a server connection.
    pub(super) fn handle_server(&mut self, readable: bool, token: u64) {
        let slot = (token & 0x7fff_ffff) as usize;
        let generation = (token >> 32) as u32;
        match self.proxy.servers.get(slot) {
            Some(Some(server)) if server.generation == generation => {}
            _ => return,
        }
        let server = self.proxy.server(slot);
        if let ServerState::Connecting(_) = server.state {
            if let Some(error) = server.stream.take_error().ok().flatten() {
                return self.server_connect_failed(slot, error);
            }
            let ServerState::Connecting(startup) =
                std::mem::replace(&mut server.state, ServerState::Idle)
            else {
                unreachable!()
            };
            server.state = ServerState::Login(startup);
        }
        if matches!(server.state, ServerState::Cancel) {
            // Write the CancelRequest; the server closes it after.
            if flush_server_output(server).is_err() || server.pending_output_bytes() == 0 {
                return self.drop_server(slot);
            }
            return;
        }
        if readable && !server.read_paused {
            match self.server_read(slot) {
                Ok(true) => {}
                Ok(false) => return self.server_lost(slot, "server closed the connection"),
                Err(error) => return self.server_lost(slot, &error.to_string()),
            }
            if self.proxy.servers[slot].is_none() {
                return;
            }
        }
        self.flush_server(slot);
    }

    /// Reads what the server sent and acts on it. Ok(false) at EOF.
    fn server_read(&mut self, slot: usize) -> io::Result<bool> {
        for _ in 0..super::MAX_READS_PER_EVENT {
            let server = match self.proxy.servers[slot].as_mut() {
                Some(server) if !server.read_paused => server,
                _ => return Ok(true),
            };
            if let ServerState::Login(_) = server.state {
                let read = match super::read_into(&server.stream, &mut self.read_buffer) {
                    Ok(0) => return Ok(false),
                    Ok(n) => n,
                    Err(error) if would_block(&error) => return Ok(true),
                    Err(error) => return Err(error),
                };
                self.login_input(slot, read);
                continue;
            }
            server.input.reserve(super::READ_BUFFER_BYTES);
            let read = match read_append(&server.stream, &mut server.input) {
                Ok(0) => return Ok(false),
                Ok(n) => n,
                Err(error) if would_block(&error) => return Ok(true),
                Err(error) => return Err(error),
            };
            self.server_messages(slot);
            if read < super::READ_BUFFER_BYTES {
                return Ok(true);
            }
        }
        Ok(true)
    }

    /// Feeds the login exchange `read` bytes (in the read buffer).
    fn login_input(&mut self, slot: usize, read: usize) {
        let server = self.proxy.server(slot);
        let ServerState::Login(startup) = &mut server.state else {
            return;
        };
        let step = startup.feed(&self.read_buffer[..read], &mut server.output);
        match step {
            Step::NeedInput => {}
            Step::Responded => self.flush_server(slot),
            Step::Ready(ready) => {
                let index = server.pool;
                server.key = ready.backend_key;
                server.txn_status = match ready.txn_status {
                    crate::pg::protocol::TxnStatus::Idle => b'I',
                    crate::pg::protocol::TxnStatus::InBlock => b'T',
                    crate::pg::protocol::TxnStatus::Failed => b'E',
                };
                server.reported = ready
                    .parameters
                    .iter()
                    .map(|(name, value)| (name.to_ascii_lowercase(), (name.clone(), value.clone())))
                    .collect();
                server.input = ready.trailing_bytes;
                server.state = ServerState::Testing;
                server.last_used = Instant::now();
                let welcome: Vec<(String, String)> = ready.parameters.into_iter().collect();
                let pool = &mut self.proxy.pools[index];
                pool.connecting -= 1;
                pool.last_failure = None;
                pool.totals.server_logins += 1;
                pool.db.set_welcome(welcome);
                for (client_slot, generation) in std::mem::take(&mut pool.login_waiting) {
                    if self.is_live(client_slot, generation) {
                        self.finish_login(client_slot);
                    }
                }
                self.server_idle(slot);
            }
            Step::Failed(error) => {
                let index = server.pool;
                let pool = &self.proxy.pools[index];
                crate::log_warn!(
                    "login to database \"{}\" at {}:{} as \"{}\" failed: {error}",
                    pool.database,
                    pool.config.host,
                    pool.config.port,
                    pool.user
                );
                let server = self.proxy.server(slot);
                server.output.clear();
                server.output_sent = 0;
                server
                    .output
                    .extend_from_slice(&upstream_startup::TERMINATE);
                let _ = flush_server_output(server);
                self.drop_server(slot);
                self.server_login_failed(index, error, Instant::now());
            }
        }
    }

    fn server_connect_failed(&mut self, slot: usize, error: io::Error) {
        let index = self.proxy.server(slot).pool;
        let pool = &self.proxy.pools[index];
        crate::log_warn!(
            "cannot connect to database \"{}\" at {}:{}: {error}",
            pool.database,
            pool.config.host,
            pool.config.port
        );
        self.drop_server(slot);
        let failure =
            StartupError::Local(pooler_error(format!("server connection failed: {error}")));
        self.server_login_failed(index, failure, Instant::now());
    }

    /// A connect or login failed: clients still logging in get the error
    /// (the server's own, unchanged, when it sent one); clients already
    /// in wait for a retry after server-login-retry-ms.
    fn server_login_failed(&mut self, index: usize, error: StartupError, now: Instant) {
        let pool = &mut self.proxy.pools[index];
        pool.totals.server_login_failures += 1;
        let waiting = std::mem::take(&mut pool.login_waiting);
        pool.last_failure = Some((now, error.clone()));
        for (slot, generation) in waiting {
            if !self.is_live(slot, generation) {
                continue;
            }
            match &error {
                StartupError::Upstream(upstream) => self.fail_client_raw(slot, &upstream.raw),
                StartupError::Local(local) => self.fail_client(slot, local),
            }
        }
    }

    /// Handles every complete message in the server's input.
    fn server_messages(&mut self, slot: usize) {
        let server = self.proxy.servers[slot].as_mut().expect("live server");
        // Taken out while its messages are handled (they borrow it).
        let input = std::mem::take(&mut server.input);
        let mut pos = 0;
        let mut released = None;
        loop {
            let server = self.proxy.servers[slot].as_mut().expect("live server");
            let (tag, len) = match frame(&input[pos..], MAX_SERVER_MESSAGE_BYTES) {
                Ok(Some(framed)) => framed,
                Ok(None) => break,
                Err(_) => return self.server_lost(slot, "invalid message length from server"),
            };
            let message = &input[pos..pos + len];
            pos += len;
            let client = match server.state {
                ServerState::Active {
                    slot: c,
                    generation,
                } => self
                    .conns
                    .get_mut(c)
                    .and_then(Option::as_mut)
                    .filter(|conn| conn.generation == generation)
                    .map(|conn| (c, conn)),
                _ => None,
            };
            let Some((client_slot, conn)) = client else {
                // Idle or testing: only the pool's own queries answer.
                if matches!(server.state, ServerState::Idle) || server.expect.is_empty() {
                    if matches!(tag, b'N' | b'S') {
                        continue;
                    }
                    return self.server_lost(slot, "server sent data while idle");
                }
                match tag {
                    b'S' => note_parameter(server, None, message),
                    b'Z' => server.txn_status = message.get(5).copied().unwrap_or(b'E'),
                    b'E' => crate::log_warn!(
                        "pool query failed on a server of database \"{}\": {}",
                        self.proxy.pools[server.pool].database,
                        error_message(message)
                    ),
                    _ => {}
                }
                let outcome = server.expect.on_message(tag, &mut |_| {});
                if outcome.out_of_step {
                    return self.server_lost(slot, "server out of step with the pool");
                }
                if outcome.effects.is_some() {
                    // The reset query: the server is back to its defaults.
                    server.applied.clear();
                    server.params_fingerprint = None;
                }
                if outcome.ready && server.expect.is_empty() {
                    if pos < input.len() {
                        return self.server_lost(slot, "server sent data after ReadyForQuery");
                    }
                    if server.txn_status != b'I' {
                        return self
                            .server_lost(slot, "server left in a transaction by a pool query");
                    }
                    return self.server_idle(slot);
                }
                continue;
            };
            let client = conn.proxy.as_mut().expect("a pooled client");
            server
                .expect
                .emit_synthesized(&mut conn.output, server.txn_status);
            let hidden = server.expect.head_hidden();
            match tag {
                b'S' => note_parameter(server, Some(&mut *client), message),
                b'C' if !client.pending_effects.is_empty() => {
                    if message[5..].starts_with(b"COMMIT") {
                        server.ended_with_commit = Some(true);
                    } else if message[5..].starts_with(b"ROLLBACK") {
                        server.ended_with_commit = Some(false);
                    }
                }
                b'E' if hidden => {
                    // Its parameters are in doubt: not reused after this client.
                    server.close_needed = true;
                    crate::log_warn!(conn = conn.session.client_id;
                        "re-applying a client's parameters failed: {}", error_message(message))
                }
                _ => {}
            }
            let statements = &mut server.statements;
            let outcome = server
                .expect
                .on_message(tag, &mut |id| statements.remove(id));
            if outcome.out_of_step {
                return self.server_lost(slot, "server out of step with the pool");
            }
            if outcome.forward {
                conn.output.extend_from_slice(message);
                self.proxy.pools[client.pool].totals.bytes_sent += len as u64;
            }
            if let Some(effects) = outcome.effects {
                client.pending_effects.extend(effects.iter().cloned());
            }
            server
                .expect
                .emit_synthesized(&mut conn.output, server.txn_status);
            if tag != b'Z' {
                continue;
            }
            let status = message.get(5).copied().unwrap_or(b'E');
            server.txn_status = status;
            if status == b'I' {
                if !client.pending_effects.is_empty() {
                    if server.ended_with_commit != Some(false) {
                        let effects = std::mem::take(&mut client.pending_effects);
                        apply_effects(client, server, &effects);
                    }
                    client.pending_effects.clear();
                }
                server.ended_with_commit = None;
            }
            if !outcome.ready || !server.expect.is_empty() {
                continue;
            }
            let pool = &mut self.proxy.pools[client.pool];
            pool.totals.query_time_us += server.busy_since.elapsed().as_micros() as u64;
            if status == b'I' {
                pool.totals.xact_count += 1;
                pool.totals.xact_time_us += server.xact_started.elapsed().as_micros() as u64;
            }
            if status == b'I' && client.mode == PoolMode::Transaction && !server.close_needed {
                if pos < input.len() {
                    return self.server_lost(slot, "server sent data after ReadyForQuery");
                }
                client.server = None;
                released = Some(client_slot);
                break;
            }
        }
        if let Some(server) = self.proxy.servers[slot].as_mut() {
            let mut input = input;
            input.drain(..pos);
            // A server's read buffer is kept (there are at most pool_size
            // of them); only one a huge message grew is given back.
            if input.is_empty() && input.capacity() > 2 * super::READ_BUFFER_BYTES {
                input = Vec::new();
            }
            server.input = input;
        }
        let linked = match self.proxy.servers[slot].as_ref().map(|s| &s.state) {
            Some(ServerState::Active { slot, .. }) => Some(*slot),
            _ => None,
        };
        if let Some(client_slot) = released {
            // An idle client keeps no read buffer (there may be thousands).
            if let Some(conn) = self.conns[client_slot].as_mut() {
                if conn.input.is_empty() {
                    conn.input = Vec::new();
                }
            }
            self.flush_client(client_slot);
            self.server_idle(slot);
            // Requests it sent meanwhile go out on whatever server is free.
            if self.conns[client_slot]
                .as_ref()
                .is_some_and(|conn| !conn.input.is_empty())
            {
                self.proxy_client_input(client_slot);
                self.flush_client(client_slot);
            }
        } else if let Some(client_slot) = linked {
            self.flush_client(client_slot);
            self.update_server_interest(slot);
        }
    }

    /// The server is free: to the first waiting client, else back to the
    /// pool (or closed, when it is due or another worker needs capacity).
    fn server_idle(&mut self, slot: usize) {
        let now = Instant::now();
        let config = std::sync::Arc::clone(&self.current.config);
        let server = self.proxy.server(slot);
        server.state = ServerState::Idle;
        server.last_used = now;
        let index = server.pool;
        let too_old = config.server_lifetime_s > 0
            && now.saturating_duration_since(server.connected_at)
                > Duration::from_secs(config.server_lifetime_s);
        if server.close_needed || too_old {
            self.close_server(slot);
            return self.open_servers(index, now);
        }
        let pool = &mut self.proxy.pools[index];
        if !pool.db.paused.load(Relaxed) {
            while let Some((client_slot, generation)) = pool.waiting.pop_front() {
                let waiting = self.conns[client_slot]
                    .as_ref()
                    .filter(|conn| conn.generation == generation)
                    .and_then(|conn| conn.proxy.as_ref())
                    .is_some_and(|client| client.server.is_none());
                if !waiting {
                    continue;
                }
                self.link(client_slot, slot, now);
                self.proxy_client_input(client_slot);
                self.flush_client(client_slot);
                return;
            }
        }
        let pool = &mut self.proxy.pools[index];
        pool.db.set_waiting(self.id, false);
        if pool.db.others_waiting(self.id) {
            // Another worker's clients wait at the limit: hand it over.
            return self.close_server(slot);
        }
        pool.idle.push(slot);
        self.update_server_interest(slot);
    }

    /// The connection broke or spoke out of turn: closed, and its client
    /// (if linked) gets FATAL and is closed too, as PgBouncer does.
    fn server_lost(&mut self, slot: usize, why: &str) {
        let Some(server) = self.proxy.servers[slot].as_ref() else {
            return;
        };
        let pool = &self.proxy.pools[server.pool];
        crate::log_info!(
            "server connection to database \"{}\" closed: {why}",
            pool.database
        );
        let linked = match server.state {
            ServerState::Active { slot, generation } => Some((slot, generation)),
            _ => None,
        };
        let index = server.pool;
        let logging_in = matches!(
            server.state,
            ServerState::Connecting(_) | ServerState::Login(_)
        );
        self.drop_server(slot);
        if logging_in {
            let failure = StartupError::Local(pooler_error(format!("server login failed: {why}")));
            self.server_login_failed(index, failure, Instant::now());
        }
        if let Some((client_slot, generation)) = linked {
            if self.is_live(client_slot, generation) {
                if let Some(client) = self.conns[client_slot]
                    .as_mut()
                    .and_then(|c| c.proxy.as_mut())
                {
                    client.server = None;
                }
                let error = PgError::fatal(
                    sqlstate::CONNECTION_FAILURE,
                    format!("server connection lost: {why}"),
                );
                self.fail_client(client_slot, &error);
            }
        }
        self.open_servers(index, Instant::now());
    }

    /// Closes a server connection politely (Terminate) and forgets it.
    fn close_server(&mut self, slot: usize) {
        if let Some(server) = self.proxy.servers[slot].as_mut() {
            if matches!(server.state, ServerState::Idle) && server.pending_output_bytes() == 0 {
                let _ = send(&server.stream, &upstream_startup::TERMINATE);
            }
        }
        self.drop_server(slot);
    }

    /// Unregisters and frees a server slot, uncounting it.
    fn drop_server(&mut self, slot: usize) {
        let Some(server) = self.proxy.servers[slot].take() else {
            return;
        };
        let _ = self.poller.remove(server.stream.as_raw_fd());
        self.proxy.free_servers.push(slot);
        if matches!(server.state, ServerState::Cancel) {
            return; // never counted
        }
        let pool = &mut self.proxy.pools[server.pool];
        pool.servers -= 1;
        if matches!(
            server.state,
            ServerState::Connecting(_) | ServerState::Login(_)
        ) {
            pool.connecting -= 1;
        }
        pool.idle.retain(|&idle| idle != slot);
        pool.db.release();
    }

    /// Writes the server's pending output and keeps its interest in step.
    fn flush_server(&mut self, slot: usize) {
        let Some(server) = self.proxy.servers[slot].as_mut() else {
            return;
        };
        if matches!(server.state, ServerState::Connecting(_)) {
            return; // written once the connect completes
        }
        if let Err(error) = flush_server_output(server) {
            return self.server_lost(slot, &error.to_string());
        }
        self.update_server_interest(slot);
        // A client paused behind this server's output may go on.
        let linked = match self.proxy.servers[slot].as_ref().map(|s| &s.state) {
            Some(ServerState::Active { slot, generation }) => Some((*slot, *generation)),
            _ => None,
        };
        let drained = self.proxy.servers[slot]
            .as_ref()
            .is_some_and(|s| s.pending_output_bytes() <= BACKPRESSURE_BYTES);
        if let Some((client_slot, generation)) = linked {
            if drained && self.is_live(client_slot, generation) {
                let conn = self.conns[client_slot].as_ref().expect("live");
                if !conn.input.is_empty() && frame(&conn.input, usize::MAX).ok().flatten().is_some()
                {
                    self.proxy_client_input(client_slot);
                }
            }
        }
    }

    /// Read while its client keeps up; write interest while output waits.
    fn update_server_interest(&mut self, slot: usize) {
        let Some(server) = self.proxy.servers[slot].as_mut() else {
            return;
        };
        let client_backlog = match server.state {
            ServerState::Active { slot, generation } => self.conns[slot]
                .as_ref()
                .filter(|conn| conn.generation == generation)
                .map_or(0, |conn| conn.pending_output_bytes()),
            _ => 0,
        };
        let pause = client_backlog > BACKPRESSURE_BYTES;
        let write =
            server.pending_output_bytes() > 0 || matches!(server.state, ServerState::Connecting(_));
        if pause == server.read_paused && write == server.write_interest {
            return;
        }
        let interest = match (pause, write) {
            (false, false) => Interest::Read,
            (false, true) => Interest::ReadWrite,
            (true, true) => Interest::Write,
            (true, false) => Interest::None,
        };
        let token = server_token(slot, server.generation);
        if self
            .poller
            .modify(server.stream.as_raw_fd(), token, interest)
            .is_err()
        {
            return self.server_lost(slot, "epoll_ctl failed");
        }
        let resumed = server.read_paused && !pause;
        server.read_paused = pause;
        server.write_interest = write;
        if resumed && !server.input.is_empty() {
            self.server_messages(slot);
        }
    }

    /// A pooled client's socket: not read while its server is backed up.
    fn update_client_interest(&mut self, slot: usize) {
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let server_backlog = conn
            .proxy
            .as_ref()
            .and_then(|client| client.server)
            .and_then(|server| self.proxy.servers[server].as_ref())
            .map_or(0, |server| server.pending_output_bytes());
        let pause = server_backlog > BACKPRESSURE_BYTES;
        if pause == conn.read_paused {
            return;
        }
        conn.read_paused = pause;
        let interest = match (pause, conn.write_interest) {
            (false, false) => Interest::Read,
            (false, true) => Interest::ReadWrite,
            (true, true) => Interest::Write,
            (true, false) => Interest::None,
        };
        let token = (conn.generation as u64) << 32 | slot as u64;
        let _ = self.poller.modify(conn.stream.as_raw_fd(), token, interest);
    }

    /// Writes a client's output; a server paused behind it may go on.
    fn flush_client(&mut self, slot: usize) {
        if self.conns[slot].is_none() {
            return;
        }
        self.flush_and_settle(slot);
        self.after_client_flush(slot);
    }

    /// After a pooled client's output moved: resumes its paused server.
    pub(super) fn after_client_flush(&mut self, slot: usize) {
        let server = self.conns[slot]
            .as_ref()
            .and_then(|conn| conn.proxy.as_ref())
            .and_then(|client| client.server);
        if let Some(server_slot) = server {
            if self.proxy.servers[server_slot]
                .as_ref()
                .is_some_and(|s| s.read_paused)
            {
                self.update_server_interest(server_slot);
            }
        }
    }

    // ---- a client leaves ----

    /// The pooled client `client` (its connection already closed) leaves:
    /// its server is cleaned up for the next client, or closed when it
    /// was in the middle of something.
    pub(super) fn proxy_client_gone(&mut self, slot: usize, client: &ProxyClient) {
        let pool = &mut self.proxy.pools[client.pool];
        pool.clients -= 1;
        pool.waiting.retain(|&(waiting, _)| waiting != slot);
        pool.login_waiting.retain(|&(waiting, _)| waiting != slot);
        let Some(server_slot) = client.server else {
            return;
        };
        let config = std::sync::Arc::clone(&self.current.config);
        let server = self.proxy.server(server_slot);
        if !server.expect.is_empty() || server.pending_output_bytes() > 0 {
            // A query or COPY in flight: never handed on dirty.
            return self.drop_server(server_slot);
        }
        server.state = ServerState::Testing;
        if server.txn_status != b'I' {
            push_query(&mut server.output, "ROLLBACK");
            server.expect.push(Reply::Query {
                hidden: true,
                effects: None,
                failed: false,
            });
        }
        let reset = client.mode == PoolMode::Session || config.server_reset_query_always;
        if reset && !config.server_reset_query.is_empty() {
            push_query(&mut server.output, &config.server_reset_query);
            server.expect.push(Reply::Query {
                hidden: true,
                effects: Some(Rc::from(vec![Effect::ResetAll])),
                failed: false,
            });
            let lowered = config.server_reset_query.to_ascii_lowercase();
            if lowered.contains("discard all") || lowered.contains("deallocate all") {
                server.statements.clear();
            }
        }
        if server.expect.is_empty() {
            return self.server_idle(server_slot);
        }
        self.flush_server(server_slot);
    }

    // ---- timers ----

    /// The pools' housekeeping, every cron tick: clients waiting too long,
    /// connections to open, idle ones to close.
    pub(super) fn proxy_cron(&mut self, now: Instant) {
        if self.current.config.databases.is_empty() && self.proxy.pools.is_empty() {
            return;
        }
        self.ensure_pools();
        let config = std::sync::Arc::clone(&self.current.config);
        let wait_limit = Duration::from_secs(config.query_wait_timeout_s);
        for index in 0..self.proxy.pools.len() {
            // Clients past query_wait_timeout.
            if config.query_wait_timeout_s > 0 {
                let expired: Vec<ClientRef> = self.proxy.pools[index]
                    .waiting
                    .iter()
                    .chain(self.proxy.pools[index].login_waiting.iter())
                    .copied()
                    .filter(|&(slot, generation)| {
                        self.conns[slot]
                            .as_ref()
                            .filter(|conn| conn.generation == generation)
                            .is_some_and(|conn| {
                                now.saturating_duration_since(
                                    conn.proxy
                                        .as_ref()
                                        .and_then(|c| c.waiting_since)
                                        .unwrap_or(conn.session.last_interaction),
                                ) > wait_limit
                            })
                    })
                    .collect();
                for (slot, _) in expired {
                    self.fail_client(slot, &pooler_error("query_wait_timeout"));
                }
            }
            let pool = &mut self.proxy.pools[index];
            pool.waiting.retain(|&(slot, generation)| {
                self.conns[slot]
                    .as_ref()
                    .is_some_and(|conn| conn.generation == generation)
            });
            // Logins waiting for a server another worker opened.
            if !pool.login_waiting.is_empty() && pool.db.welcome().is_some() {
                for (slot, generation) in std::mem::take(&mut pool.login_waiting) {
                    if self.is_live(slot, generation) {
                        self.finish_login(slot);
                    }
                }
            }
            // Waiting clients: a server freed elsewhere, RESUME, a retry.
            let pool = &mut self.proxy.pools[index];
            if !pool.waiting.is_empty() && !pool.db.paused.load(Relaxed) {
                if let Some(server_slot) = pool.idle.pop() {
                    self.server_idle(server_slot);
                }
            }
            self.open_servers(index, now);
            self.expire_servers(index, now, &config);
        }
        // Connects and logins past server-connect-timeout-ms.
        let connect_limit = Duration::from_millis(config.server_connect_timeout_ms);
        for slot in 0..self.proxy.servers.len() {
            let late = self.proxy.servers[slot].as_ref().is_some_and(|server| {
                matches!(
                    server.state,
                    ServerState::Connecting(_) | ServerState::Login(_) | ServerState::Cancel
                ) && now.saturating_duration_since(server.connected_at) > connect_limit
            });
            if late {
                self.server_lost(slot, "server-connect-timeout-ms reached");
            }
        }
    }

    /// Closes idle servers past server-idle-timeout-s or server-lifetime-s
    /// (keeping min_pool_size), and hands idle ones to other workers that
    /// wait at the limit.
    fn expire_servers(&mut self, index: usize, now: Instant, config: &crate::config::Config) {
        let pool = &self.proxy.pools[index];
        let min_size = pool.config.min_pool_size.unwrap_or(config.min_pool_size);
        let mut handover = if pool.db.others_waiting(self.id) && pool.waiting.is_empty() {
            HANDOVER_PER_TICK
        } else {
            0
        };
        let idle: Vec<usize> = pool.idle.clone();
        for slot in idle {
            let server = self.proxy.server(slot);
            let idle_for = now.saturating_duration_since(server.last_used);
            let age = now.saturating_duration_since(server.connected_at);
            let idle_expired = config.server_idle_timeout_s > 0
                && idle_for > Duration::from_secs(config.server_idle_timeout_s)
                && self.proxy.pools[index].db.servers.load(Relaxed) > min_size;
            let too_old =
                config.server_lifetime_s > 0 && age > Duration::from_secs(config.server_lifetime_s);
            if idle_expired || too_old || handover > 0 {
                handover = handover.saturating_sub(1);
                self.close_server(slot);
            }
        }
    }

    // ---- cancel, admin ----

    /// A CancelRequest for the pooled client on `slot`: sent upstream to
    /// the backend serving it, on a connection of its own.
    pub(super) fn proxy_cancel(&mut self, slot: usize) {
        let Some(server_slot) = self.conns[slot]
            .as_ref()
            .and_then(|conn| conn.proxy.as_ref())
            .and_then(|client| client.server)
        else {
            return; // not running anything: nothing to cancel
        };
        let server = self.proxy.server(server_slot);
        let Some(key) = server.key else {
            return;
        };
        let (addr, index) = (server.addr, server.pool);
        let Ok(stream) = connect_nonblocking(addr) else {
            return;
        };
        let slot = self.proxy.free_servers.pop().unwrap_or_else(|| {
            self.proxy.servers.push(None);
            self.proxy.servers.len() - 1
        });
        let generation = (slot as u32).wrapping_mul(2654435761) ^ 0x5a5a;
        if self
            .poller
            .add(
                stream.as_raw_fd(),
                server_token(slot, generation),
                Interest::ReadWrite,
            )
            .is_err()
        {
            self.proxy.free_servers.push(slot);
            return;
        }
        let now = Instant::now();
        self.proxy.servers[slot] = Some(Server::new(
            0,
            stream,
            addr,
            generation,
            index,
            ServerState::Cancel,
            upstream_startup::cancel_request(key).to_vec(),
            now,
        ));
    }

    /// This worker's pools and servers, for the admin console.
    pub(super) fn pool_snapshot(&self) -> WorkerPools {
        let now = Instant::now();
        let mut snapshot = WorkerPools {
            worker: self.id,
            ..WorkerPools::default()
        };
        for (index, pool) in self.proxy.pools.iter().enumerate() {
            let mut row = PoolRow {
                database: pool.database.clone(),
                user: pool.user.clone(),
                pool_mode: pool.mode,
                cl_active: pool.clients.saturating_sub(pool.waiting.len()),
                cl_waiting: pool.waiting.len() + pool.login_waiting.len(),
                sv_active: 0,
                sv_idle: 0,
                sv_used: 0,
                sv_tested: 0,
                sv_login: 0,
                maxwait_us: 0,
                totals: pool.totals,
            };
            for &(slot, generation) in &pool.waiting {
                if let Some(since) = self.conns[slot]
                    .as_ref()
                    .filter(|conn| conn.generation == generation)
                    .and_then(|conn| conn.proxy.as_ref()?.waiting_since)
                {
                    let waited = now.saturating_duration_since(since).as_micros() as u64;
                    row.maxwait_us = row.maxwait_us.max(waited);
                }
            }
            for server in self.proxy.servers.iter().flatten() {
                if server.pool != index || matches!(server.state, ServerState::Cancel) {
                    continue;
                }
                match server.state {
                    ServerState::Active { .. } => row.sv_active += 1,
                    ServerState::Idle => row.sv_idle += 1,
                    ServerState::Testing => row.sv_tested += 1,
                    ServerState::Connecting(_) | ServerState::Login(_) => row.sv_login += 1,
                    ServerState::Cancel => {}
                }
                let local = server.stream.local_addr().ok();
                snapshot.servers.push(ServerRow {
                    id: server.id,
                    database: pool.database.clone(),
                    user: pool.user.clone(),
                    state: server.state.name(),
                    addr: server.addr.ip().to_string(),
                    port: server.addr.port(),
                    local_addr: local.map(|a| a.ip().to_string()).unwrap_or_default(),
                    local_port: local.map_or(0, |a| a.port()),
                    connect_time_unix_s: server.connected_unix_s,
                    request_time_unix_s: server.connected_unix_s
                        + server
                            .last_used
                            .saturating_duration_since(server.connected_at)
                            .as_secs() as i64,
                    link_client_id: match server.state {
                        ServerState::Active { slot, generation } => self.conns[slot]
                            .as_ref()
                            .filter(|conn| conn.generation == generation)
                            .map(|conn| conn.session.client_id),
                        _ => None,
                    },
                    remote_pid: server.key.map_or(0, |key| key.process_id),
                    application_name: server
                        .reported_value("application_name")
                        .unwrap_or_default()
                        .to_string(),
                    prepared_statements: server.statements.len(),
                });
            }
            snapshot.pools.push(row);
        }
        snapshot
    }

    /// KILL db on this worker: its clients and servers are closed now.
    pub(super) fn pool_kill(&mut self, database: &str) {
        for slot in 0..self.conns.len() {
            let pooled_here = self.conns[slot]
                .as_ref()
                .and_then(|conn| conn.proxy.as_ref())
                .is_some_and(|client| self.proxy.pools[client.pool].database == database);
            if pooled_here {
                let error = PgError::fatal(
                    sqlstate::ADMIN_SHUTDOWN,
                    "database removed by the admin console (KILL)",
                );
                self.fail_client(slot, &error);
            }
        }
        for slot in 0..self.proxy.servers.len() {
            let on_db = self.proxy.servers[slot]
                .as_ref()
                .is_some_and(|server| self.proxy.pools[server.pool].database == database);
            if on_db {
                self.close_server(slot);
            }
        }
    }

    /// PAUSE / RESUME / KILL from the console on this worker: the flags
    /// are process-wide; KILL reaches every worker.
    pub(super) fn run_pool_command(&mut self, command: &PoolCommand) -> Result<(), PgError> {
        let databases: Vec<&DatabaseConfig> = self.current.config.databases.iter().collect();
        crate::pg::admin::check_pool_command(command, &self.current.config.databases)?;
        let (target, paused) = match command {
            PoolCommand::Pause(target) => (target.clone(), true),
            PoolCommand::Resume(target) => (target.clone(), false),
            PoolCommand::Kill(name) => (Some(name.clone()), true),
        };
        let names: Vec<String> = match &target {
            Some(name) => vec![name.clone()],
            None => databases.iter().map(|db| db.name.clone()).collect(),
        };
        for name in &names {
            self.shared.pools.db(name).paused.store(paused, Relaxed);
        }
        if let PoolCommand::Kill(name) = command {
            self.pool_kill(name);
            self.ask_peers(|reply| super::Control::PoolKill {
                database: name.clone(),
                reply,
            });
        }
        Ok(())
    }
}

/// Forwards one client message to its server, as pooling requires.
fn forward_message(
    client: &mut ProxyClient,
    server: &mut Server,
    registry: &mut crate::pool::statements::StatementRegistry,
    max_prepared: usize,
    tag: u8,
    message: &[u8],
) {
    let body = &message[5..];
    let transaction_mode = client.mode == PoolMode::Transaction;
    let out = &mut server.output;
    match tag {
        b'Q' => {
            let text = std::str::from_utf8(cstr(body).map_or(body, |(text, _)| text)).unwrap_or("");
            if transaction_mode && max_prepared > 0 {
                if let Some(tag) = deallocate(client, text) {
                    return server.expect.push(Reply::Answer(tag));
                }
            }
            let mut effects = None;
            if transaction_mode && session_state::may_have_effect(text) {
                let found = session_state::effects(text);
                if let Some(Effect::Refused(why)) =
                    found.iter().find(|e| matches!(e, Effect::Refused(_)))
                {
                    push_query(out, &refusal_query(why));
                    server.expect.push(Reply::Query {
                        hidden: false,
                        effects: None,
                        failed: false,
                    });
                    return;
                }
                effects = (!found.is_empty()).then(|| Rc::from(found));
            }
            out.extend_from_slice(message);
            server.expect.push(Reply::Query {
                hidden: false,
                effects,
                failed: false,
            });
        }
        b'P' => {
            let Some((name, rest)) = cstr(body) else {
                out.extend_from_slice(message);
                return server.expect.push(Reply::Parse {
                    hidden: false,
                    statement: None,
                });
            };
            let (effects, rest) = parse_body(rest, transaction_mode);
            let rest = &rest[..];
            if name.is_empty() || max_prepared == 0 || !transaction_mode {
                if name.is_empty() {
                    client.unnamed_effects = effects;
                }
                push_message(out, b'P', &[name, b"\0", rest]);
                return server.expect.push(Reply::Parse {
                    hidden: false,
                    statement: None,
                });
            }
            let def = registry.intern(rest, || effects);
            let name: Box<str> = String::from_utf8_lossy(name).into();
            client.statements.insert(name, Rc::clone(&def));
            if server.statements.touch(def.id) {
                server.expect.push(Reply::Synth(b'1'));
                return;
            }
            def.parse_message(out);
            server.expect.push(Reply::Parse {
                hidden: false,
                statement: Some(def.id),
            });
            evict_if_full(server, def.id, max_prepared);
        }
        b'B' | b'D' => {
            // Bind: portal, statement. Describe: 'S' or 'P', name.
            let (first, rest) = if tag == b'B' {
                match cstr(body) {
                    Some((portal, rest)) => (portal, rest),
                    None => (&body[..0], body),
                }
            } else {
                (&body[..body.len().min(1)], &body[body.len().min(1)..])
            };
            let statement_named = tag == b'B' || first == b"S";
            let (name, after) = cstr(rest).unwrap_or((&rest[..0], rest));
            let def = (statement_named && !name.is_empty() && transaction_mode && max_prepared > 0)
                .then(|| {
                    std::str::from_utf8(name)
                        .ok()
                        .and_then(|name| client.statements.get(name))
                        .cloned()
                })
                .flatten();
            if tag == b'B' && transaction_mode {
                let effects = match &def {
                    Some(def) => def.effects.clone(),
                    None if name.is_empty() => client.unnamed_effects.clone(),
                    None => None,
                };
                let portal: Box<str> = String::from_utf8_lossy(first).into();
                match effects {
                    Some(effects) => {
                        client.portal_effects.insert(portal, effects);
                    }
                    None if !client.portal_effects.is_empty() => {
                        client.portal_effects.remove(&portal);
                    }
                    None => {}
                }
            }
            match def {
                Some(def) => {
                    if !server.statements.touch(def.id) {
                        def.parse_message(out);
                        server.expect.push(Reply::Parse {
                            hidden: true,
                            statement: Some(def.id),
                        });
                        evict_if_full(server, def.id, max_prepared);
                    }
                    let renamed = server_name(def.id);
                    let out = &mut server.output;
                    if tag == b'B' {
                        push_message(out, b'B', &[first, b"\0", renamed.as_bytes(), b"\0", after]);
                    } else {
                        push_message(out, b'D', &[b"S", renamed.as_bytes(), b"\0"]);
                    }
                }
                None => out.extend_from_slice(message),
            }
            server.expect.push(match (tag, statement_named) {
                (b'B', _) => Reply::Bind,
                (_, true) => Reply::DescribeStatement,
                _ => Reply::DescribePortal,
            });
        }
        b'E' => {
            let effects = if client.portal_effects.is_empty() {
                None
            } else {
                cstr(body)
                    .and_then(|(portal, _)| std::str::from_utf8(portal).ok())
                    .and_then(|portal| client.portal_effects.get(portal).cloned())
            };
            out.extend_from_slice(message);
            server.expect.push(Reply::Execute { effects });
        }
        b'C' => {
            let kind = body.first().copied();
            let name = cstr(&body[body.len().min(1)..]).map_or(&body[..0], |(name, _)| name);
            if kind == Some(b'S') && !name.is_empty() && transaction_mode && max_prepared > 0 {
                // The server keeps it for other clients; answered here.
                if let Ok(name) = std::str::from_utf8(name) {
                    client.statements.remove(name);
                }
                return server.expect.push(Reply::Synth(b'3'));
            }
            out.extend_from_slice(message);
            server.expect.push(Reply::Close { hidden: false });
        }
        b'S' => {
            out.extend_from_slice(message);
            server.expect.push_sync();
        }
        b'c' | b'f' => {
            out.extend_from_slice(message);
            server.expect.copy_end_sent();
        }
        b'F' => {
            out.extend_from_slice(message);
            server.expect.push(Reply::Query {
                hidden: false,
                effects: None,
                failed: false,
            });
        }
        // Flush, COPY data, and anything else: the server answers (or
        // complains) itself.
        _ => out.extend_from_slice(message),
    }
}

/// `DEALLOCATE [PREPARE] {name | ALL}` of the client's named statements
/// (transaction mode): they are the client's names, not the server's, so
/// the pool forgets them and answers itself. The CommandComplete tag, or
/// None for any other query.
fn deallocate(client: &mut ProxyClient, query: &str) -> Option<&'static str> {
    let text = query.trim().trim_end_matches(';').trim_end();
    let head = text.get(..10)?;
    if !head.eq_ignore_ascii_case("deallocate") {
        return None;
    }
    let mut words = text[10..].split_whitespace();
    let mut name = words.next()?;
    if name.eq_ignore_ascii_case("prepare") {
        name = words.next()?;
    }
    if words.next().is_some() {
        return None; // not a form we know: the server decides
    }
    if name.eq_ignore_ascii_case("all") {
        client.statements.clear();
        return Some("DEALLOCATE ALL");
    }
    let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => name.to_ascii_lowercase(),
    };
    // Unknown names are left to the server, which reports them.
    client.statements.remove(name.as_str())?;
    Some("DEALLOCATE")
}

/// What a Parse body (after the name) defines: its session effects in
/// transaction mode, and the body to send: a refused statement is
/// prepared as the DO block that refuses it.
fn parse_body(rest: &[u8], transaction_mode: bool) -> (Option<Rc<[Effect]>>, Cow<'_, [u8]>) {
    let text = cstr(rest)
        .and_then(|(text, _)| std::str::from_utf8(text).ok())
        .unwrap_or("");
    if !transaction_mode || !session_state::may_have_effect(text) {
        return (None, Cow::Borrowed(rest));
    }
    let found = session_state::effects(text);
    let refused = found.iter().find_map(|effect| match effect {
        Effect::Refused(why) => Some(refusal_query(why)),
        _ => None,
    });
    let effects = (!found.is_empty()).then(|| Rc::<[Effect]>::from(found));
    match refused {
        Some(query) => {
            let mut body = query.into_bytes();
            body.extend_from_slice(b"\0\0\0");
            (effects, Cow::Owned(body))
        }
        None => (effects, Cow::Borrowed(rest)),
    }
}

/// Past max-prepared-statements, closes the server's least recently used
/// statement (its CloseComplete hidden).
fn evict_if_full(server: &mut Server, id: u64, max_prepared: usize) {
    if let Some(evicted) = server.statements.insert(id, max_prepared) {
        let name = server_name(evicted);
        push_message(&mut server.output, b'C', &[b"S", name.as_bytes(), b"\0"]);
        server.expect.push(Reply::Close { hidden: true });
    }
}

/// The SETs (and RESETs) that make `server` match what `client` wants:
/// its own parameters, and the pool's defaults for the reported ones it
/// did not set. Empty when they already match. The server's unreported
/// parameters are recorded as set (if that fails, the server is closed
/// after this client).
fn parameter_sets(
    client: &ProxyClient,
    server: &mut Server,
    welcome: &[(String, String)],
) -> String {
    let mut statements = Vec::new();
    for (key, (name, value)) in &client.params {
        let matches = match server.reported.get(key) {
            Some((_, current)) => matches!(value, ParamValue::Literal(v) if v == current),
            None => server.applied.get(key) == Some(value),
        };
        if !matches {
            statements.push(session_state::set_statement(name, Some(value)));
            if !server.reported.contains_key(key) {
                server.applied.insert(key.clone(), value.clone());
            }
        }
    }
    for (key, (name, current)) in &server.reported {
        if client.params.contains_key(key) {
            continue;
        }
        if let Some((_, default)) = welcome.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            if default != current {
                let value = ParamValue::Literal(default.clone());
                statements.push(session_state::set_statement(name, Some(&value)));
            }
        }
    }
    server.applied.retain(|key, _| {
        let wanted = client.params.contains_key(key);
        if !wanted {
            statements.push(session_state::set_statement(key, None));
        }
        wanted
    });
    statements.join("; ")
}

/// A ParameterStatus from the server: its value now, and the client's
/// (it learns the server's spelling of what it set).
fn note_parameter(server: &mut Server, client: Option<&mut ProxyClient>, message: &[u8]) {
    let Some((name, rest)) = cstr(&message[5..]) else {
        return;
    };
    let value = cstr(rest).map_or(rest, |(value, _)| value);
    let name = String::from_utf8_lossy(name).into_owned();
    let value = String::from_utf8_lossy(value).into_owned();
    let key = name.to_ascii_lowercase();
    if let Some(client) = client {
        client.params.insert(
            key.clone(),
            (name.clone(), ParamValue::Literal(value.clone())),
        );
        client.refresh_fingerprint();
    }
    server.params_fingerprint = None;
    server.applied.remove(&key);
    server.reported.insert(key, (name, value));
}

/// Records SET / RESET effects that now stand, on both sides.
fn apply_effects(client: &mut ProxyClient, server: &mut Server, effects: &[Effect]) {
    server.params_fingerprint = None;
    for effect in effects {
        match effect {
            Effect::Set { name, value } => {
                if server.reported.contains_key(name) {
                    continue; // ParameterStatus told us already
                }
                match value {
                    Some(value) => {
                        client
                            .params
                            .insert(name.clone(), (name.clone(), value.clone()));
                        server.applied.insert(name.clone(), value.clone());
                    }
                    None => {
                        client.params.remove(name);
                        server.applied.remove(name);
                    }
                }
            }
            Effect::ResetAll => {
                client.params = client.startup_params.clone();
                server.applied.clear();
                server.statements.clear();
            }
            Effect::None | Effect::Refused(_) => {}
        }
    }
    client.refresh_fingerprint();
}

/// The message text of an ErrorResponse, for the log.
fn error_message(message: &[u8]) -> String {
    let mut fields = &message[5..];
    while let Some((&kind, rest)) = fields.split_first() {
        let Some((value, after)) = cstr(rest) else {
            break;
        };
        if kind == b'M' {
            return String::from_utf8_lossy(value).into_owned();
        }
        fields = after;
    }
    String::new()
}

/// Whether a pooled client has nothing in flight (a drain may close it,
/// an idle timeout may apply): no server, or one that owes nothing outside
/// a transaction. True for any other connection.
pub(super) fn pooled_client_quiescent(conn: &Conn, servers: &[Option<Server>]) -> bool {
    let Some(client) = &conn.proxy else {
        return true;
    };
    match client.server {
        None => client.waiting_since.is_none(),
        Some(slot) => servers[slot].as_ref().is_none_or(Server::is_clean),
    }
}

fn server_token(slot: usize, generation: u32) -> u64 {
    (generation as u64) << 32 | SERVER_TOKEN | slot as u64
}

/// A TCP connect that completes later (EPOLLOUT), TCP_NODELAY set.
fn connect_nonblocking(addr: std::net::SocketAddr) -> io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(error) => return Err(error),
    }
    Ok(socket.into())
}

/// Writes as much of the server's pending output as the socket takes.
fn flush_server_output(server: &mut Server) -> io::Result<()> {
    while server.output_sent < server.output.len() {
        match send(&server.stream, &server.output[server.output_sent..]) {
            Ok(n) => server.output_sent += n,
            Err(error) if would_block(&error) => break,
            Err(error) => return Err(error),
        }
    }
    if server.output_sent == server.output.len() {
        server.output.clear();
        server.output_sent = 0;
        if server.output.capacity() > super::KEEP_BUFFER_BYTES {
            server.output = Vec::new();
        }
    }
    Ok(())
}
