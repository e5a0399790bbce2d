// Large blocks (32 MiB and up) are reused once their last tensor is gone: the
// reused memory must be zero-filled like any new Storage, and memory a live
// tensor refers to (a result the caller kept) is never handed out again.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cstdint>

namespace T = graphjit::tensor;
using graphjit::Tensor;

namespace {
constexpr std::int64_t kLarge = std::int64_t{5} << 20;  // 40 MiB of float64

bool all_equal(const Tensor& t, double value) {
  const double* p = t.data<double>();
  for (std::int64_t i = 0; i < t.size(); ++i)
    if (p[i] != value) return false;
  return true;
}
}  // namespace

TEST_CASE("a large block is zero-filled when it is reused") {
  for (int round = 0; round < 3; ++round) {
    Tensor t = Tensor::empty({kLarge}, graphjit::float64);
    CHECK(all_equal(t, 0.0));
    t.fill(7.0);  // dropped at the end of the round, its block kept for the next
  }
}

TEST_CASE("a large block stays with its tensor while the tensor lives") {
  Tensor kept = Tensor::full({kLarge}, 3.0, graphjit::float64);
  Tensor other = Tensor::zeros({kLarge}, graphjit::float64);
  CHECK(kept.data<double>() != other.data<double>());
  other.fill(5.0);
  CHECK(all_equal(kept, 3.0));
}

TEST_CASE("results of a function on large arrays are the caller's own across calls") {
  auto x = T::vector("x");
  auto f = graphjit::function({x}, {2.0 * x + 1.0});
  const Tensor ones = Tensor::full({kLarge}, 1.0, graphjit::float64);
  const Tensor twos = Tensor::full({kLarge}, 2.0, graphjit::float64);
  Tensor first = f(ones)[0];
  for (int call = 0; call < 3; ++call) {
    Tensor later = f(twos)[0];  // dropped each time: its block is reused by the next call
    CHECK(later.data<double>() != first.data<double>());
    CHECK(all_equal(later, 5.0));
  }
  CHECK(all_equal(first, 3.0));
}
