// onnx-act eval --config C.yaml [--model M] [--engine torch|onednn] [--reference R]: evaluates a model on
// Global.eval_data with Global.eval's metric, with a progress bar, and prints `metric=<name> value=<v>` as
// its last line (DESIGN.md §5).
//   1. Load the config (strict) and the model (--model overrides Global.model).
//   2. Build the engine (exec::Runner for torch, runtime::Session for onednn).
//   3. Build the data set and its Loader.
//   4. Build the metric from Global.eval (a coco_map decoder's input size and resize mode come from the
//      data set's last resize transform); run metrics::Evaluate; print the details and the headline.
// An idx/image_folder/coco/ocr_lines/npy data set without input_name feeds the model's only input.
// Only the inputs the model declares are fed: extra data-set tensors (e.g. token_type_ids) are dropped.
#include <cstdio>

#include "act/config.h"
#include "act/metrics.h"
#include "act/runtime.h"
#include "core/logging.h"
#include "core/strings.h"
#include "data/loader.h"
#include "exec/runner.h"
#include "ir/onnx_io.h"
#include "metrics/evaluator.h"
#include "metrics/metric_from_config.h"
#include "tools/cli/command.h"

namespace act::cli {
namespace {

struct EvalCliOptions {
  std::string config;
  std::string model;
  std::string reference;
  std::string engine = "torch";
  int threads = 0;
};

// One engine behind a function, with the names of the inputs it takes.
struct Engine {
  metrics::ModelFn run;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::shared_ptr<void> keep_alive;
};

Expected<Engine> MakeEngine(const std::string& path, const std::string& engine, int threads) {
  Engine e;
  if (engine == "torch") {
    ACT_ASSIGN_OR_RETURN(ir::Graph graph, ir::LoadModel(path));
    exec::RunnerOptions options;
    options.threads = threads;
    auto runner = exec::Runner::Create(graph, options);
    if (!runner.ok()) return runner.status().WithContext(path);
    std::shared_ptr<exec::Runner> r(std::move(*runner).release());
    e.inputs = r->InputNames();
    e.outputs = r->OutputNames();
    e.run = [r](const std::map<std::string, Tensor>& in) { return r->Run(in); };
    e.keep_alive = r;
  } else if (engine == "onednn") {
    runtime::SessionOptions options;
    options.backend = "onednn";
    options.threads = threads;
    auto session = runtime::Session::Create(path, options);
    if (!session.ok()) return session.status().WithContext(path);
    std::shared_ptr<runtime::Session> s(std::move(*session).release());
    e.inputs = s->input_names();
    e.outputs = s->output_names();
    e.run = [s](const std::map<std::string, Tensor>& in) { return s->Run(in); };
    e.keep_alive = s;
  } else {
    return InvalidInput("--engine '" + engine + "': expected torch or onednn" + DidYouMean(engine, {"torch", "onednn"}));
  }
  // Feed only the declared inputs; say which one is missing.
  auto run = e.run;
  auto names = e.inputs;
  e.run = [run, names, path](const std::map<std::string, Tensor>& batch) -> Expected<std::map<std::string, Tensor>> {
    std::map<std::string, Tensor> feed;
    std::vector<std::string> have;
    for (const auto& [k, v] : batch) have.push_back(k);
    for (const auto& name : names) {
      auto it = batch.find(name);
      if (it == batch.end()) {
        return InvalidInput(path + ": the model's input '" + name + "' is not produced by Global.eval_data (it gives " +
                            Join(have, ", ") + ")" + DidYouMean(name, have) +
                            "; set the data set's input_name (or input_ids_name / attention_mask_name)");
      }
      feed[name] = it->second;
    }
    return run(feed);
  };
  return e;
}

// Data-set types that make one tensor named by input_name.
bool IsSingleInputType(const std::string& type) {
  return type == "idx" || type == "image_folder" || type == "coco" || type == "ocr_lines" || type == "npy";
}

Status RunEval(const EvalCliOptions& o) {
  ACT_ASSIGN_OR_RETURN(config::Config cfg, config::LoadConfig(o.config));
  const std::string model = o.model.empty() ? cfg.global.model : o.model;
  if (model.empty()) return InvalidInput(o.config + ": Global.model is not set; set it or pass --model");
  if (!cfg.global.eval_data) {
    return InvalidInput(o.config + ": Global.eval_data is not set; eval needs a data set (DESIGN.md §5)");
  }
  config::DatasetConfig data = *cfg.global.eval_data;

  ACT_ASSIGN_OR_RETURN(Engine engine, MakeEngine(model, o.engine, o.threads));
  Engine reference;
  if (!o.reference.empty()) {
    ACT_ASSIGN_OR_RETURN(reference, MakeEngine(o.reference, o.engine, o.threads));
  }

  if (data.input_name.empty() && IsSingleInputType(data.type)) {
    if (engine.inputs.size() != 1 && data.type != "npy") {  // .npz files name their tensors themselves
      return InvalidInput(o.config + ": Global.eval_data.input_name is not set and " + model + " has " +
                          std::to_string(engine.inputs.size()) + " inputs (" + Join(engine.inputs, ", ") + "); name one");
    }
    if (engine.inputs.size() == 1) data.input_name = engine.inputs[0];
  }
  const bool classification = cfg.global.eval.metric == "top1" || cfg.global.eval.metric == "top5" ||
                              cfg.global.eval.metric == "accuracy" || cfg.global.eval.metric == "f1" ||
                              cfg.global.eval.metric == "matthews";
  if (classification && data.num_classes == 0) data.num_classes = cfg.global.eval.num_classes;

  auto dataset = data::CreateDataset(data);
  if (!dataset.ok()) return dataset.status();
  auto loader = data::Loader::Create(**dataset, data::LoaderOptionsFrom(data));
  if (!loader.ok()) return loader.status();

  auto metric = metrics::CreateMetric(metrics::MetricConfigFromEval(cfg.global.eval, &data));
  if (!metric.ok()) return metric.status().WithContext(o.config + ": Global.eval");
  if ((*metric)->needs_reference() && o.reference.empty()) {
    return InvalidInput("metric '" + cfg.global.eval.metric + "' compares with a reference model: pass --reference FP32.onnx");
  }

  ACT_LOG(kInfo, "eval: " << model << " (" << o.engine << ") on " << (*dataset)->Describe() << ", "
                          << (*loader)->num_samples() << " samples in batches of " << data.batch_size);
  data::Loader* l = loader->get();
  metrics::BatchSource next = [l]() { return l->Next(); };
  metrics::EvalOptions options;
  options.progress_label = "eval " + cfg.global.eval.metric;
  options.total_samples = l->num_samples();
  auto result = metrics::Evaluate(engine.run, next, **metric, reference.run, options);
  if (!result.ok()) return result.status();
  std::printf("model=%s engine=%s samples=%lld\n", model.c_str(), o.engine.c_str(),
              static_cast<long long>(result->samples));
  for (const auto& [name, value] : result->details) std::printf("%s=%.6g\n", name.c_str(), value);
  std::printf("metric=%s value=%.6g\n", result->metric.c_str(), result->value);
  std::fflush(stdout);
  return Status::Ok();
}

}  // namespace

CommandRunner AddEvalCommand(CLI::App& app) {
  auto options = std::make_shared<EvalCliOptions>();
  CLI::App* sub = app.add_subcommand("eval", "Evaluate a model on Global.eval_data with Global.eval's metric; "
                                             "the last line is `metric=<name> value=<v>`");
  sub->add_option("--config", options->config, "YAML config (DESIGN.md §5)")->required();
  sub->add_option("--model", options->model, "ONNX model (default: Global.model)");
  sub->add_option("--engine", options->engine, "Execution engine: torch | onednn")->capture_default_str();
  sub->add_option("--reference", options->reference, "FP32 reference model, for the agreement metric");
  sub->add_option("--threads", options->threads, "Intra-op threads (0: library default)");
  return [options]() { return RunEval(*options); };
}

}  // namespace act::cli
