//! Scripted sessions through the `redis` crate against the in-process server:
//! transactions, pipelines, expiry, SCAN, databases and RENAME, with real
//! assertions on every value.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::TestServer;
use redis::{Commands, RedisResult};

fn ttl(con: &mut redis::Connection, key: &str) -> i64 {
    con.ttl(key).unwrap()
}

#[test]
fn expiry_session() {
    let server = TestServer::start();
    let mut con = server.client();

    // SET EX through redis::cmd, then TTL and PERSIST.
    let ok: String = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .arg("EX")
        .arg(10_000)
        .query(&mut con)
        .unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(ttl(&mut con, "k"), 10_000);
    let pttl: i64 = con.pttl("k").unwrap();
    assert!((9_990_000..=10_000_000).contains(&pttl), "pttl {pttl}");
    assert_eq!(con.persist::<_, i64>("k").unwrap(), 1);
    assert_eq!(con.persist::<_, i64>("k").unwrap(), 0);
    assert_eq!(ttl(&mut con, "k"), -1);
    assert_eq!(ttl(&mut con, "missing"), -2);

    // EXPIRE NX / XX / GT / LT.
    let expire = |con: &mut redis::Connection, secs: i64, opt: &str| -> i64 {
        redis::cmd("EXPIRE")
            .arg("k")
            .arg(secs)
            .arg(opt)
            .query(con)
            .unwrap()
    };
    assert_eq!(expire(&mut con, 100, "XX"), 0, "XX without a TTL");
    assert_eq!(
        expire(&mut con, 100, "GT"),
        0,
        "GT against no TTL (infinite)"
    );
    assert_eq!(expire(&mut con, 20_000, "NX"), 1);
    assert_eq!(expire(&mut con, 30_000, "NX"), 0);
    assert_eq!(ttl(&mut con, "k"), 20_000);
    assert_eq!(expire(&mut con, 10_000, "GT"), 0);
    assert_eq!(expire(&mut con, 40_000, "GT"), 1);
    assert_eq!(ttl(&mut con, "k"), 40_000);
    assert_eq!(expire(&mut con, 50_000, "LT"), 0);
    assert_eq!(expire(&mut con, 15_000, "LT"), 1);
    assert_eq!(expire(&mut con, 25_000, "XX"), 1);
    assert_eq!(ttl(&mut con, "k"), 25_000);
    let err = redis::cmd("EXPIRE")
        .arg("k")
        .arg(1)
        .arg("NX")
        .arg("XX")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("NX and XX, GT or LT options at the same time are not compatible"),
        "{err}"
    );
    let err = redis::cmd("EXPIRE")
        .arg("k")
        .arg(1)
        .arg("FOO")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert!(err.to_string().contains("Unsupported option FOO"), "{err}");
    assert_eq!(ttl(&mut con, "k"), 25_000);

    // INCR and APPEND keep the TTL; SET clears it.
    let _: () = redis::cmd("SET")
        .arg("n")
        .arg(1)
        .arg("EX")
        .arg(10_000)
        .query(&mut con)
        .unwrap();
    assert_eq!(con.incr::<_, _, i64>("n", 5).unwrap(), 6);
    assert_eq!(con.append::<_, _, i64>("n", "0").unwrap(), 2);
    assert_eq!(ttl(&mut con, "n"), 10_000);
    assert_eq!(con.get::<_, String>("n").unwrap(), "60");
    let _: () = con.set("n", 7).unwrap();
    assert_eq!(ttl(&mut con, "n"), -1);

    // A deadline in the past deletes; a short one runs out.
    assert_eq!(
        redis::cmd("EXPIRE")
            .arg("n")
            .arg(-1)
            .query::<i64>(&mut con)
            .unwrap(),
        1
    );
    assert_eq!(con.exists::<_, i64>("n").unwrap(), 0);
    let _: () = redis::cmd("SET")
        .arg("short")
        .arg("v")
        .arg("PX")
        .arg(50)
        .query(&mut con)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while con.get::<_, Option<String>>("short").unwrap().is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(con.get::<_, Option<String>>("short").unwrap(), None);
    assert_eq!(ttl(&mut con, "short"), -2);
}

