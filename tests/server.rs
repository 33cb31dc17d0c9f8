//! The server under real clients: the `redis` crate and raw sockets,
//! against the real runtime and the real C++ engine.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Barrier};
use std::thread;

use common::{exchange, TestServer};
use redis::Commands;

#[test]
fn set_get_and_the_difference_between_missing_and_empty() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: () = con.set("k", "v").unwrap();
    assert_eq!(con.get::<_, Option<String>>("k").unwrap(), Some("v".into()));
    assert_eq!(con.get::<_, Option<Vec<u8>>>("missing").unwrap(), None);
    let _: () = con.set("empty", b"").unwrap();
    assert_eq!(
        con.get::<_, Option<Vec<u8>>>("empty").unwrap(),
        Some(vec![])
    );
    let binary: Vec<u8> = (0..=255u8).chain([b'\r', b'\n', 0]).collect();
    let _: () = con.set(&binary[..], &binary[..]).unwrap();
    assert_eq!(con.get::<_, Vec<u8>>(&binary[..]).unwrap(), binary);
}

#[test]
fn sixteen_mib_values_round_trip() {
    let server = TestServer::start();
    let mut con = server.client();
    let value: Vec<u8> = (0..16 * 1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let _: () = con.set("big", &value[..]).unwrap();
    let back: Vec<u8> = con.get("big").unwrap();
    assert_eq!(back.len(), value.len());
    assert!(back == value, "16 MiB value corrupted");
    let _: () = con.set("after", "small").unwrap();
    assert_eq!(con.get::<_, String>("after").unwrap(), "small");
}

/// More clients than redis-benchmark's 50 on 2 workers, all at once: every
/// INCR is counted exactly once and every client is served.
#[test]
fn sixty_four_concurrent_clients_on_two_workers() {
    let server = TestServer::start();
    const CLIENTS: usize = 64;
    const ROUNDS: usize = 200;
    let start = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let mut con = server.client();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for round in 0..ROUNDS {
                    let _: i64 = con.incr("shared", 1).unwrap();
                    let key = format!("client:{id}");
                    let _: () = con.set(&key, round).unwrap();
                    assert_eq!(con.get::<_, usize>(&key).unwrap(), round);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut con = server.client();
    assert_eq!(con.get::<_, usize>("shared").unwrap(), CLIENTS * ROUNDS);
    assert_eq!(
        redis::cmd("DBSIZE").query::<usize>(&mut con).unwrap(),
        CLIENTS + 1
    );
}

#[test]
fn pipelines_answer_in_order() {
    let server = TestServer::start();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..5_000 {
        pipe.set(format!("p{i}"), i).ignore();
        pipe.incr("pipelined", 1);
        pipe.get(format!("p{i}"));
    }
    let replies: Vec<i64> = pipe.query(&mut con).unwrap();
    assert_eq!(replies.len(), 10_000);
    for (i, pair) in replies.chunks(2).enumerate() {
        assert_eq!(pair, [i as i64 + 1, i as i64]);
    }
}

/// MSET is atomic: readers using MGET never see a batch half-applied.
#[test]
fn mset_batches_are_never_torn() {
    let server = TestServer::start();
    let mut writer = server.client();
    let _: () = redis::cmd("MSET")
        .arg(&["a", "0", "b", "0", "c", "0"])
        .query(&mut writer)
        .unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let mut con = server.client();
            thread::spawn(move || {
                for _ in 0..2_000 {
                    let values: Vec<i64> = redis::cmd("MGET")
                        .arg(&["a", "b", "c"])
                        .query(&mut con)
                        .unwrap();
                    assert!(
                        values[0] == values[1] && values[1] == values[2],
                        "torn batch {values:?}"
                    );
                }
            })
        })
        .collect();
    for i in 1..=2_000 {
        let v = i.to_string();
        let _: () = redis::cmd("MSET")
            .arg(&["a", &v, "b", &v, "c", &v])
            .query(&mut writer)
            .unwrap();
    }
    for reader in readers {
        reader.join().unwrap();
    }
}

#[test]
fn malformed_input_closes_only_the_sender() {
    let server = TestServer::start();
    let mut good = server.client();
    let mut bad = server.raw();
    bad.write_all(b"*2\r\n$3\r\nGET\r\n$-9\r\n").unwrap();
    let mut reply = String::new();
    bad.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "-ERR Protocol error: invalid bulk length\r\n");
    let _: () = good.set("still", "fine").unwrap();
    assert_eq!(good.get::<_, String>("still").unwrap(), "fine");
}

