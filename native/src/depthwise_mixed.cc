// adl::mixed_depthwise_conv2d: several depthwise kernels in one call and one
// autograd node (the fused search cell's separable ops), on the loops of
// depthwise.cc; bit for bit a depthwise_conv2d per weight and a cat
// (test/engine/mixed_depthwise.test.ts).
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <vector>

#include "depthwise_own.h"

namespace adl {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Mixed depthwise convolution (MixConv): weight i, (Cg, 1, kh_i, kw_i) with odd sizes and 'same' padding, convolves
// input channels [i * Cg, (i + 1) * Cg), or every input channel when the input has Cg; the outputs are concatenated
// in channels, (B, K * Cg, H, W). The same as K depthwise_conv2d calls and a cat, bit for bit (the input gradient of a
// shared input is the sum of the K, in autograd's order: the last weight's first), in one call and one autograd node.
//
// repeats R > 1 (with block Cb): the input is x (B, Cg / R, H, W) tiled, each block of Cb channels repeated R times in
// place, as x.view(B, G, 1, Cb, H, W).expand(B, G, R, Cb, H, W).reshape(B, Cg, H, W) would give (the fused search
// cell's edges reading one state). The loops read x through the tiling (no repeated copy); x's gradient is the tiled
// one summed over the repeats by libtorch's sum, as the expand's backward would: bit for bit the same.
struct MixedDepthwiseConv2d : public torch::autograd::Function<MixedDepthwiseConv2d> {
  static std::vector<int64_t> samePadding(const at::Tensor& w, at::IntArrayRef d) { return {d[0] * (w.size(2) - 1) / 2, d[1] * (w.size(3) - 1) / 2}; }
  static at::Tensor part(const at::Tensor& x, int64_t i, int64_t cg) { return x.size(1) == cg ? x : x.narrow(1, i * cg, cg); }
  // The tiled input as a tensor (off the own path, where libtorch's ops read it).
  static at::Tensor repeated(const at::Tensor& x, Tiling t) {
    if (t.repeats == 1) return x;
    const int64_t B = x.size(0), G = x.size(1) / t.block, H = x.size(2), W = x.size(3);
    return x.view({B, G, 1, t.block, H, W}).expand({B, G, t.repeats, t.block, H, W}).reshape({B, G * t.repeats * t.block, H, W});
  }

  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, at::TensorList weights, at::IntArrayRef dilation,
                            int64_t repeats, int64_t block) {
    const int64_t cg = weights[0].size(0), K = weights.size();
    const Tiling tiling{repeats, block};
    std::vector<at::Tensor> saved{x};
    for (const auto& w : weights) saved.push_back(w.contiguous());
    ctx->save_for_backward(saved);
    ctx->saved_data["dilation"] = dilation.vec();
    ctx->saved_data["tiling"] = std::vector<int64_t>{repeats, block};
    if (!ownPath(x)) {
      const auto xs = repeated(x, tiling);
      std::vector<at::Tensor> ys;
      for (int64_t i = 0; i < K; ++i) ys.push_back(at::conv2d(part(xs, i, cg), saved[1 + i], {}, 1, samePadding(saved[1 + i], dilation), dilation, cg));
      ctx->saved_data["layouts"] = std::vector<int64_t>{};
      return at::cat(ys, 1);
    }
    // Weight i reads channels [i cg, (i + 1) cg) of x, or all of them, and writes its slice of y: in place.
    const auto xd = densePlanes(x);
    const bool split = x.size(1) * repeats != cg;
    auto y = at::empty({x.size(0), K * cg, x.size(2), x.size(3)}, x.options());
    std::vector<int64_t> layouts;
    for (int64_t i = 0; i < K; ++i) {
      const auto& wc = saved[1 + i];
      const auto padding = samePadding(wc, dilation);
      const Slice xi = split ? Slice(xd, i * cg, cg) : Slice(xd);
      const Geometry g(x.size(0), xi.n, x.size(2), x.size(3), wc, padding, dilation, tiling);
      layouts.push_back(chooseLayout(0, x, g));
      at::RecordFunction guard(at::RecordScope::FUNCTION);
      nameScope(guard, "adl::depthwise_conv2d_part", [&] { return std::vector<c10::IValue>({xi.view(), wc, at::IntArrayRef(padding), dilation}); });
      ownForward(Slice(y, i * cg, cg), xi, wc, g, layouts.back());
    }
    ctx->saved_data["layouts"] = layouts;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto dilation = ctx->saved_data["dilation"].toIntVector();
    const auto layouts = ctx->saved_data["layouts"].toIntVector();
    const auto t = ctx->saved_data["tiling"].toIntVector();
    const Tiling tiling{t[0], t[1]};
    const int64_t K = saved.size() - 1, cg = saved[1].size(0);
    const bool needX = ctx->needs_input_grad(0);
    const bool shared = saved[0].size(1) * tiling.repeats == cg;  // every weight read all of the (tiled) input
    variable_list out(K + 4), gxs(K);
    if (ownPath(saved[0])) {
      // Slices in place: of x and gy, and when not shared of x's gradient (the weights' input gradients side by side).
      const auto xd = densePlanes(saved[0]), gyd = densePlanes(grads[0]);
      const int64_t B = xd.size(0), H = xd.size(2), W = xd.size(3);
      if (needX && !shared) out[0] = at::empty({B, K * cg, H, W}, xd.options());
      for (int64_t i = K - 1; i >= 0; --i) {
        const auto& w = saved[1 + i];
        const auto padding = samePadding(w, dilation);
        const Slice xi = shared ? Slice(xd) : Slice(xd, i * cg, cg);
        const Geometry g(B, xi.n, H, W, w, padding, dilation, tiling);
        const Slice gx = !needX ? Slice() : shared ? Slice(at::empty({B, cg, H, W}, xd.options())) : Slice(out[0], i * cg, cg);
        if (ctx->needs_input_grad(1 + i)) out[1 + i] = at::empty({cg, 1, g.kh, g.kw}, xd.options());
        ownBackward(Slice(gyd, i * cg, cg), xi, w, g, layouts[i], padding, dilation, needX ? &gx : nullptr, out[1 + i].defined() ? &out[1 + i] : nullptr);
        gxs[i] = gx.t;
      }
    } else {
      const auto x = repeated(saved[0], tiling);  // off the own path: the tiled input itself
      for (int64_t i = K - 1; i >= 0; --i) {
        const auto& w = saved[1 + i];
        const auto gy = grads[0].narrow(1, i * cg, cg).contiguous();
        std::tie(gxs[i], out[1 + i]) = libtorchBackward(gy, part(x, i, cg).contiguous(), w, samePadding(w, dilation), dilation, needX,
                                                        ctx->needs_input_grad(1 + i));
      }
      if (needX && !shared) out[0] = at::cat(gxs, 1);
    }
    if (needX && shared) {
      out[0] = gxs[K - 1];
      for (int64_t i = K - 2; i >= 0; --i) out[0] = out[0] + gxs[i];
    }
    if (needX && tiling.repeats > 1) {
      // The expand's backward: sum_to, i.e. sum over the repeats with keepdim, then x's shape.
      const auto& x0 = saved[0];
      const int64_t B = x0.size(0), G = x0.size(1) / tiling.block, H = x0.size(2), W = x0.size(3);
      out[0] = out[0].reshape({B, G, tiling.repeats, tiling.block, H, W}).sum({2}, true).reshape(x0.sizes());
    }
    return out;
  }
};

