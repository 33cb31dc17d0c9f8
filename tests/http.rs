//! The HTTP listener against the real runtime and the real C++ engine:
//! requests written by hand on raw sockets, and the same data checked
//! through the `redis` and `postgres` crates.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::TestServer;
use redis::Commands;
use serde_json::{json, Value};

/// One parsed response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP/1.1 connection.
struct Http {
    stream: TcpStream,
    /// Bytes read past the last response.
    buffered: Vec<u8>,
}

impl Http {
    fn connect(port: u16) -> Http {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        // A failure guard, not a speed check.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Http {
            stream,
            buffered: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends one request with a Content-Length body (if any) and reads the
    /// response.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        self.send(&request_bytes(method, path, headers, body));
        self.read_reply(method == "HEAD")
    }

    fn get(&mut self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).expect("reads");
        self.buffered.extend_from_slice(&chunk[..n]);
        n
    }

    /// Reads one response (headers only for a HEAD request).
    fn read_reply(&mut self, head_only: bool) -> Reply {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head_len) = response
                .parse(&self.buffered)
                .expect("a valid response head")
            {
                let status = response.code.unwrap();
                let headers: Vec<(String, String)> = response
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let length: usize = if head_only || status == 100 {
                    0
                } else {
                    headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                        .map(|(_, v)| v.parse().unwrap())
                        .expect("a Content-Length")
                };
                while self.buffered.len() < head_len + length {
                    assert!(self.fill() > 0, "connection closed inside a body");
                }
                let body = self.buffered[head_len..head_len + length].to_vec();
                self.buffered.drain(..head_len + length);
                return Reply {
                    status,
                    headers,
                    body,
                };
            }
            assert!(
                self.fill() > 0,
                "connection closed before a response: {:?}",
                String::from_utf8_lossy(&self.buffered)
            );
        }
    }

    /// Asserts the server closes the connection with nothing more to say.
    fn expect_closed(&mut self) {
        assert!(
            self.buffered.is_empty(),
            "unread bytes: {:?}",
            String::from_utf8_lossy(&self.buffered)
        );
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest) {
            Ok(_) => assert!(
                rest.is_empty(),
                "bytes before close: {:?}",
                String::from_utf8_lossy(&rest)
            ),
            Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}"),
        }
    }
}

fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "PUT" | "POST") {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn start() -> TestServer {
    let server = TestServer::start();
    assert_ne!(server.http_port, 0, "HTTP listens by default");
    server
}

/// A neighbour connection still gets answers.
fn assert_served(server: &TestServer) {
    let reply = Http::connect(server.http_port).get("/health");
    assert_eq!(reply.status, 200);
}

#[test]
fn health_metrics_stats_and_the_status_page() {
    let server = start();
    let mut http = Http::connect(server.http_port);

    let reply = http.get("/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({"live": true, "ready": true, "status": "ready"})
    );
    assert_eq!(http.get("/health/live").json(), json!({"live": true}));
    assert_eq!(http.get("/health/ready").status, 200);

    let reply = http.get("/metrics");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = reply.text();
    assert!(text.contains("# TYPE "), "{text}");
    assert!(text.lines().any(|l| l.starts_with("corewire_")), "{text}");

    let stats = http.get("/stats");
    assert_eq!(stats.status, 200);
    let stats = stats.json();
    assert!(stats["uptime_seconds"].is_u64(), "{stats}");
    let workers = stats["workers"].as_array().expect("a workers array");
    assert_eq!(workers.len(), 2);
    for (i, worker) in workers.iter().enumerate() {
        assert_eq!(worker["id"], json!(i));
        assert!(worker["commands_total"].is_u64(), "{worker}");
        assert!(worker["connections"].is_object(), "{worker}");
    }
    // The four requests before this one (it counts once answered).
    assert!(
        stats["total"]["commands_total"].as_u64().unwrap() >= 4,
        "{stats}"
    );

    let page = http.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    for needle in [
        "<table id=\"workers\">",
        "tr.worker[data-worker=",
        "row.className = \"worker\"",
        "row.dataset.worker",
        "totalRow.className = \"total\"",
        "fetch(\"/stats\"",
        "document.body.dataset.loaded = \"true\"",
        "id=\"uptime\"",
    ] {
        assert!(html.contains(needle), "the page lacks {needle}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resources"
    );

    // HEAD: the same headers, no body.
    let head = http.request("HEAD", "/", &[], b"");
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(html.len().to_string().as_str())
    );
    assert!(head.body.is_empty());
    assert_eq!(http.get("/health").status, 200, "still in step after HEAD");
}

#[test]
fn unknown_routes_and_wrong_methods() {
    let server = start();
    let mut http = Http::connect(server.http_port);
    let reply = http.get("/nope");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json(), json!({"error": "not found"}));
    let reply = http.request("POST", "/metrics", &[], b"x");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    assert!(reply.json()["error"].is_string());
    let reply = http.request("PATCH", "/api/v1/kv/k", &[], b"x");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, PUT, DELETE"));
    let reply = http.request("DELETE", "/api/v1/kv", &[], b"");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));
    // Errors like these keep the connection.
    assert_eq!(http.get("/health").status, 200);
}

