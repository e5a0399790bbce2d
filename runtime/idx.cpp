#include <graphjit/runtime/idx.hpp>

#include "runtime/atomic_file.hpp"
#include "runtime/byte_order.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace graphjit {

namespace {

struct IdxType {
  unsigned char code;
  DType dtype;
};
// The one table mapping IDX element-type codes to dtypes (bool and int64 have no code).
constexpr std::array<IdxType, 6> kIdxTypes{{{0x08, DType::uint8},
                                            {0x09, DType::int8},
                                            {0x0B, DType::int16},
                                            {0x0C, DType::int32},
                                            {0x0D, DType::float32},
                                            {0x0E, DType::float64}}};

std::string hex_byte(unsigned v) {
  static const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[(v >> 4) & 0xF] + digits[v & 0xF];
}

std::string known_types() {
  std::string s;
  for (const auto& t : kIdxTypes) s += (s.empty() ? "" : ", ") + hex_byte(t.code) + " " + dtype_name(t.dtype);
  return s;
}

std::optional<DType> dtype_for_code(unsigned char code) {
  for (const auto& t : kIdxTypes)
    if (t.code == code) return t.dtype;
  return std::nullopt;
}

std::optional<unsigned char> code_for_dtype(DType dtype) {
  for (const auto& t : kIdxTypes)
    if (t.dtype == dtype) return t.code;
  return std::nullopt;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("IDX file " + path + ": " + what);
}

// A gzFile that closes itself (for writing).
struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads a file's bytes, inflating them when the file starts with the gzip magic.
// Not gzread: zlib's gzread reports a file cut inside its 8-byte trailer as a
// clean end of file when the last read filled the caller's buffer, and a
// truncated data file must never load.
class FileReader {
 public:
  explicit FileReader(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "rb"), &std::fclose) {
    if (!file_) fail(path_, std::string("cannot open (") + std::strerror(errno) + ")");
    refill();
    gzip_ = zs_.avail_in >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
    // 15 + 16: a gzip wrapper, not zlib's own.
    if (gzip_ && inflateInit2(&zs_, 15 + 16) != Z_OK) fail(path_, "cannot initialise zlib");
  }
  ~FileReader() {
    if (gzip_) inflateEnd(&zs_);
  }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  bool gzipped() const { return gzip_; }

  // Reads up to n bytes; fewer at the end of the data. Throws on a read error
  // or corrupt gzip data.
  std::size_t read(void* dst, std::size_t n) { return gzip_ ? inflate_into(dst, n) : copy_into(dst, n); }

  // True when the data ended because the file stops inside a gzip stream.
  bool truncated() const { return truncated_; }
  // For error messages about short reads: "" or why the data ended early.
  std::string truncation_note() const {
    return truncated_ ? " (the gzip data is truncated: the file ends inside the compressed stream)" : "";
  }

 private:
  // Returns false at the end of the file.
  bool refill() {
    std::size_t got = std::fread(in_.data(), 1, in_.size(), file_.get());
    if (std::ferror(file_.get())) fail(path_, std::string("cannot read (") + std::strerror(errno) + ")");
    zs_.next_in = in_.data();
    zs_.avail_in = static_cast<uInt>(got);
    return got > 0;
  }

  std::size_t copy_into(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t done = 0;
    while (done < n && (zs_.avail_in > 0 || refill())) {
      std::size_t k = std::min<std::size_t>(n - done, zs_.avail_in);
      std::memcpy(out + done, zs_.next_in, k);
      zs_.next_in += k;
      zs_.avail_in -= static_cast<uInt>(k);
      done += k;
    }
    return done;
  }

  std::size_t inflate_into(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t done = 0;
    while (done < n) {
      if (zs_.avail_in == 0 && !refill()) {
        truncated_ = in_member_;
        break;
      }
      in_member_ = true;
      zs_.next_out = out + done;
      zs_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - done, 1u << 30));
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      done = static_cast<std::size_t>(zs_.next_out - out);
      if (rc == Z_STREAM_END) {
        // gzip files may be several members back to back (cat a.gz b.gz).
        in_member_ = false;
        inflateReset(&zs_);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        fail(path_, std::string("the gzip data is corrupt (") + (zs_.msg ? zs_.msg : "zlib error") + ")");
      }
    }
    return done;
  }

  std::string path_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_;
  std::array<unsigned char, 1 << 16> in_{};
  z_stream zs_{};
  bool gzip_ = false;
  bool in_member_ = false;  // inside a gzip member whose end has not been seen
  bool truncated_ = false;
};

// Rejects a header that promises more data than the file can hold before
// allocating for it: a foreign file can claim a shape of terabytes. Raw files
// are measured exactly; deflate cannot expand data more than ~1032 times.
void check_payload_can_fit(const FileReader& reader, const std::string& path, std::size_t header_bytes,
                           std::size_t expected, const std::string& expectation) {
  std::error_code ec;
  const std::uintmax_t on_disk = std::filesystem::file_size(path, ec);
  if (ec) return;  // not a regular file (a pipe, say): reading will tell
  if (!reader.gzipped()) {
    const std::uintmax_t payload = on_disk - header_bytes;
    if (payload < expected) fail(path, expectation + ", file has " + std::to_string(payload));
  } else if (expected / 1032 > on_disk) {
    fail(path, expectation + ", more than a gzip file of " + std::to_string(on_disk) + " bytes can hold");
  }
}

}  // namespace

