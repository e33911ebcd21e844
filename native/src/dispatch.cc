// Generic op calls through the c10 dispatcher: any aten operator, by schema.
// Arguments arrive as a JS array in schema order; the schema says how to read
// each one (a number is a tensor handle where the schema wants a Tensor).
// Autograd, CPU/CUDA kernels and type promotion all happen in the dispatcher.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/jit_type.h>

#include <cmath>  // std::nearbyint, std::abs (Scalar arguments)
#include <sstream>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "tensor_table.h"

namespace adl {
namespace {

std::vector<c10::OperatorHandle>& operators() {
  static std::vector<c10::OperatorHandle> ops;
  return ops;
}

int64_t handleOf(const Napi::Value& v, const c10::Argument& arg) {
  if (!v.IsNumber()) {
    throw std::runtime_error("argument '" + arg.name() + "' expects a tensor");
  }
  return v.As<Napi::Number>().Int64Value();
}

std::vector<int64_t> intList(const Napi::Value& v, const c10::Argument& arg) {
  if (v.IsNumber()) {  // int[2] stride=2 means [2, 2], as in TorchScript
    const size_t n = arg.N() ? static_cast<size_t>(*arg.N()) : 1;
    return std::vector<int64_t>(n, v.As<Napi::Number>().Int64Value());
  }
  if (!v.IsArray()) {
    throw std::runtime_error("argument '" + arg.name() + "' expects int[]");
  }
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  }
  return out;
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type,
                     const c10::Argument& arg);

c10::IValue listToIValue(const Napi::Value& v, const c10::ListType& list,
                         const c10::Argument& arg) {
  const auto& elem = list.getElementType();
  switch (elem->kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return c10::IValue(intList(v, arg));
    case c10::TypeKind::FloatType: {
      auto a = v.As<Napi::Array>();
      std::vector<double> out(a.Length());
      for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().DoubleValue();
      return c10::IValue(out);
    }
    case c10::TypeKind::BoolType: {
      auto a = v.As<Napi::Array>();
      c10::List<bool> out;
      for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).As<Napi::Boolean>().Value());
      return c10::IValue(out);
    }
    case c10::TypeKind::TensorType: {
      auto a = v.As<Napi::Array>();
      c10::List<at::Tensor> out;
      out.reserve(a.Length());
      for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(table().get(handleOf(a.Get(i), arg)));
      return c10::IValue(out);
    }
    case c10::TypeKind::OptionalType: {
      auto a = v.As<Napi::Array>();
      c10::List<c10::optional<at::Tensor>> out;
      for (uint32_t i = 0; i < a.Length(); ++i) {
        auto e = a.Get(i);
        if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
        else out.push_back(table().get(handleOf(e, arg)));
      }
      return c10::IValue(out);
    }
    default:
      throw std::runtime_error("argument '" + arg.name() + "' has unsupported list type " +
                               list.str());
  }
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type,
                     const c10::Argument& arg) {
  if (v.IsUndefined() || v.IsNull()) {
    if (v.IsUndefined() && arg.default_value()) return *arg.default_value();
    if (type->kind() == c10::TypeKind::OptionalType) return c10::IValue();
    throw std::runtime_error("missing required argument '" + arg.name() + "'");
  }
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      return toIValue(v, type->castRaw<c10::OptionalType>()->getElementType(), arg);
    case c10::TypeKind::TensorType:
      return c10::IValue(table().get(handleOf(v, arg)));
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return c10::IValue(v.As<Napi::Number>().Int64Value());
    case c10::TypeKind::FloatType:
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    case c10::TypeKind::BoolType:
      return c10::IValue(v.As<Napi::Boolean>().Value());
    case c10::TypeKind::NumberType: {  // Scalar: integral JS numbers stay integral
      if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
      const double d = v.As<Napi::Number>().DoubleValue();
      if (std::nearbyint(d) == d && std::abs(d) < 9.0e15) return c10::IValue(static_cast<int64_t>(d));
      return c10::IValue(d);
    }
    case c10::TypeKind::StringType:
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::DeviceObjType:
      return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
    case c10::TypeKind::ListType:
      return listToIValue(v, *type->castRaw<c10::ListType>(), arg);
    default:
      throw std::runtime_error("argument '" + arg.name() + "' has unsupported type " +
                               type->str());
  }
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const auto& t = v.toTensor();
    if (!t.defined()) return env.Null();
    const int64_t h = table().put(t);
    writeMeta(h, t);
    return Napi::Number::New(env, static_cast<double>(h));
  }
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(i, fromIValue(env, c10::IValue(list.get(i))));
    return out;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) out.Set(i, fromIValue(env, elems[i]));
    return out;
  }
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw std::runtime_error("unsupported return type " + v.tagKind());
}

