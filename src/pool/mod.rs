//! Upstream PostgreSQL pooling (issue 6): each worker keeps its own pool of
//! connections to the upstream servers that `[databases]` names, and
//! serves clients of those databases through it, as PgBouncer does.
//!
//! So far only the groundwork is here:
//! - `upstream_startup`: a sans-I/O client for opening one upstream
//!   connection from a non-blocking event loop (StartupMessage,
//!   authentication, ParameterStatus, BackendKeyData, ReadyForQuery), and
//!   the CancelRequest a pooler forwards upstream.

pub mod upstream_startup;
