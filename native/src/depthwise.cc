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
// The loops: depthwise_planes.h (each channel's padded planes flattened) and
// depthwise_channels.h (channels innermost, small maps); bit-identical.
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <vector>

#include "depthwise_own.h"

namespace adl {
namespace {

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
    // x itself is kept, not a copy of a view (the fused cell passes views of a split).
    ctx->save_for_backward({x, wc});
    layout = chooseLayout(layout, x, g);
    ctx->saved_data["layout"] = layout;
    auto y = at::empty({g.B, g.C, g.Ho, g.Wo}, x.options());
    ownForward(Slice(y), Slice(densePlanes(x)), wc, g, layout);
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const auto dilation = ctx->saved_data["dilation"].toIntVector();
    const bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
    if (!ownPath(saved[0])) {
      auto [gx, gw] = libtorchBackward(grads[0], saved[0], saved[1], padding, dilation, needX, needW);
      return {gx, gw, at::Tensor(), at::Tensor(), at::Tensor()};
    }
    const auto& x = saved[0];
    const Geometry g(x, saved[1], padding, dilation);
    const Slice gx(needX ? at::empty({g.B, g.C, g.H, g.W}, x.options()) : at::Tensor(), 0, g.C);
    const auto gw = needW ? at::empty({g.C, 1, g.kh, g.kw}, x.options()) : at::Tensor();
    ownBackward(Slice(densePlanes(grads[0])), Slice(densePlanes(x)), saved[1], g, ctx->saved_data["layout"].toInt(), padding, dilation,
                needX ? &gx : nullptr, needW ? &gw : nullptr);
    return {gx.t, gw, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor depthwiseConv2dLayout(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t layout) {
  checkArguments(x, w, dilation);
  // The loops pad with these (a negative one would write before a plane's buffer).
  TORCH_CHECK(padding.size() == 2 && padding[0] >= 0 && padding[1] >= 0, "depthwise_conv2d: padding takes two values of at least 0, got ", padding);
  checkLayout(layout);
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
  // mixed_depthwise_conv2d: depthwise_mixed.cc.
}

}  // namespace adl
