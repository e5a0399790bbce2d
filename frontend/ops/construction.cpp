// Creation (issue 8): Eye, the identity-like matrix, and the builders that
// make tensors of a symbolic shape (alloc, zeros, ones, full, eye), with
// SymbolicShape, the one place a shape given as numbers, scalars or a vector
// becomes one int64 scalar per dim.
#include "frontend/ops/op_support.hpp"

#include <graphjit/shape_ops.hpp>
#include <graphjit/tensor.hpp>

#include <fmt/format.h>

namespace graphjit::ir {

namespace {

// --- Eye: (n, m, k) integer scalars; attrs.dtype ---------------------------------------

Type eye_type(const Node& node) {
  ops::require_int_scalars(node, 0, "eye's n, m or k");
  return Type{node.attrs.dtype, {false, false}};
}

Shape eye_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape{inputs[0].item<std::int64_t>(), inputs[1].item<std::int64_t>()};
  if (shape[0] < 0 || shape[1] < 0)
    ops::shape_error(node, inputs, fmt::format("eye({}, {}) has a negative number of rows or columns", shape[0], shape[1]));
  ops::checked_numel(node, inputs, shape);
  return shape;
}

// Ones where column - row == k, zeros elsewhere, into `out` (which the
// reference allocates and the native kernel takes from the memory plan).
Tensor eye_into(const std::vector<Tensor>& inputs, Tensor out) {
  out.fill(0);
  const std::int64_t k = inputs[2].item<std::int64_t>();
  for (std::int64_t r = std::max<std::int64_t>(0, -k); r < out.shape(0) && r < out.shape(1) - k; ++r)
    out.set({r, r + k}, 1);
  return out;
}

Tensor eye_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return eye_into(inputs, Tensor::empty(eye_shape(node, inputs), node.type.dtype));
}

Tensor eye_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  return eye_into(inputs, memory.get(eye_shape(node, inputs), node.type.dtype));
}

}  // namespace

// n, m and k are integers: no gradient flows through them.
void register_construction_ops() { define_op(OpCode::Eye, {eye_type, eye_shape, eye_reference, nullptr, eye_native}); }

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;

namespace {

// How many entries an integer vector holds, when the graph says: the shape
// of x has x.ndim(), a constant its size.
std::optional<int> known_length(const Variable& v) {
  const ir::Node& n = *v.node();
  if (n.op == OpCode::ShapeOf) return n.inputs[0]->type.ndim();
  if (n.op == OpCode::Constant) return static_cast<int>(n.value.size());
  if (v.broadcastable()[0]) return 1;
  return std::nullopt;
}

// Entry i of an integer vector as an int64 scalar, read from the graph where it can be.
Variable vector_entry(const Variable& v, int i, SL where) {
  const ir::Node& n = *v.node();
  if (n.op == OpCode::ShapeOf) {
    const Variable x(n.inputs[0]);
    return x.broadcastable()[i] ? constant(1, int64, where) : x.shape(i, where);
  }
  if (n.op == OpCode::Constant) return constant(static_cast<std::int64_t>(n.value.get({i})), int64, where);
  return v[Index(i, where)];
}

// A C++ integer as an int64 constant; a variable as it is (the op's type rule checks it).
Variable length_of(const Operand& length, const char* fn, SL where) {
  if (length.var.defined()) return length.var;
  if (!length.integer_literal || !length.integer)
    throw TypeError(fmt::format("{} at {}: the length {} is not an integer; shapes are integers", fn, ops::where_str(where),
                                length.number));
  return constant(*length.integer, int64, where);
}

// A number as alloc's value: an integer literal is int64, a floating one floatX.
Variable value_of(const Operand& value) {
  if (value.var.defined()) return value.var;
  return operand_constant(value, value.integer_literal ? int64 : config().floatX);
}

}  // namespace

std::vector<Variable> SymbolicShape::lengths(const char* fn, SL where) const {
  if (!vector_.defined()) {
    std::vector<Variable> out;
    for (const Operand& length : lengths_) out.push_back(length_of(length, fn, where));
    return out;
  }
  const Variable& v = vector_;
  if (!is_integer(v.dtype()) || v.dtype() == bool_ || v.ndim() > 1)
    throw TypeError(fmt::format("{} at {}: the shape '{}' is {}; give an integer vector (such as x.shape()), an "
                                "integer scalar, or a list of lengths",
                                fn, ops::where_str(where), v.label(), v.type_str()));
  if (v.ndim() == 0) return {v};  // one length
  const std::optional<int> known = known_length(v);
  if (ndim_ >= 0 && known && *known != ndim_)
    throw TypeError(fmt::format("{} at {}: ndim is {} but the shape '{}' has {} entries", fn, ops::where_str(where), ndim_,
                                v.label(), *known));
  const int n = ndim_ >= 0 ? ndim_ : known.value_or(-1);
  if (n < 0)
    throw TypeError(fmt::format("{} at {}: the length of the shape vector '{}' is not known from the graph; pass it "
                                "as ndim (T::reshape(x, shape, ndim), or SymbolicShape(shape, ndim))",
                                fn, ops::where_str(where), v.label()));
  std::vector<Variable> out;
  for (int i = 0; i < n; ++i) out.push_back(vector_entry(v, i, where));
  return out;
}

Variable alloc(const Operand& value, const SymbolicShape& shape, SL where) {
  std::vector<Variable> inputs{value_of(value)};
  for (Variable& d : shape.lengths("alloc", where)) inputs.push_back(std::move(d));
  return ops::apply(OpCode::Alloc, inputs, {}, where);
}

Variable zeros(const SymbolicShape& shape, DType dtype, SL where) { return alloc(constant(0, dtype, where), shape, where); }
Variable ones(const SymbolicShape& shape, DType dtype, SL where) { return alloc(constant(1, dtype, where), shape, where); }

Variable full(const SymbolicShape& shape, const Operand& fill_value, std::optional<DType> dtype, SL where) {
  Variable value = value_of(fill_value);
  if (dtype && *dtype != value.dtype()) value = cast(value, *dtype, where);
  return alloc(value, shape, where);
}

Variable eye(const Operand& n, DType dtype, SL where) { return eye(n, n, 0, dtype, where); }

Variable eye(const Operand& n, const Operand& m, const Operand& k, DType dtype, SL where) {
  ir::Attrs attrs;
  attrs.dtype = dtype;
  return ops::apply(OpCode::Eye, {length_of(n, "eye", where), length_of(m, "eye", where), length_of(k, "eye", where)},
                    std::move(attrs), where);
}

}  // namespace graphjit::tensor
