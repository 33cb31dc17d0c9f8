//! Compiles the bundled C++ engine (cpp/engine) for `cargo test`, and the
//! one C file of corewire itself (src/resp/long_double.c).
//!
//! The archive is linked with `-bundle`: binaries that link the rlib (tests,
//! benches) get the engine, but `libcorewire.a` does not contain it. The host
//! binary links its own copy (the Makefile's build/libcwengine.a), so exactly
//! one artifact owns the engine objects and there are no duplicate symbols.
use std::path::Path;

fn main() {
    let mut sources: Vec<_> = std::fs::read_dir("cpp/engine")
        .expect("cpp/engine exists")
        .map(|entry| entry.expect("readable dir entry").path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.ends_with(".cc") && !name.ends_with("_test.cc")
        })
        .collect();
    sources.sort();

    println!("cargo:rerun-if-changed=cpp/engine");
    println!("cargo:rerun-if-changed=include");
    for path in &sources {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let mut engine = cc::Build::new();
    engine
        .cpp(true)
        .std("c++17")
        .opt_level(2)
        .include("include")
        .include("cpp")
        .files(&sources)
        .warnings(false)
        .cargo_metadata(false);
    // Extra flags for the engine only: `make fuzz` instruments it for
    // libFuzzer and ASan (CXXFLAGS would reach libFuzzer's own sources).
    println!("cargo:rerun-if-env-changed=CW_ENGINE_CXXFLAGS");
    if let Ok(flags) = std::env::var("CW_ENGINE_CXXFLAGS") {
        for flag in flags.split_whitespace() {
            engine.flag(flag);
        }
    }
    engine.compile("cwengine");

    // Redis-exact long double arithmetic for INCRBYFLOAT. Part of corewire
    // itself, so it is bundled into libcorewire.a like the Rust code.
    println!("cargo:rerun-if-changed=src/resp/long_double.c");
    cc::Build::new()
        .file("src/resp/long_double.c")
        .opt_level(2)
        .compile("cwlongdouble");

    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    assert!(Path::new(&out_dir).join("libcwengine.a").exists());
    println!("cargo:rustc-link-search=native={out_dir}");
    println!("cargo:rustc-link-lib=static:-bundle=cwengine");
    println!("cargo:rustc-link-lib=dylib=stdc++");
}
