// Reductions: sum, mean, prod, max, min, argmax, argmin. Values, dtypes,
// shapes and broadcastable patterns, keepdims, negative and multiple axes,
// errors, and gradients. Expected values are numpy's, worked out by hand.
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

const double kNan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

// --- sum --------------------------------------------------------------------------------

TEST_CASE("sum over all axes, one axis, a negative axis and several axes") {
  auto x = T::tensor3("x");
  // x = arange(24).reshape(2, 3, 4)
  auto out = run({x}, {T::sum(x), T::sum(x, std::vector<int>{0}), T::sum(x, std::vector<int>{-1}),
                       T::sum(x, std::vector<int>{0, 2}), T::sum(x, std::vector<int>{2, -3}), x.sum(std::vector<int>{1})},
                 {range_tensor({2, 3, 4})});
  CHECK(out[0].shape() == Shape{});
  CHECK(out[0].item<double>() == 276);
  CHECK(out[1].shape() == Shape{3, 4});
  CHECK(values(out[1]) == std::vector<double>{12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34});
  CHECK(out[2].shape() == Shape{2, 3});
  CHECK(values(out[2]) == std::vector<double>{6, 22, 38, 54, 70, 86});
  CHECK(out[3].shape() == Shape{3});
  CHECK(values(out[3]) == std::vector<double>{60, 92, 124});
  CHECK(values(out[4]) == std::vector<double>{60, 92, 124});  // the same axes, in another order and sign
  CHECK(values(out[5]) == std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57});
}

TEST_CASE("equal reductions are equal nodes: axes are normalised and sorted") {
  auto x = T::tensor3("x");
  CHECK(T::sum(x, std::vector<int>{2, -3}).node()->attrs.axes == std::vector<int>{0, 2});
  CHECK(T::sum(x, std::vector<int>{0, 1, 2}).node()->attrs.axes.empty());  // all axes
  CHECK(T::sum(x, std::vector<int>{-1}).node()->attrs.axes == std::vector<int>{2});
}

TEST_CASE("keepdims leaves the reduced dims as broadcastable length-1 dims") {
  auto x = T::tensor3("x");
  auto kept = T::sum(x, std::vector<int>{1}, true);
  auto all_kept = T::sum(x, std::nullopt, true);
  CHECK(kept.broadcastable() == std::vector<bool>{false, true, false});
  CHECK(all_kept.broadcastable() == std::vector<bool>{true, true, true});
  CHECK(T::sum(x, std::vector<int>{1}).broadcastable() == std::vector<bool>{false, false});
  auto out = run({x}, {kept, all_kept, x - kept}, {range_tensor({2, 3, 4})});
  CHECK(out[0].shape() == Shape{2, 1, 4});
  CHECK(values(out[0]) == std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57});
  CHECK(out[1].shape() == Shape{1, 1, 1});
  CHECK(out[1].item<double>() == 276);
  // The kept dims broadcast against the input.
  CHECK(out[2].shape() == Shape{2, 3, 4});
  CHECK(out[2].get({0, 0, 0}) == -12);
}

TEST_CASE("a reduction keeps the broadcastable pattern of the dims it does not reduce") {
  auto x = T::tensor(float64, {true, false, false}, "x");
  CHECK(T::sum(x, std::vector<int>{2}).broadcastable() == std::vector<bool>{true, false});
  CHECK(T::max(x, std::vector<int>{1}).broadcastable() == std::vector<bool>{true, false});
}

TEST_CASE("sum and prod of bool and integers are int64; of floats, their own dtype") {
  for (DType t : {bool_, int8, uint8, int32, int64}) {
    auto x = T::vector("x", t);
    CHECK(T::sum(x).dtype() == int64);
    CHECK(T::prod(x).dtype() == int64);
    CHECK(T::max(x).dtype() == t);
    CHECK(T::min(x).dtype() == t);
    CHECK(T::argmax(x).dtype() == int64);
  }
  for (DType t : {float32, float64}) {
    auto x = T::vector("x", t);
    CHECK(T::sum(x).dtype() == t);
    CHECK(T::prod(x).dtype() == t);
    CHECK(T::max(x).dtype() == t);
    CHECK(T::argmin(x).dtype() == int64);
  }
}

