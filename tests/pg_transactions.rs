//! SQL transactions over the `postgres` crate: COMMIT / ROLLBACK,
//! savepoints, the failed-transaction state, implicit transactions of
//! multi-statement queries, and optimistic-concurrency conflicts (40001).

mod common;

use common::TestServer;
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel};

fn pairs(client: &mut Client, sql: &str) -> Vec<(String, String)> {
    client
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn kv(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn all(client: &mut Client) -> Vec<(String, String)> {
    pairs(client, "SELECT key, value FROM kv ORDER BY key")
}

fn value(client: &mut Client, key: &str) -> Option<String> {
    client
        .query_opt("SELECT value FROM kv WHERE key = $1", &[&key])
        .unwrap()
        .map(|r| r.get(0))
}

fn expect_code(result: Result<impl std::fmt::Debug, postgres::Error>, code: &SqlState) {
    match result {
        Ok(value) => panic!("expected {code:?}, got {value:?}"),
        Err(error) => assert_eq!(error.code(), Some(code), "{error}"),
    }
}

fn show(client: &mut Client, name: &str) -> String {
    client
        .query_one(&format!("SHOW {name}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn commit_and_rollback() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    let mut other = server.pg_client();
    client
        .execute("INSERT INTO kv VALUES ('a', '1')", &[])
        .unwrap();

    let mut tx = client.transaction().unwrap();
    tx.execute("INSERT INTO kv VALUES ($1, $2)", &[&"b", &"2"])
        .unwrap();
    tx.execute("UPDATE kv SET value = 'one' WHERE key = 'a'", &[])
        .unwrap();
    // The transaction sees its own writes; nobody else does yet.
    let row = tx
        .query_one("SELECT value FROM kv WHERE key = 'a'", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "one");
    let row = tx.query_one("SELECT count(*) FROM kv", &[]).unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    assert_eq!(all(&mut other), kv(&[("a", "1")]));
    tx.commit().unwrap();
    assert_eq!(all(&mut other), kv(&[("a", "one"), ("b", "2")]));

    let mut tx = client.transaction().unwrap();
    tx.execute("INSERT INTO kv VALUES ('c', '3')", &[]).unwrap();
    tx.execute("DELETE FROM kv WHERE key = 'a'", &[]).unwrap();
    tx.execute("UPDATE kv SET value = 'two' WHERE key = 'b'", &[])
        .unwrap();
    let rows = tx
        .query("SELECT key, value FROM kv ORDER BY key", &[])
        .unwrap();
    let seen: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(seen, kv(&[("b", "two"), ("c", "3")]));
    tx.rollback().unwrap();
    assert_eq!(all(&mut client), kv(&[("a", "one"), ("b", "2")]));

    // Dropping a Transaction rolls it back.
    {
        let mut tx = client.transaction().unwrap();
        tx.execute("INSERT INTO kv VALUES ('d', '4')", &[]).unwrap();
    }
    assert_eq!(value(&mut client, "d"), None);
    assert_eq!(all(&mut other), kv(&[("a", "one"), ("b", "2")]));

    // The simple protocol: BEGIN ... COMMIT in separate queries.
    client.batch_execute("BEGIN").unwrap();
    client
        .batch_execute("INSERT INTO kv VALUES ('e', '5')")
        .unwrap();
    assert_eq!(value(&mut other, "e"), None);
    client.batch_execute("COMMIT").unwrap();
    assert_eq!(value(&mut other, "e"), Some("5".into()));
    client.batch_execute("START TRANSACTION").unwrap();
    client
        .batch_execute("DELETE FROM kv WHERE key = 'e'")
        .unwrap();
    client.batch_execute("ABORT").unwrap();
    assert_eq!(value(&mut other, "e"), Some("5".into()));
}

#[test]
fn savepoints() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .execute("INSERT INTO kv VALUES ('a', '1')", &[])
        .unwrap();
    let mut tx = client.transaction().unwrap();
    tx.execute("INSERT INTO kv VALUES ('s1', '1')", &[])
        .unwrap();
    {
        let mut sp = tx.savepoint("one").unwrap();
        sp.execute("INSERT INTO kv VALUES ('s2', '2')", &[])
            .unwrap();
        sp.execute("UPDATE kv SET value = 'changed' WHERE key = 's1'", &[])
            .unwrap();
        sp.rollback().unwrap();
    }
    {
        // A nested transaction() is a savepoint too.
        let mut nested = tx.transaction().unwrap();
        nested
            .execute("INSERT INTO kv VALUES ('s3', '3')", &[])
            .unwrap();
        {
            let mut inner = nested.savepoint("deeper").unwrap();
            inner
                .execute("INSERT INTO kv VALUES ('s4', '4')", &[])
                .unwrap();
            inner.commit().unwrap();
        }
        nested.commit().unwrap();
    }
    {
        // An error inside a savepoint; rolling back to it recovers.
        let mut sp = tx.savepoint("recover").unwrap();
        sp.execute("INSERT INTO kv VALUES ('s5', '5')", &[])
            .unwrap();
        expect_code(
            sp.execute("INSERT INTO kv VALUES ('a', 'dup')", &[]),
            &SqlState::UNIQUE_VIOLATION,
        );
        expect_code(
            sp.query("SELECT count(*) FROM kv", &[]),
            &SqlState::IN_FAILED_SQL_TRANSACTION,
        );
        sp.rollback().unwrap();
    }
    tx.execute("INSERT INTO kv VALUES ('s6', '6')", &[])
        .unwrap();
    let rows = tx
        .query("SELECT key FROM kv WHERE key LIKE 's%' ORDER BY key", &[])
        .unwrap();
    let keys: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(keys, ["s1", "s3", "s4", "s6"]);
    tx.commit().unwrap();
    assert_eq!(
        all(&mut client),
        kv(&[
            ("a", "1"),
            ("s1", "1"),
            ("s3", "3"),
            ("s4", "4"),
            ("s6", "6")
        ])
    );

    // SQL spelling: ROLLBACK TO keeps the savepoint; RELEASE removes it.
    client
        .batch_execute(
            "BEGIN; INSERT INTO kv VALUES ('t1', '1'); SAVEPOINT a; \
             INSERT INTO kv VALUES ('t2', '2'); ROLLBACK TO SAVEPOINT a; \
             INSERT INTO kv VALUES ('t3', '3'); ROLLBACK TO a; RELEASE a",
        )
        .unwrap();
    expect_code(
        client.batch_execute("ROLLBACK TO SAVEPOINT a"),
        &SqlState::S_E_INVALID_SPECIFICATION,
    );
    client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(value(&mut client, "t1"), None);
    client
        .batch_execute(
            "BEGIN; INSERT INTO kv VALUES ('t1', '1'); SAVEPOINT a; \
             INSERT INTO kv VALUES ('t2', '2'); RELEASE SAVEPOINT a; COMMIT",
        )
        .unwrap();
    assert_eq!(value(&mut client, "t2"), Some("2".into()));
}

/// Two sessions read and write the same key; the engine is optimistic, so
/// the first COMMIT wins and the second fails validation with 40001.
#[test]
fn concurrent_conflict_is_a_serialization_failure() {
    let server = TestServer::start();
    let mut first = server.pg_client();
    let mut second = server.pg_client();
    first
        .execute("INSERT INTO kv VALUES ('k', '0')", &[])
        .unwrap();

    let mut tx1 = first.transaction().unwrap();
    let mut tx2 = second.transaction().unwrap();
    let read = |tx: &mut postgres::Transaction<'_>| -> String {
        tx.query_one("SELECT value FROM kv WHERE key = $1", &[&"k"])
            .unwrap()
            .get(0)
    };
    assert_eq!(read(&mut tx1), "0");
    assert_eq!(read(&mut tx2), "0");
    assert_eq!(
        tx1.execute("UPDATE kv SET value = $2 WHERE key = $1", &[&"k", &"1"])
            .unwrap(),
        1
    );
    assert_eq!(
        tx2.execute("UPDATE kv SET value = $2 WHERE key = $1", &[&"k", &"2"])
            .unwrap(),
        1
    );
    tx2.execute("INSERT INTO kv VALUES ('only2', 'x')", &[])
        .unwrap();
    tx1.commit().unwrap();
    expect_code(tx2.commit(), &SqlState::T_R_SERIALIZATION_FAILURE);
    // The loser is rolled back entirely and its session is idle again.
    assert_eq!(value(&mut second, "k"), Some("1".into()));
    assert_eq!(value(&mut second, "only2"), None);
    second
        .execute("UPDATE kv SET value = '3' WHERE key = 'k'", &[])
        .unwrap();
    assert_eq!(value(&mut first, "k"), Some("3".into()));

    // The same through SQL in the simple protocol, and a retry succeeds.
    first
        .batch_execute("BEGIN; SELECT value FROM kv WHERE key = 'k'")
        .unwrap();
    second
        .batch_execute("BEGIN; SELECT value FROM kv WHERE key = 'k'")
        .unwrap();
    first
        .batch_execute("UPDATE kv SET value = '4' WHERE key = 'k'")
        .unwrap();
    second
        .batch_execute("UPDATE kv SET value = '5' WHERE key = 'k'")
        .unwrap();
    second.batch_execute("COMMIT").unwrap();
    expect_code(
        first.batch_execute("COMMIT"),
        &SqlState::T_R_SERIALIZATION_FAILURE,
    );
    assert_eq!(value(&mut first, "k"), Some("5".into()));
    first
        .batch_execute("BEGIN; UPDATE kv SET value = '6' WHERE key = 'k'; COMMIT")
        .unwrap();
    assert_eq!(value(&mut second, "k"), Some("6".into()));
}

/// A statement failing inside a block: every later statement is 25P02
/// until the block ends; COMMIT then rolls back, as in PostgreSQL.
#[test]
fn an_error_fails_the_transaction_until_it_ends() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .execute("INSERT INTO kv VALUES ('a', '1')", &[])
        .unwrap();

    let mut tx = client.transaction().unwrap();
    tx.execute("INSERT INTO kv VALUES ('b', '2')", &[]).unwrap();
    expect_code(
        tx.execute("INSERT INTO kv VALUES ('a', 'dup')", &[]),
        &SqlState::UNIQUE_VIOLATION,
    );
    expect_code(
        tx.query("SELECT value FROM kv WHERE key = 'a'", &[]),
        &SqlState::IN_FAILED_SQL_TRANSACTION,
    );
    expect_code(
        tx.execute("INSERT INTO kv VALUES ('c', '3')", &[]),
        &SqlState::IN_FAILED_SQL_TRANSACTION,
    );
    expect_code(
        tx.simple_query("SELECT count(*) FROM kv"),
        &SqlState::IN_FAILED_SQL_TRANSACTION,
    );
    tx.rollback().unwrap();
    assert_eq!(all(&mut client), kv(&[("a", "1")]));

    // COMMIT of a failed block succeeds as a ROLLBACK.
    client.batch_execute("BEGIN").unwrap();
    client
        .execute("INSERT INTO kv VALUES ('b', '2')", &[])
        .unwrap();
    expect_code(
        client.batch_execute("SELECT * FROM nope"),
        &SqlState::UNDEFINED_TABLE,
    );
    expect_code(
        client.batch_execute("INSERT INTO kv VALUES ('c', '3')"),
        &SqlState::IN_FAILED_SQL_TRANSACTION,
    );
    client.batch_execute("COMMIT").unwrap();
    assert_eq!(all(&mut client), kv(&[("a", "1")]));
    // And the session is out of the block.
    client
        .execute("INSERT INTO kv VALUES ('d', '4')", &[])
        .unwrap();
    assert_eq!(all(&mut client), kv(&[("a", "1"), ("d", "4")]));
}

/// A multi-statement simple query is one implicit transaction: a failing
/// statement undoes the earlier ones and skips the rest; an explicit
/// COMMIT inside it ends that transaction.
#[test]
fn implicit_transaction_of_a_multi_statement_query() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .execute("INSERT INTO kv VALUES ('a', '1')", &[])
        .unwrap();
    client
        .batch_execute("INSERT INTO kv VALUES ('m1', '1'); INSERT INTO kv VALUES ('m2', '2')")
        .unwrap();
    expect_code(
        client.simple_query(
            "INSERT INTO kv VALUES ('m3', '3'); UPDATE kv SET value = 'x' WHERE key = 'm1'; \
             INSERT INTO kv VALUES ('a', 'dup'); INSERT INTO kv VALUES ('m4', '4')",
        ),
        &SqlState::UNIQUE_VIOLATION,
    );
    assert_eq!(
        all(&mut client),
        kv(&[("a", "1"), ("m1", "1"), ("m2", "2")])
    );
    // COMMIT inside the string: what came before it stays.
    expect_code(
        client.simple_query(
            "BEGIN; INSERT INTO kv VALUES ('m5', '5'); COMMIT; \
             INSERT INTO kv VALUES ('m6', '6'); INSERT INTO kv VALUES ('a', 'dup')",
        ),
        &SqlState::UNIQUE_VIOLATION,
    );
    assert_eq!(value(&mut client, "m5"), Some("5".into()));
    assert_eq!(value(&mut client, "m6"), None);
    // BEGIN without COMMIT leaves the block open after the query.
    client
        .batch_execute("BEGIN; INSERT INTO kv VALUES ('m7', '7')")
        .unwrap();
    assert_eq!(value(&mut client, "m7"), Some("7".into()));
    client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(value(&mut client, "m7"), None);
    // An error in an explicit block inside the string leaves it failed.
    expect_code(
        client.simple_query(
            "BEGIN; INSERT INTO kv VALUES ('m8', '8'); INSERT INTO kv VALUES ('a', 'dup')",
        ),
        &SqlState::UNIQUE_VIOLATION,
    );
    expect_code(
        client.simple_query("SELECT count(*) FROM kv"),
        &SqlState::IN_FAILED_SQL_TRANSACTION,
    );
    client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(value(&mut client, "m8"), None);
    assert_eq!(
        client
            .query_one("SELECT count(*) FROM kv", &[])
            .unwrap()
            .get::<_, i64>(0),
        4
    );
}

