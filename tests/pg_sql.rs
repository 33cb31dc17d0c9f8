//! The kv table over the `postgres` crate: statements in the extended
//! protocol (with parameters) and the simple protocol, COPY, settings,
//! unsupported SQL, and the same data seen through the Redis protocol.

mod common;

use std::io::{Read, Write};

use common::TestServer;
use postgres::error::SqlState;
use postgres::{Client, SimpleQueryMessage};

/// Every row of a simple query, as text (NULL as None).
fn simple_rows(client: &mut Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// The affected-row counts of each statement of a simple query.
fn simple_counts(client: &mut Client, sql: &str) -> Vec<u64> {
    client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn text_row(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

/// (key, value) pairs of `SELECT key, value ... ORDER BY key`.
fn pairs(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Vec<(String, String)> {
    client
        .query(sql, params)
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

fn keys(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Vec<String> {
    client
        .query(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn count(client: &mut Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM kv", &[])
        .unwrap()
        .get(0)
}

fn expect_code(result: Result<impl std::fmt::Debug, postgres::Error>, code: &SqlState) {
    match result {
        Ok(value) => panic!("expected {code:?}, got {value:?}"),
        Err(error) => assert_eq!(error.code(), Some(code), "{error}"),
    }
}

#[test]
fn crud_with_parameters() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    assert_eq!(
        client
            .execute("INSERT INTO kv VALUES ($1, $2)", &[&"k1", &"v1"])
            .unwrap(),
        1
    );
    assert_eq!(
        client
            .execute(
                "INSERT INTO kv (value, key) VALUES ($1, $2)",
                &[&"v2", &"k2"]
            )
            .unwrap(),
        1
    );
    let row = client
        .query_one("SELECT value FROM kv WHERE key = $1", &[&"k1"])
        .unwrap();
    assert_eq!(row.columns()[0].name(), "value");
    assert_eq!(row.get::<_, String>(0), "v1");
    let row = client
        .query_one("SELECT * FROM kv WHERE key = $1", &[&"k2"])
        .unwrap();
    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["key", "value"]);
    assert_eq!(row.get::<_, String>("key"), "k2");
    assert_eq!(row.get::<_, String>("value"), "v2");
    assert!(client
        .query_opt("SELECT value FROM kv WHERE key = $1", &[&"missing"])
        .unwrap()
        .is_none());

    assert_eq!(
        client
            .execute("UPDATE kv SET value = $2 WHERE key = $1", &[&"k1", &"new"])
            .unwrap(),
        1
    );
    assert_eq!(
        client
            .execute(
                "UPDATE kv SET value = $2 WHERE key = $1",
                &[&"missing", &"x"]
            )
            .unwrap(),
        0
    );
    assert_eq!(
        pairs(&mut client, "SELECT key, value FROM kv ORDER BY key", &[]),
        kv(&[("k1", "new"), ("k2", "v2")])
    );
    assert_eq!(
        client
            .execute("DELETE FROM kv WHERE key = $1", &[&"k1"])
            .unwrap(),
        1
    );
    assert_eq!(
        client
            .execute("DELETE FROM kv WHERE key = $1", &[&"k1"])
            .unwrap(),
        0
    );
    assert_eq!(count(&mut client), 1);
    // A prepared statement runs many times with different parameters.
    let insert = client.prepare("INSERT INTO kv VALUES ($1, $2)").unwrap();
    for i in 0..20 {
        let key = format!("p{i:02}");
        assert_eq!(client.execute(&insert, &[&key, &i.to_string()]).unwrap(), 1);
    }
    let select = client
        .prepare("SELECT value FROM kv WHERE key = $1")
        .unwrap();
    for i in 0..20 {
        let row = client.query_one(&select, &[&format!("p{i:02}")]).unwrap();
        assert_eq!(row.get::<_, String>(0), i.to_string());
    }
    assert_eq!(count(&mut client), 21);
}

#[test]
fn crud_in_the_simple_protocol() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    assert_eq!(
        simple_counts(&mut client, "INSERT INTO kv VALUES ('a', '1')"),
        [1]
    );
    assert_eq!(
        simple_counts(
            &mut client,
            "INSERT INTO kv VALUES ('b', '2'), ('c', '3'), ('d', '4')"
        ),
        [3]
    );
    assert_eq!(
        simple_rows(&mut client, "SELECT value FROM kv WHERE key = 'a'"),
        [text_row(&["1"])]
    );
    assert_eq!(
        simple_counts(&mut client, "UPDATE kv SET value = 'two' WHERE key = 'b'"),
        [1]
    );
    assert_eq!(
        simple_counts(
            &mut client,
            "DELETE FROM kv WHERE key IN ('c', 'd', 'nope')"
        ),
        [2]
    );
    assert_eq!(
        simple_rows(&mut client, "SELECT * FROM kv ORDER BY key"),
        [text_row(&["a", "1"]), text_row(&["b", "two"])]
    );
    assert_eq!(
        simple_rows(&mut client, "SELECT count(*) FROM kv"),
        [text_row(&["2"])]
    );
    // Several statements in one Query: each gets its own result.
    let messages = client
        .simple_query("SELECT key FROM kv WHERE key = 'a'; UPDATE kv SET value = 'x' WHERE key IN ('a', 'b'); SELECT value FROM kv ORDER BY key")
        .unwrap();
    let summary: Vec<String> = messages
        .iter()
        .map(|m| match m {
            SimpleQueryMessage::Row(r) => format!("row {}", r.get(0).unwrap()),
            SimpleQueryMessage::CommandComplete(n) => format!("done {n}"),
            SimpleQueryMessage::RowDescription(_) => "desc".into(),
            _ => "other".into(),
        })
        .collect();
    assert_eq!(
        summary,
        ["desc", "row a", "done 1", "done 2", "desc", "row x", "row x", "done 2"]
    );
}

#[test]
fn multi_row_insert_with_parameters() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    assert_eq!(
        client
            .execute(
                "INSERT INTO kv VALUES ($1, $2), ($3, $4), ('c', '3')",
                &[&"a", &"1", &"b", &"2"]
            )
            .unwrap(),
        3
    );
    assert_eq!(
        pairs(&mut client, "SELECT * FROM kv ORDER BY key", &[]),
        kv(&[("a", "1"), ("b", "2"), ("c", "3")])
    );
    // A duplicate anywhere in a multi-row INSERT keeps none of it.
    expect_code(
        client.execute(
            "INSERT INTO kv VALUES ('d', '4'), ('a', 'again'), ('e', '5')",
            &[],
        ),
        &SqlState::UNIQUE_VIOLATION,
    );
    expect_code(
        client.execute("INSERT INTO kv VALUES ('f', '6'), ('f', '7')", &[]),
        &SqlState::UNIQUE_VIOLATION,
    );
    assert_eq!(count(&mut client), 3);
}

#[test]
fn on_conflict_do_update_and_do_nothing() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .batch_execute("INSERT INTO kv VALUES ('a', '1'), ('b', '2')")
        .unwrap();
    let upsert =
        "INSERT INTO kv VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";
    assert_eq!(client.execute(upsert, &[&"a", &"one"]).unwrap(), 1);
    assert_eq!(client.execute(upsert, &[&"c", &"3"]).unwrap(), 1);
    let nothing = "INSERT INTO kv VALUES ($1, $2) ON CONFLICT DO NOTHING";
    assert_eq!(client.execute(nothing, &[&"b", &"ignored"]).unwrap(), 0);
    assert_eq!(client.execute(nothing, &[&"d", &"4"]).unwrap(), 1);
    assert_eq!(
        client
            .execute(
                "INSERT INTO kv VALUES ('a', 'x'), ('e', '5'), ('b', 'y') ON CONFLICT (key) DO NOTHING",
                &[]
            )
            .unwrap(),
        1
    );
    assert_eq!(
        client
            .execute(
                "INSERT INTO kv VALUES ('d', 'x'), ('f', 'y') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[]
            )
            .unwrap(),
        2
    );
    assert_eq!(
        pairs(&mut client, "SELECT key, value FROM kv ORDER BY key", &[]),
        kv(&[
            ("a", "one"),
            ("b", "2"),
            ("c", "3"),
            ("d", "x"),
            ("e", "5"),
            ("f", "y")
        ])
    );
    // DO UPDATE with a constant.
    assert_eq!(
        simple_counts(
            &mut client,
            "INSERT INTO kv VALUES ('a', 'z') ON CONFLICT (key) DO UPDATE SET value = 'fixed'"
        ),
        [1]
    );
    assert_eq!(
        simple_rows(&mut client, "SELECT value FROM kv WHERE key = 'a'"),
        [text_row(&["fixed"])]
    );
}

#[test]
fn returning() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    assert_eq!(
        pairs(
            &mut client,
            "INSERT INTO kv VALUES ($1, $2), ('b', '2') RETURNING key, value",
            &[&"a", &"1"]
        ),
        kv(&[("a", "1"), ("b", "2")])
    );
    assert_eq!(
        keys(
            &mut client,
            "UPDATE kv SET value = $2 WHERE key = $1 RETURNING value",
            &[&"a", &"new"]
        ),
        ["new"]
    );
    assert_eq!(
        keys(
            &mut client,
            "INSERT INTO kv VALUES ('b', 'x') ON CONFLICT DO NOTHING RETURNING key",
            &[]
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        pairs(
            &mut client,
            "INSERT INTO kv VALUES ('b', 'up') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING *",
            &[]
        ),
        kv(&[("b", "up")])
    );
    assert_eq!(
        pairs(
            &mut client,
            "DELETE FROM kv WHERE key = $1 RETURNING *",
            &[&"a"]
        ),
        kv(&[("a", "new")])
    );
    assert_eq!(
        keys(
            &mut client,
            "DELETE FROM kv WHERE key = $1 RETURNING key",
            &[&"a"]
        ),
        Vec::<String>::new()
    );
    // RETURNING in the simple protocol, with a column alias.
    let messages = client
        .simple_query("DELETE FROM kv WHERE key = 'b' RETURNING value AS old")
        .unwrap();
    let mut seen = Vec::new();
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(cols) => {
                seen.push(format!("cols {}", cols[0].name()))
            }
            SimpleQueryMessage::Row(r) => seen.push(format!("row {}", r.get(0).unwrap())),
            SimpleQueryMessage::CommandComplete(n) => seen.push(format!("done {n}")),
            _ => seen.push("other".into()),
        }
    }
    assert_eq!(seen, ["cols old", "row up", "done 1"]);
    assert_eq!(count(&mut client), 0);
}

#[test]
fn in_like_order_limit_offset_count() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .batch_execute(
            "INSERT INTO kv VALUES ('a', '1'), ('b', '2'), ('c', '3'), ('d', '4'), ('e', '5'), \
             ('user:1', 'alice'), ('user:2', 'bob'), ('user:10', 'carol'), ('usr', 'x')",
        )
        .unwrap();
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv WHERE key IN ($1, $2, $3) ORDER BY key",
            &[&"e", &"a", &"zz"]
        ),
        ["a", "e"]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv WHERE key IN ('c', 'b') ORDER BY key DESC",
            &[]
        ),
        ["c", "b"]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv WHERE key LIKE 'user:%' ORDER BY key",
            &[]
        ),
        ["user:1", "user:10", "user:2"]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv WHERE key LIKE $1 ORDER BY key DESC",
            &[&"us%"]
        ),
        ["usr", "user:2", "user:10", "user:1"]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv WHERE key LIKE 'zzz%' ORDER BY key",
            &[]
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        keys(&mut client, "SELECT key FROM kv ORDER BY key", &[]),
        ["a", "b", "c", "d", "e", "user:1", "user:10", "user:2", "usr"]
    );
    assert_eq!(
        keys(&mut client, "SELECT key FROM kv ORDER BY key LIMIT 3", &[]),
        ["a", "b", "c"]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv ORDER BY key LIMIT 2 OFFSET 2",
            &[]
        ),
        ["c", "d"]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv ORDER BY key DESC OFFSET 7",
            &[]
        ),
        ["b", "a"]
    );
    assert_eq!(
        keys(&mut client, "SELECT key FROM kv ORDER BY key LIMIT 0", &[]),
        Vec::<String>::new()
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv ORDER BY key LIMIT 100 OFFSET 100",
            &[]
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv ORDER BY key LIMIT $1 OFFSET $2",
            &[&2i64, &1i64]
        ),
        ["b", "c"]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv WHERE key LIKE 'user:%' ORDER BY key LIMIT 1 OFFSET 1",
            &[]
        ),
        ["user:10"]
    );
    let count_of = |client: &mut Client, sql: &str| -> i64 {
        let row = client.query_one(sql, &[]).unwrap();
        assert_eq!(row.columns()[0].name(), "count");
        assert_eq!(row.columns()[0].type_(), &postgres::types::Type::INT8);
        row.get(0)
    };
    assert_eq!(count_of(&mut client, "SELECT count(*) FROM kv"), 9);
    assert_eq!(
        count_of(&mut client, "SELECT count(*) FROM kv WHERE key = 'a'"),
        1
    );
    assert_eq!(
        count_of(&mut client, "SELECT count(*) FROM kv WHERE key = 'missing'"),
        0
    );
    assert_eq!(
        count_of(
            &mut client,
            "SELECT count(*) FROM kv WHERE key IN ('a', 'b', 'nope')"
        ),
        2
    );
    assert_eq!(
        count_of(
            &mut client,
            "SELECT count(*) FROM kv WHERE key LIKE 'user:1%'"
        ),
        2
    );
}

