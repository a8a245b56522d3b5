#include "distill/qat_trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <set>
#include <sstream>

#include "core/batch_rows.h"
#include "core/file_util.h"
#include "core/logging.h"
#include "core/progress.h"
#include "core/strings.h"
#include "distill/checkpoint.h"
#include "distill/distill_pairs.h"
#include "distill/losses.h"
#include "distill/lr_schedule.h"
#include "exec/module.h"
#include "exec/tensor_convert.h"
#include "ir/checker.h"
#include "ir/passes/pass.h"
#include "quant/ptq.h"
#include "quant/qat_export.h"
#include "quant/qat_ops.h"
#include "quant/qdq_scheme.h"
#include "quant/quant_params.h"

namespace act::distill {

std::string CheckpointPath(const std::string& save_dir) { return JoinPath(save_dir, "qat_checkpoint.bin"); }

Expected<quant::QatOptions> QatOptionsFrom(const config::QuantAwareConfig& qa, const std::string& hardware,
                                           const ir::Graph& graph) {
  // The op-name mapping, bit and type checks are PTQ's (same keys in ACT).
  config::QuantPostConfig qp;
  qp.quantize_op_types = qa.quantize_op_types;
  qp.weight_bits = qa.weight_bits;
  qp.activation_bits = qa.activation_bits;
  qp.weight_quantize_type = qa.weight_quantize_type;
  qp.is_full_quantize = qa.is_full_quantize;
  const std::string hw = qa.for_tensorrt ? "gpu_tensorrt" : hardware;
  auto ptq = quant::PtqOptionsFromQuantPost(qp, hw);
  if (!ptq.ok()) {
    std::string m = ptq.status().message();
    const std::string from = "QuantPost.";
    for (size_t p = m.find(from); p != std::string::npos; p = m.find(from)) m.replace(p, from.size(), "QuantAware.");
    return Status(ptq.status().code(), m);
  }
  ACT_ASSIGN_OR_RETURN(quant::QuantScheme scheme, quant::SchemeForHardware(hw));
  scheme.weight_type = ptq->weight_quantize_type;
  scheme.weight_bits = ptq->weight_bits;
  quant::QatOptions o;
  o.export_options = quant::MakeQdqExportOptions(scheme);
  o.export_options.quantize_op_types = ptq->quantize_op_types;
  o.export_options.is_full_quantize = qa.is_full_quantize;
  for (const auto& node : graph.nodes) {
    for (const auto& pattern : qa.not_quant_pattern) {
      // ACT: a node whose name contains the pattern stays FP32; a pattern ending in '$' matches the name's end
      // only ("p2o.Conv.3$" keeps p2o.Conv.3 but not p2o.Conv.30).
      const bool at_end = pattern.size() > 1 && pattern.back() == '$';
      const std::string text = at_end ? pattern.substr(0, pattern.size() - 1) : pattern;
      const bool match = at_end ? node.name.size() >= text.size() &&
                                      node.name.compare(node.name.size() - text.size(), text.size(), text) == 0
                                : !text.empty() && node.name.find(text) != std::string::npos;
      if (match) o.export_options.float_nodes.insert(node.name);
    }
  }
  o.activation_dtype = scheme.activation_dtype;
  o.activation_symmetric = scheme.activation_symmetric;
  o.activation_bits = 8;
  o.activation_observer = qa.activation_quantize_type;
  o.moving_rate = qa.moving_rate;
  o.window_size = qa.window_size;
  o.use_pact = qa.use_pact;
  o.learnable_scale = qa.scale_trainable;
  if (qa.moving_rate <= 0 || qa.moving_rate >= 1) return InvalidInput("QuantAware.moving_rate must lie in (0, 1)");
  return o;
}

namespace {

using TensorMap = std::map<std::string, at::Tensor>;

// Keeps only what computes `values`; they become the graph outputs.
ir::Graph CutGraph(const ir::Graph& graph, const std::vector<std::string>& values) {
  ir::Graph g = graph;
  g.RebuildIndex();
  std::set<std::string> needed(values.begin(), values.end());
  std::vector<bool> keep(g.nodes.size(), false);
  for (int i = static_cast<int>(g.nodes.size()) - 1; i >= 0; --i) {
    bool used = false;
    for (const auto& out : g.nodes[i].outputs) used = used || needed.count(out);
    if (!used) continue;
    keep[i] = true;
    for (const auto& in : g.nodes[i].inputs) if (!in.empty()) needed.insert(in);
  }
  std::vector<int> drop;
  for (size_t i = 0; i < keep.size(); ++i) if (!keep[i]) drop.push_back(static_cast<int>(i));
  g.RemoveNodes(drop);
  g.outputs.clear();
  std::set<std::string> seen;
  for (const auto& v : values) {
    if (!seen.insert(v).second) continue;
    auto info = g.FindValueInfo(v);
    ir::ValueInfo vi = info ? *info : ir::ValueInfo{};
    vi.name = v;
    g.outputs.push_back(vi);
  }
  // Inputs the cut graph no longer reads stay declared (the caller feeds every input).
  return g;
}

Expected<TensorMap> ToAtenInputs(const std::map<std::string, Tensor>& inputs) {
  TensorMap out;
  for (const auto& [name, t] : inputs) {
    ACT_ASSIGN_OR_RETURN(at::Tensor a, exec::ToAten(t));
    out[name] = a;
  }
  return out;
}

// The optimizer: SGD (p -= lr·(g + wd·p)), Momentum (v = μ·v + g + wd·p; p -= lr·v; Paddle's form), Adam (L2 in
// the gradient) and AdamW (decoupled decay p -= lr·wd·p), both with bias-corrected moments.
class Optimizer {
 public:
  Optimizer(const config::TrainConfig& train, std::vector<std::pair<std::string, at::Tensor>> params,
            std::set<std::string> no_decay, std::set<std::string> pact)
      : train_(train), params_(std::move(params)), no_decay_(std::move(no_decay)), pact_(std::move(pact)) {}

