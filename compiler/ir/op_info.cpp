#include "compiler/ir/op_info.hpp"

#include "frontend/ops/op_support.hpp"

#include <array>
#include <mutex>

namespace graphjit::ir {

namespace {

constexpr std::size_t kNumOps = 0
#define GRAPHJIT_OP(Name, printed, kind, arity) +1
#include "compiler/ir/ops.def"
#undef GRAPHJIT_OP
    ;

std::array<OpInfo, kNumOps>& table() {
  static std::array<OpInfo, kNumOps> ops = [] {
    std::array<OpInfo, kNumOps> t{};
    std::size_t i = 0;
#define GRAPHJIT_OP(Name, printed, kind_, arity_) \
  t[i].name = printed;                            \
  t[i].kind = OpKind::kind_;                      \
  t[i].arity = arity_;                            \
  ++i;
#include "compiler/ir/ops.def"
#undef GRAPHJIT_OP
    return t;
  }();
  return ops;
}

using Kernel = Tensor (*)(const Node&, const std::vector<Tensor>&);

// The reference kernels as registered; the table holds reference_naming_node instead.
std::array<Kernel, kNumOps>& registered_kernels() {
  static std::array<Kernel, kNumOps> kernels{};
  return kernels;
}

Tensor reference_naming_node(const Node& node, const std::vector<Tensor>& inputs) {
  return ops::run_naming_node(registered_kernels()[static_cast<std::size_t>(node.op)], node, inputs);
}

}  // namespace

OpInfo& define_op(OpCode op) { return table()[static_cast<std::size_t>(op)]; }

void define_op(OpCode op, const OpRules& rules) {
  OpInfo& info = define_op(op);
  info.infer_type = rules.infer_type;
  info.infer_shape = rules.infer_shape;
  info.reference = rules.reference;
  info.grad = rules.grad;
}

const OpInfo& op_info(OpCode op) {
  // The register functions must only call define_op(): calling op_info() from
  // them would wait on this once_flag forever.
  static std::once_flag registered;
  std::call_once(registered, [] {
    register_leaf_ops();
    register_elemwise_ops();
    register_dimshuffle_op();
    register_reduce_ops();
    register_blas_ops();
    register_nnet_ops();
    register_shape_ops();
    register_index_ops();
    // Every caller (reference evaluator, the JIT's reference steps, constant
    // folding) gets runtime errors that name the node.
    for (std::size_t i = 0; i < kNumOps; ++i) {
      OpInfo& info = table()[i];
      if (!info.reference) continue;
      registered_kernels()[i] = info.reference;
      info.reference = reference_naming_node;
    }
  });
  return table()[static_cast<std::size_t>(op)];
}

}  // namespace graphjit::ir
