#pragma once
#include <ATen/core/ivalue.h>
#include <napi.h>

#include <vector>

namespace adl {
void registerDispatch(Napi::Env env, Napi::Object exports);
void registerTensors(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);
void registerProfiler(Napi::Env env, Napi::Object exports);
// The arguments of the op call about to be made from JS, for the profiler (a no-op when it is off).
void profilerNoteCall(const std::vector<c10::IValue>& stack);
}  // namespace adl
