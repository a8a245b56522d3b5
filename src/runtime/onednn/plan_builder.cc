#include "runtime/onednn/plan_builder.h"

#include <algorithm>
#include <set>

#include "runtime/onednn/dnnl_kernels.h"
#include "runtime/onednn/int8_lowering.h"
#include "runtime/onednn/reference_ops.h"

namespace act::runtime::onednn {
namespace {

// Executes a reference kernel over plan buffers.
class ReferenceKernel : public Kernel {
 public:
  ReferenceKernel(const ir::Node& node, int64_t opset, RefFunction run) : node_(node), opset_(opset), run_(run) {}
  std::vector<int> inputs;   // -1 for absent optional inputs
  std::vector<int> outputs;  // -1 for absent outputs

  Status Bind(Plan& plan) override {
    in_.assign(inputs.size(), View{});
    out_.assign(outputs.size(), View{});
    for (size_t i = 0; i < inputs.size(); ++i) if (inputs[i] >= 0) in_[i] = plan.ViewOf(inputs[i]);
    for (size_t i = 0; i < outputs.size(); ++i) if (outputs[i] >= 0) out_[i] = plan.ViewOf(outputs[i]);
    return Status::Ok();
  }
  Status Execute(Plan& plan) override {
    RefCall call{node_, opset_, in_, out_, true};
    return run_(call);
  }

