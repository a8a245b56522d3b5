// Shape and data-movement ONNX ops (Reshape, Transpose, Concat, Split, Slice, Gather, Shape, Expand, Pad,
// Resize, ...) and reductions. Shape operands are read from constants when the Module is built and from
// the (int64) tensors at run time otherwise, so shape arithmetic on a dynamic batch works.
#include <cmath>
#include <optional>

#include "exec/lowering.h"
#include "exec/tensor_convert.h"

namespace act::exec {
namespace {

using Tensors = std::vector<at::Tensor>;
using Ints = std::vector<int64_t>;

// An integer-list operand: an attribute before `input_since_opset`, an input (constant or not) after.
struct IntsOperand {
  bool present = false;
  std::optional<Ints> constant;
  size_t input = 0;
  bool from_input = false;
  Ints Get(const Tensors& in) const {
    if (constant) return *constant;
    if (from_input && input < in.size() && in[input].defined()) return ToInt64Vector(in[input]);
    return {};
  }
};

IntsOperand ReadIntsOperand(const LoweringContext& ctx, const std::string& attr, size_t input,
                            int64_t input_since_opset) {
  IntsOperand op;
  if (ctx.opset() < input_since_opset) {
    if (ctx.node().HasAttr(attr)) {
      op.present = true;
      op.constant = ctx.node().GetInts(attr);
    }
    return op;
  }
  if (!ctx.HasInput(input)) return op;
  op.present = true;
  op.from_input = true;
  op.input = input;
  if (const at::Tensor* c = ctx.ConstantInput(input)) op.constant = ToInt64Vector(*c);
  return op;
}

// Reshape: 0 copies the input dim (unless allowzero), −1 is inferred.
Expected<Kernel> BuildReshape(const LoweringContext& ctx) {
  const IntsOperand shape = ReadIntsOperand(ctx, "shape", 1, 5);
  const bool allow_zero = ctx.node().GetInt("allowzero", 0) != 0;
  if (!shape.present) return ctx.Error("has no shape");
  return Kernel([shape, allow_zero](const Tensors& in) {
    Ints s = shape.Get(in);
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == 0 && !allow_zero) {
        if (static_cast<int64_t>(i) >= in[0].dim()) throw KernelError("shape has 0 at a dim the input lacks");
        s[i] = in[0].size(static_cast<int64_t>(i));
      }
    }
    return Tensors{in[0].reshape(s)};
  });
}

// Flatten: [∏ dims < axis, ∏ dims ≥ axis].
Expected<Kernel> BuildFlatten(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", 1);
  const ir::Node node = ctx.node();
  return Kernel([axis, node](const Tensors& in) {
    const int64_t rank = in[0].dim();
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a > rank) throw KernelError("axis " + std::to_string(axis) + " out of range");
    int64_t outer = 1;
    for (int64_t d = 0; d < a; ++d) outer *= in[0].size(d);
    int64_t inner = 1;
    for (int64_t d = a; d < rank; ++d) inner *= in[0].size(d);
    return Tensors{in[0].reshape({outer, inner})};
  });
}

// Transpose: Y = X permuted by perm (default: reversed dims).
Expected<Kernel> BuildTranspose(const LoweringContext& ctx) {
  const Ints perm = ctx.node().GetInts("perm");
  return Kernel([perm](const Tensors& in) {
    Ints p = perm;
    if (p.empty()) {
      for (int64_t d = in[0].dim(); d-- > 0;) p.push_back(d);
    }
    return Tensors{in[0].permute(p)};
  });
}

