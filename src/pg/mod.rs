//! The PostgreSQL v3 listener: sessions, the extended protocol, and the kv
//! table over the engine.
//!
//! - `admin`: the admin console (database `corewire`);
//! - `protocol`: message framing and backend message writers;
//! - `session`: startup, authentication, simple and extended query;
//! - `sql`: the kv fast-path parser; `catalog`: everything else (sqlparser);
//! - `exec`: kv statements over the engine; `txn`: SQL transactions;
//! - `auth`: SCRAM-SHA-256 and md5; `params`: session parameters;
//!   `types`: OIDs and value formats; `error`: ErrorResponse contents.

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod error;
pub mod exec;
pub mod params;
pub mod protocol;
pub mod session;
pub mod sql;
pub mod txn;
pub mod types;
