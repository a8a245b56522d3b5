#include "data/transforms.h"

#include <cmath>

namespace act::data {
namespace {

using Kind = config::TransformConfig::Kind;

Image Pad(const Image& src, int64_t height, int64_t width, int64_t top, int64_t left, float value) {
  Image dst;
  dst.height = height;
  dst.width = width;
  dst.channels = src.channels;
  dst.order = src.order;
  dst.pixels.assign(static_cast<size_t>(height * width * src.channels), value);
  for (int64_t y = 0; y < src.height; ++y) {
    for (int64_t x = 0; x < src.width; ++x) {
      for (int64_t c = 0; c < src.channels; ++c) dst.at(y + top, x + left, c) = src.at(y, x, c);
    }
  }
  return dst;
}

Image ApplyResize(const Image& img, const config::TransformConfig& t) {
  const int64_t h = t.size[0], w = t.size[1];
  const bool antialias = t.interpolation == "bilinear_antialias";
  const float pad = static_cast<float>(t.pad_value);
  if (t.mode == "keep_aspect_pad") {
    const double r = std::min(static_cast<double>(h) / img.height, static_cast<double>(w) / img.width);
    const int64_t nh = std::max<int64_t>(1, std::min<int64_t>(h, std::llround(img.height * r)));
    const int64_t nw = std::max<int64_t>(1, std::min<int64_t>(w, static_cast<int64_t>(std::ceil(img.width * r - 1e-9))));
    return Pad(Resize(img, nh, nw, antialias), h, w, 0, 0, pad);
  }
  if (t.mode == "letterbox") {
    const double r = std::min(static_cast<double>(h) / img.height, static_cast<double>(w) / img.width);
    const int64_t nh = std::max<int64_t>(1, std::min<int64_t>(h, std::llround(img.height * r)));
    const int64_t nw = std::max<int64_t>(1, std::min<int64_t>(w, std::llround(img.width * r)));
    return Pad(Resize(img, nh, nw, antialias), h, w, (h - nh) / 2, (w - nw) / 2, pad);
  }
  return Resize(img, h, w, antialias);
}

Expected<Image> ApplyColor(Image img, const std::string& color, const std::string& where) {
  const ColorOrder target = color == "bgr" ? ColorOrder::kBgr : color == "rgb" ? ColorOrder::kRgb : ColorOrder::kGray;
  if (img.order == target) return img;
  const int64_t n = img.height * img.width;
  if (img.order == ColorOrder::kGray) {  // grey → 3 equal channels
    Image out = img;
    out.channels = 3;
    out.order = target;
    out.pixels.resize(static_cast<size_t>(n * 3));
    for (int64_t i = 0; i < n; ++i) {
      for (int c = 0; c < 3; ++c) out.pixels[i * 3 + c] = img.pixels[i];
    }
    return out;
  }
  if (img.channels != 3) return Internal(where + ": colour conversion of a " + std::to_string(img.channels) + "-channel image");
  if (target == ColorOrder::kGray) {
    Image out = img;
    out.channels = 1;
    out.order = ColorOrder::kGray;
    out.pixels.resize(static_cast<size_t>(n));
    const int r = img.order == ColorOrder::kRgb ? 0 : 2, b = 2 - r;
    for (int64_t i = 0; i < n; ++i) {
      out.pixels[i] = 0.299f * img.pixels[i * 3 + r] + 0.587f * img.pixels[i * 3 + 1] + 0.114f * img.pixels[i * 3 + b];
    }
    return out;
  }
  for (int64_t i = 0; i < n; ++i) std::swap(img.pixels[i * 3], img.pixels[i * 3 + 2]);  // RGB ↔ BGR
  img.order = target;
  return img;
}

Expected<Image> ApplyNormalize(Image img, const config::TransformConfig& t, const std::string& where,
                               const std::string& name) {
  const int64_t c_count = img.channels;
  for (const auto* values : {&t.mean, &t.std}) {
    if (values->size() > 1 && static_cast<int64_t>(values->size()) != c_count) {
      return InvalidInput(where + ": normalize has " + std::to_string(values->size()) + " mean/std values but " +
                          name + " has " + std::to_string(c_count) + " channels at that step; give 1 or " +
                          std::to_string(c_count) + " values (or add a `color` transform before it)");
    }
  }
  const float scale = static_cast<float>(t.scale);
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    const size_t c = i % static_cast<size_t>(c_count);
    float v = img.pixels[i] * scale;
    if (!t.mean.empty()) v -= static_cast<float>(t.mean.size() == 1 ? t.mean[0] : t.mean[c]);
    if (!t.std.empty()) v /= static_cast<float>(t.std.size() == 1 ? t.std[0] : t.std[c]);
    img.pixels[i] = v;
  }
  return img;
}

}  // namespace

