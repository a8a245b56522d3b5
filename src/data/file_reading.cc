#include "data/file_reading.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/file_util.h"

namespace act::data {
namespace fs = std::filesystem;

namespace {

// Inflates `in` (`window_bits`: 16 + MAX_WBITS for gzip, -MAX_WBITS for raw deflate).
Expected<std::string> Inflate(const std::string& in, int window_bits, size_t size_hint, const std::string& name) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, window_bits) != Z_OK) return Internal(name + ": zlib inflateInit2 failed");
  std::string out;
  out.resize(std::max<size_t>(size_hint, in.size() * 4 + 1024));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(&out[produced]);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // gzip files may hold several members; continue with the next one if any input is left.
      if (window_bits > 0 && zs.avail_in > 0) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return InvalidInput(name + ": corrupt or truncated compressed data (zlib code " + std::to_string(rc) + ")");
  }
  out.resize(produced);
  return out;
}

uint32_t U32(const std::string& s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint16_t U16(const std::string& s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

}  // namespace

Expected<std::string> ReadMaybeGzip(const std::string& path) {
  if (!FileExists(path)) return NotFound(path + ": file not found");
  Expected<std::string> bytes = ReadFileToString(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& b = *bytes;
  if (b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b) {
    return Inflate(b, 16 + MAX_WBITS, 0, path);  // gzip magic
  }
  return bytes;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

bool IsDirectory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

namespace {
Expected<std::vector<std::string>> List(const std::string& dir, bool folders) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound(dir + ": folder not found");
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (folders ? it->is_directory(ec) : it->is_regular_file(ec)) names.push_back(name);
  }
  if (ec) return Failure(dir + ": cannot list folder: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

Expected<std::vector<std::string>> ListFiles(const std::string& dir) { return List(dir, false); }
Expected<std::vector<std::string>> ListFolders(const std::string& dir) { return List(dir, true); }

Expected<std::map<std::string, std::string>> ReadZipEntries(const std::string& path) {
  if (!FileExists(path)) return NotFound(path + ": file not found");
  ACT_ASSIGN_OR_RETURN(std::string zip, ReadFileToString(path));
  // The end-of-central-directory record: signature 0x06054b50 in the last 64 KiB + 22 bytes.
  size_t eocd = std::string::npos;
  if (zip.size() >= 22) {
    const size_t lowest = zip.size() > 65535 + 22 ? zip.size() - 65535 - 22 : 0;
    for (size_t i = zip.size() - 22;; --i) {
      if (U32(zip, i) == 0x06054b50) {
        eocd = i;
        break;
      }
      if (i == lowest) break;
    }
  }
  if (eocd == std::string::npos) return InvalidInput(path + ": not a zip/.npz archive (no end-of-central-directory record)");
  const uint16_t count = U16(zip, eocd + 10);
  size_t at = U32(zip, eocd + 16);
  std::map<std::string, std::string> entries;
  for (uint16_t e = 0; e < count; ++e) {
    if (at + 46 > zip.size() || U32(zip, at) != 0x02014b50) {
      return InvalidInput(path + ": corrupt zip central directory (entry " + std::to_string(e) + ")");
    }
    const uint16_t method = U16(zip, at + 10);
    uint64_t compressed = U32(zip, at + 20), uncompressed = U32(zip, at + 24);
    const uint16_t name_len = U16(zip, at + 28), extra_len = U16(zip, at + 30), comment_len = U16(zip, at + 32);
    uint64_t local = U32(zip, at + 42);
    const std::string name = zip.substr(at + 46, name_len);
    // ZIP64 (numpy writes it for large arrays): sizes and offset in the extra field when 0xFFFFFFFF.
    size_t x = at + 46 + name_len, x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const uint16_t id = U16(zip, x), len = U16(zip, x + 2);
      if (id == 0x0001) {
        size_t p = x + 4;
        auto u64 = [&](size_t q) { return static_cast<uint64_t>(U32(zip, q)) | (static_cast<uint64_t>(U32(zip, q + 4)) << 32); };
        if (uncompressed == 0xFFFFFFFF) { uncompressed = u64(p); p += 8; }
        if (compressed == 0xFFFFFFFF) { compressed = u64(p); p += 8; }
        if (local == 0xFFFFFFFF) { local = u64(p); }
      }
      x += 4 + len;
    }
    at += 46 + name_len + extra_len + comment_len;
    if (local + 30 > zip.size() || U32(zip, local) != 0x04034b50) {
      return InvalidInput(path + ": corrupt zip local header for '" + name + "'");
    }
    const size_t data_at = local + 30 + U16(zip, local + 26) + U16(zip, local + 28);
    if (data_at + compressed > zip.size()) return InvalidInput(path + ": truncated zip entry '" + name + "'");
    std::string data = zip.substr(data_at, compressed);
    if (method == 8) {
      ACT_ASSIGN_OR_RETURN(data, Inflate(data, -MAX_WBITS, uncompressed, path + ":" + name));
    } else if (method != 0) {
      return Unsupported(path + ": zip entry '" + name + "' uses compression method " + std::to_string(method) +
                         "; only stored (numpy.savez) and deflate (numpy.savez_compressed) are supported");
    }
    entries[name] = std::move(data);
  }
  return entries;
}

}  // namespace act::data
