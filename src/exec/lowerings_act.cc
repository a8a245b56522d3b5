// Lowerings of the `act` domain: the training-only nodes that compression passes insert (fake
// quantization with straight-through gradients, PACT clipping, pruning masks). Export turns them into
// standard ONNX. Add each op here as {"act", "<OpType>", since, until, &Build<OpType>}.
#include "exec/lowering.h"

namespace act::exec {

void RegisterActLowerings(LoweringTable& table) {
  // None yet: src/quant and src/prune add their ops here.
  (void)table;
}

}  // namespace act::exec
