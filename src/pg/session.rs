//! One PostgreSQL session: startup and authentication, then the simple and
//! extended query protocols over the kv table, run to completion inside
//! the worker's loop.
//!
//! The worker hands the session whatever input it has; the session frames
//! messages, answers into the output buffer, and reports how many bytes it
//! used. A session parks (`pg_sleep`) without blocking the worker: input
//! then waits until the deadline or a CancelRequest.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::auth::{self, ScramServer, Secret};
use super::catalog::{self, SessionView};
use super::error::{sqlstate, PgError, Severity};
use super::exec::{self, Access, CopyIn, CopyOutFormat, RowSource};
use super::params::Params;
use super::protocol::{self, Field, Framed, Reader, TxnStatus, Writer};
use super::sql::{self, OutputColumn, Scalar, SqlType, Statement};
use super::txn::{serialization_failure, PgTxn};
use super::types::{self, Format};
use crate::config::PgAuthMethod;
use crate::engine::EngineWorker;

/// Messages before authentication completes are small.
const MAX_AUTH_MESSAGE_BYTES: usize = 16 * 1024;
/// Autocommit statements retried after a write conflict before 40001.
const AUTOCOMMIT_RETRIES: usize = 8;
/// Longest pg_sleep.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// What the worker must do for the session after it used some input.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Keep serving; feed more input when it arrives.
    Continue,
    /// More bytes are needed for the message at the front (its full size,
    /// when known).
    NeedInput(Option<usize>),
    /// Parked until this instant (or a cancel); do not feed input.
    Parked(Instant),
    /// Close once the output is written.
    Close,
    /// A CancelRequest connection: route it, then close.
    Cancel { pid: i32, secret: i32 },
}

/// Settings the worker passes in (from the server config).
pub struct Limits<'a> {
    pub max_message_bytes: usize,
    pub max_prepared_statements: usize,
    pub max_portals: usize,
    pub auth_method: PgAuthMethod,
    pub users: &'a HashMap<String, Secret>,
}

enum Phase {
    Startup,
    Md5 { salt: [u8; 4] },
    ScramFirst(ScramServer),
    ScramFinal(ScramServer),
    Ready,
}

enum TxnState {
    Idle,
    /// Implicit: a multi-statement Query, or extended messages up to Sync.
    Implicit(PgTxn),
    Block(PgTxn),
    /// A block after an error: only ROLLBACK [TO] and COMMIT run.
    Failed(PgTxn),
}

/// A parsed statement (one per prepared statement).
struct Prepared {
    text: String,
    statement: Statement,
    param_types: Vec<u32>,
    /// Result columns (`None`: no rows, NoData).
    fields: Option<Vec<Field>>,
}

enum PortalState {
    NotRun,
    Rows(RowSource),
    /// A general-path result, sent in pieces.
    Materialized {
        rows: std::collections::VecDeque<Vec<Option<String>>>,
        tag: String,
    },
    Done(String),
}

struct Portal {
    prepared: Rc<Prepared>,
    params: Vec<Option<Vec<u8>>>,
    result_formats: Vec<Format>,
    state: PortalState,
}

/// What a parked session resumes.
struct Parked {
    until: Instant,
    /// Statements of a simple Query still to run afterwards (None: the
    /// park came from Execute).
    rest: Option<Vec<sql::Parsed>>,
    query: Rc<str>,
    /// The Query had several statements (implicit transaction).
    multi: bool,
}

/// A COPY FROM STDIN in progress.
struct CopyInState {
    copy: CopyIn,
    /// Whether it came from a simple Query (then ReadyForQuery follows).
    simple: bool,
}

pub struct PgSession {
    pub client_id: u64,
    /// BackendKeyData: the process id (which also names the worker) and
    /// the secret a CancelRequest must quote.
    pub pid: i32,
    pub secret: i32,
    peer_loopback: bool,
    peer_ip: String,
    phase: Phase,
    pub user: String,
    pub database: String,
    params: Params,
    txn: TxnState,
    statements: HashMap<String, Rc<Prepared>>,
    portals: HashMap<String, Portal>,
    /// After an error in the extended protocol: ignore until Sync.
    skip_until_sync: bool,
    copy_in: Option<CopyInState>,
    parked: Option<Parked>,
    /// A CancelRequest this connection carried, for the worker to route.
    pub cancel_request: Option<(i32, i32)>,
    /// Reported parameters as the client last heard them.
    reported: Vec<(&'static str, String)>,
}

/// Everything a message needs from the worker.
pub struct Ctx<'a> {
    pub worker: &'a mut EngineWorker,
    pub out: &'a mut Vec<u8>,
    pub limits: &'a Limits<'a>,
}

