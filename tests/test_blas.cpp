// The BLAS bridge: gemm on every layout of view against a plain triple loop.
#include <doctest/doctest.h>

#include "blas_test_support.hpp"

#include <graphjit/runtime/blas.hpp>
#include <graphjit/runtime/tensor.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>

using namespace graphjit;
using graphjit::testing::check_close;
using graphjit::testing::random_matrix;

namespace {

// alpha * op(a) @ op(b) + beta * c, accumulated in float64 one element at a time.
Tensor naive_gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta,
                  const Tensor& c) {
  const Tensor opa = trans_a ? a.transpose() : a, opb = trans_b ? b.transpose() : b;
  Tensor out = Tensor::empty(c.shape(), float64);
  for (std::int64_t i = 0; i < c.shape(0); ++i)
    for (std::int64_t j = 0; j < c.shape(1); ++j) {
      double sum = 0;
      for (std::int64_t k = 0; k < opa.shape(1); ++k) sum += opa.get({i, k}) * opb.get({k, j});
      out.set({i, j}, alpha * sum + (beta == 0 ? 0 : beta * c.get({i, j})));
    }
  return out;
}

double tolerance_for(DType dtype) { return dtype == float32 ? 1e-5 : 1e-12; }

// The ways a (rows, cols) operand can sit in memory, each a view of a larger base.
enum class Layout { contiguous, window, transposed, strided, reversed };
constexpr Layout all_layouts[] = {Layout::contiguous, Layout::window, Layout::transposed, Layout::strided,
                                  Layout::reversed};

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::contiguous: return "contiguous";
    case Layout::window: return "window";  // row-major, leading dimension > cols: BLAS reads in place
    case Layout::transposed: return "transposed";  // column-major: BLAS reads in place, flipping the flag
    case Layout::strided: return "strided";  // every other column: must be copied
    case Layout::reversed: return "reversed";  // negative row stride: must be copied
  }
  return "?";
}

Shape base_shape(Layout l, std::int64_t rows, std::int64_t cols) {
  switch (l) {
    case Layout::window: return {rows + 3, cols + 4};
    case Layout::transposed: return {cols, rows};
    case Layout::strided: return {rows, 2 * cols};
    default: return {rows, cols};
  }
}

Tensor view_of(Layout l, const Tensor& base, std::int64_t rows, std::int64_t cols) {
  switch (l) {
    case Layout::window: return base.slice(0, 1, 1 + rows).slice(1, 2, 2 + cols);
    case Layout::transposed: return base.transpose();
    case Layout::strided: return base.slice(1, 0, 2 * cols, 2);
    case Layout::reversed: return base.slice(0, -1, std::numeric_limits<std::int64_t>::min(), -1);
    default: return base;
  }
}

}  // namespace

TEST_CASE("gemm matches the naive product for every transpose flag and both dtypes") {
  std::mt19937 rng(1);
  const std::int64_t m = 5, k = 7, n = 3;
  for (DType dtype : {float32, float64})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(dtype_name(dtype));
        CAPTURE(ta);
        CAPTURE(tb);
        const Tensor a = random_matrix(rng, ta ? Shape{k, m} : Shape{m, k}, dtype);
        const Tensor b = random_matrix(rng, tb ? Shape{n, k} : Shape{k, n}, dtype);
        Tensor c = random_matrix(rng, {m, n}, dtype);
        const Tensor want = naive_gemm(ta, tb, 1.5, a, b, 0.5, c);
        gemm(ta, tb, 1.5, a, b, 0.5, c);
        CHECK(c.dtype() == dtype);
        check_close(c, want, tolerance_for(dtype));
      }
}

TEST_CASE("gemm reads and writes views of every layout, touching nothing outside c") {
  std::mt19937 rng(2);
  const std::int64_t m = 4, k = 6, n = 5;
  for (DType dtype : {float32, float64})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (Layout la : all_layouts)
          for (Layout lb : all_layouts)
            for (Layout lc : all_layouts) {
              CAPTURE(dtype_name(dtype));
              CAPTURE(ta);
              CAPTURE(tb);
              CAPTURE(layout_name(la));
              CAPTURE(layout_name(lb));
              CAPTURE(layout_name(lc));
              const std::int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
              const Tensor a = view_of(la, random_matrix(rng, base_shape(la, ar, ac), dtype), ar, ac);
              const Tensor b = view_of(lb, random_matrix(rng, base_shape(lb, br, bc), dtype), br, bc);
              Tensor c_base = random_matrix(rng, base_shape(lc, m, n), dtype);
              Tensor c = view_of(lc, c_base, m, n);
              REQUIRE(a.shape() == Shape{ar, ac});
              REQUIRE(c.shape() == Shape{m, n});

              Tensor want_base = c_base.copy();
              view_of(lc, want_base, m, n).assign(naive_gemm(ta, tb, -0.75, a, b, 2.0, c));
              gemm(ta, tb, -0.75, a, b, 2.0, c);
              check_close(c_base, want_base, tolerance_for(dtype));
            }
}

