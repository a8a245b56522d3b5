#include "strategy/scorer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/file_util.h"
#include "act/runtime.h"
#include "exec/runner.h"
#include "ir/onnx_io.h"
#include "metrics/evaluator.h"
#include "core/batch_rows.h"

namespace act::strategy {
namespace {

Status CheckFinite(double value, const std::string& what, const std::string& label) {
  if (std::isfinite(value)) return Status::Ok();
  return Failure(what + " returned " + std::to_string(value) + " for " + label +
                 ": a score must be a finite number; check the evaluation (or the model's outputs)");
}

metrics::BatchSource Source(const std::vector<data::Batch>& batches) {
  auto index = std::make_shared<size_t>(0);
  const std::vector<data::Batch>* list = &batches;
  return [index, list]() -> Expected<std::optional<data::Batch>> {
    if (*index >= list->size()) return std::optional<data::Batch>();
    return std::optional<data::Batch>((*list)[(*index)++]);
  };
}

int64_t CountSamples(const std::vector<data::Batch>& batches) {
  int64_t n = 0;
  for (const auto& b : batches) n += b.size();
  return n;
}

// Runs `in` through `run` in runs of at most `run_batch` samples.
template <typename RunFn>
Expected<std::map<std::string, Tensor>> SplitRuns(RunFn&& run, const std::map<std::string, Tensor>& in,
                                                  int64_t run_batch) {
  const int64_t rows = BatchRows(in);
  if (run_batch <= 0 || rows <= run_batch) return run(in);
  std::vector<std::map<std::string, Tensor>> parts;
  for (int64_t r0 = 0; r0 < rows; r0 += run_batch) {
    ACT_ASSIGN_OR_RETURN(auto part, run(SliceRows(in, rows, r0, std::min(rows, r0 + run_batch))));
    parts.push_back(std::move(part));
  }
  return ConcatRows(parts);
}

class MetricScorer : public Scorer {
 public:
  MetricScorer(std::unique_ptr<metrics::Metric> metric, std::shared_ptr<const std::vector<data::Batch>> batches,
               std::string description, ScoringEngine engine)
      : metric_(std::move(metric)), batches_(std::move(batches)), description_(std::move(description)),
        engine_(std::move(engine)) {}

  Status ComputeReference(const ir::Graph& reference_graph) {
    if (!metric_->needs_reference()) return Status::Ok();
    // The reference outputs come from the executor, the reference engine.
    ScoringEngine torch = engine_;
    torch.name = "torch";
    std::swap(engine_, torch);
    auto model_or = MakeModel(reference_graph, "the FP32 reference");
    std::swap(engine_, torch);
    ACT_ASSIGN_OR_RETURN(metrics::ModelFn model, std::move(model_or));
    for (const auto& batch : *batches_) {
      ACT_ASSIGN_OR_RETURN(auto outputs, model(batch.inputs));
      reference_outputs_.push_back(std::move(outputs));
    }
    return Status::Ok();
  }

  // The candidate as a function, on the chosen engine (or the executor when the runtime cannot build it).
  Expected<metrics::ModelFn> MakeModel(const ir::Graph& graph, const std::string& label) {
    const int64_t run_batch = engine_.run_batch;
    if (engine_.name == "onednn") {
      runtime::SessionOptions so;
      so.backend = "onednn";
      so.threads = engine_.threads;
      auto session_or = runtime::Session::Create(graph, so);
      if (session_or.ok()) {
        std::shared_ptr<runtime::Session> session = std::move(session_or).value();
        last_engine_ = "the onnx-act runtime (oneDNN backend)";
        return metrics::ModelFn([session, run_batch](const std::map<std::string, Tensor>& in) {
          return SplitRuns([&](const std::map<std::string, Tensor>& x) { return session->Run(x); }, in, run_batch);
        });
      }
      fallbacks_.push_back(label + ": " + session_or.status().message());
    }
    auto runner_or = exec::Runner::Create(graph, {engine_.threads});
    if (!runner_or.ok()) return runner_or.status().WithContext("scoring " + label);
    std::shared_ptr<exec::Runner> runner = std::move(runner_or).value();
    last_engine_ = "the onnx-act executor (libtorch)";
    return metrics::ModelFn([runner, run_batch](const std::map<std::string, Tensor>& in) {
      return RunSplit(*runner, in, run_batch);
    });
  }