Tensor load_idx(const std::string& path) {
  FileReader reader(path);

  unsigned char head[4];
  std::size_t got = reader.read(head, 4);
  if (got < 4)
    fail(path, "the file has " + std::to_string(got) + " bytes, too short for the 4-byte IDX header" +
                   reader.truncation_note());
  if (head[0] != 0 || head[1] != 0)
    fail(path, "not an IDX file: it starts with bytes " + hex_byte(head[0]) + " " + hex_byte(head[1]) +
                   ", IDX files start with two zero bytes");
  std::optional<DType> dtype = dtype_for_code(head[2]);
  if (!dtype) fail(path, "unknown IDX element type code " + hex_byte(head[2]) + " (known: " + known_types() + ")");
  const int ndim = head[3];

  std::vector<unsigned char> dim_bytes(static_cast<std::size_t>(ndim) * 4);
  if (reader.read(dim_bytes.data(), dim_bytes.size()) < dim_bytes.size())
    fail(path, "the header declares " + std::to_string(ndim) + " dimensions but the file ends inside them" +
                   reader.truncation_note());
  Shape shape;
  std::int64_t numel = 1;
  // The bound is on bytes, not elements: 2^62 int32 elements are 2^64 bytes,
  // which wraps the byte count to 0 and passes every size check after it.
  const std::int64_t max_numel = INT64_MAX / static_cast<std::int64_t>(dtype_size(*dtype));
  for (int d = 0; d < ndim; ++d) {
    // Dimensions are signed int32 in the format; a set top bit means a negative size.
    auto dim = static_cast<std::int64_t>(byte_order::load_be(&dim_bytes[4 * d], 4));
    if (dim > INT32_MAX) fail(path, "dimension " + std::to_string(d) + " is negative in the header");
    shape.push_back(dim);
    // Checked against max_numel / dim before multiplying, so numel * dim cannot overflow.
    if (dim != 0 && numel > max_numel / dim)
      fail(path, "the header's shape " + shape_str(shape) + "... is impossibly large");
    numel *= dim;
  }

  const std::size_t expected = static_cast<std::size_t>(numel) * dtype_size(*dtype);
  const std::string expectation = "expected " + std::to_string(expected) + " bytes of " + dtype_name(*dtype) +
                                  " data for shape " + shape_str(shape);
  check_payload_can_fit(reader, path, 4 + dim_bytes.size(), expected, expectation);

  Tensor t = Tensor::empty(shape, *dtype);
  got = reader.read(t.raw_data(), expected);
  if (got < expected) fail(path, expectation + ", file has " + std::to_string(got) + reader.truncation_note());
  // Reading on to the end also makes a gzip file's trailer (CRC and length) be checked.
  unsigned char extra;
  if (reader.read(&extra, 1) != 0)
    fail(path, "the file continues after the " + std::to_string(expected) + " data bytes that shape " +
                   shape_str(shape) + " " + dtype_name(*dtype) + " needs; it is not a well-formed IDX file");
  if (reader.truncated()) fail(path, "all data bytes are present but the end of the file is missing" + reader.truncation_note());
  byte_order::host_to_big(t.raw_data(), static_cast<std::size_t>(numel), dtype_size(*dtype));
  return t;
}

void save_idx(const std::string& path, const Tensor& t) {
  if (!t.defined()) throw std::invalid_argument("save_idx(" + path + "): the tensor is undefined");
  std::optional<unsigned char> code = code_for_dtype(t.dtype());
  if (!code)
    throw std::invalid_argument("save_idx(" + path + "): IDX has no element type for " + dtype_name(t.dtype()) +
                                " (it has: " + known_types() + "); convert with astype() first");
  if (t.ndim() > 255) throw std::invalid_argument("save_idx(" + path + "): IDX allows at most 255 dimensions");
  for (std::int64_t d : t.shape())
    if (d > INT32_MAX)
      throw std::invalid_argument("save_idx(" + path + "): shape " + shape_str(t.shape()) +
                                  " has a dimension over the IDX limit of 2^31-1");

  const bool gzip = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  const Tensor data = t.contiguous();

  std::vector<unsigned char> header(4 + 4 * static_cast<std::size_t>(t.ndim()));
  header[2] = *code;
  header[3] = static_cast<unsigned char>(t.ndim());
  for (int d = 0; d < t.ndim(); ++d) byte_order::store_be(&header[4 + 4 * d], static_cast<std::uint64_t>(t.shape(d)), 4);

  write_file_atomically(path, [&](const std::string& temp) {
    // "T" makes zlib write the bytes unchanged: one writer for both kinds of file.
    GzFile file(gzopen(temp.c_str(), gzip ? "wb6" : "wbT"));
    if (!file) throw std::runtime_error("save_idx: cannot create " + temp + ": " + std::strerror(errno));
    auto write = [&](const void* p, std::size_t n) {
      if (n > 0 && gzwrite(file.get(), p, static_cast<unsigned>(n)) != static_cast<int>(n)) {
        int zlib_code = 0;
        throw std::runtime_error("save_idx: writing " + temp + " failed: " + gzerror(file.get(), &zlib_code));
      }
    };
    write(header.data(), header.size());
    // Byte-swap through a bounded buffer rather than a second copy of the whole tensor.
    const std::size_t elem = dtype_size(t.dtype());
    const auto* src = static_cast<const unsigned char*>(data.raw_data());
    std::vector<unsigned char> chunk;
    const std::size_t per_chunk = (std::size_t{1} << 20) / elem * elem;
    for (std::size_t off = 0; off < data.nbytes(); off += per_chunk) {
      std::size_t n = std::min(per_chunk, data.nbytes() - off);
      chunk.assign(src + off, src + off + n);
      byte_order::host_to_big(chunk.data(), n / elem, elem);
      write(chunk.data(), n);
    }
    if (gzclose(file.release()) != Z_OK) throw std::runtime_error("save_idx: finishing " + temp + " failed");
  });
}

}  // namespace graphjit
