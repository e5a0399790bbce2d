// Hand-crafted hostile archives: claimed sizes no data can back, ZIP64 claims,
// duplicate keys and huge headers. The loader must refuse each with an error
// naming the file and the entry, allocate no more than the data can hold, and
// keep untrusted text out of its messages beyond a line's worth.
#include <doctest/doctest.h>

#include <graphjit/runtime/npz.hpp>

#include "runtime/npy_format.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace graphjit;
using namespace graphjit::testing;

namespace {

std::uint32_t crc32(const std::string& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put_le(std::string& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// A raw deflate stream made of stored blocks: valid input for any inflater,
// no zlib needed to write it.
std::string deflate_stored(const std::string& data) {
  std::string out;
  std::size_t at = 0;
  do {
    const std::size_t n = std::min<std::size_t>(0xFFFF, data.size() - at);
    const bool last = at + n == data.size();
    out += static_cast<char>(last ? 1 : 0);
    put_le(out, n, 2);
    put_le(out, ~n & 0xFFFF, 2);
    out += data.substr(at, n);
    at += n;
  } while (at < data.size());
  return out;
}

std::string npy_of(const Tensor& t) {
  const std::vector<unsigned char> bytes = encode_npy(t);
  return {bytes.begin(), bytes.end()};
}

struct ZipEntry {
  std::string name;
  std::string payload;         // the bytes stored (deflated or not)
  std::uint16_t method = 0;    // 0 stored, 8 deflated
  std::uint32_t crc = 0;
  std::uint64_t size = 0;      // claimed uncompressed size
  bool zip64 = false;          // sizes in a ZIP64 extra field
  std::uint64_t compressed_size_claim = UINT64_MAX;  // default: the payload's size
};

ZipEntry stored(const std::string& name, const std::string& npy) {
  return {name, npy, 0, crc32(npy), npy.size()};
}
ZipEntry deflated(const std::string& name, const std::string& npy) {
  return {name, deflate_stored(npy), 8, crc32(npy), npy.size()};
}

// A ZIP archive with exactly these headers; `entries_claim` overrides the
// entry count in a ZIP64 end record when set.
std::string make_zip(const std::vector<ZipEntry>& entries, std::uint64_t entries_claim = 0) {
  std::string zip, central;
  for (const ZipEntry& e : entries) {
    const std::uint64_t offset = zip.size();
    const std::uint64_t csize = e.compressed_size_claim == UINT64_MAX ? e.payload.size() : e.compressed_size_claim;
    std::string extra;
    if (e.zip64) {
      put_le(extra, 0x0001, 2);
      put_le(extra, 16, 2);
      put_le(extra, e.size, 8);
      put_le(extra, csize, 8);
    }
    auto common = [&](std::string& out) {
      put_le(out, 20, 2);  // version needed
      put_le(out, 0, 2);   // flags
      put_le(out, e.method, 2);
      put_le(out, 0, 2);
      put_le(out, 33, 2);  // time, date
      put_le(out, e.crc, 4);
      put_le(out, e.zip64 ? 0xFFFFFFFFu : csize, 4);
      put_le(out, e.zip64 ? 0xFFFFFFFFu : e.size, 4);
      put_le(out, e.name.size(), 2);
      put_le(out, extra.size(), 2);
    };
    put_le(zip, 0x04034b50, 4);
    common(zip);
    zip += e.name + extra + e.payload;
    put_le(central, 0x02014b50, 4);
    put_le(central, 20, 2);  // version made by
    common(central);
    put_le(central, 0, 2);
    put_le(central, 0, 2);
    put_le(central, 0, 2);
    put_le(central, 0, 4);  // comment length, disk, internal and external attributes
    put_le(central, offset, 4);
    central += e.name + extra;
  }
  const std::uint64_t central_offset = zip.size();
  zip += central;
  if (entries_claim) {
    const std::uint64_t end64 = zip.size();
    put_le(zip, 0x06064b50, 4);
    put_le(zip, 44, 8);
    put_le(zip, 45, 2);
    put_le(zip, 45, 2);
    put_le(zip, 0, 4);
    put_le(zip, 0, 4);
    put_le(zip, entries_claim, 8);
    put_le(zip, entries_claim, 8);
    put_le(zip, central.size(), 8);
    put_le(zip, central_offset, 8);
    put_le(zip, 0x07064b50, 4);
    put_le(zip, 0, 4);
    put_le(zip, end64, 8);
    put_le(zip, 1, 4);
  }
  put_le(zip, 0x06054b50, 4);
  put_le(zip, 0, 4);
  put_le(zip, entries_claim ? 0xFFFF : entries.size(), 2);
  put_le(zip, entries_claim ? 0xFFFF : entries.size(), 2);
  put_le(zip, central.size(), 4);
  put_le(zip, entries_claim ? 0xFFFFFFFFu : central_offset, 4);
  put_le(zip, 0, 2);
  return zip;
}

long max_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// The error load_npz throws for these bytes, which must name the file.
std::string load_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("hostile.npz");
  write_bytes(path, bytes);
  const std::string msg = thrown_message<std::runtime_error>([&] { load_npz(path); });
  INFO("message: ", msg.substr(0, 1000));
  CHECK(contains(msg, path));
  return msg;
}

const Tensor kSmall = Tensor::from_vector<float>({1.5f, -2.0f, 0.25f});

}  // namespace

TEST_CASE("crafted archives load when they are honest") {
  TempDir dir;
  const std::string path = dir.file("ok.npz");
  const Tensor big = Tensor::arange(20000, DType::float64);  // several stored deflate blocks
  ZipEntry b = deflated("big.npy", npy_of(big));
  b.zip64 = true;
  write_bytes(path, make_zip({stored("small.npy", npy_of(kSmall)), b}));
  const NamedArrays arrays = load_npz(path);
  REQUIRE(arrays.size() == 2);
  CHECK(arrays[0].first == "small");
  CHECK(arrays[0].second.equal(kSmall));
  CHECK(arrays[1].first == "big");
  CHECK(arrays[1].second.equal(big));
}

TEST_CASE("a small file claiming 4 GiB uncompressed is refused before anything is allocated") {
  TempDir dir;
  ZipEntry e = deflated("W.npy", npy_of(kSmall));
  e.size = 0xFFFFFFF0u;
  const std::string bytes = make_zip({e});
  CHECK(bytes.size() < 300);
  const long rss_before = max_rss_kb();
  const std::string msg = load_error(dir, bytes);
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "claims 4294967280 bytes uncompressed"));
  CHECK(max_rss_kb() - rss_before < 100 * 1024);  // zeroing 4 GiB would show here
}

