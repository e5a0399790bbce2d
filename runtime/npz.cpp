// .npz archives are ZIP files; this file holds the small part of ZIP they use:
// stored and deflated entries, ZIP64 sizes when reading (numpy.savez always
// writes ZIP64 local headers), no encryption, no multi-disk archives.
#include <graphjit/runtime/npz.hpp>

#include "runtime/atomic_file.hpp"
#include "runtime/byte_order.hpp"
#include "runtime/npy_format.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>

namespace graphjit {

namespace {

using Bytes = std::vector<unsigned char>;
using byte_order::load_le;
using byte_order::store_le;

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;
constexpr std::uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndOfCentralDirSize = 22;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint16_t kMethodStored = 0;
constexpr std::uint16_t kMethodDeflated = 8;
constexpr std::uint16_t kVersion20 = 20;  // "2.0": the ZIP version that introduced deflate
// A fixed timestamp (1980-01-01 00:00, the earliest DOS date) makes saving the same arrays
// produce the same bytes.
constexpr std::uint16_t kDosTime = 0;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr std::uint64_t kMax32 = 0xFFFFFFFFu;
constexpr std::string_view kNpySuffix = ".npy";
// Deflate's best case: a 258-byte match coded in as little as 2 bits gives
// 1032 output bytes per input byte. A claimed size past that is a lie, and
// is refused before anything that large is allocated.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

Bytes read_whole_file(const std::string& path, const char* caller) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error(std::string(caller) + ": cannot open " + path + " (" + std::strerror(errno) + ")");
  const std::streamoff size = in.tellg();
  if (size < 0) throw std::runtime_error(std::string(caller) + ": cannot read " + path + " (is it a directory?)");
  Bytes bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw std::runtime_error(std::string(caller) + ": reading " + path + " failed");
  return bytes;
}

void write_whole_file(const std::string& path, const Bytes& bytes, const char* caller) {
  write_file_atomically(path, [&](const std::string& temp) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(temp.c_str(), "wb"), &std::fclose);
    if (!f) throw std::runtime_error(std::string(caller) + ": cannot create " + temp + " (" + std::strerror(errno) + ")");
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size();
    if (!written || std::fclose(f.release()) != 0)
      throw std::runtime_error(std::string(caller) + ": writing " + temp + " failed (" + std::strerror(errno) + ")");
  });
}

std::uint32_t crc32_of(const unsigned char* p, std::size_t n) {
  return static_cast<std::uint32_t>(crc32_z(crc32_z(0, nullptr, 0), p, n));
}

// ---- Writing -------------------------------------------------------------

void append_le(Bytes& out, std::uint64_t v, int n) {
  out.resize(out.size() + n);
  store_le(&out[out.size() - n], v, n);
}

// The fields the local and central headers share, from "version needed" to the name length.
void append_common_fields(Bytes& out, std::uint32_t crc, std::uint64_t size, std::size_t name_size) {
  append_le(out, kVersion20, 2);
  append_le(out, 0, 2);  // flags
  append_le(out, kMethodStored, 2);
  append_le(out, kDosTime, 2);
  append_le(out, kDosDate, 2);
  append_le(out, crc, 4);
  append_le(out, size, 4);  // compressed size: stored, so the same
  append_le(out, size, 4);
  append_le(out, name_size, 2);
  append_le(out, 0, 2);  // extra field length
}

// ---- Reading -------------------------------------------------------------

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  throw std::runtime_error("load_npz: " + path + ": " + what);
}

struct Entry {
  std::string name;
  std::uint16_t flags, method;
  std::uint32_t crc;
  std::uint64_t compressed_size, size, local_header_offset;
};

// Bounds-checked little-endian access to the archive bytes.
class ArchiveView {
 public:
  ArchiveView(const Bytes& bytes, const std::string& path) : b_(bytes), path_(path) {}
  std::uint64_t le(std::uint64_t pos, int n, const char* what) const {
    need(pos, n, what);
    return load_le(&b_[pos], n);
  }
  void need(std::uint64_t pos, std::uint64_t n, const char* what) const {
    if (pos > b_.size() || n > b_.size() - pos)
      corrupt(path_, std::string(what) + " at offset " + std::to_string(pos) + " runs past the end of the " +
                         std::to_string(b_.size()) + "-byte file (truncated?)");
  }
  const unsigned char* at(std::uint64_t pos) const { return &b_[pos]; }
  std::size_t size() const { return b_.size(); }

 private:
  const Bytes& b_;
  const std::string& path_;
};

struct CentralDirectory {
  std::uint64_t entries, offset;
};

