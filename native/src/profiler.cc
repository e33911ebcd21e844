// An operator profiler for benchmarks: every operator libtorch records
// (dispatcher calls and autograd's backward nodes) with its nesting depth, its
// time and a compact reading of its arguments, so that the TypeScript side can
// group the time by op family and count FLOPs. Generic: no model logic here.
//
// RecordFunction::inputs() asserts, in builds without NDEBUG, that the inputs
// were recorded; the assertion's error captures a symbolised backtrace (about
// a millisecond each), which made a profiled search iteration 70x slower.
// libtorch itself is built with NDEBUG; so is this file: an unrecorded input
// list then reads as empty.
//
// Recording arguments costs time inside every operator: libtorch boxes each
// one's inputs for the callback, and an op's nested calls add theirs to its
// time. A timing-only run (profileStart(true)) records no inputs, so the
// same iteration run twice, once each way, gives arguments from the first and
// times from the second (src/engine/profile.ts pairs them).
#ifndef NDEBUG
#define NDEBUG
#endif
#include <ATen/record_function.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "addon.h"
#include "errors.h"

namespace adl {
namespace {

struct Event {
  std::string name;
  int depth;
  bool backward;  // inside an autograd backward node (or is one)
  double micros;
  std::string args;
};

struct Profile {
  std::mutex mutex;
  std::vector<Event> events;
  bool on = false;
  at::CallbackHandle handle = 0;
};

Profile& profile() {
  static Profile p;
  return p;
}

thread_local int depth = 0;
thread_local int backwardDepth = 0;
// The arguments of the call JS is about to make (set by dispatch.cc): libtorch
// 1.13's boxed calls record no inputs, so depth-0 events take theirs from here.
thread_local std::string pendingArgs;
std::atomic<bool> profiling{false};

struct Started : at::ObserverContext {
  std::chrono::steady_clock::time_point t0;
  int depth;
  bool backward;
  std::string args;
};

// Arguments as a JSON array: tensors as their shapes, ints as numbers, int
// lists as {"ints": [...]}, bool lists as {"bools": [...]}, others as null
// (enough to tell a convolution's kind and count its FLOPs).
std::string describe(const c10::IValue* inputs, size_t n) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) s << ',';
    const auto& v = inputs[i];
    if (v.isTensor() && v.toTensor().defined()) {
      const auto sizes = v.toTensor().sizes();
      s << '[';
      for (size_t d = 0; d < sizes.size(); ++d) s << (d ? "," : "") << sizes[d];
      s << ']';
    } else if (v.isInt()) {
      s << v.toInt();
    } else if (v.isBool()) {
      s << (v.toBool() ? "true" : "false");
    } else if (v.isIntList()) {
      const auto l = v.toIntList();
      s << "{\"ints\":[";
      for (size_t d = 0; d < l.size(); ++d) s << (d ? "," : "") << l.get(d);
      s << "]}";
    } else if (v.isBoolList()) {
      const auto l = v.toBoolList();
      s << "{\"bools\":[";
      for (size_t d = 0; d < l.size(); ++d) s << (d ? "," : "") << (l.get(d) ? "true" : "false");
      s << "]}";
    } else {
      s << "null";
    }
  }
  s << ']';
  return s.str();
}

std::unique_ptr<at::ObserverContext> onStart(const at::RecordFunction& fn) {
  auto ctx = std::make_unique<Started>();
  ctx->depth = depth++;
  ctx->backward = backwardDepth > 0 || fn.scope() == at::RecordScope::BACKWARD_FUNCTION;
  if (fn.scope() == at::RecordScope::BACKWARD_FUNCTION) ++backwardDepth;
  // Arguments of the outer three levels only: what JS called (from dispatch.cc) and what that
  // called (unboxed calls, whose inputs libtorch records); autograd wraps each backward node in an
  // 'evaluate_function' range, so a node's convolution_backward sits at depth 2.
  if (ctx->depth == 0 && fn.scope() == at::RecordScope::FUNCTION) ctx->args = std::move(pendingArgs);
  if (ctx->depth == 1 || ctx->depth == 2) ctx->args = describe(fn.inputs().data(), fn.inputs().size());
  pendingArgs.clear();
  ctx->t0 = std::chrono::steady_clock::now();
  return ctx;
}

