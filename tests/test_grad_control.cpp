// Gradient control with Theano's names (issue 12): consider_constant,
// zero_grad, disconnected_grad, known_grads, grad_clip, grad_scale,
// disconnected_inputs and return_disconnected.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <vector>

namespace T = graphjit::tensor;
using graphjit::DisconnectedInputs;
using graphjit::GradError;
using graphjit::GradOptions;
using graphjit::Mode;
using graphjit::ReturnDisconnected;
using graphjit::Tensor;
using graphjit::Variable;

namespace {

Tensor vec(std::vector<double> v) { return Tensor::from_vector(v); }

// The values of `outputs` at x = point, checked equal in the reference and compiled.
std::vector<std::vector<double>> at(const Variable& x, const std::vector<Variable>& outputs, const Tensor& point) {
  std::vector<std::vector<double>> result;
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto f = graphjit::function({x}, outputs, {.on_unused_input = graphjit::OnUnusedInput::ignore, .mode = mode});
    std::vector<std::vector<double>> values;
    for (const Tensor& t : f(point)) values.push_back(t.to_vector<double>());
    if (!result.empty()) CHECK(values == result);
    result = values;
  }
  return result;
}

}  // namespace

TEST_CASE("zero_grad: zeros through it, the rest of the graph unchanged; the forward value is x") {
  auto x = T::vector("x");
  const auto out = at(x, {graphjit::zero_grad(x) * 2.0, graphjit::grad(T::sum(x * graphjit::zero_grad(x)), x),
                          graphjit::grad(T::sum(T::sqr(graphjit::zero_grad(x))), x)},
                      vec({1, -3}));
  CHECK(out[0] == std::vector<double>{2, -6});
  CHECK(out[1] == std::vector<double>{1, -3});  // d/dx x*c = c, with c = x held
  CHECK(out[2] == std::vector<double>{0, 0});   // connected, zero
}

TEST_CASE("disconnected_grad: a wrt reached only through it is disconnected") {
  auto x = T::vector("x");
  auto cost = T::sum(T::sqr(graphjit::disconnected_grad(x)));
  CHECK_THROWS_WITH_AS(graphjit::grad(cost, x), doctest::Contains("does not depend on 'x'"), GradError);
  auto zero = graphjit::grad(cost, {x}, GradOptions{.disconnected_inputs = DisconnectedInputs::ignore});
  CHECK(at(x, zero, vec({1, 2}))[0] == std::vector<double>{0, 0});
  auto none = graphjit::grad(cost, {x}, GradOptions{.disconnected_inputs = DisconnectedInputs::warn,
                                                    .return_disconnected = ReturnDisconnected::none});
  CHECK_FALSE(none[0].defined());
  // Through another path the gradient still flows.
  auto mixed = graphjit::grad(T::sum(x * graphjit::disconnected_grad(x)), x);
  CHECK(at(x, {mixed}, vec({4, 5}))[0] == std::vector<double>{4, 5});
}

TEST_CASE("consider_constant: the listed variables are held fixed") {
  auto x = T::vector("x");
  auto y = T::sqr(x);
  auto cost = T::sum(y * x);
  auto held = graphjit::grad(cost, {x}, GradOptions{.consider_constant = {y}});
  auto full = graphjit::grad(cost, x);
  const auto out = at(x, {held[0], full}, vec({1, 2}));
  CHECK(out[0] == std::vector<double>{1, 4});   // y
  CHECK(out[1] == std::vector<double>{3, 12});  // 3x^2
  // Holding the only path disconnects x.
  CHECK_THROWS_AS(graphjit::grad(T::sum(y), {x}, GradOptions{.consider_constant = {y}}), GradError);
}

TEST_CASE("known_grads: back-propagation from given gradients, with or without a cost") {
  auto x = T::vector("x");
  auto y = T::sqr(x);
  auto v = T::vector("v");
  // No cost: the gradient of y is v, so x gets 2 x v (a vector-Jacobian product).
  auto g = graphjit::grad(Variable(), {x}, GradOptions{.known_grads = {{y, v}}});
  auto f = graphjit::function({x, v}, g);
  CHECK(f(vec({1, 2}), vec({10, 100}))[0].to_vector<double>() == std::vector<double>{20, 400});
  // With a cost, the known gradient adds to what flows back.
  auto both = graphjit::grad(T::sum(y), {x}, GradOptions{.known_grads = {{y, v}}});
  auto h = graphjit::function({x, v}, both);
  CHECK(h(vec({1, 2}), vec({10, 100}))[0].to_vector<double>() == std::vector<double>{22, 404});
  CHECK_THROWS_AS(graphjit::grad(Variable(), {x}, GradOptions{}), GradError);
}

TEST_CASE("grad_clip and grad_scale change only the gradient") {
  auto x = T::vector("x");
  const auto out = at(x,
                      {graphjit::grad_clip(x, -1.0, 1.0), graphjit::grad(T::sum(graphjit::grad_clip(x, -1.0, 1.0) * 5.0), x),
                       graphjit::grad(T::sum(graphjit::grad_clip(x, -1.0, 1.0) * -0.5), x),
                       graphjit::grad(T::sum(T::sqr(graphjit::grad_scale(x, 3.0))), x)},
                      vec({2, -4}));
  CHECK(out[0] == std::vector<double>{2, -4});
  CHECK(out[1] == std::vector<double>{1, 1});
  CHECK(out[2] == std::vector<double>{-0.5, -0.5});
  CHECK(out[3] == std::vector<double>{12, -24});  // 3 * 2x
}
