#include "core/file_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace act {
namespace fs = std::filesystem;

Expected<std::string> ReadFileToString(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path + ": no such file");
  if (fs::is_directory(path, ec)) return InvalidInput(path + ": is a folder, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidInput(path + ": cannot open for reading: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Failure(path + ": read error");
  return ss.str();
}

Status AtomicWriteFile(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Failure(tmp + ": cannot open for writing: " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return Failure(tmp + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Failure("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  return Status::Ok();
}

Status CheckNotSameFile(const std::string& input, const std::string& output) {
  std::error_code ec;
  if (fs::exists(output, ec) && fs::equivalent(input, output, ec)) {
    return InvalidInput(output + ": refusing to overwrite the input model; choose another output path");
  }
  return Status::Ok();
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

Status MakeDirs(const std::string& path) {
  if (path.empty()) return Status::Ok();
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Failure(path + ": cannot create folder: " + ec.message());
  return Status::Ok();
}

std::string DirName(const std::string& path) { return fs::path(path).parent_path().string(); }

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || fs::path(name).is_absolute()) return name;
  return (fs::path(dir) / name).lexically_normal().string();
}

}  // namespace act