TEST_CASE("sum of bools counts the true values; integer sums are exact beyond 2^53") {
  auto b = T::vector("b", bool_);
  auto i = T::vector("i", int64);
  const std::int64_t big = (std::int64_t{1} << 60) + 1;
  auto out = run({b, i}, {T::sum(b), T::sum(i)},
                 {tensor_of({1, 0, 1, 1}, {4}, bool_), Tensor::from_vector(std::vector<std::int64_t>{big, big, -1})});
  CHECK(out[0].dtype() == int64);
  CHECK(out[0].item<std::int64_t>() == 3);
  CHECK(out[1].item<std::int64_t>() == 2 * big - 1);
}

TEST_CASE("integer sums and products wrap around like numpy's int64") {
  auto i = T::vector("i", int64);
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  auto out = run({i}, {T::sum(i), T::prod(i)}, {Tensor::from_vector(std::vector<std::int64_t>{max, 1, std::int64_t{1} << 62})});
  CHECK(out[0].item<std::int64_t>() == std::numeric_limits<std::int64_t>::min() + (std::int64_t{1} << 62));
  CHECK(out[1].item<std::int64_t>() == std::numeric_limits<std::int64_t>::min() + (std::int64_t{1} << 62));
}

TEST_CASE("float32 sums accumulate in double and round once") {
  // In float32 arithmetic 1e8 + 1 == 1e8; rounded once, the 1000 ones count.
  std::vector<float> v(1001, 1.0f);
  v[0] = 1e8f;
  auto x = T::vector("x", float32);
  auto out = run({x}, {T::sum(x)}, {Tensor::from_vector(v)});
  CHECK(out[0].dtype() == float32);
  CHECK(out[0].item<float>() == 100001000.0f);
}

TEST_CASE("a sum over an empty dim is 0; a product is 1") {
  auto x = T::matrix("x");
  auto out = run({x}, {T::sum(x, std::vector<int>{1}), T::prod(x, std::vector<int>{1}), T::sum(x)},
                 {Tensor::zeros({3, 0}, float64)});
  CHECK(values(out[0]) == std::vector<double>{0, 0, 0});
  CHECK(values(out[1]) == std::vector<double>{1, 1, 1});
  CHECK(out[2].item<double>() == 0);
}

TEST_CASE("an explicit empty list of axes reduces nothing, as in numpy") {
  auto x = T::matrix("x");
  auto i = T::matrix("i", int32);
  CHECK(T::sum(x, std::vector<int>{}).node() == x.node());
  CHECK(T::max(i, std::vector<int>{}).node() == i.node());
  CHECK(T::sum(i, std::vector<int>{}).dtype() == int64);
  CHECK(T::mean(i, std::vector<int>{}).dtype() == float64);
  auto out = run({i}, {T::sum(i, std::vector<int>{}), T::mean(i, std::vector<int>{})}, {range_tensor({2, 2}, int32)});
  CHECK(values(out[0]) == std::vector<double>{0, 1, 2, 3});
  CHECK(values(out[1]) == std::vector<double>{0, 1, 2, 3});
}

TEST_CASE("a sum of a scalar is the scalar") {
  auto s = T::scalar("s");
  CHECK(run({s}, {T::sum(s), T::mean(s), T::max(s)}, {2.5})[1].item<double>() == 2.5);
}

// --- mean -------------------------------------------------------------------------------

