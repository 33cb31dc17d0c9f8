//! corewire: a thread-per-core Redis, PostgreSQL and HTTP front end for a
//! C++ transactional storage engine.
//!
//! Map of the crate:
//! - [`runtime`]: the workers. N pinned threads, each with its own
//!   SO_REUSEPORT listeners, epoll loop, connections and engine handle;
//!   reload and graceful drain over the control channel; with a data-dir,
//!   recovery at start and group commit of each loop iteration's writes.
//! - [`resp`]: the Redis protocol: framing, replies, sessions, commands.
//! - [`pg`]: the PostgreSQL protocol: sessions, the kv table's SQL, the
//!   catalog, the admin console.
//! - [`pool`]: upstream PostgreSQL pooling; so far the sans-I/O upstream
//!   login and CancelRequest.
//! - [`http`]: the HTTP listener: /metrics, /health, /stats, the status
//!   page and a KV REST API over the engine.
//! - [`engine`]: the C ABI to the engine (`include/corewire_engine.h`) and a
//!   safe wrapper over it, durability (logs, checkpoints) included.
//! - [`capi`]: what the host calls (`include/corewire.h`).
//! - [`acl`]: Redis ACL users (shared with PostgreSQL logins), the ACL
//!   log, and the failed-login limiter.
//! - [`config`]: the settings table, and loading it from flags, the
//!   environment and a TOML file.
//! - [`stats`]: per-worker counters and latency histograms, summed on read
//!   for INFO, /metrics and /stats; the slow log.
//! - [`log`]: the server log (`log_info!` and friends).

#[macro_use]
pub mod log;

pub mod acl;
pub mod capi;
pub mod config;
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod pg;
pub mod pool;
pub mod resp;
pub mod runtime;
pub mod stats;

pub use config::Config;
pub use engine::Engine;
pub use runtime::Server;
