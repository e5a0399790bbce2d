// How a call writes its updates (docs/reliability.md, "Atomicity"). A call
// that fails leaves every shared variable exactly as it was, whichever step
// fails: issue 10 asks for
// index errors, shape errors and a failing gemm after an in-place update. Each
// function here has at least one update the compiled executor writes in place
// (W <- W + 1, a gemm into W, an increment of rows of W), so a step that ran
// before the failing one would show in W. Checked in every mode.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/lower/lower.hpp"
#include "frontend/function_impl.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::float64;
using graphjit::Function;
using graphjit::Mode;
using graphjit::SharedVariable;
using graphjit::Tensor;
using graphjit::Variable;

namespace {
constexpr Mode kModes[] = {Mode::reference, Mode::fast_compile, Mode::fast_run, Mode::debug};

// start, start + 1, ... in row-major order.
Tensor ramp(const graphjit::Shape& shape, double start) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  std::vector<double> values;
  for (std::int64_t k = 0; k < n; ++k) values.push_back(start + static_cast<double>(k));
  return Tensor::from_vector(values, shape);
}

Tensor indices(std::vector<std::int64_t> values) { return Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())}); }

void check_values(const Tensor& got, const std::vector<double>& want) {
  const std::vector<double> g = got.to_vector<double>();
  REQUIRE(g.size() == want.size());
  for (std::size_t k = 0; k < g.size(); ++k) CHECK(g[k] == doctest::Approx(want[k]).epsilon(1e-14));
}

// Whether the compiled function writes the update of `name` into the variable's
// own memory: only then can a step that ran too early be seen in it.
bool written_in_place(const Function& f, const std::string& name) {
  const std::string text = graphjit::compiler::lower::print_schedule(*f.impl()->compiled.schedule);
  const std::size_t at = text.find("update of " + name + " = ");
  return at != std::string::npos && text.find("(written in place)", at) < text.find('\n', at);
}

// Calls `failing`, which must throw, then checks the variables kept their values.
template <class Call>
void check_untouched(Call failing, const std::vector<SharedVariable>& vars) {
  std::vector<Tensor> before;
  for (const SharedVariable& s : vars) before.push_back(s.get_value());
  CHECK_THROWS(failing());
  for (std::size_t k = 0; k < vars.size(); ++k) {
    INFO("shared variable ", vars[k].name());
    CHECK(vars[k].get_value().equal(before[k]));
  }
}
}  // namespace

TEST_CASE("an elementwise update in place, then a gemm update of the wrong shape: nothing is written") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(graphjit::mode_name(mode)));
    SharedVariable W = graphjit::shared(ramp({2, 3}, 1.0), "W");
    SharedVariable U = graphjit::shared(ramp({3, 3}, 0.5), "U");
    Variable x = T::matrix("x");
    // U <- U - 0.1 x^T x is a gemm into U; x of 4 columns does not fit U.
    Function f = graphjit::function({x}, {}, {.updates = {{W, W + 1.0}, {U, U - 0.1 * T::dot(x.T(), x)}}, .mode = mode});
    if (mode == Mode::fast_run) {
      CHECK(written_in_place(f, "W"));
      CHECK(written_in_place(f, "U"));
    }
    check_untouched([&] { f(Tensor::full({2, 4}, 1.0, float64)); }, {W, U});
    f(Tensor::full({2, 3}, 1.0, float64));
    check_values(W.get_value(), {2, 3, 4, 5, 6, 7});
    check_values(U.get_value(), {0.3, 1.3, 2.3, 3.3, 4.3, 5.3, 6.3, 7.3, 8.3});
  }
}

TEST_CASE("a gemm update in place, then an increment at an out-of-range row: nothing is written") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(graphjit::mode_name(mode)));
    SharedVariable W = graphjit::shared(ramp({3, 3}, 0.0), "W");
    SharedVariable E = graphjit::shared(ramp({4, 2}, 0.0), "E");
    Variable x = T::matrix("x");
    Variable row = T::scalar("row", graphjit::int64);
    // E[row] += 1, an embedding-style update. (Increments are not written in
    // place today, so E's step could run at any point; W's gemm is.)
    Function f = graphjit::function(
        {x, row}, {T::sum(W)},
        {.updates = {{W, W - 0.5 * T::dot(x.T(), x)}, {E, T::inc_subtensor(E[row], graphjit::constant(1.0, float64))}},
         .mode = mode});
    if (mode == Mode::fast_run) CHECK(written_in_place(f, "W"));
    const Tensor ones = Tensor::full({2, 3}, 1.0, float64);
    check_untouched([&] { f(ones, std::int64_t{9}); }, {W, E});
    check_untouched([&] { f(ones, std::int64_t{-5}); }, {W, E});
    f(ones, std::int64_t{-1});
    check_values(W.get_value(), {-1, 0, 1, 2, 3, 4, 5, 6, 7});  // x^T x is all 2
    check_values(E.get_value(), {0, 1, 2, 3, 4, 5, 7, 8});      // row 3 incremented
  }
}