// The shapes of the tensor arguments, for error messages (the stack is gone
// by the time a kernel throws, so they are read again from the JS arguments).
std::string describeInputs(const Napi::Array& args, const c10::FunctionSchema& schema) {
  std::ostringstream s;
  bool first = true;
  const auto& formals = schema.arguments();
  for (uint32_t i = 0; i < args.Length() && i < formals.size(); ++i) {
    const auto v = args.Get(i);
    if (formals[i].type()->kind() != c10::TypeKind::TensorType &&
        formals[i].type()->kind() != c10::TypeKind::OptionalType) continue;
    if (!v.IsNumber()) continue;
    try {
      const auto& t = table().get(v.As<Napi::Number>().Int64Value());
      s << (first ? "" : ", ") << formals[i].name() << "=" << t.sizes() << ":" << t.scalar_type();
      first = false;
    } catch (...) {
    }
  }
  return s.str();
}

// op(name, overload) -> op id (throws when no such operator exists)
Napi::Value Op(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto name = info[0].As<Napi::String>().Utf8Value();
  const auto overload = info[1].As<Napi::String>().Utf8Value();
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    throw Napi::Error::New(env, "no operator " + name + (overload.empty() ? "" : "." + overload) +
                                    " in this libtorch");
  }
  operators().push_back(*handle);
  return Napi::Number::New(env, static_cast<double>(operators().size() - 1));
}

Napi::Value Schema(const Napi::CallbackInfo& info) {
  const auto id = info[0].As<Napi::Number>().Uint32Value();
  std::ostringstream s;
  s << operators().at(id).schema();
  return Napi::String::New(info.Env(), s.str());
}

// call(opId, args[], discardResult?) -> handle | value | array
Napi::Value Call(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= operators().size()) throw Napi::Error::New(env, "bad operator id");
  const auto& op = operators()[id];
  const auto& schema = op.schema();
  std::vector<c10::IValue> stack;
  ADL_TRY
    const auto args = info[1].As<Napi::Array>();
    const auto& formals = schema.arguments();
    if (args.Length() > formals.size()) {
      throw std::runtime_error("takes " + std::to_string(formals.size()) + " arguments, got " +
                               std::to_string(args.Length()));
    }
    stack.reserve(formals.size());
    for (size_t i = 0; i < formals.size(); ++i) {
      const Napi::Value v = i < args.Length() ? args.Get(i) : env.Undefined();
      stack.push_back(toIValue(v, formals[i].type(), formals[i]));
    }
  ADL_CATCH(env, schema.name())
  const bool discard = info.Length() > 2 && info[2].ToBoolean().Value();
  profilerNoteCall(stack);  // libtorch's boxed calls do not hand their inputs to the profiler
  try {
    op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, schema.name() + " (" + describeInputs(info[1].As<Napi::Array>(), schema) + "): " +
                                    e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, schema.name() + ": " + e.what());
  }
  if (discard) return env.Undefined();
  ADL_TRY
    if (stack.empty()) return env.Undefined();
    if (stack.size() == 1) return fromIValue(env, stack[0]);
    auto out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); ++i) out.Set(i, fromIValue(env, stack[i]));
    return out;
  ADL_CATCH(env, schema.name())
}

}  // namespace

void registerDispatch(Napi::Env env, Napi::Object exports) {
  exports.Set("op", Napi::Function::New(env, Op, "op"));
  exports.Set("schema", Napi::Function::New(env, Schema, "schema"));
  exports.Set("call", Napi::Function::New(env, Call, "call"));
}

}  // namespace adl
