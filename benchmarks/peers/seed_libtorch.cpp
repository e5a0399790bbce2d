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
#include "libtorch_peer.hpp"

#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace libtorch_peer;

constexpr int64_t kBatch = 500;
constexpr int64_t kHidden = 128;
constexpr int64_t kClasses = 10;
constexpr double kLearningRate = 0.3;

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
    epoch_line(epoch, loss_sum / double(batches), valid_loss, valid_accuracy, elapsed.count());
  }
  final_line(evaluate(params, data.test).second, epoch_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parse(argc, argv, "seed_libtorch", /*extra=*/{}));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "seed_libtorch: %s\n", error.what());
    return 2;
  }
}
