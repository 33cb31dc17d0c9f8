//! The C ABI corewire exports (`include/corewire.h`). Every entry point
//! catches panics: nothing unwinds into the host.

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::Duration;

use crate::config::{self, Command, Config};
use crate::engine::{ffi::cw_engine_ops, Engine};
use crate::runtime::Server;

/// The one server a process runs through the C ABI.
static SERVER: Mutex<Option<Server>> = Mutex::new(None);

fn lock_server() -> std::sync::MutexGuard<'static, Option<Server>> {
    // A panic while holding the lock leaves a usable Option behind.
    SERVER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn start(config: Config, engine: Engine) -> Result<(), String> {
    let mut slot = lock_server();
    if slot.is_some() {
        return Err("a corewire server is already running in this process".into());
    }
    let bind = config.bind;
    let server = Server::start(config, engine)?;
    println!(
        "corewire: RESP listening on {}:{}, PostgreSQL on {}:{} ({} workers, SO_REUSEPORT)",
        bind,
        server.resp_port(),
        bind,
        server.pg_port(),
        server.shared().worker_count
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    *slot = Some(server);
    Ok(())
}

/// Seed entry point: default configuration, seed engine ABI.
#[no_mangle]
pub extern "C" fn rust_init(n_threads: usize) -> bool {
    succeeded(catch_unwind(|| {
        let config = Config {
            workers: n_threads,
            ..Config::default()
        };
        start(config, Engine::Seed)
    }))
}

/// Reports a failed start on stderr; a panic counts as a failure.
fn succeeded(result: std::thread::Result<Result<(), String>>) -> bool {
    match result {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            eprintln!("corewire: {error}");
            false
        }
        Err(_) => {
            eprintln!("corewire: panicked while starting");
            false
        }
    }
}

/// Converts argv (without argv[0]) to owned strings.
///
/// # Safety
/// argv must hold argc valid C strings (or be NULL with argc <= 0).
unsafe fn collect_args(argc: c_int, argv: *const *const c_char) -> Vec<String> {
    if argv.is_null() || argc <= 1 {
        return Vec::new();
    }
    (1..argc as usize)
        .map(|i| {
            // SAFETY: i < argc and the caller guarantees argv[i] is valid.
            let arg = unsafe { *argv.add(i) };
            if arg.is_null() {
                return String::new();
            }
            // SAFETY: a valid NUL-terminated string per the contract.
            unsafe { CStr::from_ptr(arg) }
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

enum Parsed {
    Run(Config, Engine),
    Help,
}

/// # Safety
/// As `corewire_start`.
unsafe fn parse(
    argc: c_int,
    argv: *const *const c_char,
    ops: *const cw_engine_ops,
) -> Result<Parsed, String> {
    // SAFETY: forwarded contract.
    let args = unsafe { collect_args(argc, argv) };
    match config::parse_args(args)? {
        Command::Help => Ok(Parsed::Help),
        // SAFETY: forwarded contract on ops.
        Command::Run(config) => Ok(Parsed::Run(config, unsafe { Engine::from_ops(ops) }?)),
    }
}

/// # Safety
/// argv holds argc C strings; ops is NULL or a valid table that outlives
/// the server.
#[no_mangle]
pub unsafe extern "C" fn corewire_start(
    argc: c_int,
    argv: *const *const c_char,
    ops: *const cw_engine_ops,
) -> bool {
    succeeded(catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded contract.
        match unsafe { parse(argc, argv, ops) }? {
            Parsed::Help => {
                print!("{}", config::help_text());
                Err("--help given: not starting".into())
            }
            Parsed::Run(config, engine) => start(config, engine),
        }
    })))
}

#[no_mangle]
pub extern "C" fn corewire_shutdown() {
    let _ = catch_unwind(|| {
        let server = lock_server().take();
        if let Some(server) = server {
            server.shutdown();
        }
    });
}

/// # Safety
/// As `corewire_start`.
#[no_mangle]
pub unsafe extern "C" fn corewire_main(
    argc: c_int,
    argv: *const *const c_char,
    ops: *const cw_engine_ops,
) -> c_int {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded contract.
        let (config, engine) = match unsafe { parse(argc, argv, ops) } {
            Ok(Parsed::Help) => {
                print!("{}", config::help_text());
                return 0;
            }
            Ok(Parsed::Run(config, engine)) => (config, engine),
            Err(error) => {
                eprintln!("corewire: {error}");
                return 1;
            }
        };
        // Block the stop signals before any worker exists, so every
        // thread inherits the mask and only sigtimedwait below sees them.
        let signals = stop_signals();
        // SAFETY: a valid, initialized sigset; NULL old set is allowed.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &signals, std::ptr::null_mut()) };
        if let Err(error) = start(config, engine) {
            eprintln!("corewire: {error}");
            return 1;
        }
        loop {
            if lock_server().is_none() {
                return 0; // corewire_shutdown() was called
            }
            let timeout = libc::timespec {
                tv_sec: 0,
                tv_nsec: Duration::from_millis(200).as_nanos() as i64,
            };
            // SAFETY: valid sigset and timespec; NULL siginfo is allowed.
            let signal = unsafe { libc::sigtimedwait(&signals, std::ptr::null_mut(), &timeout) };
            match signal {
                libc::SIGINT | libc::SIGTERM => {
                    let name = if signal == libc::SIGINT {
                        "SIGINT"
                    } else {
                        "SIGTERM"
                    };
                    eprintln!("corewire: received {name}, shutting down");
                    corewire_shutdown();
                    eprintln!("corewire: stopped");
                    return 0;
                }
                libc::SIGHUP => {
                    eprintln!("corewire: SIGHUP received; live reload is not supported yet")
                }
                _ => {} // timeout or EINTR
            }
        }
    }));
    result.unwrap_or(1)
}

fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialized by sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid sigset_t.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
    }
    set
}