#[test]
fn keep_alive_serves_requests_one_after_another() {
    let server = start();
    let mut http = Http::connect(server.http_port);
    let put = http.request("PUT", "/api/v1/kv/ka", &[], b"one");
    assert_eq!((put.status, put.json()), (200, json!({"ok": true})));
    assert_eq!(
        put.header("connection"),
        None,
        "HTTP/1.1 stays open by default"
    );
    let get = http.get("/api/v1/kv/ka");
    assert_eq!((get.status, &get.body[..]), (200, &b"one"[..]));
    assert_eq!(get.header("content-type"), Some("application/octet-stream"));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start();
    let mut http = Http::connect(server.http_port);
    let mut batch = Vec::new();
    batch.extend(request_bytes("PUT", "/api/v1/kv/p1", &[], b"first"));
    batch.extend(request_bytes("PUT", "/api/v1/kv/p2", &[], b"second"));
    batch.extend(request_bytes("GET", "/api/v1/kv/p1", &[], b""));
    batch.extend(request_bytes("DELETE", "/api/v1/kv/p2", &[], b""));
    batch.extend(request_bytes("GET", "/api/v1/kv/p2", &[], b""));
    batch.extend(request_bytes("HEAD", "/api/v1/kv/p1", &[], b""));
    batch.extend(request_bytes("GET", "/health", &[], b""));
    http.send(&batch);
    assert_eq!(http.read_reply(false).json(), json!({"ok": true}));
    assert_eq!(http.read_reply(false).json(), json!({"ok": true}));
    assert_eq!(http.read_reply(false).body, b"first");
    assert_eq!(http.read_reply(false).json(), json!({"deleted": true}));
    let missing = http.read_reply(false);
    assert_eq!(
        (missing.status, missing.json()),
        (404, json!({"error": "not found"}))
    );
    let head = http.read_reply(true);
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("5"))
    );
    assert_eq!(http.read_reply(false).status, 200);

    // The same pipeline one byte at a time.
    let mut http = Http::connect(server.http_port);
    let mut slow = request_bytes("PUT", "/api/v1/kv/p3", &[], b"trickled");
    slow.extend(request_bytes("GET", "/api/v1/kv/p3", &[], b""));
    for byte in slow {
        http.send(&[byte]);
    }
    assert_eq!(http.read_reply(false).json(), json!({"ok": true}));
    assert_eq!(http.read_reply(false).body, b"trickled");
}

#[test]
fn http_1_0_and_connection_close() {
    let server = start();
    let mut http = Http::connect(server.http_port);
    http.send(b"GET /health HTTP/1.0\r\n\r\n");
    let reply = http.read_reply(false);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), Some("close"));
    http.expect_closed();

    let mut http = Http::connect(server.http_port);
    http.send(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(
        http.read_reply(false).header("connection"),
        Some("keep-alive")
    );
    http.send(b"GET /health HTTP/1.0\r\n\r\n");
    assert_eq!(http.read_reply(false).status, 200);
    http.expect_closed();

    // Connection: close in a pipeline: what follows it is dropped.
    let mut http = Http::connect(server.http_port);
    let mut batch = request_bytes("GET", "/health", &[("Connection", "close")], b"");
    batch.extend(request_bytes("GET", "/health", &[], b""));
    http.send(&batch);
    assert_eq!(http.read_reply(false).header("connection"), Some("close"));
    http.expect_closed();
}

