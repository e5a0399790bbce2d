// Neural-network ops: softmax, log_softmax, softmax_grad, categorical and
// binary cross-entropy, to_one_hot. Values, types, errors and gradients
// (first and second order). Expected values are worked out by hand.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/ir/graph.hpp"
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

Tensor labels(std::vector<std::int64_t> v) { return Tensor::from_vector(v, {static_cast<std::int64_t>(v.size())}); }

// Random rows of positive probabilities summing to 1.
Tensor random_probs(Shape shape, std::uint64_t seed) {
  Tensor t = random_tensor(shape, seed);
  for (std::int64_t i = 0; i < shape[0]; ++i) {
    double total = 0;
    for (std::int64_t j = 0; j < shape[1]; ++j) total += (t.get({i, j}) + 1);
    for (std::int64_t j = 0; j < shape[1]; ++j) t.set({i, j}, (t.get({i, j}) + 1) / total);
  }
  return t;
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol = 1e-12) {
  const auto g = values(got);
  REQUIRE(g.size() == want.size());
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(want[i]).epsilon(tol));
}

bool graph_has(const Variable& v, ir::OpCode op) {
  for (const auto& n : ir::toposort({v.node()}))
    if (n->op == op) return true;
  return false;
}

const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

// --- softmax and log_softmax ---------------------------------------------------------

TEST_CASE("softmax normalises each row of a matrix, and a vector as one row") {
  auto x = T::matrix("x");
  auto v = T::vector("v");
  auto out = run({x, v}, {T::softmax(x), T::nnet::softmax(v)}, {tensor_of({0, 0, 0, 1, 2, 3}, {2, 3}), tensor_of({0, std::log(3.0)}, {2})});
  const double e = std::exp(1.0), s = e + e * e + e * e * e;
  check_close(out[0], {1.0 / 3, 1.0 / 3, 1.0 / 3, e / s, e * e / s, e * e * e / s});
  check_close(out[1], {0.25, 0.75});
  CHECK(T::softmax(x).broadcastable() == x.broadcastable());
}

TEST_CASE("softmax and log_softmax are stable for large inputs") {
  auto x = T::matrix("x");
  auto out = run({x}, {T::softmax(x), T::log_softmax(x)}, {tensor_of({1000, 1000, -1000, 0}, {2, 2})});
  check_close(out[0], {0.5, 0.5, 0, 1});
  check_close(out[1], {-std::log(2.0), -std::log(2.0), -1000, 0});
  CHECK(values(out[1])[2] == -1000);  // exp(-1000) underflows, but log_softmax does not need it
}

TEST_CASE("log_softmax is the log of softmax") {
  auto x = T::matrix("x");
  const Tensor point = random_tensor({3, 5}, 1);
  auto out = run({x}, {T::log_softmax(x), T::log(T::softmax(x))}, {point});
  check_close(out[0], values(out[1]), 1e-12);
}

TEST_CASE("softmax keeps float32, and an infinite input gives its row to that class") {
  auto x = T::vector("x", float32);
  auto out = run({x}, {T::softmax(x)}, {tensor_of({-kInf, 0, 0}, {3}, float32)});
  CHECK(out[0].dtype() == float32);
  CHECK(values(out[0]) == std::vector<double>{0, 0.5, 0.5});
}

TEST_CASE("softmax of an empty batch is empty") {
  auto x = T::matrix("x");
  CHECK(run({x}, {T::softmax(x)}, {Tensor::zeros({0, 4}, float64)})[0].shape() == Shape{0, 4});
}

