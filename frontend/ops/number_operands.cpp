// The binary builders with a C++ number on either side (graphjit/math.hpp):
// the number becomes a constant by Theano's autocasting against the variable.
#include <graphjit/tensor.hpp>

namespace graphjit::tensor {

namespace {
// Two numbers have no variable to take a dtype from: the first becomes an
// int64 or float64 constant, and the second follows it.
std::pair<Variable, Variable> operands(const Operand& a, const Operand& b) {
  if (a.var.defined() || b.var.defined()) return operand_pair(a, b);
  const Variable first = operand_constant(a, a.integer_literal ? int64 : float64);
  return operand_pair(first, b);
}
}  // namespace

#define GRAPHJIT_NUMBER_BINARY(fn)                             \
  Variable fn(const Operand& a, const Operand& b, SL where) {  \
    auto [x, y] = operands(a, b);                              \
    return fn(x, y, where);                                    \
  }
GRAPHJIT_NUMBER_BINARY(add)
GRAPHJIT_NUMBER_BINARY(sub)
GRAPHJIT_NUMBER_BINARY(mul)
GRAPHJIT_NUMBER_BINARY(true_div)
GRAPHJIT_NUMBER_BINARY(int_div)
GRAPHJIT_NUMBER_BINARY(mod)
GRAPHJIT_NUMBER_BINARY(pow)
GRAPHJIT_NUMBER_BINARY(maximum)
GRAPHJIT_NUMBER_BINARY(minimum)
GRAPHJIT_NUMBER_BINARY(eq)
GRAPHJIT_NUMBER_BINARY(neq)
GRAPHJIT_NUMBER_BINARY(lt)
GRAPHJIT_NUMBER_BINARY(le)
GRAPHJIT_NUMBER_BINARY(gt)
GRAPHJIT_NUMBER_BINARY(ge)
GRAPHJIT_NUMBER_BINARY(and_)
GRAPHJIT_NUMBER_BINARY(or_)
GRAPHJIT_NUMBER_BINARY(xor_)
#undef GRAPHJIT_NUMBER_BINARY

}  // namespace graphjit::tensor
