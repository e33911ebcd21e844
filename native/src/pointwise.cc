// adl::pointwise_conv2d: a 1x1 convolution (stride 1, no padding, no bias,
// groups) computed here on the CPU, forward and both gradients. On the
// supernet's maps (1x1 to 16x16) libtorch 1.13 spends tens of microseconds a
// call setting up oneDNN for a few thousand multiply-adds
// (docs/performance.md#the-pointwise-kernel). Off the CPU, or for other
// dtypes, libtorch's own ops run. Tested against libtorch's conv2d, values and
// gradients (test/engine/pointwise.test.ts). Not twice differentiable.
//
// Per image b and group g the convolution is a matrix product over the map's
// P = H * W positions: Y (N, P) = W (N, K) X (K, P). With rows of at least 8
// positions each output row gathers the K input rows as taps (8 positions in
// registers); shorter rows use X transposed, one dot product over K per output.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "cpu_kernels.h"

namespace adl {
namespace {

constexpr int64_t kShortRow = 8;

// (B*G, K, P) -> (B*G, P, K), contiguous: for rows shorter than kShortRow.
at::Tensor transposed(const at::Tensor& x, int64_t groups) {
  return x.reshape({x.size(0) * groups, x.size(1) / groups, -1}).transpose(1, 2).contiguous();
}

// Short rows of float, when the batch makes up a vector: the images' positions side by side, X (G, K, B*P), and
// 8 outputs of a weight row at a time, each dot()'s result bit for bit (dotColumns8; dotStrided for the last
// B*P mod 8), so the same values as the transposed path per output.
void foldedProduct(float* yp, const at::Tensor& x, const at::Tensor& w3) {
  const int64_t B = x.size(0), G = w3.size(0), N = w3.size(1), K = w3.size(2), P = x.size(2) * x.size(3), L = B * P;
  const auto xf = x.view({B, G, K, P}).permute({1, 2, 0, 3}).contiguous();
  const float* xp = xf.data_ptr<float>();
  const float* wp = w3.data_ptr<float>();
  std::vector<int64_t> dest(L);  // column c = (b, p) -> y[b, r, p] at yo + dest[c], yo = y + r * P
  for (int64_t c = 0; c < L; ++c) dest[c] = c / P * G * N * P + c % P;
  at::parallel_for(0, G * N, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, K * L)), [&](int64_t r0, int64_t r1) {
    float out[8];
    for (int64_t r = r0; r < r1; ++r) {
      const float* wo = wp + r * K;
      const float* X = xp + r / N * K * L;
      float* yo = yp + r * P;
      int64_t c = 0;
      for (; c + 8 <= L; c += 8) {
        dotColumns8(out, wo, X + c, L, K);
        for (int j = 0; j < 8; ++j) yo[dest[c + j]] = out[j];
      }
      for (; c < L; ++c) yo[dest[c]] = dotStrided(wo, X + c, L, K);
    }
  });
}

// y (B, G*N, H, W) = per image and group w[g] (N, K) x[b, g] (K, P); x (B, G*K, H, W), w3 (G, N, K), both contiguous.
template <typename T>
at::Tensor groupedProduct(const at::Tensor& x, const at::Tensor& w3) {
  const int64_t B = x.size(0), G = w3.size(0), N = w3.size(1), K = w3.size(2), P = x.size(2) * x.size(3);
  auto y = at::empty({B, G * N, x.size(2), x.size(3)}, x.options());
  const bool shortRows = P < kShortRow;
  if constexpr (std::is_same<T, float>::value) {
    if (shortRows && B * P >= kShortRow) {
      foldedProduct(y.data_ptr<float>(), x, w3);
      return y;
    }
  }
  const auto xt = shortRows ? transposed(x, G) : at::Tensor();
  std::vector<int64_t> rows(K);
  for (int64_t k = 0; k < K; ++k) rows[k] = k * P;
  const T* xp = (shortRows ? xt : x).data_ptr<T>();
  const T* wp = w3.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  // One task per (image, group, output row); at least ~32k multiply-adds a task.
  at::parallel_for(0, B * G * N, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, K * P)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t bg = r / N, g = bg % G, o = r % N;
      const T* wo = wp + (g * N + o) * K;
      const T* xs = xp + bg * K * P;
      T* yo = yp + r * P;
      if (shortRows) {
        for (int64_t p = 0; p < P; ++p) yo[p] = dot(wo, xs + p * K, K);
      } else {
        gatherTaps(yo, xs, wo, rows.data(), K, P);
      }
    }
  });
  return y;
}

// Rows of kShortRow to kColumnsMaxRow positions: the float weight gradient takes x transposed and computes 8 weights of
// an output row at a time (dotColumns8: each its dot product's lanes, tree and tail, bit for bit what dotMany gives),
// where dotMany would reduce its 8 lanes for every weight and image on rows of only 1 to 7 vector blocks.
constexpr int64_t kColumnsMaxRow = 63;