// Found by fuzz/fuzz_graph: the reference returned an empty result, fast_run
// threw (its expansion takes the max of an empty row). Both raise now.
TEST_CASE("softmax and log_softmax of rows of length 0 are a ShapeError in every mode") {
  for (graphjit::Mode mode : {graphjit::Mode::reference, graphjit::Mode::fast_run}) {
    INFO("mode ", std::string(graphjit::mode_name(mode)));
    auto v = T::vector("v");
    auto m = T::matrix("m");
    auto f = graphjit::function({v, m}, {T::softmax(v), T::log_softmax(m)}, {.mode = mode});
    CHECK_THROWS_AS(f(Tensor::zeros({0}, float64), Tensor::zeros({2, 3}, float64)), ShapeError);
    CHECK_THROWS_AS(f(Tensor::zeros({3}, float64), Tensor::zeros({3, 0}, float64)), ShapeError);
    // No rows and rows of length 0: numpy's max raises here too (a fuzz_graph finding).
    CHECK_THROWS_AS(f(Tensor::zeros({3}, float64), Tensor::zeros({0, 0}, float64)), ShapeError);
    CHECK(f(Tensor::zeros({3}, float64), Tensor::zeros({0, 3}, float64))[1].shape() == Shape{0, 3});
  }
}

TEST_CASE("softmax of integers or of 0-d inputs is a TypeError naming the variable") {
  std::string msg = thrown_message<TypeError>([] { T::softmax(T::matrix("logits", int32)); });
  CHECK(contains(msg, "logits"));
  CHECK(contains(msg, "cast"));
  msg = thrown_message<TypeError>([] { T::log_softmax(T::scalar("scores")); });
  CHECK(contains(msg, "scores"));
  CHECK(contains(msg, "at least one dim"));
  CHECK_THROWS_AS(T::softmax(T::scalar("s")), TypeError);
  CHECK_NOTHROW(T::softmax(T::tensor3("sequence")));  // over the last axis (tests/test_linalg.cpp)
  CHECK_THROWS_AS(T::softmax(Variable()), TypeError);
}

// --- softmax_grad ----------------------------------------------------------------------------

namespace {
Variable softmax_grad(const Variable& gy, const Variable& y) {
  return Variable(ir::make(ir::OpCode::SoftmaxGrad, {gy.node(), y.node()}));
}
}  // namespace

TEST_CASE("softmax_grad computes (gy - sum(gy * y)) * y row by row") {
  auto gy = T::matrix("gy");
  auto y = T::matrix("y");
  auto out = run({gy, y}, {softmax_grad(gy, y)}, {tensor_of({1, 2, 3, 0, 0, 1}, {2, 3}), tensor_of({0.5, 0.25, 0.25, 0.1, 0.2, 0.7}, {2, 3})});
  // row 0: s = 0.5 + 0.5 + 0.75 = 1.75; row 1: s = 0.7
  check_close(out[0], {(1 - 1.75) * 0.5, (2 - 1.75) * 0.25, (3 - 1.75) * 0.25, -0.7 * 0.1, -0.7 * 0.2, 0.3 * 0.7});
}

TEST_CASE("softmax's gradient is a softmax_grad node the optimizer can find") {
  auto x = T::matrix("x");
  CHECK(graph_has(grad(T::sum(T::softmax(x) * x), x), ir::OpCode::SoftmaxGrad));
}

TEST_CASE("softmax_grad checks ranks, dtypes and shapes") {
  CHECK_THROWS_AS(softmax_grad(T::matrix("gy"), T::vector("y")), TypeError);
  CHECK_THROWS_AS(softmax_grad(T::matrix("gy", int64), T::matrix("y")), TypeError);
  CHECK(softmax_grad(T::matrix("gy", float32), T::matrix("y", float64)).dtype() == float64);
  auto gy = T::matrix("gy");
  auto y = T::matrix("y");
  const std::string msg = thrown_message<ShapeError>(
      [&] { run({gy, y}, {softmax_grad(gy, y)}, {Tensor::zeros({2, 3}, float64), Tensor::zeros({2, 4}, float64)}); });
  CHECK(contains(msg, "gy(2, 3)"));
  CHECK(contains(msg, "y(2, 4)"));
}

// --- categorical cross-entropy -------------------------------------------------------------

TEST_CASE("categorical_crossentropy with integer targets is -log of each row's target probability") {
  auto p = T::matrix("p");
  auto y = T::vector("y", int32);
  auto loss = T::categorical_crossentropy(p, y);
  CHECK(loss.node()->op == ir::OpCode::CrossentropyCategorical);
  CHECK(loss.ndim() == 1);
  auto out = run({p, y}, {loss}, {tensor_of({0.5, 0.25, 0.25, 0.1, 0.2, 0.7}, {2, 3}), tensor_of({1, 2}, {2}, int32)});
  check_close(out[0], {std::log(4.0), -std::log(0.7)});
}

