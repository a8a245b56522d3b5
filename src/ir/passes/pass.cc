#include "ir/passes/pass.h"

#include "core/strings.h"
#include "ir/checker.h"

namespace act::ir {

const std::vector<PassInfo>& AllPasses() {
  static const std::vector<PassInfo> kPasses = {
      {"constant_to_initializer", "Constant nodes holding tensors become initializers", &ConstantToInitializer},
      {"convert_opset_13", "raise the ai.onnx opset to 13 (13–17 kept)", &ConvertOpsetTo13},
      {"fold_batchnorm", "fold BatchNormalization into the preceding Conv/ConvTranspose/Gemm", &FoldBatchNorm},
      {"fold_affine", "fold per-channel Mul/Add/Sub/Div constants into the preceding Conv/ConvTranspose/Gemm", &FoldAffine},
      {"fold_scalar_affine", "fold chains of scalar Mul/Div/Add/Sub read only by Convs into those Convs' weights and biases", &FoldScalarAffine},
      {"fold_channel_shuffle", "fold channel shuffles and channel Concats into the output-channel order of the producing Convs (Split + Concat remain)", &FoldChannelShuffle},
      {"pad_conv_input_channels", "zero-pad the input of Convs reading fewer than 4 channels to 4 (exact; for ORT's int8 kernels)", &PadConvInputChannels},
  };
  return kPasses;
}

Expected<bool> RunPass(const std::string& name, Graph& graph) {
  std::vector<std::string> names;
  for (const auto& pass : AllPasses()) {
    if (name == pass.name) return pass.run(graph);
    names.push_back(pass.name);
  }
  return NotFound("unknown graph pass '" + name + "'" + DidYouMean(name, names));
}

Status Normalize(Graph& graph, const std::string& what) {
  ACT_RETURN_IF_ERROR(graph.TopologicalSort().WithContext(what));
  auto changed = ConstantToInitializer(graph);
  if (!changed.ok()) return changed.status().WithContext(what);
  changed = ConvertOpsetTo13(graph);
  if (!changed.ok()) return changed.status().WithContext(what);
  return InferShapes(graph, what);
}

}  // namespace act::ir
