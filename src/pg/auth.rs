//! Server-side PostgreSQL password authentication: md5 and SCRAM-SHA-256
//! (RFC 5802 / RFC 7677, as PostgreSQL's auth-scram.c implements them).
//!
//! Pure: no sockets, no clock. The session state machine frames the
//! messages (AuthenticationSASL, SASLInitialResponse, ...) and feeds the
//! SASL payloads to [`ScramServer`], or an md5 PasswordMessage to
//! [`md5_response_ok`]. Only `SCRAM-SHA-256` is offered: without TLS there
//! is nothing to bind a `-PLUS` channel to.

use std::fmt;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::pg::error::{sqlstate, PgError};

type HmacSha256 = Hmac<Sha256>;

/// The only SASL mechanism offered (no `-PLUS`: no TLS, no channel binding).
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";

/// PostgreSQL's defaults for verifiers it derives itself.
pub const DEFAULT_ITERATIONS: u32 = 4096;
pub const DEFAULT_SALT_LEN: usize = 16;

/// Raw server nonce length, PostgreSQL's SCRAM_RAW_NONCE_LEN.
pub const SERVER_NONCE_LEN: usize = 18;

/// Longest SASL payload accepted. Real client messages are ~100 bytes;
/// the bound keeps a hostile client from making us parse megabytes.
pub const MAX_SCRAM_MESSAGE: usize = 1024;

/// Most comma-separated fields in one SCRAM message (gs2 header, n, r and
/// a couple of extensions; c, r, p and a couple of extensions).
const MAX_ATTRS: usize = 8;

const KEY_LEN: usize = 32;

// ---------------------------------------------------------------------------
// Secrets

/// A SCRAM-SHA-256 verifier: what pg_authid stores. Knowing it does not
/// reveal the password, but it does allow impersonating the server, so
/// it is not printed either.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; KEY_LEN],
    pub server_key: [u8; KEY_LEN],
}

impl ScramVerifier {
    /// Derives a verifier from a password. The password is used as raw
    /// bytes (no SASLprep normalization; see [`scram_verifier`]).
    /// Zero iterations are taken as one, PostgreSQL's minimum.
    pub fn from_password(password: &str, salt: &[u8], iterations: u32) -> ScramVerifier {
        let iterations = iterations.max(1);
        let salted =
            pbkdf2::pbkdf2_hmac_array::<Sha256, KEY_LEN>(password.as_bytes(), salt, iterations);
        let client_key = hmac(&salted, &[b"Client Key"]);
        ScramVerifier {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac(&salted, &[b"Server Key"]),
        }
    }

    /// Parses `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    pub fn parse(text: &str) -> Result<ScramVerifier, String> {
        let rest = text
            .strip_prefix("SCRAM-SHA-256$")
            .ok_or("SCRAM verifier must start with \"SCRAM-SHA-256$\"")?;
        let (params, keys) = rest
            .split_once('$')
            .ok_or("SCRAM verifier has no \"$\" between salt and keys")?;
        let (iter_text, salt_b64) = params
            .split_once(':')
            .ok_or("SCRAM verifier has no \":\" between iterations and salt")?;
        let (stored_b64, server_b64) = keys
            .split_once(':')
            .ok_or("SCRAM verifier has no \":\" between StoredKey and ServerKey")?;
        // u32::from_str accepts a leading '+'; PostgreSQL's format never has one.
        if iter_text.is_empty() || !iter_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "SCRAM iteration count {iter_text:?} is not a number"
            ));
        }
        let iterations: u32 = iter_text
            .parse()
            .map_err(|_| format!("SCRAM iteration count {iter_text:?} is out of range"))?;
        if iterations == 0 {
            return Err("SCRAM iteration count must be at least 1".into());
        }
        let salt = B64
            .decode(salt_b64)
            .map_err(|_| "SCRAM salt is not valid base64".to_string())?;
        if salt.is_empty() {
            return Err("SCRAM salt is empty".into());
        }
        Ok(ScramVerifier {
            iterations,
            salt,
            stored_key: decode_key(stored_b64, "StoredKey")?,
            server_key: decode_key(server_b64, "ServerKey")?,
        })
    }

    /// The pg_authid form, as [`ScramVerifier::parse`] reads it.
    pub fn to_pg_authid(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScramVerifier(..)")
    }
}

fn decode_key(b64: &str, what: &str) -> Result<[u8; KEY_LEN], String> {
    let bytes = B64
        .decode(b64)
        .map_err(|_| format!("SCRAM {what} is not valid base64"))?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| format!("SCRAM {what} is {} bytes, expected {KEY_LEN}", bytes.len()))
}

/// The pg_authid string for `password`, as PostgreSQL's
/// `scram_build_secret` makes it.
///
/// SASLprep: an ASCII password is its own normalization. For non-ASCII
/// the raw UTF-8 bytes are used, which is what PostgreSQL does when
/// SASLprep fails; it matches clients (libpq, rust-postgres) whenever the
/// password is already in SASLprep form (e.g. NFC text without mapped or
/// prohibited characters), the common case.
pub fn scram_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    ScramVerifier::from_password(password, salt, iterations).to_pg_authid()
}

/// A configured user's credential.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// A pg_authid SCRAM verifier; serves SCRAM only.
    Scram(ScramVerifier),
    /// `md5(password || username)` as 32 lowercase hex digits; serves md5
    /// only.
    Md5([u8; 32]),
    /// A plaintext password; serves both. The SCRAM verifier is derived
    /// once at parse time so each login does not pay for PBKDF2.
    Plain {
        password: String,
        scram: ScramVerifier,
    },
}

