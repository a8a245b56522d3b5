#include "core/npy.h"

#include <cstring>
#include <regex>

#include "core/file_util.h"

namespace act {
namespace {

struct NpyType { const char* descr; DType dtype; };
constexpr NpyType kNpyTypes[] = {
    {"<f4", DType::kFloat32}, {"<f8", DType::kFloat64}, {"<i8", DType::kInt64}, {"<i4", DType::kInt32},
    {"<i2", DType::kInt16},   {"|i1", DType::kInt8},    {"|u1", DType::kUInt8}, {"|b1", DType::kBool},
    {"<u2", DType::kUInt16},  {"<u4", DType::kUInt32},  {"<u8", DType::kUInt64}, {"<f2", DType::kFloat16},
};

}  // namespace

Expected<Tensor> ParseNpy(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    return InvalidInput(name + ": not a .npy file (missing \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return InvalidInput(name + ": truncated .npy header");
    uint32_t len;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    offset = 12;
  } else {
    return Unsupported(name + ": .npy format version " + std::to_string(major) + " is not supported");
  }
  if (offset + header_len > bytes.size()) return InvalidInput(name + ": truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'"))) {
    return InvalidInput(name + ": .npy header has no 'descr'");
  }
  std::string descr = m[1];
  if (descr == "<b1" || descr == "|b1") descr = "|b1";
  if (descr == "<i1") descr = "|i1";
  if (descr == "<u1") descr = "|u1";
  DType dtype = DType::kUndefined;
  for (const auto& t : kNpyTypes) if (descr == t.descr) dtype = t.dtype;
  if (dtype == DType::kUndefined) return Unsupported(name + ": .npy dtype '" + descr + "' is not supported");
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True"))) {
    return Unsupported(name + ": Fortran-ordered .npy arrays are not supported; save with C order");
  }
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) {
    return InvalidInput(name + ": .npy header has no 'shape'");
  }
  Shape shape;
  const std::string dims = m[1];
  const std::regex number("\\d+");
  std::sregex_iterator it(dims.begin(), dims.end(), number), end;
  for (; it != end; ++it) shape.push_back(std::stoll(it->str()));
  const size_t data_offset = offset + header_len;
  const size_t expected = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  if (bytes.size() - data_offset < expected) {
    return InvalidInput(name + ": .npy data is truncated: expected " + std::to_string(expected) + " bytes for " +
                        DTypeName(dtype) + ShapeToString(shape) + ", found " +
                        std::to_string(bytes.size() - data_offset));
  }
  return Tensor::FromBytes(dtype, shape, bytes.data() + data_offset, expected);
}

Expected<Tensor> ReadNpy(const std::string& path) {
  ACT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return ParseNpy(bytes, path);
}

std::string SerializeNpy(const Tensor& tensor) {
  const char* descr = "<f4";
  for (const auto& t : kNpyTypes) if (t.dtype == tensor.dtype()) descr = t.descr;
  std::string shape;
  for (int64_t d : tensor.shape()) shape += std::to_string(d) + ",";
  if (tensor.rank() > 1) shape.pop_back();
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  return out;
}

Status WriteNpy(const std::string& path, const Tensor& tensor) { return AtomicWriteFile(path, SerializeNpy(tensor)); }

}  // namespace act
