// QDQ export on tiny graphs, checked where it will run: the ONNX checker, ONNX Runtime's outputs, and
// ORT's optimized graph (every quantized Conv a QLinearConv, MatMul a QLinearMatMul/MatMulIntegerToFloat,
// Gemm a QGemm; no float Conv/MatMul left), plus file size and weight rounding error.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ir/checker.h"
#include "ir/passes/pass.h"
#include "ir/passes/qdq_export.h"
#include "ort_calibration.h"
#include "quant/qdq_scheme.h"

namespace act::test {
namespace {

using ir::Attribute;

// x → Conv → Relu → MaxPool → Conv(depthwise) → Clip(0,6) → Conv(1x1) → y1 (graph output, also read by
// Flatten) → Flatten → Gemm → y2;   v → MatMul → Relu → MatMul → y3.
ir::Graph SmallNet() {
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 3, 16, 16}), Value("v", {4, 32})};
  g.initializers["w1"] = Random({8, 3, 3, 3}, 1);
  g.initializers["b1"] = Random({8}, 2, -0.1f, 0.1f);
  g.AddNode(Op("Conv", {"x", "w1", "b1"}, {"c1"}, {{"pads", Attribute::Ints({1, 1, 1, 1})}}));
  g.AddNode(Op("Relu", {"c1"}, {"r1"}));
  g.AddNode(Op("MaxPool", {"r1"}, {"p1"}, {{"kernel_shape", Attribute::Ints({2, 2})}, {"strides", Attribute::Ints({2, 2})}}));
  g.initializers["w2"] = Random({8, 1, 3, 3}, 3);
  g.initializers["b2"] = Random({8}, 4, -0.1f, 0.1f);
  g.AddNode(Op("Conv", {"p1", "w2", "b2"}, {"c2"}, {{"group", Attribute::Int(8)}, {"pads", Attribute::Ints({1, 1, 1, 1})}}));
  g.initializers["lo"] = Tensor::Scalar<float>(0.0f);
  g.initializers["hi"] = Tensor::Scalar<float>(6.0f);
  g.AddNode(Op("Clip", {"c2", "lo", "hi"}, {"r2"}));
  g.initializers["w3"] = Random({16, 8, 1, 1}, 5);
  g.initializers["b3"] = Random({16}, 6, -0.1f, 0.1f);
  g.AddNode(Op("Conv", {"r2", "w3", "b3"}, {"y1"}));
  g.AddNode(Op("Flatten", {"y1"}, {"f"}));
  g.initializers["wg"] = Random({10, 1024}, 7, -0.05f, 0.05f);
  g.initializers["bg"] = Random({10}, 8);
  g.AddNode(Op("Gemm", {"f", "wg", "bg"}, {"y2"}, {{"transB", Attribute::Int(1)}}));
  g.initializers["m1"] = Random({32, 16}, 9);
  g.AddNode(Op("MatMul", {"v", "m1"}, {"mm1"}));
  g.AddNode(Op("Relu", {"mm1"}, {"rm1"}));
  g.initializers["m2"] = Random({16, 8}, 10);
  g.AddNode(Op("MatMul", {"rm1", "m2"}, {"y3"}));
  g.outputs = {Value("y1", {1, 16, 8, 8}), Value("y2", {1, 10}), Value("y3", {4, 8})};
  return g;
}

std::vector<std::map<std::string, Tensor>> Batches(int n) {
  std::vector<std::map<std::string, Tensor>> batches;
  for (int i = 0; i < n; ++i) {
    batches.push_back({{"x", Random({1, 3, 16, 16}, 1000 + i)}, {"v", Random({4, 32}, 2000 + i)}});
  }
  return batches;
}

// The export options of a scheme with the readable names ("w_scale", "b_quantized") the checks look up and
// every Conv's zero point and int32 bias.
ir::QdqExportOptions ReadableOptions(const quant::QuantScheme& scheme) {
  ir::QdqExportOptions options = quant::MakeQdqExportOptions(scheme);
  options.compact_encoding = false;
  options.compact_conv_weights = false;
  return options;
}

