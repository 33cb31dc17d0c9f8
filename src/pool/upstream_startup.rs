//! Opening one upstream PostgreSQL connection without blocking: a sans-I/O
//! client for the v3 startup and authentication exchange, and the
//! CancelRequest a pooler forwards upstream.
//!
//! The worker owns the socket. It writes what [`UpstreamStartup::begin`]
//! appended to its output buffer (the StartupMessage), then feeds every
//! read, split wherever the kernel split it, to [`UpstreamStartup::feed`]
//! and writes whatever that appends, until the step is [`Step::Ready`] or
//! [`Step::Failed`]. Nothing here blocks, reads a clock or touches a
//! socket: connect and login timeouts belong to the caller.
//!
//! Authentication: trust (a bare AuthenticationOk), cleartext password,
//! md5, and SCRAM-SHA-256 without channel binding (there is no upstream TLS
//! yet, so -PLUS cannot be offered honestly). The server's SCRAM signature
//! is checked before its AuthenticationOk is believed. Kerberos, GSSAPI,
//! SSPI and SCM credentials are refused with an error naming them.
//!
//! Failures keep their source apart: an upstream ErrorResponse comes back
//! as received, so the pool can pass it on unchanged; what this side
//! decides (a malformed or oversized message, an unsupported method, a bad
//! server signature, a closed socket) is a [`PgError`] with a class-08
//! SQLSTATE.

use std::collections::BTreeMap;
use std::fmt;

use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{
    ChannelBinding, ScramSha256, SCRAM_SHA_256, SCRAM_SHA_256_PLUS,
};

use crate::pg::error::{sqlstate, PgError};
use crate::pg::protocol::{TxnStatus, CANCEL_REQUEST_CODE, MAX_STARTUP_PACKET_BYTES, PROTOCOL_3_0};

/// Default cap on one upstream message during startup. Startup messages
/// are small; the cap only stops a broken or hostile server from making
/// the worker buffer without end.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;

/// ParameterStatus entries kept (PostgreSQL 15 reports 14).
pub const MAX_PARAMETERS: usize = 256;

/// Messages accepted before ReadyForQuery; a server that sends more is
/// not finishing its startup.
pub const MAX_STARTUP_MESSAGES: usize = 4096;

/// Longest configured password accepted (PgBouncer allows 996 bytes).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Terminate: what to send before closing a connection whose startup is
/// abandoned, so the server logs a clean disconnect.
pub const TERMINATE: [u8; 5] = [b'X', 0, 0, 0, 4];

/// SQLSTATEs for failures decided on this side (class 08, connection
/// exception). 08P01 is `sqlstate::PROTOCOL_VIOLATION`.
const UNABLE_TO_CONNECT: &str = "08001";
const CONNECTION_FAILURE: &str = "08006";

/// Who to log in as, where, and with what.
#[derive(Clone)]
pub struct UpstreamLogin {
    pub user: String,
    /// Empty: leave it out (the server then uses the user name).
    pub database: String,
    /// None: only methods without a password (trust) can succeed.
    pub password: Option<String>,
    /// Further startup parameters, sent in this order (application_name,
    /// DateStyle, TimeZone, search_path, options, ...).
    pub parameters: Vec<(String, String)>,
}

impl fmt::Debug for UpstreamLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamLogin")
            .field("user", &self.user)
            .field("database", &self.database)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("parameters", &self.parameters)
            .finish()
    }
}

/// How the server let us in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// AuthenticationOk with no challenge before it.
    Trust,
    Cleartext,
    Md5,
    ScramSha256,
}

/// A backend's cancel key, from BackendKeyData (protocol 3.0: two Int32s).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BackendKey {
    pub process_id: i32,
    pub secret_key: i32,
}

impl fmt::Debug for BackendKey {
    // The secret lets anyone cancel this backend's queries: not logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BackendKey(pid {})", self.process_id)
    }
}

/// A logged-in upstream connection, idle and ready for queries.
#[derive(Debug)]
pub struct UpstreamReady {
    /// None when the server sent no BackendKeyData (PostgreSQL always
    /// does; some PostgreSQL-compatible servers do not); such a backend
    /// cannot be cancelled.
    pub backend_key: Option<BackendKey>,
    /// ParameterStatus, last value wins. Names and values are decoded
    /// lossily: PostgreSQL reports them in the server encoding.
    pub parameters: BTreeMap<String, String>,
    /// From ReadyForQuery (Idle, unless the server is odd).
    pub txn_status: TxnStatus,
    pub auth_method: AuthMethod,
    /// Bytes fed after ReadyForQuery (normally none: the server waits for
    /// a query). They are the start of the connection's next message.
    pub trailing_bytes: Vec<u8>,
}

/// An ErrorResponse from the upstream server, kept as it came.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamError {
    /// The whole message (type byte, length word, fields), to pass on
    /// byte for byte.
    pub raw: Vec<u8>,
    /// The fields in wire order: field type (b'S', b'V', b'C', b'M', ...)
    /// and value, decoded lossily (only `raw` is meant for forwarding).
    pub fields: Vec<(u8, String)>,
}

impl UpstreamError {
    /// The first field of this type.
    pub fn field(&self, kind: u8) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_str())
    }

    /// The untranslated severity (`V`, PostgreSQL ≥ 9.6), else `S`.
    pub fn severity(&self) -> Option<&str> {
        self.field(b'V').or_else(|| self.field(b'S'))
    }

    /// The SQLSTATE.
    pub fn code(&self) -> Option<&str> {
        self.field(b'C')
    }

    pub fn message(&self) -> Option<&str> {
        self.field(b'M')
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.severity().unwrap_or("?"),
            self.message().unwrap_or(""),
            self.code().unwrap_or("?")
        )
    }
}

impl fmt::Debug for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UpstreamError({self})")
    }
}

/// Why a startup failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartupError {
    /// The server's ErrorResponse, unchanged.
    Upstream(UpstreamError),
    /// Decided on this side.
    Local(PgError),
}

impl StartupError {
    /// The SQLSTATE, whichever side it came from.
    pub fn code(&self) -> Option<&str> {
        match self {
            StartupError::Upstream(e) => e.code(),
            StartupError::Local(e) => Some(e.code),
        }
    }
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::Upstream(e) => write!(f, "upstream {e}"),
            StartupError::Local(e) => e.fmt(f),
        }
    }
}

