#include "runtime/backend.h"

namespace act::runtime {

// Weak: resolves to act_runtime_torch's definition when the program links it, to null otherwise.
extern Expected<std::unique_ptr<Backend>> CreateTorchBackend(ir::Graph graph, const SessionOptions& options)
    __attribute__((weak));

namespace {
Expected<std::unique_ptr<Backend>> CreateTorchIfLinked(ir::Graph graph, const SessionOptions& options) {
  if (&CreateTorchBackend == nullptr) {
    return Unsupported("the torch backend is not linked into this program (link act_runtime_torch)");
  }
  return CreateTorchBackend(std::move(graph), options);
}
}  // namespace

const std::vector<BackendInfo>& AllBackends() {
  static const std::vector<BackendInfo> kBackends = {
      {"onednn", "oneDNN primitives, fused post-ops, INT8 from Q/DQ patterns", &CreateOnednnBackend},
      {"torch", "the libtorch executor (reference)", &CreateTorchIfLinked},
      {"reference", "plain C++ kernels only: the reference the oneDNN kernels are tested against", &CreateReferenceBackend},
  };
  return kBackends;
}

std::vector<std::string> BackendNames() {
  std::vector<std::string> names;
  for (const auto& b : AllBackends()) names.push_back(b.name);
  return names;
}

}  // namespace act::runtime
