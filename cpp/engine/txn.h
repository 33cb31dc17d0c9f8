// txn.h: interactive OCC transactions (internal; API in engine.h).
//
// Between calls a Txn holds only keys, buffered values and the versions it
// observed: no locks, no epoch, no record pointers. Commit re-looks-up every
// key. A read of a missing key records the shard's insert version; commit
// checks that nothing but this transaction's own placeholders was inserted
// into that shard since (phantom protection, at shard granularity).
#ifndef COREWIRE_ENGINE_TXN_H_
#define COREWIRE_ENGINE_TXN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"

namespace corewire {

class Worker;

class Txn {
 public:
  explicit Txn(Worker* worker) noexcept : worker(worker) {}
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  struct Read {
    std::string key;
    uint64_t hash;
    uint64_t observed;  // record version, or shard insert version if missing
    bool missing;
  };
  struct Write {
    std::string value;
    bool is_delete;
  };

  Worker* const worker;
  Txn* prev = nullptr;  // in worker->txns
  Txn* next = nullptr;
  std::vector<Read> reads;
  std::unordered_map<std::string, Write> writes;  // last write per key
  size_t bytes = 0;  // keys + values held, bounded by max_txn_bytes
};

// Validates the read set and installs the write set. Does not free txn.
Status CommitTxn(Txn* txn);

}  // namespace corewire

#endif  // COREWIRE_ENGINE_TXN_H_