// Squeeze: removes the listed size-1 dims (all size-1 dims when none are listed).
Expected<Kernel> BuildSqueeze(const LoweringContext& ctx) {
  const IntsOperand axes = ReadIntsOperand(ctx, "axes", 1, 13);
  return Kernel([axes](const Tensors& in) {
    const at::Tensor& x = in[0];
    const int64_t rank = x.dim();
    Ints list = axes.Get(in);
    std::vector<bool> drop(rank, false);
    if (list.empty()) {
      for (int64_t d = 0; d < rank; ++d) drop[d] = x.size(d) == 1;
    } else {
      for (int64_t a : list) {
        const int64_t d = a < 0 ? a + rank : a;
        if (d < 0 || d >= rank || x.size(d) != 1) {
          throw KernelError("cannot squeeze axis " + std::to_string(a) + " of a tensor of shape " +
                            ShapeToString(Shape(x.sizes().begin(), x.sizes().end())));
        }
        drop[d] = true;
      }
    }
    Ints shape;
    for (int64_t d = 0; d < rank; ++d) {
      if (!drop[d]) shape.push_back(x.size(d));
    }
    return Tensors{x.reshape(shape)};
  });
}

// Unsqueeze: inserts size-1 dims at the listed positions of the output.
Expected<Kernel> BuildUnsqueeze(const LoweringContext& ctx) {
  const IntsOperand axes = ReadIntsOperand(ctx, "axes", 1, 13);
  if (!axes.present) return ctx.Error("has no axes");
  return Kernel([axes](const Tensors& in) {
    const at::Tensor& x = in[0];
    Ints list = axes.Get(in);
    const int64_t out_rank = x.dim() + static_cast<int64_t>(list.size());
    std::vector<bool> is_new(out_rank, false);
    for (int64_t a : list) {
      const int64_t d = a < 0 ? a + out_rank : a;
      if (d < 0 || d >= out_rank || is_new[d]) throw KernelError("bad Unsqueeze axis " + std::to_string(a));
      is_new[d] = true;
    }
    Ints shape;
    int64_t src = 0;
    for (int64_t d = 0; d < out_rank; ++d) shape.push_back(is_new[d] ? 1 : x.size(src++));
    return Tensors{x.reshape(shape)};
  });
}

Expected<Kernel> BuildConcat(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", 0);
  const ir::Node node = ctx.node();
  return Kernel([axis, node](const Tensors& in) {
    const int64_t a = NormalizeAxis(axis, in[0].dim(), node);
    return Tensors{at::cat(in, a)};
  });
}

// Split along `axis` into the given sizes, or into equal parts (one per output; the last smaller, opset 18).
Expected<Kernel> BuildSplit(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", 0);
  const IntsOperand split = ReadIntsOperand(ctx, "split", 1, 13);
  const int64_t parts = static_cast<int64_t>(ctx.node().outputs.size());
  const ir::Node node = ctx.node();
  return Kernel([=](const Tensors& in) {
    const int64_t a = NormalizeAxis(axis, in[0].dim(), node);
    Ints sizes = split.Get(in);
    if (sizes.empty()) {
      const int64_t dim = in[0].size(a);
      const int64_t each = (dim + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::max<int64_t>(0, std::min(each, dim - i * each)));
    }
    std::vector<at::Tensor> out = at::split_with_sizes(in[0], sizes, a);
    return out;
  });
}