at::Tensor mixedDepthwiseConv2d(const at::Tensor& x, at::TensorList weights, at::IntArrayRef dilation, int64_t repeats, int64_t block) {
  TORCH_CHECK(!weights.empty(), "mixed_depthwise_conv2d: expected at least one weight");
  const int64_t cg = weights[0].size(0), K = weights.size();
  TORCH_CHECK(repeats >= 1 && block >= 1, "mixed_depthwise_conv2d: repeats and block must be at least 1, got ", repeats, " and ", block);
  TORCH_CHECK(x.dim() == 4, "mixed_depthwise_conv2d: expected an input (B, C, H, W), got ", x.sizes());
  if (repeats > 1) {
    TORCH_CHECK(x.size(1) % block == 0, "mixed_depthwise_conv2d: tiling block ", block, " does not divide the input's ", x.size(1), " channels");
    // repeats <= cg first: the product below cannot overflow then.
    TORCH_CHECK(repeats <= cg && x.size(1) * repeats == cg, "mixed_depthwise_conv2d: an input of ", x.size(1), " channels repeated ",
                repeats, " times does not give the weights' ", cg, " channels");
  }
  TORCH_CHECK(x.size(1) * repeats == cg || (repeats == 1 && x.size(1) == K * cg), "mixed_depthwise_conv2d: ", K, " weight(s) of ", cg,
              " channels need an input of ", cg, " or ", K * cg, " channels, got ", x.sizes());
  for (const auto& w : weights) {
    TORCH_CHECK(w.dim() == 4 && w.size(0) == cg && w.size(2) % 2 == 1 && w.size(3) % 2 == 1, "mixed_depthwise_conv2d: expected weights (",
                cg, ", 1, kH, kW) with odd kH and kW, got ", w.sizes());
    checkArguments(x, w, dilation, cg);
  }
  return MixedDepthwiseConv2d::apply(x, weights, dilation, repeats, block);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(adl, m) {
  // repeats, block: the input tiled (each block of channels repeated in place), 1 and any block for none.
  m.def("mixed_depthwise_conv2d(Tensor input, Tensor[] weights, int[] dilation, int repeats, int block) -> Tensor", mixedDepthwiseConv2d);
}

}  // namespace adl
