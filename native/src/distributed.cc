// c10d, libtorch's own distributed engine: a TCPStore rendezvous and a process
// group (Gloo; NCCL in CUDA builds); collectives.cc runs collectives on them.
// Generic: no training logic and no policy (src/engine/distributed.ts checks
// every argument and chooses the Gloo device).
#include "distributed.h"

#include <future>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

#include "addon.h"

namespace adl {
namespace {

using Ms = std::chrono::milliseconds;

// Never destroyed: a process that exits with a group alive must not join Gloo's threads at exit.
auto& groups = *new std::unordered_map<int64_t, Group>();
int64_t nextGroup = 1;

std::string str(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::String>().Utf8Value(); }
int64_t num(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Number>().Int64Value(); }

using Clock = std::chrono::steady_clock;

// What makeGroup needs, read from the JS options on the main thread (N-API values stay there).
struct GroupSpec {
  std::string backend, deviceKind, deviceName;
  int threads;
};

c10::intrusive_ptr<PgBase> makeGroup(const GroupSpec& g, const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, Ms timeout) {
  if (g.backend == "gloo") {
#ifdef ADL_HAVE_GLOO
    using G = c10d::ProcessGroupGloo;
    auto opts = G::Options::create(timeout);
    opts->devices.push_back(g.deviceKind == "interface"  ? G::createDeviceForInterface(g.deviceName)
                            : g.deviceKind == "hostname" ? G::createDeviceForHostname(g.deviceName)
                                                         : G::createDefaultDevice());
    opts->threads = g.threads;
    return c10::make_intrusive<G>(store, rank, size, opts);
#else
    throw std::runtime_error("this build has no Gloo (its headers were missing at build time: apt-get install libgloo-dev, then rebuild)");
#endif
  }
  if (g.backend == "nccl") {
#ifdef ADL_HAVE_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts);
#else
    throw std::runtime_error("this build has no NCCL (it needs a CUDA libtorch and nccl.h at build time)");
#endif
  }
  throw std::runtime_error("unknown backend '" + g.backend + "'");
}

// Builds the group on its own thread and waits until the deadline: Gloo 0.0~git2022's pair connect can
// wait past its own timeout (a peer that advertised an address this host cannot reach, e.g. its loopback
// one). On expiry the thread is left behind, detached (it holds its own references), and this throws.
c10::intrusive_ptr<PgBase> makeGroupBy(Clock::time_point deadline, const GroupSpec& g, const c10::intrusive_ptr<c10d::Store>& store,
                                       int rank, int size, Ms timeout) {
  auto task = std::make_shared<std::packaged_task<c10::intrusive_ptr<PgBase>()>>([=] { return makeGroup(g, store, rank, size, timeout); });
  auto built = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (built.wait_until(deadline) == std::future_status::timeout) {
    throw std::runtime_error("timed out after " + std::to_string(timeout.count()) + " ms connecting the ranks' " + g.backend +
                             " transport (the ranks reached the store but not each other)");
  }
  return built.get();
}

// Counts this rank in at key and waits until all size ranks have (as torch.distributed's
// store-based barrier), up to the deadline; the error says how many came.
void storeBarrier(c10d::Store& store, const std::string& key, int size, Clock::time_point deadline, Ms timeout, const char* what) {
  store.add(key, 1);
  for (int64_t n; (n = store.add(key, 0)) < size;) {
    if (Clock::now() > deadline) {
      throw std::runtime_error("timed out after " + std::to_string(timeout.count()) + " ms waiting for the ranks to " + what + ": " +
                               std::to_string(n) + " of " + std::to_string(size) + " did");
    }
    std::this_thread::sleep_for(Ms(10));
  }
}

// distInit({backend, host, port, rank, worldSize, timeoutMs, device: {kind, name}, threads, storeServer?, storePrefix?}) -> group id.
// Rank 0 serves the TCPStore unless storeServer says otherwise (torchrun's agent may serve it, the workers'
// keys then under storePrefix); the whole join (connect, all ranks in, group built) is bounded by the timeout.
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto o = info[0].As<Napi::Object>();
    const int rank = static_cast<int>(num(o, "rank"));
    const int size = static_cast<int>(num(o, "worldSize"));
    const Ms timeout(num(o, "timeoutMs"));
    const auto deadline = Clock::now() + timeout;
    auto dev = o.Get("device").As<Napi::Object>();
    const GroupSpec spec{str(o, "backend"), str(dev, "kind"), str(dev, "name"), static_cast<int>(num(o, "threads"))};
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(num(o, "port"));
    so.isServer = o.Has("storeServer") ? o.Get("storeServer").As<Napi::Boolean>().Value() : rank == 0;
    so.numWorkers = static_cast<std::size_t>(size);
    so.waitWorkers = false;  // storeBarrier below: a precise deadline and a clear message
    so.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(str(o, "host"), so);
    if (o.Has("storePrefix")) store = c10::make_intrusive<c10d::PrefixStore>(str(o, "storePrefix"), store);
    storeBarrier(*store, "adl/joined", size, deadline, timeout, "join");
    auto pg = makeGroupBy(deadline, spec, store, rank, size, timeout);
    storeBarrier(*store, "adl/ready", size, deadline, timeout, "build the process group");
    const int64_t id = nextGroup++;
    groups.emplace(id, Group{store, pg, timeout, rank, size});
    return Napi::Number::New(env, static_cast<double>(id));
  ADL_CATCH_ALL(env, "distInit")
}

// distDestroy(group) -> whether it was live: drops its pending collectives, the group (Gloo joins
// its threads once the running collectives end, each bounded by the timeout) and the store.
Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const int64_t id = info[0].As<Napi::Number>().Int64Value();
    dropPendingOf(id);
    return Napi::Boolean::New(env, groups.erase(id) > 0);
  ADL_CATCH_ALL(env, "distDestroy")
}

// distBackends() -> the process groups this build has.
Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Array::New(env);
#ifdef ADL_HAVE_GLOO
  out.Set(out.Length(), Napi::String::New(env, "gloo"));
#endif
#ifdef ADL_HAVE_NCCL
  out.Set(out.Length(), Napi::String::New(env, "nccl"));
#endif
  return out;
}

}  // namespace

Group& groupArg(const Napi::Value& v) {
  const int64_t id = v.As<Napi::Number>().Int64Value();
  auto it = groups.find(id);
  if (it == groups.end()) throw std::runtime_error("process group " + std::to_string(id) + " is not live (destroyed?)");
  return it->second;
}

void registerDistributed(Napi::Env env, Napi::Object exports) {
  exports.Set("distInit", Napi::Function::New(env, DistInit, "distInit"));
  exports.Set("distDestroy", Napi::Function::New(env, DistDestroy, "distDestroy"));
  exports.Set("distBackends", Napi::Function::New(env, DistBackends, "distBackends"));
  registerCollectives(env, exports);
}

}  // namespace adl