/// A client that pipelines requests and never reads must not stall the
/// other clients on its worker, and is dropped once its unsent replies pass
/// the output cap.
#[test]
fn stalled_reader_is_capped_and_others_keep_going() {
    const CAP_BYTES: usize = 1024 * 1024;
    let server = TestServer::start_with(|config| {
        config.workers = 1; // everyone shares one loop
        config.max_output_buffer_bytes = CAP_BYTES;
    });
    let mut con = server.client();
    let value = vec![b'x'; 64 * 1024];
    let _: () = con.set("fat", &value[..]).unwrap();

    let mut stalled = server.raw();
    stalled
        .set_write_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let request = b"*2\r\n$3\r\nGET\r\n$3\r\nfat\r\n";
    // 4096 replies of 64 KiB = 256 MiB owed: far over the cap and over any
    // socket buffer, so the server must give up on this client.
    let mut sent_all = true;
    for _ in 0..4096 {
        if stalled.write_all(request).is_err() {
            sent_all = false; // already disconnected
            break;
        }
        // The neighbour is served while the stalled client piles up.
        let _: () = con.set("alive", "yes").unwrap();
    }
    assert_eq!(con.get::<_, String>("alive").unwrap(), "yes");
    // Drain what was sent before the cut; the connection must end.
    let mut sink = vec![0u8; 1 << 20];
    let mut received = 0usize;
    loop {
        match stalled.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => received += n,
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("stalled client was never disconnected: {error}"),
        }
    }
    assert!(
        received < 4096 * value.len(),
        "all replies arrived: no cap was applied"
    );
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    assert!(
        info.contains("client_output_buffer_limit_disconnections:1"),
        "{info}"
    );
    let _ = sent_all;
}

/// A client that pipelines far more output than the cap, even one that
/// reads as fast as it can, is dropped at the cap (as Redis does): it gets
/// replies and then a close, never silence.
#[test]
fn pipelined_output_past_the_cap_is_cut_off_never_left_hanging() {
    const REQUESTS: usize = 20_000;
    let server = TestServer::start_with(|config| {
        config.workers = 1;
        config.max_output_buffer_bytes = 1024 * 1024;
    });
    let mut con = server.client();
    let value = vec![b'v'; 4000];
    let _: () = con.set("big", &value[..]).unwrap();

    let mut stream = server.raw();
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let batch = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(REQUESTS);
        let _ = writer.write_all(&batch); // may fail if the server cut us off
    });
    let reply_bytes = REQUESTS * (b"$4000\r\n".len() + value.len() + 2);
    let mut received = 0usize;
    let mut buffer = vec![0u8; 1 << 20];
    while received < reply_bytes {
        match stream.read(&mut buffer) {
            Ok(0) => break, // cut off at the cap: allowed
            Ok(n) => received += n,
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("stuck after {received} of {reply_bytes} bytes: {error}"),
        }
    }
    sender.join().unwrap();
    assert!(
        received < reply_bytes,
        "all {reply_bytes} bytes arrived: the cap was not applied"
    );
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    assert!(
        info.contains("client_output_buffer_limit_disconnections:1"),
        "{info}"
    );
}

#[test]
fn max_clients_is_enforced_with_redis_error() {
    let server = TestServer::start_with(|config| config.max_clients = 3);
    let mut held: Vec<_> = (0..3).map(|_| server.raw()).collect();
    for stream in &mut held {
        exchange(stream, b"PING\r\n", b"+PONG\r\n");
    }
    let mut refused = server.raw();
    let mut reply = String::new();
    refused.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "-ERR max number of clients reached\r\n");
    drop(held.pop());
    // The freed slot is reusable (the close is seen asynchronously).
    let mut reused = None;
    for _ in 0..200 {
        let mut stream = server.raw();
        stream.write_all(b"PING\r\n").unwrap();
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).unwrap();
        if first[0] == b'+' {
            reused = Some(stream);
            break;
        }
        thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(reused.is_some(), "a slot was never freed");
}