TEST_CASE("a gemm update in place, then an increment at a vector of rows with one out of range: nothing is written") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(graphjit::mode_name(mode)));
    SharedVariable W = graphjit::shared(ramp({3, 3}, 0.0), "W");
    SharedVariable E = graphjit::shared(ramp({4, 2}, 0.0), "E");
    Variable x = T::matrix("x");
    Variable rows = T::vector("rows", graphjit::int64);
    Function f = graphjit::function(
        {x, rows}, {T::sum(W)},
        {.updates = {{W, W - 0.5 * T::dot(x.T(), x)}, {E, T::inc_subtensor(E[rows], graphjit::constant(1.0, float64))}},
         .mode = mode});
    if (mode == Mode::fast_run) CHECK(written_in_place(f, "W"));
    const Tensor ones = Tensor::full({2, 3}, 1.0, float64);
    check_untouched([&] { f(ones, indices({0, 9})); }, {W, E});
    check_untouched([&] { f(ones, indices({-5})); }, {W, E});
    f(ones, indices({1, -1}));
    check_values(W.get_value(), {-1, 0, 1, 2, 3, 4, 5, 6, 7});
    check_values(E.get_value(), {0, 1, 3, 4, 4, 5, 7, 8});  // rows 1 and 3 incremented
  }
}

TEST_CASE("in-place updates, then a failing step that computes an output: nothing is written") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(graphjit::mode_name(mode)));
    SharedVariable W = graphjit::shared(ramp({2, 2}, 1.0), "W");
    SharedVariable b = graphjit::shared(ramp({2}, 1.0), "b");
    Variable v = T::vector("v");
    Variable i = T::scalar("i", graphjit::int64);
    // The output reads v[i]; the updates depend on nothing that can fail.
    Function f = graphjit::function({v, i}, {v[i] * 2.0}, {.updates = {{W, W * 2.0}, {b, b + W.sum()}}, .mode = mode});
    if (mode == Mode::fast_run) CHECK(written_in_place(f, "W"));
    check_untouched([&] { f(Tensor({1.0, 2.0}), std::int64_t{5}); }, {W, b});
    // A reshape of a run-time shape that does not fit.
    Variable n = T::scalar("n", graphjit::int64);
    Function g = graphjit::function({v, n}, {v.reshape(std::vector<Variable>{n, n})}, {.updates = {{W, W + v.sum()}}, .mode = mode});
    if (mode == Mode::fast_run) CHECK(written_in_place(g, "W"));
    check_untouched([&] { g(Tensor({1.0, 2.0, 3.0}), std::int64_t{2}); }, {W});
    CHECK(f(Tensor({1.0, 2.0}), std::int64_t{1})[0].item<double>() == 4.0);
    check_values(W.get_value(), {2, 4, 6, 8});
    check_values(b.get_value(), {11, 12});  // b + the sum of W before the call
  }
}

TEST_CASE("an update is never written in place into a sliding-window value whose elements overlap") {
  for (Mode mode : {Mode::fast_compile, Mode::fast_run}) {
    INFO("mode ", std::string(graphjit::mode_name(mode)));
    // Rows [0 1 2], [1 2 3]: the second row starts one element after the first.
    const Tensor base = Tensor::from_vector<double>({0, 1, 2, 3}, {4});
    const Tensor windows(base.storage(), float64, {2, 3}, {1, 1}, 0);
    SharedVariable s = graphjit::shared(Tensor::zeros({2, 3}, float64), "s");
    s.set_value(windows, /*borrow=*/true);
    Function f = graphjit::function({}, {}, {.updates = {{s, s * 10.0 + 1.0}}, .mode = mode});
    f();
    check_values(s.get_value(), {1, 11, 21, 11, 21, 31});
    check_values(base, {0, 1, 2, 3});  // the caller's memory is not written either
  }
}

TEST_CASE("under the NaN guard, an in-place update followed by one that makes a nan: nothing is written") {
  SharedVariable W = graphjit::shared(ramp({2, 2}, 1.0), "W");
  SharedVariable U = graphjit::shared(ramp({2, 2}, 1.0), "U");
  Variable x = T::matrix("x");
  // The guard finds the nan after U's step has written it into U's memory.
  Function f = graphjit::function({x}, {}, {.updates = {{W, W * 2.0}, {U, U + T::log(x)}}, .nan_guard = true});
  CHECK(written_in_place(f, "W"));
  CHECK(written_in_place(f, "U"));
  check_untouched([&] { f(Tensor({{1.0, 1.0}, {-1.0, 1.0}})); }, {W, U});
  f(Tensor::full({2, 2}, 1.0, float64));
  check_values(W.get_value(), {2, 4, 6, 8});
  check_values(U.get_value(), {1, 2, 3, 4});
}
