// T::print (theano.printing.Print): prints when the function runs, passes the
// value through, and survives every rewrite, in every mode.
#include <doctest/doctest.h>

#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

namespace T = graphjit::tensor;
using namespace graphjit;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

// What f wrote to stdout (the file descriptor, so C and C++ streams alike).
template <class F> std::string captured_stdout(F&& f) {
  std::fflush(stdout);
  FILE* sink = std::tmpfile();
  REQUIRE(sink != nullptr);
  const int saved = dup(1);
  dup2(fileno(sink), 1);
  auto restore = [&] {
    std::fflush(stdout);
    dup2(saved, 1);
    ::close(saved);
  };
  try {
    f();
  } catch (...) {
    restore();
    std::fclose(sink);
    throw;
  }
  restore();
  std::string text;
  std::rewind(sink);
  for (int c = std::fgetc(sink); c != EOF; c = std::fgetc(sink)) text += static_cast<char>(c);
  std::fclose(sink);
  return text;
}

Tensor vec(std::vector<double> v) {
  Tensor t = Tensor::empty({static_cast<std::int64_t>(v.size())}, float64);
  for (std::size_t i = 0; i < v.size(); ++i) t.set({static_cast<std::int64_t>(i)}, v[i]);
  return t;
}

const Mode kModes[] = {Mode::reference, Mode::fast_compile, Mode::fast_run};

}  // namespace

TEST_CASE("print shows the chosen attributes each call and passes the value through") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    auto x = T::vector("x");
    auto f = function({x}, {T::print(x * 2, "doubled", {"shape", "min", "max", "mean", "sum", "dtype"}) + 1},
                      {.mode = mode});
    std::vector<Tensor> out;
    const std::string text = captured_stdout([&] { out = f(vec({1, -2, 3})); });
    CHECK(text ==
          "doubled shape = (3,)\ndoubled min = -4\ndoubled max = 6\ndoubled mean = 1.3333333333333333\n"
          "doubled sum = 4\ndoubled dtype = float64\n");
    CHECK(out[0].get({0}) == 3);
    CHECK(out[0].get({1}) == -3);
    CHECK(out[0].get({2}) == 7);
    CHECK(captured_stdout([&] { f(vec({5})); }) ==
          "doubled shape = (1,)\ndoubled min = 10\ndoubled max = 10\ndoubled mean = 10\ndoubled sum = 10\n"
          "doubled dtype = float64\n");
  }
}

TEST_CASE("print without attributes prints the value") {
  auto x = T::vector("x");
  auto f = function({x}, {T::print(x, "x is")});
  const std::string text = captured_stdout([&] { f(vec({1.5, 2})); });
  CHECK(text == "x is value = " + vec({1.5, 2}).to_string() + "\n");
}

TEST_CASE("the rewrites keep print: constant folding, merging, canonicalize, fusion") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    auto x = T::vector("x");
    // A constant subgraph: folding would print once, at compile time, and never again.
    auto c = T::print(constant(2.0, float64), "constant");
    // Two identical prints: merging would print once.
    auto a = T::print(x, "same"), b = T::print(x, "same");
    // Inside an elementwise chain the JIT fuses, and multiplied by one (canonicalize removes the mul).
    auto y = T::exp(T::print(x + 1, "inside") * 1.0) * c + a + b;
    std::string compile_output;
    std::optional<Function> f;
    compile_output = captured_stdout([&] { f = function({x}, {y}, {.mode = mode}); });
    CHECK(compile_output.empty());
    for (int call = 0; call < 2; ++call) {
      std::vector<Tensor> out;
      const std::string text = captured_stdout([&] { out = (*f)(vec({0, 1})); });
      CHECK(contains(text, "constant value = 2"));
      CHECK(contains(text, "inside value = "));
      const std::size_t first = text.find("same value = ");
      REQUIRE(first != std::string::npos);
      CHECK(text.find("same value = ", first + 1) != std::string::npos);
      CHECK(out[0].get({0}) == doctest::Approx(std::exp(1.0) * 2 + 0));
      CHECK(out[0].get({1}) == doctest::Approx(std::exp(2.0) * 2 + 2));
    }
    CHECK(contains(debugprint(*f), "print"));
  }
}

TEST_CASE("print's gradient passes through without printing") {
  auto x = T::vector("x");
  auto cost = T::sum(T::sqr(T::print(x, "forward")));
  auto g = T::grad(cost, x);
  auto f = function({x}, {g});
  std::vector<Tensor> out;
  const std::string text = captured_stdout([&] { out = f(vec({1, -3})); });
  CHECK(out[0].get({0}) == 2);
  CHECK(out[0].get({1}) == -6);
  CHECK(text.find("forward") == text.rfind("forward"));  // printed once, by the forward pass
}

TEST_CASE("print of an unknown attribute is an error naming the valid ones") {
  auto x = T::vector("x");
  const std::string msg = thrown_message<TypeError>([&] { T::print(x, "m", {"shape", "median"}); });
  CHECK(contains(msg, "no attribute 'median'"));
  CHECK(contains(msg, "value, shape, dtype, min, max, mean, sum"));
  CHECK(contains(msg, "test_ops_print.cpp:"));
}
