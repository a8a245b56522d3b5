// qat_export: the trained fake-quant graph → a standard ONNX QDQ model, through the same QDQ export as
// PTQ (src/ir/passes/qdq_export.h), so simulated and exported models compute the same thing.
//   1. Each activation act.FakeQuant's stored scale / zero point (what evaluation used) becomes the
//      calibration entry of its tensor; the node is removed and the producer writes the tensor again.
//   2. An act.PactClip is dropped when the quantizer's range [(qmin - z)·s, (qmax - z)·s] lies inside
//      [-alpha, alpha] (the Q then clips at least as much); otherwise it becomes a standard Clip(-alpha, alpha).
//   3. Weight act.FakeQuant nodes are removed: the export recomputes the same abs-max scales from the
//      trained weights (s_c = max|w_c| / qmax, the formula the training op used).
//      act.QuantizeBias nodes are removed too: the export rounds the bias to the same int32 grid (or leaves
//      a float Conv bias that ONNX Runtime rounds so when it fuses QLinearConv).
//   4. Quantizer state initializers and the `act` opset import are dropped; ExportQdq places Q/DQ.
#pragma once

#include "act/status.h"
#include "ir/graph.h"
#include "ir/passes/qdq_export.h"
#include "quant/calibration.h"
#include "quant/qat_insert.h"

namespace act::quant {

struct QatExportResult {
  ir::Graph model;               // the QDQ model
  ir::Graph float_model;         // the trained FP32 graph without act nodes (what the QDQ export read)
  CalibrationTable table;        // trained activation parameters
  ir::QdqExportResult export_result;
  int pact_kept_as_clip = 0;
};

// `trained` is the graph InsertFakeQuant returned, with the trained initializer values written back.
Expected<QatExportResult> ExportQat(const ir::Graph& trained, const QatGraphInfo& info, const QatOptions& options);

}  // namespace act::quant
