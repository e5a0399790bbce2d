// What the LibTorch race peers share (seed_libtorch.cpp, rnn_libtorch.cpp, lenet_libtorch.cpp):
// the Fashion-MNIST split every peer uses (first 50,000 train images train,
// the last 10,000 validate, t10k tests; pixels / 255 in the run's dtype), the
// JSON lines of peer_report.py, and .npz/.npy readers for race.py's shared init
// and epoch orders.
#pragma once

#include <sys/resource.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace libtorch_peer {

constexpr int64_t kTrainRows = 50000;  // the first 50,000 train images; the last 10,000 validate
constexpr int64_t kPixels = 784;

struct Options {
  std::string dtype = "float64";
  int epochs = 10;
  uint64_t seed = 1234;
  int threads = 2;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string variant = "loop";  // rnn_libtorch: loop or nn
  std::string init;              // --init: an .npz of starting parameters (rnn_libtorch, lenet_libtorch)
  std::string order;             // --order: an .npy whose row e-1 is the permutation after epoch e (lenet_libtorch)
  int64_t train_rows = 0;        // --train-rows: train on the first N images only; 0: all (lenet_libtorch)
  int time_steps = 0;            // > 0: only time this many train steps on random data (lenet_libtorch)
};

// --dtype, --epochs, --seed, --threads, --data-dir, --time-steps, and those of --variant, --init,
// --order and --train-rows the program names in `extra`, over `options`' defaults.
inline Options parse(int argc, char** argv, const std::string& program, const std::set<std::string>& extra,
                     Options options = {}) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--dtype") options.dtype = value;
    else if (flag == "--epochs") options.epochs = std::stoi(value);
    else if (flag == "--seed") options.seed = std::stoull(value);
    else if (flag == "--threads") options.threads = std::stoi(value);
    else if (flag == "--data-dir") options.data_dir = value;
    else if (flag == "--time-steps") options.time_steps = std::stoi(value);
    else if (extra.count(flag) && flag == "--variant") options.variant = value;
    else if (extra.count(flag) && flag == "--init") options.init = value;
    else if (extra.count(flag) && flag == "--order") options.order = value;
    else if (extra.count(flag) && flag == "--train-rows") options.train_rows = std::stoll(value);
    else {
      std::string known = "--dtype, --epochs, --seed, --threads, --data-dir, --time-steps";
      for (const auto& e : extra) known += ", " + e;
      throw std::invalid_argument(program + ": unknown flag " + flag + " (use " + known + ")");
    }
  }
  if (options.train_rows < 0) throw std::invalid_argument("--train-rows must be at least 1 (or 0: all)");
  if (options.dtype != "float64" && options.dtype != "float32")
    throw std::invalid_argument("--dtype " + options.dtype + ": use float64 or float32");
  if (options.epochs < 1) throw std::invalid_argument("--epochs must be at least 1");
  if (options.variant != "loop" && options.variant != "nn")
    throw std::invalid_argument(program + ": --variant " + options.variant + ": use loop or nn");
  return options;
}