 private:
  ir::Node node_;
  int64_t opset_;
  RefFunction run_;
  std::vector<View> in_, out_;
};

}  // namespace

PlanBuilder::PlanBuilder(const ir::Graph& graph, Plan& plan, bool lower_to_onednn)
    : graph_(graph), plan_(plan), opset_(graph.opset()), lower_to_onednn_(lower_to_onednn),
      consumed_(graph.nodes.size(), false) {}

bool PlanBuilder::Has(const std::string& name) const {
  return plan_.ids.count(name) > 0 || graph_.IsInitializer(name) || lazy_dq_.count(name) > 0 || views_.count(name) > 0 ||
         tables_.count(name) > 0;
}

Status PlanBuilder::Materialize(const std::string& value) {
  if (auto table = tables_.find(value); table != tables_.end()) {
    const TableView v = table->second;
    tables_.erase(table);
    ACT_ASSIGN_OR_RETURN(int q, Id(v.quantized));
    return AddFloatLookup(*this, q, v.table, value).status();
  }
  auto view = views_.find(value);
  if (view != views_.end()) {
    const QuantizedView v = view->second;
    views_.erase(view);
    materialized_[value] = v;
    ACT_ASSIGN_OR_RETURN(int q, Id(v.quantized));
    return AddDequantize(*this, q, v.scale, v.zero_point, value).status();
  }
  auto it = lazy_dq_.find(value);
  const int index = it->second;
  lazy_dq_.erase(it);
  const ir::Node& node = graph_.nodes[index];
  for (const std::string& in : node.inputs) {
    if (!in.empty() && !Const(in)) {
      // Per-tensor activations dequantize with one oneDNN reorder; the rest on the reference kernel.
      const Tensor* scale = Const(node.Input(1));
      const Tensor* zp = node.Input(2).empty() ? nullptr : Const(node.Input(2));
      ACT_ASSIGN_OR_RETURN(int q, Id(node.inputs[0]));
      if (scale && scale->numel() == 1 && scale->dtype() == DType::kFloat32 && (node.Input(2).empty() || (zp && zp->numel() == 1)) &&
          IsDnnlDType(V(q).dtype)) {
        const float s = scale->data<float>()[0];
        const int32_t z = zp ? static_cast<int32_t>(zp->ElementAsDouble(0)) : 0;
        const bool int8 = V(q).dtype == DType::kUInt8 || V(q).dtype == DType::kInt8;
        if (int8 && s > 0 && !V(q).is_const && (!zp || zp->dtype() == V(q).dtype)) {
          materialized_[value] = QuantizedView{node.inputs[0], s, z};  // see MaterializedView
        }
        return AddDequantize(*this, q, s, z, node.outputs[0]).status();
      }
      return BuildReference(index);
    }
  }
  return Fold(index);
}

Expected<int> PlanBuilder::Id(const std::string& name) {
  auto it = plan_.ids.find(name);
  if (it != plan_.ids.end()) return it->second;
  if (lazy_dq_.count(name) || views_.count(name) || tables_.count(name)) {
    ACT_RETURN_IF_ERROR(Materialize(name));
    return plan_.ids.at(name);
  }
  if (const Tensor* t = graph_.Initializer(name)) return AddConst(name, *t);
  return Internal("value '" + name + "' is used before it is produced");
}

const Tensor* PlanBuilder::Const(const std::string& name) {
  if (name.empty()) return nullptr;
  if (int dq = DeferredDequantize(name); dq >= 0) {
    for (const std::string& in : graph_.nodes[dq].inputs) {
      if (!in.empty() && !Const(in)) return nullptr;
    }
    if (!Materialize(name).ok()) return nullptr;
  }
  auto it = plan_.ids.find(name);
  if (it != plan_.ids.end()) {
    const Value& v = plan_.values[it->second];
    return v.is_const ? &v.constant : nullptr;
  }
  if (const Tensor* t = graph_.Initializer(name)) {
    Expected<int> id = Id(name);
    return id.ok() ? &plan_.values[*id].constant : t;
  }
  return nullptr;
}

int PlanBuilder::AddValue(const std::string& name, DType dtype, const Shape& shape, const dnnl::memory::desc& md) {
  Value v;
  v.name = name;
  v.dtype = dtype;
  v.shape = shape;
  v.md = md;
  if (IsDnnlDType(dtype)) {
    v.blocked = !(md == PlainDesc(shape, dtype));
    v.nbytes = md.get_size();
  } else {
    v.nbytes = NumElements(shape) * DTypeSize(dtype);
  }
  plan_.values.push_back(std::move(v));
  const int id = static_cast<int>(plan_.values.size()) - 1;
  plan_.ids[name] = id;
  return id;
}

int PlanBuilder::AddPlainValue(const std::string& name, DType dtype, const Shape& shape) {
  return AddValue(name, dtype, shape, IsDnnlDType(dtype) ? PlainDesc(shape, dtype) : dnnl::memory::desc());
}

int PlanBuilder::AddConst(const std::string& name, Tensor tensor) {
  const int id = AddPlainValue(name, tensor.dtype(), tensor.shape());
  Value& v = plan_.values[id];
  v.is_const = true;
  v.nbytes = tensor.nbytes();
  v.constant = std::move(tensor);
  return id;
}

Expected<int> PlanBuilder::Plain(int id) {
  if (!plan_.values[id].blocked) return id;
  auto it = plain_of_.find(id);
  if (it != plain_of_.end()) return it->second;
  const Value v = plan_.values[id];
  const int plain = AddPlainValue(v.name + "#plain", v.dtype, v.shape);
  plan_.values[plain].quant = v.quant;
  plan_.ids[v.name] = id;  // the name keeps meaning the producer's value
  AddKernel(MakeReorderKernel(plan_, id, plain));
  plain_of_[id] = plain;
  return plain;
}

Expected<int> PlanBuilder::Reordered(int id, const dnnl::memory::desc& md) {
  if (plan_.values[id].md == md) return id;
  const Value v = plan_.values[id];
  if (!v.blocked && md == PlainDesc(v.shape, v.dtype)) return id;
  const int out = AddValue(v.name + "#reorder" + std::to_string(plan_.values.size()), v.dtype, v.shape, md);
  plan_.values[out].quant = v.quant;
  plan_.ids[v.name] = id;
  AddKernel(MakeReorderKernel(plan_, id, out));
  return out;
}

std::vector<int> PlanBuilder::Consumers(const std::string& value) const {
  std::vector<int> result;
  for (int c : graph_.Consumers(value)) {
    if (!consumed_[c] && std::find(result.begin(), result.end(), c) == result.end()) result.push_back(c);
  }
  return result;
}

int PlanBuilder::SoleConsumer(const std::string& value) const {
  if (IsGraphOutput(value)) return -1;
  std::vector<int> all = graph_.Consumers(value);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  if (all.size() != 1 || consumed_[all[0]]) return -1;
  // A node reading the value twice (Mul(x, x)) is not a chain continuation.
  const ir::Node& n = graph_.nodes[all[0]];
  if (std::count(n.inputs.begin(), n.inputs.end(), value) != 1) return -1;
  return all[0];
}

Status PlanBuilder::Fold(int index) {
  const ir::Node& node = graph_.nodes[index];
  std::vector<Tensor> inputs;
  for (const std::string& name : node.inputs) {
    if (name.empty()) { inputs.emplace_back(); continue; }
    inputs.push_back(*Const(name));
  }
  ACT_ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunReferenceOp(node, opset_, inputs));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (!node.outputs[i].empty()) AddConst(node.outputs[i], std::move(outputs[i]));
  }
  return Status::Ok();
}