CentralDirectory find_central_directory(const ArchiveView& zip, const std::string& path) {
  // The end record is the last thing in the file, followed only by a comment of up to 64 KiB.
  if (zip.size() < kEndOfCentralDirSize) corrupt(path, "too short to be a ZIP archive (.npz files are ZIP archives)");
  const std::uint64_t lowest = zip.size() >= kEndOfCentralDirSize + 0xFFFF ? zip.size() - kEndOfCentralDirSize - 0xFFFF : 0;
  for (std::uint64_t pos = zip.size() - kEndOfCentralDirSize + 1; pos-- > lowest;) {
    if (zip.le(pos, 4, "end record") != kEndOfCentralDirSig) continue;
    if (zip.le(pos + 4, 2, "end record") != 0 || zip.le(pos + 6, 2, "end record") != 0)
      corrupt(path, "multi-disk (split) ZIP archives are not supported");
    CentralDirectory cd{zip.le(pos + 10, 2, "end record"), zip.le(pos + 16, 4, "end record")};
    if (cd.entries == 0xFFFF || cd.offset == kMax32) {
      // ZIP64: a locator just before the end record points at the 64-bit end record.
      if (pos < 20 || zip.le(pos - 20, 4, "ZIP64 locator") != kZip64LocatorSig)
        corrupt(path, "the end record asks for ZIP64 but there is no ZIP64 locator");
      const std::uint64_t end64 = zip.le(pos - 20 + 8, 8, "ZIP64 locator");
      if (zip.le(end64, 4, "ZIP64 end record") != kZip64EndSig) corrupt(path, "the ZIP64 end record is missing");
      cd = {zip.le(end64 + 32, 8, "ZIP64 end record"), zip.le(end64 + 48, 8, "ZIP64 end record")};
    }
    return cd;
  }
  corrupt(path, "not a ZIP archive (no end-of-central-directory record); .npz files are ZIP archives");
}

// Header fields set to 0xFFFFFFFF hold their real value in the ZIP64 extra field,
// which lists only those fields, in this order.
void apply_zip64_extra(Entry& e, const ArchiveView& zip, std::uint64_t extra, std::uint64_t extra_size,
                       const std::string& path) {
  const std::uint64_t end = extra + extra_size;
  while (extra + 4 <= end) {
    const auto id = zip.le(extra, 2, "extra field");
    const auto size = zip.le(extra + 2, 2, "extra field");
    std::uint64_t field = extra + 4;
    if (id == kZip64ExtraId) {
      for (std::uint64_t* value : {&e.size, &e.compressed_size, &e.local_header_offset}) {
        if (*value != kMax32) continue;
        if (field + 8 > extra + 4 + size) corrupt(path, "entry '" + excerpt(e.name) + "' has a short ZIP64 extra field");
        *value = zip.le(field, 8, "ZIP64 extra field");
        field += 8;
      }
    }
    extra += 4 + size;
  }
}

std::vector<Entry> read_central_directory(const ArchiveView& zip, const std::string& path) {
  const CentralDirectory cd = find_central_directory(zip, path);
  // Each entry takes at least a fixed-size header: a count the file cannot hold is corrupt.
  if (cd.entries > zip.size() / kCentralHeaderSize)
    corrupt(path, "the central directory claims " + std::to_string(cd.entries) + " entries; a " +
                      std::to_string(zip.size()) + "-byte file holds at most " +
                      std::to_string(zip.size() / kCentralHeaderSize));
  std::vector<Entry> entries;
  std::uint64_t pos = cd.offset;
  for (std::uint64_t i = 0; i < cd.entries; ++i) {
    if (zip.le(pos, 4, "central directory") != kCentralHeaderSig)
      corrupt(path, "central directory entry " + std::to_string(i) + " has a bad signature (corrupt archive)");
    zip.need(pos, kCentralHeaderSize, ("central directory entry " + std::to_string(i)).c_str());
    Entry e;
    e.flags = static_cast<std::uint16_t>(load_le(zip.at(pos + 8), 2));
    e.method = static_cast<std::uint16_t>(load_le(zip.at(pos + 10), 2));
    e.crc = static_cast<std::uint32_t>(load_le(zip.at(pos + 16), 4));
    e.compressed_size = load_le(zip.at(pos + 20), 4);
    e.size = load_le(zip.at(pos + 24), 4);
    const auto name_size = load_le(zip.at(pos + 28), 2);
    const auto extra_size = load_le(zip.at(pos + 30), 2);
    const auto comment_size = load_le(zip.at(pos + 32), 2);
    e.local_header_offset = load_le(zip.at(pos + 42), 4);
    zip.need(pos + kCentralHeaderSize, name_size + extra_size + comment_size,
             ("the name and extra fields of central directory entry " + std::to_string(i)).c_str());
    e.name.assign(reinterpret_cast<const char*>(zip.at(pos + kCentralHeaderSize)), name_size);
    apply_zip64_extra(e, zip, pos + kCentralHeaderSize + name_size, extra_size, path);
    entries.push_back(std::move(e));
    pos += kCentralHeaderSize + name_size + extra_size + comment_size;
  }
  return entries;
}