TEST_CASE("gemm into an operand's own storage") {
  std::mt19937 rng(3);
  Tensor a = random_matrix(rng, {4, 4}, float64);
  const Tensor want = naive_gemm(false, true, 1, a, a, 0, a);
  gemm(false, true, 1, a, a, 0, a);  // a = a @ a.T
  check_close(a, want, 1e-12);

  // c overlaps b: BLAS must not see its own writes in the operand it reads.
  Tensor m = random_matrix(rng, {3, 6}, float64);
  const Tensor before = m.copy();
  const Tensor left = random_matrix(rng, {3, 3}, float64);
  const Tensor b = m.slice(1, 0, 3);
  Tensor c = m.slice(1, 2, 5);  // shares column 2 with b
  const Tensor want_c = naive_gemm(false, false, 1, left, b, 1, c);
  gemm(false, false, 1, left, b, 1, c);
  check_close(c, want_c, 1e-12);
  check_close(m.slice(1, 0, 2), before.slice(1, 0, 2), 0);
  check_close(m.slice(1, 5, 6), before.slice(1, 5, 6), 0);
}

TEST_CASE("gemm with beta 0 ignores c and with k 0 only scales c") {
  std::mt19937 rng(4);
  const Tensor a = random_matrix(rng, {2, 3}, float64), b = random_matrix(rng, {3, 2}, float64);
  Tensor c = Tensor::full({2, 2}, std::nan(""), float64);
  gemm(false, false, 1, a, b, 0, c);
  check_close(c, naive_gemm(false, false, 1, a, b, 0, c), 1e-12);

  Tensor c2 = Tensor::full({2, 2}, 3, float32);
  gemm(false, false, 1, Tensor::zeros({2, 0}, float32), Tensor::zeros({0, 2}, float32), 0.5, c2);
  CHECK(c2.equal(Tensor::full({2, 2}, 1.5, float32)));

  Tensor empty_c = Tensor::zeros({0, 2}, float64);
  gemm(false, false, 1, Tensor::zeros({0, 3}, float64), b, 1, empty_c);
  CHECK(empty_c.shape() == Shape{0, 2});
}

TEST_CASE("gemm rejects operands it cannot multiply, naming the shapes") {
  Tensor a = Tensor::zeros({2, 3}, float64), b = Tensor::zeros({4, 5}, float64), c = Tensor::zeros({2, 5}, float64);
  try {
    gemm(false, false, 1, a, b, 0, c);
    FAIL("no exception for mismatched shapes");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg.find("(2, 3)") != std::string::npos);
    CHECK(msg.find("(4, 5)") != std::string::npos);
    CHECK(msg.find("(2, 5)") != std::string::npos);
  }
  Tensor good_b = Tensor::zeros({3, 5}, float64);
  CHECK_NOTHROW(gemm(false, false, 1, a, good_b, 0, c));
  CHECK_THROWS_AS(gemm(false, true, 1, a, good_b, 0, c), std::invalid_argument);
  Tensor wrong_c = Tensor::zeros({5, 2}, float64);
  CHECK_THROWS_AS(gemm(false, false, 1, a, good_b, 0, wrong_c), std::invalid_argument);
  CHECK_THROWS_AS(gemm(false, false, 1, a, good_b.astype(float32), 0, c), std::invalid_argument);
  Tensor ic = c.astype(int32);
  CHECK_THROWS_AS(gemm(false, false, 1, a.astype(int32), good_b.astype(int32), 0, ic), std::invalid_argument);
  CHECK_THROWS_AS(gemm(false, false, 1, Tensor{1, 2, 3}, good_b, 0, c), std::invalid_argument);
  CHECK_THROWS_AS(gemm(false, false, 1, Tensor(), good_b, 0, c), std::invalid_argument);
}

TEST_CASE("BLAS thread count") {
  const int before = blas_threads();
  CHECK(before >= 1);
  set_blas_threads(1);
  CHECK(blas_threads() == 1);
  CHECK_THROWS_AS(set_blas_threads(0), std::invalid_argument);
  set_blas_threads(before);
  CHECK(blas_threads() == before);
}
