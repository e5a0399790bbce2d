#include <doctest/doctest.h>

#include <graphjit/runtime/datasets.hpp>
#include <graphjit/runtime/idx.hpp>

#include "requirement.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

using namespace graphjit;
using graphjit::testing::contains;
using graphjit::testing::require;
using graphjit::testing::TempDir;
using graphjit::testing::thrown_message;

namespace fs = std::filesystem;

namespace {

const char* kFileNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                            "t10k-labels-idx1-ubyte"};

// n images of 2x3 pixels whose bytes are (7*i + j) % 256 and labels i % 4, so every
// image is distinguishable and the order can be checked after the split.
Tensor synthetic_images(std::int64_t n) {
  Tensor t = Tensor::empty({n, 2, 3}, DType::uint8);
  for (std::int64_t k = 0; k < n * 6; ++k) t.data<std::uint8_t>()[k] = static_cast<std::uint8_t>((7 * (k / 6) + k % 6) % 256);
  return t;
}
Tensor synthetic_labels(std::int64_t n) {
  Tensor t = Tensor::empty({n}, DType::uint8);
  for (std::int64_t i = 0; i < n; ++i) t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i % 4);
  return t;
}

// A directory in MNIST layout: a gzipped training pair and a raw test pair.
void write_synthetic(const TempDir& dir, std::int64_t n_train, std::int64_t n_test) {
  save_idx(dir.file("train-images-idx3-ubyte.gz"), synthetic_images(n_train));
  save_idx(dir.file("train-labels-idx1-ubyte.gz"), synthetic_labels(n_train));
  save_idx(dir.file("t10k-images-idx3-ubyte"), synthetic_images(n_test));
  save_idx(dir.file("t10k-labels-idx1-ubyte"), synthetic_labels(n_test));
}

// Sets an environment variable for one scope, restoring the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

bool has_all_files(const std::string& dir) {
  return std::all_of(std::begin(kFileNames), std::end(kFileNames), [&](const char* f) {
    return fs::exists(fs::path(dir) / f) || fs::exists(fs::path(dir) / (std::string(f) + ".gz"));
  });
}

struct Summary {
  double sum = 0, min = 1e300, max = -1e300;
};
Summary summarize(const Tensor& x) {
  Summary s;
  for (float v : x.to_vector<float>()) {
    s.sum += v;
    s.min = std::min<double>(s.min, v);
    s.max = std::max<double>(s.max, v);
  }
  return s;
}

// How many labels of each class 0..9; labels outside that range count in an 11th slot.
std::vector<std::int64_t> class_counts(const Tensor& y) {
  std::vector<std::int64_t> counts(11, 0);
  for (std::int32_t label : y.to_vector<std::int32_t>()) ++counts[label >= 0 && label < 10 ? label : 10];
  if (counts[10] == 0) counts.pop_back();
  return counts;
}

}  // namespace

TEST_CASE("load_dataset splits off the last sixth of the training file for validation") {
  TempDir dir;
  write_synthetic(dir, 14, 4);  // 14 / 6 = 2 validation images, 12 training
  Dataset d = load_dataset(dir.path().string(), DType::float64);
  CHECK(d.train.x.shape() == Shape{12, 6});
  CHECK(d.valid.x.shape() == Shape{2, 6});
  CHECK(d.test.x.shape() == Shape{4, 6});
  CHECK(d.train.y.dtype() == DType::int32);
  CHECK(d.train.y.equal(Tensor::from_vector<std::int32_t>({0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3})));
  CHECK(d.valid.y.equal(Tensor::from_vector<std::int32_t>({0, 1})));
  CHECK(d.test.y.equal(Tensor::from_vector<std::int32_t>({0, 1, 2, 3})));
  // Image 12 is the first validation image: its pixel j is (84 + j) / 255.
  CHECK(d.valid.x.get({0, 0}) == doctest::Approx(84.0 / 255));
  CHECK(d.valid.x.get({0, 5}) == doctest::Approx(89.0 / 255));
  CHECK(d.train.x.get({1, 2}) == doctest::Approx(9.0 / 255));
  CHECK(contains(d.description, "train 12, valid 2"));
  CHECK(contains(d.description, "test 4"));
}

TEST_CASE("load_dataset scales bytes 0..255 to exactly 0..1 in the requested float type") {
  TempDir dir;
  write_synthetic(dir, 48, 2);  // the 40 training images hold bytes 0 (image 0) and 255 (7*36 + 3)
  for (DType t : {DType::float32, DType::float64}) {
    Dataset d = load_dataset(dir.path().string(), t);
    CHECK(d.train.x.dtype() == t);
    const std::vector<double> v = d.train.x.to_vector<double>();
    CHECK(*std::min_element(v.begin(), v.end()) == 0.0);
    CHECK(*std::max_element(v.begin(), v.end()) == 1.0);
  }
  CHECK(contains(thrown_message<std::invalid_argument>([&] { load_dataset(dir.path().string(), DType::int32); }),
                 "x_dtype must be float32 or float64"));
}

