// Small vector loops shared by the addon's own CPU kernels (depthwise.cc,
// pointwise.cc): written so that GCC vectorises them at -O2 (8 independent
// lanes, restrict pointers), with an AVX2 clone chosen at load time on x86-64.
#pragma once

#include <cstdint>

namespace adl {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ADL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ADL_CLONES
#endif

// sum_n a[n] * b[n] in 8 independent lanes (vectorised without reassociating a
// lane; target_clones adds an AVX2 copy chosen at load time on x86-64).
ADL_CLONES inline float dot(const float* a, const float* b, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[i + k];
  float s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline double dot(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y[q] = sum_t w[t] * src[q + off[t]] for q < n: the whole kernel at once, 8
// outputs kept in registers across the taps (one store per 8 outputs).
template <typename T>
inline void gatherTapsImpl(T* __restrict y, const T* __restrict src, const T* w, const int64_t* off, int64_t taps, int64_t n) {
  int64_t q = 0;
  for (; q + 8 <= n; q += 8) {
    T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t t = 0; t < taps; ++t) {
      const T s = w[t];
      const T* x = src + off[t] + q;
      for (int k = 0; k < 8; ++k) acc[k] += s * x[k];
    }
    for (int k = 0; k < 8; ++k) y[q + k] = acc[k];
  }
  for (; q < n; ++q) {
    T acc = 0;
    for (int64_t t = 0; t < taps; ++t) acc += w[t] * src[off[t] + q];
    y[q] = acc;
  }
}

ADL_CLONES inline void gatherTaps(float* y, const float* src, const float* w, const int64_t* off, int64_t taps, int64_t n) {
  gatherTapsImpl(y, src, w, off, taps, n);
}

inline void gatherTaps(double* y, const double* src, const double* w, const int64_t* off, int64_t taps, int64_t n) {
  gatherTapsImpl(y, src, w, off, taps, n);
}

// y[n] += s * x[n], 8 lanes a step (each lane independent: no reassociation).
template <typename T>
inline void axpyImpl(T* __restrict y, T s, const T* __restrict x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) y[i + k] += s * x[i + k];
  for (; i < n; ++i) y[i] += s * x[i];
}

ADL_CLONES inline void axpy(float* y, float s, const float* x, int64_t n) { axpyImpl(y, s, x, n); }
inline void axpy(double* y, double s, const double* x, int64_t n) { axpyImpl(y, s, x, n); }

}  // namespace
}  // namespace adl