#[test]
fn duplicate_key_and_null_value() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .execute("INSERT INTO kv VALUES ('a', '1')", &[])
        .unwrap();
    expect_code(
        client.execute("INSERT INTO kv VALUES ($1, $2)", &[&"a", &"again"]),
        &SqlState::UNIQUE_VIOLATION,
    );
    expect_code(
        client.simple_query("INSERT INTO kv VALUES ('a', 'again')"),
        &SqlState::UNIQUE_VIOLATION,
    );
    expect_code(
        client.execute("INSERT INTO kv VALUES ($1, $2)", &[&"n", &None::<&str>]),
        &SqlState::NOT_NULL_VIOLATION,
    );
    expect_code(
        client.simple_query("INSERT INTO kv VALUES ('n', NULL)"),
        &SqlState::NOT_NULL_VIOLATION,
    );
    expect_code(
        client.execute(
            "UPDATE kv SET value = $2 WHERE key = $1",
            &[&"a", &None::<&str>],
        ),
        &SqlState::NOT_NULL_VIOLATION,
    );
    expect_code(
        client.execute("INSERT INTO kv VALUES ($1, $2)", &[&None::<&str>, &"v"]),
        &SqlState::NOT_NULL_VIOLATION,
    );
    // The session is fine and nothing changed.
    assert_eq!(
        pairs(&mut client, "SELECT key, value FROM kv ORDER BY key", &[]),
        kv(&[("a", "1")])
    );
    // The unique-violation error names the key as PostgreSQL does.
    let error = client
        .execute("INSERT INTO kv VALUES ('a', 'x')", &[])
        .unwrap_err();
    let db = error.as_db_error().unwrap();
    assert_eq!(
        db.message(),
        "duplicate key value violates unique constraint \"kv_pkey\""
    );
    assert_eq!(db.detail(), Some("Key (key)=(a) already exists."));
}

