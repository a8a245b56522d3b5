#include "runtime/onednn/post_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace act::runtime::onednn {

using dnnl::algorithm;

bool ConstScalar(PlanBuilder& b, const std::string& name, float* value) {
  const Tensor* t = b.Const(name);
  if (!t || t->numel() != 1) return false;
  if (t->dtype() != DType::kFloat32 && t->dtype() != DType::kFloat64) return false;
  *value = static_cast<float>(t->ElementAsDouble(0));
  return true;
}

bool PostOpChain::has_binary() const {
  for (const PostOp& op : ops) if (op.binary) return true;
  return false;
}

dnnl::post_ops PostOpChain::ToDnnl(PlanBuilder& b) const {
  dnnl::post_ops po;
  for (const PostOp& op : ops) {
    if (op.sum) po.append_sum(1.f);
    else if (op.binary) po.append_binary(op.alg, b.V(op.src1).md);
    else po.append_eltwise(1.f, op.alg, op.alpha, op.beta);
  }
  return po;
}

std::vector<std::pair<int, int>> PostOpChain::BinaryArgs() const {
  std::vector<std::pair<int, int>> args;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].binary) args.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(static_cast<int>(i)) | DNNL_ARG_SRC_1, ops[i].src1);
  }
  return args;
}

int PostOpChain::SumSource() const {
  for (const PostOp& op : ops) if (op.sum) return op.src1;
  return -1;
}

std::string PostOpChain::Label() const {
  std::string s;
  for (const PostOp& op : ops) if (!op.label.empty()) s += "+" + op.label;
  return s;
}

namespace {

// Clip bounds from inputs 1/2 (opset ≥ 11) or attributes (older); false when they are not constants.
bool ClipBounds(PlanBuilder& b, const ir::Node& n, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::max();
  *hi = std::numeric_limits<float>::max();
  if (n.HasAttr("min")) *lo = n.GetFloat("min", *lo);
  if (n.HasAttr("max")) *hi = n.GetFloat("max", *hi);
  if (!n.Input(1).empty() && !ConstScalar(b, n.Input(1), lo)) return false;
  if (!n.Input(2).empty() && !ConstScalar(b, n.Input(2), hi)) return false;
  return true;
}

const std::string& Other(const ir::Node& n, const std::string& value) {
  return n.inputs[0] == value ? n.inputs[1] : n.inputs[0];
}

bool Near(float a, float b) { return std::abs(a - b) <= 1e-6f * std::max(1.f, std::abs(b)); }

// x · Clip(x + 3, 0, 6) / 6 (Paddle's hardswish export), or x · HardSigmoid(x) with α = 1/6, β = 1/2.
// Returns the chain's output and the nodes it covers.
bool MatchHardSwish(PlanBuilder& b, const std::string& x, std::string* out, std::vector<int>* nodes) {
  const std::vector<int> cons = b.Consumers(x);
  if (cons.size() != 2) return false;
  const auto& g = b.graph().nodes;
  for (int k = 0; k < 2; ++k) {
    const ir::Node& first = g[cons[k]];
    const int mul_index = cons[1 - k];
    const ir::Node& mul = g[mul_index];
    if (mul.op_type != "Mul" || mul.inputs.size() != 2) continue;
    if (first.op_type == "HardSigmoid") {
      if (!Near(first.GetFloat("alpha", 0.2f), 1.f / 6) || !Near(first.GetFloat("beta", 0.5f), 0.5f)) continue;
      if (b.SoleConsumer(first.outputs[0]) != mul_index || Other(mul, x) != first.outputs[0]) continue;
      *out = mul.outputs[0];
      *nodes = {cons[k], mul_index};
      return true;
    }
    float c = 0;
    if (first.op_type != "Add" || first.inputs.size() != 2 || !ConstScalar(b, Other(first, x), &c) || !Near(c, 3.f)) continue;
    const int clip_index = b.SoleConsumer(first.outputs[0]);
    if (clip_index < 0 || g[clip_index].op_type != "Clip") continue;
    float lo, hi;
    if (!ClipBounds(b, g[clip_index], &lo, &hi) || !Near(lo, 0.f) || !Near(hi, 6.f)) continue;
    if (b.SoleConsumer(g[clip_index].outputs[0]) != mul_index || Other(mul, x) != g[clip_index].outputs[0]) continue;
    const int div_index = b.SoleConsumer(mul.outputs[0]);
    if (div_index < 0) continue;
    const ir::Node& div = g[div_index];
    if (div.inputs.size() != 2 || div.inputs[0] != mul.outputs[0]) continue;
    if (!ConstScalar(b, div.inputs[1], &c)) continue;
    if (!((div.op_type == "Div" && Near(c, 6.f)) || (div.op_type == "Mul" && Near(c, 1.f / 6)))) continue;
    *out = div.outputs[0];
    *nodes = {cons[k], clip_index, mul_index, div_index};
    return true;
  }
  return false;
}

// x · Sigmoid(x).
bool MatchSwish(PlanBuilder& b, const std::string& x, std::string* out, std::vector<int>* nodes) {
  const std::vector<int> cons = b.Consumers(x);
  if (cons.size() != 2) return false;
  const auto& g = b.graph().nodes;
  for (int k = 0; k < 2; ++k) {
    const ir::Node& sig = g[cons[k]];
    const ir::Node& mul = g[cons[1 - k]];
    if (sig.op_type != "Sigmoid" || mul.op_type != "Mul" || mul.inputs.size() != 2) continue;
    if (b.SoleConsumer(sig.outputs[0]) != cons[1 - k] || Other(mul, x) != sig.outputs[0]) continue;
    *out = mul.outputs[0];
    *nodes = {cons[k], cons[1 - k]};
    return true;
  }
  return false;
}

}  // namespace

