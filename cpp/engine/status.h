// status.h: the result of every engine call.
#ifndef COREWIRE_ENGINE_STATUS_H_
#define COREWIRE_ENGINE_STATUS_H_

#include <cstdint>

namespace corewire {

// Errors are values: nothing in the engine API throws. Each code equals the
// CW_* constant of include/corewire_engine.h with the same meaning, so the C
// adapter passes code() through unchanged.
class Status {
 public:
  enum Code : int32_t {
    kOk = 0,
    kNotFound = 1,         // key missing (where that is not a plain result)
    kConflict = 2,         // optimistic validation failed; nothing written
    kNotInteger = 3,       // value is not a strict base-10 int64
    kOverflow = 4,         // increment would wrap int64
    kConditionFailed = 5,  // NX/XX condition not met; nothing written
    kInvalidArgument = 6,  // bad call: NULL handle, key too long, too many keys
    kNoMemory = 7,         // allocation failed; nothing written
    kInternal = 8,         // caught exception or broken invariant
    kLogFailed = 9,        // the write-ahead log cannot be written
    kBusy = 10,            // a checkpoint is already running
  };

  constexpr Status() noexcept : code_(kOk) {}
  constexpr explicit Status(Code code) noexcept : code_(code) {}

  static constexpr Status OK() noexcept { return Status(kOk); }
  static constexpr Status NotFound() noexcept { return Status(kNotFound); }
  static constexpr Status Conflict() noexcept { return Status(kConflict); }
  static constexpr Status NotInteger() noexcept { return Status(kNotInteger); }
  static constexpr Status Overflow() noexcept { return Status(kOverflow); }
  static constexpr Status ConditionFailed() noexcept {
    return Status(kConditionFailed);
  }
  static constexpr Status InvalidArgument() noexcept {
    return Status(kInvalidArgument);
  }
  static constexpr Status NoMemory() noexcept { return Status(kNoMemory); }
  static constexpr Status Internal() noexcept { return Status(kInternal); }
  static constexpr Status LogFailed() noexcept { return Status(kLogFailed); }
  static constexpr Status Busy() noexcept { return Status(kBusy); }

  bool ok() const noexcept { return code_ == kOk; }
  bool IsNotFound() const noexcept { return code_ == kNotFound; }
  bool IsConflict() const noexcept { return code_ == kConflict; }
  Code code() const noexcept { return code_; }

  // A short lowercase description ("ok", "conflict", ...). Never NULL.
  const char* ToString() const noexcept;

  bool operator==(const Status& other) const noexcept {
    return code_ == other.code_;
  }
  bool operator!=(const Status& other) const noexcept {
    return code_ != other.code_;
  }

 private:
  Code code_;
};

}  // namespace corewire

#endif  // COREWIRE_ENGINE_STATUS_H_
