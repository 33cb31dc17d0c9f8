// seed_host.cc: a host written only against the seed README, as an "old
// host" would be. It does not include corewire_engine.h: it declares the
// four seed functions itself and serves GET/SET from a locked hash map.
// Build: make seed-host; run: build/seed_host (listens on 127.0.0.1:6380).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace {
std::mutex g_mu;
std::unordered_map<std::string, std::string> g_store;  // guarded by g_mu
}  // namespace

extern "C" {

// Rust calls this when each worker thread starts.
void cpp_worker_thread_init(size_t thread_id) { (void)thread_id; }

// op 1 = GET, 2 = SET. GET miss: true with *out_ptr = NULL.
bool cpp_execute_request_sync(uint32_t op, const uint8_t* key_ptr,
                              size_t key_len, const uint8_t* val_ptr,
                              size_t val_len, uint8_t** out_ptr,
                              size_t* out_len) {
  try {
    std::string key(reinterpret_cast<const char*>(key_ptr), key_len);
    std::lock_guard<std::mutex> guard(g_mu);
    if (op == 1) {
      auto it = g_store.find(key);
      if (it == g_store.end()) {
        *out_ptr = nullptr;
        *out_len = 0;
        return true;
      }
      const std::string& value = it->second;
      // malloc(1) for an empty value keeps it apart from a miss.
      auto* copy = static_cast<uint8_t*>(std::malloc(value.empty() ? 1 : value.size()));
      if (copy == nullptr) return false;
      if (!value.empty()) std::memcpy(copy, value.data(), value.size());
      *out_ptr = copy;
      *out_len = value.size();
      return true;
    }
    if (op == 2) {
      g_store[key].assign(reinterpret_cast<const char*>(val_ptr), val_len);
      return true;
    }
    return false;
  } catch (...) {
    return false;
  }
}

// Frees a buffer returned through cpp_execute_request_sync.
void cpp_free_buf(uint8_t* ptr, size_t len) {
  (void)len;
  std::free(ptr);
}

bool rust_init(size_t n_threads);

}  // extern "C"

int main() {
  if (!rust_init(2)) {
    std::fprintf(stderr, "seed_host: rust_init failed\n");
    return 1;
  }
  // Server now accepting on 127.0.0.1:6380.
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}