// Timing only: no inputs, no arguments, and only the outermost operators' times (what a family's time is made of).
// While one runs, RecordFunction is switched off on this thread, so that its nested operators run no callbacks
// at all and add no profiler time to it (a recording run charges each nested op's recording to its parent).
struct Timed : at::ObserverContext {
  std::chrono::steady_clock::time_point t0;
  bool backward;
};

std::unique_ptr<at::ObserverContext> onStartTiming(const at::RecordFunction& fn) {
  auto ctx = std::make_unique<Timed>();
  ctx->backward = fn.scope() == at::RecordScope::BACKWARD_FUNCTION;
  at::enableRecordFunction(false);
  ctx->t0 = std::chrono::steady_clock::now();
  return ctx;
}

void onEndTiming(const at::RecordFunction& fn, at::ObserverContext* raw) {
  const auto t1 = std::chrono::steady_clock::now();
  at::enableRecordFunction(true);
  auto* ctx = static_cast<Timed*>(raw);
  if (!ctx) return;
  const double us = std::chrono::duration<double, std::micro>(t1 - ctx->t0).count();
  auto& p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.events.push_back({fn.name(), 0, ctx->backward, us, std::string()});
}

void onEnd(const at::RecordFunction& fn, at::ObserverContext* raw) {
  const auto t1 = std::chrono::steady_clock::now();
  auto* ctx = static_cast<Started*>(raw);
  if (!ctx) return;  // the start callback failed (libtorch logs it): nothing to pair with
  --depth;
  if (fn.scope() == at::RecordScope::BACKWARD_FUNCTION) --backwardDepth;
  const double us = std::chrono::duration<double, std::micro>(t1 - ctx->t0).count();
  auto& p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.events.push_back({fn.name(), ctx->depth, ctx->backward, us, std::move(ctx->args)});
}

// profileStart(timingOnly = false): record every operator from now on (clears earlier events); timingOnly: the
// outermost operators only (depth 0), without arguments.
Napi::Value ProfileStart(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const bool timingOnly = info.Length() > 0 && info[0].ToBoolean().Value();
    auto& p = profile();
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.on) throw std::runtime_error("the profiler is already running");
    p.events.clear();
    p.events.reserve(1 << 16);
    const auto scopes = {at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION};
    p.handle = at::addGlobalCallback(timingOnly ? at::RecordFunctionCallback(onStartTiming, onEndTiming).needsInputs(false).scopes(scopes)
                                                : at::RecordFunctionCallback(onStart, onEnd).needsInputs(true).scopes(scopes));
    p.on = true;
    profiling = !timingOnly;  // dispatch.cc describes JS's call arguments only for a recording run
    return env.Undefined();
  ADL_CATCH(env, "profileStart")
}

// profileStop() -> [[name, depth, backward, microseconds, argsJson], ...] in completion order.
Napi::Value ProfileStop(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto& p = profile();
    std::vector<Event> events;
    {
      std::lock_guard<std::mutex> lock(p.mutex);
      if (!p.on) throw std::runtime_error("the profiler is not running");
      at::removeCallback(p.handle);
      p.on = false;
      profiling = false;
      events.swap(p.events);
    }
    auto out = Napi::Array::New(env, events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      auto e = Napi::Array::New(env, 5);
      e.Set(0u, Napi::String::New(env, events[i].name));
      e.Set(1u, Napi::Number::New(env, events[i].depth));
      e.Set(2u, Napi::Boolean::New(env, events[i].backward));
      e.Set(3u, Napi::Number::New(env, events[i].micros));
      e.Set(4u, Napi::String::New(env, events[i].args));
      out.Set(static_cast<uint32_t>(i), e);
    }
    return out;
  ADL_CATCH(env, "profileStop")
}

}  // namespace

void profilerNoteCall(const std::vector<c10::IValue>& stack) {
  if (profiling.load(std::memory_order_relaxed)) pendingArgs = describe(stack.data(), stack.size());
}

void registerProfiler(Napi::Env env, Napi::Object exports) {
  exports.Set("profileStart", Napi::Function::New(env, ProfileStart, "profileStart"));
  exports.Set("profileStop", Napi::Function::New(env, ProfileStop, "profileStop"));
}

}  // namespace adl