TEST_CASE("categorical_crossentropy with one-hot targets gives the same values") {
  auto p = T::matrix("p");
  auto t = T::matrix("t");
  auto loss = T::nnet::categorical_crossentropy(p, t);
  CHECK(loss.ndim() == 1);
  auto out = run({p, t}, {loss}, {tensor_of({0.5, 0.25, 0.25, 0.1, 0.2, 0.7}, {2, 3}), tensor_of({0, 1, 0, 0, 0, 1}, {2, 3})});
  check_close(out[0], {std::log(4.0), -std::log(0.7)});
  // Soft targets too: -sum(t * log(p)).
  auto soft = run({p, t}, {loss}, {tensor_of({0.5, 0.5, 0.25, 0.75}, {2, 2}), tensor_of({0.5, 0.5, 1, 0}, {2, 2})});
  check_close(soft[0], {std::log(2.0), std::log(4.0)});
}

TEST_CASE("a target outside the classes is a ShapeError naming the value and the row") {
  auto p = T::matrix("probs");
  auto y = T::vector("y", int64);
  auto loss = T::categorical_crossentropy(p, y);
  const Tensor probs = tensor_of({0.5, 0.5, 0.5, 0.5}, {2, 2});
  std::string msg = thrown_message<ShapeError>([&] { run({p, y}, {loss}, {probs, labels({1, 2})}); });
  CHECK(contains(msg, "target 2 at index 1"));
  CHECK(contains(msg, "[0, 2)"));
  CHECK(contains(msg, "probs"));
  msg = thrown_message<ShapeError>([&] { run({p, y}, {loss}, {probs, labels({-1, 0})}); });
  CHECK(contains(msg, "target -1 at index 0"));
  msg = thrown_message<ShapeError>([&] { run({p, y}, {loss}, {probs, labels({0, 1, 1})}); });
  CHECK(contains(msg, "the probabilities have rows (2,) but the targets have shape (3,)"));
}

TEST_CASE("crossentropy of a softmax checks its targets in every mode, -1 included") {
  // fast_run rewrites it over log_softmax (stabilize); the targets are still checked.
  auto x = T::matrix("logits");
  auto y = T::vector("y", int64);
  auto loss = T::categorical_crossentropy(T::nnet::softmax(x), y);
  const Tensor logits = tensor_of({1, 2, 3, 4}, {2, 2});
  for (Mode mode : {Mode::reference, Mode::fast_compile, Mode::fast_run, Mode::debug}) {
    CAPTURE(static_cast<int>(mode));
    const Function f = function({x, y}, {loss}, {.mode = mode});
    CHECK(contains(thrown_message<ShapeError>([&] { f(logits, labels({-1, 0})); }), "target -1 at index 0"));
    CHECK(contains(thrown_message<ShapeError>([&] { f(logits, labels({0, 2})); }), "target 2 at index 1"));
    const std::vector<double> got = f(logits, labels({1, 0}))[0].to_vector<double>();
    CHECK(got[0] == doctest::Approx(std::log1p(std::exp(-1.0))));
    CHECK(got[1] == doctest::Approx(std::log1p(std::exp(1.0))));
  }
}

TEST_CASE("categorical_crossentropy type errors") {
  auto p = T::matrix("probs");
  std::string msg = thrown_message<TypeError>([&] { T::categorical_crossentropy(p, T::vector("y")); });
  CHECK(contains(msg, "integer class indices"));
  CHECK(contains(msg, "y: TensorType(float64, vector)"));
  CHECK_THROWS_AS(T::categorical_crossentropy(T::matrix("p", int32), T::vector("y", int32)), TypeError);
  CHECK_NOTHROW(T::categorical_crossentropy(T::tensor3("p"), T::matrix("y", int32)));  // a (T, B, C) sequence
  CHECK_THROWS_AS(T::categorical_crossentropy(T::tensor3("p"), T::vector("y", int32)), TypeError);
  CHECK_THROWS_AS(T::categorical_crossentropy(p, T::scalar("y", int32)), TypeError);
  CHECK_THROWS_AS(T::categorical_crossentropy(p, Variable()), TypeError);
}

