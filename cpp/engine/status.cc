#include "engine/status.h"

namespace corewire {

const char* Status::ToString() const noexcept {
  switch (code_) {
    case kOk: return "ok";
    case kNotFound: return "not found";
    case kConflict: return "conflict";
    case kNotInteger: return "not an integer";
    case kOverflow: return "overflow";
    case kConditionFailed: return "condition failed";
    case kInvalidArgument: return "invalid argument";
    case kNoMemory: return "no memory";
    case kInternal: return "internal error";
    case kLogFailed: return "log failed";
    case kBusy: return "busy";
  }
  return "unknown status";
}

}  // namespace corewire
