//! The PostgreSQL admin console (database `corewire`) with the `postgres`
//! crate over the real engine and two workers: who gets in, the simple
//! protocol only, every SHOW's columns and rows, RELOAD and SHUTDOWN
//! where the test server makes their outcome certain.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestServer;
use postgres::error::SqlState;
use postgres::{Client, NoTls, SimpleQueryMessage};

fn server() -> TestServer {
    TestServer::start_with(|c| c.admin_users = vec!["admin".into(), "ops".into()])
}

fn admin_url(server: &TestServer, user: &str) -> String {
    format!(
        "host=127.0.0.1 port={} user={user} dbname=corewire connect_timeout=30",
        server.pg_port
    )
}

/// The error a login fails with.
fn refused(url: &str) -> postgres::Error {
    match Client::connect(url, NoTls) {
        Ok(_) => panic!("{url} logged in"),
        Err(error) => error,
    }
}

fn admin(server: &TestServer) -> Client {
    Client::connect(&admin_url(server, "admin"), NoTls).expect("admin logs in")
}

/// A result set: column names and rows (NULL as None).
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl Table {
    fn column(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.columns))
    }

    /// The values of column `name`, one per row.
    fn values(&self, name: &str) -> Vec<Option<String>> {
        let at = self.column(name);
        self.rows.iter().map(|row| row[at].clone()).collect()
    }

    fn get(&self, row: usize, name: &str) -> Option<&str> {
        self.rows[row][self.column(name)].as_deref()
    }

    fn number(&self, row: usize, name: &str) -> i64 {
        let text = self
            .get(row, name)
            .unwrap_or_else(|| panic!("{name} is NULL"));
        text.parse()
            .unwrap_or_else(|_| panic!("{name} = {text:?} is not a number"))
    }
}

fn show(client: &mut Client, query: &str) -> Table {
    let messages = client
        .simple_query(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut table = Table {
        columns: Vec::new(),
        rows: Vec::new(),
    };
    let mut completed = 0;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(columns) => {
                table.columns = columns.iter().map(|c| c.name().to_string()).collect()
            }
            SimpleQueryMessage::Row(row) => table.rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            SimpleQueryMessage::CommandComplete(_) => completed += 1,
            _ => {}
        }
    }
    assert_eq!(completed, 1, "{query}: one CommandComplete");
    table
}

fn assert_columns(table: &Table, expected: &[&str]) {
    assert_eq!(table.columns, expected);
}

#[test]
fn only_admin_users_get_in() {
    let server = server();
    // A user not in admin_users is refused after (trusted loopback)
    // authentication, with PgBouncer's SQLSTATE.
    let error = refused(&admin_url(&server, "tester"));
    assert_eq!(
        error.code(),
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
        "{error}"
    );
    let db = error.as_db_error().expect("a server error");
    assert_eq!(db.severity(), "FATAL");
    assert_eq!(
        db.message(),
        "admin console: user \"tester\" is not in admin_users"
    );
    // The same user works on kv; admins get in.
    server.pg_client().simple_query("SELECT 1").unwrap();
    admin(&server);
    Client::connect(&admin_url(&server, "ops"), NoTls).expect("ops logs in");
}

#[test]
fn admins_authenticate_like_everyone_else() {
    let server = TestServer::start_with(|c| {
        c.admin_users = vec!["admin".into()];
        c.pg_users = vec![
            ("admin".into(), "admin secret".into()),
            ("alice".into(), "alice secret".into()),
        ];
    });
    let url =
        |user: &str, password: &str| format!("{} password='{password}'", admin_url(&server, user));
    let error = refused(&url("admin", "wrong"));
    assert_eq!(error.code(), Some(&SqlState::INVALID_PASSWORD), "{error}");
    // A configured user with the right password, but not an admin.
    let error = refused(&url("alice", "alice secret"));
    assert_eq!(
        error.code(),
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
        "{error}"
    );
    let mut client = Client::connect(&url("admin", "admin secret"), NoTls).unwrap();
    assert_eq!(show(&mut client, "SHOW VERSION").rows.len(), 1);
}

