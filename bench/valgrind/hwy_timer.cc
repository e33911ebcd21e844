// Preloaded into the search worker only under valgrind (bench/instructions.ts). valgrind 3.19 cannot decode
// rdtscp, which Google Highway's static initialiser runs through this function; Debian 12's libtorch loads
// libhwy at start-up (libtorch_cpu -> OpenCV -> libavcodec -> libjxl -> libhwy), so the worker stopped before
// its first line. Highway uses the value only to time its own benchmarks.
#include <cstdint>

namespace hwy {
namespace platform {
uint64_t TimerResolution() { return 1; }
}  // namespace platform
}  // namespace hwy
