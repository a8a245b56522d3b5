// Tiny graphs for the fold and QDQ export tests, built in code, and running them in ONNX Runtime.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/onnx_io.h"
#include "test_support.h"

namespace act::test {

inline ir::ValueInfo Value(const std::string& name, std::vector<int64_t> dims, DType dtype = DType::kFloat32) {
  ir::ValueInfo v{name, dtype, std::vector<ir::Dim>()};
  for (int64_t d : dims) v.shape->push_back(ir::Dim{d, ""});
  return v;
}

inline ir::Node Op(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
                   std::map<std::string, ir::Attribute> attributes = {}) {
  ir::Node n;
  n.op_type = op;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.name = op + "_" + n.outputs.at(0);
  n.attributes = std::move(attributes);
  return n;
}

inline ir::Graph NewGraph(int64_t opset = 13) {
  ir::Graph g;
  g.name = "test";
  g.opset_imports[""] = opset;
  g.producer_name = "onnx-act-test";
  return g;
}

// Uniform values in [lo, hi), fixed seed.
inline Tensor Random(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (float& x : v) x = u(rng);
  return Tensor::FromVector<float>(std::move(shape), v);
}

inline int CountOps(const ir::Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.nodes) n += node.op_type == op;
  return n;
}

// Saves `graph` under `dir/file` and runs it in ORT.
inline Expected<std::map<std::string, Tensor>> SaveAndRunOrt(const ir::Graph& graph, const std::string& dir,
                                                             const std::string& file,
                                                             const std::map<std::string, Tensor>& inputs) {
  const std::string path = dir + "/" + file;
  ACT_RETURN_IF_ERROR(ir::SaveModel(graph, path));
  return RunOrt(path, inputs);
}

// Every output of `before` is in `after` within `tolerance` (MaxRelativeError), e.g. a model before and
// after an exact rewrite, both run in ONNX Runtime.
inline void ExpectSameOutputs(const std::map<std::string, Tensor>& before, const std::map<std::string, Tensor>& after,
                              double tolerance) {
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [name, t] : before) {
    ASSERT_TRUE(after.count(name)) << name;
    EXPECT_LE(MaxRelativeError(after.at(name), t), tolerance) << name;
  }
}

}  // namespace act::test