Expected<ImageTransforms> ImageTransforms::Create(const std::vector<config::TransformConfig>& transforms,
                                                  const std::string& where) {
  ImageTransforms t;
  t.transforms_ = transforms;
  t.where_ = where;
  for (const auto& tr : transforms) {
    if (tr.kind == Kind::kLayout) t.nhwc_ = tr.layout == "nhwc";
    if ((tr.kind == Kind::kResize || tr.kind == Kind::kCenterCrop) &&
        (tr.size.size() != 2 || tr.size[0] <= 0 || tr.size[1] <= 0)) {
      return InvalidInput(where + ": resize/center_crop needs size [height, width] with positive values");
    }
  }
  return t;
}

Expected<Image> ImageTransforms::ApplyToImage(Image image, const std::string& name) const {
  for (size_t i = 0; i < transforms_.size(); ++i) {
    const auto& t = transforms_[i];
    const std::string where = where_ + "[" + std::to_string(i) + "]";
    switch (t.kind) {
      case Kind::kResize:
        image = ApplyResize(image, t);
        break;
      case Kind::kCenterCrop: {
        const int64_t h = t.size[0], w = t.size[1];
        if (h > image.height || w > image.width) {
          return InvalidInput(where + ": center_crop " + std::to_string(h) + "x" + std::to_string(w) +
                              " is larger than " + name + " (" + std::to_string(image.height) + "x" +
                              std::to_string(image.width) + " at that step); resize first");
        }
        const int64_t top = (image.height - h) / 2, left = (image.width - w) / 2;
        Image out;
        out.height = h;
        out.width = w;
        out.channels = image.channels;
        out.order = image.order;
        out.pixels.resize(static_cast<size_t>(h * w * image.channels));
        for (int64_t y = 0; y < h; ++y) {
          for (int64_t x = 0; x < w; ++x) {
            for (int64_t c = 0; c < image.channels; ++c) out.at(y, x, c) = image.at(y + top, x + left, c);
          }
        }
        image = std::move(out);
        break;
      }
      case Kind::kColor: {
        ACT_ASSIGN_OR_RETURN(image, ApplyColor(std::move(image), t.color, where));
        break;
      }
      case Kind::kNormalize: {
        ACT_ASSIGN_OR_RETURN(image, ApplyNormalize(std::move(image), t, where, name));
        break;
      }
      case Kind::kLayout:
        break;  // applied when packing
    }
  }
  return image;
}

Expected<Tensor> ImageTransforms::Apply(Image image, const std::string& name) const {
  ACT_ASSIGN_OR_RETURN(Image out, ApplyToImage(std::move(image), name));
  return ImageToTensor(out, nhwc_);
}

Tensor ImageToTensor(const Image& image, bool nhwc) {
  const int64_t h = image.height, w = image.width, c = image.channels;
  if (nhwc) return Tensor::FromVector<float>({1, h, w, c}, image.pixels);
  Tensor t(DType::kFloat32, {1, c, h, w});
  float* out = t.data<float>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int64_t k = 0; k < c; ++k) out[(k * h + y) * w + x] = image.at(y, x, k);
    }
  }
  return t;
}

}  // namespace act::data
