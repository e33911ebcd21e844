// The geometry of a depthwise convolution (stride 1) that both of depthwise.cc's
// layouts share: padded planes, outputs, kernel taps and their offsets in the
// planes' flattened layout (which the channels-innermost weight gradient
// follows too, to sum in the same order).
#pragma once
#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

namespace adl {
namespace {

// The geometry shared by the three loops: padded planes (Hp, Wp), outputs (Ho, Wo), kernel taps and their offsets.
// The loops work per channel on its B planes laid end to end in one buffer, so that a map of a few pixels still
// fills whole vector blocks: forward planes every Hp * Wp values, backward segments every S = guard + Hp * Wp
// (a zero guard of the largest offset ahead of each plane, which the mirrored gather reads into).
//
// A tiled input (the mixed op's `repeats`): the convolution reads x (B, Cx, H, W) as if each block of Cb channels were
// repeated R times in place, C = R * Cx channels laid out (Cx / Cb, R, Cb): channel c reads x's channel src(c). The
// loops read x through src(c) and never build the repeated tensor.
struct Tiling {
  int64_t repeats = 1, block = 1;
  int64_t src(int64_t c) const { return repeats == 1 ? c : c / (repeats * block) * block + c % block; }
};

struct Geometry {
  int64_t B, C, H, W, Hp, Wp, Ho, Wo, ph, pw, kh, kw, dh, dw, n, guard, S;
  int64_t Cx;     // x's channels: C / tiling.repeats
  Tiling tiling;  // which of x's channels each of the C channels reads
  std::vector<int64_t> offsets;  // per tap (i, j), row-major: i * dh * Wp + j * dw

  Geometry(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation, Tiling tiling = {})
      : B(x.size(0)), C(x.size(1) * tiling.repeats), H(x.size(2)), W(x.size(3)), ph(padding[0]), pw(padding[1]), kh(w.size(2)), kw(w.size(3)),
        dh(dilation[0]), dw(dilation[1]), Cx(x.size(1)), tiling(tiling) {
    Hp = H + 2 * ph;
    Wp = W + 2 * pw;
    Ho = Hp - (kh - 1) * dh;
    Wo = Wp - (kw - 1) * dw;
    TORCH_CHECK(Ho > 0 && Wo > 0, "depthwise_conv2d: a ", kh, "x", kw, " kernel at dilation ", dilation, " and padding ", padding,
                " leaves no output for a ", H, "x", W, " map");
    n = (Ho - 1) * Wp + Wo;
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j) offsets.push_back(i * dh * Wp + j * dw);
    guard = offsets.back();
    S = guard + Hp * Wp;
  }
  int64_t taps() const { return kh * kw; }
  // x's channel that channel c reads.
  int64_t src(int64_t c) const { return tiling.src(c); }
  // Channels per task so that a task does at least ~32k multiply-adds (small calls stay on one thread).
  int64_t grain() const { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, taps() * B * Hp * Wp)); }
};

}  // namespace
}  // namespace adl
