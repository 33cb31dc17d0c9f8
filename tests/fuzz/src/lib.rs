//! Shared parts of corewire's fuzz targets (`fuzz_targets/`).
//!
//! - [`pg`]: a PostgreSQL session over the real engine, driven with raw
//!   client bytes as the worker drives it, and a check that everything the
//!   session wrote is well-framed backend messages.
//! - [`engine`]: the bundled C++ engine (linked into the corewire rlib by
//!   its build.rs) and the C entry points of cpp/engine/fuzz_entry.cc.

pub mod engine;
pub mod pg;

/// Keeps corewire's server log quiet (the fuzzer prints enough).
pub fn quiet_log() {
    corewire::log::configure(corewire::log::Level::Error, corewire::log::Format::Text);
}
