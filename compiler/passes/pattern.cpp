#include "compiler/passes/pattern.hpp"

namespace graphjit::compiler::passes {

std::optional<double> scalar_constant(const ir::NodeRef& n) {
  if (is(n, ir::OpCode::DimShuffle)) return scalar_constant(n->inputs[0]);
  if (!is(n, ir::OpCode::Constant) || n->value.size() != 1) return std::nullopt;
  return n->value.get(std::vector<std::int64_t>(static_cast<std::size_t>(n->value.ndim()), 0));
}

bool is_scalar_constant(const ir::NodeRef& n, double value) {
  const std::optional<double> v = scalar_constant(n);
  return v && *v == value;
}

ir::NodeRef make_like(const ir::Node& old, ir::OpCode op, std::vector<ir::NodeRef> inputs, ir::Attrs attrs) {
  return ir::make(op, std::move(inputs), std::move(attrs), old.where);
}

ir::NodeRef as_dtype(const ir::NodeRef& n, DType dtype, const ir::Node& old) {
  if (n->type.dtype == dtype) return n;
  ir::Attrs attrs;
  attrs.dtype = dtype;
  return make_like(old, ir::OpCode::Cast, {n}, attrs);
}

ir::NodeRef conform(const ir::NodeRef& n, const ir::Node& old) {
  if (!n || n->type.broadcastable != old.type.broadcastable) return nullptr;
  return as_dtype(n, old.type.dtype, old);
}

bool is_identity(const std::vector<std::int64_t>& pattern, int ndim) {
  if (static_cast<int>(pattern.size()) != ndim) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i)
    if (pattern[i] != static_cast<std::int64_t>(i)) return false;
  return true;
}

ir::NodeRef dimshuffle(const ir::NodeRef& n, std::vector<std::int64_t> pattern, const ir::Node& old) {
  if (is_identity(pattern, n->type.ndim())) return n;
  ir::Attrs attrs;
  attrs.ints = std::move(pattern);
  return make_like(old, ir::OpCode::DimShuffle, {n}, attrs);
}

}  // namespace graphjit::compiler::passes