/// What [`UpstreamStartup::feed`] came to.
#[derive(Debug)]
pub enum Step {
    /// Nothing to send: feed the next read.
    NeedInput,
    /// A reply was appended to the output buffer: write all of it, then
    /// feed the next read.
    Responded,
    /// Logged in. Further feeds are a caller error.
    Ready(UpstreamReady),
    /// Give up on this connection (send [`TERMINATE`] if it is still open,
    /// then close it). Further feeds are a caller error.
    Failed(StartupError),
}

/// Where the exchange stands.
enum Phase {
    /// StartupMessage sent; waiting for an authentication request.
    AwaitingAuth,
    /// A cleartext or md5 password was sent; only AuthenticationOk may
    /// follow.
    SentPassword,
    /// SASLInitialResponse sent; waiting for AuthenticationSASLContinue.
    ScramSentFirst(Box<ScramSha256>),
    /// SASLResponse sent; waiting for AuthenticationSASLFinal.
    ScramSentFinal(Box<ScramSha256>),
    /// The server's SCRAM signature checked out; waiting for
    /// AuthenticationOk.
    ScramVerified,
    /// Authenticated; collecting ParameterStatus and BackendKeyData until
    /// ReadyForQuery.
    AwaitingReady,
    /// Ready or Failed was returned (also the placeholder while a message
    /// is handled, so a failure leaves it here).
    Finished,
}

impl Phase {
    fn describe(&self) -> &'static str {
        match self {
            Phase::AwaitingAuth => "while waiting for an authentication request",
            Phase::SentPassword => "after a password was sent",
            Phase::ScramSentFirst(_) | Phase::ScramSentFinal(_) => "during SCRAM authentication",
            Phase::ScramVerified => "after SCRAM authentication",
            Phase::AwaitingReady => "after authentication",
            Phase::Finished => "after startup finished",
        }
    }
}

/// What handling one message came to.
enum Flow {
    Continue,
    Ready(TxnStatus),
    Failed(StartupError),
}

/// The client side of one upstream connection's startup.
pub struct UpstreamStartup {
    user: String,
    password: Option<String>,
    /// Cap on one message's length word.
    max_message_bytes: usize,
    phase: Phase,
    /// A message split across feeds, as far as it has come (at most
    /// `max_message_bytes + 1` bytes: longer ones fail at their header).
    partial: Vec<u8>,
    parameters: BTreeMap<String, String>,
    backend_key: Option<BackendKey>,
    auth_method: AuthMethod,
    /// Messages handled so far, against MAX_STARTUP_MESSAGES.
    messages_count: usize,
}

impl fmt::Debug for UpstreamStartup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UpstreamStartup(user {:?}, {})",
            self.user,
            self.phase.describe()
        )
    }
}

impl UpstreamStartup {
    /// Starts a login: appends the StartupMessage to `out` (send it as
    /// soon as the connect completes). `max_message_bytes` caps each
    /// server message ([`DEFAULT_MAX_MESSAGE_BYTES`] unless configured).
    /// Fails, appending nothing, on a login the server could not parse: an
    /// empty user, a NUL in a name or value, a parameter that repeats
    /// `user`/`database` or is a `_pq_.` protocol option, a packet over
    /// PostgreSQL's 10,000 bytes, or a password over MAX_PASSWORD_BYTES.
    pub fn begin(
        login: &UpstreamLogin,
        max_message_bytes: usize,
        out: &mut Vec<u8>,
    ) -> Result<UpstreamStartup, PgError> {
        if let Some(password) = &login.password {
            if password.contains('\0') {
                return Err(local(
                    UNABLE_TO_CONNECT,
                    "upstream password contains a NUL byte",
                ));
            }
            if password.len() > MAX_PASSWORD_BYTES {
                return Err(local(
                    UNABLE_TO_CONNECT,
                    format!(
                        "upstream password of {} bytes is over the limit of {MAX_PASSWORD_BYTES} bytes",
                        password.len()
                    ),
                ));
            }
        }
        write_startup_message(login, out)?;
        Ok(UpstreamStartup {
            user: login.user.clone(),
            password: login.password.clone(),
            max_message_bytes,
            phase: Phase::AwaitingAuth,
            partial: Vec::new(),
            parameters: BTreeMap::new(),
            backend_key: None,
            auth_method: AuthMethod::Trust,
            messages_count: 0,
        })
    }

    /// Takes the next bytes read from the server (any split, any size) and
    /// appends any reply to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Step {
        if matches!(self.phase, Phase::Finished) {
            return Step::Failed(StartupError::Local(local(
                sqlstate::PROTOCOL_VIOLATION,
                "upstream startup already finished",
            )));
        }
        let out_start = out.len();
        loop {
            let flow = if self.partial.is_empty() {
                // The common case: whole messages straight from `input`.
                match message_bytes(input, self.max_message_bytes) {
                    Err(e) => self.fail(e),
                    Ok(None) => {
                        // Bounded: message_bytes checked the length word
                        // if the header is here.
                        self.partial.extend_from_slice(input);
                        break;
                    }
                    Ok(Some(total)) => {
                        let (message, rest) = input.split_at(total);
                        input = rest;
                        self.handle(message, out)
                    }
                }
            } else {
                match self.top_up(&mut input) {
                    Err(e) => self.fail(e),
                    Ok(false) => break,
                    Ok(true) => {
                        let message = std::mem::take(&mut self.partial);
                        let flow = self.handle(&message, out);
                        // Keep the allocation for the next split message.
                        self.partial = message;
                        self.partial.clear();
                        flow
                    }
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Ready(txn_status) => {
                    return Step::Ready(UpstreamReady {
                        backend_key: self.backend_key,
                        parameters: std::mem::take(&mut self.parameters),
                        txn_status,
                        auth_method: self.auth_method,
                        trailing_bytes: input.to_vec(),
                    })
                }
                Flow::Failed(e) => return Step::Failed(e),
            }
        }
        if out.len() > out_start {
            Step::Responded
        } else {
            Step::NeedInput
        }
    }

    /// The server closed the connection (a read returned 0) before
    /// ReadyForQuery.
    pub fn feed_eof(&mut self) -> Step {
        let phase = std::mem::replace(&mut self.phase, Phase::Finished);
        let mut message = format!("upstream closed the connection {}", phase.describe());
        if !self.partial.is_empty() {
            message.push_str(", in the middle of a message");
        }
        Step::Failed(StartupError::Local(local(CONNECTION_FAILURE, message)))
    }

    fn fail(&mut self, error: PgError) -> Flow {
        self.phase = Phase::Finished;
        Flow::Failed(StartupError::Local(error))
    }