#[test]
fn the_kv_api_sees_the_same_data_as_redis_and_postgresql() {
    let server = start();
    let mut redis = server.client();
    let mut http = Http::connect(server.http_port);

    let _: () = redis.set("from-redis", "hello").unwrap();
    let reply = http.get("/api/v1/kv/from-redis");
    assert_eq!((reply.status, reply.text().as_str()), (200, "hello"));
    let reply = http.request(
        "GET",
        "/api/v1/kv/from-redis",
        &[("Accept", "application/json")],
        b"",
    );
    assert_eq!(reply.json(), json!({"key": "from-redis", "value": "hello"}));

    assert_eq!(
        http.request("PUT", "/api/v1/kv/from-http", &[], b"world")
            .status,
        200
    );
    assert_eq!(redis.get::<_, String>("from-http").unwrap(), "world");
    let mut pg = server.pg_client();
    let row = pg
        .query_one("SELECT value FROM kv WHERE key = 'from-http'", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "world");

    // Raw bytes both ways, and JSON with base64 for bytes that are not UTF-8.
    let binary: Vec<u8> = (0..=255u8).collect();
    assert_eq!(
        http.request("PUT", "/api/v1/kv/bin", &[], &binary).status,
        200
    );
    assert_eq!(redis.get::<_, Vec<u8>>("bin").unwrap(), binary);
    assert_eq!(http.get("/api/v1/kv/bin").body, binary);
    let reply = http.request(
        "GET",
        "/api/v1/kv/bin",
        &[("Accept", "application/json")],
        b"",
    );
    let encoded = reply.json()["value_base64"].as_str().unwrap().to_string();
    let put = json!({ "value_base64": encoded }).to_string();
    let headers = [("Content-Type", "application/json")];
    assert_eq!(
        http.request("PUT", "/api/v1/kv/bin2", &headers, put.as_bytes())
            .status,
        200
    );
    assert_eq!(redis.get::<_, Vec<u8>>("bin2").unwrap(), binary);

    // An empty value is not a missing one.
    assert_eq!(
        http.request("PUT", "/api/v1/kv/empty", &[], b"").status,
        200
    );
    let reply = http.get("/api/v1/kv/empty");
    assert_eq!((reply.status, reply.body.len()), (200, 0));

    // JSON body with a TTL: the deadline SET PX would set.
    let body = json!({ "value": "soon", "ttl_ms": 100_000 }).to_string();
    assert_eq!(
        http.request("PUT", "/api/v1/kv/ttl", &headers, body.as_bytes())
            .status,
        200
    );
    let pttl: i64 = redis::cmd("PTTL").arg("ttl").query(&mut redis).unwrap();
    assert!(pttl > 0 && pttl <= 100_000, "{pttl}");
    assert_eq!(
        http.request("PUT", "/api/v1/kv/ttl2?ttl_ms=100000", &[], b"raw")
            .status,
        200
    );
    let pttl: i64 = redis::cmd("PTTL").arg("ttl2").query(&mut redis).unwrap();
    assert!(pttl > 0 && pttl <= 100_000, "{pttl}");
    // A plain PUT clears the deadline, as SET does.
    assert_eq!(
        http.request("PUT", "/api/v1/kv/ttl", &[], b"kept").status,
        200
    );
    let pttl: i64 = redis::cmd("PTTL").arg("ttl").query(&mut redis).unwrap();
    assert_eq!(pttl, -1);

    // Bad JSON bodies.
    for body in [
        &b"{"[..],
        b"{\"ttl_ms\":5}",
        b"{\"value\":\"x\",\"ttl_ms\":-1}",
        b"{\"value\":\"x\",\"extra\":1}",
    ] {
        let reply = http.request("PUT", "/api/v1/kv/bad", &headers, body);
        assert_eq!(reply.status, 400, "{:?}", String::from_utf8_lossy(body));
        assert!(reply.json()["error"].is_string());
    }
    assert_eq!(
        http.request("PUT", "/api/v1/kv/bad?ttl_ms=0", &[], b"x")
            .status,
        400
    );
    assert!(!redis.exists::<_, bool>("bad").unwrap());

    // DELETE.
    let reply = http.request("DELETE", "/api/v1/kv/from-redis", &[], b"");
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"deleted": true}))
    );
    assert_eq!(redis.get::<_, Option<String>>("from-redis").unwrap(), None);
    let reply = http.request("DELETE", "/api/v1/kv/from-redis", &[], b"");
    assert_eq!(
        (reply.status, reply.json()),
        (404, json!({"deleted": false}))
    );
}

