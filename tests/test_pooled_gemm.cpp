// BLAS products cut over the kernel thread pool (frontend/ops/pooled_gemm):
// each block of rows or columns is a single-threaded gemm on views, so every
// layout, transpose and beta must give what one whole gemm gives, and the
// compiled dot and gemm ops (which use it) what the reference gives.
#include <doctest/doctest.h>

#include "blas_test_support.hpp"

#include "frontend/ops/pooled_gemm.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/blas.hpp>

#include <cmath>
#include <random>
#include <stdexcept>
#include <thread>

using namespace graphjit;
using graphjit::testing::check_close;
using graphjit::testing::random_matrix;
namespace T = graphjit::tensor;

namespace {

// A (rows, cols) operand as a view that is not contiguous: every other row of
// a taller matrix, or the transpose of a (cols, rows) matrix.
Tensor strided_view(std::mt19937& rng, std::int64_t rows, std::int64_t cols, bool transposed, DType dtype) {
  if (transposed) return random_matrix(rng, {cols, rows}, dtype).transpose();
  return random_matrix(rng, {2 * rows, cols}, dtype).slice(0, 0, 2 * rows, 2);
}

struct ThreadsForTest {
  explicit ThreadsForTest(int n) { set_num_threads(n); }
  ~ThreadsForTest() { set_num_threads(static_cast<int>(std::thread::hardware_concurrency())); }
};

}  // namespace

TEST_CASE("pooled_gemm cut by rows or columns equals one whole gemm, for every transpose, layout and beta") {
  ThreadsForTest two(2);  // the cut needs a second pool thread
  std::mt19937 rng(7);
  // (m, n, k): taller than wide (cut by rows), wider than tall (cut by columns), odd lengths.
  const std::int64_t shapes[][3] = {{301, 37, 60}, {29, 257, 70}, {128, 128, 33}};
  for (DType dtype : {float64, float32})
    for (const auto& s : shapes)
      for (int flags = 0; flags < 4; ++flags)
        for (double beta : {0.0, 1.0, -0.5}) {
          const bool ta = flags & 1, tb = flags & 2;
          CAPTURE(dtype_name(dtype));
          CAPTURE(s[0]);
          CAPTURE(flags);
          CAPTURE(beta);
          const Tensor a = ta ? strided_view(rng, s[2], s[0], flags == 1, dtype) : strided_view(rng, s[0], s[2], false, dtype);
          const Tensor b = tb ? strided_view(rng, s[1], s[2], true, dtype) : strided_view(rng, s[2], s[1], false, dtype);
          Tensor whole = random_matrix(rng, {s[0], s[1]}, dtype);
          // c itself a strided view: every other column of a wider matrix.
          Tensor base = Tensor::zeros({s[0], 2 * s[1]}, dtype);
          Tensor cut = base.slice(1, 0, 2 * s[1], 2);
          cut.assign(whole);
          gemm(ta, tb, -0.3, a, b, beta, whole);
          ir::pooled_gemm(ta, tb, -0.3, a, b, beta, cut);
          check_close(cut, whole, dtype == float32 ? 1e-5 : 1e-12);
        }
}

TEST_CASE("pooled_gemm reports bad operands with gemm's own message and leaves c alone") {
  ThreadsForTest two(2);
  std::mt19937 rng(8);
  const Tensor a = random_matrix(rng, {300, 40}, float64), b = random_matrix(rng, {41, 300}, float64);
  Tensor c = Tensor::zeros({300, 300}, float64);
  CHECK_THROWS_WITH_AS(ir::pooled_gemm(false, false, 1, a, b, 0, c), doctest::Contains("shapes do not match"),
                       std::invalid_argument);
  CHECK(c.to_vector<double>() == std::vector<double>(300 * 300, 0.0));
}

TEST_CASE("compiled dot and gemm large enough to be cut agree with the reference on strided inputs") {
  ThreadsForTest two(2);
  std::mt19937 rng(9);
  for (DType dtype : {float64, float32}) {
    CAPTURE(dtype_name(dtype));
    auto x = T::matrix("x", dtype), g = T::matrix("g", dtype), w = T::matrix("w", dtype);
    // dot, a transposed dot (gemm with trans_a), and an SGD-style update (gemm, beta = 1).
    const std::vector<Variable> outs{T::dot(x, w), T::dot(x.T(), g), w - 0.1 * T::dot(x.T(), g)};
    const Tensor xv = strided_view(rng, 200, 90, true, dtype), gv = strided_view(rng, 200, 70, false, dtype);
    const Tensor wv = strided_view(rng, 90, 70, false, dtype);
    const auto fast = function({x, g, w}, outs, {.mode = Mode::fast_run})(xv, gv, wv);
    const auto reference = function({x, g, w}, outs, {.mode = Mode::reference})(xv, gv, wv);
    for (std::size_t i = 0; i < outs.size(); ++i) check_close(fast[i], reference[i], dtype == float32 ? 1e-5 : 1e-12);
  }
}
