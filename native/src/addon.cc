// autodeeplab native binding: a thin, generic layer over libtorch.
// No model logic lives here; see src/engine for the typed API over it.
#include "addon.h"

namespace adl {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  registerDispatch(env, exports);
  registerTensors(env, exports);
  registerAutograd(env, exports);
  registerRuntime(env, exports);
  registerDistributed(env, exports);
  registerProfiler(env, exports);
  return exports;
}

NODE_API_MODULE(autodeeplab, Init)

}  // namespace adl
