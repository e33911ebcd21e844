// The planes' loops of adl::depthwise_conv2d (depthwise.cc), float and double.
//
// Every loop works on zero-padded planes flattened with the padded row length
// Wp, so that each kernel tap is one contiguous multiply-add over the map
// (rows of a small map are too short to fill vector lanes one by one):
//   y[q]     = sum_taps w[t] * xpad[q + off(t)],      q < n = (Ho - 1) * Wp + Wo
//   gxpad[q + off(t)] += w[t] * gpad[q]               (gpad: g's rows widened to Wp with zeros)
//   gw[t]    = sum_b sum_q gpad[q] * xpad[q + off(t)]
// with off(t) = i * dh * Wp + j * dw for tap t = (i, j). A channel's B planes lie
// end to end in one buffer (with a zero guard ahead of each in the backward
// pass), so that one gather or one dotMany covers them all: on the supernet's
// 2x2 to 8x8 maps a single plane fills few vector blocks. Outputs at q mod Wp
// >= Wo (the row ends that the widening adds) and between planes are computed
// and dropped.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "cpu_kernels.h"
#include "depthwise_geometry.h"

namespace adl {
namespace {

// Channel c of the (tiled) input, x's channel src(c) of (B, Cx, H, W) (images g.xB apart), into buf: plane b zero-padded at
// b * stride + lead, zeros elsewhere.
template <typename T>
void padChannel(T* buf, const T* x, const Geometry& g, int64_t c, int64_t stride, int64_t lead) {
  std::fill_n(buf, g.B * stride, T(0));
  const int64_t from = g.src(c);  // once: two divisions when tiled, against rows of a few values
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t h = 0; h < g.H; ++h)
      std::copy_n(x + b * g.xB + (from * g.H + h) * g.W, g.W, buf + b * stride + lead + (g.ph + h) * g.Wp + g.pw);
}

// Channel c of the output gradient gy (B, C, Ho, Wo; images g.yB apart) into buf: rows widened to Wp, plane b at b * S + guard.
template <typename T>
void placeGradChannel(T* buf, const T* gy, const Geometry& g, int64_t c) {
  std::fill_n(buf, g.B * g.S, T(0));
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      std::copy_n(gy + b * g.yB + (c * g.Ho + oh) * g.Wo, g.Wo, buf + b * g.S + g.guard + oh * g.Wp);
}

// Float maps whose rows are whole vectors (a width of 8, 16, ...): the gathers visit only the positions that are
// outputs, per plane b and row r 8 columns at a time, read at b * stride + r * Wp + col of the padded buffer and
// written straight to b * outB + r * width + col, where the flattened gather computes the padding around them too
// (over twice the outputs on an 8x8 map with a 5x5 kernel) and copies the outputs out. The same sums in the same
// order: bit for bit the same values.
struct RowVectors {
  std::vector<int64_t> src, dst;
  RowVectors(int64_t B, int64_t rows, int64_t width, int64_t stride, int64_t Wp, int64_t outB) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t col = 0; col < width; col += 8) {
          src.push_back(b * stride + r * Wp + col);
          dst.push_back(b * outB + r * width + col);
        }
  }
  int64_t size() const { return src.size(); }
};

// The stretches [begin, end) of whole vector blocks of the weight gradient's flattened positions q < outputs (below
// its last whole block) that hold an output, q = b * S + oh * Wp + ow, as begin, end pairs: dotMany skips the others,
// where the gradient buffer is zero (the padding between the planes: about half the positions of an 8x8 map with a
// 5x5 kernel).
inline std::vector<int64_t> outputRuns(const Geometry& g, int64_t outputs) {
  const int64_t whole = outputs / 8 * 8;
  std::vector<char> live(whole / 8, 0);
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        const int64_t q = b * g.S + oh * g.Wp + ow;
        if (q < whole) live[q / 8] = 1;
      }
  std::vector<int64_t> runs;
  for (int64_t i = 0; i < whole / 8; ++i) {
    if (!live[i]) continue;
    if (runs.empty() || runs.back() != i * 8) runs.insert(runs.end(), {i * 8, i * 8});
    runs.back() += 8;
  }
  return runs;
}

template <typename T>
constexpr bool rowVectors(int64_t width) { return std::is_same<T, float>::value && width % 8 == 0; }

