#include "daemon/snapshots/zip_writer.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include <sys/stat.h>

#include "absl/strings/str_cat.h"

#include "common/status_macros.h"

namespace skydeck::snapshots {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfCentral = 0x06054b50;
constexpr uint16_t kVersion = 20;                      // 2.0: deflate, directories
constexpr uint16_t kMadeByUnix = (3 << 8) | kVersion;  // external attrs carry a Unix mode
constexpr uint16_t kUtf8Names = 1 << 11;
constexpr uint16_t kDosTime = 0;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflated = 8;
constexpr uint64_t kMax32 = std::numeric_limits<uint32_t>::max();
constexpr size_t kChunk = 256 * 1024;

void Put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void Put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t Mode(uint32_t unix_mode) { return unix_mode << 16; }

}  // namespace

absl::StatusOr<std::unique_ptr<ZipWriter>> ZipWriter::Create(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return absl::InternalError(absl::StrCat("creating ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<ZipWriter>(new ZipWriter(f, path));
}

ZipWriter::~ZipWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status ZipWriter::Write(absl::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return absl::InternalError(absl::StrCat("writing ", path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ZipWriter::Begin(Entry& e) {
  if (finished_) return absl::FailedPreconditionError("zip: already finished");
  if (e.name.size() > 0xffff) return absl::InvalidArgumentError("zip: a name over 64 KiB");
  if (entries_.size() >= 0xffff) {
    return absl::InvalidArgumentError("zip: more than 65,535 entries (no zip64)");
  }
  off_t at = ftello(file_);
  if (at < 0 || static_cast<uint64_t>(at) > kMax32) {
    return absl::InvalidArgumentError("zip: larger than 4 GiB (no zip64)");
  }
  e.offset = static_cast<uint64_t>(at);
  std::string h;
  Put32(h, kLocalHeader);
  Put16(h, kVersion);
  Put16(h, kUtf8Names);
  Put16(h, e.method);
  Put16(h, kDosTime);
  Put16(h, kDosDate);
  Put32(h, 0);  // crc, sizes: patched once known
  Put32(h, 0);
  Put32(h, 0);
  Put16(h, static_cast<uint16_t>(e.name.size()));
  Put16(h, 0);
  h += e.name;
  return Write(h);
}

absl::Status ZipWriter::Patch(const Entry& e) {
  if (e.compressed > kMax32 || e.size > kMax32) {
    return absl::InvalidArgumentError(absl::StrCat("zip: ", e.name, " is 4 GiB or more"));
  }
  off_t end = ftello(file_);
  std::string fields;
  Put32(fields, e.crc);
  Put32(fields, static_cast<uint32_t>(e.compressed));
  Put32(fields, static_cast<uint32_t>(e.size));
  if (fseeko(file_, static_cast<off_t>(e.offset + 14), SEEK_SET) != 0) {
    return absl::InternalError(absl::StrCat("seeking in ", path_));
  }
  RETURN_IF_ERROR(Write(fields));
  if (fseeko(file_, end, SEEK_SET) != 0) {
    return absl::InternalError(absl::StrCat("seeking in ", path_));
  }
  entries_.push_back(e);
  return absl::OkStatus();
}

absl::Status ZipWriter::WriteStored(Entry& e, absl::string_view data) {
  e.method = kStored;
  RETURN_IF_ERROR(Begin(e));
  RETURN_IF_ERROR(Write(data));
  e.crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  e.compressed = e.size = data.size();
  return Patch(e);
}

absl::Status ZipWriter::AddDirectory(absl::string_view name) {
  Entry e;
  e.name = absl::StrCat(name, "/");
  e.external = Mode(040755) | 0x10;  // and MS-DOS's directory bit
  return WriteStored(e, "");
}

absl::Status ZipWriter::AddSymlink(absl::string_view name, absl::string_view target) {
  Entry e;
  e.name = std::string(name);
  e.external = Mode(0120755);
  return WriteStored(e, target);
}

absl::Status ZipWriter::AddFile(absl::string_view name, const std::string& source,
                                bool executable) {
  FILE* in = std::fopen(source.c_str(), "rb");
  if (in == nullptr) {
    return absl::InternalError(absl::StrCat("reading ", source, ": ", std::strerror(errno)));
  }
  Entry e;
  e.name = std::string(name);
  e.method = kDeflated;
  e.external = Mode(executable ? 0100755 : 0100644);
  absl::Status status = Begin(e);
  z_stream z{};
  if (status.ok() && deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY) != Z_OK) {
    status = absl::InternalError("zip: deflateInit2 failed");
  }
  std::string in_buf(kChunk, '\0'), out_buf(kChunk, '\0');
  uLong crc = crc32(0, nullptr, 0);
  bool done = !status.ok();
  while (!done) {
    size_t n = std::fread(in_buf.data(), 1, in_buf.size(), in);
    if (std::ferror(in)) {
      status = absl::InternalError(absl::StrCat("reading ", source));
      break;
    }
    int flush = std::feof(in) ? Z_FINISH : Z_NO_FLUSH;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(in_buf.data()), static_cast<uInt>(n));
    e.size += n;
    z.next_in = reinterpret_cast<Bytef*>(in_buf.data());
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(out_buf.data());
      z.avail_out = static_cast<uInt>(out_buf.size());
      deflate(&z, flush);
      size_t produced = out_buf.size() - z.avail_out;
      e.compressed += produced;
      status = Write(absl::string_view(out_buf.data(), produced));
    } while (status.ok() && z.avail_out == 0);
    done = !status.ok() || flush == Z_FINISH;
  }
  deflateEnd(&z);
  std::fclose(in);
  RETURN_IF_ERROR(status);
  e.crc = static_cast<uint32_t>(crc);
  return Patch(e);
}

absl::Status ZipWriter::Finish() {
  if (finished_) return absl::OkStatus();
  finished_ = true;
  off_t start = ftello(file_);
  std::string cd;
  for (const Entry& e : entries_) {
    Put32(cd, kCentralHeader);
    Put16(cd, kMadeByUnix);
    Put16(cd, kVersion);
    Put16(cd, kUtf8Names);
    Put16(cd, e.method);
    Put16(cd, kDosTime);
    Put16(cd, kDosDate);
    Put32(cd, e.crc);
    Put32(cd, static_cast<uint32_t>(e.compressed));
    Put32(cd, static_cast<uint32_t>(e.size));
    Put16(cd, static_cast<uint16_t>(e.name.size()));
    Put16(cd, 0);  // extra
    Put16(cd, 0);  // comment
    Put16(cd, 0);  // disk
    Put16(cd, 0);  // internal attributes
    Put32(cd, e.external);
    Put32(cd, static_cast<uint32_t>(e.offset));
    cd += e.name;
  }
  if (static_cast<uint64_t>(start) + cd.size() > kMax32) {
    return absl::InvalidArgumentError("zip: larger than 4 GiB (no zip64)");
  }
  Put32(cd, kEndOfCentral);
  Put16(cd, 0);
  Put16(cd, 0);
  Put16(cd, static_cast<uint16_t>(entries_.size()));
  Put16(cd, static_cast<uint16_t>(entries_.size()));
  Put32(cd, 0);  // the central directory's size: patched below
  Put32(cd, static_cast<uint32_t>(start));
  Put16(cd, 0);
  // The central directory's size excludes the end record (22 bytes).
  uint32_t cd_size = static_cast<uint32_t>(cd.size() - 22);
  for (int i = 0; i < 4; ++i)
    cd[cd.size() - 10 + i] = static_cast<char>((cd_size >> (8 * i)) & 0xff);
  RETURN_IF_ERROR(Write(cd));
  bool ok = std::fflush(file_) == 0;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  if (!ok) return absl::InternalError(absl::StrCat("writing ", path_));
  return absl::OkStatus();
}

}  // namespace skydeck::snapshots
