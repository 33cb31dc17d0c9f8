//! TLS on both listeners, with real clients: redis-cli --tls and psql
//! (sslmode=require / verify-full), plus a rustls client where a test must
//! hold a connection open or speak raw protocol. The test CAs and
//! certificates are made at test time with the openssl CLI.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{config_get, pg_wire, TestServer};
use corewire::config::{PgTls, TlsAuthClients};
use corewire::Config;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

// ---- a test PKI, made with the openssl CLI ----

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "corewire-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the openssl CLI runs (apt-get install openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Makes `NAME.key` and `NAME.crt`: a self-signed CA.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=corewire test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

/// Makes `NAME.key` and `NAME.crt` signed by the CA `ca`: a server
/// certificate for localhost / 127.0.0.1 (RSA), or a client one (EC).
fn make_cert(dir: &Path, ca: &str, name: &str, server: bool) {
    let newkey: &[&str] = if server {
        &["-newkey", "rsa:2048"]
    } else {
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    };
    let mut args = vec!["req", "-new"];
    args.extend_from_slice(newkey);
    let (key, csr, crt) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
    );
    let subject = format!("/CN={}", if server { "localhost" } else { name });
    args.extend_from_slice(&["-nodes", "-subj", &subject, "-keyout", &key, "-out", &csr]);
    openssl(dir, &args);
    let extensions = if server {
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    } else {
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    };
    let ext = format!("{name}.ext");
    std::fs::write(dir.join(&ext), extensions).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &crt,
        ],
    );
}

/// CA `ca` with server certificate `server`, client certificate `client`;
/// CA `other-ca` with client certificate `stranger`.
fn pki() -> TempDir {
    let dir = TempDir::new();
    make_ca(&dir.0, "ca");
    make_cert(&dir.0, "ca", "server", true);
    make_cert(&dir.0, "ca", "client", false);
    make_ca(&dir.0, "other-ca");
    make_cert(&dir.0, "other-ca", "stranger", false);
    dir
}

/// A server with a TLS port and the PKI's server certificate.
fn tls_server(dir: &TempDir, adjust: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.tls_port = Some(0);
        c.tls_cert_file = Some(dir.path("server.crt"));
        c.tls_key_file = Some(dir.path("server.key"));
        adjust(c);
    })
}

fn tls_port(server: &TestServer) -> u16 {
    let port = server.server().tls_port();
    assert_ne!(port, 0, "the TLS listener is up");
    port
}

// ---- clients ----

