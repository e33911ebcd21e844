// What adl::depthwise_conv2d (depthwise.cc) and adl::mixed_depthwise_conv2d
// (depthwise_mixed.cc) share: which loops serve a call, and the own forward and
// backward passes over slices of dense planes, named for the profiler.
#pragma once
#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <utility>
#include <vector>

#include "cpu_kernels.h"
#include "depthwise_channels.h"
#include "depthwise_geometry.h"
#include "depthwise_planes.h"

namespace adl {
namespace {

// Whether the loops here serve x; else libtorch's ops (other devices and dtypes, and empty batches).
inline bool ownPath(const at::Tensor& x) { return ownKernels(x) && x.numel() > 0; }

// Which own loops: 1 the planes (depthwise_planes.h), 2 channels innermost (depthwise_channels.h, float); 0 chooses:
// channels innermost for float outputs of at most kChannelsMaxPixels pixels (`npm run bench -- depthwise --layouts`).
constexpr int64_t kChannelsMaxPixels = 16;
inline void checkLayout(int64_t layout) {
  TORCH_CHECK(layout >= 0 && layout <= 2, "depthwise_conv2d: layout must be 0 (auto), 1 (planes) or 2 (channels), got ", layout);
}
inline int64_t chooseLayout(int64_t layout, const at::Tensor& x, const Geometry& g) {
  if (x.scalar_type() != at::kFloat) return 1;
  return layout != 0 ? layout : (g.Ho * g.Wo <= kChannelsMaxPixels ? 2 : 1);
}

// Names the current scope for the profiler (bench/op_families.ts reads the arguments); inputs() runs only when a
// callback records inputs, so that a timing-only profile makes no views of its own.
template <typename Inputs>
void nameScope(at::RecordFunction& guard, const char* name, Inputs inputs) {
  if (!guard.isActive()) return;
  if (!guard.needsInputs()) return guard.before(name);
  const std::vector<c10::IValue> v = inputs();
  guard.before(name, c10::ArrayRef<const c10::IValue>(v.data(), v.size()));
}

// y = the convolution of x by contiguous w on the own loops, in the layout chosen; both slices in place.
inline void ownForward(const Slice& y, const Slice& x, const at::Tensor& w, Geometry g, int64_t layout) {
  g.xB = x.batch();
  g.yB = y.batch();
  if (layout == 2) return forwardChannels(y.data<float>(), x.data<float>(), w.data_ptr<float>(), g);
  if (x.t.scalar_type() == at::kFloat) return forwardPlanes<float>(y.data<float>(), x.data<float>(), w.data_ptr<float>(), g);
  forwardPlanes<double>(y.data<double>(), x.data<double>(), w.data_ptr<double>(), g);
}

// The gradients asked for (gx, gw: null when not; gx's slice and gw allocated by the caller) from gy, x and w (contiguous),
// in the forward's layout. Named with its shapes and layout for the profiler (bench/op_families.ts counts its FLOPs; a
// test reads the layout); free when none listens.
inline void ownBackward(const Slice& gy, const Slice& x, const at::Tensor& w, Geometry g, int64_t layout, at::IntArrayRef padding,
                 at::IntArrayRef dilation, const Slice* gx, const at::Tensor* gw) {
  at::RecordFunction guard(at::RecordScope::FUNCTION);
  nameScope(guard, "adl::depthwise_conv2d_backward", [&] {
    return std::vector<c10::IValue>({gy.view(), x.view(), w, padding, dilation, gx != nullptr, gw != nullptr, layout});
  });
  if (!gx && !gw) return;  // a mixed op's weight that needs no gradient, beside one that does
  g.xB = x.batch();
  g.yB = gy.batch();
  if (gx) g.gxB = gx->batch();
  if (layout == 2) {
    if (gx) inputGradChannels(gx->data<float>(), gy.data<float>(), w.data_ptr<float>(), g);
    if (gw) weightGradChannels(gw->data_ptr<float>(), gy.data<float>(), x.data<float>(), g);
  } else if (x.t.scalar_type() == at::kFloat) {
    backwardPlanes<float>(gx ? gx->data<float>() : nullptr, gw ? gw->data_ptr<float>() : nullptr, gy.data<float>(), x.data<float>(), w.data_ptr<float>(), g);
  } else {
    backwardPlanes<double>(gx ? gx->data<double>() : nullptr, gw ? gw->data_ptr<double>() : nullptr, gy.data<double>(), x.data<double>(), w.data_ptr<double>(), g);
  }
}

// The gradients asked for, by libtorch (off the own path).
inline std::pair<at::Tensor, at::Tensor> libtorchBackward(const at::Tensor& gy, const at::Tensor& x, const at::Tensor& w,
                                                   at::IntArrayRef padding, at::IntArrayRef dilation, bool needX, bool needW) {
  auto r = at::convolution_backward(gy, x, w, c10::nullopt, {1, 1}, padding, dilation, false, {0, 0}, w.size(0), {needX, needW, false});
  return {std::get<0>(r), std::get<1>(r)};
}


// channels: what the weight convolves, x's own unless the mixed op splits or tiles it.
inline void checkArguments(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef dilation, int64_t channels = -1) {
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && w.size(1) == 1 && w.size(0) == (channels < 0 ? x.size(1) : channels),
              "depthwise_conv2d: expected x (B, C, H, W) and weight (C, 1, kH, kW), got ", x.sizes(), " and ", w.sizes());
  TORCH_CHECK(dilation.size() == 2 && dilation[0] >= 1 && dilation[1] >= 1, "depthwise_conv2d: dilation takes two values of at least 1, got ",
              dilation);
  TORCH_CHECK(x.scalar_type() == w.scalar_type(), "depthwise_conv2d: input and weight dtypes differ");
}

}  // namespace
}  // namespace adl
