#include <graphjit/runtime/random.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

namespace graphjit {

Tensor RandomState::uniform(double low, double high, const Shape& shape, DType dtype) {
  if (!(low < high))
    throw std::invalid_argument("RandomState::uniform: low (" + std::to_string(low) + ") must be below high (" +
                                std::to_string(high) + ")");
  std::uniform_real_distribution<double> dist(low, high);
  Tensor t = Tensor::empty(shape, DType::float64);
  double* p = t.data<double>();
  for (std::int64_t i = 0; i < t.size(); ++i) p[i] = dist(engine_);
  return dtype == DType::float64 ? t : t.astype(dtype);
}

std::vector<std::int64_t> RandomState::permutation(std::int64_t n) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), engine_);
  return order;
}

void permute_rows(Tensor& t, const std::vector<std::int64_t>& order) {
  if (t.ndim() == 0 || !t.is_contiguous())
    throw std::invalid_argument("permute_rows: needs a contiguous tensor with rows, got shape " + shape_str(t.shape()));
  const std::int64_t n = t.shape(0);
  if (static_cast<std::int64_t>(order.size()) != n)
    throw std::invalid_argument("permute_rows: " + std::to_string(order.size()) + " indices for " + std::to_string(n) +
                                " rows");
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  for (std::int64_t i : order) {
    if (i < 0 || i >= n || seen[i])
      throw std::invalid_argument("permute_rows: the order is not a permutation of 0.." + std::to_string(n - 1) +
                                  " (index " + std::to_string(i) + ")");
    seen[i] = true;
  }
  const std::size_t row_bytes = n ? t.nbytes() / static_cast<std::size_t>(n) : 0;
  auto* base = static_cast<char*>(t.raw_data());
  auto row = [&](std::int64_t i) { return base + static_cast<std::size_t>(i) * row_bytes; };
  // Follow each cycle of the permutation once, holding one row aside.
  std::vector<char> held(row_bytes);
  std::fill(seen.begin(), seen.end(), false);
  for (std::int64_t start = 0; start < n; ++start) {
    if (seen[start]) continue;
    std::memcpy(held.data(), row(start), row_bytes);
    std::int64_t j = start;
    for (;;) {
      seen[j] = true;
      const std::int64_t from = order[j];
      if (from == start) {
        std::memcpy(row(j), held.data(), row_bytes);
        break;
      }
      std::memcpy(row(j), row(from), row_bytes);
      j = from;
    }
  }
}

}  // namespace graphjit