// Raw deflate (no zlib or gzip wrapper), as ZIP stores it. The output grows
// with what the stream actually produces (never to more than twice that),
// not with the size the archive claims; the claim is checked against the
// NPY header as soon as the header has come out.
Bytes inflate_entry(const unsigned char* src, std::uint64_t src_size, std::uint64_t size, const std::string& where) {
  if (size / kMaxDeflateRatio > src_size)
    throw std::runtime_error(where + ": claims " + std::to_string(size) + " bytes uncompressed from " +
                             std::to_string(src_size) + " compressed bytes; deflate cannot expand data more than " +
                             std::to_string(kMaxDeflateRatio) + " times (corrupt or malicious archive)");
  constexpr std::uint64_t kFirstPiece = 1u << 16;  // enough for any version 1 NPY header
  Bytes out(static_cast<std::size_t>(std::min(size, kFirstPiece)));
  bool size_checked = false;
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw std::runtime_error(where + ": cannot initialise zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, &inflateEnd);
  // avail_in/avail_out are 32-bit: feed and drain in pieces.
  constexpr std::uint64_t kPiece = 1u << 30;
  std::uint64_t in_done = 0, out_done = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0 && in_done < src_size) {
      zs.next_in = const_cast<unsigned char*>(src + in_done);
      zs.avail_in = static_cast<uInt>(std::min(kPiece, src_size - in_done));
      in_done += zs.avail_in;
    }
    if (out_done == out.size() && out.size() < size) {
      if (!size_checked) {
        // The NPY header is out: it says how long the entry is, and that must be the claim.
        if (const auto total = npy_total_size(out.data(), out_done, where)) {
          if (*total != size)
            throw std::runtime_error(where + ": the archive says the entry has " + std::to_string(size) +
                                     " bytes, its NPY header says " + std::to_string(*total) +
                                     " (corrupt archive)");
          size_checked = true;
        }
      }
      out.resize(static_cast<std::size_t>(std::min(size, 2 * out.size())));
    }
    zs.next_out = out.data() + out_done;
    zs.avail_out = static_cast<uInt>(std::min(kPiece, out.size() - out_done));
    rc = inflate(&zs, Z_NO_FLUSH);
    out_done = static_cast<std::uint64_t>(zs.next_out - out.data());
    // No progress possible: the input ran out or the output is full before the stream's end.
    if (rc == Z_BUF_ERROR) break;
  }
  const std::uint64_t produced = out_done;
  if (rc != Z_STREAM_END)
    throw std::runtime_error(where + ": the compressed data is corrupt or truncated (" +
                             (zs.msg ? std::string(zs.msg) : "zlib code " + std::to_string(rc)) + ", " +
                             std::to_string(produced) + " of " + std::to_string(size) + " bytes recovered)");
  if (produced != size)
    throw std::runtime_error(where + ": decompressed to " + std::to_string(produced) + " bytes, the archive says " +
                             std::to_string(size));
  return out;
}

std::string entry_where(const std::string& path, const std::string& name) {
  return "load_npz: " + path + ", entry '" + excerpt(name) + "'";
}

Tensor read_entry(const ArchiveView& zip, const Entry& e, const std::string& path) {
  const std::string where = entry_where(path, e.name);
  if (e.flags & 1) throw std::runtime_error(where + ": encrypted entries are not supported");
  if (e.method != kMethodStored && e.method != kMethodDeflated)
    throw std::runtime_error(where + ": compression method " + std::to_string(e.method) +
                             " is not supported (numpy.savez stores, numpy.savez_compressed deflates; both load)");
  const std::uint64_t local = e.local_header_offset;
  const std::string local_header = "the local header of entry '" + excerpt(e.name) + "'";
  if (zip.le(local, 4, local_header.c_str()) != kLocalHeaderSig)
    throw std::runtime_error(where + ": the local header has a bad signature (corrupt archive)");
  zip.need(local, kLocalHeaderSize, local_header.c_str());
  const std::uint64_t data = local + kLocalHeaderSize + load_le(zip.at(local + 26), 2) + load_le(zip.at(local + 28), 2);
  zip.need(data, e.compressed_size, ("the data of entry '" + excerpt(e.name) + "'").c_str());

  Bytes inflated;
  const unsigned char* npy = zip.at(data);
  if (e.method == kMethodDeflated) {
    inflated = inflate_entry(npy, e.compressed_size, e.size, where);
    npy = inflated.data();
  } else if (e.compressed_size != e.size) {
    throw std::runtime_error(where + ": a stored entry whose compressed and uncompressed sizes differ (corrupt archive)");
  }
  if (crc32_of(npy, e.size) != e.crc) throw std::runtime_error(where + ": CRC-32 mismatch (the data is corrupt)");
  return decode_npy(npy, e.size, where);
}

}  // namespace

