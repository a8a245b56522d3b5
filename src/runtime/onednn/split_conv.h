// A 1x1, stride-1 convolution over NHWC data run as `parts` convolutions over consecutive runs of output
// positions. In NHWC a run of positions is one contiguous block of bytes in the source and in the
// destination, so part p is itself a 1 x C x 1 x n convolution on those bytes: the same integer
// arithmetic and requantization per position as the whole convolution (identical outputs). Each part's
// primitive is created single-threaded; with split execution (plan.h) thread p runs part p, reading the
// positions that thread p's part of the kernel before wrote.
#pragma once

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "runtime/onednn/plan.h"

namespace act::runtime::onednn {

class PositionSplitConvKernel : public Kernel {
 public:
  using MakePd = std::function<dnnl::convolution_forward::primitive_desc(int64_t positions)>;
  // Value `src` (u8/s8 NHWC, `in_channels`) → value `dst` (NHWC, `out_channels` of `dst_elem_bytes`) over
  // `positions` = N·H·W positions in `parts` parts. `make_pd(n)` returns the primitive descriptor of the
  // 1 x C x 1 x n convolution (nhwc source and destination, weights any, bias f32 [O]); it is called with
  // the OpenMP thread count at 1. `weights`: plain [O, C, 1, 1] int8; `bias`: [O] f32.
  static Expected<std::unique_ptr<PositionSplitConvKernel>> Create(dnnl::engine& engine, int src, int dst,
                                                                   int64_t positions, int64_t in_channels,
                                                                   int64_t out_channels, int dst_elem_bytes,
                                                                   int parts, const MakePd& make_pd,
                                                                   const void* weights, const std::vector<float>& bias);
  Status Bind(Plan& plan) override;
  Status Execute(Plan& plan) override;  // every part in turn on the calling thread
  bool Splittable() const override { return true; }
  Status ExecutePart(Plan& plan, int part, int parts) override;

 private:
  struct Part {
    int64_t begin = 0, end = 0;  // output positions
    dnnl::primitive primitive;
    dnnl::memory::desc src_md, dst_md;
    dnnl::memory weights;
    std::unordered_map<int, dnnl::memory> args;  // bound in Bind
  };
  int src_ = -1, dst_ = -1;
  int64_t src_position_bytes_ = 0, dst_position_bytes_ = 0;
  dnnl::memory bias_;
  std::vector<Part> parts_;
};

}  // namespace act::runtime::onednn
