// adl::batch_norm_train: batch normalisation in training mode (batch
// statistics, running statistics updated in place) computed here on the CPU,
// forward and the gradients of input, weight and bias. On the supernet's maps
// (1x1 to 16x16, hundreds of channels) libtorch 1.13 spends 10-60 microseconds
// a call in set-up and threading for a few thousand elements, about twice
// that with the backward (docs/performance.md#the-batch-norm-kernel). Off the
// CPU, for other dtypes or one value per channel, libtorch's batch_norm runs.
// Tested against libtorch's batch_norm, values, running statistics and
// gradients (test/engine/batch_norm.test.ts). Not twice differentiable.
//
// Per channel c over its N = B * H * W values (sums in double):
//   mean = sum x / N, var = sum (x - mean)^2 / N (two passes, as libtorch),
//   y = (x - mean) * invstd * w + b, invstd = 1 / sqrt(var + eps);
//   running_mean += momentum * (mean - running_mean), likewise running_var with var * N / (N - 1).
// Backward, with xhat = (x - mean) * invstd and a = w * invstd:
//   gb = sum gy, gw = sum gy * xhat, gx = a * (gy - gb / N - xhat * gw / N).
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <cmath>
#include <vector>

#include "cpu_kernels.h"

namespace adl {
namespace {

// A contiguous (B, C, P) view of x's values: channel c of image b is the plane at (b * C + c) * P.
struct Planes {
  int64_t B, C, P;
  explicit Planes(const at::Tensor& x) : B(x.size(0)), C(x.size(1)), P(x.numel() / std::max<int64_t>(1, x.size(0) * x.size(1))) {}
  int64_t n() const { return B * P; }
  // Channels a task takes: about 16k values, so that small maps run on one thread.
  int64_t grain() const { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n())); }
};

// What the per-channel loops read and write; channel c of image b is the plane at (b * C + c) * P.
template <typename T>
struct Args {
  Planes g;
  const T *x, *gy, *w, *bias;
  T* out;  // y, or gx (null when not needed)
  double *mean, *invstd, *var, *sumG, *sumGD;
  double eps;
};

// Per channel: mean and 1 / sqrt(var + eps), the batch variance, y = x * a + shift.
template <typename T>
ADL_INLINE void normaliseImpl(const Args<T>& a, int64_t c0, int64_t c1) {
  const int64_t B = a.g.B, C = a.g.C, P = a.g.P;
  const double n = double(a.g.n());
  const T* __restrict x = a.x;
  T* __restrict y = a.out;
  for (int64_t c = c0; c < c1; ++c) {
    double s = 0;
    for (int64_t b = 0; b < B; ++b) s += sumOfImpl(x + (b * C + c) * P, P);
    const double m = s / n;
    double q = 0;
    for (int64_t b = 0; b < B; ++b) q += squaredDeviationsImpl(x + (b * C + c) * P, m, P);
    const double v = q / n, is = 1 / std::sqrt(v + a.eps);
    a.mean[c] = m, a.invstd[c] = is, a.var[c] = v;
    const double k = a.w ? is * double(a.w[c]) : is;
    const T scale = T(k), shift = T((a.bias ? double(a.bias[c]) : 0) - m * k);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t at = (b * C + c) * P;
      for (int64_t p = 0; p < P; ++p) y[at + p] = x[at + p] * scale + shift;
    }
  }
}

// Per channel: sum gy and sum gy * (x - mean), and gx = k * gy + k1 * (x - mean) + k0 with k = w * invstd.
template <typename T>
ADL_INLINE void gradientsImpl(const Args<T>& a, int64_t c0, int64_t c1) {
  const int64_t B = a.g.B, C = a.g.C, P = a.g.P;
  const double n = double(a.g.n());
  const T* __restrict x = a.x;
  const T* __restrict gy = a.gy;
  T* __restrict gx = a.out;
  for (int64_t c = c0; c < c1; ++c) {
    const double m = a.mean[c], is = a.invstd[c];
    double sg = 0, gd = 0;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t at = (b * C + c) * P;
      sg += sumOfImpl(gy + at, P);
      gd += dotDeviationsImpl(gy + at, x + at, m, P);
    }
    a.sumG[c] = sg, a.sumGD[c] = gd;
    if (!gx) continue;
    const double k = a.w ? is * double(a.w[c]) : is;
    const T tk = T(k), k1 = T(-k * is * is * gd / n), k0 = T(-k * sg / n), tm = T(m);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t at = (b * C + c) * P;
      for (int64_t p = 0; p < P; ++p) gx[at + p] = tk * gy[at + p] + k1 * (x[at + p] - tm) + k0;
    }
  }
}