#[test]
fn bytea_values_round_trip() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    let all_bytes: Vec<u8> = (0..=255u8).chain([0, 0, b'\\', b'x']).collect();
    let samples: Vec<(&str, Vec<u8>)> = vec![
        ("all", all_bytes),
        ("empty", Vec::new()),
        ("nul", vec![0]),
        ("ascii", b"plain text".to_vec()),
    ];
    for (key, bytes) in &samples {
        assert_eq!(
            client
                .execute(
                    "INSERT INTO kv VALUES ($1, $2::bytea)",
                    &[key, &bytes.as_slice()]
                )
                .unwrap(),
            1
        );
    }
    for (key, bytes) in &samples {
        let row = client
            .query_one("SELECT value::bytea FROM kv WHERE key = $1", &[key])
            .unwrap();
        assert_eq!(row.columns()[0].name(), "value");
        assert_eq!(row.columns()[0].type_(), &postgres::types::Type::BYTEA);
        assert_eq!(&row.get::<_, Vec<u8>>(0), bytes, "key {key}");
    }
    // Vec<u8> parameters, UPDATE, and a bytea key lookup.
    let new: Vec<u8> = vec![0xff, 0xfe, 0x00, 0x01];
    assert_eq!(
        client
            .execute(
                "UPDATE kv SET value = $2::bytea WHERE key = $1",
                &[&"ascii", &new]
            )
            .unwrap(),
        1
    );
    let row = client
        .query_one("SELECT value::bytea FROM kv WHERE key = $1", &[&"ascii"])
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), new);
    // A text value read as bytea is its UTF-8 bytes.
    client
        .execute("INSERT INTO kv VALUES ('t', 'héllo')", &[])
        .unwrap();
    let row = client
        .query_one("SELECT value::bytea FROM kv WHERE key = 't'", &[])
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), "héllo".as_bytes());
    // bytea in the simple protocol: hex output, and a hex literal input.
    client
        .batch_execute("INSERT INTO kv VALUES ('lit', '\\x00ff41'::bytea)")
        .unwrap();
    assert_eq!(
        simple_rows(&mut client, "SELECT value::bytea FROM kv WHERE key = 'lit'"),
        [text_row(&["\\x00ff41"])]
    );
    let row = client
        .query_one("SELECT value::bytea FROM kv WHERE key = 'lit'", &[])
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), vec![0x00, 0xff, 0x41]);
}