struct Exported {
  ir::Graph graph;
  ir::QdqExportResult result;
  std::string path;
};

Expected<Exported> CalibrateAndExport(const ir::Graph& fp32, const quant::QuantScheme& scheme,
                                      ir::QdqExportOptions options, const std::string& dir) {
  const auto tensors = ir::QdqTensorsToCalibrate(fp32, options);
  ACT_ASSIGN_OR_RETURN(auto table, CalibrateWithOrt(fp32, Batches(4), tensors, "abs_max", scheme, dir));
  Exported e{fp32, {}, dir + "/int8.onnx"};
  ACT_ASSIGN_OR_RETURN(e.result, ir::ExportQdq(e.graph, quant::ToQdqParams(table), options));
  ACT_RETURN_IF_ERROR(ir::CheckModel(e.graph, "exported"));
  ACT_RETURN_IF_ERROR(ir::SaveModel(e.graph, e.path));
  return e;
}

#define REQUIRE_ORT() \
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping"

TEST(QdqExport, TensorsToCalibrateFollowThePlacementRules) {
  ir::Graph g = SmallNet();
  auto opts = ReadableOptions(quant::QuantScheme{});
  const auto tensors = ir::QdqTensorsToCalibrate(g, opts);
  // Conv inputs x, p1 (MaxPool's output reuses r1's parameters: p1 is not calibrated on its own), r2;
  // outputs behind Relu (r1) and Clip (r2); y1; f (Flatten reuses y1's); Gemm's output y2 is a graph
  // output: float (QGemm); MatMul: v, rm1 (behind Relu); y3 float.
  EXPECT_EQ(tensors, (std::vector<std::string>{"x", "v", "r1", "r2", "y1", "rm1"}));
}

TEST(QdqExport, OrtFusesEveryQuantizedNode) {
  REQUIRE_ORT();
  const std::string dir = TempDir("qdq_fuse");
  const ir::Graph fp32 = SmallNet();
  ASSERT_TRUE(ir::SaveModel(fp32, dir + "/fp32.onnx").ok());
  const quant::QuantScheme scheme;  // x86: u8 activations, s8 per-channel weights
  auto e = CalibrateAndExport(fp32, scheme, ReadableOptions(scheme), dir);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->result.quantized_ops.at("Conv"), 3);
  EXPECT_EQ(e->result.quantized_ops.at("Gemm"), 1);
  EXPECT_EQ(e->result.quantized_ops.at("MatMul"), 2);
  EXPECT_EQ(CountOps(e->graph, "Conv"), 3);  // still Convs, now reading DQs
  // Weights are int8 now; no float weight survives.
  for (const char* w : {"w1", "w2", "w3", "wg", "m1", "m2"}) EXPECT_EQ(e->graph.initializers.count(w), 0u) << w;

  auto counts = OrtOptimizedOpCounts(e->path, dir + "/int8.opt.onnx");
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  std::string all;
  for (const auto& [op, n] : *counts) all += op + ":" + std::to_string(n) + " ";
  EXPECT_EQ(Count(*counts, "QLinearConv"), 3) << all;
  EXPECT_EQ(Count(*counts, "Conv") + Count(*counts, "FusedConv"), 0) << all;
  EXPECT_EQ(Count(*counts, "QGemm"), 1) << all;
  EXPECT_EQ(Count(*counts, "QLinearMatMul") + Count(*counts, "MatMulIntegerToFloat"), 2) << all;
  EXPECT_EQ(Count(*counts, "MatMul") + Count(*counts, "Gemm") + Count(*counts, "FusedGemm") +
                Count(*counts, "FusedMatMul"), 0) << all;

  // Numerics: INT8 vs FP32 in ORT on an input seen in calibration. Tolerance: each of the ≤ 4 chained
  // quantizations adds at most half a step (range/510 for u8, max|w|/254 for weights) per value, about
  // 1–2% of the output range together; 5% leaves margin for accumulation over 1024 Gemm inputs.
  auto ref = RunOrt(dir + "/fp32.onnx", Batches(1)[0]);
  auto out = RunOrt(e->path, Batches(1)[0]);
  ASSERT_TRUE(ref.ok() && out.ok());
  for (const char* y : {"y1", "y2", "y3"}) {
    EXPECT_LE(MaxRelativeError(out->at(y), ref->at(y)), 0.05) << y;
  }
  // Idempotent.
  ir::Graph again = e->graph;
  auto second = ir::ExportQdq(again, {}, ReadableOptions(scheme));
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_FALSE(second->changed);
  EXPECT_EQ(again.nodes.size(), e->graph.nodes.size());
}