// The channel loops compiled once per target (AVX2 and default on x86-64), the vector loops inlined into each.
ADL_CLONES void normaliseChannels(const Args<float>& a, int64_t c0, int64_t c1) { normaliseImpl(a, c0, c1); }
void normaliseChannels(const Args<double>& a, int64_t c0, int64_t c1) { normaliseImpl(a, c0, c1); }
ADL_CLONES void gradientChannels(const Args<float>& a, int64_t c0, int64_t c1) { gradientsImpl(a, c0, c1); }
void gradientChannels(const Args<double>& a, int64_t c0, int64_t c1) { gradientsImpl(a, c0, c1); }

// running = (1 - momentum) * running + momentum * batch (scale: N / (N - 1) for the variance), in the running tensor's dtype.
template <typename R>
void blend(R* r, const double* batch, double scale, double momentum, int64_t C) {
  for (int64_t c = 0; c < C; ++c) r[c] = R((1 - momentum) * double(r[c]) + momentum * (batch[c] * scale));
}

void updateRunning(const c10::optional<at::Tensor>& maybeRunning, const double* batch, double scale, double momentum, int64_t C) {
  if (!maybeRunning.has_value() || !maybeRunning->defined() || momentum == 0) return;  // momentum 0 (a recomputed pass) leaves them as they are
  const at::Tensor& r = *maybeRunning;
  if (r.is_cpu() && r.is_contiguous() && r.scalar_type() == at::kFloat) return blend(r.data_ptr<float>(), batch, scale, momentum, C);
  if (r.is_cpu() && r.is_contiguous() && r.scalar_type() == at::kDouble) return blend(r.data_ptr<double>(), batch, scale, momentum, C);
  at::NoGradGuard guard;
  const auto b = at::from_blob(const_cast<double*>(batch), {C}, at::TensorOptions().dtype(at::kDouble)).mul(scale);
  r.mul_(1 - momentum).add_(b.to(r.scalar_type()), momentum);
}

