//! The seed ABI path in-process: the server reaches the engine only through
//! cpp_worker_thread_init / cpp_execute_request_sync / cpp_free_buf (here
//! served by the bundled engine), so GET and SET work and everything else
//! answers a clear error. Its own test binary: the seed functions use one
//! process-wide engine. (cpp/examples/seed_host.cc is the same check with a
//! host that knows nothing but the seed README; tests/e2e runs it.)

mod common;

use std::mem::MaybeUninit;

use common::exchange;
use corewire::engine::ffi::cw_engine_ops;
use corewire::{Config, Engine, Server};

extern "C" {
    fn cw_bundled_engine_open(ops: *mut cw_engine_ops) -> bool;
    fn cw_bundled_engine_close(ops: *mut cw_engine_ops);
    fn cw_bundled_engine_serve_seed_abi(ops: *const cw_engine_ops);
}

#[test]
fn seed_abi_serves_get_and_set_only() {
    let mut slot = MaybeUninit::<cw_engine_ops>::uninit();
    // SAFETY: slot is writable storage for one table; open fills it.
    let mut ops = unsafe {
        assert!(cw_bundled_engine_open(slot.as_mut_ptr()));
        slot.assume_init()
    };
    // SAFETY: ops stays alive until after the server is shut down.
    unsafe { cw_bundled_engine_serve_seed_abi(&ops) };
    let server = Server::start(
        Config {
            workers: 2,
            resp_port: 0,
            pg_port: 0,
            ..Config::default()
        },
        Engine::Seed,
    )
    .unwrap();

    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.resp_port())).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    exchange(
        &mut stream,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut stream,
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        b"$1\r\nv\r\n",
    );
    exchange(&mut stream, b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n", b"$-1\r\n");
    exchange(
        &mut stream,
        b"*3\r\n$3\r\nSET\r\n$1\r\ne\r\n$0\r\n\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut stream,
        b"*2\r\n$3\r\nGET\r\n$1\r\ne\r\n",
        b"$0\r\n\r\n",
    );
    exchange(
        &mut stream,
        b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n",
        b"-ERR command not supported by this engine (it implements only the seed ABI: GET and SET)\r\n",
    );
    exchange(&mut stream, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n");

    server.shutdown();
    // SAFETY: no worker remains; unset the seed engine before closing it.
    unsafe {
        cw_bundled_engine_serve_seed_abi(std::ptr::null());
        cw_bundled_engine_close(&mut ops);
    }
}