TEST(QdqExport, DequantizedWeightsWithinHalfAStep) {
  const ir::Graph fp32 = SmallNet();
  ir::Graph g = fp32;
  std::map<std::string, ir::QdqParams> acts;
  for (const auto& t : ir::QdqTensorsToCalibrate(g, ReadableOptions({}))) acts[t] = {0.05f, 0, DType::kUInt8};
  auto r = ir::ExportQdq(g, acts, ReadableOptions({}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  int checked = 0;
  for (const auto& node : g.nodes) {
    if (node.op_type != "DequantizeLinear") continue;
    const Tensor& q = g.initializers.count(node.inputs[0]) ? g.initializers.at(node.inputs[0]) : Tensor();
    if (!q.defined() || q.dtype() != DType::kInt8) continue;
    const std::string original = node.inputs[0].substr(0, node.inputs[0].size() - std::string("_quantized").size());
    const Tensor& w = fp32.initializers.at(original);
    const Tensor& scale = g.initializers.at(node.inputs[1]);
    const int64_t axis = node.GetInt("axis", 1);
    const bool per_channel = scale.numel() > 1;
    int64_t inner = 1;
    for (size_t d = axis + 1; d < w.rank(); ++d) inner *= w.dim(d);
    for (int64_t i = 0; i < w.numel(); ++i) {
      const float s = scale.data<float>()[per_channel ? (i / inner) % scale.numel() : 0];
      const float deq = q.data<int8_t>()[i] * s;
      ASSERT_LE(std::fabs(deq - w.data<float>()[i]), s / 2 * (1 + 1e-6f)) << original << "[" << i << "]";
    }
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(QdqExport, FallbackSkipListFourBitsAndErrors) {
  const ir::QdqExportOptions base = ReadableOptions({});
  std::map<std::string, ir::QdqParams> acts;
  for (const auto& t : ir::QdqTensorsToCalibrate(SmallNet(), base)) acts[t] = {0.05f, 0, DType::kUInt8};

  // Per-layer FP32 fallback and skip_tensor_list.
  ir::QdqExportOptions options = base;
  options.float_nodes = {"Conv_c2"};
  options.skip_tensors = {"m2"};
  ir::Graph g = SmallNet();
  auto r = ir::ExportQdq(g, acts, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->quantized_ops.at("Conv"), 2);
  EXPECT_EQ(r->quantized_ops.at("MatMul"), 1);
  EXPECT_EQ(r->kept_float.size(), 2u);
  EXPECT_TRUE(g.initializers.count("w2") && g.initializers.count("m2"));
  EXPECT_TRUE(ir::CheckModel(g, "fallback").ok());

  // 4-bit weights: int8 storage within [-8, 7].
  options = base;
  options.weight_bits = 4;
  g = SmallNet();
  ASSERT_TRUE(ir::ExportQdq(g, acts, options).ok());
  int weights = 0;
  for (const auto& [name, t] : g.initializers) {
    if (t.dtype() != DType::kInt8 || t.numel() < 8) continue;
    const auto v = t.ToVector<int8_t>();
    EXPECT_GE(*std::min_element(v.begin(), v.end()), -8) << name;
    EXPECT_LE(*std::max_element(v.begin(), v.end()), 7) << name;
    weights += *std::max_element(v.begin(), v.end()) == 7 || *std::min_element(v.begin(), v.end()) == -7;
  }
  EXPECT_EQ(weights, 6);

  // A missing calibration entry names the tensor, and leaves the graph untouched.
  g = SmallNet();
  auto partial = acts;
  partial.erase("r2");
  auto missing = ir::ExportQdq(g, partial, base);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'r2'"), std::string::npos) << missing.status().message();
  EXPECT_EQ(g.nodes.size(), SmallNet().nodes.size());
  // A zero scale never reaches a division.
  auto zero = acts;
  zero["x"].scale = 0.0f;
  EXPECT_FALSE(ir::ExportQdq(g, zero, base).ok());
  // Opset below 13 is refused with a hint.
  ir::Graph old = SmallNet();
  old.opset_imports[""] = 11;
  auto low = ir::ExportQdq(old, acts, base);
  ASSERT_FALSE(low.ok());
  EXPECT_NE(low.status().message().find("convert_opset_13"), std::string::npos);
}

TEST(QdqExport, DeadChannelsAndHugeBiasStayFinite) {
  // A channel with max|w| ~ 1e-12 gets the floor scale; a bias that would overflow int32 at sx·sw raises
  // that channel's weight scale instead.
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 2, 4, 4})};
  g.initializers["w"] = Tensor::FromVector<float>({2, 2, 1, 1}, {1e-12f, -1e-12f, 0.5f, -0.25f});
  g.initializers["b"] = Tensor::FromVector<float>({2}, {3.0f, 0.1f});
  g.AddNode(Op("Conv", {"x", "w", "b"}, {"y"}));
  g.outputs = {Value("y", {1, 2, 4, 4})};
  std::map<std::string, ir::QdqParams> acts = {{"x", {0.01f, 0, DType::kUInt8}}, {"y", {0.02f, 128, DType::kUInt8}}};
  auto r = ir::ExportQdq(g, acts, ReadableOptions({}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(ir::CheckModel(g, "dead").ok());
  const Tensor& ws = g.initializers.at("w_scale");
  const Tensor& bq = g.initializers.at("b_quantized");
  EXPECT_GT(ws.data<float>()[0], 0.0f);
  // 3.0 / (0.01 · s0) ≤ 2^30 ⇒ s0 ≥ 2.8e-7 (the 1e-10 floor was raised)
  EXPECT_GE(ws.data<float>()[0], 3.0f / (0.01f * 1073741824.0f) * 0.999f);
  EXPECT_LE(std::abs(static_cast<int64_t>(bq.data<int32_t>()[0])), int64_t{1} << 30);
  // The dequantized bias is still 3.0.
  const Tensor& bs = g.initializers.at("b_scale");
  EXPECT_NEAR(bq.data<int32_t>()[0] * bs.data<float>()[0], 3.0f, 1e-5f);
}

TEST(QdqExport, FullQuantizeAndTensorRtScheme) {
  REQUIRE_ORT();
  const std::string dir = TempDir("qdq_full");
  // Residual block: x → Conv → Relu → Conv → Add(·, Relu output) → Sigmoid → y, plus GlobalAveragePool.
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 8, 8, 8})};
  g.initializers["w1"] = Random({8, 8, 3, 3}, 1, -0.2f, 0.2f);
  g.AddNode(Op("Conv", {"x", "w1"}, {"c1"}, {{"pads", Attribute::Ints({1, 1, 1, 1})}}));
  g.AddNode(Op("Relu", {"c1"}, {"r1"}));
  g.initializers["w2"] = Random({8, 8, 3, 3}, 2, -0.2f, 0.2f);
  g.AddNode(Op("Conv", {"r1", "w2"}, {"c2"}, {{"pads", Attribute::Ints({1, 1, 1, 1})}}));
  g.AddNode(Op("Add", {"c2", "r1"}, {"a"}));
  g.AddNode(Op("Sigmoid", {"a"}, {"s"}));
  g.AddNode(Op("GlobalAveragePool", {"s"}, {"y"}));
  g.outputs = {Value("y", {1, 8, 1, 1})};
  ASSERT_TRUE(ir::SaveModel(g, dir + "/fp32.onnx").ok());
  const std::map<std::string, Tensor> input = {{"x", Random({1, 8, 8, 8}, 5)}};
  auto ref = RunOrt(dir + "/fp32.onnx", input);
  ASSERT_TRUE(ref.ok());

  for (const bool tensorrt : {false, true}) {
    quant::QuantScheme scheme = *quant::SchemeForHardware(tensorrt ? "gpu_tensorrt" : "x86_vnni");
    ir::QdqExportOptions options = ReadableOptions(scheme);
    options.is_full_quantize = true;
    const auto tensors = ir::QdqTensorsToCalibrate(g, options);
    auto table = CalibrateWithOrt(g, {input}, tensors, "abs_max", scheme, dir);
    ASSERT_TRUE(table.ok()) << table.status().message();
    ir::Graph q = g;
    auto r = ir::ExportQdq(q, quant::ToQdqParams(*table), options);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->quantized_ops.at("Add"), 1);
    EXPECT_EQ(r->quantized_ops.at("Sigmoid"), 1);
    EXPECT_EQ(r->quantized_ops.at("GlobalAveragePool"), 1);
    ASSERT_TRUE(ir::CheckModel(q, "full").ok());
    for (const auto& node : q.nodes) {
      if (node.op_type == "QuantizeLinear") {
        EXPECT_EQ(q.initializers.at(node.inputs[2]).dtype(), tensorrt ? DType::kInt8 : DType::kUInt8);
      }
    }
    const std::string path = dir + (tensorrt ? "/trt.onnx" : "/x86.onnx");
    ASSERT_TRUE(ir::SaveModel(q, path).ok());
    auto out = RunOrt(path, input);
    ASSERT_TRUE(out.ok()) << out.status().message();
    // Sigmoid output averaged: ≤ 4 quantizations of half a step each on a [0, 1] scale → ≤ 2%.
    EXPECT_LE(MaxRelativeError(out->at("y"), ref->at("y")), 0.02) << (tensorrt ? "s8" : "u8");
    if (!tensorrt) {
      auto counts = OrtOptimizedOpCounts(path, dir + "/x86.opt.onnx");
      ASSERT_TRUE(counts.ok()) << counts.status().message();
      std::string all;
      for (const auto& [op, n] : *counts) all += op + ":" + std::to_string(n) + " ";
      EXPECT_EQ(Count(*counts, "QLinearConv"), 2) << all;
      EXPECT_EQ(Count(*counts, "QLinearAdd"), 1) << all;
      EXPECT_EQ(Count(*counts, "QLinearSigmoid"), 1) << all;
      EXPECT_EQ(Count(*counts, "QLinearGlobalAveragePool"), 1) << all;
    }
  }
}

