// Process-wide settings: seeds and RNG state, threads, CUDA presence.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>  // at::show_config
#include <ATen/detail/CUDAHooksInterface.h>

#include <torch/version.h>

#include <mutex>

#include "addon.h"
#include "compat.h"
#include "errors.h"
#include "tensor_table.h"

namespace adl {
namespace {

at::Generator cpuGenerator() { return at::detail::getDefaultCPUGenerator(); }

int cudaDeviceCount() {
  return at::globalContext().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
}

// manualSeed(seed): CPU generator and, where present, every CUDA generator.
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const uint64_t seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    {
      auto gen = cpuGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    for (int i = 0; i < cudaDeviceCount(); ++i) {
      auto gen = cudaGenerator(i);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    return env.Undefined();
  ADL_CATCH(env, "manualSeed")
}

// The generator a call names: CPU when no device index is given, else that CUDA device's.
at::Generator generatorFor(const Napi::CallbackInfo& info, size_t arg) {
  if (info.Length() > arg && info[arg].IsNumber()) return cudaGenerator(info[arg].As<Napi::Number>().Int32Value());
  return cpuGenerator();
}

// rngState(cudaIndex?) -> handle of a uint8 tensor holding the generator's state.
Napi::Value RngState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto gen = generatorFor(info, 0);
    std::lock_guard<std::mutex> lock(gen.mutex());
    return Napi::Number::New(env, static_cast<double>(table().put(gen.get_state())));
  ADL_CATCH(env, "rngState")
}

// setRngState(handle, cudaIndex?)
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const auto& state = table().get(info[0].As<Napi::Number>().Int64Value());
    auto gen = generatorFor(info, 1);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.to(at::kCPU));  // a checkpoint loaded onto a GPU holds it there
    return env.Undefined();
  ADL_CATCH(env, "setRngState")
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  ADL_CATCH(env, "setNumThreads")
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), cudaDeviceCount());
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    if (cudaDeviceCount() > 0) at::detail::getCUDAHooks().deviceSynchronize(at::detail::getCUDAHooks().current_device());
    return env.Undefined();
  ADL_CATCH(env, "cudaSynchronize")
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("torchVersion", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)));
  out.Set("cudaCompiled", Napi::Boolean::New(env, at::globalContext().hasCUDA()));
  out.Set("config", Napi::String::New(env, at::show_config()));
  return out;
}

}  // namespace

void registerRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("rngState", Napi::Function::New(env, RngState, "rngState"));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState, "setRngState"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("numThreads", Napi::Function::New(env, NumThreads, "numThreads"));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount, "cudaDeviceCount"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize, "cudaSynchronize"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
}

}  // namespace adl
