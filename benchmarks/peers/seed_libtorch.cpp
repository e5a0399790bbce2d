// The seed MLP in LibTorch (PyTorch's C++ API), eager with autograd: a race peer.
// The same model, data split, batch, learning rate and JSON lines as seed_numpy.py;
// the Glorot weights and the epoch permutations come from torch's own seeded
// generator, so the run is not bit-identical to the Python peers, only alike.
//
// Build (race.py does this; no CMake, so the main build never needs torch):
//   g++ -O2 -std=c++17 -I/usr/include/torch/csrc/api/include seed_libtorch.cpp
//       -o seed_libtorch -ltorch -ltorch_cpu -lc10 -lz   (one command line)
// Run: seed_libtorch --dtype float64|float32 [--epochs N] [--seed S] [--threads T]
//      [--data-dir DIR]; set OMP_WAIT_POLICY=PASSIVE (see benchmarks/peers/README.md).
#include <sys/resource.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int64_t kTrainRows = 50000;  // the first 50,000 train images; the last 10,000 validate
constexpr int64_t kBatch = 500;
constexpr int64_t kPixels = 784;
constexpr int64_t kHidden = 128;
constexpr int64_t kClasses = 10;
constexpr double kLearningRate = 0.3;

struct Options {
  std::string dtype = "float64";
  int epochs = 10;
  uint64_t seed = 1234;
  int threads = 2;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--dtype") options.dtype = value;
    else if (flag == "--epochs") options.epochs = std::stoi(value);
    else if (flag == "--seed") options.seed = std::stoull(value);
    else if (flag == "--threads") options.threads = std::stoi(value);
    else if (flag == "--data-dir") options.data_dir = value;
    else throw std::invalid_argument("unknown flag " + flag +
                                     " (use --dtype, --epochs, --seed, --threads, --data-dir)");
  }
  if (options.dtype != "float64" && options.dtype != "float32")
    throw std::invalid_argument("--dtype " + options.dtype + ": use float64 or float32");
  if (options.epochs < 1) throw std::invalid_argument("--epochs must be at least 1");
  return options;
}

// An idx file (big-endian header: magic, then one uint32 per dimension, then uint8 data).
torch::Tensor read_idx(const std::string& path, uint32_t expected_magic) {
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

Data load(const std::string& dir, torch::Dtype dtype) {
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

struct Params {
  torch::Tensor w1, b1, w2, b2;
  std::vector<torch::Tensor> all() const { return {w1, b1, w2, b2}; }
};

torch::Tensor glorot(int64_t n_in, int64_t n_out, torch::Dtype dtype) {
  double bound = std::sqrt(6.0 / double(n_in + n_out));
  return torch::empty({n_in, n_out}, dtype).uniform_(-bound, bound).requires_grad_();
}

Params init(torch::Dtype dtype) {
  return {glorot(kPixels, kHidden, dtype), torch::zeros({kHidden}, dtype).requires_grad_(),
          glorot(kHidden, kClasses, dtype), torch::zeros({kClasses}, dtype).requires_grad_()};
}

struct Forward {
  torch::Tensor loss, out;
};

Forward forward(const Params& p, const torch::Tensor& x, const torch::Tensor& y) {
  auto hidden = torch::tanh(torch::addmm(p.b1, x, p.w1));
  auto out = torch::softmax(torch::addmm(p.b2, hidden, p.w2), 1);
  auto one_hot = torch::one_hot(y, kClasses).to(out.scalar_type());
  return {(one_hot - out).pow(2).mean(), out};
}

double accuracy(const torch::Tensor& out, const torch::Tensor& y) {
  return out.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
}

// Returns (loss, accuracy) of the weights before the update, as Theano's train() does.
std::pair<double, double> train_step(Params& p, const torch::Tensor& x, const torch::Tensor& y) {
  auto result = forward(p, x, y);
  auto params = p.all();
  auto grads = torch::autograd::grad({result.loss}, params);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].sub_(grads[i], kLearningRate);
  return {result.loss.item<double>(), accuracy(result.out, y)};
}

std::pair<double, double> evaluate(const Params& p, const Split& split) {
  torch::NoGradGuard no_grad;
  auto result = forward(p, split.x, split.y);
  return {result.loss.item<double>(), accuracy(result.out, split.y)};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void run(const Options& options) {
  torch::set_num_threads(options.threads);
  torch::manual_seed(options.seed);
  auto dtype = options.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
  Data data = load(options.data_dir, dtype);
  Params params = init(dtype);
  using torch::indexing::Slice;

  std::vector<double> epoch_seconds;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    double loss_sum = 0;
    int64_t batches = kTrainRows / kBatch;
    auto start = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < batches; ++k) {
      auto rows = Slice(k * kBatch, (k + 1) * kBatch);
      loss_sum += train_step(params, data.train.x.index({rows}), data.train.y.index({rows})).first;
    }
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    epoch_seconds.push_back(elapsed.count());
    auto order = torch::randperm(kTrainRows, torch::kInt64);
    data.train = {data.train.x.index_select(0, order), data.train.y.index_select(0, order)};
    auto [valid_loss, valid_accuracy] = evaluate(params, data.valid);
    std::printf(
        "{\"epoch\": %d, \"train_loss\": %.17g, \"valid_loss\": %.17g, \"valid_accuracy\": %.17g, "
        "\"seconds\": %.9g}\n",
        epoch, loss_sum / double(batches), valid_loss, valid_accuracy, elapsed.count());
    std::fflush(stdout);
  }
  double test_accuracy = evaluate(params, data.test).second;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"test_accuracy\": %.17g, \"median_epoch_seconds\": %.9g, \"peak_rss_mb\": %.6g}\n",
              test_accuracy, median(epoch_seconds), usage.ru_maxrss / 1024.0);  // Linux: KiB
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parse(argc, argv));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "seed_libtorch: %s\n", error.what());
    return 2;
  }
}