#[test]
fn transaction_states_and_modes() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    // COMMIT / ROLLBACK outside a block are warnings, not errors.
    client.batch_execute("COMMIT").unwrap();
    client.batch_execute("ROLLBACK").unwrap();
    // SAVEPOINT outside a block is an error (25P01).
    expect_code(
        client.batch_execute("SAVEPOINT outside"),
        &SqlState::NO_ACTIVE_SQL_TRANSACTION,
    );
    // BEGIN inside a block is a warning; the block continues.
    client.batch_execute("BEGIN").unwrap();
    client.batch_execute("BEGIN").unwrap();
    client
        .batch_execute("INSERT INTO kv VALUES ('x', '1')")
        .unwrap();
    expect_code(
        client.batch_execute("ROLLBACK TO SAVEPOINT nope"),
        &SqlState::S_E_INVALID_SPECIFICATION,
    );
    client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(value(&mut client, "x"), None);

    // READ ONLY refuses writes with 25006.
    {
        let mut tx = client.build_transaction().read_only(true).start().unwrap();
        let row = tx.query_one("SELECT count(*) FROM kv", &[]).unwrap();
        assert_eq!(row.get::<_, i64>(0), 0);
        expect_code(
            tx.execute("INSERT INTO kv VALUES ('ro', '1')", &[]),
            &SqlState::READ_ONLY_SQL_TRANSACTION,
        );
        tx.rollback().unwrap();
    }
    // Isolation levels are accepted.
    for level in [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        let mut tx = client
            .build_transaction()
            .isolation_level(level)
            .start()
            .unwrap();
        tx.execute(
            "INSERT INTO kv VALUES ($1, 'iso')",
            &[&format!("{level:?}")],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let row = client
        .query_one("SELECT count(*) FROM kv WHERE key IN ('ReadCommitted', 'RepeatableRead', 'Serializable')", &[])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 3);
}

