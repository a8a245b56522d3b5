// Simulated (fake-quant graph, our executor) vs exported QDQ model (ONNX Runtime) on FastestDet, tensor by
// tensor: the property issue 7 asks of the QAT export ("the simulated model and the exported one give the
// same answers"), measured where it is decided rather than through a 128-image mAP.
//   - a short QAT run (PTQ start on 16 coco128 images, 2 distillation steps) gives the simulated graph and
//     its export, exactly as qat_dis produces them;
//   - quantized weights: the simulation's FakeQuant outputs equal the export's int8 · scale bit for bit;
//   - on 4 images (ACT_PARITY_IMAGES=n for more; images 0.. never trained on), every fake-quantized tensor
//     is compared with ORT running the export with graph optimisation disabled (Q/DQ run as written; the
//     pre-quantization values and the DQ outputs added as graph outputs): where the float inputs are equal,
//     the quantized values must be equal (the quantizer rounds as QuantizeLinear does);
//   - ten tensors against ORT's default run (fused integer kernels; the tensor's DQ output added as a graph
//     output) and the final output: the simulation replays the fused kernels' int32 bias and requantization,
//     so the quantized values agree exactly (measured: 0 differing; ORT's unfused run differs from its own
//     fused run in up to half of them, because its float Conv bias and float requantization move near-ties
//     and the network amplifies every moved value).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "core/npy.h"
#include "core/progress.h"
#include "data/loader.h"
#include "distill/qat_trainer.h"
#include "exec/runner.h"
#include "ir/onnx_io.h"
#include "quant/qat_ops.h"
#include "qat/fastestdet_fixture.h"
#include "test_support.h"

