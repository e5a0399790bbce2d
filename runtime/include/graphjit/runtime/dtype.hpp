// Element types of runtime tensors and symbolic variables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace graphjit {

enum class DType : std::uint8_t { bool_, int8, int16, int32, int64, uint8, float32, float64 };

// The spellings users write: graphjit::float64, graphjit::int32, ...
inline constexpr DType bool_ = DType::bool_;
inline constexpr DType int8 = DType::int8;
inline constexpr DType int16 = DType::int16;
inline constexpr DType int32 = DType::int32;
inline constexpr DType int64 = DType::int64;
inline constexpr DType uint8 = DType::uint8;
inline constexpr DType float32 = DType::float32;
inline constexpr DType float64 = DType::float64;

std::size_t dtype_size(DType t);
const char* dtype_name(DType t);
DType dtype_from_name(const std::string& name);  // throws on an unknown name
bool is_float(DType t);
bool is_integer(DType t);  // signed or unsigned integers and bool

// The type two operands are computed in (numpy's promotion on these types):
// bool < ints < floats, the wider wins, uint8 with a signed int needs int16.
DType promote(DType a, DType b);

template <class T> constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, bool>) return DType::bool_;
  else if constexpr (std::is_same_v<T, std::int8_t>) return DType::int8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return DType::int16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::int32;
  else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, long long>) return DType::int64;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::uint8;
  else if constexpr (std::is_same_v<T, float>) return DType::float32;
  else if constexpr (std::is_same_v<T, double>) return DType::float64;
  else static_assert(!sizeof(T), "graphjit has no dtype for this C++ type");
}

// Converts one element value between the dtypes' C++ types as astype does, minus
// C++'s undefined behaviour: float to integer truncates toward zero, saturates at
// the integer's range and maps NaN to 0; anything to bool is `!= 0`.
template <class To, class From> constexpr To value_cast(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From{};
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (v != v) return To{};
    if (v <= static_cast<From>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (v >= static_cast<From>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

// Whether v converted to dtype t (value_cast) converts back to v: an integer
// in the dtype's range, or a float the dtype holds exactly. The int64
// overload never passes through double, which rounds above 2^53.
bool represents(DType t, double v);
bool represents(DType t, std::int64_t v);

// Calls f(T{}) with T the C++ type of `t`; the one place that maps dtypes to types.
template <class F> decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::bool_: return f(bool{});
    case DType::int8: return f(std::int8_t{});
    case DType::int16: return f(std::int16_t{});
    case DType::int32: return f(std::int32_t{});
    case DType::int64: return f(std::int64_t{});
    case DType::uint8: return f(std::uint8_t{});
    case DType::float32: return f(float{});
    case DType::float64: return f(double{});
  }
  throw std::logic_error("visit_dtype: invalid dtype");
}

}  // namespace graphjit
