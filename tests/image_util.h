// Test-only image helpers: decode with stb (static, so it never clashes with src/data's copy), bilinear
// resize and conversion to a normalised NCHW tensor. Tests use them to feed real pictures to models.
#pragma once

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#undef STB_IMAGE_IMPLEMENTATION

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "act/tensor.h"

namespace act::test {

struct Image {
  int width = 0, height = 0;
  std::vector<float> rgb;  // height * width * 3, values 0..255
};

inline Image LoadImageRgb(const std::string& path) {
  Image img;
  int channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &img.width, &img.height, &channels, 3);
  if (!data) return img;
  img.rgb.assign(data, data + static_cast<size_t>(img.width) * img.height * 3);
  stbi_image_free(data);
  return img;
}

// Bilinear resize with half-pixel centres (what OpenCV's INTER_LINEAR does).
inline Image Resize(const Image& src, int width, int height) {
  Image dst{width, height, std::vector<float>(static_cast<size_t>(width) * height * 3)};
  const float sx = static_cast<float>(src.width) / width, sy = static_cast<float>(src.height) / height;
  for (int y = 0; y < height; ++y) {
    const float fy = std::max(0.0f, (y + 0.5f) * sy - 0.5f);
    const int y0 = std::min(static_cast<int>(fy), src.height - 1), y1 = std::min(y0 + 1, src.height - 1);
    const float wy = fy - y0;
    for (int x = 0; x < width; ++x) {
      const float fx = std::max(0.0f, (x + 0.5f) * sx - 0.5f);
      const int x0 = std::min(static_cast<int>(fx), src.width - 1), x1 = std::min(x0 + 1, src.width - 1);
      const float wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        auto at = [&](int yy, int xx) { return src.rgb[(static_cast<size_t>(yy) * src.width + xx) * 3 + c]; };
        dst.rgb[(static_cast<size_t>(y) * width + x) * 3 + c] =
            (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
      }
    }
  }
  return dst;
}

// [1,3,H,W] float: ((pixel * scale) - mean[c]) / std[c], channels in RGB or BGR order, right-padded with
// `pad_value` up to `padded_width` (0 = no padding).
inline Tensor ToNchw(const Image& img, bool bgr, float scale, std::array<float, 3> mean, std::array<float, 3> stdev,
                     int padded_width = 0, float pad_value = 0.0f) {
  const int out_w = std::max(padded_width, img.width);
  Tensor t(DType::kFloat32, {1, 3, img.height, out_w});
  float* p = t.data<float>();
  for (int c = 0; c < 3; ++c) {
    const int src_c = bgr ? 2 - c : c;
    for (int y = 0; y < img.height; ++y) {
      for (int x = 0; x < out_w; ++x) {
        float v = pad_value;
        if (x < img.width) v = (img.rgb[(static_cast<size_t>(y) * img.width + x) * 3 + src_c] * scale - mean[c]) / stdev[c];
        p[(static_cast<size_t>(c) * img.height + y) * out_w + x] = v;
      }
    }
  }
  return t;
}

// The first `count` images of a gzip'd IDX image file as [count,1,rows,cols] floats, (x/255 - 0.5)/0.5.
inline Tensor LoadIdxImages(const std::string& path, int count) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return Tensor();
  unsigned char header[16];
  gzread(f, header, 16);
  auto be32 = [&](int o) { return (header[o] << 24) | (header[o + 1] << 16) | (header[o + 2] << 8) | header[o + 3]; };
  const int rows = be32(8), cols = be32(12);
  std::vector<unsigned char> pixels(static_cast<size_t>(count) * rows * cols);
  gzread(f, pixels.data(), static_cast<unsigned>(pixels.size()));
  gzclose(f);
  Tensor t(DType::kFloat32, {count, 1, rows, cols});
  for (size_t i = 0; i < pixels.size(); ++i) t.data<float>()[i] = (pixels[i] / 255.0f - 0.5f) / 0.5f;
  return t;
}

}  // namespace act::test