  void Step(double lr) {
    at::NoGradGuard no_grad;
    ++t_;
    // Global-norm clipping.
    if (train_.grad_clip > 0) {
      double total = 0;
      for (auto& [name, p] : params_) {
        if (p.grad().defined()) total += p.grad().pow(2).sum().item<double>();
      }
      const double norm = std::sqrt(total);
      if (norm > train_.grad_clip) {
        for (auto& [name, p] : params_) if (p.grad().defined()) p.grad().mul_(train_.grad_clip / norm);
      }
    }
    for (auto& [name, p] : params_) {
      if (!p.grad().defined()) continue;
      at::Tensor g = p.grad();
      const double wd = pact_.count(name) ? 1e-4 : (no_decay_.count(name) ? 0.0 : train_.weight_decay);
      if (train_.optimizer == "AdamW" || train_.optimizer == "Adam") {
        if (wd > 0 && train_.optimizer == "AdamW") p.mul_(1 - lr * wd);
        if (wd > 0 && train_.optimizer == "Adam") g = g + p * wd;  // Adam: L2 in the gradient (Paddle's form)
        at::Tensor& m = state_[name + "/m"];
        at::Tensor& v = state_[name + "/v"];
        if (!m.defined()) { m = at::zeros_like(p); v = at::zeros_like(p); }
        m.mul_(train_.beta1).add_(g, 1 - train_.beta1);
        v.mul_(train_.beta2).addcmul_(g, g, 1 - train_.beta2);
        const double c1 = 1 - std::pow(train_.beta1, static_cast<double>(t_));
        const double c2 = 1 - std::pow(train_.beta2, static_cast<double>(t_));
        p.addcdiv_(m / c1, (v / c2).sqrt_().add_(train_.epsilon), -lr);
        continue;
      }
      at::Tensor d = wd > 0 ? g + p * wd : g;
      if (train_.optimizer == "Momentum") {
        at::Tensor& v = state_[name + "/m"];
        if (!v.defined()) v = at::zeros_like(p);
        v.mul_(train_.momentum).add_(d);
        p.add_(v, -lr);
      } else {
        p.add_(d, -lr);
      }
    }
    for (auto& [name, p] : params_) {
      if (p.grad().defined()) p.grad().zero_();
    }
  }
  const TensorMap& state() const { return state_; }
  int64_t t() const { return t_; }
  void Restore(const TensorMap& state, int64_t t) {
    for (const auto& [k, v] : state) state_[k] = v.clone();
    t_ = t;
  }

