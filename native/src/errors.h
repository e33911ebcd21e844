// One place turns every C++ failure into a JS Error: the process never aborts.
#pragma once
#include <c10/util/Exception.h>
#include <napi.h>
#include <string>

#define ADL_TRY try {
#define ADL_CATCH(env, label)                                                  \
  }                                                                           \
  catch (const Napi::Error&) {                                                \
    throw;                                                                    \
  }                                                                           \
  catch (const c10::Error& e) {                                               \
    throw Napi::Error::New(env, std::string(label) + ": " +                    \
                                    e.what_without_backtrace());              \
  }                                                                           \
  catch (const std::exception& e) {                                           \
    throw Napi::Error::New(env, std::string(label) + ": " + e.what());         \
  }