TEST_CASE("mean divides by the reduced count read from the shape at run time") {
  auto x = T::matrix("x");
  auto f = function({x}, {T::mean(x), T::mean(x, std::vector<int>{0}), T::mean(x, std::vector<int>{-1}, true), x.mean()},
                    {.mode = Mode::reference});
  auto a = f(range_tensor({2, 3}));
  CHECK(a[0].item<double>() == 2.5);
  CHECK(values(a[1]) == std::vector<double>{1.5, 2.5, 3.5});
  CHECK(a[2].shape() == Shape{2, 1});
  CHECK(values(a[2]) == std::vector<double>{1, 4});
  CHECK(a[3].item<double>() == 2.5);
  // The same function with another shape: no length was baked in.
  auto b = f(range_tensor({4, 5}));
  CHECK(b[0].item<double>() == 9.5);
  CHECK(values(b[1]) == std::vector<double>{7.5, 8.5, 9.5, 10.5, 11.5});
  CHECK(values(b[2]) == std::vector<double>{2, 7, 12, 17});
}

TEST_CASE("mean of integers is float64, of float32 stays float32") {
  auto i = T::vector("i", int32);
  auto f32 = T::vector("f", float32);
  CHECK(T::mean(i).dtype() == float64);
  CHECK(T::mean(f32).dtype() == float32);
  CHECK(T::mean(T::vector("b", bool_)).dtype() == float64);
  auto out = run({i, f32}, {T::mean(i), T::mean(f32)},
                 {tensor_of({1, 2}, {2}, int32), tensor_of({1, 2, 4}, {3}, float32)});
  CHECK(out[0].item<double>() == 1.5);
  CHECK(out[1].dtype() == float32);
  CHECK(out[1].item<float>() == doctest::Approx(7.0 / 3));
}

TEST_CASE("mean over broadcastable dims divides by their length 1") {
  auto x = T::tensor(float64, {true, false}, "x");
  auto out = run({x}, {T::mean(x, std::vector<int>{0}), T::mean(x)}, {tensor_of({2, 4}, {1, 2})});
  CHECK(values(out[0]) == std::vector<double>{2, 4});
  CHECK(out[1].item<double>() == 3);
}

TEST_CASE("mean of an empty vector is nan, as numpy's") {
  auto x = T::vector("x");
  CHECK(std::isnan(run({x}, {T::mean(x)}, {Tensor::zeros({0}, float64)})[0].item<double>()));
}

// --- prod -------------------------------------------------------------------------------

TEST_CASE("prod over axes") {
  auto x = T::matrix("x");
  auto out = run({x}, {T::prod(x), T::prod(x, std::vector<int>{0}), T::prod(x, std::vector<int>{1}, true)},
                 {tensor_of({1, 2, 3, 4, 5, 6}, {2, 3})});
  CHECK(out[0].item<double>() == 720);
  CHECK(values(out[1]) == std::vector<double>{4, 10, 18});
  CHECK(out[2].shape() == Shape{2, 1});
  CHECK(values(out[2]) == std::vector<double>{6, 120});
}

// --- max, min, argmax, argmin ------------------------------------------------------------

TEST_CASE("max and min over axes keep the dtype") {
  auto x = T::matrix("x", int32);
  // [[3, -1, 7], [2, 9, -4]]
  auto out = run({x}, {T::max(x), T::min(x), T::max(x, std::vector<int>{0}), T::min(x, std::vector<int>{-1}, true),
                       x.max(std::vector<int>{1})},
                 {tensor_of({3, -1, 7, 2, 9, -4}, {2, 3}, int32)});
  CHECK(out[0].dtype() == int32);
  CHECK(out[0].item<int>() == 9);
  CHECK(out[1].item<int>() == -4);
  CHECK(values(out[2]) == std::vector<double>{3, 9, 7});
  CHECK(out[3].shape() == Shape{2, 1});
  CHECK(values(out[3]) == std::vector<double>{-1, -4});
  CHECK(values(out[4]) == std::vector<double>{7, 9});
}

