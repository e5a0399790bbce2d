// log2 and log10 as vector IR, in double (float arguments are widened, so
// float results are the double result rounded once).
//
// Both take log's reduction x = 2^k (1 + g), log(1 + g) = g - correction
// (vector_math_emitter.hpp: log_parts), and multiply by 1/ln2 or 1/ln10
// carried in two parts: g is split into a 26-bit high part whose product with
// the 27-bit high part of the constant is exact, so that only the small terms
// round before the final sum. log2 of a power of two is then exactly k.
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

// Two-part constants (scripts/gen_vector_math_constants.py).
constexpr double inv_ln2_hi = 0x1.7154764p+0, inv_ln2_lo = 0x1.2b82fe1777d10p-28;
constexpr double inv_ln10_hi = 0x1.bcb7b14p-2, inv_ln10_lo = 0x1.26e50e32a6ab7p-30;
// log10(2) with a 40-bit high part: k * log10_2_hi is exact for every exponent k.
constexpr double log10_2_hi = 0x1.34413509f8p-2, log10_2_lo = -0x1.80433b83b532ap-44;

// base_hi + (log(1 + g) / ln(base)), with the constant 1/ln(base) = c_hi + c_lo
// and base_hi exact, |base_hi| >= the product or base_hi = 0.
llvm::Value* scaled_log(Emitter& e, const Emitter::LogParts& p, llvm::Value* base_hi, llvm::Value* base_lo,
                        double c_hi, double c_lo) {
  // g's top 26 bits times c_hi (27 bits) is exact.
  llvm::Value* g_hi = e.high_bits(p.g, 27);
  llvm::Value* g_lo = e.sub(p.g, g_hi);
  llvm::Value* product = e.mul(g_hi, e.f(c_hi));
  // base_hi + product = sum + error exactly (Dekker's fast two-sum: |base_hi| >= |product| or base_hi = 0).
  llvm::Value* sum = e.add(base_hi, product);
  llvm::Value* error = e.sub(product, e.sub(sum, base_hi));
  llvm::Value* small = e.mul_add(g_lo, e.f(c_hi), e.mul_add(p.g, e.f(c_lo), base_lo));
  small = e.sub(small, e.mul(p.correction, e.f(c_hi + c_lo)));
  return e.add(sum, e.add(error, small));
}

llvm::Value* log2_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  Emitter::LogParts p = e.log_parts(x);
  return e.domain_specials(x, scaled_log(e, p, p.k, e.f(0.0), inv_ln2_hi, inv_ln2_lo), 0.0);
}

llvm::Value* log10_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  Emitter::LogParts p = e.log_parts(x);
  llvm::Value* result = scaled_log(e, p, e.mul(p.k, e.f(log10_2_hi)), e.mul(p.k, e.f(log10_2_lo)), inv_ln10_hi,
                                   inv_ln10_lo);
  return e.domain_specials(x, result, 0.0);
}

}  // namespace

llvm::Value* log2(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, log2_in_double); }
llvm::Value* log10(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, log10_in_double); }

}  // namespace graphjit::codegen::math