impl Secret {
    /// Reads a secret as pg_authid would hold it: a SCRAM verifier, an
    /// `md5` hash, or else a plaintext password (PostgreSQL's
    /// `get_password_type`). A string that claims to be a SCRAM verifier
    /// but does not parse is an error rather than a surprising plaintext
    /// password.
    pub fn parse(text: &str) -> Result<Secret, String> {
        if text.starts_with("SCRAM-SHA-256$") {
            return ScramVerifier::parse(text).map(Secret::Scram);
        }
        if let Some(hex) = md5_hex(text) {
            return Ok(Secret::Md5(hex));
        }
        if text.is_empty() {
            // PostgreSQL never stores an empty password either.
            return Err("empty password".into());
        }
        let salt: [u8; DEFAULT_SALT_LEN] = random_bytes();
        Ok(Secret::Plain {
            password: text.to_string(),
            scram: ScramVerifier::from_password(text, &salt, DEFAULT_ITERATIONS),
        })
    }

    /// The verifier SCRAM runs against; `None` for an md5 hash, which
    /// cannot serve SCRAM (PostgreSQL then runs a doomed mock exchange).
    pub fn scram_verifier(&self) -> Option<&ScramVerifier> {
        match self {
            Secret::Scram(v) => Some(v),
            Secret::Plain { scram, .. } => Some(scram),
            Secret::Md5(_) => None,
        }
    }

    /// Whether md5 auth can check this secret. PostgreSQL switches an md5
    /// login to SCRAM when only a SCRAM verifier is stored; the session
    /// should do the same when this is false.
    pub fn supports_md5(&self) -> bool {
        !matches!(self, Secret::Scram(_))
    }

    /// Kind only, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Secret::Scram(_) => "scram-sha-256",
            Secret::Md5(_) => "md5",
            Secret::Plain { .. } => "plaintext",
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.kind())
    }
}

/// `md5` + 32 lowercase hex digits, exactly PostgreSQL's test; anything
/// else (even uppercase hex) is a plaintext password there.
fn md5_hex(text: &str) -> Option<[u8; 32]> {
    let hex = text.strip_prefix("md5")?.as_bytes();
    if hex.len() != 32 || !hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    <[u8; 32]>::try_from(hex).ok()
}

// ---------------------------------------------------------------------------
// Failures

/// Why an authentication exchange failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// The client broke the protocol; the string is the detail
    /// (PostgreSQL: 08P01 "malformed SCRAM message" plus DETAIL).
    Malformed(String),
    /// Well-formed but the proof or hash did not match, or the user does
    /// not exist (28P01).
    WrongPassword,
}

impl AuthFailure {
    pub fn sqlstate(&self) -> &'static str {
        match self {
            AuthFailure::Malformed(_) => sqlstate::PROTOCOL_VIOLATION,
            AuthFailure::WrongPassword => sqlstate::INVALID_PASSWORD,
        }
    }

    /// The FATAL ErrorResponse to send; `user` is the startup user.
    pub fn to_pg_error(&self, user: &str) -> PgError {
        match self {
            AuthFailure::Malformed(detail) => {
                PgError::fatal(self.sqlstate(), "malformed SCRAM message").with_detail(detail)
            }
            AuthFailure::WrongPassword => {
                PgError::fatal(self.sqlstate(), password_failed_message(user))
            }
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFailure::Malformed(detail) => write!(f, "malformed SCRAM message: {detail}"),
            AuthFailure::WrongPassword => f.write_str("password authentication failed"),
        }
    }
}

/// PostgreSQL's 28P01 message (same for a wrong password and an unknown
/// user, so the reply does not reveal which).
pub fn password_failed_message(user: &str) -> String {
    format!("password authentication failed for user \"{user}\"")
}

fn malformed(detail: impl Into<String>) -> AuthFailure {
    AuthFailure::Malformed(detail.into())
}

// ---------------------------------------------------------------------------
// md5

/// Checks an md5 PasswordMessage payload: `"md5" + hex(md5(hex(md5(password
/// || user)) || salt))`, with or without its trailing NUL. A SCRAM-only
/// secret never matches.
pub fn md5_response_ok(secret: &Secret, user: &str, salt: [u8; 4], response: &[u8]) -> bool {
    let inner: [u8; 32] = match secret {
        Secret::Md5(hex) => *hex,
        Secret::Plain { password, .. } => hex32(
            &Md5::new()
                .chain_update(password)
                .chain_update(user)
                .finalize()
                .into(),
        ),
        Secret::Scram(_) => return false,
    };
    let response = response.strip_suffix(b"\0").unwrap_or(response);
    let mut expected = [0u8; 35];
    expected[..3].copy_from_slice(b"md5");
    expected[3..].copy_from_slice(&hex32(
        &Md5::new()
            .chain_update(inner)
            .chain_update(salt)
            .finalize()
            .into(),
    ));
    ct_eq(response, &expected)
}

fn hex32(digest: &[u8; 16]) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    out
}

// ---------------------------------------------------------------------------
// SCRAM-SHA-256

enum State {
    /// Waiting for client-first-message.
    Initial,
    /// Sent server-first-message; waiting for client-final-message.
    SentFirst {
        /// client-first-message-bare, for the AuthMessage.
        client_first_bare: Vec<u8>,
        server_first: Vec<u8>,
        /// What `c=` must decode to ("n,," or "y,,").
        gs2_header: Vec<u8>,
        /// client nonce + server nonce.
        nonce: Vec<u8>,
    },
    /// Finished, successfully or not; no retries on one exchange.
    Done,
}

/// One server-side SCRAM-SHA-256 exchange.
pub struct ScramServer {
    verifier: ScramVerifier,
    /// Base64 of the raw server nonce.
    server_nonce: String,
    /// Mock exchange for an unknown user (or one without a SCRAM-capable
    /// secret): runs to the end, then fails.
    doomed: bool,
    state: State,
}

impl fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScramServer(..)")
    }
}

