//! TLS with rustls inside the worker's non-blocking loop (no thread per
//! connection).
//!
//! `load` builds the server configurations from the `tls-*` settings, at
//! start and on every reload; a connection takes the ones in force when it
//! starts its handshake. `TlsConn` sits between a connection's socket and
//! the worker's plaintext buffers: `read` pulls records off the socket and
//! hands back plaintext, `write` moves plaintext from the connection's
//! output buffer into records and onto the socket, both until the socket
//! would block.
//!
//! Memory: rustls reads at most 4 KiB of records per call and holds at
//! most 16 KiB of decrypted plaintext; the worker drains that plaintext
//! before reading more. On the way out plaintext enters rustls only once
//! its earlier records are all on the socket, one chunk at a time, so the
//! connection's own output buffer holds the backlog and the
//! `client-output-buffer-limit` cap counts it as for a plain connection.
//! An idle TLS connection keeps only rustls's state and a 4 KiB read
//! buffer.

use std::io::{self, BufRead, IoSlice, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

use crate::config::{Config, TlsAuthClients};

/// Plaintext handed to rustls per step (four 16 KiB records, one sendmsg).
const PLAINTEXT_CHUNK_BYTES: usize = 64 * 1024;
/// rustls's own cap on the records (and pre-handshake plaintext) it holds.
const RUSTLS_BUFFER_LIMIT_BYTES: usize = 64 * 1024;
/// ALPN protocol a PostgreSQL 17 client sends (mandatory with direct TLS).
pub const PG_ALPN: &[u8] = b"postgresql";
/// The first byte of a TLS handshake record (a ClientHello): on the
/// PostgreSQL port it means direct TLS, as no startup packet begins so.
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// The server configurations in force, one per protocol (they differ in
/// ALPN, and each has its own session cache).
pub struct TlsConfigs {
    pub resp: Arc<ServerConfig>,
    pub pg: Arc<ServerConfig>,
}

/// Builds the TLS configurations from the settings; None when no
/// certificate is configured. Errors name the setting and the file, never
/// a key's contents.
pub fn load(config: &Config) -> Result<Option<Arc<TlsConfigs>>, String> {
    let (cert_file, key_file) = match (&config.tls_cert_file, &config.tls_key_file) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => return Err("tls-cert-file is set but tls-key-file is not".into()),
        (None, Some(_)) => return Err("tls-key-file is set but tls-cert-file is not".into()),
    };
    let certs =
        load_certs(cert_file).map_err(|e| format!("tls-cert-file {}: {e}", cert_file.display()))?;
    let key =
        load_key(key_file).map_err(|e| format!("tls-key-file {}: {e}", key_file.display()))?;
    let roots = match (&config.tls_ca_cert_file, config.tls_auth_clients) {
        (Some(ca_file), TlsAuthClients::Yes | TlsAuthClients::Optional) => {
            let shown = || format!("tls-ca-cert-file {}", ca_file.display());
            let mut roots = RootCertStore::empty();
            for cert in load_certs(ca_file).map_err(|e| format!("{}: {e}", shown()))? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: not a usable CA certificate: {e}", shown()))?;
            }
            Some(Arc::new(roots))
        }
        // No CA: client certificates are neither asked for nor verified.
        _ => None,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let build = |alpn: &[&[u8]]| -> Result<Arc<ServerConfig>, String> {
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match &roots {
            Some(roots) => {
                let verifier = client_verifier(roots, &provider, config.tls_auth_clients)
                    .map_err(|e| format!("tls-ca-cert-file: {e}"))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut server = builder
            .with_single_cert(certs.clone(), key.clone_key())
            .map_err(|e| {
                let why = match e {
                    rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                        "the private key does not match the certificate".to_string()
                    }
                    other => other.to_string(),
                };
                format!(
                    "tls-key-file {} (for tls-cert-file {}): {why}",
                    key_file.display(),
                    cert_file.display()
                )
            })?;
        server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(server))
    };
    Ok(Some(Arc::new(TlsConfigs {
        resp: build(&[])?,
        pg: build(&[PG_ALPN])?,
    })))
}