impl PgSession {
    pub fn new(
        client_id: u64,
        pid: i32,
        secret: i32,
        peer: Option<std::net::SocketAddr>,
    ) -> PgSession {
        PgSession {
            client_id,
            pid,
            secret,
            peer_loopback: peer.is_some_and(|p| p.ip().is_loopback()),
            peer_ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            phase: Phase::Startup,
            user: String::new(),
            database: String::new(),
            params: Params::default(),
            txn: TxnState::Idle,
            statements: HashMap::new(),
            portals: HashMap::new(),
            skip_until_sync: false,
            copy_in: None,
            parked: None,
            cancel_request: None,
            reported: Vec::new(),
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    pub fn parked_until(&self) -> Option<Instant> {
        self.parked.as_ref().map(|p| p.until)
    }

    /// Frames and runs messages at the front of `input`; returns the bytes
    /// used and what to do next.
    pub fn handle(&mut self, input: &[u8], ctx: &mut Ctx<'_>) -> (usize, Next) {
        let mut pos = 0;
        loop {
            if self.parked.is_some() {
                let until = self.parked_until().expect("parked");
                return (pos, Next::Parked(until));
            }
            if matches!(self.phase, Phase::Startup) {
                match protocol::frame_startup(&input[pos..]) {
                    Ok(None) => return (pos, Next::NeedInput(None)),
                    Ok(Some((body, used))) => {
                        pos += used;
                        match self.startup(body, ctx) {
                            Next::Continue => continue,
                            other => return (pos, other),
                        }
                    }
                    Err(error) => return (pos, self.fatal(ctx, &error)),
                }
            }
            let max = if self.is_ready() {
                ctx.limits.max_message_bytes
            } else {
                MAX_AUTH_MESSAGE_BYTES.min(ctx.limits.max_message_bytes)
            };
            match protocol::frame_message(&input[pos..], max) {
                Ok(Framed::Incomplete { needed_bytes }) => {
                    return (pos, Next::NeedInput(needed_bytes))
                }
                Ok(Framed::Message {
                    tag,
                    body,
                    consumed,
                }) => {
                    pos += consumed;
                    match self.message(tag, body, ctx) {
                        Next::Continue => {}
                        other => return (pos, other),
                    }
                }
                Err(error) => return (pos, self.fatal(ctx, &error)),
            }
        }
    }

    fn fatal(&mut self, ctx: &mut Ctx<'_>, error: &PgError) -> Next {
        let mut error = error.clone();
        error.severity = Severity::Fatal;
        Writer { out: ctx.out }.error(&error);
        Next::Close
    }

    // ---- startup and authentication ----

    fn startup(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        let mut reader = Reader::new(body);
        let Ok(code) = reader.i32().map(|c| c as u32) else {
            return self.fatal(
                ctx,
                &PgError::fatal(sqlstate::PROTOCOL_VIOLATION, "invalid startup packet"),
            );
        };
        match code {
            protocol::SSL_REQUEST_CODE | protocol::GSSENC_REQUEST_CODE => {
                // No TLS or GSSAPI yet: the client goes on in plaintext.
                ctx.out.push(b'N');
                return Next::Continue;
            }
            protocol::CANCEL_REQUEST_CODE => {
                return match (reader.i32(), reader.i32()) {
                    (Ok(pid), Ok(secret)) => Next::Cancel { pid, secret },
                    _ => Next::Close,
                };
            }
            _ => {}
        }
        if code >> 16 != 3 {
            let error = PgError::fatal(
                sqlstate::FEATURE_NOT_SUPPORTED,
                format!(
                    "unsupported frontend protocol {}.{}: server supports 3.0 to 3.0",
                    code >> 16,
                    code & 0xffff
                ),
            );
            return self.fatal(ctx, &error);
        }
        let mut options = Vec::new();
        let mut unrecognized = Vec::new();
        loop {
            let name = match reader.cstr() {
                Ok("") => break,
                Ok(name) => name,
                Err(error) => return self.fatal(ctx, &error),
            };
            let value = match reader.cstr() {
                Ok(value) => value,
                Err(error) => return self.fatal(ctx, &error),
            };
            match name {
                "user" => self.user = value.to_string(),
                "database" => self.database = value.to_string(),
                "replication" if !matches!(value, "false" | "off" | "0" | "no") => {
                    let error = PgError::fatal(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        "replication connections are not supported",
                    );
                    return self.fatal(ctx, &error);
                }
                "replication" => {}
                "options" => match command_line_options(value) {
                    Ok(pairs) => options.extend(pairs),
                    Err(error) => return self.fatal(ctx, &error),
                },
                _ if name.starts_with("_pq_.") => unrecognized.push(name.to_string()),
                _ => options.push((name.to_string(), value.to_string())),
            }
        }
        if code & 0xffff != 0 || !unrecognized.is_empty() {
            let names: Vec<&str> = unrecognized.iter().map(String::as_str).collect();
            Writer { out: ctx.out }.negotiate_protocol_version(0, &names);
        }
        if self.user.is_empty() {
            let error = PgError::fatal(
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                "no PostgreSQL user name specified in startup packet",
            );
            return self.fatal(ctx, &error);
        }
        if self.database.is_empty() {
            self.database = self.user.clone();
        }
        match Params::for_login(&self.user, &options) {
            Ok(params) => self.params = params,
            Err(error) => return self.fatal(ctx, &error),
        }
        self.choose_authentication(ctx)
    }

    /// pg_hba, in short: configured users authenticate by the configured
    /// method; with no users, loopback is trusted; nobody else gets in.
    fn choose_authentication(&mut self, ctx: &mut Ctx<'_>) -> Next {
        let users = ctx.limits.users;
        let no_entry = || {
            PgError::fatal(
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                format!(
                    "no pg_hba.conf entry for host \"{}\", user \"{}\", database \"{}\", no encryption",
                    self.peer_ip, self.user, self.database
                ),
            )
        };
        if users.is_empty() || ctx.limits.auth_method == PgAuthMethod::Trust {
            if !self.peer_loopback {
                return self.fatal(ctx, &no_entry());
            }
            return self.login(ctx);
        }
        let secret = users.get(&self.user);
        // md5 with a SCRAM verifier upgrades to SCRAM, as PostgreSQL does.
        let use_md5 =
            ctx.limits.auth_method == PgAuthMethod::Md5 && secret.is_none_or(Secret::supports_md5);
        if use_md5 {
            let salt = auth::random_bytes::<4>();
            Writer { out: ctx.out }.auth_md5(salt);
            self.phase = Phase::Md5 { salt };
            return Next::Continue;
        }
        let nonce = auth::random_bytes();
        let server = match secret.and_then(Secret::scram_verifier) {
            Some(verifier) => ScramServer::new(verifier, nonce),
            // Unknown user, or only an md5 hash: a full exchange that fails.
            None => ScramServer::new_mock(&self.user, nonce),
        };
        Writer { out: ctx.out }.auth_sasl();
        self.phase = Phase::ScramFirst(server);
        Next::Continue
    }

    fn auth_message(&mut self, tag: u8, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        if tag != b'p' {
            let error = PgError::fatal(
                sqlstate::PROTOCOL_VIOLATION,
                format!(
                    "expected password response, got message type {}",
                    tag as char
                ),
            );
            return self.fatal(ctx, &error);
        }
        let failed = |user: &str| {
            PgError::fatal(
                sqlstate::INVALID_PASSWORD,
                auth::password_failed_message(user),
            )
        };
        match std::mem::replace(&mut self.phase, Phase::Startup) {
            Phase::Md5 { salt } => {
                let ok =
                    ctx.limits.users.get(&self.user).is_some_and(|secret| {
                        auth::md5_response_ok(secret, &self.user, salt, body)
                    });
                if ok {
                    self.login(ctx)
                } else {
                    self.fatal(ctx, &failed(&self.user))
                }
            }
            Phase::ScramFirst(mut server) => {
                let result = auth::parse_sasl_initial_response(body)
                    .and_then(|data| server.client_first(data));
                match result {
                    Ok(reply) => {
                        Writer { out: ctx.out }.auth_sasl_continue(&reply);
                        self.phase = Phase::ScramFinal(server);
                        Next::Continue
                    }
                    Err(failure) => self.fatal(ctx, &failure.to_pg_error(&self.user)),
                }
            }
            Phase::ScramFinal(mut server) => match server.client_final(body) {
                Ok(reply) => {
                    Writer { out: ctx.out }.auth_sasl_final(&reply);
                    self.login(ctx)
                }
                Err(failure) => self.fatal(ctx, &failure.to_pg_error(&self.user)),
            },
            Phase::Startup | Phase::Ready => unreachable!("not authenticating"),
        }
    }

    fn login(&mut self, ctx: &mut Ctx<'_>) -> Next {
        let mut writer = Writer { out: ctx.out };
        writer.auth_ok();
        self.reported = self.params.reported();
        for (name, value) in &self.reported {
            writer.parameter_status(name, value);
        }
        writer.backend_key_data(self.pid, self.secret);
        writer.ready_for_query(TxnStatus::Idle);
        self.phase = Phase::Ready;
        Next::Continue
    }

    // ---- messages of an authenticated session ----

    fn message(&mut self, tag: u8, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        if !self.is_ready() {
            return self.auth_message(tag, body, ctx);
        }
        if self.copy_in.is_some() {
            return self.copy_message(tag, body, ctx);
        }
        if tag == b'X' {
            return Next::Close;
        }
        if self.skip_until_sync && tag != b'S' {
            return Next::Continue;
        }
        let result = match tag {
            b'Q' => return self.simple_query(body, ctx),
            b'P' => self.parse_message(body, ctx),
            b'B' => self.bind(body, ctx),
            b'D' => self.describe(body, ctx),
            b'E' => self.execute_message(body, ctx),
            b'C' => self.close(body, ctx),
            b'S' => {
                self.sync(ctx);
                return Next::Continue;
            }
            // Output is written at the end of every batch anyway.
            b'H' => Ok(()),
            // Copy messages outside COPY (after a failed COPY): ignored.
            b'd' | b'c' | b'f' => Ok(()),
            _ => {
                let error = PgError::fatal(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!("invalid frontend message type {}", tag),
                );
                return self.fatal(ctx, &error);
            }
        };
        if let Err(error) = result {
            if error.severity == Severity::Fatal {
                return self.fatal(ctx, &error);
            }
            self.extended_error(ctx, &error);
        }
        if self.parked.is_some() {
            return Next::Parked(self.parked_until().expect("parked"));
        }
        Next::Continue
    }

    /// An error in the extended protocol: report it, fail the transaction,
    /// and skip to Sync.
    fn extended_error(&mut self, ctx: &mut Ctx<'_>, error: &PgError) {
        Writer { out: ctx.out }.error(error);
        self.fail_transaction();
        self.skip_until_sync = true;
    }

    /// After an error: an implicit transaction rolls back, a block fails.
    fn fail_transaction(&mut self) {
        self.txn = match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Block(txn) | TxnState::Failed(txn) => TxnState::Failed(txn),
            TxnState::Implicit(_) | TxnState::Idle => TxnState::Idle,
        };
    }

    /// Takes an implicit transaction out (for its commit), leaving Idle;
    /// any other state stays.
    fn take_implicit(&mut self) -> Option<PgTxn> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Implicit(txn) => Some(txn),
            other => {
                self.txn = other;
                None
            }
        }
    }

    fn status(&self) -> TxnStatus {
        match self.txn {
            TxnState::Idle | TxnState::Implicit(_) => TxnStatus::Idle,
            TxnState::Block(_) => TxnStatus::InBlock,
            TxnState::Failed(_) => TxnStatus::Failed,
        }
    }

    fn sync(&mut self, ctx: &mut Ctx<'_>) {
        self.skip_until_sync = false;
        if let Some(txn) = self.take_implicit() {
            if let Err(error) = txn.commit() {
                Writer { out: ctx.out }.error(&error);
            }
        }
        if !matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_)) {
            // Portals live until the end of their transaction.
            self.portals.clear();
        }
        self.ready(ctx);
    }

    // ---- simple query ----

    fn simple_query(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        let mut reader = Reader::new(body);
        let query = match reader.cstr() {
            Ok(query) => query,
            Err(error) => {
                Writer { out: ctx.out }.error(&error);
                self.ready(ctx);
                return Next::Continue;
            }
        };
        // A simple Query ends any unnamed portal and pending extended state.
        self.portals.remove("");
        let statements = match sql::parse(query) {
            Ok(statements) => statements,
            Err(error) => {
                let error = syntax_error(error);
                Writer { out: ctx.out }.error(&error);
                self.fail_transaction();
                self.ready(ctx);
                return Next::Continue;
            }
        };
        let multi = statements.len() > 1;
        self.run_simple(Rc::from(query), statements, multi, ctx)
    }

    /// Runs a simple Query's statements from the front of `statements`.
    fn run_simple(
        &mut self,
        query: Rc<str>,
        statements: Vec<sql::Parsed>,
        multi: bool,
        ctx: &mut Ctx<'_>,
    ) -> Next {
        let mut statements = statements.into_iter();
        while let Some(parsed) = statements.next() {
            let text = &query[parsed.text.clone()];
            // Statements of a multi-statement Query outside a block share
            // an implicit transaction (a new one after a COMMIT).
            let mut result = Ok(());
            if multi && matches!(self.txn, TxnState::Idle) {
                match PgTxn::begin(ctx.worker, false, &self.params) {
                    Ok(txn) => self.txn = TxnState::Implicit(txn),
                    Err(error) => result = Err(error),
                }
            }
            if result.is_ok() {
                result = self.run_one_simple(text, parsed.statement, ctx);
            }
            // Positions count from the start of the whole Query string.
            if let Err(error) = &mut result {
                if let Some(position) = &mut error.position {
                    *position += query[..parsed.text.start].chars().count();
                }
            }
            match result {
                Ok(()) if self.parked.is_some() => {
                    let parked = self.parked.as_mut().expect("parked");
                    parked.rest = Some(statements.collect());
                    parked.query = query;
                    parked.multi = multi;
                    return Next::Parked(parked.until);
                }
                Ok(()) if self.copy_in.is_some() => return Next::Continue,
                Ok(()) => {}
                Err(error) => {
                    Writer { out: ctx.out }.error(&error);
                    self.fail_transaction();
                    break;
                }
            }
        }
        self.end_simple_query(ctx);
        Next::Continue
    }

    /// After the last statement: an implicit transaction commits.
    fn end_simple_query(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(txn) = self.take_implicit() {
            if let Err(error) = txn.commit() {
                Writer { out: ctx.out }.error(&error);
            }
        }
        self.ready(ctx);
    }

    fn run_one_simple(
        &mut self,
        text: &str,
        statement: Statement,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        if statement == Statement::Other {
            // Run once: the result carries its own description.
            self.check_not_failed_for(None)?;
            let result = catalog::execute(text, &[], self)?;
            let mut writer = Writer { out: ctx.out };
            if let Some(fields) = general_fields(&result) {
                writer.row_description(&fields, |_| false);
            }
            for row in &result.rows {
                let at = writer.begin_row(row.len());
                for value in row {
                    match value {
                        Some(text) => writer.value(text.as_bytes()),
                        None => writer.null(),
                    }
                }
                writer.end_row(at);
            }
            writer.command_complete(&result.command_tag);
            return Ok(());
        }
        self.check_not_failed_for(Some(&statement))?;
        let prepared = prepare(text, statement, &[], self)?;
        if let Some(fields) = &prepared.fields {
            if !matches!(prepared.statement, Statement::CopyTo(..)) {
                Writer { out: ctx.out }.row_description(fields, |_| false);
            }
        }
        let mut portal = Portal {
            prepared: Rc::new(prepared),
            params: Vec::new(),
            result_formats: Vec::new(),
            state: PortalState::NotRun,
        };
        self.execute(&mut portal, 0, true, ctx)
    }

    // ---- extended query ----

    fn parse_message(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let name = reader.cstr()?.to_string();
        let query = reader.cstr()?;
        let count = reader.count16()?;
        let mut declared = Vec::with_capacity(count);
        for _ in 0..count {
            declared.push(reader.i32()? as u32);
        }
        reader.finish()?;
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Err(PgError::new(
                sqlstate::DUPLICATE_PREPARED_STATEMENT,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        let named = self.statements.len() - self.statements.contains_key("") as usize;
        if !name.is_empty() && named >= ctx.limits.max_prepared_statements {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "more than {} prepared statements in one session",
                    ctx.limits.max_prepared_statements
                ),
            )
            .with_hint("close unused statements, or raise --pg-max-prepared-statements"));
        }
        self.check_not_failed_for(None)?;
        let mut statements = sql::parse(query).map_err(syntax_error)?;
        if statements.len() > 1 {
            return Err(PgError::new(
                sqlstate::SYNTAX_ERROR,
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let parsed = statements.pop().unwrap_or(sql::Parsed {
            statement: Statement::Empty,
            text: 0..0,
            param_count: 0,
        });
        let text = &query[parsed.text.clone()];
        let prepared = prepare(text, parsed.statement, &declared, self)?;
        self.statements.insert(name, Rc::new(prepared));
        Writer { out: ctx.out }.parse_complete();
        Ok(())
    }

    fn bind(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let portal_name = reader.cstr()?.to_string();
        let statement_name = reader.cstr()?;
        let prepared = self
            .statements
            .get(statement_name)
            .cloned()
            .ok_or_else(|| {
                PgError::new(
                    sqlstate::INVALID_SQL_STATEMENT_NAME,
                    format!("prepared statement \"{statement_name}\" does not exist"),
                )
            })?;
        let format_count = reader.count16()?;
        let mut param_formats = Vec::with_capacity(format_count);
        for _ in 0..format_count {
            param_formats.push(Format::from_code(reader.i16()?)?);
        }
        let param_count = reader.count16()?;
        if param_count != prepared.param_types.len() {
            return Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!(
                    "bind message supplies {param_count} parameters, but prepared statement \"{statement_name}\" requires {}",
                    prepared.param_types.len()
                ),
            ));
        }
        if format_count > 1 && format_count != param_count {
            return Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!("bind message has {format_count} parameter formats but {param_count} parameters"),
            ));
        }
        let mut params = Vec::with_capacity(param_count);
        for i in 0..param_count {
            let format = exec::format_of(&param_formats, i);
            params.push(match reader.value()? {
                None => None,
                Some(raw) => {
                    Some(types::decode_param(prepared.param_types[i], format, raw)?.into_owned())
                }
            });
        }
        let result_count = reader.count16()?;
        let mut result_formats = Vec::with_capacity(result_count);
        for _ in 0..result_count {
            result_formats.push(Format::from_code(reader.i16()?)?);
        }
        reader.finish()?;
        self.check_not_failed_for(Some(&prepared.statement))?;
        if !portal_name.is_empty() && self.portals.contains_key(&portal_name) {
            return Err(PgError::new(
                sqlstate::DUPLICATE_CURSOR,
                format!("portal \"{portal_name}\" already exists"),
            ));
        }
        if self.portals.len() >= ctx.limits.max_portals && !self.portals.contains_key(&portal_name)
        {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "more than {} open portals in one session",
                    ctx.limits.max_portals
                ),
            )
            .with_hint("close portals, or raise --pg-max-portals"));
        }
        self.portals.insert(
            portal_name,
            Portal {
                prepared,
                params,
                result_formats,
                state: PortalState::NotRun,
            },
        );
        Writer { out: ctx.out }.bind_complete();
        Ok(())
    }

    fn describe(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let kind = reader.u8()?;
        let name = reader.cstr()?;
        reader.finish()?;
        let mut writer = Writer { out: ctx.out };
        match kind {
            b'S' => {
                let prepared = self.statements.get(name).ok_or_else(|| {
                    PgError::new(
                        sqlstate::INVALID_SQL_STATEMENT_NAME,
                        format!("prepared statement \"{name}\" does not exist"),
                    )
                })?;
                writer.parameter_description(&prepared.param_types);
                match &prepared.fields {
                    Some(fields) => writer.row_description(fields, |_| false),
                    None => writer.no_data(),
                }
            }
            b'P' => {
                let portal = self.portals.get(name).ok_or_else(|| no_portal(name))?;
                match &portal.prepared.fields {
                    Some(fields) => {
                        let formats = &portal.result_formats;
                        writer.row_description(fields, |i| {
                            exec::format_of(formats, i) == Format::Binary
                        })
                    }
                    None => writer.no_data(),
                }
            }
            _ => {
                return Err(PgError::new(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!("invalid DESCRIBE message subtype {kind}"),
                ))
            }
        }
        Ok(())
    }

    fn execute_message(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let name = reader.cstr()?.to_string();
        let max_rows = reader.i32()?.max(0) as u64;
        reader.finish()?;
        let mut portal = self.portals.remove(&name).ok_or_else(|| no_portal(&name))?;
        self.check_not_failed_for(Some(&portal.prepared.statement))?;
        let result = self.execute(&mut portal, max_rows, false, ctx);
        // COMMIT / ROLLBACK end the transaction and its portals.
        let keep = !matches!(
            portal.prepared.statement,
            Statement::Commit | Statement::Rollback
        );
        if keep {
            self.portals.insert(name, portal);
        }
        result
    }

    fn close(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let kind = reader.u8()?;
        let name = reader.cstr()?;
        reader.finish()?;
        match kind {
            b'S' => drop(self.statements.remove(name)),
            b'P' => drop(self.portals.remove(name)),
            _ => {
                return Err(PgError::new(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!("invalid CLOSE message subtype {kind}"),
                ))
            }
        }
        Writer { out: ctx.out }.close_complete();
        Ok(())
    }

    /// In a failed block only ROLLBACK [TO] and COMMIT may run.
    fn check_not_failed_for(&self, statement: Option<&Statement>) -> Result<(), PgError> {
        let allowed = matches!(
            statement,
            Some(
                Statement::Rollback
                    | Statement::RollbackTo(_)
                    | Statement::Commit
                    | Statement::Empty
            )
        );
        if matches!(self.txn, TxnState::Failed(_)) && !allowed {
            return Err(aborted());
        }
        Ok(())
    }

    // ---- running statements ----

    /// Runs (or continues) a portal: up to `max_rows` rows (0: all), then
    /// CommandComplete or PortalSuspended.
    fn execute(
        &mut self,
        portal: &mut Portal,
        max_rows: u64,
        simple: bool,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        self.check_not_failed_for(Some(&portal.prepared.statement))?;
        let prepared = Rc::clone(&portal.prepared);
        let params = std::mem::take(&mut portal.params);
        let result = self.execute_inner(portal, &prepared, &params, max_rows, simple, ctx);
        portal.params = params;
        result
    }

    fn execute_inner(
        &mut self,
        portal: &mut Portal,
        prepared: &Prepared,
        params: &[Option<Vec<u8>>],
        max_rows: u64,
        simple: bool,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let formats = portal.result_formats.clone();
        match std::mem::replace(&mut portal.state, PortalState::NotRun) {
            PortalState::Done(tag) => {
                Writer { out: ctx.out }.command_complete(&tag);
                portal.state = PortalState::Done(tag);
                return Ok(());
            }
            PortalState::Rows(mut source) => {
                let fetched = source_fetch(&mut source, self, ctx, &formats, max_rows);
                return self.send_rows(portal, fetched, source, ctx);
            }
            PortalState::Materialized { rows, tag } => {
                return self.send_materialized(portal, rows, tag, &formats, max_rows, ctx);
            }
            PortalState::NotRun => {}
        }
        let statement = &prepared.statement;
        match statement {
            Statement::Empty => {
                Writer { out: ctx.out }.empty_query();
                Ok(())
            }
            Statement::Select(select) => {
                let mut source = {
                    let mut access = self.access(ctx.worker);
                    RowSource::open(select, params, &mut access)?
                };
                let fetched = source_fetch(&mut source, self, ctx, &formats, max_rows);
                self.send_rows(portal, fetched, source, ctx)
            }
            Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::Truncate => {
                // Extended-protocol writes outside a block commit at Sync,
                // so an error before it rolls them back (PostgreSQL).
                let implicit = !simple && !matches!(statement, Statement::Truncate);
                if implicit && matches!(self.txn, TxnState::Idle) {
                    self.txn = TxnState::Implicit(PgTxn::begin(ctx.worker, false, &self.params)?);
                }
                let tag = self.run_write(statement, params, &formats, ctx)?;
                Writer { out: ctx.out }.command_complete(&tag);
                portal.state = PortalState::Done(tag);
                Ok(())
            }
            Statement::Begin { read_only } => {
                let start = prepared
                    .text
                    .get(..5)
                    .is_some_and(|w| w.eq_ignore_ascii_case("start"));
                self.begin(
                    *read_only,
                    if start { "START TRANSACTION" } else { "BEGIN" },
                    ctx,
                )
            }
            Statement::Commit => self.commit(ctx),
            Statement::Rollback => self.rollback(ctx),
            Statement::Savepoint(name) => {
                let TxnState::Block(txn) = &mut self.txn else {
                    return Err(no_block("SAVEPOINT"));
                };
                txn.savepoint(name, &self.params)?;
                Writer { out: ctx.out }.command_complete("SAVEPOINT");
                Ok(())
            }
            Statement::RollbackTo(name) => {
                let txn = match std::mem::replace(&mut self.txn, TxnState::Idle) {
                    TxnState::Block(txn) | TxnState::Failed(txn) => txn,
                    other => {
                        self.txn = other;
                        return Err(no_block("ROLLBACK TO SAVEPOINT"));
                    }
                };
                let mut txn = txn;
                let restored = txn.rollback_to(name);
                let failed = restored.is_err();
                match restored {
                    Ok(params) => {
                        self.set_params(params);
                        self.txn = TxnState::Block(txn);
                    }
                    Err(_) => self.txn = TxnState::Failed(txn),
                }
                if failed {
                    return Err(PgError::new(
                        sqlstate::INVALID_SAVEPOINT_SPECIFICATION,
                        format!("savepoint \"{name}\" does not exist"),
                    ));
                }
                Writer { out: ctx.out }.command_complete("ROLLBACK");
                Ok(())
            }
            Statement::Release(name) => {
                let TxnState::Block(txn) = &mut self.txn else {
                    return Err(no_block("RELEASE SAVEPOINT"));
                };
                txn.release(name)?;
                Writer { out: ctx.out }.command_complete("RELEASE");
                Ok(())
            }
            Statement::Set { name, value, local } => {
                let in_block = matches!(self.txn, TxnState::Block(_));
                if *local && !in_block {
                    Writer { out: ctx.out }.error(&PgError {
                        severity: Severity::Warning,
                        ..PgError::new(
                            sqlstate::NO_ACTIVE_SQL_TRANSACTION,
                            "SET LOCAL can only be used in transaction blocks",
                        )
                    });
                } else {
                    let mut params = self.params.clone();
                    params.set(name, value.as_deref(), *local, false)?;
                    self.set_params(params);
                }
                Writer { out: ctx.out }.command_complete("SET");
                Ok(())
            }
            Statement::Reset(name) => {
                let mut params = self.params.clone();
                params.reset(name.as_deref())?;
                self.set_params(params);
                Writer { out: ctx.out }.command_complete("RESET");
                Ok(())
            }
            Statement::Show(_) | Statement::Other => {
                let result = self.run_general(prepared, params)?;
                self.send_materialized(
                    portal,
                    result.rows.into(),
                    result.command_tag,
                    &formats,
                    max_rows,
                    ctx,
                )
            }
            Statement::Discard { all } => {
                if !all {
                    Writer { out: ctx.out }.command_complete("DISCARD PLANS");
                    return Ok(());
                }
                if !matches!(self.txn, TxnState::Idle) {
                    return Err(PgError::new(
                        sqlstate::ACTIVE_SQL_TRANSACTION,
                        "DISCARD ALL cannot run inside a transaction block",
                    ));
                }
                let mut params = self.params.clone();
                params.reset(None)?;
                self.set_params(params);
                self.statements.clear();
                self.portals.clear();
                Writer { out: ctx.out }.command_complete("DISCARD ALL");
                Ok(())
            }
            Statement::CloseCursor(None) => {
                Writer { out: ctx.out }.command_complete("CLOSE CURSOR ALL");
                Ok(())
            }
            Statement::CloseCursor(Some(name)) => Err(PgError::new(
                sqlstate::INVALID_CURSOR_NAME,
                format!("cursor \"{name}\" does not exist"),
            )),
            Statement::Unlisten => {
                Writer { out: ctx.out }.command_complete("UNLISTEN");
                Ok(())
            }
            Statement::Sleep(seconds) => {
                let seconds = sleep_seconds(seconds, params)?;
                self.parked = Some(Parked {
                    until: Instant::now() + Duration::from_secs_f64(seconds).min(MAX_SLEEP),
                    rest: None,
                    query: Rc::from(""),
                    multi: false,
                });
                portal.state = PortalState::Done("SELECT 1".into());
                Ok(())
            }
            Statement::CopyFrom(options) => {
                let copy = CopyIn::new(options)?;
                if let TxnState::Block(txn) = &self.txn {
                    if txn.read_only {
                        return Err(PgError::new(
                            sqlstate::READ_ONLY_SQL_TRANSACTION,
                            "cannot execute COPY FROM in a read-only transaction",
                        ));
                    }
                }
                if matches!(self.txn, TxnState::Idle) {
                    self.txn = TxnState::Implicit(PgTxn::begin(ctx.worker, false, &self.params)?);
                }
                Writer { out: ctx.out }.copy_response(true, false, 2);
                self.copy_in = Some(CopyInState { copy, simple });
                Ok(())
            }
            Statement::CopyTo(options, select) => {
                self.copy_out(options, select.as_deref(), params, ctx)
            }
        }
    }

    /// The engine access for reads in the current transaction state.
    fn access<'w>(&'w mut self, worker: &'w mut EngineWorker) -> Access<'w> {
        match &mut self.txn {
            TxnState::Implicit(txn) | TxnState::Block(txn) | TxnState::Failed(txn) => {
                Access::Txn(worker, txn)
            }
            TxnState::Idle => Access::Direct(worker),
        }
    }

    fn send_rows(
        &mut self,
        portal: &mut Portal,
        fetched: Result<bool, PgError>,
        source: RowSource,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        if fetched? {
            let tag = format!("SELECT {}", source.sent_last_fetch);
            Writer { out: ctx.out }.command_complete(&tag);
            portal.state = PortalState::Done(tag);
        } else {
            Writer { out: ctx.out }.portal_suspended();
            portal.state = PortalState::Rows(source);
        }
        Ok(())
    }

    fn send_materialized(
        &mut self,
        portal: &mut Portal,
        mut rows: std::collections::VecDeque<Vec<Option<String>>>,
        tag: String,
        formats: &[Format],
        max_rows: u64,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let mut writer = Writer { out: ctx.out };
        let fields = portal.prepared.fields.clone().unwrap_or_default();
        let mut now = 0;
        while max_rows == 0 || now < max_rows {
            let Some(row) = rows.pop_front() else { break };
            let at = writer.begin_row(row.len());
            for (i, value) in row.iter().enumerate() {
                match value {
                    None => writer.null(),
                    Some(text) => {
                        let oid = fields.get(i).map_or(types::TEXT, |f| f.type_oid);
                        write_general_value(&mut writer, text, oid, exec::format_of(formats, i));
                    }
                }
            }
            writer.end_row(at);
            now += 1;
        }
        if rows.is_empty() {
            let tag = if tag.starts_with("SELECT") {
                format!("SELECT {now}")
            } else {
                tag
            };
            writer.command_complete(&tag);
            portal.state = PortalState::Done(tag);
        } else {
            writer.portal_suspended();
            portal.state = PortalState::Materialized { rows, tag };
        }
        Ok(())
    }

    /// A write statement: in the open transaction, or on its own (one
    /// engine call for a single key, else a retried transaction).
    fn run_write(
        &mut self,
        statement: &Statement,
        params: &[Option<Vec<u8>>],
        formats: &[Format],
        ctx: &mut Ctx<'_>,
    ) -> Result<String, PgError> {
        let access = match &mut self.txn {
            TxnState::Implicit(txn) | TxnState::Block(txn) => {
                if txn.read_only {
                    return Err(PgError::new(
                        sqlstate::READ_ONLY_SQL_TRANSACTION,
                        format!(
                            "cannot execute {} in a read-only transaction",
                            statement_name(statement)
                        ),
                    ));
                }
                Some(Access::Txn(ctx.worker, txn))
            }
            _ if exec::is_single_key(statement) => Some(Access::Direct(ctx.worker)),
            _ => None,
        };
        if let Some(mut access) = access {
            let mut writer = Writer { out: ctx.out };
            return exec::run_write(statement, params, &mut access, &mut writer, formats);
        }
        let mark = ctx.out.len();
        for _ in 0..AUTOCOMMIT_RETRIES {
            let mut txn = PgTxn::begin(ctx.worker, false, &self.params)?;
            let tag = {
                let mut access = Access::Txn(ctx.worker, &mut txn);
                let mut writer = Writer { out: ctx.out };
                exec::run_write(statement, params, &mut access, &mut writer, formats)?
            };
            match txn.commit() {
                Ok(()) => return Ok(tag),
                Err(error) if error.code == sqlstate::SERIALIZATION_FAILURE => {
                    ctx.out.truncate(mark)
                }
                Err(error) => return Err(error),
            }
        }
        Err(serialization_failure())
    }

    fn begin(&mut self, read_only: bool, tag: &str, ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Idle => {
                self.txn = TxnState::Block(PgTxn::begin(ctx.worker, read_only, &self.params)?)
            }
            TxnState::Implicit(mut txn) => {
                txn.read_only = read_only;
                self.txn = TxnState::Block(txn);
            }
            state @ (TxnState::Block(_) | TxnState::Failed(_)) => {
                self.txn = state;
                Writer { out: ctx.out }.error(&PgError {
                    severity: Severity::Warning,
                    ..PgError::new(
                        sqlstate::ACTIVE_SQL_TRANSACTION,
                        "there is already a transaction in progress",
                    )
                });
            }
        }
        Writer { out: ctx.out }.command_complete(tag);
        Ok(())
    }

    fn commit(&mut self, ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Block(txn) | TxnState::Implicit(txn) => {
                let params_at_begin = txn.params_at_begin.clone();
                self.params.end_transaction();
                self.end_block_portals();
                if let Err(error) = txn.commit() {
                    self.set_params(params_at_begin);
                    return Err(error);
                }
                Writer { out: ctx.out }.command_complete("COMMIT");
            }
            TxnState::Failed(txn) => {
                // COMMIT of a failed block rolls back, as PostgreSQL does.
                self.set_params(txn.params_at_begin.clone());
                self.end_block_portals();
                Writer { out: ctx.out }.command_complete("ROLLBACK");
            }
            TxnState::Idle => {
                warn_no_transaction(ctx);
                Writer { out: ctx.out }.command_complete("COMMIT");
            }
        }
        Ok(())
    }

    fn rollback(&mut self, ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Block(txn) | TxnState::Failed(txn) | TxnState::Implicit(txn) => {
                self.set_params(txn.params_at_begin.clone());
                self.end_block_portals();
            }
            TxnState::Idle => warn_no_transaction(ctx),
        }
        Writer { out: ctx.out }.command_complete("ROLLBACK");
        Ok(())
    }

    fn end_block_portals(&mut self) {
        self.portals.clear();
    }

    /// Replaces the parameters, sending ParameterStatus for reported ones
    /// that changed.
    fn set_params(&mut self, mut params: Params) {
        if !matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_)) {
            params.end_transaction();
        }
        self.params = params;
    }

    /// ReadyForQuery, preceded by ParameterStatus for each reported
    /// parameter whose value differs from what the client last heard (as
    /// PostgreSQL: once per change, at the end of the query).
    fn ready(&mut self, ctx: &mut Ctx<'_>) {
        let mut writer = Writer { out: ctx.out };
        let now = self.params.reported();
        for ((name, new), (_, old)) in now.iter().zip(&self.reported) {
            if new != old {
                writer.parameter_status(name, new);
            }
        }
        self.reported = now;
        writer.ready_for_query(self.status());
    }

    fn run_general(
        &mut self,
        prepared: &Prepared,
        params: &[Option<Vec<u8>>],
    ) -> Result<catalog::ResultSet, PgError> {
        if let Statement::Show(name) = &prepared.statement {
            return self.show(name);
        }
        let text_params: Vec<Option<String>> = params
            .iter()
            .map(|p| p.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()))
            .collect();
        catalog::execute_typed(&prepared.text, &text_params, &prepared.param_types, self)
    }

    fn show(&self, name: &str) -> Result<catalog::ResultSet, PgError> {
        if name.eq_ignore_ascii_case("all") {
            return Ok(catalog::ResultSet {
                columns: vec![],
                rows: self
                    .params
                    .all()
                    .into_iter()
                    .map(|(name, value)| vec![Some(name), Some(value), Some(String::new())])
                    .collect(),
                command_tag: "SHOW".into(),
            });
        }
        let value = self.params.get(name).ok_or_else(|| {
            PgError::new(
                sqlstate::UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{name}\""),
            )
        })?;
        Ok(catalog::ResultSet {
            columns: vec![],
            rows: vec![vec![Some(value)]],
            command_tag: "SHOW".into(),
        })
    }

    fn copy_out(
        &mut self,
        options: &sql::CopyOptions,
        select: Option<&sql::Select>,
        params: &[Option<Vec<u8>>],
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let select = match select {
            Some(select) => select.clone(),
            None => sql::Select {
                columns: copy_columns(&options.columns),
                filter: sql::KeyFilter::All,
                order: sql::Order::None,
                limit: None,
                offset: None,
            },
        };
        let mut access = self.access(ctx.worker);
        let mut source = RowSource::open(&select, params, &mut access)?;
        let format = CopyOutFormat::new(options, source.columns.clone())?;
        let mut writer = Writer { out: ctx.out };
        writer.copy_response(false, false, format.columns.len());
        if let Some(header) = format.header() {
            writer.copy_data(&header);
        }
        let result = source.fetch_with(&mut access, 0, &mut |row| {
            let line = match row {
                exec::Row::Pair(key, value) => format.row(key, value),
                exec::Row::Count(count) => format.count_row(count),
            };
            writer.copy_data(&line);
        });
        result?;
        writer.copy_done();
        writer.command_complete(&format!("COPY {}", source.sent_last_fetch));
        Ok(())
    }

    fn copy_message(&mut self, tag: u8, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        let state = self.copy_in.as_mut().expect("copying");
        let txn = match &mut self.txn {
            TxnState::Implicit(txn) | TxnState::Block(txn) => txn,
            _ => unreachable!("COPY FROM runs in a transaction"),
        };
        let result = match tag {
            b'd' => state.copy.data(body, txn).map(|()| None),
            b'c' => state.copy.finish(txn).map(Some),
            b'f' => {
                let reason = Reader::new(body).cstr().unwrap_or("").to_string();
                Err(PgError::new(
                    sqlstate::QUERY_CANCELED,
                    format!("COPY from stdin failed: {reason}"),
                ))
            }
            // Flush and Sync mean nothing during COPY.
            b'H' | b'S' => Ok(None),
            b'X' => return Next::Close,
            _ => Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!("unexpected message type 0x{tag:02X} during COPY from stdin"),
            )),
        };
        match result {
            Ok(None) => Next::Continue,
            Ok(Some(rows)) => {
                let simple = self.copy_in.take().expect("copying").simple;
                let committed = match std::mem::replace(&mut self.txn, TxnState::Idle) {
                    TxnState::Implicit(txn) if simple => txn.commit(),
                    other => {
                        self.txn = other;
                        Ok(())
                    }
                };
                match committed {
                    Ok(()) => Writer { out: ctx.out }.command_complete(&format!("COPY {rows}")),
                    Err(error) => Writer { out: ctx.out }.error(&error),
                }
                if simple {
                    self.ready(ctx);
                }
                Next::Continue
            }
            Err(error) => {
                let simple = self.copy_in.take().expect("copying").simple;
                Writer { out: ctx.out }.error(&error);
                self.fail_transaction();
                if simple {
                    self.ready(ctx);
                } else {
                    self.skip_until_sync = true;
                }
                Next::Continue
            }
        }
    }

    // ---- parking (pg_sleep) and cancel ----

    /// The park is over (deadline passed, or `canceled`): finish the
    /// statement and whatever of its Query was left. The worker then feeds
    /// the input that waited.
    pub fn unpark(&mut self, canceled: bool, ctx: &mut Ctx<'_>) {
        let Some(parked) = self.parked.take() else {
            return;
        };
        let simple = parked.rest.is_some();
        if canceled {
            let error = PgError::new(
                sqlstate::QUERY_CANCELED,
                "canceling statement due to user request",
            );
            Writer { out: ctx.out }.error(&error);
            self.fail_transaction();
            if simple {
                self.end_simple_query(ctx);
            } else {
                self.skip_until_sync = true;
            }
            return;
        }
        let mut writer = Writer { out: ctx.out };
        let at = writer.begin_row(1);
        writer.value(b"");
        writer.end_row(at);
        writer.command_complete("SELECT 1");
        if let Some(rest) = parked.rest {
            let _ = self.run_simple(parked.query, rest, parked.multi, ctx);
        }
    }

    /// The session ends (disconnect): an open transaction rolls back.
    pub fn end(&mut self) {
        self.txn = TxnState::Idle;
        self.copy_in = None;
    }
}

