// Weight-only int8 for embedding tables: a float initializer read only by Gather (axis 0) — a transformer's
// token and position embeddings, often most of its bytes — is stored as int8 with one symmetric scale per
// column (the embedding dimension), and each Gather becomes
//   Gather(W int8, ids) → DequantizeLinear(scale[D], zero point 0, axis = last)
// which equals Gather(DequantizeLinear(W), ids) exactly, because the column scales survive row selection.
// The lookup moves int8 rows, so no table is dequantized at inference (a DequantizeLinear in front of the
// Gather would expand the whole table on every run in ONNX Runtime).
// A table every reader of which Adds it whole to a variable (a position embedding [sequence, width]) is
// stored the same way with one DequantizeLinear in front of the Adds: it is read whole on every run anyway.
#pragma once

#include <cstdint>

#include "act/status.h"
#include "ir/graph.h"

namespace act::ir {

struct EmbeddingQuantOptions {
  int64_t min_elements = 4096;  // smaller tables are not worth the extra node
};

// Returns how many tables were quantized. Tables also read by another op (e.g. an output projection tied
// to the input embedding) stay float. Idempotent: an int8 table is not float any more.
Expected<int> QuantizeEmbeddingTables(Graph& graph, const EmbeddingQuantOptions& options = {});

}  // namespace act::ir
