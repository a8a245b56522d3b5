// Neural-network ONNX ops: MatMul/Gemm/Einsum, convolutions, pooling, normalisations, softmax.
// Each lowering states the formula; attribute handling follows the ONNX operator specs.
#include <ATen/core/grad_mode.h>

#include <limits>
#include <numeric>

#include "exec/lowering.h"

namespace act::exec {
namespace {

using Tensors = std::vector<at::Tensor>;

// Y = A·B with NumPy-style batch broadcasting.
Expected<Kernel> BuildMatMul(const LoweringContext&) {
  return Kernel([](const Tensors& in) { return Tensors{at::matmul(in[0], in[1])}; });
}

// Y = alpha·A'·B' + beta·C, A' = transA ? Aᵀ : A, B' likewise; C broadcast to [M, N].
Expected<Kernel> BuildGemm(const LoweringContext& ctx) {
  const double alpha = ctx.node().GetFloat("alpha", 1.0f), beta = ctx.node().GetFloat("beta", 1.0f);
  const bool trans_a = ctx.node().GetInt("transA", 0) != 0, trans_b = ctx.node().GetInt("transB", 0) != 0;
  const bool has_c = ctx.HasInput(2);
  return Kernel([=](const Tensors& in) {
    const at::Tensor a = trans_a ? in[0].t() : in[0];
    const at::Tensor b = trans_b ? in[1].t() : in[1];
    if (has_c && beta != 0) return Tensors{at::addmm(in[2], a, b, beta, alpha)};
    at::Tensor y = at::mm(a, b);
    return Tensors{alpha == 1.0 ? y : y * alpha};
  });
}

Expected<Kernel> BuildEinsum(const LoweringContext& ctx) {
  const std::string equation = ctx.node().GetString("equation", "");
  return Kernel([equation](const Tensors& in) { return Tensors{at::einsum(equation, in)}; });
}

// Spatial attributes of Conv / ConvTranspose / pooling, resolved once.
struct Window {
  std::string auto_pad;
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: [b0, b1, ..., e0, e1, ...]; may be empty
};

Window ReadWindow(const ir::Node& node) {
  Window w;
  w.auto_pad = node.GetString("auto_pad", "NOTSET");
  w.kernel = node.GetInts("kernel_shape");
  w.strides = node.GetInts("strides");
  w.dilations = node.GetInts("dilations");
  w.pads = node.GetInts("pads");
  return w;
}

// Begin/end padding per spatial dim for input sizes `in` (spatial only), following auto_pad:
// SAME_*: total = max(0, (ceil(in/s) − 1)·s + (k−1)·d + 1 − in), SAME_UPPER puts the odd one at the end.
void ResolvePads(const Window& w, const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                 std::vector<int64_t>* begin, std::vector<int64_t>* end) {
  const size_t n = in.size();
  begin->assign(n, 0);
  end->assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t s = w.strides.empty() ? 1 : w.strides[i];
    const int64_t d = w.dilations.empty() ? 1 : w.dilations[i];
    if (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") {
      const int64_t out = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (kernel[i] - 1) * d + 1 - in[i]);
      const int64_t small = total / 2;
      (*begin)[i] = w.auto_pad == "SAME_UPPER" ? small : total - small;
      (*end)[i] = total - (*begin)[i];
    } else if (w.auto_pad != "VALID" && w.pads.size() == 2 * n) {
      (*begin)[i] = w.pads[i];
      (*end)[i] = w.pads[i + n];
    }
  }
}

// torch's pad list (last dim first) for begin/end pads of the spatial dims.
std::vector<int64_t> TorchPadList(const std::vector<int64_t>& begin, const std::vector<int64_t>& end) {
  std::vector<int64_t> pad;
  for (size_t i = begin.size(); i-- > 0;) {
    pad.push_back(begin[i]);
    pad.push_back(end[i]);
  }
  return pad;
}

std::vector<int64_t> Spatial(const at::Tensor& x) { return std::vector<int64_t>(x.sizes().begin() + 2, x.sizes().end()); }

std::vector<int64_t> OrOnes(const std::vector<int64_t>& v, size_t n) { return v.empty() ? std::vector<int64_t>(n, 1) : v; }

