// Collectives on a c10d process group (distributed.cc) over lists of tensor
// handles: all-reduce (sum, then an optional scale), broadcast, barrier. Each
// starts asynchronously (Gloo runs it on its own threads) and returns a
// pending id; distWait finishes it, bounded by the group's timeout.
#include "distributed.h"
#include "tensor_table.h"

namespace adl {
namespace {

using Ms = std::chrono::milliseconds;

// One collective over a bucket: flat is what c10d reduces; members get its slices back.
struct Bucket {
  at::Tensor flat;
  std::vector<at::Tensor> members;  // empty: flat is the caller's tensor itself
  c10::intrusive_ptr<c10d::Work> work;
};

struct Pending {
  int64_t group;
  Ms timeout;
  std::string what;  // the collective's name, for messages
  double scale = 1;  // applied after the reduction
  bool copyBack = true;
  std::vector<Bucket> buckets;
};

auto& pendings = *new std::unordered_map<int64_t, Pending>();
int64_t nextPending = 1;

// Every tensor's data (detached: parameters that require grad are written in place), grouped into
// buckets by dtype and device in the given order, each at most capBytes (0: no cap; a larger tensor
// gets a bucket of its own). A lone contiguous tensor is reduced in place, without a copy.
std::vector<Bucket> bucketsOf(const Napi::Value& handles, const Napi::Value& cap) {
  const auto a = handles.As<Napi::Array>();
  const int64_t capBytes = cap.As<Napi::Number>().Int64Value();
  std::vector<std::vector<at::Tensor>> parts;
  std::vector<int64_t> bytes;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    at::Tensor t = table().get(a.Get(i).As<Napi::Number>().Int64Value()).detach();
    const int64_t b = t.numel() * t.element_size();
    size_t k = 0;
    for (; k < parts.size(); ++k) {
      const auto& f = parts[k].front();
      if (f.scalar_type() == t.scalar_type() && f.device() == t.device() && (capBytes <= 0 || bytes[k] + b <= capBytes)) break;
    }
    if (k == parts.size()) {
      parts.emplace_back();
      bytes.push_back(0);
    }
    parts[k].push_back(t);
    bytes[k] += b;
  }
  std::vector<Bucket> out(parts.size());
  for (size_t k = 0; k < parts.size(); ++k) {
    if (parts[k].size() == 1 && parts[k][0].is_contiguous()) {
      out[k].flat = parts[k][0];
      continue;
    }
    std::vector<at::Tensor> flat;
    for (const auto& m : parts[k]) flat.push_back(m.reshape({-1}));
    out[k].flat = at::cat(flat);
    out[k].members = std::move(parts[k]);
  }
  return out;
}

Pending pendingOf(const Napi::Value& groupId, const Group& g, const char* what) {
  Pending p;
  p.group = groupId.As<Napi::Number>().Int64Value();
  p.timeout = g.timeout;
  p.what = what;
  return p;
}

Napi::Value keep(Napi::Env env, Pending p) {
  const int64_t id = nextPending++;
  pendings.emplace(id, std::move(p));
  return Napi::Number::New(env, static_cast<double>(id));
}

// distAllReduce(group, handles[], scale, bucketCapBytes) -> pending id: sum over the ranks, times scale, in place.
Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    at::NoGradGuard noGrad;
    Group& g = groupArg(info[0]);
    Pending p = pendingOf(info[0], g, "allReduce");
    p.scale = info[2].As<Napi::Number>().DoubleValue();
    p.buckets = bucketsOf(info[1], info[3]);
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    opts.timeout = g.timeout;
    for (auto& b : p.buckets) {
      std::vector<at::Tensor> one{b.flat};
      b.work = g.pg->allreduce(one, opts);
    }
    return keep(env, std::move(p));
  ADL_CATCH_ALL(env, "distAllReduce")
}

// distBroadcast(group, handles[], root, bucketCapBytes) -> pending id: the root's values on every rank.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    at::NoGradGuard noGrad;
    Group& g = groupArg(info[0]);
    Pending p = pendingOf(info[0], g, "broadcast");
    c10d::BroadcastOptions opts;
    opts.rootRank = info[2].As<Napi::Number>().Int32Value();
    opts.timeout = g.timeout;
    p.copyBack = g.rank != opts.rootRank;
    p.buckets = bucketsOf(info[1], info[3]);
    for (auto& b : p.buckets) {
      std::vector<at::Tensor> one{b.flat};
      b.work = g.pg->broadcast(one, opts);
    }
    return keep(env, std::move(p));
  ADL_CATCH_ALL(env, "distBroadcast")
}

// distBarrier(group) -> pending id.
Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    Group& g = groupArg(info[0]);
    Pending p = pendingOf(info[0], g, "barrier");
    c10d::BarrierOptions opts;
    opts.timeout = g.timeout;
    p.buckets.emplace_back();
    p.buckets.back().work = g.pg->barrier(opts);
    return keep(env, std::move(p));
  ADL_CATCH_ALL(env, "distBarrier")
}

// distWait(pending): blocks until the collective is done, then writes the results into the tensors.
// Bounded: the group's timeout, plus a grace for Gloo's own timeout error to arrive first.
Napi::Value DistWait(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto it = pendings.find(info[0].As<Napi::Number>().Int64Value());
    if (it == pendings.end()) throw std::runtime_error("collective already waited for, or its group destroyed");
    Pending p = std::move(it->second);
    pendings.erase(it);
    at::NoGradGuard noGrad;
    for (auto& b : p.buckets) {
      try {
        b.work->wait(p.timeout + Ms(2000));
      } catch (const c10::Error& e) {
        throw std::runtime_error(p.what + " failed: " + e.what_without_backtrace());
      } catch (const std::exception& e) {
        throw std::runtime_error(p.what + " failed: " + e.what());
      }
    }
    for (auto& b : p.buckets) {
      if (p.scale != 1.0) b.flat.mul_(p.scale);
      if (!p.copyBack) continue;
      int64_t off = 0;
      for (auto& m : b.members) {
        m.copy_(b.flat.narrow(0, off, m.numel()).view(m.sizes()));
        off += m.numel();
      }
    }
    return env.Undefined();
  ADL_CATCH_ALL(env, "distWait")
}

}  // namespace

void dropPendingOf(int64_t group) {
  for (auto it = pendings.begin(); it != pendings.end();) it = it->second.group == group ? pendings.erase(it) : std::next(it);
}

void registerCollectives(Napi::Env env, Napi::Object exports) {
  exports.Set("distAllReduce", Napi::Function::New(env, DistAllReduce, "distAllReduce"));
  exports.Set("distBroadcast", Napi::Function::New(env, DistBroadcast, "distBroadcast"));
  exports.Set("distBarrier", Napi::Function::New(env, DistBarrier, "distBarrier"));
  exports.Set("distWait", Napi::Function::New(env, DistWait, "distWait"));
}

}  // namespace adl