#[test]
fn no_admin_users_means_no_console() {
    let server = TestServer::start();
    let error = refused(&admin_url(&server, "admin"));
    assert_eq!(
        error.code(),
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
        "{error}"
    );
}

#[test]
fn commands_are_case_insensitive_and_errors_keep_the_session() {
    let server = server();
    let mut client = admin(&server);
    let version = show(&mut client, "show version;");
    assert_columns(&version, &["version"]);
    assert_eq!(
        version.get(0, "version"),
        Some(format!("corewire {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    assert_eq!(show(&mut client, "  Show Version  ").rows.len(), 1);

    let error = client.simple_query("SELECT 1").unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::SYNTAX_ERROR), "{error}");
    assert_eq!(
        error.as_db_error().unwrap().message(),
        "invalid command 'SELECT 1', use SHOW HELP;"
    );
    let error = client.simple_query("SHOW nothing").unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::SYNTAX_ERROR), "{error}");

    // No [databases] here: PAUSE and RESUME of every database do nothing;
    // naming kv, the console or an unknown database is refused.
    for command in ["PAUSE", "RESUME"] {
        client.simple_query(command).unwrap();
    }
    for (command, code, message) in [
        (
            "resume kv",
            SqlState::FEATURE_NOT_SUPPORTED,
            "cannot resume database \"kv\": only [databases] entries have upstream pools",
        ),
        (
            "KILL corewire",
            SqlState::FEATURE_NOT_SUPPORTED,
            "cannot kill database \"corewire\": only [databases] entries have upstream pools",
        ),
        (
            "PAUSE nope",
            SqlState::INVALID_CATALOG_NAME,
            "no such database: nope",
        ),
        (
            "KILL",
            SqlState::SYNTAX_ERROR,
            "KILL needs a database: KILL db;",
        ),
    ] {
        let error = client.simple_query(command).unwrap_err();
        assert_eq!(error.code(), Some(&code), "{error}");
        assert_eq!(error.as_db_error().unwrap().message(), message);
    }
    let error = client.simple_query("SUSPEND").unwrap_err();
    assert_eq!(
        error.code(),
        Some(&SqlState::FEATURE_NOT_SUPPORTED),
        "{error}"
    );
    let error = client.simple_query("WAIT_CLOSE").unwrap_err();
    assert_eq!(
        error.code(),
        Some(&SqlState::FEATURE_NOT_SUPPORTED),
        "{error}"
    );
    // Still usable.
    assert_eq!(show(&mut client, "SHOW STATE").rows.len(), 3);
}

#[test]
fn extended_protocol_is_refused_and_the_session_recovers() {
    let server = server();
    let mut client = admin(&server);
    // Parse/Describe/Sync (and Bind/Execute for query) answer 08P01.
    let error = client.query("SHOW STATS", &[]).unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::PROTOCOL_VIOLATION), "{error}");
    assert_eq!(
        error.as_db_error().unwrap().message(),
        "admin console supports only the simple query protocol"
    );
    let error = client.prepare("SHOW CLIENTS").unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::PROTOCOL_VIOLATION), "{error}");
    // After Sync the simple protocol works.
    assert_eq!(show(&mut client, "SHOW VERSION").rows.len(), 1);
}

#[test]
fn show_help_is_a_notice() {
    let server = server();
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&notices);
    let mut config: postgres::Config = admin_url(&server, "admin").parse().unwrap();
    config.notice_callback(move |notice| {
        seen.lock().unwrap().push((
            notice.message().to_string(),
            notice.detail().unwrap_or_default().to_string(),
        ))
    });
    let mut client = config.connect(NoTls).unwrap();
    let messages = client.simple_query("SHOW HELP").unwrap();
    assert!(matches!(
        messages.as_slice(),
        [SimpleQueryMessage::CommandComplete(_)]
    ));
    let notices = notices.lock().unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].0, "Console usage");
    for command in [
        "SHOW HELP|",
        "STATS",
        "CLIENTS",
        "WORKERS",
        "RELOAD",
        "SHUTDOWN",
    ] {
        assert!(
            notices[0].1.contains(command),
            "{command}: {}",
            notices[0].1
        );
    }
}

