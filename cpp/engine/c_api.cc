// c_api.cc: the C ABI of include/corewire_engine.h over the C++ engine:
// the cw_engine_ops adapter, the bundled-engine functions and the seed ABI.
// No exception crosses: every extern "C" body is wrapped in try/catch.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "corewire_engine.h"
#include "engine/engine.h"
#include "engine/txn.h"
#include "engine/worker.h"

using corewire::Engine;
using corewire::Status;
using corewire::Txn;
using corewire::Worker;

namespace {

// A cw_worker is a Worker and a cw_txn is a Txn; each knows its engine, so
// no global is needed to find it.
Engine* AsEngine(void* engine) { return static_cast<Engine*>(engine); }
Worker* AsWorker(cw_worker* worker) {
  return reinterpret_cast<Worker*>(worker);
}
Txn* AsTxn(cw_txn* txn) { return reinterpret_cast<Txn*>(txn); }
Engine* EngineOf(Txn* txn) { return txn->worker->engine; }

cw_worker* OpsWorkerOpen(void* engine, size_t worker_id) {
  try {
    if (engine == nullptr) return nullptr;
    Worker* worker = nullptr;
    if (!AsEngine(engine)->OpenWorker(worker_id, &worker).ok()) return nullptr;
    return reinterpret_cast<cw_worker*>(worker);
  } catch (...) {
    return nullptr;
  }
}

void OpsWorkerClose(cw_worker* worker) {
  try {
    if (worker == nullptr) return;
    AsWorker(worker)->engine->CloseWorker(AsWorker(worker));
  } catch (...) {
  }
}

template <typename Fn>
cw_status Call(cw_worker* worker, Fn&& fn) {
  try {
    if (worker == nullptr) return CW_INVALID_ARGUMENT;
    Worker* w = AsWorker(worker);
    return static_cast<cw_status>(fn(w->engine, w).code());
  } catch (...) {
    return CW_INTERNAL;
  }
}

cw_status OpsGet(cw_worker* worker, uint32_t db, cw_slice key,
                 cw_value_sink sink, void* sink_ctx, int64_t* expire_at_ms) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->Get(w, db, key, sink, sink_ctx, expire_at_ms);
  });
}

cw_status OpsPut(cw_worker* worker, uint32_t db, cw_slice key, cw_slice value,
                 uint32_t flags, int64_t expire_at_ms, cw_value_sink old_sink,
                 void* old_ctx) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->Put(w, db, key, value, flags, expire_at_ms, old_sink, old_ctx);
  });
}

cw_status OpsTake(cw_worker* worker, uint32_t db, cw_slice key,
                  cw_value_sink sink, void* sink_ctx) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->Take(w, db, key, sink, sink_ctx);
  });
}

cw_status OpsDel(cw_worker* worker, uint32_t db, const cw_slice* keys,
                 size_t n_keys, uint64_t* deleted) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->Delete(w, db, keys, n_keys, deleted);
  });
}

cw_status OpsExists(cw_worker* worker, uint32_t db, const cw_slice* keys,
                    size_t n_keys, uint64_t* count) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->Exists(w, db, keys, n_keys, count);
  });
}

cw_status OpsExpire(cw_worker* worker, uint32_t db, cw_slice key,
                    int64_t expire_at_ms, uint32_t flags, uint32_t* applied) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->Expire(w, db, key, expire_at_ms, flags, applied);
  });
}

cw_status OpsIncrBy(cw_worker* worker, uint32_t db, cw_slice key,
                    int64_t delta, int64_t* result) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->IncrBy(w, db, key, delta, result);
  });
}

cw_status OpsMultiGet(cw_worker* worker, uint32_t db, const cw_slice* keys,
                      size_t n_keys, cw_value_sink sink, void* sink_ctx) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->MultiGet(w, db, keys, n_keys, sink, sink_ctx);
  });
}

cw_status OpsMultiPut(cw_worker* worker, uint32_t db, const cw_slice* keys,
                      const cw_slice* values, size_t n, uint32_t flags,
                      uint32_t* written) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->MultiPut(w, db, keys, values, n, flags, written);
  });
}