fn source_fetch(
    source: &mut RowSource,
    session: &mut PgSession,
    ctx: &mut Ctx<'_>,
    formats: &[Format],
    max_rows: u64,
) -> Result<bool, PgError> {
    let mut access = session.access(ctx.worker);
    source.fetch(&mut access, &mut Writer { out: ctx.out }, formats, max_rows)
}

/// A write statement's name in PostgreSQL's messages.
fn statement_name(statement: &Statement) -> &'static str {
    match statement {
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Truncate => "TRUNCATE TABLE",
        Statement::CopyFrom(_) => "COPY FROM",
        _ => "this statement",
    }
}

fn syntax_error(error: sql::SyntaxError) -> PgError {
    let mut pg = PgError::new(error.sqlstate, error.message);
    pg.position = error.position;
    pg
}

fn warn_no_transaction(ctx: &mut Ctx<'_>) {
    Writer { out: ctx.out }.error(&PgError {
        severity: Severity::Warning,
        ..PgError::new(
            sqlstate::NO_ACTIVE_SQL_TRANSACTION,
            "there is no transaction in progress",
        )
    });
}

fn aborted() -> PgError {
    PgError::new(
        sqlstate::IN_FAILED_SQL_TRANSACTION,
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

fn no_block(what: &str) -> PgError {
    PgError::new(
        sqlstate::NO_ACTIVE_SQL_TRANSACTION,
        format!("{what} can only be used in transaction blocks"),
    )
}

fn no_portal(name: &str) -> PgError {
    PgError::new(
        sqlstate::INVALID_CURSOR_NAME,
        format!("portal \"{name}\" does not exist"),
    )
}

fn copy_columns(columns: &[sql::CopyColumn]) -> Vec<OutputColumn> {
    let all = [sql::CopyColumn::Key, sql::CopyColumn::Value];
    let columns = if columns.is_empty() {
        &all[..]
    } else {
        columns
    };
    columns
        .iter()
        .map(|c| OutputColumn {
            expr: match c {
                sql::CopyColumn::Key => sql::ColumnExpr::Key(None),
                sql::CopyColumn::Value => sql::ColumnExpr::Value(None),
            },
            alias: None,
        })
        .collect()
}

fn sleep_seconds(scalar: &Scalar, params: &[Option<Vec<u8>>]) -> Result<f64, PgError> {
    let Some(bytes) = exec::eval(scalar, params)? else {
        return Ok(0.0);
    };
    let text = String::from_utf8_lossy(&bytes);
    let seconds: f64 = text.trim().parse().map_err(|_| {
        PgError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type double precision: \"{text}\""),
        )
    })?;
    Ok(if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    })
}

