// The op table: everything graphjit knows about each op, in one record per op.
//
// ops.def names the ops; the files in frontend/ops/ fill in each op's record
// (type rule, shape rule, reference kernel, gradient, scalar function).
// Printing, checking, differentiation, the reference evaluator, the rewrites
// and the code generator all read this table, so adding an op touches ops.def,
// one file in frontend/ops/ and (for fusable ops) the scalar code generator.
#pragma once

#include "compiler/ir/node.hpp"

#include <cstdint>
#include <vector>

namespace graphjit {
class Variable;  // frontend/include/graphjit/variable.hpp
}

namespace graphjit::ir {

// How an elementwise op's output dtype follows from its inputs.
enum class ElemDType : std::uint8_t {
  Promote,       // promote(inputs): add, mul, maximum, ...
  PromoteFloat,  // promote(inputs), ints become float64: exp, true_div, ...
  Bool,          // comparisons and logic
  FromAttrs,     // cast: attrs.dtype
  SwitchArms,    // switch(cond, a, b): promote(a, b)
};

struct OpInfo {
  const char* name = "";
  OpKind kind = OpKind::Other;
  int arity = 0;  // -1: variadic

  // Output type from node.inputs and node.attrs (node.type is not set yet).
  // Throws graphjit::TypeError naming the node's inputs and types.
  Type (*infer_type)(const Node& node) = nullptr;
  // Output shape from the input values (only shapes are read, except for
  // small integer inputs such as slice bounds or reshape targets).
  Shape (*infer_shape)(const Node& node, const std::vector<Tensor>& inputs) = nullptr;
  // The oracle: a plain, obviously-correct implementation. Once registered,
  // it is called through a wrapper that names the node in the runtime's
  // size-overflow and allocation errors (op_info.cpp).
  Tensor (*reference)(const Node& node, const std::vector<Tensor>& inputs) = nullptr;
  // Gradient of the cost with respect to each input, given this node as
  // `output` and the gradient with respect to it. An undefined Variable means
  // "no gradient" (integer inputs, indices). Null for ops that are not
  // differentiable.
  std::vector<Variable> (*grad)(const Node& node, const Variable& output, const Variable& output_grad) = nullptr;

  // Elementwise ops only.
  ElemDType elem_dtype = ElemDType::Promote;
  double (*scalar_f64)(const double* args) = nullptr;
  float (*scalar_f32)(const float* args) = nullptr;
  std::int64_t (*scalar_i64)(const std::int64_t* args) = nullptr;
};

const OpInfo& op_info(OpCode op);
// The record to fill in, with name, kind and arity already set from ops.def.
OpInfo& define_op(OpCode op);

// The rules most ops are made of, so a family file registers each op in one
// line: define_op(OpCode::Reshape, {reshape_type, reshape_shape, reshape_reference, reshape_grad}).
struct OpRules {
  Type (*infer_type)(const Node& node);
  Shape (*infer_shape)(const Node& node, const std::vector<Tensor>& inputs);
  Tensor (*reference)(const Node& node, const std::vector<Tensor>& inputs);
  std::vector<Variable> (*grad)(const Node& node, const Variable& output, const Variable& output_grad) = nullptr;
};
void define_op(OpCode op, const OpRules& rules);

// Registration functions, one per file in frontend/ops/; op_info() runs them once.
void register_elemwise_ops();
void register_reduce_ops();
void register_blas_ops();
void register_dimshuffle_op();
void register_nnet_ops();
void register_shape_ops();
void register_index_ops();
void register_leaf_ops();

// Fills the scalar functions of an elementwise op from one generic lambda,
// e.g. define_scalar(OpCode::Add, [](auto a) { return a[0] + a[1]; }).
template <class F> void define_scalar(OpCode op, F) {
  OpInfo& info = define_op(op);
  info.scalar_f64 = [](const double* a) -> double { return F{}(a); };
  info.scalar_f32 = [](const float* a) -> float { return F{}(a); };
  info.scalar_i64 = [](const std::int64_t* a) -> std::int64_t { return static_cast<std::int64_t>(F{}(a)); };
}

}  // namespace graphjit::ir