/// redis-cli over TLS against `port`, trusting `ca`; `extra` adds flags
/// (a client certificate) and the command.
fn redis_cli(port: u16, ca: &Path, extra: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new("redis-cli");
    command
        .args(["--tls", "--cacert"])
        .arg(ca)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(extra)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .expect("redis-cli runs (apt-get install redis-tools)");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        // Written from a thread: redis-cli may answer before reading it all.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn all_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// redis-cli PING over TLS: true when it got PONG.
fn tls_ping(port: u16, ca: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = extra.to_vec();
    args.push("PING");
    let output = redis_cli(port, ca, &args, None);
    (stdout(&output).trim() == "PONG", all_text(&output))
}

/// psql with `conninfo` (host, port and sslmode are the caller's),
/// running `sql` unaligned without headers.
fn psql(conninfo: &str, sql: &str) -> Output {
    Command::new("psql")
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .arg(format!("{conninfo} connect_timeout=30"))
        .env_remove("PGSSLMODE")
        .env("PGSSLCERT", "/nonexistent/client.crt")
        .env("PGSSLKEY", "/nonexistent/client.key")
        .stdin(Stdio::null())
        .output()
        .expect("psql runs (apt-get install postgresql-client)")
}

fn pg_conninfo(server: &TestServer, host: &str, rest: &str) -> String {
    format!(
        "host={host} port={} user=tester dbname=kv {rest}",
        server.pg_port
    )
}

fn rustls_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client trusting `ca`, with an optional client certificate
/// `NAME` from `dir`, offering `alpn`.
fn client_config(
    dir: &TempDir,
    ca: &str,
    client: Option<&str>,
    alpn: &[&[u8]],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.path(&format!("{ca}.crt"))).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(rustls_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        Some(name) => {
            let certs = CertificateDer::pem_file_iter(dir.path(&format!("{name}.crt")))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(dir.path(&format!("{name}.key"))).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn tls_connect(port: u16, config: &Arc<rustls::ClientConfig>) -> TlsStream {
    let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::clone(config), name).unwrap();
    rustls::StreamOwned::new(conn, socket)
}

/// Sends a RESP command on a TLS stream and reads one line of reply.
fn resp_line(stream: &mut TlsStream, command: &[&str]) -> std::io::Result<String> {
    let mut request = format!("*{}\r\n", command.len());
    for arg in command {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes())?;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        line.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_string())
}

// ---- RESP ----

#[test]
fn redis_cli_over_tls_with_big_values_and_pipelining() {
    let dir = pki();
    let server = tls_server(&dir, |_| {});
    let port = tls_port(&server);
    let ca = dir.path("ca.crt");
    let (pong, text) = tls_ping(port, &ca, &[]);
    assert!(pong, "{text}");
    let output = redis_cli(port, &ca, &["SET", "greeting", "hello over tls"], None);
    assert_eq!(stdout(&output).trim(), "OK", "{}", all_text(&output));
    let output = redis_cli(port, &ca, &["GET", "greeting"], None);
    assert_eq!(stdout(&output).trim(), "hello over tls");

    // A ~1 MB value both ways: many records, partial reads and writes.
    let big: Vec<u8> = (0..1_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let output = redis_cli(port, &ca, &["-x", "SET", "big"], Some(&big));
    assert_eq!(stdout(&output).trim(), "OK", "{}", all_text(&output));
    let output = redis_cli(port, &ca, &["STRLEN", "big"], None);
    // redis-cli -x appends the stdin bytes as they are (no newline added).
    assert_eq!(stdout(&output).trim(), "1000000");
    let output = redis_cli(port, &ca, &["GET", "big"], None);
    assert_eq!(
        output.stdout.len(),
        big.len() + 1,
        "the value and a newline"
    );
    assert!(output.stdout.starts_with(&big));

    // Pipelined: redis-cli --pipe streams every command before the replies.
    let mut commands = Vec::new();
    for i in 0..20_000 {
        let (key, value) = (
            format!("key:{i}"),
            format!("value-{i}-{}", "x".repeat(i % 200)),
        );
        commands.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
                key.len(),
                value.len()
            )
            .as_bytes(),
        );
    }
    let output = redis_cli(port, &ca, &["--pipe"], Some(&commands));
    let text = all_text(&output);
    assert!(text.contains("errors: 0, replies: 20000"), "{text}");
    let output = redis_cli(port, &ca, &["GET", "key:19999"], None);
    assert_eq!(
        stdout(&output).trim(),
        format!("value-19999-{}", "x".repeat(19999 % 200))
    );
    let output = redis_cli(port, &ca, &["DBSIZE"], None);
    assert_eq!(stdout(&output).trim(), "20002");

    // The plain ports keep working alongside.
    let mut plain = server.client();
    let value: String = redis::cmd("GET").arg("greeting").query(&mut plain).unwrap();
    assert_eq!(value, "hello over tls");
    let mut pg = server.pg_client();
    let rows = pg.simple_query("SELECT 1").unwrap();
    assert!(!rows.is_empty());
    // A plaintext client on the TLS port gets no RESP reply.
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    raw.write_all(b"PING\r\n").unwrap();
    let mut reply = Vec::new();
    let _ = raw.read_to_end(&mut reply);
    assert!(!reply.starts_with(b"+PONG"), "{reply:?}");
}