template <typename T>
const T* maybe(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Forward over all channels, in tasks of about 16k values (small maps on one thread). mean: (2, C), mean then invstd.
template <typename T>
void runChannels(const at::Tensor& x, at::Tensor& y, const at::Tensor& w, const at::Tensor& b, double* mean, double* var, double eps) {
  const Planes g(x);
  const Args<T> a{g, x.data_ptr<T>(), nullptr, maybe<T>(w), maybe<T>(b), y.data_ptr<T>(), mean, mean + g.C, var, nullptr, nullptr, eps};
  at::parallel_for(0, g.C, g.grain(), [&](int64_t c0, int64_t c1) { normaliseChannels(a, c0, c1); });
}

template <typename T>
void runGradients(const at::Tensor& x, const at::Tensor& gy, const at::Tensor& w, at::Tensor& gx, const double* mean, double* sumG, double* sumGD) {
  const Planes g(x);
  const Args<T> a{g, x.data_ptr<T>(), gy.data_ptr<T>(), maybe<T>(w), nullptr, gx.defined() ? gx.data_ptr<T>() : nullptr,
                  const_cast<double*>(mean), const_cast<double*>(mean + g.C), nullptr, sumG, sumGD, 0};
  at::parallel_for(0, g.C, g.grain(), [&](int64_t c0, int64_t c1) { gradientChannels(a, c0, c1); });
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct BatchNormTrain : public torch::autograd::Function<BatchNormTrain> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const c10::optional<at::Tensor>& weight,
                            const c10::optional<at::Tensor>& bias, const c10::optional<at::Tensor>& runningMean,
                            const c10::optional<at::Tensor>& runningVar, double momentum, double eps) {
    const auto xc = x.contiguous();
    const auto w = weight.has_value() && weight->defined() ? weight->contiguous() : at::Tensor();
    const auto b = bias.has_value() && bias->defined() ? bias->contiguous() : at::Tensor();
    const int64_t C = x.size(1);
    auto stats = at::empty({2, C}, x.options().dtype(at::kDouble));  // mean, invstd
    std::vector<double> var(C);
    auto y = at::empty_like(xc);
    double* mean = stats.data_ptr<double>();
    if (x.scalar_type() == at::kFloat) runChannels<float>(xc, y, w, b, mean, var.data(), eps);
    else runChannels<double>(xc, y, w, b, mean, var.data(), eps);
    const double n = double(Planes(xc).n());
    updateRunning(runningMean, stats.data_ptr<double>(), 1, momentum, C);
    updateRunning(runningVar, var.data(), n / (n - 1), momentum, C);
    ctx->save_for_backward({xc, w, stats});
    ctx->saved_data["bias"] = b.defined();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1];
    const int64_t C = x.size(1);
    const double* mean = saved[2].data_ptr<double>();
    const double* invstd = mean + C;
    // needs_input_grad counts only the defined tensor arguments: x, then weight and bias where given.
    const bool hasW = w.defined(), hasB = ctx->saved_data["bias"].toBool();
    const bool needX = ctx->needs_input_grad(0), needW = hasW && ctx->needs_input_grad(1), needB = hasB && ctx->needs_input_grad(hasW ? 2 : 1);
    // Named with its shape for the profiler (bench/op_families.ts); free when none listens.
    RECORD_FUNCTION("adl::batch_norm_backward", std::vector<c10::IValue>({grads[0], x}));
    const auto gy = grads[0].contiguous();
    at::Tensor gx = needX ? at::empty_like(x) : at::Tensor();
    std::vector<double> sumG(C), sumGD(C);
    const bool f32 = x.scalar_type() == at::kFloat;
    if (f32) runGradients<float>(x, gy, w, gx, mean, sumG.data(), sumGD.data());
    else runGradients<double>(x, gy, w, gx, mean, sumG.data(), sumGD.data());
    at::Tensor gw = needW ? at::empty({C}, x.options()) : at::Tensor(), gb = needB ? at::empty({C}, x.options()) : at::Tensor();
    for (int64_t c = 0; c < C; ++c) {
      const double dw = sumGD[c] * invstd[c];  // sum gy * xhat
      if (needW && f32) gw.data_ptr<float>()[c] = float(dw);
      if (needW && !f32) gw.data_ptr<double>()[c] = dw;
      if (needB && f32) gb.data_ptr<float>()[c] = float(sumG[c]);
      if (needB && !f32) gb.data_ptr<double>()[c] = sumG[c];
    }
    return {gx, gw, gb, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor batchNormTrain(const at::Tensor& x, const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias,
                          const c10::optional<at::Tensor>& runningMean, const c10::optional<at::Tensor>& runningVar,
                          double momentum, double eps) {
  TORCH_CHECK(x.dim() >= 2, "batch_norm_train: expected x (B, C, ...), got ", x.sizes());
  const bool own = ownKernels(x) && Planes(x).n() > 1 && (!weight.has_value() || !weight->defined() || weight->scalar_type() == x.scalar_type()) &&
                   (!bias.has_value() || !bias->defined() || bias->scalar_type() == x.scalar_type());
  if (!own) return at::batch_norm(x, weight, bias, runningMean, runningVar, true, momentum, eps, true);
  return BatchNormTrain::apply(x, weight, bias, runningMean, runningVar, momentum, eps);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(adl, m) {
  m.def("batch_norm_train(Tensor input, Tensor? weight, Tensor? bias, Tensor(a!)? running_mean, Tensor(b!)? running_var, float momentum, float eps) -> Tensor",
        batchNormTrain);
}

}  // namespace adl