#[test]
fn show_clients_lists_sessions_of_every_worker() {
    let server = server();
    let mut console = admin(&server);
    // Open sessions until both workers hold some (the kernel spreads
    // connections over the SO_REUSEPORT listeners by address hash).
    let mut sessions = Vec::new();
    let workers_with_kv = |table: &Table| {
        let mut workers: Vec<String> = table
            .rows
            .iter()
            .enumerate()
            .filter(|(i, _)| table.get(*i, "database") == Some("kv"))
            .map(|(i, _)| table.get(i, "worker").unwrap().to_string())
            .collect();
        workers.sort();
        workers.dedup();
        workers
    };
    let clients = loop {
        let mut config: postgres::Config = server.pg_url("tester").parse().unwrap();
        config.application_name(&format!("app{}", sessions.len()));
        sessions.push(config.connect(NoTls).unwrap());
        let clients = show(&mut console, "SHOW CLIENTS");
        if workers_with_kv(&clients).len() == 2 && sessions.len() >= 3 {
            break clients;
        }
        assert!(sessions.len() < 64, "64 sessions all landed on one worker");
    };
    assert_columns(
        &clients,
        &[
            "type",
            "user",
            "database",
            "replication",
            "state",
            "addr",
            "port",
            "local_addr",
            "local_port",
            "connect_time",
            "request_time",
            "wait",
            "wait_us",
            "close_needed",
            "ptr",
            "link",
            "remote_pid",
            "tls",
            "application_name",
            "prepared_statements",
            "id",
            "worker",
        ],
    );
    // Every kv session plus the console itself.
    assert_eq!(clients.rows.len(), sessions.len() + 1);
    assert_eq!(workers_with_kv(&clients), ["0", "1"]);
    let mut apps: Vec<String> = clients
        .values("application_name")
        .into_iter()
        .flatten()
        .filter(|name| name.starts_with("app"))
        .collect();
    apps.sort();
    let mut expected: Vec<String> = (0..sessions.len()).map(|i| format!("app{i}")).collect();
    expected.sort();
    assert_eq!(apps, expected);
    for row in 0..clients.rows.len() {
        assert_eq!(clients.get(row, "type"), Some("C"));
        assert_eq!(clients.get(row, "addr"), Some("127.0.0.1"));
        assert_eq!(clients.get(row, "local_addr"), Some("127.0.0.1"));
        assert_eq!(clients.number(row, "local_port"), i64::from(server.pg_port));
        assert!(clients.number(row, "port") > 0);
        assert!(clients.get(row, "connect_time").unwrap().ends_with(" UTC"));
        assert_eq!(clients.get(row, "link"), Some(""));
        let console = clients.get(row, "database") == Some("corewire");
        assert_eq!(
            clients.get(row, "user"),
            Some(if console { "admin" } else { "tester" })
        );
        // The console is running SHOW CLIENTS; the others sit idle.
        assert_eq!(
            clients.get(row, "state"),
            Some(if console { "active" } else { "idle" })
        );
    }
    // Ids are unique and sorted.
    let ids: Vec<i64> = (0..clients.rows.len())
        .map(|r| clients.number(r, "id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // A session in a transaction block is active; one with a prepared
    // statement counts it.
    sessions[0].batch_execute("BEGIN").unwrap();
    sessions[1]
        .prepare("SELECT value FROM kv WHERE key = $1")
        .unwrap();
    let clients = show(&mut console, "SHOW CLIENTS");
    let row_of = |app: &str| {
        clients
            .values("application_name")
            .iter()
            .position(|name| name.as_deref() == Some(app))
            .unwrap()
    };
    assert_eq!(clients.get(row_of("app0"), "state"), Some("active"));
    assert_eq!(clients.get(row_of("app1"), "state"), Some("idle"));
    assert_eq!(clients.number(row_of("app1"), "prepared_statements"), 1);

    // A closed session disappears.
    drop(sessions.pop());
    let expected_rows = sessions.len() + 1;
    let mut clients = show(&mut console, "SHOW CLIENTS");
    // The owning worker sees the close at its next event: ask again until
    // it has (a failure guard, not a speed check).
    let deadline = Instant::now() + Duration::from_secs(30);
    while clients.rows.len() != expected_rows && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        clients = show(&mut console, "SHOW CLIENTS");
    }
    assert_eq!(clients.rows.len(), expected_rows);
}

#[test]
fn show_pools_and_databases_count_sessions() {
    let server = server();
    let mut console = admin(&server);
    let _kv: Vec<Client> = (0..3).map(|_| server.pg_client()).collect();
    let _other = Client::connect(
        &format!(
            "host=127.0.0.1 port={} user=other dbname=postgres connect_timeout=30",
            server.pg_port
        ),
        NoTls,
    )
    .unwrap();

    let pools = show(&mut console, "SHOW POOLS");
    assert_columns(
        &pools,
        &[
            "database",
            "user",
            "cl_active",
            "cl_waiting",
            "cl_active_cancel_req",
            "cl_waiting_cancel_req",
            "sv_active",
            "sv_active_cancel",
            "sv_being_canceled",
            "sv_idle",
            "sv_used",
            "sv_tested",
            "sv_login",
            "maxwait",
            "maxwait_us",
            "pool_mode",
            "load_balance_hosts",
            "worker",
        ],
    );
    let summary: Vec<(String, String, i64, String)> = (0..pools.rows.len())
        .map(|r| {
            (
                pools.get(r, "database").unwrap().to_string(),
                pools.get(r, "user").unwrap().to_string(),
                pools.number(r, "cl_active"),
                pools.get(r, "pool_mode").unwrap().to_string(),
            )
        })
        .collect();
    // Any database name other than corewire is served by kv.
    assert_eq!(
        summary,
        [
            ("corewire".into(), "admin".into(), 1, "statement".into()),
            ("kv".into(), "other".into(), 1, "session".into()),
            ("kv".into(), "tester".into(), 3, "session".into()),
        ]
    );
    for row in 0..pools.rows.len() {
        for column in &pools.columns[3..15] {
            assert_eq!(pools.number(row, column), 0, "{column}");
        }
    }

    let databases = show(&mut console, "SHOW DATABASES");
    assert_columns(
        &databases,
        &[
            "name",
            "host",
            "port",
            "database",
            "force_user",
            "pool_size",
            "min_pool_size",
            "reserve_pool_size",
            "server_lifetime",
            "pool_mode",
            "load_balance_hosts",
            "max_connections",
            "current_connections",
            "max_client_connections",
            "current_client_connections",
            "paused",
            "disabled",
        ],
    );
    assert_eq!(
        databases.values("name"),
        [Some("kv".into()), Some("corewire".into())]
    );
    assert_eq!(databases.get(0, "host"), None);
    assert_eq!(databases.number(0, "current_client_connections"), 4);
    assert_eq!(databases.number(1, "current_client_connections"), 1);
    assert_eq!(databases.number(1, "port"), i64::from(server.pg_port));
    assert_eq!(databases.number(0, "current_connections"), 0);

    let servers = show(&mut console, "SHOW SERVERS");
    assert!(servers.rows.is_empty());
    assert_eq!(servers.columns.len(), 22);
    assert_eq!(servers.columns[0], "type");
}

#[test]
fn show_stats_workers_config_and_state() {
    let server = server();
    let mut console = admin(&server);
    let stats = show(&mut console, "SHOW STATS");
    assert_columns(
        &stats,
        &[
            "database",
            "total_xact_count",
            "total_query_count",
            "total_received",
            "total_sent",
            "total_xact_time",
            "total_query_time",
            "total_wait_time",
            "avg_xact_count",
            "avg_query_count",
            "avg_recv",
            "avg_sent",
            "avg_xact_time",
            "avg_query_time",
            "avg_wait_time",
        ],
    );
    assert_eq!(stats.values("database"), [Some("kv".into())]);
    let totals = show(&mut console, "SHOW STATS_TOTALS");
    assert_eq!(totals.columns, stats.columns[..8]);
    let averages = show(&mut console, "SHOW STATS_AVERAGES");
    assert_eq!(averages.columns[0], "database");
    assert_eq!(averages.columns[1..], stats.columns[8..]);

    let workers = show(&mut console, "SHOW WORKERS");
    assert_eq!(workers.columns[0], "worker");
    assert_eq!(
        workers.values("worker"),
        [Some("0".into()), Some("1".into())]
    );

    let config = show(&mut console, "SHOW CONFIG");
    assert_columns(&config, &["key", "value", "default", "changeable"]);
    assert!(!config.rows.is_empty());
    for row in 0..config.rows.len() {
        let changeable = config.get(row, "changeable").unwrap();
        assert!(changeable == "yes" || changeable == "no", "{changeable}");
    }

    let state = show(&mut console, "SHOW STATE");
    assert_columns(&state, &["key", "value"]);
    assert_eq!(
        state.values("key"),
        [
            Some("active".into()),
            Some("paused".into()),
            Some("suspended".into())
        ]
    );
}

#[test]
fn show_config_hides_secrets() {
    let server = TestServer::start_with(|c| {
        c.admin_users = vec!["admin".into()];
        c.requirepass = Some("hunter2".into());
        c.pg_users = vec![("admin".into(), "pg secret".into())];
    });
    let mut client = Client::connect(
        &format!("{} password='pg secret'", admin_url(&server, "admin")),
        NoTls,
    )
    .unwrap();
    let config = show(&mut client, "SHOW CONFIG");
    for row in &config.rows {
        for value in row.iter().flatten() {
            assert!(
                !value.contains("hunter2") && !value.contains("pg secret"),
                "a secret is shown: {row:?}"
            );
        }
    }
}

#[test]
fn shutdown_is_refused_where_the_host_owns_the_process() {
    // The test server has no corewire_main loop, so SHUTDOWN cannot stop
    // anything and says so; the server keeps serving.
    let server = server();
    let mut client = admin(&server);
    let error = client.simple_query("SHUTDOWN").unwrap_err();
    assert_eq!(error.code().map(SqlState::code), Some("55000"), "{error}");
    assert_eq!(show(&mut client, "SHOW VERSION").rows.len(), 1);
    server.pg_client().simple_query("SELECT 1").unwrap();
}

#[test]
fn reload_without_a_configuration_source_fails_with_f0000() {
    // The test server was started from a Config value: there is no file
    // or command line to read again.
    let server = server();
    let mut client = admin(&server);
    let error = client.simple_query("RELOAD").unwrap_err();
    assert_eq!(error.code().map(SqlState::code), Some("F0000"), "{error}");
    assert!(
        error
            .as_db_error()
            .unwrap()
            .message()
            .starts_with("RELOAD failed: "),
        "{error}"
    );
    assert_eq!(show(&mut client, "SHOW VERSION").rows.len(), 1);
}

/// Backend messages as (tag, body), read until `ready` ReadyForQuery.
fn read_until_ready(stream: &mut TcpStream, ready: usize) -> Vec<(u8, Vec<u8>)> {
    let mut messages = Vec::new();
    let mut seen = 0;
    while seen < ready {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).expect("a message");
        let length = u32::from_be_bytes(header[1..5].try_into().unwrap()) as usize;
        let mut body = vec![0u8; length - 4];
        stream.read_exact(&mut body).unwrap();
        seen += usize::from(header[0] == b'Z');
        messages.push((header[0], body));
    }
    messages
}