TEST(QdqExport, ConvHeavyModelIsAQuarterOfItsSize) {
  // Four 3x3 convs 64→64 with Relu, FP32 vs exported: weights go 4 → 1 byte; scales, zero points and the
  // int32 biases add ~1.1 kB per conv.
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 64, 8, 8})};
  std::string in = "x";
  std::map<std::string, ir::QdqParams> acts = {{"x", {0.02f, 128, DType::kUInt8}}};
  for (int i = 0; i < 4; ++i) {
    const std::string n = std::to_string(i);
    g.initializers["w" + n] = Random({64, 64, 3, 3}, 10 + i, -0.1f, 0.1f);
    g.initializers["b" + n] = Random({64}, 20 + i, -0.1f, 0.1f);
    g.AddNode(Op("Conv", {in, "w" + n, "b" + n}, {"c" + n}, {{"pads", Attribute::Ints({1, 1, 1, 1})}}));
    g.AddNode(Op("Relu", {"c" + n}, {"r" + n}));
    acts["r" + n] = {0.02f, 0, DType::kUInt8};
    in = "r" + n;
  }
  g.outputs = {Value(in, {1, 64, 8, 8})};
  const std::string dir = TempDir("qdq_size");
  ASSERT_TRUE(ir::SaveModel(g, dir + "/fp32.onnx").ok());
  ASSERT_TRUE(ir::ExportQdq(g, acts, ReadableOptions({})).ok());
  ASSERT_TRUE(ir::SaveModel(g, dir + "/int8.onnx").ok());
  const double ratio = static_cast<double>(std::filesystem::file_size(dir + "/int8.onnx")) /
                       static_cast<double>(std::filesystem::file_size(dir + "/fp32.onnx"));
  EXPECT_LE(ratio, 0.26);
  EXPECT_GE(ratio, 0.25);
  RecordProperty("size_ratio", std::to_string(ratio));
}

}  // namespace
}  // namespace act::test

