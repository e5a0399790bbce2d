#include <doctest/doctest.h>

#include <graphjit/runtime/npz.hpp>

#include "requirement.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <cstdlib>
#include <filesystem>

using namespace graphjit;
using namespace graphjit::testing;

namespace {

// One array of every supported dtype, plus the shapes that trip up encoders.
NamedArrays sample_arrays() {
  return {
      {"W1", Tensor::from_vector<double>({0.5, -1.25, 3e-300, 1e300, -0.0, 7.0}, {2, 3})},
      {"b1", Tensor::from_vector<float>({1.5f, -2.0f, 0.1f})},
      {"idx", Tensor::from_vector<std::int32_t>({-7, 0, 2147483647})},
      {"big", Tensor::from_vector<std::int64_t>({-(std::int64_t{1} << 62), 5})},
      {"pix", Tensor::from_vector<std::uint8_t>({0, 1, 254, 255}, {2, 2})},
      {"mask", Tensor::from_vector<bool>({true, false, true})},
      {"small", Tensor::from_vector<std::int8_t>({-128, 127})},
      {"mid", Tensor::from_vector<std::int16_t>({-32768, 32767})},
      {"s", Tensor::scalar<double>(2.5)},
      {"empty", Tensor::zeros({0, 4}, DType::float32)},
      // A transposed view: must be written in logical order, [[0, 3], [1, 4], [2, 5]].
      {"T", Tensor::from_vector<std::int32_t>({0, 1, 2, 3, 4, 5}, {2, 3}).transpose()},
  };
}

void check_same(const NamedArrays& got, const NamedArrays& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(expected[i].first);
    CHECK(got[i].first == expected[i].first);
    CHECK(got[i].second.equal(expected[i].second));
  }
}

// Replaces every occurrence of `from` in the file's bytes by `to` (same length); returns how many.
std::size_t patch_file(const std::string& path, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  std::string bytes = read_bytes(path);
  std::size_t count = 0;
  for (auto at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + to.size()), ++count)
    bytes.replace(at, from.size(), to);
  REQUIRE(count > 0);
  write_bytes(path, bytes);
  return count;
}

// Where the data starts in an NPY version 1.0 file: after magic, version, length and header.
std::size_t npy_data_offset(const std::string& bytes) {
  return 10 + (static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8);
}

// Debian's python3-numpy; the pyenv python3 on PATH has no numpy.
constexpr const char* kPython = "/usr/bin/python3";

