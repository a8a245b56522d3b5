// act::AutoCompression: the public two-line API over the strategy pipeline (src/strategy/pipeline.h).
// Nothing here throws: library errors come back as Status, and an exception escaping a user callback or
// a dependency is turned into an Internal status naming it.
#include <exception>

#include "act/act.h"
#include "strategy/pipeline.h"

namespace act {

AutoCompression::AutoCompression(Options options) : options_(std::move(options)) {}
AutoCompression::~AutoCompression() = default;

Expected<Report> AutoCompression::Compress() {
  try {
    return strategy::RunPipeline(options_);
  } catch (const std::exception& e) {
    return Internal(std::string("compression stopped by an exception: ") + e.what());
  } catch (...) {
    return Internal("compression stopped by an unknown exception");
  }
}

}  // namespace act