 private:
  const config::TrainConfig& train_;
  std::vector<std::pair<std::string, at::Tensor>> params_;
  std::set<std::string> no_decay_, pact_;
  TensorMap state_;
  int64_t t_ = 0;
};

std::string Fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// ir::Graph copies share tensor storage; the folds write weights in place. Copy the data before changing it,
// so the caller's graphs (the pipeline's FP32 reference) stay untouched.
ir::Graph DeepCopy(const ir::Graph& graph) {
  ir::Graph copy = graph;
  for (auto& [name, tensor] : copy.initializers) tensor = tensor.Clone();
  for (auto& node : copy.nodes) {
    for (auto& [key, attr] : node.attributes) {
      if (attr.kind == ir::Attribute::Kind::kTensor) attr.t = attr.t.Clone();
    }
  }
  return copy;
}

// Writes every module parameter (weights, quantizer state, PACT) into `graph`.
Status WriteModule(const exec::Module& module, ir::Graph& graph) { return module.WriteParametersTo(graph); }

}  // namespace

Expected<QatDisResult> RunQatDistillation(const QatDisJob& job) {
  QatDisResult result;
  if (!job.next_batch || !job.reset || !job.evaluate) return Internal("qat_dis: the job lacks data or evaluation");
  if (job.threads > 0) at::set_num_threads(job.threads);
  const config::TrainConfig& train = job.train;
  ACT_RETURN_IF_ERROR(ValidateSchedule(train.learning_rate, "TrainConfig.learning_rate"));
  if (train.optimizer != "SGD" && train.optimizer != "Momentum" && train.optimizer != "Adam" &&
      train.optimizer != "AdamW") {
    return InvalidInput("TrainConfig.optimizer_builder.optimizer.type: '" + train.optimizer + "'" +
                        DidYouMean(train.optimizer, {"SGD", "Momentum", "Adam", "AdamW"}) +
                        " (expected SGD, Momentum, Adam or AdamW)");
  }
  int64_t total_steps = train.train_iter;
  if (total_steps <= 0) total_steps = std::max<int64_t>(train.epochs, 1) * std::max<int64_t>(job.batches_per_epoch, 1);
  const int64_t eval_iter = std::max<int64_t>(1, std::min(train.eval_iter, total_steps));

  // 1. FP32 score and the origin_metric check.
  ir::Graph fp32 = DeepCopy(job.fp32);
  ACT_RETURN_IF_ERROR(ir::Normalize(fp32, "the FP32 model"));
  if (job.fp32_metric) {
    result.fp32_metric = *job.fp32_metric;
  } else {
    ACT_ASSIGN_OR_RETURN(result.fp32_metric, job.evaluate(fp32, "fp32"));
  }
  if (train.origin_metric && std::fabs(*train.origin_metric - result.fp32_metric) > 0.05) {
    return InvalidInput("TrainConfig.origin_metric is " + Fixed(*train.origin_metric, 4) +
                        " but the FP32 model scores " + Fixed(result.fp32_metric, 4) +
                        " on the eval data (more than 0.05 apart): the eval data, its preprocessing or the metric is "
                        "probably wrong — check Global.eval_data and Global.eval before training");
  }
  // 2. Fold (or take the PTQ start's folded graph).
  const bool from_ptq = job.quant.quant_post_first && job.ptq_start.has_value();
  ir::Graph folded = DeepCopy(from_ptq ? job.ptq_start->prepared : fp32);
  if (!from_ptq) {
    ACT_ASSIGN_OR_RETURN(bool bn, ir::FoldBatchNorm(folded));
    ACT_ASSIGN_OR_RETURN(bool affine, ir::FoldAffine(folded));
    if (bn || affine) ACT_RETURN_IF_ERROR(ir::InferShapes(folded, "folded model"));
  }
  ACT_ASSIGN_OR_RETURN(quant::QatOptions options, QatOptionsFrom(job.quant, job.deploy_hardware, folded));

  // 3. quant_post_first.
  std::optional<quant::CalibrationTable> initial;
  if (from_ptq) {
    const QatDisJob::PtqStart& start = *job.ptq_start;
    initial = start.table;
    options.export_options.float_nodes.insert(start.float_nodes.begin(), start.float_nodes.end());
    result.ptq_metric = start.metric;
    result.decisions.push_back("quant_post_first: training starts from " + start.description + " (scores " +
                               Fixed(start.metric, 4) + "): its folds, biases, activation scales" +
                               (start.float_nodes.empty() ? std::string()
                                                          : " and " + std::to_string(start.float_nodes.size()) +
                                                                " FP32 layers"));
  } else if (job.quant.quant_post_first) {
    job.reset(0);
    quant::PtqOptions po;
    if (job.quant_post) {  // QuantPost's algorithm and its hist_percent / batch count, when the config has one
      ACT_ASSIGN_OR_RETURN(po, quant::PtqOptionsFromQuantPost(*job.quant_post, job.deploy_hardware));
    }
    po.batch_nums = job.quant_post && job.quant_post->batch_nums > 0 ? job.quant_post->batch_nums : 10;
    po.quantize_op_types = options.export_options.quantize_op_types;
    po.weight_bits = options.export_options.weight_bits;
    po.weight_quantize_type = options.export_options.weight_per_channel ? quant::WeightQuantizeType::kChannelWiseAbsMax
                                                                        : quant::WeightQuantizeType::kAbsMax;
    po.is_full_quantize = options.export_options.is_full_quantize;
    po.float_nodes = options.export_options.float_nodes;
    po.deploy_hardware = job.quant.for_tensorrt ? "gpu_tensorrt" : job.deploy_hardware;
    // Fixed-batch models (FastestDet: 1) calibrate on run_batch-row slices of the training batches, over
    // every training batch of the first epoch.
    auto source = job.next_batch;
    if (job.run_batch > 0) {
      auto pending = std::make_shared<std::vector<data::Batch>>();  // served from the back
      source = [next = job.next_batch, pending, chunk = job.run_batch]() -> Expected<std::optional<data::Batch>> {
        if (pending->empty()) {
          ACT_ASSIGN_OR_RETURN(std::optional<data::Batch> b, next());
          if (!b) return b;
          const int64_t n = b->size();
          for (int64_t b0 = ((n - 1) / chunk) * chunk; b0 >= 0; b0 -= chunk) {
            const int64_t b1 = std::min(n, b0 + chunk);
            data::Batch part;
            part.labels.assign(b->labels.begin() + b0, b->labels.begin() + b1);
            part.inputs = SliceRows(b->inputs, n, b0, b1);
            pending->push_back(std::move(part));
          }
        }
        data::Batch out = std::move(pending->back());
        pending->pop_back();
        return std::optional<data::Batch>(std::move(out));
      };
      po.batch_nums = -1;
    }
    ACT_ASSIGN_OR_RETURN(quant::PtqResult ptq, quant::RunPtq(DeepCopy(folded), source, po));
    ACT_ASSIGN_OR_RETURN(double ptq_metric, job.evaluate(ptq.model, "ptq"));
    result.ptq_metric = ptq_metric;
    initial = ptq.table;
    result.ptq_model = std::move(ptq.model);
    result.decisions.push_back("quant_post_first: PTQ (" + po.algo + ", " +
                               (po.batch_nums > 0 ? std::to_string(po.batch_nums) : std::string("all")) +
                               " batches) scores " + Fixed(ptq_metric, 4) +
                               "; its activation scales start the training");
  }

  // 4. Student and teacher.
  ir::Graph student = DeepCopy(folded);
  ACT_ASSIGN_OR_RETURN(quant::QatGraphInfo info,
                       quant::InsertFakeQuant(student, options, initial ? &*initial : nullptr));
  result.decisions.push_back("fake quantization on " + std::to_string(info.weights.size()) + " weights and " +
                             std::to_string(info.activations.size()) + " activations (" +
                             options.activation_observer + (options.use_pact ? ", PACT" : "") + ")");
  ir::Graph teacher = from_ptq ? job.ptq_start->teacher : folded;
  if (job.teacher) {
    teacher = DeepCopy(*job.teacher);
    ACT_RETURN_IF_ERROR(ir::Normalize(teacher, "the teacher model"));
  }
  ACT_ASSIGN_OR_RETURN(std::vector<DistillLossSpec> specs,
                       ResolveDistillation(job.distillation, teacher, folded, job.teacher.has_value()));
  std::vector<std::string> teacher_values, student_values;
  for (const auto& s : specs) {
    for (const auto& [t, st] : s.pairs) {
      teacher_values.push_back(t);
      student_values.push_back(st);
      result.distill_pairs.emplace_back(t, st);
    }
  }
  ACT_ASSIGN_OR_RETURN(auto teacher_module, exec::Module::Create(CutGraph(teacher, teacher_values)));
  exec::ModuleOptions student_options;
  for (const auto& n : info.WeightNames()) student_options.extra_parameters.push_back(n);
  for (const auto& n : info.BiasNames()) student_options.extra_parameters.push_back(n);
  for (const auto& n : info.StateNames()) student_options.extra_parameters.push_back(n);
  for (const auto& n : info.PactNames()) student_options.extra_parameters.push_back(n);
  ACT_ASSIGN_OR_RETURN(auto student_module, exec::Module::Create(CutGraph(student, student_values), student_options));

  // 5. Trainable parameters and the optimizer.
  std::set<std::string> state_names;
  for (const auto& n : info.StateNames()) state_names.insert(n);
  std::set<std::string> scale_names;
  for (const auto& n : info.ScaleNames()) scale_names.insert(n);
  std::set<std::string> pact_names;
  for (const auto& n : info.PactNames()) pact_names.insert(n);
  std::vector<std::pair<std::string, at::Tensor>> trainable;
  std::set<std::string> no_decay = scale_names;
  for (const auto& [name, p] : student_module->parameters()) {
    const bool learnable_scale = options.learnable_scale && scale_names.count(name);
    if (state_names.count(name) && !learnable_scale) {
      p.set_requires_grad(false);
      continue;
    }
    trainable.emplace_back(name, p);
  }
  Optimizer optimizer(train, trainable, no_decay, pact_names);
  LossOptions loss_options{job.distillation.teacher_temperature, job.distillation.student_temperature};

  // Resume.
  const std::string checkpoint_path = job.save_dir.empty() ? std::string() : CheckpointPath(job.save_dir);
  int64_t step = 0;
  TensorMap best;
  bool has_best = false;
  const bool better_is_higher = job.higher_is_better;
  auto better = [&](double a, double b) { return better_is_higher ? a > b : a < b; };
  if (job.resume && !checkpoint_path.empty() && FileExists(checkpoint_path)) {
    ACT_ASSIGN_OR_RETURN(Checkpoint c, LoadCheckpoint(checkpoint_path));
    at::NoGradGuard no_grad;
    TensorMap opt_state;
    for (const auto& [name, p] : student_module->parameters()) {
      auto it = c.tensors.find("param/" + name);
      if (it == c.tensors.end() || !it->second.sizes().equals(p.sizes())) {
        return InvalidInput("checkpoint " + checkpoint_path + " does not match this model and config (parameter '" +
                            name + "'): delete it, or run without --resume");
      }
      p.copy_(it->second);
    }
    for (const auto& [k, v] : c.tensors) {
      if (k.rfind("opt/", 0) == 0) opt_state[k.substr(4)] = v;
      if (k.rfind("best/", 0) == 0) best[k.substr(5)] = v.clone();
    }
    optimizer.Restore(opt_state, c.step);
    step = c.step;
    has_best = c.best_step >= 0;
    result.best_step = c.best_step;
    result.best_metric = c.best_metric;
    result.resumed_from = step;
    result.decisions.push_back("resumed from " + checkpoint_path + " at step " + std::to_string(step));
  }
  if (!job.save_dir.empty()) ACT_RETURN_IF_ERROR(MakeDirs(job.save_dir));

  // Data position: epoch e = step / batches_per_epoch, replay the batches already consumed in it.
  const int64_t bpe = std::max<int64_t>(job.batches_per_epoch, 1);
  uint64_t epoch = static_cast<uint64_t>(step / bpe);
  job.reset(epoch);
  for (int64_t i = 0; i < step % bpe; ++i) {
    ACT_ASSIGN_OR_RETURN(auto skipped, job.next_batch());
    (void)skipped;
  }

  auto snapshot = [&]() {
    TensorMap m;
    for (const auto& [name, p] : student_module->parameters()) m[name] = p.detach().clone();
    return m;
  };
  auto simulated_graph = [&](const TensorMap* params) -> Expected<ir::Graph> {
    ir::Graph g = student;
    if (params == nullptr) {
      ACT_RETURN_IF_ERROR(WriteModule(*student_module, g));
      return g;
    }
    for (const auto& [name, t] : *params) {
      ACT_ASSIGN_OR_RETURN(Tensor value, exec::FromAten(t));
      g.initializers[name] = std::move(value);
    }
    return g;
  };
  auto save_checkpoint = [&]() -> Status {
    if (checkpoint_path.empty()) return Status::Ok();
    Checkpoint c;
    c.step = step;
    c.best_step = has_best ? result.best_step : -1;
    c.best_metric = result.best_metric;
    for (const auto& [name, p] : student_module->parameters()) c.tensors["param/" + name] = p;
    for (const auto& [k, v] : optimizer.state()) c.tensors["opt/" + k] = v;
    for (const auto& [k, v] : best) c.tensors["best/" + k] = v;
    return SaveCheckpoint(checkpoint_path, c);
  };

  std::string last_metric = "-";
  // Scores the simulated model as it is now; keeps it when it is the best so far; checkpoints.
  auto evaluate_step = [&]() -> Expected<double> {
    at::NoGradGuard no_grad;
    const auto eval_start = std::chrono::steady_clock::now();
    ACT_ASSIGN_OR_RETURN(ir::Graph g, simulated_graph(nullptr));
    ACT_ASSIGN_OR_RETURN(double metric, job.evaluate(g, "qat step " + std::to_string(step)));
    result.evaluations.emplace_back(step, metric);
    last_metric = Fixed(metric, 4);
    if (!has_best || better(metric, result.best_metric)) {
      has_best = true;
      result.best_metric = metric;
      result.best_step = step;
      best = snapshot();
    }
    ACT_RETURN_IF_ERROR(save_checkpoint());
    result.eval_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    return metric;
  };
  const auto start = std::chrono::steady_clock::now();  // train_seconds: evaluations included, step 0's too
  // A start from PTQ scales is a candidate too (step 0): training that does not beat it exports it.
  if (initial && step == 0) {
    ACT_ASSIGN_OR_RETURN(const double start_metric, evaluate_step());
    result.decisions.push_back("step 0 (the PTQ start) simulated: " + Fixed(start_metric, 4));
  }

  // 6. Train.
  std::unique_ptr<ProgressBar> bar;
  if (job.progress) bar = std::make_unique<ProgressBar>("qat_dis", total_steps - step);
  const int64_t start_step = step;
  double running_loss = 0;
  int64_t running_n = 0;
  bool reached_target = false;
  while (step < total_steps) {
    ACT_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, job.next_batch());
    if (!batch) {
      ++epoch;
      job.reset(epoch);
      ACT_ASSIGN_OR_RETURN(batch, job.next_batch());
      if (!batch) return InvalidInput("the training data set yielded no batch");
    }
    ACT_ASSIGN_OR_RETURN(TensorMap inputs, ToAtenInputs(batch->inputs));
    const int64_t n = batch->size();
    const int64_t chunk = job.run_batch > 0 ? job.run_batch : n;
    double step_loss = 0;
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t len = std::min(chunk, n - begin);
      TensorMap part;
      for (const auto& [name, t] : inputs) part[name] = chunk == n ? t : t.narrow(0, begin, len);
      TensorMap teacher_out;
      {
        at::NoGradGuard no_grad;
        ACT_ASSIGN_OR_RETURN(teacher_out, teacher_module->Forward(part, teacher_values));
      }
      ACT_ASSIGN_OR_RETURN(TensorMap student_out, student_module->Forward(part, student_values));
      at::Tensor loss = at::zeros({}, at::kFloat);
      for (const auto& spec : specs) {
        for (const auto& [t, s] : spec.pairs) {
          auto l = DistillLoss(spec.loss, teacher_out.at(t), student_out.at(s), loss_options);
          if (!l.ok()) return l.status().WithContext("distilling '" + s + "'");
          loss = loss + spec.alpha * *l / static_cast<double>(spec.pairs.size());
        }
      }
      loss = loss * (static_cast<double>(len) / n);
      loss.backward();
      step_loss += loss.item<double>();
    }
    if (!std::isfinite(step_loss)) {
      return Failure("qat_dis: the distillation loss became " + Fixed(step_loss, 3) + " at step " +
                     std::to_string(step) + ": lower TrainConfig.learning_rate");
    }
    const double lr = LearningRateAt(train.learning_rate, step, total_steps);
    optimizer.Step(lr);
    ++step;
    running_loss += step_loss;
    ++running_n;
    const bool eval_now = step % eval_iter == 0 || step == total_steps;
    if (eval_now) {
      ACT_ASSIGN_OR_RETURN(const double metric, evaluate_step());
      ACT_LOG(kInfo, "qat_dis step " << step << "/" << total_steps << ": loss " << running_loss / running_n
                                     << ", metric " << metric << " (best " << result.best_metric << " at step "
                                     << result.best_step << ")");
      if (train.target_metric && !better(*train.target_metric, metric)) reached_target = true;
    }
    if (bar && (step % std::max<int64_t>(1, train.logging_iter) == 0 || eval_now)) {
      bar->Advance(std::max<int64_t>(1, train.logging_iter) == 1 || eval_now ? 1 : 1,
                   "loss=" + Fixed(running_n ? running_loss / running_n : 0, 5) + " metric=" + last_metric +
                       " lr=" + Fixed(lr, 6));
      running_loss = 0;
      running_n = 0;
    } else if (bar) {
      bar->Advance(1);
    }
    if (reached_target) {
      result.decisions.push_back("target_metric " + Fixed(*train.target_metric, 4) + " reached at step " +
                                 std::to_string(step));
      break;
    }
    if (job.stop_after_steps >= 0 && step - start_step >= job.stop_after_steps && step < total_steps) {
      result.stopped_early = true;
      break;
    }
  }
  if (bar) bar->Finish();
  result.steps = step;
  result.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double step_seconds = result.train_seconds - result.eval_seconds;
  result.steps_per_second = step_seconds > 0 ? (step - start_step) / step_seconds : 0;
  if (result.stopped_early) return result;

  // 7. Export the best parameters.
  ACT_ASSIGN_OR_RETURN(result.simulated, simulated_graph(has_best ? &best : nullptr));
  ACT_ASSIGN_OR_RETURN(quant::QatExportResult exported, quant::ExportQat(DeepCopy(result.simulated), info, options));
  result.model = std::move(exported.model);
  result.float_model = std::move(exported.float_model);
  result.table = std::move(exported.table);
  result.export_result = exported.export_result;
  if (exported.pact_kept_as_clip > 0) {
    result.decisions.push_back(std::to_string(exported.pact_kept_as_clip) +
                               " PACT thresholds kept as Clip (the quantizer range exceeded them)");
  }
  for (const auto& k : exported.export_result.kept_float) {
    result.decisions.push_back("export kept in FP32: " + k);  // k says why (e.g. both MatMul operands are activations)
  }
  return result;
}

}  // namespace act::distill