/// A general-path value in the requested format: text as is; binary for
/// the fixed-size types drivers ask for.
fn write_general_value(writer: &mut Writer<'_>, text: &str, oid: u32, format: Format) {
    if format == Format::Binary {
        match oid {
            types::INT8 => {
                if let Ok(v) = text.parse::<i64>() {
                    return writer.value(&v.to_be_bytes());
                }
            }
            types::INT4 | types::OID => {
                if let Ok(v) = text.parse::<i64>() {
                    return writer.value(&(v as i32).to_be_bytes());
                }
            }
            types::INT2 => {
                if let Ok(v) = text.parse::<i16>() {
                    return writer.value(&v.to_be_bytes());
                }
            }
            types::BOOL => return writer.value(&[(text == "t") as u8]),
            _ => {}
        }
    }
    writer.value(text.as_bytes());
}

/// `options` in the startup packet: `-c name=value` and `--name=value`.
fn command_line_options(text: &str) -> Result<Vec<(String, String)>, PgError> {
    let mut pairs = Vec::new();
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        let setting = if word == "-c" {
            words.next().unwrap_or("")
        } else if let Some(rest) = word.strip_prefix("-c").or_else(|| word.strip_prefix("--")) {
            rest
        } else {
            return Err(PgError::fatal(
                sqlstate::FEATURE_NOT_SUPPORTED,
                format!("unsupported startup option \"{word}\""),
            ));
        };
        let (name, value) = setting.split_once('=').ok_or_else(|| {
            PgError::fatal(
                sqlstate::SYNTAX_ERROR,
                format!("-c {setting} requires a value"),
            )
        })?;
        pairs.push((name.replace('-', "_"), value.to_string()));
    }
    Ok(pairs)
}

