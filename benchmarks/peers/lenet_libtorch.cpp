// LeNet (the deeplearning.net tutorial's convolutional_mlp.py) in LibTorch
// (PyTorch's C++ API), eager with autograd: a race peer, the C++ twin of
// lenet_torch.py. Same model as examples/lenet (conv 20x5x5 -> 2x2 max pool
// -> tanh(+b) -> conv 50x5x5 -> pool -> tanh(+b) -> tanh(800->500) ->
// softmax(500->10)), mean negative log-likelihood, plain SGD lr 0.1, batch
// 500, the tutorial's init (uniform +-sqrt(6/(fan_in+fan_out)), fan_out =
// out_channels*kh*kw/pool area; the output layer from zeros). race.py gives
// every system the same start and the same batches: --init FILE.npz (keys as
// examples/lenet's checkpoints; Theano's filters, flipped once into torch's
// cross-correlation filters, which trains them identically) and --order
// FILE.npy (row e-1: the permutation of the training rows after epoch e).
// Without them the draws and permutations come from torch's own seeded
// generator, alike to the Python peer's but not identical. Epoch 1 visits the
// training set in file order.
//
// Build (race.py does this; no CMake, so the main build never needs torch):
//   g++ -O2 -std=c++17 -I/usr/include/torch/csrc/api/include lenet_libtorch.cpp
//       -o lenet_libtorch -ltorch -ltorch_cpu -lc10 -lz   (one command line)
// Run: lenet_libtorch --dtype float64|float32 [--epochs N] [--seed S] [--threads T]
//      [--data-dir DIR] [--init FILE.npz] [--order FILE.npy] [--train-rows N]
//      [--time-steps N]; set OMP_WAIT_POLICY=PASSIVE.
//      --time-steps N only times N train steps on one random batch (after a
//      warm-up step) and prints {"seconds_per_step": ...}, as lenet_torch.py.
#include "libtorch_peer.hpp"

#include <chrono>
#include <cmath>

namespace {

namespace peer = libtorch_peer;
using peer::Data, peer::Options, peer::Split, peer::kPixels;
namespace F = torch::nn::functional;

constexpr int64_t kBatch = 500;
constexpr double kLearningRate = 0.1;

struct Params {
  torch::Tensor conv1_W, conv1_b, conv2_W, conv2_b, fc_W, fc_b, out_W, out_b;
  std::vector<torch::Tensor> all() const { return {conv1_W, conv1_b, conv2_W, conv2_b, fc_W, fc_b, out_W, out_b}; }
};

torch::Tensor uniform(torch::IntArrayRef shape, int64_t fan_in, int64_t fan_out, torch::Dtype dtype) {
  const double bound = std::sqrt(6.0 / double(fan_in + fan_out));
  return torch::empty(shape, dtype).uniform_(-bound, bound).requires_grad_();
}

torch::Tensor zeros(torch::IntArrayRef shape, torch::Dtype dtype) { return torch::zeros(shape, dtype).requires_grad_(); }

Params init(torch::Dtype dtype) {
  return {uniform({20, 1, 5, 5}, 25, 20 * 25 / 4, dtype),    zeros({20}, dtype),
          uniform({50, 20, 5, 5}, 500, 50 * 25 / 4, dtype),  zeros({50}, dtype),
          uniform({800, 500}, 800, 500, dtype),              zeros({500}, dtype),
          zeros({500, 10}, dtype),                           zeros({10}, dtype)};
}

// examples/lenet's checkpoint layout (a race.py init), the filters flipped from Theano's into torch's.
Params load_init(const std::string& path, torch::Dtype dtype) {
  const auto arrays = peer::read_npz(path);
  auto get = [&](const std::string& key, bool filters) {
    auto it = arrays.find(key);
    if (it == arrays.end()) throw std::runtime_error(path + ": no array '" + key + "'");
    auto value = filters ? it->second.flip({2, 3}) : it->second;
    return value.to(dtype).contiguous().clone().requires_grad_();
  };
  return {get("conv1_W", true), get("conv1_b", false), get("conv2_W", true), get("conv2_b", false),
          get("fc_W", false),   get("fc_b", false),    get("out_W", false),  get("out_b", false)};
}

torch::Tensor log_probs(const Params& p, const torch::Tensor& x) {
  auto h = x.reshape({-1, 1, 28, 28});
  h = torch::tanh(torch::max_pool2d(torch::conv2d(h, p.conv1_W), 2) + p.conv1_b.view({1, -1, 1, 1}));
  h = torch::tanh(torch::max_pool2d(torch::conv2d(h, p.conv2_W), 2) + p.conv2_b.view({1, -1, 1, 1}));
  h = torch::tanh(torch::addmm(p.fc_b, h.flatten(1), p.fc_W));
  return torch::log_softmax(torch::addmm(p.out_b, h, p.out_W), 1);
}

double train_step(Params& p, const torch::Tensor& x, const torch::Tensor& y) {
  auto loss = F::nll_loss(log_probs(p, x), y);
  auto params = p.all();
  auto grads = torch::autograd::grad({loss}, params);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].sub_(grads[i], kLearningRate);
  return loss.item<double>();
}