#[test]
fn keys_in_paths_are_percent_decoded() {
    let server = start();
    let mut redis = server.client();
    let mut http = Http::connect(server.http_port);
    assert_eq!(
        http.request("PUT", "/api/v1/kv/a%20b%2Fc%25", &[], b"1")
            .status,
        200
    );
    assert_eq!(redis.get::<_, String>("a b/c%").unwrap(), "1");
    // A raw slash is part of the key; `+` is not a space in a path.
    assert_eq!(
        http.request("PUT", "/api/v1/kv/x/y+z", &[], b"2").status,
        200
    );
    assert_eq!(redis.get::<_, String>("x/y+z").unwrap(), "2");
    // Bytes that are not UTF-8.
    assert_eq!(
        http.request("PUT", "/api/v1/kv/%FF%00", &[], b"3").status,
        200
    );
    assert_eq!(redis.get::<_, String>(&b"\xff\x00"[..]).unwrap(), "3");
    let reply = http.request(
        "GET",
        "/api/v1/kv/%ff%00",
        &[("Accept", "application/json")],
        b"",
    );
    assert_eq!(reply.json(), json!({"key_base64": "/wA=", "value": "3"}));
    for bad in ["/api/v1/kv/%zz", "/api/v1/kv/a%2", "/api/v1/kv/%"] {
        let reply = http.get(bad);
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()["error"].as_str().unwrap().contains("percent"));
    }
    assert_eq!(
        http.get("/health").status,
        200,
        "a bad key keeps the connection"
    );
}

