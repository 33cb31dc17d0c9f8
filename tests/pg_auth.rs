//! PostgreSQL authentication with the `postgres` crate: SCRAM-SHA-256 and
//! md5 for configured users (plaintext passwords, SCRAM verifiers and md5
//! hashes as secrets), and trust for loopback when no user is configured.

mod common;

use common::TestServer;
use corewire::config::PgAuthMethod;
use postgres::error::SqlState;
use postgres::{Client, NoTls};

/// `"md5" + md5("secret" + "alice")`, as pg_authid stores it (computed
/// with Python's hashlib).
const ALICE_MD5: &str = "md54a0a68b43b6cd5cf266fa02f196e2371";

fn server_with(method: PgAuthMethod, secret: &str) -> TestServer {
    let secret = secret.to_string();
    TestServer::start_with(move |c| {
        c.pg_users = vec![
            ("alice".into(), secret),
            ("bob".into(), "bobs password".into()),
        ];
        c.pg_auth_method = method;
    })
}

/// Logged in, and the session runs SQL as that user.
fn assert_works(server: &TestServer, user: &str, password: Option<&str>) {
    let mut client = server
        .pg_connect(user, password)
        .unwrap_or_else(|e| panic!("{user} with {password:?} should log in: {e}"));
    client
        .execute("INSERT INTO kv VALUES ($1, 'in')", &[&user])
        .unwrap();
    let row = client
        .query_one("SELECT value FROM kv WHERE key = $1", &[&user])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "in");
    client
        .execute("DELETE FROM kv WHERE key = $1", &[&user])
        .unwrap();
}

fn assert_refused(server: &TestServer, user: &str, password: Option<&str>) {
    let error = match server.pg_connect(user, password) {
        Ok(_) => panic!("{user} with {password:?} logged in"),
        Err(error) => error,
    };
    assert_eq!(error.code(), Some(&SqlState::INVALID_PASSWORD), "{error}");
    let db = error.as_db_error().expect("a server error");
    assert_eq!(db.severity(), "FATAL");
    assert_eq!(
        db.message(),
        format!("password authentication failed for user \"{user}\"")
    );
}

#[test]
fn scram_password() {
    let server = server_with(PgAuthMethod::ScramSha256, "secret");
    assert_works(&server, "alice", Some("secret"));
    assert_works(&server, "bob", Some("bobs password"));
    assert_refused(&server, "alice", Some("wrong"));
    assert_refused(&server, "alice", Some("bobs password"));
    assert_refused(&server, "alice", Some("Secret"));
    assert_refused(&server, "mallory", Some("secret"));
    // Failures leave the server serving.
    assert_works(&server, "alice", Some("secret"));
}

#[test]
fn md5_password() {
    let server = server_with(PgAuthMethod::Md5, "secret");
    assert_works(&server, "alice", Some("secret"));
    assert_works(&server, "bob", Some("bobs password"));
    assert_refused(&server, "alice", Some("wrong"));
    assert_refused(&server, "bob", Some("secret"));
    assert_refused(&server, "mallory", Some("secret"));
    assert_works(&server, "alice", Some("secret"));
}

#[test]
fn scram_verifier_as_the_secret() {
    let verifier = corewire::pg::auth::scram_verifier("secret", b"0123456789abcdef", 4096);
    assert!(verifier.starts_with("SCRAM-SHA-256$4096:"), "{verifier}");
    let server = server_with(PgAuthMethod::ScramSha256, &verifier);
    assert_works(&server, "alice", Some("secret"));
    assert_refused(&server, "alice", Some("wrong"));
    // The verifier text itself is not the password.
    assert_refused(&server, "alice", Some(&verifier));
}

/// md5 configured but only a SCRAM verifier stored: PostgreSQL switches
/// the login to SCRAM.
#[test]
fn md5_method_with_a_scram_verifier_uses_scram() {
    let verifier = corewire::pg::auth::scram_verifier("secret", b"0123456789abcdef", 4096);
    let server = server_with(PgAuthMethod::Md5, &verifier);
    assert_works(&server, "alice", Some("secret"));
    assert_refused(&server, "alice", Some("wrong"));
    // Other users still use md5 with their plaintext password.
    assert_works(&server, "bob", Some("bobs password"));
}

