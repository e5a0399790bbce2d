#include "compiler/codegen/runtime_helpers.hpp"

#include "compiler/jit/jit_engine.hpp"

namespace graphjit::codegen {

std::int64_t int_pow(std::int64_t base, std::int64_t exponent) {
  if (exponent < 0) return base == 1 ? 1 : base == -1 ? ((exponent & 1) ? -1 : 1) : 0;
  // Unsigned arithmetic wraps where signed overflow would be undefined.
  std::uint64_t result = 1, square = static_cast<std::uint64_t>(base);
  for (auto e = static_cast<std::uint64_t>(exponent); e != 0; e >>= 1, square *= square)
    if (e & 1) result *= square;
  return static_cast<std::int64_t>(result);
}

void register_runtime_helpers(jit::JitEngine& engine) {
  engine.define_runtime_symbol(int_pow_symbol, reinterpret_cast<void*>(&int_pow));
}

}  // namespace graphjit::codegen
