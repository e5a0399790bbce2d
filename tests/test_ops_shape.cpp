// Shape ops: reshape, flatten, concatenate, stack, shape, shape(i), alloc
// (zeros_like, ones_like) and arange: values, types, errors and gradients.
// Expected values are numpy's, worked out by hand.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "frontend/ops/op_support.hpp"
#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cstdint>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

// --- reshape and flatten ---------------------------------------------------------------

TEST_CASE("reshape keeps the row-major order of the elements") {
  auto x = T::matrix("x");
  auto out = run({x}, {x.reshape(std::vector<std::int64_t>{3, 2}), x.reshape(std::vector<std::int64_t>{-1}),
                       x.T().reshape(std::vector<std::int64_t>{6}), x.reshape(std::vector<std::int64_t>{1, -1, 2})},
                 {range_tensor({2, 3})});
  CHECK(out[0].shape() == Shape{3, 2});
  CHECK(values(out[0]) == std::vector<double>{0, 1, 2, 3, 4, 5});
  CHECK(out[1].shape() == Shape{6});
  // The transpose is not contiguous: numpy reads it in its own row-major order.
  CHECK(values(out[2]) == std::vector<double>{0, 3, 1, 4, 2, 5});
  CHECK(out[3].shape() == Shape{1, 3, 2});
}

