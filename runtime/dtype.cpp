#include <graphjit/runtime/dtype.hpp>

#include <array>

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
