// The channels-innermost loops of adl::depthwise_conv2d (float), which
// depthwise.cc runs on small maps. Its planes' loops compute every position of
// a channel's flattened, padded planes, (B - 1) * S + n of them for B * Ho * Wo
// outputs: over five times as many on a 4x4 map with a 5x5 kernel, and a 2x2
// plane fills few vector lanes. Here each tensor is copied once into a
// zero-padded (B, rows, cols, Cp) buffer (Cp: C rounded up to 8) and every tap
// is one multiply-add over 8 channels.
//
// Every value sums the same products in the same order as the planes' loops:
// taps in order from zero for the output and the input gradient; for the
// weight gradient dotMany's 8 lanes over the planes' flattened positions
// (lane q mod 8), joined by its tree, then its tail (the positions without an
// output add exact zeros there and are skipped here). So both layouts give
// bit-identical results for finite inputs (test/engine/depthwise.test.ts; an
// infinity that only those positions read makes the planes' sum NaN).
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <vector>

#include "cpu_kernels.h"
#include "depthwise_geometry.h"

namespace adl {
namespace {

constexpr int64_t kLanes = 8;

inline int64_t roundUpLanes(int64_t c) { return (c + kLanes - 1) / kLanes * kLanes; }

// src (B, Cs, h, w; images srcB apart) read as C channels through tiling (channel c is src's tiling.src(c)) into
// buf (B, rows, cols, Cp), zeroed, src's (y, x) at (y + top, x + left); what falls outside is dropped.
inline void toChannelsLast(float* buf, const float* src, int64_t srcB, int64_t B, int64_t C, int64_t h, int64_t w,
                           int64_t rows, int64_t cols, int64_t Cp, int64_t top, int64_t left, Tiling tiling = {}) {
  std::fill_n(buf, B * rows * cols * Cp, 0.f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = src + b * srcB + tiling.src(c) * h * w;
      for (int64_t y = std::max<int64_t>(0, -top); y < std::min(h, rows - top); ++y)
        for (int64_t x = std::max<int64_t>(0, -left); x < std::min(w, cols - left); ++x)
          buf[((b * rows + y + top) * cols + x + left) * Cp + c] = plane[y * w + x];
    }
}

// w (C, 1, kh, kw) as (taps, Cp), zeros past C.
inline std::vector<float> tapsByChannel(const float* w, const Geometry& g, int64_t Cp) {
  std::vector<float> out(g.taps() * Cp, 0.f);
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t t = 0; t < g.taps(); ++t) out[t * Cp + c] = w[c * g.taps() + t];
  return out;
}

// Channel blocks per task so that a task does at least ~32k multiply-adds.
inline int64_t blockGrain(const Geometry& g, int64_t positions) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.taps() * positions * kLanes));
}

// out[((b * C + c) * rows + r) * cols + col] = acc lane c - c0 for the channels of block c0 that exist.
inline void storeLanes(float* out, const v8f& acc, int64_t c0, int64_t C, int64_t stride) {
  for (int64_t l = 0; l < kLanes && c0 + l < C; ++l) out[(c0 + l) * stride] = acc[l];
}

// One block of 8 channels (k) of taps-in-order sums over buf (B, rows, cols, Cp): out (B, C, outRows, outCols; images
// outB apart) at (b, r, c) = sum_t wl[t] * buf[(b, r, c) + off[t]]; the forward pass and the input gradient.
ADL_CLONES inline void gatherChannelBlock(float* out, int64_t outB, const float* buf, const float* wl, const int64_t* off, int64_t taps,
                                   int64_t B, int64_t C, int64_t outRows, int64_t outCols, int64_t rows, int64_t cols, int64_t Cp, int64_t k) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < outRows; ++r)
      for (int64_t c = 0; c < outCols; ++c) {
        const float* at = buf + ((b * rows + r) * cols + c) * Cp + k * kLanes;
        v8f acc = {};
        for (int64_t t = 0; t < taps; ++t) acc += ADL_AT(wl + t * Cp + k * kLanes) * ADL_AT(at + off[t]);
        storeLanes(out + b * outB + r * outCols + c, acc, k * kLanes, C, outRows * outCols);
      }
}