void MergeLastEltwise(std::vector<PostOp>* ops) {
  const size_t n = ops->size();
  if (n < 2) return;
  PostOp& first = (*ops)[n - 2];
  const PostOp& second = (*ops)[n - 1];
  if (first.binary || second.binary || first.sum || second.sum) return;
  if (first.alg == algorithm::eltwise_linear && second.alg == algorithm::eltwise_linear) {
    // a2·(a1·x + b1) + b2 = (a1·a2)·x + (a2·b1 + b2)
    first.beta = second.alpha * first.beta + second.beta;
    first.alpha *= second.alpha;
  } else if (first.alg == algorithm::eltwise_clip && second.alg == algorithm::eltwise_clip) {
    // clip(clip(x, l1, h1), l2, h2) = clip(x, max(l1, l2), min(h1, h2)) when the ranges overlap
    if (std::max(first.alpha, second.alpha) > std::min(first.beta, second.beta)) return;
    first.alpha = std::max(first.alpha, second.alpha);
    first.beta = std::min(first.beta, second.beta);
  } else {
    return;
  }
  if (!second.label.empty()) first.label += (first.label.empty() ? "" : "+") + second.label;
  ops->pop_back();
}

bool EltwiseRepresentable(const std::vector<PostOp>& ops) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].binary || ops[i].sum) continue;
    for (size_t j = 0; j < i; ++j) {
      if (ops[j].binary || ops[j].sum || ops[j].alg != ops[i].alg) continue;
      if (ops[j].alpha != ops[i].alpha || ops[j].beta != ops[i].beta) return false;
    }
  }
  return true;
}

