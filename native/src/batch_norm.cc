// adl::batch_norm_train: batch norm in training mode (batch statistics; the running statistics updated in place), the
// same values, running statistics and gradients as libtorch's native_batch_norm bit for bit
// (test/engine/batch_norm.test.ts). libtorch 1.13 sums each channel's mean and variance in one serial chain of
// double additions (batch_norm_cpu_collect_stats_contiguous_impl), so a channel of n values costs about 2n times an
// addition's latency: most of a (4, 240, 16, 16) forward's 0.4 ms, where an elementwise op takes 0.03 ms
// (docs/performance.md#the-batch-norm-statistics). Here 4 channels' chains run side by side in the lanes of one
// vector, each lane adding its own channel's terms in libtorch's order (batch, then position): the same sums.
// The rest is libtorch's own code: the normalisation is its kernel (batch_norm_cpu_stub), the running-statistics
// update below is Normalization.cpp's, type for type, and the backward is native_batch_norm_backward, as
// NativeBatchNormBackward0 calls it. Own sums only for float32 NCHW-contiguous maps of more than one pixel on
// libtorch 1.x, whose formulas these are: libtorch's own kernels compute the statistics of 1x1 maps (a
// thread-dependent channels-last reduction) and of float64 (whose double multiply-add its AVX2 build may fuse);
// everything else (other layouts, other versions) is native_batch_norm itself.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>
#include <cmath>

#include "compat.h"
#include "cpu_kernels.h"

#if !ADL_TORCH_AT_LEAST(2, 0) && defined(__x86_64__)
// libtorch 1.x's x86-64 builds compile its CPU kernels for AVX2 and AVX-512 as well, and DispatchStub's exported
// lookup takes those kernels' pointers: declare it as built (else the addon would not load).
#define HAVE_AVX2_CPU_DEFINITION
#define HAVE_AVX512_CPU_DEFINITION
#include <ATen/native/batch_norm.h>
#define ADL_OWN_BN_STATS 1
#endif