    /// Moves bytes from `input` into `partial` until it holds one whole
    /// message; true when it does.
    fn top_up(&mut self, input: &mut &[u8]) -> Result<bool, PgError> {
        if self.partial.len() < 5 {
            let take = (5 - self.partial.len()).min(input.len());
            self.partial.extend_from_slice(&input[..take]);
            *input = &input[take..];
            if self.partial.len() < 5 {
                return Ok(false);
            }
        }
        let total = checked_total_bytes(&self.partial, self.max_message_bytes)?;
        let take = (total - self.partial.len()).min(input.len());
        self.partial.extend_from_slice(&input[..take]);
        *input = &input[take..];
        Ok(self.partial.len() == total)
    }

    /// Handles one whole message (type byte, length word, body).
    fn handle(&mut self, message: &[u8], out: &mut Vec<u8>) -> Flow {
        self.messages_count += 1;
        if self.messages_count > MAX_STARTUP_MESSAGES {
            return self.fail(local(
                sqlstate::PROTOCOL_VIOLATION,
                format!(
                    "upstream sent over {MAX_STARTUP_MESSAGES} messages without finishing startup"
                ),
            ));
        }
        let tag = message[0];
        let body = &message[5..];
        match tag {
            b'E' => {
                self.phase = Phase::Finished;
                return match parse_error_response(message) {
                    Ok(e) => Flow::Failed(StartupError::Upstream(e)),
                    Err(e) => Flow::Failed(StartupError::Local(e)),
                };
            }
            // A notice at login (say, a password about to expire) concerns
            // this connection only and no client is attached yet.
            b'N' => return Flow::Continue,
            _ => {}
        }
        let phase = std::mem::replace(&mut self.phase, Phase::Finished);
        let result = match (phase, tag) {
            (phase, b'R') => self.authentication(phase, body, out),
            (Phase::AwaitingAuth, b'v') => {
                negotiate_protocol_version(body).map(|()| self.phase = Phase::AwaitingAuth)
            }
            (Phase::AwaitingReady, b'S') => self.parameter_status(body),
            (Phase::AwaitingReady, b'K') => self.backend_key_data(body),
            (Phase::AwaitingReady, b'Z') => {
                return match ready_for_query(body) {
                    Ok(status) => Flow::Ready(status),
                    Err(e) => self.fail(e),
                }
            }
            (phase, tag) => Err(local(
                sqlstate::PROTOCOL_VIOLATION,
                format!(
                    "unexpected message type {} from upstream {}",
                    describe_tag(tag),
                    phase.describe()
                ),
            )),
        };
        match result {
            Ok(()) => Flow::Continue,
            Err(e) => self.fail(e),
        }
    }

    /// An Authentication* message. Sets the next phase on success.
    fn authentication(
        &mut self,
        phase: Phase,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), PgError> {
        let [a, b, c, d, data @ ..] = body else {
            return Err(malformed("authentication request"));
        };
        let code = i32::from_be_bytes([*a, *b, *c, *d]);
        let next = match (phase, code) {
            (Phase::AwaitingAuth, 0) => {
                self.auth_method = AuthMethod::Trust;
                Phase::AwaitingReady
            }
            (Phase::SentPassword | Phase::ScramVerified, 0) => Phase::AwaitingReady,
            (Phase::ScramSentFirst(_) | Phase::ScramSentFinal(_), 0) => {
                // Believing it would let a server that never proved it
                // knows the password stand in for the real one.
                return Err(local(
                    UNABLE_TO_CONNECT,
                    "upstream sent AuthenticationOk before completing SCRAM authentication",
                ));
            }
            (Phase::AwaitingAuth, 3) => {
                let password = self.password_for("a cleartext password")?;
                password_message(out, password.as_bytes());
                self.auth_method = AuthMethod::Cleartext;
                Phase::SentPassword
            }
            (Phase::AwaitingAuth, 5) => {
                let salt: [u8; 4] = data
                    .try_into()
                    .map_err(|_| malformed("AuthenticationMD5Password"))?;
                let password = self.password_for("an md5 password")?;
                let hash = md5_hash(self.user.as_bytes(), password.as_bytes(), salt);
                password_message(out, hash.as_bytes());
                self.auth_method = AuthMethod::Md5;
                Phase::SentPassword
            }
            (Phase::AwaitingAuth, 10) => {
                choose_sasl_mechanism(data)?;
                let password = self.password_for("a SCRAM-SHA-256 password")?;
                // "n,,": this client does not do channel binding, which
                // is honest without TLS and what libpq sends then too.
                let scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
                sasl_initial_response(out, scram.message());
                self.auth_method = AuthMethod::ScramSha256;
                Phase::ScramSentFirst(Box::new(scram))
            }
            (Phase::ScramSentFirst(mut scram), 11) => {
                scram.update(data).map_err(|e| {
                    local(
                        UNABLE_TO_CONNECT,
                        format!("upstream SCRAM server-first-message rejected: {e}"),
                    )
                })?;
                write_message(out, b'p', &[scram.message()]);
                Phase::ScramSentFinal(scram)
            }
            (Phase::ScramSentFinal(mut scram), 12) => {
                scram.finish(data).map_err(|e| {
                    local(
                        UNABLE_TO_CONNECT,
                        format!("upstream SCRAM server signature did not verify: {e}"),
                    )
                })?;
                Phase::ScramVerified
            }
            (Phase::AwaitingAuth, code @ (2 | 6 | 7 | 9)) => {
                let method = match code {
                    2 => "Kerberos V5",
                    6 => "SCM credentials",
                    7 => "GSSAPI",
                    _ => "SSPI",
                };
                return Err(local(
                    UNABLE_TO_CONNECT,
                    format!(
                        "upstream asks for {method} authentication, which corewire does not support"
                    ),
                )
                .with_hint("use scram-sha-256, md5 or trust for corewire's role in pg_hba.conf"));
            }
            (Phase::AwaitingAuth, code) if !(8..=12).contains(&code) => {
                return Err(local(
                    UNABLE_TO_CONNECT,
                    format!("upstream asks for unknown authentication method {code}"),
                ))
            }
            (phase, code) => {
                return Err(local(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!(
                        "unexpected authentication request {code} from upstream {}",
                        phase.describe()
                    ),
                ))
            }
        };
        self.phase = next;
        Ok(())
    }

    fn password_for(&self, what: &str) -> Result<&str, PgError> {
        self.password.as_deref().ok_or_else(|| {
            local(
                UNABLE_TO_CONNECT,
                format!(
                    "upstream asks for {what} for user \"{}\", but none is configured",
                    self.user
                ),
            )
        })
    }