TEST_CASE("a claimed size within deflate's reach is checked against the NPY header") {
  TempDir dir;
  // 80 KB of data: the header comes out before the first 64 KiB piece is full.
  ZipEntry e = deflated("W.npy", npy_of(Tensor::arange(10000, DType::float64)));
  const std::uint64_t real = e.size;
  e.size = real * 2;
  const std::string msg = load_error(dir, make_zip({e}));
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "the archive says the entry has " + std::to_string(real * 2) + " bytes, its NPY header says " +
                          std::to_string(real)));
}

TEST_CASE("ZIP64 claims give errors naming the entry, not bad_alloc or length_error") {
  TempDir dir;
  ZipEntry huge = deflated("W.npy", npy_of(kSmall));
  huge.zip64 = true;
  huge.size = std::uint64_t{1} << 62;
  std::string msg = load_error(dir, make_zip({huge}));
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "deflate cannot expand data more than 1032 times"));

  ZipEntry long_stored = stored("b.npy", npy_of(kSmall));
  long_stored.zip64 = true;
  long_stored.size = long_stored.compressed_size_claim = std::uint64_t{1} << 40;
  msg = load_error(dir, make_zip({long_stored}));
  CHECK(contains(msg, "the data of entry 'b.npy'"));
  CHECK(contains(msg, "runs past the end"));

  msg = load_error(dir, make_zip({stored("a.npy", npy_of(kSmall))}, std::uint64_t{1} << 32));
  CHECK(contains(msg, "the central directory claims 4294967296 entries"));
}