/// The client sends a long pipeline of GETs of a large value without
/// reading: the server's TLS writes hit a full socket and resume later,
/// and every reply arrives intact and in order.
#[test]
fn pipelined_large_replies_to_a_slow_reader() {
    let dir = pki();
    let server = tls_server(&dir, |_| {});
    let port = tls_port(&server);
    let config = client_config(&dir, "ca", None, &[]);
    let mut stream = tls_connect(port, &config);
    let value = "v".repeat(100_000);
    assert_eq!(
        resp_line(&mut stream, &["SET", "big", &value]).unwrap(),
        "+OK"
    );
    let count = 200;
    let mut request = Vec::new();
    for i in 0..count {
        request.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
        request.extend_from_slice(
            format!("*2\r\n$4\r\nECHO\r\n${}\r\n{i}\r\n", i.to_string().len()).as_bytes(),
        );
    }
    stream.write_all(&request).unwrap();
    stream.flush().unwrap();
    // Only now read everything back.
    let expected_one = format!("$100000\r\n{value}\r\n");
    let mut expected = Vec::new();
    for i in 0..count {
        expected.extend_from_slice(expected_one.as_bytes());
        expected.extend_from_slice(format!("${}\r\n{i}\r\n", i.to_string().len()).as_bytes());
    }
    let mut reply = vec![0u8; expected.len()];
    stream.read_exact(&mut reply).unwrap();
    assert!(reply == expected, "replies differ");
    assert_eq!(resp_line(&mut stream, &["PING"]).unwrap(), "+PONG");
}

#[test]
fn client_certificates_required_and_optional() {
    let dir = pki();
    let ca = dir.path("ca.crt");
    let client = [
        "--cert",
        dir.path("client.crt").to_str().unwrap(),
        "--key",
        dir.path("client.key").to_str().unwrap(),
    ]
    .map(String::from);
    let stranger = [
        "--cert",
        dir.path("stranger.crt").to_str().unwrap(),
        "--key",
        dir.path("stranger.key").to_str().unwrap(),
    ]
    .map(String::from);
    let client: Vec<&str> = client.iter().map(String::as_str).collect();
    let stranger: Vec<&str> = stranger.iter().map(String::as_str).collect();

    let server = tls_server(&dir, |c| {
        c.tls_ca_cert_file = Some(dir.path("ca.crt"));
        c.tls_auth_clients = TlsAuthClients::Yes;
    });
    let port = tls_port(&server);
    let (pong, text) = tls_ping(port, &ca, &client);
    assert!(pong, "a certificate from the CA is accepted: {text}");
    let (pong, text) = tls_ping(port, &ca, &[]);
    assert!(!pong, "no certificate is refused: {text}");
    let (pong, text) = tls_ping(port, &ca, &stranger);
    assert!(!pong, "another CA's certificate is refused: {text}");
    // The same through rustls, where the refusal is visible as an alert.
    let mut anonymous = tls_connect(port, &client_config(&dir, "ca", None, &[]));
    assert!(resp_line(&mut anonymous, &["PING"]).is_err());
    let mut known = tls_connect(port, &client_config(&dir, "ca", Some("client"), &[]));
    assert_eq!(resp_line(&mut known, &["PING"]).unwrap(), "+PONG");
    let failures = handshake_failures(&server);
    assert!(failures >= 3, "handshake failures counted: {failures}");
    let metrics = metrics_text(&server);
    assert!(
        metrics.contains(&format!(
            "corewire_tls_handshake_failures_total {failures}\n"
        )),
        "{metrics}"
    );
    drop(server);

    let server = tls_server(&dir, |c| {
        c.tls_ca_cert_file = Some(dir.path("ca.crt"));
        c.tls_auth_clients = TlsAuthClients::Optional;
    });
    let port = tls_port(&server);
    let (pong, text) = tls_ping(port, &ca, &[]);
    assert!(pong, "optional: no certificate is accepted: {text}");
    let (pong, text) = tls_ping(port, &ca, &client);
    assert!(pong, "optional: a good certificate is accepted: {text}");
    let (pong, text) = tls_ping(port, &ca, &stranger);
    assert!(
        !pong,
        "optional: a bad certificate is still refused: {text}"
    );
    drop(server);

    let server = tls_server(&dir, |c| {
        c.tls_ca_cert_file = Some(dir.path("ca.crt"));
        c.tls_auth_clients = TlsAuthClients::No;
    });
    let (pong, text) = tls_ping(tls_port(&server), &ca, &stranger);
    assert!(pong, "no: certificates are not asked for: {text}");
}

