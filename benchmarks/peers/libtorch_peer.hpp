// What the LibTorch race peers share (the C++ side of fashion_data.py and
// peer_report.py): their flags, Fashion-MNIST read from the idx files into
// torch tensors with the train/valid/test split of mnist_mlp, and the JSON
// lines race.py reads. Header-only, so each peer stays one g++ command.
#pragma once

#include <sys/resource.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace peer {

constexpr int64_t kTrainRows = 50000;  // the first 50,000 train images; the last 10,000 validate
constexpr int64_t kPixels = 784;

struct Options {
  std::string dtype = "float64";
  int epochs = 10;
  uint64_t seed = 1234;
  int threads = 2;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  int time_steps = 0;  // > 0: only time this many train steps on random data
};

// Reads the flags over `options`' defaults.
inline Options parse(int argc, char** argv, Options options) {
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
    else throw std::invalid_argument("unknown flag " + flag +
                                     " (use --dtype, --epochs, --seed, --threads, --data-dir, --time-steps)");
  }
  if (options.dtype != "float64" && options.dtype != "float32")
    throw std::invalid_argument("--dtype " + options.dtype + ": use float64 or float32");
  if (options.epochs < 1) throw std::invalid_argument("--epochs must be at least 1");
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

inline void print_epoch(int epoch, double train_loss, double valid_loss, double valid_accuracy, double seconds) {
  std::printf(
      "{\"epoch\": %d, \"train_loss\": %.17g, \"valid_loss\": %.17g, \"valid_accuracy\": %.17g, "
      "\"seconds\": %.9g}\n",
      epoch, train_loss, valid_loss, valid_accuracy, seconds);
  std::fflush(stdout);
}

inline void print_final(double test_accuracy, const std::vector<double>& epoch_seconds) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"test_accuracy\": %.17g, \"median_epoch_seconds\": %.9g, \"peak_rss_mb\": %.6g}\n",
              test_accuracy, median(epoch_seconds), usage.ru_maxrss / 1024.0);  // Linux: KiB
}

}  // namespace peer