  Expected<double> Score(const ir::Graph& graph, const std::string& label) override {
    auto result = ScoreOn(graph, label);
    if (!result.ok() && engine_.name == "onednn" && last_engine_.find("oneDNN") != std::string::npos &&
        result.status().code() != StatusCode::kFailure) {
      // The runtime failed while running: the executor is the reference, try it.
      fallbacks_.push_back(label + ": " + result.status().message());
      ScoringEngine torch = engine_;
      torch.name = "torch";
      std::swap(engine_, torch);
      result = ScoreOn(graph, label);
      std::swap(engine_, torch);
    }
    return result;
  }

  Expected<double> ScoreReference(const ir::Graph& graph) override {
    ACT_ASSIGN_OR_RETURN(double value, Score(graph, "FP32 model"));
    if (engine_.name != "onednn") return value;
    // The cross-check runs on the first kCrossCheckSamples samples only: the executor is several times
    // slower than the runtime, and a runtime that mishandles a model shows it on any sample (scoring all
    // of FastestDet's 128 images on the executor took 4 of its 11 compress minutes on a loaded machine).
    constexpr int64_t kCrossCheckSamples = 16;
    const std::shared_ptr<const std::vector<data::Batch>> all = batches_;
    auto prefix = std::make_shared<std::vector<data::Batch>>();
    for (int64_t n = 0; n < kCrossCheckSamples && prefix->size() < all->size();) {
      prefix->push_back(all->at(prefix->size()));
      n += prefix->back().size();
    }
    const bool subset = prefix->size() < all->size();
    double runtime_value = value;
    batches_ = prefix;
    if (subset) {
      auto r = ScoreOn(graph, "FP32 model (cross-check)");
      if (!r.ok()) {
        batches_ = all;
        return r.status();
      }
      runtime_value = *r;
    }
    ScoringEngine torch = engine_;
    torch.name = "torch";
    std::swap(engine_, torch);
    auto reference = ScoreOn(graph, "FP32 model (executor)");
    std::swap(engine_, torch);
    batches_ = all;
    if (!reference.ok()) return reference.status();
    const std::string on = subset ? " on the first " + std::to_string(CountSamples(*prefix)) + " samples" : "";
    // Both engines compute the same FP32 function; they may differ by rounding only. A larger gap means
    // the runtime mishandles this model, so the executor (the reference) scores every candidate instead.
    constexpr double kTolerance = 2e-3;
    if (std::fabs(*reference - runtime_value) > kTolerance) {
      notes_.push_back("the oneDNN runtime scored the FP32 model " + std::to_string(runtime_value) +
                       " but the executor " + std::to_string(*reference) + on +
                       ": candidates are scored on the executor (libtorch) instead");
      engine_.name = "torch";
      last_engine_ = "the onnx-act executor (libtorch)";
      if (!subset) return *reference;
      return ScoreOn(graph, "FP32 model (executor)");
    }
    notes_.push_back("FP32 " + metric_->name() + " agrees between the oneDNN runtime (" +
                     std::to_string(runtime_value) + ") and the executor (" + std::to_string(*reference) + ")" + on);
    last_engine_ = "the onnx-act runtime (oneDNN backend)";
    return subset ? value : *reference;
  }
  std::vector<std::string> Notes() const override { return notes_; }

  Expected<double> ScoreOn(const ir::Graph& graph, const std::string& label) {
    ACT_ASSIGN_OR_RETURN(metrics::ModelFn model, MakeModel(graph, label));
    metrics::ModelFn reference;
    if (metric_->needs_reference()) {
      auto next = std::make_shared<size_t>(0);
      reference = [this, next](const std::map<std::string, Tensor>&) -> Expected<std::map<std::string, Tensor>> {
        if (*next >= reference_outputs_.size()) return Internal("reference outputs exhausted");
        return reference_outputs_[(*next)++];
      };
    }
    metrics::EvalOptions options;
    options.progress_label = "eval " + label;
    options.total_samples = CountSamples(*batches_);
    auto result = metrics::Evaluate(model, Source(*batches_), *metric_, reference, options);
    if (!result.ok()) return result.status().WithContext("scoring " + label);
    ACT_RETURN_IF_ERROR(CheckFinite(result->value, "metric " + metric_->name(), label));
    return result->value;
  }
  std::string metric_name() const override { return metric_->name(); }
  bool higher_is_better() const override { return metric_->higher_is_better(); }
  std::string Describe() const override {
    std::string d = metric_->name() + " on " + std::to_string(CountSamples(*batches_)) + " samples of " +
                    description_ + ", run on " + last_engine_;
    if (!fallbacks_.empty()) {
      d += " (" + std::to_string(fallbacks_.size()) + " candidate(s) fell back to the executor; first: " +
           fallbacks_.front() + ")";
    }
    return d;
  }

