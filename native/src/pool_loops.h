// The loops of adl::same_pools2d (pools.cc) over padded planes flattened end to end, float and double: the
// sum or the max of every position's taps, and a division by the windows' counts. Float runs 8 positions a
// step in GCC's vector types (an AVX2 clone chosen at load time on x86-64); every lane takes its taps in order,
// so that the blocks and the scalar loop (the double path, and the tail) give the same results.
#pragma once

#include <cstdint>
#include <limits>

#include "cpu_kernels.h"

namespace adl {
namespace {

typedef int32_t v8i __attribute__((vector_size(32)));

// y[q] = sum_t src[q + off[t]], taps in order from 0 (as libtorch's loop, which adds the real pixels only: the
// padding adds exact zeros). Float: 8 positions a step; returns where the scalar loop takes over.
ADL_INLINE int64_t sumBlocks(float* __restrict y, const float* __restrict src, const int64_t* off, int64_t taps, int64_t n) {
  int64_t q = 0;
  for (; q + 8 <= n; q += 8) {
    v8f acc = {};
    for (int64_t t = 0; t < taps; ++t) acc += ADL_AT(src + off[t] + q);
    *reinterpret_cast<v8fUnaligned*>(y + q) = acc;
  }
  return q;
}
ADL_INLINE int64_t sumBlocks(double*, const double*, const int64_t*, int64_t, int64_t) { return 0; }

// m[q], arg[q] = the max of src[q + off[t]] and its tap, libtorch's rule: a tap replaces the max when greater or NaN;
// -1 when no tap did (every real pixel -inf: the caller takes the window's first real pixel, as libtorch does).
ADL_INLINE int64_t maxBlocks(float* __restrict m, int32_t* __restrict arg, const float* __restrict src, const int64_t* off, int64_t taps, int64_t n) {
  int64_t q = 0;
  const float low = -std::numeric_limits<float>::infinity();
  for (; q + 8 <= n; q += 8) {
    v8f best = {low, low, low, low, low, low, low, low};
    v8i at = {-1, -1, -1, -1, -1, -1, -1, -1};
    for (int32_t t = 0; t < taps; ++t) {
      const v8f v = ADL_AT(src + off[t] + q);
      const v8i take = (v > best) | (v != v);
      best = take ? v : best;
      at = take ? v8i{t, t, t, t, t, t, t, t} : at;
    }
    *reinterpret_cast<v8fUnaligned*>(m + q) = best;
    for (int j = 0; j < 8; ++j) arg[q + j] = at[j];
  }
  return q;
}
ADL_INLINE int64_t maxBlocks(double*, int32_t*, const double*, const int64_t*, int64_t, int64_t) { return 0; }

template <typename T>
ADL_INLINE void sumTapsImpl(T* __restrict y, const T* __restrict src, const int64_t* off, int64_t taps, int64_t n) {
  for (int64_t q = sumBlocks(y, src, off, taps, n); q < n; ++q) {
    T acc = 0;
    for (int64_t t = 0; t < taps; ++t) acc += src[off[t] + q];
    y[q] = acc;
  }
}
template <typename T>
ADL_INLINE void maxTapsImpl(T* __restrict m, int32_t* __restrict arg, const T* __restrict src, const int64_t* off, int64_t taps, int64_t n) {
  for (int64_t q = maxBlocks(m, arg, src, off, taps, n); q < n; ++q) {
    T best = -std::numeric_limits<T>::infinity();
    int32_t at = -1;
    for (int32_t t = 0; t < taps; ++t) {
      const T v = src[off[t] + q];
      if (v > best || v != v) best = v, at = t;
    }
    m[q] = best;
    arg[q] = at;
  }
}
ADL_CLONES inline void sumTaps(float* y, const float* src, const int64_t* off, int64_t taps, int64_t n) { sumTapsImpl(y, src, off, taps, n); }
inline void sumTaps(double* y, const double* src, const int64_t* off, int64_t taps, int64_t n) { sumTapsImpl(y, src, off, taps, n); }
ADL_CLONES inline void maxTaps(float* m, int32_t* arg, const float* src, const int64_t* off, int64_t taps, int64_t n) { maxTapsImpl(m, arg, src, off, taps, n); }
inline void maxTaps(double* m, int32_t* arg, const double* src, const int64_t* off, int64_t taps, int64_t n) { maxTapsImpl(m, arg, src, off, taps, n); }

// y[j] = 0 + a[j] / b[j], 8 independent lanes (vectorised at -O2, as axpy): libtorch adds each average to a zeroed
// output, and each gradient share to a zeroed input gradient, which turns a quotient of -0 into +0.
template <typename T>
ADL_INLINE void divideImpl(T* __restrict y, const T* __restrict a, const T* __restrict b, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; ++l) y[j + l] = T(0) + a[j + l] / b[j + l];
  for (; j < n; ++j) y[j] = T(0) + a[j] / b[j];
}
ADL_CLONES inline void divide(float* y, const float* a, const float* b, int64_t n) { divideImpl(y, a, b, n); }
inline void divide(double* y, const double* a, const double* b, int64_t n) { divideImpl(y, a, b, n); }

}  // namespace
}  // namespace adl