namespace act::test {
namespace {

TEST(QdqExport, HandlerTableCoversTheOpsOrtHasIntegerPathsFor) {
  // ENVIRONMENT.md's list of what ORT 1.30 fuses or passes through on u8; each must have a handler.
  std::map<std::string, ir::QdqRole> roles;
  for (const auto& h : ir::QdqHandlers()) {
    EXPECT_TRUE(roles.emplace(h.op_type, h.role).second) << "duplicate handler " << h.op_type;
  }
  for (const char* op : {"Conv", "ConvTranspose", "MatMul", "Gemm"}) EXPECT_EQ(roles.at(op), ir::QdqRole::kCompute) << op;
  for (const char* op : {"Add", "Mul", "Sigmoid", "Softmax", "AveragePool", "GlobalAveragePool", "LeakyRelu",
                         "Concat", "Where"}) {
    EXPECT_EQ(roles.at(op), ir::QdqRole::kInteger) << op;
  }
  for (const char* op : {"Reshape", "Transpose", "Gather", "Squeeze", "Unsqueeze", "Slice", "Flatten", "Expand",
                         "Tile", "Resize", "Split", "MaxPool"}) {
    EXPECT_EQ(roles.at(op), ir::QdqRole::kDataMovement) << op;
  }
  // No integer path in ORT: these must not be quantized as integer ops.
  for (const char* op : {"HardSigmoid", "HardSwish", "Div", "Sub", "Pow", "Sqrt", "ReduceMean", "Pad"}) {
    EXPECT_EQ(roles.count(op), 0u) << op;
  }
}

TEST(QdqExport, ActivationMatMulOnlyWhenAsked) {
  // a · b with both operands activations (attention's Q·Kᵀ): float unless quantize_activation_matmul.
  ir::Graph g = NewGraph();
  g.inputs = {Value("a", {2, 4}), Value("b", {4, 3})};
  g.AddNode(Op("MatMul", {"a", "b"}, {"y"}));
  g.outputs = {Value("y", {2, 3})};
  auto options = ReadableOptions({});
  EXPECT_TRUE(ir::QdqTensorsToCalibrate(g, options).empty());
  options.quantize_activation_matmul = true;
  EXPECT_EQ(ir::QdqTensorsToCalibrate(g, options), (std::vector<std::string>{"a", "b"}));
  std::map<std::string, ir::QdqParams> acts = {{"a", {0.01f, 128, DType::kUInt8}}, {"b", {0.02f, 128, DType::kUInt8}}};
  auto r = ir::ExportQdq(g, acts, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->quantized_ops.at("MatMul"), 1);
  EXPECT_EQ(CountOps(g, "QuantizeLinear"), 2);
  EXPECT_TRUE(ir::CheckModel(g, "matmul").ok());
}

TEST(QdqExport, ConvTransposeInOrt) {
  REQUIRE_ORT();
  // ConvTranspose with 2 groups: per-channel weight scales along axis 1 (C_out/g = 3), bias over 6 channels.
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 4, 5, 5})};
  g.initializers["w"] = Random({4, 3, 2, 2}, 3);
  g.initializers["b"] = Random({6}, 4, -0.1f, 0.1f);
  g.AddNode(Op("ConvTranspose", {"x", "w", "b"}, {"c"}, {{"group", Attribute::Int(2)}, {"strides", Attribute::Ints({2, 2})}}));
  g.AddNode(Op("Relu", {"c"}, {"y"}));
  g.outputs = {Value("y", {1, 6, 10, 10})};
  const std::string dir = TempDir("qdq_deconv");
  ASSERT_TRUE(ir::SaveModel(g, dir + "/fp32.onnx").ok());
  const std::map<std::string, Tensor> input = {{"x", Random({1, 4, 5, 5}, 9, 0.0f, 1.0f)}};
  const quant::QuantScheme scheme;
  auto options = ReadableOptions(scheme);
  options.quantize_op_types.insert("ConvTranspose");  // not a default: see below
  auto table = CalibrateWithOrt(g, {input}, ir::QdqTensorsToCalibrate(g, options), "abs_max", scheme, dir);
  ASSERT_TRUE(table.ok()) << table.status().message();
  ir::Graph q = g;
  auto r = ir::ExportQdq(q, quant::ToQdqParams(*table), options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(q.initializers.at("w_scale").numel(), 3);
  EXPECT_EQ(q.initializers.at("b_scale").numel(), 6);
  ASSERT_TRUE(ir::CheckModel(q, "deconv").ok());
  ASSERT_TRUE(ir::SaveModel(q, dir + "/int8.onnx").ok());
  auto ref = RunOrt(dir + "/fp32.onnx", input);
  auto out = RunOrt(dir + "/int8.onnx", input);
  ASSERT_TRUE(ref.ok() && out.ok());
  EXPECT_LE(MaxRelativeError(out->at("y"), ref->at("y")), 0.03);
  auto counts = OrtOptimizedOpCounts(dir + "/int8.onnx", dir + "/int8.opt.onnx");
  ASSERT_TRUE(counts.ok());
  std::string all;
  for (const auto& [op, n] : *counts) all += op + ":" + std::to_string(n) + " ";
  // ORT 1.30 (CPU) has no QDQ ConvTranspose fusion: the op stays float with its weight DQ run on every
  // inference. That is why ConvTranspose is not among the default quantize_op_types (x86/ORT); TensorRT
  // users add it explicitly.
  EXPECT_EQ(Count(*counts, "ConvTranspose"), 1) << all;
  EXPECT_EQ(ir::QdqExportOptions().quantize_op_types.count("ConvTranspose"), 0u);
}

}  // namespace
}  // namespace act::test