fn frontend(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut message = vec![tag];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(body);
    message
}

#[test]
fn pipelined_messages_answer_in_order() {
    let server = server();
    let mut stream = TcpStream::connect(("127.0.0.1", server.pg_port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut startup = Vec::new();
    startup.extend_from_slice(&196_608u32.to_be_bytes());
    startup.extend_from_slice(b"user\0admin\0database\0corewire\0\0");
    let mut bytes = (startup.len() as u32 + 4).to_be_bytes().to_vec();
    bytes.extend_from_slice(&startup);
    // Login, then in one write: two Queries, an extended batch (refused,
    // the rest skipped up to Sync), and another Query.
    bytes.extend(frontend(b'Q', b"SHOW VERSION\0"));
    bytes.extend(frontend(b'Q', b"SHOW CLIENTS\0"));
    bytes.extend(frontend(b'P', b"\0SHOW STATS\0\0\0"));
    bytes.extend(frontend(b'B', b"\0\0\0\0\0\0\0\0"));
    bytes.extend(frontend(b'E', b"\0\0\0\0\0"));
    bytes.extend(frontend(b'S', b""));
    bytes.extend(frontend(b'Q', b"show state\0"));
    stream.write_all(&bytes).unwrap();
    let messages = read_until_ready(&mut stream, 5);
    let tags: String = messages
        .iter()
        .map(|(tag, _)| *tag as char)
        .filter(|tag| !matches!(tag, 'S' | 'K' | 'R'))
        .collect();
    // Z (login); T D C Z (VERSION); T D C Z (CLIENTS: this session);
    // E Z (the extended batch); T D D D C Z (STATE).
    assert_eq!(tags, "ZTDCZTDCZEZTDDDCZ");
    let error = &messages.iter().find(|(tag, _)| *tag == b'E').unwrap().1;
    assert!(String::from_utf8_lossy(error).contains("C08P01"));
}

#[test]
fn reload_applies_the_file_and_reports_what_changed() {
    let server = server();
    let path = std::env::temp_dir().join(format!(
        "corewire-pg-admin-{}-{}.toml",
        std::process::id(),
        server.pg_port
    ));
    std::fs::write(&path, "admin-users = [\"admin\"]\nslowlog-max-len = 7\n").unwrap();
    server
        .server()
        .shared()
        .set_source(corewire::config::Source {
            args: Vec::new(),
            file: Some(path.clone()),
        });
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&notices);
    let mut config: postgres::Config = admin_url(&server, "admin").parse().unwrap();
    config.notice_callback(move |notice| seen.lock().unwrap().push(notice.message().to_string()));
    let mut client = config.connect(NoTls).unwrap();
    let messages = client.simple_query("RELOAD").unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        messages.as_slice(),
        [SimpleQueryMessage::CommandComplete(_)]
    ));
    let applied = notices
        .lock()
        .unwrap()
        .iter()
        .find(|notice| notice.starts_with("applied: "))
        .cloned()
        .expect("a NOTICE naming the applied settings");
    assert!(applied.contains("slowlog-max-len = 7"), "{applied}");
    let settings = show(&mut client, "SHOW CONFIG");
    let row = settings
        .values("key")
        .iter()
        .position(|key| key.as_deref() == Some("slowlog-max-len"))
        .expect("slowlog-max-len is listed");
    assert_eq!(settings.get(row, "value"), Some("7"));
    assert_eq!(settings.get(row, "changeable"), Some("yes"));
}