TEST_CASE("load_dataset names the missing file and how to get it") {
  TempDir dir;
  write_synthetic(dir, 12, 2);
  fs::remove(dir.file("t10k-labels-idx1-ubyte"));
  std::string msg = thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); });
  CHECK(contains(msg, dir.file("t10k-labels-idx1-ubyte") + "[.gz]"));

  {
    ScopedEnv data("GRAPHJIT_DATA_DIR", dir.file("nowhere"));
    msg = thrown_message<std::runtime_error>([&] { load_dataset("mnist", DType::float32); });
    CHECK(contains(msg, dir.file("nowhere") + "/mnist/train-images-idx3-ubyte[.gz]"));
    CHECK(contains(msg, "scripts/setup-data.sh"));
  }
  {
    ScopedEnv fashion("GRAPHJIT_FASHION_DIR", dir.file("nowhere"));
    CHECK(contains(thrown_message<std::runtime_error>([&] { load_dataset("fashion", DType::float32); }),
                   "apt-get install dataset-fashion-mnist"));
  }
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_dataset(dir.file("no-such-dir"), DType::float32); }),
                 "not \"fashion\", \"mnist\" or an existing directory"));
}

TEST_CASE("load_dataset resolves its directories from the environment") {
  TempDir dir;
  {
    ScopedEnv fashion("GRAPHJIT_FASHION_DIR", dir.path().string());
    CHECK(dataset_dir("fashion") == dir.path().string());
    write_synthetic(dir, 12, 3);
    CHECK(load_dataset("fashion", DType::float32).test.x.shape() == Shape{3, 6});
  }
  {
    ScopedEnv data("GRAPHJIT_DATA_DIR", "/data");
    CHECK(dataset_dir("mnist") == "/data/mnist");
  }
  {
    ScopedEnv data("GRAPHJIT_DATA_DIR", "");
    ScopedEnv cache("XDG_CACHE_HOME", "/cache");
    CHECK(dataset_dir("mnist") == "/cache/graphjit/mnist");
  }
}

TEST_CASE("load_dataset rejects inconsistent files") {
  TempDir dir;
  write_synthetic(dir, 12, 2);
  save_idx(dir.file("t10k-labels-idx1-ubyte"), synthetic_labels(3));
  std::string msg = thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); });
  CHECK(contains(msg, "3 labels for the 2 images"));

  write_synthetic(dir, 12, 2);
  save_idx(dir.file("t10k-images-idx3-ubyte"), Tensor::zeros({2, 2, 3}, DType::float32));
  msg = thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); });
  CHECK(contains(msg, "expected (n, rows, cols) uint8 images, found (2, 2, 3) float32"));

  write_synthetic(dir, 5, 2);
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); }),
                 "at least 6"));
}

TEST_CASE("load_dataset rejects bad records at load, naming the file and the record") {
  TempDir dir;
  // A training label outside the classes: once found only after an epoch, by a batch-relative index.
  write_synthetic(dir, 12, 2);
  Tensor labels = synthetic_labels(12);
  labels.data<std::uint8_t>()[7] = 10;
  save_idx(dir.file("train-labels-idx1-ubyte.gz"), labels);
  std::string msg = thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); });
  CHECK(contains(msg, dir.file("train-labels-idx1-ubyte.gz")));
  CHECK(contains(msg, "label 7 is 10; labels must be classes 0 to 9"));
  // The same label is fine when there are more classes; a test label past them is not (once a silent miss).
  CHECK(load_dataset(dir.path().string(), DType::float32, 11).train.y.to_vector<int>()[7] == 10);
  write_synthetic(dir, 12, 2);
  save_idx(dir.file("t10k-labels-idx1-ubyte"), Tensor::from_vector<std::int32_t>({0, 1000}));
  msg = thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32, 4); });
  CHECK(contains(msg, dir.file("t10k-labels-idx1-ubyte")));
  CHECK(contains(msg, "label 1 is 1000; labels must be classes 0 to 3"));
  // An int32 label that converts to a valid one only by wrapping is caught before the conversion.
  save_idx(dir.file("t10k-labels-idx1-ubyte"), Tensor::from_vector<std::int32_t>({0, -2}));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); }),
                 "label 1 is -2"));

  // 0x0 images, and a file of no images.
  write_synthetic(dir, 12, 2);
  save_idx(dir.file("t10k-images-idx3-ubyte"), Tensor::zeros({2, 0, 0}, DType::uint8));
  msg = thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); });
  CHECK(contains(msg, dir.file("t10k-images-idx3-ubyte")));
  CHECK(contains(msg, "images of 0x0 pixels hold no data"));
  save_idx(dir.file("t10k-images-idx3-ubyte"), Tensor::zeros({0, 2, 3}, DType::uint8));
  save_idx(dir.file("t10k-labels-idx1-ubyte"), Tensor::zeros({0}, DType::uint8));
  CHECK(contains(thrown_message<std::runtime_error>([&] { load_dataset(dir.path().string(), DType::float32); }),
                 "holds no images"));
}

