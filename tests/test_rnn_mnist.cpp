// examples/rnn_mnist's model on real data: on a small subset of
// Fashion-MNIST (the setup installs it) the RNN learns, its checkpoint keys
// and shapes are the contract, and --clip bounds the step.
#include <doctest/doctest.h>

#include "examples/rnn_model.hpp"

#include <graphjit/runtime/datasets.hpp>

namespace {

// The first `n` rows of a split, in shared variables.
seed::SharedSplit subset(const graphjit::Split& split, std::int64_t n) {
  return {graphjit::shared(split.x.slice(0, 0, n).copy(), "x", true),
          graphjit::shared(split.y.slice(0, 0, n).copy(), "y", true)};
}

const graphjit::Dataset& fashion() {
  static const graphjit::Dataset data = graphjit::load_dataset("fashion", graphjit::float32);
  return data;
}

}  // namespace

TEST_CASE("the RNN over rows learns Fashion-MNIST from 3000 images") {
  seed::Init init{"glorot", graphjit::RandomState(1234), graphjit::float32};
  const auto train = subset(fashion().train, 3000), valid = subset(fashion().valid, 1000);
  seed::Program m = rnn::build_rnn(128, 0.05, 0, graphjit::float32, init, train, valid, valid);
  const auto params = m.model->named_params();
  const auto before = m.valid(0, 1000);
  double first = 0, last = 0;
  for (int b = 0; b < 30; ++b) {
    const double loss = m.train(b, 100)[0].item<double>();
    if (b < 5) first += loss / 5;
    if (b >= 25) last += loss / 5;
  }
  const auto after = m.valid(0, 1000);
  MESSAGE("validation accuracy " << before[1].item<double>() << " -> " << after[1].item<double>() << ", loss "
                                 << before[0].item<double>() << " -> " << after[0].item<double>());
  CHECK(last < first);
  CHECK(after[0].item<double>() < before[0].item<double>() - 0.3);
  CHECK(after[1].item<double>() > 0.45);  // chance is 0.1

  std::vector<std::pair<std::string, graphjit::Shape>> want{
      {"W_xh", {28, 128}}, {"W_hh", {128, 128}}, {"b_h", {128}}, {"W_hy", {128, 10}}, {"b_y", {10}}};
  REQUIRE(params.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(params[i].first == want[i].first);
    CHECK(params[i].second.get_value(true).shape() == want[i].second);
  }
}

TEST_CASE("--clip bounds every gradient element of the SGD step") {
  seed::Init init{"uniform11", graphjit::RandomState(7), graphjit::float64};
  const graphjit::Dataset& d = fashion();
  seed::SharedSplit train{graphjit::shared(d.train.x.slice(0, 0, 100).astype(graphjit::float64), "x", true),
                                        graphjit::shared(d.train.y.slice(0, 0, 100).copy(), "y", true)};
  seed::Program m = rnn::build_rnn(16, 1.0, 1e-3, graphjit::float64, init, train, train, train);
  const auto params = m.model->named_params();
  std::vector<graphjit::Tensor> old;
  for (auto& [name, p] : params) old.push_back(p.get_value());
  m.train(0, 100);
  double largest = 0;
  for (std::size_t i = 0; i < old.size(); ++i) {
    const auto a = old[i].to_vector<double>(), b = params[i].second.get_value().to_vector<double>();
    for (std::size_t k = 0; k < a.size(); ++k) largest = std::max(largest, std::abs(a[k] - b[k]));
  }
  CHECK(largest > 0);
  CHECK(largest <= 1e-3 * (1 + 1e-9));
}
