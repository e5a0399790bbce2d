// The NaN guard (FunctionOptions::nan_guard, Theano's NanGuardMode) and
// Mode::debug's finiteness check (Theano's DebugMode): the first op whose
// result is not finite stops the call, named with its source line and its
// inputs' statistics.
#include <doctest/doctest.h>

#include "examples/seed_model.hpp"
#include "scoped_config.hpp"
#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <string>

namespace T = graphjit::tensor;
using graphjit::Tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

Tensor vec(std::vector<double> v) { return Tensor::from_vector(v, {static_cast<std::int64_t>(v.size())}); }

}  // namespace

TEST_CASE("nan_guard: log of a negative number inside a fused kernel is named, not the kernel's output") {
  auto x = T::vector("x");
  const int line = __LINE__ + 1;
  auto y = T::log(x) * 2 + 1;
  auto f = graphjit::function({x}, {y}, {.nan_guard = true});
  CHECK(f(vec({1, 2, 3}))[0].to_vector<double>()[0] == 1);  // finite: runs as usual
  const std::string msg = thrown_message<graphjit::FunctionError>([&] { f(vec({1, -1, 3})); });
  CHECK(contains(msg, "nan_guard: "));
  CHECK(contains(msg, "= log(x: TensorType(float64, vector))"));
  CHECK(contains(msg, fmt::format("test_nan_guard.cpp:{}", line)));
  CHECK(contains(msg, "produced a non-finite value (shape (3,) float64: min 0, max 1.09861, mean 0.549306 (of the "
                      "finite elements), 1 nan, 0 inf)"));
  CHECK(contains(msg, "input 0 x: shape (3,) float64: min -1, max 3, mean 1 (of the finite elements), 0 nan, 0 inf"));
  // Off, the same call returns the nan without a word.
  auto plain = graphjit::function({x}, {y});
  CHECK(std::isnan(plain(vec({1, -1, 3}))[0].to_vector<double>()[1]));
}

TEST_CASE("nan_guard: dot with an inf operand is named; an inf argument stops the first step reading it") {
  auto w = T::matrix("w");
  auto v = T::vector("v");
  auto u = T::vector("u");
  const int line = __LINE__ + 1;
  auto y = T::dot(T::exp(u), w) + v;
  auto f = graphjit::function({u, w, v}, {y}, {.nan_guard = true});
  const Tensor wv = Tensor::full({2, 2}, 1.0, graphjit::float64);
  // exp(1000) = inf in the kernel before the dot.
  std::string msg = thrown_message<graphjit::FunctionError>([&] { f(vec({1000, 0}), wv, vec({0, 0})); });
  CHECK(contains(msg, "= exp(u: TensorType(float64, vector))"));
  CHECK(contains(msg, fmt::format("test_nan_guard.cpp:{}", line)));
  CHECK(contains(msg, "0 nan, 1 inf"));
  // An inf that comes in as an argument: the first step reading it stops, and says where it came from.
  auto g = graphjit::function({v, w}, {T::dot(v, w)}, {.nan_guard = true});
  msg = thrown_message<graphjit::FunctionError>(
      [&] { g(vec({std::numeric_limits<double>::infinity(), 0}), wv); });
  CHECK(contains(msg, "dot(v: TensorType(float64, vector), w: TensorType(float64, matrix))"));
  CHECK(contains(msg, "input 0 v: shape (2,) float64: min 0, max 0, mean 0 (of the finite elements), 0 nan, 1 inf"));
  CHECK(contains(msg, "came in as arguments"));
}

// Unscaled pixels (0..255, a classic slip) and a huge learning rate: the
// second step's weights make the first layer's product overflow float32.
TEST_CASE("nan_guard: the seed model with a huge learning rate stops at the first op that overflows, "
          "its shared variables untouched") {
  graphjit::testing::ScopedConfig guard("nan_guard=true");
  graphjit::RandomState rng(3);
  seed::Init init{"glorot", graphjit::RandomState(5), graphjit::float32};
  const seed::SharedSplit train{graphjit::shared(rng.uniform(0, 255, {40, 784}, graphjit::float32), "train x"),
                                graphjit::shared(rng.uniform(0, 10, {40}, graphjit::float64).astype(graphjit::int32), "train y")};
  seed::Program p = seed::build_program("mlp", 32, 1e37, graphjit::float32, init, train, train, train);
  std::string msg;
  std::vector<Tensor> before;
  for (int call = 0; call < 10 && msg.empty(); ++call) {
    before.clear();
    for (auto& [name, param] : p.model->named_params()) before.push_back(param.get_value());
    try {
      p.train(call % 4, 10);
    } catch (const graphjit::FunctionError& e) {
      msg = e.what();
    }
  }
  REQUIRE(contains(msg, "nan_guard: "));
  MESSAGE(msg);
  // The op named is the hidden layer's product (a dot: the bias is added by
  // the kernel that reads it), in the model's code, and its inputs were all
  // finite: the first value to overflow.
  CHECK(contains(msg, " = dot("));
  CHECK(contains(msg, "weights: TensorType(float32, matrix)"));
  CHECK(contains(msg, "seed_model.hpp:"));
  CHECK(contains(msg, "produced a non-finite value"));
  CHECK(!contains(msg, "came in as"));
  int inputs = 0;
  for (std::size_t at = msg.find("\n  input "); at != std::string::npos; at = msg.find("\n  input ", at + 1)) {
    const std::size_t end = msg.find('\n', at + 1);
    CHECK(contains(msg.substr(at, end - at), ", 0 nan, 0 inf"));
    ++inputs;
  }
  CHECK(inputs == 2);
  // The failed call wrote no update.
  std::size_t i = 0;
  for (auto& [name, param] : p.model->named_params()) {
    const Tensor now = param.get_value();
    CHECK_MESSAGE(now.to_vector<float>() == before[i].to_vector<float>(), name);
    ++i;
  }
}

TEST_CASE("Mode::debug raises on nan and inf like Theano's DebugMode, naming the op") {
  auto x = T::vector("x");
  const int line = __LINE__ + 1;
  auto f = graphjit::function({x}, {T::log(x) + 1}, {.mode = graphjit::Mode::debug});
  CHECK(f(vec({1, 2}))[0].to_vector<double>() == std::vector<double>{1, 1 + std::log(2.0)});
  std::string msg = thrown_message<graphjit::FunctionError>([&] { f(vec({-1, 2})); });
  CHECK(contains(msg, "debug mode: "));
  CHECK(contains(msg, "= log(x: TensorType(float64, vector))"));
  CHECK(contains(msg, fmt::format("test_nan_guard.cpp:{}", line)));
  CHECK(contains(msg, "1 nan, 0 inf"));

  auto v = T::vector("v");
  auto w = T::matrix("w");
  auto g = graphjit::function({v, w}, {T::dot(v, w)}, {.mode = graphjit::Mode::debug});
  msg = thrown_message<graphjit::FunctionError>(
      [&] { g(vec({std::numeric_limits<double>::infinity(), 1}), Tensor::full({2, 2}, 1.0, graphjit::float64)); });
  CHECK(contains(msg, "dot(v: TensorType(float64, vector), w: TensorType(float64, matrix))"));
  CHECK(contains(msg, "0 nan, 1 inf"));
}
