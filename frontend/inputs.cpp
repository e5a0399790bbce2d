// Symbolic inputs: T.scalar, T.vector, T.matrix, ... and T.TensorType(...)().
#include <graphjit/tensor.hpp>

#include "compiler/ir/node.hpp"

namespace graphjit::tensor {

Variable tensor(DType dtype, std::vector<bool> broadcastable, std::string name, SL where) {
  return Variable(ir::make_input(ir::Type{dtype, std::move(broadcastable)}, std::move(name), where));
}

Variable scalar(std::string name, DType dtype, SL where) { return tensor(dtype, {}, std::move(name), where); }
Variable vector(std::string name, DType dtype, SL where) { return tensor(dtype, {false}, std::move(name), where); }
Variable matrix(std::string name, DType dtype, SL where) { return tensor(dtype, {false, false}, std::move(name), where); }
Variable tensor3(std::string name, DType dtype, SL where) {
  return tensor(dtype, {false, false, false}, std::move(name), where);
}
Variable tensor4(std::string name, DType dtype, SL where) {
  return tensor(dtype, {false, false, false, false}, std::move(name), where);
}

}  // namespace graphjit::tensor

namespace graphjit::tensor {

Variable row(std::string name, DType dtype, SL where) { return tensor(dtype, {true, false}, std::move(name), where); }
Variable col(std::string name, DType dtype, SL where) { return tensor(dtype, {false, true}, std::move(name), where); }

#define GRAPHJIT_BY_NAME(builder)                                      \
  Variable builder(std::string name, const char* dtype, SL where) {    \
    return builder(std::move(name), dtype_from_name(dtype), where);    \
  }
GRAPHJIT_BY_NAME(scalar)
GRAPHJIT_BY_NAME(vector)
GRAPHJIT_BY_NAME(matrix)
GRAPHJIT_BY_NAME(row)
GRAPHJIT_BY_NAME(col)
GRAPHJIT_BY_NAME(tensor3)
GRAPHJIT_BY_NAME(tensor4)
#undef GRAPHJIT_BY_NAME

}  // namespace graphjit::tensor
