// RandomState's normal, integers and choice (graphjit/runtime/random.hpp),
// numpy.random's spellings: moments and ranges checked on large samples
// from fixed seeds, with bounds of 5 standard errors (a run is
// deterministic, so the tests cannot flake; the bounds keep them true for
// any correct generator).
#include <doctest/doctest.h>

#include <graphjit/runtime/random.hpp>

#include "thrown_message.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

using namespace graphjit;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

struct Moments {
  double mean = 0, var = 0;
};

Moments moments(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size() - 1);
  return m;
}

// Pearson's chi-square statistic of observed counts against expected ones.
double chi_square(const std::vector<double>& observed, const std::vector<double>& expected) {
  double chi = 0;
  for (std::size_t i = 0; i < observed.size(); ++i)
    chi += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  return chi;
}

}  // namespace

TEST_CASE("normal: shape, dtype, mean and variance") {
  RandomState rng(42);
  const Tensor t = rng.normal(3.0, 2.0, {200, 100});
  CHECK(t.shape() == Shape{200, 100});
  CHECK(t.dtype() == float64);
  const Moments m = moments(t);
  const double n = 20000;
  CHECK(std::abs(m.mean - 3.0) < 5 * 2.0 / std::sqrt(n));
  CHECK(std::abs(m.var - 4.0) < 5 * 4.0 * std::sqrt(2 / n));
  // About 68.3% within one standard deviation.
  const std::vector<double> v = t.to_vector<double>();
  const double within = static_cast<double>(std::count_if(v.begin(), v.end(), [](double x) { return std::abs(x - 3) < 2; }));
  CHECK(std::abs(within / n - 0.6827) < 5 * std::sqrt(0.6827 * 0.3173 / n));
  CHECK(rng.normal(0, 1, {4}, float32).dtype() == float32);
  CHECK(rng.normal(1.5, 0, {3}).to_vector<double>() == std::vector<double>{1.5, 1.5, 1.5});
  CHECK(RandomState(7).normal(0, 1, {5}).equal(RandomState(7).normal(0, 1, {5})));
  CHECK(contains(thrown_message([&] { rng.normal(0, -1, {2}); }), "scale >= 0"));
}

TEST_CASE("integers: [low, high), or [low, high] with endpoint, uniform over the range") {
  RandomState rng(3);
  const Tensor t = rng.integers(-2, 5, {7000});
  CHECK(t.dtype() == int64);
  std::vector<double> counts(7, 0);
  for (std::int64_t v : t.to_vector<std::int64_t>()) {
    REQUIRE(v >= -2);
    REQUIRE(v < 5);
    ++counts[static_cast<std::size_t>(v + 2)];
  }
  // 6 degrees of freedom: P(chi2 > 22.46) = 0.001.
  CHECK(chi_square(counts, std::vector<double>(7, 1000)) < 22.46);
  const Tensor closed = rng.integers(1, 3, {3000}, int32, /*endpoint=*/true);
  CHECK(closed.dtype() == int32);
  std::set<std::int64_t> seen;
  for (std::int64_t v : closed.to_vector<std::int64_t>()) seen.insert(v);
  CHECK(seen == std::set<std::int64_t>{1, 2, 3});
  CHECK(contains(thrown_message([&] { rng.integers(3, 3, {2}); }), "[3, 3) is empty"));
  CHECK(contains(thrown_message([&] { rng.integers(0, 300, {2}, int8); }), "does not fit dtype int8"));
}

TEST_CASE("choice: with replacement in proportion to p, uniform without p") {
  RandomState rng(11);
  const Tensor p = Tensor::from_vector(std::vector<double>{0.1, 0.0, 0.6, 0.3});
  const Tensor draws = rng.choice(4, {10000}, true, p);
  std::vector<double> counts(4, 0);
  for (std::int64_t v : draws.to_vector<std::int64_t>()) ++counts[static_cast<std::size_t>(v)];
  CHECK(counts[1] == 0);  // probability zero is never drawn
  // 2 degrees of freedom over the three possible values: P(chi2 > 13.82) = 0.001.
  CHECK(chi_square({counts[0], counts[2], counts[3]}, {1000, 6000, 3000}) < 13.82);

  const Tensor a = Tensor::from_vector(std::vector<double>{10, 20, 30});
  const Tensor picked = rng.choice(a, {2, 3});
  CHECK(picked.shape() == Shape{2, 3});
  for (double v : picked.to_vector<double>()) CHECK((v == 10 || v == 20 || v == 30));
}

TEST_CASE("choice without replacement: distinct positions, every order equally likely, p respected") {
  RandomState rng(5);
  const Tensor all = rng.choice(6, {6}, false);
  std::vector<std::int64_t> sorted = all.to_vector<std::int64_t>();
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  // The first of two draws from 3 without replacement: each position a third of the time.
  std::vector<double> first(3, 0);
  for (int trial = 0; trial < 3000; ++trial) {
    const std::vector<std::int64_t> two = rng.choice(3, {2}, false).to_vector<std::int64_t>();
    REQUIRE(two[0] != two[1]);
    ++first[static_cast<std::size_t>(two[0])];
  }
  CHECK(chi_square(first, {1000, 1000, 1000}) < 13.82);
  // With p, zero-probability positions are never taken, and there must be enough of the others.
  const Tensor p = Tensor::from_vector(std::vector<double>{0.5, 0.0, 0.5});
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::int64_t> two = rng.choice(3, {2}, false, p).to_vector<std::int64_t>();
    std::sort(two.begin(), two.end());
    CHECK(two == std::vector<std::int64_t>{0, 2});
  }
  CHECK(contains(thrown_message([&] { rng.choice(3, {3}, false, p); }), "cannot take 3 distinct samples of 2"));
  CHECK(contains(thrown_message([&] { rng.choice(3, {2}, true, Tensor::from_vector(std::vector<double>{0.5, 0.6, 0.1})); }),
                 "do not sum to 1"));
  CHECK(contains(thrown_message([&] { rng.choice(3, {2}, true, Tensor::from_vector(std::vector<double>{0.5, 0.5})); }),
                 "p must be a vector of 3 probabilities"));
}
