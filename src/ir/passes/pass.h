// Graph passes: each is a named rewrite that edits a Graph in place, reports whether it changed anything,
// and is idempotent (running it twice changes nothing the second time). They are listed in one explicit
// table (AllPasses) so that the CLI, tests and pipelines can find them by name.
#pragma once

#include <string>
#include <vector>

#include "act/status.h"
#include "ir/graph.h"

namespace act::ir {

using PassFunction = Expected<bool> (*)(Graph& graph);

struct PassInfo {
  const char* name;
  const char* description;
  PassFunction run;
};

const std::vector<PassInfo>& AllPasses();
// Runs the pass called `name`; an unknown name is an error listing the nearest one.
Expected<bool> RunPass(const std::string& name, Graph& graph);

// ---- the passes (one file each in src/ir/passes) ------------------------------------------------------
// Constant nodes whose value is a tensor become initializers (PaddleOCR exports keep all weights there).
Expected<bool> ConstantToInitializer(Graph& graph);
// Converts the default-domain opset up to 13 (models at 13–17 are kept as they are), rewriting the ops
// whose attributes became inputs or whose meaning changed. Fails naming the node for ops it cannot convert.
Expected<bool> ConvertOpsetTo13(Graph& graph);

// The normalisation every loaded model gets before analysis or compression: constants to initializers,
// opset ≥ 13, topological order, shape inference. `what` names the model in messages.
Status Normalize(Graph& graph, const std::string& what);

// Conv/ConvTranspose/Gemm → BatchNormalization folded into the producer's weights and bias (fold_batchnorm.cc).
Expected<bool> FoldBatchNorm(Graph& graph);
// Conv/ConvTranspose/Gemm → Mul/Add/Sub/Div by a per-channel constant folded into the producer (fold_affine.cc).
Expected<bool> FoldAffine(Graph& graph);
// Chains of Mul/Div/Add/Sub by scalar constants read only by Convs folded into those Convs' weights (and
// biases, when they do not pad); exact (fold_scalar_affine.cc).
Expected<bool> FoldScalarAffine(Graph& graph);
// Channel shuffles (Reshape/Transpose/Reshape/Gather, Concat) folded into the output-channel order of the
// Convs that feed them: Split + Concat along the channel axis remain (fold_channel_shuffle.cc). Exact.
Expected<bool> FoldChannelShuffle(Graph& graph);
// Convs reading fewer than 4 channels (an image) read them zero-padded to 4, with zero weights for the new
// channels: exact; ORT's x86 int8 conv is much faster with 4 (pad_conv_input_channels.cc). For PTQ only.
Expected<bool> PadConvInputChannels(Graph& graph);

}  // namespace act::ir
