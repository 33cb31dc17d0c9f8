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

/// A PostgreSQL session's limits from `config`, as the worker's
/// `pg_limits` makes them, with `users` as the configured users.
pub fn pg_limits<'a>(config: &'a Config, users: &'a HashMap<String, Secret>) -> Limits<'a> {
    Limits {
        max_message_bytes: config.pg_max_message_bytes,
        max_prepared_statements: config.pg_max_prepared_statements,
        max_portals: config.pg_max_portals,
        max_copy_row_bytes: config.pg_max_copy_row_bytes,
        output_cap_len: usize::MAX,
        auth_method: config.pg_auth_method,
        // No TLS: an SSLRequest is answered N.
        tls_available: false,
        tls_required: false,
        users,
        admin_users: &config.admin_users,
    }
}
