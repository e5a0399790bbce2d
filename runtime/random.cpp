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

Tensor take_rows(const Tensor& t, const std::vector<std::int64_t>& rows) {
  if (t.ndim() == 0) throw std::invalid_argument("take_rows: a scalar has no rows");
  Shape shape = t.shape();
  shape[0] = static_cast<std::int64_t>(rows.size());
  Tensor src = t.contiguous();
  Tensor out = Tensor::empty(shape, t.dtype());
  const std::size_t row_bytes = static_cast<std::size_t>(shape_numel(shape) / std::max<std::int64_t>(shape[0], 1)) *
                                dtype_size(t.dtype());
  auto* from = static_cast<const char*>(src.raw_data());
  auto* to = static_cast<char*>(out.raw_data());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= t.shape(0))
      throw std::out_of_range("take_rows: row " + std::to_string(rows[i]) + " is out of range for shape " +
                              shape_str(t.shape()));
    std::memcpy(to + i * row_bytes, from + static_cast<std::size_t>(rows[i]) * row_bytes, row_bytes);
  }
  return out;
}

}  // namespace graphjit