 private:
  std::unique_ptr<metrics::Metric> metric_;
  std::shared_ptr<const std::vector<data::Batch>> batches_;
  std::string description_;
  ScoringEngine engine_;
  std::string last_engine_ = "the onnx-act executor (libtorch)";
  std::vector<std::string> fallbacks_;
  std::vector<std::string> notes_;
  std::vector<std::map<std::string, Tensor>> reference_outputs_;
};

class FileCallbackScorer : public Scorer {
 public:
  FileCallbackScorer(EvalFileCallback callback, bool higher_is_better, std::string scratch_dir)
      : callback_(std::move(callback)), higher_is_better_(higher_is_better), scratch_dir_(std::move(scratch_dir)) {}
  Expected<double> Score(const ir::Graph& graph, const std::string& label) override {
    ACT_RETURN_IF_ERROR(MakeDirs(scratch_dir_));
    const std::string path = JoinPath(scratch_dir_, ".candidate.tmp.onnx");
    ACT_RETURN_IF_ERROR(ir::SaveModel(graph, path));
    auto value = callback_(path);
    std::remove(path.c_str());
    if (!value.ok()) return value.status().WithContext("eval callback on " + label);
    ACT_RETURN_IF_ERROR(CheckFinite(*value, "the eval callback", label));
    return *value;
  }
  std::string metric_name() const override { return "eval_callback"; }
  bool higher_is_better() const override { return higher_is_better_; }
  std::string Describe() const override { return "the user's eval callback on the candidate ONNX file"; }

 private:
  EvalFileCallback callback_;
  bool higher_is_better_;
  std::string scratch_dir_;
};

class RunnerCallbackScorer : public Scorer {
 public:
  RunnerCallbackScorer(EvalRunnerCallback callback, bool higher_is_better, int threads)
      : callback_(std::move(callback)), higher_is_better_(higher_is_better), threads_(threads) {}
  Expected<double> Score(const ir::Graph& graph, const std::string& label) override {
    auto runner_or = exec::Runner::Create(graph, {threads_});
    if (!runner_or.ok()) return runner_or.status().WithContext("scoring " + label);
    std::shared_ptr<exec::Runner> runner = std::move(runner_or).value();
    RunModelFn run = [runner](const std::map<std::string, Tensor>& in) { return runner->Run(in); };
    auto value = callback_(run);
    if (!value.ok()) return value.status().WithContext("eval callback on " + label);
    ACT_RETURN_IF_ERROR(CheckFinite(*value, "the eval callback", label));
    return *value;
  }
  std::string metric_name() const override { return "eval_callback"; }
  bool higher_is_better() const override { return higher_is_better_; }
  std::string Describe() const override {
    return "the user's eval callback running the candidate on the onnx-act executor (libtorch)";
  }

 private:
  EvalRunnerCallback callback_;
  bool higher_is_better_;
  int threads_;
};

}  // namespace

Expected<std::unique_ptr<Scorer>> MakeMetricScorer(const metrics::MetricConfig& metric_config,
                                                   std::shared_ptr<const std::vector<data::Batch>> batches,
                                                   const ir::Graph& reference_graph, std::string data_description,
                                                   const ScoringEngine& engine) {
  if (!batches || batches->empty()) return InvalidInput("no evaluation data: set Global.eval_data");
  ACT_ASSIGN_OR_RETURN(auto metric, metrics::CreateMetric(metric_config));
  auto scorer = std::make_unique<MetricScorer>(std::move(metric), std::move(batches), std::move(data_description),
                                               engine);
  ACT_RETURN_IF_ERROR(scorer->ComputeReference(reference_graph));
  return std::unique_ptr<Scorer>(std::move(scorer));
}

std::unique_ptr<Scorer> MakeFileCallbackScorer(EvalFileCallback callback, bool higher_is_better,
                                               std::string scratch_dir) {
  return std::make_unique<FileCallbackScorer>(std::move(callback), higher_is_better, std::move(scratch_dir));
}

std::unique_ptr<Scorer> MakeRunnerCallbackScorer(EvalRunnerCallback callback, bool higher_is_better, int threads) {
  return std::make_unique<RunnerCallbackScorer>(std::move(callback), higher_is_better, threads);
}

Expected<std::map<std::string, Tensor>> RunSplit(exec::Runner& runner, const std::map<std::string, Tensor>& inputs,
                                                 int64_t run_batch, const std::vector<std::string>& want) {
  const int64_t rows = BatchRows(inputs);
  if (run_batch <= 0 || rows <= run_batch) return runner.Run(inputs, want);
  std::vector<std::map<std::string, Tensor>> parts;
  for (int64_t r0 = 0; r0 < rows; r0 += run_batch) {
    ACT_ASSIGN_OR_RETURN(auto part, runner.Run(SliceRows(inputs, rows, r0, std::min(rows, r0 + run_batch)), want));
    parts.push_back(std::move(part));
  }
  return ConcatRows(parts);
}

Expected<std::vector<data::Batch>> MakeBatches(const data::Dataset& dataset, const data::LoaderOptions& options) {
  ACT_ASSIGN_OR_RETURN(auto loader, data::Loader::Create(dataset, options));
  std::vector<data::Batch> batches;
  for (;;) {
    ACT_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, loader->Next());
    if (!batch) break;
    batches.push_back(std::move(*batch));
  }
  return batches;
}

