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

//
// Batch strides: the loops read x, y and the output gradient gy, and write y and gx, as images of dense planes
// (channel c at c * plane) that lie xB, yB (y and gy) and gxB values apart, so that a slice of channels is read and
// written in place (the mixed op's parts). Dense tensors by default; the caller sets others.
struct Geometry {
  int64_t B, C, H, W, Hp, Wp, Ho, Wo, ph, pw, kh, kw, dh, dw, n, guard, S;
  int64_t Cx;     // x's channels: C / tiling.repeats
  Tiling tiling;  // which of x's channels each of the C channels reads
  int64_t xB, yB, gxB;  // batch strides of x, of y and gy, of gx
  std::vector<int64_t> offsets;  // per tap (i, j), row-major: i * dh * Wp + j * dw

  Geometry(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation, Tiling tiling = {})
      : Geometry(x.size(0), x.size(1), x.size(2), x.size(3), w, padding, dilation, tiling) {}
  // x (B, Cx, H, W) given by its sizes.
  Geometry(int64_t B_, int64_t Cx_, int64_t H_, int64_t W_, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation,
           Tiling tiling = {})
      : B(B_), C(Cx_ * tiling.repeats), H(H_), W(W_), ph(padding[0]), pw(padding[1]), kh(w.size(2)), kw(w.size(3)),
        dh(dilation[0]), dw(dilation[1]), Cx(Cx_), tiling(tiling) {
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
    xB = Cx * H * W;
    yB = C * Ho * Wo;
    gxB = C * H * W;
  }
  int64_t taps() const { return kh * kw; }
  // x's channel that channel c reads.
  int64_t src(int64_t c) const { return tiling.src(c); }
  // Channels per task so that a task does at least ~32k multiply-adds (small calls stay on one thread).
  int64_t grain() const { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, taps() * B * Hp * Wp)); }
};

// t itself when each image's channels are dense planes, strides (any, H * W, W, 1), as a slice of a contiguous
// tensor's channels is: the loops read and write it in place; else a contiguous copy.
inline at::Tensor densePlanes(const at::Tensor& t) {
  const int64_t H = t.size(2), W = t.size(3);
  const bool dense = (W == 1 || t.stride(3) == 1) && (H == 1 || t.stride(2) == W) && (t.size(1) == 1 || t.stride(1) == H * W);
  return dense ? t : t.contiguous();
}

// Channels [c0, c0 + n) of t (B, C, H, W), whose images are dense planes (densePlanes), in place.
struct Slice {
  at::Tensor t;
  int64_t c0 = 0, n = 0;
  Slice() = default;
  Slice(at::Tensor whole, int64_t first, int64_t count) : t(std::move(whole)), c0(first), n(count) {}
  explicit Slice(at::Tensor whole) : t(std::move(whole)), c0(0), n(t.size(1)) {}
  template <typename T>
  T* data() const { return t.data_ptr<T>() + c0 * t.size(2) * t.size(3); }
  int64_t batch() const { return t.stride(0); }
  // As a tensor (a view): what the profiler records.
  at::Tensor view() const { return n == t.size(1) ? t : t.narrow(1, c0, n); }
};

}  // namespace
}  // namespace adl