// y (B, C, Ho, Wo) from x (B, Cx, H, W) and w (C, 1, kh, kw), batch strides in g: per channel, every plane's
// outputs in one gather.
template <typename T>
void forwardPlanes(T* yp, const T* xp, const T* wp, const Geometry& g) {
  const int64_t plane = g.Hp * g.Wp;
  const int64_t total = (g.B - 1) * plane + g.n;
  const bool rows = rowVectors<T>(g.Wo);
  const RowVectors rv(rows ? g.B : 0, g.Ho, g.Wo, plane, g.Wp, g.yB);
  at::parallel_for(0, g.C, g.grain(), [&](int64_t c0, int64_t c1) {
    std::vector<T> buf(g.B * plane), acc(rows ? 0 : total);
    for (int64_t c = c0; c < c1; ++c) {
      padChannel(buf.data(), xp, g, c, plane, 0);
      if constexpr (std::is_same<T, float>::value) {
        if (rows) {
          gatherVectors(yp + c * g.Ho * g.Wo, rv.dst.data(), buf.data(), rv.src.data(), wp + c * g.taps(), g.offsets.data(), g.taps(), rv.size());
          continue;
        }
      }
      gatherTaps(acc.data(), buf.data(), wp + c * g.taps(), g.offsets.data(), g.taps(), total);
      for (int64_t b = 0; b < g.B; ++b)
        for (int64_t oh = 0; oh < g.Ho; ++oh) std::copy_n(acc.data() + b * plane + oh * g.Wp, g.Wo, yp + b * g.yB + (c * g.Ho + oh) * g.Wo);
    }
  });
}

// gx (B, C, H, W: the tiled input's gradient) and gw (C, 1, kh, kw) from gy (B, C, Ho, Wo), x and w (batch strides
// in g), each when asked for (else null), per channel:
//   gx: the transposed convolution, the same gather with each tap's offset mirrored (guard - off), over the
//       gradient planes placed after their zero guards, read at the unpadded positions;
//   gw: every tap's dot product of the gradient planes with the padded input planes (dotMany, over the blocks that
//       hold outputs).
template <typename T>
void backwardPlanes(T* gxp, T* gwp, const T* gp, const T* xp, const T* wp, const Geometry& g) {
  std::vector<int64_t> mirrored;
  for (int64_t o : g.offsets) mirrored.push_back(g.guard - o);
  const int64_t first = g.ph * g.Wp + g.pw;  // the first unpadded position of a plane
  const int64_t inputs = (g.B - 1) * g.S + (g.H - 1) * g.Wp + g.W;
  const int64_t outputs = (g.B - 1) * g.S + g.n;
  const bool rows = gxp && rowVectors<T>(g.W);
  const RowVectors rv(rows ? g.B : 0, g.H, g.W, g.S, g.Wp, g.gxB);
  const auto runs = gwp && std::is_same<T, float>::value ? outputRuns(g, outputs) : std::vector<int64_t>();
  at::parallel_for(0, g.C, g.grain(), [&](int64_t c0, int64_t c1) {
    std::vector<T> gbuf(g.B * g.S), xbuf(gwp ? g.B * g.S : 0), acc(gxp && !rows ? inputs : 0);
    for (int64_t c = c0; c < c1; ++c) {
      placeGradChannel(gbuf.data(), gp, g, c);
      if constexpr (std::is_same<T, float>::value) {
        if (rows) gatherVectors(gxp + c * g.H * g.W, rv.dst.data(), gbuf.data() + first, rv.src.data(), wp + c * g.taps(), mirrored.data(), g.taps(), rv.size());
      }
      if (gxp && !rows) {
        gatherTaps(acc.data(), gbuf.data() + first, wp + c * g.taps(), mirrored.data(), g.taps(), inputs);
        for (int64_t b = 0; b < g.B; ++b)
          for (int64_t h = 0; h < g.H; ++h) std::copy_n(acc.data() + b * g.S + h * g.Wp, g.W, gxp + b * g.gxB + (c * g.H + h) * g.W);
      }
      if (gwp) {
        padChannel(xbuf.data(), xp, g, c, g.S, g.guard);
        T* sums = gwp + c * g.taps();
        std::fill_n(sums, g.taps(), T(0));
        dotMany(sums, gbuf.data() + g.guard, xbuf.data() + g.guard, g.offsets.data(), g.taps(), outputs, runs.data(), runs.size() / 2);
      }
    }
  });
}

}  // namespace
}  // namespace adl
