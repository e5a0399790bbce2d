// C++ functions that generated kernels call for the rare operations not worth
// emitting inline. Each is bound to its name in the JIT as an absolute symbol.
#pragma once

#include <cstdint>

namespace graphjit::jit {
class JitEngine;
}

namespace graphjit::codegen {

// Integer power with numpy's results: wrapping multiplication; a negative
// exponent gives 0 unless the base is 1 or -1.
inline constexpr const char* int_pow_symbol = "graphjit_int_pow";
std::int64_t int_pow(std::int64_t base, std::int64_t exponent);

// Makes the helpers callable from modules compiled by `engine` (idempotent).
void register_runtime_helpers(jit::JitEngine& engine);

}  // namespace graphjit::codegen