namespace adl {
namespace {

#ifdef ADL_OWN_BN_STATS
typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
typedef int v4i __attribute__((vector_size(16)));

ADL_INLINE v4f load4(const float* p) {
  v4f r;
  __builtin_memcpy(&r, p, sizeof r);
  return r;
}

// Rows a, b, c, d (4 channels' values at 4 positions) into columns (the 4 channels at one position each).
ADL_INLINE void transpose4(v4f& a, v4f& b, v4f& c, v4f& d) {
  const v4f t0 = __builtin_shuffle(a, b, v4i{0, 4, 1, 5}), t1 = __builtin_shuffle(c, d, v4i{0, 4, 1, 5});
  const v4f t2 = __builtin_shuffle(a, b, v4i{2, 6, 3, 7}), t3 = __builtin_shuffle(c, d, v4i{2, 6, 3, 7});
  a = __builtin_shuffle(t0, t1, v4i{0, 1, 4, 5});
  b = __builtin_shuffle(t0, t1, v4i{2, 3, 6, 7});
  c = __builtin_shuffle(t2, t3, v4i{0, 1, 4, 5});
  d = __builtin_shuffle(t2, t3, v4i{2, 3, 6, 7});
}

// acc += f(column) for the columns of 4 rows S apart (4 channels) at positions [0, S), in position order: lane l
// adds channel l's terms one by one, as libtorch's loop does.
template <typename F>
ADL_INLINE void addColumns(v4d& acc, const float* q, int64_t S, F f) {
  int64_t i = 0;
  for (; i + 4 <= S; i += 4) {
    v4f a = load4(q + i), b = load4(q + S + i), c = load4(q + 2 * S + i), d = load4(q + 3 * S + i);
    transpose4(a, b, c, d);
    acc += f(a);
    acc += f(b);
    acc += f(c);
    acc += f(d);
  }
  for (; i < S; ++i) acc += f(v4f{q[i], q[S + i], q[2 * S + i], q[3 * S + i]});
}

// Channels [c, c + 4) of x (B, C, S), one channel a lane, each lane the scalar loop of
// batch_norm_cpu_collect_stats_contiguous_impl: mean = float(sum / N) with the sum in double (batch, then
// position), then the variance sum of the float squares (x - mean)^2 in double, stored as float.
ADL_CLONES void stats4(const float* x, int64_t B, int64_t C, int64_t S, int64_t c, float* mean, float* varSum) {
  v4d s = {};
  for (int64_t n = 0; n < B; ++n) addColumns(s, x + (n * C + c) * S, S, [](v4f v) { return __builtin_convertvector(v, v4d); });
  const v4f m = __builtin_convertvector(s / static_cast<double>(B * S), v4f);
  v4d v = {};
  for (int64_t n = 0; n < B; ++n)
    addColumns(v, x + (n * C + c) * S, S, [m](v4f col) {
      const v4f d = col - m;
      return __builtin_convertvector(d * d, v4d);  // a float product, added in double
    });
  for (int l = 0; l < 4; ++l) mean[c + l] = m[l], varSum[c + l] = static_cast<float>(v[l]);
}

// One channel, the same loop.
void stats1(const float* x, int64_t B, int64_t C, int64_t S, int64_t c, float* mean, float* varSum) {
  double s = 0;
  for (int64_t n = 0; n < B; ++n)
    for (int64_t i = 0; i < S; ++i) s += x[(n * C + c) * S + i];
  const float m = static_cast<float>(s / (B * S));
  double v = 0;
  for (int64_t n = 0; n < B; ++n)
    for (int64_t i = 0; i < S; ++i) {
      const float d = x[(n * C + c) * S + i] - m;
      v += d * d;
    }
  mean[c] = m;
  varSum[c] = static_cast<float>(v);
}

bool ownStats(const at::Tensor& x) { return x.scalar_type() == at::kFloat && x.numel() / (x.size(0) * x.size(1)) > 1; }

// mean and varSum (C) of x (B, C, ...), as libtorch's batch_norm_cpu_collect_stats_stub computes them.
void collectStats(const at::Tensor& x, at::Tensor& mean, at::Tensor& varSum) {
  if (!ownStats(x)) {
    at::native::batch_norm_cpu_collect_stats_stub(at::kCPU, mean, varSum, x);
    return;
  }
  const int64_t B = x.size(0), C = x.size(1), S = x.numel() / (B * C);
  const float* xp = x.data_ptr<float>();
  float* mp = mean.data_ptr<float>();
  float* vp = varSum.data_ptr<float>();
  at::parallel_for(0, (C + 3) / 4, std::max<int64_t>(1, 32768 / (4 * B * S)), [&](int64_t b0, int64_t b1) {
    for (int64_t c = 4 * b0; c < std::min(4 * b1, C); c += 4) {
      if (c + 4 <= C) stats4(xp, B, C, S, c, mp, vp);
      else
        for (int64_t r = c; r < C; ++r) stats1(xp, B, C, S, r, mp, vp);
    }
  });
}

// Normalization.cpp's batch_norm_cpu_update_stats_template (contiguous input), with its types: T the parameters'
// type, double the accumulation type; n values per channel.
template <typename T>
void updateStats(const at::Tensor& mean, const at::Tensor& varSum, at::Tensor& saveMean, at::Tensor& saveInvstd,
                 at::Tensor& runningMean, at::Tensor& runningVar, int64_t n, double momentum, double eps) {
  const T* m = mean.data_ptr<T>();
  const T* vs = varSum.data_ptr<T>();
  T* sm = saveMean.data_ptr<T>();
  T* si = saveInvstd.data_ptr<T>();
  T* rm = runningMean.data_ptr<T>();
  T* rv = runningVar.data_ptr<T>();
  const T momentum_ = static_cast<T>(momentum);
  for (int64_t f = 0; f < mean.numel(); ++f) {
    sm[f] = m[f];
    const double var = vs[f] / n;  // InvStd<double>: a T quotient, widened
    si[f] = static_cast<T>(var != 0 || eps != 0 ? 1 / std::sqrt(var + eps) : 0);
    rm[f] = momentum_ * m[f] + (1 - momentum_) * rm[f];
    const double unbiased = vs[f] / (n - 1);
    rv[f] = momentum_ * unbiased + (1 - momentum_) * rv[f];
  }
}

// Whether the own path computes exactly what native_batch_norm would: CPU float or double, x NCHW-contiguous, and
// weight, bias and running statistics 1-D, contiguous and of x's dtype (the tensors its fast path takes). Lengths and
// empty inputs are batchNormTrain's checks.
bool ownPath(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& rm, const at::Tensor& rv) {
  const auto same = [&](const at::Tensor& t) {
    return t.defined() && t.device().is_cpu() && t.scalar_type() == x.scalar_type() && t.is_contiguous() && t.dim() == 1;
  };
  return ownKernels(x) && x.is_contiguous() && (!weight.defined() || same(weight)) && (!bias.defined() || same(bias)) && same(rm) && same(rv);
}
#endif

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The running statistics, handed to the Function as one non-tensor argument: they take no gradient, and tensor
// arguments would each cost the node an edge and a record.
struct RunningStats {
  at::Tensor mean, var;
};

struct BatchNormTrain : public torch::autograd::Function<BatchNormTrain> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const c10::optional<at::Tensor>& weightOpt,
                            const c10::optional<at::Tensor>& biasOpt, RunningStats running, double momentum, double eps) {
    const at::Tensor weight = weightOpt.value_or(at::Tensor()), bias = biasOpt.value_or(at::Tensor());
    at::Tensor& runningMean = running.mean;
    at::Tensor& runningVar = running.var;
    at::Tensor y, saveMean, saveInvstd;
#ifdef ADL_OWN_BN_STATS
    if (ownPath(x, weight, bias, runningMean, runningVar)) {
      const int64_t C = x.size(1);
      auto mean = at::empty({C}, x.options()), varSum = at::empty({C}, x.options());
      saveMean = at::empty({C}, x.options());
      saveInvstd = at::empty({C}, x.options());
      collectStats(x, mean, varSum);
      if (x.scalar_type() == at::kFloat) updateStats<float>(mean, varSum, saveMean, saveInvstd, runningMean, runningVar, x.numel() / C, momentum, eps);
      else updateStats<double>(mean, varSum, saveMean, saveInvstd, runningMean, runningVar, x.numel() / C, momentum, eps);
      y = at::empty_like(x, at::MemoryFormat::Contiguous);
      at::native::batch_norm_cpu_stub(at::kCPU, y, x, weight, bias, saveMean, saveInvstd, runningMean, runningVar, true, eps);
    } else
#endif
    {
      std::tie(y, saveMean, saveInvstd) = at::native_batch_norm(x, weight, bias, runningMean, runningVar, true, momentum, eps);
    }
    ctx->save_for_backward({x, weight, saveMean, saveInvstd});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["weight"] = weight.defined();
    ctx->saved_data["bias"] = bias.defined();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    variable_list out(6);
    if (!grads[0].defined()) return out;
    // needs_input_grad counts the tensors given (the edges), an absent weight or bias not among them.
    const bool hasWeight = ctx->saved_data["weight"].toBool(), hasBias = ctx->saved_data["bias"].toBool();
    const std::array<bool, 3> mask = {ctx->needs_input_grad(0), hasWeight && ctx->needs_input_grad(1),
                                      hasBias && ctx->needs_input_grad(hasWeight ? 2 : 1)};
    std::tie(out[0], out[1], out[2]) = at::native_batch_norm_backward(grads[0], saved[0], saved[1], at::Tensor(), at::Tensor(), saved[2],
                                                                      saved[3], true, ctx->saved_data["eps"].toDouble(), mask);
    return out;
  }
};