namespace act::test {
namespace {
namespace fs = std::filesystem;

int64_t Grid(float x, float s, float z, float qmin, float qmax) {
  return static_cast<int64_t>(std::clamp(std::nearbyint(x / s) + z, qmin, qmax));
}

struct Diff {
  double max_abs = 0, sum_abs = 0;
  int64_t flips = 0, count = 0;
};

Diff Compare(const Tensor& a, const Tensor& b, float s, float z, float qmin, float qmax) {
  Diff d;
  if (a.numel() != b.numel()) {
    d.max_abs = INFINITY;
    return d;
  }
  const float* x = a.data<float>();
  const float* y = b.data<float>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    d.max_abs = std::max(d.max_abs, static_cast<double>(std::fabs(x[i] - y[i])));
    d.sum_abs += std::fabs(x[i] - y[i]);
    if (s > 0 && Grid(x[i], s, z, qmin, qmax) != Grid(y[i], s, z, qmin, qmax)) ++d.flips;
  }
  d.count = a.numel();
  return d;
}

TEST(QatParityFastestDet, SimulatedMatchesExportTensorByTensor) {
  const std::string model_path = SharedDataPath("fastestdet/FastestDet.onnx");
  const std::string images = SharedDataPath("coco128/images");
  const std::string annotations = SharedDataPath("coco128/annotations/instances.json");
  ACT_SKIP_IF_EMPTY(model_path, "../shared/data/fastestdet/FastestDet.onnx");
  ACT_SKIP_IF_EMPTY(annotations, "../shared/data/coco128");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  ProgressBar::SetEnabled(false);
  auto model = ir::LoadModel(model_path);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto dataset = data::CreateDataset(Coco128(images, annotations));
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();

  // Training/calibration: images 64..79; comparison: images 0..n-1 (never seen).
  auto train = data::Loader::Create(**dataset, data::LoaderOptions{4, true, 1, 64, 16, false, 2});
  ASSERT_TRUE(train.ok()) << train.status().message();
  distill::QatDisJob job;
  job.fp32 = *model;
  job.quant.quantize_op_types = {"conv2d", "depthwise_conv2d"};
  job.quant.quant_post_first = true;
  config::QuantPostConfig quant_post;
  quant_post.algo = "hist";
  quant_post.hist_percent = 0.9999;
  job.quant_post = quant_post;
  job.train.train_iter = 2;
  job.train.eval_iter = 2;
  job.train.optimizer = "Momentum";
  job.train.learning_rate.learning_rate = 0.0001;
  job.train.weight_decay = 0;
  job.next_batch = [&]() { return (*train)->Next(); };
  job.reset = [&](uint64_t epoch) { (*train)->Reset(epoch); };
  job.batches_per_epoch = (*train)->num_batches();
  job.run_batch = 1;
  job.evaluate = [&](const ir::Graph&, const std::string&) -> Expected<double> { return 0.0; };
  job.fp32_metric = 0.0;
  job.threads = 1;
  job.progress = false;
  auto r = distill::RunQatDistillation(job);
  ASSERT_TRUE(r.ok()) << r.status().message();

  std::cout << "training " << r->steps_per_second << " steps/s (steps at batch 4)\n";
  const ir::Graph& sim = r->simulated;
  sim.RebuildIndex();
  ir::Graph exported = r->model;
  exported.RebuildIndex();
  const char* n_env = std::getenv("ACT_PARITY_IMAGES");
  const size_t n = n_env ? static_cast<size_t>(std::atoi(n_env)) : 4;
  std::vector<data::Batch> eval_images;
  {
    auto loader = data::Loader::Create(**dataset, data::LoaderOptions{1, false, 0, 0, static_cast<int64_t>(n), false, 2});
    ASSERT_TRUE(loader.ok()) << loader.status().message();
    while (true) {
      auto b = (*loader)->Next();
      ASSERT_TRUE(b.ok()) << b.status().message();
      if (!*b) break;
      eval_images.push_back(std::move(**b));
    }
  }
  ASSERT_EQ(eval_images.size(), n);
  const std::string work = TempDir("qat_parity_fastestdet");
  const std::string batch_dir = work + "/inputs";
  for (size_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%04d", static_cast<int>(i));
    fs::create_directories(batch_dir + "/" + name);
    ASSERT_TRUE(WriteNpy(batch_dir + "/" + name + "/input.1.npy", eval_images[i].inputs.at("input.1")).ok());
  }

  // Probes: each activation FakeQuant (observer != weight): simulation value = its float input, export value
  // = its output name (the Q's float input), or, where the export dropped a Relu before a zero-point-0 Q,
  // the Relu's input in both.
  struct Probe { std::string sim_value, ort_value, sim_q, ort_q; float s = 0, z = 0, qmin = 0, qmax = 255; };
  std::vector<Probe> probes;
  std::set<std::string> exported_values;
  for (const auto& node : exported.nodes) for (const auto& o : node.outputs) exported_values.insert(o);
  for (const auto& v : exported.inputs) exported_values.insert(v.name);
  for (const auto& node : sim.nodes) {
    if (node.domain != quant::kActDomain || node.op_type != quant::kFakeQuantOp) continue;
    if (node.GetString("observer", "") == quant::kObserverWeight) continue;
    Probe p;
    p.s = sim.Initializer(node.inputs[1])->data<float>()[0];
    p.z = sim.Initializer(node.inputs[2])->data<float>()[0];
    p.qmin = static_cast<float>(node.GetInt("qmin", 0));
    p.qmax = static_cast<float>(node.GetInt("qmax", 255));
    p.sim_value = node.inputs[0];
    p.ort_value = node.outputs[0];
    p.sim_q = node.outputs[0];
    if (sim.Producer(node.inputs[0]) < 0) p.sim_value = p.ort_value = node.inputs[0];  // graph input
    if (!exported_values.count(p.ort_value)) {
      const int pr = sim.Producer(node.inputs[0]);
      if (pr < 0 || sim.nodes[pr].op_type != "Relu") {
        std::cout << "probe " << p.ort_value << ": not in the export, skipped\n";
        continue;
      }
      p.sim_value = p.ort_value = sim.nodes[pr].inputs[0];
    }
    probes.push_back(p);
  }
  // The export's dequantized value of each probe: the DQ reading the Q that reads the probe's value.
  for (auto& p : probes) {
    for (const auto& qn : exported.nodes) {
      if (qn.op_type != "QuantizeLinear" || qn.inputs[0] != p.ort_value) continue;
      for (int c : exported.Consumers(qn.outputs[0])) {
        if (exported.nodes[c].op_type == "DequantizeLinear") { p.ort_q = exported.nodes[c].outputs[0]; break; }
      }
    }
  }
  // Topological order of the simulation.
  std::map<std::string, int> order;
  for (size_t i = 0; i < sim.nodes.size(); ++i) for (const auto& o : sim.nodes[i].outputs) order[o] = static_cast<int>(i);
  std::stable_sort(probes.begin(), probes.end(), [&](const Probe& a, const Probe& b) {
    return order[a.sim_value] < order[b.sim_value];
  });

  // The probed export (pre-quantization values as outputs), unfused.
  ir::Graph probed = exported;
  std::set<std::string> have;
  for (const auto& o : probed.outputs) have.insert(o.name);
  for (const auto& p : probes) {
    if (have.insert(p.ort_value).second) probed.outputs.push_back(ir::ValueInfo{p.ort_value, DType::kFloat32, std::nullopt});
    if (!p.ort_q.empty() && have.insert(p.ort_q).second) {
      probed.outputs.push_back(ir::ValueInfo{p.ort_q, DType::kFloat32, std::nullopt});
    }
  }
  const std::string qat_path = work + "/qat.onnx", probed_path = work + "/qat_probed.onnx";
  ASSERT_TRUE(ir::SaveModel(r->model, qat_path).ok());
  ASSERT_TRUE(ir::SaveModel(probed, probed_path).ok());
  if (std::getenv("ACT_PARITY_KEEP")) {
    ASSERT_TRUE(ir::SaveModel(sim, work + "/simulated.onnx").ok());
    std::cout << "files in " << work << "\n";
  }
  auto unfused = RunOrtImages(probed_path, batch_dir, n, work + "/out_unfused", "disabled", 1);
  ASSERT_TRUE(unfused.ok()) << unfused.status().message();
  auto fused = RunOrtImages(qat_path, batch_dir, n, work + "/out_fused", "all", 1);
  ASSERT_TRUE(fused.ok()) << fused.status().message();
  auto plain = RunOrtImages(qat_path, batch_dir, n, work + "/out_plain", "disabled", 1);
  ASSERT_TRUE(plain.ok()) << plain.status().message();

  auto runner = exec::Runner::Create(sim);
  ASSERT_TRUE(runner.ok()) << runner.status().message();
  std::vector<std::string> want;
  for (const auto& p : probes) {
    want.push_back(p.sim_value);
    want.push_back(p.sim_q);
  }
  std::vector<int64_t> q_differ(probes.size(), 0), q_differ_same_input(probes.size(), 0);
  const std::string out_name = sim.outputs.at(0).name;
  std::vector<Diff> per_probe(probes.size());
  Diff out_unfused, out_fused, out_plain_vs_fused;
  for (size_t i = 0; i < n; ++i) {
    auto s = (*runner)->Run(eval_images[i].inputs, want);
    ASSERT_TRUE(s.ok()) << s.status().message();
    for (size_t k = 0; k < probes.size(); ++k) {
      const auto& p = probes[k];
      const Diff d = Compare(s->at(p.sim_value), (*unfused)[i].at(p.ort_value), p.s, p.z, p.qmin, p.qmax);
      per_probe[k].max_abs = std::max(per_probe[k].max_abs, d.max_abs);
      per_probe[k].flips += d.flips;
      per_probe[k].count += d.count;
      if (p.ort_q.empty() || !(*unfused)[i].count(p.ort_q)) continue;
      const Tensor& a = s->at(p.sim_q);
      const Tensor& b = (*unfused)[i].at(p.ort_q);
      const Tensor& fa = s->at(p.sim_value);
      const Tensor& fb = (*unfused)[i].at(p.ort_value);
      if (a.numel() != b.numel()) continue;
      for (int64_t e = 0; e < a.numel(); ++e) {
        if (a.data<float>()[e] == b.data<float>()[e]) continue;
        ++q_differ[k];
        if (fa.data<float>()[e] == fb.data<float>()[e]) {
          if (q_differ_same_input[k]++ < 3) {
            const float x = fa.data<float>()[e];
            std::cout << "  same input, different quantization: " << p.sim_q << " x=" << x << " x/s=" << x / p.s
                      << " x*(1/s)=" << x * (1.0f / p.s) << " sim " << a.data<float>()[e] << " ort "
                      << b.data<float>()[e] << "\n";
          }
        }
      }
    }
    auto acc = [](Diff& into, const Diff& d) {
      into.max_abs = std::max(into.max_abs, d.max_abs);
      into.sum_abs += d.sum_abs;
      into.flips += d.flips;
      into.count += d.count;
    };
    const Tensor& so = s->at(out_name);
    acc(out_unfused, Compare(so, (*plain)[i].at(out_name), 0, 0, 0, 0));
    acc(out_fused, Compare(so, (*fused)[i].at(out_name), 0, 0, 0, 0));
    acc(out_plain_vs_fused, Compare((*plain)[i].at(out_name), (*fused)[i].at(out_name), 0, 0, 0, 0));
  }
  // Quantized weights: the simulation's FakeQuant output vs the export's int8 · scale.
  {
    std::vector<std::pair<std::string, std::string>> wq;  // (sim W_fq value, export DQ node index as string)
    std::vector<std::string> wwant;
    std::map<std::string, const ir::Node*> export_conv;
    for (const auto& node : exported.nodes) if (node.op_type == "Conv") export_conv[node.name] = &node;
    for (const auto& sn : sim.nodes) {
      if (sn.op_type != "Conv" || !export_conv.count(sn.name)) continue;
      if (sim.Producer(sn.inputs[1]) < 0) continue;
      wwant.push_back(sn.inputs[1]);
    }
    auto s = (*runner)->Run(eval_images[0].inputs, wwant);
    ASSERT_TRUE(s.ok());
    int64_t differing = 0, total = 0, shown = 0;
    for (const auto& sn : sim.nodes) {
      if (sn.op_type != "Conv" || !export_conv.count(sn.name) || sim.Producer(sn.inputs[1]) < 0) continue;
      const ir::Node& en = *export_conv[sn.name];
      const ir::Node& dq = exported.nodes[exported.Producer(en.inputs[1])];
      const Tensor* q = exported.Initializer(dq.inputs[0]);
      const Tensor* sc = exported.Initializer(dq.inputs[1]);
      const Tensor& sw = s->at(sn.inputs[1]);
      const int64_t per = q->numel() / sc->numel();
      const Tensor* fw = sim.Initializer(sim.nodes[sim.Producer(sn.inputs[1])].inputs[0]);
      for (int64_t i = 0; i < q->numel(); ++i) {
        const float e = static_cast<float>(q->data<int8_t>()[i]) * sc->data<float>()[i / per];
        ++total;
        if (e != sw.data<float>()[i]) {
          ++differing;
          if (shown++ < 8) {
            const float sv = sc->data<float>()[i / per];
            std::cout << "  weight " << sn.name << "[" << i << "]: export " << e << " simulation " << sw.data<float>()[i]
                      << " float w/s = " << fw->data<float>()[i] / sv << " w*(1/s) = " << fw->data<float>()[i] * (1.0f / sv) << "\n";
          }
        }
      }
    }
    std::cout << "quantized weights differing (simulated FakeQuant vs exported int8 * scale): " << differing << " of "
              << total << "\n";
    EXPECT_EQ(differing, 0);  // same scales (the int32-bias guard included), same rounding
  }
  // A few tensors against ORT's fused run: the tensor's dequantized value (the DQ after its Q) as an extra
  // graph output of the export, which leaves the kernel that writes the tensor fused.
  for (size_t k : {size_t{1}, size_t{2}, size_t{3}, size_t{6}, size_t{12}, size_t{30}, size_t{60}, size_t{90}, size_t{120}, size_t{138}}) {
    if (k >= probes.size() || probes[k].ort_q.empty()) continue;
    const Probe& p = probes[k];
    ir::Graph cut = exported;
    cut.outputs.push_back(ir::ValueInfo{p.ort_q, DType::kFloat32, std::nullopt});
    const std::string path = work + "/fused_probe.onnx";
    ASSERT_TRUE(ir::SaveModel(cut, path).ok());
    auto f = RunOrtImages(path, batch_dir, n, work + "/out_fused_probe", "all", 1);
    ASSERT_TRUE(f.ok()) << f.status().message();
    int64_t differ = 0, differ_unfused = 0, total = 0;
    double max_abs = 0;
    for (size_t i = 0; i < n; ++i) {
      auto sres = (*runner)->Run(eval_images[i].inputs, {p.sim_q});
      ASSERT_TRUE(sres.ok());
      const Tensor& a = sres->at(p.sim_q);
      const Tensor& b = (*f)[i].at(p.ort_q);
      const Tensor& c = (*unfused)[i].at(p.ort_q);
      for (int64_t e = 0; e < a.numel() && e < b.numel(); ++e) {
        differ += a.data<float>()[e] != b.data<float>()[e];
        differ_unfused += c.data<float>()[e] != b.data<float>()[e];
        max_abs = std::max(max_abs, static_cast<double>(std::fabs(a.data<float>()[e] - b.data<float>()[e])));
        ++total;
      }
    }
    std::cout << "tensor " << k << " " << p.sim_q << " vs ORT fused: quantized values differing " << differ << " / "
              << total << " (max |diff| " << max_abs << "); ORT unfused vs fused: " << differ_unfused << "\n";
    // Same int32 bias, same requantization (acc · (sx·sw/sy), rounded half to even): the same integers. (A
    // miss would come from a float-conv accumulator too large to recover exactly; none measured.)
    EXPECT_LE(differ, total / 100000) << p.sim_q;
  }
  int64_t total_flips = 0, same_input_differ = 0, first = -1;
  for (size_t k = 0; k < probes.size(); ++k) {
    const auto& p = probes[k];
    const auto& d = per_probe[k];
    total_flips += d.flips;
    same_input_differ += q_differ_same_input[k];
    if (d.flips > 0 && first < 0) first = static_cast<int64_t>(k);
    std::cout << "tensor " << k << " " << p.sim_value << " -> " << p.ort_value << " vs ORT unfused: grid flips "
              << d.flips << " / " << d.count << ", max |diff| " << d.max_abs << " (scale " << p.s
              << "); quantized values differing " << q_differ[k] << ", of which with the same float input "
              << q_differ_same_input[k] << "\n";
  }
  std::cout << "output " << out_name << " over " << n << " images, max |diff| (mean |diff|): simulated vs ORT unfused "
            << out_unfused.max_abs << " (" << out_unfused.sum_abs / out_unfused.count << "), simulated vs ORT fused "
            << out_fused.max_abs << " (" << out_fused.sum_abs / out_fused.count << "), ORT unfused vs fused "
            << out_plain_vs_fused.max_abs << " (" << out_plain_vs_fused.sum_abs / out_plain_vs_fused.count << ")\n";
  std::cout << "grid flips vs ORT unfused in all fake-quantized tensors: " << total_flips << " (first at tensor "
            << first << ")\n";
  // The quantizer rounds exactly as QuantizeLinear: equal float inputs give equal quantized values.
  EXPECT_EQ(same_input_differ, 0);
  // The final output: bit-identical integer paths, then the float head (Sigmoid, Softmax, …) in both.
  EXPECT_LE(out_fused.max_abs, 1e-4);
  EXPECT_LE(out_fused.sum_abs / out_fused.count, 1e-6);
}

}  // namespace
}  // namespace act::test