impl ScramServer {
    /// An exchange against `verifier`. `server_nonce_bytes` must be fresh
    /// random bytes ([`random_bytes`]).
    pub fn new(
        verifier: &ScramVerifier,
        server_nonce_bytes: [u8; SERVER_NONCE_LEN],
    ) -> ScramServer {
        ScramServer::with_nonce(verifier.clone(), B64.encode(server_nonce_bytes), false)
    }

    /// A mock exchange for a user that does not exist: it looks like a
    /// real one (same user, same salt every time, default iterations) but
    /// `client_final` always fails with WrongPassword, so probing does not
    /// reveal which users exist.
    pub fn new_mock(user: &str, server_nonce_bytes: [u8; SERVER_NONCE_LEN]) -> ScramServer {
        ScramServer::with_nonce(mock_verifier(user), B64.encode(server_nonce_bytes), true)
    }

    /// What the session usually wants: a real exchange when the user
    /// exists with a SCRAM-capable secret, else a mock one (as PostgreSQL
    /// does for unknown users and for md5-only secrets).
    pub fn for_user(
        user: &str,
        secret: Option<&Secret>,
        server_nonce_bytes: [u8; SERVER_NONCE_LEN],
    ) -> ScramServer {
        match secret.and_then(Secret::scram_verifier) {
            Some(v) => ScramServer::new(v, server_nonce_bytes),
            None => ScramServer::new_mock(user, server_nonce_bytes),
        }
    }

    fn with_nonce(verifier: ScramVerifier, server_nonce: String, doomed: bool) -> ScramServer {
        ScramServer {
            verifier,
            server_nonce,
            doomed,
            state: State::Initial,
        }
    }

    /// Whether the exchange has finished (either way).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Takes the client-first-message (SASLInitialResponse data) and
    /// returns the server-first-message (AuthenticationSASLContinue data).
    pub fn client_first(&mut self, data: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        if !matches!(self.state, State::Initial) {
            self.state = State::Done;
            return Err(malformed("Unexpected client-first-message."));
        }
        // Any failure ends the exchange.
        self.state = State::Done;
        let parts = split_message(data)?;

        // gs2-cbind-flag: we never offer -PLUS, so "p=" is a protocol error;
        // "y" (client could bind but thinks we can't) is correct here.
        match parts[0] {
            b"n" | b"y" => {}
            p if p.starts_with(b"p=") => {
                return Err(malformed(
                    "The client selected SCRAM-SHA-256 without channel binding, \
                     but the SCRAM message includes channel binding data.",
                ))
            }
            other => {
                return Err(malformed(format!(
                    "Unexpected channel-binding flag \"{}\".",
                    printable(other)
                )))
            }
        }
        if parts.len() < 3 {
            return Err(malformed(
                "Expected attribute \"n\" but found end of string.",
            ));
        }
        let authzid = parts[1];
        if authzid.starts_with(b"a=") {
            return Err(malformed(
                "Client uses authorization identity, but it is not supported.",
            ));
        }
        if !authzid.is_empty() {
            return Err(malformed(format!(
                "Unexpected attribute \"{}\" in client-first-message.",
                printable(authzid)
            )));
        }
        // authzid is empty, so the header is the flag and two commas.
        let gs2_header_len = parts[0].len() + 2;
        let gs2_header = data[..gs2_header_len].to_vec();
        let bare = &data[gs2_header_len..];

        let user = parts.get(2).copied().unwrap_or_default();
        if user.starts_with(b"m=") {
            return Err(malformed("Client requires an unsupported SCRAM extension."));
        }
        // The SCRAM username is ignored (PostgreSQL: the startup packet's
        // user is the one authenticated), but it must be there.
        expect_attr(user, b'n')?;
        let client_nonce = expect_attr(parts.get(3).copied().unwrap_or_default(), b'r')?;
        if client_nonce.is_empty() || !client_nonce.iter().all(|&b| is_scram_printable(b)) {
            return Err(malformed("Invalid client nonce in client-first-message."));
        }
        for ext in parts.iter().skip(4) {
            attr_name(ext)?;
        }

        let mut nonce = client_nonce.to_vec();
        nonce.extend_from_slice(self.server_nonce.as_bytes());
        let mut server_first = Vec::with_capacity(nonce.len() + 64);
        server_first.extend_from_slice(b"r=");
        server_first.extend_from_slice(&nonce);
        server_first.extend_from_slice(b",s=");
        server_first.extend_from_slice(B64.encode(&self.verifier.salt).as_bytes());
        server_first.extend_from_slice(b",i=");
        server_first.extend_from_slice(self.verifier.iterations.to_string().as_bytes());

        self.state = State::SentFirst {
            client_first_bare: bare.to_vec(),
            server_first: server_first.clone(),
            gs2_header,
            nonce,
        };
        Ok(server_first)
    }

