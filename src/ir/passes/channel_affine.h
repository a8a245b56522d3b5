// Shared by fold_batchnorm and fold_affine: folding a per-output-channel affine map y[c] = s[c]·x[c] + t[c]
// into the Conv, ConvTranspose or Gemm that produces x, by scaling that channel's weights and bias:
//   W'[c] = s[c]·W[c],  b'[c] = s[c]·b[c] + t[c]      (Gemm: C' = s·beta·C + t, beta := 1)
// Weights shared with another node are copied first, so only this node changes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "act/status.h"
#include "ir/graph.h"

namespace act::ir {

// What an affine fold needs to know of the producer: its output channel count and the rank and channel
// axis of its output. nullopt when the node is not a foldable producer (other op, weight not a float
// initializer, bias not a constant, Gemm bias of another shape than [N]/[1,N]/scalar).
struct ChannelProducer {
  int64_t channels = 0;
  int64_t output_rank = 0;
  int64_t channel_axis = 1;
};
std::optional<ChannelProducer> AsChannelProducer(const Graph& graph, const Node& node);

// Expands a constant of shape `shape` that broadcasts against the producer's output along the channel axis
// only ([C,1,1], [1,C,1,1], [1], scalar, …) to C values; nullopt when it broadcasts along other axes too.
std::optional<std::vector<float>> PerChannelValues(const Tensor& constant, const ChannelProducer& producer);

// Applies y = s·x + t to node `index`'s output channels (s, t of size C). The node must satisfy
// AsChannelProducer.
Status FoldChannelAffine(Graph& graph, int index, const std::vector<float>& scale, const std::vector<float>& shift);

}  // namespace act::ir