fn client_verifier(
    roots: &Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
    mode: TlsAuthClients,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, String> {
    let builder =
        WebPkiClientVerifier::builder_with_provider(Arc::clone(roots), Arc::clone(provider));
    let builder = match mode {
        TlsAuthClients::Optional => builder.allow_unauthenticated(),
        _ => builder,
    };
    builder.build().map_err(|e| e.to_string())
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read_file(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not valid PEM: {}", pem_error(&e)))?;
    if certs.is_empty() {
        return Err("no certificate in it (PEM \"BEGIN CERTIFICATE\")".into());
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = read_file(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => {
            "no private key in it (PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)".into()
        }
        other => format!("not a valid PEM private key: {}", pem_error(&other)),
    })
}

/// A PEM error without the text it quotes (a key file's lines are secret).
fn pem_error(error: &pem::Error) -> &'static str {
    match error {
        pem::Error::MissingSectionEnd { .. } => "a section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a malformed BEGIN line",
        pem::Error::Base64Decode(_) => "bad base64",
        pem::Error::NoItemsFound => "nothing found",
        pem::Error::SectionTooLarge => "a section is too large",
        _ => "unreadable",
    }
}

/// Why a TLS connection failed (the payload of the io::Error `read`
/// returns), for the worker's log line and counters.
#[derive(Debug)]
pub struct Failure {
    /// It failed before the handshake completed.
    pub handshake: bool,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// The failure an io::Error from `TlsConn::read` carries, if any.
    pub fn of(error: &io::Error) -> Option<&Failure> {
        error.get_ref()?.downcast_ref::<Failure>()
    }
}

/// One connection's TLS state.
pub struct TlsConn {
    conn: ServerConnection,
    /// Direct TLS on the PostgreSQL port: the handshake must agree this
    /// ALPN protocol (PostgreSQL 17 refuses it otherwise).
    require_alpn: Option<&'static [u8]>,
    /// The handshake completed (and its ALPN was checked).
    established: bool,
    close_notify_sent: bool,
}

impl TlsConn {
    pub fn new(
        config: &Arc<ServerConfig>,
        require_alpn: Option<&'static [u8]>,
    ) -> io::Result<TlsConn> {
        let mut conn = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
        conn.set_buffer_limit(Some(RUSTLS_BUFFER_LIMIT_BYTES));
        Ok(TlsConn {
            conn,
            require_alpn,
            established: false,
            close_notify_sent: false,
        })
    }

    pub fn is_handshaking(&self) -> bool {
        !self.established
    }

    /// Version and cipher suite, e.g. `TLSv1.3/TLS13_AES_256_GCM_SHA384`
    /// (empty before the handshake ends).
    pub fn describe(&self) -> String {
        let version = match self.conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            Some(_) => "TLS",
            None => return String::new(),
        };
        match self.conn.negotiated_cipher_suite() {
            Some(suite) => format!("{version}/{:?}", suite.suite()),
            None => version.into(),
        }
    }

    /// Records are waiting to be written (handshake messages, alerts, or
    /// encrypted replies the socket did not take yet).
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Decrypted input is waiting in rustls: no socket readiness will
    /// report it, so the worker must come back for it.
    pub fn has_plaintext(&mut self) -> bool {
        self.conn
            .reader()
            .fill_buf()
            .is_ok_and(|bytes| !bytes.is_empty())
    }

    /// Reads plaintext into `buffer`: what rustls holds, then records from
    /// the socket until the buffer is full or the socket would block.
    /// Ok(0) is the end of the stream (close_notify, or EOF); a return
    /// shorter than the buffer means the socket is drained. Handshake
    /// messages produced on the way wait for `write`.
    pub fn read(&mut self, stream: &TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buffer.len() {
            match self.conn.reader().read(&mut buffer[filled..]) {
                Ok(0) => return Ok(filled), // close_notify: the end
                Ok(n) => {
                    filled += n;
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                // EOF without close_notify: the end, as for a plain socket.
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(filled),
                Err(error) => return partial(filled, error),
            }
            match self.conn.read_tls(&mut Socket(stream)) {
                Ok(_) => self.process(stream)?, // Ok(0) (EOF) shows in the reader
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return partial(filled, error),
            }
        }
        Ok(filled)
    }

    /// Hands rustls records already read off the socket (the start of a
    /// direct TLS handshake on the PostgreSQL port).
    pub fn feed(&mut self, stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match self.conn.read_tls(&mut bytes) {
                Ok(0) => break,
                Ok(_) => self.process(stream)?,
                Err(error) => {
                    return Err(self.failed(format!("handshake message too large: {error}")))
                }
            }
        }
        Ok(())
    }

    /// Decrypts what read_tls brought; a protocol or certificate error
    /// sends rustls's alert (best effort) and fails the connection.
    fn process(&mut self, stream: &TcpStream) -> io::Result<()> {
        if let Err(error) = self.conn.process_new_packets() {
            let _ = self.conn.write_tls(&mut Socket(stream));
            return Err(self.failed(error.to_string()));
        }
        if !self.established && !self.conn.is_handshaking() {
            if let Some(wanted) = self.require_alpn {
                if self.conn.alpn_protocol() != Some(wanted) {
                    return Err(self.failed(format!(
                        "direct TLS without ALPN \"{}\"",
                        String::from_utf8_lossy(wanted)
                    )));
                }
            }
            self.established = true;
        }
        Ok(())
    }

    fn failed(&self, reason: String) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            Failure {
                handshake: !self.established,
                reason,
            },
        )
    }

    /// Sends pending records, then encrypts and sends `output` a chunk at
    /// a time until the socket would block. Returns how many bytes of
    /// `output` were taken. With `closing`, once all of it is taken a
    /// close_notify follows. Nothing is taken before the handshake ends.
    pub fn write(&mut self, stream: &TcpStream, output: &[u8], closing: bool) -> io::Result<usize> {
        let mut taken = 0;
        loop {
            while self.conn.wants_write() {
                match self.conn.write_tls(&mut Socket(stream)) {
                    Ok(0) => return Ok(taken),
                    Ok(_) => {}
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(taken),
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            if !self.established {
                return Ok(taken);
            }
            if taken == output.len() {
                if closing && !self.close_notify_sent {
                    self.close_notify_sent = true;
                    self.conn.send_close_notify();
                    continue;
                }
                return Ok(taken);
            }
            let end = output.len().min(taken + PLAINTEXT_CHUNK_BYTES);
            match self.conn.writer().write(&output[taken..end]) {
                Ok(0) => return Ok(taken),
                Ok(n) => taken += n,
                Err(error) => return Err(error),
            }
        }
    }
}

/// What was read so far, or the error when nothing was.
fn partial(filled: usize, error: io::Error) -> io::Result<usize> {
    if filled > 0 {
        Ok(filled)
    } else {
        Err(error)
    }
}

/// The socket as rustls reads and writes it: read(2), and sendmsg(2) with
/// MSG_NOSIGNAL (a peer that went away must not SIGPIPE the host).
struct Socket<'a>(&'a TcpStream);

impl Read for Socket<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buffer is valid for buffer.len() writable bytes.
        let n = unsafe {
            libc::read(
                self.0.as_raw_fd(),
                buffer.as_mut_ptr() as *mut libc::c_void,
                buffer.len(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(bytes)])
    }

    fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        // SAFETY: msghdr is plain data; zeroed is a valid empty header.
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_iov = slices.as_ptr() as *mut libc::iovec;
        message.msg_iovlen = slices.len().min(libc::UIO_MAXIOV as usize) as _;
        // SAFETY: IoSlice is ABI-compatible with iovec on Unix, and the
        // slices outlive the call; no ancillary data or address is given.
        let n = unsafe { libc::sendmsg(self.0.as_raw_fd(), &message, libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
