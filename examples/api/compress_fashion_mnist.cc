// Compressing the bundled Fashion-MNIST CNN through the C++ API (include/act/act.h), with the data set
// and the evaluation written in code — the way a C++ application that already has its data would do it.
//
//   build/examples/api/compress_fashion_mnist [MODEL] [SAVE_DIR]
//     MODEL     default examples/fashion_mnist/fashion_cnn.onnx
//     SAVE_DIR  default out/fashion_mnist_api
// Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist): calibration on 1,000 training
// images, evaluation (our callback: top-1 accuracy) on the 10,000 test images.
#include <zlib.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "act/act.h"

namespace {

const char kDataDir[] = "/usr/share/datasets/fashion-mnist/";

// Reads a whole gzip (or plain) file.
act::Expected<std::string> ReadGz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return act::NotFound(path + ": cannot open (install Debian's dataset-fashion-mnist)");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, n);
  gzclose(f);
  return out;
}

// An IDX image file with its labels as an act::data::Dataset: pixel/255, then (x-0.5)/0.5, [1,1,28,28].
class FashionMnist : public act::data::Dataset {
 public:
  static act::Expected<std::shared_ptr<FashionMnist>> Load(const std::string& prefix, int64_t first, int64_t count) {
    auto d = std::make_shared<FashionMnist>();
    ACT_ASSIGN_OR_RETURN(d->images_, ReadGz(prefix + "-images-idx3-ubyte.gz"));
    ACT_ASSIGN_OR_RETURN(d->labels_, ReadGz(prefix + "-labels-idx1-ubyte.gz"));
    const int64_t available = static_cast<int64_t>(d->labels_.size()) - 8;
    if (d->images_.size() < 16 || available <= first) return act::InvalidInput(prefix + ": not an IDX pair");
    d->first_ = first;
    d->count_ = std::min(count, available - first);
    return d;
  }
  int64_t size() const override { return count_; }
  std::string Describe() const override { return "Fashion-MNIST (in code)"; }
  act::Expected<act::data::Sample> Get(int64_t index) const override {
    const int64_t i = first_ + index;
    std::vector<float> pixels(28 * 28);
    for (int k = 0; k < 28 * 28; ++k) {
      const float x = static_cast<unsigned char>(images_[16 + i * 784 + k]) / 255.0f;
      pixels[k] = (x - 0.5f) / 0.5f;
    }
    act::data::Sample sample;
    sample.inputs["input"] = act::Tensor::FromVector<float>({1, 1, 28, 28}, pixels);
    act::data::Label label;
    label.class_id = static_cast<unsigned char>(labels_[8 + i]);
    sample.label = label;
    return sample;
  }

 private:
  std::string images_, labels_;
  int64_t first_ = 0, count_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "examples/fashion_mnist/fashion_cnn.onnx";
  const std::string save_dir = argc > 2 ? argv[2] : "out/fashion_mnist_api";
  auto calibration = FashionMnist::Load(std::string(kDataDir) + "train", 0, 1000);
  auto test = FashionMnist::Load(std::string(kDataDir) + "t10k", 0, 10000);
  if (!calibration.ok() || !test.ok()) {
    std::fprintf(stderr, "%s\n", (calibration.ok() ? test.status() : calibration.status()).message().c_str());
    return 2;
  }

  // The config, built in code: PTQ with ACT's QuantPost keys, at most 0.2 points of accuracy to lose.
  act::config::Config config;
  config.global.deploy_hardware = "x86_vnni";
  config.global.max_metric_loss = 0.002;
  act::config::QuantPostConfig quant_post;
  quant_post.algo = "hist";
  quant_post.hist_percent = 0.9999;
  quant_post.batch_size = 50;
  quant_post.batch_nums = 20;
  config.quant_post = quant_post;

  // The evaluation, as ACT's eval_callback: top-1 accuracy of a candidate over the test images.
  std::shared_ptr<FashionMnist> test_set = *test;
  auto top1 = [test_set](const act::RunModelFn& run) -> act::Expected<double> {
    int64_t correct = 0;
    const int64_t batch = 500;
    for (int64_t start = 0; start < test_set->size(); start += batch) {
      const int64_t n = std::min(batch, test_set->size() - start);
      std::vector<float> pixels;
      std::vector<int64_t> labels;
      for (int64_t i = 0; i < n; ++i) {
        ACT_ASSIGN_OR_RETURN(act::data::Sample s, test_set->Get(start + i));
        const act::Tensor& t = s.inputs.at("input");
        pixels.insert(pixels.end(), t.data<float>(), t.data<float>() + t.numel());
        labels.push_back(s.label->class_id);
      }
      ACT_ASSIGN_OR_RETURN(auto outputs, run({{"input", act::Tensor::FromVector<float>({n, 1, 28, 28}, pixels)}}));
      const act::Tensor& logits = outputs.begin()->second;
      const int64_t classes = logits.numel() / n;
      for (int64_t i = 0; i < n; ++i) {
        const float* row = logits.data<float>() + i * classes;
        int64_t best = 0;
        for (int64_t c = 1; c < classes; ++c) best = row[c] > row[best] ? c : best;
        correct += best == labels[i];
      }
    }
    return static_cast<double>(correct) / test_set->size();
  };

  act::Options options;
  options.model_path = model;
  options.save_dir = save_dir;
  options.config = config;
  options.train_data = *calibration;
  options.eval_runner_callback = top1;

  act::AutoCompression ac(options);
  act::Expected<act::Report> report = ac.Compress();
  if (!report.ok()) {
    std::fprintf(stderr, "compress: %s\n", report.status().message().c_str());
    return report.status().ExitCode();
  }
  std::printf("wrote %s\n", report->output_model.c_str());
  std::printf("top1 fp32=%.4f int8=%.4f size_ratio=%.4f (%lld -> %lld bytes)\n", report->fp32_metric,
              report->int8_metric, report->size_ratio, static_cast<long long>(report->fp32_bytes),
              static_cast<long long>(report->int8_bytes));
  return report->within_budget ? 0 : 1;
}
