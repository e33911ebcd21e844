// adl::depthwise_conv2d: a depthwise convolution (stride 1) whose weight
// gradient is computed here. libtorch 1.13's CPU kernels compute the weight
// gradient of 5x5 depthwise convolutions 10-40x slower than of 3x3 ones
// (docs/performance.md), and no composition of its ops came close (3x3 blocks,
// unfold, grouped convolutions: measured there). Forward and input gradient
// stay libtorch's own (at::conv2d, at::convolution_backward). Tested against
// libtorch's op, values and gradients (test/engine/depthwise.test.ts).
// Not twice differentiable.
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

namespace adl {
namespace {

// sum_n a[n] * b[n] in 8 independent lanes (vectorised without reassociating a
// lane; target_clones adds an AVX2 copy chosen at load time on x86-64).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
float dot(const float* a, const float* b, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[i + k];
  float s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

double dot(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// gw[c, i, j] = sum_{b, oh, ow} g[b, c, oh, ow] * x[b, c, oh + i*dh - ph, ow + j*dw - pw]  (Ho x Wo outputs).
// With x zero-padded to (Hp, Wp) and g's rows widened to Wp with zeros, each tap
// is one contiguous dot product over the flattened map (rows of a small map are
// too short to fill vector lanes one by one):
//   gw[c, i, j] = sum_b sum_q gpad[b, c, q] * xpad[b, c, q + i*dh*Wp + j*dw],
// q < (Ho - 1) * Wp + Wo, whose last read is xpad's last element.
template <typename T>
at::Tensor weightGrad(const at::Tensor& x, const at::Tensor& g, int64_t kh, int64_t kw,
                      at::IntArrayRef padding, at::IntArrayRef dilation) {
  const int64_t B = x.size(0), C = x.size(1);
  const int64_t Ho = g.size(2), Wo = g.size(3);
  const int64_t dh = dilation[0], dw = dilation[1];
  const auto xpad = at::constant_pad_nd(x, {padding[1], padding[1], padding[0], padding[0]}).contiguous();
  const int64_t Hp = xpad.size(2), Wp = xpad.size(3);
  TORCH_CHECK(Hp - (kh - 1) * dh == Ho && Wp - (kw - 1) * dw == Wo, "depthwise_conv2d: gradient of shape ", g.sizes(),
              " does not match a stride-1 output of ", x.sizes());
  const auto gpad = at::constant_pad_nd(g, {0, Wp - Wo}).contiguous();
  const int64_t n = (Ho - 1) * Wp + Wo;
  auto gw = at::empty({C, 1, kh, kw}, x.options());
  const T* xp = xpad.data_ptr<T>();
  const T* gp = gpad.data_ptr<T>();
  T* out = gw.data_ptr<T>();
  at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      for (int64_t i = 0; i < kh; ++i) {
        for (int64_t j = 0; j < kw; ++j) {
          const int64_t offset = i * dh * Wp + j * dw;
          T acc = 0;
          for (int64_t b = 0; b < B; ++b) acc += dot(gp + (b * C + c) * Ho * Wp, xp + (b * C + c) * Hp * Wp + offset, n);
          out[(c * kh + i) * kw + j] = acc;
        }
      }
    }
  });
  return gw;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct DepthwiseConv2d : public torch::autograd::Function<DepthwiseConv2d> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            at::IntArrayRef padding, at::IntArrayRef dilation) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["padding"] = padding.vec();
    ctx->saved_data["dilation"] = dilation.vec();
    return at::conv2d(x, w, {}, 1, padding, dilation, w.size(0));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w = saved[1];
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const auto dilation = ctx->saved_data["dilation"].toIntVector();
    const auto g = grads[0].contiguous();
    const bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
    const std::vector<int64_t> stride{1, 1}, outputPadding{0, 0};
    const bool own = needW && x.device().is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble);
    // libtorch's backward for what it does fast (the input gradient), and for the weight off the CPU.
    at::Tensor gx, gw;
    if (needX || (needW && !own)) {
      auto r = at::convolution_backward(g, x, w, c10::nullopt, stride, padding, dilation, false, outputPadding,
                                        w.size(0), {needX, needW && !own, false});
      gx = std::get<0>(r);
      if (!own) gw = std::get<1>(r);
    }
    if (own) {
      const auto xc = x.contiguous();
      gw = x.scalar_type() == at::kFloat ? weightGrad<float>(xc, g, w.size(2), w.size(3), padding, dilation)
                                         : weightGrad<double>(xc, g, w.size(2), w.size(3), padding, dilation);
    }
    return {gx, gw, at::Tensor(), at::Tensor()};
  }
};

at::Tensor depthwiseConv2d(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation) {
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && w.size(1) == 1 && w.size(0) == x.size(1),
              "depthwise_conv2d: expected x (B, C, H, W) and weight (C, 1, kH, kW), got ", x.sizes(), " and ", w.sizes());
  TORCH_CHECK(padding.size() == 2 && dilation.size() == 2, "depthwise_conv2d: padding and dilation take two values each");
  return DepthwiseConv2d::apply(x, w, padding, dilation);
}

}  // namespace

TORCH_LIBRARY(adl, m) {
  m.def("depthwise_conv2d(Tensor input, Tensor weight, int[] padding, int[] dilation) -> Tensor", depthwiseConv2d);
}

}  // namespace adl
