// adl::same_pools2d: k x k pooling (k odd) at stride 1 with 'same' padding, on the CPU, forward and gradient, of
// one or more inputs of one shape, concatenated in channels: output channels [s C, (s + 1) C), s = slots[i], are
// pool kinds[i] of inputs[i], kind 0 the average over the window's real pixels (count_include_pad off), 1 the max
// (padding as -inf). libtorch 1.13's pooling kernels cost 15-130 us a call on the supernet's maps (a 16x16 map of 16 channels:
// 118 us forward for 8,192 outputs; docs/performance.md#the-pooling-kernel); no composition of its ops is cheaper.
// The same values and gradients as avg_pool2d and max_pool2d bit for bit (test/engine/pools.test.ts): the same
// taps summed or compared in the same order, the same ties (the first max, or the last NaN), the same divisions
// and the gradients added in libtorch's order. Autograd adds the gradients of an input listed twice in list order:
// src/engine/ops/pool.ts lists one input once per kind, last kind first, as autograd adds those of separate pooling
// nodes made in kinds order (the slots keep the channels in kinds order). CPU float and double only (the caller
// composes libtorch's ops elsewhere).
//
// Each plane is zero- (average) or -inf- (max) padded to (Hp, Wp) and flattened; a thread's planes lie end to end
// every S = Hp * Wp values, so that tap (a, b) is one contiguous run at offset a * Wp + b for all of them at once
// (a map of a few pixels fills few vector blocks), and positions between the real outputs are computed and dropped:
//   sum[q] = sum_t pad[q + off(t)],   max[q], arg[q] = the max of pad[q + off(t)] and the first tap t reaching it.
// The average's gradient is the same tap sum over the output gradients divided by their counts, placed in padded
// planes: the window of outputs that read an input, in increasing output order, is again the taps in row-major order.
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu_kernels.h"
#include "pool_loops.h"

namespace adl {
namespace {

enum Kind : int64_t { kAvg = 0, kMax = 1 };
constexpr int64_t kMaxKernel = 255;  // taps are int32; pools.ts routes larger kernels to libtorch

struct PoolGeometry {
  int64_t planes, H, W, k, p, Wp, S;
  std::vector<int64_t> offsets;  // tap (a, b), row-major: a * Wp + b

  PoolGeometry(at::IntArrayRef shape, int64_t kernel) : planes(shape[0] * shape[1]), H(shape[2]), W(shape[3]), k(kernel), p(kernel / 2) {
    Wp = W + 2 * p;
    S = (H + 2 * p) * Wp;
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) offsets.push_back(a * Wp + b);
  }
  // Planes per task: at least ~32k tap reads.
  int64_t grain() const { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, k * k * S)); }
  // Positions to compute for n planes end to end: the last plane's outputs end at (H - 1) * Wp + W.
  int64_t positions(int64_t n) const { return (n - 1) * S + (H - 1) * Wp + W; }
  // Real pixels in each output's window, (H, W): the average's divisors.
  template <typename T>
  std::vector<T> counts() const {
    std::vector<T> c(H * W);
    for (int64_t oh = 0; oh < H; ++oh)
      for (int64_t ow = 0; ow < W; ++ow)
        c[oh * W + ow] = static_cast<T>((std::min(oh + p + 1, H) - std::max<int64_t>(oh - p, 0)) * (std::min(ow + p + 1, W) - std::max<int64_t>(ow - p, 0)));
    return c;
  }
  // Tap t's pixel relative to output (oh, ow)'s window corner (oh - p, ow - p), as a plane index: a * W + b.
  std::vector<int64_t> tapPixels() const {
    std::vector<int64_t> d;
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) d.push_back(a * W + b);
    return d;
  }
};


// Planes [c0, c1) of x (planes, H, W) into buf, each padded with `fill` and `lead` padding rows and columns.
template <typename T>
void padPlanes(T* buf, const T* x, const PoolGeometry& g, int64_t c0, int64_t c1, T fill) {
  std::fill_n(buf, (c1 - c0) * g.S, fill);
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t h = 0; h < g.H; ++h) std::copy_n(x + (c * g.H + h) * g.W, g.W, buf + (c - c0) * g.S + (g.p + h) * g.Wp + g.p);
}

