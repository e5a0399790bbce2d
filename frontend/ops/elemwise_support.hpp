// What the elementwise op families (elemwise.cpp, math.cpp) share: the
// elementwise type, shape and reference rules, the gradient's reduction to
// each input's broadcast pattern, the builder that aligns ranks, and the
// one-line macros that register an op's scalar function and gradient.
#pragma once

#include "frontend/ops/op_support.hpp"

#include <source_location>
#include <type_traits>
#include <vector>

namespace graphjit::ops {

// Gives `op` the elementwise type rule (`rule` for its dtype), shape rule and reference kernel.
void define_elemwise(ir::OpCode op, ir::ElemDType rule);

// The gradient of an elementwise op w.r.t. each input, reduced to that
// input's shape (integer inputs get none).
std::vector<Variable> to_inputs(const ir::Node& node, std::vector<Variable> grads);

// Theano's Elemwise builder: inputs of lower rank get broadcast dims ('x') on the left.
Variable elemwise(ir::OpCode op, std::vector<Variable> inputs, std::source_location where, ir::Attrs attrs = {});

template <class P> using scalar_t = std::remove_cvref_t<decltype(std::declval<P>()[0])>;

inline Variable x0(const ir::Node& n) { return input(n, 0); }
inline Variable x1(const ir::Node& n) { return input(n, 1); }

}  // namespace graphjit::ops

// GRAD(Op) { return to_inputs(node, {...}); }: `node`, `out` (its output) and `g` (the output's gradient).
#define GRAD(op)                                                                                               \
  ::graphjit::ir::define_op(::graphjit::ir::OpCode::op).grad =                                                 \
      [](const ::graphjit::ir::Node& node, const ::graphjit::Variable& out,                                    \
         const ::graphjit::Variable& g) -> std::vector<::graphjit::Variable>
// SCALAR(Op, dtype rule, body over `a` (the arguments) in the compute type T).
#define SCALAR(op, rule, body)                                                                                 \
  ::graphjit::ops::define_elemwise(::graphjit::ir::OpCode::op, ::graphjit::ir::ElemDType::rule);              \
  ::graphjit::ir::define_scalar(::graphjit::ir::OpCode::op, [](auto a) {                                       \
    using T = ::graphjit::ops::scalar_t<decltype(a)>;                                                          \
    (void)sizeof(T);                                                                                           \
    body                                                                                                       \
  })
