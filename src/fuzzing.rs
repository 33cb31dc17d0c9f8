//! Hooks for the fuzz targets in tests/fuzz (not a public API).
//!
//! Everything the targets drive (the RESP parser, the PostgreSQL session,
//! the SQL parser) is public already; this only builds what the worker
//! builds privately, so that a target keeps compiling when those structs
//! grow a field.

use std::collections::HashMap;

use crate::config::Config;
use crate::pg::auth::Secret;
use crate::pg::session::Limits;

/// A PostgreSQL session's limits from `config`, as the worker makes them
/// (without TLS: an SSLRequest is answered N), with `users` as the
/// configured users.
pub fn pg_limits<'a>(config: &'a Config, users: &'a HashMap<String, Secret>) -> Limits<'a> {
    Limits::from_config(config, users, false)
}
