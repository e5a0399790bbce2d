// The op table: everything graphjit knows about each op, in one record per op.
//
// ops.def names the ops; the files in frontend/ops/ fill in each op's record
// (type rule, shape rule, reference kernel, gradient, scalar function).
// Printing, checking, differentiation, the reference evaluator, the rewrites
// and the code generator all read this table, so adding an op touches ops.def,
// one file in frontend/ops/ and (for fusable ops) the scalar code generator.
#pragma once

#include "compiler/ir/node.hpp"
#include "compiler/ir/reduction.hpp"

#include <cstdint>
#include <optional>
#include <utility>
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

// Where a native kernel writes its output: the memory the planner chose for
// it (a pooled buffer, fresh memory for a returned value, or, when the op
// declares `destroys` and the planner agreed, that input's own memory).
class OutputMemory {
 public:
  virtual Tensor get(const Shape& shape, DType dtype) = 0;

 protected:
  ~OutputMemory() = default;
};

// A compiled implementation written in C++ (a BLAS call, a view, a gather, a
// loop): computes `node` from its input values. It returns either a view of
// the input it declares in `view_of`, or a tensor from `out`, or (when
// `allocates`) memory of its own. The reference kernel is the oracle it is
// checked against.
struct NativeKernel {
  using Function = Tensor (*)(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out);
  Function run = nullptr;
  bool allocates = false;  // never asks `out`: the memory planner gives it no buffer

  constexpr NativeKernel() = default;
  constexpr NativeKernel(Function f, bool allocates = false) : run(f), allocates(allocates) {}
  explicit operator bool() const { return run != nullptr; }
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
  // The R-operator (forward mode, Theano's R_op): the directional derivative
  // of the output given each input's tangent (undefined: zero). Filled in for
  // the differentiable ops by frontend/ops/rop.cpp; null: Rop says the op has none.
  Variable (*rop)(const Node& node, const Variable& output, const std::vector<Variable>& tangents) = nullptr;

  // Aliasing, Theano's view_map and destroy_map. The memory planner, the
  // in-place planner and the rule that copies what a call returns read these.
  int view_of = -1;   // the input whose memory the output may be a view of
  int destroys = -1;  // the input whose memory the op may overwrite with its output, when given it as `out`

  // The compiled implementation. Elementwise ops and fused reductions are
  // emitted into JIT-compiled loop nests (the fusion pass and codegen read
  // the scalar functions below and `fused_reduction`); every other op brings
  // a native kernel. An op with neither cannot be compiled.
  NativeKernel native;
  std::optional<ReduceOp> fused_reduction;  // Sum, Prod, Max, Min
  // Ops with several outputs (scan): one node per output, with the same
  // inputs and attrs but attrs.ints[0], the output's index (same_application).
  // build_steps gives the nodes of one application one step, whose outputs
  // `native_outputs` computes together (`wanted`: their indices); grad calls
  // `grad_outputs` once, with the gradient of each output that has one.
  std::vector<Tensor> (*native_outputs)(const Node& node, const std::vector<Tensor>& inputs,
                                        const std::vector<int>& wanted) = nullptr;
  std::vector<Variable> (*grad_outputs)(const Node& node,
                                        const std::vector<std::pair<int, Variable>>& output_grads) = nullptr;
  // Work a native kernel can do once, when a function holding the node is
  // compiled (scan compiles its body); called by lower::compile_kernels.
  void (*prepare)(const Node& node) = nullptr;
  // The op runs for its effect as well as its value (Print): rewrites never
  // fold, merge or remove it, and every executor runs it.
  bool side_effect = false;
  // The op's parameters as debugprint shows them in braces after its name
  // ("tensordot{axes=[[1],[0]]}"), read from node.attrs; null: only what
  // Node::head knows (axes, dtype, dimshuffle's pattern).
  std::string (*print_params)(const Node& node) = nullptr;

  // Elementwise ops only.
  ElemDType elem_dtype = ElemDType::Promote;
  double (*scalar_f64)(const double* args) = nullptr;
  float (*scalar_f32)(const float* args) = nullptr;
  std::int64_t (*scalar_i64)(const std::int64_t* args) = nullptr;
};

const OpInfo& op_info(OpCode op);
// Whether two nodes are outputs of one application of a multi-output op.
bool same_application(const Node& a, const Node& b);
// The record to fill in, with name, kind and arity already set from ops.def.
OpInfo& define_op(OpCode op);

// The rules most ops are made of, so a family file registers each op in one
// line: define_op(OpCode::Reshape, {reshape_type, reshape_shape, reshape_reference, reshape_grad, reshape_native,
// /*view_of=*/0}).
struct OpRules {
  Type (*infer_type)(const Node& node);
  Shape (*infer_shape)(const Node& node, const std::vector<Tensor>& inputs);
  Tensor (*reference)(const Node& node, const std::vector<Tensor>& inputs);
  std::vector<Variable> (*grad)(const Node& node, const Variable& output, const Variable& output_grad) = nullptr;
  NativeKernel native = {};
  int view_of = -1;
  int destroys = -1;
};

// The native kernel of an op whose plain implementation is also the one to
// run: shape queries, views, copies. Declared per op, so that no op falls
// back to its reference silently.
template <Tensor (*Plain)(const Node&, const std::vector<Tensor>&)>
inline constexpr NativeKernel plain_native{
    [](const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) { return Plain(node, inputs); }, true};
void define_op(OpCode op, const OpRules& rules);

// The op library fills the records in: the families in frontend/ops/ hand
// their installer over when the library loads (frontend/ops/op_library.cpp),
// and op_info() runs it once, on first use. So the compiler reads the table
// without depending on the layer that defines the ops.
void set_op_library(void (*install)());

// Fills the scalar functions of an elementwise op from one generic lambda,
// e.g. define_scalar(OpCode::Add, [](auto a) { return a[0] + a[1]; }).
template <class F> void define_scalar(OpCode op, F) {
  OpInfo& info = define_op(op);
  info.scalar_f64 = [](const double* a) -> double { return F{}(a); };
  info.scalar_f32 = [](const float* a) -> float { return F{}(a); };
  info.scalar_i64 = [](const std::int64_t* a) -> std::int64_t { return static_cast<std::int64_t>(F{}(a)); };
}

}  // namespace graphjit::ir