/// A large request trickling in small writes is reassembled correctly (the
/// resumable parser keeps its place instead of starting over).
#[test]
fn request_arriving_in_small_pieces() {
    let server = TestServer::start();
    let mut stream = server.raw();
    stream.set_nodelay(true).unwrap();
    let value: Vec<u8> = (0..256 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let mut request =
        format!("*3\r\n$3\r\nSET\r\n$5\r\nslowk\r\n${}\r\n", value.len()).into_bytes();
    request.extend_from_slice(&value);
    request.extend_from_slice(b"\r\n");
    for piece in request.chunks(997) {
        stream.write_all(piece).unwrap();
    }
    exchange(&mut stream, b"", b"+OK\r\n");
    let mut con = server.client();
    assert_eq!(con.get::<_, Vec<u8>>("slowk").unwrap(), value);
}

#[test]
fn info_reports_real_numbers() {
    let server = TestServer::start();
    let mut con = server.client();
    for i in 0..10 {
        let _: () = con.set(format!("k{i}"), i).unwrap();
    }
    let _: Option<String> = con.get("k1").unwrap();
    let _: Option<String> = con.get("nope").unwrap();
    let info: String = redis::cmd("INFO").query(&mut con).unwrap();
    let field = |name: &str| -> u64 {
        let line = info
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} in {info}"));
        line[name.len() + 1..].parse().unwrap()
    };
    assert!(field("total_commands_processed") >= 12);
    assert!(field("keyspace_hits") >= 1);
    assert!(field("keyspace_misses") >= 1);
    assert!(field("connected_clients") >= 1);
    assert_eq!(field("tcp_port"), server.port as u64);
    assert!(
        info.contains("# Keyspace\r\ndb0:keys=10,expires=0,avg_ttl=0\r\n"),
        "{info}"
    );
    assert!(
        info.contains("# Server\r\n")
            && info.contains("# Clients\r\n")
            && info.contains("# Stats\r\n")
    );
    let keyspace: String = redis::cmd("INFO").arg("keyspace").query(&mut con).unwrap();
    assert_eq!(
        keyspace,
        "# Keyspace\r\ndb0:keys=10,expires=0,avg_ttl=0\r\n"
    );
}

#[test]
fn resp3_through_the_redis_crate() {
    let server = TestServer::start();
    let client = redis::Client::open(format!("{}?protocol=resp3", server.url())).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = con.set("r3", "v").unwrap();
    assert_eq!(
        con.get::<_, Option<String>>("r3").unwrap(),
        Some("v".into())
    );
    assert_eq!(con.get::<_, Option<String>>("nope").unwrap(), None);
    let config: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .query(&mut con)
        .unwrap();
    assert_eq!(config.get("maxclients").map(String::as_str), Some("10000"));
}

#[test]
fn a_second_server_on_a_taken_port_fails_cleanly() {
    let first = TestServer::start();
    let port = first.port;
    let error = TestServer::try_start_with(|config| config.resp_port = port).err();
    let error = error.expect("a second server bound a port that was in use");
    assert!(error.contains("Address already in use"), "{error}");
    let mut con = first.client();
    let _: () = con.set("first", "ok").unwrap();
}

/// The classic optimistic counter: WATCH, GET, MULTI, SET, EXEC, retry on
/// nil. Clients on both workers race; not one increment may be lost.
#[test]
fn watch_exec_counter_is_exact_across_workers() {
    let server = TestServer::start();
    const CLIENTS: usize = 8;
    const INCREMENTS: usize = 100;
    let start = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut con = server.client();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                let mut retries = 0usize;
                for _ in 0..INCREMENTS {
                    loop {
                        let _: () = redis::cmd("WATCH").arg("counter").query(&mut con).unwrap();
                        let current: Option<i64> = con.get("counter").unwrap();
                        let next = current.unwrap_or(0) + 1;
                        let result: Option<(String,)> = redis::pipe()
                            .atomic()
                            .set("counter", next)
                            .query(&mut con)
                            .unwrap();
                        if result.is_some() {
                            break;
                        }
                        retries += 1;
                        assert!(retries < 1_000_000, "livelock");
                    }
                }
                retries
            })
        })
        .collect();
    let retries: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let mut con = server.client();
    assert_eq!(
        con.get::<_, usize>("counter").unwrap(),
        CLIENTS * INCREMENTS,
        "after {retries} retries"
    );
}

