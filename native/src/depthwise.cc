// adl::depthwise_conv2d: a depthwise convolution (stride 1) computed here on
// the CPU, forward and both gradients. libtorch 1.13's CPU kernels cost
// 40-500 us a call on the supernet's small maps (oneDNN's primitive set-up
// dominates; its native path is 10x slower still), and compute the weight
// gradient of 5x5 kernels 10-40x slower than of 3x3 ones; no composition of
// its ops came close (docs/performance.md#the-depthwise-kernel). Off the CPU,
// or for other dtypes, libtorch's own ops run. Tested against libtorch's op,
// values and gradients (test/engine/depthwise.test.ts). Not twice
// differentiable.
//
// Every loop works on zero-padded planes flattened with the padded row length
// Wp, so that each kernel tap is one contiguous multiply-add over the map
// (rows of a small map are too short to fill vector lanes one by one):
//   y[q]     = sum_taps w[t] * xpad[q + off(t)],      q < n = (Ho - 1) * Wp + Wo
//   gxpad[q + off(t)] += w[t] * gpad[q]               (gpad: g's rows widened to Wp with zeros)
//   gw[t]    = sum_b sum_q gpad[q] * xpad[q + off(t)]
// with off(t) = i * dh * Wp + j * dw for tap t = (i, j). Outputs at q mod Wp >= Wo
// are the row ends that the widening adds; they are computed and dropped.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "cpu_kernels.h"

namespace adl {
namespace {

// The geometry shared by the three loops: padded planes (Hp, Wp), outputs (Ho, Wo), kernel taps and their offsets.
struct Geometry {
  int64_t B, C, H, W, Hp, Wp, Ho, Wo, ph, pw, kh, kw, n;
  std::vector<int64_t> offsets;  // per tap (i, j), row-major: i * dh * Wp + j * dw

  Geometry(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation)
      : B(x.size(0)), C(x.size(1)), H(x.size(2)), W(x.size(3)), ph(padding[0]), pw(padding[1]), kh(w.size(2)), kw(w.size(3)) {
    Hp = H + 2 * ph;
    Wp = W + 2 * pw;
    Ho = Hp - (kh - 1) * dilation[0];
    Wo = Wp - (kw - 1) * dilation[1];
    TORCH_CHECK(Ho > 0 && Wo > 0, "depthwise_conv2d: a ", kh, "x", kw, " kernel at dilation ", dilation, " and padding ", padding,
                " leaves no output for a ", H, "x", W, " map");
    n = (Ho - 1) * Wp + Wo;
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j) offsets.push_back(i * dilation[0] * Wp + j * dilation[1]);
  }
  int64_t taps() const { return kh * kw; }
  // Planes per task so that a task does at least ~32k multiply-adds (small calls stay on one thread).
  int64_t grain() const { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, taps() * n)); }
};

at::Tensor padPlanes(const at::Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  return (top || bottom || left || right) ? at::constant_pad_nd(x, {left, right, top, bottom}).contiguous() : x.contiguous();
}

// y (B, C, Ho, Wo) from xpad (B, C, Hp, Wp) and w (C, 1, kh, kw).
template <typename T>
at::Tensor forwardPlanes(const at::Tensor& xpad, const at::Tensor& w, const Geometry& g) {
  auto y = at::empty({g.B, g.C, g.Ho, g.Wo}, xpad.options());
  const T* xp = xpad.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  at::parallel_for(0, g.B * g.C, g.grain(), [&](int64_t p0, int64_t p1) {
    std::vector<T> acc(g.n);
    for (int64_t p = p0; p < p1; ++p) {
      gatherTaps(acc.data(), xp + p * g.Hp * g.Wp, wp + (p % g.C) * g.taps(), g.offsets.data(), g.taps(), g.n);
      for (int64_t oh = 0; oh < g.Ho; ++oh) std::copy_n(acc.data() + oh * g.Wp, g.Wo, yp + (p * g.Ho + oh) * g.Wo);
    }
  });
  return y;
}

// gx (B, C, H, W) from gpad (B, C, Ho, Wp) and w: the transposed convolution, the same gather with each
// tap's offset mirrored, gx[p] = sum_t w[t] * gpad[p - off[t]], over g's plane placed after a zero guard
// of the largest offset (so that p - off[t] never leaves the buffer) and read at the unpadded positions.
template <typename T>
at::Tensor inputGradPlanes(const at::Tensor& gpad, const at::Tensor& w, const Geometry& g) {
  auto gx = at::empty({g.B, g.C, g.H, g.W}, gpad.options());
  const T* gp = gpad.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  T* out = gx.data_ptr<T>();
  const int64_t guard = g.offsets.back();
  std::vector<int64_t> mirrored;
  for (int64_t o : g.offsets) mirrored.push_back(guard - o);
  const int64_t first = g.ph * g.Wp + g.pw;  // the first unpadded position
  const int64_t n = (g.H - 1) * g.Wp + g.W;
  at::parallel_for(0, g.B * g.C, g.grain(), [&](int64_t p0, int64_t p1) {
    std::vector<T> buf(guard + g.Hp * g.Wp, T(0));
    std::vector<T> acc(n);
    for (int64_t p = p0; p < p1; ++p) {
      std::copy_n(gp + p * g.Ho * g.Wp, g.Ho * g.Wp, buf.data() + guard);  // the rest of buf stays zero
      gatherTaps(acc.data(), buf.data() + first, wp + (p % g.C) * g.taps(), mirrored.data(), g.taps(), n);
      for (int64_t h = 0; h < g.H; ++h) std::copy_n(acc.data() + h * g.Wp, g.W, out + (p * g.H + h) * g.W);
    }
  });
  return gx;
}

