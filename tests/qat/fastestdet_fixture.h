// What the FastestDet QAT tests share: coco128 as FastestDet reads it (images stretched to 352x352, BGR,
// /255, input "input.1"), and ORT run over a folder of per-image inputs.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "act/config.h"
#include "core/file_util.h"
#include "core/npy.h"
#include "test_support.h"

namespace act::test {

inline config::DatasetConfig Coco128(const std::string& images, const std::string& annotations) {
  config::DatasetConfig c;
  c.type = "coco";
  c.key_path = "test";
  c.input_name = "input.1";
  c.images = images;
  c.annotations = annotations;
  config::TransformConfig resize, color, normalize;
  resize.kind = config::TransformConfig::Kind::kResize;
  resize.size = {352, 352};
  resize.mode = "stretch";
  color.kind = config::TransformConfig::Kind::kColor;
  color.color = "bgr";
  normalize.kind = config::TransformConfig::Kind::kNormalize;
  normalize.scale = 1.0 / 255;
  c.transforms = {resize, color, normalize};
  return c;
}

// ORT over BATCH/<i>/input.1.npy for i < n (one session, tests/ort/run.js --batch-dir): every output of
// every run, by name.
inline Expected<std::vector<std::map<std::string, Tensor>>> RunOrtImages(const std::string& model,
                                                                         const std::string& batch_dir, size_t n,
                                                                         const std::string& out_dir,
                                                                         const std::string& opt, int threads) {
  std::filesystem::remove_all(out_dir);
  auto run = RunCommand("node " + ShellQuote(RepoPath("tests/ort/run.js")) + " --model " + ShellQuote(model) +
                        " --batch-dir " + ShellQuote(batch_dir) + " --output-dir " + ShellQuote(out_dir) +
                        " --threads " + std::to_string(threads) + " --opt " + opt);
  if (run.exit_code != 0) return Failure("run.js on " + model + ": " + run.err);
  std::vector<std::map<std::string, Tensor>> outputs;
  for (size_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%04d", static_cast<int>(i));
    const std::string dir = out_dir + "/" + name;
    ACT_ASSIGN_OR_RETURN(std::string index, ReadFileToString(dir + "/outputs.json"));
    std::map<std::string, Tensor> m;
    const auto files = nlohmann::json::parse(index);
    for (auto it = files.begin(); it != files.end(); ++it) {
      ACT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(dir + "/" + it.value().get<std::string>()));
      m[it.key()] = std::move(t);
    }
    outputs.push_back(std::move(m));
  }
  return outputs;
}

}  // namespace act::test
