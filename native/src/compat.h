// What differs between the libtorch versions this addon builds against
// (Debian's 1.13 and 2.x, CPU or CUDA), in one place. Checked against the 2.x
// headers (aten/src/ATen/Context.h, detail/CUDAHooksInterface.h,
// c10/core/GradMode.h); every other call the addon makes has one spelling.
#pragma once
#include <ATen/Context.h>
#include <torch/version.h>

#define ADL_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||      \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// dispatch.cc reads SymInt schema types (c10::TypeKind::SymIntType); older releases are untested.
static_assert(ADL_TORCH_AT_LEAST(1, 13), "autodeeplab's native addon needs libtorch >= 1.13");

namespace adl {

// The default generator of CUDA device i. The hook under it was renamed
// (CUDAHooksInterface::getDefaultCUDAGenerator in 1.13, getDefaultGenerator on
// AcceleratorHooksInterface in 2.x); Context::defaultGenerator(Device) is the
// public spelling in both, and initialises CUDA lazily first.
inline at::Generator cudaGenerator(int i) {
  return at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i)));
}

}  // namespace adl
