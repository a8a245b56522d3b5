#include "data/image.h"

#include <algorithm>
#include <cmath>

#include "core/file_util.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO_WARNINGS
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace act::data {

Expected<Image> DecodeImageBytes(const std::string& bytes, const std::string& name) {
  int w = 0, h = 0, n = 0;
  // stbi_failure_reason is a global: decode through this one function so the reason read is ours (the
  // loader decodes on one background thread).
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                              static_cast<int>(bytes.size()), &w, &h, &n, 3);
  if (data == nullptr) {
    return InvalidInput(name + ": cannot decode image (" + std::string(stbi_failure_reason()) +
                        "); expected a JPEG, PNG, BMP, GIF, TGA or PNM file");
  }
  Image image;
  image.height = h;
  image.width = w;
  image.channels = 3;
  image.order = ColorOrder::kRgb;
  image.pixels.assign(data, data + static_cast<size_t>(w) * h * 3);
  stbi_image_free(data);
  return image;
}

Expected<Image> DecodeImageFile(const std::string& path) {
  if (!FileExists(path)) return NotFound(path + ": image file not found");
  Expected<std::string> bytes = ReadFileToString(path);
  if (!bytes.ok()) return bytes.status();
  return DecodeImageBytes(*bytes, path);
}

Image GrayImage(const uint8_t* pixels, int64_t height, int64_t width) {
  Image image;
  image.height = height;
  image.width = width;
  image.channels = 1;
  image.order = ColorOrder::kGray;
  image.pixels.assign(pixels, pixels + height * width);
  return image;
}

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's fixed-point weights

// Per output index: the first input tap and the normalised weights (PIL's precompute_coeffs, bilinear).
struct Taps {
  std::vector<int64_t> first;
  std::vector<std::vector<double>> weights;
  std::vector<std::vector<int32_t>> fixed;
};

Taps ComputeTaps(int64_t in_size, int64_t out_size, bool antialias) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = antialias ? std::max(scale, 1.0) : 1.0;
  const double support = 1.0 * filterscale;  // triangle filter: support 1
  Taps taps;
  for (int64_t i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    int64_t lo = static_cast<int64_t>(center - support + 0.5);  // C truncation, as PIL
    if (lo < 0) lo = 0;
    int64_t hi = static_cast<int64_t>(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    std::vector<double> w;
    double sum = 0;
    for (int64_t x = lo; x < hi; ++x) {
      double t = std::fabs((x - center + 0.5) / filterscale);
      double v = t < 1.0 ? 1.0 - t : 0.0;
      w.push_back(v);
      sum += v;
    }
    if (sum != 0.0) {
      for (double& v : w) v /= sum;
    }
    std::vector<int32_t> f;
    for (double v : w) {
      f.push_back(static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits)));
    }
    taps.first.push_back(lo);
    taps.weights.push_back(std::move(w));
    taps.fixed.push_back(std::move(f));
  }
  return taps;
}

float ClipFixed(int64_t acc) {
  int64_t v = acc >> kPrecisionBits;
  return static_cast<float>(std::clamp<int64_t>(v, 0, 255));
}

// One pass along width (horizontal) or height.
Image ResizeAxis(const Image& src, int64_t out_size, bool horizontal, bool antialias, bool round_to_uint8) {
  const int64_t in_size = horizontal ? src.width : src.height;
  const Taps taps = ComputeTaps(in_size, out_size, antialias);
  Image dst;
  dst.height = horizontal ? src.height : out_size;
  dst.width = horizontal ? out_size : src.width;
  dst.channels = src.channels;
  dst.order = src.order;
  dst.pixels.resize(static_cast<size_t>(dst.height * dst.width * dst.channels));
  for (int64_t y = 0; y < dst.height; ++y) {
    for (int64_t x = 0; x < dst.width; ++x) {
      const int64_t i = horizontal ? x : y;
      for (int64_t c = 0; c < dst.channels; ++c) {
        double acc = 0;
        int64_t acc_fixed = int64_t{1} << (kPrecisionBits - 1);
        for (size_t k = 0; k < taps.weights[i].size(); ++k) {
          const int64_t j = taps.first[i] + static_cast<int64_t>(k);
          const float v = horizontal ? src.at(y, j, c) : src.at(j, x, c);
          if (round_to_uint8) acc_fixed += static_cast<int64_t>(v) * taps.fixed[i][k];
          else acc += v * taps.weights[i][k];
        }
        dst.at(y, x, c) = round_to_uint8 ? ClipFixed(acc_fixed) : static_cast<float>(acc);
      }
    }
  }
  return dst;
}

}  // namespace

Image Resize(const Image& src, int64_t out_height, int64_t out_width, bool antialias, bool round_to_uint8) {
  Image out = src;
  if (out_width != src.width) out = ResizeAxis(out, out_width, /*horizontal=*/true, antialias, round_to_uint8);
  if (out_height != src.height) out = ResizeAxis(out, out_height, /*horizontal=*/false, antialias, round_to_uint8);
  return out;
}

}  // namespace act::data
