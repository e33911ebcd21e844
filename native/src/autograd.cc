// Autograd: leaf flags, .grad, backward, torch.autograd.grad, grad mode.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/autograd/anomaly_mode.h>
// c10::GradMode: the autograd headers bring it in 1.13, not in 2.x (measured on 2.11).
#include <c10/core/GradMode.h>

#include "addon.h"
#include "errors.h"
#include "tensor_table.h"

namespace adl {
namespace {

std::vector<at::Tensor> tensorList(const Napi::Value& v) {
  std::vector<at::Tensor> out;
  if (v.IsNull() || v.IsUndefined()) return out;
  auto a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    auto e = a.Get(i);
    out.push_back(e.IsNull() ? at::Tensor() : table().get(e.As<Napi::Number>().Int64Value()));
  }
  return out;
}

Napi::Value handleOrNull(Napi::Env env, const at::Tensor& t) {
  if (!t.defined()) return env.Null();
  return Napi::Number::New(env, static_cast<double>(table().put(t)));
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto t = table().get(info[0].As<Napi::Number>().Int64Value());
    t.set_requires_grad(info[1].As<Napi::Boolean>().Value());
    return env.Undefined();
  ADL_CATCH(env, "setRequiresGrad")
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    return Napi::Boolean::New(env, table().get(info[0].As<Napi::Number>().Int64Value()).is_leaf());
  ADL_CATCH(env, "isLeaf")
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    return handleOrNull(env, table().get(info[0].As<Napi::Number>().Int64Value()).grad());
  ADL_CATCH(env, "grad")
}

// setGrad(handle, gradHandle | null): null clears the gradient (zero_grad(set_to_none)).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto t = table().get(info[0].As<Napi::Number>().Int64Value());
    t.mutable_grad() = info[1].IsNull() ? at::Tensor()
                                        : table().get(info[1].As<Napi::Number>().Int64Value());
    return env.Undefined();
  ADL_CATCH(env, "setGrad")
}

// backward(outputs[], gradOutputs[] | null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const auto outputs = tensorList(info[0]);
    const auto grads = tensorList(info[1]);
    const bool retain = info[2].ToBoolean().Value();
    const bool create = info[3].ToBoolean().Value();
    torch::autograd::backward(outputs, grads, retain, create);
    return env.Undefined();
  ADL_CATCH(env, "backward")
}

// gradOf(outputs[], inputs[], gradOutputs[] | null, retainGraph, createGraph, allowUnused)
Napi::Value GradOf(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const auto outputs = tensorList(info[0]);
    const auto inputs = tensorList(info[1]);
    const auto grads = tensorList(info[2]);
    const bool retain = info[3].ToBoolean().Value();
    const bool create = info[4].ToBoolean().Value();
    const bool allowUnused = info[5].ToBoolean().Value();
    auto result = torch::autograd::grad(outputs, inputs, grads, retain, create, allowUnused);
    auto out = Napi::Array::New(env, result.size());
    for (size_t i = 0; i < result.size(); ++i) out.Set(i, handleOrNull(env, result[i]));
    return out;
  ADL_CATCH(env, "grad")
}

// setGradEnabled(bool) -> previous
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  const bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(info[0].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

// setAnomalyEnabled(bool): backward raises at the first function that yields NaN.
Napi::Value SetAnomalyEnabled(const Napi::CallbackInfo& info) {
  torch::autograd::AnomalyMode::set_enabled(info[0].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

}  // namespace

void registerAutograd(Napi::Env env, Napi::Object exports) {
  exports.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad, "setRequiresGrad"));
  exports.Set("isLeaf", Napi::Function::New(env, IsLeaf, "isLeaf"));
  exports.Set("grad", Napi::Function::New(env, Grad, "grad"));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad, "setGrad"));
  exports.Set("backward", Napi::Function::New(env, Backward, "backward"));
  exports.Set("gradOf", Napi::Function::New(env, GradOf, "gradOf"));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled, "setGradEnabled"));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled, "isGradEnabled"));
  exports.Set("setAnomalyEnabled", Napi::Function::New(env, SetAnomalyEnabled, "setAnomalyEnabled"));
}

}  // namespace adl
