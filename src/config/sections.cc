#include "config/sections.h"

namespace act::config {

const std::vector<SectionSpec>& Sections() {
  // Typed sections have parse/emit functions; the others are pending (their keys, from PaddleSlim's
  // strategy_config.py, are checked, and the YAML is kept for the strategy that will read it).
  static const std::vector<SectionSpec> sections = {
      {"Global", {}, &ParseGlobal, &EmitGlobal, {}},
      {"QuantPost", {}, &ParseQuantPost, &EmitQuantPost, {}},
      {"HyperParameterOptimization", {}, &ParseHyperParameterOptimization, &EmitHyperParameterOptimization, {}},
      {"QuantAware", {"Quantization"}, &ParseQuantAware, &EmitQuantAware, {}},
      {"Distillation", {}, &ParseDistillation, &EmitDistillation, {}},
      {"MultiTeacherDistillation",
       {},
       nullptr,
       nullptr,
       {"loss", "node", "alpha", "teacher_model_dir", "teacher_model_filename", "teacher_params_filename"}},
      {"ChannelPrune", {}, nullptr, nullptr, {"pruned_ratio", "prune_params_name", "criterion"}},
      {"TransformerPrune", {}, nullptr, nullptr, {"pruned_ratio"}},
      {"UnstructurePrune",
       {},
       nullptr,
       nullptr,
       {"prune_strategy", "prune_mode", "threshold", "ratio", "gmp_config", "prune_params_type", "local_sparsity"}},
      {"ASPPrune", {}, nullptr, nullptr, {"prune_params_name"}},
      {"TrainConfig", {}, &ParseTrainConfig, &EmitTrainConfig, {}},
  };
  return sections;
}

const std::map<std::string, std::string>& ScriptSectionHints() {
  static const std::map<std::string, std::string> hints = [] {
    const std::string data =
        "this section is read by ACT's example script, not by ACT; describe the data in Global.train_data / "
        "Global.eval_data and the evaluation in Global.eval";
    std::map<std::string, std::string> h;
    for (const char* s : {"Train", "Eval", "PostProcess", "Metric", "train_dataset", "val_dataset", "batch_size",
                          "Dataset", "EvalDataset", "TrainDataset", "TrainReader", "EvalReader"}) {
      h[s] = data;
    }
    h["Prune"] = "ACT's older name for structured pruning; use ChannelPrune (CNN channels) or TransformerPrune "
                 "(attention heads and FFN)";
    return h;
  }();
  return hints;
}

std::vector<std::string> KnownSections() {
  std::vector<std::string> names;
  for (const auto& s : Sections()) {
    names.push_back(s.name);
    names.insert(names.end(), s.aliases.begin(), s.aliases.end());
  }
  return names;
}

}  // namespace act::config
