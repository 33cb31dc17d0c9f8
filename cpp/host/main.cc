// main.cc: the corewire host binary. It owns the bundled engine, serves it
// through both the seed ABI and the rich ABI, and lets corewire_main (Rust)
// do flags, listeners and signals.
#include <cstdio>

#include "corewire.h"

int main(int argc, char** argv) {
  cw_engine_ops ops;
  if (!cw_bundled_engine_open(&ops)) {
    std::fprintf(stderr, "corewire: cannot create the engine\n");
    return 1;
  }
  cw_bundled_engine_serve_seed_abi(&ops);
  int code = corewire_main(argc, argv, &ops);
  // Every worker thread has been joined, so every handle is closed.
  cw_bundled_engine_serve_seed_abi(nullptr);
  cw_bundled_engine_close(&ops);
  return code;
}
