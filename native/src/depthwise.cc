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
// with off(t) = i * dh * Wp + j * dw for tap t = (i, j). A channel's B planes lie
// end to end in one buffer (with a zero guard ahead of each in the backward
// pass), so that one gather or one dotMany covers them all: on the supernet's
// 2x2 to 8x8 maps a single plane fills few vector blocks. Outputs at q mod Wp
// >= Wo (the row ends that the widening adds) and between planes are computed
// and dropped.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "cpu_kernels.h"
#include "depthwise_channels.h"
#include "depthwise_geometry.h"

namespace adl {
namespace {

// Channel c of x (B, C, H, W) into buf: plane b zero-padded at b * stride + lead, zeros elsewhere.
template <typename T>
void padChannel(T* buf, const T* x, const Geometry& g, int64_t c, int64_t stride, int64_t lead) {
  std::fill_n(buf, g.B * stride, T(0));
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t h = 0; h < g.H; ++h)
      std::copy_n(x + ((b * g.C + c) * g.H + h) * g.W, g.W, buf + b * stride + lead + (g.ph + h) * g.Wp + g.pw);
}

// Channel c of the output gradient gy (B, C, Ho, Wo) into buf: rows widened to Wp, plane b at b * S + guard.
template <typename T>
void placeGradChannel(T* buf, const T* gy, const Geometry& g, int64_t c) {
  std::fill_n(buf, g.B * g.S, T(0));
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      std::copy_n(gy + ((b * g.C + c) * g.Ho + oh) * g.Wo, g.Wo, buf + b * g.S + g.guard + oh * g.Wp);
}

// y (B, C, Ho, Wo) from x (B, C, H, W) and w (C, 1, kh, kw): per channel, every plane's outputs in one gather.
template <typename T>
at::Tensor forwardPlanes(const at::Tensor& x, const at::Tensor& w, const Geometry& g) {
  auto y = at::empty({g.B, g.C, g.Ho, g.Wo}, x.options());
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  const int64_t plane = g.Hp * g.Wp;
  const int64_t total = (g.B - 1) * plane + g.n;
  at::parallel_for(0, g.C, g.grain(), [&](int64_t c0, int64_t c1) {
    std::vector<T> buf(g.B * plane), acc(total);
    for (int64_t c = c0; c < c1; ++c) {
      padChannel(buf.data(), xp, g, c, plane, 0);
      gatherTaps(acc.data(), buf.data(), wp + c * g.taps(), g.offsets.data(), g.taps(), total);
      for (int64_t b = 0; b < g.B; ++b)
        for (int64_t oh = 0; oh < g.Ho; ++oh) std::copy_n(acc.data() + b * plane + oh * g.Wp, g.Wo, yp + ((b * g.C + c) * g.Ho + oh) * g.Wo);
    }
  });
  return y;
}

// gx (B, C, H, W) and gw (C, 1, kh, kw) from gy (B, C, Ho, Wo), x and w, each when asked for, per channel:
//   gx: the transposed convolution, the same gather with each tap's offset mirrored (guard - off), over the
//       gradient planes placed after their zero guards, read at the unpadded positions;
//   gw: every tap's dot product of the gradient planes with the padded input planes (dotMany).
template <typename T>
void backwardPlanes(const at::Tensor& gy, const at::Tensor& x, const at::Tensor& w, const Geometry& g, at::Tensor* gx, at::Tensor* gw) {
  const T* gp = gy.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  T* gxp = gx ? gx->data_ptr<T>() : nullptr;
  T* gwp = gw ? gw->data_ptr<T>() : nullptr;
  std::vector<int64_t> mirrored;
  for (int64_t o : g.offsets) mirrored.push_back(g.guard - o);
  const int64_t first = g.ph * g.Wp + g.pw;  // the first unpadded position of a plane
  const int64_t inputs = (g.B - 1) * g.S + (g.H - 1) * g.Wp + g.W;
  const int64_t outputs = (g.B - 1) * g.S + g.n;
  at::parallel_for(0, g.C, g.grain(), [&](int64_t c0, int64_t c1) {
    std::vector<T> gbuf(g.B * g.S), xbuf(gwp ? g.B * g.S : 0), acc(gxp ? inputs : 0);
    for (int64_t c = c0; c < c1; ++c) {
      placeGradChannel(gbuf.data(), gp, g, c);
      if (gxp) {
        gatherTaps(acc.data(), gbuf.data() + first, wp + c * g.taps(), mirrored.data(), g.taps(), inputs);
        for (int64_t b = 0; b < g.B; ++b)
          for (int64_t h = 0; h < g.H; ++h) std::copy_n(acc.data() + b * g.S + h * g.Wp, g.W, gxp + ((b * g.C + c) * g.H + h) * g.W);
      }
      if (gwp) {
        padChannel(xbuf.data(), xp, g, c, g.S, g.guard);
        T* sums = gwp + c * g.taps();
        std::fill_n(sums, g.taps(), T(0));
        dotMany(sums, gbuf.data() + g.guard, xbuf.data() + g.guard, g.offsets.data(), g.taps(), outputs);
      }
    }
  });
}

// Whether the loops here serve x; else libtorch's ops (other devices and dtypes, and empty batches).
bool ownPath(const at::Tensor& x) { return ownKernels(x) && x.numel() > 0; }

// Which own loops: 1 the planes (above), 2 channels innermost (depthwise_channels.h, float); 0 chooses: channels
// innermost for float outputs of at most kChannelsMaxPixels pixels (`npm run bench -- depthwise --layouts`).
constexpr int64_t kChannelsMaxPixels = 16;
int64_t chooseLayout(int64_t layout, const at::Tensor& x, const Geometry& g) {
  TORCH_CHECK(layout >= 0 && layout <= 2, "depthwise_conv2d: layout must be 0 (auto), 1 (planes) or 2 (channels), got ", layout);
  if (x.scalar_type() != at::kFloat) return 1;
  return layout != 0 ? layout : (g.Ho * g.Wo <= kChannelsMaxPixels ? 2 : 1);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct DepthwiseConv2d : public torch::autograd::Function<DepthwiseConv2d> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            at::IntArrayRef padding, at::IntArrayRef dilation, int64_t layout) {
    ctx->saved_data["padding"] = padding.vec();
    ctx->saved_data["dilation"] = dilation.vec();
    if (!ownPath(x)) {
      ctx->save_for_backward({x, w});
      return at::conv2d(x, w, {}, 1, padding, dilation, w.size(0));
    }
    const Geometry g(x, w, padding, dilation);
    const auto wc = w.contiguous();
    // x itself is kept, not a contiguous copy of a view (the fused cell passes views of a split): backward makes its own.
    ctx->save_for_backward({x, wc});
    const auto xc = x.contiguous();
    layout = chooseLayout(layout, x, g);
    ctx->saved_data["layout"] = layout;
    if (layout == 2) {
      auto y = at::empty({g.B, g.C, g.Ho, g.Wo}, x.options());
      forwardChannels(y.data_ptr<float>(), xc.data_ptr<float>(), wc.data_ptr<float>(), g);
      return y;
    }
    return x.scalar_type() == at::kFloat ? forwardPlanes<float>(xc, wc, g) : forwardPlanes<double>(xc, wc, g);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const auto dilation = ctx->saved_data["dilation"].toIntVector();
    const bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
    const auto& w = saved[1];
    at::Tensor gx, gw;
    if (!ownPath(saved[0])) {
      auto r = at::convolution_backward(grads[0], saved[0], w, c10::nullopt, {1, 1}, padding, dilation, false, {0, 0},
                                        w.size(0), {needX, needW, false});
      return {std::get<0>(r), std::get<1>(r), at::Tensor(), at::Tensor(), at::Tensor()};
    }
    const auto x = saved[0].contiguous();
    const Geometry g(x, w, padding, dilation);
    // Named with its shapes for the profiler (bench/op_families.ts counts its FLOPs); free when none listens.
    RECORD_FUNCTION("adl::depthwise_conv2d_backward", std::vector<c10::IValue>({grads[0], x, w, padding, dilation, needX, needW}));
    const auto gy = grads[0].contiguous();
    if (needX) gx = at::empty_like(x, at::MemoryFormat::Contiguous);
    if (needW) gw = at::empty({g.C, 1, g.kh, g.kw}, x.options());
    if (ctx->saved_data["layout"].toInt() == 2) {
      if (needX) inputGradChannels(gx.data_ptr<float>(), gy.data_ptr<float>(), w.data_ptr<float>(), g);
      if (needW) weightGradChannels(gw.data_ptr<float>(), gy.data_ptr<float>(), x.data_ptr<float>(), g);
    } else if (x.scalar_type() == at::kFloat) backwardPlanes<float>(gy, x, w, g, needX ? &gx : nullptr, needW ? &gw : nullptr);
    else backwardPlanes<double>(gy, x, w, g, needX ? &gx : nullptr, needW ? &gw : nullptr);
    return {gx, gw, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor depthwiseConv2dLayout(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t layout) {
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && w.size(1) == 1 && w.size(0) == x.size(1),
              "depthwise_conv2d: expected x (B, C, H, W) and weight (C, 1, kH, kW), got ", x.sizes(), " and ", w.sizes());
  TORCH_CHECK(padding.size() == 2 && dilation.size() == 2, "depthwise_conv2d: padding and dilation take two values each");
  TORCH_CHECK(x.scalar_type() == w.scalar_type(), "depthwise_conv2d: input and weight dtypes differ");
  return DepthwiseConv2d::apply(x, w, padding, dilation, layout);
}

at::Tensor depthwiseConv2d(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation) {
  return depthwiseConv2dLayout(x, w, padding, dilation, 0);
}

}  // namespace

TORCH_LIBRARY(adl, m) {
  m.def("depthwise_conv2d(Tensor input, Tensor weight, int[] padding, int[] dilation) -> Tensor", depthwiseConv2d);
  // The same with its loops named (0 auto, 1 planes, 2 channels innermost): for the test that proves them equal, and the bench.
  m.def("depthwise_conv2d_layout(Tensor input, Tensor weight, int[] padding, int[] dilation, int layout) -> Tensor", depthwiseConv2dLayout);
}

}  // namespace adl