// y (B, C, Ho, Wo) = sum_t w[t] * xpad[(oh, ow) + tap t], taps in order; batch strides in g.
inline void forwardChannels(float* y, const float* x, const float* w, const Geometry& g) {
  const int64_t Cp = roundUpLanes(g.C);
  std::vector<float> xl(g.B * g.Hp * g.Wp * Cp);
  toChannelsLast(xl.data(), x, g.xB, g.B, g.C, g.H, g.W, g.Hp, g.Wp, Cp, g.ph, g.pw, g.tiling);
  const auto wl = tapsByChannel(w, g, Cp);
  std::vector<int64_t> off;
  for (int64_t o : g.offsets) off.push_back(o * Cp);
  at::parallel_for(0, Cp / kLanes, blockGrain(g, g.B * g.Ho * g.Wo), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) gatherChannelBlock(y, g.yB, xl.data(), wl.data(), off.data(), g.taps(), g.B, g.C, g.Ho, g.Wo, g.Hp, g.Wp, Cp, k);
  });
}

// gx (B, C, H, W) = sum_t w[t] * gy[(ph + h - i dh, pw + w - j dw)] (zero off the output map), taps in order; batch
// strides in g.
inline void inputGradChannels(float* gx, const float* gy, const float* w, const Geometry& g) {
  const int64_t Cp = roundUpLanes(g.C);
  const int64_t rh = (g.kh - 1) * g.dh, rw = (g.kw - 1) * g.dw, rows = g.H + rh, cols = g.W + rw;
  std::vector<float> gl(g.B * rows * cols * Cp);
  toChannelsLast(gl.data(), gy, g.yB, g.B, g.C, g.Ho, g.Wo, rows, cols, Cp, rh - g.ph, rw - g.pw);
  const auto wl = tapsByChannel(w, g, Cp);
  std::vector<int64_t> mirrored;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) mirrored.push_back(((rh - i * g.dh) * cols + rw - j * g.dw) * Cp);
  at::parallel_for(0, Cp / kLanes, blockGrain(g, g.B * g.H * g.W), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) gatherChannelBlock(gx, g.gxB, gl.data(), wl.data(), mirrored.data(), g.taps(), g.B, g.C, g.H, g.W, rows, cols, Cp, k);
  });
}

// Output positions of the planes' flattened weight-gradient loop, (index into the gradient buffer, into the input
// buffer), in increasing q: one list per lane for q below dotMany's last whole block of 8, then the tail.
using LaneLists = std::array<std::vector<std::pair<int64_t, int64_t>>, kLanes + 1>;

// One block of 8 channels (k): per tap, the lanes' sums, their tree, the tail, added to a zero (as dotMany does).
ADL_CLONES inline void weightGradBlock(float* gw, const float* gl, const float* xl, const LaneLists& lanes, const Geometry& g, int64_t Cp, int64_t k) {
  const float* gk = gl + k * kLanes;
  for (int64_t t = 0; t < g.taps(); ++t) {
    const float* xk = xl + k * kLanes + g.offsets[t] * Cp;
    v8f lane[kLanes];
    for (int64_t l = 0; l < kLanes; ++l) {
      v8f a = {};
      for (const auto& p : lanes[l]) a += ADL_AT(gk + p.first) * ADL_AT(xk + p.second);
      lane[l] = a;
    }
    v8f s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (const auto& p : lanes[kLanes]) s += ADL_AT(gk + p.first) * ADL_AT(xk + p.second);
    v8f sum = {};
    sum += s;
    storeLanes(gw + t, sum, k * kLanes, g.C, g.taps());
  }
}

// gw (C, 1, kh, kw): per tap, dotMany's sum over the planes' positions q = b * S + oh * Wp + ow of gy * xpad(q + tap);
// batch strides in g.
inline void weightGradChannels(float* gw, const float* gy, const float* x, const Geometry& g) {
  const int64_t Cp = roundUpLanes(g.C);
  std::vector<float> xl(g.B * g.Hp * g.Wp * Cp), gl(g.B * g.Ho * g.Wo * Cp);
  toChannelsLast(xl.data(), x, g.xB, g.B, g.C, g.H, g.W, g.Hp, g.Wp, Cp, g.ph, g.pw, g.tiling);
  toChannelsLast(gl.data(), gy, g.yB, g.B, g.C, g.Ho, g.Wo, g.Ho, g.Wo, Cp, 0, 0);
  const int64_t whole = ((g.B - 1) * g.S + g.n) / kLanes * kLanes;
  LaneLists lanes;
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        const int64_t q = b * g.S + oh * g.Wp + ow;
        lanes[q < whole ? q % kLanes : kLanes].emplace_back(((b * g.Ho + oh) * g.Wo + ow) * Cp, ((b * g.Hp + oh) * g.Wp + ow) * Cp);
      }
  at::parallel_for(0, Cp / kLanes, blockGrain(g, g.B * g.Ho * g.Wo), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) weightGradBlock(gw, gl.data(), xl.data(), lanes, g, Cp, k);
  });
}

}  // namespace
}  // namespace adl
