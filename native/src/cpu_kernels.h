// What the addon's own CPU kernels (depthwise.cc, pointwise.cc) share: which
// tensors they serve, and small vector loops written so that GCC vectorises
// them at -O2 (8 independent lanes, restrict pointers), with an AVX2 clone
// chosen at load time on x86-64.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace adl {
namespace {

// The own kernels serve float and double CPU tensors; anything else runs libtorch's ops.
inline bool ownKernels(const at::Tensor& x) {
  return x.device().is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ADL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ADL_CLONES
#endif
// The loops below are inlined into each clone, so that each is compiled for the clone's target.
#define ADL_INLINE __attribute__((always_inline)) inline

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

// dot(a, b) with b's elements `stride` apart: the same lanes and order, so the same result bit for bit.
inline float dotStrided(const float* a, const float* b, int64_t stride, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[(i + k) * stride];
  float s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; i < n; ++i) s += a[i] * b[i * stride];
  return s;
}

inline double dot(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y[q] = sum_t w[t] * src[q + off[t]] for q < n: the whole kernel at once, the
// outputs kept in registers across the taps (one store per output). For float,
// blocks of 32 outputs in 4 independent 8-lane accumulators (GCC vector types:
// a single chain of adds would wait on itself at every tap), then blocks of 8;
// every lane sums its taps in order, so blocks of any width give equal results.
typedef float v8f __attribute__((vector_size(32)));
typedef float v8fUnaligned __attribute__((vector_size(32), aligned(4)));
#define ADL_AT(p) (*reinterpret_cast<const v8fUnaligned*>(p))  // 8 floats from p, unaligned

ADL_INLINE int64_t gatherBlocks(float* __restrict y, const float* __restrict src, const float* w, const int64_t* off, int64_t taps, int64_t n) {
  int64_t q = 0;
  for (; q + 32 <= n; q += 32) {
    v8f a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int64_t t = 0; t < taps; ++t) {
      const float s = w[t];
      const float* x = src + off[t] + q;
      a0 += s * ADL_AT(x);
      a1 += s * ADL_AT(x + 8);
      a2 += s * ADL_AT(x + 16);
      a3 += s * ADL_AT(x + 24);
    }
    *reinterpret_cast<v8fUnaligned*>(y + q) = a0;
    *reinterpret_cast<v8fUnaligned*>(y + q + 8) = a1;
    *reinterpret_cast<v8fUnaligned*>(y + q + 16) = a2;
    *reinterpret_cast<v8fUnaligned*>(y + q + 24) = a3;
  }
  for (; q + 8 <= n; q += 8) {
    v8f a = {};
    for (int64_t t = 0; t < taps; ++t) a += w[t] * ADL_AT(src + off[t] + q);
    *reinterpret_cast<v8fUnaligned*>(y + q) = a;
  }
  return q;
}

ADL_INLINE int64_t gatherBlocks(double*, const double*, const double*, const int64_t*, int64_t, int64_t) { return 0; }

// y[dst[v] + l] = sum_t w[t] * src[base[v] + off[t] + l] for lanes l < 8 of vectors v < nv: gatherBlocks' sums (taps
// in order, each lane from zero) for outputs that come 8 at a time from scattered places (the rows of a map 8 or 16
// pixels wide, without the padding around them), 4 vectors a step.
ADL_CLONES inline void gatherVectors(float* y, const int64_t* dst, const float* src, const int64_t* base, const float* w,
                                     const int64_t* off, int64_t taps, int64_t nv) {
  int64_t v = 0;
  for (; v + 4 <= nv; v += 4) {
    const float *x0 = src + base[v], *x1 = src + base[v + 1], *x2 = src + base[v + 2], *x3 = src + base[v + 3];
    v8f a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int64_t t = 0; t < taps; ++t) {
      const float s = w[t];
      const int64_t o = off[t];
      a0 += s * ADL_AT(x0 + o);
      a1 += s * ADL_AT(x1 + o);
      a2 += s * ADL_AT(x2 + o);
      a3 += s * ADL_AT(x3 + o);
    }
    *reinterpret_cast<v8fUnaligned*>(y + dst[v]) = a0;
    *reinterpret_cast<v8fUnaligned*>(y + dst[v + 1]) = a1;
    *reinterpret_cast<v8fUnaligned*>(y + dst[v + 2]) = a2;
    *reinterpret_cast<v8fUnaligned*>(y + dst[v + 3]) = a3;
  }
  for (; v < nv; ++v) {
    v8f a = {};
    for (int64_t t = 0; t < taps; ++t) a += w[t] * ADL_AT(src + base[v] + off[t]);
    *reinterpret_cast<v8fUnaligned*>(y + dst[v]) = a;
  }
}