at::Tensor batchNormTrain(const at::Tensor& x, const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias,
                          const at::Tensor& runningMean, const at::Tensor& runningVar, double momentum, double eps) {
  TORCH_CHECK(x.dim() >= 2, "batch_norm_train: the input must be (B, C, ...), got ", x.sizes());
  TORCH_CHECK(runningMean.defined() && runningVar.defined(), "batch_norm_train: running statistics are required");
  // aten::batch_norm checks these before native_batch_norm, which does not (it would read and write out of bounds).
  const auto perChannel = [&](const at::Tensor& t, const char* name) {
    TORCH_CHECK(!t.defined() || t.numel() == x.size(1), "batch_norm_train: ", name, " must have ", x.size(1), " elements, got ", t.numel());
  };
  perChannel(weight.value_or(at::Tensor()), "weight");
  perChannel(bias.value_or(at::Tensor()), "bias");
  perChannel(runningMean, "running_mean");
  perChannel(runningVar, "running_var");
  if (x.numel() == 0) return at::batch_norm(x, weight, bias, runningMean, runningVar, true, momentum, eps, false);  // its empty-input rule
  return BatchNormTrain::apply(x, weight, bias, RunningStats{runningMean, runningVar}, momentum, eps);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(adl, m) {
  m.def("batch_norm_train(Tensor input, Tensor? weight, Tensor? bias, Tensor running_mean, Tensor running_var, float momentum, "
        "float eps) -> Tensor",
        batchNormTrain);
}

}  // namespace adl