// Conv: Y[n, m] = B[m] + Σ_c Σ_k X[n, g·C/G + c, s·o + d·k − pad] · W[m, c, k] per group g.
// Asymmetric padding is applied to X first (zeros), symmetric padding by the convolution.
Expected<Kernel> BuildConv(const LoweringContext& ctx) {
  const Window w = ReadWindow(ctx.node());
  const int64_t groups = ctx.node().GetInt("group", 1);
  const bool has_bias = ctx.HasInput(2);
  return Kernel([w, groups, has_bias](const Tensors& in) {
    const at::Tensor& x = in[0];
    const at::Tensor& weight = in[1];
    const size_t n = static_cast<size_t>(x.dim() - 2);
    const std::vector<int64_t> kernel(weight.sizes().begin() + 2, weight.sizes().end());
    std::vector<int64_t> begin, end;
    ResolvePads(w, Spatial(x), kernel, &begin, &end);
    at::Tensor input = x;
    std::vector<int64_t> padding(n, 0);
    if (begin == end) {
      padding = begin;
    } else {
      input = at::constant_pad_nd(x, TorchPadList(begin, end), 0);
    }
    const at::Tensor bias = has_bias ? in[2] : at::Tensor();
    return Tensors{at::convolution(input, weight, bias, OrOnes(w.strides, n), padding, OrOnes(w.dilations, n),
                                   /*transposed=*/false, std::vector<int64_t>(n, 0), groups)};
  });
}

