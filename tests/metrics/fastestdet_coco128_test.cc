// FastestDet on coco128: our coco_map against an independent computation.
//   1. Decode the 128 images with stb_image and preprocess them as FastestDet's reference does (BGR,
//      stretched to 352x352 with OpenCV's INTER_LINEAR rule, rounded to uint8, /255, NCHW).
//   2. Run the model in ONNX Runtime once over all of them (tests/ort/run.js --batch-dir).
//   3. Feed the outputs, batched by 8, through Evaluate() into the coco_map metric, labels from
//      instances.json.
//   4. Give the same input tensors to tests/ort/fastestdet_map.js, which runs ORT and decodes, suppresses
//      and scores with its own code (tests/ort/README.md), and compare: |Δ mAP| ≤ 0.005, the acceptance line.
#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "act/metrics.h"
#include "core/file_util.h"
#include "core/npy.h"
#include "core/progress.h"
#include "metrics/evaluator.h"
#include "metrics_test_util.h"
#include "test_support.h"

namespace act::metrics {
namespace {
namespace fs = std::filesystem;

constexpr int kSize = 352;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// OpenCV INTER_LINEAR taps: source coordinate (i + 0.5)·in/out − 0.5, clamped to [0, in − 1].
struct Taps {
  std::vector<int> i0, i1;
  std::vector<double> f;  // weight of i1
};
Taps LinearTaps(int n_in, int n_out) {
  Taps t;
  for (int i = 0; i < n_out; ++i) {
    const double src = std::clamp((i + 0.5) * (static_cast<double>(n_in) / n_out) - 0.5, 0.0, n_in - 1.0);
    const int i0 = static_cast<int>(std::floor(src));
    t.i0.push_back(i0);
    t.i1.push_back(std::min(i0 + 1, n_in - 1));
    t.f.push_back(src - i0);
  }
  return t;
}

// RGB uint8 [h, w, 3] → FastestDet input [1, 3, 352, 352]: BGR, bilinear stretch rounded to uint8, /255.
Tensor Preprocess(const unsigned char* rgb, int w, int h) {
  const Taps ty = LinearTaps(h, kSize), tx = LinearTaps(w, kSize);
  Tensor out(DType::kFloat32, {1, 3, kSize, kSize});
  float* p = out.data<float>();
  std::vector<double> row(static_cast<size_t>(w) * 3);
  for (int y = 0; y < kSize; ++y) {
    const unsigned char* r0 = rgb + static_cast<size_t>(ty.i0[y]) * w * 3;
    const unsigned char* r1 = rgb + static_cast<size_t>(ty.i1[y]) * w * 3;
    for (int i = 0; i < w * 3; ++i) row[i] = r0[i] * (1 - ty.f[y]) + r1[i] * ty.f[y];
    for (int x = 0; x < kSize; ++x) {
      for (int c = 0; c < 3; ++c) {
        const double v = row[tx.i0[x] * 3 + c] * (1 - tx.f[x]) + row[tx.i1[x] * 3 + c] * tx.f[x];
        const double u8 = std::clamp(std::nearbyint(v), 0.0, 255.0);
        p[(2 - c) * kSize * kSize + y * kSize + x] = static_cast<float>(u8 / 255.0);  // RGB → BGR planes
      }
    }
  }
  return out;
}

TEST(FastestDetCoco128Test, MapAgreesWithIndependentNodeComputation) {
  const std::string model = act::test::SharedDataPath("fastestdet/FastestDet.onnx");
  const std::string images_dir = act::test::SharedDataPath("coco128/images");
  const std::string annotations = act::test::SharedDataPath("coco128/annotations/instances.json");
  ACT_SKIP_IF_EMPTY(model, "../shared/data/fastestdet/FastestDet.onnx");
  ACT_SKIP_IF_EMPTY(annotations, "../shared/data/coco128");
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "node + onnxruntime-node (deps/) not installed; skipping";
  ProgressBar::SetEnabled(false);

  auto json_text = ReadFileToString(annotations);
  ASSERT_TRUE(json_text.ok()) << json_text.status().ToString();
  const nlohmann::json coco = nlohmann::json::parse(*json_text);
  std::map<int64_t, data::Label> labels;       // by image id (sorted, as fastestdet_map.js evaluates)
  std::map<int64_t, std::string> files;
  for (const auto& im : coco.at("images")) {
    const int64_t id = im.at("id").get<int64_t>();
    if (!fs::exists(fs::path(images_dir) / im.at("file_name").get<std::string>())) continue;
    data::Label& l = labels[id];
    l.image_id = id;
    l.image_width = im.at("width").get<int64_t>();
    l.image_height = im.at("height").get<int64_t>();
    files[id] = (fs::path(images_dir) / im.at("file_name").get<std::string>()).string();
  }
  for (const auto& a : coco.at("annotations")) {
    auto it = labels.find(a.at("image_id").get<int64_t>());
    if (it == labels.end()) continue;
    const auto& b = a.at("bbox");
    data::Box box;
    box.x0 = b[0].get<float>();
    box.y0 = b[1].get<float>();
    box.x1 = box.x0 + b[2].get<float>();
    box.y1 = box.y0 + b[3].get<float>();
    box.category = a.at("category_id").get<int64_t>();
    box.crowd = a.value("iscrowd", 0) != 0;
    it->second.boxes.push_back(box);
  }
  ASSERT_EQ(labels.size(), 128u);

  // 1. Inputs: DIR/<id>.npy + sizes.json (fastestdet_map.js's layout); BATCH/<id>/input.1.npy links (run.js's).
  const std::string work = act::test::TempDir("fastestdet_coco128");
  const std::string inputs_dir = work + "/inputs", batch_dir = work + "/batch", outputs_dir = work + "/outputs";
  fs::create_directories(inputs_dir);
  nlohmann::json sizes;
  for (const auto& [id, file] : files) {
    int w = 0, h = 0, channels = 0;
    unsigned char* rgb = stbi_load(file.c_str(), &w, &h, &channels, 3);
    ASSERT_NE(rgb, nullptr) << file << ": " << stbi_failure_reason();
    EXPECT_EQ(w, labels[id].image_width) << file;
    EXPECT_EQ(h, labels[id].image_height) << file;
    Tensor x = Preprocess(rgb, w, h);
    stbi_image_free(rgb);
    const std::string npy = inputs_dir + "/" + std::to_string(id) + ".npy";
    ASSERT_TRUE(WriteNpy(npy, x).ok());
    fs::create_directories(batch_dir + "/" + std::to_string(id));
    fs::create_symlink(npy, batch_dir + "/" + std::to_string(id) + "/input.1.npy");
    sizes[std::to_string(id)] = {{"file", fs::path(file).filename().string()}, {"width", w}, {"height", h}};
  }
  std::ofstream(inputs_dir + "/sizes.json") << sizes.dump();

  // 2. ORT outputs for every image.
  auto run = act::test::RunCommand("node " + Quote(act::test::RepoPath("tests/ort/run.js")) + " --model " +
                                   Quote(model) + " --batch-dir " + Quote(batch_dir) + " --output-dir " +
                                   Quote(outputs_dir));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<int64_t> ids;
  std::vector<Tensor> outputs;
  for (const auto& [id, label] : labels) {
    const std::string dir = outputs_dir + "/" + std::to_string(id);
    auto index = ReadFileToString(dir + "/outputs.json");
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    auto y = ReadNpy(dir + "/" + nlohmann::json::parse(*index).at("758").get<std::string>());
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    ASSERT_EQ(y->shape(), (Shape{1, 85, 22, 22}));
    ids.push_back(id);
    outputs.push_back(*y);
  }

  // 3. Our metric, through the Evaluator. The "model" looks up ORT's outputs by the image indices the batch
  // carries, and stacks them into [B, 85, 22, 22].
  std::vector<data::Batch> batches;
  for (size_t start = 0; start < ids.size(); start += 8) {
    data::Batch b;
    std::vector<int64_t> index;
    for (size_t i = start; i < std::min(ids.size(), start + 8); ++i) {
      index.push_back(static_cast<int64_t>(i));
      b.labels.push_back(labels[ids[i]]);
    }
    b.inputs["image_index"] = Tensor::FromVector<int64_t>({static_cast<int64_t>(index.size())}, index);
    batches.push_back(std::move(b));
  }
  ModelFn ort_outputs = [&](const std::map<std::string, Tensor>& in) -> Expected<std::map<std::string, Tensor>> {
    const Tensor& index = in.at("image_index");
    const int64_t per_image = 85 * 22 * 22;
    Tensor y(DType::kFloat32, {index.numel(), 85, 22, 22});
    for (int64_t i = 0; i < index.numel(); ++i) {
      const Tensor& src = outputs[index.data<int64_t>()[i]];
      std::copy(src.data<float>(), src.data<float>() + per_image, y.data<float>() + i * per_image);
    }
    return std::map<std::string, Tensor>{{"758", y}};
  };
  MetricConfig config;
  config.name = "coco_map";
  config.decoder = "fastestdet";
  auto metric = CreateMetric(config);
  ASSERT_TRUE(metric.ok()) << metric.status().ToString();
  const double start = test::ThreadCpuMs();  // CPU time: wall time on a loaded machine measures the neighbours
  auto result = Evaluate(ort_outputs, BatchesFrom(std::move(batches)), **metric);
  const double ms_per_image = (test::ThreadCpuMs() - start) / ids.size();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const double map50 = result->value, map50_95 = result->details.at("map50_95");

  // 4. The independent computation on the same input tensors.
  auto node = act::test::RunCommand("node " + Quote(act::test::RepoPath("tests/ort/fastestdet_map.js")) +
                                    " --model " + Quote(model) + " --inputs " + Quote(inputs_dir) +
                                    " --annotations " + Quote(annotations));
  ASSERT_EQ(node.exit_code, 0) << node.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(node.out, m, std::regex(R"(map50=([0-9.]+) map50_95=([0-9.]+) n_images=(\d+))")))
      << node.out;
  const double node_map50 = std::stod(m[1]), node_map50_95 = std::stod(m[2]);
  EXPECT_EQ(std::stoi(m[3]), 128);