namespace act::test {
namespace {

TEST(QdqExport, FloatConvBiasAndNoWeightZeroPointStillFuseAndShrink) {
  // (ORT 1.30 does not fuse a Gemm with a float bias or without a weight zero point: both options
  // apply to Conv only.)
  REQUIRE_ORT();
  const std::string dir = TempDir("qdq_small");
  const ir::Graph fp32 = SmallNet();
  ASSERT_TRUE(ir::SaveModel(fp32, dir + "/fp32.onnx").ok());
  const quant::QuantScheme scheme;
  auto standard = CalibrateAndExport(fp32, scheme, ReadableOptions(scheme), dir);
  ASSERT_TRUE(standard.ok()) << standard.status().message();
  auto options = ReadableOptions(scheme);
  options.quantize_conv_bias = false;
  options.conv_weight_zero_point = false;
  const std::string small_dir = dir + "/small";
  std::filesystem::create_directories(small_dir);
  auto small = CalibrateAndExport(fp32, scheme, options, small_dir);
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_LT(std::filesystem::file_size(small->path), std::filesystem::file_size(standard->path));
  auto counts = OrtOptimizedOpCounts(small->path, small_dir + "/int8.opt.onnx");
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(Count(*counts, "QLinearConv"), 3);
  EXPECT_EQ(Count(*counts, "QGemm"), 1);
  EXPECT_EQ(Count(*counts, "Conv") + Count(*counts, "FusedConv") + Count(*counts, "Gemm"), 0);
  // Same numerics as the standard export, up to ORT's own bias rounding (half an int32 step of sx·sw).
  auto a = RunOrt(standard->path, Batches(1)[0]);
  auto b = RunOrt(small->path, Batches(1)[0]);
  ASSERT_TRUE(a.ok() && b.ok());
  for (const char* y : {"y1", "y2", "y3"}) EXPECT_LE(MaxRelativeError(b->at(y), a->at(y)), 0.02) << y;
}

}  // namespace
}  // namespace act::test

