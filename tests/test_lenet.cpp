// LeNet (examples/lenet_model.hpp) learns Fashion-MNIST: from the tutorial's
// init, a few dozen SGD steps on real images take the validation accuracy
// far above chance (10%) and the loss well below log(10). Small batches and
// float32 keep it to seconds; examples/lenet trains the full contract.
#include <doctest/doctest.h>

#include "examples/lenet_model.hpp"

#include <graphjit/runtime/datasets.hpp>

#include <cmath>

namespace T = graphjit::tensor;

TEST_CASE("LeNet learns Fashion-MNIST: accuracy far above chance after 60 steps") {
  const graphjit::Dataset data = graphjit::load_dataset("fashion", graphjit::float32);
  const std::int64_t batch = 50, steps = 60, held_out = 1000;
  auto train_x = graphjit::shared(data.train.x.slice(0, 0, batch * steps), "train_x", true);
  auto train_y = graphjit::shared(data.train.y.slice(0, 0, batch * steps), "train_y", true);
  seed::Init init{"glorot", graphjit::RandomState(1), graphjit::float32};
  seed::Program p = seed::build_program(
      [&](const graphjit::Variable& x, const graphjit::Variable& y) { return std::make_unique<seed::LeNet>(x, y, init); },
      0.1, graphjit::float32, {train_x, train_y},
      {graphjit::shared(data.valid.x.slice(0, 0, held_out), "valid_x", true),
       graphjit::shared(data.valid.y.slice(0, 0, held_out), "valid_y", true)},
      {train_x, train_y});
  const auto before = p.valid(0, static_cast<int>(held_out));
  double first_loss = 0, last_loss = 0;
  for (int s = 0; s < steps; ++s) {
    const double loss = p.train(s, static_cast<int>(batch))[0].item<double>();
    if (s == 0) first_loss = loss;
    last_loss = loss;
  }
  const auto after = p.valid(0, static_cast<int>(held_out));
  MESSAGE("loss " << first_loss << " -> " << last_loss << ", validation accuracy " << before[1].item<double>() << " -> "
                  << after[1].item<double>());
  CHECK(first_loss == doctest::Approx(std::log(10.0)).epsilon(1e-3));  // the output layer starts from zeros
  CHECK(after[0].item<double>() < 1.2);
  CHECK(after[1].item<double>() > 0.55);
}

TEST_CASE("LeNet's checkpoint keys, shapes and the tutorial's init bounds") {
  seed::Init init{"glorot", graphjit::RandomState(1), graphjit::float64};
  auto x = T::matrix("x", graphjit::float64);
  auto y = T::vector("y", graphjit::int32);
  seed::LeNet model(x, y, init);
  const std::vector<std::pair<std::string, graphjit::Shape>> want = {
      {"conv1_W", {20, 1, 5, 5}}, {"conv1_b", {20}}, {"conv2_W", {50, 20, 5, 5}}, {"conv2_b", {50}},
      {"fc_W", {800, 500}},       {"fc_b", {500}},   {"out_W", {500, 10}},        {"out_b", {10}}};
  const auto params = model.named_params();
  REQUIRE(params.size() == want.size());
  // Bounds sqrt(6 / (fan_in + fan_out)), fan_out = out_channels * kh * kw / pool area; the output layer is zeros.
  const std::vector<double> bound = {std::sqrt(6.0 / (25 + 125)), 0, std::sqrt(6.0 / (500 + 312)), 0,
                                     std::sqrt(6.0 / (800 + 500)), 0, 0, 0};
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(params[i].first == want[i].first);
    const graphjit::Tensor v = params[i].second.get_value();
    CHECK(v.shape() == want[i].second);
    double largest = 0;
    for (double e : v.to_vector<double>()) largest = std::max(largest, std::abs(e));
    CHECK(largest <= bound[i]);
    if (bound[i] > 0) CHECK(largest > 0.9 * bound[i]);  // drawn over the whole range
  }
}
