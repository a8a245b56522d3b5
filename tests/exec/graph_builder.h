// Builds small ir::Graphs in tests: inputs with symbolic or fixed dims, initializers, nodes, outputs.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace act::exec::test {

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 13) { graph_.opset_imports[""] = opset; graph_.name = "test"; }

  // dims: -1 is a symbolic dimension ("N").
  GraphBuilder& Input(const std::string& name, DType dtype, const std::vector<int64_t>& dims) {
    ir::ValueInfo v;
    v.name = name;
    v.dtype = dtype;
    std::vector<ir::Dim> shape;
    for (int64_t d : dims) {
      ir::Dim dim;
      if (d >= 0) dim.value = d;
      else dim.symbol = "N";
      shape.push_back(dim);
    }
    v.shape = shape;
    graph_.inputs.push_back(v);
    return *this;
  }
  GraphBuilder& Init(const std::string& name, Tensor t) {
    graph_.initializers[name] = std::move(t);
    return *this;
  }
  GraphBuilder& Node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
                     std::map<std::string, ir::Attribute> attrs = {}, const std::string& domain = "") {
    ir::Node n;
    n.name = op + "_" + std::to_string(graph_.nodes.size());
    n.op_type = op;
    n.domain = domain;
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    n.attributes = std::move(attrs);
    graph_.nodes.push_back(std::move(n));
    return *this;
  }
  GraphBuilder& Output(const std::string& name, DType dtype = DType::kUndefined) {
    ir::ValueInfo v;
    v.name = name;
    v.dtype = dtype;
    graph_.outputs.push_back(v);
    return *this;
  }
  ir::Graph Build() const { return graph_; }

 private:
  ir::Graph graph_;
};

}  // namespace act::exec::test
