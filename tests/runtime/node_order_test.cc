// The onednn backend's results must not depend on the topological order of the nodes. A quantized tensor
// read by several DequantizeLinear nodes (merged into one by the backend) with a float reader first —
// DQ → Pad → AveragePool, a skip branch — and INT8 convolutions after it: FastestDet's QAT export writes
// this order. The float reader made the DequantizeLinear run, and the convolutions built after it then
// found no quantized input and ran in float (DQ → Conv f32 → QuantizeLinear), which rounds differently
// from the INT8 path and from ONNX Runtime's QLinearConv (an exact integer sum, the float bias rounded to
// int32): quantized outputs one step apart, FastestDet's class map off by 0.3 relative.
//
// The graph here has that pattern: q = Q(x, zero point 128) read by
//   DQ → Pad → AveragePool                                          (float skip branch, first)
//   DQ → padded stride-2 depthwise Conv → Q → DQ → 1x1 Conv → Q → DQ  (output y)
//   DQ → 1x1 Conv → Q → DQ → padded stride-2 depthwise Conv → Q → DQ  (output z)
// Built in two orders (skip branch first / last), both must give the same bytes: tolerance 0 (every
// output is (q − zp)·s of equal bytes, or the same float pooling). Against ONNX Runtime, when installed:
// 1e-5 of the output's largest magnitude — equal bytes give equal floats (the pooling may differ in the
// last float bit), while one quantization step is ≥ 1/128 of the range.
#include <gtest/gtest.h>

#include <random>

#include "act/runtime.h"
#include "ir/graph.h"
#include "ir/onnx_io.h"
#include "test_support.h"

namespace act::runtime {
namespace {

using ir::Attribute;

ir::ValueInfo FloatInfo(const std::string& name, const Shape& shape) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::kFloat32;
  if (!shape.empty()) {
    std::vector<ir::Dim> dims;
    for (int64_t d : shape) dims.push_back(ir::Dim{d, ""});
    v.shape = dims;
  }
  return v;
}

constexpr int64_t kChannels = 16, kSize = 40;

// The graph above; `skip_first`: the DQ → Pad → AveragePool branch comes right after the QuantizeLinear
// (the QAT export's order), else after everything else.
ir::Graph Build(bool skip_first) {
  ir::Graph g;
  g.name = skip_first ? "skip_first" : "skip_last";
  g.opset_imports[""] = 13;
  g.inputs.push_back(FloatInfo("x", {1, kChannels, kSize, kSize}));
  std::mt19937 rng(11);
  auto init = [&](const std::string& name, Tensor t) {
    g.initializers[name] = std::move(t);
    return name;
  };
  auto node = [&](std::vector<ir::Node>* list, const std::string& op, std::vector<std::string> inputs,
                  const std::string& output, std::map<std::string, Attribute> attrs = {}) {
    ir::Node n;
    n.op_type = op;
    n.name = output + "_" + op;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    n.attributes = std::move(attrs);
    list->push_back(std::move(n));
    return output;
  };
  // int8 weights in [−8, 8] with per-channel scales, behind a DequantizeLinear (axis 0).
  auto weights = [&](std::vector<ir::Node>* list, const std::string& name, const Shape& shape) {
    std::vector<int8_t> w(NumElements(shape));
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 17) - 8);
    std::vector<float> s(shape[0]);
    for (int64_t o = 0; o < shape[0]; ++o) s[o] = 0.01f + 0.001f * static_cast<float>(o);
    init(name + "_q", Tensor::FromVector<int8_t>(shape, w));
    init(name + "_s", Tensor::FromVector<float>({shape[0]}, s));
    return node(list, "DequantizeLinear", {name + "_q", name + "_s"}, name, {{"axis", Attribute::Int(0)}});
  };
  // A float bias (the INT8 path rounds it to int32 as ONNX Runtime does).
  auto bias = [&](const std::string& name) {
    std::vector<float> b(kChannels);
    for (auto& v : b) v = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) * 1e-4f;
    return init(name, Tensor::FromVector<float>({kChannels}, b));
  };
  auto q_params = [&](const std::string& name, float scale, uint8_t zero_point) {
    init(name + "_s", Tensor::FromVector<float>({}, {scale}));
    init(name + "_z", Tensor::FromVector<uint8_t>({}, {zero_point}));
  };
  q_params("a", 0.008f, 128);  // x
  q_params("b", 0.004f, 128);  // depthwise outputs
  q_params("c", 0.006f, 120);  // 1x1 outputs
  const std::map<std::string, Attribute> depthwise = {{"group", Attribute::Int(kChannels)},
                                                      {"pads", Attribute::Ints({1, 1, 1, 1})},
                                                      {"strides", Attribute::Ints({2, 2})}};
  // Q → DQ of `value` with parameters `p`.
  auto qdq = [&](std::vector<ir::Node>* list, const std::string& value, const std::string& p) {
    node(list, "QuantizeLinear", {value, p + "_s", p + "_z"}, value + "_q");
    return node(list, "DequantizeLinear", {value + "_q", p + "_s", p + "_z"}, value + "_dq");
  };

  std::vector<ir::Node> head, skip, convs;
  node(&head, "QuantizeLinear", {"x", "a_s", "a_z"}, "xq");
  // Skip branch: DQ → Pad (bottom/right by 1) → AveragePool 3x3 stride 2.
  node(&skip, "DequantizeLinear", {"xq", "a_s", "a_z"}, "skip_dq");
  init("pads", Tensor::FromVector<int64_t>({8}, {0, 0, 0, 0, 0, 0, 1, 1}));
  node(&skip, "Pad", {"skip_dq", "pads"}, "skip_padded");
  node(&skip, "AveragePool", {"skip_padded"}, "pool",
       {{"kernel_shape", Attribute::Ints({3, 3})}, {"strides", Attribute::Ints({2, 2})}});
  // y: depthwise first, then 1x1.
  node(&convs, "DequantizeLinear", {"xq", "a_s", "a_z"}, "y_dq");
  std::string y = node(&convs, "Conv", {"y_dq", weights(&convs, "y_w1", {kChannels, 1, 3, 3}), bias("y_b1")}, "y_dw", depthwise);
  y = qdq(&convs, y, "b");
  y = node(&convs, "Conv", {y, weights(&convs, "y_w2", {kChannels, kChannels, 1, 1}), bias("y_b2")}, "y_pw");
  y = qdq(&convs, y, "c");
  // z: 1x1 first, then depthwise.
  node(&convs, "DequantizeLinear", {"xq", "a_s", "a_z"}, "z_dq");
  std::string z = node(&convs, "Conv", {"z_dq", weights(&convs, "z_w1", {kChannels, kChannels, 1, 1}), bias("z_b1")}, "z_pw");
  z = qdq(&convs, z, "c");
  z = node(&convs, "Conv", {z, weights(&convs, "z_w2", {kChannels, 1, 3, 3}), bias("z_b2")}, "z_dw", depthwise);
  z = qdq(&convs, z, "b");

  for (const auto* part : skip_first ? std::vector<const std::vector<ir::Node>*>{&head, &skip, &convs}
                                     : std::vector<const std::vector<ir::Node>*>{&head, &convs, &skip}) {
    for (const ir::Node& n : *part) g.AddNode(n);
  }
  g.outputs = {FloatInfo("pool", {}), FloatInfo(y, {}), FloatInfo(z, {})};
  return g;
}