TEST_CASE("an archive naming one array twice is refused") {
  TempDir dir;
  const std::string msg =
      load_error(dir, make_zip({stored("W.npy", npy_of(kSmall)), stored("W.npy", npy_of(Tensor::zeros({3}, DType::float32)))}));
  CHECK(contains(msg, "entry 'W.npy' appears twice"));
}

TEST_CASE("a huge NPY header is not copied into the error message") {
  TempDir dir;
  // Version 2.0 (4-byte header length) with a 100 KB dtype string.
  const std::string header = "{'descr': '" + std::string(100000, 'x') + "', 'fortran_order': False, 'shape': (3,), }\n";
  std::string npy = "\x93NUMPY";
  npy += '\x02';
  npy += '\x00';
  put_le(npy, header.size(), 4);
  npy += header + std::string(12, '\0');
  const std::string msg = load_error(dir, make_zip({stored("W.npy", npy)}));
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "is not supported"));
  CHECK(msg.size() < 1000);

  // A malformed one, so the parser's own message quotes the header.
  std::string bad = npy;
  bad[10 + 2] = '!';  // {'!escr': ...
  const std::string parse_msg = load_error(dir, make_zip({stored("W.npy", bad)}));
  CHECK(contains(parse_msg, "bad NPY header"));
  CHECK(contains(parse_msg, "bytes)"));
  CHECK(parse_msg.size() < 1000);

  // A 60 KB entry name is shortened the same way.
  const std::string long_name = std::string(60000, 'n') + ".npy";
  const std::string name_msg =
      load_error(dir, make_zip({stored(long_name, npy_of(kSmall)), stored(long_name, npy_of(kSmall))}));
  CHECK(contains(name_msg, "appears twice"));
  CHECK(name_msg.size() < 1000);
}

TEST_CASE("an NPY header claiming more data than the entry holds allocates nothing") {
  TempDir dir;
  std::string npy = npy_of(kSmall);
  const std::string from = "(3,)", to = "(1000000, 1000000)";
  npy.replace(npy.find(from), from.size(), to);
  npy.erase(npy.find('\n') - (to.size() - from.size()), to.size() - from.size());  // keep the header's length
  const long rss_before = max_rss_kb();
  const std::string msg = load_error(dir, make_zip({deflated("W.npy", npy)}));
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "needs 4000000000000 bytes of data, the file has 12"));
  CHECK(max_rss_kb() - rss_before < 100 * 1024);
}

TEST_CASE("corrupt deflate data, other compression methods and encryption are refused naming the entry") {
  TempDir dir;
  // Corrupt: a stored-block header whose length check (NLEN) does not match.
  ZipEntry corrupt = deflated("W.npy", npy_of(kSmall));
  corrupt.payload[3] ^= 0x5A;
  std::string msg = load_error(dir, make_zip({corrupt}));
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "the compressed data is corrupt or truncated"));
  // Truncated: the stream stops before its end.
  ZipEntry truncated = deflated("W.npy", npy_of(kSmall));
  truncated.payload.resize(truncated.payload.size() / 2);
  CHECK(contains(load_error(dir, make_zip({truncated})), "corrupt or truncated"));
  // bzip2 (method 12).
  ZipEntry bzip2 = stored("W.npy", npy_of(kSmall));
  bzip2.method = 12;
  msg = load_error(dir, make_zip({bzip2}));
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "compression method 12 is not supported"));
  // Encrypted (flag bit 0): patch the flags of both headers.
  std::string bytes = make_zip({stored("W.npy", npy_of(kSmall))});
  for (std::size_t at = bytes.find("PK\x03\x04"); at != std::string::npos; at = bytes.find("PK\x03\x04", at + 1)) bytes[at + 6] = 1;
  for (std::size_t at = bytes.find("PK\x01\x02"); at != std::string::npos; at = bytes.find("PK\x01\x02", at + 1)) bytes[at + 8] = 1;
  CHECK(contains(load_error(dir, bytes), "encrypted entries are not supported"));
}
