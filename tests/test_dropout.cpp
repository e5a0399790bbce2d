// Dropout (issue 12): T::nnet::dropout's inverted scaling and gradient, the
// Theano way with rng.binomial, and the example's --dropout: train only, the
// same seed giving the same run, p = 0 giving exactly the model without it.
#include <doctest/doctest.h>

#include "examples/seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::RandomStreams;
using graphjit::Tensor;

TEST_CASE("dropout keeps 1 - p of the elements, scaled by 1 / (1 - p); its gradient is the same mask") {
  RandomStreams rng(17);
  auto x = T::matrix("x");
  auto y = T::nnet::dropout(x, 0.25, rng);
  auto g = graphjit::grad(T::sum(y), x);
  auto f = graphjit::function({x}, {y, g});
  const Tensor ones = Tensor::full({200, 100}, 1.0, graphjit::float64);
  const auto out = f(ones);
  const auto kept = out[0].to_vector<double>(), grads = out[1].to_vector<double>();
  double zeros = 0, sum = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    REQUIRE((kept[i] == 0 || kept[i] == doctest::Approx(1 / 0.75)));
    CHECK(grads[i] == kept[i]);  // d(x*m/(1-p))/dx = m/(1-p), the same draw as the forward value
    zeros += kept[i] == 0;
    sum += kept[i];
  }
  const double n = static_cast<double>(kept.size());
  CHECK(std::abs(zeros / n - 0.25) < 5 * std::sqrt(0.25 * 0.75 / n));
  CHECK(std::abs(sum / n - 1.0) < 0.03);  // inverted scaling keeps the mean
  // A new mask every call.
  CHECK(f(ones)[0].to_vector<double>() != kept);
  // p = 0 is x itself.
  CHECK(T::nnet::dropout(x, 0.0, rng).node() == x.node());
  CHECK_THROWS_AS(T::nnet::dropout(x, 1.0, rng), graphjit::TypeError);
}

TEST_CASE("dropout the Theano way: a binomial mask from the stream") {
  RandomStreams rng(4);
  auto x = T::vector("x");
  const double keep = 0.5;
  auto mask = rng.binomial(x.shape(), 1, keep, graphjit::config().floatX);
  auto f = graphjit::function({x}, {x * mask / keep});
  const auto v = f(Tensor::full({1000}, 1.0, graphjit::float64))[0].to_vector<double>();
  int kept = 0;
  for (double e : v) {
    REQUIRE((e == 0 || e == 2));
    kept += e == 2;
  }
  CHECK(std::abs(kept - 500) < 80);
}

namespace {

seed::SharedSplit noisy_split(std::int64_t n, std::uint64_t seed) {
  graphjit::RandomState r(seed);
  Tensor y = Tensor::empty({n}, graphjit::int32);
  for (std::int64_t i = 0; i < n; ++i) y.set({i}, static_cast<double>(i % seed::kClasses));
  return {graphjit::shared(r.uniform(0, 1, {n, seed::kPixels}, graphjit::float64), "x", true),
          graphjit::shared(y, "y", true)};
}

// Losses of the train function over a few batches, for a model built from `seed`.
std::vector<double> train_losses(const seed::Dropout& dropout, std::vector<double>* valid_losses = nullptr) {
  seed::Init init{"glorot", graphjit::RandomState(1234), graphjit::float64};
  seed::Program p = seed::build_program("mlp", 16, 0.3, graphjit::float64, init, noisy_split(40, 1), noisy_split(10, 2),
                                        noisy_split(10, 3), dropout);
  std::vector<double> losses;
  for (int step = 0; step < 6; ++step) {
    losses.push_back(p.train(step % 4, 10)[0].item<double>());
    if (valid_losses) valid_losses->push_back(p.valid(0, 10)[0].item<double>());
  }
  return losses;
}

}  // namespace

TEST_CASE("mnist_mlp's --dropout: 0 is the model without it, the same seed the same run") {
  const auto plain = train_losses({});
  CHECK(train_losses({0.0, 99}) == plain);
  const auto dropped = train_losses({0.5, 7});
  CHECK(train_losses({0.5, 7}) == dropped);
  CHECK(dropped != plain);
  CHECK(train_losses({0.5, 8}) != dropped);
  // Validation does not drop: two calls on the same parameters agree.
  seed::Init init{"glorot", graphjit::RandomState(1234), graphjit::float64};
  seed::Program p = seed::build_program("mlp", 16, 0.3, graphjit::float64, init, noisy_split(40, 1), noisy_split(10, 2),
                                        noisy_split(10, 3), {0.5, 7});
  CHECK(p.valid(0, 10)[0].item<double>() == p.valid(0, 10)[0].item<double>());
  CHECK(p.test(0, 10)[0].item<double>() == p.test(0, 10)[0].item<double>());
}