fn batch(http: &mut Http, body: &Value) -> Reply {
    http.request(
        "POST",
        "/api/v1/kv",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

#[test]
fn batches_run_as_one_transaction() {
    let server = start();
    let mut redis = server.client();
    let mut http = Http::connect(server.http_port);
    let _: () = redis.set("b-old", "gone soon").unwrap();

    let reply = batch(
        &mut http,
        &json!({"ops": [
            {"op": "get", "key": "b-new"},
            {"op": "set", "key": "b-new", "value": "x"},
            {"op": "get", "key": "b-new"},
            {"op": "del", "key": "b-old"},
            {"op": "get", "key": "b-old"},
            {"op": "del", "key": "b-missing"},
            {"op": "set", "key_base64": "/w==", "value_base64": "AP8="},
            {"op": "get", "key_base64": "/w=="},
        ]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"results": [
            {"value": null},
            {"ok": true},
            {"value": "x"},
            {"deleted": true},
            {"value": null},
            {"deleted": false},
            {"ok": true},
            {"value_base64": "AP8="},
        ]})
    );
    assert_eq!(redis.get::<_, String>("b-new").unwrap(), "x");
    assert_eq!(redis.get::<_, Option<String>>("b-old").unwrap(), None);
    assert_eq!(redis.get::<_, Vec<u8>>(&b"\xff"[..]).unwrap(), b"\x00\xff");

    // A bad op anywhere means nothing runs.
    let reply = batch(
        &mut http,
        &json!({"ops": [{"op": "set", "key": "b-never", "value": "x"}, {"op": "frob", "key": "a"}]}),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"].as_str().unwrap().contains("ops[1]"));
    assert!(!redis.exists::<_, bool>("b-never").unwrap());
    assert_eq!(
        batch(&mut http, &json!({"ops": []})).json(),
        json!({"results": []})
    );
    assert_eq!(batch(&mut http, &json!({"nope": 1})).status, 400);

    // Too many ops: 413, and the connection keeps serving.
    let ops: Vec<Value> = (0..10_001)
        .map(|_| json!({"op": "get", "key": "a"}))
        .collect();
    let reply = batch(&mut http, &json!({ "ops": ops }));
    assert_eq!(reply.status, 413);
    assert_eq!(http.get("/health").status, 200);
    let ops: Vec<Value> = (0..10_000)
        .map(|i| json!({"op": "set", "key": format!("many:{i}"), "value": "v"}))
        .collect();
    assert_eq!(batch(&mut http, &json!({ "ops": ops })).status, 200);
    assert_eq!(redis.get::<_, String>("many:9999").unwrap(), "v");
}

/// Writers set two keys to the same value in one batch while readers read
/// both in one batch: every committed read sees them equal.
#[test]
fn concurrent_batches_are_isolated() {
    let server = start();
    let port = server.http_port;
    let mut http = Http::connect(port);
    assert_eq!(
        batch(
            &mut http,
            &json!({"ops": [
                {"op": "set", "key": "iso:a", "value": "0"},
                {"op": "set", "key": "iso:b", "value": "0"},
            ]})
        )
        .status,
        200
    );
    const ROUNDS: usize = 300;
    /// Runs one batch, retrying the 409 a busy key may give.
    fn committed(http: &mut Http, body: &Value) -> Value {
        loop {
            let reply = batch(http, body);
            match reply.status {
                200 => return reply.json(),
                409 => continue,
                status => panic!("{status}: {}", reply.text()),
            }
        }
    }
    let writer = std::thread::spawn(move || {
        let mut http = Http::connect(port);
        for i in 1..=ROUNDS {
            let value = i.to_string();
            committed(
                &mut http,
                &json!({"ops": [
                    {"op": "set", "key": "iso:a", "value": value},
                    {"op": "set", "key": "iso:b", "value": value},
                ]}),
            );
        }
    });
    let readers: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let mut http = Http::connect(port);
                for _ in 0..ROUNDS {
                    let read = committed(
                        &mut http,
                        &json!({"ops": [{"op": "get", "key": "iso:a"}, {"op": "get", "key": "iso:b"}]}),
                    );
                    assert_eq!(read["results"][0], read["results"][1], "torn read: {read}");
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    let read = committed(
        &mut http,
        &json!({"ops": [{"op": "get", "key": "iso:a"}, {"op": "get", "key": "iso:b"}]}),
    );
    let last = ROUNDS.to_string();
    assert_eq!(read["results"], json!([{"value": last}, {"value": last}]));
}

#[test]
fn listing_keys_by_prefix_with_a_limit() {
    let server = start();
    let mut redis = server.client();
    for key in [
        "list:e", "list:b", "list:a", "list:d", "list:c", "other", "lis",
    ] {
        let _: () = redis.set(key, "v").unwrap();
    }
    let mut http = Http::connect(server.http_port);
    let reply = http.get("/api/v1/kv?prefix=list%3A");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"keys": ["list:a", "list:b", "list:c", "list:d", "list:e"], "truncated": false})
    );
    let listed = http.get("/api/v1/kv?prefix=list:&limit=3").json();
    assert_eq!(listed["truncated"], json!(true));
    // A limit gives the first keys in order, not any three.
    assert_eq!(listed["keys"], json!(["list:a", "list:b", "list:c"]));
    let all = http.get("/api/v1/kv").json();
    assert_eq!(all["keys"].as_array().unwrap().len(), 7);
    assert_eq!(
        http.get("/api/v1/kv?prefix=list:&limit=5").json()["truncated"],
        json!(false)
    );
    assert_eq!(
        http.get("/api/v1/kv?prefix=zzz").json(),
        json!({"keys": [], "truncated": false})
    );
    assert_eq!(
        http.get("/api/v1/kv?limit=0").json(),
        json!({"keys": [], "truncated": true})
    );
    for bad in ["limit=10001", "limit=x", "prefix=%zz"] {
        let reply = http.get(&format!("/api/v1/kv?{bad}"));
        assert_eq!(reply.status, 400, "{bad}");
    }
}

#[test]
fn the_api_needs_the_password_when_one_is_set() {
    let server = TestServer::start_with(|config| config.requirepass = Some("s3cret".into()));
    let mut http = Http::connect(server.http_port);
    let reply = http.request("PUT", "/api/v1/kv/auth", &[], b"v");
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Basic realm=\"corewire\"")
    );
    assert_eq!(reply.json(), json!({"error": "authentication required"}));
    for wrong in [
        "Bearer s3cre",
        "Bearer s3cret2",
        "Basic ZGVmYXVsdDp3cm9uZw==",
        "Token s3cret",
        "Basic !!!",
    ] {
        let reply = http.request("GET", "/api/v1/kv/auth", &[("Authorization", wrong)], b"");
        assert_eq!(reply.status, 401, "{wrong}");
        assert_eq!(reply.json(), json!({"error": "invalid credentials"}));
    }
    // Unknown API paths are hidden behind the password too.
    assert_eq!(http.get("/api/v2/anything").status, 401);

    let bearer = [("Authorization", "Bearer s3cret")];
    assert_eq!(
        http.request("PUT", "/api/v1/kv/auth", &bearer, b"v").status,
        200
    );
    // Basic default:s3cret, then any user name.
    let basic = [("Authorization", "Basic ZGVmYXVsdDpzM2NyZXQ=")];
    assert_eq!(
        http.request("GET", "/api/v1/kv/auth", &basic, b"").body,
        b"v"
    );
    let basic = [("Authorization", "basic YW55b25lOnMzY3JldA==")];
    assert_eq!(
        http.request("GET", "/api/v1/kv/auth", &basic, b"").status,
        200
    );

    // The monitoring routes stay open.
    for path in ["/health", "/metrics", "/stats", "/"] {
        assert_eq!(http.get(path).status, 200, "{path}");
    }
}