/// TLS handshake failures summed over the workers (INFO stats).
fn handshake_failures(server: &TestServer) -> u64 {
    let mut con = server.client();
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("tls_handshake_failures:"))
        .unwrap_or_else(|| panic!("INFO stats has tls_handshake_failures: {info}"))
        .trim()
        .parse()
        .unwrap()
}

/// GET /metrics over plain HTTP.
fn metrics_text(server: &TestServer) -> String {
    let mut http = TcpStream::connect(("127.0.0.1", server.http_port)).unwrap();
    http.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    http.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    http.read_to_string(&mut text).unwrap();
    text
}

// ---- PostgreSQL ----

#[test]
fn psql_sslmode_require_and_verify_full() {
    let dir = pki();
    let server = tls_server(&dir, |c| c.admin_users = vec!["admin".into()]);
    let ca = dir.path("ca.crt");
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=require"),
        "SELECT 1",
    );
    assert!(output.status.success(), "{}", all_text(&output));
    assert_eq!(stdout(&output).trim(), "1");
    // \conninfo shows the connection is encrypted.
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=require"),
        "\\conninfo",
    );
    assert!(
        stdout(&output).contains("SSL connection (protocol: TLSv1.3"),
        "{}",
        all_text(&output)
    );
    let verify = format!("sslmode=verify-full sslrootcert={}", ca.display());
    let output = psql(&pg_conninfo(&server, "localhost", &verify), "SELECT 41 + 1");
    assert!(output.status.success(), "{}", all_text(&output));
    assert_eq!(stdout(&output).trim(), "42");
    // verify-full against another CA fails.
    let wrong = format!(
        "sslmode=verify-full sslrootcert={}",
        dir.path("other-ca.crt").display()
    );
    let output = psql(&pg_conninfo(&server, "localhost", &wrong), "SELECT 1");
    assert!(!output.status.success());
    assert!(
        all_text(&output).contains("certificate verify failed"),
        "{}",
        all_text(&output)
    );
    // Plaintext still works under the default pg-tls = allow.
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=disable"),
        "SELECT 1",
    );
    assert!(output.status.success(), "{}", all_text(&output));
    // The admin console's SHOW CLIENTS names the TLS version and suite.
    let console = |sslmode: &str| {
        let conninfo = format!(
            "host=127.0.0.1 port={} user=admin dbname=corewire sslmode={sslmode}",
            server.pg_port
        );
        stdout(&psql(&conninfo, "SHOW CLIENTS"))
    };
    let shown = console("require");
    assert!(shown.contains("|TLSv1.3/TLS13_"), "{shown}");
    let shown = console("disable");
    assert!(!shown.contains("TLSv1"), "{shown}");
}

#[test]
fn pg_tls_require_refuses_plaintext_logins_with_28000() {
    let dir = pki();
    let server = tls_server(&dir, |c| c.pg_tls = PgTls::Require);
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=disable"),
        "SELECT 1",
    );
    assert!(!output.status.success());
    let text = all_text(&output);
    assert!(
        text.contains("FATAL:  no pg_hba.conf entry for host \"127.0.0.1\", user \"tester\", database \"kv\", no encryption"),
        "{text}"
    );
    // The SQLSTATE, through a driver.
    let error = postgres::Client::connect(&server.pg_url("tester"), postgres::NoTls)
        .err()
        .expect("a plaintext login is refused");
    assert_eq!(
        error.as_db_error().map(|e| e.code().code()),
        Some("28000"),
        "{error}"
    );
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=prefer"),
        "SELECT 1",
    );
    assert!(output.status.success(), "{}", all_text(&output));
    assert_eq!(stdout(&output).trim(), "1");
}

