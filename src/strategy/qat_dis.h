// qat_dis: ACT's distillation-driven quantization-aware training (QuantAware + Distillation + TrainConfig),
// run by src/distill/qat_trainer.h:
//   1. Training batches = the pipeline's training data in memory (Global.train_data, QuantPost.batch_size
//      samples a batch), served in a seeded shuffled order per epoch, so a resumed run replays the same stream.
//   2. The teacher is the FP32 model (or Distillation.teacher_model_dir), the student its fake-quant graph;
//      candidates (the simulated model every eval_iter) are scored by the pipeline's scorer.
//   3. The best simulated model is exported to QDQ; the export is scored and recorded as a trial with the
//      PTQ score (quant_post_first), training speed and the distillation values.
// Checkpoints go to save_dir/qat_checkpoint.bin; Context::resume continues from it.
#pragma once

#include "strategy/strategy.h"

namespace act::strategy {

class QatDisStrategy : public Strategy {
 public:
  std::string name() const override { return "qat_dis"; }
  Expected<ir::Graph> Run(Context& context) override;
};

}  // namespace act::strategy
