// Linear algebra ops: dot (numpy.dot up to 2-d), outer and gemm. Values for
// every rank combination, dtypes, broadcastable patterns, errors and gradients.
// Expected values are numpy's, worked out by hand or by a plain triple loop.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/ir/node.hpp"
#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

// The (m, k) @ (k, n) product by the textbook loop.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  Tensor c = Tensor::zeros({a.shape(0), b.shape(1)}, float64);
  for (std::int64_t i = 0; i < a.shape(0); ++i)
    for (std::int64_t j = 0; j < b.shape(1); ++j) {
      double s = 0;
      for (std::int64_t l = 0; l < a.shape(1); ++l) s += a.get({i, l}) * b.get({l, j});
      c.set({i, j}, s);
    }
  return c;
}

void check_close(const Tensor& got, const Tensor& want, double tol = 1e-12) {
  REQUIRE(got.shape() == want.shape());
  const auto g = values(got), w = values(want);
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(w[i]).epsilon(tol));
}

// a = [[1, 2, 3], [4, 5, 6]], b = [[1, 0], [2, 1], [0, 3]]
const Tensor kA = tensor_of({1, 2, 3, 4, 5, 6}, {2, 3});
const Tensor kB = tensor_of({1, 0, 2, 1, 0, 3}, {3, 2});

}  // namespace

// --- dot values, shapes and types -----------------------------------------------------------

TEST_CASE("dot of every pair of ranks up to 2, as numpy.dot") {
  auto m = T::matrix("m");
  auto n = T::matrix("n");
  auto u = T::vector("u");
  auto v = T::vector("v");
  auto out = run({m, n, u, v}, {T::dot(m, n), T::dot(m, v), T::dot(u, m), T::dot(v, v)},
                 {kA, kB, tensor_of({1, -1}, {2}), tensor_of({1, 2, 3}, {3})});
  CHECK(out[0].shape() == Shape{2, 2});
  CHECK(values(out[0]) == std::vector<double>{5, 11, 14, 23});
  CHECK(out[1].shape() == Shape{2});
  CHECK(values(out[1]) == std::vector<double>{14, 32});
  CHECK(out[2].shape() == Shape{3});
  CHECK(values(out[2]) == std::vector<double>{-3, -3, -3});
  CHECK(out[3].shape() == Shape{});
  CHECK(out[3].item<double>() == 14);
}

TEST_CASE("dot's type: the promoted dtype, and the broadcastable dims that remain") {
  auto m = T::matrix("m");
  auto v = T::vector("v");
  CHECK(T::dot(m, m).ndim() == 2);
  CHECK(T::dot(m, v).ndim() == 1);
  CHECK(T::dot(v, m).ndim() == 1);
  CHECK(T::dot(v, v).ndim() == 0);
  auto row = T::tensor(float64, {true, false}, "row");
  auto col = T::tensor(float64, {false, true}, "col");
  CHECK(T::dot(row, m).broadcastable() == std::vector<bool>{true, false});
  CHECK(T::dot(m, col).broadcastable() == std::vector<bool>{false, true});
  CHECK(T::dot(col, row).broadcastable() == std::vector<bool>{false, false});
  CHECK(T::dot(row, col).broadcastable() == std::vector<bool>{true, true});
  CHECK(T::dot(T::matrix("a", float32), T::matrix("b", float32)).dtype() == float32);
  CHECK(T::dot(T::matrix("a", float32), T::matrix("b", float64)).dtype() == float64);
  CHECK(T::dot(T::matrix("a", float32), T::vector("b", int8)).dtype() == float32);
  CHECK(T::dot(T::matrix("a", int32), T::vector("b", int16)).dtype() == int32);
}

TEST_CASE("dot with a 0-d operand is a multiplication") {
  auto s = T::scalar("s");
  auto m = T::matrix("m");
  auto p = T::dot(s, m), q = T::dot(m, s);
  CHECK(p.node()->op == ir::OpCode::Mul);
  CHECK(p.ndim() == 2);
  auto out = run({s, m}, {p, q, T::dot(s, s)}, {2.0, kA});
  CHECK(values(out[0]) == std::vector<double>{2, 4, 6, 8, 10, 12});
  CHECK(values(out[1]) == std::vector<double>{2, 4, 6, 8, 10, 12});
  CHECK(out[2].item<double>() == 4);
}

TEST_CASE("float32 dot goes through BLAS and stays float32") {
  auto a = T::matrix("a", float32);
  auto b = T::matrix("b", float32);
  auto out = run({a, b}, {T::dot(a, b)}, {kA.astype(float32), kB.astype(float32)});
  CHECK(out[0].dtype() == float32);
  CHECK(values(out[0]) == std::vector<double>{5, 11, 14, 23});
}

