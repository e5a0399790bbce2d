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
void register_math_ops();  // issue 8
void register_conv_ops();  // issue 11
void register_pool_ops();
void register_random_ops();  // issue 12
void register_ifelse_op();
void register_grad_control_op();
void register_scan_op();  // issue 13
void register_custom_op();  // issue 8: user-defined ops
void register_construction_ops();  // issue 8: shape and construction
void register_repeat_split_ops();
void register_broadcast_pattern_op();
void register_tensordot_op();  // issue 8: linear algebra
void register_linalg_ops();
void register_cumulative_ops();  // issue 8: cumsum, cumprod
void register_sort_ops();        // issue 8: sort, argsort
void register_triangular_solve_op();  // issue 8, round 3
void register_print_params();
void register_rops();  // after every family: reads their gradients

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
  register_math_ops();  // issue 8: before register_rops, which reads its gradients
  register_conv_ops();
  register_pool_ops();
  register_random_ops();  // issue 12
  register_ifelse_op();
  register_grad_control_op();
  register_scan_op();
  register_custom_op();
  register_construction_ops();  // issue 8: shape and construction
  register_repeat_split_ops();
  register_broadcast_pattern_op();
  register_tensordot_op();  // issue 8: linear algebra
  register_linalg_ops();
  register_cumulative_ops();
  register_sort_ops();
  register_triangular_solve_op();
  register_print_params();
  register_rops();
}

[[maybe_unused]] const bool installed = (set_op_library(install_op_library), true);

}  // namespace

}  // namespace graphjit::ir
