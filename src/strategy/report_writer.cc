#include "strategy/report_writer.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace act::strategy {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Num(double v, const char* fmt = "%.4f") {
  char buf[48];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

}  // namespace

std::string ReportToJson(const Report& r) {
  nlohmann::json j;
  j["format"] = "onnx-act report";
  j["version"] = 1;
  j["model"] = r.model;
  j["output_model"] = r.output_model;
  j["metric"] = {{"name", r.metric_name},
                 {"higher_is_better", r.higher_is_better},
                 {"fp32", r.fp32_metric},
                 {"int8", r.int8_metric},
                 {"loss", r.higher_is_better ? r.fp32_metric - r.int8_metric : r.int8_metric - r.fp32_metric},
                 {"max_metric_loss", r.max_metric_loss},
                 {"within_budget", r.within_budget},
                 {"measured_with", r.measured_with}};
  j["size"] = {{"fp32_bytes", r.fp32_bytes}, {"int8_bytes", r.int8_bytes}, {"ratio", r.size_ratio}};
  j["deploy_hardware"] = r.deploy_hardware;
  j["scheme"] = r.scheme;
  j["strategies"] = r.strategies;
  j["chosen"] = {{"strategy", r.chosen_strategy}, {"params", r.chosen_params}};
  nlohmann::json trials = nlohmann::json::array();
  for (const auto& t : r.trials) {
    trials.push_back({{"strategy", t.strategy}, {"name", t.name}, {"params", t.params}, {"metric", t.metric},
                      {"loss", t.loss}, {"seconds", t.seconds}, {"chosen", t.chosen}});
  }
  j["trials"] = trials;
  j["decisions"] = r.decisions;
  j["warnings"] = r.warnings;
  j["quantized_nodes"] = r.quantized_nodes;
  j["fp32_nodes"] = r.fp32_nodes;
  j["output_op_counts"] = r.output_op_counts;
  j["timing"] = {{"calibration_seconds", r.calibration_seconds}, {"total_seconds", r.total_seconds}};
  return j.dump(2) + "\n";
}

std::string ReportToHtml(const Report& r) {
  std::string h;
  h += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>onnx-act report</title>\n<style>"
       "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
       "td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}tr.chosen{background:#dfd}"
       ".warn{color:#a00}</style></head><body>\n";
  h += "<h1>onnx-act compression report</h1>\n<table>\n";
  auto row = [&](const std::string& k, const std::string& v) {
    h += "<tr><th>" + Escape(k) + "</th><td>" + Escape(v) + "</td></tr>\n";
  };
  row("model", r.model);
  row("output", r.output_model);
  row("metric", r.metric_name + (r.higher_is_better ? " (higher is better)" : " (lower is better)"));
  row("FP32", Num(r.fp32_metric));
  row("INT8 (written model)", Num(r.int8_metric) + ", measured with " + r.measured_with);
  row("budget", "max_metric_loss " + Num(r.max_metric_loss) + (r.within_budget ? ": met" : ": NOT met"));
  row("size", std::to_string(r.fp32_bytes) + " → " + std::to_string(r.int8_bytes) + " bytes (" +
                  Num(100 * r.size_ratio, "%.1f") + "%)");
  row("scheme", r.scheme);
  row("chosen", r.chosen_strategy);
  row("time", Num(r.total_seconds, "%.1f") + " s (calibration " + Num(r.calibration_seconds, "%.1f") + " s)");
  h += "</table>\n";
  if (!r.warnings.empty()) {
    h += "<h2>Warnings</h2><ul>\n";
    for (const auto& w : r.warnings) h += "<li class=\"warn\">" + Escape(w) + "</li>\n";
    h += "</ul>\n";
  }
  h += "<h2>Trials</h2>\n<table><tr><th>strategy</th><th>trial</th><th>parameters</th><th>metric</th>"
       "<th>loss</th><th>s</th></tr>\n";
  for (const auto& t : r.trials) {
    std::string params;
    for (const auto& [k, v] : t.params) params += (params.empty() ? "" : ", ") + k + "=" + v;
    h += std::string("<tr") + (t.chosen ? " class=\"chosen\"" : "") + "><td>" + Escape(t.strategy) + "</td><td>" +
         Escape(t.name) + "</td><td>" + Escape(params) + "</td><td>" + Num(t.metric) + "</td><td>" + Num(t.loss) +
         "</td><td>" + Num(t.seconds, "%.1f") + "</td></tr>\n";
  }
  h += "</table>\n<h2>Decisions</h2><ol>\n";
  for (const auto& d : r.decisions) h += "<li>" + Escape(d) + "</li>\n";
  h += "</ol>\n<h2>Layers kept in FP32</h2><ul>\n";
  for (const auto& n : r.fp32_nodes) h += "<li>" + Escape(n) + "</li>\n";
  if (r.fp32_nodes.empty()) h += "<li>none</li>\n";
  h += "</ul>\n<h2>Ops of the written model</h2><p>";
  for (const auto& [op, n] : r.output_op_counts) h += Escape(op) + "=" + std::to_string(n) + " ";
  h += "</p>\n</body></html>\n";
  return h;
}

}  // namespace act::strategy