TEST_CASE("the cross-entropy gradient is exactly 0 off the targets, even where a probability is 0") {
  auto p = T::matrix("p");
  auto y = T::vector("y", int64);
  auto g = grad(T::sum(T::categorical_crossentropy(p, y)), p);
  CHECK(g.dtype() == float64);
  auto out = run({p, y}, {g}, {tensor_of({0.5, 0, 0.5, 0, 0.25, 0.75}, {2, 3}), labels({2, 1})});
  CHECK(values(out[0]) == std::vector<double>{0, 0, -2, 0, -4, 0});
}

// --- binary cross-entropy --------------------------------------------------------------------

TEST_CASE("binary_crossentropy is elementwise -(t log o + (1 - t) log(1 - o))") {
  auto o = T::vector("o");
  auto t = T::vector("t");
  auto out = run({o, t}, {T::binary_crossentropy(o, t)}, {tensor_of({0.5, 0.8, 0.2}, {3}), tensor_of({1, 0, 0.5}, {3})});
  check_close(out[0], {std::log(2.0), -std::log(0.2), -0.5 * (std::log(0.2) + std::log(0.8))});
  auto o32 = T::matrix("o", float32);
  CHECK(T::nnet::binary_crossentropy(o32, T::matrix("t", float32)).dtype() == float32);
  CHECK(T::binary_crossentropy(o32, T::matrix("t", int32)).ndim() == 2);
}

// --- to_one_hot ----------------------------------------------------------------------------

TEST_CASE("to_one_hot makes one row per label") {
  auto y = T::vector("y", int32);
  auto h = T::extra_ops::to_one_hot(y, 4);
  CHECK(h.dtype() == float64);
  CHECK(h.broadcastable() == std::vector<bool>{false, false});
  auto h8 = T::extra_ops::to_one_hot(y, 5, int8);
  CHECK(h8.dtype() == int8);
  CHECK(T::extra_ops::to_one_hot(y, 1).broadcastable() == std::vector<bool>{false, true});
  auto out = run({y}, {h, h8}, {tensor_of({3, 0, 2}, {3}, int32)});
  CHECK(out[0].shape() == Shape{3, 4});
  CHECK(values(out[0]) == std::vector<double>{0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0});
  CHECK(out[1].dtype() == int8);
  CHECK(out[1].shape() == Shape{3, 5});
  CHECK(values(out[1]) == std::vector<double>{0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0});
}

TEST_CASE("a label outside [0, nb_class) is a ShapeError naming the label and its index") {
  auto y = T::vector("labels", int64);
  auto h = T::extra_ops::to_one_hot(y, 3);
  std::string msg = thrown_message<ShapeError>([&] { run({y}, {h}, {labels({0, 2, 3})}); });
  CHECK(contains(msg, "label 3 at index 2"));
  CHECK(contains(msg, "[0, 3)"));
  CHECK(contains(msg, "labels"));
  msg = thrown_message<ShapeError>([&] { run({y}, {h}, {labels({-1})}); });
  CHECK(contains(msg, "label -1 at index 0"));
}

TEST_CASE("to_one_hot type errors") {
  std::string msg = thrown_message<TypeError>([] { T::extra_ops::to_one_hot(T::vector("y"), 3); });
  CHECK(contains(msg, "y: TensorType(float64, vector)"));
  CHECK(contains(msg, "integer vector"));
  CHECK_THROWS_AS(T::extra_ops::to_one_hot(T::matrix("y", int32), 3), TypeError);
  CHECK_THROWS_AS(T::extra_ops::to_one_hot(T::vector("y", bool_), 3), TypeError);
  msg = thrown_message<TypeError>([] { T::extra_ops::to_one_hot(T::vector("y", int32), 0); });
  CHECK(contains(msg, "at least 1"));
}

