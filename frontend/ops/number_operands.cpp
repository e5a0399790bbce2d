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
GRAPHJIT_NUMBER_BINARY_BUILDERS(GRAPHJIT_NUMBER_BINARY)
#undef GRAPHJIT_NUMBER_BINARY

}  // namespace graphjit::tensor