Tensor Input() {
  Tensor t(DType::kFloat32, {1, kChannels, kSize, kSize});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

std::map<std::string, Tensor> RunOurs(const ir::Graph& graph, const Tensor& x) {
  auto session = Session::Create(graph, {"onednn", 1});
  EXPECT_TRUE(session.ok()) << session.status().message();
  if (!session.ok()) return {};
  auto out = (*session)->Run({{"x", x}});
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? *out : std::map<std::string, Tensor>{};
}

TEST(RuntimeNodeOrder, FloatReaderFirstDoesNotChangeTheInt8Convolutions) {
  const Tensor x = Input();
  const ir::Graph skip_first = Build(true), skip_last = Build(false);
  const auto first = RunOurs(skip_first, x);
  const auto last = RunOurs(skip_last, x);
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(last.size(), 3u);
  for (const auto& [name, t] : last) {
    ASSERT_TRUE(first.count(name)) << name;
    EXPECT_EQ(first.at(name).shape(), t.shape()) << name;
    EXPECT_EQ(test::MaxRelativeError(first.at(name), t), 0.0) << "output " << name << " depends on the node order";
  }

  if (!test::OrtAvailable()) GTEST_SKIP() << "ONNX Runtime (node + onnxruntime-node) is not installed";
  const std::string dir = test::TempDir("node_order");
  for (const ir::Graph* graph : {&skip_first, &skip_last}) {
    const std::string path = dir + "/" + graph->name + ".onnx";
    ASSERT_TRUE(ir::SaveModel(*graph, path).ok());
    auto ort = test::RunOrt(path, {{"x", x}});
    ASSERT_TRUE(ort.ok()) << ort.status().message();
    const auto& ours = graph == &skip_first ? first : last;
    for (const auto& [name, ref] : *ort) {
      ASSERT_TRUE(ours.count(name)) << name;
      EXPECT_LE(test::MaxRelativeError(ours.at(name), ref), 1e-5) << graph->name << ": output " << name;
    }
  }
}

}  // namespace
}  // namespace act::runtime