// (mean loss, accuracy) over a split, in batches.
std::pair<double, double> evaluate(const Params& p, const Split& split) {
  torch::NoGradGuard no_grad;
  using torch::indexing::Slice;
  double loss = 0, correct = 0;
  const int64_t rows = split.x.size(0);
  for (int64_t k = 0; k < rows; k += kBatch) {
    auto lp = log_probs(p, split.x.index({Slice(k, k + kBatch)}));
    auto y = split.y.index({Slice(k, k + kBatch)});
    loss += F::nll_loss(lp, y, F::NLLLossFuncOptions().reduction(torch::kSum)).item<double>();
    correct += lp.argmax(1).eq(y).sum().item<double>();
  }
  return {loss / double(rows), correct / double(rows)};
}

double seconds_per_step(Params& params, int steps, torch::Dtype dtype) {
  auto x = torch::rand({kBatch, kPixels}, dtype);
  auto y = torch::randint(0, 10, {kBatch}, torch::kInt64);
  train_step(params, x, y);
  const auto start = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) train_step(params, x, y);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps;
}

void run(const Options& options) {
  torch::set_num_threads(options.threads);
  torch::manual_seed(options.seed);
  const auto dtype = options.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
  Params params = options.init.empty() ? init(dtype) : load_init(options.init, dtype);
  if (options.time_steps > 0) {
    std::printf("{\"seconds_per_step\": %.9g}\n", seconds_per_step(params, options.time_steps, dtype));
    return;
  }
  Data data = peer::load(options.data_dir, dtype);
  using torch::indexing::Slice;
  if (options.train_rows > 0)
    data.train = {data.train.x.index({Slice(0, options.train_rows)}).clone(),
                  data.train.y.index({Slice(0, options.train_rows)}).clone()};
  const int64_t train_rows = data.train.x.size(0);
  const torch::Tensor orders = options.order.empty() ? torch::Tensor() : peer::read_orders(options.order, options.epochs, train_rows);
  std::vector<double> epoch_seconds;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    double loss_sum = 0;
    const int64_t batches = train_rows / kBatch;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < batches; ++k) {
      const auto rows = Slice(k * kBatch, (k + 1) * kBatch);
      loss_sum += train_step(params, data.train.x.index({rows}), data.train.y.index({rows}));
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    epoch_seconds.push_back(elapsed.count());
    if (epoch < options.epochs) {  // reshuffle for the next epoch
      auto order = orders.defined() ? orders[epoch - 1] : torch::randperm(train_rows, torch::kInt64);
      data.train = {data.train.x.index_select(0, order), data.train.y.index_select(0, order)};
    }
    auto [valid_loss, valid_accuracy] = evaluate(params, data.valid);
    peer::epoch_line(epoch, loss_sum / double(batches), valid_loss, valid_accuracy, elapsed.count());
  }
  peer::final_line(evaluate(params, data.test).second, epoch_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options defaults;
    defaults.epochs = 3;
    run(peer::parse(argc, argv, "lenet_libtorch", {"--init", "--order", "--train-rows"}, defaults));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "lenet_libtorch: %s\n", error.what());
    return 2;
  }
}