Status PlanBuilder::BuildReference(int index, const std::vector<std::string>* input_names,
                                   const std::vector<std::string>* output_names) {
  ir::Node node = graph_.nodes[index];
  if (input_names) node.inputs = *input_names;
  if (output_names) node.outputs = *output_names;
  const RefOpInfo* info = FindReferenceOp(node.op_type);
  if (!info) {
    return Unsupported(node.Describe() + ": op type " + node.op_type +
                       " is not supported by the onednn backend (no oneDNN lowering and no reference kernel)");
  }
  std::vector<int> in_ids;
  std::vector<View> in_views;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const std::string& name = node.inputs[i];
    if (name.empty()) { in_ids.push_back(-1); in_views.emplace_back(); continue; }
    ACT_ASSIGN_OR_RETURN(int id, Id(name));
    ACT_ASSIGN_OR_RETURN(id, Plain(id));
    in_ids.push_back(id);
    const Value& v = V(id);
    in_views.push_back(View{v.dtype, v.shape, v.is_const ? const_cast<void*>(v.constant.raw_data()) : nullptr});
  }
  std::vector<View> out_views(node.outputs.size());
  RefCall call{node, opset_, in_views, out_views, false};
  ACT_RETURN_IF_ERROR(info->run(call));
  if (info->alias) {
    const int out = AddPlainValue(node.outputs[0], out_views[0].dtype, out_views[0].shape);
    V(out).alias_of = in_ids[0];
    V(out).quant = V(in_ids[0]).quant;
    V(out).nbytes = 0;
    for (size_t i = 1; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty()) AddPlainValue(node.outputs[i], out_views[i].dtype, out_views[i].shape);
    }
    // Optional extra outputs of an alias op (Dropout's mask) still need a writer: fall through only then.
    if (node.outputs.size() == 1 || node.outputs[1].empty()) return Status::Ok();
  }
  auto kernel = std::make_unique<ReferenceKernel>(node, opset_, info->run);
  kernel->label = node.op_type;
  kernel->node_name = node.name;
  kernel->inputs = in_ids;
  for (int id : in_ids) if (id >= 0) kernel->reads.push_back(id);
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i].empty()) { kernel->outputs.push_back(-1); continue; }
    int id;
    if (info->alias && i == 0) {
      id = plan_.ids.at(node.outputs[0]);
    } else if (info->alias) {
      id = plan_.ids.at(node.outputs[i]);
    } else {
      id = AddPlainValue(node.outputs[i], out_views[i].dtype, out_views[i].shape);
    }
    kernel->outputs.push_back(id);
    kernel->writes.push_back(id);
  }
  AddKernel(std::move(kernel));
  return Status::Ok();
}

bool PlanBuilder::TryFoldPad(int index) {
  const ir::Node& node = graph_.nodes[index];
  if (node.GetString("mode", "constant") != "constant") return false;
  std::vector<int64_t> pads = node.GetInts("pads");
  if (!node.Input(1).empty()) {
    const Tensor* t = Const(node.Input(1));
    if (!t) return false;
    pads.clear();
    for (int64_t i = 0; i < t->numel(); ++i) pads.push_back(static_cast<int64_t>(t->ElementAsDouble(i)));
  }
  if (!node.Input(2).empty()) {
    const Tensor* v = Const(node.Input(2));
    if (!v || v->numel() != 1 || v->ElementAsDouble(0) != 0) return false;
  } else if (node.GetFloat("value", 0.f) != 0.f) {
    return false;
  }
  if (!node.Input(3).empty() || pads.size() < 6 || pads.size() % 2) return false;
  const size_t rank = pads.size() / 2;
  for (size_t i : {size_t{0}, size_t{1}}) if (pads[i] != 0 || pads[i + rank] != 0) return false;
  for (int64_t p : pads) if (p < 0) return false;
  const int ci = SoleConsumer(node.outputs[0]);
  if (ci < 0) return false;
  const ir::Node& reader = graph_.nodes[ci];
  if (reader.inputs[0] != node.outputs[0] || reader.GetString("auto_pad", "NOTSET") != "NOTSET") return false;
  if (reader.op_type == "AveragePool") {
    // Zeros counted as elements = average with padding included; the pool must not pad on its own.
    for (int64_t p : reader.GetInts("pads")) if (p != 0) return false;
  } else if (reader.op_type != "Conv") {
    return false;
  }
  pad_folds_[node.outputs[0]] = PadFold{node.inputs[0], pads};
  return true;
}