// ConvTranspose: the gradient of Conv with respect to its input, W is [C, M/group, k...].
// Output size per dim: s·(in − 1) + output_padding + (k − 1)·d + 1 − pad_begin − pad_end, where
// output_shape (when given) fixes the total padding (SAME_UPPER puts the smaller half first).
Expected<Kernel> BuildConvTranspose(const LoweringContext& ctx) {
  const Window w = ReadWindow(ctx.node());
  const int64_t groups = ctx.node().GetInt("group", 1);
  const std::vector<int64_t> output_padding_attr = ctx.node().GetInts("output_padding");
  const std::vector<int64_t> output_shape = ctx.node().GetInts("output_shape");
  const bool has_bias = ctx.HasInput(2);
  return Kernel([=](const Tensors& in) {
    const at::Tensor& x = in[0];
    const at::Tensor& weight = in[1];
    const size_t n = static_cast<size_t>(x.dim() - 2);
    const std::vector<int64_t> kernel(weight.sizes().begin() + 2, weight.sizes().end());
    const std::vector<int64_t> strides = OrOnes(w.strides, n), dilations = OrOnes(w.dilations, n);
    std::vector<int64_t> out_pad = output_padding_attr.empty() ? std::vector<int64_t>(n, 0) : output_padding_attr;
    std::vector<int64_t> begin(n, 0), end(n, 0);
    const std::vector<int64_t> spatial = Spatial(x);
    for (size_t i = 0; i < n; ++i) {
      const int64_t full = strides[i] * (spatial[i] - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1;
      if (!output_shape.empty()) {
        const int64_t target = output_shape[output_shape.size() - n + i];
        const int64_t total = full - target;
        if (total < 0) {  // larger than the full output: the extra goes to output_padding
          out_pad[i] += -total;
          continue;
        }
        begin[i] = w.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        end[i] = total - begin[i];
      } else if (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") {
        const int64_t total = std::max<int64_t>(0, full - spatial[i] * strides[i]);
        begin[i] = w.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        end[i] = total - begin[i];
      } else if (w.pads.size() == 2 * n) {
        begin[i] = w.pads[i];
        end[i] = w.pads[i + n];
      }
    }
    // torch pads symmetrically by m = min(begin, end); the rest is cropped.
    std::vector<int64_t> common(n);
    for (size_t i = 0; i < n; ++i) common[i] = std::min(begin[i], end[i]);
    // torch requires output_padding < stride or dilation; larger values are added by zero padding below.
    std::vector<int64_t> torch_out_pad(n), extra(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const int64_t limit = std::max(strides[i], dilations[i]) - 1;
      torch_out_pad[i] = std::min(out_pad[i], limit);
      extra[i] = out_pad[i] - torch_out_pad[i];
    }
    const at::Tensor bias = has_bias ? in[2] : at::Tensor();
    at::Tensor y = at::convolution(x, weight, bias, strides, common, dilations, /*transposed=*/true, torch_out_pad,
                                   groups);
    for (size_t i = 0; i < n; ++i) {
      const int64_t axis = static_cast<int64_t>(i) + 2;
      if (extra[i] > 0) {
        std::vector<int64_t> shape(y.sizes().begin(), y.sizes().end());
        shape[axis] = extra[i];
        at::Tensor fill = at::zeros(shape, y.options());
        if (has_bias) {
          std::vector<int64_t> bshape(y.dim(), 1);
          bshape[1] = in[2].numel();
          fill = fill + in[2].reshape(bshape);
        }
        y = at::cat({y, fill}, axis);
      }
      const int64_t lo = begin[i] - common[i], hi = end[i] - common[i];
      if (lo > 0 || hi > 0) y = y.slice(axis, lo, y.size(axis) - hi);
    }
    return Tensors{y};
  });
}

// MaxPool: Y = max over the window (padding never wins: padded with −inf). AveragePool: mean over the
// window, counting padded cells only when count_include_pad = 1.
Expected<Kernel> BuildPool(const LoweringContext& ctx) {
  const Window w = ReadWindow(ctx.node());
  const bool is_max = ctx.node().op_type == "MaxPool";
  const bool ceil_mode = ctx.node().GetInt("ceil_mode", 0) != 0;
  const bool count_include_pad = ctx.node().GetInt("count_include_pad", 0) != 0;
  if (w.kernel.empty()) return ctx.Error("has no kernel_shape attribute");
  if (w.kernel.size() > 3) return ctx.UnsupportedError("pooling over more than 3 spatial dimensions");
  if (is_max && ctx.node().outputs.size() > 1 && !ctx.node().outputs[1].empty()) {
    return ctx.UnsupportedError("the Indices output of MaxPool is not supported");
  }
  if (!is_max && !w.dilations.empty() &&
      std::any_of(w.dilations.begin(), w.dilations.end(), [](int64_t d) { return d != 1; })) {
    return ctx.UnsupportedError("dilated AveragePool");
  }
  return Kernel([=](const Tensors& in) {
    const at::Tensor& x = in[0];
    const size_t n = w.kernel.size();
    const std::vector<int64_t> strides = OrOnes(w.strides, n), dilations = OrOnes(w.dilations, n);
    std::vector<int64_t> begin, end;
    ResolvePads(w, Spatial(x), w.kernel, &begin, &end);
    bool symmetric = begin == end;
    for (size_t i = 0; i < n; ++i) symmetric = symmetric && begin[i] <= w.kernel[i] / 2;
    std::vector<int64_t> padding = symmetric ? begin : std::vector<int64_t>(n, 0);
    at::Tensor input = x;
    if (is_max && n == 2 && !ceil_mode && !at::GradMode::is_enabled()) {
      // Inference: max over the k·k strided views of the −inf-padded input. Same values as max_pool2d, which
      // in this libtorch build is a slow scalar kernel (27 ms of FastestDet's 70 ms); with autograd on,
      // max_pool2d is kept so that ties send the whole gradient to one element.
      const at::Tensor padded = at::constant_pad_nd(x, TorchPadList(begin, end), -std::numeric_limits<double>::infinity());
      int64_t out[2];
      for (int i = 0; i < 2; ++i) {
        out[i] = (padded.size(i + 2) - ((w.kernel[i] - 1) * dilations[i] + 1)) / strides[i] + 1;
      }
      at::Tensor y;
      for (int64_t a = 0; a < w.kernel[0]; ++a) {
        for (int64_t b = 0; b < w.kernel[1]; ++b) {
          const int64_t h0 = a * dilations[0], w0 = b * dilations[1];
          at::Tensor v = padded.slice(2, h0, h0 + strides[0] * (out[0] - 1) + 1, strides[0])
                             .slice(3, w0, w0 + strides[1] * (out[1] - 1) + 1, strides[1]);
          y = y.defined() ? at::maximum(y, v) : v;
        }
      }
      return Tensors{y.contiguous()};
    }
    if (is_max) {
      if (!symmetric) input = at::constant_pad_nd(x, TorchPadList(begin, end), -std::numeric_limits<double>::infinity());
      switch (n) {
        case 1: return Tensors{at::max_pool1d(input, w.kernel, strides, padding, dilations, ceil_mode)};
        case 2: return Tensors{at::max_pool2d(input, w.kernel, strides, padding, dilations, ceil_mode)};
        default: return Tensors{at::max_pool3d(input, w.kernel, strides, padding, dilations, ceil_mode)};
      }
    }
    auto avg = [&](const at::Tensor& t, bool include_pad) {
      switch (n) {
        case 1: return at::avg_pool1d(t, w.kernel, strides, padding, ceil_mode, include_pad);
        case 2: return at::avg_pool2d(t, w.kernel, strides, padding, ceil_mode, include_pad);
        default: return at::avg_pool3d(t, w.kernel, strides, padding, ceil_mode, include_pad);
      }
    };
    if (symmetric) return Tensors{avg(input, count_include_pad)};
    // Asymmetric padding: pad with zeros; without count_include_pad divide by the pooled count of real cells.
    const std::vector<int64_t> pad = TorchPadList(begin, end);
    input = at::constant_pad_nd(x, pad, 0);
    if (count_include_pad) return Tensors{avg(input, true)};
    std::vector<int64_t> ones_shape(x.sizes().begin(), x.sizes().end());
    ones_shape[0] = ones_shape[1] = 1;
    const at::Tensor count = avg(at::constant_pad_nd(at::ones(ones_shape, x.options()), pad, 0), true);
    return Tensors{avg(input, true) / count};
  });
}

// GlobalAveragePool / GlobalMaxPool: mean / max over all spatial dims, kept as size 1.
Expected<Kernel> BuildGlobalPool(const LoweringContext& ctx) {
  const bool is_max = ctx.node().op_type == "GlobalMaxPool";
  return Kernel([is_max](const Tensors& in) {
    std::vector<int64_t> dims;
    for (int64_t d = 2; d < in[0].dim(); ++d) dims.push_back(d);
    return Tensors{is_max ? at::amax(in[0], dims, true) : at::mean(in[0], dims, true)};
  });
}

// BatchNormalization with stored statistics: Y = (X − mean) / √(var + ε) · scale + B, per channel (dim 1).
Expected<Kernel> BuildBatchNorm(const LoweringContext& ctx) {
  if (ctx.node().GetInt("training_mode", 0) != 0) {
    return ctx.UnsupportedError("training_mode=1 (batch statistics); export the model for inference");
  }
  const double eps = ctx.node().GetFloat("epsilon", 1e-5f);
  return Kernel([eps](const Tensors& in) {
    return Tensors{at::batch_norm(in[0], in[1], in[2], in[3], in[4], /*training=*/false, 0.0, eps,
                                  /*cudnn_enabled=*/false)};
  });
}

// InstanceNormalization: per (n, c), normalise over the spatial dims, then scale and shift per channel.
Expected<Kernel> BuildInstanceNorm(const LoweringContext& ctx) {
  const double eps = ctx.node().GetFloat("epsilon", 1e-5f);
  return Kernel([eps](const Tensors& in) {
    return Tensors{at::instance_norm(in[0], in[1], in[2], at::Tensor(), at::Tensor(), true, 0.0, eps, false)};
  });
}

// LayerNormalization (opset 17): normalise over dims [axis, rank), Y = (X − μ) / √(σ² + ε) · scale + B.
Expected<Kernel> BuildLayerNorm(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", -1);
  const double eps = ctx.node().GetFloat("epsilon", 1e-5f);
  const bool has_bias = ctx.HasInput(2);
  const ir::Node node = ctx.node();
  return Kernel([=](const Tensors& in) {
    const at::Tensor& x = in[0];
    const int64_t a = NormalizeAxis(axis, x.dim(), node);
    const std::vector<int64_t> shape(x.sizes().begin() + a, x.sizes().end());
    const at::Tensor bias = has_bias ? in[2] : at::Tensor();
    if (in[1].sizes() == at::IntArrayRef(shape) && (!has_bias || bias.sizes() == at::IntArrayRef(shape))) {
      return Tensors{at::layer_norm(x, shape, in[1], bias, eps)};
    }
    at::Tensor y = at::layer_norm(x, shape, {}, {}, eps) * in[1];  // scale/bias broadcast against X
    return Tensors{has_bias ? y + bias : y};
  });
}

// Softmax / LogSoftmax. From opset 13 along `axis` (default −1). Before 13 the input is viewed as 2-D
// [∏ dims < axis, ∏ dims ≥ axis] (axis default 1) and normalised along its second dim.
Expected<Kernel> BuildSoftmax(const LoweringContext& ctx) {
  const bool log = ctx.node().op_type == "LogSoftmax";
  const bool legacy = ctx.opset() < 13;
  const int64_t axis = ctx.node().GetInt("axis", legacy ? 1 : -1);
  const ir::Node node = ctx.node();
  return Kernel([=](const Tensors& in) {
    const at::Tensor& x = in[0];
    const int64_t a = NormalizeAxis(axis, x.dim(), node);
    auto f = [log](const at::Tensor& t, int64_t dim) { return log ? at::log_softmax(t, dim) : at::softmax(t, dim); };
    if (!legacy || a == x.dim() - 1) return Tensors{f(x, a)};
    int64_t outer = 1;
    for (int64_t d = 0; d < a; ++d) outer *= x.size(d);
    return Tensors{f(x.reshape({outer, -1}), 1).reshape(x.sizes())};
  });
}

}  // namespace

void RegisterNnLowerings(LoweringTable& t) {
  auto add = [&t](const char* op, LoweringBuilder build, int64_t since = 1, int64_t until = 1000) {
    Status s = t.Add({"", op, since, until, build});
    assert(s.ok() && "duplicate built-in lowering");
    (void)s;
  };
  add("MatMul", &BuildMatMul);
  add("Gemm", &BuildGemm);
  add("Einsum", &BuildEinsum, 12);
  add("Conv", &BuildConv);
  add("ConvTranspose", &BuildConvTranspose);
  add("MaxPool", &BuildPool);
  add("AveragePool", &BuildPool);
  add("GlobalAveragePool", &BuildGlobalPool);
  add("GlobalMaxPool", &BuildGlobalPool);
  add("BatchNormalization", &BuildBatchNorm, 7);
  add("InstanceNormalization", &BuildInstanceNorm);
  add("LayerNormalization", &BuildLayerNorm, 17);
  add("Softmax", &BuildSoftmax);
  add("LogSoftmax", &BuildSoftmax);
}

}  // namespace act::exec
