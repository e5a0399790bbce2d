// C++ integers reach a graph exactly: arguments, literals in expressions,
// reshape targets, indices, slice bounds and arange bounds. A double holds
// integers exactly only up to 2^53, so none of these may pass through one.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/ir/node.hpp"
#include "thrown_message.hpp"

#include <cstdint>
#include <limits>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::Mode;
using graphjit::Tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {
const Mode kModes[] = {Mode::reference, Mode::fast_run};

// 2^53 + 1: the first integer a double cannot hold (it rounds to 2^53).
constexpr std::int64_t kBig = (std::int64_t{1} << 53) + 1;
}  // namespace

TEST_CASE("an int64 argument passed as a C++ integer keeps its value") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    const auto n = T::scalar("n", graphjit::int64);
    auto f = graphjit::function({n}, {n + 1}, {.mode = mode});
    CHECK(f(kBig)[0].item<std::int64_t>() == kBig + 1);
    CHECK(f(std::numeric_limits<std::int64_t>::max() - 1)[0].item<std::int64_t>() ==
          std::numeric_limits<std::int64_t>::max());
    // A value the input's dtype cannot hold is still refused, naming the exact number.
    const auto small = T::scalar("small", graphjit::int32);
    auto g = graphjit::function({small}, {small * 2}, {.mode = mode});
    CHECK(g(std::int64_t{7})[0].item<std::int64_t>() == 14);
    const std::string msg = thrown_message([&] { g(kBig); });
    CHECK(contains(msg, "9007199254740993"));
    CHECK(contains(msg, "does not fit dtype int32"));
  }
}

TEST_CASE("integer literals in expressions are exact") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    const auto n = T::scalar("n", graphjit::int64);
    const auto c = T::scalar("c", graphjit::bool_);
    auto f = graphjit::function({n, c}, {n + kBig, kBig - n, T::switch_(c, kBig, 0)}, {.mode = mode});
    const auto out = f(std::int64_t{1}, std::int64_t{1});
    CHECK(out[0].item<std::int64_t>() == kBig + 1);
    CHECK(out[1].item<std::int64_t>() == kBig - 1);
    CHECK(out[2].item<std::int64_t>() == kBig);
    CHECK(graphjit::constant(kBig, graphjit::int64).node()->value.item<std::int64_t>() == kBig);
    // An unsigned literal past int64 is not wrapped to a negative number: it becomes a float64, as before.
    const auto sum = n + 18446744073709551615ULL;
    CHECK(sum.dtype() == graphjit::float64);
    CHECK(graphjit::function({n}, {sum}, {.mode = mode})(std::int64_t{0})[0].item<double>() == 18446744073709551615.0);
  }
}

TEST_CASE("int64 reshape targets, indices and arange bounds are exact") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    // An empty vector reshapes to (0, 2^53 + 1): both have 0 elements.
    const auto v = T::vector("v");
    auto f = graphjit::function({v}, {v.reshape(std::vector<std::int64_t>{0, kBig})}, {.mode = mode});
    CHECK(f(Tensor::zeros({0}, graphjit::float64))[0].shape() == graphjit::Shape{0, kBig});
    // arange(2^53 + 1, 2^53 + 3) is two consecutive integers above 2^53.
    auto g = graphjit::function({}, {T::arange(kBig, kBig + 2)}, {.mode = mode});
    CHECK(g()[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{kBig, kBig + 1});
    // An index out of range is reported with the index the user wrote.
    auto h = graphjit::function({v}, {v[kBig]}, {.mode = mode});
    CHECK(contains(thrown_message([&] { h(Tensor({1.0, 2.0})); }), "index 9007199254740993 is out of bounds"));
  }
  // Slice bounds from C++ integers are exact constants.
  const graphjit::Slice s = T::slice(std::int64_t{0}, kBig);
  CHECK(s.stop->node()->value.item<std::int64_t>() == kBig);
}