void save_npz(const std::string& path, const NamedArrays& arrays) {
  std::set<std::string> seen;
  for (const auto& [key, t] : arrays) {
    if (key.empty()) throw std::invalid_argument("save_npz(" + path + "): an array has an empty key");
    if (!seen.insert(key).second) throw std::invalid_argument("save_npz(" + path + "): key '" + key + "' appears twice");
    if (!t.defined()) throw std::invalid_argument("save_npz(" + path + "): array '" + key + "' is undefined");
  }
  // Plain ZIP has 16-bit entry counts and 32-bit sizes and offsets; ZIP64 is not written.
  if (arrays.size() >= 0xFFFF)
    throw std::invalid_argument("save_npz(" + path + "): " + std::to_string(arrays.size()) +
                                " arrays; at most 65534 fit in an archive without ZIP64");

  Bytes zip, central;
  for (const auto& [key, t] : arrays) {
    const std::string name = key + std::string(kNpySuffix);
    const Bytes npy = encode_npy(t);
    const std::uint64_t offset = zip.size();
    if (npy.size() >= kMax32 || offset >= kMax32 || name.size() > 0xFFFF)
      throw std::invalid_argument("save_npz(" + path + "): array '" + key +
                                  "' does not fit: archives over 4 GiB need ZIP64, which is not written");
    const std::uint32_t crc = crc32_of(npy.data(), npy.size());

    append_le(zip, kLocalHeaderSig, 4);
    append_common_fields(zip, crc, npy.size(), name.size());
    zip.insert(zip.end(), name.begin(), name.end());
    zip.insert(zip.end(), npy.begin(), npy.end());

    append_le(central, kCentralHeaderSig, 4);
    append_le(central, kVersion20, 2);  // "version made by": MS-DOS attributes, 2.0
    append_common_fields(central, crc, npy.size(), name.size());
    append_le(central, 0, 2);  // comment length
    append_le(central, 0, 2);  // disk number
    append_le(central, 0, 2);  // internal attributes
    append_le(central, 0, 4);  // external attributes
    append_le(central, offset, 4);
    central.insert(central.end(), name.begin(), name.end());
  }
  const std::uint64_t central_offset = zip.size();
  if (central_offset + central.size() >= kMax32)
    throw std::invalid_argument("save_npz(" + path + "): the archive would exceed 4 GiB, which needs ZIP64");
  zip.insert(zip.end(), central.begin(), central.end());
  append_le(zip, kEndOfCentralDirSig, 4);
  append_le(zip, 0, 2);  // this disk
  append_le(zip, 0, 2);  // disk holding the central directory
  append_le(zip, arrays.size(), 2);
  append_le(zip, arrays.size(), 2);
  append_le(zip, central.size(), 4);
  append_le(zip, central_offset, 4);
  append_le(zip, 0, 2);  // comment length
  write_whole_file(path, zip, "save_npz");
}

NamedArrays load_npz(const std::string& path) {
  const Bytes bytes = read_whole_file(path, "load_npz");
  const ArchiveView zip(bytes, path);
  const std::vector<Entry> entries = read_central_directory(zip, path);
  std::set<std::string> names;
  for (const Entry& e : entries) {
    const bool is_npy = e.name.size() > kNpySuffix.size() &&
                        e.name.compare(e.name.size() - kNpySuffix.size(), kNpySuffix.size(), kNpySuffix) == 0;
    if (!is_npy)
      corrupt(path, "entry '" + excerpt(e.name) + "' is not a .npy array; .npz archives hold only .npy entries");
    // numpy.load would keep one of them silently; which one a model gets must not depend on that.
    if (!names.insert(e.name).second)
      corrupt(path, "entry '" + excerpt(e.name) + "' appears twice; an archive must name each array once");
  }
  NamedArrays out;
  for (const Entry& e : entries) {
    try {
      out.emplace_back(e.name.substr(0, e.name.size() - kNpySuffix.size()), read_entry(zip, e, path));
    } catch (const std::bad_alloc& error) {
      throw std::runtime_error(entry_where(path, e.name) + ": out of memory (" + error.what() + ")");
    }
  }
  return out;
}

void save_npy(const std::string& path, const Tensor& t) {
  if (!t.defined()) throw std::invalid_argument("save_npy(" + path + "): the tensor is undefined");
  write_whole_file(path, encode_npy(t), "save_npy");
}

Tensor load_npy(const std::string& path) {
  const Bytes bytes = read_whole_file(path, "load_npy");
  return decode_npy(bytes.data(), bytes.size(), "load_npy: " + path);
}

}  // namespace graphjit