/// Parse analysis: parameter types and the result description.
fn prepare(
    text: &str,
    statement: Statement,
    declared: &[u32],
    session: &mut PgSession,
) -> Result<Prepared, PgError> {
    let param_count = max_param(&statement).max(declared.len());
    let mut param_types: Vec<u32> = (0..param_count)
        .map(|i| {
            declared
                .get(i)
                .copied()
                .filter(|&oid| oid != 0)
                .unwrap_or(0)
        })
        .collect();
    infer_param_types(&statement, &mut param_types);
    for oid in &mut param_types {
        if *oid == 0 {
            *oid = types::TEXT;
        }
    }
    let fields = match &statement {
        Statement::Select(select) => {
            let columns = exec::expand(&select.columns);
            exec::check_columns(&columns)?;
            Some(exec::fields(&columns))
        }
        Statement::Insert(sql::Insert { returning, .. })
        | Statement::Update(sql::Update { returning, .. })
        | Statement::Delete(sql::Delete { returning, .. })
            if !returning.is_empty() =>
        {
            Some(exec::fields(&exec::expand(returning)))
        }
        Statement::Sleep(_) => Some(vec![Field {
            name: "pg_sleep".into(),
            type_oid: 2278,
            type_size: 4,
            table_oid: 0,
            column_number: 0,
        }]),
        Statement::Show(name) if name.eq_ignore_ascii_case("all") => Some(
            ["name", "setting", "description"]
                .iter()
                .map(|name| text_field(name))
                .collect(),
        ),
        Statement::Show(name) => {
            session.params.get(name).ok_or_else(|| {
                PgError::new(
                    sqlstate::UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{name}\""),
                )
            })?;
            Some(vec![text_field(&Params::canonical_name(name))])
        }
        Statement::Other => {
            // Parse analysis only: nothing runs until Execute.
            let description = catalog::describe(text, declared, session)?;
            param_types = description.params;
            Some(description.columns.iter().map(general_field).collect())
        }
        _ => None,
    };
    Ok(Prepared {
        text: text.to_string(),
        statement,
        param_types,
        fields,
    })
}