bool numpy_available() {
  return std::filesystem::exists(kPython) &&
         std::system((std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0;
}

// Runs a Python program with the directory as its argument; true if it exits 0.
bool run_python(const TempDir& dir, const std::string& program) {
  write_bytes(dir.file("check.py"), program);
  return std::system((std::string(kPython) + " " + dir.file("check.py") + " " + dir.path().string()).c_str()) == 0;
}

}  // namespace

TEST_CASE("save_npz / load_npz round trip every dtype, in order") {
  TempDir dir;
  save_npz(dir.file("m.npz"), sample_arrays());
  check_same(load_npz(dir.file("m.npz")), sample_arrays());
  CHECK(load_npz(dir.file("m.npz"))[10].second.shape() == Shape{3, 2});
  save_npz(dir.file("none.npz"), {});
  CHECK(load_npz(dir.file("none.npz")).empty());
  CHECK(dir.entry_count() == 2);  // no temporary files left behind
}

TEST_CASE("save_npz writes a deterministic ZIP of .npy entries") {
  TempDir dir;
  save_npz(dir.file("a.npz"), sample_arrays());
  save_npz(dir.file("b.npz"), sample_arrays());
  const std::string bytes = read_bytes(dir.file("a.npz"));
  CHECK(bytes == read_bytes(dir.file("b.npz")));
  CHECK(bytes.substr(0, 4) == "PK\x03\x04");
  CHECK(bytes.substr(30, 6) == "W1.npy");  // the first entry's name follows its 30-byte local header
  CHECK(bytes.substr(36, 6) == "\x93NUMPY");
}

TEST_CASE("save_npy writes numpy's version 1.0 header, 64-byte aligned") {
  TempDir dir;
  const auto header_of = [&](const Tensor& t) {
    save_npy(dir.file("a.npy"), t);
    const std::string bytes = read_bytes(dir.file("a.npy"));
    const std::size_t data = npy_data_offset(bytes);
    CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK(data % 64 == 0);
    CHECK(bytes[data - 1] == '\n');
    CHECK(bytes.size() == data + t.nbytes());
    std::string dict = bytes.substr(10, data - 10);
    return dict.substr(0, dict.find_last_not_of(" \n") + 1);
  };
  CHECK(header_of(Tensor::zeros({2, 3}, DType::float64)) == "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }");
  CHECK(header_of(Tensor::zeros({5}, DType::uint8)) == "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }");
  CHECK(header_of(Tensor::scalar<bool>(true)) == "{'descr': '|b1', 'fortran_order': False, 'shape': (), }");
  CHECK(header_of(Tensor::zeros({1, 2, 3}, DType::int32)) == "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2, 3), }");
}

TEST_CASE("load_npy honours byte order and Fortran order") {
  TempDir dir;
  const std::string path = dir.file("a.npy");
  save_npy(path, Tensor::from_vector<std::int32_t>({1, 2}));
  patch_file(path, "'<i4'", "'>i4'");
  CHECK(load_npy(path).equal(Tensor::from_vector<std::int32_t>({1 << 24, 2 << 24})));

  // The same six numbers read column-major: element [i, j] is data[j * 2 + i].
  save_npy(path, Tensor::from_vector<std::int32_t>({0, 1, 2, 3, 4, 5}, {2, 3}));
  patch_file(path, "False", "True ");
  CHECK(load_npy(path).equal(Tensor::from_vector<std::int32_t>({0, 2, 4, 1, 3, 5}, {2, 3})));
}

TEST_CASE("load_npy and load_npz explain bad input") {
  TempDir dir;
  const std::string npy = dir.file("a.npy");

  std::string msg = thrown_message<std::runtime_error>([&] { load_npz(dir.file("absent.npz")); });
  CHECK(contains(msg, dir.file("absent.npz")));
  CHECK(contains(msg, "No such file"));

  write_bytes(dir.file("text.npz"), "W1,b1\n0.5,1.5\n");
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npz(dir.file("text.npz")); }), "ZIP archive"));
  write_bytes(npy, "W1,b1\n0.5,1.5\n");
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npy(npy); }), "not an NPY array"));

  save_npy(npy, Tensor::zeros({2, 2}, DType::float64));
  patch_file(npy, "'<f8'", "'<c8'");
  msg = thrown_message<std::runtime_error>([&] { load_npy(npy); });
  CHECK(contains(msg, "dtype '<c8' is not supported"));
  CHECK(contains(msg, npy));
  patch_file(npy, "'<c8'", "'|O' ");
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npy(npy); }), "pickle"));
  patch_file(npy, "'|O' ", "'<f8'");
  patch_file(npy, "'shape'", "'shapr'");
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npy(npy); }), "unexpected key 'shapr'"));

  save_npy(npy, Tensor::zeros({2, 2}, DType::float64));
  write_bytes(npy, read_bytes(npy).substr(0, npy_data_offset(read_bytes(npy)) + 20));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npy(npy); }), "needs 32 bytes of data, the file has 20"));

  save_npy(npy, Tensor::from_vector<bool>({true, false}));
  write_bytes(npy, read_bytes(npy).substr(0, npy_data_offset(read_bytes(npy))) + std::string("\x01\x02", 2));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npy(npy); }), "bool element 1 has byte value 2"));
}

TEST_CASE("load_npz detects damaged archives") {
  TempDir dir;
  const std::string path = dir.file("m.npz");
  save_npz(path, {{"W", Tensor::full({10, 10}, 0.25, DType::float64)}});
  const std::string good = read_bytes(path);

  std::string flipped = good;
  flipped[30 + 5 + 128 + 400] ^= 0x01;  // a data byte of the only entry (after its 128-byte NPY header)
  write_bytes(path, flipped);
  std::string msg = thrown_message<std::runtime_error>([&] { load_npz(path); });
  CHECK(contains(msg, "entry 'W.npy'"));
  CHECK(contains(msg, "CRC-32 mismatch"));

  write_bytes(path, good.substr(0, good.size() - 30));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npz(path); }), "not a ZIP archive"));
  write_bytes(path, good.substr(0, 30 + 5 + 100) + good.substr(good.size() - 22 - 51));
  CHECK(thrown_message<std::runtime_error>([&] { load_npz(path); }) != "<no exception>");

  write_bytes(path, good);
  CHECK(patch_file(path, "W.npy", "W.txt") == 2);  // the local header's and the central directory's copy
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_npz(path); }), "entry 'W.txt' is not a .npy array"));
}

TEST_CASE("save_npz rejects bad keys and keeps the old file on failure") {
  TempDir dir;
  const std::string path = dir.file("m.npz");
  save_npz(path, {{"a", Tensor::from_vector<float>({1.0f})}});
  const std::string before = read_bytes(path);
  const Tensor x = Tensor::from_vector<float>({2.0f});
  CHECK(contains(thrown_message<std::invalid_argument>([&] { save_npz(path, {{"a", x}, {"a", x}}); }), "'a' appears twice"));
  CHECK(contains(thrown_message<std::invalid_argument>([&] { save_npz(path, {{"", x}}); }), "empty key"));
  CHECK(contains(thrown_message<std::invalid_argument>([&] { save_npz(path, {{"u", Tensor()}}); }), "'u' is undefined"));
  CHECK(read_bytes(path) == before);
  CHECK(dir.entry_count() == 1);
}

