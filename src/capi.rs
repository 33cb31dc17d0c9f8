//! The C ABI corewire exports (`include/corewire.h`). Every entry point
//! catches panics: nothing unwinds into the host.

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::Duration;

use crate::config::{self, Command, Config, Loaded};
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

fn start(config: Config, source: Option<config::Source>, engine: Engine) -> Result<(), String> {
    let mut slot = lock_server();
    if slot.is_some() {
        return Err("a corewire server is already running in this process".into());
    }
    crate::log::set_file(config.log_file.as_deref()).map_err(|e| {
        format!(
            "log-file {}: {e}",
            config
                .log_file
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display()
        )
    })?;
    crate::log::configure(config.log_level, config.log_format);
    let bind = config.bind;
    let http_bind = config.http_bind;
    let server = Server::start(config, engine)?;
    if let Some(source) = source {
        server.shared().set_source(source);
    }
    let http = match server.http_port() {
        0 => String::from("HTTP off"),
        port => format!("HTTP on {}", std::net::SocketAddr::new(http_bind, port)),
    };
    let tls = match server.tls_port() {
        0 => String::new(),
        port => format!(" (TLS on {})", std::net::SocketAddr::new(bind, port)),
    };
    println!(
        "corewire: RESP listening on {}:{}{tls}, PostgreSQL on {}:{}, {http} ({} workers, SO_REUSEPORT)",
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
        start(config, None, Engine::Seed)
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
    Run(Loaded, Engine),
    /// `--check-config` passed: nothing to start.
    Checked(Loaded),
    /// `--help` / `--version` text.
    Print(String),
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
        Command::Print(text) => Ok(Parsed::Print(text)),
        Command::CheckConfig(loaded) => {
            // The certificates must load too, as at start.
            crate::runtime::tls::load(&loaded.config)?;
            Ok(Parsed::Checked(loaded))
        }
        // SAFETY: forwarded contract on ops.
        Command::Run(loaded) => Ok(Parsed::Run(loaded, unsafe { Engine::from_ops(ops) }?)),
    }
}

/// What `--check-config` prints.
fn config_ok(loaded: &Loaded) -> String {
    match &loaded.source.file {
        Some(path) => format!("corewire: configuration OK ({})\n", path.display()),
        None => "corewire: configuration OK (flags and environment only)\n".into(),
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
            Parsed::Print(text) => {
                print!("{text}");
                Err("--help or --version given: not starting".into())
            }
            Parsed::Checked(loaded) => {
                print!("{}", config_ok(&loaded));
                Err("--check-config given: not starting".into())
            }
            Parsed::Run(loaded, engine) => start(loaded.config, Some(loaded.source), engine),
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
        let (loaded, engine) = match unsafe { parse(argc, argv, ops) } {
            Ok(Parsed::Print(text)) => {
                print!("{text}");
                return EXIT_CLEAN;
            }
            Ok(Parsed::Checked(loaded)) => {
                print!("{}", config_ok(&loaded));
                return EXIT_CLEAN;
            }
            Ok(Parsed::Run(loaded, engine)) => (loaded, engine),
            Err(error) => {
                eprintln!("corewire: {error}");
                return EXIT_FAILED;
            }
        };
        // Block the stop signals before any worker exists, so every
        // thread inherits the mask and only sigtimedwait below sees them.
        let signals = stop_signals();
        // SAFETY: a valid, initialized sigset; NULL old set is allowed.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &signals, std::ptr::null_mut()) };
        if let Err(error) = start(loaded.config, Some(loaded.source), engine) {
            crate::log_error!("cannot start: {error}");
            eprintln!("corewire: {error}");
            return EXIT_FAILED;
        }
        if let Some(server) = lock_server().as_ref() {
            server.shared().set_main_loop();
        }
        serve_until_stopped(&signals)
    }));
    crate::log::flush();
    result.unwrap_or(EXIT_FAILED)
}

/// Exit statuses of corewire_main.
const EXIT_CLEAN: c_int = 0;
const EXIT_FAILED: c_int = 1;
/// The shutdown deadline passed and connections with work in flight were
/// closed (their transactions rolled back).
const EXIT_DEADLINE: c_int = 2;
/// A second stop signal during a graceful shutdown: exited at once.
const EXIT_IMMEDIATE: c_int = 3;

/// The main thread's loop: SIGHUP reloads; SIGTERM, SIGINT or SHUTDOWN
/// drains; a second stop signal exits at once.
fn serve_until_stopped(signals: &libc::sigset_t) -> c_int {
    let mut draining = false;
    loop {
        {
            let mut slot = lock_server();
            let Some(server) = slot.as_ref() else {
                return EXIT_CLEAN; // corewire_shutdown() was called
            };
            if !draining {
                if let Some(reason) = server.shared().take_shutdown_request() {
                    draining = true;
                    begin_drain(server, &reason);
                }
            }
            if draining && server.is_stopped() {
                let server = slot.take().expect("checked above");
                let forced = server
                    .shared()
                    .drain_forced
                    .load(std::sync::atomic::Ordering::Relaxed);
                server.shutdown();
                return if forced == 0 {
                    crate::log_info!(
                        "stopped: every connection finished its work (exit {EXIT_CLEAN})"
                    );
                    EXIT_CLEAN
                } else {
                    crate::log_warn!(
                        "stopped: the shutdown deadline passed; closed {forced} connections with work in flight, rolling back their transactions (exit {EXIT_DEADLINE})"
                    );
                    EXIT_DEADLINE
                };
            }
        }
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: Duration::from_millis(50).as_nanos() as i64,
        };
        // SAFETY: valid sigset and timespec; NULL siginfo is allowed.
        let signal = unsafe { libc::sigtimedwait(signals, std::ptr::null_mut(), &timeout) };
        match signal {
            libc::SIGINT | libc::SIGTERM => {
                let name = if signal == libc::SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                if draining {
                    crate::log_warn!("stopped: second {name} during shutdown, exiting at once (exit {EXIT_IMMEDIATE})");
                    crate::log::flush();
                    // SAFETY: _exit ends the process without running
                    // destructors that worker threads could still be using.
                    unsafe { libc::_exit(EXIT_IMMEDIATE) };
                }
                draining = true;
                if let Some(server) = lock_server().as_ref() {
                    begin_drain(server, name);
                }
            }
            libc::SIGHUP => {
                let shared = lock_server().as_ref().map(|server| server.shared_arc());
                if let Some(shared) = shared {
                    if let Err(error) = shared.reload() {
                        crate::log_error!(
                            "SIGHUP: reload failed, the settings in force are unchanged: {error}"
                        );
                    }
                }
            }
            _ => {} // timeout or EINTR
        }
    }
}

fn begin_drain(server: &Server, reason: &str) {
    let timeout = server.begin_drain();
    crate::log_info!(
        "{reason}: shutting down: no new connections; open transactions and requests have {} ms to finish",
        timeout.as_millis()
    );
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
