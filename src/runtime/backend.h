// The runtime's backend interface and the explicit table of backends (DESIGN.md §4).
//
// A backend is created from a normalized graph and runs it. `onednn` lives in this library; `torch` (the
// libtorch executor, the reference) lives in act_runtime_torch so that act_runtime never links libtorch.
// Its table entry resolves only when a program links act_runtime_torch (a weak reference: without it,
// asking for `torch` is an error saying so).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "act/runtime.h"
#include "ir/graph.h"

namespace act::runtime {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Expected<std::map<std::string, Tensor>> Run(const std::map<std::string, Tensor>& inputs) = 0;
  virtual std::vector<OpProfile> Profile() const { return {}; }
  virtual void ResetProfile() {}
};

using BackendFactory = Expected<std::unique_ptr<Backend>> (*)(ir::Graph graph, const SessionOptions& options);

struct BackendInfo {
  const char* name;
  const char* description;
  BackendFactory create;
};

const std::vector<BackendInfo>& AllBackends();

Expected<std::unique_ptr<Backend>> CreateOnednnBackend(ir::Graph graph, const SessionOptions& options);
// The onednn backend's planner with every node on its plain C++ reference kernel: slow, for tests.
Expected<std::unique_ptr<Backend>> CreateReferenceBackend(ir::Graph graph, const SessionOptions& options);
// Defined by act_runtime_torch (src/runtime/torch).
Expected<std::unique_ptr<Backend>> CreateTorchBackend(ir::Graph graph, const SessionOptions& options);

}  // namespace act::runtime