// Slice: for each listed axis, elements start, start+step, ... before end (negative values count from the
// end; out-of-range values are clamped as the ONNX spec says).
Expected<Kernel> BuildSlice(const LoweringContext& ctx) {
  const bool legacy = ctx.opset() < 10;
  const IntsOperand starts = ReadIntsOperand(ctx, "starts", 1, 10);
  const IntsOperand ends = ReadIntsOperand(ctx, "ends", 2, 10);
  const IntsOperand axes = ReadIntsOperand(ctx, "axes", 3, 10);
  IntsOperand steps;
  if (!legacy) steps = ReadIntsOperand(ctx, "steps", 4, 10);
  return Kernel([=](const Tensors& in) {
    at::Tensor x = in[0];
    const Ints s = starts.Get(in), e = ends.Get(in);
    Ints ax = axes.Get(in), st = steps.Get(in);
    if (s.size() != e.size()) throw KernelError("starts and ends differ in length");
    if (ax.empty()) {
      for (size_t i = 0; i < s.size(); ++i) ax.push_back(static_cast<int64_t>(i));
    }
    if (st.empty()) st.assign(s.size(), 1);
    for (size_t i = 0; i < s.size(); ++i) {
      const int64_t rank = x.dim();
      const int64_t axis = ax[i] < 0 ? ax[i] + rank : ax[i];
      if (axis < 0 || axis >= rank) throw KernelError("slice axis " + std::to_string(ax[i]) + " out of range");
      const int64_t dim = x.size(axis), step = st[i];
      if (step == 0) throw KernelError("slice step is 0");
      int64_t start = s[i], end = e[i];
      if (start < 0) start += dim;
      if (end < 0) end += dim;
      if (step > 0) {
        start = std::clamp<int64_t>(start, 0, dim);
        end = std::clamp<int64_t>(end, 0, dim);
        if (start == 0 && end == dim && step == 1) continue;
        x = x.slice(axis, start, std::max(start, end), step);
      } else {
        start = std::clamp<int64_t>(start, 0, dim - 1);
        end = std::clamp<int64_t>(end, -1, dim - 1);
        at::Tensor idx = end < start ? at::arange(start, end, step, at::TensorOptions().dtype(at::kLong))
                                     : at::empty({0}, at::TensorOptions().dtype(at::kLong));
        x = x.index_select(axis, idx);
      }
    }
    return Tensors{x};
  });
}

at::Tensor FixNegativeIndices(const at::Tensor& indices, int64_t dim) {
  at::Tensor idx = indices.scalar_type() == at::kLong ? indices : indices.to(at::kLong);
  if (idx.numel() > 0 && idx.lt(0).any().item<bool>()) idx = at::where(idx < 0, idx + dim, idx);
  return idx;
}

// Gather: Y[i..., j..., k...] = X[i..., indices[j...], k...] along `axis`.
Expected<Kernel> BuildGather(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", 0);
  const ir::Node node = ctx.node();
  return Kernel([axis, node](const Tensors& in) {
    const at::Tensor& x = in[0];
    const int64_t a = NormalizeAxis(axis, x.dim(), node);
    if (in[1].dim() == 0) {
      int64_t i = in[1].item<int64_t>();
      if (i < 0) i += x.size(a);
      return Tensors{x.select(a, i)};
    }
    const at::Tensor idx = FixNegativeIndices(in[1], x.size(a));
    Ints shape(x.sizes().begin(), x.sizes().begin() + a);
    shape.insert(shape.end(), idx.sizes().begin(), idx.sizes().end());
    shape.insert(shape.end(), x.sizes().begin() + a + 1, x.sizes().end());
    return Tensors{x.index_select(a, idx.reshape({-1})).reshape(shape)};
  });
}

// GatherElements: Y[i][j] = X[indices[i][j]][j] along axis (torch.gather).
Expected<Kernel> BuildGatherElements(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", 0);
  const ir::Node node = ctx.node();
  return Kernel([axis, node](const Tensors& in) {
    const int64_t a = NormalizeAxis(axis, in[0].dim(), node);
    return Tensors{at::gather(in[0], a, FixNegativeIndices(in[1], in[0].size(a)))};
  });
}

// Shape: the input's dims as int64 [start, end) (opset 15 added start/end).
Expected<Kernel> BuildShape(const LoweringContext& ctx) {
  const int64_t start = ctx.node().GetInt("start", 0);
  const std::optional<int64_t> end =
      ctx.node().HasAttr("end") ? std::optional<int64_t>(ctx.node().GetInt("end", 0)) : std::nullopt;
  return Kernel([start, end](const Tensors& in) {
    const int64_t rank = in[0].dim();
    int64_t s = start < 0 ? start + rank : start, e = end ? (*end < 0 ? *end + rank : *end) : rank;
    s = std::clamp<int64_t>(s, 0, rank);
    e = std::clamp<int64_t>(e, s, rank);
    Ints dims(in[0].sizes().begin() + s, in[0].sizes().begin() + e);
    return Tensors{at::tensor(dims, at::TensorOptions().dtype(at::kLong))};
  });
}

