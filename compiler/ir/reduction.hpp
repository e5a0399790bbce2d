// What a fusable reduction is, once: its identity and how it combines two
// partial results. Read by the op table (which ops are fusable reductions),
// the kernel planner and launcher (threads' private accumulators start at the
// identity and are merged with combine), and the emitter's tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace graphjit::ir {

enum class ReduceOp : std::uint8_t { Sum, Prod, Max, Min };

template <class T> T reduce_identity(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return T(0);
    case ReduceOp::Prod: return T(1);
    case ReduceOp::Max:
      if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
      else return std::numeric_limits<T>::lowest();
    case ReduceOp::Min:
      if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
      else return std::numeric_limits<T>::max();
  }
  return T(0);
}

// a (op) b as the generated code combines them: max and min propagate nan
// (numpy), integers wrap around (numpy's fixed-width arithmetic).
template <class T> T reduce_combine(ReduceOp op, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return op == ReduceOp::Sum || op == ReduceOp::Max ? (a || b) : (a && b);
  } else if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case ReduceOp::Sum: return a + b;
      case ReduceOp::Prod: return a * b;
      case ReduceOp::Max: return std::isnan(b) ? b : (a < b ? b : a);
      case ReduceOp::Min: return std::isnan(b) ? b : (b < a ? b : a);
    }
  } else {
    using U = std::make_unsigned_t<T>;
    switch (op) {
      case ReduceOp::Sum: return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
      case ReduceOp::Prod: return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
      case ReduceOp::Max: return a < b ? b : a;
      case ReduceOp::Min: return b < a ? b : a;
    }
  }
  return a;
}

}  // namespace graphjit::ir
