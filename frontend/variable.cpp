#include <graphjit/errors.hpp>
#include <graphjit/tensor.hpp>
#include <graphjit/variable.hpp>

#include "compiler/ir/node.hpp"
#include "frontend/ops/op_support.hpp"

#include <fmt/format.h>

namespace graphjit {

const std::string& Variable::name() const { return node_->name; }
DType Variable::dtype() const { return node_->type.dtype; }
int Variable::ndim() const { return node_->type.ndim(); }
std::vector<bool> Variable::broadcastable() const { return node_->type.broadcastable; }
std::string Variable::type_str() const { return node_->type.str(); }
std::string Variable::label() const { return node_->label(); }
Variable Variable::set_name(std::string name) const {
  if (!node_) throw TypeError("set_name(\"" + name + "\"): the variable is undefined");
  // Nodes are immutable except for the name, which nothing but printing and errors read.
  std::const_pointer_cast<ir::Node>(node_)->name = std::move(name);
  return *this;
}

Variable Variable::operator[](const Index& index) const { return tensor::subtensor(*this, {index}, index.where()); }
Variable Variable::operator[](std::initializer_list<Index> indices) const {
  const SL where = indices.size() ? indices.begin()->where() : SL::current();
  return tensor::subtensor(*this, std::vector<Index>(indices), where);
}
Variable Variable::T(SL where) const { return tensor::transpose(*this, where); }
Variable Variable::dimshuffle(std::vector<std::int64_t> pattern, SL where) const {
  return tensor::dimshuffle(*this, std::move(pattern), where);
}
Variable Variable::reshape(std::vector<Variable> shape, SL where) const {
  return tensor::reshape(*this, std::move(shape), where);
}
Variable Variable::reshape(std::vector<std::int64_t> shape, SL where) const {
  std::vector<Variable> dims;
  for (std::int64_t d : shape) dims.push_back(constant(d, int64, where));
  return tensor::reshape(*this, std::move(dims), where);
}
Variable Variable::flatten(int outdim, SL where) const { return tensor::flatten(*this, outdim, where); }
Variable Variable::shape(SL where) const { return tensor::shape(*this, where); }
Variable Variable::shape(int axis, SL where) const {
  ir::Attrs attrs;
  attrs.ints = {axis};
  return ops::apply(ir::OpCode::ShapeI, {*this}, std::move(attrs), where);
}
Variable Variable::astype(DType dtype, SL where) const { return tensor::cast(*this, dtype, where); }
Variable Variable::sum(Axes axis, bool keepdims, SL where) const { return tensor::sum(*this, axis, keepdims, where); }
Variable Variable::mean(Axes axis, bool keepdims, SL where) const { return tensor::mean(*this, axis, keepdims, where); }
Variable Variable::prod(Axes axis, bool keepdims, SL where) const { return tensor::prod(*this, axis, keepdims, where); }
Variable Variable::max(Axes axis, bool keepdims, SL where) const { return tensor::max(*this, axis, keepdims, where); }
Variable Variable::min(Axes axis, bool keepdims, SL where) const { return tensor::min(*this, axis, keepdims, where); }
Variable Variable::argmax(std::optional<int> axis, bool keepdims, SL where) const {
  return tensor::argmax(*this, axis, keepdims, where);
}
Variable Variable::argmin(std::optional<int> axis, bool keepdims, SL where) const {
  return tensor::argmin(*this, axis, keepdims, where);
}
Variable Variable::var(Axes axis, bool keepdims, int ddof, SL where) const {
  return tensor::var(*this, axis, keepdims, ddof, where);
}
Variable Variable::std(Axes axis, bool keepdims, int ddof, SL where) const {
  return tensor::std(*this, axis, keepdims, ddof, where);
}
Variable Variable::clip(const Operand& lo, const Operand& hi, SL where) const { return tensor::clip(*this, lo, hi, where); }
Variable Variable::round(SL where) const { return tensor::round(*this, where); }

Variable constant(double value, DType dtype, std::source_location where) {
  Tensor t = Tensor::empty({}, dtype);
  t.set({}, value);
  return Variable(ir::make_constant(std::move(t), where));
}

Variable constant(std::int64_t value, DType dtype, std::source_location where) {
  if (!represents(dtype, value))
    throw TypeError(fmt::format("constant at {}: {} does not fit dtype {}; use a wider dtype", ops::where_str(where),
                                value, dtype_name(dtype)));
  return Variable(ir::make_constant(Tensor::scalar(value).astype(dtype), where));
}

Variable constant(const Tensor& value, std::string name, std::source_location where) {
  auto node = ir::make_constant(value.copy(), where);
  if (!name.empty()) std::const_pointer_cast<ir::Node>(node)->name = std::move(name);
  return Variable(node);
}

namespace {
bool holds_exactly(DType dtype, const Operand& number) {
  return number.integer ? represents(dtype, *number.integer) : represents(dtype, number.number);
}

// Theano's autocasting of a C++ number against the variable it meets.
Variable literal(const Operand& number, const Variable& other) {
  DType dtype = other.dtype();
  if (!number.integer_literal && !is_float(dtype)) dtype = float64;
  if (number.integer_literal && dtype == bool_) dtype = int64;
  // An integer the variable's dtype cannot hold (int8 + 300, uint8 > -1) widens
  // like Theano's constants do, instead of silently wrapping or saturating.
  for (DType wider : {int16, int32, int64, float64})
    if (!is_float(dtype) && !holds_exactly(dtype, number)) dtype = promote(dtype, wider);
  return operand_constant(number, dtype);
}
}  // namespace

Variable operand_constant(const Operand& number, DType dtype) {
  if (number.integer && !is_float(dtype)) return constant(*number.integer, dtype, number.where);
  return constant(number.number, dtype, number.where);
}

std::pair<Variable, Variable> operand_pair(const Operand& a, const Operand& b) {
  if (a.var.defined() && b.var.defined()) return {a.var, b.var};
  if (a.var.defined()) return {a.var, literal(b, a.var)};
  if (b.var.defined()) return {literal(a, b.var), b.var};
  throw TypeError("an operator needs at least one symbolic Variable operand");
}

#define GRAPHJIT_OPERATOR(op, fn)                              \
  Variable operator op(const Operand& a, const Operand& b) {   \
    auto [x, y] = operand_pair(a, b);                          \
    return tensor::fn(x, y, a.where);                          \
  }
GRAPHJIT_OPERATOR(+, add)
GRAPHJIT_OPERATOR(-, sub)
GRAPHJIT_OPERATOR(*, mul)
GRAPHJIT_OPERATOR(/, true_div)
GRAPHJIT_OPERATOR(%, mod)
GRAPHJIT_OPERATOR(<, lt)
GRAPHJIT_OPERATOR(<=, le)
GRAPHJIT_OPERATOR(>, gt)
GRAPHJIT_OPERATOR(>=, ge)
GRAPHJIT_OPERATOR(&, and_)
GRAPHJIT_OPERATOR(|, or_)
GRAPHJIT_OPERATOR(^, xor_)
#undef GRAPHJIT_OPERATOR

Variable operator-(const Operand& a) { return tensor::neg(a.var, a.where); }
Variable operator!(const Operand& a) { return tensor::not_(a.var, a.where); }

}  // namespace graphjit
