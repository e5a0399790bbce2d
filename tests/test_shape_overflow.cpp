// Shape arithmetic that passes int64: every size, stride and length
// computation is checked, and the error names the op and the user's line
// instead of wrapping to a small number that passes later checks.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "thrown_message.hpp"

#include <cstdint>
#include <limits>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::Mode;
using graphjit::Shape;
using graphjit::Tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {
const Mode kModes[] = {Mode::reference, Mode::fast_run};
constexpr std::int64_t k2to62 = std::int64_t{1} << 62;

// A stride-0 view: any shape, one element of memory.
Tensor broadcast_scalar(double value, const Shape& shape) { return Tensor::scalar(value).broadcast_to(shape); }
}  // namespace

TEST_CASE("a reshape whose lengths multiply past int64 is refused, naming the op and the line") {
  // 3 * 6148914691236517206 wraps to 2 in int64 arithmetic: the element count of x.
  const std::int64_t wraps_to_two = 6148914691236517206;
  const Tensor x({1.0, 2.0});
  CHECK_THROWS_AS(x.reshape({3, wraps_to_two}), std::invalid_argument);
  CHECK_THROWS_AS(x.reshape({-1, 3, wraps_to_two}), std::invalid_argument);
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const auto v = T::vector("v");
    const auto a = T::scalar("a", graphjit::int64), b = T::scalar("b", graphjit::int64);
    auto f = graphjit::function({v, a, b}, {T::reshape(v, {a, b})}, {.mode = mode});
    const std::string msg = thrown_message<graphjit::ShapeError>([&] { f(x, std::int64_t{3}, wraps_to_two); });
    CHECK(contains(msg, "reshape("));
    CHECK(contains(msg, "test_shape_overflow.cpp:"));
    CHECK(contains(msg, "more elements than an int64 can count"));
    // The -1 form multiplies the known lengths the same way.
    auto g = graphjit::function({v, a, b}, {T::reshape(v, {a, b, graphjit::constant(-1, graphjit::int64)})},
                                {.mode = mode});
    CHECK(contains(thrown_message<graphjit::ShapeError>([&] { g(x, std::int64_t{3}, wraps_to_two); }),
                   "more elements than an int64 can count"));
    // Legitimate reshapes still work.
    CHECK(f(x, std::int64_t{1}, std::int64_t{2})[0].shape() == Shape{1, 2});
  }
}

TEST_CASE("arange over a range wider than int64 has its true length") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const auto lo = T::scalar("lo", graphjit::int64), hi = T::scalar("hi", graphjit::int64),
               step = T::scalar("step", graphjit::int64);
    auto f = graphjit::function({lo, hi, step}, {T::arange(lo, hi, step)}, {.mode = mode});
    // stop - start is 2^63: once it wrapped negative and the result was empty.
    CHECK(f(-k2to62, k2to62, k2to62 / 2)[0].to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{-k2to62, -k2to62 / 2, 0, k2to62 / 2});
    CHECK(f(k2to62, -k2to62, -k2to62)[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{k2to62, 0});
    const std::int64_t lowest = std::numeric_limits<std::int64_t>::min(), highest = std::numeric_limits<std::int64_t>::max();
    CHECK(f(lowest, highest, highest)[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{lowest, -1, highest - 1});
    CHECK(f(highest, lowest, lowest)[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{highest, -1});
    // 2^63 elements cannot be counted; 2^62 cannot be allocated.
    const std::string count = thrown_message<graphjit::ShapeError>([&] { f(-k2to62, k2to62, std::int64_t{1}); });
    CHECK(contains(count, "arange("));
    CHECK(contains(count, "test_shape_overflow.cpp:"));
    CHECK(contains(count, "9223372036854775808 elements, more than an int64 can count"));
    CHECK_THROWS_AS(f(-k2to62, k2to62, std::int64_t{2}), std::bad_alloc);
  }
}

TEST_CASE("arange(0, 1e30) is an error, not an undefined float-to-int cast") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const auto stop = T::scalar("stop");
    auto f = graphjit::function({stop}, {T::arange(0, stop)}, {.mode = mode});
    const std::string msg = thrown_message<graphjit::ShapeError>([&] { f(1e30); });
    CHECK(contains(msg, "arange("));
    CHECK(contains(msg, "test_shape_overflow.cpp:"));
    CHECK(contains(msg, "more than an int64 can count"));
    CHECK(f(3.5)[0].to_vector<double>() == std::vector<double>{0, 1, 2, 3});
  }
}