namespace act::test {
namespace {

TEST(QdqExport, CompactEncodingSameModelFewerBytes) {
  // Short names, identical constants shared, no stale value_info, Relus implied by their Q left out: the
  // same computation in fewer bytes, so ORT fuses the same kernels and computes bit-identical outputs.
  REQUIRE_ORT();
  const std::string dir = TempDir("qdq_compact");
  const ir::Graph fp32 = SmallNet();
  const quant::QuantScheme scheme;
  auto readable = CalibrateAndExport(fp32, scheme, ReadableOptions(scheme), dir);
  ASSERT_TRUE(readable.ok()) << readable.status().message();
  ir::QdqExportOptions options = quant::MakeQdqExportOptions(scheme);
  EXPECT_TRUE(options.compact_encoding);  // the scheme's default
  options.compact_conv_weights = false;   // compare the encoding alone (FloatConvBias… covers the rest)
  const std::string compact_dir = dir + "/compact";
  std::filesystem::create_directories(compact_dir);
  auto compact = CalibrateAndExport(fp32, scheme, options, compact_dir);
  ASSERT_TRUE(compact.ok()) << compact.status().message();
  EXPECT_LT(std::filesystem::file_size(compact->path), std::filesystem::file_size(readable->path));
  EXPECT_LT(compact->graph.initializers.size(), readable->graph.initializers.size());  // zero points shared
  // Relus read only by a u8 zero-point-0 Q are implied by its clamp and left out.
  EXPECT_LT(CountOps(compact->graph, "Relu"), CountOps(readable->graph, "Relu"));
  EXPECT_EQ(CountOps(compact->graph, "QuantizeLinear"), CountOps(readable->graph, "QuantizeLinear"));
  EXPECT_EQ(CountOps(compact->graph, "DequantizeLinear"), CountOps(readable->graph, "DequantizeLinear"));
  EXPECT_TRUE(compact->graph.value_info.empty());
  ASSERT_TRUE(compact->graph.Validate().ok());
  auto a = OrtOptimizedOpCounts(readable->path, dir + "/readable.opt.onnx");
  auto b = OrtOptimizedOpCounts(compact->path, compact_dir + "/compact.opt.onnx");
  ASSERT_TRUE(a.ok() && b.ok());
  for (const char* op : {"QLinearConv", "QLinearMatMul", "QGemm", "MatMulIntegerToFloat"}) {
    EXPECT_EQ(Count(*a, op), Count(*b, op)) << op;
  }
  EXPECT_EQ(Count(*b, "Conv") + Count(*b, "Relu"), 0);
  auto ya = RunOrt(readable->path, Batches(1)[0]);
  auto yb = RunOrt(compact->path, Batches(1)[0]);
  ASSERT_TRUE(ya.ok() && yb.ok());
  for (const char* y : {"y1", "y2", "y3"}) EXPECT_EQ(MaxRelativeError(yb->at(y), ya->at(y)), 0.0) << y;
}

}  // namespace
}  // namespace act::test
