// The `act`-domain training ops that quantization-aware training inserts (src/quant/qat_insert.h) and the
// executor lowers (src/exec/lowerings_act.cc). Header-only names, so the torch-free passes and the libtorch
// lowerings agree on one spelling.
//
// act.FakeQuant(x, scale, zero_point[, state[, bias, x_scale]]) -> y
//   y = (clamp(round_half_even(x / s) + z, qmin, qmax) - z) * s       (what Q then DQ computes in ONNX)
//   In evaluation x / s is a true division, as QuantizeLinear computes it (not x · (1/s): that rounds exact
//   ties, frequent when x is itself on a grid, the other way than ONNX Runtime); training uses libtorch's
//   one-pass x · (1/s) (ties do not matter to the gradient).
//   gradient: straight-through inside [qmin, qmax] (zero outside); with `learnable` = 1, LSQ's gradient to
//   the scale as well (per-tensor only).
//   Attributes: qmin, qmax (ints); axis (-1: one scale; else per-channel along axis); symmetric (0/1);
//   observer: how s and z follow the data while training (autograd recording); under NoGradGuard
//   (evaluation, export) s and z are read as stored:
//     weight                  s_c = max(max|x_c| / qmax, 1e-10), z = 0 — recomputed on every forward (training
//                             or not) from the current weights, as the export does (ACT's channel_wise_abs_max);
//                             with inputs bias and x_scale (the reading node's bias and input scale), the
//                             export's int32 guard too: s_c = max(s_c, |b_c| / (x_scale · 2^30))
//   inputs 4, 5 on an activation observer (x_scale, w_scale; attribute requant_axis, default 1): x is the output
//   of an integer Conv/Gemm; in evaluation it is requantized as ONNX Runtime's fused kernel does:
//   acc_c = round(x / (x_scale·w_scale_c)), q = clamp(round_half_even(acc_c · M_c) + z, qmin, qmax) with
//   M_c = x_scale·w_scale_c / s (float), y = (q - z)·s. Training uses the plain formula above.
//     moving_average_abs_max  min/max of each batch, bias-corrected moving average (Paddle's):
//                             acc = r·acc + v, cnt = r·cnt + 1, range = acc / cnt; attribute moving_rate r
//     range_abs_max           min/max over the last window_size batches (ring buffer in state)
//     abs_max                 min/max of the current batch
//     fixed                   never updated
//   s and z come from the range [lo, hi] (widened to contain 0): symmetric s = max(|lo|, |hi|) / qmax,
//   z = 0; asymmetric s = (hi - lo) / (qmax - qmin), z = clamp(round(qmin - lo / s), qmin, qmax).
//   state (float): [acc_min, acc_max, count, ring_min[window], ring_max[window]] for the activation observers.
// act.QuantizeBias(b, x_scale, w) -> y   (attributes axis, qmax: the weight FakeQuant's)
//   y_c = round_half_even(b_c / bs_c) · bs_c with bs_c = x_scale · s_w[c] (s_w as the weight FakeQuant computes
//   it, guard included; output channel c uses weight scale c mod the number of scales): the int32 bias of an
//   integer Conv/Gemm — what the QDQ export stores, and what ONNX Runtime computes from a float Conv bias
//   when it fuses QLinearConv. Gradient straight-through to b.
// act.PactClip(x, alpha) -> y = x - relu(x - alpha) + relu(-alpha - x)   (PACT, clip to [-alpha, alpha];
//   alpha is trainable, initialised at 20, with L2 decay in the optimizer).
#pragma once

namespace act::quant {

inline constexpr const char* kActDomain = "act";
inline constexpr const char* kFakeQuantOp = "FakeQuant";
inline constexpr const char* kPactClipOp = "PactClip";
inline constexpr const char* kQuantizeBiasOp = "QuantizeBias";

inline constexpr const char* kObserverWeight = "weight";
inline constexpr const char* kObserverMovingAverage = "moving_average_abs_max";
inline constexpr const char* kObserverRangeAbsMax = "range_abs_max";
inline constexpr const char* kObserverAbsMax = "abs_max";
inline constexpr const char* kObserverFixed = "fixed";

// Smallest scale the training ops produce (= quant::kMinScale, so export and simulation agree).
inline constexpr float kFakeQuantMinScale = 1e-10f;

}  // namespace act::quant
