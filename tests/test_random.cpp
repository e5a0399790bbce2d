#include <doctest/doctest.h>

#include <graphjit/runtime/random.hpp>

#include <algorithm>

using graphjit::Tensor;

TEST_CASE("RandomState is deterministic and uniform draws stay in range") {
  graphjit::RandomState a(5), b(5);
  Tensor x = a.uniform(-2, 3, {100, 7});
  CHECK(x.equal(b.uniform(-2, 3, {100, 7})));
  auto v = x.to_vector<double>();
  CHECK(*std::min_element(v.begin(), v.end()) >= -2);
  CHECK(*std::max_element(v.begin(), v.end()) < 3);
  CHECK(a.uniform(0, 1, {3}, graphjit::float32).dtype() == graphjit::float32);
  CHECK_THROWS_AS(a.uniform(1, 1, {3}), std::invalid_argument);
}

TEST_CASE("permute_rows reorders rows in place like t[order]") {
  graphjit::RandomState rng(3);
  Tensor t = rng.uniform(0, 1, {50, 3});
  const Tensor before = t.copy();
  const auto order = rng.permutation(50);
  graphjit::permute_rows(t, order);
  for (std::int64_t i = 0; i < 50; ++i)
    for (std::int64_t j = 0; j < 3; ++j) CHECK(t.get({i, j}) == before.get({order[i], j}));

  Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{10, 11, 12, 13});
  graphjit::permute_rows(labels, {3, 0, 2, 1});
  CHECK(labels.to_vector<int>() == std::vector<int>{13, 10, 12, 11});
  // A view of rows (the training part of a data set) is permuted within itself.
  Tensor whole = Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5});
  Tensor head = whole.slice(0, 0, 3);
  graphjit::permute_rows(head, {2, 1, 0});
  CHECK(whole.to_vector<double>() == std::vector<double>{2, 1, 0, 3, 4, 5});
  CHECK_THROWS_AS(graphjit::permute_rows(labels, {0, 0, 1, 2}), std::invalid_argument);
  CHECK_THROWS_AS(graphjit::permute_rows(labels, {0, 1}), std::invalid_argument);
}