#[test]
fn md5_hash_as_the_secret() {
    let server = server_with(PgAuthMethod::Md5, ALICE_MD5);
    assert_works(&server, "alice", Some("secret"));
    assert_refused(&server, "alice", Some("wrong"));
    // The hash itself is not the password.
    assert_refused(&server, "alice", Some(ALICE_MD5));
}

/// scram-sha-256 with only an md5 hash stored cannot succeed (PostgreSQL:
/// the user has no valid SCRAM secret), even with the right password.
#[test]
fn scram_method_with_an_md5_hash_refuses() {
    let server = server_with(PgAuthMethod::ScramSha256, ALICE_MD5);
    assert_refused(&server, "alice", Some("secret"));
    assert_works(&server, "bob", Some("bobs password"));
}

/// No users configured: loopback clients are trusted, whatever the user
/// name and password.
#[test]
fn no_users_trusts_loopback() {
    let server = TestServer::start();
    assert_works(&server, "anyone", None);
    assert_works(&server, "postgres", None);
    assert_works(&server, "anyone", Some("ignored"));
}

/// trust with configured users: no password asked on loopback.
#[test]
fn trust_method_with_users() {
    let server = TestServer::start_with(|c| {
        c.pg_users = vec![("alice".into(), "secret".into())];
        c.pg_auth_method = PgAuthMethod::Trust;
    });
    assert_works(&server, "alice", None);
    assert_works(&server, "alice", Some("not checked"));
}

/// The login user is the session user.
#[test]
fn session_user_is_the_login_user() {
    let server = server_with(PgAuthMethod::ScramSha256, "secret");
    let mut client = server.pg_connect("alice", Some("secret")).unwrap();
    let row = client.query_one("SHOW session_authorization", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0), "alice");
    let row = client.query_one("SELECT current_user", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0), "alice");
}

/// This machine's non-loopback IPv4 address, if it has one (no packet is
/// sent: connecting a UDP socket only picks the route).
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn trust_is_for_loopback_only() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback address here: the remote-client half is not exercised");
        return;
    };
    let url = |server: &TestServer, user: &str, password: &str| {
        format!(
            "host={ip} port={} user={user} password='{password}' dbname=kv connect_timeout=30",
            server.pg_port
        )
    };
    let refused = |server: &TestServer, user: &str| {
        let Err(error) = Client::connect(&url(server, user, "x"), NoTls) else {
            panic!("{user} from {ip} got in");
        };
        let db = error.as_db_error().expect("a server error");
        assert_eq!(db.code(), &SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
        assert_eq!(
            db.message(),
            format!("no pg_hba.conf entry for host \"{ip}\", user \"{user}\", database \"kv\", no encryption")
        );
    };
    let public = |users: Vec<(String, String)>, method: PgAuthMethod| {
        TestServer::start_with(move |c| {
            c.bind = "0.0.0.0".parse().unwrap();
            c.requirepass = Some("protected-mode".into());
            c.pg_users = users;
            c.pg_auth_method = method;
        })
    };
    // No users: loopback is trusted, a remote client is refused.
    let server = public(vec![], PgAuthMethod::ScramSha256);
    refused(&server, "anyone");
    assert_works(&server, "anyone", None);
    // `trust` with users: still loopback only.
    let server = public(vec![("alice".into(), "secret".into())], PgAuthMethod::Trust);
    refused(&server, "alice");
    // A configured user with a password gets in from anywhere.
    let server = public(
        vec![("alice".into(), "secret".into())],
        PgAuthMethod::ScramSha256,
    );
    let mut client =
        Client::connect(&url(&server, "alice", "secret"), NoTls).expect("remote login");
    let row = client.query_one("SELECT current_user", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0), "alice");
}