template <typename T>
ADL_INLINE void gatherTapsImpl(T* __restrict y, const T* __restrict src, const T* w, const int64_t* off, int64_t taps, int64_t n) {
  for (int64_t q = gatherBlocks(y, src, w, off, taps, n); q < n; ++q) {
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

// y[c] = dot(w, column c of X) for 8 adjacent columns (X's rows ld apart, K of them): dot()'s lanes (k mod 8) as
// 8 vector accumulators over the columns, reduced in dot()'s tree, then its tail in order, so each column gets
// dot()'s result bit for bit; 8 outputs a step instead of one.
ADL_CLONES inline void dotColumns8(float* y, const float* w, const float* X, int64_t ld, int64_t K) {
  v8f a0 = {}, a1 = {}, a2 = {}, a3 = {}, a4 = {}, a5 = {}, a6 = {}, a7 = {};
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    const float* r = X + k * ld;
    a0 += w[k] * ADL_AT(r);
    a1 += w[k + 1] * ADL_AT(r + ld);
    a2 += w[k + 2] * ADL_AT(r + 2 * ld);
    a3 += w[k + 3] * ADL_AT(r + 3 * ld);
    a4 += w[k + 4] * ADL_AT(r + 4 * ld);
    a5 += w[k + 5] * ADL_AT(r + 5 * ld);
    a6 += w[k + 6] * ADL_AT(r + 6 * ld);
    a7 += w[k + 7] * ADL_AT(r + 7 * ld);
  }
  v8f s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  for (; k < K; ++k) s += w[k] * ADL_AT(X + k * ld);
  *reinterpret_cast<v8fUnaligned*>(y) = s;
}

// sums[j] += sum_{q < n} g[q] * x[off[j] + q] for j < count: one row g against
// many rows of x (a depthwise kernel's taps, a pointwise weight row's inputs).
// Up to 12 rows at a time, each in its own 8-lane accumulator, so that every g
// load serves them all and the adds form independent chains (one dot product
// at a time waits on its single chain at every step).
//
// runs (nr of them): the stretches [runs[2i], runs[2i + 1]) of whole vector blocks (multiples of 8, increasing, below
// n / 8 * 8) where g may be nonzero, or null for all of them. A block of zeros in g adds exact zeros to each lane
// (x finite), and a lane, which starts at +0, is never -0, so skipping it changes no sum: the depthwise weight
// gradient skips the padding between its planes this way.
template <int R>
ADL_INLINE void dotRows(float* sums, const float* __restrict g, const float* __restrict x, const int64_t* off, int64_t n,
                        const int64_t* runs, int64_t nr) {
  v8f acc[R] = {};
  const int64_t whole = n / 8 * 8;
  for (int64_t i = 0; i < (runs ? nr : 1); ++i) {
    const int64_t end = runs ? runs[2 * i + 1] : whole;
    for (int64_t q = runs ? runs[2 * i] : 0; q < end; q += 8) {
      const v8f gv = ADL_AT(g + q);
#pragma GCC unroll 12
      for (int j = 0; j < R; ++j) acc[j] += gv * ADL_AT(x + off[j] + q);
    }
  }
  for (int j = 0; j < R; ++j) {
    float s = ((acc[j][0] + acc[j][1]) + (acc[j][2] + acc[j][3])) + ((acc[j][4] + acc[j][5]) + (acc[j][6] + acc[j][7]));
    for (int64_t r = whole; r < n; ++r) s += g[r] * x[off[j] + r];
    sums[j] += s;
  }
}

ADL_CLONES inline void dotMany(float* sums, const float* g, const float* x, const int64_t* off, int64_t count, int64_t n,
                               const int64_t* runs = nullptr, int64_t nr = 0) {
  for (int64_t j = 0; j < count;) {
    const int64_t passes = (count - j + 11) / 12;
    const int64_t rows = (count - j + passes - 1) / passes;  // 25 taps: 9, 8, 8
    switch (rows) {
      case 1: dotRows<1>(sums + j, g, x, off + j, n, runs, nr); break;
      case 2: dotRows<2>(sums + j, g, x, off + j, n, runs, nr); break;
      case 3: dotRows<3>(sums + j, g, x, off + j, n, runs, nr); break;
      case 4: dotRows<4>(sums + j, g, x, off + j, n, runs, nr); break;
      case 5: dotRows<5>(sums + j, g, x, off + j, n, runs, nr); break;
      case 6: dotRows<6>(sums + j, g, x, off + j, n, runs, nr); break;
      case 7: dotRows<7>(sums + j, g, x, off + j, n, runs, nr); break;
      case 8: dotRows<8>(sums + j, g, x, off + j, n, runs, nr); break;
      case 9: dotRows<9>(sums + j, g, x, off + j, n, runs, nr); break;
      case 10: dotRows<10>(sums + j, g, x, off + j, n, runs, nr); break;
      case 11: dotRows<11>(sums + j, g, x, off + j, n, runs, nr); break;
      default: dotRows<12>(sums + j, g, x, off + j, n, runs, nr); break;
    }
    j += rows;
  }
}

inline void dotMany(double* sums, const double* g, const double* x, const int64_t* off, int64_t count, int64_t n, const int64_t* = nullptr,
                    int64_t = 0) {
  for (int64_t j = 0; j < count; ++j) sums[j] += dot(g, x + off[j], n);
}

// y[n] += s * x[n], 8 lanes a step (each lane independent: no reassociation).
template <typename T>
ADL_INLINE void axpyImpl(T* __restrict y, T s, const T* __restrict x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) y[i + k] += s * x[i + k];
  for (; i < n; ++i) y[i] += s * x[i];
}

ADL_CLONES inline void axpy(float* y, float s, const float* x, int64_t n) { axpyImpl(y, s, x, n); }
inline void axpy(double* y, double s, const double* x, int64_t n) { axpyImpl(y, s, x, n); }

}  // namespace
}  // namespace adl