  std::printf("coco128 FastestDet: ours map50=%.4f map50_95=%.4f (%d classes, %.0f detections); "
              "fastestdet_map.js map50=%.4f map50_95=%.4f; metric CPU time %.3f ms/image\n",
              map50, map50_95, static_cast<int>(result->details.at("classes")), result->details.at("detections"),
              node_map50, node_map50_95, ms_per_image);
  RecordProperty("map50", std::to_string(map50));
  RecordProperty("map50_95", std::to_string(map50_95));
  RecordProperty("node_map50", std::to_string(node_map50));
  RecordProperty("node_map50_95", std::to_string(node_map50_95));
  RecordProperty("metric_cpu_ms_per_image", std::to_string(ms_per_image));

  // The acceptance line: 0.005 absolute (the Node script prints 4 decimals, ±0.00005).
  EXPECT_NEAR(map50, node_map50, 0.005);
  EXPECT_NEAR(map50_95, node_map50_95, 0.005);
  EXPECT_EQ(result->details.at("classes"), 71);  // categories with boxes in coco128 (tests/ort/README.md)
  EXPECT_EQ(result->samples, 128);
  // Sanity: ../shared/data/README.md quotes "about 0.30" for a simple 101-point mAP@0.5.
  EXPECT_GT(map50, 0.25);
  EXPECT_LT(map50, 0.36);
  // Decoding, NMS and matching (and the "model", a copy) well under a millisecond of CPU per image.
  EXPECT_LT(ms_per_image, 1.0);
  fs::remove_all(work);
}

}  // namespace
}  // namespace act::metrics