// row[k] += dot(gy row, x[b, g] row k) for k < K, x[b, g] given transposed (P, K): 8 weights a step.
inline void weightRowColumns(float* row, const float* grow, const float* xt, int64_t K, int64_t P) {
  float out[8];
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    dotColumns8(out, grow, xt + k, K, P);
    for (int j = 0; j < 8; ++j) row[k + j] += out[j];
  }
  for (; k < K; ++k) row[k] += dotStrided(grow, xt + k, K, P);
}

// gw (G*N, K, 1, 1) = per group sum_b gy[b, g] (N, P) x[b, g]^T (P, K); gy (B, G*N, H, W), x (B, G*K, H, W).
template <typename T>
at::Tensor groupedWeightGrad(const at::Tensor& x, const at::Tensor& gy, int64_t G) {
  const int64_t B = x.size(0), K = x.size(1) / G, N = gy.size(1) / G, P = x.size(2) * x.size(3);
  auto gw = at::zeros({G * N, K, 1, 1}, x.options());
  const bool shortRows = P < kShortRow;
  const bool columns = std::is_same<T, float>::value && !shortRows && P <= kColumnsMaxRow;
  const auto xt = shortRows || columns ? transposed(x, G) : at::Tensor();
  const T* xp = (shortRows || columns ? xt : x).data_ptr<T>();
  const T* gp = gy.data_ptr<T>();
  T* out = gw.data_ptr<T>();
  std::vector<int64_t> rowOffsets(K);  // x's rows of one image and group, for dotMany
  for (int64_t k = 0; k < K; ++k) rowOffsets[k] = k * P;
  at::parallel_for(0, G * N, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, B * K * P)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t g = r / N;
      T* row = out + r * K;
      for (int64_t b = 0; b < B; ++b) {
        const T* grow = gp + (b * G * N + r) * P;  // gy[b, g*N + o, :]
        const T* xs = xp + (b * G + g) * K * P;
        if (shortRows) {
          for (int64_t p = 0; p < P; ++p) axpy(row, grow[p], xs + p * K, K);
        } else if constexpr (std::is_same<T, float>::value) {
          if (columns) weightRowColumns(row, grow, xs, K, P);
          else dotMany(row, grow, xs, rowOffsets.data(), K, P);
        } else {
          dotMany(row, grow, xs, rowOffsets.data(), K, P);
        }
      }
    }
  });
  return gw;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct PointwiseConv2d : public torch::autograd::Function<PointwiseConv2d> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, int64_t groups) {
    ctx->saved_data["groups"] = groups;
    if (!ownKernels(x)) {
      ctx->save_for_backward({x, w});
      return at::conv2d(x, w, {}, at::IntArrayRef{1, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, groups);
    }
    const auto xc = x.contiguous(), wc = w.contiguous();
    ctx->save_for_backward({xc, wc});
    const auto w3 = wc.view({groups, w.size(0) / groups, w.size(1)});
    return x.scalar_type() == at::kFloat ? groupedProduct<float>(xc, w3) : groupedProduct<double>(xc, w3);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1];
    const int64_t G = ctx->saved_data["groups"].toInt();
    const bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
    if (!ownKernels(x)) {
      auto r = at::convolution_backward(grads[0], x, w, c10::nullopt, {1, 1}, {0, 0}, {1, 1}, false, {0, 0}, G, {needX, needW, false});
      return {std::get<0>(r), std::get<1>(r), at::Tensor()};
    }
    // Named with its shapes for the profiler (bench/op_families.ts counts its FLOPs); free when none listens.
    RECORD_FUNCTION("adl::pointwise_conv2d_backward", std::vector<c10::IValue>({grads[0], x, w, G, needX, needW}));
    const auto gy = grads[0].contiguous();
    const bool f32 = x.scalar_type() == at::kFloat;
    at::Tensor gx, gw;
    if (needX) {
      // The transposed product: gx[b, g] (K, P) = w[g]^T (K, N) gy[b, g] (N, P).
      const auto wt = w.view({G, w.size(0) / G, w.size(1)}).transpose(1, 2).contiguous();
      gx = f32 ? groupedProduct<float>(gy, wt) : groupedProduct<double>(gy, wt);
    }
    if (needW) gw = f32 ? groupedWeightGrad<float>(x, gy, G) : groupedWeightGrad<double>(x, gy, G);
    return {gx, gw, at::Tensor()};
  }
};

at::Tensor pointwiseConv2d(const at::Tensor& x, const at::Tensor& w, int64_t groups) {
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && w.size(2) == 1 && w.size(3) == 1 && groups >= 1 && w.size(0) % groups == 0 &&
                  x.size(1) == w.size(1) * groups,
              "pointwise_conv2d: expected x (B, G*K, H, W) and weight (G*N, K, 1, 1) with G = groups = ", groups, ", got ", x.sizes(),
              " and ", w.sizes());
  TORCH_CHECK(x.scalar_type() == w.scalar_type(), "pointwise_conv2d: input and weight dtypes differ");
  return PointwiseConv2d::apply(x, w, groups);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(adl, m) {
  m.def("pointwise_conv2d(Tensor input, Tensor weight, int groups) -> Tensor", pointwiseConv2d);
}

}  // namespace adl