// An idx file (big-endian header: magic, then one uint32 per dimension, then uint8 data).
inline torch::Tensor read_idx(const std::string& path, uint32_t expected_magic) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw std::runtime_error(path + ": cannot open (is Fashion-MNIST installed? pass --data-dir)");
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  int got;
  while ((got = gzread(file, chunk, sizeof chunk)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  gzclose(file);
  auto be32 = [&](std::size_t at) {
    if (at + 4 > bytes.size()) throw std::runtime_error(path + ": truncated idx header");
    return uint32_t(bytes[at]) << 24 | uint32_t(bytes[at + 1]) << 16 | uint32_t(bytes[at + 2]) << 8 |
           uint32_t(bytes[at + 3]);
  };
  if (got < 0 || be32(0) != expected_magic)
    throw std::runtime_error(path + ": not an idx file with magic " + std::to_string(expected_magic));
  int dims = bytes[3];
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (int d = 0; d < dims; ++d) {
    shape.push_back(be32(4 + 4 * d));
    count *= shape.back();
  }
  std::size_t offset = 4 + 4 * dims;
  if (bytes.size() - offset != std::size_t(count))
    throw std::runtime_error(path + ": header and data size disagree");
  return torch::from_blob(bytes.data() + offset, shape, torch::kUInt8).clone();
}

struct Split {
  torch::Tensor x, y;
};

struct Data {
  Split train, valid, test;
};

inline Data load(const std::string& dir, torch::Dtype dtype) {
  auto images = [&](const std::string& name) {
    auto pixels = read_idx(dir + "/" + name, 0x803);
    // divide in the target dtype, as seed_numpy.py does
    return pixels.reshape({pixels.size(0), kPixels}).to(dtype) / 255;
  };
  auto labels = [&](const std::string& name) { return read_idx(dir + "/" + name, 0x801).to(torch::kInt64); };
  auto train_x = images("train-images-idx3-ubyte.gz");
  auto train_y = labels("train-labels-idx1-ubyte.gz");
  using torch::indexing::Slice;
  return {{train_x.index({Slice(0, kTrainRows)}), train_y.index({Slice(0, kTrainRows)})},
          {train_x.index({Slice(kTrainRows)}).clone(), train_y.index({Slice(kTrainRows)}).clone()},
          {images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")}};
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

inline void epoch_line(int epoch, double train_loss, double valid_loss, double valid_accuracy, double seconds) {
  std::printf(
      "{\"epoch\": %d, \"train_loss\": %.17g, \"valid_loss\": %.17g, \"valid_accuracy\": %.17g, "
      "\"seconds\": %.9g}\n",
      epoch, train_loss, valid_loss, valid_accuracy, seconds);
  std::fflush(stdout);
}

inline void final_line(double test_accuracy, const std::vector<double>& epoch_seconds) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"test_accuracy\": %.17g, \"median_epoch_seconds\": %.9g, \"peak_rss_mb\": %.6g}\n",
              test_accuracy, median(epoch_seconds), usage.ru_maxrss / 1024.0);  // Linux: KiB
  std::fflush(stdout);
}

// One .npy (numpy.save's format) held in `npy`: a C-ordered little-endian
// float64 or int64 array. `what` names it in errors.
inline torch::Tensor parse_npy(const std::string& npy, const std::string& what) {
  if (npy.size() < 10 || npy.compare(1, 5, "NUMPY") != 0) throw std::runtime_error(what + " is not an .npy");
  const std::size_t header_len = static_cast<unsigned char>(npy[8]) | static_cast<unsigned char>(npy[9]) << 8;
  if (npy.size() < 10 + header_len) throw std::runtime_error(what + ": truncated .npy header");
  const std::string header = npy.substr(10, header_len);
  const bool f8 = header.find("'<f8'") != std::string::npos, i8 = header.find("'<i8'") != std::string::npos;
  if (!(f8 || i8) || header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(what + " is not a C-ordered float64 or int64 array");
  std::vector<int64_t> shape;
  int64_t count = 1;
  const std::size_t open = header.find('(', header.find("'shape'")), close = header.find(')', open);
  for (std::size_t p = open + 1; p < close;) {
    const std::size_t comma = std::min(header.find(',', p), close);
    if (comma > p) shape.push_back(std::stoll(header.substr(p, comma - p)));
    count *= comma > p ? shape.back() : 1;
    p = comma + 1;
  }
  if (npy.size() - 10 - header_len != std::size_t(count) * 8)
    throw std::runtime_error(what + ": the header's shape and the data size disagree");
  std::vector<char> copy(npy.begin() + 10 + header_len, npy.end());
  return torch::from_blob(copy.data(), shape, f8 ? torch::kFloat64 : torch::kInt64).clone();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A float64 or int64 array written by numpy.save.
inline torch::Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

// The arrays of an .npz written by numpy.savez (a zip of stored, uncompressed
// .npy files, sizes possibly in a zip64 extra field), by name.
inline std::map<std::string, torch::Tensor> read_npz(const std::string& path) {
  const std::string bytes = read_file(path);
  auto le = [&](std::size_t at, int n) {
    if (at + n > bytes.size()) throw std::runtime_error(path + ": truncated zip");
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  std::map<std::string, torch::Tensor> arrays;
  std::size_t at = 0;
  while (at + 30 <= bytes.size() && le(at, 4) == 0x04034b50) {
    if (le(at + 8, 2) != 0) throw std::runtime_error(path + ": compressed member (write it with numpy.savez)");
    uint64_t size = le(at + 18, 4);
    const std::size_t name_len = le(at + 26, 2), extra_len = le(at + 28, 2);
    std::string name = bytes.substr(at + 30, name_len);
    for (std::size_t e = at + 30 + name_len; e + 4 <= at + 30 + name_len + extra_len; e += 4 + le(e + 2, 2))
      if (le(e, 2) == 1 && size == 0xFFFFFFFFu) size = le(e + 12, 8);  // zip64: original size, then this one
    const std::size_t data = at + 30 + name_len + extra_len;
    torch::Tensor array = parse_npy(bytes.substr(data, size), path + ": " + name);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    arrays[name] = array;
    at = data + size;
  }
  return arrays;
}

// The --order file (race.py's, shared by every system): row e-1 is the
// permutation of the training rows applied after epoch e.
inline torch::Tensor read_orders(const std::string& path, int epochs, int64_t rows) {
  auto orders = read_npy(path);
  if (orders.dim() != 2 || orders.size(0) < epochs - 1 || orders.size(1) != rows || orders.scalar_type() != torch::kInt64)
    throw std::runtime_error("--order " + path + ": needs int64 of shape (at least " + std::to_string(epochs - 1) +
                             ", " + std::to_string(rows) + ")");
  return orders;
}

}  // namespace libtorch_peer
