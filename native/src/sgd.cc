// adl::sgd_momentum_step_: torch.optim.SGD's update with momentum (L2 weight
// decay, dampening, Nesterov) in one pass over each parameter: read p, g and
// the momentum buffer, write the buffer and p. Composed of libtorch's
// _foreach ops the same step makes four passes over the supernet's 48M
// parameters (d = g + wd p; buf *= m; buf += (1 - dampening) d; p -= lr buf),
// about 100 ms of a search iteration, bound by memory traffic
// (docs/performance.md#the-optimiser-step). Contiguous float and double CPU
// tensors take the one-pass loop; anything else the same update composed of
// libtorch's ops. The gradients are read, not changed. Tested against the
// composed update (test/engine/sgd_fused.test.ts).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/library.h>

#include "cpu_kernels.h"

namespace adl {
namespace {

// The update of elements [0, n), each on its own: 8 at a time in GCC's vector type for float (the scalar loop is not
// vectorised at -O2: ~18 instructions an element), the same operations in the same order as the scalar tail.
template <typename T, typename S>
ADL_INLINE void stepValues(T& p, T& b, const T& g, S lr, S m, S keep, S decay, bool nesterov) {
  const T d = g + decay * p;
  b = m * b + keep * d;
  p = p - lr * (nesterov ? T(d + m * b) : b);
}

ADL_CLONES void stepRange(float* pp, const float* gp, float* bp, int64_t n, float lr, float m, float keep, float decay, bool nesterov) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v8f p = ADL_AT(pp + i), b = ADL_AT(bp + i);
    stepValues(p, b, ADL_AT(gp + i), lr, m, keep, decay, nesterov);
    *reinterpret_cast<v8fUnaligned*>(pp + i) = p;
    *reinterpret_cast<v8fUnaligned*>(bp + i) = b;
  }
  for (; i < n; ++i) stepValues(pp[i], bp[i], gp[i], lr, m, keep, decay, nesterov);
}

void stepRange(double* pp, const double* gp, double* bp, int64_t n, double lr, double m, double keep, double decay, bool nesterov) {
  for (int64_t i = 0; i < n; ++i) stepValues(pp[i], bp[i], gp[i], lr, m, keep, decay, nesterov);
}

template <typename T>
void stepLoop(at::Tensor& p, const at::Tensor& g, at::Tensor& buf, double lr, double momentum, double dampening, double wd, bool nesterov) {
  T* pp = p.data_ptr<T>();
  const T* gp = g.data_ptr<T>();
  T* bp = buf.data_ptr<T>();
  at::parallel_for(0, p.numel(), 32768, [&](int64_t i0, int64_t i1) {
    stepRange(pp + i0, gp + i0, bp + i0, i1 - i0, T(lr), T(momentum), T(1 - dampening), T(wd), nesterov);
  });
}

bool onePass(const at::Tensor& p, const at::Tensor& g, const at::Tensor& buf) {
  const auto t = p.scalar_type();
  return p.device().is_cpu() && (t == at::kFloat || t == at::kDouble) && g.scalar_type() == t && buf.scalar_type() == t &&
         g.device().is_cpu() && buf.device().is_cpu() && p.is_contiguous() && g.is_contiguous() && buf.is_contiguous() &&
         g.numel() == p.numel() && buf.numel() == p.numel();
}

void sgdMomentumStep(at::TensorList params, at::TensorList grads, at::TensorList bufs, double lr, double momentum, double dampening,
                     double weightDecay, bool nesterov) {
  TORCH_CHECK(params.size() == grads.size() && params.size() == bufs.size(), "sgd_momentum_step_: ", params.size(), " parameters, ",
              grads.size(), " gradients and ", bufs.size(), " momentum buffers");
  at::NoGradGuard noGrad;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i], buf = bufs[i];
    const at::Tensor& g = grads[i];
    TORCH_CHECK(g.sizes() == p.sizes() && buf.sizes() == p.sizes(), "sgd_momentum_step_: parameter ", i, " is ", p.sizes(),
                ", its gradient ", g.sizes(), " and its momentum buffer ", buf.sizes());
    if (onePass(p, g, buf)) {
      if (p.scalar_type() == at::kFloat) stepLoop<float>(p, g, buf, lr, momentum, dampening, weightDecay, nesterov);
      else stepLoop<double>(p, g, buf, lr, momentum, dampening, weightDecay, nesterov);
      torch::autograd::impl::bump_version(p);  // as an in-place op would: a graph that saved p must not use it
      torch::autograd::impl::bump_version(buf);
    } else {
      const auto d = weightDecay != 0 ? g.add(p, weightDecay) : g;
      buf.mul_(momentum).add_(d, 1 - dampening);
      p.add_(nesterov ? d.add(buf, momentum) : buf, -lr);
    }
  }
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(adl, m) {
  m.def("sgd_momentum_step_(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] momentum_buffers, float lr, float momentum, "
        "float dampening, float weight_decay, bool nesterov) -> ()",
        sgdMomentumStep);
}

}  // namespace adl