TEST_CASE("mixed dtypes are converted to the promoted dtype") {
  auto a = T::matrix("a", float32);
  auto b = T::vector("b", int32);
  auto out = run({a, b}, {T::dot(a, b)}, {kA.astype(float32), tensor_of({1, 1, -1}, {3}, int32)});
  CHECK(out[0].dtype() == float64);
  CHECK(values(out[0]) == std::vector<double>{0, 3});
}

TEST_CASE("integer dot is exact and wraps like numpy's int64") {
  auto a = T::matrix("a", int64);
  auto b = T::matrix("b", int64);
  const std::int64_t big = (std::int64_t{1} << 60) + 3;
  auto out = run({a, b}, {T::dot(a, b)},
                 {Tensor::from_vector(std::vector<std::int64_t>{big, 1, 8, 0}, {2, 2}),
                  Tensor::from_vector(std::vector<std::int64_t>{1, 2, 5, 0}, {2, 2})});
  CHECK(out[0].dtype() == int64);
  const auto r = out[0].to_vector<std::int64_t>();
  CHECK(r[0] == big + 5);  // beyond 2^53: a double accumulator would round
  CHECK(r[1] == 2 * big);
  CHECK(r[2] == 8);
  CHECK(r[3] == 16);
  // 8 * 2^60 wraps to 0 in int64.
  auto v = T::vector("v", int64);
  auto w = run({v}, {T::dot(v, v)}, {Tensor::from_vector(std::vector<std::int64_t>{std::int64_t{1} << 62, 1})});
  CHECK(w[0].item<std::int64_t>() == 1);
}

TEST_CASE("small integer and bool dots keep their dtype, as in numpy") {
  auto a = T::vector("a", int8);
  auto out = run({a}, {T::dot(a, a)}, {tensor_of({10, 10}, {2}, int8)});
  CHECK(out[0].dtype() == int8);
  CHECK(out[0].item<int>() == static_cast<std::int8_t>(200));  // wraps in int8
  auto p = T::matrix("p", bool_);
  auto q = T::vector("q", bool_);
  auto b = run({p, q}, {T::dot(p, q)}, {tensor_of({1, 0, 0, 0, 1, 1}, {2, 3}, bool_), tensor_of({0, 1, 1}, {3}, bool_)});
  CHECK(b[0].dtype() == bool_);
  CHECK(values(b[0]) == std::vector<double>{0, 1});
}

TEST_CASE("dot of larger, transposed and sliced operands matches the textbook loop") {
  const Tensor a = random_tensor({37, 53}, 1), b = random_tensor({29, 53}, 2);
  auto x = T::matrix("x");
  auto y = T::matrix("y");
  auto out = run({x, y}, {T::dot(x, y.T()), T::dot(y, x.T()), T::dot(x.T(), x)}, {a, b});
  check_close(out[0], naive_matmul(a, b.transpose()));
  check_close(out[1], naive_matmul(b, a.transpose()));
  check_close(out[2], naive_matmul(a.transpose(), a));
  // A strided view as an argument.
  const Tensor every_other = random_tensor({10, 6}, 3).slice(0, 0, 10, 2);
  auto z = run({x, y}, {T::dot(x, y)}, {every_other, a.slice(0, 0, 6).slice(1, 0, 4)});
  check_close(z[0], naive_matmul(every_other, a.slice(0, 0, 6).slice(1, 0, 4)));
}

TEST_CASE("dot with empty dims") {
  auto x = T::matrix("x");
  auto y = T::matrix("y");
  auto out = run({x, y}, {T::dot(x, y)}, {Tensor::zeros({2, 0}, float64), Tensor::zeros({0, 3}, float64)});
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(values(out[0]) == std::vector<double>(6, 0));
}

// --- dot errors -------------------------------------------------------------------------------

// Theano's T.dot of n-d operands is numpy.dot, a tensordot (values: tests/test_linalg.cpp).
TEST_CASE("dot of more than 2 dims is numpy.dot; a length mismatch names the variables and shapes") {
  auto t = T::tensor3("activations");
  auto m = T::matrix("W");
  CHECK(T::dot(t, m).ndim() == 3);
  CHECK(T::dot(m, t).ndim() == 3);
  const std::string msg = thrown_message<ShapeError>(
      [&] { function({t, m}, {T::dot(t, m)})(Tensor::zeros({2, 3, 4}, float64), Tensor::zeros({5, 6}, float64)); });
  CHECK(contains(msg, "activations"));
  CHECK(contains(msg, "W"));
  CHECK(contains(msg, "a's axis 2 has length 4 but b's axis 0 has length 5"));
  CHECK_THROWS_AS(T::dot(Variable(), m), TypeError);
}

