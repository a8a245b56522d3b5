#include "distill/checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "core/file_util.h"

namespace act::distill {

Status SaveCheckpoint(const std::string& path, const Checkpoint& checkpoint) {
  nlohmann::json header;
  header["format"] = "onnx-act checkpoint";
  header["version"] = 1;
  header["step"] = checkpoint.step;
  header["best_step"] = checkpoint.best_step;
  header["best_metric"] = checkpoint.best_metric;
  header["tensors"] = nlohmann::json::array();
  std::string data;
  for (const auto& [name, t] : checkpoint.tensors) {
    at::Tensor c = t.detach().to(at::kFloat).contiguous();
    nlohmann::json e;
    e["name"] = name;
    e["shape"] = std::vector<int64_t>(c.sizes().begin(), c.sizes().end());
    e["offset"] = data.size();
    header["tensors"].push_back(e);
    data.append(reinterpret_cast<const char*>(c.data_ptr<float>()), static_cast<size_t>(c.numel()) * sizeof(float));
  }
  return AtomicWriteFile(path, header.dump() + "\n" + data);
}

Expected<Checkpoint> LoadCheckpoint(const std::string& path) {
  ACT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  const size_t newline = bytes.find('\n');
  auto bad = [&](const std::string& what) {
    return InvalidInput("checkpoint " + path + ": " + what + " (delete it to start afresh)");
  };
  if (newline == std::string::npos) return bad("no header line");
  nlohmann::json header = nlohmann::json::parse(bytes.substr(0, newline), nullptr, false);
  if (header.is_discarded() || header.value("format", "") != "onnx-act checkpoint") return bad("not an onnx-act checkpoint");
  Checkpoint c;
  c.step = header.value("step", int64_t{0});
  c.best_step = header.value("best_step", int64_t{-1});
  c.best_metric = header.value("best_metric", 0.0);
  const size_t base = newline + 1;
  for (const auto& e : header["tensors"]) {
    const std::vector<int64_t> shape = e["shape"].get<std::vector<int64_t>>();
    const size_t offset = e["offset"].get<size_t>();
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    if (base + offset + static_cast<size_t>(numel) * sizeof(float) > bytes.size()) return bad("truncated data");
    at::Tensor t = at::empty(shape, at::kFloat);
    std::memcpy(t.data_ptr<float>(), bytes.data() + base + offset, static_cast<size_t>(numel) * sizeof(float));
    c.tensors[e["name"].get<std::string>()] = t;
  }
  return c;
}

}  // namespace act::distill
