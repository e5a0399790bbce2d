// Theano's own tutorial example (the logistic regression of "A Real
// Example": 400 examples of 784 standard-normal features, random 0/1
// labels, weights drawn from randn): z = dot(x, w) + b reaches +-40 and more,
// where 1 - p rounds to 0 and log(1 - p) is -inf. Theano learns all 400
// examples; so must graphjit, with the loss spelled as the tutorial spells
// it, with T::sigmoid, and with binary_crossentropy, in float64 and float32.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::DType;
using graphjit::Tensor;
using graphjit::Variable;

namespace {

constexpr std::int64_t kExamples = 400, kFeatures = 784;
constexpr int kSteps = 500;

// Standard normal values from a fixed 64-bit LCG and Box-Muller, the same on
// every platform (no library distribution involved).
class Normal {
 public:
  explicit Normal(std::uint64_t seed) : state_(seed) {}
  double next() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  double uniform() {  // in (0, 1)
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(state_ >> 11) + 0.5) / static_cast<double>(1ULL << 53);
  }

 private:
  std::uint64_t state_;
};

Tensor randn(const graphjit::Shape& shape, Normal& rng, DType dtype) {
  Tensor t = Tensor::empty(shape, graphjit::float64);
  for (std::int64_t i = 0; i < t.size(); ++i) t.data<double>()[i] = rng.next();
  return t.astype(dtype);
}

using Loss = std::function<Variable(const Variable& z, const Variable& y)>;

// Trains the tutorial's model for `steps` steps and returns how many of the
// 400 examples it classifies correctly; every step's weights must be finite.
int learned(const Loss& xent_of, DType dtype, int steps) {
  Normal rng(20240601);
  const Tensor data_x = randn({kExamples, kFeatures}, rng, dtype);
  Tensor data_y = Tensor::empty({kExamples}, dtype);
  for (std::int64_t i = 0; i < kExamples; ++i) data_y.set({i}, rng.uniform() < 0.5 ? 0 : 1);

  const auto x = T::matrix("x", dtype);
  const auto y = T::vector("y", dtype);
  auto w = graphjit::shared(randn({kFeatures}, rng, dtype), "w");
  auto b = graphjit::shared(Tensor::zeros({}, dtype), "b");
  const Variable z = T::dot(x, w) + b;
  const Variable xent = xent_of(z, y);
  const Variable cost = xent.mean() + 0.01 * T::sum(T::sqr(w));
  const auto g = graphjit::grad(cost, std::vector<Variable>{w, b});
  const Variable prediction = z > 0;  // p > 0.5
  auto train = graphjit::function({x, y}, {prediction, cost}, {.updates = {{w, w - 0.1 * g[0]}, {b, b - 0.1 * g[1]}}});

  double z_max = 0;
  for (double v : graphjit::function({x}, {T::abs(z)})(data_x)[0].to_vector<double>()) z_max = std::max(z_max, v);
  CHECK(z_max > 40);  // the regime the tutorial is about

  Tensor predicted;
  for (int step = 0; step < steps; ++step) {
    const auto out = train(data_x, data_y);
    predicted = out[0];
    REQUIRE_MESSAGE(std::isfinite(out[1].item<double>()), "the cost is not finite at step " << step);
    bool finite = std::isfinite(b.get_value().item<double>());
    for (double v : w.get_value(true).to_vector<double>()) finite = finite && std::isfinite(v);
    REQUIRE_MESSAGE(finite, "the weights are not finite after step " << step);
  }
  MESSAGE("after " << steps << " steps: cost " << graphjit::function({x, y}, {cost})(data_x, data_y)[0].item<double>());
  int correct = 0;
  const std::vector<double> want = data_y.to_vector<double>(), got = predicted.to_vector<double>();
  for (std::int64_t i = 0; i < kExamples; ++i) correct += want[i] == got[i];
  return correct;
}

const Loss kAsWritten = [](const Variable& z, const Variable& y) {
  const Variable p = 1 / (1 + T::exp(-z));
  return -y * T::log(p) - (1 - y) * T::log(1 - p);
};
const Loss kWithSigmoid = [](const Variable& z, const Variable& y) {
  const Variable p = T::sigmoid(z);
  return -y * T::log(p) - (1 - y) * T::log(1 - p);
};
const Loss kBinaryCrossentropy = [](const Variable& z, const Variable& y) {
  return T::binary_crossentropy(T::sigmoid(z), y);
};

}  // namespace

TEST_CASE("Theano's logistic regression learns all 400 examples, spelled three ways, in float64 and float32") {
  for (DType dtype : {graphjit::float64, graphjit::float32}) {
    CAPTURE(std::string(graphjit::dtype_name(dtype)));
    CHECK(learned(kAsWritten, dtype, kSteps) == kExamples);
    CHECK(learned(kWithSigmoid, dtype, kSteps) == kExamples);
    CHECK(learned(kBinaryCrossentropy, dtype, kSteps) == kExamples);
  }
}