#[test]
fn unicode_text() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    let key = "ключ 🔑";
    let value = "héllo wörld ✓ 日本語 🎉";
    client
        .execute("INSERT INTO kv VALUES ($1, $2)", &[&key, &value])
        .unwrap();
    let row = client
        .query_one("SELECT key, value FROM kv WHERE key = $1", &[&key])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), key);
    assert_eq!(row.get::<_, String>(1), value);
    assert_eq!(
        simple_rows(&mut client, "SELECT value FROM kv WHERE key = 'ключ 🔑'"),
        [text_row(&[value])]
    );
    assert_eq!(
        keys(
            &mut client,
            "SELECT key FROM kv WHERE key LIKE $1",
            &[&"ключ%"]
        ),
        [key]
    );
    // length() counts characters, octet_length() bytes.
    let row = client
        .query_one(
            "SELECT length(value), octet_length(value) FROM kv WHERE key = $1",
            &[&key],
        )
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), value.chars().count() as i32);
    assert_eq!(row.get::<_, i32>(1), value.len() as i32);
    // Quotes, escapes and dollar quoting in literals.
    client
        .batch_execute(
            "INSERT INTO kv VALUES ('quote', 'it''s \"quoted\"'); \
             INSERT INTO kv VALUES ('escaped', E'tab\\there\\nnewline'); \
             INSERT INTO kv VALUES ('dollar', $$it's $dollar$ quoted$$)",
        )
        .unwrap();
    assert_eq!(
        pairs(
            &mut client,
            "SELECT key, value FROM kv WHERE key IN ('quote', 'escaped', 'dollar') ORDER BY key",
            &[]
        ),
        kv(&[
            ("dollar", "it's $dollar$ quoted"),
            ("escaped", "tab\there\nnewline"),
            ("quote", "it's \"quoted\""),
        ])
    );
}

