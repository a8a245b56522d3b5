// Tiny graphs for pass and analysis tests, built in code.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace act::test {

inline ir::ValueInfo FloatValue(const std::string& name, std::vector<int64_t> dims) {
  ir::ValueInfo v{name, DType::kFloat32, std::vector<ir::Dim>()};
  for (int64_t d : dims) v.shape->push_back(ir::Dim{d, d < 0 ? "N" : ""});
  return v;
}

inline ir::Node MakeNode(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
                         const std::string& name = "") {
  ir::Node n;
  n.op_type = op;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.name = name.empty() ? op + "_" + n.outputs.at(0) : name;
  return n;
}

inline ir::Graph EmptyGraph(int64_t opset = 13) {
  ir::Graph g;
  g.name = "test";
  g.opset_imports[""] = opset;
  g.producer_name = "onnx-act-test";
  return g;
}

}  // namespace act::test
