// c10d (libtorch's distributed engine) as distributed.cc and collectives.cc use it:
// which process groups this build has, and the table of live groups.
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>

#include <chrono>
#include <cstdint>
#include <unordered_map>

#include <napi.h>

#include "compat.h"
#include "errors.h"

#if ADL_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

// Gloo's headers come from libgloo-dev on Debian; without them Gloo is absent (distBackends says so).
#if __has_include(<gloo/context.h>)
#define ADL_HAVE_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
// NCCL: only when build.js found a CUDA libtorch (ADL_WITH_CUDA) and nccl.h is on the include path. Unverified.
#if defined(ADL_WITH_CUDA) && __has_include(<nccl.h>)
#define ADL_HAVE_NCCL 1
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

// ADL_CATCH, and anything else a c10d or Gloo thread may rethrow here, as a JS Error.
#define ADL_CATCH_ALL(env, label) \
  ADL_CATCH(env, label)           \
  catch (...) { throw Napi::Error::New(env, std::string(label) + ": unknown C++ exception"); }

namespace adl {

// The process groups' common base: ProcessGroup in 1.13, Backend since 2.0.
#if ADL_TORCH_AT_LEAST(2, 0)
using PgBase = c10d::Backend;
#else
using PgBase = c10d::ProcessGroup;
#endif

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<PgBase> pg;
  std::chrono::milliseconds timeout;
  int rank;
  int size;
};

/** The live group a JS id names; throws when it was destroyed. */
Group& groupArg(const Napi::Value& id);
/** Forgets the collectives of a group that is being destroyed (collectives.cc). */
void dropPendingOf(int64_t group);
void registerCollectives(Napi::Env env, Napi::Object exports);

}  // namespace adl