// Pool `kind` of x (B, C, H, W) into y's channels [i C, (i + 1) C) of K (i: the slot); arg (B, C, H, W): each max's index in its plane.
template <typename T>
void poolForward(const at::Tensor& x, Kind kind, T* y, int64_t i, int64_t K, int32_t* arg, const PoolGeometry& g) {
  const T* xp = x.data_ptr<T>();
  const int64_t C = x.size(1), HW = g.H * g.W;
  const auto counts = g.counts<T>();
  const auto pixels = g.tapPixels();
  at::parallel_for(0, g.planes, g.grain(), [&](int64_t c0, int64_t c1) {
    const int64_t n = g.positions(c1 - c0);
    std::vector<T> buf((c1 - c0) * g.S), out(n);
    std::vector<int32_t> taps(kind == kMax ? n : 0);
    padPlanes(buf.data(), xp, g, c0, c1, kind == kMax ? -std::numeric_limits<T>::infinity() : T(0));
    if (kind == kMax) maxTaps(out.data(), taps.data(), buf.data(), g.offsets.data(), g.k * g.k, n);
    else sumTaps(out.data(), buf.data(), g.offsets.data(), g.k * g.k, n);
    for (int64_t c = c0; c < c1; ++c) {
      T* yc = y + ((c / C * K + i) * C + c % C) * HW;  // plane (b, channel) -> output plane (b, i C + channel)
      for (int64_t oh = 0; oh < g.H; ++oh) {
        const int64_t q = (c - c0) * g.S + oh * g.Wp;
        if (kind == kAvg) {
          divide(yc + oh * g.W, out.data() + q, counts.data() + oh * g.W, g.W);
          continue;
        }
        std::copy_n(out.data() + q, g.W, yc + oh * g.W);
        int32_t* ac = arg + c * HW + oh * g.W;
        for (int64_t ow = 0; ow < g.W; ++ow) {
          const int32_t t = taps[q + ow];  // -1: every real pixel -inf; libtorch keeps the window's first
          ac[ow] = static_cast<int32_t>(t >= 0 ? (oh - g.p) * g.W + (ow - g.p) + pixels[t] : std::max<int64_t>(oh - g.p, 0) * g.W + std::max<int64_t>(ow - g.p, 0));
        }
      }
    }
  });
}

