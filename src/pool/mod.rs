//! Upstream PostgreSQL pooling (issue 6): each worker keeps its own pool of
//! connections to the upstream servers that `[databases]` names, and
//! serves clients of those databases through it, as PgBouncer does.
//!
//! - `config`: the `[databases]` and `[users]` entries, pool modes;
//! - `upstream_startup`: a sans-I/O client for opening one upstream
//!   connection from a non-blocking event loop (StartupMessage,
//!   authentication, ParameterStatus, BackendKeyData, ReadyForQuery), and
//!   the CancelRequest a pooler forwards upstream;
//! - `session_state`: statements that change session state, and the SETs
//!   that re-apply a client's parameters;
//! - `snapshot`: what a worker reports to the admin console;
//! - `registry`: what workers share per database (the server count that
//!   enforces pool_size across workers, PAUSE, the welcome parameters);
//! - `local`: one worker's pools and clients; `server`: one server
//!   connection; `expect`: the replies a server still owes;
//!   `statements`: named prepared statements across servers.
//!
//! The worker's event loop drives all of it (`runtime::worker::proxy`).

pub mod config;
pub mod expect;
pub mod local;
pub mod registry;
pub mod server;
pub mod session_state;
pub mod snapshot;
pub mod statements;
pub mod upstream_startup;