Expected<Kernel> BuildSize(const LoweringContext&) {
  return Kernel([](const Tensors& in) {
    return Tensors{at::scalar_tensor(in[0].numel(), at::TensorOptions().dtype(at::kLong))};
  });
}

// ConstantOfShape: a tensor of the given shape filled with `value` (float 0 by default).
Expected<Kernel> BuildConstantOfShape(const LoweringContext& ctx) {
  at::Tensor value = at::zeros({}, at::TensorOptions().dtype(at::kFloat));
  if (ctx.node().HasAttr("value")) {
    auto t = ToAten(ctx.node().attributes.at("value").t);
    if (!t.ok()) return t.status().WithContext(ctx.node().Describe());
    value = t->reshape({}).clone();
  }
  return Kernel([value](const Tensors& in) {
    return Tensors{value.expand(ToInt64Vector(in[0])).contiguous()};
  });
}

// Constant (normally turned into an initializer before lowering).
Expected<Kernel> BuildConstant(const LoweringContext& ctx) {
  const ir::Node& node = ctx.node();
  at::Tensor value;
  if (node.HasAttr("value")) {
    auto t = ToAten(node.attributes.at("value").t);
    if (!t.ok()) return t.status().WithContext(node.Describe());
    value = t->clone();
  } else if (node.HasAttr("value_float")) {
    value = at::scalar_tensor(node.GetFloat("value_float", 0), at::TensorOptions().dtype(at::kFloat));
  } else if (node.HasAttr("value_int")) {
    value = at::scalar_tensor(node.GetInt("value_int", 0), at::TensorOptions().dtype(at::kLong));
  } else if (node.HasAttr("value_floats")) {
    value = at::tensor(node.GetFloats("value_floats"), at::TensorOptions().dtype(at::kFloat));
  } else if (node.HasAttr("value_ints")) {
    value = at::tensor(node.GetInts("value_ints"), at::TensorOptions().dtype(at::kLong));
  } else {
    return ctx.UnsupportedError("Constant without a value/value_float/value_int/value_floats/value_ints attribute");
  }
  return Kernel([value](const Tensors&) { return Tensors{value}; });
}

// Expand: broadcast X to shape (NumPy rules in both directions: a 1 in `shape` keeps X's dim).
Expected<Kernel> BuildExpand(const LoweringContext& ctx) {
  return Kernel([](const Tensors& in) {
    const Ints shape = ToInt64Vector(in[1]);
    const at::Tensor& x = in[0];
    const int64_t rank = std::max<int64_t>(x.dim(), static_cast<int64_t>(shape.size()));
    Ints out(rank);
    for (int64_t i = 0; i < rank; ++i) {
      const int64_t xi = i - (rank - x.dim());
      const int64_t si = i - (rank - static_cast<int64_t>(shape.size()));
      const int64_t xd = xi >= 0 ? x.size(xi) : 1, sd = si >= 0 ? shape[si] : 1;
      if (xd != sd && xd != 1 && sd != 1) throw KernelError("cannot expand dim " + std::to_string(xd) + " to " + std::to_string(sd));
      out[i] = xd == 1 ? sd : xd;
    }
    return Tensors{x.expand(out)};
  });
}

// Tile: repeats X along each dim.
Expected<Kernel> BuildTile(const LoweringContext&) {
  return Kernel([](const Tensors& in) { return Tensors{in[0].repeat(ToInt64Vector(in[1]))}; });
}

// Range: start, start + delta, ... before limit (dtype of start).
Expected<Kernel> BuildRange(const LoweringContext&) {
  return Kernel([](const Tensors& in) {
    const at::ScalarType type = in[0].scalar_type();
    const auto options = at::TensorOptions().dtype(type);
    if (at::isFloatingType(type)) {
      return Tensors{at::arange(in[0].item<double>(), in[1].item<double>(), in[2].item<double>(), options)};
    }
    return Tensors{at::arange(in[0].item<int64_t>(), in[1].item<int64_t>(), in[2].item<int64_t>(), options)};
  });
}