TEST_CASE("argmax and argmin: one axis, a negative axis, or the flattened input") {
  auto x = T::matrix("x");
  // [[3, -1, 7], [2, 9, -4]]
  auto out = run({x}, {T::argmax(x), T::argmin(x), T::argmax(x, 0), T::argmin(x, -1), T::argmax(x, 1, true),
                       x.argmax(0), T::argmax(x, std::nullopt, true)},
                 {tensor_of({3, -1, 7, 2, 9, -4}, {2, 3})});
  CHECK(out[0].dtype() == int64);
  CHECK(out[0].shape() == Shape{});
  CHECK(out[0].item<std::int64_t>() == 4);
  CHECK(out[1].item<std::int64_t>() == 5);
  CHECK(values(out[2]) == std::vector<double>{0, 1, 0});
  CHECK(values(out[3]) == std::vector<double>{1, 2});
  CHECK(out[4].shape() == Shape{2, 1});
  CHECK(values(out[4]) == std::vector<double>{2, 1});
  CHECK(values(out[5]) == std::vector<double>{0, 1, 0});
  CHECK(out[6].shape() == Shape{1, 1});
  CHECK(out[6].item<std::int64_t>() == 4);
}

TEST_CASE("argmax of a 3-d input along the middle axis") {
  auto x = T::tensor3("x");
  Tensor v = Tensor::zeros({2, 3, 2}, float64);
  v.set({0, 2, 0}, 5);
  v.set({0, 1, 1}, 5);
  v.set({1, 0, 1}, 5);
  v.set({1, 1, 0}, 5);
  auto out = run({x}, {T::argmax(x, 1)}, {v});
  CHECK(out[0].shape() == Shape{2, 2});
  CHECK(values(out[0]) == std::vector<double>{2, 1, 1, 0});
}

TEST_CASE("ties go to the first occurrence; nan wins, as in numpy") {
  auto x = T::matrix("x");
  auto out = run({x}, {T::argmax(x, 1), T::argmin(x, 1), T::max(x, std::vector<int>{1}), T::min(x, std::vector<int>{1})},
                 {tensor_of({1, 5, 5, 2, kNan, 0, 4, 1, kNan}, {3, 3})});
  CHECK(values(out[0]) == std::vector<double>{1, 1, 2});
  CHECK(values(out[1]) == std::vector<double>{0, 1, 2});
  auto mx = values(out[2]), mn = values(out[3]);
  CHECK(mx[0] == 5);
  CHECK(std::isnan(mx[1]));
  CHECK(std::isnan(mx[2]));
  CHECK(mn[0] == 1);
  CHECK(std::isnan(mn[1]));
}

TEST_CASE("max of bools is any, min is all") {
  auto b = T::matrix("b", bool_);
  auto out = run({b}, {T::max(b, std::vector<int>{1}), T::min(b, std::vector<int>{1})}, {tensor_of({0, 1, 1, 1}, {2, 2}, bool_)});
  CHECK(out[0].dtype() == bool_);
  CHECK(values(out[0]) == std::vector<double>{1, 1});
  CHECK(values(out[1]) == std::vector<double>{0, 1});
}

TEST_CASE("max, min, argmax and argmin of an empty reduction are ShapeErrors naming the variable") {
  auto x = T::matrix("scores");
  for (auto reduce : {+[](const Variable& v) { return T::max(v, std::vector<int>{1}); },
                      +[](const Variable& v) { return T::min(v); },
                      +[](const Variable& v) { return T::argmax(v, 1); },
                      +[](const Variable& v) { return T::argmin(v, -1); }}) {
    auto y = reduce(x);
    const std::string msg = thrown_message<ShapeError>([&] { run({x}, {y}, {Tensor::zeros({2, 0}, float64)}); });
    CHECK(contains(msg, "scores"));
    CHECK(contains(msg, "(2, 0)"));
    // An empty result does not make the empty reduction defined (numpy raises too).
    CHECK(contains(thrown_message<ShapeError>([&] { run({x}, {y}, {Tensor::zeros({0, 0}, float64)}); }), "(0, 0)"));
  }
  // Reducing a non-empty dim of an input with no rows is fine: the result is empty.
  CHECK(run({x}, {T::max(x, std::vector<int>{1})}, {Tensor::zeros({0, 3}, float64)})[0].shape() == Shape{0});
}

