// The strategy table (DESIGN.md §4) and the plan a config asks for.
#include <algorithm>

#include "core/strings.h"
#include "strategy/ptq_hpo.h"
#include "strategy/qat_dis.h"
#include "strategy/quant_post.h"
#include "strategy/strategy.h"

namespace act::strategy {

const std::vector<StrategyEntry>& Strategies() {
  static const std::vector<StrategyEntry> kTable = {
      {"quant_post", "post-training quantization with one recipe (QuantPost)",
       []() -> std::unique_ptr<Strategy> { return std::make_unique<QuantPostStrategy>(); }},
      {"ptq_hpo", "search over PTQ recipes scored by the eval metric (HyperParameterOptimization)",
       []() -> std::unique_ptr<Strategy> { return std::make_unique<PtqHpoStrategy>(); }},
      {"qat_dis", "distillation-driven quantization-aware training (QuantAware + Distillation + TrainConfig)",
       []() -> std::unique_ptr<Strategy> { return std::make_unique<QatDisStrategy>(); }},
  };
  return kTable;
}

Expected<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& e : Strategies()) {
    if (name == e.name) return e.make();
    names.push_back(e.name);
  }
  return NotFound("unknown strategy '" + name + "'" + DidYouMean(name, names) + "; known: " + Join(names, ", "));
}

Expected<std::vector<std::string>> PlanStrategies(const config::Config& config, std::vector<std::string>* decisions) {
  for (const auto& [section, text] : config.pending) {
    return Unsupported("config section " + section + " (in " + config.source_file +
                       ") is understood but its strategy is not implemented yet; this version runs QuantPost and "
                       "HyperParameterOptimization — remove " + section + " to run post-training quantization");
  }
  std::vector<std::string> plan;
  if (config.quant_post) plan.push_back("quant_post");
  if (config.hyper_parameter_optimization) plan.push_back("ptq_hpo");
  if (config.quant_aware) plan.push_back("qat_dis");
  if (!config.quant_aware && (config.distillation || config.train)) {
    return Unsupported("config sections Distillation / TrainConfig (in " + config.source_file +
                       ") train a quantized student only with QuantAware in this version: add a QuantAware section");
  }
  if (plan.empty()) {
    plan.push_back("quant_post");
    if (decisions) decisions->push_back("plan: no strategy section in the config; running quant_post with ACT's "
                                        "QuantPost defaults");
  } else if (decisions) {
    decisions->push_back("plan: " + Join(plan, " then ") + " (from the config's sections)");
  }
  return plan;
}

}  // namespace act::strategy