// Pad: pads = [b0, b1, ..., e0, e1, ...] (negative crops); mode constant (value), reflect or edge.
Expected<Kernel> BuildPad(const LoweringContext& ctx) {
  const std::string mode = ctx.node().GetString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") return ctx.UnsupportedError("pad mode " + mode);
  const IntsOperand pads = ReadIntsOperand(ctx, ctx.opset() < 11 ? "pads" : "pads", 1, 11);
  const IntsOperand axes = ctx.opset() >= 18 ? ReadIntsOperand(ctx, "axes", 3, 18) : IntsOperand();
  const double attr_value = ctx.node().GetFloat("value", 0.0f);
  const bool legacy = ctx.opset() < 11;
  const bool has_value_input = !legacy && ctx.HasInput(2);
  return Kernel([=](const Tensors& in) {
    const at::Tensor& x = in[0];
    const int64_t rank = x.dim();
    const Ints p = pads.Get(in);
    Ints ax = axes.Get(in);
    if (ax.empty()) {
      for (int64_t d = 0; d < rank; ++d) ax.push_back(d);
    }
    const int64_t n = static_cast<int64_t>(ax.size());
    if (static_cast<int64_t>(p.size()) != 2 * n) throw KernelError("pads has " + std::to_string(p.size()) + " values, expected " + std::to_string(2 * n));
    Ints begin(rank, 0), end(rank, 0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t d = ax[i] < 0 ? ax[i] + rank : ax[i];
      begin[d] = p[i];
      end[d] = p[i + n];
    }
    if (mode == "constant") {
      double value = attr_value;
      if (has_value_input && in[2].defined() && in[2].numel() > 0) value = in[2].to(at::kDouble).item<double>();
      Ints torch_pad;
      for (int64_t d = rank; d-- > 0;) {
        torch_pad.push_back(begin[d]);
        torch_pad.push_back(end[d]);
      }
      return Tensors{at::constant_pad_nd(x, torch_pad, value)};
    }
    // reflect / edge: only the spatial dims (2..) of a rank 3–5 tensor may be padded.
    if (rank < 3 || rank > 5 || begin[0] || end[0] || begin[1] || end[1]) {
      throw KernelError(mode + " padding is supported on the spatial dims of rank 3-5 tensors only");
    }
    Ints torch_pad;
    for (int64_t d = rank; d-- > 2;) {
      torch_pad.push_back(begin[d]);
      torch_pad.push_back(end[d]);
    }
    const bool reflect = mode == "reflect";
    switch (rank) {
      case 3: return Tensors{reflect ? at::reflection_pad1d(x, torch_pad) : at::replication_pad1d(x, torch_pad)};
      case 4: return Tensors{reflect ? at::reflection_pad2d(x, torch_pad) : at::replication_pad2d(x, torch_pad)};
      default: return Tensors{reflect ? at::reflection_pad3d(x, torch_pad) : at::replication_pad3d(x, torch_pad)};
    }
  });
}

// Resize / Upsample, separably per axis whose size changes. For output index o the source coordinate is
//   half_pixel: (o + ½)/s − ½    pytorch_half_pixel: same, 0 when out = 1    align_corners: o·(in−1)/(out−1)
//   asymmetric: o/s              tf_half_pixel_for_nn: (o + ½)/s
// with s = out/in (from sizes) or the given scale, computed in float32 as ONNX Runtime does. nearest rounds
// it (round_prefer_floor / round_prefer_ceil / floor / ceil) and clamps to [0, in−1]; linear clamps it to
// [0, in−1] and mixes the two neighbours: (1 − w)·x[i0] + w·x[i0 + 1], w = c − floor(c).
// Upsample and Resize-10 use asymmetric coordinates with floor rounding.
struct ResizeSpec {
  std::string mode = "nearest", coordinate = "half_pixel", nearest = "round_prefer_floor";
};