// gx (B, C, H, W) of pool `kind` from gy's channels [i C, (i + 1) C) of K (i: the slot).
template <typename T>
void poolBackward(const at::Tensor& gy, Kind kind, int64_t i, int64_t K, const int32_t* arg, T* gx, const PoolGeometry& g, int64_t C) {
  const T* gp = gy.data_ptr<T>();
  const int64_t HW = g.H * g.W;
  const auto counts = kind == kAvg ? g.counts<T>() : std::vector<T>();
  at::parallel_for(0, g.planes, g.grain(), [&](int64_t c0, int64_t c1) {
    if (kind == kMax) {  // libtorch's scatter, in output order
      std::fill_n(gx + c0 * HW, (c1 - c0) * HW, T(0));
      for (int64_t c = c0; c < c1; ++c) {
        const T* gc = gp + ((c / C * K + i) * C + c % C) * HW;
        for (int64_t o = 0; o < HW; ++o) gx[c * HW + arg[c * HW + o]] += gc[o];
      }
      return;
    }
    // Each output's share, gy / count, in padded planes; then every input sums the outputs whose windows hold it.
    const int64_t n = g.positions(c1 - c0);
    std::vector<T> buf((c1 - c0) * g.S, T(0)), out(n);
    for (int64_t c = c0; c < c1; ++c) {
      const T* gc = gp + ((c / C * K + i) * C + c % C) * HW;
      for (int64_t oh = 0; oh < g.H; ++oh) divide(buf.data() + (c - c0) * g.S + (g.p + oh) * g.Wp + g.p, gc + oh * g.W, counts.data() + oh * g.W, g.W);
    }
    sumTaps(out.data(), buf.data(), g.offsets.data(), g.k * g.k, n);
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t h = 0; h < g.H; ++h) std::copy_n(out.data() + (c - c0) * g.S + h * g.Wp, g.W, gx + (c * g.H + h) * g.W);
  });
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct SamePools2d : public torch::autograd::Function<SamePools2d> {
  static at::Tensor forward(AutogradContext* ctx, at::TensorList inputs, at::IntArrayRef kinds, at::IntArrayRef slots, int64_t kernel) {
    const auto& x0 = inputs[0];
    const int64_t K = inputs.size(), B = x0.size(0), C = x0.size(1), H = x0.size(2), W = x0.size(3);
    const PoolGeometry g(x0.sizes(), kernel);
    auto y = at::empty({B, K * C, H, W}, x0.options());
    std::vector<at::Tensor> args;  // per input: its maxima's indices (undefined for an average)
    for (int64_t i = 0; i < K; ++i) {
      const auto xc = inputs[i].contiguous();
      const auto kind = static_cast<Kind>(kinds[i]);
      args.push_back(kind == kMax ? at::empty({B, C, H, W}, x0.options().dtype(at::kInt)) : at::Tensor());
      int32_t* arg = kind == kMax ? args.back().data_ptr<int32_t>() : nullptr;
      if (x0.scalar_type() == at::kFloat) poolForward<float>(xc, kind, y.data_ptr<float>(), slots[i], K, arg, g);
      else poolForward<double>(xc, kind, y.data_ptr<double>(), slots[i], K, arg, g);
    }
    std::vector<at::Tensor> saved(inputs.begin(), inputs.end());  // for a backward that builds a graph (double backward)
    saved.insert(saved.end(), args.begin(), args.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["kinds"] = kinds.vec();
    ctx->saved_data["slots"] = slots.vec();
    ctx->saved_data["kernel"] = kernel;
    ctx->saved_data["shape"] = x0.sizes().vec();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto kinds = ctx->saved_data["kinds"].toIntVector();
    const auto slots = ctx->saved_data["slots"].toIntVector();
    const auto shape = ctx->saved_data["shape"].toIntVector();
    const int64_t K = kinds.size(), k = ctx->saved_data["kernel"].toInt();
    variable_list out(K + 3);
    if (at::GradMode::is_enabled()) {  // a graph of the gradient (create_graph): libtorch's differentiable backward ops
      for (int64_t i = 0; i < K; ++i) {
        if (!ctx->needs_input_grad(i)) continue;
        const auto gi = grads[0].narrow(1, slots[i] * shape[1], shape[1]);
        out[i] = kinds[i] == kAvg ? at::avg_pool2d_backward(gi, saved[i], {k, k}, {1, 1}, {k / 2, k / 2}, false, false, c10::nullopt)
                                  : at::max_pool2d_with_indices_backward(gi, saved[i], {k, k}, {1, 1}, {k / 2, k / 2}, {1, 1}, false,
                                                                         saved[K + i].to(at::kLong));
      }
      return out;
    }
    const auto gy = grads[0].contiguous();
    const PoolGeometry g(shape, k);
    for (int64_t i = 0; i < K; ++i) {
      if (!ctx->needs_input_grad(i)) continue;
      out[i] = at::empty(shape, gy.options());
      const auto kind = static_cast<Kind>(kinds[i]);
      const int32_t* arg = kind == kMax ? saved[K + i].data_ptr<int32_t>() : nullptr;
      if (gy.scalar_type() == at::kFloat) poolBackward<float>(gy, kind, slots[i], K, arg, out[i].data_ptr<float>(), g, shape[1]);
      else poolBackward<double>(gy, kind, slots[i], K, arg, out[i].data_ptr<double>(), g, shape[1]);
    }
    return out;
  }
};

at::Tensor samePools2d(at::TensorList inputs, at::IntArrayRef kinds, at::IntArrayRef slots, int64_t kernel) {
  TORCH_CHECK(!inputs.empty() && inputs.size() == kinds.size() && inputs.size() == slots.size(), "same_pools2d: expected one kind and one slot per input, got ",
              inputs.size(), " inputs, ", kinds.size(), " kinds and ", slots.size(), " slots");
  std::vector<bool> taken(slots.size(), false);
  for (const int64_t s : slots) {
    TORCH_CHECK(s >= 0 && s < static_cast<int64_t>(slots.size()) && !taken[s], "same_pools2d: slots must list 0 to ", slots.size() - 1, " once each, got ", slots);
    taken[s] = true;
  }
  TORCH_CHECK(kernel >= 1 && kernel % 2 == 1 && kernel <= kMaxKernel, "same_pools2d: the kernel must be odd and at most ", kMaxKernel, ", got ", kernel);
  const auto& x0 = inputs[0];
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& x = inputs[i];
    TORCH_CHECK(x.dim() == 4, "same_pools2d: inputs must be (B, C, H, W), got ", x.sizes());
    TORCH_CHECK(x.sizes() == x0.sizes(), "same_pools2d: inputs must have one shape, got ", x0.sizes(), " and ", x.sizes());
    TORCH_CHECK(ownKernels(x) && x.scalar_type() == x0.scalar_type(), "same_pools2d: CPU float32 or float64 inputs of one dtype only");
    TORCH_CHECK(kinds[i] == kAvg || kinds[i] == kMax, "same_pools2d: kind must be 0 (average) or 1 (max), got ", kinds[i]);
  }
  TORCH_CHECK(x0.size(2) > 0 && x0.size(3) > 0, "same_pools2d: maps must have pixels, got ", x0.sizes());
  TORCH_CHECK(x0.size(2) * x0.size(3) < (int64_t{1} << 31), "same_pools2d: maps of 2^31 pixels or more");
  return SamePools2d::apply(inputs, kinds, slots, kernel);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(adl, m) {
  m.def("same_pools2d(Tensor[] inputs, int[] kinds, int[] slots, int kernel) -> Tensor", samePools2d);
}

}  // namespace adl