    fn parameter_status(&mut self, body: &[u8]) -> Result<(), PgError> {
        let mut rest = body;
        let name = take_cstr(&mut rest).ok_or_else(|| malformed("ParameterStatus"))?;
        let value = take_cstr(&mut rest).ok_or_else(|| malformed("ParameterStatus"))?;
        if !rest.is_empty() {
            return Err(malformed("ParameterStatus"));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        if self.parameters.len() >= MAX_PARAMETERS && !self.parameters.contains_key(&name) {
            return Err(local(
                sqlstate::PROTOCOL_VIOLATION,
                format!("upstream reported over {MAX_PARAMETERS} parameters"),
            ));
        }
        let value = String::from_utf8_lossy(value).into_owned();
        self.parameters.insert(name, value);
        self.phase = Phase::AwaitingReady;
        Ok(())
    }

    fn backend_key_data(&mut self, body: &[u8]) -> Result<(), PgError> {
        // Protocol 3.0 keys are two Int32s; 3.2's longer keys only come to
        // clients that ask for 3.2, and this one does not.
        let [p0, p1, p2, p3, s0, s1, s2, s3] = body else {
            return Err(malformed("BackendKeyData"));
        };
        self.backend_key = Some(BackendKey {
            process_id: i32::from_be_bytes([*p0, *p1, *p2, *p3]),
            secret_key: i32::from_be_bytes([*s0, *s1, *s2, *s3]),
        });
        self.phase = Phase::AwaitingReady;
        Ok(())
    }
}

/// The CancelRequest packet for `key`. Send it on a new connection to the
/// backend's server, which acts on it (or not) and closes the connection
/// without replying.
pub fn cancel_request(key: BackendKey) -> [u8; 16] {
    let mut packet = [0u8; 16];
    packet[0..4].copy_from_slice(&16u32.to_be_bytes());
    packet[4..8].copy_from_slice(&CANCEL_REQUEST_CODE.to_be_bytes());
    packet[8..12].copy_from_slice(&key.process_id.to_be_bytes());
    packet[12..16].copy_from_slice(&key.secret_key.to_be_bytes());
    packet
}

fn local(code: &'static str, message: impl Into<String>) -> PgError {
    PgError::fatal(code, message)
}

fn malformed(what: &str) -> PgError {
    local(
        sqlstate::PROTOCOL_VIOLATION,
        format!("malformed {what} from upstream"),
    )
}

fn length_word(header: &[u8]) -> usize {
    u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize
}

/// The whole size of the message at the start of `input` (type byte
/// included) if all of it is there; None if more is needed. A length word
/// over `max_message_bytes` fails as soon as the header is in.
fn message_bytes(input: &[u8], max_message_bytes: usize) -> Result<Option<usize>, PgError> {
    if input.len() < 5 {
        return Ok(None);
    }
    let total = checked_total_bytes(input, max_message_bytes)?;
    Ok((input.len() >= total).then_some(total))
}

/// The whole size (type byte included) that a message's header announces,
/// checked against the cap. `header` holds at least the 5 header bytes.
fn checked_total_bytes(header: &[u8], max_message_bytes: usize) -> Result<usize, PgError> {
    let length = length_word(header);
    if length < 4 {
        return Err(local(
            sqlstate::PROTOCOL_VIOLATION,
            format!("invalid message length {length} from upstream"),
        ));
    }
    if length > max_message_bytes {
        return Err(local(
            sqlstate::PROTOCOL_VIOLATION,
            format!(
                "upstream sent a {}-message of {length} bytes during startup, over the limit of {max_message_bytes} bytes",
                describe_tag(header[0])
            ),
        ));
    }
    Ok(length + 1)
}

/// A type byte for a message: the letter, or its number when unprintable.
fn describe_tag(tag: u8) -> String {
    if tag.is_ascii_graphic() {
        format!("'{}'", tag as char)
    } else {
        tag.to_string()
    }
}

/// Splits a NUL-terminated string off the front of `rest`.
fn take_cstr<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let nul = rest.iter().position(|&b| b == 0)?;
    let text = &rest[..nul];
    *rest = &rest[nul + 1..];
    Some(text)
}

fn parse_error_response(message: &[u8]) -> Result<UpstreamError, PgError> {
    let mut rest = &message[5..];
    let mut fields = Vec::new();
    loop {
        match rest.split_first() {
            Some((0, [])) => break,
            Some((&kind, tail)) if kind != 0 => {
                rest = tail;
                let value = take_cstr(&mut rest).ok_or_else(|| malformed("ErrorResponse"))?;
                fields.push((kind, String::from_utf8_lossy(value).into_owned()));
            }
            _ => return Err(malformed("ErrorResponse")),
        }
    }
    Ok(UpstreamError {
        raw: message.to_vec(),
        fields,
    })
}

/// NegotiateProtocolVersion. This client asks for 3.0 with no `_pq_.`
/// options, so the only acceptable form lists no unrecognised options.
fn negotiate_protocol_version(body: &[u8]) -> Result<(), PgError> {
    let [_, _, _, _, c0, c1, c2, c3, ..] = body else {
        return Err(malformed("NegotiateProtocolVersion"));
    };
    let options = i32::from_be_bytes([*c0, *c1, *c2, *c3]);
    if options != 0 {
        return Err(local(
            sqlstate::PROTOCOL_VIOLATION,
            format!("upstream refused {options} protocol options this client never sent"),
        ));
    }
    Ok(())
}

fn ready_for_query(body: &[u8]) -> Result<TxnStatus, PgError> {
    match body {
        [b'I'] => Ok(TxnStatus::Idle),
        [b'T'] => Ok(TxnStatus::InBlock),
        [b'E'] => Ok(TxnStatus::Failed),
        _ => Err(malformed("ReadyForQuery")),
    }
}