// --- type errors --------------------------------------------------------------------------

TEST_CASE("out-of-range and repeated axes are TypeErrors naming the variable") {
  auto x = T::matrix("weights");
  std::string msg = thrown_message<TypeError>([&] { T::sum(x, std::vector<int>{2}); });
  CHECK(contains(msg, "weights"));
  CHECK(contains(msg, "axis 2"));
  msg = thrown_message<TypeError>([&] { T::mean(x, std::vector<int>{-3}); });
  CHECK(contains(msg, "weights"));
  CHECK(contains(msg, "-3"));
  msg = thrown_message<TypeError>([&] { T::max(x, std::vector<int>{0, -2}); });
  CHECK(contains(msg, "weights"));
  CHECK(contains(msg, "twice"));
  msg = thrown_message<TypeError>([&] { T::argmax(x, 5); });
  CHECK(contains(msg, "weights"));
  // A scalar has no axis 0.
  msg = thrown_message<TypeError>([&] { T::sum(T::scalar("s"), std::vector<int>{0}); });
  CHECK(contains(msg, "s: TensorType(float64, scalar)"));
}

TEST_CASE("argmax of several axes is a TypeError") {
  auto x = T::matrix("x");
  ir::Attrs attrs;
  attrs.axes = {0, 1};
  const std::string msg = thrown_message<TypeError>([&] { ir::make(ir::OpCode::Argmax, {x.node()}, attrs); });
  CHECK(contains(msg, "one axis"));
  CHECK(contains(msg, "x: TensorType(float64, matrix)"));
}

TEST_CASE("a reduction of an undefined variable is a TypeError") {
  CHECK_THROWS_AS(T::sum(Variable()), TypeError);
  CHECK_THROWS_AS(T::mean(Variable(), std::vector<int>{0}), TypeError);
  CHECK_THROWS_AS(T::argmax(Variable(), 0), TypeError);
}

// --- gradients ---------------------------------------------------------------------------

TEST_CASE("gradients of sum and mean, checked against finite differences") {
  for (Shape shape : {Shape{5}, Shape{3, 4}, Shape{2, 3, 4}, Shape{1, 3}}) {
    CAPTURE(shape_str(shape));
    const int ndim = static_cast<int>(shape.size());
    const Tensor point = random_tensor(shape, 7);
    verify_grad([](const std::vector<Variable>& v) { return T::sum(v[0]); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::mean(v[0]); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::sum(v[0], std::vector<int>{0}) * 2; }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::mean(v[0], std::vector<int>{-1}, true); }, {point});
    if (ndim >= 2) {
      verify_grad([](const std::vector<Variable>& v) { return T::sum(v[0], std::vector<int>{1}, true); }, {point});
      verify_grad([](const std::vector<Variable>& v) { return T::mean(v[0], std::vector<int>{0, 1}); }, {point});
    }
  }
  verify_grad([](const std::vector<Variable>& v) { return T::sum(v[0], std::vector<int>{1}); },
              {random_tensor({3, 4}, 3, float32)});
}

