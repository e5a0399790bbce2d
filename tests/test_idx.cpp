#include <doctest/doctest.h>

#include <graphjit/runtime/idx.hpp>

#include "requirement.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <cstdlib>
#include <filesystem>

using namespace graphjit;
using namespace graphjit::testing;

namespace {

// An IDX header written by hand, independent of save_idx.
std::string idx_header(unsigned char type_code, std::initializer_list<std::uint32_t> dims) {
  std::string h{'\0', '\0', static_cast<char>(type_code), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xFF);
  return h;
}

}  // namespace

TEST_CASE("save_idx writes the documented big-endian layout") {
  TempDir dir;
  save_idx(dir.file("a.idx"), Tensor::from_vector<std::int32_t>({0x01020304, -2}, {1, 2}));
  const std::string expected = idx_header(0x0C, {1, 2}) + std::string("\x01\x02\x03\x04\xFF\xFF\xFF\xFE", 8);
  CHECK(read_bytes(dir.file("a.idx")) == expected);
}

TEST_CASE("load_idx reads a hand-written file") {
  TempDir dir;
  write_bytes(dir.file("u8"), idx_header(0x08, {2, 3}) + std::string("\x00\x01\x02\xFD\xFE\xFF", 6));
  Tensor t = load_idx(dir.file("u8"));
  CHECK(t.equal(Tensor::from_vector<std::uint8_t>({0, 1, 2, 253, 254, 255}, {2, 3})));

  // 1.5f is 0x3FC00000; big-endian on disk whatever the host.
  write_bytes(dir.file("f32"), idx_header(0x0D, {1}) + std::string("\x3F\xC0\x00\x00", 4));
  CHECK(load_idx(dir.file("f32")).equal(Tensor::from_vector<float>({1.5f}, {1})));
}

TEST_CASE("save_idx / load_idx round trip every IDX element type, raw and gzipped") {
  TempDir dir;
  const std::vector<Tensor> tensors = {
      Tensor::from_vector<std::uint8_t>({0, 7, 128, 255}, {2, 2}),
      Tensor::from_vector<std::int8_t>({-128, -1, 0, 127}),
      Tensor::from_vector<std::int16_t>({-32768, -2, 300, 32767}, {2, 1, 2}),
      Tensor::from_vector<std::int32_t>({-2147483647 - 1, -5, 65536, 2147483647}),
      Tensor::from_vector<float>({-1.5f, 0.0f, 3.25e-7f, 1e30f}, {4, 1}),
      Tensor::from_vector<double>({-1e300, 0.1, 2.0 / 3.0, 5.0}, {1, 4}),
      Tensor::zeros({0, 28, 28}, DType::uint8),
  };
  for (const char* name : {"t.idx", "t.idx.gz"}) {
    for (const Tensor& t : tensors) {
      CAPTURE(name);
      CAPTURE(t.to_string());
      save_idx(dir.file(name), t);
      Tensor back = load_idx(dir.file(name));
      CHECK(back.equal(t));
    }
  }
  CHECK(dir.entry_count() == 2);  // no temporary files left behind
}

TEST_CASE("save_idx compresses by extension and load_idx detects gzip by content") {
  TempDir dir;
  Tensor t = Tensor::full({100, 100}, 3, DType::uint8);
  save_idx(dir.file("x.gz"), t);
  save_idx(dir.file("x.raw"), t);
  const std::string gz = read_bytes(dir.file("x.gz"));
  const std::string raw = read_bytes(dir.file("x.raw"));
  CHECK(gz.substr(0, 2) == "\x1f\x8b");
  CHECK(raw.size() == 4 + 8 + 10000);
  CHECK(gz.size() < raw.size() / 10);
  std::filesystem::rename(dir.file("x.gz"), dir.file("misnamed.idx"));
  CHECK(load_idx(dir.file("misnamed.idx")).equal(t));
}

TEST_CASE("save_idx writes views in logical order") {
  TempDir dir;
  Tensor m = Tensor::from_vector<std::int16_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  save_idx(dir.file("t.idx"), m.transpose());
  CHECK(load_idx(dir.file("t.idx")).equal(Tensor::from_vector<std::int16_t>({1, 4, 2, 5, 3, 6}, {3, 2})));
}

TEST_CASE("load_idx reports missing, foreign and truncated files") {
  TempDir dir;
  const std::string path = dir.file("bad");

  std::string msg = thrown_message<std::runtime_error>([&] { load_idx(dir.file("absent.gz")); });
  CHECK(contains(msg, dir.file("absent.gz")));
  CHECK(contains(msg, "No such file"));

  // The header of Theano's training images (60000 x 28 x 28) followed by 1200 bytes.
  write_bytes(path, idx_header(0x08, {60000, 28, 28}) + std::string(1200, '\x10'));
  msg = thrown_message<std::runtime_error>([&] { load_idx(path); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "expected 47040000 bytes"));
  CHECK(contains(msg, "file has 1200"));

  write_bytes(path, "\x89PNG\r\n\x1a\n and more");
  msg = thrown_message<std::runtime_error>([&] { load_idx(path); });
  CHECK(contains(msg, "not an IDX file"));
  CHECK(contains(msg, "0x89 0x50"));

  write_bytes(path, idx_header(0x07, {3}) + "abc");
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(path); }), "unknown IDX element type code 0x07"));

  write_bytes(path, std::string("\0\0", 2));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(path); }), "too short"));

  write_bytes(path, idx_header(0x08, {3, 4}).substr(0, 7));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(path); }), "ends inside them"));

  write_bytes(path, idx_header(0x08, {3}) + "abcd");
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(path); }), "continues after the 3 data bytes"));

  write_bytes(path, idx_header(0x08, {0x80000000u}));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(path); }), "negative"));
}

