// The op library: every op family's records, handed to the compiler's op
// table (compiler/ir/op_info.hpp) when this library loads.
#include "compiler/ir/op_info.hpp"

namespace graphjit::ir {

// One per file in frontend/ops/.
void register_leaf_ops();
void register_elemwise_ops();
void register_dimshuffle_op();
void register_reduce_ops();
void register_blas_ops();
void register_nnet_ops();
void register_shape_ops();
void register_index_ops();
void register_print_op();

namespace {

void install_op_library() {
  register_leaf_ops();
  register_elemwise_ops();
  register_dimshuffle_op();
  register_reduce_ops();
  register_blas_ops();
  register_nnet_ops();
  register_shape_ops();
  register_index_ops();
  register_print_op();
}

[[maybe_unused]] const bool installed = (set_op_library(install_op_library), true);

}  // namespace

}  // namespace graphjit::ir
