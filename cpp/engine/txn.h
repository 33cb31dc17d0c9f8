// txn.h: interactive OCC transactions (internal; API in engine.h).
//
// Between calls a Txn holds only keys, buffered values and the versions it
// observed: no locks, no epoch, no record pointers. Commit re-looks-up every
// key. A read of a missing key is still valid at commit if the key has no
// record, or only a placeholder or deleted record that no other commit
// holds locked, or the same expired record it met (expiry is monotonic):
// checked per key, so inserts of other keys never conflict with it.
// Keys are stored with their database as a 4-byte prefix (TxnKey).
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
    std::string key;  // TxnKey form
    uint32_t db;
    uint64_t hash;
    uint64_t observed;  // record version (unused when missing)
    uint64_t expired_version;  // missing because this record had expired
    int64_t expire_at_ms;      // present: its deadline (0 = none)
    bool missing;
  };
  struct Write {
    std::string value;
    int64_t expire_at_ms;  // unless keep_ttl
    bool is_delete;
    bool keep_ttl;  // deadline = the key's at commit
  };

  Worker* const worker;
  Txn* prev = nullptr;  // in worker->txns
  Txn* next = nullptr;
  std::vector<Read> reads;
  std::unordered_map<std::string, Write> writes;  // last write per TxnKey
  size_t bytes = 0;  // keys + values held, bounded by max_txn_bytes
};

// db (4 bytes, native order) followed by the key.
std::string TxnKey(uint32_t db, const uint8_t* key, size_t key_bytes);
inline const uint8_t* TxnKeyBytes(const std::string& k) {
  return reinterpret_cast<const uint8_t*>(k.data()) + sizeof(uint32_t);
}
inline size_t TxnKeySize(const std::string& k) {
  return k.size() - sizeof(uint32_t);
}
uint32_t TxnKeyDb(const std::string& k);

// Validates the read set and installs the write set. Does not free txn.
Status CommitTxn(Txn* txn);

}  // namespace corewire

#endif  // COREWIRE_ENGINE_TXN_H_
