// test_util.h: a tiny test harness shared by the engine's *_test.cc files.
#ifndef COREWIRE_ENGINE_TEST_UTIL_H_
#define COREWIRE_ENGINE_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace corewire {
namespace test {

inline int& Failures() {
  static int failures = 0;
  return failures;
}

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,        \
                   __LINE__, #cond);                                     \
      ++::corewire::test::Failures();                                    \
    }                                                                    \
  } while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))

struct TestCase {
  const char* name;
  void (*fn)();
};

// Runs every case, prints "<suite>: N passed, M failed", returns the exit code.
inline int RunAll(const char* suite, const std::vector<TestCase>& cases) {
  int passed = 0;
  int failed = 0;
  for (const TestCase& c : cases) {
    int before = Failures();
    auto start = std::chrono::steady_clock::now();
    c.fn();
    long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    if (Failures() == before) {
      ++passed;
      std::printf("ok   %s (%lld ms)\n", c.name, ms);
    } else {
      ++failed;
      std::printf("FAIL %s (%lld ms)\n", c.name, ms);
    }
    std::fflush(stdout);
  }
  std::printf("%s: %d passed, %d failed\n", suite, passed, failed);
  return failed == 0 ? 0 : 1;
}

// Sink that records every call: nullopt for a miss.
struct Captured {
  std::vector<std::optional<std::string>> values;
  std::vector<const void*> pointers;
};
inline void CaptureSink(void* ctx, const uint8_t* p, size_t n) {
  auto* c = static_cast<Captured*>(ctx);
  c->pointers.push_back(p);
  if (p == nullptr) {
    c->values.emplace_back(std::nullopt);
  } else {
    c->values.emplace_back(std::string(reinterpret_cast<const char*>(p), n));
  }
}

}  // namespace test
}  // namespace corewire

#endif  // COREWIRE_ENGINE_TEST_UTIL_H_