#[test]
fn oversized_heads_get_431_and_close() {
    let server = start();
    let mut neighbour = Http::connect(server.http_port);
    assert_eq!(neighbour.get("/health").status, 200);

    let mut http = Http::connect(server.http_port);
    let big = "a".repeat(17 * 1024);
    http.send(format!("GET /health HTTP/1.1\r\nX-Big: {big}\r\n\r\n").as_bytes());
    let reply = http.read_reply(false);
    assert_eq!(reply.status, 431);
    assert!(reply.json()["error"].is_string());
    http.expect_closed();

    let mut http = Http::connect(server.http_port);
    let many: String = (0..65).map(|i| format!("X-H{i}: v\r\n")).collect();
    http.send(format!("GET /health HTTP/1.1\r\n{many}\r\n").as_bytes());
    assert_eq!(http.read_reply(false).status, 431);
    http.expect_closed();

    // 64 headers are fine.
    let mut http = Http::connect(server.http_port);
    let headers: String = (0..64).map(|i| format!("X-H{i}: v\r\n")).collect();
    http.send(format!("GET /health HTTP/1.1\r\n{headers}\r\n").as_bytes());
    assert_eq!(http.read_reply(false).status, 200);

    assert_eq!(neighbour.get("/health").status, 200);
    assert_served(&server);
}

#[test]
fn oversized_bodies_get_413_and_close() {
    let server = TestServer::start_with(|config| config.http_max_body_bytes = 1024);
    let mut neighbour = Http::connect(server.http_port);
    let mut redis = server.client();

    let mut http = Http::connect(server.http_port);
    http.send(b"PUT /api/v1/kv/big HTTP/1.1\r\nContent-Length: 1025\r\n\r\n");
    let reply = http.read_reply(false);
    assert_eq!(reply.status, 413);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(reply.json()["error"].as_str().unwrap().contains("1024"));
    http.expect_closed();

    // Chunked: the same limit over the decoded size.
    let mut http = Http::connect(server.http_port);
    let chunk = format!("200\r\n{}\r\n", "a".repeat(0x200));
    http.send(format!("PUT /api/v1/kv/big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}{chunk}{chunk}").as_bytes());
    assert_eq!(http.read_reply(false).status, 413);
    http.expect_closed();
    assert!(!redis.exists::<_, bool>("big").unwrap());

    // Exactly the limit is fine.
    let body = vec![b'x'; 1024];
    assert_eq!(
        neighbour
            .request("PUT", "/api/v1/kv/big", &[], &body)
            .status,
        200
    );
    assert_eq!(redis.get::<_, Vec<u8>>("big").unwrap(), body);
    assert_served(&server);
}