at::Tensor ResizeAxis(const at::Tensor& x, int64_t axis, int64_t out, float scale, const ResizeSpec& spec) {
  const int64_t in = x.size(axis);
  std::vector<float> coord(out);
  for (int64_t o = 0; o < out; ++o) {
    const float of = static_cast<float>(o);
    float c;
    if (spec.coordinate == "half_pixel") c = (of + 0.5f) / scale - 0.5f;
    else if (spec.coordinate == "pytorch_half_pixel") c = out > 1 ? (of + 0.5f) / scale - 0.5f : 0.f;
    else if (spec.coordinate == "align_corners") c = out == 1 ? 0.f : of * static_cast<float>(in - 1) / static_cast<float>(out - 1);
    else if (spec.coordinate == "tf_half_pixel_for_nn") c = (of + 0.5f) / scale;
    else c = of / scale;  // asymmetric
    coord[o] = c;
  }
  const auto long_options = at::TensorOptions().dtype(at::kLong);
  if (spec.mode == "nearest") {
    Ints idx(out);
    for (int64_t o = 0; o < out; ++o) {
      const float c = coord[o];
      int64_t i;
      if (spec.nearest == "floor") i = static_cast<int64_t>(std::floor(c));
      else if (spec.nearest == "ceil") i = static_cast<int64_t>(std::ceil(c));
      else if (spec.nearest == "round_prefer_ceil") i = static_cast<int64_t>(std::floor(c + 0.5f));
      else i = (c == std::floor(c) + 0.5f) ? static_cast<int64_t>(std::floor(c)) : static_cast<int64_t>(std::round(c));
      idx[o] = std::clamp<int64_t>(i, 0, in - 1);
    }
    return x.index_select(axis, at::tensor(idx, long_options));
  }
  Ints i0(out), i1(out);
  std::vector<float> w(out);
  for (int64_t o = 0; o < out; ++o) {
    const float c = std::clamp(coord[o], 0.f, static_cast<float>(in - 1));
    const int64_t lo = static_cast<int64_t>(std::floor(c));
    i0[o] = lo;
    i1[o] = std::min(lo + 1, in - 1);
    w[o] = c - static_cast<float>(lo);
  }
  Ints wshape(x.dim(), 1);
  wshape[axis] = out;
  const at::Tensor weight = at::tensor(w, at::TensorOptions().dtype(at::kFloat)).to(x.scalar_type()).reshape(wshape);
  const at::Tensor a = x.index_select(axis, at::tensor(i0, long_options));
  const at::Tensor b = x.index_select(axis, at::tensor(i1, long_options));
  return a + (b - a) * weight;
}

Expected<Kernel> BuildResize(const LoweringContext& ctx) {
  const ir::Node& node = ctx.node();
  ResizeSpec spec;
  spec.mode = node.GetString("mode", "nearest");
  if (spec.mode == "bilinear" || spec.mode == "trilinear") spec.mode = "linear";
  if (spec.mode != "nearest" && spec.mode != "linear") return ctx.UnsupportedError("resize mode '" + spec.mode + "'");
  // Inputs: Upsample-7/8: attribute scales; Upsample-9, Resize-10: (X, scales); Resize-11+: (X, roi, scales, sizes).
  const bool is_upsample = node.op_type == "Upsample";
  const bool modern = !is_upsample && ctx.opset() >= 11;
  if (modern) {
    spec.coordinate = node.GetString("coordinate_transformation_mode", "half_pixel");
    spec.nearest = node.GetString("nearest_mode", "round_prefer_floor");
  } else {
    spec.coordinate = "asymmetric";
    spec.nearest = "floor";
  }
  if (spec.coordinate == "tf_crop_and_resize") return ctx.UnsupportedError("coordinate mode tf_crop_and_resize");
  if (node.HasAttr("antialias") && node.GetInt("antialias", 0) != 0) return ctx.UnsupportedError("antialias");
  if (node.HasAttr("axes")) return ctx.UnsupportedError("the axes attribute");
  std::optional<std::vector<float>> attr_scales;
  if (is_upsample && ctx.opset() < 9) attr_scales = node.GetFloats("scales");
  const size_t scales_input = modern ? 2 : 1;
  const size_t sizes_input = modern ? 3 : 1000;
  return Kernel([=](const Tensors& in) {
    at::Tensor x = in[0];
    const int64_t rank = x.dim();
    std::vector<float> scales;
    Ints sizes;
    if (attr_scales) {
      scales = *attr_scales;
    } else {
      if (sizes_input < in.size() && in[sizes_input].defined() && in[sizes_input].numel() > 0) {
        sizes = ToInt64Vector(in[sizes_input]);
      } else if (scales_input < in.size() && in[scales_input].defined() && in[scales_input].numel() > 0) {
        at::Tensor s = in[scales_input].to(at::kFloat).contiguous();
        scales.assign(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
      }
    }
    if (sizes.empty() && scales.empty()) throw KernelError("neither scales nor sizes is given");
    const int64_t n = static_cast<int64_t>(sizes.empty() ? scales.size() : sizes.size());
    if (n != rank) throw KernelError("scales/sizes have " + std::to_string(n) + " values for a rank-" + std::to_string(rank) + " input");
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t in_dim = x.size(d);
      int64_t out;
      float scale;
      if (!sizes.empty()) {
        out = sizes[d];
        scale = static_cast<float>(out) / static_cast<float>(in_dim);
      } else {
        scale = scales[d];
        out = static_cast<int64_t>(std::floor(static_cast<double>(in_dim) * scale));
      }
      if (out == in_dim && scale == 1.f) continue;
      x = ResizeAxis(x, d, out, scale, spec);
    }
    return Tensors{x};
  });
}