/// Sums a numeric column over every row.
fn column_sum(table: &Table, name: &str) -> i64 {
    (0..table.rows.len())
        .map(|row| table.number(row, name))
        .sum()
}

#[test]
fn show_workers_counts_connections_by_protocol() {
    let server = server();
    let mut console = admin(&server);
    let _kv: Vec<Client> = (0..3).map(|_| server.pg_client()).collect();
    let mut redis: Vec<redis::Connection> = (0..2).map(|_| server.client()).collect();
    for connection in &mut redis {
        // Answered, so accepted by a worker.
        let _: String = redis::cmd("PING").query(connection).unwrap();
    }
    let workers = show(&mut console, "SHOW WORKERS");
    assert_columns(
        &workers,
        &[
            "worker",
            "resp_connections",
            "pg_connections",
            "http_connections",
            "connections_received",
            "connections_rejected",
            "commands",
            "resp_commands",
            "pg_commands",
            "http_commands",
            "failed_commands",
            "ops_per_sec",
            "net_input_bytes",
            "net_output_bytes",
            "engine_commits",
            "engine_conflicts",
            "engine_aborts",
        ],
    );
    assert_eq!(
        workers.values("worker"),
        [Some("0".into()), Some("1".into())]
    );
    // Three kv sessions and this console; two RESP clients.
    assert_eq!(column_sum(&workers, "pg_connections"), 4);
    assert_eq!(column_sum(&workers, "resp_connections"), 2);
    assert_eq!(column_sum(&workers, "http_connections"), 0);
    assert!(column_sum(&workers, "connections_received") >= 6);
    assert!(column_sum(&workers, "net_input_bytes") > 0);
}

