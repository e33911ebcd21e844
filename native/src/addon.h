#pragma once
#include <napi.h>

namespace adl {
void registerDispatch(Napi::Env env, Napi::Object exports);
void registerTensors(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);
}  // namespace adl