// Reductions over `axes` (all dims when empty, unless noop_with_empty_axes), keepdims default 1.
// Axes are an attribute, except ReduceSum from opset 13 and the others from opset 18 (an input).
Expected<Kernel> BuildReduce(const LoweringContext& ctx) {
  const std::string op = ctx.node().op_type;
  const int64_t axes_input_since = op == "ReduceSum" ? 13 : 18;
  const IntsOperand axes = ReadIntsOperand(ctx, "axes", 1, axes_input_since);
  const bool keep = ctx.node().GetInt("keepdims", 1) != 0;
  const bool noop_empty = ctx.node().GetInt("noop_with_empty_axes", 0) != 0;
  return Kernel([=](const Tensors& in) {
    const at::Tensor& x = in[0];
    const int64_t rank = x.dim();
    Ints dims = axes.Get(in);
    if (dims.empty()) {
      if (noop_empty) return Tensors{x};
      for (int64_t d = 0; d < rank; ++d) dims.push_back(d);
    }
    for (auto& d : dims) d = d < 0 ? d + rank : d;
    if (op == "ReduceMean") return Tensors{at::mean(x, dims, keep)};
    if (op == "ReduceSum") return Tensors{at::sum(x, dims, keep)};
    if (op == "ReduceMax") return Tensors{at::amax(x, dims, keep)};
    if (op == "ReduceMin") return Tensors{at::amin(x, dims, keep)};
    if (op == "ReduceSumSquare") return Tensors{at::sum(x * x, dims, keep)};
    if (op == "ReduceL1") return Tensors{at::sum(at::abs(x), dims, keep)};
    if (op == "ReduceL2") return Tensors{at::sqrt(at::sum(x * x, dims, keep))};
    if (op == "ReduceLogSum") return Tensors{at::log(at::sum(x, dims, keep))};
    if (op == "ReduceLogSumExp") return Tensors{at::logsumexp(x, dims, keep)};
    // ReduceProd: one dim at a time (highest first so the indices stay valid without keepdims).
    std::sort(dims.begin(), dims.end(), std::greater<int64_t>());
    at::Tensor y = x;
    for (int64_t d : dims) y = at::prod(y, d, keep);
    return Tensors{y};
  });
}