TEST_CASE("a stride-0 view whose shape has more elements than int64 counts is refused") {
  const std::int64_t n = std::int64_t{1} << 32;
  // Its size once wrapped to 0.
  CHECK_THROWS_AS(broadcast_scalar(1, {n, n}), std::overflow_error);
  CHECK_THROWS_AS(graphjit::shape_numel({n, n}), std::overflow_error);
  // A zero length makes any other lengths empty, as in numpy.
  CHECK(graphjit::shape_numel({0, n, n}) == 0);
  CHECK(Tensor::zeros({0, n, n}, graphjit::float64).size() == 0);
  // Strides that reach past int64 are refused as well.
  double cell = 0;
  CHECK_THROWS_AS(Tensor::from_external(&cell, {3}, graphjit::float64, {k2to62}), std::overflow_error);
  // A view that fits is still fine.
  CHECK(broadcast_scalar(1, {n, 2}).size() == 2 * n);
}

TEST_CASE("inputs broadcast to an uncountable shape: an error naming the expression, in every mode") {
  const std::int64_t n = std::int64_t{1} << 32;
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const auto x = T::tensor(graphjit::float64, {false, true}, "x");
    const auto y = T::tensor(graphjit::float64, {true, false}, "y");
    auto f = graphjit::function({x, y}, {x + y}, {.mode = mode});
    const std::string msg = thrown_message([&] { f(broadcast_scalar(1, {n, 1}), broadcast_scalar(2, {1, n})); });
    CHECK(contains(msg, "test_shape_overflow.cpp:"));
    CHECK(contains(msg, "4294967296, 4294967296"));
  }
}

TEST_CASE("concatenating lengths that add up past int64 is refused") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const auto a = T::vector("a"), b = T::vector("b");
    auto f = graphjit::function({a, b}, {T::concatenate({a, b})}, {.mode = mode});
    const std::string msg = thrown_message<graphjit::ShapeError>(
        [&] { f(broadcast_scalar(1, {k2to62}), broadcast_scalar(2, {k2to62})); });
    CHECK(contains(msg, "concatenate("));
    CHECK(contains(msg, "add up past int64"));
  }
}

TEST_CASE("a request too large for memory names the op and the shape instead of a bare bad_alloc") {
  const std::int64_t n = 1000000;  // 10^12 elements: 8 TB of float64
  CHECK(contains(thrown_message<std::bad_alloc>([&] { Tensor::zeros({n, n}, graphjit::float64); }),
                 "cannot allocate 8000000000000 bytes for a float64 tensor of shape (1000000, 1000000)"));
  const auto x = T::matrix("x");
  auto f = graphjit::function({x}, {T::zeros_like(x)}, {.mode = Mode::reference});
  const std::string msg = thrown_message<std::bad_alloc>([&] { f(broadcast_scalar(0, {n, n})); });
  CHECK(contains(msg, "alloc("));
  CHECK(contains(msg, "test_shape_overflow.cpp:"));
  CHECK(contains(msg, "(1000000, 1000000)"));
  // The JIT runs ops without a fused kernel (here arange and concatenate)
  // with their reference kernels: the same error.
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const auto stop = T::scalar("stop", graphjit::int64);
    auto g = graphjit::function({stop}, {T::arange(stop)}, {.mode = mode});
    const std::string arange_msg = thrown_message<std::bad_alloc>([&] { g(n * n); });
    CHECK(contains(arange_msg, "arange("));
    CHECK(contains(arange_msg, "test_shape_overflow.cpp:"));
    CHECK(contains(arange_msg, "(1000000000000,)"));
    const auto v = T::vector("v");
    auto h = graphjit::function({v}, {T::concatenate({v, v})}, {.mode = mode});
    const std::string concat_msg = thrown_message<std::bad_alloc>([&] { h(broadcast_scalar(1, {n * n / 2})); });
    CHECK(contains(concat_msg, "concatenate("));
    CHECK(contains(concat_msg, "(1000000000000,)"));
  }
}

TEST_CASE("compiled steps that cannot get their output memory name the expression and the user's line") {
  const std::int64_t n = 1000000;  // (n, n) float64: 8 TB
  const auto x = T::matrix("x"), u = T::matrix("u"), v = T::matrix("v");
  auto kernel_step = graphjit::function({x}, {T::exp(x)});                // a fused JIT kernel
  auto native_step = graphjit::function({u, v}, {T::dot(u, v) * 2.0});  // a BLAS native kernel
  const std::string kernel_msg = thrown_message<std::bad_alloc>([&] { kernel_step(broadcast_scalar(0, {n, n})); });
  CAPTURE(kernel_msg);
  CHECK(contains(kernel_msg, "cannot allocate"));
  CHECK(contains(kernel_msg, "while computing exp"));
  CHECK(contains(kernel_msg, "test_shape_overflow.cpp:"));
  const std::string native_msg = thrown_message<std::bad_alloc>(
      [&] { native_step(broadcast_scalar(1, {n, 1}), broadcast_scalar(1, {1, n})); });
  CAPTURE(native_msg);
  CHECK(contains(native_msg, "cannot allocate"));
  CHECK(contains(native_msg, "test_shape_overflow.cpp:"));
}