    /// Takes the client-final-message (SASLResponse data) and returns the
    /// server-final-message (AuthenticationSASLFinal data) when the proof
    /// checks out. After `Ok` the session sends AuthenticationOk.
    pub fn client_final(&mut self, data: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        let State::SentFirst {
            client_first_bare,
            server_first,
            gs2_header,
            nonce,
        } = std::mem::replace(&mut self.state, State::Done)
        else {
            return Err(malformed("Unexpected client-final-message."));
        };
        let parts = split_message(data)?;

        let cbind = expect_attr(parts[0], b'c')?;
        let cbind = B64
            .decode(cbind)
            .map_err(|_| malformed("Invalid channel binding data in client-final-message."))?;
        if cbind != gs2_header {
            return Err(malformed("SCRAM channel binding check failed."));
        }
        let final_nonce = expect_attr(parts.get(1).copied().unwrap_or_default(), b'r')?;
        if !ct_eq(final_nonce, &nonce) {
            return Err(malformed("Nonce does not match."));
        }
        // Extensions may sit between r= and p=; p= must come last.
        let Some((&last, middle)) = parts[2..].split_last() else {
            return Err(malformed(
                "Expected attribute \"p\" but found end of string.",
            ));
        };
        for ext in middle {
            if attr_name(ext)? == b'p' {
                return Err(malformed(
                    "Garbage found at the end of client-final-message.",
                ));
            }
        }
        let proof = expect_attr(last, b'p')?;
        let proof: [u8; KEY_LEN] = B64
            .decode(proof)
            .ok()
            .and_then(|p| <[u8; KEY_LEN]>::try_from(p.as_slice()).ok())
            .ok_or_else(|| malformed("Malformed proof in client-final-message."))?;
        let without_proof = &data[..data.len() - last.len() - 1];

        let auth_message: [&[u8]; 5] =
            [&client_first_bare, b",", &server_first, b",", without_proof];
        // ClientKey = proof XOR HMAC(StoredKey, AuthMessage); the client
        // knows the password iff H(ClientKey) == StoredKey. Computed for
        // mock exchanges too so they take the same time.
        let client_signature = hmac(&self.verifier.stored_key, &auth_message);
        let mut client_key = proof;
        for (k, s) in client_key.iter_mut().zip(client_signature) {
            *k ^= s;
        }
        let proof_ok = ct_eq(&sha256(&client_key), &self.verifier.stored_key);
        if !proof_ok || self.doomed {
            return Err(AuthFailure::WrongPassword);
        }
        let server_signature = hmac(&self.verifier.server_key, &auth_message);
        let mut out = b"v=".to_vec();
        out.extend_from_slice(B64.encode(server_signature).as_bytes());
        Ok(out)
    }
}

/// Splits a SCRAM message on commas after bounding its size and field
/// count. Always returns at least one field.
fn split_message(data: &[u8]) -> Result<Vec<&[u8]>, AuthFailure> {
    if data.len() > MAX_SCRAM_MESSAGE {
        return Err(malformed(format!(
            "SCRAM message is {} bytes, longer than the {MAX_SCRAM_MESSAGE} allowed.",
            data.len()
        )));
    }
    // PostgreSQL reads these as C strings; a NUL would silently truncate.
    if data.contains(&0) {
        return Err(malformed("SCRAM message contains a NUL byte."));
    }
    let parts: Vec<&[u8]> = data.splitn(MAX_ATTRS + 1, |&b| b == b',').collect();
    if parts.len() > MAX_ATTRS {
        return Err(malformed("Too many attributes in SCRAM message."));
    }
    Ok(parts)
}

/// The value of `<name>=<value>`, or the error PostgreSQL's
/// read_attribute gives.
fn expect_attr(field: &[u8], name: u8) -> Result<&[u8], AuthFailure> {
    match field {
        [n, b'=', value @ ..] if *n == name => Ok(value),
        [] => Err(malformed(format!(
            "Expected attribute \"{}\" but found end of string.",
            char::from(name)
        ))),
        _ => Err(malformed(format!(
            "Expected attribute \"{}\" but found \"{}\".",
            char::from(name),
            printable(field)
        ))),
    }
}

/// The name of an extension attribute, which must look like `x=...`.
fn attr_name(field: &[u8]) -> Result<u8, AuthFailure> {
    match field {
        [n, b'=', ..] if n.is_ascii_alphabetic() => Ok(*n),
        _ => Err(malformed(format!(
            "Attribute expected, but found invalid character \"{}\".",
            printable(field.get(..1).unwrap_or_default())
        ))),
    }
}

/// RFC 5802 `printable`: %x21-2B / %x2D-7E (no comma).
fn is_scram_printable(b: u8) -> bool {
    matches!(b, 0x21..=0x2b | 0x2d..=0x7e)
}

/// Client bytes for an error detail: lossy, escaped, cut short.
fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(32)]);
    text.escape_default().to_string()
}

/// A deterministic fake verifier per user name: an unknown user gets the
/// same salt on every attempt, as a real one would. Keyed by a per-process
/// random secret (PostgreSQL uses a per-cluster mock nonce) so the salt
/// cannot be predicted from the name.
fn mock_verifier(user: &str) -> ScramVerifier {
    static MOCK_KEY: OnceLock<[u8; KEY_LEN]> = OnceLock::new();
    let key = MOCK_KEY.get_or_init(random_bytes);
    let digest = hmac(key, &[b"mock salt\0", user.as_bytes()]);
    ScramVerifier {
        iterations: DEFAULT_ITERATIONS,
        salt: digest[..DEFAULT_SALT_LEN].to_vec(),
        // Never matches a real proof: the exchange is doomed anyway.
        stored_key: hmac(key, &[b"mock stored\0", user.as_bytes()]),
        server_key: hmac(key, &[b"mock server\0", user.as_bytes()]),
    }
}

// ---------------------------------------------------------------------------
// SASLInitialResponse framing

/// Splits a SASLInitialResponse body (after the type byte and length):
/// mechanism name (C string), Int32 data length, data. Rejects any
/// mechanism but SCRAM-SHA-256 and a missing (-1) initial response.
pub fn parse_sasl_initial_response(body: &[u8]) -> Result<&[u8], AuthFailure> {
    let nul = body
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| malformed("SASLInitialResponse has no mechanism name."))?;
    if &body[..nul] != SCRAM_SHA_256.as_bytes() {
        return Err(malformed(
            "Client selected an invalid SASL authentication mechanism.",
        ));
    }
    let rest = &body[nul + 1..];
    let (len, data) = match rest {
        [a, b, c, d, data @ ..] => (i32::from_be_bytes([*a, *b, *c, *d]), data),
        _ => return Err(malformed("SASLInitialResponse is truncated.")),
    };
    if usize::try_from(len).ok() != Some(data.len()) {
        return Err(malformed(
            "SASLInitialResponse data length does not match the message.",
        ));
    }
    Ok(data)
}

// ---------------------------------------------------------------------------
// Primitives

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; KEY_LEN] {
    // HMAC takes keys of any length; new_from_slice cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; KEY_LEN],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn sha256(data: &[u8]) -> [u8; KEY_LEN] {
    use sha2::Digest as _;
    Sha256::digest(data).into()
}