/// The description of a general-path result (`None`: it returns no rows).
fn general_fields(result: &catalog::ResultSet) -> Option<Vec<Field>> {
    if result.columns.is_empty() && !result.command_tag.starts_with("SELECT") {
        return None;
    }
    Some(result.columns.iter().map(general_field).collect())
}

fn general_field(column: &catalog::Column) -> Field {
    Field {
        name: column.name.clone(),
        type_oid: column.type_oid,
        type_size: types::type_size(column.type_oid),
        table_oid: 0,
        column_number: 0,
    }
}

fn text_field(name: &str) -> Field {
    Field {
        name: name.to_string(),
        type_oid: types::TEXT,
        type_size: -1,
        table_oid: 0,
        column_number: 0,
    }
}

/// Calls `visit` for every scalar of a statement, with the type its
/// context implies.
fn visit_scalars(statement: &Statement, visit: &mut dyn FnMut(&Scalar, u32)) {
    use sql::KeyFilter;
    let filter = |filter: &KeyFilter, visit: &mut dyn FnMut(&Scalar, u32)| match filter {
        KeyFilter::Eq(s) | KeyFilter::Like(s) => visit(s, types::TEXT),
        KeyFilter::In(list) => list.iter().for_each(|s| visit(s, types::TEXT)),
        KeyFilter::All => {}
    };
    let select = |select: &sql::Select, visit: &mut dyn FnMut(&Scalar, u32)| {
        filter(&select.filter, visit);
        for s in select.limit.iter().chain(select.offset.iter()) {
            visit(s, types::INT8);
        }
    };
    match statement {
        Statement::Select(s) => select(s, visit),
        Statement::CopyTo(_, Some(s)) => select(s, visit),
        Statement::Insert(insert) => {
            for (k, v) in &insert.rows {
                visit(k, types::TEXT);
                visit(v, types::TEXT);
            }
            if let sql::OnConflict::DoUpdate(Some(s)) = &insert.on_conflict {
                visit(s, types::TEXT);
            }
        }
        Statement::Update(update) => {
            visit(&update.value, types::TEXT);
            filter(&update.filter, visit);
        }
        Statement::Delete(delete) => filter(&delete.filter, visit),
        Statement::Sleep(s) => visit(s, types::FLOAT8),
        _ => {}
    }
}

