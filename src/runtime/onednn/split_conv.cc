#include "runtime/onednn/split_conv.h"

#include <numeric>

#include "runtime/onednn/dnnl_kernels.h"

namespace act::runtime::onednn {

using dnnl::memory;

Expected<std::unique_ptr<PositionSplitConvKernel>> PositionSplitConvKernel::Create(
    dnnl::engine& engine, int src, int dst, int64_t positions, int64_t in_channels, int64_t out_channels,
    int dst_elem_bytes, int parts, const MakePd& make_pd, const void* weights, const std::vector<float>& bias) {
  auto k = std::unique_ptr<PositionSplitConvKernel>(new PositionSplitConvKernel());
  k->src_ = src;
  k->dst_ = dst;
  k->src_position_bytes_ = in_channels;
  k->dst_position_bytes_ = out_channels * dst_elem_bytes;
  k->reads = {src};
  k->writes = {dst};
  const memory::desc w_plain({out_channels, in_channels, 1, 1}, memory::data_type::s8, memory::format_tag::abcd);
  const memory::desc b_md({out_channels}, memory::data_type::f32, memory::format_tag::a);
  ACT_ASSIGN_OR_RETURN(k->bias_, ReorderConstant(engine, bias.data(), b_md, b_md));
  // Boundaries on whole cache lines of the destination (and of the source for 64-multiple channels),
  // unless that would leave a part with few positions (a matmul head of 40 rows of 6625 bytes: align 1).
  int64_t align = 64 / std::gcd<int64_t>(k->dst_position_bytes_, 64);
  if (positions / parts < 4 * align) align = 1;
  SingleThreadScope one_thread(true);
  for (int p = 0; p < parts; ++p) {
    const Range r = PartRange(positions, p, parts, align);
    if (r.end <= r.begin) continue;
    Part part;
    part.begin = r.begin;
    part.end = r.end;
    const dnnl::convolution_forward::primitive_desc pd = make_pd(r.end - r.begin);
    part.primitive = dnnl::convolution_forward(pd);
    part.src_md = pd.src_desc();
    part.dst_md = pd.dst_desc();
    if (!k->parts_.empty() && pd.weights_desc() == k->parts_.front().weights.get_desc()) {
      part.weights = k->parts_.front().weights;
    } else {
      ACT_ASSIGN_OR_RETURN(part.weights, ReorderConstant(engine, weights, w_plain, pd.weights_desc()));
    }
    k->parts_.push_back(std::move(part));
  }
  return k;
}

Status PositionSplitConvKernel::Bind(Plan& plan) {
  auto* x = static_cast<std::byte*>(plan.values[src_].data);
  auto* y = static_cast<std::byte*>(plan.values[dst_].data);
  for (Part& p : parts_) {
    p.args = {{DNNL_ARG_SRC, memory(p.src_md, plan.engine(), x + p.begin * src_position_bytes_)},
              {DNNL_ARG_DST, memory(p.dst_md, plan.engine(), y + p.begin * dst_position_bytes_)},
              {DNNL_ARG_WEIGHTS, p.weights},
              {DNNL_ARG_BIAS, bias_}};
  }
  return Status::Ok();
}

Status PositionSplitConvKernel::Execute(Plan& plan) {
  for (Part& p : parts_) p.primitive.execute(plan.stream(), p.args);
  return Status::Ok();
}

Status PositionSplitConvKernel::ExecutePart(Plan& plan, int part, int parts) {
  // Built for parts_.size() parts; a region with another thread count runs them round-robin.
  for (size_t i = part; i < parts_.size(); i += parts) parts_[i].primitive.execute(plan.PartStream(part), parts_[i].args);
  return Status::Ok();
}

}  // namespace act::runtime::onednn
