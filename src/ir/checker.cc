#include "ir/checker.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "ir/onnx_io.h"

namespace act::ir {
namespace {

Expected<onnx::ModelProto> ToProto(const Graph& graph, const std::string& what) {
  ACT_ASSIGN_OR_RETURN(std::string bytes, SerializeModel(graph));
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) return Internal(what + ": could not re-read our own serialized model");
  return model;
}

}  // namespace

Status CheckModel(const Graph& graph, const std::string& what) {
  ACT_ASSIGN_OR_RETURN(onnx::ModelProto model, ToProto(graph, what));
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return InvalidInput(what + ": the ONNX checker rejects the model: " + e.what());
  }
  return Status::Ok();
}

Status InferShapes(Graph& graph, const std::string& what) {
  ACT_ASSIGN_OR_RETURN(onnx::ModelProto model, ToProto(graph, what));
  try {
    onnx::ShapeInferenceOptions options{/*check_type=*/false, /*error_mode=*/1, /*enable_data_propagation=*/true};
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    return InvalidInput(what + ": shape inference failed: " + e.what());
  }
  Graph inferred;
  ACT_ASSIGN_OR_RETURN(inferred, ParseModel(model.SerializeAsString(), what, "", LoadOptions{true}));
  graph.value_info = std::move(inferred.value_info);
  for (auto& out : graph.outputs) {
    if (out.dtype != DType::kUndefined && out.shape) continue;
    for (const auto& o : inferred.outputs) if (o.name == out.name) out = o;
  }
  return Status::Ok();
}

}  // namespace act::ir