#[test]
fn without_a_certificate_sslrequest_is_answered_n() {
    let server = TestServer::start();
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=require"),
        "SELECT 1",
    );
    assert!(!output.status.success());
    assert!(
        all_text(&output).contains("server does not support SSL"),
        "{}",
        all_text(&output)
    );
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=prefer"),
        "SELECT 1",
    );
    assert!(output.status.success(), "{}", all_text(&output));
    // pg-tls = disable answers N even with a certificate.
    let dir = pki();
    let server = tls_server(&dir, |c| c.pg_tls = PgTls::Disable);
    let output = psql(
        &pg_conninfo(&server, "127.0.0.1", "sslmode=require"),
        "SELECT 1",
    );
    assert!(
        all_text(&output).contains("server does not support SSL"),
        "{}",
        all_text(&output)
    );
}

const SSL_REQUEST: &[u8] = &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
const GSSENC_REQUEST: &[u8] = &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30];

/// A startup packet for user `tester` on database `kv`.
fn startup_packet() -> Vec<u8> {
    pg_wire::startup(&[("user", "tester"), ("database", "kv")])
}

/// CVE-2021-23214: plaintext that arrives with the SSLRequest, before the
/// handshake, must not be taken as if it came over TLS.
#[test]
fn plaintext_after_sslrequest_is_refused() {
    let dir = pki();
    let server = tls_server(&dir, |_| {});
    let mut raw = TcpStream::connect(("127.0.0.1", server.pg_port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = SSL_REQUEST.to_vec();
    request.extend_from_slice(&startup_packet());
    raw.write_all(&request).unwrap();
    let mut reply = Vec::new();
    let _ = raw.read_to_end(&mut reply);
    assert_eq!(reply.first(), Some(&b'E'), "no S, an error: {reply:?}");
    let text = String::from_utf8_lossy(&reply);
    assert!(text.contains("C08P01"), "{text}");
    assert!(
        text.contains("received unencrypted data after SSL request"),
        "{text}"
    );

    // GSSENCRequest stays N, then a plain login goes on.
    let mut raw = TcpStream::connect(("127.0.0.1", server.pg_port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    raw.write_all(GSSENC_REQUEST).unwrap();
    let mut answer = [0u8; 1];
    raw.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"N");
    raw.write_all(&startup_packet()).unwrap();
    raw.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"R", "AuthenticationOk follows");
}

/// Reads one backend message (tag and body) from a TLS stream.
fn pg_message(stream: &mut TlsStream) -> (u8, Vec<u8>) {
    pg_wire::read(stream).expect("a backend message")
}

/// PostgreSQL 17's direct TLS: the ClientHello comes first, and ALPN
/// `postgresql` is required.
#[test]
fn direct_tls_on_the_postgresql_port() {
    let dir = pki();
    let server = tls_server(&dir, |_| {});
    let config = client_config(&dir, "ca", None, &[b"postgresql"]);
    let mut stream = tls_connect(server.pg_port, &config);
    stream.write_all(&startup_packet()).unwrap();
    stream.flush().unwrap();
    assert_eq!(stream.conn.alpn_protocol(), Some(&b"postgresql"[..]));
    let (tag, body) = pg_message(&mut stream);
    assert_eq!((tag, body), (b'R', vec![0, 0, 0, 0]), "AuthenticationOk");
    loop {
        let (tag, _) = pg_message(&mut stream);
        if tag == b'Z' {
            break;
        }
    }
    stream.write_all(&pg_wire::query("SELECT 7")).unwrap();
    let mut tags = Vec::new();
    let mut row = Vec::new();
    loop {
        let (tag, body) = pg_message(&mut stream);
        tags.push(tag);
        if tag == b'D' {
            row = body;
        }
        if tag == b'Z' {
            break;
        }
    }
    assert_eq!(tags, b"TDCZ");
    assert!(row.ends_with(b"7"), "{row:?}");

    // Without ALPN the server refuses (as PostgreSQL 17 does).
    let config = client_config(&dir, "ca", None, &[]);
    let mut stream = tls_connect(server.pg_port, &config);
    let _ = stream.write_all(&startup_packet());
    let mut byte = [0u8; 1];
    assert!(
        !matches!(stream.read(&mut byte), Ok(1)),
        "no reply without ALPN"
    );
}

// ---- reload ----

#[test]
fn certificates_reload_on_config_set_and_reload() {
    let dir = pki();
    let server = tls_server(&dir, |c| c.admin_users = vec!["admin".into()]);
    let port = tls_port(&server);
    let (ca, new_ca) = (dir.path("ca.crt"), dir.path("new-ca.crt"));
    // A TLS connection made before the change.
    let mut before = tls_connect(port, &client_config(&dir, "ca", None, &[]));
    assert_eq!(resp_line(&mut before, &["PING"]).unwrap(), "+PONG");
    let psql_verify = |ca: &Path| {
        let conninfo = pg_conninfo(
            &server,
            "localhost",
            &format!("sslmode=verify-full sslrootcert={}", ca.display()),
        );
        psql(&conninfo, "SELECT 1").status.success()
    };
    assert!(psql_verify(&ca));

    // CONFIG SET to a certificate from a new CA.
    make_ca(&dir.0, "new-ca");
    make_cert(&dir.0, "new-ca", "new-server", true);
    let mut admin = server.client();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("tls-cert-file")
        .arg(dir.path("new-server.crt").to_str().unwrap())
        .arg("tls-key-file")
        .arg(dir.path("new-server.key").to_str().unwrap())
        .query(&mut admin)
        .unwrap();
    let (pong, text) = tls_ping(port, &new_ca, &[]);
    assert!(pong, "new connections verify against the new CA: {text}");
    let (pong, _) = tls_ping(port, &ca, &[]);
    assert!(!pong, "and no longer against the old one");
    assert!(psql_verify(&new_ca) && !psql_verify(&ca));
    assert_eq!(
        resp_line(&mut before, &["PING"]).unwrap(),
        "+PONG",
        "the old connection lives on"
    );

    // A broken certificate is refused and the one in force stays.
    std::fs::write(dir.path("broken.crt"), "not a certificate\n").unwrap();
    let error = redis::cmd("CONFIG")
        .arg("SET")
        .arg("tls-cert-file")
        .arg(dir.path("broken.crt").to_str().unwrap())
        .query::<()>(&mut admin)
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("tls-cert-file") && text.contains("no certificate"),
        "{text}"
    );
    // A key that does not match the certificate is refused too.
    let error = redis::cmd("CONFIG")
        .arg("SET")
        .arg("tls-key-file")
        .arg(dir.path("server.key").to_str().unwrap())
        .query::<()>(&mut admin)
        .unwrap_err();
    assert!(error.to_string().contains("tls-key-file"), "{error}");
    assert_eq!(
        config_get(&mut admin, "tls-cert-file"),
        dir.path("new-server.crt").display().to_string()
    );
    let (pong, text) = tls_ping(port, &new_ca, &[]);
    assert!(pong, "{text}");

    // RELOAD (the admin console; SIGHUP runs the same reload): the file
    // names the first certificate again, and its contents are re-read.
    let file = dir.path("corewire.toml");
    let write_file = |cert: &str, key: &str| {
        std::fs::write(
            &file,
            format!(
                "admin-users = [\"admin\"]\ntls-cert-file = \"{}\"\ntls-key-file = \"{}\"\n",
                dir.path(cert).display(),
                dir.path(key).display()
            ),
        )
        .unwrap()
    };
    write_file("server.crt", "server.key");
    server
        .server()
        .shared()
        .set_source(corewire::config::Source {
            args: Vec::new(),
            file: Some(file.clone()),
        });
    let reload = || {
        psql(
            &format!(
                "host=127.0.0.1 port={} user=admin dbname=corewire",
                server.pg_port
            ),
            "RELOAD",
        )
    };
    let output = reload();
    assert!(output.status.success(), "{}", all_text(&output));
    let (pong, text) = tls_ping(port, &ca, &[]);
    assert!(pong, "{text}");
    assert!(!tls_ping(port, &new_ca, &[]).0);
    // Same file names, new contents: the reload reads them again.
    std::fs::copy(dir.path("new-server.crt"), dir.path("server.crt")).unwrap();
    std::fs::copy(dir.path("new-server.key"), dir.path("server.key")).unwrap();
    let output = reload();
    assert!(output.status.success(), "{}", all_text(&output));
    assert!(tls_ping(port, &new_ca, &[]).0);
    // Broken contents: RELOAD fails, saying why, and changes nothing.
    std::fs::write(
        dir.path("server.key"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n",
    )
    .unwrap();
    let output = reload();
    assert!(!output.status.success());
    let text = all_text(&output);
    assert!(
        text.contains("tls-key-file") && text.contains("unchanged"),
        "{text}"
    );
    assert!(
        !text.contains("AAAA"),
        "no key material in the error: {text}"
    );
    assert!(tls_ping(port, &new_ca, &[]).0);
    assert_eq!(resp_line(&mut before, &["PING"]).unwrap(), "+PONG");
}

#[test]
fn broken_certificates_stop_the_server_from_starting() {
    let dir = pki();
    let error = TestServer::try_start_with(|c| {
        c.tls_port = Some(0);
        c.tls_cert_file = Some(dir.path("missing.crt"));
        c.tls_key_file = Some(dir.path("server.key"));
    })
    .err()
    .expect("refused");
    assert!(
        error.contains("tls-cert-file") && error.contains("missing.crt"),
        "{error}"
    );
    let error = TestServer::try_start_with(|c| {
        c.tls_port = Some(0);
        c.tls_cert_file = Some(dir.path("server.crt"));
        c.tls_key_file = Some(dir.path("client.key"));
    })
    .err()
    .expect("refused");
    assert!(
        error.contains("tls-key-file") && error.contains("does not match the certificate"),
        "{error}"
    );
    let error = TestServer::try_start_with(|c| c.tls_port = Some(0))
        .err()
        .expect("refused");
    assert!(
        error.contains("tls-port") && error.contains("tls-cert-file"),
        "{error}"
    );
    let error = TestServer::try_start_with(|c| c.pg_tls = PgTls::Require)
        .err()
        .expect("refused");
    assert!(error.contains("pg-tls"), "{error}");
}

/// A client that connects to the TLS port and never finishes the
/// handshake is closed by auth-timeout-ms, as an unauthenticated one.
#[test]
fn an_unfinished_handshake_is_closed_by_the_auth_timeout() {
    let dir = pki();
    let server = tls_server(&dir, |c| c.auth_timeout_ms = 200);
    let mut raw = TcpStream::connect(("127.0.0.1", tls_port(&server))).unwrap();
    // A liveness bound, far above the timeout.
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    raw.write_all(&[0x16, 0x03, 0x01]).unwrap(); // a record header, then nothing
    let mut rest = Vec::new();
    match raw.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "{rest:?}"),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}"),
    }
    // A completed handshake on a server without a password is not affected.
    let mut stream = tls_connect(tls_port(&server), &client_config(&dir, "ca", None, &[]));
    assert_eq!(resp_line(&mut stream, &["PING"]).unwrap(), "+PONG");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(resp_line(&mut stream, &["PING"]).unwrap(), "+PONG");
}