namespace {
// Runs `graph` over `batches` on the oneDNN runtime (the executor when the runtime cannot build it).
Expected<std::vector<std::map<std::string, Tensor>>> RunBatches(const ir::Graph& graph,
                                                                 const std::vector<data::Batch>& batches,
                                                                 int threads, int64_t run_batch,
                                                                 const std::string& label) {
  std::unique_ptr<runtime::Session> session;
  std::unique_ptr<exec::Runner> runner;
  runtime::SessionOptions so;
  so.backend = "onednn";
  so.threads = threads;
  auto s = runtime::Session::Create(graph, so);
  if (s.ok()) {
    session = std::move(s).value();
  } else {
    auto r = exec::Runner::Create(graph, {threads});
    if (!r.ok()) return r.status().WithContext(label);
    runner = std::move(r).value();
  }
  std::vector<std::map<std::string, Tensor>> outputs;
  for (const auto& batch : batches) {
    auto out = session ? SplitRuns([&](const std::map<std::string, Tensor>& x) { return session->Run(x); },
                                   batch.inputs, run_batch)
                       : RunSplit(*runner, batch.inputs, run_batch);
    if (!out.ok()) return out.status().WithContext(label);
    outputs.push_back(std::move(out).value());
  }
  return outputs;
}
}  // namespace

Expected<std::unique_ptr<OutputDistance>> OutputDistance::Create(const ir::Graph& reference,
                                                                 std::vector<data::Batch> batches, int threads,
                                                                 int64_t run_batch) {
  if (batches.empty()) return InvalidInput("output distance: no batches to compare on");
  std::unique_ptr<OutputDistance> d(new OutputDistance());
  d->batches_ = std::move(batches);
  d->threads_ = threads;
  d->run_batch_ = run_batch;
  ACT_ASSIGN_OR_RETURN(d->reference_, RunBatches(reference, d->batches_, threads, run_batch, "the FP32 reference"));
  return d;
}

int64_t OutputDistance::samples() const { return CountSamples(batches_); }

Expected<double> OutputDistance::Distance(const ir::Graph& candidate, const std::string& label) {
  ACT_ASSIGN_OR_RETURN(auto outputs, RunBatches(candidate, batches_, threads_, run_batch_, "output distance of " + label));
  double num = 0, den = 0;
  for (size_t b = 0; b < batches_.size(); ++b) {
    for (const auto& [name, ref] : reference_[b]) {
      auto it = outputs[b].find(name);
      if (it == outputs[b].end() || it->second.dtype() != DType::kFloat32 || ref.dtype() != DType::kFloat32 ||
          it->second.numel() != ref.numel()) {
        return Internal("output distance of " + label + ": output '" + name + "' missing or of another shape");
      }
      const float* y = it->second.data<float>();
      const float* r = ref.data<float>();
      for (int64_t i = 0; i < ref.numel(); ++i) {
        const double e = static_cast<double>(y[i]) - r[i];
        num += e * e;
        den += static_cast<double>(r[i]) * r[i];
      }
    }
  }
  const double d = num / std::max(den, 1e-30);
  ACT_RETURN_IF_ERROR(CheckFinite(d, "the output distance", label));
  return d;
}

}  // namespace act::strategy