TEST_CASE("load_dataset(\"fashion\") loads the installed Fashion-MNIST") {
  const std::string dir = dataset_dir("fashion");
  if (!require(has_all_files(dir), "Fashion-MNIST in " + dir + " (run scripts/setup-data.sh)")) return;
  Dataset d = load_dataset("fashion", DType::float32);
  CHECK(d.train.x.shape() == Shape{50000, 784});
  CHECK(d.valid.x.shape() == Shape{10000, 784});
  CHECK(d.test.x.shape() == Shape{10000, 784});
  CHECK(d.train.y.shape() == Shape{50000});
  CHECK(d.valid.y.shape() == Shape{10000});
  CHECK(d.test.y.shape() == Shape{10000});
  CHECK(d.train.x.dtype() == DType::float32);

  // Reference values computed with numpy from the same files.
  CHECK(class_counts(d.train.y) == std::vector<std::int64_t>{4977, 5012, 4992, 4979, 4950, 5004, 5030, 5045, 5032, 4979});
  CHECK(class_counts(d.valid.y) == std::vector<std::int64_t>{1023, 988, 1008, 1021, 1050, 996, 970, 955, 968, 1021});
  CHECK(class_counts(d.test.y) == std::vector<std::int64_t>(10, 1000));
  CHECK(d.train.y.slice(0, 0, 5).equal(Tensor::from_vector<std::int32_t>({9, 0, 0, 3, 0})));
  CHECK(d.valid.y.slice(0, 0, 5).equal(Tensor::from_vector<std::int32_t>({9, 2, 1, 0, 2})));
  const double byte_sums[] = {2853847097.0, 577267072.0, 573469082.0};  // sums of the raw pixel bytes
  const Split* splits[] = {&d.train, &d.valid, &d.test};
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Summary s = summarize(splits[i]->x);
    CHECK(s.min == 0.0);
    CHECK(s.max == 1.0);
    CHECK(s.sum * 255 == doctest::Approx(byte_sums[i]).epsilon(1e-6));
  }
  CHECK(contains(d.description, "Fashion-MNIST"));
}

namespace {
// This process's resident set in KiB (Linux).
std::int64_t resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}
}  // namespace

// The raw bytes of the training file (47 MB) were kept by the cache of large
// freed blocks, so a training run held them from start to end (examples/lenet's
// peak RSS target is the data plus 300 MB).
TEST_CASE("load_dataset(\"fashion\") keeps nothing in memory beyond the images and labels it returns") {
  const std::string dir = dataset_dir("fashion");
  if (!require(has_all_files(dir), "Fashion-MNIST in " + dir + " (run scripts/setup-data.sh)")) return;
  const std::int64_t before = resident_kib();
  {
    Dataset d = load_dataset("fashion", DType::float32);
    const std::int64_t data_kib = (70000 * 784 * 4 + 70000 * 4) / 1024;
    const std::int64_t grown = resident_kib() - before;
    CAPTURE(grown);
    CHECK(grown < data_kib + 16 * 1024);  // 16 MiB of slack; the raw train bytes alone are 45 MiB
  }
}

TEST_CASE("load_dataset(\"mnist\") loads the digits converted by scripts/setup-data.sh") {
  const std::string dir = dataset_dir("mnist");
  if (!require(has_all_files(dir), "MNIST in " + dir + " (run scripts/setup-data.sh as this user)")) return;
  Dataset d = load_dataset("mnist", DType::float64);
  CHECK(d.train.x.shape() == Shape{6667, 784});
  CHECK(d.valid.x.shape() == Shape{1333, 784});
  CHECK(d.test.x.shape() == Shape{2000, 784});
  // The converter's stratified, evenly interleaved split puts every digit in every set in proportion.
  CHECK(class_counts(d.train.y) == std::vector<std::int64_t>{668, 752, 661, 688, 653, 575, 676, 713, 629, 652});
  CHECK(class_counts(d.valid.y) == std::vector<std::int64_t>{133, 150, 132, 138, 131, 115, 135, 143, 126, 130});
  CHECK(class_counts(d.test.y) == std::vector<std::int64_t>{200, 225, 198, 206, 196, 173, 203, 214, 189, 196});
  for (const Split* s : {&d.train, &d.valid, &d.test}) {
    Summary sum = summarize(s->x);
    CHECK(sum.min == 0.0);
    CHECK(sum.max == 1.0);
  }
}
