// examples/rnn_mnist's RNN in LibTorch (PyTorch's C++ API): a race peer for the
// RNN workload, the same model, data, init and JSON lines as rnn_torch.py.
//   h_0 = 0, h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h) over the 28 rows of an
//   image, p = softmax(h_28 W_hy + b_y), mean negative log-likelihood, plain
//   SGD (lr 0.05, batch 100), epoch 1 in file order, a reshuffle after each
//   epoch (torch's generator: the order differs from the Python peers').
// --variant loop   eager autograd with a C++ loop over the 28 steps
// --variant nn     torch::nn::RNN (a second bias b_hh, zero at the start and
//                  trained, as in rnn_torch.py)
// --init FILE.npz  start from these float64 parameters (W_xh, W_hh, b_h, W_hy,
//                  b_y; race.py writes it); default: Glorot uniform from --seed
//
// Build (race.py does this; no CMake, so the main build never needs torch):
//   g++ -O2 -std=c++17 -I/usr/include/torch/csrc/api/include rnn_libtorch.cpp
//       -o rnn_libtorch -ltorch -ltorch_cpu -lc10 -lz   (one command line)
// Run with OMP_WAIT_POLICY=PASSIVE (see benchmarks/peers/README.md).
#include "libtorch_peer.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace libtorch_peer;

constexpr int64_t kSteps = 28, kRow = 28, kHidden = 128, kClasses = 10, kBatch = 100;
constexpr double kLearningRate = 0.05;

std::map<std::string, torch::Tensor> glorot_init() {
  auto glorot = [](int64_t n_in, int64_t n_out) {
    const double bound = std::sqrt(6.0 / double(n_in + n_out));
    return torch::empty({n_in, n_out}, torch::kFloat64).uniform_(-bound, bound);
  };
  return {{"W_xh", glorot(kRow, kHidden)}, {"W_hh", glorot(kHidden, kHidden)}, {"b_h", torch::zeros({kHidden}, torch::kFloat64)},
          {"W_hy", glorot(kHidden, kClasses)}, {"b_y", torch::zeros({kClasses}, torch::kFloat64)}};
}

// The model's parameters (what SGD updates) and its logits for a batch of images.
struct Model {
  virtual ~Model() = default;
  virtual torch::Tensor logits(const torch::Tensor& x) = 0;
  std::vector<torch::Tensor> params;
};

// The rows of a batch of images as a (steps, batch, row) sequence.
torch::Tensor as_steps(const torch::Tensor& x) { return x.view({-1, kSteps, kRow}).transpose(0, 1); }

struct LoopModel : Model {
  explicit LoopModel(const std::map<std::string, torch::Tensor>& init, torch::Dtype dtype) {
    for (const char* name : {"W_xh", "W_hh", "b_h", "W_hy", "b_y"})
      params.push_back(init.at(name).to(dtype).clone().requires_grad_());
  }
  torch::Tensor logits(const torch::Tensor& x) override {
    const auto& [W_xh, W_hh, b_h, W_hy, b_y] = std::tie(params[0], params[1], params[2], params[3], params[4]);
    const torch::Tensor rows = as_steps(x);
    torch::Tensor h = torch::zeros({x.size(0), kHidden}, x.options());
    for (int64_t t = 0; t < kSteps; ++t) h = torch::tanh(torch::addmm(b_h, rows[t], W_xh) + h.mm(W_hh));
    return torch::addmm(b_y, h, W_hy);
  }
};

struct NnModel : Model {
  torch::nn::RNN rnn{torch::nn::RNNOptions(kRow, kHidden).nonlinearity(torch::kTanh)};
  explicit NnModel(const std::map<std::string, torch::Tensor>& init, torch::Dtype dtype) {
    rnn->to(dtype);
    {
      torch::NoGradGuard no_grad;
      rnn->named_parameters()["weight_ih_l0"].copy_(init.at("W_xh").t());
      rnn->named_parameters()["weight_hh_l0"].copy_(init.at("W_hh").t());
      rnn->named_parameters()["bias_ih_l0"].copy_(init.at("b_h"));
      rnn->named_parameters()["bias_hh_l0"].zero_();
    }
    params = rnn->parameters();
    params.push_back(init.at("W_hy").to(dtype).clone().requires_grad_());
    params.push_back(init.at("b_y").to(dtype).clone().requires_grad_());
  }
  torch::Tensor logits(const torch::Tensor& x) override {
    const torch::Tensor h = std::get<1>(rnn->forward(as_steps(x)));
    return torch::addmm(params[params.size() - 1], h[-1], params[params.size() - 2]);
  }
};

double train_step(Model& model, const torch::Tensor& x, const torch::Tensor& y) {
  const torch::Tensor loss = torch::nn::functional::cross_entropy(model.logits(x), y);
  const auto grads = torch::autograd::grad({loss}, model.params);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < grads.size(); ++i) model.params[i].sub_(grads[i], kLearningRate);
  return loss.item<double>();
}

std::pair<double, double> evaluate(Model& model, const Split& split) {
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model.logits(split.x);
  return {torch::nn::functional::cross_entropy(logits, split.y).item<double>(),
          logits.argmax(1).eq(split.y).to(torch::kFloat64).mean().item<double>()};
}

void run(const Options& options) {
  torch::set_num_threads(options.threads);
  torch::manual_seed(options.seed);
  const auto dtype = options.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
  Data data = load(options.data_dir, dtype);
  const auto init = options.init.empty() ? glorot_init() : read_npz(options.init);
  for (const char* name : {"W_xh", "W_hh", "b_h", "W_hy", "b_y"})
    if (!init.count(name)) throw std::runtime_error(options.init + ": no array '" + name + "'");
  std::unique_ptr<Model> model;
  if (options.variant == "loop") model = std::make_unique<LoopModel>(init, dtype);
  else model = std::make_unique<NnModel>(init, dtype);
  using torch::indexing::Slice;
  const torch::Tensor orders = options.order.empty() ? torch::Tensor() : read_orders(options.order, options.epochs, kTrainRows);
  std::vector<double> epoch_seconds;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    double loss_sum = 0;
    const int64_t batches = kTrainRows / kBatch;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < batches; ++k) {
      const auto rows = Slice(k * kBatch, (k + 1) * kBatch);
      loss_sum += train_step(*model, data.train.x.index({rows}), data.train.y.index({rows}));
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    epoch_seconds.push_back(elapsed.count());
    if (epoch < options.epochs) {  // the reshuffle: race.py's order (--order), else torch's generator
      const auto order = orders.defined() ? orders[epoch - 1] : torch::randperm(kTrainRows, torch::kInt64);
      data.train = {data.train.x.index_select(0, order), data.train.y.index_select(0, order)};
    }
    const auto [valid_loss, valid_accuracy] = evaluate(*model, data.valid);
    epoch_line(epoch, loss_sum / double(batches), valid_loss, valid_accuracy, elapsed.count());
  }
  final_line(evaluate(*model, data.test).second, epoch_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parse(argc, argv, "rnn_libtorch", {"--variant", "--init", "--order"}));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "rnn_libtorch: %s\n", error.what());
    return 2;
  }
}
