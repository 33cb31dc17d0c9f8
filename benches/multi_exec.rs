//! MULTI/EXEC load generator (redis-benchmark cannot send transactions).
//!
//!   cargo bench --bench multi_exec -- --port P --clients 50 --transactions N --pipeline D
//!
//! Options: --host H (127.0.0.1), --port P (6379), --clients C (50), --transactions N
//! (100000, split evenly over the clients), --pipeline D (1: transactions per write),
//! --threads T (2: OS threads, each driving its share of the connections).
//!
//! Every transaction is MULTI, SET bench:a:<client> v, SET bench:b:<client> v,
//! GET bench:a:<client>, EXEC, so its reply is always the same 53 bytes:
//! +OK +QUEUED +QUEUED +QUEUED *3 +OK +OK $1 v. Each thread writes one batch of D
//! transactions to every one of its connections, then reads exactly D * 53 bytes back
//! from each and compares them with the expected bytes (a transaction whose reply
//! differs is a mismatch). Plain std, blocking sockets.
//!
//! Output: a human-readable summary, then one machine-readable line
//!   RESULT transactions=.. elapsed_s=.. tps=.. cmds_per_s=.. avg_ms=.. p50_ms=.. p99_ms=.. mismatches=..
//! (latency = one batch's round trip, write to last reply byte). Exit status 1 when any
//! reply mismatched or a connection failed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::exit;
use std::sync::Arc;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

const EXPECTED: &[u8] = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n$1\r\nv\r\n";
const CMDS_PER_TX: u64 = 5;

struct Args {
    host: String,
    port: u16,
    clients: usize,
    transactions: u64,
    pipeline: usize,
    threads: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("multi_exec: {msg}");
    eprintln!(
        "usage: multi_exec [--host H] [--port P] [--clients C] [--transactions N] [--pipeline D] [--threads T]"
    );
    exit(2);
}

fn parse_args() -> Args {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 6379,
        clients: 50,
        transactions: 100_000,
        pipeline: 1,
        threads: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // cargo bench passes --bench to harness = false targets; ignore it.
        if flag == "--bench" {
            continue;
        }
        let val = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--host" => a.host = val.clone(),
            "--port" => a.port = num(&flag, &val),
            "--clients" | "-c" => a.clients = num(&flag, &val),
            "--transactions" | "-n" => a.transactions = num(&flag, &val),
            "--pipeline" | "-P" => a.pipeline = num(&flag, &val),
            "--threads" => a.threads = num(&flag, &val),
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    if a.clients == 0 || a.pipeline == 0 || a.threads == 0 {
        usage("--clients, --pipeline and --threads must be > 0");
    }
    a.threads = a.threads.min(a.clients);
    a
}

fn num<T: std::str::FromStr>(flag: &str, val: &str) -> T {
    val.parse()
        .unwrap_or_else(|_| usage(&format!("bad value for {flag}: {val}")))
}

fn bulk(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(format!("${}\r\n{}\r\n", s.len(), s).as_bytes());
}

/// The request bytes of one transaction for client `id`.
fn transaction(id: usize) -> Vec<u8> {
    let (ka, kb) = (format!("bench:a:{id}"), format!("bench:b:{id}"));
    let mut t = Vec::new();
    t.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
    for k in [&ka, &kb] {
        t.extend_from_slice(b"*3\r\n$3\r\nSET\r\n");
        bulk(&mut t, k);
        t.extend_from_slice(b"$1\r\nv\r\n");
    }
    t.extend_from_slice(b"*2\r\n$3\r\nGET\r\n");
    bulk(&mut t, &ka);
    t.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
    t
}

struct Conn {
    id: usize,
    stream: TcpStream,
    tx: Vec<u8>,
    remaining: u64,
    batch: usize,
    sent_at: Instant,
}

#[derive(Default)]
struct ThreadResult {
    done: u64,
    mismatches: u64,
    first_mismatch: Option<String>,
    lat_us: Vec<u32>,
    error: Option<String>,
}