/// SET inside a block is undone by ROLLBACK; SET LOCAL lasts until the
/// block ends.
#[test]
fn settings_are_transactional() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    assert_eq!(show(&mut client, "application_name"), "");
    client
        .batch_execute("BEGIN; SET application_name = 'rolled back'")
        .unwrap();
    assert_eq!(show(&mut client, "application_name"), "rolled back");
    client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(show(&mut client, "application_name"), "");
    client
        .batch_execute("BEGIN; SET LOCAL application_name = 'local'")
        .unwrap();
    assert_eq!(show(&mut client, "application_name"), "local");
    client.batch_execute("COMMIT").unwrap();
    assert_eq!(show(&mut client, "application_name"), "");
    client
        .batch_execute("BEGIN; SET application_name = 'kept'; COMMIT")
        .unwrap();
    assert_eq!(show(&mut client, "application_name"), "kept");
    // A failed block's SET is undone too.
    client
        .batch_execute("BEGIN; SET application_name = 'failed'")
        .unwrap();
    expect_code(
        client.batch_execute("SELECT * FROM nope"),
        &SqlState::UNDEFINED_TABLE,
    );
    client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(show(&mut client, "application_name"), "kept");
}

/// Read-modify-write increments from several sessions, retried on 40001:
/// no update is lost.
#[test]
fn retried_increments_lose_no_update() {
    const THREADS: usize = 4;
    const INCREMENTS: usize = 25;
    let server = TestServer::start();
    server
        .pg_client()
        .execute("INSERT INTO kv VALUES ('counter', '0')", &[])
        .unwrap();
    let start = std::sync::Arc::new(std::sync::Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let mut client = server.pg_client();
            let start = std::sync::Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let mut conflicts = 0;
                for _ in 0..INCREMENTS {
                    loop {
                        let mut tx = client
                            .build_transaction()
                            .isolation_level(IsolationLevel::Serializable)
                            .start()
                            .unwrap();
                        let result = (|| {
                            let current: String = tx
                                .query_one("SELECT value FROM kv WHERE key = 'counter'", &[])?
                                .get(0);
                            let next = (current.parse::<u64>().unwrap() + 1).to_string();
                            tx.execute("UPDATE kv SET value = $1 WHERE key = 'counter'", &[&next])?;
                            tx.commit()
                        })();
                        match result {
                            Ok(()) => break,
                            Err(e) if e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE) => {
                                conflicts += 1;
                                assert!(conflicts < 10_000, "no progress");
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut client = server.pg_client();
    assert_eq!(
        value(&mut client, "counter"),
        Some((THREADS * INCREMENTS).to_string())
    );
}

/// Raw messages up to ReadyForQuery: tags, with an ErrorResponse's SQLSTATE.
fn raw_until_ready(stream: &mut std::net::TcpStream) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let (tag, body) = common::pg_wire::read(stream).expect("a message before close");
        match tag {
            b'E' => {
                let fields = common::pg_wire::error_fields(&body);
                let code = fields
                    .iter()
                    .find(|(f, _)| *f == b'C')
                    .map(|(_, v)| v.clone());
                seen.push(format!("E {}", code.unwrap_or_default()));
            }
            b'Z' => {
                seen.push("Z".into());
                return seen;
            }
            other => seen.push((other as char).to_string()),
        }
    }
}

/// An extended-protocol UPDATE outside BEGIN commits at Sync; another
/// session changing the key in between must not turn it into 40001 (as
/// PostgreSQL's read committed would not) when a rerun answers the same,
/// and must when it would answer differently.
#[test]
fn implicit_write_reruns_at_sync_only_when_its_reply_stands() {
    use common::pg_wire::{bind, execute, flush, parse, startup, sync};
    use std::io::Write;
    let server = TestServer::start();
    let mut other = server.pg_client();
    other
        .batch_execute("INSERT INTO kv VALUES ('k', 'old')")
        .unwrap();
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", server.pg_port)).unwrap();
    raw.write_all(&startup(&[("user", "tester"), ("database", "kv")]))
        .unwrap();
    assert_eq!(raw_until_ready(&mut raw).last().unwrap(), "Z");
    let update = |raw: &mut std::net::TcpStream, value: &str| {
        let mut batch = parse("", "UPDATE kv SET value = $1 WHERE key = $2");
        batch.extend(bind("", "", &[Some(value), Some("k")]));
        batch.extend(execute("", 0));
        batch.extend(flush());
        raw.write_all(&batch).unwrap();
        // ParseComplete, BindComplete, CommandComplete.
        for expected in [b'1', b'2', b'C'] {
            let (tag, _) = common::pg_wire::read(raw).expect("a reply");
            assert_eq!(tag, expected);
        }
    };

    // Changed in between, still there: the rerun says UPDATE 1 again.
    update(&mut raw, "mine");
    other
        .batch_execute("UPDATE kv SET value = 'theirs' WHERE key = 'k'")
        .unwrap();
    raw.write_all(&sync()).unwrap();
    assert_eq!(raw_until_ready(&mut raw), ["Z"]);
    assert_eq!(value(&mut other, "k").as_deref(), Some("mine"));

    // Deleted in between: a rerun would say UPDATE 0, so 40001.
    update(&mut raw, "again");
    other
        .batch_execute("DELETE FROM kv WHERE key = 'k'")
        .unwrap();
    raw.write_all(&sync()).unwrap();
    assert_eq!(raw_until_ready(&mut raw), ["E 40001", "Z"]);
    assert_eq!(value(&mut other, "k"), None);
}