TEST_CASE("numpy reads what save_npz and save_npy write") {
  if (!require(numpy_available(), std::string(kPython) + " with numpy (apt-get install python3-numpy)")) return;
  TempDir dir;
  save_npz(dir.file("cpp.npz"), sample_arrays());
  save_npy(dir.file("cpp.npy"), Tensor::from_vector<float>({0.5f, 2.0f, -3.0f}, {3, 1}));
  CHECK(run_python(dir, R"(
import sys, numpy as np
d = sys.argv[1]
z = np.load(d + '/cpp.npz')
expected = dict(
    W1=np.array([[0.5, -1.25, 3e-300], [1e300, -0.0, 7.0]]),
    b1=np.array([1.5, -2.0, 0.1], np.float32),
    idx=np.array([-7, 0, 2147483647], np.int32),
    big=np.array([-(2**62), 5], np.int64),
    pix=np.array([[0, 1], [254, 255]], np.uint8),
    mask=np.array([True, False, True]),
    small=np.array([-128, 127], np.int8),
    mid=np.array([-32768, 32767], np.int16),
    s=np.array(2.5),
    empty=np.zeros((0, 4), np.float32),
    T=np.array([[0, 3], [1, 4], [2, 5]], np.int32),
)
assert z.files == list(expected), z.files
for k, v in expected.items():
    got = z[k]
    assert got.dtype == v.dtype and got.shape == v.shape and np.array_equal(got, v), (k, got, v)
assert np.signbit(z['W1'][1, 1])
one = np.load(d + '/cpp.npy')
assert one.dtype == np.float32 and one.shape == (3, 1) and one.ravel().tolist() == [0.5, 2.0, -3.0]
)"));
}

TEST_CASE("load_npz and load_npy read numpy.savez, numpy.savez_compressed and numpy.save") {
  if (!require(numpy_available(), std::string(kPython) + " with numpy (apt-get install python3-numpy)")) return;
  TempDir dir;
  REQUIRE(run_python(dir, R"(
import sys, numpy as np
d = sys.argv[1]
arrays = dict(
    a=np.arange(12, dtype='<f8').reshape(3, 4) / 8,
    f=np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
    be=np.array([1.5, -2.0], dtype='>f8'),
    b=np.array([True, False, True]),
    u=np.arange(250, 256, dtype=np.uint8),
    i8=np.array([-5, 2**40], dtype=np.int64),
    f4=np.array([[0.25, -1]], dtype=np.float32),
    s=np.float64(3.0),
    e=np.zeros((0, 3), np.int16),
    ramp=np.arange(100000, dtype=np.float32),
)
np.savez(d + '/py.npz', **arrays)
np.savez_compressed(d + '/pyc.npz', **arrays)
np.save(d + '/one.npy', np.arange(5, dtype=np.int16))
)"));
  std::vector<double> ramp(100000);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<double>(i);
  const NamedArrays expected = {
      {"a", Tensor::from_vector<double>({0, .125, .25, .375, .5, .625, .75, .875, 1, 1.125, 1.25, 1.375}, {3, 4})},
      {"f", Tensor::from_vector<std::int32_t>({0, 1, 2, 3, 4, 5}, {2, 3})},
      {"be", Tensor::from_vector<double>({1.5, -2.0})},
      {"b", Tensor::from_vector<bool>({true, false, true})},
      {"u", Tensor::from_vector<std::uint8_t>({250, 251, 252, 253, 254, 255})},
      {"i8", Tensor::from_vector<std::int64_t>({-5, std::int64_t{1} << 40})},
      {"f4", Tensor::from_vector<float>({0.25f, -1.0f}, {1, 2})},
      {"s", Tensor::scalar<double>(3.0)},
      {"e", Tensor::zeros({0, 3}, DType::int16)},
      {"ramp", Tensor::from_vector<double>(ramp).astype(DType::float32)},
  };
  for (const char* name : {"py.npz", "pyc.npz"}) {
    CAPTURE(name);
    check_same(load_npz(dir.file(name)), expected);
  }
  CHECK(read_bytes(dir.file("pyc.npz")).size() < read_bytes(dir.file("py.npz")).size());  // really deflated
  CHECK(load_npy(dir.file("one.npy")).equal(Tensor::from_vector<std::int16_t>({0, 1, 2, 3, 4})));
}