/// Reads a whole COPY TO STDOUT.
fn copy_out(client: &mut Client, sql: &str) -> String {
    let mut out = String::new();
    client
        .copy_out(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn copy_in(client: &mut Client, sql: &str, data: &str) -> Result<u64, postgres::Error> {
    let mut writer = client.copy_in(sql)?;
    writer.write_all(data.as_bytes()).unwrap();
    writer.finish()
}

#[test]
fn copy_text_format() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    let data = "a\t1\nb\ttwo words\nc\ttab\\there\nd\tnew\\nline\ne\tback\\\\slash\n";
    assert_eq!(copy_in(&mut client, "COPY kv FROM STDIN", data).unwrap(), 5);
    assert_eq!(
        pairs(&mut client, "SELECT key, value FROM kv ORDER BY key", &[]),
        kv(&[
            ("a", "1"),
            ("b", "two words"),
            ("c", "tab\there"),
            ("d", "new\nline"),
            ("e", "back\\slash"),
        ])
    );
    assert_eq!(
        copy_out(
            &mut client,
            "COPY (SELECT * FROM kv ORDER BY key) TO STDOUT"
        ),
        data
    );
    // Plain COPY kv TO STDOUT: engine order, same lines.
    let mut lines: Vec<String> = copy_out(&mut client, "COPY kv TO STDOUT")
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    assert_eq!(lines, data.lines().collect::<Vec<_>>());
    assert_eq!(
        copy_out(
            &mut client,
            "COPY (SELECT key FROM kv WHERE key IN ('a', 'c') ORDER BY key) TO STDOUT"
        ),
        "a\nc\n"
    );
    // A reversed column list and a custom delimiter.
    assert_eq!(
        copy_in(
            &mut client,
            "COPY kv (value, key) FROM STDIN WITH (DELIMITER '|')",
            "v|f\n"
        )
        .unwrap(),
        1
    );
    assert_eq!(
        keys(&mut client, "SELECT value FROM kv WHERE key = 'f'", &[]),
        ["v"]
    );
    // An end-of-data marker line ends the data.
    assert_eq!(
        copy_in(&mut client, "COPY kv FROM STDIN", "g\t7\n\\.\n").unwrap(),
        1
    );
    assert_eq!(count(&mut client), 7);
}

#[test]
fn copy_csv_format() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    let data =
        "f,plain\ng,\"with, comma\"\nh,\"with \"\"quotes\"\"\"\ni,\"multi\nline\"\nj,héllo ✓\n";
    assert_eq!(
        copy_in(&mut client, "COPY kv FROM STDIN WITH (FORMAT csv)", data).unwrap(),
        5
    );
    assert_eq!(
        pairs(&mut client, "SELECT key, value FROM kv ORDER BY key", &[]),
        kv(&[
            ("f", "plain"),
            ("g", "with, comma"),
            ("h", "with \"quotes\""),
            ("i", "multi\nline"),
            ("j", "héllo ✓"),
        ])
    );
    assert_eq!(
        copy_out(
            &mut client,
            "COPY (SELECT * FROM kv ORDER BY key) TO STDOUT WITH (FORMAT csv, HEADER)"
        ),
        format!("key,value\n{data}")
    );
    assert_eq!(
        copy_out(&mut client, "COPY (SELECT * FROM kv WHERE key IN ('g', 'h') ORDER BY key) TO STDOUT WITH (FORMAT csv)"),
        "g,\"with, comma\"\nh,\"with \"\"quotes\"\"\"\n"
    );
    // HEADER on input skips the first line.
    assert_eq!(
        copy_in(
            &mut client,
            "COPY kv FROM STDIN WITH (FORMAT csv, HEADER true)",
            "key,value\nk,from header csv\n"
        )
        .unwrap(),
        1
    );
    assert_eq!(
        keys(&mut client, "SELECT value FROM kv WHERE key = 'k'", &[]),
        ["from header csv"]
    );
    // An empty quoted string is a value, not NULL.
    assert_eq!(
        copy_in(
            &mut client,
            "COPY kv FROM STDIN WITH (FORMAT csv)",
            "empty,\"\"\n"
        )
        .unwrap(),
        1
    );
    assert_eq!(
        keys(&mut client, "SELECT value FROM kv WHERE key = 'empty'", &[]),
        [""]
    );
}