/// A reader never sees half of a MULTI/EXEC, whether it reads with MGET or
/// with its own MULTI/EXEC.
#[test]
fn multi_exec_is_atomic_under_concurrent_readers() {
    let server = TestServer::start();
    let mut writer = server.client();
    let _: () = redis::cmd("MSET")
        .arg(&["x", "0", "y", "0"])
        .query(&mut writer)
        .unwrap();
    let readers: Vec<_> = (0..3)
        .map(|reader| {
            let mut con = server.client();
            thread::spawn(move || {
                for _ in 0..1_500 {
                    let (x, y): (i64, i64) = if reader % 2 == 0 {
                        redis::cmd("MGET").arg(&["x", "y"]).query(&mut con).unwrap()
                    } else {
                        redis::pipe()
                            .atomic()
                            .get("x")
                            .get("y")
                            .query(&mut con)
                            .unwrap()
                    };
                    assert_eq!(x, -y, "half a transaction: x={x} y={y}");
                }
            })
        })
        .collect();
    for i in 1..=1_500i64 {
        let _: () = redis::pipe()
            .atomic()
            .set("x", i)
            .ignore()
            .set("y", -i)
            .ignore()
            .query(&mut writer)
            .unwrap();
    }
    for reader in readers {
        reader.join().unwrap();
    }
}

fn client_id(con: &mut redis::Connection) -> u64 {
    redis::cmd("CLIENT").arg("ID").query(con).unwrap()
}

#[test]
fn client_list_info_and_kill_span_workers() {
    let server = TestServer::start();
    // Twenty named clients: SO_REUSEPORT spreads them over both workers.
    let mut clients: Vec<_> = (0..20)
        .map(|i| {
            let mut con = server.client();
            let _: () = redis::cmd("CLIENT")
                .arg("SETNAME")
                .arg(format!("c{i}"))
                .query(&mut con)
                .unwrap();
            con
        })
        .collect();
    let mut admin = server.client();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
    for i in 0..20 {
        assert!(
            list.contains(&format!(" name=c{i} ")),
            "c{i} missing from\n{list}"
        );
    }
    assert_eq!(list.lines().count(), 21, "{list}");
    let ids: Vec<u64> = list
        .lines()
        .map(|l| l[3..l.find(' ').unwrap()].parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by id: {ids:?}");

    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut admin).unwrap();
    let admin_id = client_id(&mut admin);
    assert!(
        info.starts_with(&format!("id={admin_id} addr=127.0.0.1:")),
        "{info}"
    );
    assert!(
        info.contains(" cmd=client|info ") && info.contains(" resp=2 ") && info.ends_with('\n'),
        "{info}"
    );

    let target = client_id(&mut clients[7]);
    let only: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("ID")
        .arg(target)
        .query(&mut admin)
        .unwrap();
    assert_eq!(only.lines().count(), 1);
    assert!(only.contains(" name=c7 "), "{only}");
    let pubsub: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query(&mut admin)
        .unwrap();
    assert_eq!(pubsub, "");

    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(target)
        .query(&mut admin)
        .unwrap();
    assert_eq!(killed, 1);
    assert!(
        redis::cmd("PING").query::<String>(&mut clients[7]).is_err(),
        "killed client still served"
    );
    let again: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(target)
        .query(&mut admin)
        .unwrap();
    assert_eq!(again, 0);
    // SKIPME defaults to yes: killing by our own id spares us.
    let spared: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(admin_id)
        .query(&mut admin)
        .unwrap();
    assert_eq!(spared, 0);
    let survivor = client_id(&mut clients[3]);
    assert_eq!(client_id(&mut clients[3]), survivor);
}

#[test]
fn client_kill_forms_and_errors() {
    let server = TestServer::start();
    let mut victim = server.raw();
    exchange(&mut victim, b"PING\r\n", b"+PONG\r\n");
    let victim_addr = victim.local_addr().unwrap().to_string();
    let mut admin = server.raw();
    exchange(
        &mut admin,
        b"CLIENT KILL 1.2.3.4:5\r\n",
        b"-ERR No such client\r\n",
    );
    exchange(
        &mut admin,
        b"CLIENT KILL ID abc\r\n",
        b"-ERR client-id should be greater than 0\r\n",
    );
    exchange(
        &mut admin,
        b"CLIENT KILL FOO bar\r\n",
        b"-ERR syntax error\r\n",
    );
    exchange(
        &mut admin,
        b"CLIENT KILL TYPE bogus\r\n",
        b"-ERR Unknown client type 'bogus'\r\n",
    );
    exchange(
        &mut admin,
        b"CLIENT NO-EVICT maybe\r\n",
        b"-ERR syntax error\r\n",
    );
    exchange(&mut admin, b"CLIENT NO-EVICT on\r\n", b"+OK\r\n");
    exchange(
        &mut admin,
        format!("CLIENT KILL {victim_addr}\r\n").as_bytes(),
        b"+OK\r\n",
    );
    common::expect_closed(&mut victim);
    // An admin request is answered in order within a pipeline.
    exchange(
        &mut admin,
        b"CLIENT KILL 9.9.9.9:9\r\nPING\r\n",
        b"-ERR No such client\r\n+PONG\r\n",
    );
    // SKIPME no: a client may kill itself; it still gets its reply.
    exchange(
        &mut admin,
        b"CLIENT KILL USER default SKIPME no\r\n",
        b":1\r\n",
    );
    common::expect_closed(&mut admin);
}