TEST_CASE("to_one_hot has no gradient, and integer labels need none") {
  auto y = T::vector("y", int32);
  auto p = T::matrix("p");
  // The loss depends on p only; asking for d/dp works and one-hot rows act as constants.
  auto g = grad(T::sum(T::categorical_crossentropy(p, T::extra_ops::to_one_hot(y, 2))), p);
  auto out = run({p, y}, {g}, {tensor_of({0.5, 0.5, 0.25, 0.75}, {2, 2}), tensor_of({1, 0}, {2}, int32)});
  check_close(out[0], {0, -2, -4, 0});
}

// --- gradients ------------------------------------------------------------------------------

TEST_CASE("softmax and log_softmax gradients, checked against finite differences") {
  for (Shape shape : {Shape{4}, Shape{1, 3}, Shape{3, 5}, Shape{4, 1}}) {
    CAPTURE(shape_str(shape));
    const Tensor point = random_tensor(shape, 3);
    verify_grad([](const std::vector<Variable>& v) { return T::softmax(v[0]); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::log_softmax(v[0]); }, {point});
    verify_grad([](const std::vector<Variable>& v) { return T::softmax(v[0] * 3) * v[0]; }, {point});
  }
  verify_grad([](const std::vector<Variable>& v) { return T::softmax(v[0]); }, {random_tensor({2, 3}, 4, float32)});
}

TEST_CASE("second derivatives through softmax_grad and log_softmax") {
  // f(x, w) = d/dx sum(softmax(x) * w): its gradient needs softmax_grad's gradient.
  auto first_order = [](auto op) {
    return [op](const std::vector<Variable>& v) { return grad(T::sum(op(v[0]) * v[1]), v[0]); };
  };
  for (Shape shape : {Shape{4}, Shape{3, 5}}) {
    CAPTURE(shape_str(shape));
    const std::vector<Tensor> point{random_tensor(shape, 5), random_tensor(shape, 6)};
    verify_grad(first_order([](const Variable& x) { return T::softmax(x); }), point);
    verify_grad(first_order([](const Variable& x) { return T::log_softmax(x); }), point);
    verify_grad([](const std::vector<Variable>& v) { return softmax_grad(v[0], T::softmax(v[1])); }, point);
  }
}

TEST_CASE("cross-entropy gradients, checked against finite differences") {
  const Tensor targets = labels({2, 0, 1, 2});
  verify_grad([&](const std::vector<Variable>& v) { return T::categorical_crossentropy(v[0], constant(targets)); },
              {random_probs({4, 3}, 1)});
  verify_grad([&](const std::vector<Variable>& v) {
    return T::categorical_crossentropy(T::softmax(v[0]), constant(targets));
  }, {random_tensor({4, 3}, 2)});
  verify_grad([](const std::vector<Variable>& v) { return T::categorical_crossentropy(v[0], v[1]); },
              {random_probs({3, 4}, 3), random_probs({3, 4}, 4)});
  verify_grad([](const std::vector<Variable>& v) { return T::binary_crossentropy(T::sigmoid(v[0]), v[1]); },
              {random_tensor({3, 2}, 5), random_probs({3, 2}, 6)});
}

TEST_CASE("gradients w.r.t. broadcastable inputs keep their broadcastable pattern") {
  auto row = T::tensor(float64, {true, false}, "row");
  auto x = T::matrix("x");
  auto gs = grad(T::sum(T::softmax(row + x) * x), row);
  auto gl = grad(T::sum(T::log_softmax(row + x) * x), row);
  CHECK(gs.broadcastable() == std::vector<bool>{true, false});
  CHECK(gl.broadcastable() == std::vector<bool>{true, false});
  auto p = T::tensor(float64, {true, false}, "p");
  auto gp = grad(T::sum(T::categorical_crossentropy(p, T::vector("y", int32))), p);
  CHECK(gp.broadcastable() == std::vector<bool>{true, false});
  auto y = T::vector("y", int32);
  auto out = run({p, y}, {grad(T::sum(T::categorical_crossentropy(p, y)), p)},
                 {tensor_of({0.5, 0.25}, {1, 2}), tensor_of({1}, {1}, int32)});
  CHECK(values(out[0]) == std::vector<double>{0, -4});
}