#[test]
fn show_stats_counts_postgresql_statements_and_transactions() {
    let server = server();
    let mut console = admin(&server);
    let mut kv = server.pg_client();
    let before = show(&mut console, "SHOW STATS");
    // Five statements: a block of three (one transaction) and two
    // autocommit statements (a transaction each). The console's own
    // commands are not kv statements.
    for statement in [
        "BEGIN",
        "INSERT INTO kv VALUES ('show-stats', 'v')",
        "COMMIT",
        "SELECT value FROM kv WHERE key = 'show-stats'",
        "DELETE FROM kv WHERE key = 'show-stats'",
    ] {
        kv.simple_query(statement).unwrap();
    }
    let after = show(&mut console, "SHOW STATS");
    let delta = |column: &str| after.number(0, column) - before.number(0, column);
    assert_eq!(delta("total_query_count"), 5);
    assert_eq!(delta("total_xact_count"), 3);
    assert!(delta("total_query_time") >= 0);
    assert!(delta("total_xact_time") >= 0);
    for column in &after.columns[1..] {
        assert!(after.number(0, column) >= 0, "{column}");
    }
}

#[test]
fn show_stats_counts_postgresql_bytes() {
    let server = server();
    let mut console = admin(&server);
    let mut kv = server.pg_client();
    let before = show(&mut console, "SHOW STATS_TOTALS");
    let query = "SELECT value FROM kv WHERE key = 'show-stats'";
    kv.simple_query(query).unwrap();
    let after = show(&mut console, "SHOW STATS_TOTALS");
    // The kv Query (and the console's own SHOW) came in; replies went out.
    let received = after.number(0, "total_received") - before.number(0, "total_received");
    assert!(received >= query.len() as i64 + 5, "{received}");
    assert!(after.number(0, "total_sent") > before.number(0, "total_sent"));
    assert_eq!(after.number(0, "total_wait_time"), 0);
}

#[test]
fn show_workers_agrees_with_info() {
    let server = server();
    let mut console = admin(&server);
    let mut redis = server.client();
    let _: () = redis::cmd("SET")
        .arg("agree")
        .arg("1")
        .query(&mut redis)
        .unwrap();
    let mut kv = server.pg_client();
    kv.simple_query("INSERT INTO kv VALUES ('agree-pg', '1')")
        .unwrap();
    let workers = show(&mut console, "SHOW WORKERS");
    let info: String = redis::cmd("INFO").arg("stats").query(&mut redis).unwrap();
    let field = |name: &str| -> i64 {
        info.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("INFO has no {name}"))
            .trim()
            .parse()
            .unwrap()
    };
    // Nothing between the two reads opens a connection or commits.
    assert_eq!(
        column_sum(&workers, "connections_received"),
        field("total_connections_received")
    );
    assert_eq!(
        column_sum(&workers, "engine_commits"),
        field("engine_commits")
    );
    assert!(field("engine_commits") >= 2);
}
