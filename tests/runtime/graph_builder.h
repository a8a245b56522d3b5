// Tiny ONNX graphs built in code for the runtime's tests: x → nodes → outputs, with random float
// weights, constants, fake-quantized activations (QDQ) and int8 weights.
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace act::test {

inline Tensor Random(const Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::kFloat32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

inline ir::ValueInfo Info(const std::string& name, const Shape& shape, DType dtype = DType::kFloat32) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = dtype;
  std::vector<ir::Dim> dims;
  for (int64_t d : shape) dims.push_back(ir::Dim{d, ""});
  v.shape = dims;
  return v;
}

struct GraphBuilder {
  ir::Graph g;
  uint32_t seed = 1;
  explicit GraphBuilder(const Shape& x_shape, int64_t opset = 13) {
    g.opset_imports[""] = opset;
    g.inputs.push_back(Info("x", x_shape));
  }
  std::string Weight(const Shape& shape, float lo = -1.f, float hi = 1.f) {
    return Init(Random(shape, ++seed, lo, hi));
  }
  std::string Init(Tensor t) {
    const std::string name = "c" + std::to_string(g.initializers.size());
    g.initializers[name] = std::move(t);
    return name;
  }
  template <typename T>
  std::string Const(const Shape& shape, const std::vector<T>& values) {
    return Init(Tensor::FromVector<T>(shape, values));
  }
  std::string Op(const std::string& op, std::vector<std::string> inputs,
                 std::map<std::string, ir::Attribute> attrs = {}) {
    ir::Node n;
    n.op_type = op;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.inputs = std::move(inputs);
    n.outputs = {n.name + "_out"};
    n.attributes = std::move(attrs);
    g.AddNode(n);
    return n.outputs[0];
  }
  // DequantizeLinear(QuantizeLinear(v)) with a u8 per-tensor scale and zero point.
  std::string QDQ(const std::string& v, float scale, int zero_point) {
    const std::string s = Const<float>({}, {scale}), z = Const<uint8_t>({}, {static_cast<uint8_t>(zero_point)});
    return Op("DequantizeLinear", {Op("QuantizeLinear", {v, s, z}), s, z});
  }
  // DequantizeLinear of random int8 weights in [-127, 127] with one scale.
  std::string Int8Weights(const Shape& shape, float scale, std::mt19937& rng) {
    std::vector<int8_t> w(NumElements(shape));
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    return Op("DequantizeLinear", {Const<int8_t>(shape, w), Const<float>({}, {scale})});
  }
  // The graph with float outputs `ys` (shapes left to inference).
  ir::Graph Finish(const std::vector<std::string>& ys) {
    for (const std::string& y : ys) {
      ir::ValueInfo out;
      out.name = y;
      out.dtype = DType::kFloat32;
      g.outputs.push_back(out);
    }
    return g;
  }
  ir::Graph Finish(const std::string& y) { return Finish(std::vector<std::string>{y}); }
};

}  // namespace act::test
