// The oneDNN backend: one Plan per input-shape signature, built on first use and cached.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>

#include "core/logging.h"
#include "runtime/backend.h"
#include "runtime/onednn/dnnl_kernels.h"
#include "runtime/onednn/plan.h"
#include "runtime/onednn/plan_builder.h"

namespace act::runtime {
namespace {

// ACT_RUNTIME_DUMP=1 prints every planned kernel with the values it writes (layout, shape): a debugging aid.
void Dump(const onednn::Plan& plan) {
  for (const auto& k : plan.kernels) {
    std::string impl;
    if (auto* d = dynamic_cast<const onednn::DnnlKernel*>(k.get())) {
      const_dnnl_primitive_desc_t pd = nullptr;
      if (dnnl_primitive_get_primitive_desc(d->primitive.get(), &pd) == dnnl_success) {
        const char* name = nullptr;
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
        if (name) impl = name;
      }
    }
    std::fprintf(stderr, "%-32s %-22s %-24s ->", k->label.c_str(), impl.c_str(), k->node_name.c_str());
    for (int id : k->writes) {
      const onednn::Value& v = plan.values[id];
      std::fprintf(stderr, " %s%s%s", v.name.c_str(), ShapeToString(v.shape).c_str(), v.blocked ? "(blocked)" : "");
    }
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr, "arena: %zu bytes\n", plan.arena_bytes());
}

// SessionOptions::profile_per_kernel (`bench --profile-kernels`): the profile lists every kernel on its own,
// with the shapes it reads and writes, a convolution's weight shape (groups, kernel size) and oneDNN's
// implementation name.
std::string Dims(const dnnl_memory_desc_t* md) {
  std::string s;
  for (int i = 0; md && i < md->ndims; ++i) s += (i ? "x" : "") + std::to_string(md->dims[i]);
  return s;
}

void DescribeKernels(onednn::Plan& plan) {
  for (auto& k : plan.kernels) {
    std::string d;
    for (int id : k->reads) {
      const onednn::Value& v = plan.values[id];
      d += (d.empty() ? "" : ",") + DTypeName(v.dtype) + ShapeToString(v.shape);
    }
    d += " ->";
    for (int id : k->writes) {
      const onednn::Value& v = plan.values[id];
      d += " " + DTypeName(v.dtype) + ShapeToString(v.shape);
    }
    if (auto* dk = dynamic_cast<const onednn::DnnlKernel*>(k.get())) {
      const_dnnl_primitive_desc_t pd = nullptr;
      if (dk->primitive && dnnl_primitive_get_primitive_desc(dk->primitive.get(), &pd) == dnnl_success) {
        const dnnl_memory_desc_t* w = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        if (w && w->ndims > 0) d += " w" + Dims(w);
        const char* name = nullptr;
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
        if (name) d += std::string(" [") + name + "]";
      }
    }
    if (k->threads == onednn::Kernel::Threads::kOne && omp_get_max_threads() > 1) d += " (1 thread)";
    k->detail = d;
  }
  plan.profile_per_kernel = true;
}

class OnednnBackend : public Backend {
 public:
  OnednnBackend(ir::Graph graph, const SessionOptions& options, bool lower_to_onednn)
      : graph_(std::move(graph)), options_(options), lower_to_onednn_(lower_to_onednn),
        engine_(dnnl::engine::kind::cpu, 0) {}