/// Workers asking each other for their clients at the same time answer
/// each other while they wait: no deadlock, every list complete.
#[test]
fn concurrent_client_lists_from_all_workers() {
    let server = TestServer::start();
    let connections: Vec<_> = (0..6).map(|_| server.client()).collect();
    let threads: Vec<_> = connections
        .into_iter()
        .map(|mut con| {
            thread::spawn(move || {
                for _ in 0..50 {
                    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
                    assert_eq!(list.lines().count(), 6, "{list}");
                }
                con // stays open until every thread is done
            })
        })
        .collect();
    let _still_open: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
}

/// Keys whose deadline passed are gone at once for readers, and the active
/// expiry cycle reclaims them without anyone touching them.
#[test]
fn expired_keys_are_reclaimed_by_active_expiry() {
    let server = TestServer::start();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..2_000 {
        pipe.cmd("SET")
            .arg(format!("short:{i}"))
            .arg(i)
            .arg("PX")
            .arg(1)
            .ignore();
    }
    let _: () = pipe.query(&mut con).unwrap();
    let _: () = con.set("forever", 1).unwrap();
    // Polled, not timed: the cycle runs every 100 ms on each worker.
    let mut keys = usize::MAX;
    for _ in 0..500 {
        keys = redis::cmd("DBSIZE").query(&mut con).unwrap();
        if keys == 1 {
            break;
        }
        thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(keys, 1, "expired keys never reclaimed");
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    let expired: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(expired >= 1_000, "expired_keys:{expired}");
    assert_eq!(con.get::<_, String>("forever").unwrap(), "1");
}

/// A full SCAN returns every key that exists for its whole duration, even
/// while another client keeps inserting (and the table keeps growing).
#[test]
fn scan_returns_every_stable_key_while_the_table_grows() {
    let server = TestServer::start();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..3_000 {
        pipe.set(format!("stable:{i}"), i).ignore();
    }
    let _: () = pipe.query(&mut con).unwrap();
    let mut writer = server.client();
    let inserter = thread::spawn(move || {
        for batch in 0..40 {
            let mut pipe = redis::pipe();
            for i in 0..500 {
                pipe.set(format!("churn:{batch}:{i}"), i).ignore();
            }
            let _: () = pipe.query(&mut writer).unwrap();
        }
    });
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0u64;
    let mut calls = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("stable:*")
            .arg("COUNT")
            .arg(100)
            .query(&mut con)
            .unwrap();
        seen.extend(keys);
        calls += 1;
        assert!(calls < 100_000, "SCAN never finished");
        if next == 0 {
            break;
        }
        cursor = next;
    }
    inserter.join().unwrap();
    assert_eq!(seen.len(), 3_000, "SCAN missed stable keys");
    let keys: Vec<String> = redis::cmd("KEYS").arg("stable:*").query(&mut con).unwrap();
    assert_eq!(keys.len(), 3_000);
}

#[test]
fn info_keyspace_lists_each_database() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: () = con.set("a", 1).unwrap();
    let _: () = redis::cmd("SET")
        .arg("b")
        .arg(1)
        .arg("EX")
        .arg(100)
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut con).unwrap();
    let _: () = con.set("c", 1).unwrap();
    let keyspace: String = redis::cmd("INFO").arg("keyspace").query(&mut con).unwrap();
    assert_eq!(
        keyspace,
        "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n"
    );
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    let keyspace: String = redis::cmd("INFO").arg("keyspace").query(&mut con).unwrap();
    assert_eq!(keyspace, "# Keyspace\r\n");
}