cw_status OpsCount(cw_worker* worker, uint32_t db, uint64_t* n_keys,
                   uint64_t* n_keys_with_expiry) {
  return Call(worker, [&](Engine* e, Worker* w) {
    if (n_keys == nullptr) return Status::InvalidArgument();
    return e->Count(w, db, n_keys, n_keys_with_expiry);
  });
}

cw_status OpsClear(cw_worker* worker, uint32_t db) {
  return Call(worker, [&](Engine* e, Worker* w) { return e->Clear(w, db); });
}

cw_status OpsExpireCycle(cw_worker* worker, size_t max_checks,
                         uint64_t* expired) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->ExpireCycle(w, max_checks, expired);
  });
}

cw_status OpsScan(cw_worker* worker, uint32_t db, uint64_t cursor,
                  size_t count, cw_value_sink key_sink, void* sink_ctx,
                  uint64_t* next_cursor) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->Scan(w, db, cursor, count, key_sink, sink_ctx, next_cursor);
  });
}

cw_status OpsRandomKey(cw_worker* worker, uint32_t db, cw_value_sink sink,
                       void* sink_ctx) {
  return Call(worker, [&](Engine* e, Worker* w) {
    return e->RandomKey(w, db, sink, sink_ctx);
  });
}

cw_txn* OpsTxnBegin(cw_worker* worker) {
  try {
    if (worker == nullptr) return nullptr;
    Txn* txn = nullptr;
    if (!AsWorker(worker)->engine->TxnBegin(AsWorker(worker), &txn).ok()) {
      return nullptr;
    }
    return reinterpret_cast<cw_txn*>(txn);
  } catch (...) {
    return nullptr;
  }
}