TEST_CASE("mismatched summed lengths are a ShapeError at run time naming both variables and shapes") {
  auto x = T::matrix("x");
  auto w = T::matrix("W");
  auto v = T::vector("v");
  std::string msg = thrown_message<ShapeError>([&] { run({x, w}, {T::dot(x, w)}, {kA, kA}); });
  CHECK(contains(msg, "x"));
  CHECK(contains(msg, "W"));
  CHECK(contains(msg, "(2, 3)"));
  CHECK(contains(msg, "length 3"));
  CHECK(contains(msg, "length 2"));
  msg = thrown_message<ShapeError>([&] { run({v, w}, {T::dot(v, w)}, {tensor_of({1, 2, 3}, {3}), kA}); });
  CHECK(contains(msg, "v(3,)"));
  CHECK(contains(msg, "W(2, 3)"));
}

// --- outer ------------------------------------------------------------------------------------

TEST_CASE("outer of vectors, and of other ranks flattened first") {
  auto u = T::vector("u");
  auto v = T::vector("v");
  auto m = T::matrix("m");
  auto out = run({u, v, m}, {T::outer(u, v), T::outer(m, u)},
                 {tensor_of({1, 2}, {2}), tensor_of({3, 4, 5}, {3}), tensor_of({1, 2, 3, 4}, {2, 2})});
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(values(out[0]) == std::vector<double>{3, 4, 5, 6, 8, 10});
  CHECK(out[1].shape() == Shape{4, 2});
  CHECK(values(out[1]) == std::vector<double>{1, 2, 2, 4, 3, 6, 4, 8});
  CHECK(T::outer(T::vector("i", int32), T::vector("j", int32)).dtype() == int32);
}

// --- gemm -------------------------------------------------------------------------------------

namespace {
Variable gemm(const Variable& a, const Variable& b, const Variable& c, double alpha, double beta, bool ta, bool tb) {
  ir::Attrs attrs;
  attrs.alpha = alpha;
  attrs.beta = beta;
  attrs.trans_a = ta;
  attrs.trans_b = tb;
  return Variable(ir::make(ir::OpCode::Gemm, {a.node(), b.node(), c.node()}, attrs));
}
}  // namespace

TEST_CASE("gemm computes alpha * op(a) @ op(b) + beta * c for each transpose combination") {
  const Tensor a = random_tensor({4, 5}, 1), b = random_tensor({5, 3}, 2), c = random_tensor({4, 3}, 3);
  auto x = T::matrix("x");
  auto y = T::matrix("y");
  auto z = T::matrix("z");
  const Tensor c_before = c.copy();
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      const Tensor av = ta ? a.transpose().copy() : a, bv = tb ? b.transpose().copy() : b;
      auto out = run({x, y, z}, {gemm(x, y, z, 0.5, -2.0, ta, tb)}, {av, bv, c});
      Tensor want = naive_matmul(a, b);
      for_each_index(want.shape(), [&](const std::vector<std::int64_t>& i) { want.set(i, 0.5 * want.get(i) - 2 * c.get(i)); });
      check_close(out[0], want);
    }
  CHECK(c.equal(c_before));  // the reference never writes c
}

TEST_CASE("gemm with beta 0 ignores c, nan included") {
  auto x = T::matrix("x");
  auto y = T::matrix("y");
  auto z = T::matrix("z");
  auto out = run({x, y, z}, {gemm(x, y, z, 1.0, 0.0, false, false)},
                 {kA, kB, Tensor::full({2, 2}, std::numeric_limits<double>::quiet_NaN(), float64)});
  CHECK(values(out[0]) == std::vector<double>{5, 11, 14, 23});
}

TEST_CASE("gemm's type is c's; operands must be matrices of one float dtype") {
  auto a32 = T::matrix("a", float32);
  CHECK(gemm(a32, a32, T::tensor(float32, {false, true}, "c"), 1, 1, false, false).broadcastable() ==
        std::vector<bool>{false, true});
  std::string msg = thrown_message<TypeError>(
      [&] { gemm(T::matrix("a", int32), T::matrix("b", int32), T::matrix("c", int32), 1, 1, false, false); });
  CHECK(contains(msg, "float"));
  CHECK(contains(msg, "a: TensorType(int32, matrix)"));
  CHECK_THROWS_AS(gemm(a32, T::matrix("b"), T::matrix("c"), 1, 1, false, false), TypeError);
  CHECK_THROWS_AS(gemm(T::matrix("a"), T::vector("b"), T::matrix("c"), 1, 1, false, false), TypeError);
}

