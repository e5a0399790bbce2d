// RandomStreams (issue 12): Philox known answers, statistical tests of every
// distribution, default updates, reseeding, independence of streams, the same
// numbers on 1 or 2 threads, and the compiled kernels against the reference.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "frontend/ops/philox.hpp"
#include "scoped_config.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::FunctionOptions;
using graphjit::Mode;
using graphjit::RandomStreams;
using graphjit::Tensor;

namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double variance_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

// The Kolmogorov-Smirnov statistic of a sample against a continuous CDF.
template <class Cdf> double ks_statistic(std::vector<double> v, Cdf cdf) {
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double d = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double f = cdf(v[i]);
    d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
  }
  return d;
}

// The critical value at the 0.1% level (Smirnov's asymptotic 1.95/sqrt(n)).
double ks_critical(std::size_t n) { return 1.95 / std::sqrt(static_cast<double>(n)); }

std::vector<Tensor> run_once(const std::vector<graphjit::Variable>& outputs, Mode mode = Mode::fast_run) {
  return graphjit::function({}, outputs, {.mode = mode, .no_default_updates = true})();
}

constexpr std::int64_t kN = 40000;

}  // namespace

TEST_CASE("philox4x32-10 gives the Random123 known-answer vectors") {
  using graphjit::philox::philox_reference;
  using W = graphjit::philox::Words;
  CHECK(philox_reference({0, 0, 0, 0}, 0, 0) == W{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox_reference({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, 0xffffffff, 0xffffffff) ==
        W{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox_reference({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0) ==
        W{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
  // The lane version computes the same blocks.
  std::uint32_t lanes[4][graphjit::philox::kLanes];
  graphjit::philox::philox_lanes(5, 3, 0xa4093822, 0x299f31d0, lanes);
  for (int l = 0; l < graphjit::philox::kLanes; ++l) {
    const W w = philox_reference(graphjit::philox::counter_words(5, 3 + l), 0xa4093822, 0x299f31d0);
    CHECK(W{lanes[0][l], lanes[1][l], lanes[2][l], lanes[3][l]} == w);
  }
}

TEST_CASE("uniform: range, mean, variance and the KS statistic") {
  RandomStreams rng(7);
  const auto u = values(run_once({rng.uniform({kN}, -1.0, 3.0)})[0]);
  CHECK(*std::min_element(u.begin(), u.end()) >= -1.0);
  CHECK(*std::max_element(u.begin(), u.end()) < 3.0);
  // mean 1, variance 16/12; bounds at about 5 standard errors.
  CHECK(std::abs(mean_of(u) - 1.0) < 5 * std::sqrt(16.0 / 12.0 / kN));
  CHECK(std::abs(variance_of(u) - 16.0 / 12.0) < 0.03);
  CHECK(ks_statistic(u, [](double x) { return (x + 1.0) / 4.0; }) < ks_critical(u.size()));
  // A wrong CDF is rejected: the test can fail.
  CHECK(ks_statistic(u, [](double x) { return std::clamp((x + 1.0) / 3.8, 0.0, 1.0); }) > ks_critical(u.size()));
}

TEST_CASE("normal: mean, variance and the KS statistic; float32 draws") {
  RandomStreams rng(11);
  const auto z = values(run_once({rng.normal({200, 200}, 2.0, 0.5)})[0]);
  CHECK(std::abs(mean_of(z) - 2.0) < 5 * 0.5 / std::sqrt(static_cast<double>(z.size())));
  CHECK(std::abs(variance_of(z) - 0.25) < 0.01);
  CHECK(ks_statistic(z, [](double x) { return 0.5 * std::erfc(-(x - 2.0) / 0.5 / std::sqrt(2.0)); }) <
        ks_critical(z.size()));
  const Tensor f = run_once({rng.normal({1000}, 0.0, 1.0, graphjit::float32)})[0];
  CHECK(f.dtype() == graphjit::float32);
}

TEST_CASE("binomial: frequencies of each count within bounds") {
  RandomStreams rng(3);
  const int n = 6;
  const double p = 0.3;
  const auto k = values(run_once({rng.binomial({kN}, n, p)})[0]);
  std::vector<double> freq(n + 1, 0);
  for (double x : k) {
    REQUIRE(x >= 0);
    REQUIRE(x <= n);
    freq[static_cast<std::size_t>(x)] += 1;
  }
  double chi2 = 0;
  for (int i = 0; i <= n; ++i) {
    const double expected = kN * std::tgamma(n + 1) / std::tgamma(i + 1) / std::tgamma(n - i + 1) * std::pow(p, i) *
                            std::pow(1 - p, n - i);
    chi2 += (freq[i] - expected) * (freq[i] - expected) / expected;
  }
  CHECK(chi2 < 22.46);  // chi-square, 6 degrees of freedom, 0.1% level
  // p > 0.5 goes through the flipped sampler; p = 0 and 1 are exact.
  const auto hi = values(run_once({rng.binomial({kN}, 1, 0.8, graphjit::float64)})[0]);
  CHECK(std::abs(mean_of(hi) - 0.8) < 5 * std::sqrt(0.16 / kN));
  CHECK(values(run_once({rng.binomial({10}, 4, 1.0)})[0]) == std::vector<double>(10, 4.0));
  CHECK(values(run_once({rng.binomial({10}, 4, 0.0)})[0]) == std::vector<double>(10, 0.0));
}

TEST_CASE("integers, permutation and choice") {
  RandomStreams rng(5);
  const auto i = values(run_once({rng.integers({kN}, -3, 5)})[0]);
  std::vector<double> freq(8, 0);
  for (double x : i) {
    REQUIRE(x >= -3);
    REQUIRE(x < 5);
    freq[static_cast<std::size_t>(x + 3)] += 1;
  }
  for (double f : freq) CHECK(std::abs(f - kN / 8.0) < 5 * std::sqrt(kN / 8.0));

  const auto perm = run_once({rng.permutation(1000)})[0].to_vector<std::int64_t>();
  std::vector<std::int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t j = 0; j < 1000; ++j) REQUIRE(sorted[j] == j);
  CHECK(perm != sorted);

  const Tensor a = Tensor::from_vector<double>({10, 20, 30, 40});
  const auto a_var = graphjit::constant(a);
  const auto picked = values(run_once({rng.choice({3}, a_var, false)})[0]);
  CHECK(std::set<double>(picked.begin(), picked.end()).size() == 3);
  const auto weighted = values(run_once({rng.choice({kN}, a_var, true, graphjit::constant(Tensor::from_vector<double>({0.1, 0.0, 0.6, 0.3}))) })[0]);
  std::vector<double> counts(4, 0);
  for (double x : weighted) counts[static_cast<std::size_t>(x / 10 - 1)] += 1;
  CHECK(counts[1] == 0);
  CHECK(std::abs(counts[2] / kN - 0.6) < 0.015);
  CHECK(std::abs(counts[0] / kN - 0.1) < 0.01);
}

TEST_CASE("shapes may be symbolic: x.shape() and x.shape(0)") {
  RandomStreams rng(1);
  auto x = T::matrix("x");
  auto f = graphjit::function({x}, {x + rng.uniform(x.shape()), rng.normal({x.shape(0), 3})});
  const auto out = f(Tensor::zeros({4, 5}, graphjit::float64));
  CHECK(out[0].shape() == graphjit::Shape{4, 5});
  CHECK(out[1].shape() == graphjit::Shape{4, 3});
}

TEST_CASE("default updates: each call draws new numbers; no_default_updates repeats them; seed reseeds") {
  RandomStreams rng(42);
  auto u = rng.uniform({5});
  auto f = graphjit::function({}, {u});
  const auto a = values(f()[0]), b = values(f()[0]);
  CHECK(a != b);
  rng.seed(42);
  CHECK(values(f()[0]) == a);
  CHECK(values(f()[0]) == b);
  auto frozen = graphjit::function({}, {u}, {.no_default_updates = true});
  CHECK(values(frozen()[0]) == values(frozen()[0]));
  auto listed = graphjit::function({}, {u}, {.no_default_updates = std::vector<graphjit::SharedVariable>{rng.updates()[0].first}});
  CHECK(values(listed()[0]) == values(listed()[0]));
  rng.seed(43);
  CHECK(values(f()[0]) != a);
}

TEST_CASE("streams, draws and functions do not repeat each other") {
  RandomStreams one(1), two(2);
  auto u1 = one.uniform({8}), u2 = one.uniform({8}), v = two.uniform({8});
  const auto out = run_once({u1, u2, v});
  CHECK(values(out[0]) != values(out[1]));
  CHECK(values(out[0]) != values(out[2]));
  // Two functions drawing from one stream continue each other's counter.
  auto f = graphjit::function({}, {u1}), g = graphjit::function({}, {u1 * 1.0});
  const auto first = values(f()[0]), second = values(g()[0]), third = values(f()[0]);
  CHECK(first != second);
  CHECK(second != third);
  CHECK(first != third);
  // The same seed gives the same numbers.
  RandomStreams again(1);
  CHECK(values(run_once({again.uniform({8})})[0]) == values(out[0]));
}

TEST_CASE("the same numbers on 1 and 2 threads, compiled and in the reference") {
  graphjit::testing::ScopedConfig restore;
  RandomStreams rng(9);
  // Large enough that the native kernel splits it over the threads.
  auto x = rng.uniform({300, 400}, 0.0, 1.0);
  auto y = rng.normal({70001});
  auto k = rng.binomial({50000}, 5, 0.25);
  auto i = rng.integers({40000}, 0, 1000);
  auto p = rng.permutation(777);
  const std::vector<graphjit::Variable> outs{x, y, k, i, p};
  graphjit::set_num_threads(1);
  const auto one = run_once(outs);
  graphjit::set_num_threads(2);
  const auto two = run_once(outs);
  const auto reference = run_once(outs, Mode::reference);
  const auto debug = run_once(outs, Mode::debug);  // compares every native step with its reference
  for (std::size_t j = 0; j < outs.size(); ++j) {
    CHECK(values(one[j]) == values(two[j]));
    CHECK(values(one[j]) == values(reference[j]));
    CHECK(values(one[j]) == values(debug[j]));
  }
}

TEST_CASE("bad draws name the op and the problem") {
  RandomStreams rng(1);
  CHECK_THROWS_WITH_AS(run_once({rng.binomial({3}, 2, 1.5)}), doctest::Contains("p must be in [0, 1]"),
                       graphjit::ShapeError);
  CHECK_THROWS_WITH_AS(run_once({rng.integers({3}, 5, 5)}), doctest::Contains("high (5) must be greater than low (5)"),
                       graphjit::ShapeError);
  CHECK_THROWS_WITH_AS(run_once({rng.normal({3}, 0.0, -1.0)}), doctest::Contains("std must be >= 0"),
                       graphjit::ShapeError);
  CHECK_THROWS_AS(rng.uniform({T::vector("v", graphjit::int64)}), graphjit::TypeError);
}
