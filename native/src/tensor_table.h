// Handle table: JS holds plain numbers, C++ holds the tensors they name.
// A handle is never reused, so a stale handle is an error, not another tensor.
#pragma once
#include <ATen/ATen.h>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace adl {

class TensorTable {
 public:
  int64_t put(at::Tensor t) {
    const int64_t id = next_++;
    map_.emplace(id, std::move(t));
    return id;
  }
  const at::Tensor& get(int64_t id) const {
    auto it = map_.find(id);
    if (it == map_.end()) {
      throw std::runtime_error("tensor handle " + std::to_string(id) +
                               " is not live (already disposed?)");
    }
    return it->second;
  }
  bool free(int64_t id) { return map_.erase(id) > 0; }
  size_t size() const { return map_.size(); }

 private:
  std::unordered_map<int64_t, at::Tensor> map_;
  int64_t next_ = 1;
};

TensorTable& table();
// Puts a new handle's metadata where JS reads it (tensors.cc).
void writeMeta(int64_t handle, const at::Tensor& t);

}  // namespace adl
