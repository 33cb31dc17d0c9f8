/*
 * corewire.h: what corewire exports to its host (Rust -> called by C/C++).
 *
 * Link libcorewire.a (built by `make`, or `cargo build --release`) into the
 * host binary together with -lpthread -ldl -lm. The host also defines the
 * functions of corewire_engine.h.
 *
 * Lifecycle: at most one server runs per process. Start it with rust_init()
 * (seed ABI, GET/SET only), corewire_start() or corewire_main(); stop it with
 * corewire_shutdown(). No function here unwinds: a Rust panic is caught at
 * this boundary and reported as a failure return.
 */
#ifndef COREWIRE_H
#define COREWIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "corewire_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seed entry point (unchanged). Starts n_threads workers (0 = one per core)
 * on 127.0.0.1:6380 with default limits, serving GET and SET through
 * cpp_execute_request_sync. Returns once every worker is listening; false if
 * any worker failed to start (the others are then stopped and joined). */
bool rust_init(size_t n_threads);

/* Parses command-line flags (argv[0] is skipped; see `--help`) and starts
 * the server over the given engine. Returns once every worker is listening;
 * false on bad flags, a bind failure or a bad ops table (a message has been
 * printed to stderr). ops must stay valid until corewire_shutdown returns. */
bool corewire_start(int argc, const char* const* argv,
                    const cw_engine_ops* ops);

/* Stops the running server: every worker closes its listeners and
 * connections and exits; returns after all are joined. Safe to call when
 * nothing runs. Not async-signal-safe: do not call from a signal handler. */
void corewire_shutdown(void);

/* The whole life of a host in one call. Parses flags, the environment and
 * the --config file (see `--help`), blocks SIGINT, SIGTERM and SIGHUP in
 * every corewire thread and starts the server as corewire_start does. Then,
 * on its own thread: SIGHUP reloads the configuration; SIGTERM, SIGINT or a
 * SHUTDOWN command drain (listeners close, open transactions may finish
 * until shutdown-timeout-ms); a second SIGTERM or SIGINT exits at once.
 * Returns the process exit code: 0 stopped after every connection finished
 * (also after --help or a passing --check-config), 1 could not start, 2 the
 * shutdown deadline closed connections with work in flight. A second stop
 * signal ends the process from inside with status 3 (_exit: no destructors
 * run). */
int corewire_main(int argc, const char* const* argv, const cw_engine_ops* ops);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* COREWIRE_H */
