// report.json and report.html (DESIGN.md §7): every trial, the metrics of the FP32 and written INT8
// models and the engine that measured them, sizes, what was kept in FP32 and why, and every decision.
#pragma once

#include <string>

#include "act/act.h"

namespace act::strategy {

std::string ReportToJson(const Report& report);
// A single self-contained page (no scripts, no external files).
std::string ReportToHtml(const Report& report);

}  // namespace act::strategy
