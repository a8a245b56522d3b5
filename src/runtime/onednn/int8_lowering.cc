#include "runtime/onednn/int8_lowering.h"

namespace act::runtime::onednn {

Expected<bool> TryBuildInt8(PlanBuilder& builder, int index) { return false; }

}  // namespace act::runtime::onednn
