#include <graphjit/runtime/dtype.hpp>

#include <array>
#include <cmath>
#include <limits>

namespace graphjit {
namespace {

constexpr std::array all_dtypes = {DType::bool_, DType::int8,  DType::int16,   DType::int32,
                                   DType::int64, DType::uint8, DType::float32, DType::float64};

}  // namespace

std::size_t dtype_size(DType t) {
  return visit_dtype(t, [](auto tag) { return sizeof(tag); });
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::bool_: return "bool";
    case DType::int8: return "int8";
    case DType::int16: return "int16";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::uint8: return "uint8";
    case DType::float32: return "float32";
    case DType::float64: return "float64";
  }
  throw std::logic_error("dtype_name: invalid dtype");
}

DType dtype_from_name(const std::string& name) {
  for (DType t : all_dtypes)
    if (name == dtype_name(t)) return t;
  std::string known;
  for (DType t : all_dtypes) known += std::string(known.empty() ? "" : ", ") + dtype_name(t);
  throw std::invalid_argument("dtype_from_name: unknown dtype \"" + name + "\"; use one of " + known);
}

bool represents(DType t, double v) {
  return visit_dtype(t, [v](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) return v == 0 || v == 1;
    // max() + 1 is a power of two, exact in a double (max() itself is not, for int64).
    else if constexpr (std::is_integral_v<T>)
      return std::floor(v) == v && v >= static_cast<double>(std::numeric_limits<T>::min()) &&
             v < static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2;
    else if (!std::isfinite(v)) return true;  // inf and nan exist in both float types
    else return std::abs(v) <= std::numeric_limits<T>::max() && static_cast<double>(static_cast<T>(v)) == v;
  });
}

bool represents(DType t, std::int64_t v) {
  return visit_dtype(t, [v](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) return v == 0 || v == 1;
    else if constexpr (std::is_integral_v<T>)
      return v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
             v <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
    else {
      // A float at or above 2^63 is not an int64 (and casting it back would be undefined).
      const T f = static_cast<T>(v);
      return f < T(0x1p63) && static_cast<std::int64_t>(f) == v;
    }
  });
}

bool is_float(DType t) { return t == DType::float32 || t == DType::float64; }

bool is_integer(DType t) { return !is_float(t); }

DType promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::bool_) return b;
  if (b == DType::bool_) return a;
  if (is_float(a) && is_float(b)) return DType::float64;
  if (is_float(a) || is_float(b)) {
    DType f = is_float(a) ? a : b;
    DType i = is_float(a) ? b : a;
    // float32 holds every int8/int16/uint8 exactly but not every int32/int64,
    // so numpy widens those to float64.
    if (f == DType::float32 && dtype_size(i) <= 2) return DType::float32;
    return DType::float64;
  }
  // Both integers, at least one of them signed.
  if (a == DType::uint8 || b == DType::uint8) {
    DType s = a == DType::uint8 ? b : a;
    // The smallest signed type holding all of uint8 is int16.
    return s == DType::int8 ? DType::int16 : s;
  }
  return dtype_size(a) >= dtype_size(b) ? a : b;
}

}  // namespace graphjit