  Expected<std::map<std::string, Tensor>> Run(const std::map<std::string, Tensor>& inputs) override {
    if (options_.threads > 0) omp_set_num_threads(options_.threads);
    std::string signature;
    for (const ir::ValueInfo& in : graph_.inputs) {
      auto it = inputs.find(in.name);
      if (it == inputs.end()) return InvalidInput("input '" + in.name + "' is missing");
      const Tensor& t = it->second;
      if (in.dtype != DType::kUndefined && t.dtype() != in.dtype) {
        return InvalidInput("input '" + in.name + "' must be " + DTypeName(in.dtype) + ", got " + DTypeName(t.dtype()));
      }
      if (in.shape) {
        if (in.shape->size() != t.rank()) {
          return InvalidInput("input '" + in.name + "' must have shape " + in.ShapeString() + ", got " + ShapeToString(t.shape()));
        }
        for (size_t d = 0; d < t.rank(); ++d) {
          if ((*in.shape)[d].known() && (*in.shape)[d].value != t.dim(d)) {
            return InvalidInput("input '" + in.name + "' must have shape " + in.ShapeString() + ", got " + ShapeToString(t.shape()));
          }
        }
      }
      signature += DTypeName(t.dtype()) + ShapeToString(t.shape()) + ";";
    }
    onednn::Plan* plan = nullptr;
    for (auto& [sig, p] : plans_) if (sig == signature) plan = p.get();
    try {
      if (!plan) {
        auto fresh = std::make_unique<onednn::Plan>(engine_);
        onednn::PlanBuilder builder(graph_, *fresh, lower_to_onednn_);
        ACT_RETURN_IF_ERROR(builder.Build(inputs));
        ACT_RETURN_IF_ERROR(fresh->Finalize());
        ACT_LOG(kInfo, "onednn: planned " << fresh->kernels.size() << " kernels, arena " << fresh->arena_bytes() / 1024
                                           << " KiB for inputs " << signature);
        if (std::getenv("ACT_RUNTIME_DUMP")) Dump(*fresh);
        if (options_.profile && options_.profile_per_kernel) DescribeKernels(*fresh);
        if (plans_.size() >= kMaxPlans) plans_.pop_front();
        plans_.emplace_back(signature, std::move(fresh));
        plan = plans_.back().second.get();
      }
      return plan->Run(inputs, options_.profile, &profile_);
    } catch (const dnnl::error& e) {
      return Internal(std::string("oneDNN error: ") + e.what());
    }
  }

  std::vector<OpProfile> Profile() const override {
    std::vector<OpProfile> result;
    for (const auto& [label, p] : profile_) result.push_back(p);
    return result;
  }
  void ResetProfile() override { profile_.clear(); }

 private:
  static constexpr size_t kMaxPlans = 16;
  ir::Graph graph_;
  SessionOptions options_;
  bool lower_to_onednn_;
  dnnl::engine engine_;
  std::deque<std::pair<std::string, std::unique_ptr<onednn::Plan>>> plans_;
  std::map<std::string, OpProfile> profile_;
};

// DequantizeLinear nodes with the same inputs and axis compute the same value; exporters write one per
// consumer. Keeping one lets the INT8 patterns see a quantized tensor's readers together (a hard-swish
// reads its input twice). Returns how many were merged.
int MergeDuplicateDequantize(ir::Graph& graph) {
  std::map<std::string, std::string> first;  // key → output of the first such node
  std::vector<int> duplicates;
  for (int i = 0; i < static_cast<int>(graph.nodes.size()); ++i) {
    const ir::Node& n = graph.nodes[i];
    if (n.op_type != "DequantizeLinear" || n.outputs.size() != 1 || graph.IsGraphOutput(n.outputs[0])) continue;
    std::string key;
    for (const std::string& in : n.inputs) key += in + "|";
    key += std::to_string(n.GetInt("axis", 1));
    auto [it, inserted] = first.emplace(key, n.outputs[0]);
    if (!inserted) duplicates.push_back(i);
  }
  for (int i : duplicates) {
    const ir::Node& n = graph.nodes[i];
    std::string key;
    for (const std::string& in : n.inputs) key += in + "|";
    key += std::to_string(n.GetInt("axis", 1));
    graph.ReplaceAllUses(n.outputs[0], first.at(key));
  }
  graph.RemoveNodes(duplicates);
  return static_cast<int>(duplicates.size());
}

}  // namespace

Expected<std::unique_ptr<Backend>> CreateOnednnBackend(ir::Graph graph, const SessionOptions& options) {
  try {
    MergeDuplicateDequantize(graph);
    return std::unique_ptr<Backend>(new OnednnBackend(std::move(graph), options, true));
  } catch (const dnnl::error& e) {
    return Internal(std::string("cannot create the oneDNN CPU engine: ") + e.what());
  }
}

Expected<std::unique_ptr<Backend>> CreateReferenceBackend(ir::Graph graph, const SessionOptions& options) {
  try {
    return std::unique_ptr<Backend>(new OnednnBackend(std::move(graph), options, false));
  } catch (const dnnl::error& e) {
    return Internal(std::string("cannot create the oneDNN CPU engine: ") + e.what());
  }
}

}  // namespace act::runtime