#[test]
fn bad_copy_data_is_22p04_and_keeps_nothing() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .execute("INSERT INTO kv VALUES ('keep', 'me')", &[])
        .unwrap();
    // A row with one column: 22P04, and the good row before it is not kept.
    expect_code(
        copy_in(&mut client, "COPY kv FROM STDIN", "x\t1\nonlykey\ny\t2\n"),
        &SqlState::BAD_COPY_FILE_FORMAT,
    );
    // A row with an extra column.
    expect_code(
        copy_in(&mut client, "COPY kv FROM STDIN", "x\t1\textra\n"),
        &SqlState::BAD_COPY_FILE_FORMAT,
    );
    expect_code(
        copy_in(
            &mut client,
            "COPY kv FROM STDIN WITH (FORMAT csv)",
            "x,1\nlonely\n",
        ),
        &SqlState::BAD_COPY_FILE_FORMAT,
    );
    // A duplicate key inside COPY data is 23505, and nothing is kept.
    expect_code(
        copy_in(&mut client, "COPY kv FROM STDIN", "z\t1\nkeep\t2\n"),
        &SqlState::UNIQUE_VIOLATION,
    );
    // A NULL value (\N) is 23502.
    expect_code(
        copy_in(&mut client, "COPY kv FROM STDIN", "z\t\\N\n"),
        &SqlState::NOT_NULL_VIOLATION,
    );
    // A COPY abandoned by the client (the crate sends CopyFail on drop).
    {
        let mut writer = client.copy_in("COPY kv FROM STDIN").unwrap();
        writer.write_all(b"w\t1\n").unwrap();
    }
    // The session keeps working.
    assert_eq!(
        pairs(&mut client, "SELECT key, value FROM kv ORDER BY key", &[]),
        kv(&[("keep", "me")])
    );
    assert_eq!(
        copy_in(&mut client, "COPY kv FROM STDIN", "x\t1\n").unwrap(),
        1
    );
    assert_eq!(count(&mut client), 2);
}