/// Picks SCRAM-SHA-256 from AuthenticationSASL's mechanism list (C strings
/// ended by an empty one), also when -PLUS is offered beside it.
fn choose_sasl_mechanism(data: &[u8]) -> Result<(), PgError> {
    let mut rest = data;
    let mut offered = Vec::new();
    while let Some(name) = take_cstr(&mut rest) {
        if name.is_empty() {
            break;
        }
        if name == SCRAM_SHA_256.as_bytes() {
            return Ok(());
        }
        // Enough to name them in the error; a hostile list stops here.
        if offered.len() < 16 {
            offered.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    if offered.iter().any(|m| m == SCRAM_SHA_256_PLUS) {
        return Err(local(
            UNABLE_TO_CONNECT,
            "upstream offers only SCRAM-SHA-256-PLUS, which needs channel binding over TLS; corewire does not speak TLS upstream",
        ));
    }
    let mut list = offered.join(", ");
    if list.len() > 200 {
        let mut cut = 200;
        while !list.is_char_boundary(cut) {
            cut -= 1;
        }
        list.truncate(cut);
        list.push('…');
    }
    Err(local(
        UNABLE_TO_CONNECT,
        format!("upstream offers no SASL mechanism corewire supports (offered: {list})"),
    ))
}

/// Appends one frontend message: type byte, length word, `parts`.
fn write_message(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let body_bytes: usize = parts.iter().map(|p| p.len()).sum();
    out.push(tag);
    // Bodies here are a password, a hash or a SCRAM message: far below
    // 2 GiB (the password is capped at begin).
    out.extend_from_slice(&((body_bytes + 4) as u32).to_be_bytes());
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// PasswordMessage: the password (or md5 hash) as a C string.
fn password_message(out: &mut Vec<u8>, password: &[u8]) {
    write_message(out, b'p', &[password, &[0]]);
}

/// SASLInitialResponse for SCRAM-SHA-256 with the client-first-message.
fn sasl_initial_response(out: &mut Vec<u8>, client_first: &[u8]) {
    let data_bytes = (client_first.len() as u32).to_be_bytes();
    write_message(
        out,
        b'p',
        &[SCRAM_SHA_256.as_bytes(), &[0], &data_bytes, client_first],
    );
}

/// Appends the StartupMessage, or fails appending nothing.
fn write_startup_message(login: &UpstreamLogin, out: &mut Vec<u8>) -> Result<(), PgError> {
    let invalid = |message: String| local(UNABLE_TO_CONNECT, message);
    if login.user.is_empty() {
        return Err(invalid("upstream user name is empty".into()));
    }
    let mut pairs: Vec<(&str, &str)> = vec![("user", login.user.as_str())];
    if !login.database.is_empty() {
        pairs.push(("database", login.database.as_str()));
    }
    for (name, value) in &login.parameters {
        if name.is_empty() || name == "user" || name == "database" {
            return Err(invalid(format!(
                "startup parameter {name:?} is empty or repeats user/database"
            )));
        }
        if name.starts_with("_pq_.") {
            return Err(invalid(format!(
                "startup parameter {name:?} is a protocol option, which this client does not negotiate"
            )));
        }
        pairs.push((name, value));
    }
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(invalid(format!(
            "startup parameter {:?} contains a NUL byte",
            name.replace('\0', "\\0")
        )));
    }
    let packet_bytes = 4
        + 4
        + pairs
            .iter()
            .map(|(n, v)| n.len() + v.len() + 2)
            .sum::<usize>()
        + 1;
    if packet_bytes > MAX_STARTUP_PACKET_BYTES {
        return Err(invalid(format!(
            "startup packet of {packet_bytes} bytes is over PostgreSQL's limit of {MAX_STARTUP_PACKET_BYTES} bytes"
        )));
    }
    out.reserve(packet_bytes);
    out.extend_from_slice(&(packet_bytes as u32).to_be_bytes());
    out.extend_from_slice(&PROTOCOL_3_0.to_be_bytes());
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out.push(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::auth::{md5_response_ok, ScramServer, ScramVerifier, Secret};

    fn login(user: &str, password: Option<&str>) -> UpstreamLogin {
        UpstreamLogin {
            user: user.into(),
            database: "app".into(),
            password: password.map(str::to_string),
            parameters: vec![("application_name".into(), "corewire".into())],
        }
    }

    fn start(login: &UpstreamLogin) -> UpstreamStartup {
        let mut out = Vec::new();
        UpstreamStartup::begin(login, DEFAULT_MAX_MESSAGE_BYTES, &mut out).expect("valid login")
    }

    /// A backend message: tag, length word, body.
    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn auth(code: i32, data: &[u8]) -> Vec<u8> {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(data);
        msg(b'R', &body)
    }

    fn param(name: &str, value: &str) -> Vec<u8> {
        msg(b'S', format!("{name}\0{value}\0").as_bytes())
    }

    fn key_data(pid: i32, secret: i32) -> Vec<u8> {
        let mut body = pid.to_be_bytes().to_vec();
        body.extend_from_slice(&secret.to_be_bytes());
        msg(b'K', &body)
    }

    /// What follows AuthenticationOk from PostgreSQL, in short.
    fn after_auth_ok() -> Vec<u8> {
        [
            param("server_version", "15.14"),
            param("integer_datetimes", "on"),
            key_data(4242, -559038737),
            msg(b'Z', b"I"),
        ]
        .concat()
    }

    fn error_response(fields: &[(u8, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (kind, value) in fields {
            body.push(*kind);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
        msg(b'E', &body)
    }

    /// Feeds `input` in pieces of `chunk_bytes`; collects what was written
    /// and returns the first terminal step (or the last step).
    fn feed_chunked(
        startup: &mut UpstreamStartup,
        input: &[u8],
        chunk_bytes: usize,
        out: &mut Vec<u8>,
    ) -> Step {
        let mut last = Step::NeedInput;
        for chunk in input.chunks(chunk_bytes) {
            last = startup.feed(chunk, out);
            if matches!(last, Step::Ready(_) | Step::Failed(_)) {
                return last;
            }
        }
        last
    }

    fn expect_ready(step: Step) -> UpstreamReady {
        match step {
            Step::Ready(ready) => ready,
            other => panic!("expected Ready, got {other:?}"),
        }
    }

    fn expect_local(step: Step) -> PgError {
        match step {
            Step::Failed(StartupError::Local(e)) => e,
            other => panic!("expected a local failure, got {other:?}"),
        }
    }

    #[test]
    fn startup_message_is_byte_exact() {
        let mut out = b"kept".to_vec();
        UpstreamStartup::begin(&login("alice", None), DEFAULT_MAX_MESSAGE_BYTES, &mut out)
            .expect("valid login");
        let mut expected = b"kept".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 59, 0, 3, 0, 0]);
        expected.extend_from_slice(b"user\0alice\0database\0app\0application_name\0corewire\0\0");
        assert_eq!(out, expected);

        // No database: the server defaults it to the user.
        let mut out = Vec::new();
        let bare = UpstreamLogin {
            database: String::new(),
            parameters: Vec::new(),
            ..login("bob", None)
        };
        UpstreamStartup::begin(&bare, DEFAULT_MAX_MESSAGE_BYTES, &mut out).expect("valid login");
        assert_eq!(out, b"\0\0\0\x12\0\x03\0\0user\0bob\0\0");
    }

    #[test]
    fn invalid_logins_are_refused_without_output() {
        let cases = [
            UpstreamLogin {
                user: String::new(),
                ..login("x", None)
            },
            UpstreamLogin {
                database: "a\0b".into(),
                ..login("x", None)
            },
            UpstreamLogin {
                parameters: vec![("user".into(), "y".into())],
                ..login("x", None)
            },
            UpstreamLogin {
                parameters: vec![("_pq_.x".into(), "1".into())],
                ..login("x", None)
            },
            UpstreamLogin {
                parameters: vec![(String::new(), "1".into())],
                ..login("x", None)
            },
            UpstreamLogin {
                parameters: vec![("options".into(), "x".repeat(10_000))],
                ..login("x", None)
            },
            login("x", Some("pass\0word")),
            login("x", Some(&"p".repeat(MAX_PASSWORD_BYTES + 1))),
        ];
        for case in cases {
            let mut out = Vec::new();
            let error = UpstreamStartup::begin(&case, DEFAULT_MAX_MESSAGE_BYTES, &mut out)
                .expect_err("refused");
            assert_eq!(error.code, "08001", "{error}");
            assert!(out.is_empty(), "{case:?} wrote {out:?}");
        }
        // The longest packet PostgreSQL takes is fine.
        let fill = 10_000 - (4 + 4 + 7 + 13 + 8 + 1 + 1);
        let longest = UpstreamLogin {
            parameters: vec![("options".into(), "x".repeat(fill))],
            ..login("x", None)
        };
        let mut out = Vec::new();
        UpstreamStartup::begin(&longest, DEFAULT_MAX_MESSAGE_BYTES, &mut out).expect("fits");
        assert_eq!(out.len(), 10_000);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let text = format!("{:?}", login("alice", Some("hunter2")));
        assert!(!text.contains("hunter2"), "{text}");
        let key = BackendKey {
            process_id: 7,
            secret_key: 123_456_789,
        };
        assert!(!format!("{key:?}").contains("123456789"));
    }

    #[test]
    fn trust_login_in_any_split() {
        let input = [auth(0, &[]), after_auth_ok()].concat();
        // Whole, every two-piece split, and one byte at a time.
        let mut splits: Vec<Vec<&[u8]>> = vec![vec![&input[..]]];
        for at in 1..input.len() {
            splits.push(vec![&input[..at], &input[at..]]);
        }
        splits.push(input.chunks(1).collect());
        for pieces in splits {
            let mut startup = start(&login("alice", None));
            let mut out = Vec::new();
            let mut step = Step::NeedInput;
            for (i, piece) in pieces.iter().enumerate() {
                step = startup.feed(piece, &mut out);
                if i + 1 < pieces.len() {
                    assert!(matches!(step, Step::NeedInput), "piece {i}: {step:?}");
                }
            }
            let ready = expect_ready(step);
            assert!(out.is_empty(), "trust writes nothing");
            assert_eq!(ready.auth_method, AuthMethod::Trust);
            assert_eq!(
                ready.backend_key,
                Some(BackendKey {
                    process_id: 4242,
                    secret_key: -559038737
                })
            );
            assert_eq!(ready.parameters["server_version"], "15.14");
            assert_eq!(ready.parameters["integer_datetimes"], "on");
            assert_eq!(ready.parameters.len(), 2);
            assert_eq!(ready.txn_status, TxnStatus::Idle);
            assert!(ready.trailing_bytes.is_empty());
        }
    }

    #[test]
    fn cleartext_password() {
        let mut startup = start(&login("alice", Some("s3cret")));
        let mut out = Vec::new();
        let step = startup.feed(&auth(3, &[]), &mut out);
        assert!(matches!(step, Step::Responded), "{step:?}");
        assert_eq!(out, b"p\0\0\0\x0bs3cret\0");
        out.clear();
        let input = [auth(0, &[]), after_auth_ok()].concat();
        let ready = expect_ready(startup.feed(&input, &mut out));
        assert_eq!(ready.auth_method, AuthMethod::Cleartext);
        assert!(out.is_empty());
    }

    #[test]
    fn md5_password_one_byte_at_a_time() {
        // The vector from postgres-protocol's own md5 test.
        let salt = [0x2a, 0x3d, 0x8f, 0xe0];
        let mut startup = start(&login("md5_user", Some("password")));
        let mut out = Vec::new();
        let step = feed_chunked(&mut startup, &auth(5, &salt), 1, &mut out);
        assert!(matches!(step, Step::Responded), "{step:?}");
        assert_eq!(out, b"p\0\0\0\x28md562af4dd09bbb41884907a838a3233294\0");
        // The server side of this crate agrees.
        let secret = Secret::parse("password").expect("secret");
        assert!(md5_response_ok(&secret, "md5_user", salt, &out[5..]));
        out.clear();
        let input = [auth(0, &[]), after_auth_ok()].concat();
        let ready = expect_ready(feed_chunked(&mut startup, &input, 1, &mut out));
        assert_eq!(ready.auth_method, AuthMethod::Md5);
        assert!(out.is_empty());
    }

    /// Runs SCRAM against this crate's server side, feeding `chunk_bytes`
    /// at a time; `tamper` may change the server-final-message.
    fn scram_exchange(
        mechanisms: &[u8],
        chunk_bytes: usize,
        tamper: impl FnOnce(&mut Vec<u8>),
    ) -> Step {
        let verifier = ScramVerifier::from_password("pencil", b"salt and pepper", 16);
        let mut server = ScramServer::new(&verifier, [7; 18]);
        let mut startup = start(&login("scram_user", Some("pencil")));
        let mut out = Vec::new();

        let step = feed_chunked(&mut startup, &auth(10, mechanisms), chunk_bytes, &mut out);
        assert!(matches!(step, Step::Responded), "{step:?}");
        // SASLInitialResponse: mechanism, data length, "n,,n=,r=" + nonce.
        let first = out.split_off(0);
        assert_eq!(first[0], b'p');
        assert_eq!(length_word(&first) + 1, first.len());
        let body = &first[5..];
        assert_eq!(&body[..14], b"SCRAM-SHA-256\0");
        let data = &body[18..];
        assert_eq!(&body[14..18], &(data.len() as u32).to_be_bytes());
        assert!(
            data.starts_with(b"n,,n=,r="),
            "{:?}",
            String::from_utf8_lossy(data)
        );
        assert_eq!(data.len(), 8 + 24, "24-character client nonce");

        let server_first = server.client_first(data).expect("client-first accepted");
        let step = feed_chunked(
            &mut startup,
            &auth(11, &server_first),
            chunk_bytes,
            &mut out,
        );
        assert!(matches!(step, Step::Responded), "{step:?}");
        // SASLResponse: the client-final-message, whose proof checks out.
        let second = out.split_off(0);
        assert_eq!(second[0], b'p');
        assert_eq!(length_word(&second) + 1, second.len());
        let mut server_final = server.client_final(&second[5..]).expect("proof verifies");
        tamper(&mut server_final);

        let input = [auth(12, &server_final), auth(0, &[]), after_auth_ok()].concat();
        let step = feed_chunked(&mut startup, &input, chunk_bytes, &mut out);
        assert!(out.is_empty());
        step
    }

    #[test]
    fn scram_sha_256_whole_and_split() {
        for chunk_bytes in [usize::MAX, 1, 3, 7] {
            let ready = expect_ready(scram_exchange(b"SCRAM-SHA-256\0\0", chunk_bytes, |_| {}));
            assert_eq!(ready.auth_method, AuthMethod::ScramSha256);
            assert_eq!(ready.backend_key.map(|k| k.process_id), Some(4242));
        }
    }

    #[test]
    fn scram_plus_offered_beside_plain_chooses_plain() {
        let ready = expect_ready(scram_exchange(
            b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0",
            usize::MAX,
            |_| {},
        ));
        assert_eq!(ready.auth_method, AuthMethod::ScramSha256);
    }

    #[test]
    fn scram_bad_server_signature_fails() {
        let step = scram_exchange(b"SCRAM-SHA-256\0\0", usize::MAX, |server_final| {
            // v=<base64>: change one signature character (not the last,
            // whose low bits are padding).
            server_final[10] = if server_final[10] == b'A' { b'B' } else { b'A' };
        });
        let error = expect_local(step);
        assert_eq!(error.code, "08001");
        assert!(
            error.message.contains("server signature"),
            "{}",
            error.message
        );
    }

    #[test]
    fn scram_ok_before_final_is_refused() {
        let mut startup = start(&login("scram_user", Some("pencil")));
        let mut out = Vec::new();
        startup.feed(&auth(10, b"SCRAM-SHA-256\0\0"), &mut out);
        let error = expect_local(startup.feed(&auth(0, &[]), &mut out));
        assert!(
            error.message.contains("before completing SCRAM"),
            "{}",
            error.message
        );
    }

    #[test]
    fn sasl_without_a_usable_mechanism() {
        let mut out = Vec::new();
        let mut startup = start(&login("u", Some("p")));
        let error = expect_local(startup.feed(&auth(10, b"SCRAM-SHA-256-PLUS\0\0"), &mut out));
        assert!(
            error.message.contains("only SCRAM-SHA-256-PLUS"),
            "{}",
            error.message
        );

        let mut startup = start(&login("u", Some("p")));
        let error = expect_local(startup.feed(&auth(10, b"OAUTHBEARER\0\0"), &mut out));
        assert!(
            error.message.contains("offered: OAUTHBEARER"),
            "{}",
            error.message
        );
        assert!(out.is_empty());
    }

    #[test]
    fn unsupported_methods_are_named() {
        for (code, name) in [
            (2, "Kerberos V5"),
            (6, "SCM credentials"),
            (7, "GSSAPI"),
            (9, "SSPI"),
        ] {
            let mut startup = start(&login("u", Some("p")));
            let mut out = Vec::new();
            let error = expect_local(startup.feed(&auth(code, &[]), &mut out));
            assert_eq!(error.code, "08001");
            assert!(error.message.contains(name), "{}", error.message);
            assert!(out.is_empty());
        }
        let mut startup = start(&login("u", Some("p")));
        let error = expect_local(startup.feed(&auth(42, &[]), &mut Vec::new()));
        assert!(error.message.contains("unknown authentication method 42"));
        // SASLContinue with no exchange under way is out of order.
        let mut startup = start(&login("u", Some("p")));
        let error = expect_local(startup.feed(&auth(11, b"r=x"), &mut Vec::new()));
        assert_eq!(error.code, "08P01");
    }

    #[test]
    fn password_requested_but_not_configured() {
        for (code, data) in [
            (3, &[][..]),
            (5, &[1, 2, 3, 4][..]),
            (10, &b"SCRAM-SHA-256\0\0"[..]),
        ] {
            let mut startup = start(&login("nopass", None));
            let mut out = Vec::new();
            let error = expect_local(startup.feed(&auth(code, data), &mut out));
            assert!(
                error
                    .message
                    .contains("for user \"nopass\", but none is configured"),
                "{}",
                error.message
            );
            assert!(out.is_empty());
        }
    }

    #[test]
    fn upstream_error_is_kept_unchanged() {
        let error = error_response(&[
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28P01"),
            (b'M', "password authentication failed for user \"alice\""),
            (b'F', "auth.c"),
            (b'L', "326"),
            (b'R', "auth_failed"),
        ]);
        let mut startup = start(&login("alice", Some("wrong")));
        let mut out = Vec::new();
        startup.feed(&auth(3, &[]), &mut out);
        match feed_chunked(&mut startup, &error, 1, &mut out) {
            Step::Failed(StartupError::Upstream(e)) => {
                assert_eq!(e.raw, error);
                assert_eq!(e.code(), Some("28P01"));
                assert_eq!(e.severity(), Some("FATAL"));
                assert_eq!(
                    e.message(),
                    Some("password authentication failed for user \"alice\"")
                );
                assert_eq!(e.fields.len(), 7);
                assert_eq!(e.fields[4], (b'F', "auth.c".to_string()));
                assert_eq!(
                    e.to_string(),
                    "FATAL: password authentication failed for user \"alice\" (28P01)"
                );
            }
            other => panic!("expected the upstream error, got {other:?}"),
        }
        // After AuthenticationOk too (3D000 comes after authentication).
        let mut startup = start(&login("alice", None));
        let input = [
            auth(0, &[]),
            error_response(&[(b'S', "FATAL"), (b'C', "3D000")]),
        ]
        .concat();
        let step = startup.feed(&input, &mut out);
        assert!(
            matches!(&step, Step::Failed(e) if e.code() == Some("3D000")),
            "{step:?}"
        );
        // A finished startup takes no more input.
        let error = expect_local(startup.feed(&auth(0, &[]), &mut out));
        assert!(error.message.contains("already finished"));
    }

    #[test]
    fn malformed_error_response_is_a_local_error() {
        let mut startup = start(&login("alice", None));
        let step = startup.feed(&msg(b'E', b"SFATAL\0CXX000"), &mut Vec::new());
        assert_eq!(expect_local(step).code, "08P01");
    }

    #[test]
    fn notices_are_skipped() {
        let notice = msg(b'N', b"SWARNING\0C01000\0Mpassword expires soon\0\0");
        let input = [notice.clone(), auth(0, &[]), notice, after_auth_ok()].concat();
        let ready = expect_ready(start(&login("a", None)).feed(&input, &mut Vec::new()));
        assert_eq!(ready.parameters.len(), 2);
    }

    #[test]
    fn oversized_message_fails_at_its_header() {
        let mut out = Vec::new();
        let mut startup =
            UpstreamStartup::begin(&login("a", None), 1024, &mut out).expect("valid login");
        // A header claiming 1 MiB: refused with 5 bytes in, nothing buffered.
        let mut header = vec![b'S'];
        header.extend_from_slice(&(1u32 << 20).to_be_bytes());
        let step = startup.feed(&auth(0, &[]), &mut out);
        assert!(matches!(step, Step::NeedInput));
        let mut step = Step::NeedInput;
        for (i, byte) in header.iter().enumerate() {
            step = startup.feed(std::slice::from_ref(byte), &mut out);
            if i < 4 {
                assert!(matches!(step, Step::NeedInput), "{step:?}");
            }
        }
        let error = expect_local(step);
        assert!(
            error.message.contains("over the limit of 1024 bytes"),
            "{}",
            error.message
        );
        assert!(startup.partial.len() <= 5);

        // At the limit is fine, split or whole.
        let value = "v".repeat(1024 - 4 - 2 - 1);
        let input = [auth(0, &[]), param("x", &value), after_auth_ok()].concat();
        for chunk_bytes in [1, 100, usize::MAX] {
            let mut startup =
                UpstreamStartup::begin(&login("a", None), 1024, &mut out).expect("valid login");
            let ready = expect_ready(feed_chunked(&mut startup, &input, chunk_bytes, &mut out));
            assert_eq!(ready.parameters["x"], value);
        }
    }

    #[test]
    fn out_of_order_and_malformed_messages() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (msg(b'Z', b"I"), "unexpected message type 'Z'"),
            (param("a", "b"), "unexpected message type 'S'"),
            (
                [auth(0, &[]), auth(0, &[])].concat(),
                "unexpected authentication request 0",
            ),
            (
                [auth(0, &[]), msg(b'K', &[0; 12])].concat(),
                "malformed BackendKeyData",
            ),
            (
                [auth(0, &[]), msg(b'Z', b"X")].concat(),
                "malformed ReadyForQuery",
            ),
            (
                [auth(0, &[]), msg(b'S', b"a\0b")].concat(),
                "malformed ParameterStatus",
            ),
            (
                [auth(0, &[]), msg(b'S', b"a\0b\0c")].concat(),
                "malformed ParameterStatus",
            ),
            (msg(b'R', &[0, 0]), "malformed authentication request"),
            (auth(5, &[1, 2, 3]), "malformed AuthenticationMD5Password"),
            (msg(7, &[]), "unexpected message type 7"),
            (vec![b'R', 0, 0, 0, 3], "invalid message length 3"),
        ];
        for (input, expected) in cases {
            let mut startup = start(&login("a", Some("p")));
            let error = expect_local(startup.feed(&input, &mut Vec::new()));
            assert_eq!(error.code, "08P01", "{expected}");
            assert!(
                error.message.contains(expected),
                "{} vs {expected}",
                error.message
            );
        }
    }

    #[test]
    fn negotiate_protocol_version() {
        let mut body = 0i32.to_be_bytes().to_vec();
        body.extend_from_slice(&0i32.to_be_bytes());
        let input = [msg(b'v', &body), auth(0, &[]), after_auth_ok()].concat();
        expect_ready(start(&login("a", None)).feed(&input, &mut Vec::new()));

        let mut body = 0i32.to_be_bytes().to_vec();
        body.extend_from_slice(&1i32.to_be_bytes());
        body.extend_from_slice(b"_pq_.x\0");
        let error = expect_local(start(&login("a", None)).feed(&msg(b'v', &body), &mut Vec::new()));
        assert!(
            error.message.contains("protocol options"),
            "{}",
            error.message
        );
    }

    #[test]
    fn parameter_count_is_bounded() {
        let mut input = auth(0, &[]);
        for i in 0..MAX_PARAMETERS {
            input.extend(param(&format!("p{i}"), "v"));
        }
        // Repeating a known one is fine; a new one is one too many.
        input.extend(param("p0", "again"));
        let mut startup = start(&login("a", None));
        assert!(matches!(
            startup.feed(&input, &mut Vec::new()),
            Step::NeedInput
        ));
        let error = expect_local(startup.feed(&param("extra", "v"), &mut Vec::new()));
        assert!(
            error.message.contains("over 256 parameters"),
            "{}",
            error.message
        );
    }

    #[test]
    fn message_count_is_bounded() {
        let notice = msg(b'N', b"\0");
        let input = notice.repeat(MAX_STARTUP_MESSAGES + 1);
        let error = expect_local(start(&login("a", None)).feed(&input, &mut Vec::new()));
        assert!(
            error.message.contains("without finishing startup"),
            "{}",
            error.message
        );
    }

    #[test]
    fn trailing_bytes_after_ready_are_handed_back() {
        let notice = msg(b'N', b"SNOTICE\0\0");
        let input = [auth(0, &[]), after_auth_ok(), notice.clone()].concat();
        let ready = expect_ready(start(&login("a", None)).feed(&input, &mut Vec::new()));
        assert_eq!(ready.trailing_bytes, notice);
        assert_eq!(ready.txn_status, TxnStatus::Idle);
    }

    #[test]
    fn eof_during_startup() {
        let mut startup = start(&login("a", None));
        assert!(matches!(
            startup.feed(&auth(0, &[])[..3], &mut Vec::new()),
            Step::NeedInput
        ));
        let error = expect_local(startup.feed_eof());
        assert_eq!(error.code, "08006");
        assert_eq!(
            error.message,
            "upstream closed the connection while waiting for an authentication request, in the middle of a message"
        );
    }

    #[test]
    fn cancel_request_is_byte_exact() {
        let packet = cancel_request(BackendKey {
            process_id: 4242,
            secret_key: -559038737,
        });
        assert_eq!(
            packet,
            [0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0x10, 0x92, 0xde, 0xad, 0xbe, 0xef]
        );
    }
}