TEST_CASE("gemm shape mismatches are ShapeErrors naming the operands") {
  auto x = T::matrix("x");
  auto y = T::matrix("y");
  auto z = T::matrix("z");
  std::string msg = thrown_message<ShapeError>(
      [&] { run({x, y, z}, {gemm(x, y, z, 1, 1, false, false)}, {kA, kA, Tensor::zeros({2, 3}, float64)}); });
  CHECK(contains(msg, "x(2, 3)"));
  CHECK(contains(msg, "y(2, 3)"));
  // Transposing b makes the same operands fit.
  auto ok = run({x, y, z}, {gemm(x, y, z, 1, 0, false, true)}, {kA, kA, Tensor::zeros({2, 2}, float64)});
  CHECK(values(ok[0]) == std::vector<double>{14, 32, 32, 77});
  // Known difference (issue 10, for the executor in compiler/lower): fast_run
  // copies c into the output before any check and throws Tensor::assign's
  // std::invalid_argument, naming neither the op nor z.
  msg = thrown_message<ShapeError>([&] {
    run_reference_only({x, y, z}, {gemm(x, y, z, 1, 1, false, true)}, {kA, kA, Tensor::zeros({3, 3}, float64)});
  });
  CHECK(contains(msg, "z(3, 3)"));
}

TEST_CASE("gemm has no gradient: the optimizer makes it after differentiation") {
  auto x = T::matrix("x");
  CHECK_THROWS_AS(grad(T::sum(gemm(x, x, x, 1, 1, false, false)), x), GradError);
}

// --- gradients ------------------------------------------------------------------------------

TEST_CASE("dot gradients for every rank combination, checked against finite differences") {
  auto dot = [](const std::vector<Variable>& v) { return T::dot(v[0], v[1]); };
  for (std::int64_t m : {1, 3})
    for (std::int64_t k : {1, 4})
      for (std::int64_t n : {1, 2}) {
        CAPTURE(m);
        CAPTURE(k);
        CAPTURE(n);
        verify_grad(dot, {random_tensor({m, k}, 1), random_tensor({k, n}, 2)});
        verify_grad(dot, {random_tensor({m, k}, 3), random_tensor({k}, 4)});
        verify_grad(dot, {random_tensor({k}, 5), random_tensor({k, n}, 6)});
        verify_grad(dot, {random_tensor({k}, 7), random_tensor({k}, 8)});
      }
}

TEST_CASE("dot gradients through transposes, scalars, outer and mixed precision") {
  verify_grad([](const std::vector<Variable>& v) { return T::dot(v[0].T(), v[1]); },
              {random_tensor({4, 3}, 1), random_tensor({4, 2}, 2)});
  verify_grad([](const std::vector<Variable>& v) { return T::dot(v[0], v[1]); },
              {random_tensor({}, 1), random_tensor({3, 2}, 2)});
  verify_grad([](const std::vector<Variable>& v) { return T::outer(v[0], v[1]); },
              {random_tensor({3}, 1), random_tensor({2}, 2)});
  verify_grad([](const std::vector<Variable>& v) { return T::tanh(T::dot(v[0], v[1]) + v[2]); },
              {random_tensor({5, 4}, 1), random_tensor({4, 3}, 2), random_tensor({3}, 3)});
  verify_grad([](const std::vector<Variable>& v) { return T::dot(v[0], v[1]); },
              {random_tensor({3, 4}, 1, float32), random_tensor({4, 2}, 2, float32)});
}

TEST_CASE("dot gradients have the operands' dtypes and broadcastable patterns") {
  auto a = T::matrix("a", float32);
  auto b = T::matrix("b", float64);
  auto [ga, gb] = [&] {
    auto g = grad(T::sum(T::dot(a, b)), std::vector<Variable>{a, b});
    return std::pair{g[0], g[1]};
  }();
  CHECK(ga.dtype() == float32);
  CHECK(gb.dtype() == float64);
  // A broadcastable row: its gradient sums over the rows of the output.
  auto row = T::tensor(float64, {true, false}, "row");
  auto w = T::matrix("w");
  auto cost = T::sum(T::dot(row + T::matrix("x"), w));
  auto g = grad(cost, row);
  CHECK(g.broadcastable() == std::vector<bool>{true, false});
  auto x = T::matrix("x");
  auto out = run({row, x, w}, {grad(T::sum(T::dot(row + x, w)), row)},
                 {tensor_of({0, 0, 0}, {1, 3}), Tensor::zeros({2, 3}, float64), kB});
  CHECK(out[0].shape() == Shape{1, 3});
  CHECK(values(out[0]) == std::vector<double>{2, 6, 6});  // 2 rows * row sums of b
}

TEST_CASE("an integer operand gets no gradient; the float one does") {
  auto w = T::matrix("w");
  auto idx = T::matrix("idx", int32);
  auto g = grad(T::sum(T::dot(idx, w)), w);
  auto out = run({idx, w}, {g}, {tensor_of({1, 0, 2, 0, 1, 1}, {2, 3}, int32), kB});
  // d/dw = idx^T @ ones(2, 2)
  CHECK(values(out[0]) == std::vector<double>{1, 1, 1, 1, 3, 3});
}
