// The `torch` backend: the libtorch executor (exec::Runner) behind the runtime's Backend interface. It is
// the reference the onednn backend is compared with, and runs any op the executor lowers.
#include "exec/runner.h"
#include "runtime/backend.h"

namespace act::runtime {
namespace {

class TorchBackend : public Backend {
 public:
  explicit TorchBackend(std::unique_ptr<exec::Runner> runner) : runner_(std::move(runner)) {}
  Expected<std::map<std::string, Tensor>> Run(const std::map<std::string, Tensor>& inputs) override {
    return runner_->Run(inputs);
  }

 private:
  std::unique_ptr<exec::Runner> runner_;
};

}  // namespace

Expected<std::unique_ptr<Backend>> CreateTorchBackend(ir::Graph graph, const SessionOptions& options) {
  exec::RunnerOptions runner_options;
  runner_options.threads = options.threads;
  ACT_ASSIGN_OR_RETURN(std::unique_ptr<exec::Runner> runner, exec::Runner::Create(graph, runner_options));
  return std::unique_ptr<Backend>(new TorchBackend(std::move(runner)));
}

}  // namespace act::runtime
