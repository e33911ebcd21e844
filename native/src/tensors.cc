// Tensor handles: creation from JS memory, reading back, metadata, disposal.
#include <cstring>

#include "addon.h"
#include "errors.h"
#include "tensor_table.h"

namespace adl {

TensorTable& table() {
  static TensorTable t;
  return t;
}

thread_local double* metaOut = nullptr;
thread_local size_t metaCapacity = 0;

// [handle, ndim, scalar type, device type, device index, requires grad, sizes...]: what JS's Tensor reads as its
// metadata without a meta() call. A tensor of more dimensions than fit writes ndim -1 (JS calls meta() then).
void writeMeta(int64_t handle, const at::Tensor& t) {
  if (!metaOut || metaCapacity < 6) return;
  const int64_t dim = t.dim();
  metaOut[0] = static_cast<double>(handle);
  metaOut[1] = 6 + static_cast<size_t>(dim) <= metaCapacity ? static_cast<double>(dim) : -1;
  metaOut[2] = static_cast<int>(t.scalar_type());
  metaOut[3] = static_cast<int>(t.device().type());
  metaOut[4] = t.device().index();
  metaOut[5] = t.requires_grad();
  if (metaOut[1] < 0) return;
  const auto sizes = t.sizes();
  for (int64_t d = 0; d < dim; ++d) metaOut[6 + d] = static_cast<double>(sizes[d]);
}

namespace {

int64_t handleArg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int64Value();
}

std::vector<int64_t> shapeArg(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> shape(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) shape[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return shape;
}

// fromBuffer(arrayBuffer, byteOffset, shape[], dtype, device) -> handle. Copies.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto buf = info[0].As<Napi::ArrayBuffer>();
    const size_t offset = info[1].As<Napi::Number>().Uint32Value();
    const auto shape = shapeArg(info[2]);
    const auto dtype = static_cast<c10::ScalarType>(info[3].As<Napi::Number>().Int32Value());
    const auto device = c10::Device(info[4].As<Napi::String>().Utf8Value());
    auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
    const size_t bytes = t.numel() * t.element_size();
    if (offset + bytes > buf.ByteLength()) {
      throw std::runtime_error("buffer holds " + std::to_string(buf.ByteLength() - offset) +
                               " bytes, shape needs " + std::to_string(bytes));
    }
    std::memcpy(t.data_ptr(), static_cast<uint8_t*>(buf.Data()) + offset, bytes);
    if (!device.is_cpu()) t = t.to(device);
    return Napi::Number::New(env, static_cast<double>(table().put(std::move(t))));
  ADL_CATCH(env, "fromBuffer")
}

// toBuffer(handle) -> ArrayBuffer with the tensor's elements, contiguous, on CPU.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    auto t = table().get(handleArg(info, 0)).detach().to(at::kCPU).contiguous();
    const size_t bytes = t.numel() * t.element_size();
    auto buf = Napi::ArrayBuffer::New(env, bytes);
    if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
    return buf;
  ADL_CATCH(env, "toBuffer")
}

// meta(handle) -> [dtype, device, requiresGrad, ...shape]
Napi::Value Meta(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const auto& t = table().get(handleArg(info, 0));
    auto out = Napi::Array::New(env, 3 + t.dim());
    out.Set(0u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
    out.Set(1u, Napi::String::New(env, t.device().str()));
    out.Set(2u, Napi::Boolean::New(env, t.requires_grad()));
    for (int64_t d = 0; d < t.dim(); ++d) out.Set(3 + d, Napi::Number::New(env, t.size(d)));
    return out;
  ADL_CATCH(env, "meta")
}

// setMetaBuffer(Float64Array): where writeMeta puts each new handle's metadata on this thread (one per JS thread).
// The JS module that passes it holds it for the thread's life (its memory is outside V8's heap and does not move).
Napi::Value SetMetaBuffer(const Napi::CallbackInfo& info) {
  auto a = info[0].As<Napi::Float64Array>();
  metaOut = a.Data();
  metaCapacity = a.ElementLength();
  return info.Env().Undefined();
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), table().free(handleArg(info, 0)));
}

Napi::Value FreeMany(const Napi::CallbackInfo& info) {
  auto a = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) table().free(a.Get(i).As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value LiveCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(table().size()));
}

// sameStorage(a, b): whether two handles share memory (aliases, views).
Napi::Value SameStorage(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ADL_TRY
    const auto& a = table().get(handleArg(info, 0));
    const auto& b = table().get(handleArg(info, 1));
    return Napi::Boolean::New(env, a.is_same(b) || (a.has_storage() && b.has_storage() &&
                                                    a.storage().is_alias_of(b.storage())));
  ADL_CATCH(env, "sameStorage")
}

}  // namespace

void registerTensors(Napi::Env env, Napi::Object exports) {
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer, "fromBuffer"));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer, "toBuffer"));
  exports.Set("meta", Napi::Function::New(env, Meta, "meta"));
  exports.Set("setMetaBuffer", Napi::Function::New(env, SetMetaBuffer, "setMetaBuffer"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("freeMany", Napi::Function::New(env, FreeMany, "freeMany"));
  exports.Set("liveCount", Napi::Function::New(env, LiveCount, "liveCount"));
  exports.Set("sameStorage", Napi::Function::New(env, SameStorage, "sameStorage"));
}

}  // namespace adl