#[test]
fn settings_show_reset_and_version() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    let show = |client: &mut Client, name: &str| -> String {
        client
            .query_one(&format!("SHOW {name}"), &[])
            .unwrap_or_else(|e| panic!("SHOW {name}: {e}"))
            .get(0)
    };
    assert_eq!(show(&mut client, "DateStyle"), "ISO, MDY");
    assert_eq!(show(&mut client, "server_encoding"), "UTF8");
    assert_eq!(show(&mut client, "client_encoding"), "UTF8");
    assert_eq!(show(&mut client, "standard_conforming_strings"), "on");
    assert_eq!(show(&mut client, "application_name"), "");
    client
        .batch_execute("SET application_name = 'tests'")
        .unwrap();
    assert_eq!(show(&mut client, "application_name"), "tests");
    client
        .batch_execute("SET application_name TO 'other'")
        .unwrap();
    assert_eq!(show(&mut client, "application_name"), "other");
    client.batch_execute("RESET application_name").unwrap();
    assert_eq!(show(&mut client, "application_name"), "");
    client.batch_execute("SET extra_float_digits = 3").unwrap();
    assert_eq!(show(&mut client, "extra_float_digits"), "3");
    expect_code(
        client.batch_execute("SET extra_float_digits = 10"),
        &SqlState::INVALID_PARAMETER_VALUE,
    );
    assert_eq!(show(&mut client, "extra_float_digits"), "3");
    client.batch_execute("RESET ALL").unwrap();
    assert_eq!(show(&mut client, "extra_float_digits"), "1");
    expect_code(
        client.simple_query("SHOW no_such_parameter"),
        &SqlState::UNDEFINED_OBJECT,
    );
    expect_code(
        client.simple_query("SET server_version = '1'"),
        &SqlState::CANT_CHANGE_RUNTIME_PARAM,
    );
    let version: String = client.query_one("SELECT version()", &[]).unwrap().get(0);
    assert!(version.starts_with("PostgreSQL "), "{version}");
    let setting: String = client
        .query_one("SELECT current_setting('server_version')", &[])
        .unwrap()
        .get(0);
    assert_eq!(setting, corewire::pg::params::SERVER_VERSION);
    assert_eq!(
        simple_rows(&mut client, "SELECT current_setting('DateStyle')"),
        [text_row(&["ISO, MDY"])]
    );
    assert_eq!(simple_rows(&mut client, "SELECT 1"), [text_row(&["1"])]);
    let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(one, 1);
}

/// SQL corewire does not run: the right SQLSTATE, and the session goes on,
/// in both protocols.
#[test]
fn unsupported_sql_errors_and_the_session_continues() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    client
        .execute("INSERT INTO kv VALUES ('a', '1')", &[])
        .unwrap();
    let cases = [
        ("CREATE TABLE t (a int)", SqlState::FEATURE_NOT_SUPPORTED),
        ("SELECT * FROM nope", SqlState::UNDEFINED_TABLE),
        ("SELEC 1", SqlState::SYNTAX_ERROR),
        (
            "SELECT value FROM kv WHERE value = 'x'",
            SqlState::FEATURE_NOT_SUPPORTED,
        ),
        ("SELECT nosuchcolumn FROM kv", SqlState::UNDEFINED_COLUMN),
        (
            "INSERT INTO nope VALUES ('a', 'b')",
            SqlState::UNDEFINED_TABLE,
        ),
    ];
    let mut wrong = Vec::new();
    for (sql, code) in cases {
        let simple = client.simple_query(sql).map(|_| ());
        let extended = client.query(sql, &[]).map(|_| ());
        for (protocol, result) in [("simple", simple), ("extended", extended)] {
            let got = result.as_ref().err().and_then(|e| e.code()).cloned();
            if got.as_ref() != Some(&code) {
                wrong.push(format!(
                    "{protocol} {sql:?}: expected {code:?}, got {result:?}"
                ));
            }
        }
        assert_eq!(
            client
                .query_one("SELECT value FROM kv WHERE key = $1", &[&"a"])
                .unwrap()
                .get::<_, String>(0),
            "1",
            "after {sql}"
        );
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(count(&mut client), 1);
}

// ---- the same data through the Redis protocol ----

