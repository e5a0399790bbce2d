#include <graphjit/runtime/random.hpp>

#include <algorithm>
#include <cmath>
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

Tensor RandomState::normal(double loc, double scale, const Shape& shape, DType dtype) {
  if (!(scale >= 0) || !std::isfinite(loc) || !std::isfinite(scale))
    throw std::invalid_argument("RandomState::normal: needs a finite loc and a finite scale >= 0, got loc " +
                                std::to_string(loc) + ", scale " + std::to_string(scale));
  std::normal_distribution<double> dist(loc, scale);
  Tensor t = Tensor::empty(shape, DType::float64);
  double* p = t.data<double>();
  for (std::int64_t i = 0; i < t.size(); ++i) p[i] = scale == 0 ? loc : dist(engine_);
  return dtype == DType::float64 ? t : t.astype(dtype);
}

Tensor RandomState::integers(std::int64_t low, std::int64_t high, const Shape& shape, DType dtype, bool endpoint) {
  if (endpoint ? low > high : low >= high)
    throw std::invalid_argument("RandomState::integers: the range [" + std::to_string(low) + ", " +
                                std::to_string(high) + (endpoint ? "]" : ")") + " is empty");
  if (is_float(dtype) || dtype == DType::bool_ || !represents(dtype, low) || !represents(dtype, endpoint ? high : high - 1))
    throw std::invalid_argument("RandomState::integers: the range does not fit dtype " + std::string(dtype_name(dtype)) +
                                "; give an integer dtype that holds low and high");
  std::uniform_int_distribution<std::int64_t> dist(low, endpoint ? high : high - 1);
  Tensor t = Tensor::empty(shape, DType::int64);
  std::int64_t* p = t.data<std::int64_t>();
  for (std::int64_t i = 0; i < t.size(); ++i) p[i] = dist(engine_);
  return dtype == DType::int64 ? t : t.astype(dtype);
}

namespace {

// p as float64 weights for n positions, checked as numpy checks them.
std::vector<double> choice_weights(const Tensor& p, std::int64_t n) {
  if (p.ndim() != 1 || p.shape(0) != n)
    throw std::invalid_argument("RandomState::choice: p must be a vector of " + std::to_string(n) +
                                " probabilities, one per element of a, got shape " + shape_str(p.shape()));
  std::vector<double> w = p.astype(DType::float64).to_vector<double>();
  double sum = 0;
  for (double x : w) {
    if (!(x >= 0) || !std::isfinite(x))
      throw std::invalid_argument("RandomState::choice: probabilities must be finite and non-negative");
    sum += x;
  }
  if (std::abs(sum - 1) > 1e-8)
    throw std::invalid_argument("RandomState::choice: probabilities do not sum to 1 (they sum to " +
                                std::to_string(sum) + ")");
  return w;
}

}  // namespace

Tensor RandomState::choice(std::int64_t n, const Shape& shape, bool replace, const Tensor& p) {
  if (n <= 0) throw std::invalid_argument("RandomState::choice: a must be positive, got " + std::to_string(n));
  const std::int64_t count = shape_numel(shape);
  std::vector<double> w = p.defined() ? choice_weights(p, n) : std::vector<double>(static_cast<std::size_t>(n), 1.0);
  const auto nonzero = std::count_if(w.begin(), w.end(), [](double x) { return x > 0; });
  if (!replace && count > nonzero)
    throw std::invalid_argument("RandomState::choice: cannot take " + std::to_string(count) + " distinct samples of " +
                                std::to_string(nonzero) + " elements with non-zero probability without replacement");
  Tensor t = Tensor::empty(shape, DType::int64);
  std::int64_t* out = t.data<std::int64_t>();
  std::discrete_distribution<std::int64_t> dist(w.begin(), w.end());
  for (std::int64_t i = 0; i < count; ++i) {
    out[i] = dist(engine_);
    if (replace) continue;
    // Without replacement, each draw is in proportion to the weights left.
    w[static_cast<std::size_t>(out[i])] = 0;
    if (i + 1 < count) dist = std::discrete_distribution<std::int64_t>(w.begin(), w.end());
  }
  return t;
}

Tensor RandomState::choice(const Tensor& a, const Shape& shape, bool replace, const Tensor& p) {
  if (!a.defined() || a.ndim() != 1)
    throw std::invalid_argument("RandomState::choice: a must be a vector, got shape " +
                                (a.defined() ? shape_str(a.shape()) : std::string("undefined")));
  const Tensor positions = choice(a.shape(0), shape, replace, p);
  const Tensor flat = a.contiguous();
  Tensor out = Tensor::empty(shape, a.dtype());
  const std::size_t item = dtype_size(a.dtype());
  const std::int64_t* pos = positions.data<std::int64_t>();
  for (std::int64_t i = 0; i < out.size(); ++i)
    std::memcpy(static_cast<char*>(out.raw_data()) + static_cast<std::size_t>(i) * item,
                static_cast<const char*>(flat.raw_data()) + static_cast<std::size_t>(pos[i]) * item, item);
  return out;
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