PostOpChain AbsorbPostOps(PlanBuilder& b, const std::string& value, const Shape& shape, bool allow_binary,
                          bool consume) {
  PostOpChain chain;
  std::string cur = value;
  const auto& g = b.graph().nodes;
  while (!b.IsGraphOutput(cur)) {
    std::string next;
    std::vector<int> covered;
    std::vector<PostOp> before = chain.ops;
    if (MatchHardSwish(b, cur, &next, &covered)) {
      chain.ops.push_back({false, algorithm::eltwise_hardswish, 0.f, 0.f, -1, "HardSwish"});
    } else if (MatchSwish(b, cur, &next, &covered)) {
      chain.ops.push_back({false, algorithm::eltwise_swish, 1.f, 0.f, -1, "Swish"});
    } else {
      const int ci = b.SoleConsumer(cur);
      if (ci < 0) break;
      const ir::Node& n = g[ci];
      if (n.outputs.size() != 1) break;
      const std::string& op = n.op_type;
      float lo, hi, c;
      if (op == "Relu") {
        chain.ops.push_back({false, algorithm::eltwise_relu, 0.f, 0.f, -1, op});
      } else if (op == "LeakyRelu") {
        chain.ops.push_back({false, algorithm::eltwise_relu, n.GetFloat("alpha", 0.01f), 0.f, -1, op});
      } else if (op == "Clip" && ClipBounds(b, n, &lo, &hi)) {
        chain.ops.push_back({false, algorithm::eltwise_clip, lo, hi, -1, op});
      } else if (op == "Sigmoid") {
        chain.ops.push_back({false, algorithm::eltwise_logistic, 0.f, 0.f, -1, op});
      } else if (op == "Tanh") {
        chain.ops.push_back({false, algorithm::eltwise_tanh, 0.f, 0.f, -1, op});
      } else if (op == "Elu") {
        chain.ops.push_back({false, algorithm::eltwise_elu, n.GetFloat("alpha", 1.f), 0.f, -1, op});
      } else if (op == "HardSwish") {
        chain.ops.push_back({false, algorithm::eltwise_hardswish, 0.f, 0.f, -1, op});
      } else if (op == "HardSigmoid") {
        // clip(α·x + β, 0, 1)
        chain.ops.push_back({false, algorithm::eltwise_linear, n.GetFloat("alpha", 0.2f), n.GetFloat("beta", 0.5f), -1, op});
        chain.ops.push_back({false, algorithm::eltwise_clip, 0.f, 1.f, -1, ""});
      } else if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && n.inputs.size() == 2 &&
                 ConstScalar(b, Other(n, cur), &c)) {
        const bool x_first = n.inputs[0] == cur;
        if (op == "Add") chain.ops.push_back({false, algorithm::eltwise_linear, 1.f, c, -1, op});
        else if (op == "Sub") chain.ops.push_back({false, algorithm::eltwise_linear, x_first ? 1.f : -1.f, x_first ? -c : c, -1, op});
        else if (op == "Mul") chain.ops.push_back({false, algorithm::eltwise_linear, c, 0.f, -1, op});
        else if (x_first && c != 0) chain.ops.push_back({false, algorithm::eltwise_linear, 1.f / c, 0.f, -1, op});
        else break;
      } else if (op == "Add" && allow_binary && n.inputs.size() == 2 && n.inputs[0] != n.inputs[1]) {
        const std::string& other = Other(n, cur);
        if (!b.Has(other) || b.Const(other)) break;
        Expected<int> id = b.Id(other);
        if (!id.ok()) break;
        // Only a same-shape residual (element-wise post-ops keep the kernel's output shape), once per chain.
        if (b.V(*id).shape != shape || b.V(*id).dtype != DType::kFloat32 || chain.SumSource() >= 0) break;
        PostOp sum{false, algorithm::eltwise_linear, 0.f, 0.f, *id, op};
        sum.sum = true;
        chain.ops.push_back(sum);
      } else {
        break;
      }
      covered = {ci};
      next = n.outputs[0];
    }
    MergeLastEltwise(&chain.ops);
    if (!EltwiseRepresentable(chain.ops)) {
      // oneDNN 2.6 cannot take this step after the earlier ones: stop the chain before it.
      chain.ops = std::move(before);
      break;
    }
    for (int i : covered) {
      if (consume) b.Consume(i);
      chain.nodes.push_back(i);
    }
    cur = next;
  }
  chain.output = cur;
  return chain;
}

}  // namespace act::runtime::onednn