fn max_param(statement: &Statement) -> usize {
    let mut max = 0;
    visit_scalars(statement, &mut |scalar, _| {
        if let Scalar::Param { index, .. } = scalar {
            max = max.max(*index);
        }
    });
    max
}

/// Undeclared parameter types: from a cast, else from the context.
fn infer_param_types(statement: &Statement, param_types: &mut [u32]) {
    visit_scalars(statement, &mut |scalar, context| {
        if let Scalar::Param { index, cast } = scalar {
            let slot = &mut param_types[index - 1];
            if *slot == 0 {
                *slot = match cast {
                    Some(SqlType::Bytea) => types::BYTEA,
                    Some(SqlType::Integer) => types::INT8,
                    Some(SqlType::Text) => types::TEXT,
                    None => context,
                };
            }
        }
    });
}

impl SessionView for PgSession {
    fn setting(&self, name: &str) -> Option<String> {
        self.params.get(name)
    }

    fn set_setting(&mut self, name: &str, value: &str, is_local: bool) -> Result<String, PgError> {
        let local = is_local && matches!(self.txn, TxnState::Block(_));
        self.params.set(name, Some(value), local, false)?;
        Ok(self.params.get(name).unwrap_or_default())
    }

    fn user(&self) -> &str {
        &self.user
    }

    fn database(&self) -> &str {
        &self.database
    }

    fn backend_pid(&self) -> i32 {
        self.pid
    }
}