Status PlanBuilder::BuildNode(int index) {
  const ir::Node& node = graph_.nodes[index];
  if (node.op_type == "Constant") {
    auto it = node.attributes.find("value");
    if (it == node.attributes.end() || it->second.kind != ir::Attribute::Kind::kTensor) {
      return Unsupported(node.Describe() + ": only tensor-valued Constant nodes are supported");
    }
    AddConst(node.outputs[0], it->second.t);
    return Status::Ok();
  }
  if (!node.domain.empty() && node.domain != "ai.onnx") {
    return Unsupported(node.Describe() + ": ops of domain '" + node.domain + "' are not supported by the onednn backend");
  }
  // Shape only needs the input's shape.
  if (node.op_type == "Shape" || node.op_type == "Size") {
    // A deferred dequantization (or quantized view) has its quantized tensor's shape: asking for it must
    // not make the DequantizeLinear run (the INT8 kernel reading the same value would then see floats).
    int id = -1;
    if (const int dq = DeferredDequantize(node.inputs[0]); dq >= 0) {
      ACT_ASSIGN_OR_RETURN(id, Id(graph_.nodes[dq].inputs[0]));
    } else if (const QuantizedView* view = DeferredView(node.inputs[0])) {
      ACT_ASSIGN_OR_RETURN(id, Id(view->quantized));
    } else {
      ACT_ASSIGN_OR_RETURN(id, Id(node.inputs[0]));
    }
    std::vector<View> in = {View{V(id).dtype, V(id).shape, nullptr}};
    std::vector<View> out(1);
    RefCall plan_call{node, opset_, in, out, false};
    ACT_RETURN_IF_ERROR(FindReferenceOp(node.op_type)->run(plan_call));
    Tensor t(out[0].dtype, out[0].shape);
    out[0].data = t.raw_data();
    RefCall run_call{node, opset_, in, out, true};
    ACT_RETURN_IF_ERROR(FindReferenceOp(node.op_type)->run(run_call));
    AddConst(node.outputs[0], std::move(t));
    return Status::Ok();
  }
  // INT8 patterns (DQ → Conv/MatMul/Gemm → Q, and Q/DQ around data movement) are tried first.
  if (lower_to_onednn_) {
    ACT_ASSIGN_OR_RETURN(bool int8_done, TryBuildInt8(*this, index));
    if (int8_done) return Status::Ok();
  }

  bool all_const = FindReferenceOp(node.op_type) != nullptr;
  for (const std::string& name : node.inputs) {
    if (!name.empty() && !Const(name)) { all_const = false; break; }
  }
  if (all_const) return Fold(index);
  if (!lower_to_onednn_) return BuildReference(index);
  if (node.op_type == "Pad" && TryFoldPad(index)) return Status::Ok();
  if (const DnnlOpInfo* op = FindDnnlOp(node.op_type)) {
    ACT_ASSIGN_OR_RETURN(bool done, op->build(*this, index));
    if (done) return Status::Ok();
  }
  return BuildReference(index);
}

Status PlanBuilder::Build(const std::map<std::string, Tensor>& inputs) {
  for (const ir::ValueInfo& in : graph_.inputs) {
    auto it = inputs.find(in.name);
    if (it == inputs.end()) return InvalidInput("input '" + in.name + "' is missing");
    const int id = AddPlainValue(in.name, it->second.dtype(), it->second.shape());
    plan_.input_ids.push_back(id);
  }
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (consumed_[i]) continue;
    consumed_[i] = true;
    ACT_RETURN_IF_ERROR(BuildNode(static_cast<int>(i)));
  }
  for (const ir::ValueInfo& out : graph_.outputs) {
    ACT_ASSIGN_OR_RETURN(int id, Id(out.name));
    ACT_ASSIGN_OR_RETURN(id, Plain(id));
    plan_.outputs.emplace_back(out.name, id);
  }
  return Status::Ok();
}

}  // namespace act::runtime::onednn
