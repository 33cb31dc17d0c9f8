//! The PostgreSQL v3 listener: sessions, the extended protocol, and the kv
//! table over the engine.

pub mod auth;
pub mod catalog;
pub mod error;
pub mod sql;
