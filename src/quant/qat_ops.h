// The `act`-domain training ops that quantization-aware training inserts (src/quant/qat_insert.h) and the
// executor lowers (src/exec/lowerings_act.cc). Header-only names, so the torch-free passes and the libtorch
// lowerings agree on one spelling.
//
// act.FakeQuant(x, scale, zero_point[, state]) -> y
//   y = (clamp(round_half_even(x / s) + z, qmin, qmax) - z) * s       (what Q then DQ computes in ONNX)
//   gradient: straight-through inside [qmin, qmax] (zero outside); with `learnable` = 1, LSQ's gradient to
//   the scale as well (per-tensor only).
//   Attributes: qmin, qmax (ints); axis (-1: one scale; else per-channel along axis); symmetric (0/1);
//   observer: how s and z follow the data while training (autograd recording); under NoGradGuard
//   (evaluation, export) s and z are read as stored:
//     weight                  s_c = max(max|x_c| / qmax, 1e-10), z = 0 — recomputed on every forward (training
//                             or not) from the current weights, as the export does (ACT's channel_wise_abs_max)
//     moving_average_abs_max  min/max of each batch, bias-corrected moving average (Paddle's):
//                             acc = r·acc + v, cnt = r·cnt + 1, range = acc / cnt; attribute moving_rate r
//     range_abs_max           min/max over the last window_size batches (ring buffer in state)
//     abs_max                 min/max of the current batch
//     fixed                   never updated
//   s and z come from the range [lo, hi] (widened to contain 0): symmetric s = max(|lo|, |hi|) / qmax,
//   z = 0; asymmetric s = (hi - lo) / (qmax - qmin), z = clamp(round(qmin - lo / s), qmin, qmax).
//   state (float): [acc_min, acc_max, count, ring_min[window], ring_max[window]] for the activation observers.
// act.PactClip(x, alpha) -> y = x - relu(x - alpha) + relu(-alpha - x)   (PACT, clip to [-alpha, alpha];
//   alpha is trainable, initialised at 20, with L2 decay in the optimizer).
#pragma once

namespace act::quant {

inline constexpr const char* kActDomain = "act";
inline constexpr const char* kFakeQuantOp = "FakeQuant";
inline constexpr const char* kPactClipOp = "PactClip";

inline constexpr const char* kObserverWeight = "weight";
inline constexpr const char* kObserverMovingAverage = "moving_average_abs_max";
inline constexpr const char* kObserverRangeAbsMax = "range_abs_max";
inline constexpr const char* kObserverAbsMax = "abs_max";
inline constexpr const char* kObserverFixed = "fixed";

// Smallest scale the training ops produce (= quant::kMinScale, so export and simulation agree).
inline constexpr float kFakeQuantMinScale = 1e-10f;

}  // namespace act::quant