cw_status OpsTxnGet(cw_txn* txn, uint32_t db, cw_slice key, cw_value_sink sink,
                    void* sink_ctx, int64_t* expire_at_ms) {
  try {
    if (txn == nullptr) return CW_INVALID_ARGUMENT;
    return EngineOf(AsTxn(txn))
        ->TxnGet(AsTxn(txn), db, key, sink, sink_ctx, expire_at_ms)
        .code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

cw_status OpsTxnPut(cw_txn* txn, uint32_t db, cw_slice key, cw_slice value,
                    uint32_t flags, int64_t expire_at_ms) {
  try {
    if (txn == nullptr) return CW_INVALID_ARGUMENT;
    return EngineOf(AsTxn(txn))
        ->TxnPut(AsTxn(txn), db, key, value, flags, expire_at_ms)
        .code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

cw_status OpsTxnDel(cw_txn* txn, uint32_t db, cw_slice key) {
  try {
    if (txn == nullptr) return CW_INVALID_ARGUMENT;
    return EngineOf(AsTxn(txn))->TxnDelete(AsTxn(txn), db, key).code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

cw_status OpsTxnCommit(cw_txn* txn) {
  try {
    if (txn == nullptr) return CW_INVALID_ARGUMENT;
    return EngineOf(AsTxn(txn))->TxnCommit(AsTxn(txn)).code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

void OpsTxnAbort(cw_txn* txn) {
  try {
    if (txn == nullptr) return;
    EngineOf(AsTxn(txn))->TxnAbort(AsTxn(txn));
  } catch (...) {
  }
}

// ---- Durability ----------------------------------------------------------

cw_status OpsStorageOpen(void* engine, const cw_storage_options* options,
                         char* error, size_t error_len) {
  try {
    std::string why;
    Status s = Status::InvalidArgument();
    if (engine == nullptr || options == nullptr ||
        options->struct_size != sizeof(cw_storage_options)) {
      why = "bad storage options";
    } else {
      s = AsEngine(engine)->OpenStorage(*options, &why);
    }
    if (!s.ok() && error != nullptr && error_len > 0) {
      std::snprintf(error, error_len, "%s", why.c_str());
    }
    return s.code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

cw_status OpsStorageTune(void* engine, const cw_storage_options* options) {
  try {
    if (engine == nullptr || options == nullptr ||
        options->struct_size != sizeof(cw_storage_options)) {
      return CW_INVALID_ARGUMENT;
    }
    return AsEngine(engine)->TuneStorage(*options).code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

uint64_t OpsLogAppended(cw_worker* worker) {
  if (worker == nullptr) return 0;
  return AsWorker(worker)->engine->LogAppended(AsWorker(worker));
}

cw_status OpsLogFlush(cw_worker* worker, uint64_t* sync_ticket) {
  uint64_t ignored = 0;
  if (sync_ticket == nullptr) sync_ticket = &ignored;
  return Call(worker, [sync_ticket](Engine* e, Worker* w) {
    return e->FlushLog(w, sync_ticket);
  });
}

cw_status OpsLogSync(cw_worker* worker, uint64_t ticket) {
  return Call(worker,
              [ticket](Engine* e, Worker* w) { return e->SyncLog(w, ticket); });
}

cw_status OpsCheckpoint(void* engine, uint32_t wait) {
  try {
    if (engine == nullptr) return CW_INVALID_ARGUMENT;
    return AsEngine(engine)->Checkpoint(wait != 0).code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

cw_status OpsStorageInfo(void* engine, cw_storage_info* info) {
  try {
    if (engine == nullptr || info == nullptr ||
        info->struct_size != sizeof(cw_storage_info)) {
      return CW_INVALID_ARGUMENT;
    }
    return AsEngine(engine)->StorageInfo(info).code();
  } catch (...) {
    return CW_INTERNAL;
  }
}

// ---- Seed ABI ------------------------------------------------------------

// The one process-wide pointer: the engine behind the seed functions.
std::atomic<Engine*> g_seed_engine{nullptr};

// A thread's seed handle, closed when the thread exits.
struct SeedWorker {
  Engine* engine = nullptr;
  Worker* worker = nullptr;
  SeedWorker() = default;
  SeedWorker(const SeedWorker&) = delete;
  SeedWorker& operator=(const SeedWorker&) = delete;
  ~SeedWorker() { Reset(); }
  void Reset() {
    if (worker != nullptr) engine->CloseWorker(worker);
    engine = nullptr;
    worker = nullptr;
  }
};
thread_local SeedWorker t_seed_worker;

// This thread's handle on engine, opened on first use. An engine with open
// handles is never freed (see cw_bundled_engine_close), so t_seed_worker's
// engine pointer stays valid while it holds a worker.
Worker* SeedWorkerFor(Engine* engine, size_t worker_id) {
  SeedWorker& seed = t_seed_worker;
  if (seed.worker != nullptr && seed.engine == engine) return seed.worker;
  seed.Reset();
  Worker* worker = nullptr;
  if (!engine->OpenWorker(worker_id, &worker).ok()) return nullptr;
  seed.engine = engine;
  seed.worker = worker;
  return worker;
}

}  // namespace

extern "C" {

void cpp_worker_thread_init(size_t thread_id) {
  try {
    Engine* engine = g_seed_engine.load(std::memory_order_acquire);
    if (engine != nullptr) SeedWorkerFor(engine, thread_id);
  } catch (...) {
  }
}

bool cpp_execute_request_sync(uint32_t op, const uint8_t* key_ptr,
                              size_t key_len, const uint8_t* val_ptr,
                              size_t val_len, uint8_t** out_ptr,
                              size_t* out_len) {
  try {
    Engine* engine = g_seed_engine.load(std::memory_order_acquire);
    if (engine == nullptr) return false;
    Worker* worker = SeedWorkerFor(engine, 0);
    if (worker == nullptr) return false;
    cw_slice key{key_ptr, key_len};
    if (op == CW_SEED_OP_GET) {
      if (out_ptr == nullptr || out_len == nullptr) return false;
      struct Copy {
        uint8_t* buffer;
        size_t length;
        bool no_memory;
      } copy{nullptr, 0, false};
      Status s = engine->Get(
          worker, 0, key,
          [](void* ctx, const uint8_t* p, size_t n) {
            Copy* c = static_cast<Copy*>(ctx);
            if (p == nullptr) return;
            // Non-NULL even when empty, so an empty value is not a miss.
            c->buffer = static_cast<uint8_t*>(std::malloc(n == 0 ? 1 : n));
            if (c->buffer == nullptr) {
              c->no_memory = true;
              return;
            }
            if (n > 0) std::memcpy(c->buffer, p, n);
            c->length = n;
          },
          &copy);
      if (!s.ok() || copy.no_memory) return false;
      *out_ptr = copy.buffer;
      *out_len = copy.length;
      return true;
    }
    if (op == CW_SEED_OP_SET) {
      return engine->Put(worker, 0, key, cw_slice{val_ptr, val_len}).ok();
    }
    return false;
  } catch (...) {
    return false;
  }
}

void cpp_free_buf(uint8_t* ptr, size_t /*len*/) { std::free(ptr); }

bool cw_bundled_engine_open(cw_engine_ops* ops) {
  try {
    if (ops == nullptr) return false;
    std::unique_ptr<Engine> engine;
    if (!Engine::Open(corewire::EngineOptions(), &engine).ok()) return false;
    cw_engine_ops filled{};
    filled.abi_version = CW_ENGINE_ABI_VERSION;
    filled.struct_size = sizeof(cw_engine_ops);
    filled.databases = engine->databases();
    filled.engine = engine.release();
    filled.worker_open = OpsWorkerOpen;
    filled.worker_close = OpsWorkerClose;
    filled.get = OpsGet;
    filled.put = OpsPut;
    filled.take = OpsTake;
    filled.del = OpsDel;
    filled.exists = OpsExists;
    filled.expire = OpsExpire;
    filled.incr_by = OpsIncrBy;
    filled.multi_get = OpsMultiGet;
    filled.multi_put = OpsMultiPut;
    filled.count = OpsCount;
    filled.clear = OpsClear;
    filled.expire_cycle = OpsExpireCycle;
    filled.scan = OpsScan;
    filled.random_key = OpsRandomKey;
    filled.txn_begin = OpsTxnBegin;
    filled.txn_get = OpsTxnGet;
    filled.txn_put = OpsTxnPut;
    filled.txn_del = OpsTxnDel;
    filled.txn_commit = OpsTxnCommit;
    filled.txn_abort = OpsTxnAbort;
    filled.storage_open = OpsStorageOpen;
    filled.storage_tune = OpsStorageTune;
    filled.log_appended = OpsLogAppended;
    filled.log_flush = OpsLogFlush;
    filled.log_sync = OpsLogSync;
    filled.checkpoint = OpsCheckpoint;
    filled.storage_info = OpsStorageInfo;
    *ops = filled;
    return true;
  } catch (...) {
    return false;
  }
}

void cw_bundled_engine_close(cw_engine_ops* ops) {
  try {
    if (ops == nullptr || ops->engine == nullptr) return;
    Engine* engine = AsEngine(ops->engine);
    Engine* expected = engine;
    g_seed_engine.compare_exchange_strong(expected, nullptr,
                                          std::memory_order_acq_rel);
    // The calling thread's own seed handle can be closed here; other
    // threads' handles close when those threads exit.
    if (t_seed_worker.engine == engine) t_seed_worker.Reset();
    // Freeing under an open handle would be a use-after-free later; a
    // leak is the lesser harm (and shows up in ASan runs).
    if (engine->open_workers() != 0) {
      std::fprintf(stderr,
                   "corewire engine: close with %zu open worker handle(s); "
                   "engine leaked\n",
                   engine->open_workers());
      return;
    }
    delete engine;
    ops->engine = nullptr;
  } catch (...) {
  }
}

void cw_bundled_engine_serve_seed_abi(const cw_engine_ops* ops) {
  try {
    Engine* engine = ops == nullptr ? nullptr : AsEngine(ops->engine);
    g_seed_engine.store(engine, std::memory_order_release);
  } catch (...) {
  }
}

}  // extern "C"
