// var, std (with ddof), any, all and logsumexp (graphjit/statistics.hpp); axes
// as `1` or `{0, 1}`; the reductions as Variable methods. Values from numpy:
//   a = np.arange(12.).reshape(3, 4) ** 1.5
//   np.var(a, axis=1, ddof=1), np.std(a, axis=0), np.var(a)
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::Mode;
using graphjit::Tensor;
using graphjit::Variable;

namespace {

Tensor powered() {
  Tensor a = Tensor::arange(12, graphjit::float64).reshape({3, 4});
  graphjit::for_each_index(a.shape(), [&](const auto& i) { a.set(i, std::pow(a.get(i), 1.5)); });
  return a;
}

void check_close(const Tensor& got, const std::vector<double>& want, double rel = 1e-13) {
  const std::vector<double> v = got.to_vector<double>();
  REQUIRE(v.size() == want.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    INFO("element ", i, ": got ", v[i], ", want ", want[i]);
    CHECK(std::abs(v[i] - want[i]) <= rel * std::abs(want[i]));
  }
}

std::vector<Tensor> both_modes(const Variable& in, const Variable& out, const Tensor& arg) {
  std::vector<Tensor> r;
  for (Mode mode : {Mode::reference, Mode::fast_run}) r.push_back(graphjit::function({in}, {out}, {.mode = mode})(arg)[0]);
  return r;
}

}  // namespace

TEST_CASE("var and std with ddof match numpy, as functions and as methods") {
  const Variable x = T::matrix("x");
  for (const Tensor& t : both_modes(x, T::var(x, 1, false, 1), powered()))
    check_close(t, {5.2130803326413515, 20.541505138938717, 35.577091759630626});
  for (const Tensor& t : both_modes(x, x.std(0), powered()))
    check_close(t, {9.368750231087317, 10.697356715563267, 11.815527072208983, 12.819456438823147});
  for (const Tensor& t : both_modes(x, x.var(), powered())) check_close(t, {140.1070852381225});
  for (const Tensor& t : both_modes(x, x.var({0, 1}, true), powered())) {
    CHECK(t.shape() == graphjit::Shape{1, 1});
    check_close(t, {140.1070852381225});
  }
  CHECK_THROWS_AS(T::var(x, 0, false, -1), graphjit::TypeError);
}

TEST_CASE("verify_grad: var and std over one axis, all axes, with ddof") {
  const Tensor p = powered();
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::var(in[0], 1, false, 1); }, {p}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::std(in[0]); }, {p}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return in[0].std(0, true); }, {p}));
}

TEST_CASE("any and all give bool over the axes") {
  const Variable x = T::matrix("x");
  const Tensor t = Tensor::from_vector(std::vector<double>{0, 0, 1, 2, 0, 3}, {2, 3});
  for (const Tensor& r : both_modes(x, T::any(x, 0), t)) CHECK(r.to_vector<double>() == std::vector<double>{1, 0, 1});
  for (const Tensor& r : both_modes(x, T::all(x, 0), t)) CHECK(r.to_vector<double>() == std::vector<double>{0, 0, 1});
  for (const Tensor& r : both_modes(x, T::any(x), t)) CHECK(r.item<double>() == 1);
  for (const Tensor& r : both_modes(x, T::all(x, {0, 1}), t)) CHECK(r.item<double>() == 0);
  CHECK(T::any(x).dtype() == graphjit::bool_);
}

TEST_CASE("logsumexp is finite where log(sum(exp(x))) overflows, and differentiates to softmax") {
  const Variable x = T::matrix("x");
  const Tensor pair = Tensor::from_vector(std::vector<double>{1000, 1000, -1, 0}, {2, 2});
  for (const Tensor& r : both_modes(x, T::logsumexp(x, 1), pair))
    check_close(r, {1000 + std::log(2.0), std::log(std::exp(-1.0) + 1.0)});
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor minus_inf = Tensor::from_vector(std::vector<double>{-inf, -inf}, {1, 2});
  for (const Tensor& r : both_modes(x, T::logsumexp(x, 1), minus_inf)) CHECK(r.item<double>() == -inf);
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::logsumexp(in[0], 1); }, {powered()}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::logsumexp(in[0], std::nullopt, true); }, {powered()}));
}

TEST_CASE("axes as an int or a list; the reductions as methods") {
  const Variable x = T::matrix("x");
  const Tensor t = Tensor::arange(6, graphjit::float64).reshape({2, 3});
  for (const Tensor& r : both_modes(x, T::sum(x, 1), t)) CHECK(r.to_vector<double>() == std::vector<double>{3, 12});
  for (const Tensor& r : both_modes(x, T::sum(x, {0, 1}), t)) CHECK(r.item<double>() == 15);
  for (const Tensor& r : both_modes(x, x.prod(1), t)) CHECK(r.to_vector<double>() == std::vector<double>{0, 60});
  for (const Tensor& r : both_modes(x, x.min(0), t)) CHECK(r.to_vector<double>() == std::vector<double>{0, 1, 2});
  for (const Tensor& r : both_modes(x, x.argmin(1), t)) CHECK(r.to_vector<double>() == std::vector<double>{0, 0});
  for (const Tensor& r : both_modes(x, x.clip(1, 4), t))
    CHECK(r.to_vector<double>() == std::vector<double>{1, 1, 2, 3, 4, 4});
  for (const Tensor& r : both_modes(x, T::mean(x, -1), t)) CHECK(r.to_vector<double>() == std::vector<double>{1, 4});
}
