// Images between decoding and the model input tensor: float pixels, HWC, values as decoded (0..255)
// until a normalize transform rescales them. Decoding goes through stb_image (JPEG, PNG, BMP, GIF, TGA,
// PNM, PSD, HDR); every image is decoded to 3-channel RGB (grey images replicate their channel, alpha is
// dropped), as PIL's convert('RGB') does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "act/status.h"

namespace act::data {

enum class ColorOrder { kRgb, kBgr, kGray };

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  ColorOrder order = ColorOrder::kRgb;
  std::vector<float> pixels;  // HWC, row-major: pixels[(y * width + x) * channels + c]

  float& at(int64_t y, int64_t x, int64_t c) { return pixels[(y * width + x) * channels + c]; }
  float at(int64_t y, int64_t x, int64_t c) const { return pixels[(y * width + x) * channels + c]; }
};

// Decodes the file at `path` to RGB. Errors name the file and say why (missing, unreadable, not an image).
Expected<Image> DecodeImageFile(const std::string& path);
// Decodes image bytes held in memory; `name` is used in messages.
Expected<Image> DecodeImageBytes(const std::string& bytes, const std::string& name);
// A grey image from 8-bit pixels (IDX data sets).
Image GrayImage(const uint8_t* pixels, int64_t height, int64_t width);

// Separable resampling with the triangle (bilinear) filter, the way PIL computes it: output pixel i samples
// around centre (i + 0.5) * in/out; the filter's support widens by the down-scaling factor when `antialias`
// (PIL's BILINEAR), and stays 1 otherwise (then it equals OpenCV's INTER_LINEAR with half-pixel centres).
// Weights are normalised over the taps inside the image. Width first, then height. With `round_to_uint8`,
// each pass rounds to 0..255 with PIL's 22-bit fixed-point weights, so 8-bit images resample bit-exactly as
// PIL's Image.resize does.
Image Resize(const Image& src, int64_t out_height, int64_t out_width, bool antialias, bool round_to_uint8 = false);

}  // namespace act::data