TEST_CASE("reshape to symbolic lengths works for every batch size") {
  auto x = T::vector("x");
  auto rows = T::scalar("rows", int32);
  auto f = function({x, rows}, {T::reshape(x, {rows, constant(-1, int64)})}, {.mode = Mode::reference});
  CHECK(f(range_tensor({6}), 2)[0].shape() == Shape{2, 3});
  CHECK(f(range_tensor({12}), 4)[0].shape() == Shape{4, 3});
  CHECK(values(f(range_tensor({6}), 3)[0]) == std::vector<double>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("reshape's result is broadcastable only where the target is the constant 1") {
  auto x = T::matrix("x");
  auto n = T::scalar("n", int64);
  CHECK(x.reshape(std::vector<std::int64_t>{1, 6}).broadcastable() == std::vector<bool>{true, false});
  CHECK(T::reshape(x, {n, constant(1, int64)}).broadcastable() == std::vector<bool>{false, true});
  // A symbolic 1 is not known before run time.
  CHECK(T::reshape(x, {n, n}).broadcastable() == std::vector<bool>{false, false});
}

TEST_CASE("reshape errors name the shapes") {
  auto x = T::matrix("x");
  auto bad = x.reshape(std::vector<std::int64_t>{4, 2});
  const std::string msg = thrown_message<ShapeError>([&] { run({x}, {bad}, {range_tensor({2, 3})}); });
  CHECK(contains(msg, "(2, 3)"));
  CHECK(contains(msg, "(4, 2)"));
  CHECK(contains(msg, "x"));
  auto inferred = x.reshape(std::vector<std::int64_t>{4, -1});
  CHECK(contains(thrown_message<ShapeError>([&] { run({x}, {inferred}, {range_tensor({2, 3})}); }), "-1"));
  CHECK(contains(thrown_message<TypeError>([&] { x.reshape(std::vector<std::int64_t>{-1, -1}); }), "more than one"));
  CHECK(contains(thrown_message<TypeError>([&] { x.reshape(std::vector<std::int64_t>{-2, 3}); }), "-2"));
  auto f = T::scalar("f");
  CHECK(contains(thrown_message<TypeError>([&] { T::reshape(x, {f}); }), "'f'"));
}

TEST_CASE("flatten folds the trailing dims into one") {
  auto t = T::tensor3("t");
  auto out = run({t}, {t.flatten(), t.flatten(2), t.flatten(3)}, {range_tensor({2, 3, 4})});
  CHECK(out[0].shape() == Shape{24});
  CHECK(out[1].shape() == Shape{2, 12});
  CHECK(out[2].shape() == Shape{2, 3, 4});
  CHECK(out[1].at<double>({1, 0}) == 12);
  CHECK(contains(thrown_message<TypeError>([&] { t.flatten(4); }), "outdim 4"));
  CHECK(contains(thrown_message<TypeError>([&] { t.flatten(0); }), "outdim 0"));
  auto b = T::tensor(float64, {false, true, true}, "b");
  CHECK(b.flatten(2).broadcastable() == std::vector<bool>{false, true});
  CHECK(b.flatten(1).broadcastable() == std::vector<bool>{false});
}

// --- concatenate and stack ----------------------------------------------------------------

TEST_CASE("concatenate joins along an axis and promotes dtypes") {
  auto a = T::matrix("a");
  auto b = T::matrix("b");
  auto i = T::matrix("i", int32);
  auto out = run({a, b, i}, {T::concatenate({a, b}), T::concatenate({a, i}, 1), T::concatenate({a, i}, -1)},
                 {range_tensor({2, 2}), Tensor::from_vector<double>({10, 11}, {1, 2}),
                  Tensor::from_vector<std::int32_t>({7, 8}, {2, 1})});
  CHECK(out[0].shape() == Shape{3, 2});
  CHECK(values(out[0]) == std::vector<double>{0, 1, 2, 3, 10, 11});
  CHECK(out[1].dtype() == float64);
  CHECK(out[1].shape() == Shape{2, 3});
  CHECK(values(out[1]) == std::vector<double>{0, 1, 7, 2, 3, 8});
  CHECK(out[2].equal(out[1]));
}

TEST_CASE("concatenate checks the other dims at run time and the axis at build time") {
  auto a = T::matrix("a");
  auto b = T::matrix("b");
  const std::string msg = thrown_message<ShapeError>(
      [&] { run({a, b}, {T::concatenate({a, b})}, {range_tensor({2, 2}), range_tensor({2, 3})}); });
  CHECK(contains(msg, "dim 1"));
  CHECK(contains(msg, "(2, 3)"));
  CHECK(contains(thrown_message<TypeError>([&] { T::concatenate({a, b}, 2); }), "axis 2"));
  auto v = T::vector("v");
  CHECK(contains(thrown_message<TypeError>([&] { T::concatenate({a, v}); }), "'v'"));
  CHECK_THROWS_AS(T::concatenate({}), TypeError);
}

TEST_CASE("concatenate's broadcastable pattern: the axis is not, other dims if any input is") {
  auto r = T::tensor(float64, {true, false}, "r");
  auto m = T::matrix("m");
  CHECK(T::concatenate({r, r}).broadcastable() == std::vector<bool>{false, false});
  CHECK(T::concatenate({r, m}, 1).broadcastable() == std::vector<bool>{true, false});
}

TEST_CASE("stack adds a new axis") {
  auto a = T::vector("a");
  auto b = T::vector("b");
  auto out = run({a, b}, {T::stack({a, b}), T::stack({a, b}, 1), T::stack({a, b}, -1)},
                 {Tensor::from_vector<double>({1, 2, 3}), Tensor::from_vector<double>({4, 5, 6})});
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(values(out[0]) == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(out[1].shape() == Shape{3, 2});
  CHECK(values(out[1]) == std::vector<double>{1, 4, 2, 5, 3, 6});
  CHECK(out[2].equal(out[1]));
  CHECK(contains(thrown_message<TypeError>([&] { T::stack({a, b}, 2); }), "axis 2"));
  CHECK(contains(thrown_message<TypeError>([&] { T::stack({a, T::matrix("m")}); }), "'m'"));
}

// --- shape, shape(i), alloc -----------------------------------------------------------------------

TEST_CASE("shape and shape(i) are int64") {
  auto x = T::tensor3("x");
  CHECK(x.shape().dtype() == int64);
  CHECK(x.shape().ndim() == 1);
  CHECK(x.shape(0).ndim() == 0);
  CHECK(x.shape(0).node()->op == ir::OpCode::ShapeI);
  auto out = run({x}, {x.shape(), x.shape(1), x.shape(-1)}, {range_tensor({2, 3, 4})});
  CHECK(out[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 3, 4});
  CHECK(out[1].item<std::int64_t>() == 3);
  CHECK(out[2].item<std::int64_t>() == 4);
  CHECK(contains(thrown_message<TypeError>([&] { x.shape(3); }), "axis 3"));
  auto s = T::scalar("s");
  CHECK(run({s}, {s.shape()}, {1.0})[0].shape() == Shape{0});
}

TEST_CASE("zeros_like and ones_like follow x's shape, dtype and broadcastable pattern") {
  auto x = T::matrix("x", int32);
  auto out = run({x}, {T::zeros_like(x), T::ones_like(x)}, {range_tensor({2, 3}, int32)});
  CHECK(out[0].dtype() == int32);
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(values(out[0]) == std::vector<double>(6, 0));
  CHECK(values(out[1]) == std::vector<double>(6, 1));
  auto row = T::tensor(float64, {true, false}, "row");
  CHECK(T::zeros_like(row).broadcastable() == std::vector<bool>{true, false});
}

TEST_CASE("alloc broadcasts its value and rejects negative lengths") {
  auto v = T::scalar("v");
  auto n = T::scalar("n", int64);
  auto filled = ops::apply(ir::OpCode::Alloc, {v, n, constant(2, int64)}, {}, std::source_location::current());
  CHECK(filled.broadcastable() == std::vector<bool>{false, false});
  auto f = function({v, n}, {filled}, {.mode = Mode::reference});
  auto out = f(2.5, 3)[0];
  CHECK(out.shape() == Shape{3, 2});
  CHECK(values(out) == std::vector<double>(6, 2.5));
  CHECK(contains(thrown_message<ShapeError>([&] { f(1.0, -1); }), "(-1, 2)"));
  // A tensor value fills the trailing dims (tests/test_shape_ops.cpp); it cannot have more dims than the shape.
  auto m = T::matrix("m");
  CHECK_THROWS_AS(ops::apply(ir::OpCode::Alloc, {m, n}, {}, std::source_location::current()), TypeError);
}

// --- arange ------------------------------------------------------------------------------------

TEST_CASE("arange follows numpy, int64 for integers and float64 otherwise") {
  auto n = T::scalar("n", int32);
  auto out = run({n}, {T::arange(5), T::arange(2, 10, 3), T::arange(10, 2, -3), T::arange(0.0, 1.0, 0.25),
                       T::arange(n), T::arange(5, 2), T::arange(-3, n)},
                 {std::int64_t{4}});
  CHECK(out[0].dtype() == int64);
  CHECK(out[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  CHECK(out[1].to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 5, 8});
  CHECK(out[2].to_vector<std::int64_t>() == std::vector<std::int64_t>{10, 7, 4});
  CHECK(out[3].dtype() == float64);
  CHECK(values(out[3]) == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(out[4].dtype() == int64);
  CHECK(out[4].to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(out[5].shape() == Shape{0});
  CHECK(out[6].to_vector<std::int64_t>() == std::vector<std::int64_t>{-3, -2, -1, 0, 1, 2, 3});
  CHECK(values(run({}, {T::arange(1.0, 2.1, 0.5)})[0]) == std::vector<double>{1.0, 1.5, 2.0});
}

TEST_CASE("arange rejects a zero step and non-scalar bounds") {
  auto step = T::scalar("step", int64);
  auto f = function({step}, {T::arange(0, 5, step)}, {.mode = Mode::reference});
  CHECK(contains(thrown_message<ShapeError>([&] { f(0); }), "step"));
  CHECK(contains(thrown_message<TypeError>([&] { T::arange(T::vector("v")); }), "'v'"));
}

// --- gradients -------------------------------------------------------------------------------------

TEST_CASE("reshape and flatten gradients") {
  for (Shape shape : {Shape{2, 3}, Shape{4, 1}, Shape{1, 6}}) {
    CAPTURE(shape_str(shape));
    verify_grad([](const auto& in) { return in[0].reshape(std::vector<std::int64_t>{-1}); }, {random_tensor(shape, 1)});
    verify_grad([&](const auto& in) { return T::sqr(in[0].reshape(std::vector<std::int64_t>{shape[1], shape[0]})); },
                {random_tensor(shape, 2)});
    verify_grad([](const auto& in) { return in[0].flatten(); }, {random_tensor(shape, 3)});
  }
  verify_grad([](const auto& in) { return in[0].flatten(2) * 3; }, {random_tensor({2, 3, 2}, 4)});
}

TEST_CASE("concatenate and stack gradients") {
  for (int axis : {0, 1, -1}) {
    CAPTURE(axis);
    verify_grad([&](const auto& in) { return T::concatenate({in[0], in[1], in[0]}, axis) * 2; },
                {random_tensor({2, 2}, 5), random_tensor({2, 2}, 6)});
  }
  verify_grad([](const auto& in) { return T::concatenate({in[0], in[1]}); },
              {random_tensor({1, 3}, 7), random_tensor({4, 3}, 8)});
  verify_grad([](const auto& in) { return T::concatenate({in[0], in[1]}, 1); },
              {random_tensor({3, 1}, 9), random_tensor({3, 2}, 10)});
  for (int axis : {0, 1, 2}) {
    CAPTURE(axis);
    verify_grad([&](const auto& in) { return T::sqr(T::stack({in[0], in[1]}, axis)); },
                {random_tensor({2, 3}, 11), random_tensor({2, 3}, 12)});
  }
  verify_grad([](const auto& in) { return T::stack({in[0], in[1], in[2]}); },
              {random_tensor({3}, 13), random_tensor({3}, 14), random_tensor({3}, 15)});
}

TEST_CASE("concatenate passes no gradient to integer inputs") {
  auto a = T::vector("a");
  auto i = T::vector("i", int32);
  auto cost = T::sum(T::sqr(T::concatenate({a, i})));
  auto g = grad(cost, a);
  auto out = run({a, i}, {g}, {Tensor::from_vector<double>({1, 2}), Tensor::from_vector<std::int32_t>({3}, {1})});
  CHECK(values(out[0]) == std::vector<double>{2, 4});
}

TEST_CASE("alloc and arange gradients") {
  verify_grad(
      [](const auto& in) {
        return ops::apply(ir::OpCode::Alloc, {in[0], constant(2, int64), constant(3, int64)}, {},
                          std::source_location::current());
      },
      {Tensor::scalar(0.7)});
  // Away from the points where the length changes, d out[i] = d start + i * d step.
  verify_grad([](const auto& in) { return T::arange(in[0], 3.0, in[1]); }, {Tensor::scalar(0.3), Tensor::scalar(0.7)});
}