fn run_thread(args: &Args, conns: &mut [Conn], barrier: &Barrier) -> ThreadResult {
    let mut res = ThreadResult::default();
    let mut wbuf = Vec::new();
    let mut rbuf = vec![0u8; EXPECTED.len() * args.pipeline];
    barrier.wait();
    loop {
        let mut active = 0;
        for c in conns.iter_mut() {
            c.batch = c.remaining.min(args.pipeline as u64) as usize;
            if c.batch == 0 {
                continue;
            }
            active += 1;
            wbuf.clear();
            for _ in 0..c.batch {
                wbuf.extend_from_slice(&c.tx);
            }
            c.sent_at = Instant::now();
            if let Err(e) = c.stream.write_all(&wbuf) {
                res.error = Some(format!("client {}: write: {e}", c.id));
                return res;
            }
        }
        if active == 0 {
            return res;
        }
        for c in conns.iter_mut() {
            if c.batch == 0 {
                continue;
            }
            let want = &mut rbuf[..EXPECTED.len() * c.batch];
            if let Err(e) = c.stream.read_exact(want) {
                res.error = Some(format!(
                    "client {}: read: {e} (a short or error reply desynchronises the stream)",
                    c.id
                ));
                return res;
            }
            res.lat_us
                .push(c.sent_at.elapsed().as_micros().min(u32::MAX as u128) as u32);
            for got in want.chunks(EXPECTED.len()) {
                if got != EXPECTED {
                    res.mismatches += 1;
                    if res.first_mismatch.is_none() {
                        res.first_mismatch = Some(format!(
                            "client {}: got {:?}, expected {:?}",
                            c.id,
                            String::from_utf8_lossy(got),
                            String::from_utf8_lossy(EXPECTED)
                        ));
                    }
                }
            }
            res.done += c.batch as u64;
            c.remaining -= c.batch as u64;
        }
    }
}

fn main() {
    let args = Arc::new(parse_args());
    let addr = format!("{}:{}", args.host, args.port);

    // Connect everything before the clock starts.
    let per = args.transactions / args.clients as u64;
    let extra = args.transactions % args.clients as u64;
    let mut groups: Vec<Vec<Conn>> = (0..args.threads).map(|_| Vec::new()).collect();
    for id in 0..args.clients {
        let stream = TcpStream::connect(&addr).unwrap_or_else(|e| {
            eprintln!("multi_exec: connect {addr}: {e}");
            exit(1);
        });
        stream.set_nodelay(true).ok();
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        groups[id % args.threads].push(Conn {
            id,
            stream,
            tx: transaction(id),
            remaining: per + u64::from((id as u64) < extra),
            batch: 0,
            sent_at: Instant::now(),
        });
    }

    let barrier = Arc::new(Barrier::new(args.threads + 1));
    let handles: Vec<_> = groups
        .into_iter()
        .map(|mut conns| {
            let (args, barrier) = (Arc::clone(&args), Arc::clone(&barrier));
            thread::spawn(move || run_thread(&args, &mut conns, &barrier))
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let results: Vec<ThreadResult> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let elapsed = start.elapsed().as_secs_f64();

    let done: u64 = results.iter().map(|r| r.done).sum();
    let mismatches: u64 = results.iter().map(|r| r.mismatches).sum();
    let mut lat: Vec<u32> = results
        .iter()
        .flat_map(|r| r.lat_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let pct = |q: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = ((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    let avg = if lat.is_empty() {
        f64::NAN
    } else {
        lat.iter().map(|&x| x as f64).sum::<f64>() / lat.len() as f64 / 1000.0
    };
    let tps = done as f64 / elapsed;

    println!(
        "MULTI/EXEC ({CMDS_PER_TX} cmds): {addr} clients={} pipeline={} threads={}",
        args.clients, args.pipeline, args.threads
    );
    println!(
        "  transactions: {done} of {} in {elapsed:.3} s",
        args.transactions
    );
    println!(
        "  {tps:.0} transactions/s, {:.0} commands/s",
        tps * CMDS_PER_TX as f64
    );
    println!(
        "  batch round trip: avg {avg:.3} ms, p50 {:.3} ms, p99 {:.3} ms",
        pct(0.5),
        pct(0.99)
    );
    println!("  mismatched replies: {mismatches}");
    println!(
        "RESULT transactions={done} elapsed_s={elapsed:.6} tps={tps:.2} cmds_per_s={:.2} avg_ms={avg:.3} p50_ms={:.3} p99_ms={:.3} mismatches={mismatches}",
        tps * CMDS_PER_TX as f64,
        pct(0.5),
        pct(0.99)
    );
    let mut failed = false;
    for r in &results {
        if let Some(m) = &r.first_mismatch {
            eprintln!("multi_exec: ERROR: mismatched reply: {m}");
            failed = true;
        }
        if let Some(e) = &r.error {
            eprintln!("multi_exec: ERROR: {e}");
            failed = true;
        }
    }
    if mismatches > 0 {
        eprintln!("multi_exec: ERROR: {mismatches} mismatched transaction replies");
    }
    if failed || done != args.transactions {
        exit(1);
    }
}