#[test]
fn transactions_and_pipelines_session() {
    let server = TestServer::start();
    let mut con = server.client();

    // MULTI/EXEC with expiry, RENAME and reads of the transaction's own writes.
    let (set, t1, grew, t2, renamed, t3, old, value): (
        String,
        i64,
        i64,
        i64,
        String,
        i64,
        i64,
        String,
    ) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("a")
        .arg("1")
        .arg("EX")
        .arg(10_000)
        .ttl("a")
        .cmd("EXPIRE")
        .arg("a")
        .arg(20_000)
        .arg("GT")
        .ttl("a")
        .rename("a", "b")
        .ttl("b")
        .exists("a")
        .get("b")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        (
            set.as_str(),
            t1,
            grew,
            t2,
            renamed.as_str(),
            t3,
            old,
            value.as_str()
        ),
        ("OK", 10_000, 1, 20_000, "OK", 20_000, 0, "1")
    );

    // An error inside EXEC fails only its own command.
    let result: RedisResult<(String, i64)> = redis::pipe()
        .atomic()
        .set("c", "x")
        .rename("missing", "d")
        .query(&mut con);
    assert!(
        result.is_err(),
        "RENAME of a missing key inside EXEC must fail"
    );
    assert_eq!(con.get::<_, String>("c").unwrap(), "x");
    let err = con.rename::<_, _, ()>("missing", "d").unwrap_err();
    assert!(err.to_string().contains("no such key"), "{err}");
    assert_eq!(con.rename_nx::<_, _, i64>("c", "b").unwrap(), 0);
    assert_eq!(con.rename_nx::<_, _, i64>("c", "e").unwrap(), 1);
    assert_eq!(con.get::<_, String>("e").unwrap(), "x");

    // WATCH, another client EXPIREs the key: EXEC answers nil.
    let mut other = server.client();
    let _: () = redis::cmd("WATCH").arg("e").query(&mut con).unwrap();
    assert_eq!(other.expire::<_, i64>("e", 10_000).unwrap(), 1);
    let aborted: Option<(String,)> = redis::pipe()
        .atomic()
        .set("e", "y")
        .query(&mut con)
        .unwrap();
    assert_eq!(aborted, None);
    assert_eq!(con.get::<_, String>("e").unwrap(), "x");
    assert_eq!(ttl(&mut con, "e"), 10_000);

    // A plain pipeline of 500 SETs with TTLs, then one of 500 GETs and TTLs.
    let mut pipe = redis::pipe();
    for i in 0..500 {
        pipe.cmd("SET")
            .arg(format!("p:{i}"))
            .arg(i)
            .arg("EX")
            .arg(10_000 + i)
            .ignore();
    }
    let _: () = pipe.query(&mut con).unwrap();
    let mut pipe = redis::pipe();
    for i in 0..500 {
        pipe.get(format!("p:{i}")).ttl(format!("p:{i}"));
    }
    let got: Vec<(i64, i64)> = pipe.query(&mut con).unwrap();
    assert_eq!(got.len(), 500);
    for (i, (value, ttl)) in got.into_iter().enumerate() {
        assert_eq!((value, ttl), (i as i64, 10_000 + i as i64), "p:{i}");
    }
}

#[test]
fn scan_and_databases_session() {
    let server = TestServer::start();
    let mut con = server.client();

    let mut pipe = redis::pipe();
    for i in 0..2_000 {
        pipe.set(format!("scan:{i}"), i).ignore();
    }
    pipe.set("other", "x").ignore();
    let _: () = pipe.query(&mut con).unwrap();

    let keys: Vec<String> = con
        .scan_match::<_, String>("scan:*")
        .unwrap()
        .collect::<RedisResult<_>>()
        .unwrap();
    let unique: HashSet<String> = keys.iter().cloned().collect();
    let want: HashSet<String> = (0..2_000).map(|i| format!("scan:{i}")).collect();
    assert_eq!(unique, want);
    assert_eq!(keys.len(), 2_000, "SCAN returned a key twice");
    let all: HashSet<String> = con
        .scan::<String>()
        .unwrap()
        .collect::<RedisResult<_>>()
        .unwrap();
    assert_eq!(all.len(), 2_001);
    assert!(all.contains("other"));
    let tens: HashSet<String> = con
        .scan_match::<_, String>("scan:1?")
        .unwrap()
        .collect::<RedisResult<_>>()
        .unwrap();
    assert_eq!(tens, (10..20).map(|i| format!("scan:{i}")).collect());

    // SELECT via the URL: database 3 is separate from database 0.
    let client3 = redis::Client::open(format!("{}3", server.url())).unwrap();
    let mut db3 = client3
        .get_connection_with_timeout(Duration::from_secs(30))
        .unwrap();
    assert_eq!(db3.get::<_, Option<String>>("other").unwrap(), None);
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut db3).unwrap();
    assert_eq!(dbsize, 0);
    let _: () = db3.set("only3", "three").unwrap();
    assert_eq!(con.exists::<_, i64>("only3").unwrap(), 0);
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut db3).unwrap();
    assert!(info.contains("cmd=client|info"), "{info}");

    // MOVE and COPY ... DB between the two.
    assert_eq!(con.exists::<_, i64>("scan:7").unwrap(), 1);
    let moved: i64 = redis::cmd("MOVE")
        .arg("scan:7")
        .arg(3)
        .query(&mut con)
        .unwrap();
    assert_eq!(moved, 1);
    assert_eq!(con.exists::<_, i64>("scan:7").unwrap(), 0);
    assert_eq!(db3.get::<_, String>("scan:7").unwrap(), "7");
    let copied: i64 = redis::cmd("COPY")
        .arg("other")
        .arg("other3")
        .arg("DB")
        .arg(3)
        .query(&mut con)
        .unwrap();
    assert_eq!(copied, 1);
    assert_eq!(db3.get::<_, String>("other3").unwrap(), "x");
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut db3).unwrap();
    assert_eq!(dbsize, 3);
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(dbsize, 2_000);

    // RENAME inside database 3 carries the TTL.
    let _: () = redis::cmd("EXPIRE")
        .arg("only3")
        .arg(10_000)
        .query(&mut db3)
        .unwrap();
    let _: () = db3.rename("only3", "renamed3").unwrap();
    assert_eq!(ttl(&mut db3, "renamed3"), 10_000);
    assert_eq!(db3.get::<_, String>("renamed3").unwrap(), "three");
    let keys3: HashSet<String> = db3
        .scan::<String>()
        .unwrap()
        .collect::<RedisResult<_>>()
        .unwrap();
    let want3: HashSet<String> = ["scan:7", "other3", "renamed3"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(keys3, want3);

    // SELECT inside a transaction switches the database for what follows.
    let (selected, value, back, missing): (String, String, String, Option<String>) = redis::pipe()
        .atomic()
        .cmd("SELECT")
        .arg(3)
        .get("renamed3")
        .cmd("SELECT")
        .arg(0)
        .get("renamed3")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        (selected.as_str(), value.as_str(), back.as_str(), missing),
        ("OK", "three", "OK", None)
    );
}