TEST_CASE("load_idx rejects cut-short and corrupt gzip files") {
  TempDir dir;
  Tensor t = Tensor::arange(50000, DType::int32);
  save_idx(dir.file("full.gz"), t);
  const std::string gz = read_bytes(dir.file("full.gz"));

  write_bytes(dir.file("cut.gz"), gz.substr(0, gz.size() / 2));
  std::string msg = thrown_message<std::runtime_error>([&] { load_idx(dir.file("cut.gz")); });
  CHECK(contains(msg, dir.file("cut.gz")));
  CHECK(contains(msg, "expected 200000 bytes"));
  CHECK(contains(msg, "truncated"));

  // Cut inside the 8-byte trailer: every data byte is there, but the file is still incomplete.
  write_bytes(dir.file("cut.gz"), gz.substr(0, gz.size() - 4));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(dir.file("cut.gz")); }), "truncated"));

  // Damage in the middle of the deflate stream (or its CRC) must not yield silently wrong numbers.
  std::string damaged = gz;
  for (std::size_t i = gz.size() / 2; i < gz.size() / 2 + 16; ++i) damaged[i] = static_cast<char>(damaged[i] ^ 0x5A);
  write_bytes(dir.file("damaged.gz"), damaged);
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(dir.file("damaged.gz")); }), "gzip data"));
}

TEST_CASE("load_idx refuses a header promising more than the file can hold, before allocating") {
  TempDir dir;
  // (2^31-1)^2 uint8 elements: about 4 EiB, which must be refused, not allocated.
  write_bytes(dir.file("forged"), idx_header(0x08, {0x7FFFFFFF, 0x7FFFFFFF}));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(dir.file("forged")); }), "file has 0"));

  // 2^62 int32 elements are exactly 2^64 bytes: a byte count that wraps to 0
  // once passed for an empty file and reached the allocator (a fuzz_readers finding).
  write_bytes(dir.file("wraps"), idx_header(0x0C, {1u << 14, 1u << 24, 1u << 24}));
  std::string msg = thrown_message<std::runtime_error>([&] { load_idx(dir.file("wraps")); });
  CHECK(contains(msg, "impossibly large"));
  CHECK(contains(msg, "(16384, 16777216, 16777216)"));

  const std::string gzip = "gzip -n -c " + dir.file("forged") + " > " + dir.file("forged.gz");
  if (!require(std::system(gzip.c_str()) == 0, "gzip (`" + gzip + "` failed)")) return;
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_idx(dir.file("forged.gz")); }),
                 "more than a gzip file of"));
}

TEST_CASE("load_idx reads gzip files made of several members, like `cat a.gz b.gz`") {
  TempDir dir;
  write_bytes(dir.file("p1"), idx_header(0x08, {6}) + "abc");
  write_bytes(dir.file("p2"), "def");
  const std::string gzip = "gzip -n -c " + dir.file("p1") + " > " + dir.file("m.gz") + " && gzip -n -c " +
                           dir.file("p2") + " >> " + dir.file("m.gz");
  if (!require(std::system(gzip.c_str()) == 0, "gzip (`" + gzip + "` failed)")) return;
  CHECK(load_idx(dir.file("m.gz")).equal(Tensor::from_vector<std::uint8_t>({'a', 'b', 'c', 'd', 'e', 'f'})));
}

TEST_CASE("save_idx rejects types IDX cannot hold and leaves existing files intact") {
  TempDir dir;
  const std::string path = dir.file("keep.idx");
  save_idx(path, Tensor::from_vector<std::uint8_t>({1, 2, 3}));
  const std::string before = read_bytes(path);

  std::string msg =
      thrown_message<std::invalid_argument>([&] { save_idx(path, Tensor::from_vector<std::int64_t>({1, 2})); });
  CHECK(contains(msg, "int64"));
  CHECK(contains(msg, "astype"));
  CHECK(contains(thrown_message<std::invalid_argument>([&] { save_idx(path, Tensor()); }), "undefined"));
  CHECK(read_bytes(path) == before);

  CHECK_THROWS_AS(save_idx(dir.file("no/such/dir/x.idx"), Tensor::from_vector<std::uint8_t>({1})), std::runtime_error);
  CHECK(dir.entry_count() == 1);
}

TEST_CASE("load_idx reads the installed Fashion-MNIST test labels") {
  const std::string path = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  if (!require(std::filesystem::exists(path), path + " (run scripts/setup-data.sh)")) return;
  Tensor labels = load_idx(path);
  CHECK(labels.dtype() == DType::uint8);
  CHECK(labels.shape() == Shape{10000});
  // The first five test labels: ankle boot, pullover, trouser, trouser, shirt.
  CHECK(labels.slice(0, 0, 5).equal(Tensor::from_vector<std::uint8_t>({9, 2, 1, 1, 6})));
}