// gw (C, 1, kh, kw): per channel and image, every tap's dot product over the flattened planes in one pass (dotMany).
template <typename T>
at::Tensor weightGradPlanes(const at::Tensor& xpad, const at::Tensor& gpad, const Geometry& g) {
  auto gw = at::empty({g.C, 1, g.kh, g.kw}, xpad.options());
  const T* xp = xpad.data_ptr<T>();
  const T* gp = gpad.data_ptr<T>();
  T* out = gw.data_ptr<T>();
  at::parallel_for(0, g.C, std::max<int64_t>(1, g.grain() / std::max<int64_t>(1, g.B)), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      T* sums = out + c * g.taps();
      std::fill_n(sums, g.taps(), T(0));
      for (int64_t b = 0; b < g.B; ++b)
        dotMany(sums, gp + (b * g.C + c) * g.Ho * g.Wp, xp + (b * g.C + c) * g.Hp * g.Wp, g.offsets.data(), g.taps(), g.n);
    }
  });
  return gw;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct DepthwiseConv2d : public torch::autograd::Function<DepthwiseConv2d> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            at::IntArrayRef padding, at::IntArrayRef dilation) {
    ctx->saved_data["padding"] = padding.vec();
    ctx->saved_data["dilation"] = dilation.vec();
    if (!ownKernels(x)) {
      ctx->save_for_backward({x, w});
      return at::conv2d(x, w, {}, 1, padding, dilation, w.size(0));
    }
    const Geometry g(x, w, padding, dilation);
    const auto xpad = padPlanes(x, g.ph, g.ph, g.pw, g.pw);
    const auto wc = w.contiguous();
    // The unpadded input is kept (on small maps a padded plane is several times larger); backward pads it again.
    ctx->save_for_backward({x, wc});
    return x.scalar_type() == at::kFloat ? forwardPlanes<float>(xpad, wc, g) : forwardPlanes<double>(xpad, wc, g);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const auto dilation = ctx->saved_data["dilation"].toIntVector();
    const bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
    const auto& w = saved[1];
    at::Tensor gx, gw;
    if (!ownKernels(saved[0])) {
      auto r = at::convolution_backward(grads[0], saved[0], w, c10::nullopt, {1, 1}, padding, dilation, false, {0, 0},
                                        w.size(0), {needX, needW, false});
      return {std::get<0>(r), std::get<1>(r), at::Tensor(), at::Tensor()};
    }
    const auto& x = saved[0];
    const Geometry g(x, w, padding, dilation);
    // Named with its shapes for the profiler (bench/op_families.ts counts its FLOPs); free when none listens.
    RECORD_FUNCTION("adl::depthwise_conv2d_backward", std::vector<c10::IValue>({grads[0], x, w, padding, dilation, needX, needW}));
    const auto gpad = padPlanes(grads[0], 0, 0, 0, g.Wp - g.Wo);
    const bool f32 = x.scalar_type() == at::kFloat;
    if (needX) gx = f32 ? inputGradPlanes<float>(gpad, w, g) : inputGradPlanes<double>(gpad, w, g);
    if (needW) {
      const auto xpad = padPlanes(x, g.ph, g.ph, g.pw, g.pw);
      gw = f32 ? weightGradPlanes<float>(xpad, gpad, g) : weightGradPlanes<double>(xpad, gpad, g);
    }
    return {gx, gw, at::Tensor(), at::Tensor()};
  }
};

at::Tensor depthwiseConv2d(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation) {
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && w.size(1) == 1 && w.size(0) == x.size(1),
              "depthwise_conv2d: expected x (B, C, H, W) and weight (C, 1, kH, kW), got ", x.sizes(), " and ", w.sizes());
  TORCH_CHECK(padding.size() == 2 && dilation.size() == 2, "depthwise_conv2d: padding and dilation take two values each");
  TORCH_CHECK(x.scalar_type() == w.scalar_type(), "depthwise_conv2d: input and weight dtypes differ");
  return DepthwiseConv2d::apply(x, w, padding, dilation);
}

}  // namespace

TORCH_LIBRARY(adl, m) {
  m.def("depthwise_conv2d(Tensor input, Tensor weight, int[] padding, int[] dilation) -> Tensor", depthwiseConv2d);
}

}  // namespace adl
