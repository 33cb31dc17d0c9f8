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

/* The whole life of a host in one call: blocks SIGINT, SIGTERM and SIGHUP in
 * every corewire thread, starts the server as corewire_start does, waits for
 * SIGINT or SIGTERM, shuts down cleanly and returns the process exit code
 * (0 after a clean stop, 1 on a start failure, 0 for --help). */
int corewire_main(int argc, const char* const* argv, const cw_engine_ops* ops);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* COREWIRE_H */