#[test]
fn malformed_requests_get_400_and_close() {
    let server = start();
    let mut neighbour = Http::connect(server.http_port);
    for bad in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n",
        b"PUT /api/v1/kv/k HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"PUT /api/v1/kv/k HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"PUT /api/v1/kv/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /health HTTP/2.0\r\n\r\n",
    ] {
        let mut http = Http::connect(server.http_port);
        http.send(bad);
        let reply = http.read_reply(false);
        assert_eq!(reply.status, 400, "{:?}", String::from_utf8_lossy(bad));
        assert!(reply.json()["error"].is_string());
        assert_eq!(reply.header("connection"), Some("close"));
        http.expect_closed();
    }
    let mut http = Http::connect(server.http_port);
    http.send(b"PUT /api/v1/kv/k HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    assert_eq!(http.read_reply(false).status, 501);
    http.expect_closed();
    // A good request before the bad one is still answered.
    let mut http = Http::connect(server.http_port);
    let mut bytes = request_bytes("GET", "/health", &[], b"");
    bytes.extend_from_slice(b"BROKEN\r\n\r\n");
    http.send(&bytes);
    assert_eq!(http.read_reply(false).status, 200);
    assert_eq!(http.read_reply(false).status, 400);
    http.expect_closed();

    assert_eq!(neighbour.get("/health").status, 200);
    assert_served(&server);
}

#[test]
fn chunked_bodies_and_expect_continue() {
    let server = start();
    let mut redis = server.client();
    let mut http = Http::connect(server.http_port);
    http.send(
        b"PUT /api/v1/kv/chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n1;ext=x\r\n \r\n5\r\nworld\r\n0\r\n\r\n",
    );
    assert_eq!(http.read_reply(false).json(), json!({"ok": true}));
    assert_eq!(redis.get::<_, String>("chunked").unwrap(), "hello world");

    // The head first; 100 Continue; then the body.
    http.send(
        b"PUT /api/v1/kv/continued HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    );
    let interim = http.read_reply(false);
    assert_eq!(interim.status, 100);
    http.send(b"body");
    assert_eq!(http.read_reply(false).status, 200);
    assert_eq!(redis.get::<_, String>("continued").unwrap(), "body");
}

#[test]
fn http_clients_count_against_maxclients() {
    let server = TestServer::start_with(|config| config.max_clients = 1);
    let mut first = Http::connect(server.http_port);
    assert_eq!(first.get("/health").status, 200);
    let mut second = Http::connect(server.http_port);
    let reply = second.read_reply(false);
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.json(),
        json!({"error": "max number of clients reached"})
    );
    second.expect_closed();
    assert_eq!(first.get("/health").status, 200);
}

#[test]
fn the_listener_can_be_turned_off() {
    let server = TestServer::start_with(|config| config.http_enabled = false);
    assert_eq!(server.http_port, 0);
    assert_eq!(server.server().http_port(), 0);
}

/// The status page in a real browser, when one is installed: its script
/// fetches /stats and renders one row per worker and a total row.
#[test]
fn the_status_page_renders_in_headless_chromium() {
    let Some(browser) = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .find(|path| std::path::Path::new(path).exists()) else {
        eprintln!("no chromium installed: skipping the browser check");
        return;
    };
    let server = start();
    let profile = std::env::temp_dir().join(format!("corewire-chromium-{}", std::process::id()));
    let output = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("http://127.0.0.1:{}/", server.http_port))
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page never rendered /stats; stderr: {}\nDOM: {dom}",
        String::from_utf8_lossy(&output.stderr)
    );
    for worker in 0..2 {
        assert!(
            dom.contains(&format!("<tr class=\"worker\" data-worker=\"{worker}\">")),
            "no row for worker {worker}: {dom}"
        );
    }
    assert!(dom.contains("<tr class=\"total\">"), "{dom}");
    assert!(
        dom.contains("<p id=\"status\" class=\"\">updated "),
        "{dom}"
    );
}
