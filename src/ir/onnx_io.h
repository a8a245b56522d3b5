// Loading and saving ir::Graph as ONNX protobuf (libonnx's onnx_proto classes).
// External data (tensors stored beside the model, as exports over 2 GB must) is read at load time and
// written at save time when the weights are large or when asked.
#pragma once

#include <string>

#include "act/status.h"
#include "ir/graph.h"

namespace act::ir {

struct LoadOptions {
  // Op domains other than ai.onnx, ai.onnx.ml, act and com.microsoft are refused unless this is set
  // (ONNX Runtime's optimized models use internal domains; inspecting those is fine).
  bool allow_unknown_domains = false;
};

struct SaveOptions {
  // Initializers are written to `external_data_file` (beside the model) when their total size exceeds
  // this many bytes. The protobuf limit is 2 GB, so the default keeps big models loadable everywhere.
  int64_t external_data_threshold = int64_t{1} << 30;
  // Force external data regardless of size (tests, and users who want it).
  bool force_external_data = false;
  // Tensors smaller than this stay inside the model even when external data is used.
  int64_t external_min_bytes = 1024;
  // File name (relative to the model's folder); default "<model file name>.data".
  std::string external_data_file;
};

Expected<Graph> LoadModel(const std::string& path, const LoadOptions& options = {});
Expected<Graph> ParseModel(const std::string& bytes, const std::string& name_for_errors,
                           const std::string& base_dir = "", const LoadOptions& options = {});
// Writes atomically (temporary name, then rename); refuses to write over `must_not_overwrite` when given.
Status SaveModel(const Graph& graph, const std::string& path, const SaveOptions& options = {});
// Serializes with every tensor inline (fails past the 2 GB protobuf limit).
Expected<std::string> SerializeModel(const Graph& graph);

}  // namespace act::ir