/// Constant-time in the contents (the lengths are public).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the optimizer from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

/// `N` bytes from the kernel CSPRNG (getrandom(2), falling back to
/// /dev/urandom). Panics only if the system has no entropy source at all,
/// since carrying on with predictable nonces and salts would be worse.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let mut filled = 0;
    while filled < N {
        let rest = &mut buf[filled..];
        // SAFETY: `rest` is a live, exclusively borrowed buffer of exactly
        // `rest.len()` writable bytes; getrandom writes at most that many.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            filled += n as usize;
            continue;
        }
        let err = std::io::Error::last_os_error();
        if n < 0 && err.kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        // ENOSYS (old kernel, seccomp) and the like.
        use std::io::Read as _;
        match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(rest)) {
            Ok(()) => return buf,
            Err(e) => panic!("no entropy source: getrandom: {err}; /dev/urandom: {e}"),
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};

    fn b64(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap()
    }

    // RFC 7677 section 3.
    const RFC_CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const RFC_SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const RFC_SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const RFC_CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                    p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const RFC_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    // From PostgreSQL 15.18: CREATE ROLE alice PASSWORD 'secret';
    // CREATE ROLE bob PASSWORD 'pässwörd'; then with password_encryption
    // = md5, CREATE ROLE carol PASSWORD 'secret'; SELECT rolpassword.
    const PG_ALICE: &str = "SCRAM-SHA-256$4096:vT0AWAmF2HcdtPC07CmkMw==$\
        i7f6mNQIT4Tf/wGX6k/MGWQ2WD8cV6DkXet6Oll9F4Y=:eEahQWvJm3VYeRrTTE0Vvzvk0jFqiE0U7ROTzC4gdCM=";
    const PG_BOB: &str = "SCRAM-SHA-256$4096:jWA7f2aNOVM/0IXWtYXRUA==$\
        agnRUGeyW52ojDI14ngO0dOQrxG0jfMhI6whGAm2BzI=:vY3yKr+JAvwB9/XQ3YPz1oF3LuLtMyDqobeFrLbAhfM=";
    const PG_CAROL_MD5: &str = "md57c53eaf86052083b816bfc7c7a6edf5d";

    fn rfc_server() -> ScramServer {
        // PBKDF2 is slow in debug builds; derive the RFC verifier once.
        static RFC: OnceLock<ScramVerifier> = OnceLock::new();
        let v = RFC.get_or_init(|| {
            ScramVerifier::from_password("pencil", &b64("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
        });
        ScramServer::with_nonce(v.clone(), RFC_SERVER_NONCE.into(), false)
    }

    /// Drives `server` with the real rust-postgres client. Returns the
    /// server's verdict; on success also checks the client accepts the
    /// server signature.
    fn drive(
        server: &mut ScramServer,
        password: &[u8],
        cb: ChannelBinding,
    ) -> Result<(), AuthFailure> {
        let mut client = ScramSha256::new(password, cb);
        let first = server.client_first(client.message())?;
        client.update(&first).expect("client accepts server-first");
        let fin = server.client_final(client.message())?;
        client
            .finish(&fin)
            .expect("client verifies the server signature");
        Ok(())
    }

    fn nonce() -> [u8; SERVER_NONCE_LEN] {
        random_bytes()
    }

    #[test]
    fn rfc7677_vector() {
        let mut s = rfc_server();
        let first = s.client_first(RFC_CLIENT_FIRST.as_bytes()).unwrap();
        assert_eq!(first, RFC_SERVER_FIRST.as_bytes());
        let fin = s.client_final(RFC_CLIENT_FINAL.as_bytes()).unwrap();
        assert_eq!(fin, RFC_SERVER_FINAL.as_bytes());
        assert!(s.is_done());
    }

    #[test]
    fn rfc7677_wrong_proof_and_replay() {
        let mut s = rfc_server();
        s.client_first(RFC_CLIENT_FIRST.as_bytes()).unwrap();
        let bad = RFC_CLIENT_FINAL.replace("p=dHzb", "p=dHzc");
        assert_eq!(
            s.client_final(bad.as_bytes()),
            Err(AuthFailure::WrongPassword)
        );
        // One exchange, one attempt.
        assert!(matches!(
            s.client_final(RFC_CLIENT_FINAL.as_bytes()),
            Err(AuthFailure::Malformed(_))
        ));
    }

    #[test]
    fn rfc7677_verifier_roundtrip() {
        let v = ScramVerifier::from_password("pencil", &b64("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        let text = scram_verifier("pencil", &b64("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        assert_eq!(ScramVerifier::parse(&text).unwrap(), v);
        assert!(text.starts_with("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"));
    }

    #[test]
    fn real_client_plaintext_secret() {
        let secret = Secret::parse("correct horse").unwrap();
        assert_eq!(secret.kind(), "plaintext");
        let v = secret.scram_verifier().unwrap();
        assert_eq!(v.iterations, 4096);
        assert_eq!(v.salt.len(), 16);
        for cb in [ChannelBinding::unsupported(), ChannelBinding::unrequested()] {
            let mut s = ScramServer::for_user("u", Some(&secret), nonce());
            drive(&mut s, b"correct horse", cb).unwrap();
        }
    }

    #[test]
    fn real_client_pg_authid_secret() {
        let secret = Secret::parse(PG_ALICE).unwrap();
        assert_eq!(secret.kind(), "scram-sha-256");
        let mut s = ScramServer::new(secret.scram_verifier().unwrap(), nonce());
        drive(&mut s, b"secret", ChannelBinding::unsupported()).unwrap();
    }

    #[test]
    fn real_client_non_ascii_password() {
        // NFC text is its own SASLprep form, so raw bytes match libpq and
        // PostgreSQL's own verifier.
        let secret = Secret::parse(PG_BOB).unwrap();
        let mut s = ScramServer::new(secret.scram_verifier().unwrap(), nonce());
        drive(&mut s, "pässwörd".as_bytes(), ChannelBinding::unsupported()).unwrap();
        let plain = Secret::parse("pässwörd").unwrap();
        let mut s = ScramServer::for_user("bob", Some(&plain), nonce());
        drive(&mut s, "pässwörd".as_bytes(), ChannelBinding::unsupported()).unwrap();
    }

    #[test]
    fn our_verifier_matches_postgres() {
        for (pg, password) in [(PG_ALICE, "secret"), (PG_BOB, "pässwörd")] {
            let v = ScramVerifier::parse(pg).unwrap();
            assert_eq!(scram_verifier(password, &v.salt, v.iterations), pg);
            assert_eq!(v.to_pg_authid(), pg);
        }
    }

    #[test]
    fn real_client_wrong_password() {
        let secret = Secret::parse(PG_ALICE).unwrap();
        let mut s = ScramServer::for_user("alice", Some(&secret), nonce());
        assert_eq!(
            drive(&mut s, b"Secret", ChannelBinding::unsupported()),
            Err(AuthFailure::WrongPassword)
        );
        let plain = Secret::parse("secret").unwrap();
        let mut s = ScramServer::for_user("alice", Some(&plain), nonce());
        assert_eq!(
            drive(&mut s, b"", ChannelBinding::unsupported()),
            Err(AuthFailure::WrongPassword)
        );
    }

    #[test]
    fn mock_user_fails_at_the_end() {
        let mut s = ScramServer::new_mock("nobody", nonce());
        let mut client = ScramSha256::new(b"whatever", ChannelBinding::unsupported());
        let first = s.client_first(client.message()).unwrap();
        client.update(&first).unwrap();
        assert_eq!(
            s.client_final(client.message()),
            Err(AuthFailure::WrongPassword)
        );
        // Same salt and iterations on every attempt, like a real user.
        let salt_of = |user: &str| {
            let mut s = ScramServer::new_mock(user, nonce());
            let first = s.client_first(b"n,,n=,r=abc").unwrap();
            let text = String::from_utf8(first).unwrap();
            text.split_once(",s=").unwrap().1.to_string()
        };
        assert_eq!(salt_of("nobody"), salt_of("nobody"));
        assert_ne!(salt_of("nobody"), salt_of("somebody"));
        assert!(salt_of("nobody").ends_with(",i=4096"));
        // An md5-only secret cannot do SCRAM: doomed as well.
        let md5 = Secret::parse(PG_CAROL_MD5).unwrap();
        let mut s = ScramServer::for_user("carol", Some(&md5), nonce());
        assert_eq!(
            drive(&mut s, b"secret", ChannelBinding::unsupported()),
            Err(AuthFailure::WrongPassword)
        );
        let mut s = ScramServer::for_user("ghost", None, nonce());
        assert_eq!(
            drive(&mut s, b"secret", ChannelBinding::unsupported()),
            Err(AuthFailure::WrongPassword)
        );
    }

    #[test]
    fn server_nonce_is_base64_of_18_bytes() {
        let mut s = ScramServer::new(&ScramVerifier::from_password("x", b"salt", 1), [0xff; 18]);
        let first = s.client_first(b"y,,n=ignored,r=cn").unwrap();
        assert_eq!(
            first,
            format!("r=cn{},s=c2FsdA==,i=1", B64.encode([0xff; 18])).as_bytes()
        );
        assert_eq!(B64.encode([0xff; 18]).len(), 24);
    }

    #[test]
    fn md5_known_value() {
        // Python: m = md5(b"secretpostgres").hexdigest();
        // "md5" + md5(m.encode() + bytes([1,2,3,4])).hexdigest()
        let expected = b"md5bb41a296aab6baccb36ff243a562abff";
        let plain = Secret::parse("secret").unwrap();
        assert!(md5_response_ok(&plain, "postgres", [1, 2, 3, 4], expected));
        let mut with_nul = expected.to_vec();
        with_nul.push(0);
        assert!(md5_response_ok(&plain, "postgres", [1, 2, 3, 4], &with_nul));
        assert!(!md5_response_ok(&plain, "postgres", [1, 2, 3, 5], expected));
        assert!(!md5_response_ok(&plain, "postgre", [1, 2, 3, 4], expected));
        assert!(!md5_response_ok(&plain, "postgres", [1, 2, 3, 4], b""));
        assert!(!md5_response_ok(
            &plain,
            "postgres",
            [1, 2, 3, 4],
            &expected[..34]
        ));
        let mut two_nuls = with_nul.clone();
        two_nuls.push(0);
        assert!(!md5_response_ok(
            &plain,
            "postgres",
            [1, 2, 3, 4],
            &two_nuls
        ));
        // The stored hash of md5("secret" || "postgres").
        let hashed = Secret::parse("md553f48b7c4b76a86ce72276c5755f217d").unwrap();
        assert_eq!(hashed.kind(), "md5");
        assert!(md5_response_ok(&hashed, "postgres", [1, 2, 3, 4], expected));
    }

    #[test]
    fn md5_against_real_client_and_postgres() {
        use postgres_protocol::authentication::md5_hash;
        let carol = Secret::parse(PG_CAROL_MD5).unwrap();
        let plain = Secret::parse("secret").unwrap();
        for salt in [[0, 0, 0, 0], [9, 8, 7, 6], [255, 0, 128, 1]] {
            let resp = md5_hash(b"carol", b"secret", salt);
            assert!(md5_response_ok(&carol, "carol", salt, resp.as_bytes()));
            assert!(md5_response_ok(&plain, "carol", salt, resp.as_bytes()));
            let wrong = md5_hash(b"carol", b"secreT", salt);
            assert!(!md5_response_ok(&carol, "carol", salt, wrong.as_bytes()));
        }
        // A SCRAM verifier cannot answer md5.
        let alice = Secret::parse(PG_ALICE).unwrap();
        assert!(!alice.supports_md5());
        let resp = md5_hash(b"alice", b"secret", [1, 2, 3, 4]);
        assert!(!md5_response_ok(
            &alice,
            "alice",
            [1, 2, 3, 4],
            resp.as_bytes()
        ));
    }

    #[test]
    fn parse_kinds() {
        // Not quite md5 hashes: plaintext, as in PostgreSQL.
        for text in [
            "md553F48B7C4B76A86CE72276C5755F217D",
            "md553f48b7c4b76a86ce72276c5755f217",
            "md5",
            "scram-sha-256$4096:x",
        ] {
            assert_eq!(Secret::parse(text).unwrap().kind(), "plaintext", "{text}");
        }
        assert_eq!(Secret::parse("").unwrap_err(), "empty password");
    }

    #[test]
    fn parse_rejects_malformed_scram() {
        let keys = "i7f6mNQIT4Tf/wGX6k/MGWQ2WD8cV6DkXet6Oll9F4Y=:eEahQWvJm3VYeRrTTE0Vvzvk0jFqiE0U7ROTzC4gdCM=";
        let cases = [
            ("SCRAM-SHA-256$".to_string(), "no \"$\""),
            (
                "SCRAM-SHA-256$4096$x:y".to_string(),
                "no \":\" between iterations",
            ),
            (
                format!("SCRAM-SHA-256$4096:c2FsdA==${}", "abc"),
                "no \":\" between StoredKey",
            ),
            (format!("SCRAM-SHA-256$x:c2FsdA==${keys}"), "not a number"),
            (format!("SCRAM-SHA-256$+1:c2FsdA==${keys}"), "not a number"),
            (format!("SCRAM-SHA-256$:c2FsdA==${keys}"), "not a number"),
            (
                format!("SCRAM-SHA-256$99999999999:c2FsdA==${keys}"),
                "out of range",
            ),
            (format!("SCRAM-SHA-256$0:c2FsdA==${keys}"), "at least 1"),
            (
                format!("SCRAM-SHA-256$4096:c2Fsd!==${keys}"),
                "salt is not valid base64",
            ),
            (format!("SCRAM-SHA-256$4096:${keys}"), "salt is empty"),
            (
                "SCRAM-SHA-256$4096:c2FsdA==$AAAA:eEahQWvJm3VYeRrTTE0Vvzvk0jFqiE0U7ROTzC4gdCM="
                    .to_string(),
                "StoredKey is 3 bytes",
            ),
            (
                "SCRAM-SHA-256$4096:c2FsdA==$i7f6mNQIT4Tf/wGX6k/MGWQ2WD8cV6DkXet6Oll9F4Y=:%%"
                    .to_string(),
                "ServerKey is not valid base64",
            ),
        ];
        for (text, reason) in cases {
            let err = Secret::parse(&text).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn debug_never_prints_secrets() {
        for text in ["hunter2", PG_ALICE, PG_CAROL_MD5] {
            let secret = Secret::parse(text).unwrap();
            let shown = format!("{secret:?}");
            assert!(
                !shown.contains("hunter2") && !shown.contains("4096") && !shown.contains("7c53")
            );
            assert!(shown.starts_with("Secret("), "{shown}");
        }
    }

    fn first_err(msg: &[u8]) -> String {
        let mut s = rfc_server();
        match s.client_first(msg) {
            Err(AuthFailure::Malformed(detail)) => detail,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(msg)),
        }
    }

    #[test]
    fn client_first_rejections() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"p=tls-server-end-point,,n=,r=abc",
                "includes channel binding data",
            ),
            (b"p,,n=,r=abc", "channel-binding flag"),
            (b"", "channel-binding flag"),
            (b"n", "end of string"),
            (b"n,a=admin,n=,r=abc", "authorization identity"),
            (b"n,x,n=,r=abc", "Unexpected attribute"),
            (b"n,,m=ext,n=,r=abc", "unsupported SCRAM extension"),
            (b"n,,r=abc", "Expected attribute \"n\""),
            (
                b"n,,n=user",
                "Expected attribute \"r\" but found end of string",
            ),
            (b"n,,n=user,r=", "Invalid client nonce"),
            (b"n,,n=user,r=a b", "Invalid client nonce"),
            (b"n,,n=user,r=ab\xff", "Invalid client nonce"),
            (b"n,,n=user,r=abc,,", "invalid character"),
            (b"n,,n=user,r=abc,1=x", "invalid character"),
            (b"n,,n=user\0,r=abc", "NUL"),
            (b"n,,n=u,r=a,x=1,x=2,x=3,x=4,x=5", "Too many attributes"),
        ];
        for (msg, want) in cases {
            let detail = first_err(msg);
            assert!(
                detail.contains(want),
                "{:?}: {detail}",
                String::from_utf8_lossy(msg)
            );
        }
        let mut long = b"n,,n=user,r=".to_vec();
        long.resize(MAX_SCRAM_MESSAGE + 1, b'a');
        assert!(first_err(&long).contains("longer than"));
        // Extensions after the nonce are allowed and ignored, up to the bound.
        let mut s = rfc_server();
        assert!(s.client_first(b"n,,n=user,r=abc,x=1,y=2,z=3").is_ok());
        // A failed client-first ends the exchange.
        let mut s = rfc_server();
        assert!(s.client_first(b"p=x,,n=,r=a").is_err());
        assert!(s.client_first(RFC_CLIENT_FIRST.as_bytes()).is_err());
        assert!(s.is_done());
    }

    fn final_err(msg: &str) -> AuthFailure {
        let mut s = rfc_server();
        s.client_first(RFC_CLIENT_FIRST.as_bytes()).unwrap();
        s.client_final(msg.as_bytes()).unwrap_err()
    }

    #[test]
    fn client_final_rejections() {
        let n = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let p = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let cases = [
            (format!("c=eSws,{n},{p}"), "channel binding check failed"),
            (format!("c=biw,{n},{p}"), "Invalid channel binding"),
            (format!("{n},{p}"), "Expected attribute \"c\""),
            (
                format!("c=biws,r=rOprNGfwEbeRWgbNEkqO,{p}"),
                "Nonce does not match",
            ),
            (format!("c=biws,{n}"), "Expected attribute \"p\""),
            (format!("c=biws,{n},p=AAAA"), "Malformed proof"),
            (format!("c=biws,{n},p=###"), "Malformed proof"),
            (format!("c=biws,{n},{p},x=1"), "Garbage found"),
            (format!("c=biws,{n},{p},{p}"), "Garbage found"),
            (format!("c=biws,{n},={p}"), "Expected attribute \"p\""),
            (
                format!("c=biws,{n},x=1,x=2,x=3,x=4,x=5,x=6,{p}"),
                "Too many attributes",
            ),
            (
                String::new(),
                "Expected attribute \"c\" but found end of string",
            ),
        ];
        for (msg, want) in cases {
            match final_err(&msg) {
                AuthFailure::Malformed(detail) => assert!(detail.contains(want), "{msg}: {detail}"),
                other => panic!("{msg}: {other:?}"),
            }
        }
        // Extensions before the proof are fine; this proof is still right.
        let mut s = rfc_server();
        s.client_first(RFC_CLIENT_FIRST.as_bytes()).unwrap();
        assert_eq!(
            s.client_final(format!("c=biws,{n},x=ext,{p}").as_bytes()),
            Err(AuthFailure::WrongPassword),
            "the extension is part of the AuthMessage, so the RFC proof no longer fits"
        );
        // client-final before client-first.
        let mut s = rfc_server();
        assert!(matches!(
            s.client_final(RFC_CLIENT_FINAL.as_bytes()),
            Err(AuthFailure::Malformed(_))
        ));
    }

    #[test]
    fn y_flag_binds_y_header() {
        let mut s = rfc_server();
        s.client_first(b"y,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        let msg = RFC_CLIENT_FINAL.replace("c=biws", "c=eSws");
        // Header matches; the RFC proof was for "n,," so it now fails.
        assert_eq!(
            s.client_final(msg.as_bytes()),
            Err(AuthFailure::WrongPassword)
        );
        let mut s = rfc_server();
        s.client_first(b"y,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        assert!(matches!(
            s.client_final(RFC_CLIENT_FINAL.as_bytes()),
            Err(AuthFailure::Malformed(_))
        ));
    }

    #[test]
    fn hostile_inputs_never_panic() {
        // Cheap fuzz: random bytes and mutations of valid messages.
        let mut seed = u64::from_le_bytes(random_bytes());
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"npyrcmas=,\0\xffbiwsA+/=0";
        for _ in 0..2000 {
            let len = (next() % 40) as usize;
            let msg: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let mut s = rfc_server();
            let _ = s.client_first(&msg);
            let mut s = rfc_server();
            s.client_first(RFC_CLIENT_FIRST.as_bytes()).unwrap();
            let _ = s.client_final(&msg);
            let mut valid = RFC_CLIENT_FINAL.as_bytes().to_vec();
            let at = (next() % valid.len() as u64) as usize;
            valid[at] = alphabet[(next() % alphabet.len() as u64) as usize];
            let mut s = rfc_server();
            s.client_first(RFC_CLIENT_FIRST.as_bytes()).unwrap();
            let _ = s.client_final(&valid);
            let _ = parse_sasl_initial_response(&msg);
            // Secret::parse of plaintext runs PBKDF2; the verifier parser
            // is the part that sees untrusted structure.
            let text = format!("SCRAM-SHA-256${}", String::from_utf8_lossy(&msg));
            let _ = ScramVerifier::parse(&text);
        }
    }

    #[test]
    fn failure_messages() {
        assert_eq!(
            password_failed_message("bob"),
            "password authentication failed for user \"bob\""
        );
        let e = AuthFailure::WrongPassword.to_pg_error("bob");
        assert_eq!(e.code, "28P01");
        assert_eq!(e.message, password_failed_message("bob"));
        let e = AuthFailure::Malformed("Nonce does not match.".into()).to_pg_error("bob");
        assert_eq!(e.code, "08P01");
        assert_eq!(e.message, "malformed SCRAM message");
        assert_eq!(e.detail.as_deref(), Some("Nonce does not match."));
    }

    #[test]
    fn sasl_initial_response_framing() {
        let mut body = b"SCRAM-SHA-256\0".to_vec();
        body.extend_from_slice(&(RFC_CLIENT_FIRST.len() as i32).to_be_bytes());
        body.extend_from_slice(RFC_CLIENT_FIRST.as_bytes());
        assert_eq!(
            parse_sasl_initial_response(&body).unwrap(),
            RFC_CLIENT_FIRST.as_bytes()
        );
        let mut plus = b"SCRAM-SHA-256-PLUS\0".to_vec();
        plus.extend_from_slice(&body[14..]);
        assert!(parse_sasl_initial_response(&plus).is_err());
        assert!(parse_sasl_initial_response(&body[..body.len() - 1]).is_err());
        assert!(parse_sasl_initial_response(b"SCRAM-SHA-256\0\xff\xff\xff\xff").is_err());
        assert!(parse_sasl_initial_response(b"SCRAM-SHA-256\0\0\0").is_err());
        assert!(parse_sasl_initial_response(b"SCRAM-SHA-256").is_err());
    }

    #[test]
    fn random_bytes_vary() {
        let a: [u8; 32] = random_bytes();
        let b: [u8; 32] = random_bytes();
        assert_ne!(a, b);
        let _: [u8; 0] = random_bytes();
    }
}
