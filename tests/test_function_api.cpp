// The function API as a Theano user writes it (issue 8): options by name in
// any order (graphjit::kw), one output returned as itself, In defaults and
// named arguments, Out(x, borrow), shared(number), shared(std::vector),
// std::vector<SharedVariable> as grad's wrt, eval, clone, naming, the typed
// builders and dtypes by name.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "thrown_message.hpp"

#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::FunctionError;
using graphjit::In;
using graphjit::Mode;
using graphjit::Out;
using graphjit::SharedVariable;
using graphjit::Tensor;
using graphjit::Variable;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

TEST_CASE("function options by name, in any order and any subset") {
  using namespace graphjit::kw;
  auto w = graphjit::shared(1.0, "w");
  auto x = T::dscalar("x");
  auto unused = T::dscalar("unused");
  auto f = graphjit::function({x, unused}, x * w, on_unused_input = graphjit::OnUnusedInput::ignore,
                              updates = {{w, w + x}}, mode = Mode::reference);
  CHECK(f(2, 0).item<double>() == 2);
  CHECK(w.get_value().item<double>() == 3);
  auto g = graphjit::function({x}, x + w, mode = Mode::fast_run, name = "g");
  CHECK(g(1).item<double>() == 4);
  // A later option overrides an earlier one.
  auto h = graphjit::function({x}, x, mode = Mode::fast_run, mode = Mode::reference);
  CHECK(h(5).item<double>() == 5);
  // Errors still name the function and the user's line.
  const std::string msg = thrown_message([&] { graphjit::function({x, unused}, x, mode = Mode::reference); });
  CHECK(contains(msg, "test_function_api.cpp"));
  CHECK(contains(msg, "'unused' is not used"));
}

TEST_CASE("a function of one output returns it as a tensor; several outputs need an index") {
  auto x = T::dvector("x");
  auto f = graphjit::function({x}, T::sum(x));
  const Tensor s = f(Tensor({1, 2, 3}));
  CHECK(s.item<double>() == 6);
  CHECK(f(Tensor({1, 2})).item<double>() == 3);
  auto g = graphjit::function({x}, {T::sum(x), T::max(x)});
  CHECK(g(Tensor({1, 5}))[1].item<double>() == 5);
  CHECK(contains(thrown_message([&] { (void)g(Tensor({1, 5})).item<double>(); }), "returned 2 results"));
}

TEST_CASE("In: defaults and names; missing, unknown and repeated arguments are named in errors") {
  auto [x, y] = T::dscalars("x", "y");
  auto f = graphjit::function({x, In(y, 10.0, "bias")}, x + y);
  CHECK(f(1).item<double>() == 11);
  CHECK(f(1, graphjit::named("bias", 2)).item<double>() == 3);
  CHECK(f(graphjit::named("x", 4), graphjit::named("bias", 2)).item<double>() == 6);
  CHECK(contains(thrown_message([&] { f(); }), "input 0 ('x') has no default value"));
  CHECK(contains(thrown_message([&] { f(1, graphjit::named("nope", 2)); }), "no input is named 'nope'"));
  CHECK(contains(thrown_message([&] { f(1, graphjit::named("x", 2)); }), "input 'x' is given twice"));
  CHECK(contains(thrown_message([&] { f(1, 2, 3); }), "expected 2 arguments"));
}

TEST_CASE("Out(x, borrow) is accepted and returns the value") {
  auto w = graphjit::shared(std::vector<double>{1, 2, 3}, "w");
  auto copied = graphjit::function({}, w);
  auto borrowed = graphjit::function({}, Out(w, true));
  CHECK_FALSE(copied().only().shares_storage_with(w.get_value(true)));
  CHECK(borrowed().to_vector<double>() == std::vector<double>{1, 2, 3});
}

// Out(x, borrow=true) without a copy, and its limits: tests/test_function_borrow.cpp.

TEST_CASE("shared of a number or a std::vector; parameters in a std::vector<SharedVariable>") {
  auto a = graphjit::shared(0.5);
  auto n = graphjit::shared(3);
  CHECK(a.dtype() == graphjit::float64);
  CHECK(a.ndim() == 0);
  CHECK(n.dtype() == graphjit::int64);
  auto v = graphjit::shared(std::vector<double>{1, 2}, "v");
  CHECK(v.ndim() == 1);
  std::vector<SharedVariable> params = {a, v};
  auto cost = T::sum(params[1] * params[0]);
  std::vector<Variable> grads = graphjit::grad(cost, params);
  REQUIRE(grads.size() == 2);
  std::vector<std::pair<SharedVariable, Variable>> updates;
  for (std::size_t i = 0; i < params.size(); ++i) updates.push_back({params[i], params[i] - 0.5 * grads[i]});
  auto train = graphjit::function({}, cost, {.updates = updates});
  CHECK(train().item<double>() == 1.5);
  CHECK(a.get_value().item<double>() == doctest::Approx(0.5 - 0.5 * 3));
  CHECK(v.get_value().to_vector<double>() == std::vector<double>{0.75, 1.75});
}

TEST_CASE("eval, clone with replacements, and naming a node") {
  auto x = T::dvector("x");
  auto y = (x * 2).name("h");
  CHECK(y.name() == "h");
  CHECK(y.eval({{x, Tensor({1, 2})}}).to_vector<double>() == std::vector<double>{2, 4});
  auto z = T::dvector("z");
  auto cloned = graphjit::clone(y + 1, {{x, z}});
  CHECK(graphjit::function({z}, cloned)(Tensor({5})).item<double>() == 11);
  CHECK(graphjit::function({x}, y + 1)(Tensor({5})).item<double>() == 11);  // the original is unchanged
  CHECK_THROWS_AS(graphjit::clone(y, {{x, T::dmatrix("m")}}), graphjit::TypeError);
}

TEST_CASE("typed builders, row and col, dtypes by name") {
  CHECK(T::fmatrix("a").dtype() == graphjit::float32);
  CHECK(T::ivector("i").dtype() == graphjit::int32);
  CHECK(T::lscalar("l").dtype() == graphjit::int64);
  CHECK(T::matrix("m", "float32").dtype() == graphjit::float32);
  CHECK(T::row("r").broadcastable() == std::vector<bool>{true, false});
  CHECK(T::col("c").broadcastable() == std::vector<bool>{false, true});
  auto [a, b, c] = T::fmatrices("a", "b", "c");
  CHECK(c.dtype() == graphjit::float32);
  CHECK(b.name() == "b");
  CHECK_THROWS(T::vector("v", "float99"));
  // A row broadcasts against a matrix.
  auto r = T::drow("r");
  auto m = T::dmatrix("m");
  CHECK(graphjit::function({r, m}, r + m)(Tensor({{1, 2}}), Tensor({{1, 1}, {2, 2}})).to_vector<double>() ==
        std::vector<double>{2, 3, 3, 4});
}

TEST_CASE("tensors from nested initializer lists") {
  const Tensor t({{1, 2, 3}, {4, 5, 6}});
  CHECK(t.shape() == graphjit::Shape{2, 3});
  CHECK(t.get({1, 0}) == 4);
  CHECK_THROWS_AS(Tensor({{1, 2}, {3}}), std::invalid_argument);
}