TEST_CASE("the gradient of a sum broadcasts back, including into broadcastable dims") {
  auto x = T::tensor(float64, {true, false}, "x");
  auto y = T::matrix("y");
  // cost = sum((x + y) * w): d/dx sums the weights over y's rows.
  auto w = constant(tensor_of({1, 2, 3, 4, 5, 6}, {2, 3}), "w");
  auto gx = grad(T::sum((x + y) * w), x);
  CHECK(gx.broadcastable() == std::vector<bool>{true, false});
  auto gy = grad(T::sum(T::sum(y, std::vector<int>{1}) * 3), y);
  CHECK(gy.broadcastable() == std::vector<bool>{false, false});
  auto out = run({x, y}, {gx, gy}, {tensor_of({0, 0, 0}, {1, 3}), tensor_of({1, 1, 1, 1, 1, 1}, {2, 3})});
  CHECK(out[0].shape() == Shape{1, 3});
  CHECK(values(out[0]) == std::vector<double>{5, 7, 9});
  CHECK(out[1].shape() == Shape{2, 3});
  CHECK(values(out[1]) == std::vector<double>{3, 3, 3, 3, 3, 3});
}

TEST_CASE("the gradient of a sum is exact next to infinities") {
  // Theano-style g * ones or x * 0 + g would put nan where x is inf.
  auto x = T::vector("x");
  auto out = run({x}, {grad(T::sum(x), x)}, {tensor_of({std::numeric_limits<double>::infinity(), kNan, 1}, {3})});
  CHECK(values(out[0]) == std::vector<double>{1, 1, 1});
}

TEST_CASE("the gradient of a float32 sum is float32") {
  auto x = T::matrix("x", float32);
  CHECK(grad(T::sum(x), x).dtype() == float32);
  CHECK(grad(T::mean(x), x).dtype() == float32);
  CHECK(grad(T::max(x), x).dtype() == float32);
  CHECK(grad(T::prod(x), x).dtype() == float32);
}

TEST_CASE("gradient of prod, with no zeros, one zero and two zeros in a group") {
  for (Shape shape : {Shape{4}, Shape{3, 4}, Shape{2, 3, 2}}) {
    CAPTURE(shape_str(shape));
    Tensor point = random_tensor(shape, 11);
    verify_grad([](const std::vector<Variable>& v) { return T::prod(v[0]); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::prod(v[0], std::vector<int>{0}); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::prod(v[0], std::vector<int>{-1}, true); }, {point});
  }
  // The product is linear in each element, so central differences are exact at zeros too.
  auto x = T::matrix("x");
  // rows: no zero, one zero, two zeros
  const Tensor point = tensor_of({2, 3, 4, 2, 0, 5, 0, 3, 0}, {3, 3});
  verify_grad([](const std::vector<Variable>& v) { return T::prod(v[0], std::vector<int>{1}); }, {point});
  auto out = run({x}, {grad(T::sum(T::prod(x, std::vector<int>{1})), x)}, {point});
  CHECK(values(out[0]) == std::vector<double>{12, 8, 6, 0, 10, 0, 0, 0, 0});
}

TEST_CASE("gradient of max and min, checked against finite differences") {
  for (Shape shape : {Shape{6}, Shape{3, 4}, Shape{2, 3, 4}}) {
    CAPTURE(shape_str(shape));
    const Tensor point = random_tensor(shape, 5);  // distinct values: no ties
    verify_grad([](const std::vector<Variable>& v) { return T::max(v[0]); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::min(v[0], std::vector<int>{0}); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::max(v[0], std::vector<int>{-1}, true); }, {point});
  }
}

TEST_CASE("ties in max share the gradient, as in Theano") {
  auto x = T::vector("x");
  auto out = run({x}, {grad(T::max(x), x), grad(T::min(x) * 2, x)}, {tensor_of({1, 3, 3, 1}, {4})});
  CHECK(values(out[0]) == std::vector<double>{0, 1, 1, 0});
  CHECK(values(out[1]) == std::vector<double>{2, 0, 0, 2});
}

TEST_CASE("argmax is not differentiable: the cost does not depend on x through it") {
  auto x = T::vector("x");
  CHECK_THROWS_AS(grad(T::cast(T::argmax(x), float64), x), GradError);
}