// ArgMax / ArgMin along axis (first occurrence, or last with select_last_index).
Expected<Kernel> BuildArgReduce(const LoweringContext& ctx) {
  const bool is_max = ctx.node().op_type == "ArgMax";
  const int64_t axis = ctx.node().GetInt("axis", 0);
  const bool keep = ctx.node().GetInt("keepdims", 1) != 0;
  const bool last = ctx.node().GetInt("select_last_index", 0) != 0;
  const ir::Node node = ctx.node();
  return Kernel([=](const Tensors& in) {
    const int64_t a = NormalizeAxis(axis, in[0].dim(), node);
    at::Tensor x = last ? in[0].flip(a) : in[0];
    at::Tensor idx = is_max ? at::argmax(x, a, keep) : at::argmin(x, a, keep);
    if (last) idx = (in[0].size(a) - 1) - idx;
    return Tensors{idx};
  });
}

// TopK: the k largest (or smallest) values along axis and their int64 indices.
Expected<Kernel> BuildTopK(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", -1);
  const bool largest = ctx.node().GetInt("largest", 1) != 0;
  const bool sorted = ctx.node().GetInt("sorted", 1) != 0;
  const IntsOperand k_input = ReadIntsOperand(ctx, "k", 1, 10);
  const int64_t k_attr = ctx.node().GetInt("k", -1);
  const bool legacy = ctx.opset() < 10;
  const ir::Node node = ctx.node();
  return Kernel([=](const Tensors& in) {
    const int64_t a = NormalizeAxis(axis, in[0].dim(), node);
    const int64_t k = legacy ? k_attr : k_input.Get(in).at(0);
    auto [values, indices] = at::topk(in[0], k, a, largest, sorted);
    return Tensors{values, indices};
  });
}

// NonZero: the indices of non-zero elements, [rank, count].
Expected<Kernel> BuildNonZero(const LoweringContext&) {
  return Kernel([](const Tensors& in) { return Tensors{at::nonzero(in[0]).t().contiguous()}; });
}

// CumSum along axis; exclusive drops the element itself, reverse sums from the end.
Expected<Kernel> BuildCumSum(const LoweringContext& ctx) {
  const bool exclusive = ctx.node().GetInt("exclusive", 0) != 0;
  const bool reverse = ctx.node().GetInt("reverse", 0) != 0;
  const ir::Node node = ctx.node();
  return Kernel([=](const Tensors& in) {
    const int64_t a = NormalizeAxis(in[1].item<int64_t>(), in[0].dim(), node);
    at::Tensor x = reverse ? in[0].flip(a) : in[0];
    at::Tensor y = at::cumsum(x, a);
    if (exclusive) y = y - x;
    return Tensors{reverse ? y.flip(a) : y};
  });
}

}  // namespace

void RegisterTensorLowerings(LoweringTable& t) {
  auto add = [&t](const char* op, LoweringBuilder build, int64_t since = 1, int64_t until = 1000) {
    Status s = t.Add({"", op, since, until, build});
    assert(s.ok() && "duplicate built-in lowering");
    (void)s;
  };
  add("Reshape", &BuildReshape);
  add("Flatten", &BuildFlatten);
  add("Transpose", &BuildTranspose);
  add("Squeeze", &BuildSqueeze);
  add("Unsqueeze", &BuildUnsqueeze);
  add("Concat", &BuildConcat);
  add("Split", &BuildSplit);
  add("Slice", &BuildSlice);
  add("Gather", &BuildGather);
  add("GatherElements", &BuildGatherElements, 11);
  add("Shape", &BuildShape);
  add("Size", &BuildSize);
  add("ConstantOfShape", &BuildConstantOfShape, 9);
  add("Constant", &BuildConstant);
  add("Expand", &BuildExpand, 8);
  add("Tile", &BuildTile, 6);
  add("Range", &BuildRange, 11);
  add("Pad", &BuildPad, 2);
  add("Resize", &BuildResize, 10);
  add("Upsample", &BuildResize, 7, 9);
  for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare",
                         "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"}) {
    add(op, &BuildReduce);
  }
  add("ArgMax", &BuildArgReduce);
  add("ArgMin", &BuildArgReduce);
  add("TopK", &BuildTopK);
  add("NonZero", &BuildNonZero, 9);
  add("CumSum", &BuildCumSum, 11);
}

}  // namespace act::exec