#[test]
fn redis_and_sql_see_the_same_keys() {
    let server = TestServer::start();
    let mut redis = server.client();
    let mut client = server.pg_client();
    let _: () = redis::cmd("SET")
        .arg("from_redis")
        .arg("r1")
        .query(&mut redis)
        .unwrap();
    assert_eq!(
        keys(
            &mut client,
            "SELECT value FROM kv WHERE key = $1",
            &[&"from_redis"]
        ),
        ["r1"]
    );
    client
        .execute("INSERT INTO kv VALUES ($1, $2)", &[&"from_sql", &"s1"])
        .unwrap();
    let got: Option<String> = redis::cmd("GET").arg("from_sql").query(&mut redis).unwrap();
    assert_eq!(got.as_deref(), Some("s1"));
    // A key that exists via Redis is a duplicate for SQL.
    expect_code(
        client.execute("INSERT INTO kv VALUES ('from_redis', 'x')", &[]),
        &SqlState::UNIQUE_VIOLATION,
    );
    client
        .execute("UPDATE kv SET value = 'r2' WHERE key = 'from_redis'", &[])
        .unwrap();
    let got: String = redis::cmd("GET")
        .arg("from_redis")
        .query(&mut redis)
        .unwrap();
    assert_eq!(got, "r2");
    assert_eq!(
        client
            .execute("DELETE FROM kv WHERE key = $1", &[&"from_sql"])
            .unwrap(),
        1
    );
    let exists: i64 = redis::cmd("EXISTS")
        .arg("from_sql")
        .query(&mut redis)
        .unwrap();
    assert_eq!(exists, 0);
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut redis).unwrap();
    assert_eq!(dbsize, count(&mut client));
    assert_eq!(dbsize, 1);
    // Binary Redis values read as bytea.
    let binary: Vec<u8> = vec![0, 0xff, b'\r', b'\n', 0x80];
    let _: () = redis::cmd("SET")
        .arg("bin")
        .arg(&binary[..])
        .query(&mut redis)
        .unwrap();
    let row = client
        .query_one("SELECT value::bytea FROM kv WHERE key = 'bin'", &[])
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), binary);
    // And SQL bytea writes are the raw bytes for Redis.
    client
        .execute("INSERT INTO kv VALUES ('bin2', $1::bytea)", &[&binary])
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg("bin2").query(&mut redis).unwrap();
    assert_eq!(got, binary);
}

#[test]
fn sql_update_keeps_a_redis_ttl() {
    let server = TestServer::start();
    let mut redis = server.client();
    let mut client = server.pg_client();
    let _: () = redis::cmd("SET")
        .arg("ttl_key")
        .arg("v")
        .arg("EX")
        .arg(1000)
        .query(&mut redis)
        .unwrap();
    assert_eq!(
        client
            .execute(
                "UPDATE kv SET value = $2 WHERE key = $1",
                &[&"ttl_key", &"w"]
            )
            .unwrap(),
        1
    );
    let got: String = redis::cmd("GET").arg("ttl_key").query(&mut redis).unwrap();
    assert_eq!(got, "w");
    let ttl: i64 = redis::cmd("TTL").arg("ttl_key").query(&mut redis).unwrap();
    assert!(ttl > 0 && ttl <= 1000, "TTL {ttl}");
    // An expired key is gone for SQL too (PEXPIRE in the past deletes).
    let _: () = redis::cmd("SET")
        .arg("gone")
        .arg("x")
        .query(&mut redis)
        .unwrap();
    let _: i64 = redis::cmd("PEXPIREAT")
        .arg("gone")
        .arg(1)
        .query(&mut redis)
        .unwrap();
    assert!(client
        .query_opt("SELECT value FROM kv WHERE key = 'gone'", &[])
        .unwrap()
        .is_none());
}

#[test]
fn catalog_queries_with_parameters() {
    let server = TestServer::start();
    let mut client = server.pg_client();
    // tokio-postgres's type lookup, with a binary oid parameter.
    let row = client
        .query_one(
            "SELECT t.typname, t.typtype, t.typelem, r.rngsubtype, t.typbasetype, n.nspname, t.typrelid \
             FROM pg_catalog.pg_type t \
             LEFT OUTER JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid \
             INNER JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid \
             WHERE t.oid = $1",
            &[&25u32],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "text");
    assert_eq!(row.get::<_, String>(5), "pg_catalog");
    // A text parameter, as pgJDBC's lookup by name sends it.
    let rows = client
        .query(
            "SELECT oid FROM pg_catalog.pg_type WHERE typname = $1",
            &[&"bytea"],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, u32>(0), 17);
    // The kv table as psql's \dt finds it.
    let rows = simple_rows(
        &mut client,
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c \
         LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog' \
         AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema' \
         AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2",
    );
    assert_eq!(rows, vec![text_row(&["public", "kv"])]);
    // set_config with a parameter (Parse describes it without running it).
    let statement = client
        .prepare("SELECT set_config('application_name', $1, false)")
        .unwrap();
    client.query_one(&statement, &[&"changed"]).unwrap();
    let after: String = client
        .query_one("SHOW application_name", &[])
        .unwrap()
        .get(0);
    assert_eq!(after, "changed");
}
